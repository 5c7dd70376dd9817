"""``lhasa-ops stations charge`` and ``lhasa-ops stations oxygen`` (issue 6), registered on import
onto ``api.cli.stations.stations_app``.

    lhasa-ops stations charge [--temperature-c -5] [--tariff 0-8:0.35,8-17:0.7,17-22:1.05,22-24:0.35]
        [--chargers 4] [--charger-kw 120] [--grid-kw 300] [--max-vehicles 50] [--coach-min-size 20]
        [--existing-only] [--max-delay-min 60] [--lateness-cny-per-min 5] [--time-limit 30]
        [--iterations 2000] [--out DIR]
    lhasa-ops stations oxygen [--method auto|exact|policy] [--trucks 3] [--truck-capacity 40]
        [--shift-min 600] [--depot lhasa_railway] [--lookahead -1] [--time-limit 60] [--safety-days 0] [--iterations 2000] [--out DIR]

Both plan the embedded demo day (ILS, seed 0), build the problem with ``optimizer.station_ops``,
solve, re-check with ``optimizer.station_ops_verify`` and write a JSON plan and charts
(``soc.png``, ``station_load.png``; ``stock.png``). Exit codes: 0 success; 2 bad input
(``error: <message>`` naming the field); 1 a verifier violation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from api.cli.common import fail as _fail
from api.cli.stations import DEFAULT_DEMAND, _json_safe, stations_app
from optimizer.domain import InvalidInput, TourProblem, check_time_limit_s

OUT_CHARGING = Path("out/charging")
OUT_OXYGEN = Path("out/oxygen")


def plan_demo_day(iterations: int, demand: Path | None = None) -> tuple[TourProblem, Any]:
    from instances.demand import read_demand
    from instances.loader import load_lhasa
    from optimizer.ils import StoppingCriterion
    from optimizer.tours import solve

    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise InvalidInput("iterations", iterations, "must be an integer >= 0")
    net = load_lhasa()
    problem = TourProblem(network=net, groups=read_demand(demand or DEFAULT_DEMAND, net))
    return problem, solve(problem, StoppingCriterion(max_iterations=iterations), seed=0)


def run_charging(problem: TourProblem, plan: Any, temperature_c: float = -5.0, tariff: str | None = None,
                 chargers: int = 4, charger_kw: float = 120.0, grid_kw: float = 300.0, max_vehicles: int = 50,
                 coach_min_size: int = 20, existing_only: bool = False, time_limit_s: float = 30.0, *,
                 max_delay_min: int = 60, lateness_cny_per_min: float = 5.0, rel_gap: float = 1e-3) -> dict:
    """Charging schedule of the plan's electric coaches (``models.charging``), verified.

    Departure delays up to ``max_delay_min`` minutes at one charging stop per coach, priced at
    ``lateness_cny_per_min`` CNY/min (a policy weight); CP-SAT stops at a proven relative gap of
    ``rel_gap`` (default 0.1 %) or ``time_limit_s``. Returns ``{"doc", "problem", "result"}``; ``doc``
    has ``delays`` ({vehicle, station, delay_min}), ``lateness_min_total``, ``lateness_cost_cny``.
    Raises ``InvalidInput`` for bad values (e.g. a negative ``max_delay_min``)."""
    from models.charging import solve_charging
    from optimizer.station_ops import DEFAULT_TARIFF, charging_from_plan, parse_tariff
    from optimizer.station_ops_verify import verify_charging

    bands = parse_tariff(tariff) if tariff else DEFAULT_TARIFF
    check_time_limit_s(time_limit_s)
    for name, v, lo, hi in (("max_vehicles", max_vehicles, 1, 10_000), ("coach_min_size", coach_min_size, 1, 100_000),
                            ("max_delay_min", max_delay_min, 0, 24 * 60)):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise InvalidInput(name, v, f"must be an integer within {lo}..{hi}")
    cp, info = charging_from_plan(problem, plan, temperature_c=temperature_c, tariff=bands, chargers=chargers,
                                  charger_kw=charger_kw, grid_kw=grid_kw, coach_min_size=coach_min_size,
                                  max_vehicles=max_vehicles, existing_only=existing_only,
                                  max_delay_min=max_delay_min, lateness_cny_per_min=lateness_cny_per_min)
    res = solve_charging(cp, time_limit_s=time_limit_s, rel_gap=rel_gap)
    violations = verify_charging(cp, res) if res.has_solution else ["no schedule"]
    sessions = []
    if res.has_solution:
        for n, v in enumerate(cp.vehicles):
            for t, g in enumerate(res.grid_kwh[n]):
                if g > 0:
                    sessions.append({"vehicle": v.id, "station": cp.stations[res.timeline_at[n][t]].id, "slot": t,
                                     "start_min": t * cp.slot_min, "grid_kwh": g, "price": cp.tariff[t]})
    doc = {"status": res.status, "energy_cost_cny": res.energy_cost_cny, "objective_cny": res.objective_cny,
           "bound_cny": res.bound_cny, "gap": res.gap, "wall_s": res.wall_s, "vehicles": info,
           "unserved": list(res.unserved),
           "delays": [{"vehicle": d["vehicle"], "station": d["station"], "delay_min": d["delay_min"]}
                      for d in res.delays],
           "lateness_min_total": res.lateness_min, "lateness_cost_cny": res.lateness_cost_cny,
           "stations": [s.id for s in cp.stations], "slot_min": cp.slot_min, "tariff": list(cp.tariff),
           "sessions": sessions, "verifier": violations, "stats": res.stats,
           "params": {"temperature_c": temperature_c, "chargers": chargers, "charger_kw": charger_kw,
                      "grid_kw": grid_kw, "existing_only": existing_only, "max_delay_min": max_delay_min,
                      "lateness_cny_per_min": lateness_cny_per_min}}
    return {"doc": doc, "problem": cp, "result": res}


def run_oxygen(problem: TourProblem, plan: Any, method: str = "auto", trucks: int = 3, truck_capacity: int = 40,
               shift_min: float = 600.0, depot: str = "lhasa_railway", lookahead: int | None = None,
               time_limit_s: float = 60.0, safety_days: float = 0.0) -> dict:
    from models.oxygen_irp import solve_exact, solve_policy
    from optimizer.station_ops import oxygen_from_plan
    from optimizer.station_ops_verify import verify_oxygen

    if method not in ("auto", "exact", "policy"):
        raise InvalidInput("method", method, "must be 'auto', 'exact' or 'policy'")
    check_time_limit_s(time_limit_s)
    if lookahead is not None and lookahead < 0:
        lookahead = None  # -1 from the CLI: automatic
    if lookahead is not None and (isinstance(lookahead, bool) or not isinstance(lookahead, int)):
        raise InvalidInput("lookahead", lookahead, "must be an integer >= 0 (or -1: automatic)")
    irp, info = oxygen_from_plan(problem, plan, depot=depot, trucks=trucks, truck_capacity=truck_capacity,
                                 shift_min=shift_min, safety_days=safety_days)
    use_exact = method == "exact" or (method == "auto" and irp.n <= 8)
    res = solve_exact(irp, time_limit_s=time_limit_s) if use_exact else solve_policy(irp, lookahead=lookahead)
    violations = verify_oxygen(irp, res) if res.has_solution else ["no plan"]
    doc = {"status": res.status, "method": res.method, "routing_cost_cny": res.routing_cost_cny,
           "holding_cost_cny": res.holding_cost_cny, "total_cost_cny": res.total_cost_cny,
           "bound_cny": res.bound_cny, "min_margin_cylinders": res.min_margin,
           "stockout_cylinders": res.stockout_cylinders, "wall_s": res.wall_s, "stations": info,
           "depot": irp.depot_id,
           "routes": [{"day": r.day, "truck": r.truck, "stops": [irp.station_ids[s] for s in r.stops],
                       "delivered": list(r.delivered), "km": r.km, "minutes": r.minutes} for r in res.routes],
           "stock": {s: list(res.stock[i]) for i, s in enumerate(irp.station_ids)} if res.stock else {},
           "unserved": list(res.unserved), "verifier": violations, "stats": res.stats,
           "safety_stock": dict(zip(irp.station_ids, [irp.ss(i) for i in range(irp.n)], strict=True)),
           "safety_breaches": [{"station": irp.station_ids[i], "day": t, "stock": res.stock[i][t]}
                               for i in range(irp.n) for t in range(irp.days)
                               if res.stock and res.stock[i][t] < irp.ss(i)]}
    return {"doc": doc, "problem": irp, "result": res}


def _save(fig: Any, ax: Any, path: Path) -> Path:
    """Grid, tight layout, write the PNG, free the figure."""
    import matplotlib.pyplot as plt

    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_soc(cp: Any, res: Any, path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(9, 5), dpi=100)
    T = cp.n_slots
    hours = np.arange(T + 1) * cp.slot_min / 60.0
    # vehicles that cannot stay above the floor have no physical SoC curve (the model's values
    # dip below zero by the shortfall): they are listed in charging.json, not drawn
    short = {n for n, s in enumerate(res.short_kwh) if s > 1e-9}
    for n, v in enumerate(cp.vehicles):
        if n in short:
            continue
        y = [v.soc0 * 100] + [100 * e / v.capacity_kwh for e in res.soc_kwh[n]]
        ax.plot(hours, y, lw=0.8, alpha=0.7)
    ax.axhline(100 * min(v.soc_min for v in cp.vehicles), color="red", ls="--", lw=1, label="floor")
    ax.set_xlabel("hour of day")
    ax.set_ylabel("state of charge, %")
    ax.set_ylim(0, 100)
    title = f"SoC per vehicle ({len(cp.vehicles) - len(short)} of {len(cp.vehicles)} electric coaches"
    ax.set_title(title + (f"; {len(short)} that cannot stay above the floor are not drawn)" if short else ")"))
    ax.legend(loc="lower left", fontsize=8)
    return _save(fig, ax, path)


def plot_load(cp: Any, res: Any, path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    load = res.station_load_kw(cp)
    hours = np.arange(cp.n_slots) * cp.slot_min / 60.0
    fig, ax = plt.subplots(figsize=(9, 5), dpi=100)
    used = [s for s in range(len(cp.stations)) if load[s].max() > 0]
    for s in used:
        ax.step(hours, load[s], where="post", label=cp.stations[s].id, lw=1)
    if used:
        ax.axhline(max(cp.stations[s].grid_kw for s in used), color="red", ls="--", lw=1, label="grid cap")
    ax2 = ax.twinx()
    ax2.step(hours, cp.tariff, where="post", color="grey", ls=":", lw=1)
    ax2.set_ylabel("tariff, CNY/kWh (dotted)")
    ax.set_xlabel("hour of day")
    ax.set_ylabel("station load, kW")
    ax.set_title("Charging load per station")
    if used:
        ax.legend(loc="upper left", fontsize=7, ncol=2)
    else:
        ax.set_title("Charging load per station (no charging: no vehicle parks at a charger)")
    return _save(fig, ax, path)


def plot_stock(irp: Any, res: Any, path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5), dpi=100)
    days = list(range(irp.days + 1))
    for i, s in enumerate(irp.station_ids):
        ax.plot(days, [irp.initial[i]] + list(res.stock[i]), marker="o", ms=3, lw=1, label=s)
    ax.axhline(0, color="red", lw=1)
    ax.set_xlabel("end of day (0 = initial)")
    ax.set_ylabel("full 40 L cylinders in stock")
    ax.set_title(f"Oxygen stock per station ({res.method}, min margin {res.min_margin})")
    ax.legend(fontsize=7, ncol=2, loc="upper right")
    return _save(fig, ax, path)


def _write(out: Path, name: str, doc: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_text(json.dumps(_json_safe(doc), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _run_on_demo_day(out: Path, iterations: int, run: Any) -> dict:
    """Check ``--out``, plan the demo day and call ``run(problem, plan)``; bad input exits 2 naming the field."""
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} exists and is not a directory")
    try:
        problem, plan = plan_demo_day(iterations)
        return run(problem, plan)
    except InvalidInput as e:
        _fail(str(e))
        raise  # unreachable: _fail exits


def charge(
    temperature_c: float = typer.Option(-5.0, "--temperature-c", help="ambient temperature, degC (cold derating)"),
    tariff: str | None = typer.Option(None, "--tariff", help="TOU bands START-END:CNY/kWh,... (default placeholder)"),
    chargers: int = typer.Option(4, "--chargers", help="connectors per station"),
    charger_kw: float = typer.Option(120.0, "--charger-kw", help="power per connector, kW"),
    grid_kw: float = typer.Option(300.0, "--grid-kw", help="grid cap per station, kW"),
    max_vehicles: int = typer.Option(50, "--max-vehicles", help="electric coaches (one per large group)"),
    coach_min_size: int = typer.Option(20, "--coach-min-size", help="smallest group that gets a coach"),
    existing_only: bool = typer.Option(False, "--existing-only", help="only existing charger sites"),
    max_delay_min: int = typer.Option(60, "--max-delay-min",
                                      help="longest departure delay per coach, minutes (0: plan times fixed)"),
    lateness_cny_per_min: float = typer.Option(5.0, "--lateness-cny-per-min",
                                               help="policy weight of one minute of lateness, CNY"),
    time_limit: float = typer.Option(30.0, "--time-limit", help="CP-SAT time limit, s"),
    iterations: int = typer.Option(2000, "--iterations", help="ILS iterations for the demo-day plan"),
    out: Path = typer.Option(OUT_CHARGING, "--out", help="output directory"),
) -> None:
    """EV charging schedule for the demo day's electric coaches; writes charging.json, soc.png, station_load.png."""
    run = _run_on_demo_day(out, iterations, lambda problem, plan: run_charging(
        problem, plan, temperature_c, tariff, chargers, charger_kw, grid_kw, max_vehicles, coach_min_size,
        existing_only, time_limit, max_delay_min=max_delay_min, lateness_cny_per_min=lateness_cny_per_min))
    console = Console(highlight=False, soft_wrap=True)
    doc, cp, res = run["doc"], run["problem"], run["result"]
    _write(out, "charging.json", doc)
    if res.has_solution:
        plot_soc(cp, res, out / "soc.png")
        plot_load(cp, res, out / "station_load.png")
    gap = f"{100 * res.gap:.2f}%" if res.gap is not None else "n/a"
    console.print(f"Fleet            {len(cp.vehicles)} electric coaches, {len(cp.stations)} charger sites, "
                  f"{cp.n_slots} x {cp.slot_min:g}-min slots, {temperature_c:g} degC")
    console.print(f"Status           {res.status} (CP-SAT, gap {gap}, {res.wall_s:.2f} s)")
    if res.has_solution:
        console.print(f"Energy cost      {res.energy_cost_cny:,.2f} CNY for "
                      f"{sum(map(sum, res.grid_kwh)):,.1f} kWh from the grid; peak station load "
                      f"{res.station_load_kw(cp).max():.0f} kW")
        console.print(f"Lateness         {res.lateness_min:g} min in total ({len(res.delays)} delayed coach(es), "
                      f"{res.lateness_cost_cny:,.2f} CNY at {cp.lateness_cny_per_min:g} CNY/min; "
                      f"max delay {cp.max_delay_min:g} min)")
        for d in res.delays:
            console.print(f"  {d['vehicle']}: departs {d['delay_min']:g} min late from {d['station']}")
    console.print(f"Unserved         {len(res.unserved)} vehicle(s)")
    for u in res.unserved:
        console.print(f"  {u['vehicle']}: {u['short_kwh']:.1f} kWh below floor: {u['reason']}")
    console.print(f"Verifier         {'ok' if not doc['verifier'] else '; '.join(doc['verifier'][:5])}")
    console.print(f"Outputs          {out}/ (charging.json, soc.png, station_load.png)")
    if doc["verifier"] and res.has_solution:
        raise typer.Exit(1)


def oxygen(
    method: str = typer.Option("auto", "--method", help="auto (exact if <= 8 stations) | exact | policy"),
    trucks: int = typer.Option(3, "--trucks", help="supply trucks"),
    truck_capacity: int = typer.Option(40, "--truck-capacity", help="cylinders per truck"),
    shift_min: float = typer.Option(600.0, "--shift-min", help="truck shift, minutes"),
    depot: str = typer.Option("lhasa_railway", "--depot", help="filling-plant site id"),
    lookahead: int = typer.Option(-1, "--lookahead",
                                  help="policy: visit if stock runs out within this many days (-1: try 0..3, keep best)"),
    time_limit: float = typer.Option(60.0, "--time-limit", help="exact: CP-SAT time limit, s"),
    safety_days: float = typer.Option(0.0, "--safety-days", help="safety stock = this x the largest daily demand"),
    iterations: int = typer.Option(2000, "--iterations", help="ILS iterations for the demo-day plan"),
    out: Path = typer.Option(OUT_OXYGEN, "--out", help="output directory"),
) -> None:
    """7-day oxygen-cylinder replenishment plan; writes oxygen.json and stock.png."""
    run = _run_on_demo_day(out, iterations, lambda problem, plan: run_oxygen(
        problem, plan, method, trucks, truck_capacity, shift_min, depot, lookahead, time_limit, safety_days))
    console = Console(highlight=False, soft_wrap=True)
    doc, irp, res = run["doc"], run["problem"], run["result"]
    _write(out, "oxygen.json", doc)
    if res.has_solution:
        plot_stock(irp, res, out / "stock.png")
    console.print(f"Stations         {irp.n} oxygen stations x {irp.days} days; depot {irp.depot_id}; "
                  f"{irp.trucks} trucks x {irp.truck_capacity} cylinders, {irp.shift_min:g}-min shift")
    bound = f", bound {res.bound_cny:,.2f} CNY" if res.bound_cny is not None else ""
    console.print(f"Status           {res.status} ({res.method}{bound}, {res.wall_s:.2f} s)")
    if not res.has_solution:  # no plan: no cost, margin or stock-out figures to report
        console.print("Cost             n/a (no plan within the time limit; try --method policy or a longer "
                      "--time-limit)")
    else:
        console.print(f"Cost             {res.total_cost_cny:,.2f} CNY (routing {res.routing_cost_cny:,.2f} + "
                      f"holding {res.holding_cost_cny:,.2f}); {len(res.routes)} truck routes")
        console.print(f"Min stock margin {res.min_margin} cylinders; stock-outs {res.stockout_cylinders} cylinders; "
                      f"safety-stock breaches {len(doc['safety_breaches'])} station-days")
    for u in res.unserved:
        console.print(f"  {u['station']} day {u['day']}: {u['reason']}")
    console.print(f"Verifier         {'ok' if not doc['verifier'] else '; '.join(doc['verifier'][:5])}")
    console.print(f"Outputs          {out}/ (oxygen.json, stock.png)")
    if doc["verifier"] and res.has_solution:
        raise typer.Exit(1)


stations_app.command("charge")(charge)
stations_app.command("oxygen")(oxygen)

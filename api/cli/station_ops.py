"""``lhasa-ops stations charge`` and ``lhasa-ops stations oxygen``: the command functions
(registered on ``stations_app`` by ``api.cli.stations``).

    lhasa-ops stations charge [--demand FILE | --plan plan.json] [--temperature-c -5]
        [--tariff 0-8:0.35,8-17:0.7,17-22:1.05,22-24:0.35] [--chargers 4] [--charger-kw 120]
        [--grid-kw 300] [--max-vehicles 50] [--coach-min-size 20] [--existing-only]
        [--max-delay-min 60] [--lateness-cny-per-min 5] [--time-limit 30] [--iterations 2000] [--out DIR]
    lhasa-ops stations oxygen [--demand FILE | --plan plan.json] [--siting siting.json]
        [--method auto|exact|policy] [--trucks 3] [--truck-capacity 40] [--shift-min 600]
        [--depot lhasa_railway] [--lookahead -1] [--safety-days 1] [--safety-min 1]
        [--time-limit 60] [--iterations 2000] [--out DIR]

The tour plan comes from ``--plan`` (a ``plan.json`` of ``lhasa-ops plan``), ``--demand`` (a demand
file, planned with ``--iterations`` ILS iterations, seed 0) or, with neither, the embedded demo
day; ``oxygen --siting`` plans exactly the stations of an oxygen siting (``lhasa-ops stations site
--kind oxygen``), each with the demand of the sites it covers (the siting's own demand unless a
plan source is given too). The use cases are ``api.services.station_ops`` (solve, then the
independent verifier). Each command prints the verifier's verdict and writes a JSON document and
charts to ``--out`` (``charging.json``, ``soc.png``, ``station_load.png``; ``oxygen.json``,
``stock.png``). Exit codes: 0 success; 2 bad input (``error: <message>`` naming the field);
1 a verifier violation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from api.cli.common import fail as _fail
from api.services import station_ops as service
from api.services.tours import lhasa_network
from optimizer.core.clock import fmt_clock
from optimizer.core.errors import InvalidInput
from optimizer.core.serialize import json_safe
from optimizer.stations import oxygen as oxy

__all__ = ["charge", "oxygen"]

OUT_CHARGING = Path("out/charging")
OUT_OXYGEN = Path("out/oxygen")

PLAN_HELP = "plan.json written by 'lhasa-ops plan' (the tour plan to work on)"
DEMAND_HELP = "demand file (CSV, Parquet or JSON) to plan first; default: the embedded demo day"


def _save(out: Path, name: str, draw: Callable[[Any], Any]) -> None:
    """Draw on a new 9 x 5 in figure with ``draw(ax)`` and write ``out/name``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5), dpi=100)
    try:
        draw(ax)
        fig.tight_layout()
        fig.savefig(out / name)
    finally:
        plt.close(fig)


def _write(out: Path, name: str, doc: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_text(json.dumps(json_safe(doc), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} exists and is not a directory")


def _verdict(violations: list, has_plan: bool, what: str) -> str:
    if not has_plan:
        return f"n/a (no {what})"
    return "ok" if not violations else "; ".join(str(v) for v in violations[:5])


def _tour_line(console: Console, problem: Any, plan: Path | None, demand: Path | None) -> None:
    src = f"plan {plan}" if plan else f"demand {demand}" if demand else "demo day"
    console.print(f"Tour plan        {src}: {len(problem.groups)} groups")


def charge(
    demand: Path | None = typer.Option(None, "--demand", help=DEMAND_HELP),
    plan: Path | None = typer.Option(None, "--plan", help=PLAN_HELP),
    temperature_c: float = typer.Option(-5.0, "--temperature-c", help="ambient temperature, degC (cold derating)"),
    tariff: str | None = typer.Option(None, "--tariff",
                                      help="TOU bands START-END:CNY/kWh,... covering 0-24 h without gap or overlap, "
                                           "prices 0..1000 (default placeholder)"),
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
    iterations: int = typer.Option(2000, "--iterations", help="ILS iterations when planning the tours"),
    out: Path = typer.Option(OUT_CHARGING, "--out", help="output directory"),
) -> None:
    """EV charging schedule for the electric coaches of a tour plan; writes charging.json, soc.png, station_load.png."""
    _check_out(out)
    try:
        options = service.ChargingOptions(temperature_c=temperature_c, tariff=tariff, chargers=chargers,
                                          charger_kw=charger_kw, grid_kw=grid_kw, max_vehicles=max_vehicles,
                                          coach_min_size=coach_min_size, existing_only=existing_only,
                                          max_delay_min=max_delay_min, lateness_cny_per_min=lateness_cny_per_min)
        stop = service.solver_stop(time_limit)
        tour = service.tour_plan(lhasa_network(), demand=demand, plan=plan, iterations=iterations)
        run = service.schedule_charging(*tour, options, stop)
    except InvalidInput as e:
        _fail(str(e))
    console = Console(highlight=False, soft_wrap=True)
    cp, res = run.problem, run.schedule
    doc = run.document()
    _write(out, "charging.json", doc)
    from optimizer.stations.report_ops import plot_soc, plot_station_load

    if res.has_schedule:
        _save(out, "soc.png", lambda ax: plot_soc(cp, res, ax))
        _save(out, "station_load.png", lambda ax: plot_station_load(cp, res, ax))
    st = res.stats
    gap = f"{100 * st.gap:.2f}%" if st.gap is not None else "n/a"
    _tour_line(console, tour[0], plan, demand)
    console.print(f"Fleet            {len(cp.vehicles)} electric coaches, {len(cp.stations)} charger sites, "
                  f"{cp.n_slots} x {cp.slot_min:g}-min slots, {temperature_c:g} degC")
    n_all, k = len(cp.vehicles), len(res.unserved)
    reasons: dict[str, int] = {}
    for u in res.unserved:
        reasons[u.reason] = reasons.get(u.reason, 0) + 1
    why = ", ".join(f"{c} {r}" if len(reasons) > 1 else r for r, c in reasons.items())
    if not res.has_schedule:
        console.print(f"Status           no schedule ({st.status}): all {n_all} coaches unserved")
    elif k:
        console.print(f"Status           feasible for {n_all - k} of {n_all} coaches; {k} stranded ({why})")
    else:
        console.print(f"Status           feasible for all {n_all} coaches")
    console.print(f"Solver           CP-SAT {st.status}, gap {gap} (on the day's cost, shortfall penalty included), "
                  f"{st.runtime_s:.2f} s")
    if res.has_schedule:
        console.print(f"Energy cost      {res.energy_cost_cny:,.2f} CNY for "
                      f"{sum(map(sum, res.grid_kwh)):,.1f} kWh from the grid; peak station load "
                      f"{res.station_load_kw(cp).max():.0f} kW")
        console.print(f"Lateness         {res.lateness_min:g} min in total ({len(res.delays)} delayed coach(es), "
                      f"{res.lateness_cost_cny:,.2f} CNY at {cp.lateness_cny_per_min:g} CNY/min; "
                      f"max delay {cp.max_delay_min:g} min)")
        for d in res.delays:
            console.print(f"  {d.vehicle_id}: departs {d.delay_min:g} min late from {d.station_id}")
    console.print(f"Stranded         {k} coach(es) not kept above their SoC floor")
    for u in res.unserved:
        if u.empty_min is not None:
            what = (f"battery empty at {fmt_clock(u.empty_min)} (below its floor from {fmt_clock(u.below_floor_min)}, "
                    f"{u.short_kwh:.1f} kWh reserve used up),"
                    f" {u.unmet_kwh:.1f} kWh of driving beyond an empty battery")
        elif u.below_floor_min is not None:
            what = f"below its floor from {fmt_clock(u.below_floor_min)}, at worst {u.short_kwh:.1f} kWh below"
        else:
            what = "no schedule"
        console.print(f"  {u.item_id} ({u.reason}): {what}: {u.detail}")
    console.print(f"Verifier         {_verdict(run.violations, res.has_schedule, 'schedule')}")
    console.print(f"Outputs          {out}/ (charging.json, soc.png, station_load.png)")
    if run.violations and res.has_schedule:
        raise typer.Exit(1)


def oxygen(
    demand: Path | None = typer.Option(None, "--demand", help=DEMAND_HELP),
    plan: Path | None = typer.Option(None, "--plan", help=PLAN_HELP),
    siting: Path | None = typer.Option(None, "--siting",
                                       help="siting.json of 'lhasa-ops stations site --kind oxygen': plan exactly "
                                            "its stations, each with the demand of the sites it covers"),
    method: str = typer.Option("auto", "--method", help="auto (exact if <= 8 stations) | exact | policy"),
    trucks: int = typer.Option(3, "--trucks", help=f"supply trucks per day ({oxy.MIN_TRUCKS}..{oxy.MAX_TRUCKS})"),
    truck_capacity: int = typer.Option(40, "--truck-capacity", help="cylinders per truck"),
    shift_min: float = typer.Option(600.0, "--shift-min", help="truck shift, minutes"),
    depot: str = typer.Option("lhasa_railway", "--depot", help="filling-plant site id"),
    lookahead: int = typer.Option(-1, "--lookahead",
                                  help=f"policy: visit if stock runs out within this many days, 0..{oxy.MAX_LOOKAHEAD} "
                                       "(-1: try 0..3, keep best)"),
    time_limit: float = typer.Option(60.0, "--time-limit",
                                     help="time limit of the solve, s (exact: CP-SAT; policy: its local search)"),
    safety_days: float = typer.Option(1.0, "--safety-days",
                                      help="safety stock = this x the station's busiest daily demand, cylinders "
                                           "(default 1: every station ends each day with at least its busiest day's "
                                           f"demand in stock; 0 with --safety-min 0: none; 0..{oxy.MAX_SAFETY_DAYS:g})"),
    safety_min: int = typer.Option(1, "--safety-min", help="smallest safety stock of a station, cylinders"),
    iterations: int = typer.Option(2000, "--iterations", help="ILS iterations when planning the tours"),
    out: Path = typer.Option(OUT_OXYGEN, "--out", help="output directory"),
) -> None:
    """Oxygen-cylinder replenishment plan over 7 days; writes oxygen.json and stock.png."""
    _check_out(out)
    try:
        if method not in ("auto", "exact", "policy"):
            raise InvalidInput("method", method, "must be 'auto', 'exact' or 'policy'")
        if not -1 <= lookahead <= oxy.MAX_LOOKAHEAD:
            raise InvalidInput("lookahead", lookahead, f"must be -1 (try 0..3) or within 0..{oxy.MAX_LOOKAHEAD} days")
        options = service.OxygenOptions(method=method, trucks=trucks, truck_capacity=truck_capacity,
                                        shift_min=shift_min, depot=depot,
                                        lookahead=None if lookahead == -1 else lookahead,
                                        safety_days=safety_days, safety_min_cylinders=safety_min)
        stop = service.solver_stop(time_limit)
        net = lhasa_network()
        choice = service.read_siting(siting, net) if siting is not None else None
        tour = None
        if choice is None or plan is not None or demand is not None:
            tour = service.tour_plan(net, demand=demand, plan=plan, iterations=iterations)
        run = service.plan_oxygen(net, options, stop, tour=tour, siting=choice)
    except InvalidInput as e:
        _fail(str(e))
    console = Console(highlight=False, soft_wrap=True)
    irp, res = run.problem, run.plan
    doc = run.document()
    _write(out, "oxygen.json", doc)
    from optimizer.stations.report_ops import plot_stock

    if res.has_plan:
        _save(out, "stock.png", lambda ax: plot_stock(irp, res, ax))
    if tour is not None:
        _tour_line(console, tour[0], plan, demand)
    if choice is not None:
        console.print(f"Siting           {siting}: {len(choice.stations)} stations ({', '.join(choice.stations)}); "
                      f"{len(run.uncovered)} demand site(s) outside its coverage")
    console.print(f"Stations         {irp.n} oxygen stations x {irp.days} days; depot {irp.depot_id}; "
                  f"{irp.trucks} trucks x {irp.truck_capacity} cylinders, {irp.shift_min:g}-min shift")
    st = res.stats
    bound = f", bound {st.bound:,.2f} CNY" if st.bound is not None else ""
    console.print(f"Status           {st.status} ({res.method}{bound}, {st.runtime_s:.2f} s)")
    if not res.has_plan:  # no plan: no cost, margin or stock-out figures to report
        console.print("Cost             n/a (no plan within the time limit; try --method policy or a longer "
                      "--time-limit)")
    else:
        console.print(f"Cost             {res.total_cost_cny:,.2f} CNY (routing {res.routing_cost_cny:,.2f} + "
                      f"holding {res.holding_cost_cny:,.2f}); {len(res.routes)} truck routes")
        console.print(f"Min stock margin {res.min_margin} cylinders; stock-outs {res.stockout_cylinders} cylinders; "
                      f"safety-stock breaches {len(doc['safety_breaches'])} station-days "
                      f"(safety stock {safety_days:g} busiest day(s), at least {safety_min})")
    for u in res.unserved:
        console.print(f"  {u.item_id} day {u.day} ({u.reason}): {u.detail}")
    console.print(f"Verifier         {_verdict(run.violations, res.has_plan, 'plan')}")
    console.print(f"Outputs          {out}/ (oxygen.json, stock.png)")
    if run.violations and res.has_plan:
        raise typer.Exit(1)

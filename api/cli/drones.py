"""``lhasa-ops drones deliver``: plan a day of drone deliveries from the Lhasa hubs, with a map.

    lhasa-ops drones deliver [--demand CSV] [--airspace GEOJSON] [--types CSV] [--temperature-c 15]
        [--objective energy|time] [--iterations 500] [--seed 0] [--out DIR]

Reads the deliveries (CSV: id, lon, lat, weight_kg, open, close (HH:MM), priority), the airspace
(no-fly polygons and hubs with fleets) and the drone types, solves with ``optimizer.drones.solve``,
checks the plan with ``optimizer.drone_verify`` and writes ``plan.json``, ``map.png`` and
``map.geojson`` (trips as LineStrings, no-fly zones). Exit codes: 0 success; 2 bad input.
"""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import fail as _fail
from optimizer.airspace import AIRSPACE_GEOJSON, airspace_from_geojson
from optimizer.domain import InvalidInput, fmt_clock, parse_clock
from optimizer.drone_energy import DRONE_TYPES_CSV, load_drone_types

DEFAULT_DEMAND = AIRSPACE_GEOJSON.parent / "drone_demand_example.csv"

drones_app = typer.Typer(help="Drone deliveries at altitude (multi-trip, energy reserve, no-fly zones).",
                         no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)


def read_drone_demand(path: Path | str) -> list:
    """Deliveries from CSV (``#`` lines are comments). Raises ``InvalidInput`` naming the row and field."""
    from optimizer.drones import Delivery
    out = []
    with open(path, encoding="utf-8-sig") as fh:
        for i, r in enumerate(csv.DictReader(line for line in fh if not line.startswith("#"))):
            try:
                out.append(Delivery(r["id"], float(r["lon"]), float(r["lat"]), float(r["weight_kg"]),
                                    (parse_clock(r["open"], f"demand[{i}].open"), parse_clock(r["close"], f"demand[{i}].close")),
                                    int(r.get("priority") or 1)))
            except KeyError as e:
                raise InvalidInput(f"demand[{i}]", r, f"missing column {e}") from None
            except ValueError as e:
                if isinstance(e, InvalidInput):
                    raise
                raise InvalidInput(f"demand[{i}]", r, str(e)) from None
    return out


def plan_geojson(inst: Any, plan: Any) -> dict:
    """Trips (LineStrings along the detoured legs), hubs and no-fly zones as a GeoJSON FeatureCollection."""
    p = inst.problem
    H = len(p.airspace.hubs)
    ix = {d.id: H + i for i, d in enumerate(p.deliveries)}
    hix = {h.id: i for i, h in enumerate(p.airspace.hubs)}
    feats: list[dict] = []
    for z in p.airspace.zones:
        feats.append({"type": "Feature", "properties": {"kind": "no_fly", "id": z.id, "name": z.name},
                      "geometry": {"type": "Polygon", "coordinates": [list(map(list, z.ring))]}})
    for h in p.airspace.hubs:
        feats.append({"type": "Feature", "properties": {"kind": "hub", "id": h.id, "name": h.name},
                      "geometry": {"type": "Point", "coordinates": [h.lon, h.lat]}})
    for k, t in enumerate(plan.trips):
        nodes = [hix[t.hub]] + [ix[s.delivery] for s in t.stops] + [hix[t.hub]]
        line: list = []
        for a, b in itertools.pairwise(nodes):
            seg = inst.dist.path(a, b)
            line += [list(map(float, q)) for q in (seg if not line else seg[1:])]
        feats.append({"type": "Feature", "properties": {
            "kind": "trip", "trip": k, "drone": t.drone, "depart": fmt_clock(t.depart_min), "return": fmt_clock(t.return_min),
            "stops": [s.delivery for s in t.stops], "energy_wh": round(t.energy_wh, 1), "usable_wh": t.usable_wh,
            "payload_kg": round(t.payload_kg, 2)}, "geometry": {"type": "LineString", "coordinates": line}})
    for d in p.deliveries:
        feats.append({"type": "Feature", "properties": {"kind": "delivery", "id": d.id,
                                                        "unserved": plan.unserved.get(d.id)},
                      "geometry": {"type": "Point", "coordinates": [d.lon, d.lat]}})
    return {"type": "FeatureCollection", "features": feats}


def plan_dict(inst: Any, plan: Any, violations: list[str]) -> dict:
    return {
        "served_priority": plan.served_priority,
        "total_priority": int(sum(d.priority for d in inst.problem.deliveries)),
        "served": sum(len(t.stops) for t in plan.trips),
        "deliveries": len(inst.problem.deliveries),
        "trips": [{"drone": t.drone, "type": t.drone_type, "hub": t.hub, "depart": fmt_clock(t.depart_min),
                   "return": fmt_clock(t.return_min), "stops": [{"delivery": s.delivery, "arrive": fmt_clock(s.arrive_min),
                                                                "payload_kg": round(s.payload_on_arrival_kg, 2)} for s in t.stops],
                   "payload_kg": round(t.payload_kg, 2), "energy_wh": round(t.energy_wh, 1),
                   "reserve_margin_wh": round(t.usable_wh - t.energy_wh, 1), "km": round(t.km, 2)} for t in plan.trips],
        "unserved": [{"delivery": k, "reason": v} for k, v in plan.unserved.items()],
        "total_energy_wh": round(plan.total_energy_wh, 1),
        "total_flight_min": round(plan.total_flight_min, 1),
        "runtime_s": round(plan.runtime_s, 3),
        "violations": violations,
    }


def draw_map(inst: Any, plan: Any, path: Path, zoom: tuple = ((91.0, 91.25), (29.6, 29.74))) -> None:
    """PNG: overview and a zoom: no-fly zones (red), hubs (squares), trips (lines), served (o) / unserved (x)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    gj = plan_geojson(inst, plan)
    fig, axes = plt.subplots(1, 2, figsize=(15, 8), gridspec_kw={"width_ratios": [1, 1.6]})
    cmap = plt.get_cmap("tab20")
    for ax, f in ((ax, f) for ax in axes for f in gj["features"]):
        pr, g = f["properties"], f["geometry"]
        if pr["kind"] == "no_fly":
            xs, ys = zip(*g["coordinates"][0])
            ax.fill(xs, ys, color="red", alpha=0.3)
            ax.annotate(pr["id"], (sum(xs) / len(xs), sum(ys) / len(ys)), fontsize=7, color="darkred")
        elif pr["kind"] == "trip":
            xs, ys = zip(*g["coordinates"])
            ax.plot(xs, ys, lw=1.0, color=cmap(pr["trip"] % 20), alpha=0.85)
        elif pr["kind"] == "hub":
            ax.plot(*g["coordinates"], "ks", ms=8)
            ax.annotate(pr["id"], g["coordinates"], fontsize=8, xytext=(4, 4), textcoords="offset points")
        elif pr["kind"] == "delivery":
            ax.plot(*g["coordinates"], "x" if pr["unserved"] else "o", color="grey" if pr["unserved"] else "navy", ms=4)
    for ax in axes:
        ax.set_xlabel("lon")
        ax.set_ylabel("lat")
        ax.set_aspect(1 / 0.87)
    axes[1].set_xlim(*zoom[0])
    axes[1].set_ylim(*zoom[1])
    axes[1].set_title("Lhasa city (zoom)")
    ax = axes[0]
    ax.set_title(f"Drone trips: {len(plan.trips)} trips, {sum(len(t.stops) for t in plan.trips)} served, "
                 f"{len(plan.unserved)} unserved, {plan.total_energy_wh / 1000:.1f} kWh", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_deliver(demand: Path, airspace: Path, types: Path, temperature_c: float | None, objective: str,
                iterations: int, seed: int, buffer_km: float = 0.2) -> tuple[Any, Any, list[str]]:
    from optimizer.drone_verify import verify_drone_plan
    from optimizer.drones import DroneProblem, build_instance, solve
    from optimizer.ils import StoppingCriterion
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise InvalidInput("iterations", iterations, "must be an integer >= 0")
    asp = airspace_from_geojson(airspace, buffer_km=buffer_km)
    prob = DroneProblem(asp, load_drone_types(types), tuple(read_drone_demand(demand)), temperature_c=temperature_c,
                        objective=objective)
    inst = build_instance(prob)
    plan = solve(inst, StoppingCriterion(max_iterations=iterations, max_runtime_s=60), seed=seed)
    return inst, plan, verify_drone_plan(prob, plan, inst.dist)


@drones_app.command("deliver")
def deliver(
    demand: Path = typer.Option(DEFAULT_DEMAND, "--demand", help="deliveries CSV: id,lon,lat,weight_kg,open,close,priority"),  # noqa: B008
    airspace: Path = typer.Option(AIRSPACE_GEOJSON, "--airspace", help="GeoJSON: no_fly polygons and hubs with fleets"),  # noqa: B008
    types: Path = typer.Option(DRONE_TYPES_CSV, "--types", help="drone types CSV"),  # noqa: B008
    temperature_c: float = typer.Option(15.0, help="day's air temperature, degC (ISA density if --isa)"),
    isa: bool = typer.Option(False, help="use the ISA temperature at each hub instead of --temperature-c"),
    objective: str = typer.Option("energy", help="energy | time (after priority served)"),
    iterations: int = typer.Option(500, help="ruin-and-recreate iterations"),
    seed: int = typer.Option(0),
    buffer_km: float = typer.Option(0.2, help="safety buffer around no-fly zones, km"),
    out: Path = typer.Option(Path("out/drones"), "--out", help="output directory"),  # noqa: B008
) -> None:
    """Plan the drone deliveries of one day and write plan.json, map.png and map.geojson."""
    console = Console(highlight=False)
    try:
        inst, plan, viol = run_deliver(demand, airspace, types, None if isa else temperature_c, objective,
                                       iterations, seed, buffer_km)
    except InvalidInput as e:
        _fail(str(e))
    except (OSError, json.JSONDecodeError) as e:
        _fail(f"{e}")
    out.mkdir(parents=True, exist_ok=True)
    d = plan_dict(inst, plan, viol)
    (out / "plan.json").write_text(json.dumps(d, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "map.geojson").write_text(json.dumps(plan_geojson(inst, plan), ensure_ascii=False), encoding="utf-8")
    draw_map(inst, plan, out / "map.png")
    table = Table(box=None, pad_edge=False)
    for c in ("drone", "depart", "return", "stops", "kg", "Wh", "margin Wh"):
        table.add_column(c)
    for t in d["trips"]:
        table.add_row(t["drone"], t["depart"], t["return"], " ".join(s["delivery"] for s in t["stops"]),
                      f"{t['payload_kg']:.1f}", f"{t['energy_wh']:.0f}", f"{t['reserve_margin_wh']:.0f}")
    console.print(table)
    for u in d["unserved"]:
        console.print(f"unserved {u['delivery']}: {u['reason']}")
    console.print(f"Served           {d['served']}/{d['deliveries']} deliveries, priority {d['served_priority']}/{d['total_priority']}")
    console.print(f"Energy           {d['total_energy_wh'] / 1000:.2f} kWh, flight {d['total_flight_min']:.0f} min, {len(d['trips'])} trips")
    console.print(f"Verifier         {'OK' if not viol else f'{len(viol)} violations'}")
    console.print(f"Outputs          {out}/ (plan.json, map.png, map.geojson)")
    if viol:
        raise typer.Exit(1)

"""``lhasa-ops drones deliver``: plan a day of drone deliveries from the Lhasa hubs, with a map.

    lhasa-ops drones deliver [--demand CSV] [--airspace GEOJSON] [--types CSV] [--temperature-c 15]
        [--objective energy|time] [--iterations 500] [--seed 0] [--out DIR]

Reads the deliveries (CSV: id, lon, lat, weight_kg, open, close (HH:MM), priority), the airspace
(no-fly polygons and hubs with fleets) and the drone types, plans and verifies them with
``api.services.drones.plan_deliveries`` and writes ``plan.json``, ``map.png`` and ``map.geojson``
(trips as LineStrings, no-fly zones). Exit codes: 0 success; 1 the verifier rejected the plan;
2 bad input.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import fail as _fail
from api.services.drones import (
    AIRSPACE_GEOJSON,
    DRONE_DEMAND_CSV,
    DRONE_TYPES_CSV,
    DeliveryRun,
    plan_deliveries,
    read_drone_demand,
)
from optimizer.core.errors import InvalidInput
from optimizer.drones.report import plan_geojson

DEFAULT_DEMAND = DRONE_DEMAND_CSV

drones_app = typer.Typer(help="Drone deliveries at altitude (multi-trip, energy reserve, no-fly zones).",
                         no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)

__all__ = ["DEFAULT_DEMAND", "draw_map", "drones_app", "read_drone_demand", "run_deliver"]


def draw_map(run: DeliveryRun, path: Path, zoom: tuple = ((91.0, 91.25), (29.6, 29.74))) -> None:
    """PNG: overview and a zoom on Lhasa city (``optimizer.drones.report.plot_plan`` on two axes)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from optimizer.drones.report import plot_plan
    fig, axes = plt.subplots(1, 2, figsize=(15, 8), gridspec_kw={"width_ratios": [1, 1.6]})
    plot_plan(run.problem, run.plan, axes[0])
    plot_plan(run.problem, run.plan, axes[1], title="Lhasa city (zoom)", xlim=zoom[0], ylim=zoom[1])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_deliver(demand: Path, airspace: Path, types: Path, temperature_c: float | None, objective: str,
                iterations: int, seed: int, buffer_km: float = 0.2) -> DeliveryRun:
    """Read the files and plan the day (time limit 60 s, construction included)."""
    return plan_deliveries(read_drone_demand(demand), airspace=Path(airspace), types=Path(types),
                           temperature_c=temperature_c, objective=objective, iterations=iterations, seed=seed,
                           buffer_km=buffer_km, max_runtime_s=60.0)


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
        run = run_deliver(demand, airspace, types, None if isa else temperature_c, objective,
                          iterations, seed, buffer_km)
    except InvalidInput as e:
        _fail(str(e))
    except (OSError, json.JSONDecodeError) as e:
        _fail(f"{e}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        _fail(f"--out {out}: {e.strerror or e}")
    viol = run.violations
    d = run.to_dict()
    (out / "plan.json").write_text(json.dumps(d, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "map.geojson").write_text(json.dumps(plan_geojson(run.problem, run.plan), ensure_ascii=False),
                                     encoding="utf-8")
    draw_map(run, out / "map.png")
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
    for v in viol[:10]:
        console.print(f"violation {v}", markup=False)
    console.print(f"Verifier         {'OK' if not viol else f'{len(viol)} violations'}")
    console.print(f"Outputs          {out}/ (plan.json, map.png, map.geojson)")
    if viol:
        raise typer.Exit(1)

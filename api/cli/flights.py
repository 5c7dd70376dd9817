"""``lhasa-ops flights ...``: low-altitude sightseeing flights.

``flights design`` builds the product menu (routes over viewpoints); ``flights schedule``
(:mod:`api.cli.flight_schedule`, registered here) assigns bookings to departures. Both call
:mod:`api.services.flights` and only parse, print and write files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import fail as _fail
from api.cli.flight_schedule import schedule as _schedule_command
from api.services import flights as service
from optimizer.core.errors import InvalidInput
from optimizer.flights.report import plot_menu, products_table

flights_app = typer.Typer(help="Low-altitude sightseeing flights: product menu (route design) and daily schedule.",
                          no_args_is_help=True)

LHASA_ZOOM = ((91.0, 91.32), (29.6, 29.78))
"""The Lhasa city window of the menu map's second panel (lon, lat)."""


def parse_durations(text: str) -> list[int]:
    """``"15,30,60"`` -> [15, 30, 60]; raises ``InvalidInput`` (field ``durations_min[i]``) on a bad item."""
    out = []
    for i, part in enumerate(str(text).split(",")):
        try:
            out.append(int(part.strip()))
        except ValueError:
            raise InvalidInput(f"durations_min[{i}]", part, "must be a whole number of minutes") from None
    return out


def save_menu_map(result: service.DesignResult, path: Path) -> None:
    """PNG: the whole region and the Lhasa city zoom (``plot_menu`` on two panels)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(16, 8), gridspec_kw={"width_ratios": [1, 1.3]})
    plot_menu(result.problem, result.menu, axes[0])
    plot_menu(result.problem, result.menu, axes[1], zoom=LHASA_ZOOM, title="Lhasa city (zoom)")
    axes[1].legend(fontsize=6, loc="upper left", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _ids(text: str | None) -> list[str] | None:
    return None if not text else [s.strip() for s in text.split(",") if s.strip()]


@flights_app.command("design")
def design(
    durations: str = typer.Option("15,30,60", "--durations", help="duration classes, whole minutes, comma-separated"),
    temperature_c: float = typer.Option(15.0, help="air temperature at the vertiport, degC (lapse 6.5 K/km aloft)"),
    isa: bool = typer.Option(False, help="use ISA temperatures instead of --temperature-c"),
    vertiports: str = typer.Option(None, help="vertiport ids, comma-separated (default: all)"),
    aircraft: str = typer.Option(None, help="aircraft type ids, comma-separated (default: all)"),
    time_limit_s: float = typer.Option(30.0, "--time-limit", help="wall-clock limit of the whole design, s"),
    data_dir: Path = typer.Option(service.LHASA_DIR, "--data", help="directory with viewpoints.csv, vertiports.csv, "  # noqa: B008
                                  "aircraft_types.csv, airspace.geojson"),
    out: Path = typer.Option(Path("out/flights"), "--out", help="output directory"),  # noqa: B008
) -> None:
    """Design the sightseeing-flight product menu; print it and write products.csv, products.json, menu_map.png."""
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    try:
        result = service.design_menu(service.flight_data(data_dir), parse_durations(durations),
                                     None if isa else temperature_c, _ids(vertiports), _ids(aircraft), time_limit_s)
    except InvalidInput as e:
        _fail(str(e))
    except (OSError, json.JSONDecodeError) as e:
        _fail(f"{e}")
    out.mkdir(parents=True, exist_ok=True)
    d = service.menu_document(result)
    (out / "products.json").write_text(json.dumps(d, ensure_ascii=False, indent=1), encoding="utf-8")
    products_table(result.problem, result.menu).write_csv(out / "products.csv")
    save_menu_map(result, out / "menu_map.png")
    table = Table(box=None, pad_edge=False, title=f"Sightseeing-flight menu ({temperature_c if not isa else 'ISA'} C)")
    for c, j in (("product", "left"), ("vertiport", "left"), ("aircraft", "left"), ("class", "right"),
                 ("min", "right"), ("score", "right"), ("km", "right"), ("viewpoints", "left"), ("note", "left")):
        table.add_column(c, justify=j)
    prods = {p["id"]: p for p in d["products"]}
    for o in d["offers"]:
        p = prods.get(o["product_id"]) if o["product_id"] else None
        if p is None:
            table.add_row("-", o["vertiport_id"], o["aircraft_type_id"], str(o["class_min"]), "-", "-", "-",
                          "unavailable", o["note"])
        elif p["class_min"] != o["class_min"]:
            table.add_row(f"= {p['id']}", o["vertiport_id"], o["aircraft_type_id"], str(o["class_min"]),
                          str(p["block_min"]), f"{p['score']:g}", f"{p['distance_km']:.1f}", "(same route)", o["note"])
        else:
            table.add_row(p["id"], o["vertiport_id"], o["aircraft_type_id"], str(o["class_min"]), str(p["block_min"]),
                          f"{p['score']:g}", f"{p['distance_km']:.1f}", " > ".join(p["viewpoints"]), o["note"])
    console.print(table)
    for v in result.violations:
        console.print(f"violation {v}", markup=False)
    console.print(f"Products         {len(d['products'])} routes, {len(d['unavailable'])} unavailable cells, "
                  f"{d['runtime_s']:.2f} s ({d['status']})")
    console.print(f"Verifier         {'OK' if not result.violations else f'{len(result.violations)} violations'}")
    console.print(f"Outputs          {out}/ (products.csv, products.json, menu_map.png)")
    if result.violations:
        raise typer.Exit(1)


flights_app.command("schedule")(_schedule_command)

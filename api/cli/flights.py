"""``lhasa-ops flights ...``: low-altitude sightseeing flights (issue 8).

``flights design`` builds the product menu (routes over viewpoints, :mod:`optimizer.flight_routes`);
``flights schedule`` (registered from :mod:`api.cli.flight_schedule`) assigns bookings to departures.
"""

from __future__ import annotations

import typer

flights_app = typer.Typer(help="Low-altitude sightseeing flights: product menu (route design) and daily schedule.",
                          no_args_is_help=True)


# ----------------------------------------------------------------------------------------------- flights design
import csv
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from api.cli.common import fail as _fail
from optimizer.domain import InvalidInput
from optimizer.flight_routes import LHASA_DIR, FlightData, Menu

CSV_COLUMNS = ("id", "vertiport_id", "aircraft_type_id", "class_min", "block_min", "score", "distance_km", "viewpoints",
               "seats", "flying_min", "viewing_min", "takeoff_landing_min", "max_alt_m", "rho_kg_m3", "usable_min",
               "optimal")


def parse_durations(text: str) -> list[int]:
    """``"15,30,60"`` -> [15, 30, 60]; raises ``InvalidInput`` (field ``durations_min[i]``) on a bad item."""
    out = []
    for i, part in enumerate(str(text).split(",")):
        try:
            out.append(int(part.strip()))
        except ValueError:
            raise InvalidInput(f"durations_min[{i}]", part, "must be a whole number of minutes") from None
    return out


def menu_dict(menu: Menu, data: FlightData, violations: dict[str, list[str]]) -> dict[str, Any]:
    """The menu as JSON-ready dict: ``products`` (FlightProduct fields + the numbers behind them + ``path``
    as [[lon, lat], ...]), ``offers`` (every vertiport x aircraft x class cell), ``unavailable``,
    ``violations`` (verifier, per product; empty lists = OK)."""
    prods = []
    for r in menu.routes:
        p = r.product
        prods.append({"id": p.id, "vertiport_id": p.vertiport_id, "aircraft_type_id": p.aircraft_type_id,
                      "class_min": r.class_min, "block_min": p.block_min, "score": p.score,
                      "distance_km": round(p.distance_km, 3), "viewpoints": list(p.viewpoints),
                      "seats": data.aircraft[p.aircraft_type_id].seats, "flying_min": round(r.flying_min, 2),
                      "viewing_min": round(r.viewing_min, 2), "takeoff_landing_min": r.overhead_min,
                      "max_alt_m": r.max_alt_m, "rho_kg_m3": round(r.rho, 4), "usable_min": round(r.usable_min, 2),
                      "optimal": r.optimal, "path": [[round(x, 6), round(y, 6)] for x, y in r.path]})
    offers = [{"vertiport_id": o.vertiport_id, "aircraft_type_id": o.aircraft_type_id, "class_min": o.class_min,
               "product_id": o.product_id, "score": o.score, "block_min": o.block_min, "note": o.note}
              for o in menu.offers]
    return {"temperature_c": menu.temperature_c, "runtime_s": round(menu.runtime_s, 3), "products": prods,
            "offers": offers, "unavailable": [o for o in offers if o["product_id"] is None],
            "violations": violations}


def verify_menu(menu: Menu, data: FlightData) -> dict[str, list[str]]:
    """Verifier violations per product id (``optimizer.flight_routes_verify``)."""
    from optimizer.flight_routes_verify import verify_product
    return {r.product.id: verify_product(r.product, data, r.path, r.class_min, menu.temperature_c)
            for r in menu.routes}


def draw_menu_map(menu: Menu, data: FlightData, path: Path, zoom: tuple = ((91.0, 91.32), (29.6, 29.78))) -> None:
    """PNG: region and city zoom with no-fly zones (red), vertiports (squares), viewpoints (stars), routes."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(16, 8), gridspec_kw={"width_ratios": [1, 1.3]})
    cmap = plt.get_cmap("tab20")
    for ax in axes:
        for z in data.airspace.zones:
            xs, ys = zip(*z.ring)
            ax.fill(xs, ys, color="red", alpha=0.3)
            ax.annotate(z.id, (sum(xs) / len(xs), sum(ys) / len(ys)), fontsize=7, color="darkred")
        for k, r in enumerate(menu.routes):
            xs, ys = zip(*r.path)
            ax.plot(xs, ys, lw=1.2, color=cmap(k % 20), alpha=0.85, label=f"{r.product.id} ({r.product.score:g})")
        for v in data.viewpoints.values():
            ax.plot(v.lon, v.lat, "*", color="goldenrod", ms=10, mec="k", mew=0.4)
            ax.annotate(v.id, (v.lon, v.lat), fontsize=6, xytext=(3, -8), textcoords="offset points")
        for p in data.vertiports.values():
            ax.plot(p.lon, p.lat, "ks", ms=8)
            ax.annotate(p.id, (p.lon, p.lat), fontsize=8, weight="bold", xytext=(4, 4), textcoords="offset points")
        ax.set_xlabel("lon")
        ax.set_ylabel("lat")
        ax.set_aspect(1 / 0.87)
    axes[0].set_title(f"Sightseeing products: {len(menu.routes)} routes, {len(menu.unavailable)} unavailable cells",
                      fontsize=10)
    axes[1].set_xlim(*zoom[0])
    axes[1].set_ylim(*zoom[1])
    axes[1].set_title("Lhasa city (zoom)")
    axes[1].legend(fontsize=6, loc="upper left", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_design(data_dir: Path, durations: list[int], temperature_c: float | None, vertiports: list[str] | None,
               aircraft: list[str] | None, time_limit_s: float) -> tuple[Menu, FlightData, dict[str, list[str]]]:
    """Load the data, design the menu, verify every product."""
    from optimizer.flight_routes import design_menu, load_flight_data
    data = load_flight_data(data_dir)
    menu = design_menu(data, durations, temperature_c, vertiports, aircraft, time_limit_s)
    return menu, data, verify_menu(menu, data)


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
    data_dir: Path = typer.Option(LHASA_DIR, "--data", help="directory with viewpoints.csv, vertiports.csv, "  # noqa: B008
                                  "aircraft_types.csv, airspace.geojson"),
    out: Path = typer.Option(Path("out/flights"), "--out", help="output directory"),  # noqa: B008
) -> None:
    """Design the sightseeing-flight product menu; print it and write products.csv, products.json, menu_map.png."""
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    try:
        menu, data, viol = run_design(data_dir, parse_durations(durations), None if isa else temperature_c,
                                      _ids(vertiports), _ids(aircraft), time_limit_s)
    except InvalidInput as e:
        _fail(str(e))
    except (OSError, json.JSONDecodeError) as e:
        _fail(f"{e}")
    out.mkdir(parents=True, exist_ok=True)
    d = menu_dict(menu, data, viol)
    (out / "products.json").write_text(json.dumps(d, ensure_ascii=False, indent=1), encoding="utf-8")
    with open(out / "products.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for p in d["products"]:
            w.writerow([";".join(p[c]) if c == "viewpoints" else p[c] for c in CSV_COLUMNS])
    draw_menu_map(menu, data, out / "menu_map.png")
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
    bad = {k: v for k, v in viol.items() if v}
    for v in bad.values():
        for msg in v:
            console.print(f"violation {msg}")
    console.print(f"Products         {len(d['products'])} routes, {len(d['unavailable'])} unavailable cells, "
                  f"{d['runtime_s']:.2f} s")
    console.print(f"Verifier         {'OK' if not bad else f'{sum(map(len, bad.values()))} violations'}")
    console.print(f"Outputs          {out}/ (products.csv, products.json, menu_map.png)")
    if bad:
        raise typer.Exit(1)

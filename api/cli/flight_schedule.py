"""``lhasa-ops flights schedule``: the day's sightseeing-flight schedule (issue 8, part B), with a Gantt chart.

    lhasa-ops flights schedule [--bookings CSV] [--products CSV] [--aircraft CSV] [--time-limit 20]
        [--workers 1] [--backend auto|cpsat|highs] [--step 5] [--seed 0] [--out out/flights]

Inputs (``#`` lines in CSVs are comments):

* bookings: ``id,product_id,party_size,open,close,desired`` (HH:MM); default
  ``instances/lhasa/flight_bookings_example.csv`` (synthetic, :mod:`optimizer.flight_demand`, seed 2026);
* products: ``id,vertiport_id,aircraft_type_id,block_min,score,viewpoints,distance_km`` (viewpoints
  ``;``-separated); default: the Lhasa menu designed by :func:`optimizer.flight_routes.design_menu` (15/30/60
  min classes at ``dagze_ga`` and ``damxung``, 15 degC);
* aircraft: ``id,type_id,vertiport_id,seats,open,close,turnaround_min,recharge_per_block_min``; default
  :func:`lhasa_fleet` (assumption, see there);
* vertiports: take-offs per slot, slot length and hours from ``instances/lhasa/vertiports.csv``.

Solves with :func:`models.flight_schedule.solve_flight_schedule`, checks with
:func:`optimizer.flight_schedule_verify.verify_flight_schedule`, prints the KPIs and the departures, and
writes ``schedule.json``, ``departures.csv``, ``unassigned.csv`` and ``gantt.png`` in ``--out``.
Exit codes: 0 success; 1 the verifier found violations (outputs still written); 2 bad input, reported
as ``error: <file> row <k>.<field>=<value>: <why>``.
"""

from __future__ import annotations

import csv
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import fail as _fail
from optimizer.domain import InvalidInput, fmt_clock, parse_clock

from instances.paths import LHASA_DIR as LHASA  # noqa: E402
DEFAULT_BOOKINGS = LHASA / "flight_bookings_example.csv"
LHASA_PORTS = ("dagze_ga", "damxung")
PRODUCT_COLUMNS = ("id", "vertiport_id", "aircraft_type_id", "block_min", "score", "viewpoints", "distance_km")
AIRCRAFT_COLUMNS = ("id", "type_id", "vertiport_id", "seats", "open", "close", "turnaround_min",
                    "recharge_per_block_min")


def _csv_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[str, dict[str, str]]]:
    with open(path, encoding="utf-8-sig") as fh:
        reader = csv.DictReader(line for line in fh if not line.lstrip().startswith("#"))
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput(f"{path.name}.columns", reader.fieldnames, f"missing column(s) {', '.join(missing)}")
        return [(f"{path.name} row {k}", r) for k, r in enumerate(reader, start=1)]


def _whole(where: str, r: dict[str, str], col: str) -> int:
    text = (r.get(col) or "").strip()
    try:
        v = float(text)
    except ValueError:
        raise InvalidInput(f"{where}.{col}", text, "must be a number") from None
    if not math.isfinite(v) or v != int(v):
        raise InvalidInput(f"{where}.{col}", text, "must be a whole number")
    return int(v)


def _number(where: str, r: dict[str, str], col: str) -> float:
    text = (r.get(col) or "").strip()
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{where}.{col}", text, "must be a number") from None


def _clock(where: str, r: dict[str, str], col: str) -> int:
    v = parse_clock(r.get(col) or "", f"{where}.{col}")
    if v != int(v):
        raise InvalidInput(f"{where}.{col}", r.get(col), "must be a whole minute")
    return int(v)


def _prefixed(where: str, e: InvalidInput) -> InvalidInput:
    return e if str(e.field).startswith(where) else InvalidInput(f"{where}.{e.field}", e.value, e.message)


def read_products_csv(path: Path | str) -> tuple:
    """Products from CSV (see the module docstring); ``InvalidInput`` names file, row and field."""
    from optimizer.flights_domain import FlightProduct
    out = []
    for where, r in _csv_rows(Path(path), PRODUCT_COLUMNS):
        try:
            vps = tuple(v.strip() for v in (r.get("viewpoints") or "").split(";") if v.strip())
            out.append(FlightProduct(r["id"].strip(), r["vertiport_id"].strip(), r["aircraft_type_id"].strip(),
                                     _whole(where, r, "block_min"), _number(where, r, "score"), vps,
                                     _number(where, r, "distance_km")))
        except InvalidInput as e:
            raise _prefixed(where, e) from None
    return tuple(out)


def read_aircraft_csv(path: Path | str) -> tuple:
    """Aircraft from CSV (see the module docstring); ``InvalidInput`` names file, row and field."""
    from optimizer.flights_domain import Aircraft
    out = []
    for where, r in _csv_rows(Path(path), AIRCRAFT_COLUMNS):
        try:
            out.append(Aircraft(r["id"].strip(), r["type_id"].strip(), r["vertiport_id"].strip(),
                                _whole(where, r, "seats"), (_clock(where, r, "open"), _clock(where, r, "close")),
                                _whole(where, r, "turnaround_min"), _number(where, r, "recharge_per_block_min")))
        except InvalidInput as e:
            raise _prefixed(where, e) from None
    return tuple(out)


def lhasa_vertiports() -> tuple[tuple, int]:
    """Vertiport capacities and hours of ``instances/lhasa/vertiports.csv`` and the common slot length (min).

    The model has one slot length; when the vertiports differ, the shortest is used and each capacity is
    scaled down proportionally (rounded down, at least 1), which never allows more take-offs than the file.
    """
    from models.flight_schedule import Vertiport
    from optimizer.flight_routes import load_vertiports
    vs = load_vertiports()
    slot = min(v.slot_min for v in vs.values())
    return tuple(Vertiport(v.id, max(1, v.takeoffs_per_slot * slot // v.slot_min), (v.open_min, v.close_min))
                 for v in vs.values()), slot


@lru_cache(maxsize=4)
def lhasa_menu(temperature_c: float = 15.0) -> tuple:
    """The Lhasa product menu (:func:`optimizer.flight_routes.design_menu`) at ``dagze_ga`` and ``damxung``."""
    from optimizer.flight_routes import design_menu, load_flight_data
    return design_menu(load_flight_data(), vertiports=list(LHASA_PORTS), temperature_c=temperature_c).products


def lhasa_fleet() -> tuple:
    """Default fleet for the Lhasa day (ASSUMPTION, no operator data): 4 eVTOL + 2 H125 helicopters.

    ``dagze_ga`` (拉萨通用机场, 达孜): evtol_1..3 and h125_1; ``damxung`` (当雄机场): evtol_4 and h125_2.
    Seats from ``instances/lhasa/aircraft_types.csv`` (evtol 4, h125 6 passengers). Each aircraft is
    available during its vertiport's hours. Ground time: eVTOL 10 min turnaround + 1.0 min recharge per
    minute flown (fast charge about as long as the flight, assumption); H125 15 min turnaround + 0.2 min
    refuel per minute flown (assumption).
    """
    from optimizer.flight_routes import load_aircraft_types, load_vertiports
    from optimizer.flights_domain import Aircraft
    seats = {k: t.seats for k, t in load_aircraft_types().items()}
    ports = load_vertiports()
    plan = (("evtol_1", "evtol", "dagze_ga"), ("evtol_2", "evtol", "dagze_ga"), ("evtol_3", "evtol", "dagze_ga"),
            ("h125_1", "h125", "dagze_ga"), ("evtol_4", "evtol", "damxung"), ("h125_2", "h125", "damxung"))
    ground = {"evtol": (10, 1.0), "h125": (15, 0.2)}
    return tuple(Aircraft(i, t, v, seats[t], (ports[v].open_min, ports[v].close_min), *ground[t]) for i, t, v in plan)


def build_problem(bookings: Path, products: Path | None, aircraft: Path | None, step_min: int) -> Any:
    """The :class:`FlightScheduleProblem` of the CLI inputs (raises ``InvalidInput``, ``OSError``)."""
    from models.flight_schedule import FlightScheduleProblem
    from optimizer.flight_demand import read_bookings_csv
    ports, slot = lhasa_vertiports()
    prods = read_products_csv(products) if products is not None else lhasa_menu()
    fleet = read_aircraft_csv(aircraft) if aircraft is not None else lhasa_fleet()
    return FlightScheduleProblem(prods, fleet, read_bookings_csv(bookings), ports, slot_min=slot,
                                 start_step_min=step_min)


def kpi_lines(problem: Any, schedule: Any) -> list[tuple[str, str]]:
    """Headline figures as (label, text) pairs."""
    from models.flight_schedule import schedule_to_dict
    k = schedule_to_dict(problem, schedule)["kpis"]
    nb = len(problem.bookings)
    gap = "n/a" if schedule.gap is None else f"{schedule.gap:.3%} (passengers {schedule.passengers_gap:.2%})"
    return [
        ("Bookings served", f"{k['bookings_served']} / {nb} ({100 * k['bookings_served'] / max(nb, 1):.1f}%)"),
        ("Passengers flown", f"{k['passengers']} / {k['passengers_requested']} requested"),
        ("Departures", f"{k['departures']}, seat load factor {100 * k['seat_load_factor']:.1f}%"),
        ("Mean |deviation|", f"{k['mean_abs_deviation_min']:.1f} min from the desired take-off"),
        ("Status", f"{schedule.status}, gap {gap}, {schedule.wall_s:.1f} s"),
    ]


def write_outputs(problem: Any, schedule: Any, violations: list[str], out: Path) -> None:
    """schedule.json, departures.csv, unassigned.csv and gantt.png in ``out``."""
    from models.flight_schedule import schedule_to_dict
    from optimizer.flight_gantt import draw_gantt
    out.mkdir(parents=True, exist_ok=True)
    doc = schedule_to_dict(problem, schedule)
    doc["violations"] = violations
    (out / "schedule.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    with open(out / "departures.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["aircraft_id", "product_id", "vertiport_id", "start", "land", "ready", "seats", "passengers",
                    "booking_ids"])
        for d in schedule.departures:
            w.writerow([d.aircraft_id, d.product_id, d.vertiport_id, fmt_clock(d.start_min), fmt_clock(d.land_min),
                        fmt_clock(d.ready_min), d.seats, d.passengers, ";".join(d.booking_ids)])
    with open(out / "unassigned.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["booking_id", "reason", "detail"])
        for u in schedule.unassigned:
            w.writerow([u.booking_id, u.reason, u.detail])
    draw_gantt(problem, schedule, out / "gantt.png")


def schedule(
    bookings: Path = typer.Option(DEFAULT_BOOKINGS, "--bookings", help="bookings CSV: id,product_id,party_size,open,close,desired"),  # noqa: B008
    products: Path | None = typer.Option(None, "--products", help="products CSV: " + ",".join(PRODUCT_COLUMNS) + " (default: the Lhasa menu, design_menu)"),  # noqa: B008
    aircraft: Path | None = typer.Option(None, "--aircraft", help="aircraft CSV: " + ",".join(AIRCRAFT_COLUMNS) + " (default: 4 eVTOL + 2 H125, lhasa_fleet)"),  # noqa: B008
    time_limit: float = typer.Option(20.0, "--time-limit", help="wall-clock limit of the solve (CP-SAT and/or HiGHS), seconds"),
    workers: int = typer.Option(1, "--workers", help="CP-SAT threads (HiGHS runs alongside with backend auto)"),
    backend: str = typer.Option("auto", "--backend", help="auto (CP-SAT and HiGHS at once) | cpsat | highs"),
    step: int = typer.Option(5, "--step", help="grid of candidate take-off times, minutes"),
    seed: int = typer.Option(0, "--seed", help="CP-SAT random seed"),
    out: Path = typer.Option(Path("out/flights"), "--out", help="output directory"),  # noqa: B008
) -> None:
    """Schedule the day's sightseeing-flight bookings on the fleet; write schedule.json, CSVs and gantt.png."""
    from models.flight_schedule import solve_flight_schedule
    from optimizer.flight_schedule_verify import verify_flight_schedule
    if not math.isfinite(time_limit) or time_limit <= 0:
        _fail(f"--time-limit must be a positive number of seconds, got {time_limit:g}")
    if workers < 1:
        _fail(f"--workers must be >= 1, got {workers}")
    if backend not in ("auto", "cpsat", "highs"):
        _fail(f"--backend must be auto, cpsat or highs, got {backend!r}")
    if not 1 <= step <= 120:
        _fail(f"--step must be within 1..120 minutes, got {step}")
    try:
        problem = build_problem(bookings, products, aircraft, step)
        result = solve_flight_schedule(problem, time_limit_s=time_limit, workers=workers, seed=seed, backend=backend)
    except InvalidInput as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"{e}")
    violations = verify_flight_schedule(problem, result)
    write_outputs(problem, result, violations, out)
    console = Console(highlight=False, width=150)
    for label, text in kpi_lines(problem, result):
        console.print(f"{label:<18}{text}", markup=False)
    books = {b.id: b for b in problem.bookings}
    table = Table(title="Departures", title_justify="left")
    for col in ("aircraft", "vertiport", "product", "take-off", "landing", "ready", "pax", "bookings (|deviation| min)"):
        table.add_column(col, no_wrap=col != "bookings (|deviation| min)")
    for d in result.departures:
        table.add_row(d.aircraft_id, d.vertiport_id, d.product_id.removeprefix(d.vertiport_id + "_"), fmt_clock(d.start_min), fmt_clock(d.land_min),
                      fmt_clock(d.ready_min), f"{d.passengers}/{d.seats}",
                      ", ".join(f"{b} ({abs(d.start_min - books[b].desired_min)})" for b in d.booking_ids))
    console.print(table)
    reasons: dict[str, int] = {}
    for u in result.unassigned:
        reasons[u.reason] = reasons.get(u.reason, 0) + 1
    console.print("Unassigned       " + (", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) or "none"),
                  markup=False)
    console.print(f"Solved by        {result.stats.get('source')} (backend {backend})", markup=False)
    console.print("Verifier         " + ("OK" if not violations else f"{len(violations)} violation(s)"), markup=False)
    console.print(f"Outputs          {out}/ (schedule.json, departures.csv, unassigned.csv, gantt.png)", markup=False)
    if violations:
        for v in violations:
            console.print(f"violation: {v}", markup=False)
        raise typer.Exit(1)


from api.cli.flights import flights_app

flights_app.command("schedule")(schedule)

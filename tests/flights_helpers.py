"""Test helpers shared by the flights tests: a copy of the embedded flight data in a temporary
folder, an edit of one CSV cell that keeps the file's comment lines, and the synthetic flight day
of the schedule, LNS and bound tests (``flight_day``)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from instances.paths import LHASA_DIR
from optimizer.flights import Aircraft, FlightProduct, ScheduleProblem, VertiportCapacity, random_bookings

FLIGHT_FILES = ("viewpoints.csv", "vertiports.csv", "aircraft_types.csv", "airspace.geojson")
DAY_PRODUCTS = (FlightProduct("g15", "ga", "ev", 15, 1.0), FlightProduct("g30", "ga", "hel", 30, 2.0),
                FlightProduct("d20", "dx", "ev", 20, 1.0))
"""The products of ``flight_day``: 15-min eVTOL and 30-min helicopter flights at ``ga``, 20-min eVTOL at ``dx``."""


def copy_flight_data(tmp_path: Path) -> Path:
    """``tmp_path`` holding copies of the embedded viewpoints, vertiports, aircraft types and airspace."""
    for f in FLIGHT_FILES:
        shutil.copy(LHASA_DIR / f, tmp_path / f)
    return tmp_path


def edit_csv_cell(path: Path, row: int, col: str, value: str) -> None:
    """Set data row ``row`` (0-based), column ``col`` of the CSV at ``path`` to ``value``."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    comments = [ln for ln in lines if ln.startswith("#")]
    rows = list(csv.DictReader(ln for ln in lines if not ln.startswith("#")))
    rows[row][col] = value
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.writelines(comments)
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def flight_day(n: int = 40, seed: int = 5, *, step: int = 5, close: int = 1080, twin_evtol: bool = True,
               products: tuple[FlightProduct, ...] = DAY_PRODUCTS) -> ScheduleProblem:
    """A synthetic flight day: ``n`` bookings (``random_bookings``, ``seed``) over 09:00..``close``
    (minutes) at two vertiports with one take-off per 15-min slot each. At ``ga`` an eVTOL ``e1``
    (and its twin ``e3`` when ``twin_evtol``: one slot row can bind) and a helicopter ``h1``; at
    ``dx`` an eVTOL ``e2`` from 09:30 to ``min(close, 17:30)``; departures every ``step`` minutes."""
    at_ga = (Aircraft("e1", "ev", "ga", 4, (540, close), 10, 1.0),)
    if twin_evtol:
        at_ga += (Aircraft("e3", "ev", "ga", 4, (540, close), 10, 1.0),)
    fleet = (*at_ga, Aircraft("h1", "hel", "ga", 6, (540, close), 15),
             Aircraft("e2", "ev", "dx", 4, (570, min(close, 1050)), 10, 1.0))
    books = random_bookings(products, n, seed=seed, day=(540, close))
    return ScheduleProblem(products, fleet, books, (VertiportCapacity("ga", 1), VertiportCapacity("dx", 1)),
                           slot_min=15, start_step_min=step)

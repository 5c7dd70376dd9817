"""Sightseeing-flight use cases shared by the HTTP API, the CLI and the bench.

* design: flight data (the embedded Lhasa data, loaded once per process, or a folder) ->
  ``DesignProblem`` -> ``solve`` -> ``verify`` -> :class:`DesignResult`; :func:`menu_document` is the
  JSON answer of ``POST /v1/flights/products`` and ``flights design``'s products.json;
* schedule: bookings, products and aircraft (files, request bodies, or the Lhasa defaults: the menu
  designed at ``dagze_ga`` and ``damxung`` (15/30/60 min, 15 degC), the assumed fleet
  ``instances.flights.lhasa_fleet`` and the capacities of ``instances/lhasa/vertiports.csv``) ->
  ``ScheduleProblem`` -> ``solve`` -> ``verify`` -> :class:`ScheduleResult`; :func:`schedule_document`
  is the JSON answer of ``POST /v1/flights/schedule`` and ``flights schedule``'s schedule.json.

The verifier's violations are returned with the result (never raised): the HTTP answer lists them and
the CLI exits 1. Bad input raises ``InvalidInput`` naming the field and the value (``RecordError``
for a file row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from instances.flights import (
    LHASA_PORTS,
    lhasa_fleet,
    lhasa_vertiport_capacities,
    load_flight_data,
    read_aircraft_csv,
    read_bookings_csv,
    read_products_csv,
)
from instances.paths import FLIGHT_BOOKINGS_CSV, LHASA_DIR
from optimizer.core.errors import check_time_limit_s
from optimizer.core.results import Violation
from optimizer.core.stop import MaxRuntime
from optimizer.flights import (
    Aircraft,
    Booking,
    DesignProblem,
    FlightData,
    FlightParams,
    FlightProduct,
    Menu,
    Schedule,
    ScheduleProblem,
    VertiportCapacity,
    solve,
    verify,
)
from optimizer.flights.report import menu_dict, schedule_dict

__all__ = ["DEFAULT_BOOKINGS", "LHASA_DIR", "DesignResult", "ScheduleResult", "design_menu", "flight_data",
           "lhasa_menu", "menu_document", "schedule_day", "schedule_document", "schedule_problem",
           "schedule_problem_from_files"]

DEFAULT_BOOKINGS = FLIGHT_BOOKINGS_CSV
"""The embedded example day: 100 synthetic bookings at dagze_ga and damxung."""
LHASA_MENU_TIME_LIMIT_S = 30.0
LHASA_SLOT_MIN = 15
"""Slot length of the Lhasa vertiports (``vertiports.csv``), used when a request lists its own products."""


@dataclass(frozen=True)
class DesignResult:
    """A designed menu with its problem and the verifier's violations (empty: valid)."""

    problem: DesignProblem
    menu: Menu
    violations: tuple[Violation, ...]


@dataclass(frozen=True)
class ScheduleResult:
    """A day's schedule with its problem and the verifier's violations (empty: valid)."""

    problem: ScheduleProblem
    schedule: Schedule
    violations: tuple[Violation, ...]


# ----------------------------------------------------------------------------------------------- design
@lru_cache(maxsize=1)
def _lhasa_flight_data() -> FlightData:
    return load_flight_data()


def flight_data(directory: Path | str | None = None) -> FlightData:
    """The flight data of ``directory`` (None or the embedded folder: loaded once per process)."""
    if directory is None or Path(directory).resolve() == LHASA_DIR.resolve():
        return _lhasa_flight_data()
    return load_flight_data(directory)


def design_menu(data: FlightData, durations_min: Sequence[int] = (15, 30, 60), temperature_c: float | None = 15.0,
                vertiports: Sequence[str] | None = None, aircraft_types: Sequence[str] | None = None,
                time_limit_s: float = 30.0) -> DesignResult:
    """Design the menu (exact, within ``time_limit_s`` seconds) and verify every product."""
    check_time_limit_s(time_limit_s)
    problem = DesignProblem(data, tuple(durations_min), temperature_c,
                            None if vertiports is None else tuple(vertiports),
                            None if aircraft_types is None else tuple(aircraft_types))
    menu = solve(problem, MaxRuntime(time_limit_s))
    return DesignResult(problem, menu, tuple(verify(problem, menu)))


def menu_document(result: DesignResult) -> dict[str, Any]:
    """``optimizer.flights.report.menu_dict`` plus ``violations``: per product id, the verifier's
    messages (empty lists = OK); violations of the menu as a whole under the key ``menu``."""
    doc = menu_dict(result.problem, result.menu)
    per: dict[str, list[str]] = {r.product.id: [] for r in result.menu.routes}
    for v in result.violations:
        per.setdefault(v.item_id if v.item_id in per else "menu", []).append(str(v))
    doc["violations"] = per
    return doc


@lru_cache(maxsize=4)
def lhasa_menu(temperature_c: float = 15.0) -> tuple[FlightProduct, ...]:
    """The Lhasa product menu: the design at ``dagze_ga`` and ``damxung`` (15/30/60 min classes).

    Raises ``RuntimeError`` if the verifier rejects it (a bug, never a default menu) or if the design
    ran out of its ``LHASA_MENU_TIME_LIMIT_S`` before proving every cell (then nothing is cached and
    the next call designs it again: a menu cut short would be missing products that bookings use)."""
    r = design_menu(flight_data(), (15, 30, 60), temperature_c, LHASA_PORTS, None, LHASA_MENU_TIME_LIMIT_S)
    if r.violations:
        raise RuntimeError(f"the Lhasa menu fails the verifier: {r.violations[0]}")
    cut = [u.item_id for u in r.menu.unserved if u.reason == "time_limit"]
    cut += [x.product.id for x in r.menu.routes if not x.optimal]
    if cut:  # never cache a menu the clock cut short (the lru_cache keeps no exception)
        raise RuntimeError(f"the Lhasa menu design hit its {LHASA_MENU_TIME_LIMIT_S:g} s limit before "
                           f"finishing {', '.join(cut)} (a heavily loaded machine); retry")
    return r.menu.products


# ----------------------------------------------------------------------------------------------- schedule
def schedule_problem(bookings: Sequence[Booking], products: Sequence[FlightProduct] | None = None,
                     aircraft: Sequence[Aircraft] | None = None,
                     vertiports: Sequence[VertiportCapacity] | None = None, slot_min: int | None = None,
                     start_step_min: int = 5, default_takeoffs_per_slot: int = 2) -> ScheduleProblem:
    """The day's ``ScheduleProblem``; left out (None): the Lhasa menu, the Lhasa fleet, and the
    vertiports of ``instances/lhasa/vertiports.csv`` when ``products`` is None (else none listed);
    ``slot_min`` None: the Lhasa vertiports' slot (15 min)."""
    slot = LHASA_SLOT_MIN
    if vertiports is None and products is None:
        ports, slot = lhasa_vertiport_capacities()
    else:
        ports = tuple(vertiports or ())
    return ScheduleProblem(lhasa_menu() if products is None else tuple(products),
                           lhasa_fleet() if aircraft is None else tuple(aircraft), tuple(bookings), ports,
                           slot_min=slot_min or slot, start_step_min=start_step_min,
                           default_takeoffs_per_slot=default_takeoffs_per_slot)


def schedule_problem_from_files(bookings: Path | str = DEFAULT_BOOKINGS, products: Path | str | None = None,
                                aircraft: Path | str | None = None, step_min: int = 5) -> ScheduleProblem:
    """The ``ScheduleProblem`` of ``flights schedule``'s files: bookings CSV, optional products and
    aircraft CSVs (None: the Lhasa menu and fleet), the Lhasa vertiport capacities."""
    ports, slot = lhasa_vertiport_capacities()
    return ScheduleProblem(read_products_csv(products) if products is not None else lhasa_menu(),
                           read_aircraft_csv(aircraft) if aircraft is not None else lhasa_fleet(),
                           read_bookings_csv(bookings), ports, slot_min=slot, start_step_min=step_min)


def schedule_day(problem: ScheduleProblem, time_limit_s: float, seed: int = 0,
                 params: FlightParams | None = None) -> ScheduleResult:
    """Schedule the day within ``time_limit_s`` seconds (model building included) and verify it."""
    check_time_limit_s(time_limit_s)
    schedule = solve(problem, MaxRuntime(time_limit_s), seed=seed, params=params)
    return ScheduleResult(problem, schedule, tuple(verify(problem, schedule)))


def schedule_document(result: ScheduleResult) -> dict[str, Any]:
    """``optimizer.flights.report.schedule_dict`` plus ``violations`` (the verifier's messages)."""
    doc = schedule_dict(result.problem, result.schedule)
    doc["violations"] = [str(v) for v in result.violations]
    return doc

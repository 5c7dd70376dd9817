"""``POST /v1/flights/schedule``: the day's sightseeing-flight schedule.

The request lists the bookings (party size, product, take-off window and desired time, HH:MM) and,
optionally, the products, the aircraft and the vertiport capacities; left out (null), they are the
Lhasa defaults of ``lhasa-ops flights schedule`` (:func:`api.services.flights.schedule_problem`: the
menu designed at ``dagze_ga`` and ``damxung``, the assumed fleet ``instances.flights.lhasa_fleet`` and
``instances/lhasa/vertiports.csv``). The answer is :func:`api.services.flights.schedule_document`
(``status``, ``kpis``, ``departures``, ``unassigned`` with reasons, ``stats``) plus the verifier's
``violations`` (empty for a valid schedule). Bad data (unknown product, duplicate id, window closing
before it opens, ...) raises ``InvalidInput`` -> HTTP 422 ``{"code": "invalid_input", "message", "field"}``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.http.limits import MAX_TIME_LIMIT_S, Budget, check_time_limit, default_time_limit
from api.http.security import require_api_key
from api.services import flights as service
from optimizer.core.clock import parse_clock
from optimizer.core.errors import InvalidInput
from optimizer.flights import (
    Aircraft,
    Booking,
    FlightParams,
    FlightProduct,
    ScheduleProblem,
    VertiportCapacity,
)

router = APIRouter(tags=["flights"])

MAX_BOOKINGS = 1000
MIN_START_STEP_MIN = 5
"""Finest take-off grid of a request (1 before issue 14 build 5): on a 1-minute grid building the
model and the greedy schedule alone take over 2 s for the Lhasa fleet, whatever the time limit;
at 5 minutes 1,000 bookings answer within 1.5 s with ``time_limit_s = 1`` (``bench/time_limits.py``).
Finer grids: the Python API or ``lhasa-ops flights schedule``."""
MAX_PRODUCTS = 100
MAX_AIRCRAFT = 50
MAX_SEED = 2**32 - 1
CLOCK = r"^\d{1,2}:\d{2}$"

EXAMPLE_BOOKING = {"id": "bk001", "product_id": "dagze_ga_evtol_30", "party_size": 3, "open": "10:00",
                   "close": "12:00", "desired": "11:00"}


class ProductIn(BaseModel):
    """A sightseeing flight on the menu."""

    model_config = ConfigDict(extra="forbid", strict=True)
    id: str = Field(..., min_length=1, max_length=64, description="Product id.", examples=["dagze_ga_evtol_30"])
    vertiport_id: str = Field(..., min_length=1, max_length=64, description="Take-off and landing vertiport.")
    aircraft_type_id: str = Field(..., min_length=1, max_length=64, description="Aircraft type that flies it.")
    block_min: StrictInt = Field(..., ge=1, le=600, description="Take-off to landing, whole minutes (1..600).")
    score: float = Field(0.0, ge=0, le=1e6, allow_inf_nan=False, description="Scenic score (informative), >= 0.")
    viewpoints: list[str] = Field(default_factory=list, max_length=50, description="Viewpoint ids in flying order.")
    distance_km: float = Field(0.0, ge=0, le=5000, allow_inf_nan=False, description="Flown distance, km.")


class AircraftIn(BaseModel):
    """One airframe of the day."""

    model_config = ConfigDict(extra="forbid", strict=True)
    id: str = Field(..., min_length=1, max_length=64, description="Tail id.", examples=["evtol_1"])
    type_id: str = Field(..., min_length=1, max_length=64, description="Aircraft type (matches products).")
    vertiport_id: str = Field(..., min_length=1, max_length=64, description="Base vertiport.")
    seats: StrictInt = Field(..., ge=1, le=100, description="Passenger seats (1..100).")
    open: str = Field("09:00", pattern=CLOCK, description="First take-off, HH:MM.")
    close: str = Field("19:00", pattern=CLOCK, description="Last landing, HH:MM (24:00 allowed).")
    turnaround_min: StrictInt = Field(15, ge=0, le=600, description="Ground minutes after each landing (0..600).")
    recharge_per_block_min: float = Field(0.0, ge=0, le=100, allow_inf_nan=False,
                                          description="Extra ground minutes per minute flown (recharge/refuel).")


class BookingIn(BaseModel):
    """A party that wants to fly one product in a take-off window."""

    model_config = ConfigDict(extra="forbid", strict=True)
    id: str = Field(..., min_length=1, max_length=64, description="Booking reference.")
    product_id: str = Field(..., min_length=1, max_length=64, description="Product booked.")
    party_size: StrictInt = Field(..., ge=1, le=100, description="Persons flying together (1..100).")
    open: str = Field(..., pattern=CLOCK, description="Earliest take-off, HH:MM.")
    close: str = Field(..., pattern=CLOCK, description="Latest take-off, HH:MM.")
    desired: str = Field(..., pattern=CLOCK, description="Preferred take-off, HH:MM, inside [open, close].")


class VertiportIn(BaseModel):
    """Take-off capacity and hours of one vertiport."""

    model_config = ConfigDict(extra="forbid", strict=True)
    id: str = Field(..., min_length=1, max_length=64, description="Vertiport id.")
    takeoffs_per_slot: StrictInt = Field(2, ge=1, le=1000, description="Take-offs per slot of slot_min minutes.")
    open: str = Field("00:00", pattern=CLOCK, description="Opening time, HH:MM.")
    close: str = Field("24:00", pattern=CLOCK, description="Closing time, HH:MM.")


class FlightScheduleRequest(BaseModel):
    """Schedule one day of sightseeing-flight bookings."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"bookings": [EXAMPLE_BOOKING, {"id": "bk002", "product_id": "dagze_ga_evtol_30", "party_size": 2,
                                        "open": "10:30", "close": "11:30", "desired": "11:00"}],
         "products": None, "aircraft": None, "vertiports": None, "time_limit_s": 5}]})

    bookings: list[BookingIn] = Field(..., min_length=1, max_length=MAX_BOOKINGS,
                                      description=f"The day's bookings (1..{MAX_BOOKINGS}).")
    products: list[ProductIn] | None = Field(None, max_length=MAX_PRODUCTS, description=(
        f"Product menu (<= {MAX_PRODUCTS}); null: the Lhasa menu (design_menu at dagze_ga and damxung, 15 degC)."))
    aircraft: list[AircraftIn] | None = Field(None, max_length=MAX_AIRCRAFT, description=(
        f"Fleet (<= {MAX_AIRCRAFT}); null: 4 eVTOL + 2 H125 at dagze_ga and damxung (assumption)."))
    vertiports: list[VertiportIn] | None = Field(None, max_length=50, description=(
        "Vertiport capacities; null: instances/lhasa/vertiports.csv when products is null, else none listed "
        "(every vertiport gets default_takeoffs_per_slot, open all day)."))
    slot_min: StrictInt | None = Field(None, ge=1, le=240, description=(
        "Capacity slot length, minutes (1..240); null: 15 (the Lhasa vertiports' slot)."))
    start_step_min: StrictInt = Field(5, ge=MIN_START_STEP_MIN, le=120, description=(
        f"Grid of candidate take-off times, minutes ({MIN_START_STEP_MIN}..120)."))
    default_takeoffs_per_slot: StrictInt = Field(2, ge=1, le=1000,
                                                 description="Capacity of vertiports not listed, take-offs per slot.")
    time_limit_s: float = Field(default_time_limit(10.0), gt=0, le=MAX_TIME_LIMIT_S, allow_inf_nan=False,
                                description=f"CP-SAT wall-clock limit, seconds (0 < x <= {MAX_TIME_LIMIT_S:g}); "
                                            "the request's model building counts against it.")
    workers: StrictInt = Field(1, ge=1, le=16, description="CP-SAT threads (1..16).")
    backend: Literal["auto", "cpsat", "highs"] = Field("auto", description=(
        "auto: CP-SAT and HiGHS branch and cut at once (better schedule, smaller proven bound); cpsat or highs "
        "alone."))
    seed: StrictInt = Field(0, ge=0, le=MAX_SEED, description="CP-SAT random seed (0..2^32-1).")


def _minute(text: str, field: str) -> int:
    v = parse_clock(text, field)
    if not 0 <= v <= 24 * 60:
        raise InvalidInput(field, text, "must be within 00:00..24:00")
    return int(v)


def build_request_problem(req: FlightScheduleRequest) -> ScheduleProblem:
    """The ``ScheduleProblem`` of a request (raises ``InvalidInput`` naming the field)."""
    bookings = tuple(Booking(b.id, b.product_id, b.party_size,
                             (_minute(b.open, f"bookings[{i}].open"), _minute(b.close, f"bookings[{i}].close")),
                             _minute(b.desired, f"bookings[{i}].desired"))
                     for i, b in enumerate(req.bookings))
    products = (None if req.products is None else
                tuple(FlightProduct(p.id, p.vertiport_id, p.aircraft_type_id, p.block_min, p.score,
                                    tuple(p.viewpoints), p.distance_km) for p in req.products))
    fleet = (None if req.aircraft is None else
             tuple(Aircraft(a.id, a.type_id, a.vertiport_id, a.seats,
                            (_minute(a.open, f"aircraft[{i}].open"), _minute(a.close, f"aircraft[{i}].close")),
                            a.turnaround_min, a.recharge_per_block_min) for i, a in enumerate(req.aircraft)))
    ports = (None if req.vertiports is None else
             tuple(VertiportCapacity(v.id, v.takeoffs_per_slot,
                                     (_minute(v.open, f"vertiports[{i}].open"), _minute(v.close, f"vertiports[{i}].close")))
                   for i, v in enumerate(req.vertiports)))
    return service.schedule_problem(bookings, products, fleet, ports, slot_min=req.slot_min,
                                    start_step_min=req.start_step_min,
                                    default_takeoffs_per_slot=req.default_takeoffs_per_slot)


@router.post("/v1/flights/schedule", dependencies=[Depends(require_api_key)])
def flight_schedule(req: FlightScheduleRequest) -> dict[str, Any]:
    """Schedule, verify and return the day's sightseeing flights (HTTP 422 ``invalid_input`` on bad data).

    Response: ``status`` ('optimal' | 'feasible' | 'no_solution_in_time'), ``kpis`` (bookings served,
    passengers flown / requested, departures, seat load factor, deviation minutes, objective, bound, gap,
    passengers bound and gap, wall seconds), ``departures`` (aircraft, product, vertiport, take-off /
    landing / ready minutes and HH:MM, seats, passengers, booking ids), ``unassigned`` (booking, reason
    in no_product | party_too_large | window | capacity | no_solution, detail), ``stats`` (model size)
    and ``violations`` (the independent verifier's; empty = valid).
    """
    budget = Budget(check_time_limit(req.time_limit_s))
    problem = build_request_problem(req)
    result = service.schedule_day(problem, budget.slice(), req.seed,
                                  FlightParams(backend=req.backend, workers=req.workers))
    return service.schedule_document(result)

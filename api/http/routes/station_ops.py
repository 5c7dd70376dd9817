"""``POST /v1/stations/charging-schedule`` and ``POST /v1/stations/oxygen-plan``.

Both work on a tour plan: ``groups`` (the group records of ``POST /v1/tours/plan``, planned here
with ``iterations`` ILS iterations, seed 0), ``plan`` (a ``plan.json`` document of ``lhasa-ops
plan``, read back and verified) or, with neither, the embedded demo day. The oxygen plan may also
take ``siting`` (a ``siting.json`` document of an oxygen siting): it then supplies exactly the
stations the siting chose. The use cases are ``api.services.station_ops`` (solve, then the
independent verifier: the ``verifier`` list is empty for a valid plan). Bad values (zero
chargers, a negative tariff, an unknown depot, two plan sources, ...) raise ``InvalidInput``,
which the app answers with HTTP 422 ``{"code": "invalid_input", "message", "field"}``. Vehicles or
stations that cannot be served are listed in ``unserved`` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.http.limits import MAX_TIME_LIMIT_S, check_time_limit, default_time_limit, time_limit_field_doc
from api.http.schemas import EXAMPLE_GROUP, MAX_STATION_GROUPS, GroupIn
from api.http.security import require_api_key
from api.services import station_ops as service
from api.services.tours import lhasa_network
from instances.demand import groups_from_records
from optimizer.core.clock import Deadline
from optimizer.core.errors import InvalidInput
from optimizer.core.serialize import json_safe
from optimizer.stations import oxygen as oxy

router = APIRouter(tags=["stations"])

MAX_VEHICLES = 500
"""Largest `max_vehicles` of a charging request (electric coaches scheduled at most)."""


GROUPS_DOC = (f"Tour groups to plan first (the records of POST /v1/tours/plan, at most {MAX_STATION_GROUPS}); null: "
              "the embedded demo day. Give at most one of groups and plan.")
PLAN_DOC = ("A plan.json document written by 'lhasa-ops plan' (routes plus the groups it was planned for), "
            "read back and verified instead of planning; null: plan the groups or the demo day.")


class PlanSourceFields(BaseModel):
    """The tour plan a station tool works on: ``groups`` or ``plan`` (null both: the demo day)."""

    groups: list[GroupIn] | None = Field(None, max_length=MAX_STATION_GROUPS, description=GROUPS_DOC)
    plan: dict[str, Any] | None = Field(None, description=PLAN_DOC)


class ChargingRequest(PlanSourceFields):
    """Schedule the electric coaches of a tour plan (the demo day, ``groups`` or ``plan``) at the
    charging stations (CP-SAT)."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"temperature_c": -5.0, "tariff": "0-8:0.35,8-17:0.7,17-22:1.05,22-24:0.35", "chargers": 4,
         "charger_kw": 120.0, "grid_kw": 300.0, "max_vehicles": 50, "coach_min_size": 20, "existing_only": False,
         "time_limit_s": 30, "iterations": 2000, "include_sessions": True},
        {"groups": [EXAMPLE_GROUP], "iterations": 200, "max_vehicles": 10, "time_limit_s": 20,
         "include_sessions": False}]})

    temperature_c: float = Field(-5.0, ge=-60, le=60, allow_inf_nan=False,
                                 description="Ambient temperature, degC (-60..60): battery derating and heating.")
    tariff: str | None = Field(None, max_length=500,
                               description="Time-of-use tariff 'START-END:PRICE,...': bands of hours that cover "
                                           "0-24 without gap or overlap, prices 0..1000 CNY/kWh, e.g. "
                                           "'0-8:0.35,8-17:0.7,17-22:1.05,22-24:0.35' (null: the placeholder tariff).")
    chargers: StrictInt = Field(4, ge=1, le=100, description="Connectors per station (1..100).")
    charger_kw: float = Field(120.0, gt=0, le=1000, allow_inf_nan=False,
                              description="Power per connector, kW (0 < x <= 1000).")
    grid_kw: float = Field(300.0, gt=0, le=100_000, allow_inf_nan=False,
                           description="Grid connection cap per station, kW (0 < x <= 100000).")
    max_vehicles: StrictInt = Field(50, ge=1, le=MAX_VEHICLES, description="Electric coaches scheduled at most, vehicles "
                                                                   "(1..500).")
    coach_min_size: StrictInt = Field(20, ge=1, le=10_000, description="Smallest group that travels by electric "
                                                                       "coach, persons (1..10000).")
    existing_only: bool = Field(False, description="Charge only at stations that exist today (no planned ones).")
    time_limit_s: float = Field(default_time_limit(30.0), gt=0, le=MAX_TIME_LIMIT_S, allow_inf_nan=False,
                                description=time_limit_field_doc(default_time_limit(30.0)))
    iterations: StrictInt = Field(2000, ge=0, le=100_000,
                                  description="ILS iterations of the tour plan the coaches come from (demo day "
                                              "or groups; 0..100000); the time limit still applies.")
    include_sessions: bool = Field(True, description="List every (vehicle, slot) charging decision in "
                                                     "'sessions' (false: leave the list out).")
    max_delay_min: int = Field(60, ge=0, le=240, description="longest departure delay per coach at one charging "
                                                             "stop, minutes (0: the tour plan's times are fixed)")
    lateness_cny_per_min: float = Field(5.0, ge=0, le=1000, allow_inf_nan=False,
                                        description="policy weight of one minute of lateness against the tour "
                                                    "plan, CNY/min (not a measured cost)")


class OxygenRequest(PlanSourceFields):
    """Plan a week of oxygen-cylinder deliveries (inventory routing) for the demand of a tour plan
    (the demo day, ``groups`` or ``plan``) or of an oxygen ``siting``."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"method": "auto", "trucks": 3, "truck_capacity": 40, "shift_min": 600.0, "depot": "lhasa_railway",
         "lookahead": None, "time_limit_s": 30, "safety_days": 1.0, "safety_min_cylinders": 1, "iterations": 2000},
        {"groups": [EXAMPLE_GROUP], "method": "policy", "iterations": 200, "time_limit_s": 20}]})

    method: Literal["auto", "exact", "policy"] = Field(
        "auto", description="'exact': CP-SAT inventory-routing model (proven bound); 'policy': order-up-to with "
                            "lookahead and savings routes (fast); 'auto': exact for at most 8 stations, else policy.")
    trucks: StrictInt = Field(3, ge=oxy.MIN_TRUCKS, le=oxy.MAX_TRUCKS,
                              description=f"Delivery trucks available per day ({oxy.MIN_TRUCKS}..{oxy.MAX_TRUCKS}).")
    truck_capacity: StrictInt = Field(40, ge=1, le=oxy.MAX_TRUCK_CAPACITY,
                                      description=f"Cylinders per truck load (1..{oxy.MAX_TRUCK_CAPACITY}).")
    shift_min: float = Field(600.0, gt=0, le=oxy.MAX_SHIFT_MIN, allow_inf_nan=False,
                             description="Longest truck shift (route duration), minutes "
                                         f"(0 < x <= {oxy.MAX_SHIFT_MIN:g}).")
    depot: str = Field("lhasa_railway", min_length=1, max_length=64,
                       description="Site id the trucks load at (see /v1/instances/lhasa/sites).")
    lookahead: StrictInt | None = Field(None, ge=0, le=oxy.MAX_LOOKAHEAD,
                                        description="policy: days of demand a refill looks ahead "
                                                    f"(0..{oxy.MAX_LOOKAHEAD}; null: try 0..3 and keep the best).")
    time_limit_s: float = Field(default_time_limit(60.0), gt=0, le=MAX_TIME_LIMIT_S, allow_inf_nan=False,
                                description=time_limit_field_doc(default_time_limit(60.0)))
    safety_days: float = Field(1.0, ge=0, le=oxy.MAX_SAFETY_DAYS, allow_inf_nan=False,
                               description="Safety stock = this x the station's largest daily demand, days "
                                           f"(0..{oxy.MAX_SAFETY_DAYS:g}; "
                                           "default 1: every station ends each day with at least its busiest "
                                           "day's demand).")
    safety_min_cylinders: StrictInt = Field(1, ge=0, le=oxy.MAX_SAFETY_MIN,
                                            description="Smallest safety stock of a station with demand, cylinders "
                                                        f"(0..{oxy.MAX_SAFETY_MIN}).")
    siting: dict[str, Any] | None = Field(
        None, description="A siting.json document of an oxygen siting ('lhasa-ops stations site --kind oxygen' or "
                          "POST /v1/stations/siting): supply exactly its chosen stations, each with the demand of "
                          "the sites it covers (the siting's own demand unless groups or plan is given too).")
    iterations: StrictInt = Field(2000, ge=0, le=100_000,
                                  description="ILS iterations of the tour plan the demand is derived from (demo "
                                              "day or groups; 0..100000); the time limit still applies.")


def _groups(req: PlanSourceFields) -> list[dict[str, Any]] | None:
    return None if req.groups is None else [g.model_dump() for g in req.groups]


@router.post("/v1/stations/charging-schedule", dependencies=[Depends(require_api_key)])
def charging_schedule(req: ChargingRequest) -> dict[str, Any]:
    """Status, energy cost, proven gap, per-vehicle SoC (kWh, end of each slot), station load (kW), unserved.

    Response keys: ``status`` (optimal, feasible, no_solution_in_time, infeasible),
    ``energy_cost_cny``, ``objective_cny`` and ``bound_cny`` (CNY/day), ``gap`` (fraction),
    ``wall_s`` (solver seconds), ``vehicles`` (per electric coach: id, group, route, km, kWh, ...),
    ``unserved`` (vehicles that cannot stay above the SoC floor: short_kwh, ``reason`` word and
    ``detail``), ``delays``, ``lateness_min_total``, ``lateness_cost_cny``, ``stations`` (site ids),
    ``slot_min`` (minutes per slot), ``tariff`` (CNY/kWh per slot), ``sessions`` (vehicle, station,
    slot, ``start_min`` minutes from midnight, ``grid_kwh`` kWh, ``price`` CNY/kWh), ``verifier``
    (broken rules; empty: valid), ``stats``, ``params`` (temperature_c degC, chargers, charger_kw kW,
    grid_kw kW, ...), ``soc_kwh`` (vehicle -> kWh at the end of each slot) and ``station_load_kw``
    (station -> kW per slot). ``time_limit_s`` covers planning the tours (at most half of it),
    construction and the CP-SAT solve.
    """
    deadline = Deadline(check_time_limit(req.time_limit_s))
    options = service.ChargingOptions(
        temperature_c=req.temperature_c, tariff=req.tariff, chargers=req.chargers, charger_kw=req.charger_kw,
        grid_kw=req.grid_kw, max_vehicles=req.max_vehicles, coach_min_size=req.coach_min_size,
        existing_only=req.existing_only, max_delay_min=req.max_delay_min,
        lateness_cny_per_min=req.lateness_cny_per_min)
    tour = service.tour_plan(lhasa_network(), groups=_groups(req), plan=req.plan, iterations=req.iterations,
                             deadline=deadline)
    run = service.schedule_charging(*tour, options, service.solver_stop(req.time_limit_s, deadline))
    return json_safe(run.document(include_sessions=req.include_sessions), nonfinite="null")


@router.post("/v1/stations/oxygen-plan", dependencies=[Depends(require_api_key)])
def oxygen_plan(req: OxygenRequest) -> dict[str, Any]:
    """Status, method, cost, min stock margin, stock-outs, truck routes per day, stock per station and day.

    Response keys: ``status``, ``method`` (exact or policy), ``routing_cost_cny``,
    ``holding_cost_cny``, ``total_cost_cny``, ``bound_cny`` (CNY over the horizon),
    ``min_margin_cylinders`` and ``stockout_cylinders`` (cylinders), ``wall_s`` (solver seconds),
    ``stations`` (per station: the sites it serves, demand in cylinders/day, capacity, safety, ...),
    ``stations_from`` (stations.csv or siting), ``uncovered_sites`` (demand sites outside the
    siting's coverage), ``depot``, ``routes`` (day, truck, stops, ``delivered`` cylinders per stop,
    ``km`` km, ``minutes`` min), ``stock`` (station -> cylinders at the end of each day),
    ``unserved`` (station, day, cylinders, ``reason`` word, ``detail``), ``verifier`` (empty:
    valid), ``stats``, ``params``, ``safety_stock`` (cylinders) and ``safety_breaches``.
    ``time_limit_s`` covers planning the tours (at most half of it), construction and the solve.
    For long plans use the job form ``POST /v1/jobs/oxygen-plan``.
    """
    return oxygen_doc(req, Deadline(check_time_limit(req.time_limit_s)))


def check_oxygen_request(req: OxygenRequest) -> None:
    """The checks of ``oxygen_doc`` that need no solve (the options, one plan source, the group
    records, the ``siting`` document), so that ``POST /v1/jobs/oxygen-plan`` answers 422 at once
    instead of queuing a job that fails (``siting.kind = 'charger'`` was a 202 and a failed job).
    Raises ``InvalidInput`` as ``oxygen_doc`` would."""
    net = lhasa_network()
    service.OxygenOptions(method=req.method, trucks=req.trucks, truck_capacity=req.truck_capacity,
                          shift_min=req.shift_min, depot=req.depot, lookahead=req.lookahead,
                          safety_days=req.safety_days, safety_min_cylinders=req.safety_min_cylinders)
    if req.siting is not None:
        service.read_siting(req.siting, net)
    if req.groups is not None and req.plan is not None:
        raise InvalidInput("groups", f"<{len(req.groups)} group records>",
                           "give at most one plan source; plan and groups were given")
    if req.groups is not None:
        groups_from_records(_groups(req) or [], net, source="groups")


def oxygen_doc(req: OxygenRequest, deadline: Deadline, planned: Callable[[], None] | None = None) -> dict[str, Any]:
    """The oxygen plan document of ``req`` within ``deadline`` (also run by the job runner, which
    passes ``planned``: called once the tour plan is done)."""
    net = lhasa_network()
    options = service.OxygenOptions(method=req.method, trucks=req.trucks, truck_capacity=req.truck_capacity,
                                    shift_min=req.shift_min, depot=req.depot, lookahead=req.lookahead,
                                    safety_days=req.safety_days, safety_min_cylinders=req.safety_min_cylinders)
    choice = service.read_siting(req.siting, net) if req.siting is not None else None
    tour = None
    if choice is None or req.groups is not None or req.plan is not None:
        tour = service.tour_plan(net, groups=_groups(req), plan=req.plan, iterations=req.iterations,
                                 deadline=deadline)
    if planned is not None:
        planned()
    run = service.plan_oxygen(net, options, service.solver_stop(req.time_limit_s, deadline), tour=tour,
                              siting=choice)
    return json_safe(run.document(), nonfinite="null")

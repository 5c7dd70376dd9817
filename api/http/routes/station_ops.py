"""``POST /v1/stations/charging-schedule`` and ``POST /v1/stations/oxygen-plan`` (issue 6).

Both plan the embedded demo day (``iterations`` ILS iterations, seed 0), build the problem with
``optimizer.station_ops``, solve and re-check with ``optimizer.station_ops_verify`` (the
``verifier`` list is empty for a valid plan). Bad values (zero chargers, a negative tariff, an
unknown depot, ...) raise ``InvalidInput``, which the app answers with HTTP 422
``{"code": "invalid_input", "message", "field"}``. Vehicles or stations that cannot be served
are listed in ``unserved`` with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.http.limits import (
    MAX_TIME_LIMIT_S,
    Budget,
    check_time_limit,
    default_time_limit,
    demo_day,
    time_limit_field_doc,
)
from api.http.security import require_api_key
from api.cli.station_ops import run_charging, run_oxygen
from api.cli.stations import _json_safe

router = APIRouter(tags=["stations"])


class ChargingRequest(BaseModel):
    """Schedule the demo day's electric coaches at the charging stations (CP-SAT)."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"temperature_c": -5.0, "tariff": "0-8:0.35,8-17:0.7,17-22:1.05,22-24:0.35", "chargers": 4,
         "charger_kw": 120.0, "grid_kw": 300.0, "max_vehicles": 50, "coach_min_size": 20, "existing_only": False,
         "time_limit_s": 30, "iterations": 2000, "include_sessions": True}]})

    temperature_c: float = Field(-5.0, ge=-60, le=60, allow_inf_nan=False,
                                 description="Ambient temperature, degC (-60..60): battery derating and heating.")
    tariff: str | None = Field(None, max_length=500,
                               description="Time-of-use tariff 'START-END:PRICE,...': hours 0-24 and CNY/kWh, e.g. "
                                           "'0-8:0.35,8-17:0.7,17-22:1.05,22-24:0.35' (null: the placeholder tariff).")
    chargers: StrictInt = Field(4, ge=1, le=100, description="Connectors per station (1..100).")
    charger_kw: float = Field(120.0, gt=0, le=1000, allow_inf_nan=False,
                              description="Power per connector, kW (0 < x <= 1000).")
    grid_kw: float = Field(300.0, gt=0, le=100_000, allow_inf_nan=False,
                           description="Grid connection cap per station, kW (0 < x <= 100000).")
    max_vehicles: StrictInt = Field(50, ge=1, le=500, description="Electric coaches scheduled at most, vehicles "
                                                                   "(1..500).")
    coach_min_size: StrictInt = Field(20, ge=1, le=10_000, description="Smallest group that travels by electric "
                                                                       "coach, persons (1..10000).")
    existing_only: bool = Field(False, description="Charge only at stations that exist today (no planned ones).")
    time_limit_s: float = Field(default_time_limit(30.0), gt=0, le=MAX_TIME_LIMIT_S, allow_inf_nan=False,
                                description=time_limit_field_doc(default_time_limit(30.0)))
    iterations: StrictInt = Field(2000, ge=0, le=100_000,
                                  description="ILS iterations of the demo-day tour plan the coaches come from "
                                              "(0..100000); the time limit still applies.")
    include_sessions: bool = Field(True, description="List every (vehicle, slot) charging decision in "
                                                     "'sessions' (false: leave the list out).")
    max_delay_min: int = Field(60, ge=0, le=240, description="longest departure delay per coach at one charging "
                                                             "stop, minutes (0: the tour plan's times are fixed)")
    lateness_cny_per_min: float = Field(5.0, ge=0, le=1000, allow_inf_nan=False,
                                        description="policy weight of one minute of lateness against the tour "
                                                    "plan, CNY/min (not a measured cost)")


class OxygenRequest(BaseModel):
    """Plan a week of oxygen-cylinder deliveries (inventory routing) for the demo day's demand."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"method": "auto", "trucks": 3, "truck_capacity": 40, "shift_min": 600.0, "depot": "lhasa_railway",
         "lookahead": None, "time_limit_s": 30, "safety_days": 0.0, "iterations": 2000}]})

    method: Literal["auto", "exact", "policy"] = Field(
        "auto", description="'exact': CP-SAT inventory-routing model (proven bound); 'policy': order-up-to with "
                            "lookahead and savings routes (fast); 'auto': exact for at most 8 stations, else policy.")
    trucks: StrictInt = Field(3, ge=0, le=100, description="Delivery trucks available per day (0..100).")
    truck_capacity: StrictInt = Field(40, ge=1, le=10_000, description="Cylinders per truck load (1..10000).")
    shift_min: float = Field(600.0, gt=0, le=1440, allow_inf_nan=False,
                             description="Longest truck shift (route duration), minutes (0 < x <= 1440).")
    depot: str = Field("lhasa_railway", min_length=1, max_length=64,
                       description="Site id the trucks load at (see /v1/instances/lhasa/sites).")
    lookahead: StrictInt | None = Field(None, ge=0, le=30,
                                        description="policy: days of demand a refill looks ahead (0..30; null: try "
                                                    "0..3 and keep the best).")
    time_limit_s: float = Field(default_time_limit(60.0), gt=0, le=MAX_TIME_LIMIT_S, allow_inf_nan=False,
                                description=time_limit_field_doc(default_time_limit(60.0)))
    safety_days: float = Field(0.0, ge=0, le=365, allow_inf_nan=False,
                               description="Safety stock = this x the station's largest daily demand, days (0..365).")
    iterations: StrictInt = Field(2000, ge=0, le=100_000,
                                  description="ILS iterations of the demo-day tour plan the demand is derived from "
                                              "(0..100000); the time limit still applies.")


def _clean(d: Any) -> Any:
    d = _json_safe(d)
    if isinstance(d, dict):
        return {k: _clean(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_clean(v) for v in d]
    if isinstance(d, float) and not math.isfinite(d):
        return None
    return d


@router.post("/v1/stations/charging-schedule", dependencies=[Depends(require_api_key)])
def charging_schedule(req: ChargingRequest) -> dict[str, Any]:
    """Status, energy cost, proven gap, per-vehicle SoC (kWh, end of each slot), station load (kW), unserved.

    Response keys: ``status`` (optimal, feasible, time_limit_no_incumbent, infeasible),
    ``energy_cost_cny`` and ``bound_cny`` (CNY/day), ``gap`` (fraction), ``wall_s`` (solver seconds),
    ``vehicles`` (per electric coach: id, battery kWh, ...), ``unserved`` (vehicles that cannot stay
    above the SoC floor, with the reason), ``stations`` (site ids), ``slot_min`` (minutes per slot),
    ``tariff`` (CNY/kWh per slot), ``sessions`` (vehicle, station, slot, ``start_min`` minutes from
    midnight, ``grid_kwh`` kWh, ``price`` CNY/kWh), ``verifier`` (broken rules; empty: valid),
    ``stats``, ``params`` (temperature_c degC, chargers, charger_kw kW, grid_kw kW, ...),
    ``soc_kwh`` (vehicle -> kWh at the end of each slot) and ``station_load_kw`` (station -> kW per
    slot). ``time_limit_s`` covers the demo-day plan, construction and the CP-SAT solve.
    """
    budget = Budget(check_time_limit(req.time_limit_s))
    problem, plan = demo_day(req.iterations, budget)
    req = req.model_copy(update={"time_limit_s": budget.slice()})  # the solver gets what is left
    run = run_charging(problem, plan, req.temperature_c, req.tariff, req.chargers, req.charger_kw, req.grid_kw,
                       req.max_vehicles, req.coach_min_size, req.existing_only, req.time_limit_s,
                       max_delay_min=req.max_delay_min, lateness_cny_per_min=req.lateness_cny_per_min)
    doc, cp, res = run["doc"], run["problem"], run["result"]
    if not req.include_sessions:
        doc.pop("sessions", None)
    if res.has_solution:
        doc["soc_kwh"] = {v.id: list(res.soc_kwh[n]) for n, v in enumerate(cp.vehicles)}
        load = res.station_load_kw(cp)
        doc["station_load_kw"] = {s.id: [float(x) for x in load[k]] for k, s in enumerate(cp.stations)
                                  if load[k].max() > 0}
    return _clean(doc)


@router.post("/v1/stations/oxygen-plan", dependencies=[Depends(require_api_key)])
def oxygen_plan(req: OxygenRequest) -> dict[str, Any]:
    """Status, method, cost, min stock margin, stock-outs, truck routes per day, stock per station and day.

    Response keys: ``status``, ``method`` (exact or policy), ``routing_cost_cny``,
    ``holding_cost_cny``, ``total_cost_cny``, ``bound_cny`` (CNY over the horizon),
    ``min_margin_cylinders`` and ``stockout_cylinders`` (cylinders), ``wall_s`` (solver seconds),
    ``stations`` (per station: demand in cylinders/day, capacity, ...), ``depot``, ``routes`` (day,
    truck, stops, ``delivered`` cylinders per stop, ``km`` km, ``minutes`` min), ``stock`` (station
    -> cylinders at the end of each day), ``unserved``, ``verifier`` (empty: valid), ``stats``,
    ``safety_stock`` (cylinders) and ``safety_breaches``. ``time_limit_s`` covers the demo-day plan,
    construction and the solve. For long plans use the job form ``POST /v1/jobs/oxygen-plan``.
    """
    return oxygen_doc(req, Budget(check_time_limit(req.time_limit_s)))


def oxygen_doc(req: OxygenRequest, budget: Budget, planned: Callable[[], None] | None = None) -> dict[str, Any]:
    """The oxygen plan document of ``req`` within ``budget`` (also run by the job runner, which
    passes ``planned``: called once the demo-day plan is done)."""
    problem, plan = demo_day(req.iterations, budget)
    if planned is not None:
        planned()
    run = run_oxygen(problem, plan, req.method, req.trucks, req.truck_capacity, req.shift_min, req.depot,
                     req.lookahead, budget.slice(), req.safety_days)
    return _clean(run["doc"])

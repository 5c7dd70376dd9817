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
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.security import require_api_key
from api.station_ops_cli import plan_demo_day, run_charging, run_oxygen
from api.stations_cli import _json_safe

router = APIRouter(tags=["stations"])


class ChargingRequest(BaseModel):
    temperature_c: float = Field(-5.0, description="ambient temperature, degC")
    tariff: str | None = Field(None, description="TOU bands 'START-END:CNY/kWh,...' (default placeholder)")
    chargers: int = Field(4, description="connectors per station (>= 1)")
    charger_kw: float = Field(120.0, description="power per connector, kW")
    grid_kw: float = Field(300.0, description="grid cap per station, kW")
    max_vehicles: int = Field(50, ge=1, le=500)
    coach_min_size: int = Field(20, ge=1)
    existing_only: bool = False
    time_limit_s: float = Field(30.0, gt=0, le=300)
    iterations: int = Field(2000, ge=0, le=100_000)
    include_sessions: bool = Field(True, description="list every (vehicle, slot) charging decision")
    max_delay_min: int = Field(60, ge=0, le=240, description="longest departure delay per coach at one charging "
                                                             "stop, minutes (0: the tour plan's times are fixed)")
    lateness_cny_per_min: float = Field(5.0, ge=0, le=1000, allow_inf_nan=False,
                                        description="policy weight of one minute of lateness against the tour "
                                                    "plan, CNY/min (not a measured cost)")


class OxygenRequest(BaseModel):
    method: Literal["auto", "exact", "policy"] = "auto"
    trucks: int = Field(3, ge=0)
    truck_capacity: int = Field(40, ge=1)
    shift_min: float = Field(600.0, gt=0)
    depot: str = "lhasa_railway"
    lookahead: int | None = Field(None, ge=0, description="policy lookahead days (None: try 0..3, keep best)")
    time_limit_s: float = Field(60.0, gt=0, le=300)
    safety_days: float = Field(0.0, ge=0, le=365, description="safety stock = this x the largest daily demand, days")
    iterations: int = Field(2000, ge=0, le=100_000)


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
    """Status, energy cost, proven gap, per-vehicle SoC (kWh, end of each slot), station load (kW), unserved."""
    problem, plan = plan_demo_day(req.iterations)
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
    """Status, method, cost, min stock margin, stock-outs, truck routes per day, stock per station and day."""
    problem, plan = plan_demo_day(req.iterations)
    run = run_oxygen(problem, plan, req.method, req.trucks, req.truck_capacity, req.shift_min, req.depot,
                     req.lookahead, req.time_limit_s, req.safety_days)
    return _clean(run["doc"])

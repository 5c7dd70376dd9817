"""``POST /v1/stations/siting``: site oxygen stations (MCLP) or EV chargers (FRLM) for the demo day.

The request names the kind, p and the model parameters; the service plans the embedded demo day
(``instances/lhasa/demand_peak_day.csv``, ``iterations`` ILS iterations, seed 0), derives the
demand (``optimizer.stations``) and solves p = 1..p_max to optimality, all within
``time_limit_s`` (``api.http.limits``: the demo-day plan takes at most half of it, the p_max solves
share the rest). Bad values (p = 0, p larger than the candidates, range <= 0, ...) raise
``InvalidInput``, which the app answers with HTTP 422 ``{"code": "invalid_input", "message", "field"}``.
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.http.limits import (
    MAX_TIME_LIMIT_S,
    Budget,
    check_time_limit,
    default_time_limit,
    demo_day,
    network,
    time_limit_field_doc,
)
from api.http.security import require_api_key

router = APIRouter(tags=["stations"])

MAX_P = 100


class SitingRequest(BaseModel):
    """Site p oxygen stations or EV chargers for the demo day's tour traffic."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"kind": "oxygen", "p": 3, "threshold_min": 30.0, "backend": "cpsat", "iterations": 2000, "p_max": 10,
         "time_limit_s": 30},
        {"kind": "charger", "p": 2, "range_km": 300.0, "temperature_c": -5.0, "ev_share": 0.2, "min_path_km": 0.0,
         "backend": "cpsat", "iterations": 2000, "p_max": 5, "time_limit_s": 30}]})

    kind: Literal["oxygen", "charger"] = Field(description="'oxygen': maximal covering of oxygen demand (MCLP); "
                                                           "'charger': flow refuelling of EV round trips (FRLM).")
    p: StrictInt = Field(..., ge=1, le=MAX_P, description="Number of stations to open (1..number of candidate "
                                                          "sites: 23 oxygen, 22 charger; more is HTTP 422).")
    threshold_min: float = Field(30.0, gt=0, le=1440, allow_inf_nan=False,
                                 description="oxygen: coverage threshold, road minutes from a site to its station.")
    range_km: float = Field(300.0, gt=0, le=2000, allow_inf_nan=False,
                            description="charger: nominal EV range, km (derated for temperature and elevation).")
    temperature_c: float = Field(-5.0, ge=-60, le=60, allow_inf_nan=False,
                                 description="charger: ambient temperature, degC (-60..60).")
    ev_share: float = Field(0.2, ge=0, le=1, allow_inf_nan=False,
                            description="charger: share of tour vehicles that are EVs, fraction 0..1.")
    min_path_km: float = Field(0.0, ge=0, le=1000, allow_inf_nan=False,
                               description="charger: drop O-D round trips shorter than this, km.")
    backend: Literal["cpsat", "pulp"] = Field("cpsat", description="MILP solver: OR-Tools CP-SAT or CBC via PuLP.")
    iterations: StrictInt = Field(2000, ge=0, le=100_000,
                                  description="ILS iterations of the demo-day tour plan the demand is derived from "
                                              "(0..100000); the time limit still applies.")
    p_max: StrictInt | None = Field(None, ge=1, le=MAX_P,
                                    description="Marginal curve for p = 1..p_max stations (p <= p_max <= candidates; "
                                                "null: max(p, 10), at most the candidates).")
    time_limit_s: float = Field(default_time_limit(30.0), gt=0, le=MAX_TIME_LIMIT_S, allow_inf_nan=False,
                                description=time_limit_field_doc(default_time_limit(30.0)))


class MarginalPoint(BaseModel):
    p: int = Field(description="Number of stations.")
    objective: float | None = Field(description="Covered demand at this p (unit as ``unit``); null: no solution.")
    covered_pct: float | None = Field(description="Covered share, % of ``total``.")
    gain: float | None = Field(description="Objective gained over p - 1 (unit as ``unit``).")
    status: str = Field(description="optimal, feasible, time_limit_no_incumbent or infeasible.")
    wall_s: float = Field(description="Solve time, seconds.")


class SitingResponse(BaseModel):
    kind: str = Field(description="oxygen or charger.")
    p: int = Field(description="Number of stations opened.")
    chosen: list[str] = Field(description="Site ids of the chosen stations.")
    existing_chosen: list[str] = Field(description="The chosen stations that already exist.")
    covered: float = Field(description="Demand covered (oxygen: L/day; charger: EV round trips/day).")
    total: float = Field(description="Total demand, same unit as ``covered``.")
    covered_pct: float = Field(description="covered / total, %.")
    unit: str = Field(description="Unit of covered and total: 'L/day' or 'EV round trips/day'.")
    status: str = Field(description="Solver status at p: optimal, feasible, time_limit_no_incumbent or infeasible.")
    backend: str = Field(description="cpsat or pulp.")
    marginal: list[MarginalPoint] = Field(description="Coverage for p = 1..p_max.")
    params: dict[str, Any] = Field(description="Model parameters used (threshold_min min, range_km km, ...).")
    wall_s: float = Field(description="Request time, seconds (demo-day plan and every solve).")


def run_siting_within(req: SitingRequest, budget: Budget) -> Any:
    """Plan the demo day and site ``req.kind`` within ``budget``; a ``StationSiting``."""
    from optimizer.stations.demand import candidate_sites, ev_flows, oxygen_demand, site_chargers, site_oxygen

    net = network()
    problem, plan = demo_day(req.iterations, budget)
    cands, _ = candidate_sites(req.kind)
    pmax = req.p_max if req.p_max is not None else min(len(cands), max(req.p, 10))
    per_solve = budget.slice(1.0 / max(1, min(pmax, len(cands))))
    if req.kind == "oxygen":
        return site_oxygen(net, oxygen_demand(problem, plan), req.p, threshold_min=req.threshold_min,
                           backend=req.backend, p_max=req.p_max, time_limit_s=per_solve)
    flows = ev_flows(problem, plan, ev_share=req.ev_share, min_path_km=req.min_path_km)
    return site_chargers(net, flows, req.p, range_km=req.range_km, temperature_c=req.temperature_c,
                         backend=req.backend, p_max=req.p_max, time_limit_s=per_solve)


@router.post("/v1/stations/siting", response_model=SitingResponse, dependencies=[Depends(require_api_key)])
def siting(req: SitingRequest) -> dict[str, Any]:
    """Chosen sites, demand or flow covered (absolute and %), status and the marginal curve."""
    t0 = time.perf_counter()
    budget = Budget(check_time_limit(req.time_limit_s))
    res = run_siting_within(req, budget)
    d = res.to_dict()
    d.pop("detail", None)
    d["marginal"] = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in m.items()}
                     for m in d["marginal"]]
    d["wall_s"] = time.perf_counter() - t0
    return d

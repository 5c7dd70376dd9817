"""``POST /v1/stations/siting``: site oxygen stations (MCLP) or EV chargers (FRLM) for any tour plan.

The body names the kind, p and the model parameters, and where the demand comes from: ``groups``
(the group records of ``POST /v1/tours/plan``, planned with ``iterations`` ILS iterations and
``seed``), ``plan`` (a ``plan.json`` document of ``lhasa-ops plan``, used as it is after the
verifier accepts it) or neither (the embedded demo day). The use case is
``api.services.stations.site_stations``: the tour plan may use half of ``time_limit_s``
(``api.services.stations.PLAN_SHARE``), the solves for p and for the curve p = 1..p_max share
the rest, and the answer is checked by the independent verifier. Bad values (p = 0, p larger
than the candidates, range <= 0, groups and plan together, ...) raise ``InvalidInput``, which
the app answers with HTTP 422 ``{"code": "invalid_input", "message", "field"}``.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.http.limits import MAX_TIME_LIMIT_S, check_time_limit, default_time_limit, time_limit_field_doc
from api.http.schemas import EXAMPLE_GROUP, MAX_STATION_GROUPS, GroupIn
from api.http.security import require_api_key
from api.services import stations as service
from optimizer.core.clock import Deadline

router = APIRouter(tags=["stations"])

MAX_P = 100


class SitingRequest(BaseModel):
    """Site p oxygen stations or EV chargers for the tour traffic of a plan (groups, a plan.json or
    the demo day)."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"kind": "oxygen", "p": 3, "threshold_min": 30.0, "backend": "cpsat", "iterations": 2000, "p_max": 10,
         "time_limit_s": 30},
        {"kind": "charger", "p": 2, "range_km": 300.0, "temperature_c": -5.0, "ev_share": 0.2, "min_path_km": 0.0,
         "backend": "cpsat", "iterations": 2000, "p_max": 5, "time_limit_s": 30},
        {"kind": "oxygen", "p": 1, "groups": [EXAMPLE_GROUP], "iterations": 200, "seed": 0, "p_max": 3,
         "time_limit_s": 10}]})

    kind: Literal["oxygen", "charger"] = Field(description="'oxygen': maximal covering of oxygen demand (MCLP); "
                                                           "'charger': flow refuelling of EV round trips (FRLM).")
    p: StrictInt = Field(..., ge=1, le=MAX_P, description="Number of stations to open (1..number of candidate "
                                                          "sites: 23 oxygen, 22 charger; more is HTTP 422).")
    groups: list[GroupIn] | None = Field(None, max_length=MAX_STATION_GROUPS,
                                         description=f"Tour groups to plan and site for (the records of POST "
                                                     f"/v1/tours/plan, at most {MAX_STATION_GROUPS}); null: the demo day. "
                                                     "Not together with 'plan'.")
    plan: dict[str, Any] | None = Field(None, description="A plan.json document written by 'lhasa-ops plan' "
                                                          "(routes and the groups it was planned for), used as it "
                                                          "is once the verifier accepts it; null: plan 'groups' or "
                                                          "the demo day. Not together with 'groups'.")
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
    backend: Literal["cpsat", "pulp", "mathopt"] = Field(
        "cpsat", description="Exact solver: OR-Tools CP-SAT, CBC via PuLP, or SCIP via MathOpt.")
    iterations: StrictInt = Field(2000, ge=0, le=100_000,
                                  description="ILS iterations of the tour plan the demand is derived from (demo day "
                                              "or 'groups'; 0..100000); the time limit still applies.")
    seed: StrictInt = Field(0, ge=0, le=2**31 - 1,
                            description="Seed of the tour plan and the solvers (0..2^31-1); the same seed and "
                                        "iterations give the same answer.")
    p_max: StrictInt | None = Field(None, ge=1, le=MAX_P,
                                    description="Marginal curve for p = 1..p_max stations (p <= p_max <= candidates; "
                                                "null: max(p, 10), at most the candidates).")
    time_limit_s: float = Field(default_time_limit(30.0), gt=0, le=MAX_TIME_LIMIT_S, allow_inf_nan=False,
                                description=time_limit_field_doc(default_time_limit(30.0)))


class MarginalPoint(BaseModel):
    p: int = Field(description="Number of stations.")
    objective: float | None = Field(description="Covered demand at this p (unit as ``unit``); null: no solution.")
    bound: float | None = Field(None, description="Proven upper bound on the covered demand at this p; null: none.")
    covered_pct: float | None = Field(description="Covered share, % of ``total``.")
    gain: float | None = Field(description="Objective gained over p - 1 (unit as ``unit``).")
    status: str = Field(description="optimal, feasible, no_solution_in_time or infeasible.")
    chosen: list[str] = Field(default_factory=list, description="Site ids of the stations at this p.")
    wall_s: float = Field(description="Solve time, seconds.")


class StationOut(BaseModel):
    site_id: str = Field(description="Site id of a chosen station.")
    existing: bool = Field(description="The station exists already.")
    demand_sites: list[str] | None = Field(None, description="oxygen: the demand sites it serves (each covered site "
                                                             "counted once, at its nearest chosen station).")
    demand: float | None = Field(None, description="oxygen: demand of those sites, L/day.")
    paths: list[str] | None = Field(None, description="charger: refuelled O-D paths through it ('origin->destination').")


class UnservedOut(BaseModel):
    item_id: str = Field(description="Demand site id (oxygen) or O-D path 'origin->destination' (charger).")
    reason: str = Field(description="not_covered, out_of_reach, not_refuelled, out_of_range, capacity, "
                                    "no_solution_in_time or infeasible.")
    detail: str = Field(description="What is left out, with the numbers.")


class SitingResponse(BaseModel):
    kind: str = Field(description="oxygen or charger.")
    p: int = Field(description="Number of stations opened.")
    chosen: list[str] = Field(description="Site ids of the chosen stations.")
    existing_chosen: list[str] = Field(description="The chosen stations that already exist.")
    covered: float = Field(description="Demand covered (oxygen: L/day; charger: EV round trips/day).")
    total: float = Field(description="Total demand, same unit as ``covered``.")
    covered_pct: float = Field(description="covered / total, %.")
    unit: str = Field(description="Unit of covered and total: 'L/day' or 'EV round trips/day'.")
    status: str = Field(description="Solver status at p: optimal, feasible, no_solution_in_time or infeasible.")
    objective: float | None = Field(None, description="Objective at p (= covered); null without a solution.")
    bound: float | None = Field(None, description="Proven upper bound on the objective at p.")
    gap: float | None = Field(None, description="|bound - objective| / max(1, |objective|).")
    backend: str = Field(description="cpsat, pulp or mathopt.")
    marginal: list[MarginalPoint] = Field(description="Coverage for p = 1..p_max.")
    params: dict[str, Any] = Field(description="Model parameters used (threshold_min min, range_km km, ...).")
    stations: list[StationOut] = Field(default_factory=list, description="The chosen stations and what each serves.")
    unserved: list[UnservedOut] = Field(default_factory=list, description="Demand left out, with the reason.")
    source: str = Field("demo day", description="Where the demand came from: 'demo day', 'N groups' or 'plan'.")
    verifier: str = Field("ok", description="The independent verifier's verdict ('ok'; a rejected siting is an "
                                            "HTTP 500, never an answer).")
    wall_s: float = Field(description="Request time, seconds (tour plan and every solve).")


@router.post("/v1/stations/siting", response_model=SitingResponse, dependencies=[Depends(require_api_key)])
def siting(req: SitingRequest) -> dict[str, Any]:
    """Chosen sites, demand or flow covered (absolute and %), status, bound, what each station serves,
    what is left out and the marginal curve."""
    t0 = time.perf_counter()
    deadline = Deadline(check_time_limit(req.time_limit_s))
    inp = service.SitingInput(kind=req.kind, p=req.p, threshold_min=req.threshold_min, range_km=req.range_km,
                              temperature_c=req.temperature_c, ev_share=req.ev_share, min_path_km=req.min_path_km,
                              backend=req.backend, p_max=req.p_max, iterations=req.iterations, seed=req.seed,
                              time_limit_s=req.time_limit_s)
    groups = [g.model_dump() for g in req.groups] if req.groups is not None else None
    outcome = service.site_stations(inp, groups=groups, plan=req.plan, deadline=deadline)
    doc = dict(outcome.document)
    doc.pop("detail", None)
    doc.pop("stats", None)
    doc["wall_s"] = time.perf_counter() - t0
    return doc

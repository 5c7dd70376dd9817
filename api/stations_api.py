"""``POST /v1/stations/siting``: site oxygen stations (MCLP) or EV chargers (FRLM) for the demo day.

The request names the kind, p and the model parameters; the service plans the embedded demo day
(``instances/lhasa/demand_peak_day.csv``, ``iterations`` ILS iterations, seed 0), derives the
demand (``optimizer.stations``) and solves p = 1..p_max to optimality. Bad values (p = 0, p larger
than the candidates, range <= 0, ...) raise ``InvalidInput``, which the app answers with HTTP 422
``{"code": "invalid_input", "message", "field"}``.
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.security import require_api_key
from api.stations_cli import run_siting
from instances.loader import load_lhasa

router = APIRouter(tags=["stations"])


class SitingRequest(BaseModel):
    kind: Literal["oxygen", "charger"]
    p: int = Field(..., description="number of stations (1..candidates)")
    threshold_min: float = Field(30.0, description="oxygen: coverage threshold, road minutes")
    range_km: float = Field(300.0, description="charger: nominal EV range, km")
    temperature_c: float = Field(-5.0, description="charger: ambient temperature, degC")
    ev_share: float = Field(0.2, description="charger: share of tour vehicles that are EVs")
    min_path_km: float = Field(0.0, description="charger: drop O-D legs shorter than this, km")
    backend: Literal["cpsat", "pulp"] = "cpsat"
    iterations: int = Field(2000, ge=0, le=100_000, description="ILS iterations for the demo-day plan")
    p_max: int | None = Field(None, description="marginal curve up to this p (default max(p, 10))")


class MarginalPoint(BaseModel):
    p: int
    objective: float | None
    covered_pct: float | None
    gain: float | None
    status: str
    wall_s: float


class SitingResponse(BaseModel):
    kind: str
    p: int
    chosen: list[str]
    existing_chosen: list[str]
    covered: float
    total: float
    covered_pct: float
    unit: str
    status: str
    backend: str
    marginal: list[MarginalPoint]
    params: dict[str, Any]
    wall_s: float


_NET = None


def _network():
    global _NET
    if _NET is None:
        _NET = load_lhasa()
    return _NET


@router.post("/v1/stations/siting", response_model=SitingResponse, dependencies=[Depends(require_api_key)])
def siting(req: SitingRequest) -> dict[str, Any]:
    """Chosen sites, demand or flow covered (absolute and %), status and the marginal curve."""
    t0 = time.perf_counter()
    res, _, _ = run_siting(req.kind, req.p, req.threshold_min, req.range_km, req.temperature_c, req.ev_share,
                           req.min_path_km, req.backend, req.iterations, req.p_max, network=_network())
    d = res.to_dict()
    d.pop("detail", None)
    d["marginal"] = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in m.items()}
                     for m in d["marginal"]]
    d["wall_s"] = time.perf_counter() - t0
    return d

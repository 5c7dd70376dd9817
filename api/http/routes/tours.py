"""Tour routes: ``GET /healthz``, ``GET /v1/instances/lhasa/sites`` and ``POST /v1/tours/plan``.

``POST /v1/tours/plan`` takes ``api.http.schemas.PlanRequest`` and answers
``optimizer.tours.report.to_dict`` of the plan (``api.services.tours.plan_records``) plus the
``violations`` the independent verifier found (always empty: a plan the verifier rejects is a server
error, never an answer). The endpoint is a plain ``def``: FastAPI runs the solve in its threadpool.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.http.limits import check_time_limit
from api.http.schemas import PlanRequest, PlanResponse, SiteOut
from api.http.security import require_api_key
from api.services import tours
from api.services.tours import less_time
from optimizer.core.stop import StoppingCriterion
from optimizer.tours.report import to_dict

DEFAULT_NO_IMPROVEMENT = 1000
"""Iterations without a new best after which a plan request returns."""

REQUEST_SOURCE = "request"

router = APIRouter()


REPLY_S_PER_GROUP = 5e-4
"""Seconds per group kept back from the search for the report and the JSON answer (measured ~0.3 ms
per group at 1,000 groups on the 2-core machine under load, response validation and JSON included,
``bench/time_limits.py``), so that ``time_limit_s`` covers the whole request (issue 14 build 5)."""


def plan_response(req: PlanRequest) -> dict[str, Any]:
    """Validate the groups, solve, verify; the response dict (raises ``InvalidInput``).

    ``time_limit_s`` covers reading the groups, the search, the verifier and the report: the search
    gets what is left after ``REPLY_S_PER_GROUP`` per group (and ``VERIFY_S_PER_GROUP``, kept by
    the service)."""
    check_time_limit(req.time_limit_s)
    stop = less_time(StoppingCriterion(max_runtime_s=req.time_limit_s, max_iterations=req.iterations,
                                       max_no_improvement=DEFAULT_NO_IMPROVEMENT),
                     REPLY_S_PER_GROUP * len(req.groups))
    problem, plan = tours.plan_records([g.model_dump() for g in req.groups], tours.lhasa_network(), stop,
                                       seed=req.seed, candidate_sites=req.candidate_sites, source=REQUEST_SOURCE)
    out = to_dict(problem, plan)
    out["violations"] = []  # plan_records verified the plan (a violation raises: a solver bug)
    return out


@router.get("/healthz", tags=["ops"])
def healthz() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok"}


@router.get("/v1/instances/lhasa/sites", response_model=list[SiteOut], tags=["instances"])
def sites() -> list[dict[str, Any]]:
    """Sites of the embedded Lhasa network (scenic sites and hubs), with hours and quotas."""
    return tours.site_rows(tours.lhasa_network())


@router.post("/v1/tours/plan", response_model=PlanResponse, tags=["tours"], dependencies=[Depends(require_api_key)])
def plan(req: PlanRequest) -> dict[str, Any]:
    """Plan one day of routes for the groups; the result is checked by the independent verifier.

    HTTP 422 for invalid input, always ``{"code": "invalid_input", "message", "field"}``
    (``ErrorOut``; shape and type errors add ``errors``: every field with its message).
    """
    return plan_response(req)

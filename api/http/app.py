"""HTTP API of the tour planner (FastAPI). Thin: parse -> call the core -> serialise.

Endpoints
---------
``GET /healthz``
    ``{"status": "ok"}``.
``GET /v1/instances/lhasa/sites``
    The embedded network's sites.
``POST /v1/tours/plan``
    Body ``api.http.schemas.PlanRequest``; answers ``optimizer.report.plan_to_dict`` plus the
    ``violations`` of ``optimizer.verify.verify``. A domain validation error (unknown site,
    window closing before it opens, ...) is HTTP 422 ``{"code": "invalid_input", "message",
    "field"}``; a shape error caught by pydantic is HTTP 422 in FastAPI's default shape.
``POST /v1/scenarios``, ``GET /v1/scenarios/{id}``, ``POST /v1/stations/...``, ``POST /v1/drones/...``
    Scenario runs in the background, persisted in SQLite (``$LHASA_OPS_DB``); see
    ``api.http.routes.scenarios`` and ``api.http.jobs``.
``POST /v1/jobs/oxygen-plan``, ``GET /v1/jobs/{id}``, ``GET /v1/jobs/{id}/result``
    Multi-day oxygen plans as persisted jobs (``api.http.routes.jobs``).

Every solve takes ``time_limit_s`` (at most ``$LHASA_OPS_MAX_TIME_LIMIT_S``, default 60 s) and
honours it for the whole request, construction included (``api.http.limits``).

Every error answer has the shape ``{"code", "message", "field"}`` (``invalid_input``,
``invalid_json``, ``unauthorized``, ``forbidden``, ``payload_too_large``, ``not_found``, ...).
Access control (API keys on every POST) and the body-size limit: ``api.http.security``; operations
guide: ``docs/OPERATIONS.md``. The OpenAPI document is served at ``/openapi.json`` and checked in
as ``api/openapi.json`` (``python -m api.http.openapi`` regenerates it).

The network is loaded once (cached) at startup. The plan endpoint is a plain ``def``, so FastAPI
runs the solve in its threadpool and the event loop keeps answering other requests.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.http.routes.drones import router as drones_router
from api.http.routes.drones import warm_up as drones_warm_up
from api.http.routes.flight_schedule import router as flight_schedule_router
from api.http.routes.flights import router as flights_router
from api.http.routes.jobs import router as jobs_router
from api.http.limits import check_time_limit
from api.http.routes.scenarios import router as scenarios_router
from api.http.routes.scenarios import start_jobs, stop_jobs
from api.http.schemas import PlanRequest, PlanResponse, SiteOut
from api.http.security import ApiError, BodyLimitMiddleware, require_api_key
from api.http.routes.station_ops import router as station_ops_router
from api.http.routes.stations import router as stations_router
from instances.demand import DemandError, groups_from_records
from instances.loader import load_lhasa
from optimizer.domain import InvalidInput, Network, TourProblem, fmt_clock
from optimizer.ils import StoppingCriterion
from optimizer.report import plan_to_dict
from optimizer.tours import solve, warm_up
from optimizer.verify import verify

DEFAULT_NO_IMPROVEMENT = 1000  # iterations without a new best before a plan request returns

REQUEST_SOURCE = "request"
_INDEX = re.compile(r"index (\d+)")


@lru_cache(maxsize=1)
def lhasa_network() -> Network:
    """The embedded Lhasa network, loaded once per process."""
    return load_lhasa()


def site_rows(network: Network) -> list[dict[str, Any]]:
    """The sites as ``SiteOut`` dicts (opening hours as HH:MM)."""
    return [
        {"id": s.id, "name_en": s.name_en, "name_zh": s.name_zh, "lat": s.lat, "lon": s.lon,
         "elevation_m": s.elevation_m, "kind": s.kind, "rating": s.rating, "score": s.score,
         "visit_min": s.visit_min, "open": fmt_clock(s.window[0]), "close": fmt_clock(s.window[1]),
         "daily_quota": s.daily_quota, "slot_quota": s.slot_quota, "coord_conf": s.coord_conf}
        for s in network.sites
    ]


def json_safe(obj: Any) -> Any:
    """``obj`` with every NaN/infinite float replaced by its text (``"nan"``, ``"inf"``)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def loc_path(loc: tuple | list) -> str:
    """Dotted path of a pydantic error location, without the leading ``body``: ``groups[0].size``."""
    out = ""
    for part in loc:
        if part == "body" and not out:
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def error_field(exc: InvalidInput) -> str:
    """Path of the offending field: ``groups[k].<field>`` for a record of the request."""
    where = getattr(exc, "where", "")
    m = _INDEX.fullmatch(where or "")
    if isinstance(exc, DemandError) and m:
        field = re.sub(r"^group\[[^\]]*\]\.", "", str(exc.field))
        return f"groups[{m.group(1)}].{field}"
    return str(exc.field)


_RESTRICTED: dict[tuple[int, frozenset[str]], tuple[Network, Network]] = {}


def _restricted(network: Network, candidates: frozenset[str]) -> Network:
    key = (id(network), candidates)
    hit = _RESTRICTED.get(key)
    if hit is not None and hit[0] is network:
        return hit[1]
    sites = tuple(s if s.score == 0 or s.id in candidates else dataclasses.replace(s, score=0.0)
                  for s in network.sites)
    out = dataclasses.replace(network, sites=sites)
    if len(_RESTRICTED) >= 32:
        _RESTRICTED.pop(next(iter(_RESTRICTED)))
    _RESTRICTED[key] = (network, out)
    return out


def candidate_network(network: Network, candidates: list[str] | None, records: list[dict[str, Any]]) -> Network:
    """``network`` with every scenic site not in ``candidates`` turned into a hub (score 0: never
    visited); ``InvalidInput`` for an unknown or non-scenic candidate, a duplicate, or a must-visit
    that is not a candidate."""
    if candidates is None:
        return network
    seen: set[str] = set()
    for k, c in enumerate(candidates):
        if not network.has_site(c):
            raise InvalidInput(f"candidate_sites[{k}]", c, "is not a site of the network")
        if network.site(c).score <= 0:
            raise InvalidInput(f"candidate_sites[{k}]", c, "is a hub (score 0), not a scenic site")
        if c in seen:
            raise InvalidInput(f"candidate_sites[{k}]", c, "is listed twice")
        seen.add(c)
    for i, r in enumerate(records):
        for m in r.get("must_visit") or ():
            if m not in seen and network.has_site(m):
                raise InvalidInput(f"groups[{i}].must_visit", m, "is not in candidate_sites")
    return _restricted(network, frozenset(seen))


def plan_groups(req: PlanRequest, network: Network) -> dict[str, Any]:
    """Validate the groups, solve, verify; the response dict (raises ``InvalidInput``)."""
    check_time_limit(req.time_limit_s)
    records = [g.model_dump() for g in req.groups]
    network = candidate_network(network, req.candidate_sites, records)
    groups = groups_from_records(records, network, source=REQUEST_SOURCE)
    problem = TourProblem(network=network, groups=groups)
    stop = StoppingCriterion(max_runtime_s=req.time_limit_s, max_iterations=req.iterations,
                             max_no_improvement=DEFAULT_NO_IMPROVEMENT)
    plan = solve(problem, stop, seed=req.seed)
    out = plan_to_dict(problem, plan)
    out["violations"] = [{"group_id": v.group_id, "site_id": v.site_id, "kind": v.kind, "message": v.message}
                         for v in verify(problem, plan)]
    return out


_DRONES_WARM = threading.Event()


def _warm_in_background() -> None:
    """Warm the drone kernels once per process on a daemon thread (a failure only costs the first
    drone request its compile time)."""
    if _DRONES_WARM.is_set():
        return
    _DRONES_WARM.set()

    def run() -> None:
        try:
            drones_warm_up()
        except Exception:  # warming is an optimisation
            logging.getLogger(__name__).exception("drone kernel warm-up failed")

    threading.Thread(target=run, name="lhasa-ops-warm-drones", daemon=True).start()


def create_app() -> FastAPI:
    """Build the FastAPI application (the network is loaded at startup)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.network = lhasa_network()
        warm_up()  # compile the kernels once so request time limits apply to the search
        _warm_in_background()  # the drone kernels too, without delaying the start
        start_jobs(app)  # resume scenario runs a previous process left unfinished
        try:
            yield
        finally:
            stop_jobs(app)  # the scenario in flight finishes and is committed first

    app = FastAPI(
        title="lhasa-ops",
        version="0.1.0",
        summary="Tour-group routing for Lhasa: TOPTW with shared per-slot entry quotas.",
        lifespan=lifespan,
    )

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # One error shape for every 422. The inputs are not echoed back (a large invalid body
        # would come back whole, and NaN/Infinity cannot be written as JSON).
        raw = list(exc.errors())
        errors = [{"field": loc_path(e.get("loc", ())), "message": str(e.get("msg", ""))} for e in raw]
        first = errors[0] if errors else {"field": "body", "message": "invalid request"}
        code = "invalid_json" if raw and raw[0].get("type") == "json_invalid" else "invalid_input"
        if code == "invalid_json":
            first = {"field": "body", "message": f"{first['message']} (at {first['field']})"}
        body = {"code": code, "message": first["message"], "field": first["field"], "errors": errors[:20]}
        return JSONResponse(status_code=422, content=body)

    @app.exception_handler(InvalidInput)
    async def invalid_input(request: Request, exc: InvalidInput) -> JSONResponse:
        body = {"code": "invalid_input", "message": str(exc), "field": error_field(exc)}
        return JSONResponse(status_code=422, content=body)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content=exc.body(), headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # 404 (no such path), 405, and FastAPI's 400 for an unreadable body, in the same shape.
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        body = {"code": codes.get(exc.status_code, f"http_{exc.status_code}"), "message": str(exc.detail),
                "field": None}
        return JSONResponse(status_code=exc.status_code, content=body, headers=getattr(exc, "headers", None))

    app.add_middleware(BodyLimitMiddleware)  # 413 over $LHASA_OPS_MAX_BODY_BYTES (api.http.security)

    app.include_router(scenarios_router)  # POST /v1/scenarios, GET /v1/scenarios/{id} (api.http.routes.scenarios)
    app.include_router(jobs_router)  # POST /v1/jobs/oxygen-plan, GET /v1/jobs/{id}[/result] (api.http.routes.jobs)
    app.include_router(stations_router)  # POST /v1/stations/siting (api.http.routes.stations)
    app.include_router(station_ops_router)  # POST /v1/stations/charging-schedule, oxygen-plan
    app.include_router(drones_router)  # POST /v1/drones/delivery-plan (api.http.routes.drones)
    app.include_router(flight_schedule_router)  # POST /v1/flights/schedule (api.http.routes.flight_schedule)
    app.include_router(flights_router)  # POST /v1/flights/products (api.http.routes.flights)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok"}

    @app.get("/v1/instances/lhasa/sites", response_model=list[SiteOut], tags=["instances"])
    def sites() -> list[dict[str, Any]]:
        """Sites of the embedded Lhasa network (scenic sites and hubs), with hours and quotas."""
        return site_rows(lhasa_network())

    @app.post("/v1/tours/plan", response_model=PlanResponse, tags=["tours"],
              dependencies=[Depends(require_api_key)])
    def plan(req: PlanRequest) -> dict[str, Any]:
        """Plan one day of routes for the groups; the result is checked by the independent verifier.

        HTTP 422 for invalid input, always ``{"code": "invalid_input", "message", "field"}``
        (``ErrorOut``; shape and type errors add ``errors``: every field with its message).
        """
        return plan_groups(req, lhasa_network())

    return app


app = create_app()

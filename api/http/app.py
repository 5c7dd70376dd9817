"""HTTP API of lhasa-ops (FastAPI): the application object. Routes live in ``api.http.routes.<family>``
and only parse, call a service (``api.services``) and serialise; the error shape is ``api.http.errors``.

Endpoints
---------
``GET /healthz``
    ``{"status": "ok"}`` (liveness).
``GET /readyz``
    Readiness: 200 when the kernels are compiled, the job store is writable and the job runner
    alive, else 503 naming the reason (``api.http.routes.health``).
``GET /v1/instances/lhasa/sites``
    The embedded network's sites.
``POST /v1/tours/plan``
    Body ``api.http.schemas.PlanRequest``; answers ``optimizer.tours.report.to_dict`` plus the
    ``violations`` of ``optimizer.tours.verify`` (``api.http.routes.tours``). A domain validation error (unknown site,
    window closing before it opens, ...) is HTTP 422 ``{"code": "invalid_input", "message",
    "field"}``; a shape error caught by pydantic is HTTP 422 in the same shape plus ``errors``.
``POST /v1/scenarios``, ``GET /v1/scenarios/{id}``, ``POST /v1/stations/...``, ``POST /v1/drones/...``
    Scenario runs in the background, persisted in SQLite (``$LHASA_OPS_DB``); see
    ``api.http.routes.scenarios`` and ``api.http.jobs``.
``POST /v1/jobs/oxygen-plan``, ``GET /v1/jobs/{id}``, ``GET /v1/jobs/{id}/result``
    Multi-day oxygen plans as persisted jobs (``api.http.routes.jobs``).

Every solve takes ``time_limit_s`` (at most ``$LHASA_OPS_MAX_TIME_LIMIT_S``, default 60 s) and
honours it for the whole request, construction included (``api.http.limits``).

Every error answer has the shape ``{"code", "message", "field"}`` (``invalid_input``,
``invalid_json``, ``unauthorized``, ``forbidden``, ``payload_too_large``, ``not_found``, ...;
``api.http.errors``).
Access control (API keys on every POST) and the body-size limit: ``api.http.security``; operations
guide: ``docs/OPERATIONS.md``. The OpenAPI document is served at ``/openapi.json`` and checked in
as ``api/openapi.json`` (``python -m api.http.openapi`` regenerates it).

``create_app()`` first checks the environment (``check_environment``: ``LHASA_OPS_MAX_BODY_BYTES``,
``LHASA_OPS_MAX_TIME_LIMIT_S``, ``LHASA_OPS_MAX_JOB_TIME_LIMIT_S``, ``LHASA_OPS_DB``,
``LHASA_OPS_API_KEYS_FILE``) and raises ``ConfigError`` (an ``InvalidInput`` naming every bad
variable and value) rather than build a server that fails its requests; ``lhasa-ops serve`` reports
it as ``error: ...`` with exit code 2.

The network is loaded once (cached) at startup. The plan endpoint is a plain ``def``, so FastAPI
runs the solve in its threadpool and the event loop keeps answering other requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.http import jobs as jobs_config
from api.http import limits as limits_config
from api.http import security as security_config
from api.http.errors import install_error_handlers
from api.http.routes.days import router as days_router
from api.http.routes.health import router as health_router
from api.http.routes.health import start_warm_up
from api.http.routes.drones import router as drones_router
from api.http.routes.flight_schedule import router as flight_schedule_router
from api.http.routes.flights import router as flights_router
from api.http.routes.itineraries import router as itineraries_router
from api.http.routes.jobs import router as jobs_router
from api.http.routes.scenarios import router as scenarios_router
from api.http.jobs import start_jobs, stop_jobs
from api.http.routes.station_ops import router as station_ops_router
from api.http.routes.stations import router as stations_router
from api.http.routes.tours import router as tours_router
from api.http.routes.web import install_web
from api.http.security import BodyLimitMiddleware
from api.services.tours import lhasa_network
from optimizer.core.errors import InvalidInput



class ConfigError(InvalidInput):
    """The environment the app was created with is invalid: ``field`` and ``value`` of the first bad
    variable; the message lists every one (``NAME='value': what is wrong; ...``)."""

    def __init__(self, problems: list[InvalidInput]) -> None:
        first = problems[0]
        super().__init__(first.field, first.value, first.message)
        self.problems = problems
        self.args = ("; ".join(str(p) for p in problems),)


def check_environment() -> None:
    """Validate the server's environment variables and key file; ``ConfigError`` naming each bad one."""
    problems = (security_config.check_environment() + limits_config.check_environment()
                + jobs_config.check_environment())
    if problems:
        raise ConfigError(problems)


def create_app() -> FastAPI:
    """Build the FastAPI application (the network is loaded at startup); ``ConfigError`` when the
    environment is invalid."""
    check_environment()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.network = lhasa_network()
        start_warm_up(app)  # compile the kernels in the background (/readyz says so; api.http.routes.health)
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
        docs_url=None,  # /docs and /redoc on local assets: api.http.routes.web.install_web
        redoc_url=None,
    )
    install_error_handlers(app)  # one error shape (api.http.errors)
    app.add_middleware(BodyLimitMiddleware)  # 413 over $LHASA_OPS_MAX_BODY_BYTES (api.http.security)

    app.include_router(health_router)  # GET /readyz (api.http.routes.health)
    app.include_router(scenarios_router)  # POST /v1/scenarios, GET /v1/scenarios/{id} (api.http.routes.scenarios)
    app.include_router(jobs_router)  # POST /v1/jobs/oxygen-plan, GET /v1/jobs/{id}[/result] (api.http.routes.jobs)
    app.include_router(stations_router)  # POST /v1/stations/siting (api.http.routes.stations)
    app.include_router(station_ops_router)  # POST /v1/stations/charging-schedule, oxygen-plan
    app.include_router(drones_router)  # POST /v1/drones/delivery-plan (api.http.routes.drones)
    app.include_router(flight_schedule_router)  # POST /v1/flights/schedule (api.http.routes.flight_schedule)
    app.include_router(flights_router)  # POST /v1/flights/products (api.http.routes.flights)
    app.include_router(days_router)  # /v1/days... live day plans (api.http.routes.days, issue 17)
    app.include_router(itineraries_router)  # POST /v1/itineraries/plan (api.http.routes.itineraries)
    app.include_router(tours_router)  # /healthz, /v1/instances/lhasa/sites, POST /v1/tours/plan (api.http.routes.tours)
    install_web(app)  # GET / (the web app), /static, offline /docs and /redoc, /v1/web/* (api.http.routes.web)
    return app


app = create_app()

"""The planners' web app and the offline API docs.

``GET /``
    The single-page app (``api/http/static/index.html``: map with panels Day plan, Scenarios,
    Stations, Low altitude; English/Chinese). Every asset is served from ``/static`` (Leaflet 1.9.4,
    Swagger UI 5.17.14 and Redoc 2.1.5 vendored under ``static/vendor`` with their licences), so
    the page works without internet; background tiles are an opt-in layer used only when online.
``GET /docs``, ``GET /redoc``
    Swagger UI and Redoc on the local assets (FastAPI's own pages load them from a CDN).
``GET /v1/web/layers``
    Map layers (``api.services.web.map_layers``).
``GET /v1/web/demo-demand``
    The demo day's 320 groups as plan-request records.
``GET /v1/web/demo-deliveries``, ``GET /v1/web/demo-bookings``
    Example drone demand and flight bookings (synthetic) as request records.
``POST /v1/web/demand-file?filename=NAME``
    Raw body: a demand CSV/JSON; answers ``{"groups": [...]}`` or HTTP 422 naming file, row, field, value.
``POST /v1/web/scenario-file?filename=NAME``
    Raw body: a scenario TOML/JSON; answers the JSON document to post to ``/v1/scenarios``.
``POST /v1/web/day-plan``
    ``DayPlanRequest``; the plan, its routes as GeoJSON and the site-by-slot usage
    (``api.services.web.day_plan``).
``GET /v1/web/scenarios/{id}/headlines``
    One line per scenario family of a run (``api.services.web.scenario_headlines``).
``GET /v1/web/demo-week?groups=N``
    The demo week's demand drawn for N groups (1..1500) as ``POST /v1/itineraries/plan`` records.
``GET /v1/web/week-places``
    Hotels (sleeping altitude, rooms) and sites (position, altitude reached) named by itineraries,
    and the acclimatization rules (``api.services.web.week_places``).
``POST /v1/web/week-file?filename=NAME``
    Raw body: a multi-day demand CSV/JSON; answers ``{"groups": [...]}`` or HTTP 422 naming file, row, field.

POST endpoints take the API key like every other POST (``api.http.security``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.http.jobs import KIND_SCENARIOS, find_job
from api.http.limits import MAX_TIME_LIMIT_S, check_time_limit, default_time_limit, time_limit_field_doc
from api.http.schemas import MAX_GROUPS, GroupIn
from api.http.security import require_api_key
from api.services import web as service
from optimizer.core.stop import StoppingCriterion

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
"""``api/http/static``: the app (index.html, app.js, app.css, i18n.js) and ``vendor/``."""
SWAGGER = "/static/vendor/swagger-ui-5.17.14"
REDOC = "/static/vendor/redoc-2.1.5"
DEFAULT_NO_IMPROVEMENT = 1000
DEFAULT_ITERATIONS = 2000

router = APIRouter(tags=["web"])


class DayPlanRequest(BaseModel):
    """A day plan for the map page: ``groups`` (null: the embedded demo day, 320 groups)."""

    model_config = ConfigDict(extra="forbid", strict=True,
                              json_schema_extra={"examples": [{"groups": None, "iterations": 2000, "time_limit_s": 10}]})

    groups: list[GroupIn] | None = Field(None, max_length=MAX_GROUPS,
                                         description="Tour groups (the records of POST /v1/tours/plan); null: "
                                                     "the demo day.")
    time_limit_s: float = Field(default=default_time_limit(10.0), gt=0, le=MAX_TIME_LIMIT_S, allow_inf_nan=False,
                                description=time_limit_field_doc(default_time_limit(10.0)))
    seed: StrictInt = Field(default=0, ge=0, le=2**63 - 1, description="Random seed.")
    iterations: StrictInt | None = Field(default=DEFAULT_ITERATIONS, ge=0, le=10_000_000,
                                         description="ILS iterations (null: time limit only).")


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    """The web app."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


@router.get("/v1/web/layers")
def layers() -> dict[str, Any]:
    """Map layers: sites, roads, rings and circles, stations, no-fly zones (GeoJSON, [lon, lat]) and bbox."""
    return service.map_layers()


@router.get("/v1/web/demo-demand")
def demo_demand() -> dict[str, Any]:
    """The demo day's groups (``instances/lhasa/demand_peak_day.csv``) as plan-request records."""
    return {"groups": service.demo_groups()}


@router.get("/v1/web/demo-deliveries")
def demo_deliveries() -> dict[str, Any]:
    """The example drone demand as ``POST /v1/drones/delivery-plan`` records (synthetic)."""
    return {"deliveries": service.demo_deliveries()}


@router.get("/v1/web/demo-bookings")
def demo_bookings() -> dict[str, Any]:
    """The example flight bookings as ``POST /v1/flights/schedule`` records (synthetic)."""
    return {"bookings": service.demo_bookings()}


async def _body(request: Request) -> bytes:
    return await request.body()


@router.post("/v1/web/demand-file", dependencies=[Depends(require_api_key)])
async def demand_file(request: Request,
                      filename: str = Query(..., min_length=1, max_length=200,
                                            description="Name of the uploaded file (.csv or .json).")) -> dict[str, Any]:
    """Validate an uploaded demand file (raw body) and answer its groups; HTTP 422 names file, row, field, value."""
    data = await _body(request)
    return {"groups": await run_in_threadpool(service.read_demand_upload, filename, data)}


@router.post("/v1/web/scenario-file", dependencies=[Depends(require_api_key)])
async def scenario_file(request: Request,
                        filename: str = Query(..., min_length=1, max_length=200,
                                              description="Name of the uploaded file (.toml or .json).")) -> dict[str, Any]:
    """Parse an uploaded scenario file (raw body) into the JSON document of ``POST /v1/scenarios``."""
    data = await _body(request)
    return {"document": service.read_scenario_upload(filename, data)}


@router.post("/v1/web/day-plan", dependencies=[Depends(require_api_key)])
def day_plan(req: DayPlanRequest) -> dict[str, Any]:
    """Plan the day (groups or the demo day; checked by the independent verifier) with the routes as
    GeoJSON and the site-by-slot usage against quotas."""
    check_time_limit(req.time_limit_s)
    stop = StoppingCriterion(max_runtime_s=req.time_limit_s, max_iterations=req.iterations,
                             max_no_improvement=DEFAULT_NO_IMPROVEMENT)
    records = None if req.groups is None else [g.model_dump() for g in req.groups]
    return service.day_plan(records, stop, seed=req.seed)


@router.get("/v1/web/scenarios/{job_id}/headlines", response_model=None)
def headlines(job_id: str, request: Request) -> dict[str, Any] | JSONResponse:
    """One headline per scenario family of a run, English and Chinese (``[{family, scenarios, en, zh}]``)."""
    job = find_job(request.app, job_id)
    if job is None or job.get("kind", KIND_SCENARIOS) != KIND_SCENARIOS:
        return JSONResponse(status_code=404, content={"code": "not_found", "message": f"no scenario run {job_id}",
                                                      "field": "id"})
    return {"id": job_id, "status": job.get("status"), "headlines": service.scenario_headlines(job.get("results") or [])}


@router.get("/v1/web/demo-week")
def demo_week(groups: int = Query(1500, ge=1, le=1500, description="Groups to draw (1500: the demo week)."),
              ) -> dict[str, Any]:
    """The demo week's demand (``instances.demo_week``, seed 2026) drawn for ``groups`` groups, as the
    records of ``POST /v1/itineraries/plan``."""
    return {"groups": service.demo_week_groups(groups)}


@router.get("/v1/web/week-places")
def week_places() -> dict[str, Any]:
    """Places of the itineraries (hotels with sleeping altitude and rooms; sites with position and the
    altitude reached on the way) and the embedded acclimatization rules."""
    return service.week_places()


@router.post("/v1/web/week-file", dependencies=[Depends(require_api_key)])
async def week_file(request: Request,
                    filename: str = Query(..., min_length=1, max_length=200,
                                          description="Name of the uploaded file (.csv or .json).")) -> dict[str, Any]:
    """Validate an uploaded multi-day demand file (raw body) and answer its groups; HTTP 422 names file,
    row, field, value."""
    data = await _body(request)
    return {"groups": await run_in_threadpool(service.read_week_upload, filename, data)}


def install_web(app: FastAPI) -> None:
    """Mount ``/static``, the app at ``/`` and the offline ``/docs`` and ``/redoc`` on ``app`` (created with
    ``docs_url=None, redoc_url=None``)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    title = f"{app.title} - API"
    oauth2 = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=title,
                                   swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{SWAGGER}/swagger-ui.css",
                                   swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
                                   oauth2_redirect_url=oauth2,
                                   swagger_ui_parameters={"validatorUrl": None})  # no badge from validator.swagger.io

    @app.get(oauth2, include_in_schema=False)
    def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url or "/openapi.json", title=title,
                              redoc_js_url=f"{REDOC}/redoc.standalone.js",
                              redoc_favicon_url=f"{SWAGGER}/favicon-32x32.png", with_google_fonts=False)

    app.include_router(router)

"""Day-of operations over HTTP (issue 17): ``api.services.days.DayService`` behind FastAPI.

``POST /v1/days``                       plan the groups of a date at once and store version 1 (201)
``GET /v1/days/{date}``                 the current version with its KPIs and every group's day
``GET /v1/days/{date}/versions/{n}``    one version: reason, diff, KPIs
``POST /v1/days/{date}/bookings``       book one group: 201 ``booked`` with its route, or 409
                                        ``full`` with the best alternatives (分流) / ``unservable``
``DELETE /v1/days/{date}/bookings/{group_id}``   cancel a booking, free its slots
``POST /v1/days/{date}/events``         a disruption at a clock time: re-plan, answer the diff

Errors have the one shape ``{"code", "message", "field"}``: 422 ``invalid_input`` (bad date, unknown
group/site/road, a time before the last event; nothing is stored), 404 ``not_found`` (no plan for
the date), 409 ``day_exists``, ``full`` or ``unservable`` (with ``alternatives``), 503
``store_unavailable``. Endpoints are plain ``def``: FastAPI runs them in its threadpool, and the
service serialises the writes of a date.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictInt
from sqlalchemy.exc import OperationalError

from api.http.limits import MAX_TIME_LIMIT_S, check_time_limit
from api.http.schemas import MAX_GROUPS, GroupIn, SiteId
from api.http.security import require_api_key
from api.services.day_store import DayStore, VersionConflict
from api.services.days import DEFAULT_EVENT_TIME_LIMIT_S, DayExists, DayNotFound, DayService

router = APIRouter(tags=["days"])


class DayCreate(BaseModel):
    """A day to plan: its date and the groups known now."""

    date: str = Field(description="ISO date, YYYY-MM-DD.", max_length=10)
    groups: list[GroupIn] = Field(
        default_factory=list,
        max_length=MAX_GROUPS,
        description=f"The groups booked so far (at most {MAX_GROUPS}).",
    )
    time_limit_s: float = Field(
        default=10.0,
        gt=0,
        le=MAX_TIME_LIMIT_S,
        allow_inf_nan=False,
        description="Time limit of the first plan, seconds.",
    )
    iterations: StrictInt | None = Field(
        default=None, ge=0, le=10_000_000, description="ILS iteration budget."
    )
    seed: StrictInt = Field(default=0, ge=0, le=2**63 - 1)


class BookingIn(BaseModel):
    """One group to insert into the current plan (nobody else moves)."""

    group: GroupIn
    at: str | None = Field(
        default=None,
        max_length=5,
        description="Clock time of the booking, HH:MM "
        "(default: the last event's); the group is planned from then on.",
    )
    wanted_slots: dict[SiteId, str] = Field(
        default_factory=dict, max_length=20, description="Must-visit site -> wanted entry slot start, HH:MM."
    )
    alternatives: StrictInt = Field(default=3, ge=0, le=10, description="Alternatives answered when full.")
    allow_moves: bool = Field(
        default=False,
        description="When the group does not fit as things are, confirmed "
        "groups may be moved (none loses a must-visit); the answer lists them in 'moved'.",
    )
    seed: StrictInt = Field(default=0, ge=0, le=2**63 - 1)


class EventIn(BaseModel):
    """A disruption at a clock time (``optimizer.days.problem``)."""

    kind: str = Field(
        description="site_closed, road_closed, quota_cut, group_delayed or group_cancelled.", max_length=40
    )
    at: str = Field(description="Clock time, HH:MM; not before the last event.", max_length=5)
    site_id: SiteId | None = None
    road: list[SiteId] | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        description="The two site ids at the ends of the closed road segment.",
    )
    quota: StrictInt | None = Field(default=None, ge=0, le=10_000_000, description="New slot quota, persons.")
    group_id: str | None = Field(default=None, max_length=200)
    delay_min: float | None = Field(default=None, gt=0, le=1440, allow_inf_nan=False)
    time_limit_s: float = Field(
        default=DEFAULT_EVENT_TIME_LIMIT_S,
        gt=0,
        le=MAX_TIME_LIMIT_S,
        allow_inf_nan=False,
        description="Time limit of the re-plan, seconds (whole request).",
    )
    iterations: StrictInt | None = Field(default=None, ge=0, le=10_000_000)
    seed: StrictInt = Field(default=0, ge=0, le=2**63 - 1)


class DayAnswer(BaseModel):
    model_config = {"extra": "allow"}
    date: str
    version: int


def service(request: Request) -> DayService:
    """The app's ``DayService`` (made on first use, on ``$LHASA_OPS_DB``)."""
    svc = getattr(request.app.state, "day_service", None)
    if svc is None:
        svc = DayService(store=DayStore(), network=getattr(request.app.state, "network", None))
        request.app.state.day_service = svc
    return svc


def _err(status: int, code: str, message: str, field: str | None, **extra: Any) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"code": code, "message": message, "field": field, **extra}
    )


def _guard(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except DayNotFound as e:
        return _err(404, "not_found", f"no day plan for {e.args[0]}", "date")
    except DayExists as e:
        return _err(409, "day_exists", f"a plan for {e.args[0]} exists; book into it or send events", "date")
    except VersionConflict as e:
        return _err(409, "version_conflict", f"the day changed under this request, retry: {e}", "date")
    except OperationalError as e:
        return _err(503, "store_unavailable", f"the day store cannot be used now: {e.orig}", "LHASA_OPS_DB")


@router.post("/v1/days", status_code=201, response_model=DayAnswer, dependencies=[Depends(require_api_key)])
def create_day(req: DayCreate, svc: DayService = Depends(service)) -> Any:
    """Plan the day's groups at once and store version 1."""
    from optimizer.core.stop import StoppingCriterion

    check_time_limit(req.time_limit_s)
    stop = StoppingCriterion(
        max_runtime_s=req.time_limit_s, max_iterations=req.iterations, max_no_improvement=1000
    )
    return _guard(svc.create, req.date, [g.model_dump() for g in req.groups], stop, seed=req.seed)


@router.get("/v1/days/{date}", response_model=DayAnswer)
def get_day(date: str, svc: DayService = Depends(service)) -> Any:
    """The current version: KPIs, events, and every group's visits over the day."""
    return _guard(svc.current, date)


@router.get("/v1/days/{date}/versions/{version}", response_model=DayAnswer)
def get_version(
    date: str, version: Annotated[int, Path(ge=1, le=2**31 - 1)], svc: DayService = Depends(service)
) -> Any:
    """One stored version: reason, kind, diff and KPIs."""
    return _guard(svc.version, date, version)


@router.post(
    "/v1/days/{date}/bookings",
    status_code=201,
    response_model=DayAnswer,
    responses={409: {"description": "full (with alternatives) or unservable"}},
    dependencies=[Depends(require_api_key)],
)
def post_booking(date: str, req: BookingIn, svc: DayService = Depends(service)) -> Any:
    """Insert one group into the current plan without moving confirmed groups."""
    out = _guard(
        svc.book,
        date,
        req.group.model_dump(),
        at=req.at,
        wanted_slots=req.wanted_slots,
        alternatives=req.alternatives,
        seed=req.seed,
        allow_moves=req.allow_moves,
    )
    if isinstance(out, JSONResponse):
        return out
    status, body = out
    if status == "booked":
        return body
    msg = (
        "a wanted site or entry slot is full"
        if status == "full"
        else "the group cannot be served on this day: " + "; ".join(u["detail"] for u in body["unserved"][:2])
    )
    return _err(409, status, msg, "group", **{k: v for k, v in body.items() if k not in ("status",)})


@router.delete(
    "/v1/days/{date}/bookings/{group_id}", response_model=DayAnswer, dependencies=[Depends(require_api_key)]
)
def delete_booking(date: str, group_id: str, svc: DayService = Depends(service)) -> Any:
    """Cancel a booking: its live visits are dropped and their slots freed."""
    return _guard(svc.cancel, date, group_id)


@router.post("/v1/days/{date}/events", response_model=DayAnswer, dependencies=[Depends(require_api_key)])
def post_event(date: str, req: EventIn, svc: DayService = Depends(service)) -> Any:
    """Apply a disruption at its clock time and re-plan the rest of the day within the time limit."""
    check_time_limit(req.time_limit_s)
    rec = req.model_dump(exclude={"time_limit_s", "iterations", "seed"})
    return _guard(
        svc.event, date, rec, time_limit_s=req.time_limit_s, iterations=req.iterations, seed=req.seed
    )

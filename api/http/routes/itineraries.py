"""``POST /v1/itineraries/plan``: multi-day itineraries for groups staying in Lhasa (issue 16).

The body lists the groups (the keys of the multi-day demand file: arrival and departure dates,
times and places, must-visits, interests by site type, day window, price band, budget per person)
or none (null: the embedded demo week, 1,500 groups), an optional acclimatization rule set
(``rules``, the keys of ``instances/lhasa/acclimatization.toml``), ``time_limit_s``, ``iterations``
and ``seed``. Small inputs (at most ``SYNC_MAX_GROUPS`` groups, ``as_job`` false) are answered at
once with the plan (``api.services.itineraries.to_dict``: summary, itineraries, unserved with
reasons, hotel and site usage per day, the acclimatization check and the verifier's
``violations``, empty for a valid plan). Larger inputs, the demo week, or ``as_job: true`` are
queued as a persisted job (HTTP 202 with ``status_url``/``result_url``; ``GET /v1/jobs/{id}`` and
``GET /v1/jobs/{id}/result``, ``api.http.routes.jobs``) with a time limit up to
``LHASA_OPS_MAX_JOB_TIME_LIMIT_S``. Bad input (departure before arrival, a negative budget, an unknown
site, a rule set with a negative altitude) is HTTP 422 ``{"code": "invalid_input", "message",
"field"}`` naming the group and field; a must-visit no allowed day can reach under the rules is
listed in ``unserved`` with reason ``acclimatization``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.http.jobs import ensure_jobs, register_kind
from api.http.limits import (
    MAX_JOB_TIME_LIMIT_ENV,
    MAX_JOB_TIME_LIMIT_S,
    check_time_limit,
    max_job_time_limit_s,
)
from api.http.security import require_api_key
from api.services import itineraries as service
from optimizer.core.errors import InvalidInput

router = APIRouter(tags=["itineraries"])

KIND_ITINERARIES = "itineraries-plan"
SYNC_MAX_GROUPS = 100
"""Largest request answered synchronously; larger ones (or ``as_job``) run as a job."""
MAX_GROUPS = 5000
MAX_SEED = 2**32 - 1
CLOCK = r"^\d{1,2}:\d{2}$"
DATE = r"^\d{4}-\d{2}-\d{2}$"
SITE = r"^[a-z0-9_]{1,64}$"

EXAMPLE_GROUP = {"group_id": "G1", "size": 12, "arrival": "2026-07-06", "departure": "2026-07-10",
                 "arrival_time": "11:00", "departure_time": "15:00", "arrive_at": "gonggar_airport",
                 "depart_from": "gonggar_airport", "must_visit": ["potala", "namtso_tashi"],
                 "interests": {"temple": 1.5, "holy_lake": 1.2}, "day_start": "07:00", "day_end": "21:00",
                 "price_band": "mid", "budget_cny": 3000.0}


class ItineraryGroupIn(BaseModel):
    """One group's stay (the columns of the multi-day demand file)."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [EXAMPLE_GROUP]})

    group_id: str = Field(min_length=1, max_length=64, description="Group identifier, unique in the request.")
    size: StrictInt = Field(ge=1, le=10_000, description="Persons (1..10000).")
    arrival: str = Field(pattern=DATE, description="First day of the stay, YYYY-MM-DD (day 1 of the rules).")
    departure: str = Field(pattern=DATE, description="Last day of the stay, YYYY-MM-DD (not before arrival).")
    arrival_time: str = Field("12:00", pattern=CLOCK, max_length=5,
                              description="When the group is at arrive_at on its arrival day, HH:MM.")
    departure_time: str = Field("12:00", pattern=CLOCK, max_length=5,
                                description="When it must be at depart_from on its departure day, HH:MM.")
    arrive_at: str = Field("gonggar_airport", pattern=SITE,
                           description="Site id where it arrives (see /v1/instances/lhasa/sites).")
    depart_from: str = Field("gonggar_airport", pattern=SITE, description="Site id where it leaves.")
    must_visit: list[str] = Field(default_factory=list, max_length=20,
                                  description="Site ids to visit once during the stay.")
    interests: dict[str, float] = Field(default_factory=dict,
                                        description="Site type (site_types.csv: temple, holy_lake, museum, ...) "
                                                    "-> weight >= 0 of a visit's score (types not listed: 1).")
    day_start: str = Field("08:00", pattern=CLOCK, max_length=5, description="Earliest departure each day, HH:MM.")
    day_end: str = Field("20:00", pattern=CLOCK, max_length=5, description="Latest return each day, HH:MM.")
    price_band: Literal["budget", "mid", "upscale"] | None = Field(
        None, description="Dearest hotel band accepted (informational: the budget limits hotel choice).")
    budget_cny: float | None = Field(None, allow_inf_nan=False,
                                     description="Most spent per person over the stay on tickets and its share of "
                                                 "rooms, CNY (>= 0; null: no budget).")
    packed_lunch: bool = Field(False, description="The group carries its lunch: no lunch stop is planned "
                                                  "(the demand file's column).")


class RulesIn(BaseModel):
    """An acclimatization rule set (the keys of instances/lhasa/acclimatization.toml)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field("", max_length=100)
    description: str = Field("", max_length=1000)
    arrival_altitude_m: float = Field(3650.0, allow_inf_nan=False, description="Altitude of arrival, m.")
    threshold_m: float = Field(3000.0, allow_inf_nan=False, description="Gains count above this altitude, m.")
    max_sleep_gain_m: float = Field(500.0, allow_inf_nan=False,
                                    description="Highest rise of the sleeping altitude per night, m (WMS: 500).")
    max_consecutive_gain_nights: StrictInt = Field(3, description="Nights of gain in a row at most (0: off).")
    max_sleep_altitude_m: list[float] = Field(min_length=1, max_length=60,
                                              description="Highest sleeping altitude on night 1, 2, ..., m.")
    max_visit_altitude_m: list[float] = Field(min_length=1, max_length=60,
                                              description="Highest altitude reached on day 1, 2, ..., m.")


class ItineraryPlanRequest(BaseModel):
    """Plan multi-day itineraries (hotel per night, visits per day) under the acclimatization rules."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"groups": [EXAMPLE_GROUP], "time_limit_s": 20, "iterations": None, "seed": 0, "as_job": False},
        {"groups": None, "time_limit_s": 60, "seed": 0}]})

    groups: list[ItineraryGroupIn] | None = Field(
        None, max_length=MAX_GROUPS, description=f"The groups (1..{MAX_GROUPS}); null: the embedded demo week "
                                                  "(1,500 groups, always a job).")
    rules: RulesIn | None = Field(None, description="Acclimatization rules; null: the embedded WMS-based set.")
    time_limit_s: float = Field(30.0, gt=0, le=MAX_JOB_TIME_LIMIT_S, allow_inf_nan=False,
                                description="Wall-clock limit of the whole plan, seconds (problem building "
                                            "included): at most LHASA_OPS_MAX_TIME_LIMIT_S when answered at once, "
                                            f"at most {MAX_JOB_TIME_LIMIT_ENV} as a job. Default 30.")
    iterations: StrictInt | None = Field(None, ge=0, le=1_000_000,
                                         description="Search iterations (null: time only); the time limit applies.")
    seed: StrictInt = Field(0, ge=0, le=MAX_SEED, description="Random seed (integer 0..2^32-1).")
    as_job: bool = Field(False, description=f"Queue as a job even with at most {SYNC_MAX_GROUPS} groups.")


def _plan(req: ItineraryPlanRequest, time_limit_s: float) -> dict[str, Any]:
    groups = None if req.groups is None else service.groups_from_records(
        [g.model_dump(exclude_none=True) for g in req.groups], "groups")
    rules = None if req.rules is None else req.rules.model_dump()
    run = service.plan_itineraries(groups, rules=rules, time_limit_s=time_limit_s, iterations=req.iterations,
                                   seed=req.seed)
    out = service.to_dict(run)
    out["violations"] = [str(v) for v in run.violations]
    return out


def _run_job(job: dict[str, Any], progress) -> dict[str, Any]:
    req = ItineraryPlanRequest.model_validate(job["request"])
    return _plan(req, min(req.time_limit_s, max_job_time_limit_s()))


register_kind(KIND_ITINERARIES, _run_job)


def _validate(req: ItineraryPlanRequest, build: bool = False) -> None:
    """Domain checks before anything runs or is queued (HTTP 422 naming the field): the group
    records, the rules and, with ``build`` (a job is about to be queued), the problem they build
    (duplicate ids, a horizon over 366 days: a queued job found them only when it ran and failed)."""
    groups = None
    if req.groups is not None:
        if not req.groups:
            raise InvalidInput("groups", [], "give at least one group (null: the demo week)")
        groups = service.groups_from_records([g.model_dump(exclude_none=True) for g in req.groups], "groups")
    rules = None if req.rules is None else service.rules_from(req.rules.model_dump())
    if build and groups is not None:
        service.check_input(groups, rules)


@router.post("/v1/itineraries/plan", dependencies=[Depends(require_api_key)], response_model=None,
             responses={202: {"description": "Queued as a job: {id, job_id, kind, status, url, status_url, "
                                              "result_url}; the result has the keys of the synchronous answer."}})
def itineraries_plan(req: ItineraryPlanRequest, request: Request) -> dict[str, Any] | JSONResponse:
    """Plan and verify multi-day itineraries, or queue them as a job (large inputs, the demo week, ``as_job``).

    Synchronous answer keys: ``status``, ``groups``/``groups_planned``/``groups_served``, ``persons``/
    ``persons_served``, ``start``/``end`` (dates), ``days``, ``score``, ``unserved_by_reason``, ``hotels``
    (per hotel: room_nights, peak_rooms, rooms per night, nights over), ``quota_sites`` (per quota site:
    persons per day against ``daily_quota``), ``acclimatization`` (``respected``, ``breaks``, ``rules``),
    ``itineraries`` (per group: nights with date and hotel; days with visits HH:MM), ``unserved`` (item,
    reason, detail), ``hotel_usage`` and ``site_usage`` rows, ``notes`` (approximations of the data),
    ``runtime_s`` and ``violations`` (empty for a valid plan).
    """
    big = req.groups is None or len(req.groups) > SYNC_MAX_GROUPS or req.as_job
    _validate(req, build=big)
    if not big:
        return _plan(req, check_time_limit(req.time_limit_s))
    if req.time_limit_s > max_job_time_limit_s():
        raise InvalidInput("time_limit_s", req.time_limit_s,
                           f"must be <= {max_job_time_limit_s():g} seconds (server maximum {MAX_JOB_TIME_LIMIT_ENV})")
    store = ensure_jobs(request.app)
    job_id = store.create(req.model_dump(), total=1, kind=KIND_ITINERARIES)
    request.app.state.job_runner.notify()
    body = {"id": job_id, "job_id": job_id, "kind": KIND_ITINERARIES, "status": "queued", "url": f"/v1/jobs/{job_id}",
            "status_url": f"/v1/jobs/{job_id}", "result_url": f"/v1/jobs/{job_id}/result"}
    return JSONResponse(status_code=202, content=body)


__all__ = ["KIND_ITINERARIES", "SYNC_MAX_GROUPS", "ItineraryPlanRequest", "router"]

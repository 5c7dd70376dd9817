"""Scenario runs over HTTP: ``POST /v1/scenarios`` starts one, ``GET /v1/scenarios/{id}`` polls it.

``POST /v1/scenarios``
    Body: a scenario file as JSON - the same schema as the TOML (``optimizer.scenario``), e.g.
    ``{"base": {"iterations": 500, "demand": {"groups": 100}}, "scenario": [{"name": "peak",
    "demand_scale": [1, 2]}]}``. It is validated before anything is queued; an invalid document
    is HTTP 422 ``{"code": "invalid_input", "message", "field"}`` with ``field`` naming the key
    (``scenario[peak].demand_scale[1]``). A demand ``file`` is not accepted over HTTP (the server's
    files are not the client's), and a run is capped at ``MAX_SCENARIOS`` scenarios of at most
    ``MAX_SCENARIO_GROUPS`` groups each; a scenario's ``time_limit_s`` may not exceed
    ``$LHASA_OPS_MAX_JOB_TIME_LIMIT_S`` (default 600 s), which is also the limit of a scenario
    that gives none. Answers HTTP 202 ``{"id", "job_id", "kind", "status": "queued", "url", "status_url",
    "result_url"}`` (``url`` = ``result_url`` = ``/v1/scenarios/{id}``; ``status_url`` =
    ``/v1/jobs/{id}``).
``GET /v1/scenarios/{id}``
    ``{"id", "status", "progress": {"done", "total"}, "scenarios", "results", "error", "created",
    "updated"}``: status ``queued`` | ``running`` | ``done`` | ``failed``; ``results`` holds the KPI
    dict (``optimizer.scenario_runner.KPI_COLUMNS`` and ``peak_util_<site>``) of every finished
    scenario, in scenario order, as soon as it finishes; ``error`` the reason of a failed run.
    HTTP 404 ``{"code": "not_found", ...}`` for an unknown id.

Jobs and results live in SQLite (``api.http.jobs``), so a restarted server keeps finished results
and resumes unfinished runs.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse

from api.http.jobs import KIND_SCENARIOS, JobRunner, JobStore, db_path
from api.http.limits import max_job_time_limit_s
from api.http.security import require_api_key
from optimizer.domain import InvalidInput

MAX_SCENARIOS = 64
MAX_SCENARIO_GROUPS = 20_000

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])

EXAMPLE = {"base": {"seed": 1, "iterations": 500, "demand": {"profile": "peak", "groups": 100, "seed": 7}},
           "scenario": [{"name": "peak", "demand_scale": [1, 2]},
                        {"name": "potala small", "quota": {"potala": {"daily": 2000, "slot": 400}}}]}


def _no_files(doc: Mapping[str, Any]) -> None:
    base = doc.get("base")
    if isinstance(base, Mapping) and isinstance(base.get("demand"), Mapping) and "file" in base["demand"]:
        raise InvalidInput("base.demand.file", base["demand"]["file"], "demand files are not accepted over HTTP; "
                           "give profile/groups/seed")
    scen = doc.get("scenario")
    for k, s in enumerate(scen if isinstance(scen, list) else [scen] if isinstance(scen, Mapping) else []):
        if isinstance(s, Mapping) and isinstance(s.get("demand"), Mapping) and "file" in s["demand"]:
            name = s.get("name") if isinstance(s.get("name"), str) else f"#{k + 1}"
            raise InvalidInput(f"scenario[{name}].demand.file", s["demand"]["file"],
                               "demand files are not accepted over HTTP; give profile/groups/seed")


_JOBS_LOCK = threading.Lock()


def ensure_jobs(app: Any) -> JobStore:
    """The app's job store and runner, opened (and the runner started) on first use."""
    with _JOBS_LOCK:
        store = getattr(app.state, "job_store", None)
        if store is None:
            store = app.state.job_store = JobStore(db_path())
            runner = app.state.job_runner = JobRunner(store, getattr(app.state, "network", None))
            runner.start()
        return store


def start_jobs(app: Any) -> None:
    """At startup: when the database exists, open it and resume unfinished runs. (No file is
    created until the first scenario request, so an app that never runs scenarios writes none.)"""
    if db_path().exists():
        ensure_jobs(app)


def stop_jobs(app: Any, timeout: float | None = 600.0) -> None:
    """At shutdown: let the scenario in flight finish and commit, then stop the runner."""
    runner: JobRunner | None = getattr(app.state, "job_runner", None)
    if runner is not None:
        runner.stop(timeout)
    app.state.job_store = None
    app.state.job_runner = None


def store_of(request: Request) -> JobStore:
    return ensure_jobs(request.app)


@router.post("", status_code=202, dependencies=[Depends(require_api_key)])
def start_run(request: Request, doc: dict[str, Any] = Body(..., examples=[EXAMPLE])) -> dict[str, Any]:  # noqa: B008
    """Validate a scenario document (the TOML schema of ``optimizer.scenario`` as JSON: ``base`` with
    ``seed``, ``iterations``, ``time_limit_s`` seconds, ``slot_min`` minutes, ``demand`` {profile,
    groups, seed}; ``scenario`` list with name, ``demand_scale`` factor or sweep list, ``quota``
    {site: {daily, slot}} persons, closed sites/roads, ...) and queue its run; poll ``status_url``."""
    from optimizer.scenario import parse_scenarios

    _no_files(doc)
    sset = parse_scenarios(doc, network=request.app.state.network)
    if len(sset.scenarios) > MAX_SCENARIOS:
        raise InvalidInput("scenario", len(sset.scenarios), f"at most {MAX_SCENARIOS} scenarios per run "
                           "(after sweep expansion)")
    cap = max_job_time_limit_s()
    for s in sset.scenarios:
        if s.time_limit_s is not None and s.time_limit_s > cap:
            where = "base.time_limit_s" if s.name == "base" else f"scenario[{s.family}].time_limit_s"
            raise InvalidInput(where, s.time_limit_s, f"must be <= {cap:g} seconds (server maximum "
                               "LHASA_OPS_MAX_JOB_TIME_LIMIT_S)")
        n = s.demand.groups * s.demand_scale
        if n > MAX_SCENARIO_GROUPS:
            where = "base.demand.groups" if s.name == "base" else f"scenario[{s.family}].demand_scale"
            raise InvalidInput(where, math.ceil(n), f"a scenario may have at most {MAX_SCENARIO_GROUPS:,} groups "
                               "(groups x demand_scale)")
    store = store_of(request)
    job_id = store.create(doc, total=len(sset.scenarios))
    request.app.state.job_runner.notify()
    return {"id": job_id, "job_id": job_id, "kind": KIND_SCENARIOS, "status": "queued", "url": f"/v1/scenarios/{job_id}",
            "status_url": f"/v1/jobs/{job_id}", "result_url": f"/v1/scenarios/{job_id}"}


@router.get("/{job_id}", response_model=None)
def get_run(job_id: str, request: Request) -> dict[str, Any] | JSONResponse:
    """Status, progress and the KPIs of every finished scenario of a run.

    Keys: ``id``, ``kind``, ``status`` (queued, running, done, failed), ``progress`` {done, total}
    (scenarios), ``scenarios`` (names in order), ``results`` (one KPI dict per finished scenario:
    groups and visitors in counts/persons, ``served_pct`` %, ``mean_wait_min`` and
    ``total_travel_min`` minutes, ``peak_slot_util_max`` and ``peak_util_<site>`` fractions of the
    slot quota, ``unserved_<reason>`` counts, ``violations``, ``iterations``, ``runtime_s`` seconds,
    ``seed``), ``error``, ``created``/``updated`` (ISO 8601 UTC).
    """
    job = None
    if getattr(request.app.state, "job_store", None) is not None or db_path().exists():
        job = store_of(request).get(job_id)
    if job is None or job.get("kind", KIND_SCENARIOS) != KIND_SCENARIOS:
        return JSONResponse(status_code=404, content={"code": "not_found", "message": f"no scenario run {job_id}",
                                                      "field": "id"})
    from optimizer.scenario import parse_scenarios

    request_doc = job.pop("request")
    try:
        job["scenarios"] = [s.name for s in parse_scenarios(request_doc, network=request.app.state.network).scenarios]
    except InvalidInput:  # validated when posted; only a schema change could make it fail now
        job["scenarios"] = [r["scenario"] for r in job["results"]]
    return job


__all__ = ["MAX_SCENARIOS", "MAX_SCENARIO_GROUPS", "ensure_jobs", "router", "start_jobs", "stop_jobs"]

"""Scenario runs over HTTP: ``POST /v1/scenarios`` starts one, ``GET /v1/scenarios/{id}`` polls it.

``POST /v1/scenarios``
    Body: a scenario file as JSON - the same schema as the TOML (``optimizer.scenarios.spec``), e.g.
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
    dict (``optimizer.scenarios.report.KPI_COLUMNS`` and ``peak_util_<site>``) of every finished
    scenario, in scenario order, as soon as it finishes; ``error`` the reason of a failed run.
    HTTP 404 ``{"code": "not_found", ...}`` for an unknown id.

Jobs and results live in SQLite (``api.http.jobs``), so a restarted server keeps finished results
and resumes unfinished runs; the run itself is ``api.services.scenarios.run_job``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse

from api.http.jobs import (
    KIND_SCENARIOS,
    JobSteps,
    ensure_jobs,
    find_job,
    register_steps_kind,
    start_jobs,
    stop_jobs,
)
from api.http.limits import max_job_time_limit_s
from api.http.security import require_api_key
from api.services import scenarios as service
from api.services.scenarios import MAX_SCENARIO_GROUPS, MAX_SCENARIOS

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])

EXAMPLE = {"base": {"seed": 1, "iterations": 500, "demand": {"profile": "peak", "groups": 100, "seed": 7}},
           "scenario": [{"name": "peak", "demand_scale": [1, 2]},
                        {"name": "potala small", "quota": {"potala": {"daily": 2000, "slot": 400}}}]}


def _run_scenarios_job(job: dict[str, Any], steps: JobSteps) -> None:
    service.run_job(job["request"], steps.done, steps.add, steps.stopping, max_job_time_limit_s())


register_steps_kind(KIND_SCENARIOS, _run_scenarios_job)


@router.post("", status_code=202, dependencies=[Depends(require_api_key)])
def start_run(request: Request, doc: dict[str, Any] = Body(..., examples=[EXAMPLE])) -> dict[str, Any]:  # noqa: B008
    """Validate a scenario document (the TOML schema of ``optimizer.scenarios.spec`` as JSON: ``base`` with
    ``seed``, ``iterations``, ``time_limit_s`` seconds, ``slot_min`` minutes, ``demand`` {profile,
    groups, seed}; ``scenario`` list with name, ``demand_scale`` factor or sweep list, ``quota``
    {site: {daily, slot}} persons, closed sites/roads, ...) and queue its run; poll ``status_url``."""
    sset = service.check_request(doc, max_job_time_limit_s())
    store = ensure_jobs(request.app)
    job_id = store.create(doc, total=len(sset.scenarios), kind=KIND_SCENARIOS)
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
    job = find_job(request.app, job_id)
    if job is None or job.get("kind", KIND_SCENARIOS) != KIND_SCENARIOS:
        return JSONResponse(status_code=404, content={"code": "not_found", "message": f"no scenario run {job_id}",
                                                      "field": "id"})
    names = service.scenario_names(job.pop("request"))
    # validated when posted; only a schema change could make it fail now
    job["scenarios"] = names if names is not None else [r["scenario"] for r in job["results"]]
    return job


def store_of(request: Request) -> Any:
    """The app's job store (opened on first use)."""
    return ensure_jobs(request.app)


__all__ = ["MAX_SCENARIOS", "MAX_SCENARIO_GROUPS", "ensure_jobs", "router", "start_jobs", "stop_jobs"]

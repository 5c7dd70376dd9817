"""Long work as jobs: ``POST /v1/jobs/oxygen-plan`` queues a multi-day oxygen plan, ``GET /v1/jobs/{id}``
polls any job, ``GET /v1/jobs/{id}/result`` fetches its result.

``POST /v1/jobs/oxygen-plan``
    Body: ``OxygenJobRequest`` - the ``POST /v1/stations/oxygen-plan`` request, with a time limit
    up to ``LHASA_OPS_MAX_JOB_TIME_LIMIT_S`` (default 600 s) instead of the synchronous maximum.
    Validated before anything is queued (HTTP 422 ``invalid_input`` naming the field). Answers
    HTTP 202 ``{"id", "job_id", "kind", "status": "queued", "status_url", "result_url", "url"}``.
``GET /v1/jobs/{id}``
    ``{"id", "kind", "status", "progress": {"done", "total"}, "status_url", "result_url",
    "result", "error", "created", "updated"}``; status ``queued`` | ``running`` | ``done`` |
    ``failed``; ``result`` is the plan once done (null before; for scenario runs see
    ``result_url`` = ``/v1/scenarios/{id}``); ``error`` the reason of a failed job. Oxygen-plan
    progress counts 2 steps: the tour plan (demo day, ``groups`` or ``plan``), then the
    inventory-routing solve.
``GET /v1/jobs/{id}/result``
    The result document (HTTP 200) once done; HTTP 409 ``{"code": "not_ready"}`` while queued or
    running, HTTP 409 ``{"code": "job_failed"}`` for a failed job; 404 for an unknown id.

Jobs live in the SQLite job store of ``api.http.jobs`` (``$LHASA_OPS_DB``) and run one at a time on its
runner thread, after the jobs queued before them (scenario runs included); servers that share the
store claim each job with a lease, so it runs on one of them (``api.http.jobs``). A restarted server keeps
finished results and runs unfinished jobs again (an oxygen plan is one unit of work: it restarts
from the beginning, with the same seed, so it gives the same plan when its iteration budget, not
its time limit, ends the search).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.http.jobs import KIND_SCENARIOS, configured_store_exists, ensure_jobs, register_kind
from api.http.limits import MAX_JOB_TIME_LIMIT_ENV, MAX_JOB_TIME_LIMIT_S, max_job_time_limit_s
from api.http.routes.station_ops import OxygenRequest, check_oxygen_request, oxygen_doc
from api.http.security import require_api_key
from api.services.tours import lhasa_network
from optimizer.core.clock import Deadline
from optimizer.core.errors import InvalidInput

KIND_OXYGEN = "oxygen-plan"
OXYGEN_STEPS = 2

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


class OxygenJobRequest(OxygenRequest):
    """An oxygen plan run as a job: the synchronous request's fields, a longer time limit allowed."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"method": "exact", "trucks": 3, "truck_capacity": 40, "shift_min": 600.0, "depot": "lhasa_railway",
         "lookahead": None, "time_limit_s": 120, "safety_days": 1.0, "safety_min_cylinders": 1,
         "iterations": 2000}]})

    time_limit_s: float = Field(60.0, gt=0, le=MAX_JOB_TIME_LIMIT_S, allow_inf_nan=False,
                                description=f"Wall-clock limit of the job once it starts, seconds (0 < x <= "
                                            f"{MAX_JOB_TIME_LIMIT_S:g}, the server maximum {MAX_JOB_TIME_LIMIT_ENV}); "
                                            "covers the tour plan, construction and the solve. Default 60.")


class Progress(BaseModel):
    done: int = Field(description="Steps (scenario runs: scenarios) finished.")
    total: int = Field(description="Steps (scenario runs: scenarios) in the job.")


class JobQueued(BaseModel):
    """HTTP 202 answer of a job submission."""

    id: str = Field(description="Job id (32 hex digits).")
    job_id: str = Field(description="Same as id.")
    kind: str = Field(description="oxygen-plan or scenarios.")
    status: str = Field(description="'queued'.")
    url: str = Field(description="Same as status_url.")
    status_url: str = Field(description="GET it for status and progress: /v1/jobs/{id}.")
    result_url: str = Field(description="GET it for the result once done: /v1/jobs/{id}/result.")


class JobOut(BaseModel):
    """A job's status, progress and (once done) result."""

    id: str
    kind: str = Field(description="oxygen-plan or scenarios.")
    status: str = Field(description="queued, running, done or failed.")
    progress: Progress
    status_url: str
    result_url: str = Field(description="Where the result is (scenario runs: /v1/scenarios/{id}).")
    result: dict[str, Any] | None = Field(description="The result document once done (oxygen plan: the keys of "
                                                      "POST /v1/stations/oxygen-plan); null before and for "
                                                      "scenario runs.")
    error: str | None = Field(description="Why the job failed, or null.")
    created: str = Field(description="Submission time, ISO 8601 UTC.")
    updated: str = Field(description="Last change, ISO 8601 UTC.")


class JobError(BaseModel):
    code: str = Field(description="not_found, not_ready or job_failed.")
    message: str
    field: str | None


def _run_oxygen_job(job: dict[str, Any], progress) -> dict[str, Any]:
    req = OxygenJobRequest.model_validate(job["request"])
    deadline = Deadline(min(req.time_limit_s, max_job_time_limit_s()))
    return oxygen_doc(req, deadline, planned=lambda: progress(1))  # step 1: the tour plan; 2: the solve


register_kind(KIND_OXYGEN, _run_oxygen_job)


def _urls(job_id: str, kind: str) -> dict[str, str]:
    if kind == KIND_SCENARIOS:
        return {"status_url": f"/v1/jobs/{job_id}", "result_url": f"/v1/scenarios/{job_id}"}
    return {"status_url": f"/v1/jobs/{job_id}", "result_url": f"/v1/jobs/{job_id}/result"}


def _not_found(job_id: str) -> JSONResponse:
    return JSONResponse(status_code=404, content={"code": "not_found", "message": f"no job {job_id}", "field": "id"})


def _job(request: Request, job_id: str) -> dict[str, Any] | None:
    if getattr(request.app.state, "job_store", None) is None and not configured_store_exists():
        return None
    return ensure_jobs(request.app).get(job_id)


@router.post("/oxygen-plan", status_code=202, response_model=JobQueued, dependencies=[Depends(require_api_key)])
def start_oxygen_plan(req: OxygenJobRequest, request: Request) -> dict[str, Any]:
    """Queue a multi-day oxygen plan; poll ``status_url``, then fetch ``result_url`` (the plan, keys as
    ``POST /v1/stations/oxygen-plan``)."""
    if req.time_limit_s > max_job_time_limit_s():
        raise InvalidInput("time_limit_s", req.time_limit_s,
                           f"must be <= {max_job_time_limit_s():g} seconds (server maximum {MAX_JOB_TIME_LIMIT_ENV})")
    if not lhasa_network().has_site(req.depot):
        raise InvalidInput("depot", req.depot, "is not a site of the network")
    check_oxygen_request(req)  # 422 now rather than a job that fails
    store = ensure_jobs(request.app)
    job_id = store.create(req.model_dump(), total=OXYGEN_STEPS, kind=KIND_OXYGEN)
    request.app.state.job_runner.notify()
    return {"id": job_id, "job_id": job_id, "kind": KIND_OXYGEN, "status": "queued",
            "url": f"/v1/jobs/{job_id}", **_urls(job_id, KIND_OXYGEN)}


@router.get("/{job_id}", response_model=JobOut, responses={404: {"model": JobError}})
def get_job(job_id: str, request: Request) -> Any:
    """Status, progress ({done, total} steps), result URL and, once done, the result of a job."""
    job = _job(request, job_id)
    if job is None:
        return _not_found(job_id)
    job.pop("request", None)
    results = job.pop("results")
    job.update(_urls(job_id, job["kind"]))
    job["result"] = results[0] if job["kind"] != KIND_SCENARIOS and job["status"] == "done" and results else None
    return job


@router.get("/{job_id}/result", response_model=None,
            responses={200: {"description": "The result document (keys as the synchronous endpoint)."},
                       404: {"model": JobError}, 409: {"model": JobError}})
def get_job_result(job_id: str, request: Request) -> dict[str, Any] | JSONResponse:
    """The result of a finished job (409 while it is queued or running, or when it failed)."""
    job = _job(request, job_id)
    if job is None:
        return _not_found(job_id)
    if job["status"] == "failed":
        return JSONResponse(status_code=409, content={"code": "job_failed", "message": job["error"] or "job failed",
                                                      "field": "id"})
    if job["status"] != "done":
        return JSONResponse(status_code=409, content={"code": "not_ready", "message": f"job {job_id} is "
                                                      f"{job['status']} ({job['progress']['done']} of "
                                                      f"{job['progress']['total']} steps done)", "field": "id"})
    if job["kind"] == KIND_SCENARIOS:
        return {"scenarios": job["results"]}
    return job["results"][0] if job["results"] else {}


__all__ = ["KIND_OXYGEN", "OxygenJobRequest", "router"]

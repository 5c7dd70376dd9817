"""Readiness: ``GET /readyz`` (``/healthz``, the liveness probe, is in ``api.http.routes.tours``).

``/readyz`` answers 200 ``{"status": "ready", "checks": {...}}`` when the server can do its work:

* ``kernels``: the tour kernels are compiled (tour, then drone kernels, compile on a background
  thread started with the server, which answers meanwhile; ``checks.kernels`` says ``compiling``
  per family). The drone kernels do not hold readiness back: a drone request that comes while
  they compile waits for them before its time limit starts;
* ``store``: the job store (``$LHASA_OPS_DB``: a SQLite file or a PostgreSQL database) takes a write
  now (a rolled-back write with a short lock timeout, ``JobStore.probe``), or, before the first job,
  the SQLite file can be created;
* ``runner``: the job runner thread is alive and not retrying after store errors.

Otherwise 503 with the first reason as ``{"code", "message", "field"}``, every reason in
``reasons`` and the details in ``checks``. Codes: ``warming_up`` (field ``kernels``),
``store_locked`` / ``store_not_writable`` / ``store_unavailable`` (field ``LHASA_OPS_DB``),
``runner_dead`` and ``runner_stopped`` (field ``runner``; after a store error the runner reports the
store's code while it retries); ``check_failed`` when the check itself raised (logged).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.http.jobs import DB_ENV, JobStore, check_db_path
from api.services.store_db import db_url, describe, store_exists
from optimizer.core.errors import InvalidInput

router = APIRouter()
log = logging.getLogger(__name__)


class Reason(BaseModel):
    code: str = Field(description="warming_up, store_locked, store_not_writable, store_unavailable, "
                                  "runner_dead, runner_stopped.")
    message: str
    field: str | None = Field(description="What is not ready: 'kernels', 'LHASA_OPS_DB' or 'runner'.")


class ReadyOut(BaseModel):
    """The server can do its work."""

    status: str = Field(description="'ready'.")
    checks: dict[str, Any] = Field(description="kernels, store and runner, each with its state.")


class NotReadyOut(Reason):
    """The server cannot do its work now: the first reason, then all of them."""

    reasons: list[Reason]
    checks: dict[str, Any]


def readiness(app: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(reasons the server is not ready, empty when it is; the checks)."""
    reasons: list[dict[str, Any]] = []
    checks: dict[str, Any] = {}

    tours_ready = bool(getattr(app.state, "tours_warm", False))
    drones = getattr(app.state, "drones_warm", None)
    drones_ready = drones is not None and drones.is_set()
    checks["kernels"] = {"tours": "compiled" if tours_ready else "compiling",
                         "drones": "compiled" if drones_ready else "compiling"}
    if not tours_ready:  # the drone kernels compile after them; a drone request waits for them meanwhile
        waiting = "tours and drones" if not drones_ready else "tours"
        reasons.append({"code": "warming_up", "message": f"compiling the {waiting} kernels", "field": "kernels"})

    store = getattr(app.state, "job_store", None)
    try:
        url = db_url() if store is None else store.url
    except InvalidInput as e:  # refused at start-up; only a changed environment gets here
        url, where = None, str(e.value)
        checks["store"] = {"path": where, "state": "store_unavailable"}
        reasons.append({"code": "store_unavailable", "message": str(e), "field": DB_ENV})
    if url is not None:
        where = describe(url)
        if store is not None or store_exists(url):
            if store is not None:
                err = store.probe()
            else:
                err = JobStore.probe_path(url.render_as_string(hide_password=False))  # not opened here yet
            checks["store"] = {"path": where, "state": "writable" if err is None else err.code}
            if err is not None:
                reasons.append({"code": err.code, "message": err.message, "field": DB_ENV})
        else:
            problem = check_db_path(where)
            checks["store"] = {"path": where, "state": "not created yet" if problem is None else "not_writable"}
            if problem is not None:
                reasons.append({"code": "store_not_writable", "message": str(problem), "field": DB_ENV})

    runner = getattr(app.state, "job_runner", None)
    if runner is None:
        checks["runner"] = {"state": "not started (starts with the first job)"}
    elif not callable(getattr(runner, "health", None)):
        checks["runner"] = {"state": "unknown"}  # a stand-in runner (the fuzz bench) reports nothing
    else:
        h = runner.health()
        checks["runner"] = h
        if h["state"] in ("dead", "stopped"):
            reasons.append({"code": f"runner_{h['state']}", "message": f"the job runner thread is {h['state']}"
                            + (f"; last error: {h['last_error']}" if h["last_error"] else ""), "field": "runner"})
        elif h["state"] == "retrying":
            code = h["last_error_code"] or "runner_error"
            if not any(r["code"] == code for r in reasons):
                reasons.append({"code": code, "message": f"the job runner is retrying since {h['failing_since']} "
                                f"({h['failures']} failures): {h['last_error']}",
                                "field": DB_ENV if code.startswith("store_") else "runner"})
    return reasons, checks


@router.get("/readyz", tags=["ops"], response_model=ReadyOut,
            responses={503: {"model": NotReadyOut, "description": "Not ready: the reason, e.g. warming_up, "
                                                                  "store_locked, store_not_writable, runner_dead."}})
def readyz(request: Request) -> Any:
    """Readiness probe: 200 when the kernels are compiled, the job store is writable and the job runner
    is alive; otherwise 503 naming the reason (``/healthz`` is the liveness probe)."""
    try:
        reasons, checks = readiness(request.app)
    except Exception as e:  # noqa: BLE001 - a probe answers, it never fails with a 500
        log.exception("readiness check failed")
        reasons, checks = [{"code": "check_failed", "message": f"{type(e).__name__}: {e}", "field": None}], {}
    if not reasons:
        return {"status": "ready", "checks": checks}
    first = reasons[0]
    return JSONResponse(status_code=503, content={**first, "reasons": reasons, "checks": checks},
                        headers={"Retry-After": "5"})

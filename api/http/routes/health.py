"""Readiness: ``GET /readyz`` (``/healthz``, the liveness probe, is in ``api.http.routes.tours``).

``/readyz`` answers 200 ``{"status": "ready", "checks": {...}}`` when the server can do its work:

* ``kernels``: the tour kernels are compiled. ``start_warm_up`` compiles (or loads from Numba's
  disk cache) each family's kernels in turn on a background thread started with the server, which
  answers meanwhile: tours first (the web app and most requests), then drones, then itineraries. A
  family with a compile plan compiles a cold cache in worker processes (``optimizer.core.warmup``):
  the tours' two workers start with the server, the itineraries' worker once the tours are done
  (this process then only loads them; the itineraries take about a minute on 2 cores).
  ``checks.kernels`` says per family ``compiled``, ``compiling (N s so far)``, ``compiling in worker
  processes (N s so far)``, ``waiting`` (its turn comes), ``failed`` (logged; its first request
  compiles) or ``not started`` (an app whose start-up has not run: not ready). Only the tour kernels
  hold readiness back (``checks.kernels_ready_needs``; a first run after an install: about 10 s on 2
  cores), and the 503 message says so; a request for a family that is still
  compiling waits for it, and its time limit starts after (``optimizer.core.warmup``);
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
import threading
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.http.jobs import DB_ENV, JobStore, check_db_path
from api.services.drones import KERNELS as DRONE_KERNELS
from api.services.itineraries import KERNELS as ITINERARY_KERNELS
from api.services.store_db import db_url, describe, store_exists
from optimizer.core.errors import InvalidInput
from optimizer.core.warmup import KernelWarmUp
from optimizer.tours import KERNELS as TOUR_KERNELS

router = APIRouter()
log = logging.getLogger(__name__)

KERNEL_FAMILIES: tuple[KernelWarmUp, ...] = (TOUR_KERNELS, DRONE_KERNELS, ITINERARY_KERNELS)
"""Families whose kernels ``serve`` compiles at start-up, in this order."""
READY_NEEDS = frozenset({"tours"})
"""Families ``/readyz`` waits for; the others compile after and their requests wait for them."""
_WARM_THREAD: list[threading.Thread] = []  # the one warm-up thread of this process
_FAILED: set[str] = set()  # families whose warm-up raised (logged); their first request compiles


def start_warm_up(app: Any) -> None:
    """Compile (or load from Numba's cache) the kernels of ``KERNEL_FAMILIES`` in order on a daemon
    thread, once per process (another app of the process shares it), so the server answers
    (``/healthz``; ``/readyz`` saying what it compiles) within seconds of starting. A family whose
    warm-up fails is logged and marked ``failed``: it never holds readiness back, and its first request
    compiles (and waits for) it."""
    app.state.kernel_families = KERNEL_FAMILIES
    if _WARM_THREAD:
        return
    families = KERNEL_FAMILIES

    def run() -> None:
        for k in families:  # the families readiness needs: in worker processes when their cache is cold
            if k.family in READY_NEEDS:
                k.start_workers()
        rest_started = False
        for k in families:
            if k.family not in READY_NEEDS and not rest_started:  # the others' workers start after them
                for r in families:
                    if r.family not in READY_NEEDS:
                        r.start_workers()
                rest_started = True
            try:
                k.ensure()
            except Exception:  # noqa: BLE001 - warming is an optimisation; the first request tries again
                log.exception("%s kernel warm-up failed", k.family)
                _FAILED.add(k.family)

    t = threading.Thread(target=run, name="lhasa-ops-warm-kernels", daemon=True)
    _WARM_THREAD.append(t)
    t.start()


def kernel_states(families: tuple[KernelWarmUp, ...]) -> dict[str, str]:
    """Per family: ``compiled``, ``compiling (N s so far)``, ``compiling in worker processes (N s so
    far)`` (its workers run while the warm-up thread is on another family), ``failed`` or ``waiting``."""
    states = {}
    for k in families:
        if k.is_compiled():
            states[k.family] = "compiled"
        elif k.family in _FAILED:
            states[k.family] = "failed"
        elif (s := k.compiling_for_s()) is not None:
            states[k.family] = f"compiling ({s:.0f} s so far)"
        elif (s := k.workers_running_for_s()) is not None:
            states[k.family] = f"compiling in worker processes ({s:.0f} s so far)"
        else:
            states[k.family] = "waiting"
    return states


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

    families = getattr(app.state, "kernel_families", None)  # set by start_warm_up (the app's start-up)
    if families is None:  # start-up not run (an app without its lifespan): it has not loaded anything
        states = {k.family: "not started" for k in KERNEL_FAMILIES}
    else:
        states = kernel_states(families)
    checks["kernels"] = states
    checks["kernels_ready_needs"] = sorted(READY_NEEDS)
    blocking = [f for f, st in states.items() if f in READY_NEEDS and st not in ("compiled", "failed")]
    if blocking:  # the other families compile after them; their requests wait for them meanwhile
        pending = [f"{f} {st}" for f, st in states.items() if st not in ("compiled", "failed")]
        reasons.append({"code": "warming_up", "field": "kernels",
                        "message": f"compiling the solver kernels, once after an install (then cached): "
                                   f"{', '.join(pending)} (ready once {', '.join(sorted(READY_NEEDS))} "
                                   f"compiled; a request for another family waits for its kernels)"})

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

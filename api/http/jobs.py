"""Persistent jobs of the HTTP API: the job store, one background runner per server, for any job kind.

Modules (one concept each): ``api.services.store_db`` (``$LHASA_OPS_DB`` as a SQLAlchemy engine: a
SQLite file by default, PostgreSQL for several servers), ``api.http.job_sql`` (tables and every SQL
statement), ``api.http.job_store`` (``JobStore``, ``StoreError``, ``LeaseLost``),
``api.http.job_runner`` (``JobRunner``, ``JobSteps``, the kind registry, the audit trail). This
module holds the settings and the app glue and re-exports the names routes and tests use.

``JobStore(where)`` keeps two tables (``job_sql``) in the database ``where``: ``$LHASA_OPS_DB``, a
file path (default ``./lhasa_ops.sqlite3``), ``sqlite:///path`` or ``postgresql://user:pw@host/db``::

    jobs(id, kind, status, done, total, request, error, created, updated, owner, lease_until)
        status: queued -> running -> done | failed; request: the POSTed document (JSON);
        owner / lease_until: the runner that holds the job and until when (epoch seconds)
    results(job_id, idx, scenario, kpis, created)      one row per finished step, PRIMARY KEY
                                                       (job_id, scenario); kpis: its result (JSON)

This package knows no job kind: a route module registers the kinds it posts, with the run function
of its service.

* ``register_kind(kind, handler)``: one unit of work. ``handler(job, progress)`` gets the job
  dict (``request`` is the posted JSON) and a ``progress(done)`` callback and returns the result
  dict, stored as the job's single result row (``scenario`` = ``RESULT_ROW``); resumed after a
  restart, it runs again from the start.
* ``register_steps_kind(kind, handler)``: a job of named steps (e.g. the scenarios of a run).
  ``handler(job, steps)`` gets a ``JobSteps``: ``steps.done`` (names of the steps already
  committed: skip them), ``steps.add(idx, name, result)`` (commit one step's result and the job's
  progress in one transaction) and ``steps.stopping()`` (the server is shutting down: return
  after the step in flight). Resumed after a restart, it runs only the steps not yet committed.

A handler that raises fails the job (``error`` = the exception's type and message). ``JobRunner
(store)`` is one daemon thread that takes queued/running jobs oldest first (every kind, one at a
time). ``stop()`` (the app's shutdown) lets the step in flight finish, commits it, releases the
job's lease and returns; the job stays ``running``. On ``start()`` every job left ``queued`` or
``running`` by a previous process is resumed (once its lease, if any, has expired).

Leases (several servers on one store). A runner takes a job only by claiming it: one conditional
``UPDATE jobs SET owner, lease_until WHERE ... AND (owner IS NULL OR lease_until < now)`` (SQLite:
inside ``BEGIN IMMEDIATE``; PostgreSQL: ``WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1)``),
so of two servers exactly one gets it. While it works, a heartbeat thread renews the lease every
``heartbeat_s`` (``$LHASA_OPS_JOB_HEARTBEAT_S``, default 15 s) to ``now + lease_s``
(``$LHASA_OPS_JOB_LEASE_S``, default 60 s). Every write of the runner (step result, progress, final
status) checks in its own transaction that the runner is still the owner; otherwise it is refused
(``LeaseLost``, logged) and the runner drops the job without marking it. An expired lease (a killed
or frozen server) is taken over by the next claim; the new owner runs only the steps not yet
committed. A step result is inserted, never replaced: a second result for a committed step is
refused and logged. Steps are committed per step, but claimed per job: one job runs on one server
at a time. ``ensure_jobs(app)`` / ``start_jobs(app)`` / ``stop_jobs(app)`` open the store and the
runner on ``app.state`` (``job_store``, ``job_runner``). ``$LHASA_OPS_JOB_AUDIT``: a file that gets
one line per computed step (``job_runner``).

Store faults. Every database error of the store is a ``StoreError`` (an ``ApiError``: HTTP 503 with
``code`` ``store_locked``, ``store_not_writable`` or ``store_unavailable``, ``field``
``LHASA_OPS_DB``), so a POST on a locked, read-only or unreachable store answers a JSON 503, never
a 500. A connection waits ``BUSY_TIMEOUT_S`` (default 30 s) for another connection's lock (SQLite
busy timeout, PostgreSQL ``lock_timeout``). The runner survives store errors: it logs them and
retries with capped exponential backoff (``BACKOFF_S`` doubling up to ``BACKOFF_MAX_S``); a step
result or final status that cannot be committed is retried (the work is not redone) until it
commits or the runner stops. ``JobRunner.health()`` says whether the thread is alive, the last store
error and since when it has been failing. ``JobStore.probe()`` (used by ``/readyz``) tries a write
with a short lock wait; ``check_environment()`` refuses an impossible ``LHASA_OPS_DB`` and lease
settings at start."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from api.http.job_runner import (
    AUDIT_ENV,
    HEARTBEAT_S,
    LEASE_S,
    JobRunner,
    JobSteps,
    audit,
    register_kind,
    register_steps_kind,
)
from api.http.job_sql import SQL
from api.http.job_store import (
    ACTIVE,
    KIND_SCENARIOS,
    RESULT_ROW,
    JobStore,
    LeaseLost,
    StoreError,
    check_db_path,
    store_error,
)
from api.services.store_db import BUSY_TIMEOUT_S, DB_ENV, DEFAULT_DB, db_url, db_value, get_engine, store_exists
from optimizer.core.errors import InvalidInput

BACKOFF_S = 0.5
BACKOFF_MAX_S = 30.0
"""The runner's retry delay after a store error: ``BACKOFF_S`` doubling per failure, at most this."""
LEASE_ENV = "LHASA_OPS_JOB_LEASE_S"
HEARTBEAT_ENV = "LHASA_OPS_JOB_HEARTBEAT_S"

log = logging.getLogger(__name__)


def db_path() -> Path:
    """``$LHASA_OPS_DB`` (or ``./lhasa_ops.sqlite3``) as a ``Path``: the SQLite file, kept for callers
    written before PostgreSQL. For either back end use ``store_db.db_url()`` / ``configured_store_exists()``."""
    return Path(db_value())


def _seconds_env(name: str, default: float) -> tuple[float, InvalidInput | None]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default, None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (0 < value <= 86_400):  # also refuses nan and inf
        return default, InvalidInput(name, raw, "must be a number of seconds, 0 < x <= 86400")
    return value, None


def lease_settings() -> tuple[float, float]:
    """``(lease_s, heartbeat_s)`` from ``$LHASA_OPS_JOB_LEASE_S`` / ``$LHASA_OPS_JOB_HEARTBEAT_S``
    (defaults 60 s / 15 s; an invalid value, refused by ``check_environment``, falls back to them)."""
    lease, bad_lease = _seconds_env(LEASE_ENV, LEASE_S)
    beat, bad_beat = _seconds_env(HEARTBEAT_ENV, HEARTBEAT_S)
    if bad_lease or bad_beat or beat >= lease:
        return LEASE_S, HEARTBEAT_S
    return lease, beat


def check_environment() -> list[InvalidInput]:
    """Problems of the job-store settings (empty: fine)."""
    problems = [p for p in (check_db_path(db_value()),) if p is not None]
    lease, bad_lease = _seconds_env(LEASE_ENV, LEASE_S)
    beat, bad_beat = _seconds_env(HEARTBEAT_ENV, HEARTBEAT_S)
    problems += [p for p in (bad_lease, bad_beat) if p is not None]
    if not (bad_lease or bad_beat) and beat >= lease:
        problems.append(InvalidInput(HEARTBEAT_ENV, os.environ.get(HEARTBEAT_ENV, str(beat)),
                                     f"must be shorter than the lease {LEASE_ENV}={lease:g} s"))
    return problems


def configured_store_exists() -> bool:
    """Whether the configured store is there to open (a SQLite file that exists, or a PostgreSQL
    database: always), without creating anything."""
    try:
        return store_exists(db_url())
    except InvalidInput:
        return False


_JOBS_LOCK = threading.Lock()


def ensure_jobs(app: Any) -> JobStore:
    """The app's job store and runner (``app.state.job_store``, ``app.state.job_runner``), opened
    (and the runner started) on first use."""
    with _JOBS_LOCK:
        store = getattr(app.state, "job_store", None)
        if store is None:
            store = app.state.job_store = JobStore(db_value(), busy_timeout_s=BUSY_TIMEOUT_S)
            lease_s, heartbeat_s = lease_settings()
            runner = app.state.job_runner = JobRunner(store, backoff_s=BACKOFF_S, backoff_max_s=BACKOFF_MAX_S,
                                                      lease_s=lease_s, heartbeat_s=heartbeat_s)
            runner.start()
        return store


def start_jobs(app: Any) -> None:
    """At startup: when the database exists, open it and resume unfinished jobs. (No file is
    created until the first job is posted, so an app that runs no job writes none.) A store that
    cannot be opened now (locked, read-only) is logged and opened on the next job request; ``/readyz``
    says why."""
    if configured_store_exists():
        try:
            ensure_jobs(app)
        except StoreError as e:
            log.warning("job store not opened at start: %s", e.message)


def stop_jobs(app: Any, timeout: float | None = 600.0) -> None:
    """At shutdown: let the step in flight finish and commit, then stop the runner."""
    runner: JobRunner | None = getattr(app.state, "job_runner", None)
    if runner is not None:
        runner.stop(timeout)
    app.state.job_store = None
    app.state.job_runner = None


def find_job(app: Any, job_id: str) -> dict[str, Any] | None:
    """The job ``job_id`` or None (without creating a database when there is none yet)."""
    if getattr(app.state, "job_store", None) is None and not configured_store_exists():
        return None
    return ensure_jobs(app).get(job_id)


def wait_for(store: JobStore, job_id: str, pred, timeout: float = 60.0, poll: float = 0.05) -> dict[str, Any]:
    """Poll until ``pred(job)`` holds (for tests and scripts); raises TimeoutError."""
    t0 = time.monotonic()
    while True:
        job = store.get(job_id)
        if job is not None and pred(job):
            return job
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"job {job_id}: {job and job['status']} {job and job['progress']}")
        time.sleep(poll)


__all__ = [
    "ACTIVE",
    "AUDIT_ENV",
    "BUSY_TIMEOUT_S",
    "DB_ENV",
    "DEFAULT_DB",
    "HEARTBEAT_ENV",
    "KIND_SCENARIOS",
    "LEASE_ENV",
    "RESULT_ROW",
    "SQL",
    "JobRunner",
    "JobSteps",
    "JobStore",
    "LeaseLost",
    "StoreError",
    "audit",
    "check_db_path",
    "check_environment",
    "configured_store_exists",
    "db_path",
    "ensure_jobs",
    "find_job",
    "get_engine",
    "lease_settings",
    "register_kind",
    "register_steps_kind",
    "start_jobs",
    "stop_jobs",
    "store_error",
    "wait_for",
]

"""Persistent jobs of the HTTP API: a SQLite job store and one background runner, for any job kind.

``JobStore(path)`` keeps two tables in one SQLite file (path: ``$LHASA_OPS_DB``, default
``./lhasa_ops.sqlite3``)::

    jobs(id, kind, status, done, total, request, error, created, updated)
        status: queued -> running -> done | failed; request: the POSTed document (JSON)
    results(job_id, idx, scenario, kpis, created)      one row per finished step, PRIMARY KEY
                                                       (job_id, scenario); kpis: its result (JSON)

This module knows no job kind: a route module registers the kinds it posts, with the run function
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
time). ``stop()`` (the app's shutdown) lets the step in flight finish, commits it and returns;
the job stays ``running``. On ``start()`` every job left ``queued`` or ``running`` by a previous
process is resumed. ``ensure_jobs(app)`` / ``start_jobs(app)`` / ``stop_jobs(app)`` open the
store and the runner on ``app.state`` (``job_store``, ``job_runner``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from optimizer.core.serialize import json_safe

DB_ENV = "LHASA_OPS_DB"
DEFAULT_DB = "lhasa_ops.sqlite3"
KIND_SCENARIOS = "scenarios"
"""The kind name of scenario runs (registered by ``api.http.routes.scenarios``; named here so that
``api.http.routes.jobs`` can point a scenario run's ``result_url`` at ``/v1/scenarios/{id}``)."""
ACTIVE = ("queued", "running")
RESULT_ROW = "result"

JobHandler = Callable[[dict[str, Any], Callable[[int], None]], Mapping[str, Any]]
StepsHandler = Callable[[dict[str, Any], "JobSteps"], None]
_HANDLERS: dict[str, JobHandler] = {}
_STEP_HANDLERS: dict[str, StepsHandler] = {}


def register_kind(kind: str, handler: JobHandler) -> None:
    """Make the runner run jobs of ``kind`` with ``handler(job, progress) -> result`` (one unit)."""
    _STEP_HANDLERS.pop(kind, None)
    _HANDLERS[kind] = handler


def register_steps_kind(kind: str, handler: StepsHandler) -> None:
    """Make the runner run jobs of ``kind`` with ``handler(job, steps)`` (named, resumable steps)."""
    _HANDLERS.pop(kind, None)
    _STEP_HANDLERS[kind] = handler


SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL,
    request TEXT NOT NULL,
    error TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    idx INTEGER NOT NULL,
    scenario TEXT NOT NULL,
    kpis TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (job_id, scenario)
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, created);
"""


def db_path() -> Path:
    """The database file: ``$LHASA_OPS_DB`` or ``./lhasa_ops.sqlite3``."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class JobStore:
    """Jobs and per-scenario results in SQLite. Thread-safe: one connection per call, writes
    serialised by a lock (and SQLite's own locking across processes)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else db_path()
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._conn() as c:
            c.executescript(SCHEMA)

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30.0)
        conn.row_factory = sqlite3.Row
        try:
            with conn:  # commit on success, roll back on error
                yield conn
        finally:
            conn.close()

    # -- writes -------------------------------------------------------------------------------

    def create(self, request: Mapping[str, Any], total: int, kind: str = KIND_SCENARIOS) -> str:
        job_id = uuid.uuid4().hex
        now = _now()
        with self._lock, self._conn() as c:
            c.execute("INSERT INTO jobs (id, kind, status, done, total, request, created, updated) "
                      "VALUES (?, ?, 'queued', 0, ?, ?, ?, ?)",
                      (job_id, kind, total, json.dumps(json_safe(request, nonfinite="null")), now, now))
        return job_id

    def set_status(self, job_id: str, status: str, error: str | None = None) -> None:
        with self._lock, self._conn() as c:
            c.execute("UPDATE jobs SET status = ?, error = ?, updated = ? WHERE id = ?",
                      (status, error, _now(), job_id))

    def add_result(self, job_id: str, idx: int, scenario: str, kpis: Mapping[str, Any]) -> None:
        """Commit one step's result (named ``scenario``, ordered by ``idx``) and the job's progress
        in one transaction."""
        now = _now()
        with self._lock, self._conn() as c:
            c.execute("INSERT OR REPLACE INTO results (job_id, idx, scenario, kpis, created) VALUES (?, ?, ?, ?, ?)",
                      (job_id, idx, scenario, json.dumps(json_safe(kpis, nonfinite="null")), now))
            c.execute("UPDATE jobs SET done = (SELECT COUNT(*) FROM results WHERE job_id = ?), updated = ? "
                      "WHERE id = ?", (job_id, now, job_id))

    def set_progress(self, job_id: str, done: int) -> None:
        """Progress of a job without per-step results (``done`` of ``total`` steps)."""
        with self._lock, self._conn() as c:
            c.execute("UPDATE jobs SET done = ?, updated = ? WHERE id = ?", (int(done), _now(), job_id))

    # -- reads --------------------------------------------------------------------------------

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job as a dict (``results`` in step order), or None."""
        with self._conn() as c:
            row = c.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            res = c.execute("SELECT kpis FROM results WHERE job_id = ? ORDER BY idx", (job_id,)).fetchall()
        return {"id": row["id"], "kind": row["kind"], "status": row["status"],
                "progress": {"done": row["done"], "total": row["total"]},
                "results": [json.loads(r["kpis"]) for r in res], "error": row["error"],
                "created": row["created"], "updated": row["updated"], "request": json.loads(row["request"])}

    def done_names(self, job_id: str) -> set[str]:
        with self._conn() as c:
            return {r["scenario"] for r in c.execute("SELECT scenario FROM results WHERE job_id = ?", (job_id,))}

    def next_active(self) -> str | None:
        """The oldest queued or running job."""
        with self._conn() as c:
            row = c.execute("SELECT id FROM jobs WHERE status IN ('queued', 'running') "
                            "ORDER BY created, id LIMIT 1").fetchone()
        return None if row is None else row["id"]


class JobSteps:
    """What a steps handler gets (see the module docstring)."""

    def __init__(self, store: JobStore, job_id: str, stopping: Callable[[], bool]) -> None:
        self.store = store
        self.job_id = job_id
        self.done: frozenset[str] = frozenset(store.done_names(job_id))
        self.stopping = stopping

    def add(self, idx: int, name: str, result: Mapping[str, Any]) -> None:
        """Commit one step's result and the job's progress."""
        self.store.add_result(self.job_id, idx, name, result)


class JobRunner:
    """One background thread that runs jobs from the store; see the module docstring."""

    def __init__(self, store: JobStore, poll_s: float = 0.5) -> None:
        self.store = store
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread; it resumes jobs a previous process left queued or running."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="lhasa-ops-jobs", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the step in flight (it is committed first); waits up to ``timeout`` s."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            job_id = self.store.next_active()
            if job_id is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            self.run_job(job_id)

    def run_job(self, job_id: str) -> None:
        """Run the job (its remaining steps), unless asked to stop; a raising handler fails it."""
        job = self.store.get(job_id)
        if job is None or job["status"] not in ACTIVE:
            return
        kind = job["kind"]
        try:
            if kind in _STEP_HANDLERS:
                self.store.set_status(job_id, "running")
                _STEP_HANDLERS[kind](job, JobSteps(self.store, job_id, lambda: self._stop.is_set()))
                if self._stop.is_set() and len(self.store.done_names(job_id)) < job["progress"]["total"]:
                    return  # stays 'running'; resumed by the next start()
                self.store.set_status(job_id, "done")
                return
            handler = _HANDLERS.get(kind)
            if handler is None:
                raise ValueError(f"no handler for job kind {kind!r}")
            self.store.set_status(job_id, "running")
            self.store.set_progress(job_id, 0)
            result = handler(job, lambda done: self.store.set_progress(job_id, done))
            self.store.add_result(job_id, 0, RESULT_ROW, result)
            self.store.set_progress(job_id, job["progress"]["total"])
            self.store.set_status(job_id, "done")
        except Exception as e:  # noqa: BLE001 - a failed job is reported, the runner goes on
            self.store.set_status(job_id, "failed", error=f"{type(e).__name__}: {e}")
            traceback.print_exc()


_JOBS_LOCK = threading.Lock()


def ensure_jobs(app: Any) -> JobStore:
    """The app's job store and runner (``app.state.job_store``, ``app.state.job_runner``), opened
    (and the runner started) on first use."""
    with _JOBS_LOCK:
        store = getattr(app.state, "job_store", None)
        if store is None:
            store = app.state.job_store = JobStore(db_path())
            runner = app.state.job_runner = JobRunner(store)
            runner.start()
        return store


def start_jobs(app: Any) -> None:
    """At startup: when the database exists, open it and resume unfinished jobs. (No file is
    created until the first job is posted, so an app that runs no job writes none.)"""
    if db_path().exists():
        ensure_jobs(app)


def stop_jobs(app: Any, timeout: float | None = 600.0) -> None:
    """At shutdown: let the step in flight finish and commit, then stop the runner."""
    runner: JobRunner | None = getattr(app.state, "job_runner", None)
    if runner is not None:
        runner.stop(timeout)
    app.state.job_store = None
    app.state.job_runner = None


def find_job(app: Any, job_id: str) -> dict[str, Any] | None:
    """The job ``job_id`` or None (without creating a database when there is none yet)."""
    if getattr(app.state, "job_store", None) is None and not db_path().exists():
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


__all__ = ["DB_ENV", "KIND_SCENARIOS", "RESULT_ROW", "JobRunner", "JobSteps", "JobStore", "db_path", "ensure_jobs",
           "find_job", "register_kind", "register_steps_kind", "start_jobs", "stop_jobs", "wait_for"]

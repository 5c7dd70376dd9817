"""Persistent scenario jobs of the HTTP API: a SQLite job store and a background runner.

``JobStore(path)`` keeps two tables in one SQLite file (path: ``$LHASA_OPS_DB``, default
``./lhasa_ops.sqlite3``)::

    jobs(id, kind, status, done, total, request, error, created, updated)
        status: queued -> running -> done | failed; request: the POSTed scenario document (JSON)
    results(job_id, idx, scenario, kpis, created)      one row per finished scenario, PRIMARY KEY
                                                       (job_id, scenario); kpis: the KPI dict (JSON)

Job kinds: ``scenarios`` (built in) and any kind registered with ``register_kind(kind, handler)``
(``api.http.routes.jobs`` registers ``oxygen-plan``). A handler ``handler(job, progress)`` gets the job dict
(``request`` is the posted JSON) and a ``progress(done)`` callback and returns the result dict,
stored as the job's single result row (``scenario`` = ``"result"``); a job of such a kind is one
unit of work: resumed after a restart, it runs again from the start.

``JobRunner(store, network)`` is one daemon thread that takes queued/running jobs oldest first
(every kind, one at a time) and runs scenario jobs one scenario at a time with
``optimizer.scenario_runner.run_one`` (a scenario without ``time_limit_s`` gets
``$LHASA_OPS_MAX_JOB_TIME_LIMIT_S``, default 600 s, as its limit). Each finished scenario is
committed (its KPIs and the job's progress) before the next starts, so a crash or a restart loses
at most the scenario in flight. ``stop()`` (the app's shutdown) lets the running
scenario finish, commits it and returns; the job stays ``running``. On ``start()`` every job
left ``queued`` or ``running`` by a previous process is resumed: scenarios that already have a
result are skipped, the rest run. Runs use the scenario's iteration budget and seed, so a
resumed job gives the results an uninterrupted one would (``runtime_s`` aside).
"""

from __future__ import annotations

import dataclasses
import json
import math
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

from api.http.limits import max_job_time_limit_s
from optimizer.domain import Network

DB_ENV = "LHASA_OPS_DB"
DEFAULT_DB = "lhasa_ops.sqlite3"
KIND_SCENARIOS = "scenarios"
ACTIVE = ("queued", "running")
RESULT_ROW = "result"

JobHandler = Callable[[dict[str, Any], Callable[[int], None]], Mapping[str, Any]]
_HANDLERS: dict[str, JobHandler] = {}


def register_kind(kind: str, handler: JobHandler) -> None:
    """Make the runner run jobs of ``kind`` with ``handler(job, progress) -> result``."""
    _HANDLERS[kind] = handler

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


def _clean(obj: Any) -> Any:
    """JSON-safe: NaN/inf floats -> None, numpy scalars -> Python numbers."""
    if isinstance(obj, Mapping):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


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
                      (job_id, kind, total, json.dumps(_clean(request)), now, now))
        return job_id

    def set_status(self, job_id: str, status: str, error: str | None = None) -> None:
        with self._lock, self._conn() as c:
            c.execute("UPDATE jobs SET status = ?, error = ?, updated = ? WHERE id = ?",
                      (status, error, _now(), job_id))

    def add_result(self, job_id: str, idx: int, scenario: str, kpis: Mapping[str, Any]) -> None:
        """Commit one scenario's KPIs and the job's progress in one transaction."""
        now = _now()
        with self._lock, self._conn() as c:
            c.execute("INSERT OR REPLACE INTO results (job_id, idx, scenario, kpis, created) VALUES (?, ?, ?, ?, ?)",
                      (job_id, idx, scenario, json.dumps(_clean(kpis)), now))
            c.execute("UPDATE jobs SET done = (SELECT COUNT(*) FROM results WHERE job_id = ?), updated = ? "
                      "WHERE id = ?", (job_id, now, job_id))

    def set_progress(self, job_id: str, done: int) -> None:
        """Progress of a job without per-scenario results (``done`` of ``total`` steps)."""
        with self._lock, self._conn() as c:
            c.execute("UPDATE jobs SET done = ?, updated = ? WHERE id = ?", (int(done), _now(), job_id))

    # -- reads --------------------------------------------------------------------------------

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job as a dict (``results`` in scenario order), or None."""
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


class JobRunner:
    """One background thread that runs scenario jobs from the store; see the module docstring."""

    def __init__(self, store: JobStore, network: Network | None = None, poll_s: float = 0.5) -> None:
        self.store = store
        self.network = network
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
        """Stop after the scenario in flight (it is committed first); waits up to ``timeout`` s."""
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
        """Run the job's remaining scenarios, one at a time, unless asked to stop."""
        from optimizer.scenario import parse_scenarios
        from optimizer.scenario_runner import run_one

        job = self.store.get(job_id)
        if job is None or job["status"] not in ACTIVE:
            return
        if job["kind"] != KIND_SCENARIOS:
            self._run_single(job)
            return
        try:
            network = self.network
            if network is None:
                from instances.loader import load_lhasa
                network = self.network = load_lhasa()
            sset = parse_scenarios(job["request"], network=network)
            self.store.set_status(job_id, "running")
            done = self.store.done_names(job_id)
            for idx, scenario in enumerate(sset.scenarios):
                if self._stop.is_set():
                    return  # stays 'running'; resumed by the next start()
                if scenario.name in done:
                    continue
                if scenario.time_limit_s is None:  # every solve has a time limit: the job maximum
                    scenario = dataclasses.replace(scenario, time_limit_s=max_job_time_limit_s())
                res = run_one(scenario, network, None)
                self.store.add_result(job_id, idx, scenario.name, res.kpis)
            self.store.set_status(job_id, "done")
        except Exception as e:  # noqa: BLE001 - a failed job is reported, the runner goes on
            msg = f"{type(e).__name__}: {e}"
            self.store.set_status(job_id, "failed", error=msg)
            traceback.print_exc()


    def _run_single(self, job: dict[str, Any]) -> None:
        """A job of a registered kind: one unit of work, its result stored as one row."""
        job_id = job["id"]
        handler = _HANDLERS.get(job["kind"])
        try:
            if handler is None:
                raise ValueError(f"no handler for job kind {job['kind']!r}")
            self.store.set_status(job_id, "running")
            self.store.set_progress(job_id, 0)
            result = handler(job, lambda done: self.store.set_progress(job_id, done))
            self.store.add_result(job_id, 0, RESULT_ROW, result)
            self.store.set_progress(job_id, job["progress"]["total"])
            self.store.set_status(job_id, "done")
        except Exception as e:  # noqa: BLE001 - a failed job is reported, the runner goes on
            self.store.set_status(job_id, "failed", error=f"{type(e).__name__}: {e}")
            traceback.print_exc()


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


__all__ = ["DB_ENV", "KIND_SCENARIOS", "RESULT_ROW", "JobRunner", "JobStore", "db_path", "register_kind", "wait_for"]

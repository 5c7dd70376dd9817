"""Persistent jobs of the HTTP API: a SQLite job store and one background runner, for any job kind.

``JobStore(path)`` keeps two tables in one SQLite file (path: ``$LHASA_OPS_DB``, default
``./lhasa_ops.sqlite3``)::

    jobs(id, kind, status, done, total, request, error, created, updated, owner, lease_until)
        status: queued -> running -> done | failed; request: the POSTed document (JSON);
        owner / lease_until: the runner that holds the job and until when (epoch seconds)
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
time). ``stop()`` (the app's shutdown) lets the step in flight finish, commits it, releases the
job's lease and returns; the job stays ``running``. On ``start()`` every job left ``queued`` or
``running`` by a previous process is resumed (once its lease, if any, has expired).

Leases (several servers on one store). A runner takes a job only by claiming it: one conditional
``UPDATE jobs SET owner, lease_until WHERE id = ? AND status IN (queued, running) AND (owner IS
NULL OR lease_until < now)`` inside ``BEGIN IMMEDIATE``, so of two servers exactly one gets it. While
it works, a heartbeat thread renews the lease every ``heartbeat_s`` (``$LHASA_OPS_JOB_HEARTBEAT_S``,
default 15 s) to ``now + lease_s`` (``$LHASA_OPS_JOB_LEASE_S``, default 60 s). Every write of the
runner (step result, progress, final status) checks in its own transaction that the runner is still
the owner; otherwise it is refused (``LeaseLost``, logged) and the runner drops the job without
marking it. An expired lease (a killed or frozen server) is taken over by the next claim; the new
owner runs only the steps not yet committed. A step result is inserted, never replaced: a second
result for a committed step is refused and logged. A lease that expired but was not taken over is
still its owner's (nobody else can have started the job). Steps are committed per step, but claimed
per job: one job runs on one server at a time. ``ensure_jobs(app)`` / ``start_jobs(app)`` / ``stop_jobs(app)`` open the
store and the runner on ``app.state`` (``job_store``, ``job_runner``).

Store faults. Every SQLite error of the store is a ``StoreError`` (an ``ApiError``: HTTP 503 with
``code`` ``store_locked``, ``store_not_writable`` or ``store_unavailable``, ``field``
``LHASA_OPS_DB``), so a POST on a locked or read-only store answers a JSON 503, never a 500. A
connection waits ``busy_timeout_s`` (default 30 s) for another process's lock. The runner survives
store errors: it logs them and retries with capped exponential backoff (``backoff_s`` doubling up to
``backoff_max_s``); a step result or final status that cannot be committed is retried (the work is
not redone) until it commits or the runner stops. ``JobRunner.health()`` says whether the thread is
alive, the last store error and since when it has been failing. ``JobStore.probe()`` (used by
``/readyz``) tries a write with a short timeout; ``check_environment()`` refuses an impossible
``LHASA_OPS_DB`` and lease settings at start.

Back ends. SQLite only for now; every SQL statement of the store is in ``SQL`` (one place, ``?``
parameters), the SQLite-only parts (``BEGIN IMMEDIATE``, the column migration) in ``JobStore``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
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

from api.http.security import ApiError
from optimizer.core.errors import InvalidInput
from optimizer.core.serialize import json_safe

DB_ENV = "LHASA_OPS_DB"
DEFAULT_DB = "lhasa_ops.sqlite3"
KIND_SCENARIOS = "scenarios"
"""The kind name of scenario runs (registered by ``api.http.routes.scenarios``; named here so that
``api.http.routes.jobs`` can point a scenario run's ``result_url`` at ``/v1/scenarios/{id}``)."""
ACTIVE = ("queued", "running")
RESULT_ROW = "result"
BUSY_TIMEOUT_S = 30.0
"""How long a store connection waits for another connection's lock, seconds."""
BACKOFF_S = 0.5
BACKOFF_MAX_S = 30.0
"""The runner's retry delay after a store error: ``BACKOFF_S`` doubling per failure, at most this."""
PROBE_TIMEOUT_S = 0.5
"""How long ``JobStore.probe`` (``/readyz``) waits for a lock, seconds."""
LEASE_ENV = "LHASA_OPS_JOB_LEASE_S"
HEARTBEAT_ENV = "LHASA_OPS_JOB_HEARTBEAT_S"
LEASE_S = 60.0
"""How long a claimed job stays its runner's without a heartbeat, seconds."""
HEARTBEAT_S = 15.0
"""How often the runner renews the lease of the job in flight, seconds (< the lease)."""

log = logging.getLogger(__name__)

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
    updated TEXT NOT NULL,
    owner TEXT,
    lease_until REAL
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
CREATE TABLE IF NOT EXISTS probe (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL
);
"""
LEASE_COLUMNS = {"owner": "TEXT", "lease_until": "REAL"}
"""Columns added to the ``jobs`` table of a store made before leases (``ALTER TABLE ... ADD COLUMN``)."""


class SQL:
    """Every statement of the job store (``?`` parameters; ``now`` and ``lease_until`` are epoch
    seconds). ``claimable`` is the lease condition shared by the claim statements."""

    claimable = "status IN ('queued', 'running') AND (owner IS NULL OR lease_until IS NULL OR lease_until < ?)"
    insert_job = ("INSERT INTO jobs (id, kind, status, done, total, request, created, updated) "
                  "VALUES (?, ?, 'queued', 0, ?, ?, ?, ?)")
    set_status = "UPDATE jobs SET status = ?, error = ?, updated = ? WHERE id = ?"
    finish = ("UPDATE jobs SET status = ?, error = ?, updated = ?, lease_until = NULL "
              "WHERE id = ? AND owner = ?")
    set_progress = "UPDATE jobs SET done = ?, updated = ? WHERE id = ?"
    owner_of = "SELECT owner, lease_until, status FROM jobs WHERE id = ?"
    insert_result = ("INSERT INTO results (job_id, idx, scenario, kpis, created) VALUES (?, ?, ?, ?, ?) "
                     "ON CONFLICT (job_id, scenario) DO NOTHING")
    replace_result = "INSERT OR REPLACE INTO results (job_id, idx, scenario, kpis, created) VALUES (?, ?, ?, ?, ?)"
    count_done = ("UPDATE jobs SET done = (SELECT COUNT(*) FROM results WHERE job_id = ?), updated = ? "
                  "WHERE id = ?")
    next_claimable = f"SELECT id FROM jobs WHERE {claimable} ORDER BY created, id LIMIT 1"
    claim = (f"UPDATE jobs SET owner = ?, lease_until = ?, status = 'running', updated = ? "
             f"WHERE id = ? AND (owner = ? AND status IN ('queued', 'running') OR {claimable})")
    renew = "UPDATE jobs SET lease_until = ? WHERE id = ? AND owner = ? AND status IN ('queued', 'running')"
    release = "UPDATE jobs SET owner = NULL, lease_until = NULL WHERE id = ? AND owner = ?"
    get_job = "SELECT * FROM jobs WHERE id = ?"
    get_results = "SELECT kpis FROM results WHERE job_id = ? ORDER BY idx"
    done_names = "SELECT scenario FROM results WHERE job_id = ?"
    next_active = "SELECT id FROM jobs WHERE status IN ('queued', 'running') ORDER BY created, id LIMIT 1"
    columns = "PRAGMA table_info(jobs)"
    add_column = "ALTER TABLE jobs ADD COLUMN {name} {type}"
    probe_table = "CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, at TEXT NOT NULL)"
    probe_write = "INSERT OR REPLACE INTO probe (id, at) VALUES (1, ?)"


def db_path() -> Path:
    """The database file: ``$LHASA_OPS_DB`` or ``./lhasa_ops.sqlite3``."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


_WRITE_FAULTS = {3, 8, 10, 13, 14, 23}  # SQLITE_PERM, READONLY, IOERR, FULL, CANTOPEN, AUTH


class StoreError(ApiError):
    """The job store cannot be used now: HTTP 503 ``{"code", "message", "field": "LHASA_OPS_DB"}``.
    ``code``: ``store_locked`` (another connection holds the lock), ``store_not_writable``
    (read-only file or folder, disk full, cannot open) or ``store_unavailable``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(503, code, message, DB_ENV, headers={"Retry-After": "5"})


def store_error(e: BaseException, path: Path | str) -> StoreError:
    """``e`` (an ``sqlite3.Error`` or ``OSError``) as a ``StoreError`` with its reason."""
    if isinstance(e, StoreError):
        return e
    text = str(e)
    primary = (getattr(e, "sqlite_errorcode", None) or 0) & 0xFF
    if primary in (5, 6) or "locked" in text or "busy" in text:  # SQLITE_BUSY, SQLITE_LOCKED
        code = "store_locked"
    elif primary in _WRITE_FAULTS or "readonly" in text or "unable to open" in text or isinstance(e, OSError):
        code = "store_not_writable"
    else:
        code = "store_unavailable"
    return StoreError(code, f"job store {path}: {type(e).__name__}: {text}")


def check_db_path(path: Path | str) -> InvalidInput | None:
    """Why ``path`` cannot be the job store (None: it can, or it exists and may only be read-only,
    which ``/readyz`` reports). Creates nothing: the file is made on the first job."""
    p = Path(path)
    if p.is_dir():
        return InvalidInput(DB_ENV, str(path), "is a directory, not a database file")
    if p.exists():
        try:
            conn = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=PROBE_TIMEOUT_S)
            try:
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            finally:
                conn.close()
        except sqlite3.Error as e:
            if "locked" in str(e) or "busy" in str(e):
                return None  # in use by another process: a runtime state, reported by /readyz
            return InvalidInput(DB_ENV, str(path), f"cannot be opened as an SQLite database ({e})")
        return None
    parent = p.absolute().parent
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    if not parent.is_dir():
        return InvalidInput(DB_ENV, str(path), f"{parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        return InvalidInput(DB_ENV, str(path), f"cannot create the database: {parent} is not writable")
    return None


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
    problems = [p for p in (check_db_path(db_path()),) if p is not None]
    lease, bad_lease = _seconds_env(LEASE_ENV, LEASE_S)
    beat, bad_beat = _seconds_env(HEARTBEAT_ENV, HEARTBEAT_S)
    problems += [p for p in (bad_lease, bad_beat) if p is not None]
    if not (bad_lease or bad_beat) and beat >= lease:
        problems.append(InvalidInput(HEARTBEAT_ENV, os.environ.get(HEARTBEAT_ENV, str(beat)),
                                     f"must be shorter than the lease {LEASE_ENV}={lease:g} s"))
    return problems


class LeaseLost(Exception):
    """A runner's write to a job it no longer owns (another runner took the lease over): refused."""

    def __init__(self, job_id: str, owner: str, holder: str | None, what: str) -> None:
        super().__init__(f"job {job_id}: {what} by {owner} refused: the job is held by {holder or 'nobody'}")
        self.job_id = job_id
        self.owner = owner
        self.holder = holder


class JobStore:
    """Jobs and per-scenario results in SQLite. Thread-safe: one connection per call, writes
    serialised by a lock (and SQLite's own locking across processes). Every SQLite error is raised
    as a ``StoreError``."""

    def __init__(self, path: Path | str | None = None, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.path = Path(path) if path is not None else db_path()
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise store_error(e, self.path) from e
        with self._conn() as c:
            c.executescript(SCHEMA)
            have = {r["name"] for r in c.execute(SQL.columns)}
            for name, typ in LEASE_COLUMNS.items():
                if name not in have:
                    c.execute(SQL.add_column.format(name=name, type=typ))

    @contextmanager
    def _conn(self, timeout: float | None = None) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s if timeout is None else timeout)
        except sqlite3.Error as e:
            raise store_error(e, self.path) from e
        conn.row_factory = sqlite3.Row
        try:
            with conn:  # commit on success, roll back on error
                yield conn
        except sqlite3.Error as e:
            raise store_error(e, self.path) from e
        finally:
            conn.close()

    def probe(self, timeout_s: float = PROBE_TIMEOUT_S) -> StoreError | None:
        """None when the store takes a write now, else the ``StoreError`` that says why not."""
        return self.probe_path(self.path, timeout_s)

    @staticmethod
    def probe_path(path: Path | str, timeout_s: float = PROBE_TIMEOUT_S) -> StoreError | None:
        """Try a write to the database file ``path`` (rolled back), waiting at most ``timeout_s``
        for a lock: None when it is writable now, else the ``StoreError`` that says why not."""
        try:
            conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
        except sqlite3.Error as e:
            return store_error(e, path)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(SQL.probe_table)
                conn.execute(SQL.probe_write, (_now(),))
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
        except sqlite3.Error as e:
            return store_error(e, path)
        finally:
            conn.close()
        return None

    # -- writes -------------------------------------------------------------------------------

    def create(self, request: Mapping[str, Any], total: int, kind: str = KIND_SCENARIOS) -> str:
        job_id = uuid.uuid4().hex
        now = _now()
        with self._lock, self._conn() as c:
            c.execute(SQL.insert_job, (job_id, kind, total, json.dumps(json_safe(request, nonfinite="null")), now, now))
        return job_id

    def _check_owner(self, c: sqlite3.Connection, job_id: str, owner: str, what: str) -> None:
        """Inside a write transaction: raise (and log) ``LeaseLost`` unless ``owner`` holds the job."""
        row = c.execute(SQL.owner_of, (job_id,)).fetchone()
        holder = None if row is None else row["owner"]
        if holder != owner:
            e = LeaseLost(job_id, owner, holder, what)
            log.warning("job store: %s", e)
            raise e

    def set_status(self, job_id: str, status: str, error: str | None = None, owner: str | None = None) -> None:
        """Set the status; with ``owner``, only while that runner holds the job (else ``LeaseLost``),
        and a final status ends its lease."""
        with self._lock, self._conn() as c:
            if owner is None:
                c.execute(SQL.set_status, (status, error, _now(), job_id))
                return
            self._begin(c)
            self._check_owner(c, job_id, owner, f"status {status!r}")
            if status in ACTIVE:
                c.execute(SQL.set_status, (status, error, _now(), job_id))
            else:
                c.execute(SQL.finish, (status, error, _now(), job_id, owner))

    def add_result(self, job_id: str, idx: int, scenario: str, kpis: Mapping[str, Any],
                   owner: str | None = None) -> bool:
        """Commit one step's result (named ``scenario``, ordered by ``idx``) and the job's progress
        in one transaction. With ``owner`` (a runner): refused with ``LeaseLost`` unless it holds
        the job, and a result for a step already committed is kept, the new one refused and logged
        (returns False). Without ``owner`` (tools, tests): written as given."""
        now = _now()
        doc = json.dumps(json_safe(kpis, nonfinite="null"))
        with self._lock, self._conn() as c:
            if owner is None:
                c.execute(SQL.replace_result, (job_id, idx, scenario, doc, now))
                inserted = True
            else:
                self._begin(c)
                self._check_owner(c, job_id, owner, f"result of step {scenario!r}")
                inserted = c.execute(SQL.insert_result, (job_id, idx, scenario, doc, now)).rowcount == 1
                if not inserted:
                    log.warning("job store: job %s: a second result for step %r (by %s) refused; the first "
                                "is kept", job_id, scenario, owner)
            c.execute(SQL.count_done, (job_id, now, job_id))
        return inserted

    def finish_unit(self, job_id: str, result: Mapping[str, Any], total: int, owner: str) -> None:
        """A one-unit job's result, progress ``total`` and status ``done`` in one transaction, only
        while ``owner`` holds the job (else ``LeaseLost``)."""
        now = _now()
        doc = json.dumps(json_safe(result, nonfinite="null"))
        with self._lock, self._conn() as c:
            self._begin(c)
            self._check_owner(c, job_id, owner, "result")
            c.execute(SQL.replace_result, (job_id, 0, RESULT_ROW, doc, now))
            c.execute(SQL.set_progress, (int(total), now, job_id))
            c.execute(SQL.finish, ("done", None, now, job_id, owner))

    def set_progress(self, job_id: str, done: int, owner: str | None = None) -> None:
        """Progress of a job without per-step results (``done`` of ``total`` steps); with ``owner``,
        only while that runner holds the job (else ``LeaseLost``)."""
        with self._lock, self._conn() as c:
            if owner is not None:
                self._begin(c)
                self._check_owner(c, job_id, owner, "progress")
            c.execute(SQL.set_progress, (int(done), _now(), job_id))

    # -- leases -------------------------------------------------------------------------------

    @staticmethod
    def _begin(c: sqlite3.Connection) -> None:
        """Take the write lock now (SQLite ``BEGIN IMMEDIATE``): the reads that decide a write see
        what the write will change."""
        if not c.in_transaction:
            c.execute("BEGIN IMMEDIATE")

    def claim(self, job_id: str, owner: str, lease_s: float) -> bool:
        """Claim the job for ``owner`` until now + ``lease_s``: True when it is queued or running and
        unowned, expired or already ``owner``'s; status becomes ``running``."""
        now = time.time()
        with self._lock, self._conn() as c:
            self._begin(c)
            return c.execute(SQL.claim, (owner, now + lease_s, _now(), job_id, owner, now)).rowcount == 1

    def claim_next(self, owner: str, lease_s: float) -> str | None:
        """Claim the oldest queued or running job that no live lease holds (None: there is none)."""
        now = time.time()
        with self._lock, self._conn() as c:
            self._begin(c)
            row = c.execute(SQL.next_claimable, (now,)).fetchone()
            if row is None:
                return None
            n = c.execute(SQL.claim, (owner, now + lease_s, _now(), row["id"], owner, now)).rowcount
            return row["id"] if n == 1 else None

    def renew(self, job_id: str, owner: str, lease_s: float) -> bool:
        """Extend ``owner``'s lease to now + ``lease_s``; False when another runner holds the job
        (or it is finished)."""
        with self._lock, self._conn() as c:
            return c.execute(SQL.renew, (time.time() + lease_s, job_id, owner)).rowcount == 1

    def release(self, job_id: str, owner: str) -> bool:
        """Give the job up (a shutting-down runner), so that another server takes it at once."""
        with self._lock, self._conn() as c:
            return c.execute(SQL.release, (job_id, owner)).rowcount == 1

    def lease(self, job_id: str) -> tuple[str | None, float | None]:
        """``(owner, lease_until)`` of the job (``(None, None)``: unknown or never claimed)."""
        with self._conn() as c:
            row = c.execute(SQL.owner_of, (job_id,)).fetchone()
        return (None, None) if row is None else (row["owner"], row["lease_until"])

    # -- reads --------------------------------------------------------------------------------

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job as a dict (``results`` in step order), or None."""
        with self._conn() as c:
            row = c.execute(SQL.get_job, (job_id,)).fetchone()
            if row is None:
                return None
            res = c.execute(SQL.get_results, (job_id,)).fetchall()
        return {"id": row["id"], "kind": row["kind"], "status": row["status"],
                "progress": {"done": row["done"], "total": row["total"]},
                "results": [json.loads(r["kpis"]) for r in res], "error": row["error"],
                "created": row["created"], "updated": row["updated"], "request": json.loads(row["request"])}

    def done_names(self, job_id: str) -> set[str]:
        with self._conn() as c:
            return {r["scenario"] for r in c.execute(SQL.done_names, (job_id,))}

    def next_active(self) -> str | None:
        """The oldest queued or running job (leased or not)."""
        with self._conn() as c:
            row = c.execute(SQL.next_active).fetchone()
        return None if row is None else row["id"]


class JobSteps:
    """What a steps handler gets (see the module docstring)."""

    def __init__(self, store: JobStore, job_id: str, stopping: Callable[[], bool],
                 commit: Callable[[Callable[[], Any]], Any] | None = None, owner: str | None = None) -> None:
        self.store = store
        self.job_id = job_id
        self.owner = owner
        self.done: frozenset[str] = frozenset(store.done_names(job_id))
        self.stopping = stopping
        self._commit = commit or (lambda write: write())

    def add(self, idx: int, name: str, result: Mapping[str, Any]) -> None:
        """Commit one step's result and the job's progress (retried while the store fails; raises
        ``StoreError`` only when the runner stops before it could commit, ``LeaseLost`` when
        another runner has taken the job over: the result is refused)."""
        self._commit(lambda: self.store.add_result(self.job_id, idx, name, result, owner=self.owner))


class JobRunner:
    """One background thread that runs jobs from the store; see the module docstring."""

    def __init__(self, store: JobStore, poll_s: float = 0.5, backoff_s: float = 0.5,
                 backoff_max_s: float = 30.0, lease_s: float = LEASE_S, heartbeat_s: float = HEARTBEAT_S,
                 owner: str | None = None) -> None:
        if not 0 < heartbeat_s < lease_s:
            raise ValueError(f"heartbeat_s {heartbeat_s} must be > 0 and shorter than lease_s {lease_s}")
        self.store = store
        self.poll_s = poll_s
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.lease_s = lease_s
        self.heartbeat_s = heartbeat_s
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        """This runner's name in the store's ``owner`` column (host, process, instance)."""
        self.lost: list[str] = []
        """Jobs this runner lost to another runner while it held them (its writes were refused)."""
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._health_lock = threading.Lock()
        self._failures = 0
        self._last_error: str | None = None
        self._last_error_code: str | None = None
        self._last_error_at: str | None = None
        self._failing_since: str | None = None
        self._ok_since: str | None = None

    def start(self) -> None:
        """Start the thread; it resumes jobs a previous process left queued or running."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        with self._health_lock:
            self._ok_since = self._ok_since or _now()
        self._thread = threading.Thread(target=self._loop, name="lhasa-ops-jobs", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """A job was queued: look now rather than at the next poll (or the next retry)."""
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

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- health -------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"alive", "state": ok | retrying | stopped | dead, "failures" (consecutive),
        "failing_since", "last_error", "last_error_code", "last_error_at", "ok_since"}``."""
        alive = self.alive
        with self._health_lock:
            if not alive:
                state = "stopped" if self._stop.is_set() else "dead"
            else:
                state = "retrying" if self._failures else "ok"
            return {"alive": alive, "state": state, "failures": self._failures,
                    "failing_since": self._failing_since, "last_error": self._last_error,
                    "last_error_code": self._last_error_code, "last_error_at": self._last_error_at,
                    "ok_since": self._ok_since}

    def _ok(self) -> None:
        with self._health_lock:
            if self._failures:
                log.warning("job store usable again after %d failures since %s", self._failures,
                            self._failing_since)
                self._failures = 0
                self._failing_since = None
                self._ok_since = _now()

    def _failed(self, e: BaseException) -> float:
        """Record a failure; the delay before the next try (capped exponential backoff)."""
        now = _now()
        with self._health_lock:
            self._failures += 1
            self._failing_since = self._failing_since or now
            self._ok_since = None
            self._last_error = f"{type(e).__name__}: {getattr(e, 'message', None) or e}"
            self._last_error_code = getattr(e, "code", None) if isinstance(e, ApiError) else "runner_error"
            self._last_error_at = now
            n = self._failures
        delay = min(self.backoff_max_s, self.backoff_s * 2 ** min(n - 1, 30))
        if isinstance(e, StoreError):
            log.warning("job runner: %s (failure %d, retry in %.1f s)", self._last_error, n, delay)
        else:
            log.error("job runner: unexpected error (failure %d, retry in %.1f s)", n, delay, exc_info=e)
        return delay

    def _commit(self, write: Callable[[], Any]) -> Any:
        """Run a store write until it succeeds (backing off between tries); ``StoreError`` when the
        runner is asked to stop first."""
        while True:
            try:
                out = write()
            except StoreError as e:
                delay = self._failed(e)
                if self._stop.wait(delay):
                    raise
                continue
            self._ok()
            return out

    def _progress(self, job_id: str, done: int, owner: str | None = None) -> None:
        """Progress is informative: a store error here is recorded, never fails the job (a lost
        lease raises ``LeaseLost`` into the handler, which ends the work)."""
        try:
            self.store.set_progress(job_id, done, owner=owner)
        except StoreError as e:
            self._failed(e)
        else:
            self._ok()

    # -- the loop -----------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                # any active job at all (a read), then claim the oldest one no live lease holds
                job_id = self.store.next_active() and self.store.claim_next(self.owner, self.lease_s)
                self._ok()
                if job_id is None:
                    self._wake.wait(self.poll_s)
                    self._wake.clear()
                    continue
                self._run_claimed(job_id)
            except Exception as e:  # noqa: BLE001 - the runner outlives any error: log, back off, retry
                delay = self._failed(e)
                self._wake.wait(delay)
                self._wake.clear()

    def run_job(self, job_id: str) -> None:
        """Claim the job and run it (its remaining steps), unless another runner holds it or it is
        finished; a raising handler fails it. A ``StoreError`` (the store failed, not the job)
        propagates: the runner retries the job later."""
        if self.store.claim(job_id, self.owner, self.lease_s):
            self._run_claimed(job_id)

    @contextmanager
    def _heartbeat(self, job_id: str) -> Iterator[threading.Event]:
        """Renew the lease of ``job_id`` every ``heartbeat_s`` while the body runs; the event is set
        when the lease is lost (another runner took the job over). Releases the lease at the end
        unless the job was finished (a stopping runner hands it on at once)."""
        lost = threading.Event()
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.heartbeat_s):
                try:
                    if not self.store.renew(job_id, self.owner, self.lease_s):
                        if not done.is_set():
                            lost.set()
                        return
                except StoreError as e:  # the lease may still be renewed before it expires
                    log.warning("job runner %s: lease of job %s not renewed: %s", self.owner, job_id, e.message)

        t = threading.Thread(target=beat, name=f"lhasa-ops-lease-{job_id[:8]}", daemon=True)
        t.start()
        try:
            yield lost
        finally:
            done.set()
            t.join(self.heartbeat_s + self.store.busy_timeout_s + 5)
            try:
                self.store.release(job_id, self.owner)  # no-op for a finished or lost job
            except StoreError as e:
                log.warning("job runner %s: lease of job %s not released (expires by itself): %s",
                            self.owner, job_id, e.message)

    def _run_claimed(self, job_id: str) -> None:
        """Run a job this runner has just claimed (see ``run_job``)."""
        job = self.store.get(job_id)
        if job is None or job["status"] not in ACTIVE:
            return
        kind = job["kind"]
        owner = self.owner
        with self._heartbeat(job_id) as lost:
            try:
                self._run_handler(job, kind, owner, lost)
            except LeaseLost as e:
                self.lost.append(job_id)
                log.warning("job runner %s: job %s taken over by %s; this runner's work on it is dropped",
                            owner, job_id, e.holder)

    def _run_handler(self, job: dict[str, Any], kind: str, owner: str, lost: threading.Event) -> None:
        job_id = job["id"]
        try:
            if kind in _STEP_HANDLERS:
                steps = JobSteps(self.store, job_id, lambda: self._stop.is_set() or lost.is_set(), self._commit, owner)
                _STEP_HANDLERS[kind](job, steps)
                if (self._stop.is_set() or lost.is_set()) and \
                        len(self.store.done_names(job_id)) < job["progress"]["total"]:
                    if lost.is_set():
                        raise LeaseLost(job_id, owner, self.store.lease(job_id)[0], "steps")
                    return  # stays 'running'; resumed by the next start()
                self._commit(lambda: self.store.set_status(job_id, "done", owner=owner))
                return
            handler = _HANDLERS.get(kind)
            if handler is None:
                raise ValueError(f"no handler for job kind {kind!r}")
            self.store.set_progress(job_id, 0, owner=owner)
            result = handler(job, lambda done: self._progress(job_id, done, owner))
            total = job["progress"]["total"]
            self._commit(lambda: self.store.finish_unit(job_id, result, total, owner))
        except (StoreError, LeaseLost):
            raise  # the store failed (retried by the loop; finished steps are kept) or the job is another's
        except Exception as e:  # noqa: BLE001 - a failed job is reported, the runner goes on
            traceback.print_exc()
            error = f"{type(e).__name__}: {e}"
            self._commit(lambda: self.store.set_status(job_id, "failed", error=error, owner=owner))


_JOBS_LOCK = threading.Lock()


def ensure_jobs(app: Any) -> JobStore:
    """The app's job store and runner (``app.state.job_store``, ``app.state.job_runner``), opened
    (and the runner started) on first use."""
    with _JOBS_LOCK:
        store = getattr(app.state, "job_store", None)
        if store is None:
            store = app.state.job_store = JobStore(db_path(), busy_timeout_s=BUSY_TIMEOUT_S)
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
    if db_path().exists():
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


__all__ = [
    "DB_ENV",
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
    "check_db_path",
    "check_environment",
    "db_path",
    "ensure_jobs",
    "find_job",
    "lease_settings",
    "register_kind",
    "register_steps_kind",
    "start_jobs",
    "stop_jobs",
    "store_error",
    "wait_for",
]

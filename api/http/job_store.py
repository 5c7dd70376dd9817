"""The job store: jobs and their step results in SQLite or PostgreSQL (SQLAlchemy Core).

``JobStore(where)`` opens the database ``where`` (a SQLite file path, ``sqlite:///path`` or
``postgresql://...``; None: ``$LHASA_OPS_DB``, see ``api.services.store_db``) and creates the tables of
``api.http.job_sql`` when missing. Every statement is in ``job_sql.SQL``; the code here is the same
for both back ends except the claim of the next job and the owner check (``job_sql`` says how).

Writes of a runner carry its ``owner``: a write is done only while that runner holds the job's
lease, checked in the write's own transaction (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the job's
row read ``FOR UPDATE``); otherwise ``LeaseLost`` (logged). Claims are conditional UPDATEs, so of
two servers exactly one gets a job.

Faults. Every database error is a ``StoreError`` (an ``ApiError``: HTTP 503 ``{"code", "message",
"field": "LHASA_OPS_DB"}``): ``store_locked`` (another connection holds a lock longer than
``busy_timeout_s``: SQLite busy, PostgreSQL ``lock_timeout`` / deadlock / serialization),
``store_not_writable`` (read-only file or folder, read-only transaction, no privilege, disk full,
cannot open) or ``store_unavailable`` (server down, anything else).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, inspect
from sqlalchemy.exc import DataError, DBAPIError, SQLAlchemyError

from api.http.job_sql import LEASE_COLUMNS, METADATA, SQL
from api.http.security import ApiError
from api.services.store_db import (
    BUSY_TIMEOUT_S,
    DB_ENV,
    db_url,
    describe,
    is_postgres,
    make_engine,
    sqlite_path,
)
from optimizer.core.errors import InvalidInput
from optimizer.core.serialize import json_safe

KIND_SCENARIOS = "scenarios"
"""The kind name of scenario runs (registered by ``api.http.routes.scenarios``; named here so that
``api.http.routes.jobs`` can point a scenario run's ``result_url`` at ``/v1/scenarios/{id}``)."""
ACTIVE = ("queued", "running")
RESULT_ROW = "result"
PROBE_TIMEOUT_S = 0.5
"""How long ``JobStore.probe`` (``/readyz``) waits for a lock, seconds."""

log = logging.getLogger("api.http.jobs")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


_SQLITE_WRITE_FAULTS = {3, 8, 10, 13, 14, 23}  # SQLITE_PERM, READONLY, IOERR, FULL, CANTOPEN, AUTH
_PG_LOCKED = {"55P03", "57014", "40P01", "40001"}  # lock_timeout, cancelled, deadlock, serialization
_PG_NOT_WRITABLE = {"25006", "42501", "53100", "53200", "53300"}  # read-only, privilege, disk/memory/connections


class StoreError(ApiError):
    """The job store cannot be used now: HTTP 503 ``{"code", "message", "field": "LHASA_OPS_DB"}``.
    ``code``: ``store_locked`` (another connection holds the lock), ``store_not_writable``
    (read-only file, folder or transaction, disk full, cannot open) or ``store_unavailable``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(503, code, message, DB_ENV, headers={"Retry-After": "5"})


def store_error(e: BaseException, where: Path | str) -> StoreError:
    """``e`` (a SQLAlchemy, ``sqlite3``, psycopg or ``OSError`` error) as a ``StoreError`` with its
    reason; ``where`` names the store in the message."""
    if isinstance(e, StoreError):
        return e
    orig = e.orig if isinstance(e, DBAPIError) and e.orig is not None else e
    text_ = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    sqlstate = getattr(orig, "sqlstate", None)
    primary = (getattr(orig, "sqlite_errorcode", None) or 0) & 0xFF
    low = text_.lower()
    if sqlstate in _PG_LOCKED or primary in (5, 6) or "locked" in low or "busy" in low:
        code = "store_locked"  # SQLITE_BUSY, SQLITE_LOCKED, PostgreSQL lock waits
    elif (sqlstate in _PG_NOT_WRITABLE or primary in _SQLITE_WRITE_FAULTS or "readonly" in low
          or "read-only" in low or "unable to open" in low or isinstance(orig, OSError)):
        code = "store_not_writable"
    else:
        code = "store_unavailable"
    why = {"store_locked": "is locked by another connection", "store_not_writable": "is not writable",
           "store_unavailable": "is unavailable"}[code]
    return StoreError(code, f"job store {where} {why}: {type(orig).__name__}: {text_}")


def check_db_path(path: Path | str) -> InvalidInput | None:
    """Why ``path`` (``$LHASA_OPS_DB``: a file path or URL) cannot be the job store (None: it can,
    or it exists and may only be read-only or locked, which ``/readyz`` reports). Creates nothing:
    a SQLite file is made on the first job; a PostgreSQL server is not contacted here (an
    unreachable one is a runtime state, reported by ``/readyz``)."""
    try:
        url = db_url(path)
    except InvalidInput as e:
        return e
    if is_postgres(url):
        try:
            import psycopg  # noqa: F401 - the driver must be installed
        except ImportError as e:
            return InvalidInput(DB_ENV, str(path), f"needs the psycopg driver ({e})")
        return None
    p = sqlite_path(url)
    assert p is not None
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


def _possible_id(job_id: object) -> bool:
    """Whether ``job_id`` can name a job: a string without NUL (PostgreSQL text cannot hold one)
    of at most 200 characters (ids are 32 hex digits)."""
    return isinstance(job_id, str) and "\x00" not in job_id and len(job_id) <= 200


class LeaseLost(Exception):
    """A runner's write to a job it no longer owns (another runner took the lease over): refused."""

    def __init__(self, job_id: str, owner: str, holder: str | None, what: str) -> None:
        super().__init__(f"job {job_id}: {what} by {owner} refused: the job is held by {holder or 'nobody'}")
        self.job_id = job_id
        self.owner = owner
        self.holder = holder


class JobStore:
    """Jobs and per-step results in one database (see the module docstring). Thread-safe: a
    connection per call (SQLite) or from a pool (PostgreSQL); this process's writes are serialised
    by a lock, other processes' by the database. Every database error is raised as a ``StoreError``.

    Attributes: ``url`` (SQLAlchemy URL), ``path`` (the SQLite file; None on PostgreSQL),
    ``where`` (the store for messages, no password), ``postgres``, ``busy_timeout_s``, ``engine``.
    """

    def __init__(self, path: Path | str | None = None, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.url = db_url(path)
        self.postgres = is_postgres(self.url)
        self.path = sqlite_path(self.url)
        self.where = describe(self.url)
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        try:
            if self.path is not None and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise store_error(e, self.where) from e
        self.engine = make_engine(self.url, busy_timeout_s)
        with self._conn(write=True) as c:
            if self.postgres:
                c.execute(SQL.schema_lock_pg)  # two servers starting at once create the tables once
            METADATA.create_all(c)
            if not self.postgres:
                have = {col["name"] for col in inspect(c).get_columns("jobs")}
                for name, typ in LEASE_COLUMNS.items():
                    if name not in have:
                        c.exec_driver_sql(SQL.add_column.format(name=name, type=typ))

    def close(self) -> None:
        """Close the pooled connections (PostgreSQL); the store opens new ones if used again."""
        self.engine.dispose()

    @contextmanager
    def _conn(self, write: bool = False, timeout_s: float | None = None) -> Iterator[Connection]:
        """One transaction: committed on success, rolled back on error. ``write``: SQLite takes the
        write lock at ``BEGIN`` (``BEGIN IMMEDIATE``). ``timeout_s``: a lock wait other than
        ``busy_timeout_s`` for this transaction."""
        try:
            with self.engine.connect() as conn:
                if write and not self.postgres:
                    conn = conn.execution_options(immediate=True)
                if timeout_s is not None and not self.postgres:
                    conn.connection.driver_connection.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
                with conn.begin():
                    if timeout_s is not None and self.postgres:
                        conn.exec_driver_sql(SQL.probe_timeout_pg.format(ms=max(1, int(timeout_s * 1000))))
                    yield conn
        except (SQLAlchemyError, sqlite3.Error, OSError) as e:
            orig = getattr(e, "orig", None)
            if isinstance(e, DataError) or str(getattr(orig, "sqlstate", "") or "").startswith("22"):
                # not a store fault: the value cannot be stored (a job with it fails, never loops)
                raise InvalidInput("job", None, f"the job store cannot store this value: {orig}") from e
            raise store_error(e, self.where) from e
        except Exception as e:
            if type(e).__module__.startswith("psycopg"):
                raise store_error(e, self.where) from e
            raise

    def probe(self, timeout_s: float = PROBE_TIMEOUT_S) -> StoreError | None:
        """None when the store takes a write now (a rolled-back write, waiting at most
        ``timeout_s`` for a lock), else the ``StoreError`` that says why not."""
        try:
            with self._conn(write=True, timeout_s=timeout_s) as c:
                c.execute(SQL.probe_jobs)
                c.execute(SQL.probe_write, {"stamp": _now()})
                c.get_transaction().rollback()
        except StoreError as e:
            return e
        return None

    @staticmethod
    def probe_path(path: Path | str, timeout_s: float = PROBE_TIMEOUT_S) -> StoreError | None:
        """``probe`` for a store not opened in this process (e.g. a SQLite file a previous process
        wrote): opens it (creating missing tables), then probes it."""
        try:
            store = JobStore(path, busy_timeout_s=timeout_s)
        except StoreError as e:
            return e
        try:
            return store.probe(timeout_s)
        finally:
            store.close()

    # -- writes -------------------------------------------------------------------------------

    def create(self, request: Mapping[str, Any], total: int, kind: str = KIND_SCENARIOS) -> str:
        job_id = uuid.uuid4().hex
        doc = json.dumps(json_safe(request, nonfinite="null"))
        with self._lock, self._conn(write=True) as c:
            c.execute(SQL.insert_job, {"id": job_id, "kind": kind, "total": int(total), "request": doc,
                                       "stamp": _now()})
        return job_id

    def _check_owner(self, c: Connection, job_id: str, owner: str, what: str) -> None:
        """Inside a write transaction: raise (and log) ``LeaseLost`` unless ``owner`` holds the job."""
        row = c.execute(SQL.owner_check(self.postgres), {"id": job_id}).mappings().first()
        holder = None if row is None else row["owner"]
        if holder != owner:
            e = LeaseLost(job_id, owner, holder, what)
            log.warning("job store: %s", e)
            raise e

    def set_status(self, job_id: str, status: str, error: str | None = None, owner: str | None = None) -> None:
        """Set the status; with ``owner``, only while that runner holds the job (else ``LeaseLost``),
        and a final status ends its lease."""
        args = {"status": status, "error": error, "stamp": _now(), "id": job_id, "owner": owner}
        with self._lock, self._conn(write=True) as c:
            if owner is None:
                c.execute(SQL.set_status, args)
                return
            self._check_owner(c, job_id, owner, f"status {status!r}")
            c.execute(SQL.set_status if status in ACTIVE else SQL.finish, args)

    def add_result(self, job_id: str, idx: int, scenario: str, kpis: Mapping[str, Any],
                   owner: str | None = None) -> bool:
        """Commit one step's result (named ``scenario``, ordered by ``idx``) and the job's progress
        in one transaction. With ``owner`` (a runner): refused with ``LeaseLost`` unless it holds
        the job, and a result for a step already committed is kept, the new one refused and logged
        (returns False). Without ``owner`` (tools, tests): written as given."""
        args = {"id": job_id, "idx": int(idx), "scenario": scenario, "stamp": _now(),
                "kpis": json.dumps(json_safe(kpis, nonfinite="null"))}
        with self._lock, self._conn(write=True) as c:
            if owner is None:
                c.execute(SQL.replace_result, args)
                inserted = True
            else:
                self._check_owner(c, job_id, owner, f"result of step {scenario!r}")
                inserted = c.execute(SQL.insert_result, args).rowcount == 1
                if not inserted:
                    log.warning("job store: job %s: a second result for step %r (by %s) refused; the first "
                                "is kept", job_id, scenario, owner)
            c.execute(SQL.count_done, args)
        return inserted

    def finish_unit(self, job_id: str, result: Mapping[str, Any], total: int, owner: str) -> None:
        """A one-unit job's result, progress ``total`` and status ``done`` in one transaction, only
        while ``owner`` holds the job (else ``LeaseLost``)."""
        args = {"id": job_id, "idx": 0, "scenario": RESULT_ROW, "stamp": _now(), "owner": owner,
                "kpis": json.dumps(json_safe(result, nonfinite="null")), "done": int(total),
                "status": "done", "error": None}
        with self._lock, self._conn(write=True) as c:
            self._check_owner(c, job_id, owner, "result")
            c.execute(SQL.replace_result, args)
            c.execute(SQL.set_progress, args)
            c.execute(SQL.finish, args)

    def set_progress(self, job_id: str, done: int, owner: str | None = None) -> None:
        """Progress of a job without per-step results (``done`` of ``total`` steps); with ``owner``,
        only while that runner holds the job (else ``LeaseLost``)."""
        with self._lock, self._conn(write=True) as c:
            if owner is not None:
                self._check_owner(c, job_id, owner, "progress")
            c.execute(SQL.set_progress, {"done": int(done), "stamp": _now(), "id": job_id})

    # -- leases -------------------------------------------------------------------------------

    def claim(self, job_id: str, owner: str, lease_s: float) -> bool:
        """Claim the job for ``owner`` until now + ``lease_s``: True when it is queued or running and
        unowned, expired or already ``owner``'s; status becomes ``running``."""
        now = time.time()
        args = {"owner": owner, "until": now + lease_s, "stamp": _now(), "id": job_id, "now": now}
        with self._lock, self._conn(write=True) as c:
            return c.execute(SQL.claim, args).rowcount == 1

    def claim_next(self, owner: str, lease_s: float) -> str | None:
        """Claim the oldest queued or running job that no live lease holds (None: there is none)."""
        now = time.time()
        args = {"owner": owner, "until": now + lease_s, "stamp": _now(), "now": now}
        with self._lock, self._conn(write=True) as c:
            if self.postgres:
                return c.execute(SQL.claim_next_pg, args).scalar()
            job_id = c.execute(SQL.next_claimable, args).scalar()
            if job_id is None:
                return None
            n = c.execute(SQL.claim, {**args, "id": job_id}).rowcount
            return job_id if n == 1 else None

    def renew(self, job_id: str, owner: str, lease_s: float) -> bool:
        """Extend ``owner``'s lease to now + ``lease_s``; False when another runner holds the job
        (or it is finished)."""
        with self._lock, self._conn(write=True) as c:
            return c.execute(SQL.renew, {"until": time.time() + lease_s, "id": job_id, "owner": owner}).rowcount == 1

    def release(self, job_id: str, owner: str) -> bool:
        """Give the job up (a shutting-down runner), so that another server takes it at once."""
        with self._lock, self._conn(write=True) as c:
            return c.execute(SQL.release, {"id": job_id, "owner": owner}).rowcount == 1

    def lease(self, job_id: str) -> tuple[str | None, float | None]:
        """``(owner, lease_until)`` of the job (``(None, None)``: unknown or never claimed)."""
        if not _possible_id(job_id):
            return None, None
        with self._conn() as c:
            row = c.execute(SQL.owner_of, {"id": job_id}).mappings().first()
        return (None, None) if row is None else (row["owner"], row["lease_until"])

    # -- reads --------------------------------------------------------------------------------

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job as a dict (``results`` in step order), or None (also for an id no job can have)."""
        if not _possible_id(job_id):
            return None
        with self._conn() as c:
            row = c.execute(SQL.get_job, {"id": job_id}).mappings().first()
            if row is None:
                return None
            res = c.execute(SQL.get_results, {"id": job_id}).scalars().all()
        return {"id": row["id"], "kind": row["kind"], "status": row["status"],
                "progress": {"done": row["done"], "total": row["total"]},
                "results": [json.loads(r) for r in res], "error": row["error"],
                "created": row["created"], "updated": row["updated"], "request": json.loads(row["request"])}

    def done_names(self, job_id: str) -> set[str]:
        with self._conn() as c:
            return set(c.execute(SQL.done_names, {"id": job_id}).scalars())

    def next_active(self) -> str | None:
        """The oldest queued or running job (leased or not)."""
        with self._conn() as c:
            return c.execute(SQL.next_active).scalar()


__all__ = ["ACTIVE", "KIND_SCENARIOS", "PROBE_TIMEOUT_S", "RESULT_ROW", "JobStore", "LeaseLost", "StoreError",
           "check_db_path", "store_error"]

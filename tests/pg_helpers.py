"""Store back ends for the tests (a plain module; the fixture ``job_db`` is registered in
``tests/conftest.py``): ``job_db`` runs a test once on a fresh SQLite file and once
on a fresh PostgreSQL database (created for the test from ``$LHASA_OPS_TEST_PG``, dropped after).

Without ``$LHASA_OPS_TEST_PG`` the PostgreSQL cases skip, saying so; ``.ci/run`` starts a server
(``.ci/pg_up``) and sets it, so CI runs them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.servers import hold_lock

PG_ENV = "LHASA_OPS_TEST_PG"
NO_PG = f"PostgreSQL job-store tests need ${PG_ENV}=postgresql://user:pw@host:port/db (.ci/run sets it)"


@dataclass(frozen=True)
class JobDb:
    """One test's job database. ``url``: what ``$LHASA_OPS_DB`` / ``JobStore(...)`` takes (a SQLite
    file path or a PostgreSQL URL); ``path``: the SQLite file (None on PostgreSQL)."""

    backend: str
    url: str
    path: Path | None = None

    def lock(self):
        """Another process's exclusive lock on the job store until the block ends (SQLite ``BEGIN
        EXCLUSIVE``; PostgreSQL ``LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE``; ``bench.servers.hold_lock``).
        The tables must exist: open a ``JobStore`` first."""
        return hold_lock(self.url)

    def set_read_only(self, on: bool = True) -> None:
        """PostgreSQL: make new sessions of this database read-only (``default_transaction_read_only``)."""
        import psycopg

        name = self.url.rsplit("/", 1)[1]
        with psycopg.connect(os.environ[PG_ENV], autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {"on" if on else "off"}')


def pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def fresh_pg_database(prefix: str = "lhasa_t") -> str:
    """Create an empty database on the ``$LHASA_OPS_TEST_PG`` server; its URL."""
    import psycopg

    admin = pg_admin_url()
    assert admin is not None
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def job_db_fixture(request, tmp_path) -> Iterator[JobDb]:
    """A fresh job database on each back end (see the module docstring)."""
    if request.param == "sqlite":
        path = tmp_path / "jobs.sqlite3"
        yield JobDb("sqlite", str(path), path)
        return
    if pg_admin_url() is None:
        pytest.skip(NO_PG)
    url = fresh_pg_database()
    try:
        yield JobDb("postgresql", url)
    finally:
        drop_pg_database(url)

"""The server's database: ``$LHASA_OPS_DB`` as a SQLAlchemy (Core 2.x) ``Engine``.

``LHASA_OPS_DB`` is either

* a file path (default ``./lhasa_ops.sqlite3``) or a ``sqlite:///path`` URL: an embedded SQLite file
  (one server, or several servers on one machine); or
* a ``postgresql://user:password@host:port/database`` URL (also ``postgresql+psycopg://``; plain
  ``postgresql://`` is mapped to the psycopg v3 driver): one database for several servers.

Functions (use these rather than ``create_engine`` so every store agrees on the settings):

* ``db_url(value=None) -> sqlalchemy.URL``: the URL of ``value`` or of ``$LHASA_OPS_DB``
  (``InvalidInput`` naming ``LHASA_OPS_DB`` for an unsupported scheme or a malformed URL).
* ``get_engine(value=None) -> sqlalchemy.Engine``: one engine per URL for the whole process (cached),
  with the default lock wait ``BUSY_TIMEOUT_S``; the day-plan store and any other table of the
  server use this one. ``make_engine(url, busy_timeout_s)``: an engine of its own (the job store,
  whose lock wait tests shorten).
* ``is_postgres(url)``, ``sqlite_path(url)``, ``describe(url)`` (the URL without its password,
  for messages), ``store_exists(url)`` (SQLite: the file exists; PostgreSQL: always, the server
  owns it).

Engine settings. SQLite: a new connection per use (``NullPool``), made by ``sqlite3.connect(path,
timeout=busy_timeout_s, isolation_level=None)`` so that SQLAlchemy, not the driver, issues ``BEGIN``;
a connection opened with execution option ``immediate=True`` begins with ``BEGIN IMMEDIATE`` (it
takes the write lock at once, which is what makes a read-then-write atomic across processes).
PostgreSQL: a small pool (``pool_pre_ping``), ``connect_timeout`` 5 s, and ``lock_timeout`` =
``busy_timeout_s`` on every connection (a table lock held elsewhere fails a statement after that
wait instead of hanging it, like SQLite's busy timeout).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from optimizer.core.errors import InvalidInput

DB_ENV = "LHASA_OPS_DB"
DEFAULT_DB = "lhasa_ops.sqlite3"
BUSY_TIMEOUT_S = 30.0
"""How long a connection waits for another connection's lock, seconds (SQLite busy timeout,
PostgreSQL ``lock_timeout``)."""
CONNECT_TIMEOUT_S = 5
"""How long a PostgreSQL connection attempt waits for the server, seconds."""
PG_DRIVER = "postgresql+psycopg"
_POSTGRES = ("postgresql", "postgres", "postgresql+psycopg")

_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def db_value() -> str:
    """``$LHASA_OPS_DB`` or the default file ``lhasa_ops.sqlite3``."""
    return os.environ.get(DB_ENV) or DEFAULT_DB


def db_url(value: str | os.PathLike[str] | None = None) -> URL:
    """The SQLAlchemy URL of ``value`` (a path or URL; None: ``$LHASA_OPS_DB``). A path becomes
    ``sqlite:///<absolute path>``; ``postgresql://`` / ``postgres://`` become
    ``postgresql+psycopg://``. Raises ``InvalidInput(LHASA_OPS_DB, value, why)`` for other schemes."""
    raw = os.fspath(value) if value is not None else db_value()
    if "://" not in raw:
        return URL.create("sqlite", database=str(Path(raw).absolute()))
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as e:
        raise InvalidInput(DB_ENV, _masked(raw), f"is not a database URL ({_masked(str(e))})") from e
    if url.drivername == "sqlite":
        if not url.database:
            raise InvalidInput(DB_ENV, _masked(raw), "an in-memory SQLite database cannot be shared; give a file")
        return url.set(database=str(Path(url.database).absolute()))
    if url.drivername in _POSTGRES:
        if not url.database:
            raise InvalidInput(DB_ENV, _masked(raw), "names no database (postgresql://user:pw@host:port/DATABASE)")
        return url.set(drivername=PG_DRIVER)
    raise InvalidInput(DB_ENV, _masked(raw), "must be a file path, sqlite:///path or postgresql://... URL")


def _masked(raw: str) -> str:
    """``raw`` with the password of a ``scheme://user:password@`` part replaced by ``***``."""
    return re.sub(r"(://[^:/@\s]*):[^@\s]*@", r"\1:***@", raw)


def is_postgres(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL (None for PostgreSQL)."""
    return None if is_postgres(url) else Path(url.database or DEFAULT_DB)


def describe(url: URL) -> str:
    """The URL for messages: a SQLite file path, or the PostgreSQL URL without its password."""
    path = sqlite_path(url)
    return str(path) if path is not None else url.render_as_string(hide_password=True)


def store_exists(url: URL) -> bool:
    """SQLite: the file exists (nothing is created before the first job); PostgreSQL: True."""
    path = sqlite_path(url)
    return True if path is None else path.exists()


def make_engine(url: URL, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Engine:
    """A new engine for ``url`` (see the module docstring for its settings)."""
    if is_postgres(url):
        ms = max(1, int(busy_timeout_s * 1000))
        return create_engine(url, pool_size=4, max_overflow=8, pool_pre_ping=True,
                             connect_args={"connect_timeout": CONNECT_TIMEOUT_S,
                                           "options": f"-c lock_timeout={ms}"})
    path = str(sqlite_path(url))

    def connect() -> sqlite3.Connection:
        # looked up at call time, so a test can stand in for sqlite3.connect
        return sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)

    engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("immediate") else "BEGIN")


def get_engine(value: str | os.PathLike[str] | None = None) -> Engine:
    """The process-wide engine of ``value`` (None: ``$LHASA_OPS_DB``), made on first use."""
    url = db_url(value)
    key = url.render_as_string(hide_password=False)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = make_engine(url)
        return engine


__all__ = ["BUSY_TIMEOUT_S", "DB_ENV", "DEFAULT_DB", "db_url", "db_value", "describe", "get_engine",
           "is_postgres", "make_engine", "sqlite_path", "store_exists"]

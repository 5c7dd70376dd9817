"""The day store: every version of every live day plan, in SQLite (default) or PostgreSQL, with
SQLAlchemy Core 2.x.

Where: ``$LHASA_OPS_DB`` as for jobs: a file path (``sqlite:///<path>``, default
``./lhasa_ops.sqlite3``) or a ``postgresql://`` URL (driven by psycopg 3:
``postgresql+psycopg://``). Tables (their own, beside the job store's)::

    days(date PK, version, updated)                     the current version of each day
    day_versions(date, version, reason, kind, diff, kpis, snapshot, created)
        PRIMARY KEY (date, version); diff and kpis JSON; snapshot: the whole state (JSON,
        ``optimizer.days.report.state_to_dict``) for the first version and after every event,
        NULL for a booking or a cancellation, whose ``diff`` is enough to replay it.

Writes are serialised per date: ``write(date)`` opens a transaction that holds the date's row
(``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL) and yields the stored
version; ``add_version`` then moves ``days.version`` from that number to the next with a
conditional UPDATE (the version check), so two servers on one database never both write version
``n + 1``. Reads (``load``) rebuild a day from its last snapshot plus the diffs after it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from api.services.store_db import db_url, get_engine

metadata = MetaData()
days_table = Table(
    "days",
    metadata,
    Column("date", String(10), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated", String(40), nullable=False),
)
versions_table = Table(
    "day_versions",
    metadata,
    Column("date", String(10), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("diff", Text, nullable=False),
    Column("kpis", Text, nullable=False),
    Column("snapshot", Text, nullable=True),
    Column("created", String(40), nullable=False),
)


class VersionConflict(RuntimeError):
    """Another writer moved the day on between the read and the write (retry)."""


def engine_url(value: str | None = None) -> str:
    """SQLAlchemy URL (password shown) of ``value`` (default ``$LHASA_OPS_DB``), by the server's one
    rule (``api.services.store_db.db_url``): a path -> ``sqlite:///<absolute path>``, a
    ``postgresql://`` URL -> ``postgresql+psycopg://``. Raises ``InvalidInput`` for other schemes."""
    return db_url(value).render_as_string(hide_password=False)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class DayStore:
    """Versions of live days (module docstring). ``url``: a path or URL (default ``$LHASA_OPS_DB``)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = engine_url(url)
        self.engine = get_engine(self.url)
        metadata.create_all(self.engine)

    @classmethod
    def scratch(cls) -> DayStore:
        """A store in a fresh temporary SQLite file, deleted with the store (for replays that keep
        nothing; an in-memory database cannot be shared by the connections of one engine)."""
        tmp = tempfile.TemporaryDirectory(prefix="lhasa_ops_days_")
        store = cls(str(Path(tmp.name) / "days.sqlite3"))
        store._scratch = tmp  # removed when the store is collected
        return store

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write(self, date: str) -> Iterator[tuple[Connection, int | None]]:
        """A write transaction holding ``date``'s row: yields (connection, stored version or None).
        Commits when the block ends, rolls back on an exception."""
        with self.engine.connect().execution_options(immediate=True) as conn, conn.begin():
            row = conn.execute(
                select(days_table.c.version).where(days_table.c.date == date).with_for_update()
            ).first()
            yield conn, (int(row[0]) if row is not None else None)

    def add_version(
        self,
        conn: Connection,
        date: str,
        version: int,
        reason: str,
        kind: str,
        diff: dict[str, Any],
        kpis: dict[str, float],
        snapshot: dict[str, Any] | None,
    ) -> None:
        """Write version ``version`` of ``date`` inside ``write``; ``VersionConflict`` unless the
        stored version is ``version - 1`` (or the day is new and ``version`` is 1)."""
        now = _now()
        if version == 1:
            got = conn.execute(select(days_table.c.version).where(days_table.c.date == date)).first()
            if got is not None:
                raise VersionConflict(f"day {date} exists")
            try:  # another server may create the same date at once (no row to lock yet)
                with conn.begin_nested():
                    conn.execute(insert(days_table).values(date=date, version=1, updated=now))
            except IntegrityError:
                raise VersionConflict(f"day {date} exists") from None
        else:
            res = conn.execute(
                update(days_table)
                .where(days_table.c.date == date, days_table.c.version == version - 1)
                .values(version=version, updated=now)
            )
            if res.rowcount != 1:
                raise VersionConflict(f"day {date} is no longer at version {version - 1}")
        conn.execute(
            insert(versions_table).values(
                date=date,
                version=version,
                reason=reason,
                kind=kind,
                diff=json.dumps(diff, allow_nan=False),
                kpis=json.dumps(kpis, allow_nan=False),
                snapshot=json.dumps(snapshot, allow_nan=False) if snapshot is not None else None,
                created=now,
            )
        )

    def current_version(self, date: str) -> int | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(days_table.c.version).where(days_table.c.date == date)).first()
            conn.rollback()
        return int(row[0]) if row is not None else None

    def load(
        self, date: str, conn: Connection | None = None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """(last snapshot, diffs of the versions after it, in order) of ``date``; None if unknown."""

        def run(c: Connection):
            v = versions_table.c
            snap = c.execute(
                select(v.version, v.snapshot)
                .where(v.date == date, v.snapshot.is_not(None))
                .order_by(v.version.desc())
                .limit(1)
            ).first()
            if snap is None:
                return None
            rows = c.execute(
                select(v.version, v.diff).where(v.date == date, v.version > snap[0]).order_by(v.version)
            ).all()
            return json.loads(snap[1]), [json.loads(r[1]) | {"version": int(r[0])} for r in rows]

        if conn is not None:
            return run(conn)
        with self.engine.connect() as c:
            out = run(c)
            c.rollback()
        return out

    def version(self, date: str, version: int) -> dict[str, Any] | None:
        """One version's reason, kind, diff, KPIs and time (no snapshot); None if unknown."""
        v = versions_table.c
        with self.engine.connect() as c:
            row = c.execute(
                select(v.version, v.reason, v.kind, v.diff, v.kpis, v.created).where(
                    v.date == date, v.version == version
                )
            ).first()
            c.rollback()
        if row is None:
            return None
        return {
            "date": date,
            "version": int(row[0]),
            "reason": row[1],
            "kind": row[2],
            "diff": json.loads(row[3]),
            "kpis": json.loads(row[4]),
            "created": row[5],
        }

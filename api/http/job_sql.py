"""The job store's tables and every SQL statement it runs, for SQLite and PostgreSQL.

Tables (SQLAlchemy Core ``METADATA``; ``created`` / ``updated`` are ISO-8601 UTC strings, so they
sort in time order; ``lease_until`` is epoch seconds)::

    jobs(id, kind, status, done, total, request, error, created, updated, owner, lease_until)
        status: queued -> running -> done | failed; request: the POSTed document (JSON);
        owner / lease_until: the runner that holds the job and until when
    results(job_id, idx, scenario, kpis, created)      one row per finished step, PRIMARY KEY
                                                       (job_id, scenario); kpis: its result (JSON)
    probe(id, at)                                      the row ``/readyz`` writes (rolled back)

Statements are ``sqlalchemy.text`` with named parameters and are the same on both back ends except
where ``SQL.for_dialect`` says otherwise:

* claiming the next job: SQLite runs ``next_claimable`` then the conditional ``claim`` inside
  ``BEGIN IMMEDIATE`` (the write lock makes the pair atomic); PostgreSQL runs one ``claim_next_pg``
  (``UPDATE ... WHERE id = (SELECT id ... FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id``), so two
  servers never wait on, or take, the same row;
* the owner check before a runner's write: PostgreSQL reads the row ``FOR UPDATE`` (a concurrent
  claim waits until the write commits); SQLite holds the write lock already.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    TextClause,
    text,
)

METADATA = MetaData()
JOBS = Table(
    "jobs", METADATA,
    Column("id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("done", Integer, nullable=False, server_default=text("0")),
    Column("total", Integer, nullable=False),
    Column("request", Text, nullable=False),
    Column("error", Text),
    Column("created", Text, nullable=False),
    Column("updated", Text, nullable=False),
    Column("owner", Text),
    Column("lease_until", Float),
    CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="jobs_status_check"),
    Index("jobs_status", "status", "created"),
)
RESULTS = Table(
    "results", METADATA,
    Column("job_id", Text, ForeignKey("jobs.id"), primary_key=True),
    Column("idx", Integer, nullable=False),
    Column("scenario", Text, primary_key=True),
    Column("kpis", Text, nullable=False),
    Column("created", Text, nullable=False),
)
PROBE = Table(
    "probe", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("at", Text, nullable=False),
)
LEASE_COLUMNS = {"owner": "TEXT", "lease_until": "REAL"}
"""Columns added to the ``jobs`` table of a SQLite store made before leases (``ALTER TABLE``)."""
SCHEMA_LOCK_KEY = 0x1A5A_0005
"""PostgreSQL advisory lock taken while creating the tables (two servers starting at once)."""


class SQL:
    """Every statement of the job store. ``now`` and ``until`` are epoch seconds, ``stamp`` an
    ISO time; ``claimable`` is the lease condition shared by the claim statements."""

    claimable = "status IN ('queued', 'running') AND (owner IS NULL OR lease_until IS NULL OR lease_until < :now)"
    insert_job = text("INSERT INTO jobs (id, kind, status, done, total, request, created, updated) "
                      "VALUES (:id, :kind, 'queued', 0, :total, :request, :stamp, :stamp)")
    set_status = text("UPDATE jobs SET status = :status, error = :error, updated = :stamp WHERE id = :id")
    finish = text("UPDATE jobs SET status = :status, error = :error, updated = :stamp, lease_until = NULL "
                  "WHERE id = :id AND owner = :owner")
    set_progress = text("UPDATE jobs SET done = :done, updated = :stamp WHERE id = :id")
    owner_of = text("SELECT owner, lease_until, status FROM jobs WHERE id = :id")
    owner_of_locked_pg = text("SELECT owner, lease_until, status FROM jobs WHERE id = :id FOR UPDATE")
    insert_result = text("INSERT INTO results (job_id, idx, scenario, kpis, created) "
                         "VALUES (:id, :idx, :scenario, :kpis, :stamp) ON CONFLICT (job_id, scenario) DO NOTHING")
    replace_result = text("INSERT INTO results (job_id, idx, scenario, kpis, created) "
                          "VALUES (:id, :idx, :scenario, :kpis, :stamp) ON CONFLICT (job_id, scenario) "
                          "DO UPDATE SET idx = excluded.idx, kpis = excluded.kpis, created = excluded.created")
    count_done = text("UPDATE jobs SET done = (SELECT COUNT(*) FROM results WHERE job_id = :id), "
                      "updated = :stamp WHERE id = :id")
    next_claimable = text(f"SELECT id FROM jobs WHERE {claimable} ORDER BY created, id LIMIT 1")
    claim = text("UPDATE jobs SET owner = :owner, lease_until = :until, status = 'running', updated = :stamp "
                 f"WHERE id = :id AND (owner = :owner AND status IN ('queued', 'running') OR {claimable})")
    claim_next_pg = text(
        "UPDATE jobs SET owner = :owner, lease_until = :until, status = 'running', updated = :stamp "
        f"WHERE id = (SELECT id FROM jobs WHERE {claimable} ORDER BY created, id "
        f"FOR UPDATE SKIP LOCKED LIMIT 1) AND ({claimable}) RETURNING id")
    renew = text("UPDATE jobs SET lease_until = :until "
                 "WHERE id = :id AND owner = :owner AND status IN ('queued', 'running')")
    release = text("UPDATE jobs SET owner = NULL, lease_until = NULL WHERE id = :id AND owner = :owner")
    get_job = text("SELECT * FROM jobs WHERE id = :id")
    get_results = text("SELECT kpis FROM results WHERE job_id = :id ORDER BY idx")
    done_names = text("SELECT scenario FROM results WHERE job_id = :id")
    next_active = text("SELECT id FROM jobs WHERE status IN ('queued', 'running') ORDER BY created, id LIMIT 1")
    add_column = "ALTER TABLE jobs ADD COLUMN {name} {type}"
    probe_write = text("INSERT INTO probe (id, at) VALUES (1, :stamp) ON CONFLICT (id) DO UPDATE SET at = excluded.at")
    probe_jobs = text("UPDATE jobs SET updated = updated WHERE id = ''")
    """Takes the same lock as a job write (a PostgreSQL ``LOCK TABLE jobs`` elsewhere blocks it)."""
    schema_lock_pg = text(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})")
    probe_timeout_pg = "SET LOCAL lock_timeout = {ms}"

    @staticmethod
    def owner_check(postgres: bool) -> TextClause:
        """The owner read that precedes a runner's write (locks the row on PostgreSQL)."""
        return SQL.owner_of_locked_pg if postgres else SQL.owner_of


__all__ = ["JOBS", "LEASE_COLUMNS", "METADATA", "PROBE", "RESULTS", "SQL"]

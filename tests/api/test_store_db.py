"""``$LHASA_OPS_DB`` as a SQLAlchemy engine (``api.services.store_db``): paths and URLs map to the right
driver, a bad value is refused naming ``LHASA_OPS_DB`` (and stops the server at start), passwords
never reach messages, and ``get_engine()`` gives one working engine per database (the helper the
day-plan store will use)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from api.http.jobs import check_environment
from api.services.store_db import DB_ENV, db_url, describe, get_engine, is_postgres, sqlite_path, store_exists
from optimizer.core.errors import InvalidInput


def test_paths_and_urls_map_to_their_driver(tmp_path, monkeypatch):
    url = db_url(tmp_path / "jobs.sqlite3")
    assert url.drivername == "sqlite" and sqlite_path(url) == tmp_path / "jobs.sqlite3"
    assert db_url(f"sqlite:///{tmp_path}/x.db").database == f"{tmp_path}/x.db"
    monkeypatch.chdir(tmp_path)
    assert sqlite_path(db_url("rel.sqlite3")) == tmp_path / "rel.sqlite3"  # relative to the working folder
    for raw in ("postgresql://u:secret@db:5432/ops", "postgres://u:secret@db/ops",
                "postgresql+psycopg://u:secret@db/ops"):
        url = db_url(raw)
        assert url.drivername == "postgresql+psycopg" and is_postgres(url) and url.database == "ops"
        assert "secret" not in describe(url) and sqlite_path(url) is None and store_exists(url)
    monkeypatch.delenv(DB_ENV, raising=False)
    assert sqlite_path(db_url()) == tmp_path / "lhasa_ops.sqlite3"  # the default file


@pytest.mark.parametrize("raw", ["ftp://host/jobs", "mysql://u:p@h/db", "postgresql://u:secret@db:5432/",
                                 "sqlite://", "postgresql://u:secret@db:notaport/ops"])
def test_bad_values_are_refused_naming_the_variable(raw, monkeypatch):
    with pytest.raises(InvalidInput) as e:
        db_url(raw)
    assert e.value.field == DB_ENV and "secret" not in str(e.value)
    monkeypatch.setenv(DB_ENV, raw)
    assert [p.field for p in check_environment()] == [DB_ENV]


def test_get_engine_is_one_working_engine_per_database(tmp_path):
    path = tmp_path / "days.sqlite3"
    engine = get_engine(path)
    assert get_engine(str(path)) is engine and get_engine(tmp_path / "other.sqlite3") is not engine
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (x INTEGER)"))
        c.execute(text("INSERT INTO t VALUES (1)"))
    with get_engine(path).connect() as c:
        assert c.execute(text("SELECT x FROM t")).scalar() == 1


@pytest.mark.parametrize("job_db", ["postgresql"], indirect=True)
def test_get_engine_on_postgresql(job_db):
    engine = get_engine(job_db.url)
    assert engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"
    with engine.connect() as c:
        assert c.execute(text("SELECT current_database()")).scalar() == job_db.url.rsplit("/", 1)[1]
        assert c.execute(text("SHOW lock_timeout")).scalar() == "30s"  # busy timeout, as on SQLite
    engine.dispose()

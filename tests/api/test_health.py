"""Liveness, readiness and start-up checks (issue 14, build 3): ``/readyz`` names why the server
cannot work (warming up, locked or read-only store, dead runner); a bad environment stops
``create_app()`` and ``lhasa-ops serve`` (exit 2) with the variable and its value; a key file that
disappears while serving keeps the last good keys (never a 500)."""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

import api.http.jobs as jobs
from api.http.app import ConfigError, create_app
from api.http.jobs import JobStore

SHAPE = {"code", "message", "field"}
ENV = ("LHASA_OPS_API_KEYS", "LHASA_OPS_API_KEYS_FILE", "LHASA_OPS_MAX_BODY_BYTES", "LHASA_OPS_MAX_TIME_LIMIT_S",
       "LHASA_OPS_MAX_JOB_TIME_LIMIT_S")


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "jobs.sqlite3"
    monkeypatch.setenv("LHASA_OPS_DB", str(path))
    monkeypatch.setattr(jobs, "BUSY_TIMEOUT_S", 0.2)  # a short busy timeout for the lock tests
    monkeypatch.setattr(jobs, "BACKOFF_S", 0.05)
    monkeypatch.setattr(jobs, "BACKOFF_MAX_S", 0.4)
    return path


@contextmanager
def exclusive_lock(path):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("COMMIT")
        conn.close()


def ready(c: TestClient, timeout: float = 300.0) -> dict:
    """Poll /readyz until 200 (the drone kernels warm up on a background thread)."""
    t0 = time.monotonic()
    while True:
        r = c.get("/readyz")
        if r.status_code == 200:
            return r.json()
        assert r.json()["code"] == "warming_up", r.text
        assert time.monotonic() - t0 < timeout, r.text
        time.sleep(0.2)


def not_ready(c: TestClient, code: str) -> dict:
    r = c.get("/readyz")
    assert r.status_code == 503, r.text
    body = r.json()
    assert SHAPE <= set(body) and isinstance(body["message"], str) and body["message"]
    assert code in [x["code"] for x in body["reasons"]], body
    return body


# -- /healthz and /readyz ------------------------------------------------------------------------------------


def test_before_warm_up_readyz_is_503_and_healthz_200(env):
    c = TestClient(create_app())  # no lifespan: nothing compiled yet
    assert c.get("/healthz").json() == {"status": "ok"}
    body = not_ready(c, "warming_up")
    assert body["code"] == "warming_up" and body["field"] == "kernels"
    assert c.get("/readyz").headers["retry-after"]


@pytest.fixture
def env_db(env, job_db, monkeypatch):
    """``env`` on a fresh job database: a SQLite file, then a PostgreSQL database (conftest)."""
    monkeypatch.setenv("LHASA_OPS_DB", job_db.url)
    return job_db


def test_ready_then_store_locked_then_ready_again(env_db):
    JobStore(env_db.url).close()  # an existing store: opened (and its runner started) at startup
    with TestClient(create_app()) as c:
        body = ready(c)
        assert body["status"] == "ready" and body["checks"]["store"]["state"] == "writable"
        assert body["checks"]["runner"]["state"] == "ok"
        with env_db.lock():
            body = not_ready(c, "store_locked")
            assert body["code"] == "store_locked" and body["field"] == "LHASA_OPS_DB"
            assert "locked" in body["message"], body
            r = c.post("/v1/jobs/oxygen-plan", json={"iterations": 10, "method": "policy", "time_limit_s": 5})
            assert r.status_code == 503 and r.json()["code"] == "store_locked", r.text  # JSON, never a 500
            t0 = time.monotonic()
            while c.app.state.job_runner.health()["state"] != "retrying":
                assert time.monotonic() - t0 < 10
                time.sleep(0.05)
            runner = not_ready(c, "store_locked")["checks"]["runner"]
            assert runner["alive"] and runner["failing_since"] and "locked" in runner["last_error"]
        r = c.post("/v1/jobs/oxygen-plan", json={"iterations": 10, "method": "policy", "time_limit_s": 5})
        assert r.status_code == 202, r.text
        t0 = time.monotonic()
        while c.get(f"/v1/jobs/{r.json()['id']}").json()["status"] != "done":
            assert time.monotonic() - t0 < 60
            time.sleep(0.1)
        assert ready(c)["checks"]["runner"]["state"] == "ok"


@pytest.fixture
def read_only_db(env, monkeypatch):
    """A database file the server cannot write: chmod 444, or (root ignores file modes) SQLite's
    read-only open mode for every connection the job store makes."""
    JobStore(env)
    env.chmod(0o444)
    if os.geteuid() == 0:
        real = sqlite3.connect

        def connect(path, *args, **kw):
            if str(path) == str(env):
                kw["uri"] = True
                path = f"{env.resolve().as_uri()}?mode=ro"
            return real(path, *args, **kw)

        monkeypatch.setattr(sqlite3, "connect", connect)
    yield env
    env.chmod(0o644)


def test_read_only_store_is_not_ready_and_jobs_get_a_json_503(read_only_db):
    with TestClient(create_app()) as c:
        body = not_ready(c, "store_not_writable")
        assert body["checks"]["store"]["state"] == "store_not_writable"
        r = c.post("/v1/jobs/oxygen-plan", json={"iterations": 10, "method": "policy", "time_limit_s": 5})
        assert r.status_code == 503 and SHAPE <= set(r.json()) and r.json()["code"] == "store_not_writable"
        assert c.get("/healthz").status_code == 200


@pytest.mark.parametrize("job_db", ["postgresql"], indirect=True)  # SQLite: the test above
def test_read_only_postgresql_store_is_not_ready_and_jobs_get_a_json_503(env_db):
    JobStore(env_db.url).close()
    env_db.set_read_only()  # every new session of the database is read-only
    with TestClient(create_app()) as c:
        body = not_ready(c, "store_not_writable")
        assert body["field"] == "LHASA_OPS_DB" and "read-only" in body["message"], body
        r = c.post("/v1/jobs/oxygen-plan", json={"iterations": 10, "method": "policy", "time_limit_s": 5})
        assert r.status_code == 503 and SHAPE <= set(r.json()) and r.json()["code"] == "store_not_writable"
        assert c.get("/healthz").status_code == 200


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_or_stopped_runner_is_reported(env):
    JobStore(env)
    with TestClient(create_app()) as c:
        ready(c)
        runner = c.app.state.job_runner

        def die():
            raise SystemExit  # not an Exception: the one way left to end the thread

        runner.store = type("Dying", (), {"next_active": staticmethod(die)})()
        runner.notify()
        t0 = time.monotonic()
        while runner.alive:
            assert time.monotonic() - t0 < 10
            time.sleep(0.02)
        assert not_ready(c, "runner_dead")["code"] == "runner_dead"
        runner.stop(5)
        assert not_ready(c, "runner_stopped")["field"] == "runner"


def test_no_store_yet_is_ready_and_creates_no_file(env):
    with TestClient(create_app()) as c:
        body = ready(c)
    assert body["checks"]["store"]["state"] == "not created yet" and not env.exists()


# -- start-up validation --------------------------------------------------------------------------------------


def bad_env_cases(tmp_path):
    a_file = tmp_path / "plain.txt"
    a_file.write_text("not a database", encoding="utf-8")
    empty_keys = tmp_path / "empty_keys.txt"
    empty_keys.write_text("# nothing yet\n\n", encoding="utf-8")
    return [
        ("LHASA_OPS_MAX_BODY_BYTES", "abc"),
        ("LHASA_OPS_MAX_BODY_BYTES", "0"),
        ("LHASA_OPS_MAX_BODY_BYTES", "1.5"),
        ("LHASA_OPS_MAX_TIME_LIMIT_S", "abc"),
        ("LHASA_OPS_MAX_TIME_LIMIT_S", "0"),
        ("LHASA_OPS_MAX_TIME_LIMIT_S", "nan"),
        ("LHASA_OPS_MAX_TIME_LIMIT_S", "7200"),
        ("LHASA_OPS_MAX_JOB_TIME_LIMIT_S", "-1"),
        ("LHASA_OPS_DB", str(a_file / "jobs.sqlite3")),  # under a file
        ("LHASA_OPS_DB", str(tmp_path)),  # a directory
        ("LHASA_OPS_DB", str(a_file)),  # not an SQLite file
        ("LHASA_OPS_API_KEYS_FILE", str(tmp_path / "missing_keys.txt")),
        ("LHASA_OPS_API_KEYS_FILE", str(tmp_path)),
        ("LHASA_OPS_API_KEYS_FILE", str(empty_keys)),
    ]


def test_create_app_refuses_a_bad_environment(env, tmp_path, monkeypatch):
    for name, value in bad_env_cases(tmp_path):
        with monkeypatch.context() as m:
            m.setenv(name, value)
            with pytest.raises(ConfigError) as e:
                create_app()
            assert e.value.field == name and e.value.value == value, str(e.value)
            assert str(e.value).startswith(f"{name}={value!r}: "), str(e.value)
    create_app()  # and the good environment passes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_exits_2_naming_every_bad_variable(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LHASA_OPS_")}
    bad = {"LHASA_OPS_MAX_BODY_BYTES": "abc", "LHASA_OPS_MAX_TIME_LIMIT_S": "soon",
           "LHASA_OPS_DB": str(tmp_path / "f.txt" / "jobs.sqlite3"), "LHASA_OPS_API_KEYS_FILE": str(tmp_path / "nope")}
    (tmp_path / "f.txt").write_text("x", encoding="utf-8")
    port = free_port()
    p = subprocess.run([sys.executable, "-m", "api.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
                       env={**env, **bad}, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    err = " ".join(p.stderr.split())
    assert err.startswith("error: ") and "Traceback" not in p.stderr
    for name, value in bad.items():
        assert f"{name}={value!r}" in err, (name, err)


# -- the key file while serving -------------------------------------------------------------------------------


def test_a_key_file_that_disappears_keeps_the_last_good_keys(env, tmp_path, monkeypatch, caplog):
    keyfile = tmp_path / "keys.txt"
    keyfile.write_text("gamma\n", encoding="utf-8")
    monkeypatch.setenv("LHASA_OPS_API_KEYS_FILE", str(keyfile))
    caplog.set_level(logging.WARNING, logger="api.http.security")
    with TestClient(create_app()) as c:
        def post(key):
            return c.post("/v1/tours/plan", json={}, headers={"X-API-Key": key})

        assert post("gamma").status_code == 422  # past the key check
        keyfile.unlink()
        assert post("gamma").status_code == 422 and post("wrong").status_code == 403
        keyfile.mkdir()  # unreadable as a file
        assert post("gamma").status_code == 422
        keyfile.rmdir()
        keyfile.write_text("", encoding="utf-8")  # a rotation half done
        assert post("gamma").status_code == 422
        assert sum("keeping the last good keys" in r.getMessage() for r in caplog.records) == 1  # once, not per request
        keyfile.write_text("delta\n", encoding="utf-8")
        assert post("delta").status_code == 422 and post("gamma").status_code == 403
        assert any("readable again" in r.getMessage() for r in caplog.records)
        monkeypatch.setenv("LHASA_OPS_API_KEYS_FILE", str(tmp_path / "never_read.txt"))
        r = post("delta")  # a key file never read: fail closed, in the error shape
        assert r.status_code == 503 and r.json()["code"] == "keys_unavailable"
        assert r.json()["field"] == "LHASA_OPS_API_KEYS_FILE"

"""The job runner survives store faults (issue 14, build 1, runner part): another connection holds
the store's lock (SQLite ``BEGIN EXCLUSIVE``, PostgreSQL ``LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE``)
longer than the store's busy timeout; the runner logs, backs off, records its health
(last error, failing since) and, once the lock is released, runs the next job without a restart.
A step result or final status that cannot be committed is retried, not recomputed."""

from __future__ import annotations

import threading
import time

import pytest

from api.http.jobs import JobRunner, JobStore, StoreError, register_kind, register_steps_kind, wait_for
from optimizer.core.errors import InvalidInput

KIND_ECHO = "test_store_echo"
KIND_GATED = "test_store_gated"
KIND_STEPS = "test_store_steps"
GATE = threading.Event()
CALLS: dict[str, int] = {}
STEP_RUNS: list[str] = []


def _echo(job, progress):
    CALLS[job["id"]] = CALLS.get(job["id"], 0) + 1
    return {"x": job["request"]["x"]}


def _gated(job, progress):
    CALLS[job["id"]] = CALLS.get(job["id"], 0) + 1
    assert GATE.wait(30)
    return {"x": job["request"]["x"]}


def _steps(job, steps):
    for i, name in enumerate(job["request"]["names"]):
        if name in steps.done:
            continue
        if i == 1:
            assert GATE.wait(30)
        STEP_RUNS.append(name)
        steps.add(i, name, {"name": name})


register_kind(KIND_ECHO, _echo)
register_kind(KIND_GATED, _gated)
register_steps_kind(KIND_STEPS, _steps)


@pytest.fixture
def store(job_db):
    """A store with a short lock wait, on SQLite then on PostgreSQL (``job_db`` in conftest)."""
    s = JobStore(job_db.url, busy_timeout_s=0.2)
    s.lock = job_db.lock  # another process's exclusive lock on this store
    yield s
    s.close()


@pytest.fixture
def runner(store):
    r = JobRunner(store, poll_s=0.05, backoff_s=0.05, backoff_max_s=0.4)
    r.start()
    yield r
    GATE.set()
    r.stop(30)
    GATE.clear()


def wait_until(pred, timeout=20.0):
    t0 = time.monotonic()
    while not pred():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.02)


def test_store_errors_are_503_with_a_reason(store):
    with store.lock():
        with pytest.raises(StoreError) as e:
            store.create({"x": 1}, 1, kind=KIND_ECHO)
        assert e.value.status == 503 and e.value.code == "store_locked" and e.value.field == "LHASA_OPS_DB"
        assert set(e.value.body()) == {"code", "message", "field"}
        assert store.probe(0.1).code == "store_locked"
    assert store.probe() is None


def test_runner_survives_a_held_lock_and_runs_the_next_job(store, runner, caplog):
    first = store.create({"x": 1}, 1, kind=KIND_ECHO)
    wait_for(store, first, lambda j: j["status"] == "done", timeout=20)
    assert runner.health()["state"] == "ok"
    with store.lock():
        wait_until(lambda: runner.health()["failures"] >= 3)  # several busy timeouts of 0.2 s
        h = runner.health()
        assert h["alive"] and h["state"] == "retrying" and h["last_error_code"] == "store_locked"
        assert "locked" in h["last_error"] and h["failing_since"] is not None and h["ok_since"] is None
        time.sleep(2.0)  # hold it a few seconds, well past the busy timeout
        assert runner.alive and runner.health()["failures"] >= 5
    job = store.create({"x": 2}, 1, kind=KIND_ECHO)  # no restart
    runner.notify()
    done = wait_for(store, job, lambda j: j["status"] in ("done", "failed"), timeout=20)
    assert done["status"] == "done" and done["results"] == [{"x": 2}]
    h = runner.health()
    assert h["state"] == "ok" and h["failures"] == 0 and h["failing_since"] is None
    assert h["last_error_code"] == "store_locked" and h["ok_since"] is not None  # the last error stays visible
    assert any("locked" in r.getMessage() for r in caplog.records)


def test_a_result_that_cannot_be_committed_is_retried_not_recomputed(store, runner):
    job = store.create({"x": 3}, 1, kind=KIND_GATED)
    wait_for(store, job, lambda j: j["status"] == "running", timeout=20)
    with store.lock():
        GATE.set()  # the handler returns while the store is locked
        wait_until(lambda: runner.health()["failures"] >= 2)
        assert runner.alive
    done = wait_for(store, job, lambda j: j["status"] in ("done", "failed"), timeout=20)
    assert done["status"] == "done" and done["results"] == [{"x": 3}] and done["error"] is None
    assert CALLS[job] == 1


def test_steps_committed_once_across_a_held_lock(store, runner):
    STEP_RUNS.clear()  # module-wide: the test runs once per back end
    names = ["a", "b", "c"]
    job = store.create({"names": names}, len(names), kind=KIND_STEPS)
    wait_for(store, job, lambda j: j["progress"]["done"] == 1, timeout=20)
    with store.lock():
        GATE.set()
        wait_until(lambda: runner.health()["failures"] >= 2)
    done = wait_for(store, job, lambda j: j["status"] in ("done", "failed"), timeout=20)
    assert done["status"] == "done" and [r["name"] for r in done["results"]] == names
    assert sorted(STEP_RUNS[-3:]) == names and STEP_RUNS.count("b") == 1


def test_backoff_is_exponential_and_capped(store):
    r = JobRunner(store, backoff_s=0.1, backoff_max_s=0.5)
    delays = [r._failed(StoreError("store_locked", "x")) for _ in range(6)]
    assert delays == [0.1, 0.2, 0.4, 0.5, 0.5, 0.5]
    assert r.health()["state"] == "dead"  # never started, not stopped


def test_a_runner_stopped_while_the_store_is_locked_leaves_the_job_to_the_next_start(store):
    r = JobRunner(store, poll_s=0.05, backoff_s=0.05, backoff_max_s=0.2)
    job = store.create({"x": 4}, 1, kind=KIND_ECHO)
    with store.lock():
        r.start()
        wait_until(lambda: r.health()["failures"] >= 1)
        r.stop(10)
        assert not r.alive and r.health()["state"] == "stopped"
    assert store.get(job)["status"] == "queued"
    r2 = JobRunner(store, poll_s=0.05)
    r2.start()
    try:
        assert wait_for(store, job, lambda j: j["status"] == "done", timeout=20)["results"] == [{"x": 4}]
    finally:
        r2.stop(10)


def test_ids_and_values_no_job_can_have(store):
    """An id with NUL (PostgreSQL text cannot hold one) or of 5,000 characters is simply no job, not
    a store fault; a step name the database cannot store fails the write as bad input (the runner
    fails that job) instead of looking like a store outage retried forever."""
    assert store.get("a\x00b") is None and store.get("x" * 5000) is None
    assert store.lease("a\x00b") == (None, None)
    job = store.create({"x": 1}, 1, kind=KIND_ECHO)
    if store.postgres:
        with pytest.raises(InvalidInput):
            store.add_result(job, 0, "bad\x00name", {"x": 1})
    else:
        assert store.add_result(job, 0, "bad\x00name", {"x": 1})  # SQLite text holds NUL
    assert store.probe() is None

"""Oxygen plans as persisted jobs (``api.http.routes.jobs`` on the SQLite store of ``api.http.jobs``): poll,
result, errors, and restarts (a finished result survives; an unfinished job is run again)."""

from __future__ import annotations

import threading
import time
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api_helpers import poll_job

from api.http.app import create_app
from api.http.jobs import JobStore, register_kind
from api.http.routes.jobs import KIND_OXYGEN

POLICY = {"iterations": 50, "method": "policy", "time_limit_s": 10}
SHAPE = {"code", "message", "field"}


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "jobs.sqlite3"
    monkeypatch.setenv("LHASA_OPS_DB", str(path))
    monkeypatch.delenv("LHASA_OPS_API_KEYS", raising=False)
    monkeypatch.delenv("LHASA_OPS_API_KEYS_FILE", raising=False)
    return path


def poll(c: TestClient, job_id: str, pred, timeout: float = 60.0) -> dict:
    return poll_job(c, f"/v1/jobs/{job_id}", pred, timeout)


def without_wall(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in ("wall_s", "stats")}


def test_oxygen_job_gives_the_synchronous_plan(db):
    with TestClient(create_app()) as c:
        r = c.post("/v1/jobs/oxygen-plan", json=POLICY)
        assert r.status_code == 202, r.text
        body = r.json()
        job_id = body["id"]
        assert body["job_id"] == job_id and body["status"] == "queued" and body["kind"] == KIND_OXYGEN
        assert body["status_url"] == f"/v1/jobs/{job_id}" and body["result_url"] == f"/v1/jobs/{job_id}/result"
        job = poll(c, job_id, lambda j: j["status"] == "done")
        assert job["progress"] == {"done": 2, "total": 2} and job["error"] is None
        result = c.get(body["result_url"])
        assert result.status_code == 200
        sync = c.post("/v1/stations/oxygen-plan", json=POLICY).json()
    assert job["result"] == result.json()
    assert result.json()["verifier"] == [] and result.json()["routes"]
    assert without_wall(result.json()) == without_wall(sync)
    assert db.exists()


def test_job_results_survive_a_restart(db):
    with TestClient(create_app()) as c:
        job_id = c.post("/v1/jobs/oxygen-plan", json=POLICY).json()["id"]
        done = poll(c, job_id, lambda j: j["status"] == "done")
    with TestClient(create_app()) as c:  # a fresh server on the same database
        again = c.get(f"/v1/jobs/{job_id}").json()
        result = c.get(f"/v1/jobs/{job_id}/result").json()
    assert again == done and result == done["result"]


def test_shutdown_mid_job_then_restart_completes_it(db):
    """The server stops while the job runs (or before it starts); the next server finishes it."""
    slow = {"iterations": 300, "method": "exact", "time_limit_s": 3}
    with TestClient(create_app()) as c:
        job_id = c.post("/v1/jobs/oxygen-plan", json=slow).json()["id"]
        poll(c, job_id, lambda j: j["status"] in ("running", "done"), timeout=30)
    status = JobStore(db).get(job_id)["status"]
    assert status in ("running", "done")  # shutdown waits for the job in flight and commits it
    with TestClient(create_app()) as c:
        job = poll(c, job_id, lambda j: j["status"] == "done")
        assert c.get(f"/v1/jobs/{job_id}/result").json()["method"] == "exact"
    assert job["progress"] == {"done": 2, "total": 2}


def test_a_job_left_running_by_a_crashed_process_is_run_again(db):
    store = JobStore(db)
    job_id = store.create(dict(POLICY, trucks=3, truck_capacity=40, shift_min=600.0, depot="lhasa_railway",
                               lookahead=None, safety_days=0.0), total=2, kind=KIND_OXYGEN)
    store.set_status(job_id, "running")
    store.set_progress(job_id, 1)
    with TestClient(create_app()) as c:
        job = poll(c, job_id, lambda j: j["status"] == "done")
    assert job["result"]["verifier"] == [] and job["progress"] == {"done": 2, "total": 2}


def test_not_ready_failed_and_unknown_jobs(db):
    release = threading.Event()

    def blocked(job, progress):
        progress(1)
        release.wait(30)
        if job["request"].get("fail"):
            raise RuntimeError("solver exploded")
        return {"ok": True}

    register_kind("test-blocked", blocked)
    store = JobStore(db)
    ok = store.create({}, total=2, kind="test-blocked")
    bad = store.create({"fail": True}, total=2, kind="test-blocked")
    with TestClient(create_app()) as c:
        job = poll(c, ok, lambda j: j["status"] == "running" and j["progress"]["done"] == 1)
        assert job["result"] is None
        r = c.get(f"/v1/jobs/{ok}/result")
        assert r.status_code == 409 and r.json()["code"] == "not_ready" and set(r.json()) == SHAPE
        release.set()
        assert poll(c, ok, lambda j: j["status"] == "done")["result"] == {"ok": True}
        t0 = time.monotonic()
        while c.get(f"/v1/jobs/{bad}").json()["status"] != "failed":
            assert time.monotonic() - t0 < 30
            time.sleep(0.05)
        r = c.get(f"/v1/jobs/{bad}/result")
        assert r.status_code == 409 and r.json()["code"] == "job_failed" and "solver exploded" in r.json()["message"]
        r = c.get("/v1/jobs/nope")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
        assert c.get("/v1/jobs/nope/result").status_code == 404
        assert c.get(f"/v1/scenarios/{ok}").status_code == 404  # not a scenario run


def test_bad_job_requests_are_422_and_queue_nothing(db):
    with TestClient(create_app()) as c:
        for body, field in [({"depot": "nowhere"}, "depot"), ({"trucks": -1}, "trucks"),
                            ({"time_limit_s": 10_000}, "time_limit_s"), ({"colour": "red"}, "colour"),
                            # trial findings: these were a 202 and then a failed job
                            ({"siting": {"kind": "charger"}}, "siting.kind"),
                            ({"siting": {"kind": "oxygen", "chosen": ["nowhere"]}}, "siting.chosen[0]"),
                            ({"groups": [{"group_id": "g", "size": 3, "start": "nowhere", "end": "potala",
                                          "day_window": ["08:00", "18:00"]}]}, "groups[0].start")]:
            r = c.post("/v1/jobs/oxygen-plan", json=body)
            assert r.status_code == 422, r.text
            assert r.json()["code"] == "invalid_input" and r.json()["field"] == field
    assert not db.exists()


def test_scenario_runs_are_visible_as_jobs(db):
    doc = {"base": {"iterations": 10, "demand": {"groups": 3}}}
    with TestClient(create_app()) as c:
        posted = c.post("/v1/scenarios", json=doc).json()
        job_id = posted["id"]
        assert posted["status_url"] == f"/v1/jobs/{job_id}" and posted["result_url"] == f"/v1/scenarios/{job_id}"
        job = poll(c, job_id, lambda j: j["status"] == "done")
        assert job["kind"] == "scenarios" and job["result_url"] == f"/v1/scenarios/{job_id}"
        r = c.get(f"/v1/jobs/{job_id}/result")
        assert r.status_code == 200 and len(r.json()["scenarios"]) == 1


def test_the_job_time_limit_maximum_comes_from_the_environment(db, monkeypatch):
    monkeypatch.setenv("LHASA_OPS_MAX_JOB_TIME_LIMIT_S", "5")
    with TestClient(create_app()) as c:
        r = c.post("/v1/jobs/oxygen-plan", json=POLICY | {"time_limit_s": 10})
        assert r.status_code == 422 and r.json()["field"] == "time_limit_s"
        assert "LHASA_OPS_MAX_JOB_TIME_LIMIT_S" in r.json()["message"]
        r = c.post("/v1/scenarios", json={"base": {"iterations": 10, "time_limit_s": 6, "demand": {"groups": 3}}})
        assert r.status_code == 422 and r.json()["field"] == "base.time_limit_s"
        assert c.post("/v1/jobs/oxygen-plan", json=POLICY | {"time_limit_s": 5}).status_code == 202


def test_oxygen_job_on_posted_groups(db):
    """A job takes the same plan sources as the synchronous endpoint (here: posted groups)."""
    from api.http.schemas import EXAMPLE_GROUP

    groups = [dict(EXAMPLE_GROUP, group_id=f"G{k}", start="potala", end="potala", must_visit=[site])
              for k, site in enumerate(("drepung", "sera", "jokhang"))]
    body = POLICY | {"groups": groups, "iterations": 100}
    with TestClient(create_app()) as c:
        job_id = c.post("/v1/jobs/oxygen-plan", json=body).json()["id"]
        job = poll(c, job_id, lambda j: j["status"] in ("done", "failed"))
        sync = c.post("/v1/stations/oxygen-plan", json=body).json()
    assert job["status"] == "done" and job["result"]["verifier"] == []
    assert without_wall(job["result"]) == without_wall(sync)
    assert {"drepung", "sera", "jokhang"} <= {s for st in sync["stations"] for s in st["sites"]}

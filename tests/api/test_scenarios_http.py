"""Scenario runs over HTTP (``api.http.routes.scenarios``) persisted in SQLite (``api.http.jobs``), restarts included."""

from __future__ import annotations

import pytest
from api_helpers import poll_job
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.http.jobs import JobStore

TINY = {"base": {"seed": 2, "iterations": 150, "demand": {"profile": "peak", "groups": 30, "seed": 11}},
        "scenario": [{"name": "tiny", "demand_scale": [1, 2]},
                     {"name": "potala small", "quota": {"potala": {"daily": 200, "slot": 60}}}]}

# three scenarios of ~1 s each, so that a shutdown can fall between them
SLOWER = {"base": {"seed": 3, "iterations": 1500, "demand": {"profile": "peak", "groups": 500, "seed": 5}},
          "scenario": [{"name": "s", "demand_scale": [1, 1.5, 2]}]}


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "jobs.sqlite3"
    monkeypatch.setenv("LHASA_OPS_DB", str(path))
    return path


def poll(c: TestClient, job_id: str, pred, timeout: float = 60.0) -> dict:
    return poll_job(c, f"/v1/scenarios/{job_id}", pred, timeout)


def strip(results: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "runtime_s"} for r in results]


def test_post_a_sweep_and_poll_until_done(db):
    with TestClient(create_app()) as c:
        r = c.post("/v1/scenarios", json=TINY)
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["status"] == "queued" and body["url"] == f"/v1/scenarios/{body['id']}"
        job = poll(c, body["id"], lambda j: j["status"] == "done")
    assert job["progress"] == {"done": 3, "total": 3}
    assert job["scenarios"] == ["tiny x1", "tiny x2", "potala small"]
    assert [r["scenario"] for r in job["results"]] == ["tiny x1", "tiny x2", "potala small"]
    assert [r["groups"] for r in job["results"]] == [30, 60, 30]
    assert all(r["violations"] == 0 for r in job["results"]) and job["error"] is None
    assert job["results"][2]["unserved_quota"] > 0
    assert db.exists()


def test_api_results_equal_the_local_runner(db, tmp_path):
    from api.services.scenarios import parse_document, run_set

    with TestClient(create_app()) as c:
        job_id = c.post("/v1/scenarios", json=TINY).json()["id"]
        job = poll(c, job_id, lambda j: j["status"] == "done")
    local = run_set(parse_document(TINY), tmp_path / "out", jobs=1).kpis
    assert job["results"][0]["served_pct"] == pytest.approx(local["served_pct"][0])
    for row, res in zip(local.drop("runtime_s").iter_rows(named=True), job["results"], strict=True):
        assert {k: res.get(k) for k in row} == row


@pytest.mark.parametrize("doc,field", [
    ({"base": {"iterations": -1}}, "base.iterations"),
    ({"scenario": [{"name": "x", "bogus": 1}]}, "scenario[x].bogus"),
    ({"scenario": [{"name": "x", "demand_scale": [1, "two"]}]}, "scenario[x].demand_scale[1]"),
    ({"base": {"demand": {"file": "/etc/passwd"}}}, "base.demand.file"),
    ({"scenario": [{"name": "x", "demand": {"file": "day.csv"}}]}, "scenario[x].demand.file"),
    ({"scenario": [{"name": "x", "demand_scale": 1000}]}, "scenario[x].demand_scale"),
    ({"extra": 1}, "file.extra"),
    ({"base": {"time_limit_s": 601}}, "base.time_limit_s"),  # over LHASA_OPS_MAX_JOB_TIME_LIMIT_S (600)
    ({"scenario": [{"name": "x", "time_limit_s": 10_000}]}, "scenario[x].time_limit_s"),
])
def test_invalid_documents_are_422_naming_the_key(db, doc, field):
    with TestClient(create_app()) as c:
        r = c.post("/v1/scenarios", json=doc)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "invalid_input" and body["field"] == field, body
    assert not db.exists()  # nothing queued, no database written


def test_non_object_body_and_unknown_id(db):
    with TestClient(create_app()) as c:
        r = c.post("/v1/scenarios", json=[1, 2])
        assert r.status_code == 422 and r.json()["code"] == "invalid_input"
        r = c.get("/v1/scenarios/nope")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
        c.post("/v1/scenarios", json={"base": {"iterations": 10, "demand": {"groups": 3}}})
        assert c.get("/v1/scenarios/nope").status_code == 404


def test_server_restart_mid_run_loses_no_finished_result(db):
    with TestClient(create_app()) as c:
        job_id = c.post("/v1/scenarios", json=SLOWER).json()["id"]
        poll(c, job_id, lambda j: j["progress"]["done"] >= 1)
    # shutdown: the runner stopped between scenarios; what was finished is in the database
    before = JobStore(db).get(job_id)
    assert before["progress"]["done"] >= 1 and len(before["results"]) == before["progress"]["done"]
    assert before["status"] in ("running", "done")
    print(f"finished at shutdown: {before['progress']['done']} of 3")

    with TestClient(create_app()) as c:  # a fresh server on the same database
        job = c.get(f"/v1/scenarios/{job_id}").json()
        assert job["results"][:len(before["results"])] == before["results"]  # nothing lost or re-run
        job = poll(c, job_id, lambda j: j["status"] == "done")
    assert job["progress"] == {"done": 3, "total": 3}
    assert [r["scenario"] for r in job["results"]] == ["s x1", "s x1.5", "s x2"]
    assert job["results"][:len(before["results"])] == before["results"]
    assert all(r["violations"] == 0 for r in job["results"])

    with TestClient(create_app()) as c:  # a finished run, fetched by yet another instance
        again = c.get(f"/v1/scenarios/{job_id}").json()
    assert again == job


def test_unfinished_job_is_resumed_skipping_finished_scenarios(db):
    """Deterministic resume: a job left 'running' with one result by a 'previous process'."""
    store = JobStore(db)
    job_id = store.create(TINY, total=3)
    store.set_status(job_id, "running")
    sentinel = {"scenario": "tiny x2", "groups": 60, "violations": 0, "runtime_s": -1.0, "marker": "kept"}
    store.add_result(job_id, 1, "tiny x2", sentinel)
    with TestClient(create_app()) as c:
        job = poll(c, job_id, lambda j: j["status"] == "done")
    assert [r["scenario"] for r in job["results"]] == ["tiny x1", "tiny x2", "potala small"]
    assert job["results"][1] == sentinel  # not run again
    assert job["progress"] == {"done": 3, "total": 3}


def test_a_failing_job_is_reported(db, monkeypatch):
    import optimizer.scenarios.run as sr

    def boom(*a, **k):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(sr, "run_scenario", boom)
    with TestClient(create_app()) as c:
        job_id = c.post("/v1/scenarios", json=TINY).json()["id"]
        job = poll(c, job_id, lambda j: j["status"] == "failed")
        assert "solver exploded" in job["error"] and job["results"] == []
        # the runner goes on with the next job
        monkeypatch.undo()
        ok = c.post("/v1/scenarios", json={"base": {"iterations": 10, "demand": {"groups": 3}}}).json()["id"]
        assert poll(c, ok, lambda j: j["status"] == "done")["progress"]["done"] == 1


def test_no_database_is_written_by_an_app_that_runs_no_scenarios(db):
    with TestClient(create_app()) as c:
        assert c.get("/healthz").status_code == 200
    assert not db.exists()


def test_too_many_groups_names_the_field_that_was_sent():
    """Found by a fresh-user trial: a base day of 1e9 groups was blamed on scenario[x].demand_scale,
    a field the request never sent."""
    from api.services.scenarios import check_request
    from optimizer.core.errors import InvalidInput

    doc = {"base": {"iterations": 100, "demand": {"profile": "peak", "groups": 1_000_000_000, "seed": 1}},
           "scenario": [{"name": "x"}]}
    with pytest.raises(InvalidInput) as e:
        check_request(doc, 600.0)
    assert e.value.field == "base.demand.groups"
    doc = {"base": {"iterations": 100, "demand": {"profile": "peak", "groups": 100, "seed": 1}},
           "scenario": [{"name": "x", "demand_scale": 1e6}]}
    with pytest.raises(InvalidInput) as e:
        check_request(doc, 600.0)
    assert e.value.field.endswith("demand_scale")

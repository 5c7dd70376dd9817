"""Two real servers on one job store (issue 14, build 2): two ``uvicorn`` processes with their own
runners on one SQLite file, then on one PostgreSQL database (``job_db``), get two 6-scenario runs
(one posted to each). Every scenario is solved exactly once - counted from the runners' audit file
(``$LHASA_OPS_JOB_AUDIT``: one line per computed step, whatever the store kept) - both servers did
work, both are alive and ready afterwards, and either server answers for either job."""

from __future__ import annotations

import pytest

from bench.servers import SIX_NAMES, SIX_SCENARIOS, audit_counts, start_server, wait_job


@pytest.fixture
def two_servers(job_db, tmp_path):
    audit = tmp_path / "audit.txt"
    # a long lease: no takeover is wanted here, even if a heartbeat is late on a loaded machine
    servers = [start_server(name, job_db.url, tmp_path / "logs", audit, LHASA_OPS_JOB_LEASE_S="30",
                            LHASA_OPS_JOB_HEARTBEAT_S="1") for name in ("a", "b")]
    yield servers, audit
    for s in servers:
        s.stop(60)


def test_two_server_processes_solve_each_scenario_exactly_once(two_servers):
    (a, b), audit = two_servers
    for s in (a, b):
        s.wait_ready()
    jobs = []
    for s in (a, b):
        r = s.post("/v1/scenarios", json=SIX_SCENARIOS)
        assert r.status_code == 202, r.text
        jobs.append(r.json()["id"])
    for job_id, other in zip(jobs, (b, a), strict=True):
        job = wait_job(other, job_id, lambda j: j["status"] in ("done", "failed"), timeout=600)
        assert job["status"] == "done" and job["error"] is None, job
        assert [r["scenario"] for r in job["results"]] == SIX_NAMES
        assert job["progress"] == {"done": 6, "total": 6}
        assert all(r["violations"] == 0 for r in job["results"])
    counts = audit_counts(audit)
    assert sorted(counts) == sorted((j, n) for j in jobs for n in SIX_NAMES), counts
    for key, runs in counts.items():
        assert len(runs) == 1 and runs[0][1] == "committed", (key, runs)  # solved exactly once
    owners = {runs[0][0] for runs in counts.values()}
    assert len(owners) == 2, owners  # both servers solved scenarios
    for s in (a, b):
        assert s.alive(), s.tail()
        assert s.get("/healthz").status_code == 200
        assert s.get("/readyz").json()["status"] == "ready"
        assert "Traceback" not in s.tail(100_000), s.tail()

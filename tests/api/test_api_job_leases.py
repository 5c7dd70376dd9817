"""Job leases (issue 14, build 1): two servers on one SQLite job store. Each server is a ``JobStore``
of its own on the same file and a ``JobRunner``; a job is claimed atomically with a lease that a
heartbeat renews, a claimed unexpired job is never run by the other server, an expired lease (a
killed or frozen server) is taken over, and a late write from the dead owner is refused and logged.

Every test runs on SQLite and on PostgreSQL (``job_db`` in conftest). Every step execution is counted in a file (one line ``<job> <step> <runner>`` per finished
computation), so "exactly once" is measured, not assumed."""

from __future__ import annotations

import threading
import time

import pytest

from api.http.jobs import (
    HEARTBEAT_ENV,
    LEASE_ENV,
    JobRunner,
    JobStore,
    LeaseLost,
    check_environment,
    lease_settings,
    register_steps_kind,
    wait_for,
)

KIND = "test_lease_steps"
STEPS = 6
LEASE_S = 1.0
HEARTBEAT_S = 0.1
BLOCK = threading.Event()  # the "dying" runner waits here, in the middle of a step, forever (until released)
DYING = "dying-runner"


def _steps(job, steps):
    req = job["request"]
    for i in range(req["steps"]):
        name = f"s{i}"
        if steps.stopping():
            return
        if name in steps.done:
            continue
        if steps.owner == DYING and i == req.get("block_at"):
            assert BLOCK.wait(60)
        time.sleep(req.get("sleep", 0.0))
        with open(req["counter"], "a", encoding="utf-8") as f:  # one line per finished computation
            f.write(f"{job['id']} {name} {steps.owner}\n")
        steps.add(i, name, {"step": name, "by": steps.owner})


register_steps_kind(KIND, _steps)


def executions(counter):
    if not counter.exists():
        return []
    return [tuple(line.split(" ")) for line in counter.read_text(encoding="utf-8").splitlines()]


def make_runner(path, owner, **kw):
    """One 'server': its own store (connection factory) on the shared file, and its runner."""
    store = JobStore(path, busy_timeout_s=5.0)
    return JobRunner(store, poll_s=0.02, backoff_s=0.05, backoff_max_s=0.2, lease_s=LEASE_S,
                     heartbeat_s=HEARTBEAT_S, owner=owner, **kw)


@pytest.fixture
def db(job_db):
    """The shared store of the two servers: a SQLite file, then a PostgreSQL database (conftest)."""
    return job_db.url


@pytest.fixture
def runners():
    started: list[JobRunner] = []
    yield started
    BLOCK.set()
    for r in started:
        r.stop(30)
    BLOCK.clear()


def test_two_servers_run_every_step_exactly_once(db, tmp_path, runners):
    counter = tmp_path / "executions.txt"
    store = JobStore(db)
    # a 6-step job that outlives the lease (6 x 0.3 s > 1.0 s): only the heartbeat keeps it with
    # its runner; and three more jobs, so that both servers have work
    main = store.create({"steps": STEPS, "sleep": 0.3, "counter": str(counter)}, STEPS, kind=KIND)
    others = [store.create({"steps": STEPS, "sleep": 0.1, "counter": str(counter)}, STEPS, kind=KIND)
              for _ in range(3)]
    a, b = make_runner(db, "server-a"), make_runner(db, "server-b")
    runners += [a, b]
    a.start()
    b.start()
    for job_id in [main, *others]:
        job = wait_for(store, job_id, lambda j: j["status"] in ("done", "failed"), timeout=60)
        assert job["status"] == "done" and job["error"] is None
        assert [r["step"] for r in job["results"]] == [f"s{i}" for i in range(STEPS)]
        assert job["progress"] == {"done": STEPS, "total": STEPS}
        assert store.lease(job_id)[1] is None  # a finished job holds no lease
    runs = executions(counter)
    per_step = {(j, s): 0 for j in [main, *others] for s in (f"s{i}" for i in range(STEPS))}
    for job_id, step, _ in runs:
        per_step[(job_id, step)] += 1
    assert set(per_step.values()) == {1}, per_step  # every step computed exactly once
    assert len(runs) == 4 * STEPS
    by_runner = {r: sum(1 for *_, o in runs if o == r) for r in ("server-a", "server-b")}
    print(f"executions: {len(runs)} for {len(per_step)} steps; by runner {by_runner}")
    assert all(by_runner.values()), by_runner  # both servers worked
    # one job, one server: every step of a job was computed by the runner that holds it
    for job_id in [main, *others]:
        assert len({o for j, _, o in runs if j == job_id}) == 1
    assert a.alive and b.alive and a.lost == [] and b.lost == []
    assert a.health()["state"] == "ok" and b.health()["state"] == "ok"


def test_a_claimed_unexpired_job_is_never_run_by_another_server(db, tmp_path, runners):
    counter = tmp_path / "executions.txt"
    store = JobStore(db)
    job_id = store.create({"steps": 2, "counter": str(counter)}, 2, kind=KIND)
    assert store.claim(job_id, "elsewhere", lease_s=30)  # another server holds it, heartbeating
    b = make_runner(db, "server-b")
    runners.append(b)
    b.start()
    time.sleep(1.0)
    b.run_job(job_id)  # a direct attempt is refused too
    assert executions(counter) == [] and store.get(job_id)["progress"]["done"] == 0
    assert store.lease(job_id)[0] == "elsewhere"
    assert not store.claim(job_id, "server-b", lease_s=30)
    assert store.release(job_id, "elsewhere")  # handed on (a clean shutdown): taken at once
    assert wait_for(store, job_id, lambda j: j["status"] == "done", timeout=20)["progress"]["done"] == 2
    assert len(executions(counter)) == 2


def test_an_expired_lease_is_taken_over_and_the_dead_owners_late_write_is_refused(db, tmp_path, runners, caplog):
    counter = tmp_path / "executions.txt"
    store = JobStore(db)
    job_id = store.create({"steps": STEPS, "block_at": 2, "counter": str(counter)}, STEPS, kind=KIND)
    a = make_runner(db, DYING)
    a.store.renew = lambda *args, **kw: True  # a frozen server: claims, works, never heartbeats again
    runners.append(a)
    a.start()
    wait_for(store, job_id, lambda j: j["progress"]["done"] == 2, timeout=20)  # s0, s1 done; stuck in s2
    assert store.lease(job_id)[0] == DYING

    # (2) the other server takes the job over once the lease has expired, and finishes it
    b = make_runner(db, "server-b")
    runners.append(b)
    t0 = time.monotonic()
    b.start()
    job = wait_for(store, job_id, lambda j: j["status"] in ("done", "failed"), timeout=30)
    print(f"taken over and finished {time.monotonic() - t0:.2f} s after the second server started "
          f"(lease {LEASE_S} s)")
    assert job["status"] == "done" and job["progress"] == {"done": STEPS, "total": STEPS}
    assert [r["by"] for r in job["results"]] == [DYING] * 2 + ["server-b"] * 4  # finished steps not re-run
    assert [(s, o) for _, s, o in executions(counter)] == \
        [("s0", DYING), ("s1", DYING)] + [(f"s{i}", "server-b") for i in range(2, STEPS)]

    # (3) the dead owner wakes up, finishes its step and tries to write it: refused and logged
    BLOCK.set()
    t0 = time.monotonic()
    while a.lost != [job_id]:
        assert time.monotonic() - t0 < 20, "the late write was not refused"
        time.sleep(0.02)
    assert ("s2", DYING) in [(s, o) for _, s, o in executions(counter)]  # it did compute s2 again...
    after = store.get(job_id)
    assert after["status"] == "done" and after["results"] == job["results"]  # ...but wrote nothing
    assert after["error"] is None and after["progress"] == {"done": STEPS, "total": STEPS}
    assert any("refused" in r.getMessage() and DYING in r.getMessage() for r in caplog.records)
    assert a.alive and b.alive and b.lost == []
    assert a.health()["state"] == "ok"  # a lost lease is not a store fault


def test_store_level_claims_and_guarded_writes(db, caplog):
    store, other = JobStore(db), JobStore(db)  # two servers' stores on one file
    job_id = store.create({"steps": 1}, 1, kind=KIND)
    assert store.claim_next("a", lease_s=0.3) == job_id
    assert other.claim_next("b", lease_s=0.3) is None  # held, unexpired
    assert not other.claim(job_id, "b", lease_s=0.3)
    assert store.get(job_id)["status"] == "running"
    assert store.renew(job_id, "a", lease_s=0.3) and not other.renew(job_id, "b", lease_s=0.3)
    with pytest.raises(LeaseLost):
        other.add_result(job_id, 0, "s0", {"by": "b"}, owner="b")
    with pytest.raises(LeaseLost):
        other.set_status(job_id, "done", owner="b")
    with pytest.raises(LeaseLost):
        other.set_progress(job_id, 1, owner="b")
    assert store.add_result(job_id, 0, "s0", {"by": "a"}, owner="a")
    assert not store.add_result(job_id, 0, "s0", {"by": "a", "again": True}, owner="a")  # no silent replace
    assert store.get(job_id)["results"] == [{"by": "a"}]
    time.sleep(0.4)  # "a" died: its lease expires
    assert other.claim_next("b", lease_s=5) == job_id
    with pytest.raises(LeaseLost, match="held by b"):
        store.set_status(job_id, "done", owner="a")
    assert not store.renew(job_id, "a", lease_s=5)
    other.set_status(job_id, "done", owner="b")
    assert store.get(job_id)["status"] == "done" and other.claim_next("c", lease_s=5) is None
    assert sum("refused" in r.getMessage() for r in caplog.records) >= 5


def test_a_stopping_runner_hands_its_job_on_at_once(db, tmp_path, runners):
    counter = tmp_path / "executions.txt"
    store = JobStore(db)
    job_id = store.create({"steps": STEPS, "sleep": 0.2, "counter": str(counter)}, STEPS, kind=KIND)
    a = make_runner(db, "server-a")
    a.lease_s = 60.0  # a long lease: only the release lets the next server start at once
    a.start()
    wait_for(store, job_id, lambda j: j["progress"]["done"] >= 1, timeout=20)
    a.stop(30)
    assert not a.alive and store.lease(job_id) == (None, None) and store.get(job_id)["status"] == "running"
    b = make_runner(db, "server-b")
    runners.append(b)
    b.start()
    wait_for(store, job_id, lambda j: j["status"] == "done", timeout=20)
    assert sorted(s for _, s, _ in executions(counter)) == [f"s{i}" for i in range(STEPS)]


def test_concurrent_claims_take_each_job_once(db):
    """Four 'servers' (a store each) claim the next job as fast as they can, in threads: every job
    is claimed by exactly one of them (SQLite: BEGIN IMMEDIATE; PostgreSQL: FOR UPDATE SKIP LOCKED)."""
    stores = [JobStore(db, busy_timeout_s=10.0) for _ in range(4)]
    jobs = {stores[0].create({"steps": 1}, 1, kind=KIND) for _ in range(24)}
    claims: list[tuple[str, int]] = []
    lock = threading.Lock()

    def claim_all(k):
        while True:
            job_id = stores[k].claim_next(f"server-{k}", lease_s=60)
            if job_id is None:
                return
            with lock:
                claims.append((job_id, k))

    threads = [threading.Thread(target=claim_all, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(j for j, _ in claims) == sorted(jobs)  # each job once, none missed
    for job_id, k in claims:
        assert stores[0].lease(job_id)[0] == f"server-{k}"
    print(f"claims per server: {[sum(1 for _, s in claims if s == k) for k in range(4)]}")
    for s in stores:
        s.close()


def test_lease_settings(monkeypatch):
    monkeypatch.delenv(LEASE_ENV, raising=False)
    monkeypatch.delenv(HEARTBEAT_ENV, raising=False)
    assert lease_settings() == (60.0, 15.0)
    monkeypatch.setenv(LEASE_ENV, "10")
    monkeypatch.setenv(HEARTBEAT_ENV, "2.5")
    assert lease_settings() == (10.0, 2.5) and check_environment() == []
    monkeypatch.setenv(HEARTBEAT_ENV, "10")
    assert [p.field for p in check_environment()] == [HEARTBEAT_ENV]
    monkeypatch.setenv(LEASE_ENV, "abc")
    assert LEASE_ENV in [p.field for p in check_environment()]
    with pytest.raises(ValueError):
        JobRunner(JobStore.__new__(JobStore), lease_s=1.0, heartbeat_s=1.0)

"""Fault-injection bench of the job service: real ``uvicorn`` servers, real faults, counted.

``python -m bench.faults [--quick]`` runs, on a SQLite file and (when ``$LHASA_OPS_TEST_PG`` names
a PostgreSQL server, e.g. from ``.ci/pg_up``) on a fresh PostgreSQL database, two servers
(``bench.servers``: short leases of 4 s, heartbeat 0.5 s, an API key file, the runners' audit file)
and injects, one after the other:

* **two servers on one store**: one 6-scenario run posted to each; every scenario solved once;
* **SIGTERM mid-job** of the server running a job: it finishes the step in flight, releases the
  lease and exits 0; the other server takes the job over at once; the stopped one is restarted;
* **kill -9 mid-job**: the other server takes the job over once the lease expires;
* **kill -9 of both servers mid-job, then a restart**: the restarted server resumes the job;
* **key file removed while serving**: the last good keys stay in force (no 5xx);
* **lock held** by another process for 45 s (``--quick``: 8 s; SQLite ``BEGIN EXCLUSIVE``,
  PostgreSQL ``LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE``): ``/readyz`` must answer 503
  ``store_locked`` throughout, a POST a JSON answer; after the release the next job runs without a
  restart and both servers are ready again;
* **read-only store** (SQLite: ``chattr +i`` as root, else ``chmod 444``; PostgreSQL:
  ``default_transaction_read_only`` and the sessions reset): ``/readyz`` 503 ``store_not_writable``
  naming ``LHASA_OPS_DB``, a POST a JSON 503; writable again: the next job runs;
* **bad API bodies** (malformed JSON, wrong top-level types, NaN, deep nesting, oversized, wrong
  content type) on every POST endpoint and bad ids on the GET endpoints: no 5xx;
* **bad environment values** and a **missing key file** at start: ``serve`` exits 2 naming the
  variable and value, no traceback.

"Survived" means: the job finished with every step committed once and computed once, the servers
that were not killed stayed alive, and every 5xx answer was JSON with a ``code``. Over the whole run
it counts jobs lost (posted, never done), steps committed twice (must be 0: the store refuses a
second result) and steps computed twice (more than one audit line: work redone after a lease was
lost, e.g. a store outage longer than the lease; the second result is refused, not stored).
Writes the ``faults`` section of ``bench/RESULTS.md``. Timings are wall-clock on a shared machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.results_md import parse_quick, table, write_section
from bench.servers import (
    LEASE_S,
    REPO,
    SIX_NAMES,
    SIX_SCENARIOS,
    Server,
    audit_counts,
    free_port,
    hold_lock,
    restart,
    start_server,
)

PG_ENV = "LHASA_OPS_TEST_PG"
KEY = "bench-faults-key"
HEADERS = {"X-API-Key": KEY}
HOLD_S, HOLD_QUICK_S = 45.0, 8.0
POSTS = ["/v1/scenarios", "/v1/jobs/oxygen-plan", "/v1/stations/siting", "/v1/stations/charging-schedule",
         "/v1/stations/oxygen-plan", "/v1/drones/delivery-plan", "/v1/flights/schedule", "/v1/flights/products",
         "/v1/tours/plan"]
BAD_BODIES: list[tuple[str, bytes, str]] = [
    ("not JSON", b"this is not json", "application/json"),
    ("truncated", b'{"time_limit_s": 5', "application/json"),
    ("empty", b"", "application/json"),
    ("array", b"[1, 2, 3]", "application/json"),
    ("null", b"null", "application/json"),
    ("string", b'"plan"', "application/json"),
    ("number", b"42", "application/json"),
    ("NaN", b"NaN", "application/json"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, "application/json"),
    ("oversized", b'{"x": "' + b"a" * (3 * 1024 * 1024) + b'"}', "application/json"),
    ("invalid UTF-8", b'{"name": "\xff\xfe"}', "application/json"),
    ("form body", b"a=1&b=2", "application/x-www-form-urlencoded"),
]
BAD_GETS = ["/v1/jobs/nope", "/v1/jobs/" + "x" * 5000, "/v1/scenarios/%00", "/v1/jobs/nope/result",
            "/v1/scenarios/../../etc/passwd", "/v1/jobs/%E2%80%AE"]


@dataclass
class Row:
    fault: str
    backend: str
    injected: int = 0
    survived: int = 0
    detail: str = ""


@dataclass
class Tally:
    rows: list[Row] = field(default_factory=list)
    posted: dict[str, str] = field(default_factory=dict)
    """job id -> back end of every job posted (lost: never done)."""
    done: set[str] = field(default_factory=set)
    bad_tried: int = 0
    bad_handled: int = 0
    bad_5xx: list[str] = field(default_factory=list)
    five_xx: int = 0
    five_xx_json: int = 0
    audits: list[Path] = field(default_factory=list)

    def answer(self, r: httpx.Response) -> httpx.Response:
        """Count a 5xx and whether its body is JSON with a ``code``."""
        if r.status_code >= 500:
            self.five_xx += 1
            try:
                if isinstance(r.json().get("code"), str):
                    self.five_xx_json += 1
            except (ValueError, AttributeError):
                pass
        return r


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# -- helpers ---------------------------------------------------------------------------------------


class Bench:
    """Two servers on one store and the faults injected into them."""

    def __init__(self, backend: str, db: str, work: Path, tally: Tally, hold_s: float) -> None:
        self.backend = backend
        self.db = db
        self.work = work
        self.tally = tally
        self.hold_s = hold_s
        self.audit = work / f"audit_{backend}.txt"
        tally.audits.append(self.audit)
        self.keys = work / "keys.txt"
        self.keys.write_text(KEY + "\n", encoding="utf-8")
        self.servers: dict[str, Server] = {}
        from api.http.job_store import JobStore

        self.store = JobStore(db, busy_timeout_s=120.0)

    # servers ---------------------------------------------------------------------------------

    def start(self, name: str) -> Server:
        s = start_server(f"{self.backend}-{name}", self.db, self.work / "logs", self.audit,
                         LHASA_OPS_API_KEYS_FILE=str(self.keys))
        self.servers[name] = s
        return s

    def ready_all(self) -> None:
        for s in self.servers.values():
            s.wait_ready()

    def restart(self, name: str) -> Server:
        s = self.servers[name] = restart(self.servers[name])
        return s

    def stop_all(self) -> list[int | None]:
        return [s.stop(120) for s in self.servers.values()]

    def by_pid(self, pid: int) -> str | None:
        return next((n for n, s in self.servers.items() if s.proc.pid == pid), None)

    # jobs ------------------------------------------------------------------------------------

    def post_job(self, name: str) -> str:
        r = self.tally.answer(self.servers[name].post("/v1/scenarios", json=SIX_SCENARIOS, headers=HEADERS))
        if r.status_code != 202:
            raise RuntimeError(f"POST /v1/scenarios on {name}: {r.status_code} {r.text[:300]}")
        job_id = r.json()["id"]
        self.tally.posted[job_id] = self.backend
        return job_id

    def wait_done(self, job_id: str, timeout: float = 600.0) -> dict[str, Any]:
        from api.http.jobs import wait_for

        job = wait_for(self.store, job_id, lambda j: j["status"] in ("done", "failed"), timeout=timeout, poll=0.2)
        if job["status"] == "done":
            self.tally.done.add(job_id)
        return job

    def running_on(self, job_id: str, min_done: int = 1, timeout: float = 300.0) -> str:
        """Wait until ``min_done`` steps are committed; the name of the server holding the job."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            job = self.store.get(job_id)
            owner = self.store.lease(job_id)[0]
            if job and job["status"] == "running" and job["progress"]["done"] >= min_done and owner:
                name = self.by_pid(int(owner.split(":")[1]))
                if name is not None:
                    return name
            time.sleep(0.05)
        raise TimeoutError(f"job {job_id} not running after {timeout:.0f} s")

    def exactly_once(self, job_id: str) -> tuple[bool, str]:
        """Every scenario committed once (the store) and computed at most once (the audit file)."""
        job = self.store.get(job_id)
        names = [r["scenario"] for r in job["results"]] if job else []
        runs = {step: v for (j, step), v in audit_counts(self.audit).items() if j == job_id}
        twice = sorted(s for s, v in runs.items() if len(v) > 1)
        ok = job is not None and job["status"] == "done" and names == SIX_NAMES and not twice
        by = sorted({self.by_pid(int(v[0][0].split(":")[1])) or "killed" for v in runs.values()})
        return ok, f"{len(names)}/6 committed, computed twice: {len(twice)}, by {'+'.join(by)}"

    # faults ----------------------------------------------------------------------------------

    def two_servers(self) -> Row:
        row = Row("two servers on one store, 2 x 6-scenario runs", self.backend, 1)
        t0 = time.monotonic()
        jobs = [self.post_job("a"), self.post_job("b")]
        for j in jobs:
            self.wait_done(j)
        checks = [self.exactly_once(j) for j in jobs]
        alive = all(s.alive() for s in self.servers.values())
        row.survived = int(all(ok for ok, _ in checks) and alive)
        row.detail = "; ".join(d for _, d in checks) + f"; {time.monotonic() - t0:.1f} s"
        return row

    def stop_mid_job(self, sig: int, label: str) -> Row:
        row = Row(f"{label} of the server running a job", self.backend, 1)
        job_id = self.post_job("a")
        victim = self.running_on(job_id)
        other = next(n for n in self.servers if n != victim)
        victim_owner = self.store.lease(job_id)[0]
        t0 = time.monotonic()
        self.servers[victim].signal(sig)
        rc = self.servers[victim].proc.wait(120)
        released = self.store.lease(job_id)[0] != victim_owner  # SIGTERM: handed on, not left to expire
        job = self.wait_done(job_id)
        took = time.monotonic() - t0
        ok, detail = self.exactly_once(job_id)
        alive = self.servers[other].alive()
        # uvicorn re-raises SIGTERM after its graceful shutdown: exit -15 (or 0)
        rc_ok = (rc in (0, -signal.SIGTERM) and released) if sig == signal.SIGTERM else rc == -signal.SIGKILL
        self.restart(victim).wait_ready()
        row.survived = int(ok and alive and rc_ok and job["status"] == "done")
        lease = "lease released at exit" if released else f"lease left to expire ({LEASE_S:g} s)"
        row.detail = f"exit {rc}, {lease}; job done {took:.1f} s after the signal by the other; {detail}; restarted"
        return row

    def kill_both_then_restart(self) -> Row:
        row = Row("kill -9 of both servers mid-job, then restart", self.backend, 1)
        job_id = self.post_job("a")
        self.running_on(job_id)
        for s in self.servers.values():
            s.signal(signal.SIGKILL)
        for s in self.servers.values():
            s.proc.wait(60)
        done_before = self.store.get(job_id)["progress"]["done"]
        t0 = time.monotonic()
        for name in list(self.servers):
            self.restart(name)
        self.ready_all()
        job = self.wait_done(job_id)
        ok, detail = self.exactly_once(job_id)
        row.survived = int(ok and job["status"] == "done" and all(s.alive() for s in self.servers.values()))
        row.detail = f"{done_before}/6 done at the kill; resumed, done {time.monotonic() - t0:.1f} s after restart; {detail}"
        return row

    def key_file_removed(self) -> Row:
        row = Row("API key file removed while serving", self.backend, 1)
        self.keys.unlink()
        try:
            a = self.servers["a"]
            # an invalid plan request: 422 once past the key check, 403 at it; nothing is queued
            good = self.tally.answer(a.post("/v1/tours/plan", json={}, headers=HEADERS))
            bad = self.tally.answer(a.post("/v1/tours/plan", json={}, headers={"X-API-Key": "wrong"}))
            row.survived = int(good.status_code == 422 and bad.status_code == 403 and a.alive())
            row.detail = f"right key -> {good.status_code} (past auth), wrong key -> {bad.status_code}"
        finally:
            self.keys.write_text(KEY + "\n", encoding="utf-8")
        return row

    def lock_held(self) -> Row:
        row = Row(f"store lock held {self.hold_s:g} s by another process", self.backend, 1)
        codes: list[str] = []
        post: dict[str, Any] = {}

        def post_during() -> None:
            t = time.monotonic()
            try:
                r = self.tally.answer(self.servers["b"].post("/v1/scenarios", json=SIX_SCENARIOS, headers=HEADERS,
                                                             timeout=self.hold_s + 90))
                post.update(status=r.status_code, code=r.json().get("code") if r.status_code >= 400 else None,
                            id=r.json().get("id") if r.status_code == 202 else None, s=time.monotonic() - t)
            except Exception as e:  # noqa: BLE001 - recorded as not survived
                post.update(status=repr(e), s=time.monotonic() - t)

        with hold_lock(self.db):
            t0 = time.monotonic()
            poster = threading.Thread(target=post_during)
            time.sleep(1.0)
            poster.start()
            while time.monotonic() - t0 < self.hold_s:
                for s in self.servers.values():
                    r = self.tally.answer(s.get("/readyz", timeout=30))
                    codes.append(f"{r.status_code}:{r.json().get('code')}")
                time.sleep(1.0)
        t_release = time.monotonic()
        poster.join(self.hold_s + 120)
        if post.get("id"):
            self.tally.posted[post["id"]] = self.backend
        job_id = self.post_job("a")  # the next job, no restart
        job = self.wait_done(job_id)
        ok, detail = self.exactly_once(job_id)
        if post.get("id"):
            self.wait_done(post["id"])
        ready_again = None
        t1 = time.monotonic()
        while time.monotonic() - t1 < 90:
            if all(s.get("/readyz").status_code == 200 for s in self.servers.values()):
                ready_again = time.monotonic() - t_release
                break
            time.sleep(0.5)
        locked = sum(c == "503:store_locked" for c in codes)
        post_ok = post.get("status") == 202 or (post.get("status") == 503 and post.get("code") == "store_locked")
        row.survived = int(locked == len(codes) > 0 and post_ok and ok and job["status"] == "done"
                           and ready_again is not None and all(s.alive() for s in self.servers.values()))
        row.detail = (f"/readyz 503 store_locked {locked}/{len(codes)}; POST during the lock -> {post.get('status')} "
                      f"{post.get('code') or ''} after {post.get('s', 0):.1f} s; next job done, {detail}; "
                      f"ready {ready_again if ready_again is None else f'{ready_again:.1f} s'} after release")
        return row

    def read_only(self) -> Row:
        row = Row("read-only store", self.backend, 1)
        undo = self._make_read_only()
        if undo is None:
            row.injected = 0
            row.detail = "not injectable here (no chattr as root)"
            return row
        answers: list[str] = []
        try:
            t0 = time.monotonic()
            while time.monotonic() - t0 < 30:
                r = self.tally.answer(self.servers["a"].get("/readyz"))
                if r.status_code == 503 and r.json().get("code") == "store_not_writable":
                    break
                time.sleep(0.5)
            for s in self.servers.values():
                r = self.tally.answer(s.get("/readyz"))
                answers.append(f"readyz {r.status_code} {r.json().get('code')} {r.json().get('field')}")
                r = self.tally.answer(s.post("/v1/scenarios", json=SIX_SCENARIOS, headers=HEADERS))
                answers.append(f"POST {r.status_code} {r.json().get('code')}")
                if r.status_code == 202:
                    self.tally.posted[r.json()["id"]] = self.backend
        finally:
            undo()
        job = self.wait_done(self.post_job("a"))
        expected = ["readyz 503 store_not_writable LHASA_OPS_DB", "POST 503 store_not_writable"] * len(self.servers)
        row.survived = int(answers == expected and job["status"] == "done"
                           and all(s.alive() for s in self.servers.values()))
        row.detail = f"{', '.join(sorted(set(answers)))}; writable again: next job {job['status']}"
        return row

    def _make_read_only(self) -> Callable[[], None] | None:
        if self.backend == "sqlite":
            path = Path(self.db)
            if os.geteuid() == 0:
                if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], check=False).returncode:
                    return None
                return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)
            path.chmod(0o444)
            path.parent.chmod(0o555)
            return lambda: (path.parent.chmod(0o755), path.chmod(0o644))
        set_pg_read_only(self.db, True)
        return lambda: set_pg_read_only(self.db, False)

    def bad_inputs(self) -> Row:
        row = Row("bad API bodies and ids", self.backend, 1)
        s = self.servers["a"]
        tried = handled = 0
        for path in POSTS:
            for label, body, ctype in BAD_BODIES:
                tried += 1
                try:
                    r = self.tally.answer(s.post(path, content=body, headers={**HEADERS, "Content-Type": ctype},
                                                 timeout=60))
                    ok = 400 <= r.status_code < 500 and isinstance(r.json().get("code"), str)
                except Exception as e:  # noqa: BLE001 - a dropped connection is a failure
                    r, ok = None, False
                    self.tally.bad_5xx.append(f"{path} {label}: {e!r}")
                handled += ok
                if r is not None and not ok:
                    self.tally.bad_5xx.append(f"{path} {label}: {r.status_code} {r.text[:120]}")
        for path in BAD_GETS:
            tried += 1
            r = self.tally.answer(s.get(path))
            ok = r.status_code == 404 and isinstance(r.json().get("code"), str)
            handled += ok
            if not ok:
                self.tally.bad_5xx.append(f"GET {path}: {r.status_code} {r.text[:120]}")
        self.tally.bad_tried += tried
        self.tally.bad_handled += handled
        row.survived = int(handled == tried and s.alive())
        row.detail = f"{handled}/{tried} answered 4xx JSON with a code"
        return row


def set_pg_read_only(url: str, on: bool) -> None:
    """PostgreSQL: new sessions of the database are read-only (or writable again); the current
    sessions are ended, so the servers' pools reconnect under the new setting."""
    import psycopg

    admin, name = os.environ[PG_ENV], url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {"on" if on else "off"}')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                     "AND pid <> pg_backend_pid()", (name,))


def pg_database(create: bool, url: str | None = None) -> str:
    import psycopg

    admin = os.environ[PG_ENV]
    name = url.rsplit("/", 1)[1] if url else f"lhasa_faults_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' if create else f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return admin.rsplit("/", 1)[0] + "/" + name


BAD_ENV: list[tuple[str, str]] = [
    ("LHASA_OPS_DB", "ftp://example.org/jobs"),
    ("LHASA_OPS_DB", "postgresql://user@localhost/"),
    ("LHASA_OPS_DB", "postgresql://user@localhost:notaport/ops"),
    ("LHASA_OPS_DB", "{work}"),
    ("LHASA_OPS_DB", "{work}/plain.txt"),
    ("LHASA_OPS_DB", "{work}/plain.txt/jobs.sqlite3"),
    ("LHASA_OPS_JOB_LEASE_S", "soon"),
    ("LHASA_OPS_JOB_LEASE_S", "-5"),
    ("LHASA_OPS_JOB_HEARTBEAT_S", "inf"),
    ("LHASA_OPS_MAX_BODY_BYTES", "lots"),
    ("LHASA_OPS_MAX_TIME_LIMIT_S", "nan"),
    ("LHASA_OPS_API_KEYS_FILE", "{work}/missing_keys.txt"),
]


def bad_environment(work: Path, tally: Tally) -> list[Row]:
    """``serve`` with each bad value: exit 2, ``error: NAME='value': ...``, no traceback."""
    (work / "plain.txt").write_text("not a database", encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if not k.startswith("LHASA_OPS_")}
    base["LHASA_OPS_DB"] = str(work / "env_ok.sqlite3")

    def one(case: tuple[str, str]) -> tuple[str, bool, str]:
        name, value = case[0], case[1].format(work=work)
        p = subprocess.run([sys.executable, "-m", "api.cli.main", "serve", "--host", "127.0.0.1",
                            "--port", str(free_port())], env={**base, name: value}, cwd=REPO,
                           capture_output=True, text=True, timeout=180, check=False)
        err = " ".join(p.stderr.split())
        ok = p.returncode == 2 and err.startswith("error: ") and f"{name}={value!r}" in err and "Traceback" not in err
        return name, ok, f"{name}={value!r} -> exit {p.returncode}"

    with ThreadPoolExecutor(2) as ex:
        results = list(ex.map(one, BAD_ENV))
    rows = []
    for label, names in (("bad environment values at start", None), ("missing API key file at start",
                                                                       {"LHASA_OPS_API_KEYS_FILE"})):
        sel = [r for r in results if (names is None) == (r[0] not in {"LHASA_OPS_API_KEYS_FILE"})]
        bad = [d for _, ok, d in sel if not ok]
        rows.append(Row(label, "-", len(sel), sum(ok for _, ok, _ in sel),
                        "exit 2 naming variable and value" + (f"; FAILED: {bad}" if bad else "")))
        tally.bad_tried += len(sel)
        tally.bad_handled += sum(ok for _, ok, _ in sel)
    return rows


def run_backend(backend: str, db: str, work: Path, tally: Tally, hold_s: float) -> None:
    bench = Bench(backend, db, work, tally, hold_s)
    steps: list[tuple[str, Callable[[], Row]]] = [
        ("two servers", bench.two_servers),
        ("SIGTERM", lambda: bench.stop_mid_job(signal.SIGTERM, "SIGTERM")),
        ("kill -9", lambda: bench.stop_mid_job(signal.SIGKILL, "kill -9")),
        ("kill both", bench.kill_both_then_restart),
        ("key file", bench.key_file_removed),
        ("lock", bench.lock_held),
        ("read-only", bench.read_only),
        ("bad inputs", bench.bad_inputs),
    ]
    try:
        log(f"{backend}: starting two servers on {bench.store.where}")
        bench.start("a")
        bench.start("b")
        bench.ready_all()
        for label, step in steps:
            log(f"{backend}: {label}")
            try:
                row = step()
            except Exception as e:  # noqa: BLE001 - a fault the service did not survive is a result
                row = Row(label, backend, 1, 0, f"bench step failed: {type(e).__name__}: {e}"[:400])
                for s in bench.servers.values():
                    if not s.alive():
                        log(f"{s.name} is down: {s.tail(800)}")
                for name, s in list(bench.servers.items()):
                    if not s.alive():
                        bench.restart(name)
                bench.ready_all()
            log(f"  -> {'survived' if row.survived == row.injected else 'NOT survived'}: {row.detail}")
            tally.rows.append(row)
    finally:
        codes = bench.stop_all()
        log(f"{backend}: servers stopped (exit {codes})")
        bench.store.close()


def main(argv: list[str] | None = None) -> int:
    quick = parse_quick(argv, __doc__)
    hold_s = HOLD_QUICK_S if quick else HOLD_S
    tally = Tally()
    t0 = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="lhasa-faults-"))
    backends = [("sqlite", str(work / "sqlite" / "jobs.sqlite3"))]
    pg_url = None
    if os.environ.get(PG_ENV):
        pg_url = pg_database(create=True)
        backends.append(("postgresql", pg_url))
    else:
        log(f"${PG_ENV} unset: PostgreSQL skipped (start one with .ci/pg_up)")
    try:
        for backend, db in backends:
            (work / backend).mkdir(exist_ok=True)
            run_backend(backend, db, work / backend, tally, hold_s)
        log("bad environment values")
        tally.rows += bad_environment(work, tally)
    finally:
        if pg_url:
            pg_database(create=False, url=pg_url)
    twice = sum(1 for a in tally.audits for runs in audit_counts(a).values() if len(runs) > 1)
    committed_twice = sum(1 for a in tally.audits for runs in audit_counts(a).values()
                          if sum(o == "committed" for _, o in runs) > 1)
    steps = sum(len(audit_counts(a)) for a in tally.audits)
    lost = sorted(set(tally.posted) - tally.done)
    injected = sum(r.injected for r in tally.rows)
    survived = sum(min(r.survived, r.injected) for r in tally.rows)
    summary = table(["measure", "value"], [
        ["faults injected / survived", f"{injected} / {survived}"],
        ["bad inputs tried / handled (4xx JSON, or exit 2 at start)", f"{tally.bad_tried} / {tally.bad_handled}"],
        ["jobs posted / lost", f"{len(tally.posted)} / {len(lost)}"],
        ["scenario steps run / committed twice / computed twice (a lost lease's work refused)",
         f"{steps} / {committed_twice} / {twice}"],
        ["5xx answers / with a JSON code", f"{tally.five_xx} / {tally.five_xx_json}"],
        ["back ends", ", ".join(b for b, _ in backends) + ("" if pg_url else f" (PostgreSQL: ${PG_ENV} unset)")],
        ["lock hold", f"{hold_s:g} s"],
        ["wall time", f"{time.monotonic() - t0:.0f} s"],
    ])
    detail = table(["fault", "back end", "injected", "survived", "detail"],
                   [[r.fault, r.backend, r.injected, r.survived, r.detail.replace("|", "/")] for r in tally.rows])
    body = (f"Two `uvicorn` servers per back end on one store (leases {LEASE_S:g} s), 6-scenario runs; "
            "every scenario step counted from the runners' audit file.\n\n" + summary + "\n\n" + detail)
    if tally.bad_5xx:
        body += "\n\nNot handled: " + "; ".join(tally.bad_5xx[:10])
    name = "faults_quick" if quick else "faults"
    path = write_section(name, "Faults (job service)" + (" - quick" if quick else ""),
                         "python -m bench.faults" + (" --quick" if quick else ""), body)
    print(body)
    print(f"wrote {path}; logs in {work}")
    ok = survived == injected and not lost and not committed_twice and tally.bad_handled == tally.bad_tried \
        and tally.five_xx == tally.five_xx_json
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Real API servers as child processes, for the fault bench (``bench.faults``) and the two-server tests.

``start_server(name, db, log_dir, env=...)`` starts ``python -m uvicorn api.http.app:app`` on a
free loopback port with ``$LHASA_OPS_DB`` = ``db`` (a SQLite path or PostgreSQL URL), auth off,
short job leases (``LEASE_S`` / ``HEARTBEAT_S``, so a killed server's job is taken over within
seconds) and ``$LHASA_OPS_JOB_AUDIT`` when given (one line per computed step, see
``api.http.job_runner``); stdout and stderr go to ``<log_dir>/<name>.log``. ``Server.wait_ready``
polls ``/readyz`` until 200 (kernels compiled, store writable, runner alive).

``SIX_SCENARIOS`` is a 6-scenario run (a demand sweep x1 ... x2.25 of a 120-group peak day, 600
iterations each, seed 4): about a second per scenario on one core, long enough for a fault to
fall inside the job. ``audit_counts(path)`` reads an audit file as ``{(job, step): [outcomes]}``.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
LEASE_S = 4.0
HEARTBEAT_S = 0.5
SIX_SCENARIOS: dict[str, Any] = {
    "base": {"seed": 4, "iterations": 600, "demand": {"profile": "peak", "groups": 120, "seed": 9}},
    "scenario": [{"name": "sweep", "demand_scale": [1, 1.25, 1.5, 1.75, 2, 2.25]}],
}
SIX_NAMES = [f"sweep x{s:g}" for s in (1, 1.25, 1.5, 1.75, 2, 2.25)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """One ``uvicorn`` process serving the app."""

    name: str
    port: int
    proc: subprocess.Popen
    log: Path
    env: dict[str, str] = field(repr=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def get(self, path: str, timeout: float = 30.0) -> httpx.Response:
        return httpx.get(self.base + path, timeout=timeout)

    def post(self, path: str, timeout: float = 30.0, **kw: Any) -> httpx.Response:
        return httpx.post(self.base + path, timeout=timeout, **kw)

    def wait_ready(self, timeout: float = 600.0) -> dict[str, Any]:
        """Poll ``/readyz`` until 200 (raises ``TimeoutError`` with the last answer, or
        ``RuntimeError`` when the process exits first)."""
        t0 = time.monotonic()
        last = "no answer"
        while time.monotonic() - t0 < timeout:
            if not self.alive():
                raise RuntimeError(f"server {self.name} exited {self.proc.returncode}: {self.tail()}")
            try:
                r = self.get("/readyz", timeout=5)
                if r.status_code == 200:
                    return r.json()
                last = r.text
            except httpx.HTTPError as e:
                last = repr(e)
            time.sleep(0.25)
        raise TimeoutError(f"server {self.name} not ready after {timeout:.0f} s: {last}")

    def signal(self, sig: int) -> None:
        if self.alive():
            self.proc.send_signal(sig)

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM (graceful: the step in flight is committed), then SIGKILL after ``timeout``."""
        self.signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def tail(self, n: int = 2000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-n:]
        except OSError:
            return ""


def server_env(db: str, audit: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of a bench server: this process's, minus every ``LHASA_OPS_*`` variable,
    plus the store, short leases and the audit file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LHASA_OPS_")}
    env.update({"LHASA_OPS_DB": db, "LHASA_OPS_JOB_LEASE_S": str(LEASE_S),
                "LHASA_OPS_JOB_HEARTBEAT_S": str(HEARTBEAT_S), "PYTHONUNBUFFERED": "1"})
    if audit is not None:
        env["LHASA_OPS_JOB_AUDIT"] = str(audit)
    env.update(extra)
    return env


def start_server(name: str, db: str, log_dir: Path, audit: Path | None = None, port: int | None = None,
                 **extra: str) -> Server:
    """Start a server process (not waiting for it; see ``Server.wait_ready``)."""
    port = port or free_port()
    env = server_env(db, audit, **extra)
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    out = log.open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.http.app:app", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning"],
                            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    return Server(name, port, proc, log, env)


def restart(server: Server) -> Server:
    """A new process on the same port and environment (after a kill)."""
    log = server.log.open("ab")
    proc = subprocess.Popen(server.proc.args, cwd=REPO, env=server.env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return Server(server.name, server.port, proc, server.log, server.env)


def wait_job(server: Server, job_id: str, pred, timeout: float = 300.0, path: str = "/v1/scenarios/") -> dict:
    """Poll ``GET {path}{job_id}`` on ``server`` until ``pred(job)``; ``TimeoutError`` otherwise."""
    t0 = time.monotonic()
    job: dict[str, Any] = {}
    while time.monotonic() - t0 < timeout:
        try:
            r = server.get(path + job_id, timeout=10)
            if r.status_code == 200:
                job = r.json()
                if pred(job):
                    return job
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"job {job_id} on {server.name}: {job.get('status')} {job.get('progress')}")


@contextmanager
def hold_lock(db: str) -> Iterator[None]:
    """Hold another process's exclusive lock on the job store ``db`` until the block ends: SQLite
    ``BEGIN EXCLUSIVE`` on its own connection; PostgreSQL ``LOCK TABLE jobs IN ACCESS EXCLUSIVE
    MODE`` in an open transaction (the tables must exist)."""
    if "://" not in db or db.startswith("sqlite"):
        path = db.split("sqlite:///", 1)[-1]
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("BEGIN EXCLUSIVE")
            yield
            conn.execute("COMMIT")
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(db) as conn:  # one transaction, committed at exit
        conn.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
        yield


def audit_counts(path: Path) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """``{(job, step): [(owner, outcome), ...]}`` from an audit file (empty when missing)."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split(" ")
        if len(parts) < 4:
            continue
        job, outcome, owner = parts[0], parts[-1], parts[-2]
        step = " ".join(parts[1:-2])  # step names may hold spaces ("sweep x1.5")
        out[(job, step)].append((owner, outcome))
    return out


__all__ = ["HEARTBEAT_S", "LEASE_S", "SIX_NAMES", "SIX_SCENARIOS", "Server", "audit_counts", "free_port", "hold_lock",
           "restart", "server_env", "start_server", "wait_job"]

"""Load test of the daily-plan endpoint over loopback (bounded; no locust).

``python -m bench.api_load --duration 60 --clients 4`` starts ``uvicorn api.http.app:app`` on
127.0.0.1 (a free port, auth off, a throwaway ``$LHASA_OPS_DB``), waits for ``/healthz``, then
runs ``--clients`` concurrent asyncio/httpx clients that each post daily-plan requests back to
back for ``--duration`` seconds, and reports requests, throughput, p50/p95/p99 latency and errors;
it stops the server and writes the ``api_load`` section of ``bench/RESULTS.md``.

The request: 5 groups ("vehicles", 25 persons each, from different hubs, 08:00-19:00) on the
embedded network, exactly 30 candidate stops (``candidate_sites``: the 30 highest-scoring scenic
sites of the 36, ties by id), and the default stopping rule (``time_limit_s`` 5 s, no iteration
budget, stop after ``api.http.routes.tours.DEFAULT_NO_IMPROVEMENT`` iterations without improvement). Each
client uses its own seed sequence, so requests differ.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
N_GROUPS = 5
N_CANDIDATES = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def daily_plan_body(seed: int = 0) -> tuple[dict, int]:
    """The request body and its number of candidate stops."""
    from instances.loader import load_lhasa

    net = load_lhasa()
    scenic = sorted((s for s in net.sites if s.score > 0), key=lambda s: (-s.score, s.id))
    candidates = [s.id for s in scenic[:N_CANDIDATES]]
    hubs = [s.id for s in net.sites if s.score == 0][:N_GROUPS]
    groups = [{"group_id": f"V{k + 1}", "size": 25, "start": hubs[k % len(hubs)], "end": hubs[k % len(hubs)],
               "day_window": ["08:00", "19:00"]} for k in range(N_GROUPS)]
    return {"groups": groups, "seed": seed, "candidate_sites": candidates}, len(candidates)


def percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s) + 0.5) - 1))]


async def client_loop(url: str, body: dict, cid: int, t_end: float, lat: list[float], errors: Counter) -> None:
    async with httpx.AsyncClient(timeout=30) as c:
        k = 0
        while time.perf_counter() < t_end:
            b = dict(body, seed=cid * 100_000 + k)
            k += 1
            t0 = time.perf_counter()
            try:
                r = await c.post(url, json=b)
                if r.status_code != 200:
                    errors[f"http {r.status_code}"] += 1
                    continue
                if r.json().get("violations"):
                    errors["violations"] += 1
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] += 1
                continue
            lat.append(time.perf_counter() - t0)


async def run_load(base: str, body: dict, clients: int, duration: float) -> tuple[list[float], Counter, float]:
    lat: list[float] = []
    errors: Counter = Counter()
    t0 = time.perf_counter()
    await asyncio.gather(*(client_loop(f"{base}/v1/tours/plan", body, c, t0 + duration, lat, errors)
                           for c in range(clients)))
    return lat, errors, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    ap.add_argument("--no-write", action="store_true", help="do not write bench/results/api_load.md")
    args = ap.parse_args(argv)

    body, candidates = daily_plan_body()
    load_before = os.getloadavg()[0]  # other work on the machine inflates the percentiles
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("LHASA_OPS_API_KEYS", "LHASA_OPS_API_KEYS_FILE")}
    env["LHASA_OPS_DB"] = str(Path(tempfile.mkdtemp(prefix="lhasa-load-")) / "jobs.sqlite")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.http.app:app", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning"], cwd=REPO, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise SystemExit("server did not start")
            time.sleep(0.3)
        lat, errors, wall = asyncio.run(run_load(base, body, args.clients, args.duration))
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()

    n, n_err = len(lat), sum(errors.values())
    p50, p95, p99 = (percentile(lat, q) for q in (50, 95, 99))
    from bench.results_md import table, write_section

    rows = [[args.clients, f"{wall:.0f}", n, n_err, f"{n / wall:.2f}", f"{p50 * 1000:.0f}", f"{p95 * 1000:.0f}",
             f"{p99 * 1000:.0f}", f"{max(lat) * 1000:.0f}" if lat else "-"]]
    text = (f"`POST /v1/tours/plan` over loopback (one uvicorn worker, auth off): {N_GROUPS} groups, "
            f"{candidates} candidate stops (`candidate_sites`: the {candidates} highest-scoring scenic sites), "
            f"default stopping rule; {args.clients} clients posting back to back. Target: p95 <= 1000 ms, zero "
            "errors.\n\n"
            + table(["clients", "run s", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows)
            + (f"\n\nErrors: {dict(errors)}" if errors else "")
            + f"\n\nMachine load average (1 min) before the run: {load_before:.2f} on {os.cpu_count()} cores "
            "(anything well above 0 means other processes shared the cores).")
    if not args.no_write:
        write_section("api_load", "API load (daily plan)", f"python -m bench.api_load --duration {args.duration:g} "
                      f"--clients {args.clients}", text)
    print(text)
    return 1 if n_err else 0


if __name__ == "__main__":
    raise SystemExit(main())

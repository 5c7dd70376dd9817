"""First run after an install (issue 15 item 3): cold-cache timings of ``lhasa-ops plan``, ``serve`` and the
itinerary kernels.

"Cold" = an empty Numba cache: every run below gets a fresh ``NUMBA_CACHE_DIR`` (a temporary
folder), which is what a fresh install sees; the worktree's own ``__pycache__`` is not touched.

Rows:

* ``kernels (serial)``: a subprocess compiles the tour kernels in-process
  (``LHASA_OPS_COMPILE_WORKERS=0``, ``optimizer.tours.ensure_compiled``) with a Numba compile-event
  listener: wall and CPU seconds, and the self time of the five costliest kernels (time inside a
  kernel's compilation less that of the kernels it calls);
* ``kernels (N workers)``: the same with the compile workers a cold ``plan`` uses
  (``optimizer.core.warmup``, ``optimizer.tours.compile_plan``): wall, CPU of the process and its
  workers together, and how many kernels the process itself still compiled (0 expected);
* ``plan (cold cache)``: ``lhasa-ops plan --out TMP`` piped, cold cache: seconds to the first byte on
  stdout or stderr, total wall and CPU seconds (the command and its workers), the ``JIT compile`` line
  it prints; ``plan (warm cache)``: the same command again on the now-filled cache;
* ``serve (cold cache)``: ``lhasa-ops serve`` on a free port, cold cache: seconds until ``/healthz``
  answers 200 and until ``/readyz`` answers 200 (it says ``compiling`` before), then until
  ``checks.kernels.itineraries`` says ``compiled`` (the itinerary kernels compile in the background
  after the tours and drones);
* ``itinerary kernels``: the compile a first ``lhasa-ops itineraries plan`` waits for, cold, with the
  worker that command starts (``api.services.itineraries.KERNELS``), and ``(serial)`` in-process.

``--baseline DIR`` also runs the ``kernels (serial)`` row on another checkout (e.g. ``git worktree``
or ``git archive`` of the commit before) for a before/after. ``--quick``: the kernel rows only;
``--no-itineraries``: without the itinerary rows (each costs about a minute of CPU). Writes the
``first_run`` section of ``bench/RESULTS.md``. Run it on a quiet machine for reference numbers (about
5 min on 2 cores); the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.results_md import table, write_section

ROOT = Path(__file__).resolve().parents[1]
KERNELS_SCRIPT = r"""
import json, resource, sys, time
from numba.core import event
rec, stack = {}, []
class L(event.Listener):
    def on_start(self, ev):
        stack.append([ev.data["dispatcher"].py_func.__qualname__, time.perf_counter(), 0.0])
    def on_end(self, ev):
        name, t, child = stack.pop()
        dt = time.perf_counter() - t
        rec[name] = rec.get(name, 0.0) + dt - child
        if stack:
            stack[-1][2] += dt
event.register("numba:compile", L())
family = sys.argv[1]
t0 = time.perf_counter()
if family == "itineraries":
    from api.services.itineraries import KERNELS, warm_up as ensure_compiled
else:
    try:
        from optimizer.tours import ensure_compiled
    except ImportError:  # a checkout from before ensure_compiled
        from optimizer.tours import warm_up as ensure_compiled
    try:
        from optimizer.tours import KERNELS
    except ImportError:
        KERNELS = None
t1 = time.perf_counter()
workers = KERNELS.start_workers() if KERNELS is not None and hasattr(KERNELS, "start_workers") else False
ensure_compiled()
t2 = time.perf_counter()
reports = []
if workers:
    from optimizer.core.warmup import spawned
    reports = spawned(KERNELS.workers).reports
r = resource.getrusage(resource.RUSAGE_SELF)
c = resource.getrusage(resource.RUSAGE_CHILDREN)
top = sorted(rec.items(), key=lambda kv: -kv[1])[:5]
print(json.dumps({"import_s": t1 - t0, "compile_s": t2 - t1, "cpu_s": r.ru_utime + r.ru_stime,
                  "workers_cpu_s": c.ru_utime + c.ru_stime, "workers": bool(workers),
                  "top": top, "n_compiled": len(rec), "worker_cpu_s": [r["cpu_s"] for r in reports],
                  "worker_wall_s": [r["wall_s"] for r in reports]}))
"""


def _env(cache: str) -> dict[str, str]:
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = cache
    env["LHASA_OPS_DB"] = str(Path(cache) / "jobs.sqlite")
    env.pop("LHASA_OPS_API_KEYS", None)
    env.pop("LHASA_OPS_API_KEYS_FILE", None)
    return env


def kernels_row(root: Path, label: str, family: str = "tours", workers: bool = False) -> list[object]:
    """Cold compile of a family's kernels in a subprocess, in-process (``workers=False``) or with the
    family's compile workers."""
    with tempfile.TemporaryDirectory(prefix="lhasa_cold_") as cache:
        env = _env(cache) | {"PYTHONPATH": str(root)}
        if not workers:
            env["LHASA_OPS_COMPILE_WORKERS"] = "0"
        else:
            env.pop("LHASA_OPS_COMPILE_WORKERS", None)
        out = subprocess.run([sys.executable, "-c", KERNELS_SCRIPT, family], cwd=root, env=env,
                             capture_output=True, text=True, timeout=1800, check=True)
    d = json.loads(out.stdout.strip().splitlines()[-1])
    if d["workers"]:
        per = ", ".join(f"{c:.1f}" for c in d["worker_cpu_s"])
        what = (f"{d['compile_s']:.1f} s wall, {d['cpu_s'] + d['workers_cpu_s']:.1f} s CPU (this process "
                f"{d['cpu_s']:.1f}, workers {d['workers_cpu_s']:.1f}; CPU s per worker's compile: {per}, the "
                f"largest bounds the wall time on an idle machine); {d['n_compiled']} functions compiled in "
                f"this process (it loads the workers' cache)")
    else:
        top = ", ".join(f"{name} {s:.1f}" for name, s in d["top"])
        what = (f"{d['compile_s']:.1f} s compile ({d['cpu_s']:.1f} s CPU), {d['n_compiled']} functions; "
                f"self time: {top}")
    return [label, what, f"{d['compile_s']:.1f}", f"{d['cpu_s'] + d['workers_cpu_s']:.1f} s CPU"]


def _cli() -> str:
    exe = Path(sys.executable).with_name("lhasa-ops")
    return str(exe) if exe.exists() else "lhasa-ops"


def plan_rows() -> list[list[object]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="lhasa_cold_") as cache:
        for label in ("plan (cold cache)", "plan (warm cache)"):
            out_dir = Path(cache) / "out"
            c0 = _children_cpu()
            t0 = time.perf_counter()
            p = subprocess.Popen([_cli(), "plan", "--out", str(out_dir)], cwd=ROOT, env=_env(cache),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            assert p.stdout is not None
            first = p.stdout.read(1)
            t_first = time.perf_counter() - t0
            rest = first + p.stdout.read()
            p.wait(timeout=900)
            wall = time.perf_counter() - t0
            cpu = _children_cpu() - c0
            text = rest.decode(errors="replace")
            jit = next((line.split(None, 2)[-1] for line in text.splitlines() if line.startswith("JIT compile")), "-")
            first_line = text.splitlines()[0] if text else ""
            rows.append([label, f"first output after {t_first:.2f} s: `{first_line[:90]}`", f"{wall:.1f}",
                         f"exit {p.returncode}; {cpu:.1f} s CPU; JIT compile {jit}"])
            print(rows[-1], flush=True)
    return rows


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def serve_row(itineraries: bool = True) -> list[object]:
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="lhasa_cold_") as cache:
        t0 = time.perf_counter()
        p = subprocess.Popen([_cli(), "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=cache,
                             env=_env(cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t_health = t_ready = t_itin = None
        said = ""
        try:
            while time.perf_counter() - t0 < (900 if itineraries else 300):
                if t_health is None and _get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                    t_health = time.perf_counter() - t0
                if t_health is not None:
                    code, body = _get(f"http://127.0.0.1:{port}/readyz")
                    if code == 503 and not said:
                        said = json.loads(body).get("message", "")
                    if code == 200 and t_ready is None:
                        t_ready = time.perf_counter() - t0
                    if code == 200 and (not itineraries or json.loads(body)["checks"]["kernels"].get(
                            "itineraries") == "compiled"):
                        t_itin = time.perf_counter() - t0
                        break
                time.sleep(0.1)
        finally:
            p.terminate()
            p.wait(timeout=30)
    fmt = (lambda x: "-" if x is None else f"{x:.1f}")
    itin = f"; itinerary kernels compiled after {fmt(t_itin)} s" if itineraries else ""
    return ["serve (cold cache)", f"/healthz 200 after {fmt(t_health)} s; /readyz said `{said}` until ready{itin}",
            fmt(t_ready), "/readyz 200 (s)"]


HEADER = ["run", "what happened", "wall s", "notes"]
READING = (
    "Reading: the serial rows compile in one process (`LHASA_OPS_COMPILE_WORKERS=0`); the worker rows are "
    "what a cold `plan`, `serve` and `itineraries plan` do (two worker processes compile disjoint parts of "
    "the kernels into the cache, `optimizer.tours.compile_plan`, `api.services.itineraries_compile_plan`; "
    "the process itself then loads them). Workers cost some CPU (their imports, loading each other's "
    "kernels) and save wall time: on an idle 2-core machine the compile ends about when the worker with "
    "the most CPU seconds ends. On a loaded machine compare CPU seconds, not wall.")



def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout: its kernel compile row too")
    parser.add_argument("--quick", action="store_true", help="the kernel rows only")
    parser.add_argument("--no-itineraries", action="store_true", help="without the itinerary kernels")
    args = parser.parse_args(argv)
    itin = not args.no_itineraries
    load = os.getloadavg()[0]
    rows = []
    if args.baseline is not None:
        rows.append(kernels_row(args.baseline.resolve(), f"kernels (serial, baseline {args.baseline.name})"))
        print(rows[-1], flush=True)
    rows.append(kernels_row(ROOT, "kernels (serial)"))
    print(rows[-1], flush=True)
    rows.append(kernels_row(ROOT, "kernels (compile workers)", workers=True))
    print(rows[-1], flush=True)
    if not args.quick:
        rows += plan_rows()
        rows.append(serve_row(itin))
        print(rows[-1], flush=True)
    if itin:
        rows.append(kernels_row(ROOT, "itinerary kernels (compile workers, as `itineraries plan`)", "itineraries",
                                workers=True))
        print(rows[-1], flush=True)
        if not args.quick:
            rows.append(kernels_row(ROOT, "itinerary kernels (serial)", "itineraries"))
            print(rows[-1], flush=True)
    load_end = os.getloadavg()[0]
    body = (f"Cold = empty Numba cache (a fresh `NUMBA_CACHE_DIR` per row). Load average (1 min) {load:.1f} at "
            f"the start, {load_end:.1f} at the end ({os.cpu_count()} cores"
            f"{', shared with other work: wall times are inflated' if load > 1.5 else ''}). Targets (issue 15 "
            "item 3): `plan` prints within 1 s and completes within 15 s cold; `serve` answers `/readyz` 200 "
            "within 20 s.\n\n" + table(HEADER, rows) + "\n\n" + READING)
    cmd = "python -m bench.first_run" + (f" --baseline {args.baseline}" if args.baseline else "") + (
        " --quick" if args.quick else "") + (" --no-itineraries" if args.no_itineraries else "")
    print(f"wrote {write_section('first_run', 'First run after an install (issue 15 item 3)', cmd, body)}")


if __name__ == "__main__":
    main(sys.argv[1:])

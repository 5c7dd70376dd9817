"""First run after an install (issue 15 item 3): cold-cache timings of ``lhasa-ops plan`` and ``serve``.

"Cold" = an empty Numba cache: every run below gets a fresh ``NUMBA_CACHE_DIR`` (a temporary
folder), which is what a fresh install sees; the worktree's own ``__pycache__`` is not touched.

Rows:

* ``kernels``: a subprocess compiles the tour kernels (``optimizer.tours.ensure_compiled``) with a
  Numba compile-event listener: wall and CPU seconds, and the self time of the five costliest
  kernels (time inside a kernel's compilation less that of the kernels it calls);
* ``plan (cold)``: ``lhasa-ops plan --out TMP`` piped, cold cache: seconds to the first byte on
  stdout or stderr, total wall and CPU seconds, the ``JIT compile`` line it prints; ``plan (warm)``: the same
  command again on the now-filled cache;
* ``serve (cold)``: ``lhasa-ops serve`` on a free port, cold cache: seconds until ``/healthz``
  answers 200 and until ``/readyz`` answers 200 (it says ``compiling`` before).

``--baseline DIR`` also runs the ``kernels`` row on another checkout (e.g. ``git worktree`` or
``git archive`` of the commit before) for a before/after. Writes the ``first_run`` section of
``bench/RESULTS.md``. Run it on a quiet machine for reference numbers; the load average is printed.
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
t0 = time.perf_counter()
try:
    from optimizer.tours import ensure_compiled
except ImportError:  # a checkout from before ensure_compiled
    from optimizer.tours import warm_up as ensure_compiled
t1 = time.perf_counter()
ensure_compiled()
t2 = time.perf_counter()
r = resource.getrusage(resource.RUSAGE_SELF)
top = sorted(rec.items(), key=lambda kv: -kv[1])[:5]
print(json.dumps({"import_s": t1 - t0, "compile_s": t2 - t1, "cpu_s": r.ru_utime + r.ru_stime,
                  "top": top, "n_compiled": len(rec)}))
"""


def _env(cache: str) -> dict[str, str]:
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = cache
    env["LHASA_OPS_DB"] = str(Path(cache) / "jobs.sqlite")
    env.pop("LHASA_OPS_API_KEYS", None)
    env.pop("LHASA_OPS_API_KEYS_FILE", None)
    return env


def kernels_row(root: Path, label: str) -> list[object]:
    with tempfile.TemporaryDirectory(prefix="lhasa_cold_") as cache:
        out = subprocess.run([sys.executable, "-c", KERNELS_SCRIPT], cwd=root, env=_env(cache) | {
            "PYTHONPATH": str(root)}, capture_output=True, text=True, timeout=900, check=True)
    d = json.loads(out.stdout.strip().splitlines()[-1])
    top = ", ".join(f"{name} {s:.1f}" for name, s in d["top"])
    what = (f"{d['compile_s']:.1f} s compile ({d['cpu_s']:.1f} s CPU), {d['n_compiled']} functions; "
            f"self time: {top}")
    return [f"kernels ({label})", what, "-", "-"]


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


def serve_row() -> list[object]:
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="lhasa_cold_") as cache:
        t0 = time.perf_counter()
        p = subprocess.Popen([_cli(), "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=cache,
                             env=_env(cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t_health = t_ready = None
        said = ""
        try:
            while time.perf_counter() - t0 < 300:
                if t_health is None and _get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                    t_health = time.perf_counter() - t0
                if t_health is not None:
                    code, body = _get(f"http://127.0.0.1:{port}/readyz")
                    if code == 503 and not said:
                        said = json.loads(body).get("message", "")
                    if code == 200:
                        t_ready = time.perf_counter() - t0
                        break
                time.sleep(0.1)
        finally:
            p.terminate()
            p.wait(timeout=30)
    fmt = (lambda x: "-" if x is None else f"{x:.1f}")
    return ["serve (cold cache)", f"/healthz 200 after {fmt(t_health)} s; /readyz said `{said}` until ready",
            fmt(t_ready), "/readyz 200 (s)"]


HEADER = ["run", "what happened", "wall s", "notes"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout: its kernel compile row too")
    parser.add_argument("--quick", action="store_true", help="the kernels row only")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    rows = []
    if args.baseline is not None:
        rows.append(kernels_row(args.baseline.resolve(), f"baseline {args.baseline.name}"))
        print(rows[-1], flush=True)
    rows.append(kernels_row(ROOT, "this tree"))
    print(rows[-1], flush=True)
    if not args.quick:
        rows += plan_rows()
        rows.append(serve_row())
        print(rows[-1], flush=True)
    load_end = os.getloadavg()[0]
    body = (f"Cold = empty Numba cache (a fresh `NUMBA_CACHE_DIR` per row). Load average (1 min) {load:.1f} at "
            f"the start, {load_end:.1f} at the end ({os.cpu_count()} cores"
            f"{', shared with other work: wall times are inflated' if load > 1.5 else ''}). Targets (issue 15 "
            "item 3): `plan` prints within 1 s and completes within 15 s cold; `serve` answers `/readyz` 200 "
            "within 20 s.\n\n" + table(HEADER, rows))
    cmd = "python -m bench.first_run" + (f" --baseline {args.baseline}" if args.baseline else "") + (
        " --quick" if args.quick else "")
    print(f"wrote {write_section('first_run', 'First run after an install (issue 15 item 3)', cmd, body)}")


if __name__ == "__main__":
    main(sys.argv[1:])

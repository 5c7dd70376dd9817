"""Speed of an ILS iteration on large Cordeau TOPTW cases (issue 15: the 1 s target).

``python -m bench.iteration_speed [--iterations 3000] [--runs 3] [--baseline DIR]``

For each case (Cordeau ``pr06`` and ``pr10`` with m = 3 and 4 routes: 288 customers, the cases that
hold most of the 1 s gap), :func:`optimizer.toptw.solve` runs with ``StoppingCriterion(max_iterations=
N)``, seed 0 and one search thread (``ToptwParams(threads=1)``; the checkout's TOPTW settings),
after a warm-up that compiles or loads the kernels. Reported: iterations per second
of process CPU time (the best of ``--runs`` runs: CPU time, not wall time, because the shared
machine is loaded; the best run is the one least disturbed), the score after the ``N`` iterations and
a hash of the routes. The score and hash depend only on the code's choices, not on the machine: a
change that only makes an iteration faster keeps both.

``--baseline DIR`` runs the same measurement on another checkout (for example ``git archive`` of
the commit before, unpacked to DIR; the benchmark files are read from this checkout's
``shared/benchmarks``) in a subprocess, one run of each checkout after the other, so that both see
the same load. Writes the ``iteration_speed`` section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.results_md import machine, table, write_section

ROOT = Path(__file__).resolve().parents[1]
CASES = (("pr06", 3), ("pr06", 4), ("pr10", 3), ("pr10", 4))

SCRIPT = r"""
import hashlib, json, sys, time
import numpy as np
from instances.benchmarks import instance_path, read_toptw
from optimizer.core.stop import StoppingCriterion
from optimizer.toptw import TOPTWInstance, ToptwParams, solve

n_iter = int(sys.argv[1])
cases = json.loads(sys.argv[2])
n = 11
rng = np.random.default_rng(0)
x, y = rng.uniform(0, 10, n), rng.uniform(0, 10, n)
d = np.sqrt((x[:, None] - x[None, :]) ** 2 + (y[:, None] - y[None, :]) ** 2)
warm = TOPTWInstance("warmup", x, y, np.ones(n), np.r_[0.0, np.ones(n - 1)], np.zeros(n), np.full(n, 100.0), d, 2,
                     100.0)
solve(warm, StoppingCriterion(max_iterations=3), seed=0)
# one search thread (checkouts before ToptwParams.threads had only that)
one = ToptwParams(threads=1) if "threads" in ToptwParams.__dataclass_fields__ else None
out = []
for name, m in cases:
    inst = read_toptw(str(instance_path("cordeau_pr", name)), n_routes=m)
    c0 = time.process_time()
    sol = solve(inst, StoppingCriterion(max_iterations=n_iter), seed=0, params=one)
    cpu = time.process_time() - c0
    routes = [[int(j) for j in r] for r in sol.routes]
    out.append({"case": f"{name} m={m}", "cpu_s": cpu, "iterations": sol.stats.iterations,
                "score": float(sum(inst.score[j] for r in routes for j in r)),
                "hash": hashlib.md5(json.dumps(routes).encode()).hexdigest()[:10]})
print(json.dumps(out))
"""


def measure(root: Path, n_iter: int) -> list[dict]:
    """One run of every case on the checkout ``root`` (a subprocess); a dict per case."""
    env = dict(os.environ, PYTHONPATH=str(root))
    env.setdefault("LHASA_BENCHMARKS", str(ROOT.parent / "shared" / "benchmarks"))
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(n_iter), json.dumps(CASES)], cwd=root, env=env,
                         capture_output=True, text=True, timeout=1800, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.iteration_speed", description=__doc__.split("\n\n")[0])
    ap.add_argument("--iterations", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3, help="runs per checkout; the best (least CPU) counts")
    ap.add_argument("--baseline", type=Path, default=None, help="another checkout, measured the same way")
    args = ap.parse_args(argv)
    roots = {"this checkout": ROOT}
    if args.baseline is not None:
        roots = {"baseline": args.baseline.resolve(), "this checkout": ROOT}
    best: dict[tuple[str, str], dict] = {}
    for _ in range(args.runs):
        for label, root in roots.items():
            for row in measure(root, args.iterations):
                key = (label, row["case"])
                if key not in best or row["cpu_s"] < best[key]["cpu_s"]:
                    best[key] = row
    rows = []
    for name, m in CASES:
        case = f"{name} m={m}"
        cells: list[object] = [case]
        for label in roots:
            r = best[(label, case)]
            cells += [f"{r['iterations'] / r['cpu_s']:,.0f}", f"{r['score']:.0f}", r["hash"]]
        rows.append(cells)
    header = ["case"]
    for label in roots:
        header += [f"it/CPU s ({label})", f"score ({label})", f"routes ({label})"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    body = (f"{args.iterations:,} iterations, seed 0, default `ILSParams`; best of {args.runs} runs per "
            f"checkout, iterations per second of process CPU time (load average {load:.1f} at the end; "
            f"{time.strftime('%H:%M')} local).\n\n" + table(header, rows))
    if args.baseline is not None:
        body += ("\n\nSame score and routes hash in both columns: the two checkouts make the same choices "
                 "at every iteration; only the time per iteration differs.")
    print(body)
    cmd = "python -m bench.iteration_speed" + (" --baseline DIR" if args.baseline is not None else "")
    path = write_section("iteration_speed", "Speed of an ILS iteration (issue 15, Cordeau pr06/pr10)", cmd, body)
    print(f"wrote {path} ({machine()})")


if __name__ == "__main__":
    main()

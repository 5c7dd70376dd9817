"""Compile workers of a cold start (issue 15 item 3, ``optimizer.core.warmup``, ``optimizer.tours.compile_plan``).

On an empty Numba cache, the tour kernels' two compile workers together compile every engine kernel
exactly once (a kernel of the other worker's part is waited for and loaded, never compiled twice), and
the process that started them compiles nothing: its warm-up only loads the cache. The plan it then
makes is the plan a warm process (the same cache, loaded) makes, and the plan of a process that
compiled everything itself (``LHASA_OPS_COMPILE_WORKERS=0``, another empty cache): same routes, same
score, and the verifier accepts it. Each check runs in a subprocess with a fresh ``NUMBA_CACHE_DIR``
(about 30 s of CPU in all).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from compile_helpers import COMPILE_LISTENER

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = COMPILE_LISTENER + r"""
from api.services.tours import lhasa_network, read_groups, DEFAULT_DEMAND
from optimizer.core.stop import StoppingCriterion
from optimizer.core.warmup import spawned
from optimizer.tours import KERNELS, TourProblem, ensure_compiled, solve, verify
started = KERNELS.start_workers()
ensure_compiled()
workers = spawned(KERNELS.workers)
reports = workers.reports if workers is not None else []
network = lhasa_network()
groups = read_groups(DEFAULT_DEMAND, network)[:60]
problem = TourProblem(network=network, groups=groups)
plan = solve(problem, StoppingCriterion(max_iterations=300), seed=4)
routes = [[r.group_id, [v.site_id for v in r.visits]] for r in plan.routes]
print(json.dumps({"started": started, "compiled_here": [c for c in compiled if c.startswith("optimizer.")],
                  "reports": reports, "routes": routes, "score": plan.stats.objective,
                  "violations": len(verify(problem, plan))}))
"""


def _run(cache: Path, **env: str) -> dict:
    e = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT), **env)
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=e, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_cold_start_with_compile_workers_compiles_each_kernel_once_and_plans_as_a_warm_one(tmp_path):
    cold = _run(tmp_path / "cache", LHASA_OPS_COMPILE_WORKERS="2")
    assert cold["started"], "an empty cache starts the compile workers"
    assert cold["compiled_here"] == [], f"the warm-up after the workers compiled: {cold['compiled_here']}"
    assert len(cold["reports"]) == 2, cold["reports"]
    ours = Counter(k for r in cold["reports"] for k in r["compiled"] if k.startswith("optimizer."))
    twice = {k: n for k, n in ours.items() if n > 1}
    assert not twice, f"kernels compiled by both workers (or twice): {twice}"
    assert {"optimizer.core.engine.ils.ils_iterations", "optimizer.core.engine.kernels.greedy_fill",
            "optimizer.core.engine.kernels.seed_protected", "optimizer.core.engine.moves.replace_route"} <= set(ours)
    assert all(r["loaded"] for r in cold["reports"]), "each worker loads the other's kernels it calls"

    warm = _run(tmp_path / "cache", LHASA_OPS_COMPILE_WORKERS="2")
    assert not warm["started"] and warm["compiled_here"] == [], "a warm cache starts no worker and compiles nothing"
    serial = _run(tmp_path / "serial", LHASA_OPS_COMPILE_WORKERS="0")
    assert not serial["started"] and serial["compiled_here"], "workers off: the process compiles"
    for other in (warm, serial):
        assert other["routes"] == cold["routes"] and other["score"] == cold["score"]
    assert cold["violations"] == 0 and len(cold["routes"]) > 0

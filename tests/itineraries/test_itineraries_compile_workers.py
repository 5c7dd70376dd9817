"""The itinerary kernels' compile plan (issue 15 item 3, ``api.services.itineraries_compile_plan``): on an
empty Numba cache its two workers together compile every itinerary kernel exactly once (each waits for
and loads the other's kernels it calls), and the warm-up of the process that started them compiles
nothing (it only loads the cache): the plan's signatures are the ones the warm-up's calls need. Runs in
a subprocess with a fresh ``NUMBA_CACHE_DIR`` (about 70 s of CPU, on two processes)."""

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
from api.services.itineraries import KERNELS, warm_up
from optimizer.core.warmup import spawned
started = KERNELS.start_workers()
warm_up()
print(json.dumps({"started": started, "compiled_here": [c for c in compiled if c.startswith("optimizer.")],
                  "reports": spawned(KERNELS.workers).reports if started else []}))
"""


def test_the_itinerary_compile_workers_compile_each_kernel_once_and_leave_nothing_to_the_warm_up(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=str(ROOT), LHASA_OPS_COMPILE_WORKERS="2")
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    d = json.loads(out.stdout.strip().splitlines()[-1])
    assert d["started"] and len(d["reports"]) == 2, d
    assert d["compiled_here"] == [], f"the warm-up after the workers compiled: {d['compiled_here']}"
    ours = Counter(k for r in d["reports"] for k in r["compiled"] if k.startswith("optimizer."))
    assert not {k: n for k, n in ours.items() if n > 1}, ours
    assert {"optimizer.itineraries.kernels.ils_iterations", "optimizer.itineraries.kernels.hotel_move",
            "optimizer.itineraries.kernels.fill_group", "optimizer.itineraries.solve._init_routes"} <= set(ours)

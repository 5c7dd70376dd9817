"""What the first run after an install compiles (issue 15 item 3): the tour warm-up, on an empty Numba
cache, compiles each engine kernel exactly once (one type signature: int64 scalars at every call site,
no int32 or ``Literal[int]`` variant, each of which would compile the kernel and its callees again),
and does not compile the neighbourhoods the default parameters leave off (elite pool, or-opt,
relocate, swap: ``ils_iterations`` takes them as None, which Numba prunes before typing).

A cold compile only shows these: a warm cache loads ``ils_iterations`` whole, without typing its
callees, so the check runs in a subprocess with a fresh ``NUMBA_CACHE_DIR`` (about 15 s of CPU).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = r"""
import json
from numba.core.registry import CPUDispatcher
from optimizer.core.engine import ils, kernels, moves
from optimizer.tours import ensure_compiled
ensure_compiled()
out = {}
for mod in (ils, kernels, moves):
    for name, d in vars(mod).items():
        if isinstance(d, CPUDispatcher) and d.py_func.__module__ == mod.__name__:
            out[f"{mod.__name__.rsplit('.', 1)[1]}.{name}"] = [str(s[2:]) for s in d.signatures]
print(json.dumps(out))
"""


def test_cold_tour_warm_up_compiles_each_engine_kernel_once(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600, check=True)
    sigs = json.loads(out.stdout.strip().splitlines()[-1])
    several = {name: s for name, s in sigs.items() if len(s) > 1}
    assert not several, f"kernels compiled for several signatures (pass int64 at the call sites): {several}"
    compiled = {name for name, s in sigs.items() if s}
    assert {"ils.ils_iterations", "kernels.greedy_fill", "kernels.insertion_cost", "kernels.seed_protected",
            "moves.replace_route", "kernels.two_opt_route"} <= compiled, sorted(compiled)
    off_by_default = {"moves.relocate_routes", "moves.swap_routes", "moves.tails_routes", "moves.pool_store",
                      "moves.pool_load", "kernels.or_opt_route"}
    assert not compiled & off_by_default, sorted(compiled & off_by_default)

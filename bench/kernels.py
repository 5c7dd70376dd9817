"""Kernel throughput and Numba-vs-pure-Python speedup of the ILS engine.

``python -m bench.kernels [--runs 5] [--speedup-instance c101] [--speedup-routes 2]
[--speedup-iterations 7000] [--no-speedup]`` measures, on one core:

* **Insertion evaluations per second.** State: greedy construction on Cordeau ``pr10`` with
  ``m = 4``, then every third visit of each route removed (positions 1, 4, 7, ...), so many
  insertions are feasible. A jitted loop calls ``best_insertion`` for every route ``N`` times. One
  *evaluation* is one (node, position) pair the kernel looks at: per route, the eligible nodes
  (candidates not in the route with capacity left) times ``length + 1`` positions. Median of
  ``--runs`` runs. Target (issue): >= 10 million/s.
* **ILS iterations per second** (``ils_iterations``, default ``ILSParams``) on pr10 m=4 and on the
  embedded Lhasa peak day, each from its construction state (copied per run). Median of runs.
* **Numba vs pure Python.** ``optimizer.toptw.solve`` on one instance with ``MaxIterations(K)`` and seed 0,
  once with Numba (warm: after a warm-up call; median of 3 timed calls) and once in a subprocess
  with ``NUMBA_DISABLE_JIT=1`` (numba then runs the very same functions as plain Python). Both
  must return the same routes and score. Target: >= 50x.

Writes the ``kernels`` and ``speedup`` sections of ``bench/RESULTS.md``. The setup helpers are
shared with ``bench/test_bench_kernels.py`` (pytest-benchmark suites).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

from bench.results_md import table, write_section
from optimizer.core.engine.ils import ILSParams, ils_iterations
from optimizer.core.engine.kernels import (
    KernelProblem,
    RouteState,
    best_insertion,
    copy_state,
    greedy_fill,
    new_state,
    remove_positions,
    seed_protected,
)
from optimizer.core.stop import MaxIterations

REPO = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------------
# Setup helpers (also used by bench/test_bench_kernels.py)
# ---------------------------------------------------------------------------------------------


def load_toptw(name: str = "pr10", n_routes: int = 4):
    """A KU Leuven TOPTW instance by name (``prNN`` Cordeau, else Solomon 100)."""
    from instances.benchmarks import instance_path, read_toptw
    set_name = "cordeau_pr" if name.startswith("pr") else "solomon_100"
    return read_toptw(instance_path(set_name, name), n_routes=n_routes)


def toptw_start(inst) -> tuple[KernelProblem, RouteState]:
    """Kernel problem of ``inst`` and its empty state (``run_ils`` does the greedy construction)."""
    from optimizer.toptw import compile_toptw
    P, daily, cust = compile_toptw(inst)
    return P, new_state(P, daily, 1, len(cust) + 1)


def toptw_construction(inst) -> tuple[KernelProblem, RouteState]:
    """Kernel problem of ``inst`` and the state after greedy construction (as ``run_ils`` does)."""
    P, S = toptw_start(inst)
    R, n = P.value.shape
    greedy_fill(P, S, np.ones(R, dtype=np.bool_), np.empty(0, dtype=np.int32), 0, np.ones(n))
    return P, S


def demo_day_problem():
    """The embedded Lhasa peak day as a ``TourProblem``."""
    from api.services.tours import DEFAULT_DEMAND, lhasa_network, read_groups
    from optimizer.tours import TourProblem
    net = lhasa_network()
    return TourProblem(network=net, groups=read_groups(DEFAULT_DEMAND, net))


def demo_day_start(problem) -> tuple[KernelProblem, RouteState]:
    """Kernel problem of the demo day and its state after must-visit seeding (as ``solve`` does)."""
    from optimizer.tours.solve import compile_problem, seeding_order
    P, daily, n_slots = compile_problem(problem)
    S = new_state(P, daily, n_slots, int(P.n_cand.max()) + 1)
    seed_protected(P, S, seeding_order(problem))
    return P, S


def thin_state(P: KernelProblem, S: RouteState, every: int = 3) -> RouteState:
    """Copy of ``S`` with the visits at positions 1, 1 + every, ... of each route removed."""
    T = copy_state(S)
    for r in range(T.length.shape[0]):
        L = int(T.length[r])
        mask = np.zeros(T.rt.shape[2], dtype=np.bool_)
        mask[1:L:every] = True
        if mask.any():
            remove_positions(P, T, r, mask)
    return T


def insertion_state(name: str = "pr10", n_routes: int = 4) -> tuple[KernelProblem, RouteState]:
    """pr10 (m=4) greedy construction with about 1/3 of the visits removed."""
    P, S = toptw_construction(load_toptw(name, n_routes))
    return P, thin_state(P, S)


def count_evaluations(P: KernelProblem, S: RouteState) -> int:
    """(node, position) pairs one ``best_insertion`` sweep over all routes evaluates."""
    total = 0
    for r in range(S.length.shape[0]):
        cand = P.cand[r, :P.n_cand[r]]
        elig = (~S.in_route[r, cand]) & (S.day_left[cand] >= P.size[r])
        total += int(elig.sum()) * (int(S.length[r]) + 1)
    return total


def count_feasible(P: KernelProblem, S: RouteState) -> int:
    """Of the pairs ``count_evaluations`` counts, those ``insertion_cost`` finds feasible."""
    from optimizer.core.engine.kernels import INF, insertion_cost
    total = 0
    for r in range(S.length.shape[0]):
        for j in P.cand[r, :P.n_cand[r]]:
            if S.in_route[r, j] or S.day_left[j] < P.size[r]:
                continue
            for p in range(int(S.length[r]) + 1):
                total += insertion_cost(P, S, r, j, p)[0] < INF
    return int(total)


@njit(cache=True)
def insertion_sweeps(P, S, w, n_rep):
    """Call ``best_insertion`` for every route ``n_rep`` times; returns the sum of best ratios."""
    R = S.length.shape[0]
    acc = 0.0
    for _ in range(n_rep):
        for r in range(R):
            ratio, j, p, k, shift = best_insertion(P, S, r, w)
            acc += ratio
    return acc


def _snapshot(x):
    if isinstance(x, RouteState):
        return copy_state(x)
    if isinstance(x, np.ndarray):
        return x.copy()
    if type(x) is tuple:  # the elite pool's arrays (None when off); not KernelProblem (a namedtuple)
        return tuple(_snapshot(v) for v in x)
    return x


class ILSRun:
    """``ils_iterations`` from the exact search position ``run_ils`` sets up after construction.

    ``run_ils(P, S0, MaxIterations(1), seed, params)`` is run once with ``ils_iterations``
    wrapped so that the arguments of its first call are recorded (copied); every ``start()``
    then gives a fresh copy of them, and ``run(n)`` calls ``ils_iterations`` with ``n_iter=n``.
    This keeps the benchmark independent of how ``run_ils`` lays out its control arrays.
    ``S0`` is not modified.
    """

    def __init__(self, P: KernelProblem, S0: RouteState, seed: int = 0, params: ILSParams = ILSParams()):
        import inspect

        from optimizer.core.engine import ils
        real = ils.ils_iterations
        self._sig = inspect.signature(getattr(real, "py_func", real))
        captured = []

        def recorder(*a, **kw):
            if not captured:
                captured.append({k: _snapshot(v) for k, v in self._sig.bind(*a, **kw).arguments.items()})
            return real(*a, **kw)

        ils.ils_iterations = recorder
        try:
            ils.run_ils(P, copy_state(S0), MaxIterations(1), seed=seed, params=params)
        finally:
            ils.ils_iterations = real
        if not captured:
            raise RuntimeError("run_ils did not call ils_iterations")
        self._args = captured[0]
        self.start_value = float(self._args["S"].rvalue.sum())
        self.start()

    def start(self) -> None:
        """Reset to the recorded position (fresh copies of every state and control array)."""
        self.args = {k: _snapshot(v) for k, v in self._args.items()}

    def run(self, n_iter: int) -> int:
        args = dict(self.args, n_iter=n_iter)
        return int(ils_iterations(*self._sig.bind(**args).args))

    @property
    def best_value(self) -> float:
        return float(self.args["B"].rvalue.sum())


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------


def measure_insertion(runs: int, n_rep: int = 300) -> dict:
    P, S = insertion_state()
    w = np.ones(P.value.shape[1])
    evals = count_evaluations(P, S)
    insertion_sweeps(P, S, w, 2)  # compile / load cache
    rates = []
    for _ in range(runs):
        t = time.perf_counter()
        acc = insertion_sweeps(P, S, w, n_rep)
        dt = time.perf_counter() - t
        rates.append(evals * n_rep / dt)
    assert evals > 0 and acc > 0
    return {"evals_per_sweep": evals, "feasible": count_feasible(P, S), "visits": int(S.length.sum()),
            "lengths": S.length.tolist(),
            "n_rep": n_rep, "rates": rates, "median": statistics.median(rates)}


def measure_ils(P: KernelProblem, S0: RouteState, runs: int, n_iter: int) -> dict:
    """ILS iterations per second from the state ``run_ils`` reaches after construction from ``S0``."""
    run = ILSRun(P, S0)
    run.run(2)  # compile / load cache
    rates, best = [], []
    for _ in range(runs):
        run.start()
        t = time.perf_counter()
        ran = run.run(n_iter)
        dt = time.perf_counter() - t
        rates.append(ran / dt)
        best.append(run.best_value)
    return {"n_iter": n_iter, "rates": rates, "median": statistics.median(rates), "start": run.start_value,
            "best": best}


_CHILD = """
import json, sys, time
from bench.kernels import load_toptw
from optimizer.core.stop import MaxIterations
from optimizer.toptw import solve
import numba
inst = load_toptw(sys.argv[1], int(sys.argv[2]))
t = time.perf_counter()
sol = solve(inst, MaxIterations(int(sys.argv[3])), seed=0)
dt = time.perf_counter() - t
print(json.dumps({"time_s": dt, "score": sol.score, "routes": sol.routes, "iterations": sol.stats.iterations,
                  "jit_disabled": bool(numba.config.DISABLE_JIT)}))
"""


def measure_speedup(name: str, n_routes: int, k: int, timeout_s: float = 900.0) -> dict:
    from optimizer.toptw import solve
    inst = load_toptw(name, n_routes)
    solve(inst, MaxIterations(min(k, 50)), seed=0)  # warm-up (compile / cache load)
    times, sol = [], None
    for _ in range(3):
        t = time.perf_counter()
        sol = solve(inst, MaxIterations(k), seed=0)
        times.append(time.perf_counter() - t)
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, name, str(n_routes), str(k)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout_s)
    wall = time.perf_counter() - t
    out = {"instance": name, "m": n_routes, "k": k, "numba_times": times, "numba_s": statistics.median(times),
           "numba_score": sol.score, "numba_iterations": sol.stats.iterations, "returncode": proc.returncode,
           "child_wall_s": wall}
    if proc.returncode != 0:
        out["error"] = proc.stderr.strip()[-4000:]
        return out
    py = json.loads(proc.stdout.strip().splitlines()[-1])
    out.update(python_s=py["time_s"], python_score=py["score"], python_iterations=py["iterations"],
               jit_disabled=py["jit_disabled"],
               same_routes=[list(r) for r in sol.routes] == [list(r) for r in py["routes"]],
               ratio=py["time_s"] / statistics.median(times))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--speedup-instance", default="c101")
    ap.add_argument("--speedup-routes", type=int, default=2)
    ap.add_argument("--speedup-iterations", type=int, default=7000)
    ap.add_argument("--no-speedup", action="store_true", help="skip the pure-Python run")
    args = ap.parse_args(argv)

    ins = measure_insertion(args.runs)
    print(f"insertion: {ins['median'] / 1e6:.1f} M evals/s (runs: "
          + ", ".join(f"{r / 1e6:.1f}" for r in ins["rates"]) + ")", flush=True)
    P10, S10 = toptw_start(load_toptw("pr10", 4))
    ils10 = measure_ils(P10, S10, args.runs, 2000)
    print(f"ILS pr10 m=4: {ils10['median']:,.0f} it/s", flush=True)
    problem = demo_day_problem()
    Pd, Sd = demo_day_start(problem)
    ilsd = measure_ils(Pd, Sd, args.runs, 5000)
    print(f"ILS demo day: {ilsd['median']:,.0f} it/s", flush=True)

    target = 10e6
    rows = [
        ["insertion evaluations / s (one core)", f"{ins['median'] / 1e6:,.1f} million",
         f"pr10 m=4, greedy construction minus every 3rd visit ({ins['visits']} visits left, route lengths "
         f"{ins['lengths']}); {ins['evals_per_sweep']:,} (node, position) pairs per sweep of "
         f"`best_insertion` "
         f"over the 4 routes ({ins['feasible']:,} of them feasible; most fail the time-window test early), "
         f"{ins['n_rep']} sweeps per run; median of {args.runs} runs "
         f"(min {min(ins['rates']) / 1e6:.1f}, max {max(ins['rates']) / 1e6:.1f}); target >= 10 million "
         f"({'met' if ins['median'] >= target else 'NOT met'})"],
        ["ILS iterations / s, pr10 m=4", f"{ils10['median']:,.0f}",
         f"`ils_iterations`, default `ILSParams`, seed 0, {ils10['n_iter']:,} iterations from the greedy "
         f"construction (score {ils10['start']:,.0f} -> best {ils10['best'][0]:,.0f}, "
         f"{'the same' if len(set(ils10['best'])) == 1 else 'DIFFERENT'} in every run); "
         f"median of {args.runs} runs"],
        ["ILS iterations / s, Lhasa demo day", f"{ilsd['median']:,.0f}",
         f"{len(problem.groups)} groups; `ils_iterations` from must-visit seeding + greedy construction, "
         "seed 0, "
         f"{ilsd['n_iter']:,} iterations (kernel objective, must-visit bonus included: {ilsd['start']:,.0f} "
         f"-> best {ilsd['best'][0]:,.0f}, "
         f"{'the same' if len(set(ilsd['best'])) == 1 else 'DIFFERENT'} in every run); "
         f"median of {args.runs} runs"],
    ]
    body = table(["measure", "value", "how"], rows)
    path = write_section("kernels", "Kernel throughput (one core)", "python -m bench.kernels", body)
    print(body)

    if not args.no_speedup:
        sp = measure_speedup(args.speedup_instance, args.speedup_routes, args.speedup_iterations)
        print(json.dumps({k: v for k, v in sp.items() if k != "error"}, indent=1))
        label = f"`optimizer.toptw.solve` {sp['instance']} m={sp['m']}, `MaxIterations({sp['k']:,})`, seed 0"
        if "error" in sp:
            body = (f"{label}: the pure-Python run (`NUMBA_DISABLE_JIT=1`) FAILED "
                    f"(exit {sp['returncode']}):\n\n```\n{sp['error']}\n```\n")
            print(sp["error"])
        else:
            same = sp["same_routes"] and sp["numba_score"] == sp["python_score"]
            rows = [
                ["Numba (warm, median of 3)", f"{sp['numba_s']:.3f} s", f"{sp['numba_score']:g}",
                 sp["numba_iterations"]],
                ["pure Python (`NUMBA_DISABLE_JIT=1`, subprocess)", f"{sp['python_s']:.1f} s",
                 f"{sp['python_score']:g}", sp["python_iterations"]],
            ]
            body = (f"{label}; the same functions, compiled by Numba or run by the Python interpreter. "
                    "Times are the whole `optimizer.toptw.solve` call (compile arrays, construction, ILS, decode).\n\n"
                    + table(["run", "time", "score", "iterations"], rows)
                    + f"\n\nSpeedup: **{sp['ratio']:,.0f}x** (target >= 50x, "
                    f"{'met' if sp['ratio'] >= 50 else 'NOT met'}). Same routes and score in both modes: "
                    f"**{same}**.\n")
        path = write_section("speedup", "Numba vs pure Python", "python -m bench.kernels", body)
        print(body)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

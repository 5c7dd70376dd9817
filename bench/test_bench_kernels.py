"""pytest-benchmark suites for the ILS engine's kernels.

Run: ``python -m pytest bench/test_bench_kernels.py --benchmark-only`` (``bench/`` is not in the
default testpaths). Every benchmark also asserts a property of its result, so a broken kernel
fails here rather than timing nothing. Setup helpers live in ``bench/kernels.py``
(``python -m bench.kernels`` writes the figures to ``bench/RESULTS.md``).

* ``test_insertion_evaluation``: ``best_insertion`` for every route, ``N_SWEEPS`` times, in one
  jitted loop, on pr10 (m=4) after greedy construction with every third visit removed.
  ``extra_info["evaluations_per_s"]``: (node, position) pairs evaluated per second (eligible nodes
  = candidates not in the route with capacity left, times ``length + 1`` positions, per route).
* ``test_ils_iterations``: ``ils_iterations`` with ``n_iter=100`` on pr10 m=4 from the position
  ``run_ils`` reaches after construction (state copied before each round).
* ``test_solve_toptw_pr10``: ``optimizer.toptw.solve(pr10 m=4, MaxIterations(500), seed=0)``.
* ``test_solve_demo_day``: ``solve(peak day, MaxIterations(1000), seed=0)``; the plan must pass
  ``optimizer.tours.verify``.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.kernels import (
    ILSRun,
    count_evaluations,
    demo_day_problem,
    insertion_state,
    insertion_sweeps,
    load_toptw,
    toptw_start,
)
from optimizer.core.stop import MaxIterations

N_SWEEPS = 200
ILS_ITERS = 100


def _have_pr10() -> bool:
    from instances.benchmarks import instance_path
    try:
        return instance_path("cordeau_pr", "pr10").is_file()
    except (OSError, ValueError):
        return False


needs_pr10 = pytest.mark.skipif(not _have_pr10(), reason="benchmark data (shared/benchmarks, "
                                "or $LHASA_BENCHMARKS) has no cordeau_pr/pr10")


@pytest.fixture(scope="module")
def pr10():
    return load_toptw("pr10", 4)


@pytest.fixture(scope="module")
def demo_problem():
    return demo_day_problem()


@needs_pr10
def test_insertion_evaluation(benchmark):
    P, S = insertion_state("pr10", 4)
    w = np.ones(P.value.shape[1])
    evals = count_evaluations(P, S)
    before = [a.copy() for a in S]
    insertion_sweeps(P, S, w, 1)  # compile or load the cache outside the timing
    acc = benchmark(insertion_sweeps, P, S, w, N_SWEEPS)
    assert evals > 0
    assert acc > 0.0  # some insertion was feasible (best ratio > 0) on every sweep
    assert all(np.array_equal(a, b) for a, b in zip(before, S)), "best_insertion must not modify the state"
    n = evals * N_SWEEPS
    benchmark.extra_info["evaluations_per_call"] = n
    benchmark.extra_info["evaluations_per_sweep"] = evals
    if benchmark.stats is not None:  # None under --benchmark-disable
        benchmark.extra_info["evaluations_per_s"] = n / benchmark.stats.stats.median


@needs_pr10
def test_ils_iterations(benchmark, pr10):
    P, S0 = toptw_start(pr10)
    run = ILSRun(P, S0, seed=0)
    run.run(2)  # compile or load the cache outside the timing

    def setup():
        run.start()
        return (), {}

    ran = benchmark.pedantic(lambda: run.run(ILS_ITERS), setup=setup, rounds=20, iterations=1)
    assert ran == ILS_ITERS
    assert run.best_value >= run.start_value > 0.0
    benchmark.extra_info["iterations_per_call"] = ILS_ITERS
    if benchmark.stats is not None:
        benchmark.extra_info["iterations_per_s"] = ILS_ITERS / benchmark.stats.stats.median


@needs_pr10
def test_solve_toptw_pr10(benchmark, pr10):
    from optimizer.toptw import check_toptw_routes, solve, toptw_score, verify

    sol = benchmark.pedantic(solve, args=(pr10, MaxIterations(500)), kwargs={"seed": 0},
                             rounds=5, iterations=1, warmup_rounds=1)
    assert sol.stats.iterations == 500
    assert verify(pr10, sol) == []
    assert sol.score > 0
    assert check_toptw_routes(pr10, sol.routes) == []
    assert toptw_score(pr10, sol.routes) == pytest.approx(sol.score)
    benchmark.extra_info["score"] = sol.score


def test_solve_demo_day(benchmark, demo_problem):
    from optimizer.tours import solve, verify

    plan = benchmark.pedantic(solve, args=(demo_problem, MaxIterations(1000)), kwargs={"seed": 0},
                              rounds=3, iterations=1, warmup_rounds=1)
    assert plan.stats.iterations == 1000
    assert plan.kpis["total_score"] > 0
    assert verify(demo_problem, plan) == []
    benchmark.extra_info["total_score"] = plan.kpis["total_score"]
    benchmark.extra_info["groups_served"] = plan.kpis["groups_served"]

"""Independent ILS searches side by side in threads, the best of them kept (a search portfolio).

Each search is a :func:`optimizer.core.engine.ils.run_ils` on its own ``RouteState`` over the same
read-only ``KernelProblem``; the kernels are compiled with ``nogil=True``, so the threads run on
separate cores while the Python drivers only wake between kernel chunks (~20 ms). Search ``i``
uses :func:`thread_seed` ``(seed, i)``: search 0 is the single search of ``seed``, so a portfolio is
never worse than it at the same iteration budget, and a stop without ``max_runtime_s`` gives the
same answer for a seed and a number of searches on every machine.

Why: on large instances single trajectories at a short limit differ by several % between seeds
(Cordeau pr06/pr10 at the 1 s budget: 0-7.6 % below the best known), and the best of k runs is
what k cores buy: independent multi-search, Crainic & Toulouse (2010), "Parallel
meta-heuristics", Handbook of Metaheuristics (2nd ed.), ch. 17, sec. 17.3.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from optimizer.core.engine.ils import ILSParams, SearchResult, _better, run_ils
from optimizer.core.engine.kernels import KernelProblem, RouteState, total_time
from optimizer.core.stop import StoppingCriterion

MAX_THREADS = 64
"""Most searches a portfolio accepts."""
MAX_AUTO_THREADS = 8
"""Most searches ``threads=0`` (one per available core) starts."""


def available_cores() -> int:
    """CPU cores this process may run on (``os.sched_getaffinity`` where the OS has it, else
    ``os.cpu_count()``), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS / Windows
        return max(1, os.cpu_count() or 1)


def resolve_threads(threads: int) -> int:
    """A thread count as a number of searches: 0 -> one per available core, at most ``MAX_AUTO_THREADS``."""
    return threads if threads > 0 else min(available_cores(), MAX_AUTO_THREADS)


def thread_seed(seed: int, i: int) -> int:
    """Seed of search ``i``: ``seed`` itself for ``i = 0``, else a 63-bit value drawn from NumPy's
    ``SeedSequence([seed, i])`` (independent streams)."""
    if i == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), int(i)]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def run_portfolio(P: KernelProblem, new_search_state: Callable[[], RouteState], stop: StoppingCriterion,
                  seed: int, params: ILSParams, threads: int, t0: float) -> tuple[SearchResult, list[SearchResult]]:
    """Run ``threads`` (>= 1) searches under the whole ``stop`` each (a ``max_iterations`` budget is
    per search; the wall clock counts from ``t0``, ``time.perf_counter()``).

    ``new_search_state()`` returns a fresh start state per search (the same one each time: empty
    routes, or routes already seeded with must-visits). Returns ``(best, all results)``: best =
    higher total value, then shorter total route time, then the lower index.
    """
    k = max(1, int(threads))
    states = [new_search_state() for _ in range(k)]
    if k == 1:
        results = [run_ils(P, states[0], stop, seed=int(seed), params=params, t0=t0)]
    else:
        with ThreadPoolExecutor(max_workers=k, thread_name_prefix="ils") as pool:
            futures = [pool.submit(run_ils, P, states[i], stop, thread_seed(seed, i), params, t0) for i in range(k)]
            results = [f.result() for f in futures]
    best = results[0]
    best_v, best_t = float(best.state.rvalue.sum()), float(total_time(P, best.state))
    for other in results[1:]:
        v, t = float(other.state.rvalue.sum()), float(total_time(P, other.state))
        if _better(v, t, best_v, best_t):  # the search's own rule for a new best
            best, best_v, best_t = other, v, t
    return best, results

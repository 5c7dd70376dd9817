"""Parallel searches of the TOPTW solve (``ToptwParams.threads``): best of independent seeded runs."""

from __future__ import annotations

import pytest

from instances.benchmarks import benchmarks_root, instance_path, read_toptw
from optimizer.core.engine.portfolio import MAX_AUTO_THREADS, resolve_threads, thread_seed
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import MaxIterations, StoppingCriterion
from optimizer.toptw import ToptwParams, solve, verify

pytestmark = pytest.mark.skipif(not (benchmarks_root() / "toptw").is_dir(),
                                reason=f"benchmarks not found at {benchmarks_root()}")


@pytest.fixture(scope="module")
def inst():
    return read_toptw(instance_path("cordeau_pr", "pr02"), n_routes=2)


def test_threads_never_worse_than_the_single_search_and_deterministic(inst):
    """Search 0 of a multi-threaded solve is the single search of the same seed, so at the same
    iteration budget k threads score at least as much; the answer repeats for a seed."""
    one = solve(inst, MaxIterations(200), seed=4, params=ToptwParams(threads=1))
    three = solve(inst, MaxIterations(200), seed=4, params=ToptwParams(threads=3))
    again = solve(inst, MaxIterations(200), seed=4, params=ToptwParams(threads=3))
    assert verify(inst, one) == [] and verify(inst, three) == []
    assert one.stats.threads == 1 and one.stats.iterations == 200
    assert three.stats.threads == 3 and three.stats.iterations == 3 * 200
    assert three.score >= one.score
    assert three.routes == again.routes


def test_threads_pick_the_best_of_their_seeds(inst):
    """The answer of k threads is the best of the k single searches with seeds ``thread_seed(seed, i)``."""
    singles = [solve(inst, MaxIterations(150), seed=thread_seed(7, i), params=ToptwParams(threads=1))
               for i in range(3)]
    multi = solve(inst, MaxIterations(150), seed=7, params=ToptwParams(threads=3))
    assert multi.score == max(s.score for s in singles)
    assert multi.routes in [s.routes for s in singles]


def test_threads_honour_a_time_limit(inst):
    sol = solve(inst, StoppingCriterion(max_runtime_s=0.3), seed=0, params=ToptwParams(threads=2))
    assert verify(inst, sol) == [] and sol.stats.stopped_by == "max_runtime_s" and sol.stats.threads == 2


def test_thread_seeds_are_distinct_and_keep_seed_for_thread_zero():
    assert thread_seed(5, 0) == 5
    seeds = {thread_seed(s, i) for s in range(20) for i in range(1, 8)}
    assert len(seeds) == 20 * 7 and all(0 <= x < 2**63 for x in seeds)
    assert 1 <= resolve_threads(0) <= MAX_AUTO_THREADS and resolve_threads(3) == 3


@pytest.mark.parametrize("bad", [-1, 65, 1.5, True, "2", None])
def test_bad_thread_counts_name_the_field(bad):
    with pytest.raises(InvalidInput, match="params.threads"):
        ToptwParams(threads=bad)

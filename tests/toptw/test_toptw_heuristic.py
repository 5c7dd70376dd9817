"""The ILS core on classic TOPTW instances: it reaches the CP-SAT optimum on small cases."""

from __future__ import annotations

import pytest

from instances.benchmarks import benchmarks_root, instance_path, read_toptw
from optimizer.core.stop import MaxIterations, MaxRuntime
from optimizer.toptw import ToptwParams, check_toptw_routes, solve, toptw_score, verify

pytestmark = pytest.mark.skipif(not (benchmarks_root() / "toptw").is_dir(),
                                reason=f"benchmarks not found at {benchmarks_root()}")

# (set, instance, customers kept, routes m): chosen so the optimum leaves customers out
CASES = [
    ("solomon_100", "r101", 15, 1), ("solomon_100", "r101", 15, 2), ("solomon_100", "rc101", 15, 1),
    ("solomon_100", "r105", 20, 1), ("solomon_100", "r105", 20, 2), ("solomon_100", "rc105", 20, 1),
    ("cordeau_pr", "pr01", 15, 1), ("cordeau_pr", "pr02", 15, 1), ("cordeau_pr", "pr03", 20, 2),
]


@pytest.mark.parametrize("set_name,name,k,m", CASES)
def test_heuristic_reaches_exact_optimum(set_name, name, k, m):
    """On <= 20 customers the heuristic's score equals the proven CP-SAT optimum."""
    inst = read_toptw(instance_path(set_name, name), n_routes=m).subset(k)
    exact = solve(inst, MaxRuntime(60), params=ToptwParams(method="cpsat"))
    assert exact.stats.status == "optimal" and verify(inst, exact) == []
    assert exact.score < inst.score.sum()  # not the trivial "visit everyone" case
    sol = solve(inst, MaxIterations(2000), seed=0)
    assert check_toptw_routes(inst, [list(r) for r in sol.routes]) == []
    assert verify(inst, sol) == []
    assert toptw_score(inst, sol.routes) == sol.score
    assert sol.score == pytest.approx(exact.score)


def test_full_instance_solution_is_feasible_and_deterministic():
    """On a full 100-customer instance, plans are feasible and repeatable for a seed."""
    inst = read_toptw(instance_path("solomon_100", "rc101"), n_routes=3)
    a = solve(inst, MaxIterations(300), seed=3)
    b = solve(inst, MaxIterations(300), seed=3)
    assert check_toptw_routes(inst, [list(r) for r in a.routes]) == []
    assert verify(inst, a) == []
    assert a.stats.status == "feasible" and a.stats.stopped_by == "max_iterations"
    assert a.stats.threads == 2 and a.stats.iterations == 2 * 300  # the default: two searches of 300
    assert a.routes == b.routes and a.score == b.score > 0

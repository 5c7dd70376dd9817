"""The toptw family behind the shared contract: Unserved customers, SolveStats, list[Violation]."""

from __future__ import annotations

import numpy as np

from optimizer.core.results import FEASIBLE, SolveStats, Unserved, Violation
from optimizer.core.stop import MaxIterations
from optimizer.toptw import TOPTWInstance, ToptwSolution, solve, verify


def tiny() -> TOPTWInstance:
    """Depot 0 and four customers on a line; customer 4 closes before anyone can reach it."""
    x = np.array([0.0, 1.0, 2.0, 3.0, 50.0])
    travel = np.abs(np.subtract.outer(x, x))
    return TOPTWInstance("tiny", x, np.zeros(5), np.ones(5), np.array([0.0, 3, 2, 1, 9]), np.zeros(5),
                         np.array([100.0, 100, 100, 100, 10]), travel, 1, 100.0)


def test_ils_solution_shape_and_reasons():
    inst = tiny()
    sol = solve(inst, MaxIterations(50), seed=0)
    assert verify(inst, sol) == []
    assert isinstance(sol.stats, SolveStats) and sol.stats.status == FEASIBLE and sol.stats.objective == sol.score
    assert sol.score == 6.0
    assert [(u.item_id, u.reason) for u in sol.unserved] == [("4", "unreachable")]
    assert all(isinstance(u, Unserved) for u in sol.unserved)


def test_verify_flags_wrong_score_and_missing_unserved():
    inst = tiny()
    sol = solve(inst, MaxIterations(50), seed=0)
    bad = ToptwSolution(routes=sol.routes, score=sol.score + 1, unserved=(), stats=sol.stats)
    out = verify(inst, bad)
    assert all(isinstance(v, Violation) for v in out)
    assert {v.kind for v in out} == {"score", "unserved"}

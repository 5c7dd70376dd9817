"""The tours family behind the shared contract: core Unserved/Violation/SolveStats types."""

from __future__ import annotations

from optimizer.core.results import FEASIBLE, SolveStats, Unserved, Violation
from optimizer.core.stop import MaxIterations
from optimizer.tours import Location, TourGroup, TourProblem, TourUnserved, solve, verify


def _problem(lhasa_network):
    groups = (
        TourGroup(id="A", size=20, start=Location("potala"), end=Location("potala"), day_window=(480.0, 1140.0),
                  must_visit=("jokhang",)),
        # a ten-minute day that no visit fits: a whole group left out, with a reason
        TourGroup(id="B", size=10, start=Location("potala"), end=Location("potala"), day_window=(480.0, 490.0)),
    )
    return TourProblem(network=lhasa_network, groups=groups)


def test_solution_carries_core_unserved_and_stats(lhasa_network):
    """unserved entries are core Unserved (item_id = group or group/site); stats is a SolveStats."""
    problem = _problem(lhasa_network)
    plan = solve(problem, MaxIterations(20), seed=0)
    assert verify(problem, plan) == []
    assert isinstance(plan.stats, SolveStats) and plan.stats.status == FEASIBLE
    assert plan.stats.iterations == 20 and plan.stats.stopped_by == "max_iterations" and plan.stats.seed == 0
    assert plan.stats.objective == plan.kpis["total_score"] > 0
    assert [u.item_id for u in plan.unserved] == ["B"]
    u = plan.unserved[0]
    assert isinstance(u, Unserved) and isinstance(u, TourUnserved) and u.site_id is None and u.reason


def test_verify_returns_core_violations(lhasa_network):
    """A tampered plan gives core Violations naming the group and the rule."""
    problem = _problem(lhasa_network)
    plan = solve(problem, MaxIterations(20), seed=0)
    bad = type(plan)(routes=plan.routes, unserved=(), kpis=plan.kpis, slot_min=plan.slot_min, stats=plan.stats)
    out = verify(problem, bad)
    assert out and all(isinstance(v, Violation) for v in out)
    assert any(v.item_id == "B" and v.kind == "unserved" for v in out)

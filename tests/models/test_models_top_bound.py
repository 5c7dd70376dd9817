"""models.top_bound: the flow MILP's bound is a true upper bound in floats, equals a brute-force optimum on
small cases, proves unreachable targets, and never calls a plan optimal that the verifier rejects."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from models.top_bound import relaxed_weights, top_upper_bound
from optimizer.core.errors import InvalidInput
from optimizer.core.results import FEASIBLE, INFEASIBLE, OPTIMAL
from optimizer.core.stop import MaxIterations, StoppingCriterion
from optimizer.toptw import TOPTWInstance, solve, verify

STOP = StoppingCriterion(max_runtime_s=60)


def _euclid(pts: np.ndarray) -> np.ndarray:
    return np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])


def _instance(pts, scores, m, tmax, name="t") -> TOPTWInstance:
    pts = np.asarray(pts, dtype=float)
    n = len(pts)
    return TOPTWInstance(name=name, x=pts[:, 0], y=pts[:, 1], service_min=np.zeros(n),
                         score=np.asarray(scores, dtype=float), open_min=np.zeros(n), close_min=np.full(n, tmax),
                         travel_min=_euclid(pts), n_routes=m, t_max=tmax, start=0, end=n - 1)


def _brute_force(inst: TOPTWInstance) -> float:
    """Best total score over every assignment of the customers to a route or to nobody, each route
    checked over every visit order with the float travel times (tolerance 1e-6, as the verifier)."""
    cust = list(inst.customers)
    d, s, e, m = inst.travel_min, inst.start, inst.end, inst.n_routes

    def fits(route):
        if not route:
            return True
        return min(d[s, p[0]] + sum(d[a, b] for a, b in itertools.pairwise(p)) + d[p[-1], e]
                   for p in itertools.permutations(route)) <= inst.t_max + 1e-6

    best = 0.0
    for assign in itertools.product(range(m + 1), repeat=len(cust)):
        routes = [[c for c, a in zip(cust, assign, strict=True) if a == r] for r in range(1, m + 1)]
        if all(fits(r) for r in routes):
            best = max(best, float(sum(inst.score[j] for r in routes for j in r)))
    return best


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bound_equals_brute_force_on_random_cases(seed):
    """6 random customers, m = 2, distinct start and end: the model proves the brute-force optimum and
    returns a verified plan with that score."""
    rng = np.random.default_rng(seed)
    pts = np.vstack([[0.0, 0.0], rng.uniform(-4, 4, size=(6, 2)), [1.0, 1.0]])
    scores = np.r_[0.0, rng.integers(1, 10, size=6).astype(float), 0.0]
    inst = _instance(pts, scores, 2, 11.0)
    sol = top_upper_bound(inst, STOP)
    opt = _brute_force(inst)
    assert sol.stats.status == OPTIMAL and sol.stats.bound == pytest.approx(opt)
    assert verify(inst, sol) == [] and sol.score == pytest.approx(opt)


def test_target_above_the_optimum_is_proven_unreachable():
    """Same kind of case: score >= optimum + 1 is infeasible (bound = optimum), score >= optimum is not."""
    rng = np.random.default_rng(7)
    pts = np.vstack([[0.0, 0.0], rng.uniform(-4, 4, size=(6, 2)), [0.0, 0.0]])
    scores = np.r_[0.0, rng.integers(1, 10, size=6).astype(float), 0.0]
    inst = _instance(pts, scores, 1, 9.0)
    opt = _brute_force(inst)
    above = top_upper_bound(inst, STOP, target=opt + 1)
    assert above.stats.status == INFEASIBLE and above.stats.bound == pytest.approx(opt)
    assert above.routes == ((),)
    at = top_upper_bound(inst, STOP, target=opt)
    assert at.stats.status == OPTIMAL and verify(inst, at) == [] and at.score == pytest.approx(opt)


def test_route_exactly_at_tmax_is_kept():
    """Start 0, customer at x = 1.5, end at x = 3.7, t_max = 3.7: the only route is exactly t_max long
    (floats). Rounding the relaxed weights must not cut it off: the bound is its score."""
    inst = _instance([[0.0, 0.0], [1.5, 0.0], [3.7, 0.0]], [0.0, 4.0, 0.0], 1, 3.7)
    sol = top_upper_bound(inst, STOP)
    assert sol.stats.status == OPTIMAL and sol.stats.bound == 4.0 and sol.routes == ((1,),)


def test_a_plan_too_long_in_floats_is_not_called_optimal():
    """Route length 1.0 with t_max 0.99998 (beyond the verifier's 1e-6 tolerance): the relaxed integer
    model accepts it (its weights are floored), the verifier does not; the answer keeps the bound (1,
    still a valid upper bound) but returns no route and says 'feasible', not 'optimal'."""
    inst = _instance([[0.0, 0.0], [0.5, 0.0], [1.0, 0.0]], [0.0, 1.0, 0.0], 1, 0.99998)
    w, horizon = relaxed_weights(inst)
    assert w[0, 1] + w[1, 2] <= horizon  # the integer model accepts the route
    sol = top_upper_bound(inst, STOP)
    assert sol.stats.bound == 1.0 and sol.stats.status == FEASIBLE and sol.routes == ((),)
    assert verify(inst, sol) == []


def test_bound_is_never_below_the_ils():
    """On a 12-customer random case (m = 3) the proven bound is at least the ILS's verified score, and the
    model's own plan is verified."""
    rng = np.random.default_rng(11)
    pts = np.vstack([[0.0, 0.0], rng.uniform(-5, 5, size=(12, 2)), [2.0, 0.0]])
    scores = np.r_[0.0, rng.integers(1, 20, size=12).astype(float), 0.0]
    inst = _instance(pts, scores, 3, 10.0)
    ils = solve(inst, MaxIterations(2000), seed=0)
    sol = top_upper_bound(inst, STOP)
    assert verify(inst, ils) == [] and verify(inst, sol) == []
    assert sol.stats.status == OPTIMAL and sol.stats.bound >= ils.score - 1e-9 and sol.score == sol.stats.bound


def test_a_zero_score_short_cut_is_kept_on_non_metric_travel():
    """Non-metric travel (issue 14, case 5): the depot reaches A (score 5) in 10 min directly but in 2 via
    Z (score 0); A -> depot takes 1, t_max 4. The only way to score is depot -> Z -> A -> depot (3 min),
    so the bound must be 5, not 0 (leaving zero-score customers out is only valid under the triangle
    inequality), and the plan is verified."""
    travel = np.array([[0.0, 1.0, 10.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    inst = TOPTWInstance(name="shortcut", x=np.zeros(3), y=np.zeros(3), service_min=np.zeros(3),
                         score=np.array([0.0, 0.0, 5.0]), open_min=np.zeros(3), close_min=np.full(3, 4.0),
                         travel_min=travel, n_routes=1, t_max=4.0)
    sol = top_upper_bound(inst, STOP)
    assert sol.stats.status == OPTIMAL and sol.stats.bound == 5.0
    assert sol.routes == ((1, 2),) and verify(inst, sol) == []


def test_bad_input():
    """Binding windows, a bad seed or target: InvalidInput naming the field."""
    inst = _instance([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]], [0.0, 1.0, 0.0], 1, 5.0)
    with pytest.raises(InvalidInput) as ei:
        top_upper_bound(inst, STOP, seed=-1)
    assert ei.value.field == "seed"
    with pytest.raises(InvalidInput) as ei:
        top_upper_bound(inst, STOP, target=float("nan"))
    assert ei.value.field == "target"
    windowed = TOPTWInstance(name="w", x=inst.x, y=inst.y, service_min=np.zeros(3), score=inst.score,
                             open_min=np.array([0.0, 2.0, 0.0]), close_min=np.full(3, 5.0),
                             travel_min=inst.travel_min, n_routes=1, t_max=5.0, start=0, end=2)
    with pytest.raises(InvalidInput) as ei:
        top_upper_bound(windowed, STOP)
    assert ei.value.field == "open_min[1]"

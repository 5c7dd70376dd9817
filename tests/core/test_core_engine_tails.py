"""Issue 15 (the early basin of pr06/pr10 at 1 s): the inter-route tail exchange
(``moves.tails_routes``, 2-opt*) on hand-made cases whose answer is worked out in the docstring, the
shake cap relative to the route length (``ILSParams.shake_frac``), the random-position shake and the
repair that reinserts the shaken-out customers last (``shake_random``, ``shake_tabu``). Every plan is re-checked by the
independent verifier."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import kernel_routes, kernel_state, line_instance, verified

from instances.benchmarks import benchmarks_root, instance_path, read_toptw
from optimizer.core.engine import ils
from optimizer.core.engine.ils import C_S, ILSParams
from optimizer.core.engine.kernels import (
    copy_state,
    total_time,
)
from optimizer.core.engine.moves import tails_routes
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import MaxIterations
from optimizer.toptw import ToptwParams, solve, verify

needs_bench = pytest.mark.skipif(not (benchmarks_root() / "toptw").is_dir(), reason="benchmarks not found")





# E1 at x=1, W2 at x=-2, W1 at x=-1, E2 at x=2 (kernel nodes 0..3, customers 1..4); t_max 8.
XS, SCORES = [1.0, -2.0, -1.0, 2.0], [1.0, 2.0, 3.0, 4.0]


def test_tails_exchange_the_tails_that_fit_the_other_route():
    """Routes [E1, W2] and [W1, E2], 6 min each. In cut order: cutting route 0 before E1 and route 1
    after E2 would put all four in route 1 (10 min > 8: rejected by the schedule); cutting both after
    their first visit gives [E1, E2] and [W1, W2], 4 min each: total 12 -> 8, same value."""
    inst = line_instance(XS, SCORES, 2, 8.0)
    P, S, cust = kernel_state(inst, [[0, 1], [2, 3]])
    assert total_time(P, S) == pytest.approx(12.0)
    chosen = np.array([True, False])
    assert tails_routes(P, S, chosen) == 1
    assert kernel_routes(S, cust) == [[1, 4], [3, 2]] and chosen.tolist() == [True, True]
    assert total_time(P, S) == pytest.approx(8.0) and S.rvalue.sum() == 10.0
    assert S.rvalue.tolist() == [5.0, 5.0] and S.in_route.sum() == 4
    assert S.in_route[0, 3] and S.in_route[1, 1] and not S.in_route[0, 1]
    verified(inst, S, cust)
    assert tails_routes(P, S, np.array([True, True])) == 0  # nothing left to gain


def test_tails_keep_a_protected_visit_in_its_route():
    """As above with W2 protected in route 0: no tail of route 0 may hold W2, and giving route 0 a tail of
    route 1 after W2 exceeds 8 min, so nothing changes (state identical)."""
    inst = line_instance(XS, SCORES, 2, 8.0)
    protect = np.zeros((2, 4), dtype=np.bool_)
    protect[0, 1] = True
    P, S, cust = kernel_state(inst, [[0, 1], [2, 3]], protect=protect)
    before = copy_state(S)
    assert tails_routes(P, S, np.array([True, True])) == 0
    for a, b in zip(before, S, strict=True):
        assert np.array_equal(a, b)
    verified(inst, S, cust)


def test_shake_frac_is_validated():
    for bad in (-0.1, 1.5, True, "x"):
        with pytest.raises(InvalidInput):
            ILSParams(shake_frac=bad)


def _shake_sizes(monkeypatch, inst, params, iters):
    """(shake size, mean length of the non-empty routes) after every iteration of a solve."""
    real = ils.ils_iterations
    seen = []

    def one_at_a_time(P, S, C, B, ctrl, fctrl, prm, n_iter, *rest):
        done = 0
        for _ in range(n_iter):
            d = real(P, S, C, B, ctrl, fctrl, prm, 1, *rest)
            used = S.length[S.length > 0]
            seen.append((int(ctrl[C_S]), float(used.mean()) if used.size else 0.0))
            done += d
            if d == 0:
                break
        return done

    monkeypatch.setattr(ils, "ils_iterations", one_at_a_time)
    sol = solve(inst, MaxIterations(iters), seed=1, params=ToptwParams(ils=params))
    assert verify(inst, sol) == []
    return seen


@needs_bench
def test_shake_frac_keeps_the_shake_below_half_a_route(monkeypatch):
    """pr01 m = 2 (48 customers, n / (3 m) = 8): without the cap the shake size reaches 8, above half
    the routes' mean length at that time at least once; with ``shake_frac = 0.5`` it never exceeds
    ``max(2, round(0.5 x mean length))``."""
    inst = read_toptw(instance_path("cordeau_pr", "pr01"), n_routes=2)
    off = _shake_sizes(monkeypatch, inst, ILSParams(), 120)
    assert any(s > max(2, int(0.5 * mean + 0.5)) for s, mean in off)
    on = _shake_sizes(monkeypatch, inst, ILSParams(shake_frac=0.5), 120)
    assert all(s <= max(2, int(0.5 * mean + 0.5)) for s, mean in on)


@needs_bench
@pytest.mark.parametrize("prm", [ILSParams(tails=True, shake_frac=0.5, shake_random=True),
                                 ILSParams(shake_frac=0.5, shake_tabu=True),
                                 ILSParams(shake_tabu=True, noise=0.0, noise_max=0.0)],
                         ids=["tails+cap+random", "cap+tabu", "tabu-no-noise"])
def test_tails_and_shake_options_are_verified_and_deterministic(prm):
    """Same seed and iteration budget give the same plan with the tail exchange and the shake options
    on, and the plan passes the verifier."""
    inst = read_toptw(instance_path("cordeau_pr", "pr02"), n_routes=3)
    a = solve(inst, MaxIterations(300), seed=5, params=ToptwParams(ils=prm))
    b = solve(inst, MaxIterations(300), seed=5, params=ToptwParams(ils=prm))
    assert verify(inst, a) == [] and a.routes == b.routes and a.score == b.score > 0

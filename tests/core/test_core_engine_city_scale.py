"""The engine's city-scale bookkeeping (issue 15): the ILS copies only the routes an iteration
changed between its working, current and best states, and the greedy fill picks the best route
from a tournament tree. Protected here: the best state ``run_ils`` returns is internally
consistent (its slot and daily capacities, visit flags and route values agree with its routes,
as they would after full copies), and the tree picks what ``np.argmax`` picks."""

from __future__ import annotations

import dataclasses
import importlib

import numpy as np
import pytest

from instances.city_demand import generate_city_day
from optimizer.core.engine.ils import ILSParams, run_ils
from optimizer.core.engine.kernels import NODE, SLOT, _tree_build, _tree_update, new_state, seed_protected
from optimizer.core.stop import StoppingCriterion
from optimizer.tours import TourProblem

tsolve = importlib.import_module("optimizer.tours.solve")


def check_consistent(P, S, daily):
    """Recompute capacities, flags and values of state ``S`` from its routes."""
    R, n = P.value.shape
    slot_used = np.zeros_like(S.slot_left)
    day_used = np.zeros(n, dtype=np.int64)
    in_route = np.zeros((R, n), dtype=bool)
    for r in range(R):
        value = 0.0
        for p in range(int(S.length[r])):
            j, k = int(S.ri[NODE, r, p]), int(S.ri[SLOT, r, p])
            in_route[r, j] = True
            day_used[j] += P.size[r]
            if k >= 0:
                slot_used[j, k] += P.size[r]
            value += P.value[r, j]
        assert S.rvalue[r] == pytest.approx(value, rel=1e-9, abs=1e-6)
    assert np.array_equal(in_route, S.in_route)
    assert np.array_equal(daily - day_used, S.day_left)
    quota = np.where(P.slot_quota >= 0, P.slot_quota, S.slot_left[:, 0] + slot_used[:, 0])
    assert np.array_equal(quota[:, None] - slot_used, S.slot_left)
    assert (S.slot_left >= 0).all() and (S.day_left >= 0).all()


def contested_network(net):
    """The Lhasa network with small quotas at the Potala, the Jokhang and the Norbulingka, so that
    capacity freed by a shake is taken up by routes the shake did not touch."""
    small = {"potala": (40, 250), "jokhang": (60, 300), "norbulingka": (50, 300)}
    sites = tuple(dataclasses.replace(s, slot_quota=small[s.id][0], daily_quota=small[s.id][1]) if s.id in small
                  else s for s in net.sites)
    return dataclasses.replace(net, sites=sites)


@pytest.mark.parametrize("params", [ILSParams(), ILSParams(sa_t0=0.0), ILSParams(relocate=True, elite=3,
                                                                                   restore_every=40)])
def test_best_state_is_consistent_after_partial_copies(lhasa_network, params):
    """After 400 iterations on a 1,500-party city day with contested quotas, with SA, without SA,
    and with relocate + elite restarts, the best state agrees with its own routes."""
    net = contested_network(lhasa_network)
    problem = TourProblem(network=net, groups=generate_city_day(net, 1_500, seed=4))
    P, daily, n_slots = tsolve.compile_problem(problem)
    S = new_state(P, daily, n_slots, int(P.n_cand.max()) + 1)
    seed_protected(P, S, tsolve.seeding_order(problem))
    res = run_ils(P, S, StoppingCriterion(max_iterations=400), seed=5, params=params)
    assert res.iterations == 400
    check_consistent(P, res.state, daily)


def test_tournament_tree_picks_like_argmax():
    """Random ratios with many ties and -1 entries, then random updates: the root is always
    ``np.argmax`` (the first of equal maxima)."""
    rng = np.random.default_rng(0)
    for R in (1, 2, 5, 64, 1000):
        ratio = rng.integers(-1, 4, size=R).astype(np.float64)
        size = 1
        while size < R:
            size *= 2
        tree = np.empty(2 * size, dtype=np.int64)
        _tree_build(ratio, tree)
        assert tree[1] == np.argmax(ratio)
        for _ in range(200):
            r = int(rng.integers(R))
            ratio[r] = float(rng.integers(-1, 4))
            _tree_update(ratio, tree, r)
            assert tree[1] == np.argmax(ratio)

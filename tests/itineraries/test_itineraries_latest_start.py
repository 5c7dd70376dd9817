"""The O(1) insertion check of routes without lunch or slot quotas (latest starts ``LS``, several
windows per site) agrees with the exact forward schedule (``eval_insert``) and with the insertion
actually made; the replace move never loses value and its plans pass the verifier."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.core.errors import InvalidInput
from optimizer.core.stop import MaxIterations
from optimizer.itineraries import kernels as K
from optimizer.itineraries.problem import Group, Hotel, ItineraryProblem, Site
from optimizer.itineraries.solve import (
    TOURS_PROFILE,
    ItineraryParams,
    _choose_hotels,
    _compile,
    _init_routes,
    _new_state,
    _room_pressure,
    is_tour_like,
    resolve_params,
    solve,
)
from optimizer.itineraries.verify import verify


def _tight_problem(seed: int, n: int = 30, n_days: int = 3) -> ItineraryProblem:
    """MCTOPMTW-like: one group, the depot every night, two narrow windows per site and day (they
    differ between days), a budget and a per-trip type limit, no lunch."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 50, (n + 1, 2))
    travel = np.floor(10 * np.linalg.norm(xy[:, None] - xy[None], axis=2)) / 10
    sites = []
    for i in range(n):
        per_day = []
        for _ in range(n_days):
            a = float(rng.uniform(0, 150))
            b = float(rng.uniform(200, 330))
            per_day.append(((a, a + float(rng.uniform(10, 40))), (b, b + float(rng.uniform(10, 40)))))
        sites.append(Site(f"s{i}", float(rng.integers(1, 10)), float(rng.integers(5, 15)), tuple(per_day),
                          ticket_price=float(rng.integers(0, 20)), types=("z1",) if i % 4 == 0 else ()))
    g = Group("t", 0, 0.0, "depot", n_days - 1, 400.0, "depot", size=1, rooms=0, hotels=("depot",) * (n_days - 1),
              budget=150.0, max_per_type_trip=(("z1", 2),), day_windows=((0.0, 400.0),))
    return ItineraryProblem(f"tight{seed}", n_days, tuple(sites), (Hotel("depot"),), (g,), travel)


def _state(pb: ItineraryProblem, seed: int):
    P = _compile(pb)
    S = _new_state(pb, P)
    ok, reason, detail = _choose_hotels(pb, P, S, 0, _room_pressure(pb, P))
    assert ok, (reason, detail)
    rng = np.array([seed + 1], dtype=np.int64)
    _init_routes(P, S, np.ones(1, dtype=np.bool_), rng)
    return P, S, rng


@pytest.mark.parametrize("seed", range(4))
def test_latest_start_check_equals_the_forward_schedule(seed):
    pb = _tight_problem(seed)
    P, S, rng = _state(pb, seed)
    assert P.no_lunch_quota[0]
    checked = feasible = 0
    for rnd in range(3):
        if rnd:  # shake: remove a random visit per day, so routes with gaps are checked too
            for d in range(pb.n_days):
                if S.rlen[0, d]:
                    K.remove_at(P, S, 0, d, int(K._rand(rng)) % int(S.rlen[0, d]))
        for j in range(pb.n_sites):
            for d in range(pb.n_days):
                if not K.can_visit(P, S, 0, d, j):
                    continue
                for p in range(int(S.rlen[0, d]) + 1):
                    sh = K.local_shift(P, S, 0, d, p, j)
                    r = K.eval_insert(P, S, 0, d, p, j)
                    assert (sh == np.inf) == (r == np.inf), (j, d, p, sh, r)
                    checked += 1
                    if sh < np.inf:
                        feasible += 1
                        W = K.copy_ks(S)
                        assert K.insert_at(P, W, 0, d, p, j) < np.inf
                        nxt = p + 1
                        # the next place is reached exactly `sh` later than before
                        before = S.T0[0, d, p] + P.travel[
                            K.start_place(P, S, 0, d) if p == 0 else S.route[0, d, p - 1],
                            S.route[0, d, p] if p < S.rlen[0, d] else K.end_place(P, S, 0, d)]
                        after = W.T0[0, d, nxt] + P.travel[j, W.route[0, d, nxt] if nxt < W.rlen[0, d]
                                                           else K.end_place(P, W, 0, d)]
                        assert after - before == pytest.approx(sh, abs=1e-6)
    assert checked > 100 and 0 < feasible < checked


@pytest.mark.parametrize("seed", range(3))
def test_replace_pass_never_loses_value_and_plans_verify(seed):
    pb = _tight_problem(seed)
    P, S, rng = _state(pb, seed)
    for _ in range(3):
        before = float(S.gscore[0])
        gain = K.replace_pass(P, S, 0, rng)
        assert gain >= -1e-9
        assert float(S.gscore[0]) == pytest.approx(before + gain)
        for d in range(pb.n_days):
            assert S.rend[0, d] < np.inf
        K.shake_group(P, S, 0, 2, seed, 0, rng)
    sol = solve(pb, MaxIterations(40), seed=seed, params=ItineraryParams(replace_gate=1.0, shake_days=2,
                                                                        best_by_time=True, profile="general"))
    assert verify(pb, sol) == []
    assert sol.score > 0


def test_tours_profile_applies_to_tour_like_problems_only():
    from itin_cases import random_problem

    tour = _tight_problem(0)
    other = random_problem(0)  # hotels chosen by the solver: not tour-like
    assert is_tour_like(tour) and not is_tour_like(other)
    p = resolve_params(tour, ItineraryParams())
    assert p.profile == "tours" and all(getattr(p, k) == v for k, v in TOURS_PROFILE.items())
    assert resolve_params(other, ItineraryParams()) == ItineraryParams(profile="general")
    assert resolve_params(tour, ItineraryParams(profile="general", noise=0.3)).noise == 0.3
    with pytest.raises(InvalidInput):
        ItineraryParams(profile="fast")

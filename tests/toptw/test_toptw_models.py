"""Exact CP-SAT model and OR-Tools routing baseline for the (T)OPTW, checked against brute force,
published optima and the independent checker."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from instances import benchmarks as bm
from instances.benchmarks import instance_path, load_bks_toptw, read_chao_top, read_toptw
from models.toptw_cpsat import TIME_SCALE
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion
from optimizer.toptw import (
    TOPTWInstance,
    ToptwParams,
    check_toptw_routes,
    earliest_schedule,
    solve,
    toptw_score,
    verify,
)

HAVE_BENCH = (bm.benchmarks_root() / "toptw").is_dir()
needs_bench = pytest.mark.skipif(not HAVE_BENCH, reason="benchmark files not found")


# ----------------------------------------------------------------------------- brute force
def _route_ok(inst: TOPTWInstance, route: tuple[int, ...]) -> bool:
    """Earliest-start feasibility, written independently of optimizer.toptw.verify: leave the start
    depot when it opens, reach the end by min(t_max, its close) (optimizer.toptw.problem, "Depot times")."""
    t, prev = float(inst.open_min[inst.start]), inst.start
    for j in route:
        t = max(t + inst.travel_min[prev, j], inst.open_min[j])
        if t > inst.close_min[j] + 1e-9:
            return False
        t += inst.service_min[j]
        prev = j
    return t + inst.travel_min[prev, inst.end] <= min(inst.t_max, inst.close_min[inst.end]) + 1e-9


def brute_force(inst: TOPTWInstance) -> float:
    """Best total score over <= n_routes disjoint feasible routes (all permutations of all subsets)."""
    cust = inst.customers
    best_set: dict[frozenset, float] = {frozenset(): 0.0}  # customer set -> score, if one route can do it
    for k in range(1, len(cust) + 1):
        for perm in itertools.permutations(cust, k):
            key = frozenset(perm)
            if key not in best_set and _route_ok(inst, perm):
                best_set[key] = float(sum(inst.score[j] for j in perm))
    best = 0.0
    sets = list(best_set.items())
    for combo in itertools.combinations_with_replacement(range(len(sets)), inst.n_routes):
        chosen = [sets[i][0] for i in combo]
        union = frozenset().union(*chosen)
        if sum(len(c) for c in chosen) == len(union):
            best = max(best, sum(sets[i][1] for i in combo))
    return best


def _euclid_1dec(x, y) -> np.ndarray:
    d = np.hypot(np.subtract.outer(x, x), np.subtract.outer(y, y))
    return np.floor(d * 10 + 1e-9) / 10


def hand_made(m: int) -> TOPTWInstance:
    """Depot + 5 customers; windows and t_max make 'visit everything' impossible for one route."""
    x = np.array([0.0, 10, 10, -10, -10, 0])
    y = np.array([0.0, 10, -10, 10, -10, 15])
    return TOPTWInstance(
        name="hand5",
        x=x,
        y=y,
        service_min=np.array([0.0, 5, 5, 5, 5, 10]),
        score=np.array([0.0, 10, 20, 15, 25, 30]),
        open_min=np.array([0.0, 0, 30, 0, 40, 20]),
        close_min=np.array([100.0, 40, 60, 30, 80, 35]),
        travel_min=_euclid_1dec(x, y),
        n_routes=m,
        t_max=100.0,
    )


def random_instance(seed: int, m: int, n_cust: int = 7, distinct_end: bool = False) -> TOPTWInstance:
    rng = np.random.default_rng(seed)
    n = n_cust + 1 + int(distinct_end)
    x, y = rng.integers(0, 40, n).astype(float), rng.integers(0, 40, n).astype(float)
    open_ = rng.integers(0, 80, n).astype(float)
    close = open_ + rng.integers(5, 60, n)
    service = rng.integers(0, 10, n).astype(float)
    score = rng.integers(1, 10, n).astype(float)
    depots = [0, n - 1] if distinct_end else [0]
    open_[depots], close[depots], service[depots], score[depots] = 0.0, 120.0, 0.0, 0.0
    return TOPTWInstance(
        name=f"rand{seed}", x=x, y=y, service_min=service, score=score, open_min=open_, close_min=close,
        travel_min=_euclid_1dec(x, y), n_routes=m, t_max=120.0, start=0, end=n - 1 if distinct_end else 0,
    )


# ----------------------------------------------------------------------------- exact model
def solve_exact(inst: TOPTWInstance, time_limit_s: float):
    """The CP-SAT model through the family's solve; every answer is checked by the verifier."""
    res = solve(inst, StoppingCriterion(max_runtime_s=time_limit_s), seed=0, params=ToptwParams(method="cpsat"))
    assert verify(inst, res) == []
    return res


def solve_routing(inst: TOPTWInstance, time_limit_s: float):
    """The routing baseline through the family's solve; every answer is checked by the verifier."""
    res = solve(inst, StoppingCriterion(max_runtime_s=time_limit_s), seed=0, params=ToptwParams(method="routing"))
    assert verify(inst, res) == []
    return res


@pytest.mark.parametrize("m", [1, 2, 3])
def test_exact_equals_brute_force_hand_made(m):
    inst = hand_made(m)
    bf = brute_force(inst)
    res = solve_exact(inst, time_limit_s=20)
    assert res.stats.status == "optimal"
    assert res.score == pytest.approx(bf) == res.stats.objective
    assert res.stats.bound == pytest.approx(bf) and res.stats.gap == 0.0
    assert check_toptw_routes(inst, res.routes) == []
    assert toptw_score(inst, res.routes) == pytest.approx(res.score)
    assert len(res.routes) == m


def test_hand_made_is_not_trivial():
    one = brute_force(hand_made(1))
    assert 0 < one < hand_made(1).score.sum()


@pytest.mark.parametrize("seed", range(6))
def test_exact_equals_brute_force_random(seed):
    m = 1 + seed % 2
    inst = random_instance(seed, m, distinct_end=seed >= 3)
    res = solve_exact(inst, time_limit_s=20)
    assert res.stats.status == "optimal"
    assert res.score == pytest.approx(brute_force(inst))
    assert check_toptw_routes(inst, res.routes) == []


@needs_bench
@pytest.mark.parametrize("m", [1, 2])
def test_exact_c101_first_10_customers(m):
    inst = read_toptw(instance_path("solomon_100", "c101"), n_routes=m).subset(10)
    res = solve_exact(inst, time_limit_s=30)
    assert res.stats.status == "optimal"
    assert check_toptw_routes(inst, res.routes) == []
    assert res.score == toptw_score(inst, res.routes) > 0
    # the earliest schedule of every route lies in the windows
    for route in res.routes:
        starts = earliest_schedule(inst, route)[0]
        for j, s in zip(route, starts):
            assert inst.open_min[j] <= s <= inst.close_min[j] + 1e-6


@needs_bench
def test_exact_r101_first_12_customers_tight():
    # r101 has tight windows and t_max = 230: not every customer fits, so the optimum is informative
    inst = read_toptw(instance_path("solomon_100", "r101"), n_routes=1).subset(12)
    res = solve_exact(inst, time_limit_s=30)
    assert res.stats.status == "optimal"
    assert res.score == pytest.approx(brute_force_small_dp(inst))
    assert res.score < inst.score.sum()


def brute_force_small_dp(inst: TOPTWInstance) -> float:
    """OPTW (m = 1) by DP over (visited set, last customer) keeping the earliest finish time.

    Earliest finish dominates with FIFO travel, so this is exact for one route."""
    assert inst.n_routes == 1 and inst.start == inst.end
    cust = list(inst.customers)
    pos = {c: i for i, c in enumerate(cust)}
    finish: dict[tuple[int, int], float] = {}
    frontier = {}
    for c in cust:
        a = max(inst.travel_min[inst.start, c], inst.open_min[c])
        if a <= inst.close_min[c]:
            frontier[(1 << pos[c], c)] = a + inst.service_min[c]
    best = 0.0
    while frontier:
        finish.update(frontier)
        nxt: dict[tuple[int, int], float] = {}
        for (mask, last), t in frontier.items():
            if t + inst.travel_min[last, inst.end] <= inst.t_max + 1e-9:
                best = max(best, float(sum(inst.score[c] for c in cust if mask >> pos[c] & 1)))
            for c in cust:
                if mask >> pos[c] & 1:
                    continue
                a = max(t + inst.travel_min[last, c], inst.open_min[c])
                if a > inst.close_min[c] + 1e-9:
                    continue
                key = (mask | 1 << pos[c], c)
                f = a + inst.service_min[c]
                if f < nxt.get(key, math.inf):
                    nxt[key] = f
        frontier = nxt
    return best


@needs_bench
@pytest.mark.parametrize("name", ["c101", "r101"])
def test_exact_full_solomon_m1_matches_righini_salani_optimum(name):
    # Validates the reader's 1-decimal truncation convention end to end: the full 100-customer OPTW
    # optimum must equal the Righini & Salani DSSR optimum in bks.csv (c101 = 320, r101 = 198).
    inst = read_toptw(instance_path("solomon_100", name), n_routes=1)
    res = solve_exact(inst, time_limit_s=40)
    assert res.stats.status == "optimal"
    assert res.score == load_bks_toptw()[("solomon_100", name, 1)]


@needs_bench
def test_exact_chao_subset_never_claims_optimal_with_inexact_times():
    # Chao travel is real Euclidean: times are rounded conservatively, so 'optimal' is never claimed.
    inst = read_chao_top(instance_path("Set_21_234", "p2.2.e")).subset(8)
    res = solve_exact(inst, time_limit_s=20)
    assert res.stats.status == "feasible" and res.stats.bound is None  # rounded data: no optimum claimed, no bound
    assert check_toptw_routes(inst, res.routes) == []
    # the rounding could in principle cut off the float optimum; on this instance it does not
    assert res.score == pytest.approx(brute_force(inst)) and res.score < inst.score.sum()


def test_exact_rejects_bad_time_limit():
    with pytest.raises(InvalidInput, match="max_runtime_s"):
        solve_exact(hand_made(1), time_limit_s=0)


def test_unknown_method_is_rejected():
    with pytest.raises(InvalidInput, match="params.method"):
        ToptwParams(method="magic")


def test_exact_unserved_names_every_customer_left_out():
    """Customers not visited by the optimum are listed, each with a reason word."""
    inst = hand_made(1)
    res = solve_exact(inst, time_limit_s=20)
    visited = {j for r in res.routes for j in r}
    left = {int(u.item_id) for u in res.unserved}
    assert left == set(inst.customers) - visited and left
    assert {u.reason for u in res.unserved} <= {"unreachable", "not_selected"}


def test_time_scale_is_exact_for_two_decimals():
    assert TIME_SCALE == 100


# ----------------------------------------------------------------------------- routing baseline
@needs_bench
def test_routing_c101_m2():
    inst = read_toptw(instance_path("solomon_100", "c101"), n_routes=2)
    res = solve_routing(inst, time_limit_s=2.0)
    assert res.stats.status == "feasible"
    assert check_toptw_routes(inst, res.routes) == []
    assert res.score == toptw_score(inst, res.routes) > 0
    assert len(res.routes) == 2
    assert res.score <= inst.score.sum()


@pytest.mark.parametrize("m", [1, 2])
def test_routing_hand_made_feasible_and_bounded(m):
    inst = hand_made(m)
    res = solve_routing(inst, time_limit_s=0.5)
    assert check_toptw_routes(inst, res.routes) == []
    assert 0 < res.score <= brute_force(inst) + 1e-9


@needs_bench
def test_routing_chao_distinct_end():
    inst = read_chao_top(instance_path("Set_21_234", "p2.3.g"))
    res = solve_routing(inst, time_limit_s=0.5)
    assert res.stats.status == "feasible" and check_toptw_routes(inst, res.routes) == []
    assert res.score > 0

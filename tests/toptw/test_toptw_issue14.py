"""Issue 14, cases 5 and 6: non-metric travel times and the depot opening time, for every TOPTW solver.

Case 5: the exact model pruned on direct arcs only and said "optimal" for a wrong answer when travel
times break the triangle inequality. Case 6: the depot opening time meant "leave at 0" to the exact
model, the routing baseline and the checker, and "leave when it opens" to the ILS. The peer-bug
inputs are data files under ``tests/data/toptw/``; the brute force below is written from the
semantics in ``optimizer.toptw.problem`` ("Depot times"), independently of every solver and of
``optimizer.toptw.verify``.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

import models.toptw_cpsat as cpsat_mod
from optimizer.core.stop import MaxIterations, StoppingCriterion
from optimizer.toptw import TOPTWInstance, ToptwParams, earliest_schedule, route_violations, solve, verify
from optimizer.toptw.reach import time_bounds
from optimizer.toptw.solve import repair_routes

DATA = Path(__file__).resolve().parents[1] / "data" / "toptw"


def _instance(d: dict) -> TOPTWInstance:
    n = len(d["score"])
    return TOPTWInstance(name=d["name"], x=np.zeros(n), y=np.zeros(n), service_min=d["service_min"],
                         score=d["score"], open_min=d["open_min"], close_min=d["close_min"],
                         travel_min=d["travel_min"], n_routes=d["n_routes"], t_max=d["t_max"],
                         start=d.get("start", 0), end=d.get("end", 0))


def _cases(file: str) -> list[tuple[dict, TOPTWInstance]]:
    doc = json.loads((DATA / file).read_text(encoding="utf-8"))
    return [(d, _instance(d)) for d in doc["instances"]]


CASE5 = _cases("issue14_case5_nonmetric.json")
CASE6 = _cases("issue14_case6_depot_open.json")


# ----------------------------------------------------------------------------- brute force
def _route_ok(inst: TOPTWInstance, route) -> bool:
    """Leave the start depot when it opens, wait for windows, reach the end by min(t_max, its close)."""
    t, prev = float(inst.open_min[inst.start]), inst.start
    for j in route:
        t = max(t + inst.travel_min[prev, j], inst.open_min[j])
        if t > inst.close_min[j] + 1e-9:
            return False
        t += inst.service_min[j]
        prev = j
    return t + inst.travel_min[prev, inst.end] <= min(inst.t_max, inst.close_min[inst.end]) + 1e-9


def brute_force(inst: TOPTWInstance) -> float:
    """Best score over <= n_routes disjoint feasible routes (every permutation of every subset)."""
    feasible: dict[frozenset, float] = {frozenset(): 0.0}
    for k in range(1, inst.n_customers + 1):
        for perm in itertools.permutations(inst.customers, k):
            key = frozenset(perm)
            if key not in feasible and _route_ok(inst, perm):
                feasible[key] = float(sum(inst.score[j] for j in perm))
    sets = list(feasible.items())
    best = 0.0
    for combo in itertools.combinations_with_replacement(range(len(sets)), inst.n_routes):
        chosen = [sets[i][0] for i in combo]
        if sum(map(len, chosen)) == len(frozenset().union(*chosen)):
            best = max(best, sum(sets[i][1] for i in combo))
    return best


def nonmetric_instance(seed: int) -> TOPTWInstance:
    """5-6 customers, 1-2 routes, asymmetric travel with many shortcuts (triangle inequality broken),
    and on odd seeds a depot that opens after 0 and closes before t_max."""
    rng = np.random.default_rng(seed)
    n_cust, m = 5 + seed % 2, 1 + (seed // 2) % 2
    n = n_cust + 1
    tr = rng.integers(1, 40, (n, n)).astype(float)
    short = rng.random((n, n)) < 0.3
    tr[short] = rng.integers(0, 4, int(short.sum()))
    np.fill_diagonal(tr, 0.0)
    open_ = rng.integers(0, 30, n).astype(float)
    close = open_ + rng.integers(0, 25, n)
    service = rng.integers(0, 4, n).astype(float)
    score = rng.integers(0, 10, n).astype(float)
    open_[0], close[0], service[0], score[0] = (float(rng.integers(1, 10)), 55.0, 0.0, 0.0) if seed % 2 else \
        (0.0, 60.0, 0.0, 0.0)
    return TOPTWInstance(f"nonmetric{seed}", np.zeros(n), np.zeros(n), service, score, open_, close, tr, m, 60.0)


def _violates_triangle(inst: TOPTWInstance) -> bool:
    t, s = inst.travel_min, inst.service_min
    return any(t[i, k] > t[i, j] + s[j] + t[j, k] + 1e-9
               for i in range(inst.n) for j in inst.customers for k in range(inst.n) if len({i, j, k}) == 3)


def _run(inst: TOPTWInstance, method: str, limit_s: float = 10.0):
    stop = MaxIterations(500) if method == "ils" else StoppingCriterion(max_runtime_s=limit_s)
    res = solve(inst, stop, seed=0, params=ToptwParams(method=method, workers=1 if method == "cpsat" else 0))
    assert verify(inst, res) == [], (method, inst.name)
    return res


# ----------------------------------------------------------------------------- case 5
@pytest.mark.parametrize("d,inst", CASE5, ids=[d["name"] for d, _ in CASE5])
def test_case5_exact_model_finds_the_path_through_client_1(d, inst):
    assert brute_force(inst) == d["expected_optimum"]
    res = _run(inst, "cpsat")
    assert res.stats.status == "optimal"
    assert res.score == d["expected_optimum"] != d["reported_by_peer_trial"]
    assert res.stats.bound == pytest.approx(d["expected_optimum"]) and res.stats.gap == 0.0
    assert list(res.routes[0]) == d["expected_route"]


@pytest.mark.parametrize("d,inst", CASE5, ids=[d["name"] for d, _ in CASE5])
def test_case5_routing_baseline_is_right(d, inst):
    res = _run(inst, "routing", limit_s=1.0)
    assert res.stats.status == "feasible"  # the baseline never claims optimality
    assert res.score == d["expected_optimum"]


def test_case5_ils():
    """With client 1 worth 1 the ILS finds 0 -> 1 -> 2 (101). With client 1 worth 0 it may stop at 0:
    the engine never inserts a stop worth nothing (issue 14, case 8), and here that stop is the only
    way to client 2; the answer is still feasible, honest (``feasible``) and names client 2 as
    reachable-but-not-selected, not as unreachable."""
    (_, zero), (d1, one) = CASE5
    res = _run(one, "ils")
    assert res.score == d1["expected_optimum"] and list(res.routes[0]) == d1["expected_route"]
    res0 = _run(zero, "ils")
    assert res0.stats.status == "feasible" and res0.score <= 100.0
    reasons = {u.item_id: u.reason for u in res0.unserved}
    if "2" in reasons:
        assert reasons["2"] == "not_selected"


def test_case5_bounds_follow_paths_not_direct_arcs():
    _, inst = CASE5[0]
    b = time_bounds(inst.travel_min, inst.service_min, inst.open_min, inst.close_min, inst.customers,
                    inst.start, inst.end, inst.depart_min, inst.return_by_min)
    assert b.usable[1] and b.usable[2]
    assert b.est[2] == 2.0  # via client 1, although the direct arc arrives at 10 > close 5
    assert b.lst[2] == 5.0


def test_case5_checker_gates_every_exact_answer(monkeypatch):
    """An answer the checker rejects is never returned (let alone as optimal): RuntimeError."""
    _, inst = CASE5[0]
    real = cpsat_mod.scale_times

    def understated(inst_, scale=cpsat_mod.TIME_SCALE):  # a "model bug": travel times read as 0
        data, exact = real(inst_, scale)
        data["travel"] = np.zeros_like(data["travel"])
        return data, exact

    monkeypatch.setattr(cpsat_mod, "scale_times", understated)
    with pytest.raises(RuntimeError, match="rejected by the checker"):
        solve(inst, StoppingCriterion(max_runtime_s=10), params=ToptwParams(method="cpsat", workers=1))


def test_case5_ils_never_returns_a_route_the_shake_broke():
    """The engine's shake assumes removing a visit never delays the next ones (false without the
    triangle inequality); on this instance it once left route (4, 5) starting customer 4 after its
    window. ``solve`` re-checks and repairs, so the plan always passes the checker."""
    doc = json.loads((DATA / "issue14_case5_ils_removal.json").read_text(encoding="utf-8"))
    inst = _instance(doc["instance"])
    broken = doc["ils_routes_before_fix"]
    assert route_violations(inst, broken)
    fixed = repair_routes(inst, [list(r) for r in broken])
    assert route_violations(inst, fixed) == []
    assert sum(inst.score[j] for r in fixed for j in r) <= brute_force(inst)
    for seed in range(5):
        res = solve(inst, MaxIterations(300), seed=seed)
        assert verify(inst, res) == []
        assert res.score <= brute_force(inst)


def test_case5_random_nonmetric_all_solvers_vs_brute_force():
    """30 seeded non-metric instances (5-6 customers; half with a depot open at > 0): the exact model
    is optimal and equal to brute force on every one; the ILS and the routing baseline are always
    checker-clean, never above the optimum, and reach it on most."""
    hits = {"ils": 0, "routing": 0}
    n_nonmetric = 0
    for seed in range(30):
        inst = nonmetric_instance(seed)
        n_nonmetric += _violates_triangle(inst)
        best = brute_force(inst)
        exact = _run(inst, "cpsat")
        assert exact.stats.status == "optimal" and exact.score == pytest.approx(best), inst.name
        for method in hits:
            res = _run(inst, method, limit_s=0.3)
            assert res.stats.status == "feasible"
            assert res.score <= best + 1e-9, (method, inst.name)
            hits[method] += res.score == pytest.approx(best)
    assert n_nonmetric == 30
    # Routing runs on the wall clock (0.3 s), so its count moves with the machine's load: 29/30 quiet.
    # The ILS runs 500 iterations (deterministic): 23/30. It never inserts a zero-score stop (issue 14,
    # case 8), so it cannot pass through a zero-score client as a shortcut, which several of these
    # optima need; the hard guarantees (checker-clean, never above the optimum) are asserted above.
    assert hits["routing"] >= 25, hits
    assert hits["ils"] >= 20, hits


# ----------------------------------------------------------------------------- case 6
@pytest.mark.parametrize("method", ["ils", "cpsat", "routing"])
@pytest.mark.parametrize("d,inst", CASE6, ids=[d["name"] for d, _ in CASE6])
def test_case6_every_solver_leaves_when_the_depot_opens(d, inst, method):
    assert brute_force(inst) == d["expected_optimum"]
    res = _run(inst, method, limit_s=1.0)
    assert res.score == d["expected_optimum"]
    if method == "cpsat":
        assert res.stats.status == "optimal"
    if "expected_route" in d:
        assert list(res.routes[0]) == d["expected_route"]
    if d["expected_optimum"] == 0:
        assert all(len(r) == 0 for r in res.routes)
        assert {u.reason for u in res.unserved} == {"unreachable"}


@pytest.mark.parametrize("d,inst", CASE6, ids=[d["name"] for d, _ in CASE6])
def test_case6_checker(d, inst):
    """The checker schedules from the depot's opening time and to min(t_max, its close)."""
    assert inst.depart_min == d["open_min"][inst.start]
    assert inst.return_by_min == min(d["t_max"], d["close_min"][inst.end])
    if "rejected_route" in d:
        kinds = {v.kind for v in route_violations(inst, [d["rejected_route"]])}
        assert kinds and kinds <= {"window", "t_max"}
    if "expected_service_start" in d:
        starts, _ = earliest_schedule(inst, [1])
        assert starts[0] == d["expected_service_start"]
        assert route_violations(inst, [[1]]) == []
    if "old_semantics_score" in d:  # leaving at 0 and returning by t_max would have allowed more
        assert d["old_semantics_score"] > d["expected_optimum"]

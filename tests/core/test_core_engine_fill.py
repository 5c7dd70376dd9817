"""``greedy_fill`` with dead-candidate pruning (issue 15, the speed of an iteration) makes the unpruned fill's choices.

Where travel is metric (``kernels.travel_is_metric``), a rescan of a route during one fill evaluates
only the candidates that fitted at its previous scan (``kernels._live_best``). The reference is the
same kernel with ``P.metric`` set False (every rescan scans every candidate, the code before the
pruning). On random metric instances (Euclidean travel; integer travel closed by shortest paths, so
that tight windows and equal ratios are exact; entry-slot quotas; several routes; noisy weights;
fills of some routes after a partial removal, with freed nodes) both fills must leave the same state,
array for array, and an ILS run on them the same routes. Also: ``travel_is_metric`` says True for
these instances (else the comparison would test nothing) and False where a triangle is broken.
"""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.core.engine.ils import ILSParams, run_ils
from optimizer.core.engine.kernels import (
    KernelProblem,
    copy_state,
    greedy_fill,
    new_state,
    remove_positions,
    travel_is_metric,
)
from optimizer.core.stop import StoppingCriterion


def metric_problem(seed: int, n: int, R: int, width: float, slotted: float, integer: bool) -> KernelProblem:
    """``n`` random nodes, ``R`` routes over a 600-min day from a depot; windows ``width`` min wide;
    a share ``slotted`` of the nodes with a quota of 1-2 per 60-min slot; ``integer``: travel in whole
    10-min steps made metric by a shortest-path closure (Floyd-Warshall), integer service."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 60, (n + 1, 2))
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    if integer:
        d = np.ceil(d / 10) * 10
        np.fill_diagonal(d, 0.0)
        for k in range(n + 1):
            d = np.minimum(d, d[:, k, None] + d[None, k, :])
    t = np.ascontiguousarray(d[1:, 1:])
    open_ = rng.uniform(0, 600 - width, n).round()
    service = (rng.integers(0, 3, n) * 5).astype(np.float64)
    score = rng.integers(1, 6, n).astype(np.float64)
    slot_quota = np.where(rng.random(n) < slotted, rng.integers(1, 3, n), -1).astype(np.int64)
    t_from = np.ascontiguousarray(np.tile(d[0, 1:], (R, 1)))
    t_to = np.ascontiguousarray(np.tile(d[1:, 0], (R, 1)))
    t_direct = np.zeros(R)
    cand = np.ascontiguousarray(np.tile(np.arange(n, dtype=np.int32), (R, 1)))
    n_cand = np.full(R, n, dtype=np.int32)
    return KernelProblem(
        travel=t, travel_t=np.ascontiguousarray(t.T), t_from=t_from, t_to=t_to, t_direct=t_direct,
        service=service, open_=open_, close=open_ + width, day_start=np.zeros(R), day_end=np.full(R, 600.0),
        value=np.ascontiguousarray(np.tile(score, (R, 1))), protect=np.zeros((R, n), dtype=np.bool_),
        size=np.ones(R, dtype=np.int64), cand=cand, n_cand=n_cand, slot_quota=slot_quota,
        slot_len=np.array([60.0]), metric=travel_is_metric(t, t_from, t_to, t_direct, service, cand, n_cand))


def unpruned(P: KernelProblem) -> KernelProblem:
    return P._replace(metric=np.zeros(1, dtype=np.bool_))


def same_state(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


CASES = [  # seed, width, slotted, integer
    (0, 60.0, 0.0, False), (1, 200.0, 0.0, False), (2, 600.0, 0.0, False), (3, 90.0, 0.3, False),
    (4, 120.0, 0.0, True), (5, 600.0, 0.0, True), (6, 300.0, 0.25, True),
]


@pytest.mark.parametrize("seed,width,slotted,integer", CASES)
def test_pruned_fill_equals_unpruned_fill(seed, width, slotted, integer):
    """Construction, then rounds of (remove part of some routes, refill them with noisy weights),
    each fill run pruned and unpruned from the same state: the same state after every fill."""
    n, R = 80, 3
    P = metric_problem(seed, n, R, width, slotted, integer)
    assert P.metric[0], "the instance must be metric, or the pruned path is not exercised"
    Q = unpruned(P)
    S = new_state(P, np.ones(n, dtype=np.int64), 12, n + 1)
    T = copy_state(S)
    all_routes = np.ones(R, dtype=np.bool_)
    greedy_fill(P, S, all_routes, np.empty(0, dtype=np.int32), np.int64(0), np.ones(n))
    greedy_fill(Q, T, all_routes, np.empty(0, dtype=np.int32), np.int64(0), np.ones(n))
    assert same_state(S, T)
    assert S.length.sum() > 0
    rng = np.random.default_rng(seed + 7)
    inserted = 0
    for _ in range(40):
        chosen = rng.random(R) < 0.5
        freed = []
        for r in range(R):
            L = int(S.length[r])
            if not chosen[r] or L == 0:
                continue
            mask = np.zeros(S.rt.shape[2], dtype=np.bool_)
            a = int(rng.integers(0, L))
            mask[a:a + int(rng.integers(1, 4))] = True
            mask[L:] = False
            freed += [int(S.ri[0, r, p]) for p in np.flatnonzero(mask)]
            remove_positions(P, S, np.int64(r), mask)
            remove_positions(Q, T, np.int64(r), mask)
        assert same_state(S, T)
        w = 1.0 + rng.uniform(-0.5, 0.5, n)
        fr = np.array(freed, dtype=np.int32)
        k1 = greedy_fill(P, S, chosen, fr, np.int64(len(fr)), w)
        k2 = greedy_fill(Q, T, chosen, fr, np.int64(len(fr)), w)
        assert k1 == k2 and same_state(S, T)
        inserted += k1
    assert inserted > 0


@pytest.mark.parametrize("seed,integer", [(11, False), (12, True)])
def test_ils_with_pruned_fill_returns_the_unpruned_routes(seed, integer):
    """A whole ILS run (shakes, noisy repairs, 2-opt, replace, kicks) at a fixed iteration budget
    gives the same routes with and without the pruning."""
    n, R = 70, 2
    P = metric_problem(seed, n, R, 150.0, 0.0, integer)
    assert P.metric[0]
    params = ILSParams(kick_after=60)
    out = []
    for prob in (P, unpruned(P)):
        S = new_state(prob, np.ones(n, dtype=np.int64), 12, n + 1)
        res = run_ils(prob, S, StoppingCriterion(max_iterations=300), seed=seed, params=params)
        out.append(res.state)
    assert same_state(out[0], out[1])
    assert out[0].length.sum() > 0


def test_travel_is_metric_finds_a_broken_triangle():
    """One arc longer than a detour through a third node (service included) makes it False; the
    start, the end and the direct trip are checked too."""
    P = metric_problem(3, 30, 2, 100.0, 0.0, False)
    args = [P.travel, P.t_from, P.t_to, P.t_direct, P.service, P.cand, P.n_cand]
    assert travel_is_metric(*args)[0]
    t = P.travel.copy()
    t[4, 9] = t[4, 17] + P.service[17] + t[17, 9] + 0.5
    assert not travel_is_metric(t, *args[1:])[0]
    f = P.t_from.copy()
    f[1, 9] = f[1, 17] + P.service[17] + P.travel[17, 9] + 0.5
    assert not travel_is_metric(P.travel, f, *args[2:])[0]
    e = P.t_to.copy()
    e[0, 4] = P.travel[4, 17] + P.service[17] + e[0, 17] + 0.5
    assert not travel_is_metric(P.travel, P.t_from, e, *args[3:])[0]
    direct = np.full(2, 10_000.0)
    assert not travel_is_metric(P.travel, P.t_from, P.t_to, direct, *args[4:])[0]

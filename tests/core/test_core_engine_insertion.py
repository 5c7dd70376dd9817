"""``best_insertion`` with time-window pruning (issue 15) makes the choice of a scan of every pair.

The kernel evaluates a node only at the positions its window can reach (``kernels._plain_sweep``).
The reference here scans every (position, node) pair in the order the kernel documents (slotted
nodes first, then positions, then nodes), checks each pair with the O(1) ``insertion_cost`` and
keeps the first of equal ratios; both must return the same insertion, ratio and shift exactly, on
random instances with narrow and wide windows, non-metric travel, integer scores (ties) and
entry-slot quotas, for full and for thinned routes.
"""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.core.engine.kernels import (
    INF,
    KernelProblem,
    best_insertion,
    greedy_fill,
    insertion_cost,
    new_state,
    remove_positions,
    travel_is_metric,
)


def random_problem(seed: int, n: int, R: int, width: float, slotted: float, metric: bool,
                   integer: bool = False) -> tuple:
    """A kernel problem on ``n`` random nodes and ``R`` routes over a 600-min day; windows ``width``
    min wide; a share ``slotted`` of the nodes has an entry quota per 60-min slot; ``integer``: travel
    in multiples of 10 min, and the second half of the nodes twins of the first (same place, window,
    service and score)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 60, (n + 1, 2))
    half = n // 2
    if integer:
        xy[1 + half:] = xy[1:1 + n - half]  # twins: equal ratios at the same position
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    if not metric:
        d = d * rng.uniform(1.0, 1.8, d.shape)  # breaks the triangle inequality
    if integer:
        d = d.round() // 10 * 10  # few distinct shifts: many equal ratios
    t = np.ascontiguousarray(d[1:, 1:])
    open_ = rng.uniform(0, 600 - width, n).round()
    service = (rng.integers(0, 3, n) * 5).astype(np.float64)
    score = rng.integers(1, 6, n).astype(np.float64)
    if integer:
        for a in (open_, service, score):
            a[half:] = a[:n - half]
    slot_quota = np.where(rng.random(n) < slotted, rng.integers(1, 3, n), -1).astype(np.int64)
    P = KernelProblem(
        travel=t, travel_t=np.ascontiguousarray(t.T),
        t_from=np.ascontiguousarray(np.tile(d[0, 1:], (R, 1))), t_to=np.ascontiguousarray(np.tile(d[1:, 0], (R, 1))),
        t_direct=np.zeros(R), service=service, open_=open_,
        close=open_ + width, day_start=np.zeros(R), day_end=np.full(R, 600.0),
        value=np.ascontiguousarray(np.tile(score, (R, 1))),
        protect=np.zeros((R, n), dtype=np.bool_), size=np.ones(R, dtype=np.int64),
        cand=np.ascontiguousarray(np.tile(np.arange(n, dtype=np.int32), (R, 1))), n_cand=np.full(R, n, dtype=np.int32),
        slot_quota=slot_quota, slot_len=np.array([60.0]), metric=np.zeros(1, dtype=np.bool_),
    )
    P = P._replace(metric=travel_is_metric(P.travel, P.t_from, P.t_to, P.t_direct, P.service, P.cand, P.n_cand))
    return P, new_state(P, np.ones(n, dtype=np.int64), 10, n + 1)


def reference(P, S, r, w):
    """Every (position, node) pair through ``insertion_cost``; first of equal ratios wins."""
    best = (-1.0, -1, -1, -1, INF)
    L = int(S.length[r])
    plain = []
    for c in range(int(P.n_cand[r])):
        j = int(P.cand[r, c])
        if S.in_route[r, j] or S.day_left[j] < P.size[r] or (P.value[r, j] <= 0 and not P.protect[r, j]):
            continue
        if P.slot_quota[j] < 0:
            plain.append(j)
            continue
        for p in range(L + 1):
            shift, k = insertion_cost(P, S, r, j, p)
            ratio = w[j] * P.value[r, j] * P.value[r, j] / max(0.001, shift)
            if shift < INF and ratio > best[0]:
                best = (ratio, j, p, k, shift)
    for p in range(L + 1):
        for j in plain:
            shift, k = insertion_cost(P, S, r, j, p)
            ratio = w[j] * P.value[r, j] * P.value[r, j] / max(0.001, shift)
            if shift < INF and ratio > best[0]:
                best = (ratio, j, p, k, shift)
    return best


@pytest.mark.parametrize("seed,width,slotted,metric,integer", [
    (0, 60.0, 0.0, True, False), (1, 30.0, 0.0, False, False), (2, 200.0, 0.0, True, False),
    (3, 90.0, 0.3, False, False), (4, 600.0, 0.0, True, False), (5, 120.0, 0.0, True, True),
    (6, 600.0, 0.2, True, True),
])
def test_pruned_best_insertion_equals_full_scan(seed, width, slotted, metric, integer):
    P, S = random_problem(seed, n=70, R=3, width=width, slotted=slotted, metric=metric, integer=integer)
    R, n = P.value.shape
    rng = np.random.default_rng(seed + 100)
    greedy_fill(P, S, np.ones(R, dtype=np.bool_), np.empty(0, dtype=np.int32), 0, np.ones(n))
    assert S.length.sum() > 0
    checked = 0
    for thin in (0, 2, 3):
        for r in range(R):
            L = int(S.length[r])
            if thin and L > 1:
                mask = np.zeros(S.rt.shape[2], dtype=np.bool_)
                mask[1:L:thin] = True
                remove_positions(P, S, np.int64(r), mask)
        for w in (np.ones(n), rng.uniform(0.5, 1.5, n)):
            for r in range(R):
                got = best_insertion(P, S, np.int64(r), w)
                want = reference(P, S, r, w)
                assert tuple(got) == want, (thin, r, got, want)
                checked += want[0] >= 0
    assert checked > 0  # some insertions were feasible

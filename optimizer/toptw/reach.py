"""Time bounds that hold for every feasible (T)OPTW route, computed along *paths*, not direct arcs.

Travel times need not satisfy the triangle inequality (``TOPTWInstance`` documents non-metric
matrices): going ``0 -> 1 -> 2`` may be faster than ``0 -> 2``. Any pruning that looks at the direct
arc only ("customer 2 cannot be reached from the depot before its window closes") is then wrong.
The bounds here relax the route to a *walk* through customers, each served inside its window (the
walk may repeat nodes, which only makes the bounds weaker, never wrong):

* ``est[i]``: the earliest time service can start at customer ``i`` on any walk that leaves the
  start depot at ``depart`` (a label-setting Dijkstra; the arc function ``t -> max(open_j, t + d_i +
  t_ij)`` is non-decreasing and never earlier than ``t``, so the first label settled is the earliest);
* ``lst[i]``: the latest service start at ``i`` from which some walk reaches the end depot by
  ``deadline`` (the mirror image, largest label first).

Both passes only route through customers that can be served at all, and they are repeated until
nothing changes. For every feasible route and its earliest schedule, ``est[i] <= T_i <= lst[i]``;
a customer with ``est > lst`` can never be visited; an arc ``i -> j`` with ``est[i] + d_i + t_ij >
lst[j]`` can never be used. On a metric instance ``est`` / ``lst`` equal the direct-arc values.

The functions take plain arrays so that the exact model can apply them to its integer (scaled)
data and the solution module to the float data.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

__all__ = ["TimeBounds", "time_bounds", "usable_arc"]


class TimeBounds(NamedTuple):
    """``est`` / ``lst`` float64[n] (``inf`` / ``-inf`` for nodes that are not customers or that no
    walk reaches) and ``usable`` bool[n] (``est <= lst``, customers only)."""

    est: np.ndarray
    lst: np.ndarray
    usable: np.ndarray


def _forward(tr, sv, op, cl, start, depart, cust, allowed) -> np.ndarray:
    n = tr.shape[0]
    est = np.full(n, np.inf)
    heap = []
    for j in cust:
        if allowed[j]:
            est[j] = max(float(op[j]), depart + float(tr[start, j]))
            heap.append((est[j], j))
    heapq.heapify(heap)
    done = np.zeros(n, dtype=bool)
    while heap:
        t, i = heapq.heappop(heap)
        if done[i] or t > est[i]:
            continue
        done[i] = True
        if t > cl[i]:
            continue  # cannot be served in its window: no walk goes on from here
        a = np.maximum(op, t + float(sv[i]) + tr[i])
        better = np.flatnonzero(allowed & ~done & (a < est))
        est[better] = a[better]
        for j in better:
            heapq.heappush(heap, (float(a[j]), int(j)))
    return est


def _backward(tr, sv, op, cl, end, deadline, cust, allowed) -> np.ndarray:
    n = tr.shape[0]
    lst = np.full(n, -np.inf)
    heap = []
    for i in cust:
        if allowed[i]:
            lst[i] = min(float(cl[i]), deadline - float(sv[i]) - float(tr[i, end]))
            heap.append((-lst[i], i))
    heapq.heapify(heap)
    done = np.zeros(n, dtype=bool)
    while heap:
        neg, j = heapq.heappop(heap)
        t = -neg
        if done[j] or t < lst[j]:
            continue
        done[j] = True
        if t < op[j]:
            continue  # service could only start before the window opens: j is a dead end
        b = np.minimum(cl, t - sv - tr[:, j])
        better = np.flatnonzero(allowed & ~done & (b > lst))
        lst[better] = b[better]
        for h in better:
            heapq.heappush(heap, (-float(b[h]), int(h)))
    return lst


def time_bounds(travel: np.ndarray, service: np.ndarray, open_: np.ndarray, close: np.ndarray,
                customers: Sequence[int], start: int, end: int, depart: float, deadline: float) -> TimeBounds:
    """Path-based earliest/latest service starts (module docstring) for the given data.

    ``travel`` [n, n], ``service`` / ``open_`` / ``close`` [n] in any one time unit (floats, or the
    exact model's scaled integers); ``depart`` = when routes leave ``start``; ``deadline`` = by when
    they reach ``end``. O(n^2 log n) per pass, a few passes.
    """
    tr = np.asarray(travel, dtype=np.float64)
    sv = np.asarray(service, dtype=np.float64)
    op = np.asarray(open_, dtype=np.float64)
    cl = np.asarray(close, dtype=np.float64)
    n = tr.shape[0]
    cust = [int(i) for i in customers]
    allowed = np.zeros(n, dtype=bool)
    allowed[cust] = True
    while True:
        est = _forward(tr, sv, op, cl, start, float(depart), cust, allowed)
        lst = _backward(tr, sv, op, cl, end, float(deadline), cust, allowed)
        usable = allowed & (est <= lst)
        if np.array_equal(usable, allowed):
            break
        allowed = usable
    est = np.where(usable, est, np.inf)
    lst = np.where(usable, lst, -np.inf)
    return TimeBounds(est, lst, usable)


def usable_arc(b: TimeBounds, travel: np.ndarray, service: np.ndarray, i: int, j: int) -> bool:
    """Whether customer arc ``i -> j`` can be on a feasible route: ``est_i + d_i + t_ij <= lst_j``."""
    return bool(b.usable[i] and b.usable[j] and b.est[i] + float(service[i]) + float(travel[i, j]) <= b.lst[j])

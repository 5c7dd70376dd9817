"""Numba kernel of the live day: keep a planned visit in the entry slot it already holds.

The ILS engine (``optimizer.core.engine.kernels``) inserts a visit at the *earliest* entry slot
with room. Re-planning after a disruption first tries to keep every group's remaining visits as
they were, so a visit must go back into *its own* slot: ``append_in_slot`` is the O(1) Wait /
MaxShift feasibility test of Vansteenwegen et al. (2009), Computers & OR 36(12), for an insertion
at the end of a route, with the slot fixed instead of searched.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from optimizer.core.engine.kernels import EPS, NODE, SLOT_EPS, START, insert_visit


@njit(cache=True, nogil=True)
def append_in_slot(P, S, r, j, k):
    """Append node ``j`` at the end of route ``r`` reserving entry slot ``k`` (-1: the node has no
    slot limit); the visit starts as early as the slot, the node's window and the arrival allow.

    P : KernelProblem, S : RouteState (``optimizer.core.engine.kernels``); r, j, k : int.
    Returns True and inserts the visit (capacity taken from ``S.slot_left``/``S.day_left``) if it
    fits: node not yet on the route, capacity left for the route's size, start inside the slot and
    the node's window, and the route still reaching its end by ``P.day_end[r]``; else False.
    """
    q = P.size[r]
    if S.in_route[r, j] or S.day_left[j] < q:
        return False
    L = S.length[r]
    if L > 0:
        prev = S.ri[NODE, r, L - 1]
        a = S.rt[START, r, L - 1] + P.service[prev] + P.travel[prev, j]
    else:
        a = P.day_start[r] + P.t_from[r, j]
    lo = P.open_[j]
    hi = P.close[j]
    if k >= 0:
        if S.slot_left[j, k] < q:
            return False
        slot_len = P.slot_len[0]
        lo = max(lo, k * slot_len)
        hi = min(hi, (k + 1) * slot_len - SLOT_EPS)
    s = max(lo, a)
    if s > hi + EPS:
        return False
    if s + P.service[j] + P.t_to[r, j] > P.day_end[r] + EPS:
        return False
    insert_visit(P, S, r, j, np.int64(L), k)  # int64 as every engine call site: one specialisation
    return True

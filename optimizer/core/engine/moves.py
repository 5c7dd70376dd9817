"""Neighbourhoods of the ILS beyond insertion: replace, inter-route relocate, and the elite pool.

These moves help most where time windows do not pin the routes (the TOP of Chao, Golden & Wasil
1996, and TOPTW with wide windows), where the insertion/shake ILS of Vansteenwegen et al. (2009)
stalls: every route is full, no single insertion fits, and a shake of consecutive visits rarely
frees the right time.

* **replace** (one route): take a visit ``v`` out and put in one node ``u`` of higher value that then
  fits; the "replace" neighbourhood of the GLS/VNS for the TOP of Vansteenwegen, Souffriau, Vanden
  Berghe & Van Oudheusden (2009), EJOR 196(1):118-127, and of Archetti, Hertz & Speranza (2007),
  J. Heuristics 13(1):49-76.
* **relocate** (two routes): move a visit to another route when that lowers the total route time
  without lowering the value, which frees time for later insertions ("move" in the same papers).
* **swap** (two routes): exchange a visit of one route with a visit of another when that shortens
  both together without lowering the value (``swap_routes``; "exchange" in Archetti et al. 2007).
* **elite pool**: the ``K`` best distinct solutions found; a restart starts from one of them drawn
  at random instead of always from the best (path-relinking-free variant of the elite restarts of
  Ke, Archetti & Feng 2008, C&IE 54(3):648-665; Souffriau et al. 2010 use a pool for the TOP as
  well).

Every feasibility check stays the O(1) Wait/MaxShift test of ``kernels.insertion_cost``; a move is
applied with ``kernels.insert_visit`` / ``kernels.remove_positions`` so capacities and slots stay
exact. All functions take the kernel tuples (``KernelProblem``, ``RouteState``) of ``kernels``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from optimizer.core.engine.kernels import (
    INF,
    NODE,
    SLOT,
    _t_in,
    _t_out,
    best_insertion_among,
    insert_visit,
    insertion_cost,
    remove_positions,
)

VEPS = 1e-9  # value tolerance


@njit(cache=True, nogil=True)
def replace_route(P, S, r, w):
    """Replace moves on route ``r``: for each unprotected visit ``v`` (in route order), if some node
    ``u`` not in the route with ``value[r, u] > value[r, v]`` and capacity left exists, take ``v`` out
    and insert the best such ``u`` (insertion ratio, weights ``w``; float64[n]) that fits; else put
    ``v`` back where it was, with its reserved slot (the schedule is then unchanged).

    Returns the number of replacements applied (each one raises the route's value).
    """
    q = P.size[r]
    nc = P.n_cand[r]
    buf = np.empty(nc, dtype=np.int32)
    Lmax = S.rt.shape[2]
    mask = np.zeros(Lmax, dtype=np.bool_)
    moves = 0
    p = np.int64(0)
    while p < S.length[r]:
        v = np.int64(S.ri[NODE, r, p])
        if P.protect[r, v]:
            p += 1
            continue
        vv = P.value[r, v]
        nb = np.int64(0)
        for c in range(nc):
            u = P.cand[r, c]
            if S.in_route[r, u] or S.day_left[u] < q or P.value[r, u] <= vv + VEPS:
                continue
            buf[nb] = u
            nb += 1
        if nb == 0:
            p += 1
            continue
        k = np.int64(S.ri[SLOT, r, p])
        L = S.length[r]
        mask[:L] = False
        mask[p] = True
        remove_positions(P, S, r, mask)
        ratio, j, pos, slot, _shift = best_insertion_among(P, S, r, buf, nb, w)
        if ratio >= 0.0:
            insert_visit(P, S, r, j, pos, slot)
            moves += 1
        else:
            insert_visit(P, S, r, v, p, k)
        p += 1
    return moves


@njit(cache=True, nogil=True)
def _removal_gain(P, S, r, p):
    """Travel + service minutes saved by taking the visit at position ``p`` out of route ``r``
    (an O(1) estimate of the route's shortening; waiting time is ignored)."""
    L = S.length[r]
    v = S.ri[NODE, r, p]
    prev = S.ri[NODE, r, p - 1] if p > 0 else -1
    nxt = S.ri[NODE, r, p + 1] if p + 1 < L else -1
    if prev < 0:
        a = P.t_from[r, v]
    else:
        a = P.travel[prev, v]
    if nxt < 0:
        b = P.t_to[r, v]
    else:
        b = P.travel[v, nxt]
    if prev < 0 and nxt < 0:
        c = P.t_direct[r]
    elif prev < 0:
        c = P.t_from[r, nxt]
    elif nxt < 0:
        c = P.t_to[r, prev]
    else:
        c = P.travel[prev, nxt]
    return a + P.service[v] + b - c


@njit(cache=True, nogil=True)
def relocate_routes(P, S, chosen):
    """Inter-route relocate: move a visit ``v`` of route ``a`` to the position of another route ``b``
    where it costs the least extra time, if ``value[b, v] >= value[a, v]``, the O(1) insertion check
    of ``b`` passes (with ``v``'s capacity in ``a`` counted as released) and the extra time in ``b`` is
    below the time saved in ``a`` (so total route time drops and ``a`` gains room). Routes ``a`` are
    those with ``chosen[a]``; each route that changes is marked in ``chosen`` (for the refill).
    First improvement, one pass. Returns the number of moves.
    """
    R = S.length.shape[0]
    Lmax = S.rt.shape[2]
    mask = np.zeros(Lmax, dtype=np.bool_)
    touched = np.zeros(R, dtype=np.bool_)
    moves = 0
    for a in range(R):
        if not chosen[a]:
            continue
        p = np.int64(0)
        while p < S.length[a]:
            v = np.int64(S.ri[NODE, a, p])
            if P.protect[a, v]:
                p += 1
                continue
            gain = _removal_gain(P, S, a, p)
            k = np.int64(S.ri[SLOT, a, p])
            qa = P.size[a]
            best_b, best_pos, best_shift = np.int64(-1), np.int64(-1), INF
            # release v's capacity in a for the check, then restore it
            S.day_left[v] += qa
            if k >= 0:
                S.slot_left[v, k] += qa
            for b in range(R):
                if b == a or S.in_route[b, v] or P.value[b, v] < P.value[a, v] - VEPS:
                    continue
                for pos in range(S.length[b] + 1):
                    shift, _slot = insertion_cost(P, S, b, v, pos)
                    if shift < best_shift:
                        best_b, best_pos, best_shift = b, pos, shift
            S.day_left[v] -= qa
            if k >= 0:
                S.slot_left[v, k] -= qa
            if best_b < 0 or best_shift >= gain - 1e-6:
                p += 1
                continue
            L = S.length[a]
            mask[:L] = False
            mask[p] = True
            remove_positions(P, S, a, mask)
            shift, slot = insertion_cost(P, S, best_b, v, best_pos)
            if shift == INF:
                insert_visit(P, S, a, v, p, k)
                p += 1
                continue
            insert_visit(P, S, best_b, v, best_pos, slot)
            touched[a] = True
            touched[best_b] = True
            moves += 1
    for r in range(R):
        if touched[r]:
            chosen[r] = True
    return moves


@njit(cache=True, nogil=True)
def pool_store(S, pool_ri, pool_len, pool_val, pool_time, n_pool, v, t):
    """Keep solution ``S`` (value ``v``, total time ``t``) in the elite pool if it is distinct (by
    value and time) and better than the worst member. ``pool_ri`` int32[K, 2, R, L], ``pool_len``
    int32[K, R], ``pool_val``/``pool_time`` float64[K]; ``n_pool`` int64[1] members so far.
    Returns True if stored."""
    K = pool_val.shape[0]
    cnt = n_pool[0]
    for i in range(cnt):
        if abs(pool_val[i] - v) < VEPS and abs(pool_time[i] - t) < 1e-6:
            return False
    if cnt < K:
        slot = cnt
        n_pool[0] = cnt + 1
    else:
        slot = 0
        for i in range(1, K):
            if pool_val[i] < pool_val[slot] - VEPS or (abs(pool_val[i] - pool_val[slot]) < VEPS
                                                      and pool_time[i] > pool_time[slot]):
                slot = i
        if v < pool_val[slot] + VEPS:
            return False
    # element loops: an array-to-slice assignment compiles Numba's shape-error formatter (str/join code)
    for f in range(S.ri.shape[0]):
        for r in range(S.ri.shape[1]):
            pool_len[slot, r] = S.length[r]
            for p in range(S.ri.shape[2]):
                pool_ri[slot, f, r, p] = S.ri[f, r, p]
    pool_val[slot] = v
    pool_time[slot] = t
    return True


@njit(cache=True, nogil=True)
def pool_load(P, S, pool_ri, pool_len, i):
    """Rebuild ``S`` as elite member ``i``: empty every route, then re-insert its visits in order with
    their reserved slots (schedules, capacities and values are recomputed, not copied)."""
    R = S.length.shape[0]
    Lmax = S.rt.shape[2]
    mask = np.ones(Lmax, dtype=np.bool_)
    for r in range(R):
        if S.length[r] > 0:
            remove_positions(P, S, r, mask)
    for r in range(R):
        for p in range(pool_len[i, r]):
            insert_visit(P, S, np.int64(r), np.int64(pool_ri[i, NODE, r, p]), np.int64(p),
                         np.int64(pool_ri[i, SLOT, r, p]))


@njit(cache=True, nogil=True)
def swap_routes(P, S, chosen):
    """Inter-route 1-1 swap ("exchange" in the TOP VNS of Archetti, Hertz & Speranza 2007, J. Heuristics
    13(1):49-76): for a visit ``v`` at position ``p`` of a route ``a`` with ``chosen[a]`` and a visit
    ``u`` at position ``q`` of another route ``b``, put ``u`` at ``p`` in ``a`` and ``v`` at ``q`` in
    ``b`` when the value does not drop (``value[a, u] + value[b, v] >= value[a, v] + value[b, u]``) and
    the travel + service minutes of both routes together drop (an O(1) estimate, waiting ignored), so
    that later insertions find room. The swap is applied by removing both visits and inserting each
    with the O(1) check of ``kernels.insertion_cost`` (windows, slots and capacity exact); if either
    insertion fails, both visits go back where they were with their reserved slots. Protected visits
    stay. First improvement, one pass; each route that changes is marked in ``chosen`` (for the
    refill). Returns the number of swaps.
    """
    R = S.length.shape[0]
    Lmax = S.rt.shape[2]
    mask = np.zeros(Lmax, dtype=np.bool_)
    touched = np.zeros(R, dtype=np.bool_)
    moves = 0
    for a in range(R):
        if not chosen[a]:
            continue
        p = np.int64(0)
        while p < S.length[a]:
            v = np.int64(S.ri[NODE, a, p])
            if P.protect[a, v]:
                p += 1
                continue
            La = S.length[a]
            pa = S.ri[NODE, a, p - 1] if p > 0 else -1
            na = S.ri[NODE, a, p + 1] if p + 1 < La else -1
            out_a = _t_in(P, a, pa, v) + P.service[v] + _t_out(P, a, v, na)
            done = False
            for b in range(R):
                if b == a or done or S.in_route[b, v]:
                    continue
                Lb = S.length[b]
                for q in range(Lb):
                    u = np.int64(S.ri[NODE, b, q])
                    if P.protect[b, u] or S.in_route[a, u]:
                        continue
                    if P.value[a, u] + P.value[b, v] < P.value[a, v] + P.value[b, u] - VEPS:
                        continue
                    pb = S.ri[NODE, b, q - 1] if q > 0 else -1
                    nb = S.ri[NODE, b, q + 1] if q + 1 < Lb else -1
                    out_b = _t_in(P, b, pb, u) + P.service[u] + _t_out(P, b, u, nb)
                    in_a = _t_in(P, a, pa, u) + P.service[u] + _t_out(P, a, u, na)
                    in_b = _t_in(P, b, pb, v) + P.service[v] + _t_out(P, b, v, nb)
                    if in_a + in_b >= out_a + out_b - 1e-6:
                        continue
                    ka = np.int64(S.ri[SLOT, a, p])
                    kb = np.int64(S.ri[SLOT, b, q])
                    mask[:La] = False
                    mask[p] = True
                    remove_positions(P, S, a, mask)
                    mask[:Lb] = False
                    mask[q] = True
                    remove_positions(P, S, b, mask)
                    sa, slot_a = insertion_cost(P, S, a, u, p)
                    if sa < INF:
                        insert_visit(P, S, a, u, p, slot_a)
                        sb, slot_b = insertion_cost(P, S, b, v, np.int64(q))
                        if sb < INF:
                            insert_visit(P, S, b, v, np.int64(q), slot_b)
                            touched[a] = True
                            touched[b] = True
                            moves += 1
                            done = True
                            break
                        mask[:S.length[a]] = False
                        mask[p] = True
                        remove_positions(P, S, a, mask)
                    insert_visit(P, S, a, v, p, ka)
                    insert_visit(P, S, b, u, np.int64(q), kb)
            p += 1
    for r in range(R):
        if touched[r]:
            chosen[r] = True
    return moves

"""Neighbourhoods of the ILS beyond insertion: replace, inter-route relocate, swap, tail exchange, elite pool.

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
* **tails** (two routes, 2-opt*): cut two routes and exchange their tails when that shortens both
  together without lowering the value (``tails_routes``; Potvin & Rousseau 1995).
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
    ECLOSE,
    EOPEN,
    INF,
    NODE,
    SLOT,
    _fmax,
    _t_between,
    _t_in,
    _t_out,
    best_insertion_among,
    insert_visit,
    insertion_cost,
    recompute_route,
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


@njit(cache=True, nogil=True)
def _tails_schedule(P, r, nodes, eo, ec, n):
    """End arrival (minutes) of route ``r`` visiting ``nodes[:n]`` with effective windows ``eo``/``ec``
    at the earliest starts, or ``INF`` if a window or the route's end is missed."""
    t = P.day_start[r]
    prev = np.int64(-1)
    for p in range(n):
        j = nodes[p]
        a = t + _t_in(P, r, prev, j)
        s = _fmax(eo[p], a)
        if s > ec[p] + 1e-9:
            return INF
        t = s + P.service[j]
        prev = j
    end = t + (P.t_to[r, prev] if prev >= 0 else P.t_direct[r])
    if end > P.day_end[r] + 1e-9:
        return INF
    return end


@njit(cache=True, nogil=True)
def _tails_write(P, S, r, nodes, slots, eo, ec, n):
    """Make route ``r`` visit ``nodes[:n]`` (reserved ``slots``, effective windows ``eo``/``ec``): the
    visit arrays, ``in_route``, ``rvalue`` and the schedule (capacity units are unchanged: the caller
    moves visits between routes of the same size)."""
    L = S.length[r]
    for p in range(L):
        S.in_route[r, S.ri[NODE, r, p]] = False
    val = 0.0
    for p in range(n):
        j = nodes[p]
        S.ri[NODE, r, p] = j
        S.ri[SLOT, r, p] = slots[p]
        S.rt[EOPEN, r, p] = eo[p]
        S.rt[ECLOSE, r, p] = ec[p]
        S.in_route[r, j] = True
        val += P.value[r, j]
    S.length[r] = n
    S.rvalue[r] = val
    recompute_route(P, S, r, np.int64(0))


@njit(cache=True, nogil=True)
def tails_routes(P, S, chosen):
    """Inter-route tail exchange (2-opt*, Potvin & Rousseau 1995, J. Oper. Res. Soc. 46(12):1433-1446;
    the "2-opt*" of the TOPTW local searches, e.g. Labadie, Mansini, Melechovsky & Wolfler Calvo 2012,
    EJOR 220(1):15-27): cut a route ``a`` with ``chosen[a]`` after its ``i``-th visit and another route
    ``b`` after its ``k``-th, and give each the other's tail, ``a[:i] + b[k:]`` and ``b[:k] + a[i:]``,
    when the value does not drop and the sum of both routes' end arrivals (minutes) drops, so that
    two long routes trade the tails that fit the other better and later insertions find room.

    A cut pair is tried only if the travel minutes of the two arcs it creates are below those of the
    two it breaks (O(1)); both new routes are then scheduled exactly (O(L), earliest starts, each visit
    keeping its effective window, i.e. its reserved entry slot). Routes of different ``size`` (capacity
    units per visit), tails with a protected visit or with a node the other route already visits are
    skipped. First improvement per route pair, one pass; each route that changes is marked in
    ``chosen`` (for the refill). Returns the number of exchanges.
    """
    R = S.length.shape[0]
    Lmax = S.rt.shape[2]
    na = np.empty(Lmax, dtype=np.int64)
    sa = np.empty(Lmax, dtype=np.int64)
    ea = np.empty(Lmax)
    ca = np.empty(Lmax)
    nb = np.empty(Lmax, dtype=np.int64)
    sb = np.empty(Lmax, dtype=np.int64)
    eb = np.empty(Lmax)
    cb = np.empty(Lmax)
    touched = np.zeros(R, dtype=np.bool_)
    moves = 0
    ri, rt = S.ri, S.rt
    for a in range(R):
        if not chosen[a]:
            continue
        for b in range(R):
            if b == a or P.size[a] != P.size[b]:
                continue
            La = S.length[a]
            Lb = S.length[b]
            if La + Lb == 0:
                continue
            # a tail a[i:] may move to b iff no visit in it is protected or already in b
            ok_a = La
            for p in range(La - 1, -1, -1):
                j = ri[NODE, a, p]
                if P.protect[a, j] or S.in_route[b, j]:
                    break
                ok_a = p
            ok_b = Lb
            for p in range(Lb - 1, -1, -1):
                j = ri[NODE, b, p]
                if P.protect[b, j] or S.in_route[a, j]:
                    break
                ok_b = p
            old_end = S.end_arr[a] + S.end_arr[b]
            done = False
            for i in range(ok_a, La + 1):
                if done:
                    break
                x = np.int64(ri[NODE, a, i - 1]) if i > 0 else np.int64(-1)
                xn = np.int64(ri[NODE, a, i]) if i < La else np.int64(-1)
                for k in range(ok_b, Lb + 1):
                    if (i == La and k == Lb) or (i == 0 and k == 0):
                        continue
                    y = np.int64(ri[NODE, b, k - 1]) if k > 0 else np.int64(-1)
                    yn = np.int64(ri[NODE, b, k]) if k < Lb else np.int64(-1)
                    old_t = _t_between(P, a, x, xn) + _t_between(P, b, y, yn)
                    new_t = _t_between(P, a, x, yn) + _t_between(P, b, y, xn)
                    if new_t >= old_t - 1e-6:
                        continue
                    dv = 0.0
                    for p in range(k, Lb):
                        j = ri[NODE, b, p]
                        dv += P.value[a, j] - P.value[b, j]
                    for p in range(i, La):
                        j = ri[NODE, a, p]
                        dv += P.value[b, j] - P.value[a, j]
                    if dv < -VEPS:
                        continue
                    n1 = 0
                    for p in range(i):
                        na[n1], sa[n1], ea[n1], ca[n1] = ri[NODE, a, p], ri[SLOT, a, p], rt[EOPEN, a, p], rt[ECLOSE, a, p]
                        n1 += 1
                    for p in range(k, Lb):
                        na[n1], sa[n1], ea[n1], ca[n1] = ri[NODE, b, p], ri[SLOT, b, p], rt[EOPEN, b, p], rt[ECLOSE, b, p]
                        n1 += 1
                    if n1 > Lmax:
                        continue
                    end_a = _tails_schedule(P, a, na, ea, ca, n1)
                    if end_a == INF:
                        continue
                    n2 = 0
                    for p in range(k):
                        nb[n2], sb[n2], eb[n2], cb[n2] = ri[NODE, b, p], ri[SLOT, b, p], rt[EOPEN, b, p], rt[ECLOSE, b, p]
                        n2 += 1
                    for p in range(i, La):
                        nb[n2], sb[n2], eb[n2], cb[n2] = ri[NODE, a, p], ri[SLOT, a, p], rt[EOPEN, a, p], rt[ECLOSE, a, p]
                        n2 += 1
                    if n2 > Lmax:
                        continue
                    end_b = _tails_schedule(P, b, nb, eb, cb, n2)
                    if end_b == INF or end_a + end_b >= old_end - 1e-6:
                        continue
                    _tails_write(P, S, a, na, sa, ea, ca, n1)
                    _tails_write(P, S, b, nb, sb, eb, cb, n2)
                    touched[a] = True
                    touched[b] = True
                    moves += 1
                    done = True
                    break
    for r in range(R):
        if touched[r]:
            chosen[r] = True
    return moves

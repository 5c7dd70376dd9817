"""Numba kernels of the orienteering engine: schedules, insertion with slack, removal, greedy fill.

One engine serves the classic Team Orienteering Problem with Time Windows (TOPTW) and the Lhasa
tour-group problem. Both are seen as ``R`` routes (tour groups, or team members), ``n`` nodes
(sites, or customers), a route-specific value of visiting a node, and node capacities shared by
all routes: a daily capacity and, optionally, a capacity per entry slot. A route of size ``q``
uses ``q`` units per visit. The classic TOPTW is the case ``q = 1`` with daily capacity 1 (each
node is visited at most once overall).

Feasibility of an insertion is checked in O(1) with the Wait/MaxShift bookkeeping of
Vansteenwegen, Souffriau, Vanden Berghe & Van Oudheusden (2009), "Iterated local search for the
team orienteering problem with time windows", Computers & OR 36(12):3281-3290:

    Shift_j    = c_ij + Wait_j + T_j + c_jk - c_ik
    feasible  iff  Start_j <= C_j  and  Shift_j <= Wait_k + MaxShift_k
    MaxShift_i = min(C_i - Start_i, Wait_{i+1} + MaxShift_{i+1})

Slot capacity stays O(1) too: a visit to a slotted node *reserves* the entry slot its start falls
in, and its effective time window becomes the node's window intersected with that slot. Shifts,
bounded by MaxShift, then never move a visit out of its reserved slot, so slot usage stays exact
without re-checking other routes.

Data travel in two named tuples of C-contiguous arrays (see ``KernelProblem`` and
``RouteState``); times are minutes, capacities integer units.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

KernelProblem = namedtuple("KernelProblem", [
    "travel",      # float64[n, n] minutes between nodes
    "travel_t",    # float64[n, n] its transpose (contiguous reads of arcs into a node)
    "t_from",      # float64[R, n] minutes from route r's start to node j
    "t_to",        # float64[R, n] minutes from node j to route r's end
    "t_direct",    # float64[R] minutes from route r's start straight to its end
    "service",     # float64[n] service duration, minutes
    "open_",       # float64[n] earliest start of service, minutes
    "close",       # float64[n] latest start of service, minutes
    "day_start",   # float64[R] departure from the start, minutes
    "day_end",     # float64[R] latest arrival at the end, minutes
    "value",       # float64[R, n] objective gained when route r visits j
    "protect",     # bool[R, n] visits a shake must not remove (must-visits)
    "size",        # int64[R] capacity units one visit of route r uses
    "cand",        # int32[R, n] candidate nodes of route r (first n_cand[r] entries)
    "n_cand",      # int32[R]
    "slot_quota",  # int64[n] units per entry slot, -1 for no slot limit
    "slot_len",    # float64[1] slot length, minutes
    "metric",      # bool[1] travel obeys the triangle inequality with service (``travel_is_metric``)
])

RouteState = namedtuple("RouteState", [
    "rt",          # float64[6, R, L]: arrival, wait, start, max_shift, eff_open, eff_close
    "ri",          # int32[2, R, L]: node, reserved slot (-1: none)
    "length",      # int32[R] visits per route
    "end_arr",     # float64[R] arrival at the route's end
    "in_route",    # bool[R, n]
    "slot_left",   # int64[n, K] units left per node and slot
    "day_left",    # int64[n] units left per node for the day
    "rvalue",      # float64[R] objective of each route
])

ARR, WAIT, START, MAXSHIFT, EOPEN, ECLOSE = 0, 1, 2, 3, 4, 5
NODE, SLOT = 0, 1
DEP, OLD, LIM, LATE = 0, 1, 2, 3  # rows of ``_position_table``
PRUNE_EPS = 1e-6    # minutes: margin of the time-window pruning of ``_plain_sweep`` over rounding
EPS = 1e-9          # feasibility tolerance, minutes
SLOT_EPS = 1e-6     # a visit reserved in slot k starts at least this long before the slot ends
INF = np.inf
LIMITLESS = 1 << 60
"""A daily capacity at or above this (units) never binds: the callers' "unlimited" (int64 max // 4,
about 2.3e18) stays above it whatever is used."""


def new_state(P: KernelProblem, daily_cap: np.ndarray, n_slots: int, max_len: int) -> RouteState:
    """Empty routes for problem ``P``; ``daily_cap`` int64[n] units per node per day.

    Slot capacity starts at ``slot_quota`` (a very large number where there is no slot limit).
    """
    R, n = P.value.shape
    big = np.iinfo(np.int64).max // 4
    slot_left = np.empty((n, max(n_slots, 1)), dtype=np.int64)
    for j in range(n):
        slot_left[j, :] = P.slot_quota[j] if P.slot_quota[j] >= 0 else big
    st = RouteState(
        rt=np.zeros((6, R, max_len), dtype=np.float64),
        ri=np.full((2, R, max_len), -1, dtype=np.int32),
        length=np.zeros(R, dtype=np.int32),
        end_arr=(P.day_start + P.t_direct).astype(np.float64),
        in_route=np.zeros((R, n), dtype=np.bool_),
        slot_left=slot_left,
        day_left=np.ascontiguousarray(daily_cap, dtype=np.int64).copy(),
        rvalue=np.zeros(R, dtype=np.float64),
    )
    return st


METRIC_TOL = 1e-10
"""Minutes a triangle may be "violated" by rounding and still count as metric in ``travel_is_metric``
(Euclidean travel of collinear points misses by an ulp); far below ``EPS``."""
METRIC_MAX_N = 500
"""Largest node count ``travel_is_metric`` checks (O(n^3), numpy: ~35 ms CPU at n = 289); above it
the problem is treated as not metric (``greedy_fill`` then scans every candidate, as before)."""


def travel_is_metric(travel: np.ndarray, t_from: np.ndarray, t_to: np.ndarray, t_direct: np.ndarray,
                     service: np.ndarray, cand: np.ndarray, n_cand: np.ndarray) -> np.ndarray:
    """``KernelProblem.metric``: bool[1], True if travel plus service obeys the triangle inequality.

    Checked for every triple of nodes, ``travel[i, k] <= travel[i, j] + service[j] + travel[j, k]``,
    and for each route ``r``, each of its candidates ``j`` (``cand[r, :n_cand[r]]``: the nodes a fill
    can insert) and every node ``i``, ``k`` with a finite arc to the route's end / from its start,
    ``t_from[r, k] <= t_from[r, j] + service[j] + travel[j, k]``,
    ``t_to[r, i] <= travel[i, j] + service[j] + t_to[r, j]`` and
    ``t_direct[r] <= t_from[r, j] + service[j] + t_to[r, j]`` (each up to ``METRIC_TOL`` minutes; an
    infinite ``t_from[r, k]`` or ``t_to[r, i]`` is no arc an on-time route can use, so it is skipped).
    Then inserting a visit never lets a route arrive anywhere earlier, which ``greedy_fill``'s
    pruning of dead candidates relies on. Shapes as in ``KernelProblem``; O(n^3) numpy work, so
    problems with more than ``METRIC_MAX_N`` nodes get False (no pruning; plans are unaffected).
    """
    n = travel.shape[0]
    if n > METRIC_MAX_N:
        return np.zeros(1, dtype=np.bool_)
    t = np.asarray(travel, dtype=np.float64)
    s = np.asarray(service, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        for j in range(n):
            if (t > t[:, j, None] + (s[j] + t[j, None, :]) + METRIC_TOL).any():
                return np.zeros(1, dtype=np.bool_)
        seen = set()
        for r in range(t_from.shape[0]):
            c = np.asarray(cand[r, : int(n_cand[r])], dtype=np.int64)
            key = (t_from[r].tobytes(), t_to[r].tobytes(), float(t_direct[r]), c.tobytes())
            if key in seen or c.size == 0:
                continue
            seen.add(key)
            f_all, e_all = t_from[r], t_to[r]  # every node (k, i); rows / columns j: the candidates
            f, e, sc = f_all[c], e_all[c], s[c]
            late_start = (f_all[None, :] > f[:, None] + sc[:, None] + t[c, :] + METRIC_TOL) & np.isfinite(f_all)[None, :]
            late_end = (e_all[:, None] > t[:, c] + (sc + e)[None, :] + METRIC_TOL) & np.isfinite(e_all)[:, None]
            if late_start.any() or late_end.any() or (t_direct[r] > f + sc + e + METRIC_TOL).any():
                return np.zeros(1, dtype=np.bool_)
    return np.ones(1, dtype=np.bool_)


def copy_state(st: RouteState) -> RouteState:
    return RouteState(*(a.copy() for a in st))


@njit(cache=True, nogil=True)
def assign_state(dst, src):
    """Copy every array of ``src`` into ``dst`` in place (same shapes).

    Element loops rather than ``dst.x[:] = src.x``: Numba's array-to-slice assignment compiles a
    shape-mismatch error formatter (f-strings, ``str.join``) that cost several seconds of the first
    run's JIT compilation (issue 15 item 3); the shapes here always match.
    """
    for f in range(dst.rt.shape[0]):
        for r in range(dst.rt.shape[1]):
            for p in range(dst.rt.shape[2]):
                dst.rt[f, r, p] = src.rt[f, r, p]
    for f in range(dst.ri.shape[0]):
        for r in range(dst.ri.shape[1]):
            for p in range(dst.ri.shape[2]):
                dst.ri[f, r, p] = src.ri[f, r, p]
    for r in range(dst.length.shape[0]):
        dst.length[r] = src.length[r]
        dst.end_arr[r] = src.end_arr[r]
        dst.rvalue[r] = src.rvalue[r]
        for j in range(dst.in_route.shape[1]):
            dst.in_route[r, j] = src.in_route[r, j]
    for j in range(dst.slot_left.shape[0]):
        dst.day_left[j] = src.day_left[j]
        for k in range(dst.slot_left.shape[1]):
            dst.slot_left[j, k] = src.slot_left[j, k]


@njit(cache=True, nogil=True)
def assign_routes(dst, src, mask):
    """Copy the routes ``r`` with ``mask[r]`` and the shared capacities (``slot_left``,
    ``day_left``) of ``src`` into ``dst`` in place: ``assign_state`` when every other route is
    already equal in both, at a cost that does not grow with the number of routes (issue 15)."""
    for r in range(dst.length.shape[0]):
        if not mask[r]:
            continue
        for f in range(dst.rt.shape[0]):
            for p in range(dst.rt.shape[2]):
                dst.rt[f, r, p] = src.rt[f, r, p]
        for f in range(dst.ri.shape[0]):
            for p in range(dst.ri.shape[2]):
                dst.ri[f, r, p] = src.ri[f, r, p]
        dst.length[r] = src.length[r]
        dst.end_arr[r] = src.end_arr[r]
        dst.rvalue[r] = src.rvalue[r]
        for j in range(dst.in_route.shape[1]):
            dst.in_route[r, j] = src.in_route[r, j]
    for j in range(dst.slot_left.shape[0]):
        dst.day_left[j] = src.day_left[j]
        for k in range(dst.slot_left.shape[1]):
            dst.slot_left[j, k] = src.slot_left[j, k]


@njit(cache=True, nogil=True, inline="always")
def _fmax(a, b):
    """``max(a, b)`` of two floats, inlined: Numba compiles the builtin ``max`` to a call that is
    not inlined, which the hot loops paid on every (node, position) pair (issue 15)."""
    return b if b > a else a  # noqa: FURB136 - the builtin is the call this avoids


@njit(cache=True, nogil=True, inline="always")
def _fmin(a, b):
    """``min(a, b)`` of two floats, inlined (see ``_fmax``)."""
    return b if b < a else a  # noqa: FURB136 - the builtin is the call this avoids


@njit(cache=True, nogil=True)
def _t_in(P, r, prev, j):
    """Travel minutes from ``prev`` (-1: the route's start) to node ``j``."""
    if prev < 0:
        return P.t_from[r, j]
    return P.travel[prev, j]


@njit(cache=True, nogil=True)
def _t_out(P, r, j, nxt):
    """Travel minutes from node ``j`` to ``nxt`` (-1: the route's end)."""
    if nxt < 0:
        return P.t_to[r, j]
    return P.travel[j, nxt]


@njit(cache=True, nogil=True)
def _t_between(P, r, prev, nxt):
    if prev < 0 and nxt < 0:
        return P.t_direct[r]
    if prev < 0:
        return P.t_from[r, nxt]
    if nxt < 0:
        return P.t_to[r, prev]
    return P.travel[prev, nxt]


@njit(cache=True, nogil=True)
def insertion_cost(P, S, r, j, p):
    """Evaluate inserting node ``j`` at position ``p`` of route ``r`` in O(1) (+ slots scanned).

    Returns ``(shift, slot)``: the extra minutes the insertion adds to the route and the entry
    slot it reserves (-1 if the node has no slot limit); ``shift = inf`` if infeasible.
    """
    if S.day_left[j] < P.size[r]:
        return INF, -1
    rt = S.rt
    L = S.length[r]
    if p > 0:
        prev = S.ri[NODE, r, p - 1]
        dep = rt[START, r, p - 1] + P.service[prev]
    else:
        prev = -1
        dep = P.day_start[r]
    if p < L:
        nxt = S.ri[NODE, r, p]
        limit = rt[WAIT, r, p] + rt[MAXSHIFT, r, p]
    else:
        nxt = -1
        limit = P.day_end[r] - S.end_arr[r]
    t_in = _t_in(P, r, prev, j)
    a = dep + t_in
    t_out = _t_out(P, r, j, nxt)
    old = _t_between(P, r, prev, nxt)
    s = _fmax(P.open_[j], a)
    if s > P.close[j] + EPS:
        return INF, -1
    if P.slot_quota[j] < 0:
        shift = t_in + (s - a) + P.service[j] + t_out - old
        if shift > limit + EPS:
            return INF, -1
        return shift, -1
    slot_len = P.slot_len[0]
    k = int(np.floor(s / slot_len))
    n_slots = S.slot_left.shape[1]
    while k < n_slots:
        ks = k * slot_len
        sk = _fmax(ks, s)
        if sk > P.close[j] + EPS:
            break
        shift = t_in + (sk - a) + P.service[j] + t_out - old
        if shift > limit + EPS:
            break
        if S.slot_left[j, k] >= P.size[r]:
            return shift, k
        k += 1
    return INF, -1


@njit(cache=True, nogil=True)
def recompute_route(P, S, r, p0):
    """Recompute arrival/wait/start from position ``p0`` on, then MaxShift over the whole route."""
    rt = S.rt
    L = S.length[r]
    for p in range(p0, L):
        j = S.ri[NODE, r, p]
        if p > 0:
            prev = S.ri[NODE, r, p - 1]
            a = rt[START, r, p - 1] + P.service[prev] + P.travel[prev, j]
        else:
            a = P.day_start[r] + P.t_from[r, j]
        s = _fmax(rt[EOPEN, r, p], a)
        rt[ARR, r, p] = a
        rt[WAIT, r, p] = s - a
        rt[START, r, p] = s
    if L > 0:
        last = S.ri[NODE, r, L - 1]
        S.end_arr[r] = rt[START, r, L - 1] + P.service[last] + P.t_to[r, last]
    else:
        S.end_arr[r] = P.day_start[r] + P.t_direct[r]
    ms_next = P.day_end[r] - S.end_arr[r]
    for p in range(L - 1, -1, -1):
        ms = rt[ECLOSE, r, p] - rt[START, r, p]
        ms = _fmin(ms, ms_next)
        rt[MAXSHIFT, r, p] = ms
        ms_next = rt[WAIT, r, p] + ms


@njit(cache=True, nogil=True)
def insert_visit(P, S, r, j, p, k):
    """Insert node ``j`` at position ``p`` of route ``r`` reserving slot ``k`` (-1: none)."""
    rt, ri = S.rt, S.ri
    L = S.length[r]
    for q in range(L, p, -1):
        for f in range(6):
            rt[f, r, q] = rt[f, r, q - 1]
        ri[NODE, r, q] = ri[NODE, r, q - 1]
        ri[SLOT, r, q] = ri[SLOT, r, q - 1]
    ri[NODE, r, p] = j
    ri[SLOT, r, p] = k
    if k >= 0:
        slot_len = P.slot_len[0]
        ks = k * slot_len
        rt[EOPEN, r, p] = _fmax(ks, P.open_[j])
        ke = (k + 1) * slot_len - SLOT_EPS
        rt[ECLOSE, r, p] = _fmin(ke, P.close[j])
        S.slot_left[j, k] -= P.size[r]
    else:
        rt[EOPEN, r, p] = P.open_[j]
        rt[ECLOSE, r, p] = P.close[j]
    S.length[r] = L + 1
    S.day_left[j] -= P.size[r]
    S.in_route[r, j] = True
    S.rvalue[r] += P.value[r, j]
    recompute_route(P, S, r, p)


@njit(cache=True, nogil=True)
def remove_positions(P, S, r, mask):
    """Remove the visits of route ``r`` at positions where ``mask`` is True; release capacity."""
    rt, ri = S.rt, S.ri
    L = S.length[r]
    w = 0
    first = L
    for p in range(L):
        j = ri[NODE, r, p]
        if mask[p]:
            first = min(first, p)
            k = ri[SLOT, r, p]
            if k >= 0:
                S.slot_left[j, k] += P.size[r]
            S.day_left[j] += P.size[r]
            S.in_route[r, j] = False
            S.rvalue[r] -= P.value[r, j]
            continue
        if w != p:
            for f in range(6):
                rt[f, r, w] = rt[f, r, p]
            ri[NODE, r, w] = ri[NODE, r, p]
            ri[SLOT, r, w] = ri[SLOT, r, p]
        w += 1
    S.length[r] = w
    first = min(first, w)
    if w == 0:
        S.rvalue[r] = 0.0
    recompute_route(P, S, r, np.int64(first))


@njit(cache=True, nogil=True)
def _position_table(P, S, r, tab, idx):
    """Fill, for every insertion position ``p`` (0..L) of route ``r``, what an insertion there
    reads: ``tab`` float64[4, L + 1] rows ``DEP`` (departure from the visit before, or from the
    route's start, minutes), ``OLD`` (minutes of the arc the insertion breaks), ``LIM`` (the most
    the insertion may delay the next visit or the end, + EPS) and ``LATE`` (``DEP + OLD + LIM``:
    the latest time, minutes, the inserted visit may hand over to the next one); ``idx``
    int64[2, L + 1] rows the node before and after (-1: the route's start / end).

    ``DEP`` never decreases along the route (travel and service minutes are >= 0), nor does
    ``LATE`` (``Start + MaxShift`` of the next visit, non-decreasing by the MaxShift recursion of
    Vansteenwegen et al. 2009). Arrays are read from hoisted locals, not through helpers taking
    ``P``: a call that takes the tuples costs Numba reference-count updates of their arrays.
    """
    rt, ri = S.rt, S.ri
    L = S.length[r]
    travel, t_from, t_to, service = P.travel, P.t_from, P.t_to, P.service
    for p in range(L + 1):
        if p > 0:
            prev = np.int64(ri[NODE, r, p - 1])
            dep = rt[START, r, p - 1] + service[prev]
        else:
            prev = np.int64(-1)
            dep = P.day_start[r]
        if p < L:
            nxt = np.int64(ri[NODE, r, p])
            limit = rt[WAIT, r, p] + rt[MAXSHIFT, r, p] + EPS
            old = t_from[r, nxt] if prev < 0 else travel[prev, nxt]
        else:
            nxt = np.int64(-1)
            limit = P.day_end[r] - S.end_arr[r] + EPS
            old = P.t_direct[r] if prev < 0 else t_to[r, prev]
        tab[DEP, p] = dep
        tab[OLD, p] = old
        tab[LIM, p] = limit
        tab[LATE, p] = dep + old + limit
        idx[0, p] = prev
        idx[1, p] = nxt


@njit(cache=True, nogil=True)
def _plain_sweep(P, S, r, elig, e0, n_e, w, b_ratio, b_j, b_p, b_k, b_shift, b_rank, tab, idx, dmin, bound):
    """Best insertion into route ``r`` of the slot-free nodes ``elig[e0:e0 + n_e]`` by ``w * value^2 /
    shift``, starting from the best so far ``(ratio, node, pos, slot, shift, rank)``; returns the
    new best in that form and ``n_live``: ``elig[e0:]`` is compacted in place, in order, to the
    ``n_live`` nodes that fit at one position at least (``greedy_fill`` keeps them as the route's
    live candidates). ``tab`` float64[4, >= L + 1] and ``idx`` int64[2, >= L + 1] are scratch for
    ``_position_table`` (passed in, so that a fill allocates them once, not per call).

    With ``bound > 0`` (int64; ``greedy_fill``'s live lists), ``dmin[e0 + c]`` float64 holds a lower bound on
    every shift node ``elig[e0 + c]`` can have in the route now (``_live_best``): a node whose best
    possible ratio ``w * value^2 / max(0.001, dmin)`` is below the best so far cannot win nor tie,
    so it is kept as live without being evaluated; an evaluated node's ``dmin`` becomes the least
    ``t_in + service + t_out - old`` (its shift without the wait) over the positions where it fits.
    ``dmin`` moves with the compaction. With ``bound = 0``, ``dmin`` is not read nor written.

    Time-window pruning (issue 15, the speed of an iteration): node ``j`` can only fit at the
    positions whose departure is at most its closing time (``DEP <= close + EPS``) and whose
    latest hand-over leaves room for its opening plus its service (``open + service <= LATE``,
    with a margin of ``PRUNE_EPS`` minutes over rounding); both rows of ``_position_table`` are
    non-decreasing, so these positions are one range: a binary search on ``DEP`` finds its end, and
    the positions are evaluated from there down to the first that fails the ``LATE`` test. The
    positions skipped fail the exact test below, so the choice is the one a scan of every
    (position, node) pair makes: the largest ratio, ties to the earliest position, then the
    earliest node of ``elig`` (``rank``), and never over a slotted node's equal ratio
    (``rank = -1``; the caller evaluates slotted nodes first). Assumes travel and service minutes
    >= 0 (every family checks them); were one negative, the pruning could only miss insertions,
    never admit an infeasible one.
    """
    L = S.length[r]
    n_pos = L + 1
    _position_table(P, S, r, tab, idx)
    travel, travel_t = P.travel, P.travel_t
    t_from, t_to = P.t_from, P.t_to
    service, open_, close, value = P.service, P.open_, P.close, P.value
    n_live = np.int64(0)
    for c in range(n_e):
        j = elig[e0 + c]
        v = value[r, j]
        vv = w[j] * v * v
        if bound > 0 and vv / _fmax(0.001, dmin[e0 + c]) < b_ratio:
            dmin[e0 + n_live] = dmin[e0 + c]
            elig[e0 + n_live] = j
            n_live += 1
            continue
        fits = False
        d_best = INF
        close_j = close[j]
        serv_j = service[j]
        open_j = open_[j]
        # p_hi: the first position that departs after the window closes (binary search on DEP)
        lo, hi = 0, n_pos
        x = close_j + EPS
        while lo < hi:
            mid = (lo + hi) >> 1
            if tab[DEP, mid] > x:
                hi = mid
            else:
                lo = mid + 1
        # then down from p_hi - 1 while the latest hand-over leaves room for open + service
        x = open_j + serv_j - PRUNE_EPS
        p = lo
        while p > 0 and tab[LATE, p - 1] > x:
            p -= 1
            prev = idx[0, p]
            nxt = idx[1, p]
            t_in = t_from[r, j] if prev < 0 else travel_t[j, prev]
            a = tab[DEP, p] + t_in
            if a > close_j + EPS:
                continue
            s = _fmax(open_j, a)
            t_out = t_to[r, j] if nxt < 0 else travel[j, nxt]
            shift = t_in + (s - a) + serv_j + t_out - tab[OLD, p]
            if shift > tab[LIM, p]:
                continue
            fits = True
            if bound > 0:
                d_best = _fmin(d_best, t_in + serv_j + t_out - tab[OLD, p])
            ratio = vv / _fmax(0.001, shift)
            if ratio > b_ratio or (ratio == b_ratio and b_rank >= 0
                                   and (p < b_p or (p == b_p and c < b_rank))):
                b_ratio, b_j, b_p, b_k, b_shift, b_rank = ratio, j, np.int64(p), np.int64(-1), shift, np.int64(c)
        if fits:
            if bound > 0:
                dmin[e0 + n_live] = d_best
            elig[e0 + n_live] = j
            n_live += 1
    return b_ratio, b_j, b_p, b_k, b_shift, b_rank, n_live


@njit(cache=True, nogil=True)
def best_insertion_among(P, S, r, nodes, n_nodes, w):
    """Best insertion into route ``r`` of one of ``nodes[:n_nodes]``, by value^2 / shift.

    The ratio is the insertion criterion of Vansteenwegen et al. (2009). Slotted nodes go through
    ``insertion_cost`` at every position; the others through ``_plain_sweep``, which evaluates
    each node only at the positions its time window can reach (the same choice as a scan of every
    pair, at a fraction of the cost where windows are narrow: issue 15).

    ``w`` float64[n] multiplies each node's ratio (all ones: the plain criterion; the ILS draws
    noise there to diversify repairs).

    A node worth nothing to the route (``value[r, j] <= 0``) is never inserted unless it is
    protected (a must-visit): its ratio would be 0, which still beats "nothing fits", and it
    would spend the route's time and the node's capacity for no gain.

    Returns ``(ratio, node, pos, slot, shift)``; ``ratio = -1`` when nothing fits. Of equal ratios
    the earliest position wins, then the earliest of ``nodes``, slotted nodes first.
    """
    best_ratio = -1.0
    best_j = -1
    best_p = -1
    best_k = -1
    best_shift = INF
    L = S.length[r]
    q = P.size[r]
    value = P.value
    # eligible nodes
    elig = np.empty(n_nodes, dtype=np.int64)
    n_e = 0
    for c in range(n_nodes):
        j = np.int64(nodes[c])
        if S.in_route[r, j] or S.day_left[j] < q:
            continue
        if value[r, j] <= 0.0 and not P.protect[r, j]:
            continue
        if P.slot_quota[j] >= 0:
            v = value[r, j]
            for p in range(L + 1):
                shift, k = insertion_cost(P, S, r, j, p)
                if shift == INF:
                    continue
                ratio = w[j] * v * v / _fmax(0.001, shift)
                if ratio > best_ratio:
                    best_ratio, best_j, best_p, best_k, best_shift = ratio, j, p, k, shift
            continue
        elig[n_e] = j
        n_e += 1
    if n_e == 0:
        return best_ratio, best_j, best_p, best_k, best_shift
    tab = np.empty((4, L + 1))
    idx = np.empty((2, L + 1), dtype=np.int64)
    best_ratio, best_j, best_p, best_k, best_shift, _rank, _n_live = _plain_sweep(
        P, S, r, elig, np.int64(0), np.int64(n_e), w, best_ratio, np.int64(best_j), np.int64(best_p), np.int64(best_k),
        best_shift, np.int64(-1), tab, idx, w, np.int64(0))
    return best_ratio, best_j, best_p, best_k, best_shift


@njit(cache=True, nogil=True, inline="always")
def best_insertion(P, S, r, w):
    """Best insertion into route ``r`` over all its candidates (see ``best_insertion_among``)."""
    return best_insertion_among(P, S, r, P.cand[r], np.int64(P.n_cand[r]), w)


@njit(cache=True, nogil=True)
def _tree_better(c_ratio, a, b):
    """True if route ``a`` beats route ``b`` as ``np.argmax(c_ratio)`` would rank them (the larger
    ratio; of equal ratios the smaller index); ``-1`` is the empty leaf."""
    if b < 0:
        return a >= 0
    if a < 0:
        return False
    return c_ratio[a] > c_ratio[b] or (c_ratio[a] == c_ratio[b] and a < b)


@njit(cache=True, nogil=True)
def _tree_build(c_ratio, tree):
    """Tournament tree over ``c_ratio`` (float64[R]): ``tree`` int64[2 * size] with the leaves at
    ``size + r`` and every inner node holding the winner of its children, so ``tree[1]`` is
    ``np.argmax(c_ratio)`` (the first of equal maxima). Build O(R), update O(log R)."""
    size = tree.shape[0] // 2
    R = c_ratio.shape[0]
    for i in range(size):
        tree[size + i] = i if i < R else -1
    for i in range(size - 1, 0, -1):
        a, b = tree[2 * i], tree[2 * i + 1]
        tree[i] = a if _tree_better(c_ratio, a, b) else b


@njit(cache=True, nogil=True)
def _tree_update(c_ratio, tree, r):
    """Re-rank route ``r`` after ``c_ratio[r]`` changed (O(log R))."""
    size = tree.shape[0] // 2
    i = (size + r) // 2
    while i >= 1:
        a, b = tree[2 * i], tree[2 * i + 1]
        tree[i] = a if _tree_better(c_ratio, a, b) else b
        i //= 2


@njit(cache=True, nogil=True)
def limited_nodes(P, S, nodes, n_nodes, out):
    """Copy into ``out`` the nodes of ``nodes[:n_nodes]`` whose capacity can bind (an entry-slot
    quota, or a daily capacity below ``LIMITLESS``); returns how many. Capacity released at any
    other node cannot make a new insertion feasible in a route that did not change."""
    k = 0
    for c in range(n_nodes):
        j = nodes[c]
        if P.slot_quota[j] >= 0 or S.day_left[j] < LIMITLESS:
            out[k] = j
            k += 1
    return k


@njit(cache=True, nogil=True, inline="always")
def _on_time(P, S, r):
    """True if every visit of route ``r`` starts by its (slot-reserved) closing time and the route
    reaches its end by ``day_end`` (each within ``EPS``): then the O(1) insertion test is exact."""
    rt = S.rt
    for p in range(S.length[r]):
        if rt[START, r, p] > rt[ECLOSE, r, p] + EPS:
            return False
    return S.end_arr[r] <= P.day_end[r] + EPS


@njit(cache=True, nogil=True, inline="always")
def _live_init(P, S, r, pool, pool_d, off):
    """Write route ``r``'s live candidates into ``pool[off:off + n_cand[r]]`` (int64): the eligible
    candidates (as ``best_insertion_among`` filters them), slot-free ones in candidate order from
    ``off`` up (their shift bounds ``pool_d`` float64 set to -inf: unknown), slotted ones in
    candidate order from ``off + n_cand[r] - 1`` down. Returns ``(n_plain, n_slotted)``."""
    nc = np.int64(P.n_cand[r])
    q = P.size[r]
    n_pl = np.int64(0)
    n_sl = np.int64(0)
    for c in range(nc):
        j = np.int64(P.cand[r, c])
        if S.in_route[r, j] or S.day_left[j] < q:
            continue
        if P.value[r, j] <= 0.0 and not P.protect[r, j]:
            continue
        if P.slot_quota[j] >= 0:
            pool[off + nc - 1 - n_sl] = j
            n_sl += 1
        else:
            pool[off + n_pl] = j
            pool_d[off + n_pl] = -INF
            n_pl += 1
    return n_pl, n_sl


@njit(cache=True, nogil=True, inline="always")
def _live_best(P, S, r, w, pool, pool_d, off, n_pl, n_sl, tab, idx):
    """``best_insertion(P, S, r, w)`` evaluated over route ``r``'s live candidates only (the lists
    ``_live_init`` wrote at ``pool[off:]``), which it compacts in place, in order, to the nodes
    that still fit somewhere. Returns ``(ratio, node, pos, slot, shift, n_plain, n_slotted)``.
    ``pool_d`` holds the slot-free nodes' shift bounds (``_plain_sweep`` with ``bound``).

    Same choice as ``best_insertion`` when every candidate left out has no feasible insertion:
    slotted nodes first, in candidate order (strictly larger ratio wins), then ``_plain_sweep`` over
    the slot-free ones, in candidate order (its ranks keep their order, so ties break the same way).
    """
    best_ratio = -1.0
    best_j = np.int64(-1)
    best_p = np.int64(-1)
    best_k = np.int64(-1)
    best_shift = INF
    L = np.int64(S.length[r])
    q = P.size[r]
    top = off + np.int64(P.n_cand[r]) - 1
    kept = np.int64(0)
    for c in range(n_sl):
        j = pool[top - c]
        if S.in_route[r, j] or S.day_left[j] < q:
            continue
        v = P.value[r, j]
        fits = False
        for p in range(L + 1):
            shift, k = insertion_cost(P, S, r, j, p)
            if shift == INF:
                continue
            fits = True
            ratio = w[j] * v * v / _fmax(0.001, shift)
            if ratio > best_ratio:
                best_ratio, best_j, best_p, best_k, best_shift = ratio, j, np.int64(p), np.int64(k), shift
        if fits:
            pool[top - kept] = j
            kept += 1
    n_sl_new = kept
    kept = np.int64(0)
    for c in range(n_pl):
        j = pool[off + c]
        if S.in_route[r, j] or S.day_left[j] < q:
            continue
        pool_d[off + kept] = pool_d[off + c]
        pool[off + kept] = j
        kept += 1
    if kept == 0:
        return best_ratio, best_j, best_p, best_k, best_shift, kept, n_sl_new
    best_ratio, best_j, best_p, best_k, best_shift, _rank, n_pl_new = _plain_sweep(
        P, S, r, pool, off, kept, w, best_ratio, best_j, best_p, best_k, best_shift, np.int64(-1), tab, idx, pool_d,
        np.int64(1))
    return best_ratio, best_j, best_p, best_k, best_shift, n_pl_new, n_sl_new


@njit(cache=True, nogil=True, inline="always")
def _bound_update(P, S, r, ins_p, pool, pool_d, off, n_pl):
    """After a visit was inserted at position ``ins_p`` of route ``r``: lower each live slot-free
    node's shift bound ``pool_d`` to its detour (``t_in + service + t_out - old``, as
    ``_plain_sweep`` computes a shift, without the wait) at the two arcs the insertion made. The
    other arcs are arcs the bound already covers (the ones where the node fitted at its last
    evaluation: an arc of the route then where it did not fit, it still does not, by the argument
    of ``greedy_fill``), so the bound stays below every shift the node can have."""
    travel, travel_t, t_from, t_to, service = P.travel, P.travel_t, P.t_from, P.t_to, P.service
    L = S.length[r]
    j = np.int64(S.ri[NODE, r, ins_p])
    prev = np.int64(S.ri[NODE, r, ins_p - 1]) if ins_p > 0 else np.int64(-1)
    nxt = np.int64(S.ri[NODE, r, ins_p + 1]) if ins_p + 1 < L else np.int64(-1)
    old1 = t_from[r, j] if prev < 0 else travel[prev, j]
    old2 = t_to[r, j] if nxt < 0 else travel[j, nxt]
    for c in range(off, off + n_pl):
        x = pool[c]
        sx = service[x]
        t_in1 = t_from[r, x] if prev < 0 else travel_t[x, prev]
        d = _fmin(t_in1 + sx + travel[x, j] - old1, pool_d[c])
        t_out2 = t_to[r, x] if nxt < 0 else travel[x, nxt]
        pool_d[c] = _fmin(travel_t[x, j] + sx + t_out2 - old2, d)


@njit(cache=True, nogil=True)
def _fill_best(P, S, r, w, pool, pool_d, used, off, n_pl, n_sl, tab, idx, ins_p):
    """Best insertion into route ``r`` for ``greedy_fill``: ``best_insertion`` over every
    candidate, or, where ``P.metric`` holds and the route was on time when the fill first scanned
    it, over its live candidates (``_live_best``; the first scan writes the list at
    ``pool[used:]`` and ``pool_d[used:]``, sized for every route's candidates). ``ins_p``: the
    position of the visit just inserted into ``r`` (-1: none since the last scan). Returns
    ``(ratio, node, pos, slot, shift, used)``."""
    live = P.metric[0]
    if live and off[r] < 0:
        if _on_time(P, S, r):
            off[r] = used
            used += np.int64(P.n_cand[r])
            n_pl[r], n_sl[r] = _live_init(P, S, r, pool, pool_d, off[r])
        else:
            live = False
    elif live and ins_p >= 0:
        _bound_update(P, S, r, ins_p, pool, pool_d, off[r], n_pl[r])
    if not live:
        ratio, j, p, k, shift = best_insertion(P, S, r, w)
        return ratio, j, p, k, shift, used
    ratio, j, p, k, shift, n_pl[r], n_sl[r] = _live_best(P, S, r, w, pool, pool_d, off[r], n_pl[r], n_sl[r], tab,
                                                         idx)
    return ratio, j, p, k, shift, used


@njit(cache=True, nogil=True)
def greedy_fill(P, S, routes_mask, freed, n_freed, w):
    """Insert visits until nothing fits, best ratio first over all routes.

    Routes in ``routes_mask`` are evaluated over all their candidates; the others only over the
    nodes ``freed[:n_freed]`` whose capacity can bind (``limited_nodes``: after a fill ends
    nothing fits anywhere, so a route that did not change can only gain from capacity released
    since, and only at a node whose capacity was ever short). Lazy evaluation: each route caches
    its best insertion; during the fill capacity only decreases and other routes do not change,
    so a cached ratio is an upper bound, and the chosen insertion is re-evaluated before it is
    applied. The best route is kept in a tournament tree (``_tree_build``), O(log R) per
    insertion, with the same choice as ``np.argmax`` over the cached ratios (issue 15: the argmax
    made construction O(R^2) at city scale). Returns the number of insertions.

    Dead candidates (issue 15, the speed of an iteration): where travel is metric (``P.metric``,
    ``travel_is_metric``), a node that has no feasible insertion in route ``r`` gets none for the
    rest of the fill, so each rescan of ``r`` evaluates only the candidates that fitted at its
    previous scan (``_live_best``). Proof: during a fill route ``r`` only gains visits and
    capacities only shrink. Say node ``x`` fits in ``r`` after visits were added. In that schedule
    remove the added visits: by the triangle inequality with service,
    ``t(i, k) <= t(i, j) + service_j + t(j, k)`` (start and end included), every later visit
    arrives no later, hence starts no later (earliest-start schedules with waiting are monotone),
    so every window, the day end and ``x``'s slot (at least as early, its capacity at least as
    large then) still hold: ``x`` fitted before too. The O(1) test agrees with that schedule when
    the route is on time (``_on_time``), which an insertion the test accepts keeps; a route that
    is not on time when first scanned is scanned in full. So the choice is the unpruned one (up to
    rounding within ``EPS`` = 1e-9 min, far below any data; ``tests/core/test_core_engine_fill.py``
    compares both). Where travel is not metric every rescan scans every candidate.

    Shift bounds: each live slot-free node also keeps a lower bound on its shift in the route (the
    least detour ``t_in + service + t_out - old`` over the arcs where it fitted, lowered by
    ``_bound_update`` at each insertion's two new arcs); a rescan skips, without changing the
    choice, every node whose ratio at that bound is below the best found so far (``_plain_sweep``).
    """
    R = S.length.shape[0]
    c_ratio = np.full(R, -1.0)
    c_j = np.full(R, -1, dtype=np.int64)
    c_p = np.full(R, -1, dtype=np.int64)
    c_k = np.full(R, -1, dtype=np.int64)
    c_shift = np.full(R, INF)
    lim = np.empty(max(n_freed, 1), dtype=freed.dtype)
    n_lim = limited_nodes(P, S, freed, n_freed, lim)
    # the live lists: route r's at pool[off[r]:off[r] + n_cand[r]] (off -1: none yet); scratch
    # position tables for ``_plain_sweep``, allocated once per fill
    n_pos = S.rt.shape[2] + 1
    tab = np.empty((4, n_pos))
    idx = np.empty((2, n_pos), dtype=np.int64)
    off = np.full(R, -1, dtype=np.int64)
    n_pl = np.zeros(R, dtype=np.int64)
    n_sl = np.zeros(R, dtype=np.int64)
    cap = P.cand.shape[0] * P.cand.shape[1] if P.metric[0] else 1
    pool = np.empty(cap, dtype=np.int64)
    pool_d = np.empty(cap)
    used = np.int64(0)
    for r in range(R):
        if routes_mask[r]:
            c_ratio[r], c_j[r], c_p[r], c_k[r], c_shift[r], used = _fill_best(
                P, S, r, w, pool, pool_d, used, off, n_pl, n_sl, tab, idx, np.int64(-1))
        elif n_lim > 0:
            c_ratio[r], c_j[r], c_p[r], c_k[r], c_shift[r] = best_insertion_among(P, S, r, lim, n_lim, w)
    size = 1
    while size < R:
        size *= 2
    tree = np.empty(2 * size, dtype=np.int64)
    _tree_build(c_ratio, tree)
    count = 0
    while True:
        r = tree[1]
        if r < 0 or c_ratio[r] < 0.0:
            break
        j, p = c_j[r], c_p[r]
        shift, k = insertion_cost(P, S, r, j, p)
        ins_p = np.int64(-1)  # stale: re-evaluate the route without inserting
        if abs(shift - c_shift[r]) <= 1e-9 and k == c_k[r] and not S.in_route[r, j]:
            insert_visit(P, S, r, j, p, k)
            count += 1
            ins_p = p
        c_ratio[r], c_j[r], c_p[r], c_k[r], c_shift[r], used = _fill_best(
            P, S, r, w, pool, pool_d, used, off, n_pl, n_sl, tab, idx, ins_p)
        _tree_update(c_ratio, tree, r)
    return count


@njit(cache=True, nogil=True)
def total_value(S):
    return S.rvalue.sum()


@njit(cache=True, nogil=True)
def total_time(P, S):
    """Sum over routes of (arrival at end - departure), minutes: the secondary objective."""
    t = 0.0
    for r in range(S.length.shape[0]):
        if S.length[r] > 0:
            t += S.end_arr[r] - P.day_start[r]
    return t


@njit(cache=True, nogil=True, inline="always")
def _try_sequence(P, S, r, seq, k):
    """Append ``seq[:k]`` to the (empty) route ``r`` in order, each at its earliest slot.

    Returns the arrival at the route's end, or inf (and the route emptied again) if one fails.
    """
    for c in range(k):
        j = seq[c]
        end = np.int64(S.length[r])
        shift, slot = insertion_cost(P, S, r, j, end)
        if shift == INF:
            mask = np.ones(S.length[r], dtype=np.bool_)
            remove_positions(P, S, r, mask)
            return INF
        insert_visit(P, S, r, j, end, slot)
    return S.end_arr[r]


@njit(cache=True, nogil=True)
def seed_protected(P, S, order):
    """Feasibility-first construction: put each route's protected visits (must-visits) in first.

    Routes are taken in ``order``; for each, every order of its protected nodes (Heap's
    permutations, up to 5 nodes; more are left to the greedy fill) is tried on the empty route,
    each visit at its earliest feasible entry slot, and the order that returns earliest is kept.
    This avoids the trap where a greedy insertion pins one must-visit to an early slot that
    leaves no room for another (MODELS.md 1.4c: with mandatory visits even feasibility is hard).
    Returns the number of routes whose protected visits all fit.
    """
    n = P.value.shape[1]
    seq = np.empty(n, dtype=np.int64)
    best = np.empty(n, dtype=np.int64)
    cnt = np.zeros(8, dtype=np.int64)
    ok = 0
    for idx in range(order.shape[0]):
        r = order[idx]
        if S.length[r] != 0:
            continue
        k = np.int64(0)
        for c in range(P.n_cand[r]):
            j = P.cand[r, c]
            if P.protect[r, j]:
                seq[k] = j
                k += 1
        if k == 0 or k > 5:
            continue
        best_end = INF
        cnt[:] = 0
        end = _try_sequence(P, S, r, seq, k)
        if end < best_end:
            best_end = end
            for c in range(k):  # a loop: slice assignment compiles an error formatter
                best[c] = seq[c]
        if end < INF:
            remove_positions(P, S, r, np.ones(S.length[r], dtype=np.bool_))
        i = 1
        while i < k:  # Heap's algorithm, iterative
            if cnt[i] < i:
                if i % 2 == 0:
                    seq[0], seq[i] = seq[i], seq[0]
                else:
                    seq[cnt[i]], seq[i] = seq[i], seq[cnt[i]]
                end = _try_sequence(P, S, r, seq, k)
                if end < best_end:
                    best_end = end
                    for c in range(k):
                        best[c] = seq[c]
                if end < INF:
                    remove_positions(P, S, r, np.ones(S.length[r], dtype=np.bool_))
                cnt[i] += 1
                i = 1
            else:
                cnt[i] = 0
                i += 1
        if best_end < INF:
            _try_sequence(P, S, r, best, k)
            ok += 1
    return ok


@njit(cache=True, nogil=True, inline="always")
def _simulate(P, r, nodes, eo, ec, L):
    """Earliest-start schedule of a visit sequence of route ``r``; its end arrival or inf."""
    t = P.day_start[r]
    prev = -1
    for p in range(L):
        j = nodes[p]
        a = t + (P.t_from[r, j] if prev < 0 else P.travel[prev, j])
        s = _fmax(eo[p], a)
        if s > ec[p] + EPS:
            return INF
        t = s + P.service[j]
        prev = j
    end = t + (P.t_to[r, prev] if prev >= 0 else P.t_direct[r])
    if end > P.day_end[r] + EPS:
        return INF
    return end


@njit(cache=True, nogil=True, inline="always")
def _apply_order(P, S, r, nodes, slots, eo, ec, L):
    """Write a new visit order (nodes, reserved slots, effective windows) into route ``r``."""
    for p in range(L):
        S.ri[NODE, r, p] = nodes[p]
        S.ri[SLOT, r, p] = slots[p]
        S.rt[EOPEN, r, p] = eo[p]
        S.rt[ECLOSE, r, p] = ec[p]
    recompute_route(P, S, r, np.int64(0))


@njit(cache=True, nogil=True)
def or_opt_route(P, S, r, max_seg):
    """Or-opt local search on route ``r``: move a string of 1..``max_seg`` consecutive visits to
    another place in the same route when that shortens the route (earlier end arrival), keeping
    every visit inside its (slot-reserved) time window. First improvement, repeated until no
    move improves. A move is simulated in O(L) only if it lowers travel time (an O(1) filter).
    Returns the number of moves applied.
    """
    L = S.length[r]
    if L < 2:
        return 0
    rt, ri = S.rt, S.ri
    nodes = np.empty(L, dtype=np.int64)
    eo = np.empty(L)
    ec = np.empty(L)
    sl = np.empty(L, dtype=np.int64)
    n2 = np.empty(L, dtype=np.int64)
    eo2 = np.empty(L)
    ec2 = np.empty(L)
    sl2 = np.empty(L, dtype=np.int64)
    moves = 0
    improved = True
    while improved:
        improved = False
        for p in range(L):
            nodes[p] = ri[NODE, r, p]
            sl[p] = ri[SLOT, r, p]
            eo[p] = rt[EOPEN, r, p]
            ec[p] = rt[ECLOSE, r, p]
        cur_end = S.end_arr[r]
        for k in range(1, max_seg + 1):
            if improved:
                break
            for i in range(L - k + 1):
                if improved:
                    break
                first, last = nodes[i], nodes[i + k - 1]
                prev = nodes[i - 1] if i > 0 else -1
                nxt = nodes[i + k] if i + k < L else -1
                gain = (_t_between(P, r, prev, first) + _t_between(P, r, last, nxt)
                        - _t_between(P, r, prev, nxt))
                # insert between positions q-1 and q of the route without the string
                for q in range(L + 1):
                    if i <= q <= i + k:
                        continue
                    a = nodes[q - 1] if q > 0 else -1
                    b = nodes[q] if q < L else -1
                    cost = _t_between(P, r, a, first) + _t_between(P, r, last, b) - _t_between(P, r, a, b)
                    if cost - gain >= -1e-9:
                        continue
                    w = 0
                    for p in range(L + 1):
                        if p == q:
                            for z in range(i, i + k):
                                n2[w], eo2[w], ec2[w], sl2[w] = nodes[z], eo[z], ec[z], sl[z]
                                w += 1
                        if p < L and (p < i or p >= i + k):
                            n2[w], eo2[w], ec2[w], sl2[w] = nodes[p], eo[p], ec[p], sl[p]
                            w += 1
                    end = _simulate(P, r, n2, eo2, ec2, L)
                    if end < cur_end - 1e-9:
                        _apply_order(P, S, r, n2, sl2, eo2, ec2, L)
                        moves += 1
                        improved = True
                        break
    return moves


@njit(cache=True, nogil=True)
def two_opt_route(P, S, r):
    """2-opt on route ``r``: reverse a string of visits when that makes the route end earlier,
    keeping every visit inside its (slot-reserved) time window. First improvement, repeated.
    The O(1) filter assumes symmetric travel; acceptance re-simulates the exact schedule. Returns
    the number of moves applied.

    The simulation of a reversal ``i..k`` gives the schedule of ``_simulate`` from the route's
    start at a fraction of the cost (issue 15): positions before ``i`` keep their stored starts
    (they are that schedule; if one of them misses its window, no move from ``i`` on can be
    accepted), so it starts at ``i``; it stops at the first visit out of its window, and at the
    first position after ``k`` whose start is not earlier than before (from there the route runs
    as before or later, so it cannot end earlier). It is written out here rather than called:
    a call taking the tuples ``P`` and ``S`` costs Numba reference-count updates of their arrays
    on every candidate move.
    """
    L = S.length[r]
    if L < 3:
        return 0
    rt, ri = S.rt, S.ri
    travel, t_from, t_to, service = P.travel, P.t_from, P.t_to, P.service
    day_start, day_end = P.day_start[r], P.day_end[r]
    nodes = np.empty(L, dtype=np.int64)
    n2 = np.empty(L, dtype=np.int64)
    sl2 = np.empty(L, dtype=np.int64)
    eo2 = np.empty(L)
    ec2 = np.empty(L)
    moves = 0
    improved = True
    while improved:
        improved = False
        first_bad = L
        for p in range(L):
            nodes[p] = ri[NODE, r, p]
            if first_bad == L and rt[START, r, p] > rt[ECLOSE, r, p] + EPS:
                first_bad = p
        cur_end = S.end_arr[r]
        for i in range(min(L - 1, first_bad + 1)):
            if improved:
                break
            a = nodes[i - 1] if i > 0 else -1
            ni = nodes[i]
            t_a_i = t_from[r, ni] if a < 0 else travel[a, ni]
            dep_i = rt[START, r, i - 1] + service[a] if i > 0 else day_start
            for k in range(i + 1, L):
                b = nodes[k + 1] if k + 1 < L else -1
                nk = nodes[k]
                t_a_k = t_from[r, nk] if a < 0 else travel[a, nk]
                t_i_b = t_to[r, ni] if b < 0 else travel[ni, b]
                t_k_b = t_to[r, nk] if b < 0 else travel[nk, b]
                delta = t_a_k + t_i_b - t_a_i - t_k_b
                if delta >= -1e-9:
                    continue
                # simulate from position i with the string i..k reversed
                t = dep_i
                prev = a
                ok = True
                for p in range(i, L):
                    q = i + k - p if p <= k else p
                    j = nodes[q]
                    arr = t + (t_from[r, j] if prev < 0 else travel[prev, j])
                    st = _fmax(rt[EOPEN, r, q], arr)
                    if st > rt[ECLOSE, r, q] + EPS or (p > k and st >= rt[START, r, p]):
                        ok = False
                        break
                    t = st + service[j]
                    prev = j
                if not ok:
                    continue
                end = t + t_to[r, prev]
                if end > day_end + EPS or end >= cur_end - 1e-9:
                    continue
                for p in range(L):
                    q = p if (p < i or p > k) else i + k - p
                    n2[p] = nodes[q]
                    sl2[p] = ri[SLOT, r, q]
                    eo2[p] = rt[EOPEN, r, q]
                    ec2[p] = rt[ECLOSE, r, q]
                _apply_order(P, S, r, n2, sl2, eo2, ec2, L)
                moves += 1
                improved = True
                break
    return moves

"""Numba kernels of the multi-day itinerary search: schedules, insertion, removal, hotel moves, ILS.

Model seen by the kernels (built by :mod:`optimizer.itineraries.solve`): ``G`` groups, ``D`` days,
``n`` sites, ``H`` hotels, places ``P`` = sites, hotels, terminals (rows of ``travel``). A *route*
is one group's day ``(g, d)``: it leaves its start place (arrival place or last night's hotel) no
earlier than ``lo[g, d]``, visits sites, and reaches its end place (tonight's hotel or the
departure place) by ``hi[g, d]`` (which already includes the daily active-time cap measured from
``lo``).

Schedules (exact, several windows, lunch, entry slots). The earliest schedule of a route is found
by a forward pass with two states per position, "lunch not yet taken" / "lunch taken" (the lunch
is a break taken at the place just left, starting inside its window). Waiting is allowed, so the
earliest start of each visit is optimal for the rest of the route: the earliest start is the first
time ``>= arrival`` that lies in one of the site's windows of that day and whose entry slot still
has room for the group (the group's own current booking excluded). The states after each position
are stored (``T0``, ``T1``), so an insertion at position ``p`` is evaluated from ``p`` on and stops
as soon as both states equal the stored ones (the rest of the route is then unchanged): for the
short routes of a day this is the insertion check of Vansteenwegen et al. (2009), C&OR 36(12), in
forward form (exact with several windows, where Wait/MaxShift is only a bound). Budget, per-type
counters (per day and per stay), daily quotas and hotel rooms are O(1) checks on ledgers.

Search: the ILS of Vansteenwegen et al. (2009) (greedy insertion by ratio value^2 / added minutes,
then a shake removing ``S`` consecutive visits from position ``R`` of every day of a group) with
the OPHS moves of Divsalar, Vansteenwegen & Cattrysse (2013), IJPE 145(1): change a night's hotel
(routes of the two days around it repaired by dropping visits, then refilled); visits move between
days because the shake empties parts of every day and the fill reinserts on any day.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

KP = namedtuple("KP", [
    "travel",        # float64[P, P] minutes
    "n_sites",       # int64[1]
    "dur",           # float64[n] visit minutes
    "w_open",        # float64[n, D, W] window opens (start of visit)
    "w_close",       # float64[n, D, W]
    "n_win",         # int64[n, D]
    "elev",          # float64[n] site elevation
    "hotel_elev",    # float64[H]
    "types",         # int8[n, T] 1 when the site has type t
    "slot_quota",    # int64[n] persons per slot, -1 none
    "day_quota",     # int64[n] persons per day, -1 none
    "slot_len",      # float64[1]
    "rooms_cap",     # int64[H] rooms per night, -1 none
    "room_price",    # float64[H]
    "price",         # float64[n] ticket per person
    "size",          # int64[G]
    "rooms",         # int64[G]
    "arr_day",       # int64[G]
    "dep_day",       # int64[G]
    "arr_place",     # int64[G] place index
    "dep_place",     # int64[G]
    "arr_elev",      # float64[G]
    "lo",            # float64[G, D]
    "hi",            # float64[G, D]
    "lunch",         # float64[G, 3] open, close, duration (duration < 0: no lunch)
    "lunch_req",     # bool[G, D]
    "budget",        # float64[G] (inf: none)
    "rooms_in_budget",  # bool[G]
    "lim_day",       # int64[G, T] (-1 none)
    "lim_trip",      # int64[G, T]
    "value",         # float64[G, n]
    "mv_day",        # int64[G, n]: -2 not a must-visit, -1 any day, else the day
    "max_visit",     # float64[G, D] highest site elevation on day d
    "max_sleep",     # float64[G, D] highest hotel elevation on night d
    "max_gain",      # float64[1] highest rise per night (inf none)
    "fixed_hotel",   # int64[G, D] hotel of night d, -1 chosen
    "hotel_allowed",  # bool[G, H] hotels group g may sleep in
    "must_bonus",    # float64[G] added to the search objective per must-visit made (> all values)
    "cand",          # int32[G, n] candidate sites (value > 0 or must-visit)
    "n_cand",        # int32[G]
    "tlo",           # float64[G, D] transfer bounds of the arrival/departure day (see day_span)
    "thi",           # float64[G, D]
    "max_gain_run",  # int64[1] most nights of gain in a row (rest-day rule), -1 none
    "no_lunch_quota",  # bool[G]: group g has no lunch and no site has an entry-slot quota (latest-start filter)
])

KS = namedtuple("KS", [
    "route",         # int32[G, D, Lmax]
    "rlen",          # int32[G, D]
    "T0",            # float64[G, D, Lmax + 1] earliest time after position q, lunch not taken
    "T1",            # float64[G, D, Lmax + 1] ... lunch taken
    "LS",            # float64[G, D, Lmax + 1] latest start of visit q keeping the rest feasible (q = L: the
                     # latest arrival at the end place); only kept when P.no_lunch_quota[g]
    "rend",          # float64[G, D] arrival at the end place (inf: infeasible)
    "start",         # float64[G, D, Lmax] start of each visit
    "lunch_pos",     # int32[G, D] position after which lunch is taken (0: start place), -1 none
    "lunch_start",   # float64[G, D]
    "vday",          # int32[G, n] day a site is visited by the group, -1 none
    "vslot",         # int32[G, n] its entry slot
    "night",         # int64[G, D] hotel of night d, -1 none
    "slot_used",     # int64[n, D, K] persons
    "day_used",      # int64[n, D]
    "room_used",     # int64[H, D]
    "spent",         # float64[G]
    "cnt_day",       # int64[G, D, T]
    "cnt_trip",      # int64[G, T]
    "gscore",        # float64[G] search objective: values + must_bonus per must-visit made
])

EPS = 1e-7
INF = np.inf


def copy_ks(S):
    return KS(*(a.copy() for a in S))


@njit(cache=True, nogil=True)
def assign_ks(dst, src):
    dst.route[:] = src.route
    dst.rlen[:] = src.rlen
    dst.T0[:] = src.T0
    dst.T1[:] = src.T1
    dst.LS[:] = src.LS
    dst.rend[:] = src.rend
    dst.start[:] = src.start
    dst.lunch_pos[:] = src.lunch_pos
    dst.lunch_start[:] = src.lunch_start
    dst.vday[:] = src.vday
    dst.vslot[:] = src.vslot
    dst.night[:] = src.night
    dst.slot_used[:] = src.slot_used
    dst.day_used[:] = src.day_used
    dst.room_used[:] = src.room_used
    dst.spent[:] = src.spent
    dst.cnt_day[:] = src.cnt_day
    dst.cnt_trip[:] = src.cnt_trip
    dst.gscore[:] = src.gscore


@njit(cache=True, nogil=True)
def _rand(rng):
    """xorshift64 on rng[0]; a non-negative int64."""
    x = np.uint64(rng[0])
    x ^= x << np.uint64(13)
    x ^= x >> np.uint64(7)
    x ^= x << np.uint64(17)
    rng[0] = np.int64(x & np.uint64(0x7FFFFFFFFFFFFFFF))
    return rng[0]


@njit(cache=True, nogil=True)
def _uniform(rng):
    return (_rand(rng) % 1000003) / 1000003.0


# ------------------------------------------------------------------------------------------ places
@njit(cache=True, nogil=True)
def start_place(P, S, g, d):
    if d == P.arr_day[g]:
        return P.arr_place[g]
    return P.n_sites[0] + S.night[g, d - 1]


@njit(cache=True, nogil=True)
def end_place(P, S, g, d):
    if d == P.dep_day[g]:
        return P.dep_place[g]
    return P.n_sites[0] + S.night[g, d]


# ------------------------------------------------------------------------------------------ schedule
@njit(cache=True, nogil=True)
def earliest_start(P, S, g, d, j, arr):
    """First start >= ``arr`` inside a window of site ``j`` on day ``d`` whose slot has room for
    group ``g`` (its own booking of ``j`` excluded); inf if none."""
    if arr == INF:
        return INF
    q = P.slot_quota[j]
    sl = P.slot_len[0]
    K = S.slot_used.shape[2]
    for w in range(P.n_win[j, d]):
        c = P.w_close[j, d, w]
        t = max(arr, P.w_open[j, d, w])
        if t > c + EPS:
            continue
        if q < 0:
            return t
        while t <= c + EPS:
            k = int(t // sl)
            if k >= K:
                break
            own = P.size[g] if (S.vday[g, j] == d and S.vslot[g, j] == k) else 0
            if q - S.slot_used[j, d, k] + own >= P.size[g]:
                return t
            t = (k + 1) * sl
    return INF


@njit(cache=True, nogil=True)
def _lunch_at(P, g, t):
    L = P.lunch[g, 2]
    if L < 0 or t == INF:
        return INF
    s = max(t, P.lunch[g, 0])
    if s > P.lunch[g, 1] + EPS:
        return INF
    return s + L


@njit(cache=True, nogil=True)
def _step(P, S, g, d, prev, j, t0, t1):
    """States after visiting ``j`` (coming from place ``prev``) and the optional lunch after it."""
    tr = P.travel[prev, j]
    s0 = earliest_start(P, S, g, d, j, t0 + tr) if t0 < INF else INF
    s1 = earliest_start(P, S, g, d, j, t1 + tr) if t1 < INF else INF
    e0 = s0 + P.dur[j]
    e1 = s1 + P.dur[j]
    lu = _lunch_at(P, g, e0)
    e1 = min(e1, lu)
    return e0, e1


@njit(cache=True, nogil=True)
def day_span(P, S, g, d):
    """``(lo, hi, transfer)`` of route (g, d) with its current start and end places: the static
    bounds ``lo``/``hi``; on the arrival or departure day, when the direct leg from the start place
    to the end place does not fit in them, the day is a transfer day with the bounds ``tlo``/``thi``
    (the arrival time or 0, the departure time or ``MAX_DAY_MIN``): no visits, no lunch, the group
    goes straight to its end place (a 09:00 flight from Gonggar leaves the hotel before the 08:00
    day window opens). Static transfer days (``lo > hi`` in the group's window) have ``lo = tlo``."""
    lo = P.lo[g, d]
    hi = P.hi[g, d]
    if (d == P.arr_day[g] or d == P.dep_day[g]) and \
            lo + P.travel[start_place(P, S, g, d), end_place(P, S, g, d)] > hi + EPS:
        return P.tlo[g, d], P.thi[g, d], True
    return lo, hi, False


@njit(cache=True, nogil=True)
def need_lunch(P, S, g, d):
    """Lunch is required on route (g, d) when the day has its lunch window (``lunch_req``: the day
    starts by the window's close and lunch fits before ``hi``) and lunch plus the direct leg from
    the start place to the end place fit before ``hi``: an empty day is always possible when its
    direct leg is (a group leaving Lhasa at 12:30 for a 67-min drive to Gonggar has no lunch)."""
    if not P.lunch_req[g, d]:
        return False
    lo, hi, transfer = day_span(P, S, g, d)
    return _need_lunch_in(P, S, g, d, lo, hi, transfer)


@njit(cache=True, nogil=True)
def _need_lunch_in(P, S, g, d, lo, hi, transfer):
    """``need_lunch`` with the day's ``day_span`` already known."""
    if transfer or not P.lunch_req[g, d]:
        return False
    leg = P.travel[start_place(P, S, g, d), end_place(P, S, g, d)]
    return max(lo, P.lunch[g, 0]) + P.lunch[g, 2] + leg <= hi + EPS


@njit(cache=True, nogil=True)
def _finish(P, S, g, d, prev, t0, t1):
    lo, hi, transfer = day_span(P, S, g, d)
    if transfer and prev != start_place(P, S, g, d):
        return INF  # a visit on a transfer day (``can_visit`` does not check it: this does)
    e = end_place(P, S, g, d)
    tr = P.travel[prev, e]
    r1 = t1 + tr
    r = r1 if _need_lunch_in(P, S, g, d, lo, hi, transfer) else min(t0 + tr, r1)
    if r <= hi + EPS:
        return r
    return INF


@njit(cache=True, nogil=True)
def eval_insert(P, S, g, d, p, j):
    """Arrival at the end place if site ``j`` is inserted at position ``p`` of route (g, d); inf if
    infeasible. Stops early once the schedule meets the stored one."""
    L = S.rlen[g, d]
    prev = start_place(P, S, g, d) if p == 0 else S.route[g, d, p - 1]
    t0 = S.T0[g, d, p]
    t1 = S.T1[g, d, p]
    t0, t1 = _step(P, S, g, d, prev, j, t0, t1)
    if t0 == INF and t1 == INF:
        return INF
    if P.no_lunch_quota[g]:
        # exact O(1) rejection: the rest stays feasible iff the next visit (or the end place) is
        # reached by its latest start (feasible starts are down-closed: waiting is allowed)
        nxt = S.route[g, d, p] if p < L else end_place(P, S, g, d)
        if t0 + P.travel[j, nxt] > S.LS[g, d, p] + EPS:
            return INF
    prev = np.int64(j)
    for i in range(p, L):
        node = S.route[g, d, i]
        t0, t1 = _step(P, S, g, d, prev, node, t0, t1)
        if t0 == INF and t1 == INF:
            return INF
        if t0 == S.T0[g, d, i + 1] and t1 == S.T1[g, d, i + 1]:
            return S.rend[g, d]
        prev = np.int64(node)
    return _finish(P, S, g, d, prev, t0, t1)


@njit(cache=True, nogil=True)
def _latest_starts(P, S, g, d, e):
    """``S.LS[g, d, q]``: the latest start of visit ``q`` of route (g, d) such that the rest of the
    route still reaches end place ``e`` by ``hi`` (``q = L``: the latest arrival at ``e``), for a
    route without lunch or slot quotas. Visits may wait, so the feasible starts of a visit are the
    window times up to that bound (-inf: none)."""
    L = S.rlen[g, d]
    S.LS[g, d, L] = P.hi[g, d]
    nxt = e
    for i in range(L - 1, -1, -1):
        j = S.route[g, d, i]
        b = S.LS[g, d, i + 1] - P.travel[j, nxt] - P.dur[j]
        best = -INF
        for w in range(P.n_win[j, d]):
            if P.w_open[j, d, w] <= b + EPS:
                t = min(b, P.w_close[j, d, w])
                best = max(best, t)
        S.LS[g, d, i] = best
        nxt = j


@njit(cache=True, nogil=True)
def local_shift(P, S, g, d, p, j):
    """Route without lunch or slot quotas (``P.no_lunch_quota[g]``): the Shift of Vansteenwegen et
    al. (2009) of inserting site ``j`` at position ``p`` of route (g, d), i.e. how much later the next
    place (visit or end place) is reached, travel, wait and visit included; inf if infeasible
    (exact, O(1) with several windows: by the latest starts ``S.LS``)."""
    L = S.rlen[g, d]
    prev = start_place(P, S, g, d) if p == 0 else S.route[g, d, p - 1]
    t = S.T0[g, d, p]
    s = earliest_start(P, S, g, d, j, t + P.travel[prev, j])
    if s == INF:
        return INF
    nxt = S.route[g, d, p] if p < L else end_place(P, S, g, d)
    a = s + P.dur[j] + P.travel[j, nxt]
    if a > S.LS[g, d, p] + EPS:
        return INF
    return a - (t + P.travel[prev, nxt])


@njit(cache=True, nogil=True)
def commit_route(P, S, g, d):
    """Recompute the schedule of route (g, d) (states, starts, lunch) and re-book its entry slots.
    Returns the arrival at the end place (inf if the route is infeasible)."""
    L = S.rlen[g, d]
    Lm = S.T0.shape[2]
    s0a = np.empty(Lm, dtype=np.float64)
    s1a = np.empty(Lm, dtype=np.float64)
    lf = np.zeros(Lm, dtype=np.bool_)
    lo, hi, transfer = day_span(P, S, g, d)
    t0 = lo
    t1 = _lunch_at(P, g, t0) if not transfer else INF
    lf[0] = t1 < INF
    S.T0[g, d, 0] = t0
    S.T1[g, d, 0] = t1
    prev = start_place(P, S, g, d)
    for i in range(L):
        j = S.route[g, d, i]
        tr = P.travel[prev, j]
        s0 = earliest_start(P, S, g, d, j, t0 + tr) if t0 < INF else INF
        s1 = earliest_start(P, S, g, d, j, t1 + tr) if t1 < INF else INF
        s0a[i + 1] = s0
        s1a[i + 1] = s1
        t0 = s0 + P.dur[j]
        e1 = s1 + P.dur[j]
        lu = _lunch_at(P, g, t0)
        if lu < e1:
            t1 = lu
            lf[i + 1] = True
        else:
            t1 = e1
            lf[i + 1] = False
        S.T0[g, d, i + 1] = t0
        S.T1[g, d, i + 1] = t1
        prev = j
    e = end_place(P, S, g, d)
    tr = P.travel[prev, e]
    r0 = t0 + tr
    r1 = t1 + tr
    if _need_lunch_in(P, S, g, d, lo, hi, transfer):
        f = 1
        r = r1
    elif r0 <= r1:
        f = 0
        r = r0
    else:
        f = 1
        r = r1
    if not r <= hi + EPS or (transfer and L > 0):
        r = INF
    S.rend[g, d] = r
    if P.no_lunch_quota[g]:
        _latest_starts(P, S, g, d, e)
    # backtrack the chosen path
    S.lunch_pos[g, d] = -1
    for q in range(L, -1, -1):
        if f == 1 and lf[q]:
            S.lunch_pos[g, d] = q
            S.lunch_start[g, d] = max(S.T0[g, d, q], P.lunch[g, 0])
            f = 0
        if q >= 1:
            S.start[g, d, q - 1] = s1a[q] if f == 1 else s0a[q]
    # re-book slots
    sl = P.slot_len[0]
    K = S.slot_used.shape[2]
    for i in range(L):
        j = S.route[g, d, i]
        if P.slot_quota[j] >= 0 and S.vday[g, j] == d and S.vslot[g, j] >= 0:
            S.slot_used[j, d, S.vslot[g, j]] -= P.size[g]
        st = S.start[g, d, i]
        k = int(st // sl) if st < INF else 0
        if k >= K:
            k = K - 1
        S.vslot[g, j] = k
        S.vday[g, j] = d
        if P.slot_quota[j] >= 0:
            S.slot_used[j, d, k] += P.size[g]
    return r


# ------------------------------------------------------------------------------------------ ledgers
@njit(cache=True, nogil=True)
def can_visit(P, S, g, d, j):
    """O(1) (O(types)) checks for group ``g`` visiting site ``j`` on day ``d`` besides time."""
    if S.vday[g, j] >= 0:
        return False
    m = P.mv_day[g, j]
    if m >= 0 and m != d:
        return False
    if P.n_win[j, d] == 0 or P.elev[j] > P.max_visit[g, d] + EPS:
        return False
    if S.spent[g] + P.price[j] * P.size[g] > P.budget[g] + 1e-6:
        return False
    dq = P.day_quota[j]
    if dq >= 0 and S.day_used[j, d] + P.size[g] > dq:
        return False
    for t in range(P.types.shape[1]):
        if P.types[j, t]:
            ld = P.lim_day[g, t]
            if ld >= 0 and S.cnt_day[g, d, t] + 1 > ld:
                return False
            lt = P.lim_trip[g, t]
            if lt >= 0 and S.cnt_trip[g, t] + 1 > lt:
                return False
    return True


@njit(cache=True, nogil=True)
def _book(P, S, g, d, j, sign):
    S.day_used[j, d] += sign * P.size[g]
    S.spent[g] += sign * P.price[j] * P.size[g]
    S.gscore[g] += sign * P.value[g, j]
    if P.mv_day[g, j] >= -1:
        S.gscore[g] += sign * P.must_bonus[g]
    for t in range(P.types.shape[1]):
        if P.types[j, t]:
            S.cnt_day[g, d, t] += sign
            S.cnt_trip[g, t] += sign


@njit(cache=True, nogil=True)
def insert_at(P, S, g, d, p, j):
    L = S.rlen[g, d]
    for i in range(L, p, -1):
        S.route[g, d, i] = S.route[g, d, i - 1]
    S.route[g, d, p] = j
    S.rlen[g, d] = L + 1
    _book(P, S, g, d, j, np.int64(1))
    S.vday[g, j] = -1
    S.vslot[g, j] = -1
    return commit_route(P, S, g, d)


@njit(cache=True, nogil=True)
def remove_at(P, S, g, d, p):
    """Remove the visit at position ``p`` of route (g, d) and re-schedule (no repair)."""
    L = S.rlen[g, d]
    j = S.route[g, d, p]
    for i in range(p, L - 1):
        S.route[g, d, i] = S.route[g, d, i + 1]
    S.rlen[g, d] = L - 1
    _book(P, S, g, d, np.int64(j), np.int64(-1))
    if P.slot_quota[j] >= 0 and S.vslot[g, j] >= 0:
        S.slot_used[j, d, S.vslot[g, j]] -= P.size[g]
    S.vday[g, j] = -1
    S.vslot[g, j] = -1
    return commit_route(P, S, g, d)


@njit(cache=True, nogil=True)
def repair_route(P, S, g, d):
    """Drop visits (the non-must one of lowest value first) until route (g, d) is feasible.
    Returns False if even the empty route is infeasible."""
    r = commit_route(P, S, g, d)
    while r == INF and S.rlen[g, d] > 0:
        best = np.int64(-1)
        bv = INF
        for i in range(S.rlen[g, d]):
            j = S.route[g, d, i]
            v = P.value[g, j] + (1e12 if P.mv_day[g, j] >= -1 else 0.0)
            if v < bv:
                bv = v
                best = i
        r = remove_at(P, S, g, d, best)
    return r < INF


# ------------------------------------------------------------------------------------------ fill
@njit(cache=True, nogil=True)
def _best_in_day(P, S, g, d, j, v, w, is_must):
    """Best insertion ratio and position of site ``j`` in route (g, d); (-1, -1) if none."""
    if S.rlen[g, d] >= S.route.shape[2] - 1 or not can_visit(P, S, g, d, j):
        return -1.0, -1
    old = S.rend[g, d]
    br = -1.0
    bp = -1
    fast = P.no_lunch_quota[g]
    for p in range(S.rlen[g, d] + 1):
        if fast:
            shift = local_shift(P, S, g, d, p, j)
            if shift == INF:
                continue
        else:
            r = eval_insert(P, S, g, d, p, j)
            if r == INF:
                continue
            shift = r - old
        if shift < 0:
            shift = 0.0
        ratio = (v * v * w + (1e12 if is_must else 0.0)) / (shift + 1e-3)
        if ratio > br:
            br = ratio
            bp = p
    return br, bp


@njit(cache=True, nogil=True)
def fill_group(P, S, g, must_only, noise, rng):
    """Greedy insertion for group ``g``: repeatedly insert the (site, day, position) with the best
    ratio value^2 / added minutes (must-visits first) until nothing fits. The best insertion of
    every site in every day is cached and only the changed day is re-evaluated after an insertion
    (budget, type and quota checks only tighten during a fill, so the cache is re-checked lazily).
    Returns insertions made."""
    made = 0
    nc = P.n_cand[g]
    a = P.arr_day[g]
    nd = P.dep_day[g] - a + 1
    br = np.full((nc, nd), -1.0)
    bp = np.full((nc, nd), -1, dtype=np.int64)
    wv = np.ones(nc)
    for c in range(nc):
        j = P.cand[g, c]
        if noise > 0:
            wv[c] = 1.0 - noise / 2 + noise * _uniform(rng)
        if S.vday[g, j] >= 0:
            continue
        is_must = P.mv_day[g, j] >= -1
        if must_only and not is_must:
            continue
        for dd in range(nd):
            br[c, dd], bp[c, dd] = _best_in_day(P, S, g, a + dd, j, P.value[g, j], wv[c], is_must)
    while True:
        best = -1.0
        bc = -1
        bd = -1
        for c in range(nc):
            for dd in range(nd):
                if br[c, dd] > best:
                    if not can_visit(P, S, g, a + dd, P.cand[g, c]):
                        br[c, dd] = -1.0
                        continue
                    best = br[c, dd]
                    bc = c
                    bd = dd
        if bc < 0:
            break
        j = P.cand[g, bc]
        r = insert_at(P, S, g, a + bd, bp[bc, bd], np.int64(j))
        if r == INF:  # cannot happen with exact checks; stay safe
            remove_at(P, S, g, a + bd, bp[bc, bd])
            br[bc, bd] = -1.0
            continue
        made += 1
        for dd in range(nd):
            br[bc, dd] = -1.0
        for c in range(nc):
            jj = P.cand[g, c]
            if S.vday[g, jj] >= 0:
                continue
            is_must = P.mv_day[g, jj] >= -1
            if must_only and not is_must:
                continue
            br[c, bd], bp[c, bd] = _best_in_day(P, S, g, a + bd, jj, P.value[g, jj], wv[c], is_must)
    return made


@njit(cache=True, nogil=True)
def replace_pass(P, S, g, rng):
    """Replace move for a group without lunch or slot quotas (``P.no_lunch_quota[g]``): for each
    non-must visit ``i`` in turn, take it out and put in the unvisited candidate of highest value
    above ``i``'s (ties: smallest Shift) that fits on any day at any position (budget and type
    counters checked by :func:`can_visit` with ``i`` already out); if none, ``i`` goes back where it
    was. After a replacement the group is refilled greedily. Returns the value gained (>= 0).
    (The "replace" of the team-orienteering local searches, e.g. Vansteenwegen et al. 2009's
    insert/replace neighbourhood, here with exact several-window checks.)"""
    if not P.no_lunch_quota[g]:
        return 0.0
    v0 = S.gscore[g]
    a = P.arr_day[g]
    b = P.dep_day[g]
    nc = P.n_cand[g]
    changed = False
    for d in range(a, b + 1):
        p = np.int64(0)
        while p < S.rlen[g, d]:
            i = S.route[g, d, p]
            if P.mv_day[g, i] >= -1:
                p += 1
                continue
            vi = P.value[g, i]
            remove_at(P, S, g, d, p)
            bj = np.int64(-1)
            bv = vi + 1e-9
            bsh = INF
            bd = np.int64(-1)
            bq = np.int64(-1)
            for c in range(nc):
                j = P.cand[g, c]
                vj = P.value[g, j]
                if j == i or S.vday[g, j] >= 0 or vj < bv:
                    continue
                for dd in range(a, b + 1):
                    if S.rlen[g, dd] >= S.route.shape[2] - 1 or not can_visit(P, S, g, dd, j):
                        continue
                    for q in range(S.rlen[g, dd] + 1):
                        sh = local_shift(P, S, g, dd, q, j)
                        if sh == INF:
                            continue
                        if vj > bv + 1e-9 or sh < bsh:
                            bj = j
                            bv = vj
                            bsh = sh
                            bd = dd
                            bq = q
            if bj >= 0:
                insert_at(P, S, g, bd, bq, bj)
                changed = True
            else:
                insert_at(P, S, g, d, p, np.int64(i))
            p += 1
    if changed:
        fill_group(P, S, g, np.bool_(False), 0.0, rng)
    return S.gscore[g] - v0


@njit(cache=True, nogil=True)
def eval_seq(P, S, g, d, seq, L):
    """Arrival at the end place of route (g, d) visiting ``seq[:L]`` in order; inf if infeasible."""
    lo, _hi, transfer = day_span(P, S, g, d)
    if transfer and L > 0:
        return INF
    t0 = lo
    t1 = _lunch_at(P, g, t0) if not transfer else INF
    prev = start_place(P, S, g, d)
    for i in range(L):
        j = seq[i]
        t0, t1 = _step(P, S, g, d, prev, j, t0, t1)
        if t0 == INF and t1 == INF:
            return INF
        prev = np.int64(j)
    return _finish(P, S, g, d, prev, t0, t1)


@njit(cache=True, nogil=True)
def two_opt_route(P, S, g, d):
    """2-opt on route (g, d): reverse segments while the arrival at the end place gets earlier
    (first improvement). Returns True if the route changed."""
    L = S.rlen[g, d]
    if L < 2:
        return False
    seq = np.empty(L, dtype=np.int32)
    changed = False
    improved = True
    while improved:
        improved = False
        cur = S.rend[g, d]
        for i in range(L - 1):
            for k in range(i + 1, L):
                for q in range(L):
                    seq[q] = S.route[g, d, q]
                lo_, hi_ = i, k
                while lo_ < hi_:
                    tmp = seq[lo_]
                    seq[lo_] = seq[hi_]
                    seq[hi_] = tmp
                    lo_ += 1
                    hi_ -= 1
                r = eval_seq(P, S, g, d, seq, L)
                if r < cur - 1e-6:
                    for q in range(L):
                        S.route[g, d, q] = seq[q]
                    commit_route(P, S, g, d)
                    cur = S.rend[g, d]
                    improved = True
                    changed = True
    return changed


# ------------------------------------------------------------------------------------------ hotels
@njit(cache=True, nogil=True)
def hotel_ok(P, S, g, k, h):
    """Night ``k`` of group ``g`` at hotel ``h``: fixed hotel, rooms, altitude rules (against the
    neighbouring nights as they are now)."""
    fh = P.fixed_hotel[g, k]
    if (fh >= 0 and fh != h) or not P.hotel_allowed[g, h]:
        return False
    if P.hotel_elev[h] > P.max_sleep[g, k] + EPS:
        return False
    cap = P.rooms_cap[h]
    if cap >= 0:
        own = P.rooms[g] if S.night[g, k] == h else 0
        if S.room_used[h, k] - own + P.rooms[g] > cap:
            return False
    mg = P.max_gain[0]
    if mg < INF:
        prev_e = P.arr_elev[g] if k == P.arr_day[g] else P.hotel_elev[S.night[g, k - 1]]
        if P.hotel_elev[h] - prev_e > mg + EPS:
            return False
        if k + 1 < P.dep_day[g]:
            if P.hotel_elev[S.night[g, k + 1]] - P.hotel_elev[h] > mg + EPS:
                return False
    if P.max_gain_run[0] >= 0 and gain_run_breaks(P, S, g, k, h):
        return False
    if P.rooms_in_budget[g]:
        old = P.room_price[S.night[g, k]] * P.rooms[g] if S.night[g, k] >= 0 else 0.0
        if S.spent[g] - old + P.room_price[h] * P.rooms[g] > P.budget[g] + 1e-6:
            return False
    return True


@njit(cache=True, nogil=True)
def gain_run_breaks(P, S, g, k, h):
    """True if group ``g`` sleeping at hotel ``h`` on night ``k`` (its other nights as they are)
    has more than ``max_gain_run`` nights of gain in a row (a night of gain sleeps higher than the
    night before, the first night compared with the arrival place; WMS rest-day rule)."""
    run = 0
    prev_e = P.arr_elev[g]
    for kk in range(P.arr_day[g], P.dep_day[g]):
        hh = h if kk == k else S.night[g, kk]
        if hh < 0:
            run = 0
            continue
        e = P.hotel_elev[hh]
        if e > prev_e:
            run += 1
            if run > P.max_gain_run[0]:
                return True
        else:
            run = 0
        prev_e = e
    return False


@njit(cache=True, nogil=True)
def set_hotel(P, S, g, k, h):
    """Move night ``k`` of group ``g`` to hotel ``h`` and repair the days ``k`` and ``k + 1``.
    Returns False if a day cannot be made feasible (the caller restores the state)."""
    old = S.night[g, k]
    if old >= 0:
        S.room_used[old, k] -= P.rooms[g]
        if P.rooms_in_budget[g]:
            S.spent[g] -= P.room_price[old] * P.rooms[g]
    S.night[g, k] = h
    S.room_used[h, k] += P.rooms[g]
    if P.rooms_in_budget[g]:
        S.spent[g] += P.room_price[h] * P.rooms[g]
    ok1 = repair_route(P, S, g, k)
    ok2 = repair_route(P, S, g, k + 1)
    return ok1 and ok2


@njit(cache=True, nogil=True)
def _ledger_group(P, S, g, sign):
    """Add (sign 1) or remove (-1) group ``g``'s slot, daily-quota and room bookings."""
    for d in range(P.arr_day[g], P.dep_day[g] + 1):
        for i in range(S.rlen[g, d]):
            j = S.route[g, d, i]
            S.day_used[j, d] += sign * P.size[g]
            if P.slot_quota[j] >= 0 and S.vslot[g, j] >= 0:
                S.slot_used[j, d, S.vslot[g, j]] += sign * P.size[g]
        if d < P.dep_day[g] and S.night[g, d] >= 0:
            S.room_used[S.night[g, d], d] += sign * P.rooms[g]


@njit(cache=True, nogil=True)
def copy_group(P, dst, src, g):
    """Copy group ``g``'s own arrays from ``src`` to ``dst`` (ledgers adjusted in ``dst``)."""
    _ledger_group(P, dst, g, np.int64(-1))
    dst.route[g] = src.route[g]
    dst.rlen[g] = src.rlen[g]
    dst.T0[g] = src.T0[g]
    dst.T1[g] = src.T1[g]
    dst.LS[g] = src.LS[g]
    dst.rend[g] = src.rend[g]
    dst.start[g] = src.start[g]
    dst.lunch_pos[g] = src.lunch_pos[g]
    dst.lunch_start[g] = src.lunch_start[g]
    dst.vday[g] = src.vday[g]
    dst.vslot[g] = src.vslot[g]
    dst.night[g] = src.night[g]
    dst.spent[g] = src.spent[g]
    dst.cnt_day[g] = src.cnt_day[g]
    dst.cnt_trip[g] = src.cnt_trip[g]
    dst.gscore[g] = src.gscore[g]
    _ledger_group(P, dst, g, np.int64(1))


@njit(cache=True, nogil=True)
def missing_musts(P, S, g):
    c = 0
    for k in range(P.n_cand[g]):
        j = P.cand[g, k]
        if P.mv_day[g, j] >= -1 and S.vday[g, j] < 0:
            c += 1
    return c


# ------------------------------------------------------------------------------------------ ILS
@njit(cache=True, nogil=True)
def shake_group(P, S, g, s_size, r_pos, k_days, rng):
    """Remove up to ``s_size`` consecutive non-must visits from position ``r_pos`` (mod length)
    of every day of group ``g``; with ``0 < k_days <`` the number of days, only on ``k_days`` days
    drawn at random (with replacement) and from a random position, as the route subset of the
    engine ILS (:mod:`optimizer.core.engine.ils`)."""
    a = P.arr_day[g]
    nd = P.dep_day[g] - a + 1
    pick = np.zeros(nd, dtype=np.bool_)
    sub = 0 < k_days < nd
    if sub:
        for _k in range(k_days):
            pick[_rand(rng) % nd] = True
    for d in range(a, a + nd):
        if sub and not pick[d - a]:
            continue
        L = S.rlen[g, d]
        if L == 0:
            continue
        p = (r_pos + (_rand(rng) if sub else 0)) % L
        removed = 0
        while removed < s_size and p < S.rlen[g, d]:
            j = S.route[g, d, p]
            if P.mv_day[g, j] >= -1:
                p += 1
                continue
            remove_at(P, S, g, d, p)
            removed += 1
        repair_route(P, S, g, d)


@njit(cache=True, nogil=True)
def shake_random(P, S, g, k, rng):
    """Remove up to ``k`` visits of group ``g`` drawn at random over all its days (non-must)."""
    a = P.arr_day[g]
    nd = P.dep_day[g] - a + 1
    for _ in range(k):
        tot = 0
        for d in range(a, a + nd):
            tot += S.rlen[g, d]
        if tot == 0:
            return
        pick = _rand(rng) % tot
        for d in range(a, a + nd):
            if pick < S.rlen[g, d]:
                j = S.route[g, d, pick]
                if P.mv_day[g, j] < -1:
                    remove_at(P, S, g, d, pick)
                    repair_route(P, S, g, d)
                break
            pick -= S.rlen[g, d]


@njit(cache=True, nogil=True)
def total_score(S):
    return S.gscore.sum()


@njit(cache=True, nogil=True)
def hotel_move(P, S, W, g, rng, try_all, noise):
    """Change the hotel of a random chosen night of group ``g``: with ``try_all`` every allowed
    hotel is tried (each followed by a fill) and the best kept; else one random allowed hotel.
    ``W`` is a scratch state. Returns True if the state changed."""
    nn = P.dep_day[g] - P.arr_day[g]
    if nn <= 0:
        return False
    free_n = 0
    for k in range(P.arr_day[g], P.dep_day[g]):
        if P.fixed_hotel[g, k] == -1:
            free_n += 1
    if free_n == 0:
        return False
    pick = _rand(rng) % free_n
    k = -1
    for kk in range(P.arr_day[g], P.dep_day[g]):
        if P.fixed_hotel[g, kk] == -1:
            if pick == 0:
                k = kk
                break
            pick -= 1
    H = P.hotel_elev.shape[0]
    cur = S.night[g, k]
    if try_all:
        copy_group(P, W, S, g)
        best_v = S.gscore[g]
        best_h = cur
        for h in range(H):
            if h == cur or not hotel_ok(P, S, g, k, h):
                continue
            if set_hotel(P, S, g, k, h):
                fill_group(P, S, g, np.bool_(True), 0.0, rng)
                fill_group(P, S, g, np.bool_(False), noise, rng)
                if S.gscore[g] > best_v + 1e-9:
                    best_v = S.gscore[g]
                    best_h = h
            copy_group(P, S, W, g)
        if best_h == cur:
            return False
        set_hotel(P, S, g, k, best_h)
        fill_group(P, S, g, np.bool_(True), 0.0, rng)
        fill_group(P, S, g, np.bool_(False), 0.0, rng)
        return True
    n_ok = 0
    for h in range(H):
        if h != cur and hotel_ok(P, S, g, k, h):
            n_ok += 1
    if n_ok == 0:
        return False
    pick = _rand(rng) % n_ok
    for h in range(H):
        if h != cur and hotel_ok(P, S, g, k, h):
            if pick == 0:
                copy_group(P, W, S, g)
                if not set_hotel(P, S, g, k, h):
                    copy_group(P, S, W, g)
                    return False
                return True
            pick -= 1
    return False


@njit(cache=True, nogil=True)
def ils_iterations(P, S, C, B, W, ctrl, fbest, rng, prm, dirty, n_iter, max_noimp):
    """Run up to ``n_iter`` ILS iterations on ``S`` (current accepted solution mirrored in ``C``,
    best kept in ``B``, scratch ``W``).

    Each iteration shakes a few groups (a string of visits per day, or with probability
    ``p_random`` visits drawn at random over the stay; a hotel move with probability ``hotel_move_p``, always for
    a group missing a must-visit), refills them, runs 2-opt on their days and accepts the result by
    the simulated-annealing rule of SAILS (Gunawan, Lau, Vansteenwegen & Lu 2017, JORS 68(8)):
    always if not worse, else with probability exp(delta / T); a rejected move is undone group by
    group from ``C``. ``dirty`` bool[G] marks the groups where ``S`` differs from ``B`` (kept
    between calls), so a new best or a restore copies only those groups.
    ctrl int64: [S size, R position, iterations without improvement, iterations, since restore];
    fbest float64: [best score, current score, temperature]; prm float64: [groups shaken,
    restore_every, max shake size, noise, hotel move probability, try all hotels (0/1), 2-opt (0/1),
    start temperature, cooling factor, probability of a random-visit shake, replace gate (a shaken
    solution within this fraction of the best gets :func:`replace_pass`; < 0: never)]. Returns
    iterations run. ``prm[11]``: days shaken per group (0: all), ``prm[12]`` (0/1): an equal score
    reached with less total route time (sum of the arrivals at the end places, ``fbest[3]``) also
    counts as a new best (the tie-break of the engine ILS).
    """
    G = S.rlen.shape[0]
    n_shake = int(prm[0])
    restore_every = int(prm[1])
    max_shake = int(prm[2])
    noise = prm[3]
    p_hotel = prm[4]
    try_all = prm[5] > 0
    two_opt = prm[6] > 0
    t_start = prm[7]
    alpha = prm[8]
    p_random = prm[9]
    gate = prm[10]
    k_days = int(prm[11])
    by_time = prm[12] > 0
    done = 0
    chosen = np.zeros(G, dtype=np.bool_)
    for _ in range(n_iter):
        # dirty[g]: group g of S differs from B (copied group by group, not the whole state)
        if max_noimp >= 0 and ctrl[2] >= max_noimp:
            break
        chosen[:] = False
        if G <= n_shake:
            chosen[:] = True
        else:
            for _k in range(n_shake):
                chosen[_rand(rng) % G] = True
        for g in range(G):
            if not chosen[g]:
                continue
            miss = missing_musts(P, S, g) > 0
            if miss or (p_hotel > 0 and _uniform(rng) < p_hotel):
                hotel_move(P, S, W, g, rng, try_all or miss, noise)
            if _uniform(rng) < p_random:
                shake_random(P, S, g, ctrl[0] + 1, rng)
            else:
                shake_group(P, S, g, ctrl[0], ctrl[1], k_days, rng)
            fill_group(P, S, g, np.bool_(True), 0.0, rng)
            fill_group(P, S, g, np.bool_(False), noise, rng)
            if two_opt:
                again = False
                for d in range(P.arr_day[g], P.dep_day[g] + 1):
                    if two_opt_route(P, S, g, d):
                        again = True
                if again:
                    fill_group(P, S, g, np.bool_(False), noise, rng)
        if gate >= 0 and total_score(S) >= fbest[0] * (1.0 - gate) - 1e-9:
            for g in range(G):
                if chosen[g]:
                    replace_pass(P, S, g, rng)
        v = total_score(S)
        ctrl[3] += 1
        done += 1
        delta = v - fbest[1]
        temp = fbest[2]
        accept = delta >= -1e-9 or (temp > 0 and _uniform(rng) < np.exp(delta / temp))
        if accept:
            fbest[1] = v
            for g in range(G):
                if chosen[g]:
                    copy_group(P, C, S, g)
                    dirty[g] = True
        else:
            for g in range(G):
                if chosen[g]:
                    copy_group(P, S, C, g)
        if t_start > 0:
            fbest[2] = temp * alpha
            if fbest[2] < t_start / 1000.0:
                fbest[2] = t_start
        tt = 0.0
        if by_time:
            for g in range(G):
                for d in range(P.arr_day[g], P.dep_day[g] + 1):
                    tt += S.rend[g, d]
        if v > fbest[0] + 1e-9 or (by_time and v > fbest[0] - 1e-9 and tt < fbest[3] - 1e-6):
            fbest[0] = v
            fbest[3] = tt
            for g in range(G):
                if dirty[g]:
                    copy_group(P, B, S, g)
                    dirty[g] = False
            ctrl[0] = 1
            ctrl[2] = 0
            ctrl[4] = 0
        else:
            ctrl[0] += 1
            ctrl[2] += 1
            ctrl[4] += 1
            ctrl[1] += 1
            if ctrl[0] > max_shake:
                ctrl[0] = 1
            if ctrl[4] >= restore_every:
                for g in range(G):
                    if dirty[g]:
                        copy_group(P, S, B, g)
                        copy_group(P, C, B, g)
                        dirty[g] = False
                fbest[1] = fbest[0]
                ctrl[4] = 0
    return done

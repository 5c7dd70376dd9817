"""Numba kernels of the drone heuristic: route cost, best insertion, removal, relocate, ruin-and-recreate.

Arrays (built once per problem by ``optimizer.drones.instance.build_instance``):

* ``D``: (H + N, H + N) air km between hubs (first H) and deliveries, obstacle-avoiding (1e9: no path);
* ``DR``: per drone ``[hub index, base_kg, k (W/kg^1.5), km/min, climb+descent min, hover min at a drop,
  usable Wh, max payload kg at the hub's density, swap min, 1 if the hub is below the ceiling else 0]``;
* ``DL``: per delivery ``[node index in D, weight kg, window open min, window close min]``;
* a drone's route: delivery indices with ``-1`` between trips, ``routes[d, :lens[d]]``.

``trip_energy_wh`` is THE implementation of the trip energy (formula in ``optimizer.drones.energy``);
it is inlined into ``route_cost`` and called from Python through ``DroneType.trip_energy_wh``.
Search: greedy priority-ordered cheapest insertion (new-trip moves included), relocate local search,
then ruin-and-recreate iterations (random or related removal of up to 12 deliveries, priority-ordered
reinsertion with noise, relocate every 10th iteration, threshold acceptance at +0.3 % cost, occasional
restart from the best).
"""

from __future__ import annotations

import numpy as np
from numba import njit

INF = 1e18


@njit(cache=True, nogil=True, inline="always")
def trip_energy_wh(legs, n, k, base_kg, svc_min):
    """Energy of one trip hub -> n stops -> hub, Wh (Dorling et al. 2017; formula in ``optimizer.drones.energy``)::

        E = sum_{i<n} k (W + m_i)^{3/2} (t_i + s) / 60 + k W^{3/2} t_n / 60

    ``legs``: float64 array of shape (2, >= n + 1): ``legs[0, 0..n]`` the flight minutes t_i of the
    n + 1 legs (``DroneType.leg_minutes``: km / v + climb and descent), ``legs[1, 0..n-1]`` the parcel
    dropped at each stop, kg (m_i = sum of the drops from stop i on; further entries are not read).
    ``k``: W / kg^{3/2} (``DroneType.power_coeff``), ``base_kg``: W = frame + battery, kg, ``svc_min``:
    s, hover minutes at a drop.
    """
    pay = 0.0
    for i in range(n):
        pay += legs[1, i]
    e = 0.0
    for i in range(n):
        e += k * (base_kg + pay) ** 1.5 * (legs[0, i] + svc_min) / 60.0
        pay -= legs[1, i]
    e += k * base_kg ** 1.5 * legs[0, n] / 60.0
    return e


@njit(cache=True, nogil=True)
def route_cost(seq, L, d, D, DR, DL, day0, day1, use_time, work):
    """Energy (Wh) or flight minutes of drone d's route ``seq[:L]`` (trips split by -1); INF if infeasible.

    Checks per trip: payload, energy (``trip_energy_wh``) against the usable battery, the departure
    interval from the windows, the day's end; trips are scheduled earliest-first after a battery swap.
    ``work``: float64 scratch of shape (2, >= L + 1) (leg minutes and drops of the trip being costed).
    """
    hub = int(DR[d, 0])
    base, k, v, tv, svc, usable, maxpay, swap = DR[d, 1], DR[d, 2], DR[d, 3], DR[d, 4], DR[d, 5], DR[d, 6], DR[d, 7], DR[d, 8]
    if DR[d, 9] <= 0 and L > 0:
        return INF
    tfree = day0
    total = 0.0
    i = 0
    while i < L:
        j = i
        pay = 0.0
        while j < L and seq[j] >= 0:
            pay += DL[seq[j], 1]
            j += 1
        if j == i or pay > maxpay + 1e-9:
            return INF
        off = 0.0
        lo = -INF
        hi = INF
        u = hub
        n = 0
        for q in range(i, j):
            c = seq[q]
            node = int(DL[c, 0])
            tl = D[u, node] / v + tv
            work[0, n] = tl
            work[1, n] = DL[c, 1]
            n += 1
            off += tl
            lo = max(lo, DL[c, 2] - off)
            hi = min(hi, DL[c, 3] - off)
            off += svc
            u = node
        tl = D[u, hub] / v + tv
        work[0, n] = tl
        off += tl
        e = trip_energy_wh(work, n, k, base, svc)
        if e > usable + 1e-9:
            return INF
        s = max(tfree, lo)
        if s > hi + 1e-9 or s + off > day1 + 1e-9:
            return INF
        tfree = s + off + swap
        total += off if use_time else e
        i = j + 1
    return total


@njit(cache=True, nogil=True)
def _best_insert(c, routes, lens, costs, buf, work, D, DR, DL, day0, day1, use_time):
    """Cheapest feasible insertion of delivery c: (drone, pos, kind, delta); drone -1 if none.

    kind 0: c at pos inside a trip; kind 1: new trip [c, -1] at trip boundary pos; kind 2: [-1, c] appended.
    """
    bd, bp, bk, bdelta = -1, -1, -1, INF
    for d in range(routes.shape[0]):
        L = lens[d]
        r = routes[d]
        for kind in range(3):
            for pos in range(L + 1):
                if kind == 0:
                    if L == 0 and pos == 0:
                        pass
                    elif not ((pos > 0 and r[pos - 1] >= 0) or (pos < L and r[pos] >= 0)):
                        continue
                    if L == 0:
                        pass
                    n = 0
                    for q in range(pos):
                        buf[n] = r[q]
                        n += 1
                    buf[n] = c
                    n += 1
                    for q in range(pos, L):
                        buf[n] = r[q]
                        n += 1
                elif kind == 1:
                    if L == 0 or not (pos == 0 or r[pos - 1] < 0) or pos == L:
                        continue
                    n = 0
                    for q in range(pos):
                        buf[n] = r[q]
                        n += 1
                    buf[n] = c
                    buf[n + 1] = -1
                    n += 2
                    for q in range(pos, L):
                        buf[n] = r[q]
                        n += 1
                else:
                    if L == 0 or pos != L:
                        continue
                    for q in range(L):
                        buf[q] = r[q]
                    buf[L] = -1
                    buf[L + 1] = c
                    n = L + 2
                cst = route_cost(buf, n, d, D, DR, DL, day0, day1, use_time, work)
                if cst < INF and cst - costs[d] < bdelta - 1e-12:
                    bd, bp, bk, bdelta = d, pos, kind, cst - costs[d]
    return bd, bp, bk, bdelta


@njit(cache=True, nogil=True)
def _apply_insert(c, d, pos, kind, routes, lens):
    L = lens[d]
    r = routes[d]
    if kind == 0:
        for q in range(L, pos, -1):
            r[q] = r[q - 1]
        r[pos] = c
        lens[d] = L + 1
    elif kind == 1:
        for q in range(L + 1, pos + 1, -1):
            r[q] = r[q - 2]
        r[pos] = c
        r[pos + 1] = -1
        lens[d] = L + 2
    else:
        r[L] = -1
        r[L + 1] = c
        lens[d] = L + 2


@njit(cache=True, nogil=True)
def _remove(c, routes, lens, where):
    """Remove delivery c from its drone's route, dropping a trip left empty."""
    d = where[c]
    r = routes[d]
    L = lens[d]
    pos = -1
    for q in range(L):
        if r[q] == c:
            pos = q
            break
    left_sep = pos == 0 or r[pos - 1] < 0
    right_sep = pos == L - 1 or r[pos + 1] < 0
    drop = 1
    start = pos
    if left_sep and right_sep and L > 1:
        drop = 2
        if pos < L - 1:
            start = pos          # remove c and the separator after it
        else:
            start = pos - 1      # last trip: remove the separator before it
    for q in range(start, L - drop):
        r[q] = r[q + drop]
    lens[d] = L - drop
    where[c] = -1


@njit(cache=True, nogil=True)
def recompute(routes, lens, costs, D, DR, DL, day0, day1, use_time):
    work = np.empty((2, routes.shape[1] + 2))
    for d in range(routes.shape[0]):
        costs[d] = route_cost(routes[d], lens[d], d, D, DR, DL, day0, day1, use_time, work)


@njit(cache=True, nogil=True)
def insert_all(order, routes, lens, costs, where, buf, D, DR, DL, day0, day1, use_time):
    work = np.empty((2, buf.shape[0] + 2))
    for c in order:
        if where[c] >= 0:
            continue
        d, pos, kind, delta = _best_insert(c, routes, lens, costs, buf, work, D, DR, DL, day0, day1, use_time)
        if d >= 0:
            _apply_insert(c, d, pos, kind, routes, lens)
            where[c] = d
            costs[d] += delta


@njit(cache=True, nogil=True)
def _priority_order(cands, prio, noise):
    keys = np.empty(len(cands))
    for i in range(len(cands)):
        keys[i] = -prio[cands[i]] * 1000.0 + noise * np.random.random()
    return cands[np.argsort(keys)]


@njit(cache=True, nogil=True)
def relocate_pass(active, routes, lens, costs, where, buf, D, DR, DL, day0, day1, use_time):
    improved = False
    work = np.empty((2, buf.shape[0] + 2))
    for c in active:
        d0 = where[c]
        if d0 < 0:
            continue
        saved = routes[d0].copy()
        L0 = lens[d0]
        c0 = costs[d0]
        _remove(c, routes, lens, where)
        costs[d0] = route_cost(routes[d0], lens[d0], d0, D, DR, DL, day0, day1, use_time, work)
        d, pos, kind, delta = _best_insert(c, routes, lens, costs, buf, work, D, DR, DL, day0, day1, use_time)
        gain = c0 - costs[d0]
        if d >= 0 and delta < gain - 1e-9:
            _apply_insert(c, d, pos, kind, routes, lens)
            where[c] = d
            costs[d] += delta
            improved = True
        else:
            for k in range(routes.shape[1]):
                routes[d0, k] = saved[k]
            lens[d0] = L0
            costs[d0] = c0
            where[c] = d0
    return improved


@njit(cache=True, nogil=True)
def _score(wh, active, prio):
    s = 0
    for c in active:
        if wh[c] >= 0:
            s += prio[c]
    return s


@njit(cache=True, nogil=True)
def _copy_into(routes, lens, costs, where, r2, l2, c2, w2):
    # element loops: Numba's array-to-slice assignment compiles a shape-mismatch error formatter
    # (str/join machinery, about a second of the first run's JIT); the shapes here always match
    for d in range(routes.shape[0]):
        lens[d] = l2[d]
        costs[d] = c2[d]
        for k in range(routes.shape[1]):
            routes[d, k] = r2[d, k]
    for c in range(where.shape[0]):
        where[c] = w2[c]


@njit(cache=True, nogil=True)
def ruin_and_recreate(routes, lens, costs, where, active, prio, n_iter, seed, it0, D, DR, DL, day0, day1, use_time):
    """Ruin-and-recreate iterations from the given solution; returns the best (in place) and its score."""
    np.random.seed(seed)
    buf = np.empty(routes.shape[1] + 4, dtype=np.int64)
    n = len(active)
    best_r, best_l, best_c, best_w = routes.copy(), lens.copy(), costs.copy(), where.copy()

    best_s = _score(where, active, prio)
    best_cost = costs.sum()
    cur_s, cur_cost = best_s, best_cost
    for it in range(n_iter):
        r2, l2, c2, w2 = routes.copy(), lens.copy(), costs.copy(), where.copy()
        served = active[w2[active] >= 0]
        if len(served) > 0:
            k = 1 + np.random.randint(min(12, max(1, len(served) // 3 + 1)))
            if np.random.random() < 0.5:
                picks = np.random.permutation(served)[:k]
            else:
                s0 = served[np.random.randint(len(served))]
                dd = np.empty(len(served))
                for i in range(len(served)):
                    dd[i] = D[int(DL[served[i], 0]), int(DL[s0, 0])]
                picks = served[np.argsort(dd)][:k]
            for c in picks:
                _remove(c, r2, l2, w2)
            recompute(r2, l2, c2, D, DR, DL, day0, day1, use_time)
        cands = active[w2[active] < 0]
        order = _priority_order(cands, prio, 5.0)
        insert_all(order, r2, l2, c2, w2, buf, D, DR, DL, day0, day1, use_time)
        if (it0 + it) % 10 == 0:  # every 10th iteration of the whole run, however it is batched
            relocate_pass(active, r2, l2, c2, w2, buf, D, DR, DL, day0, day1, use_time)
        s2 = _score(w2, active, prio)
        cost2 = c2.sum()
        if s2 > cur_s or (s2 == cur_s and cost2 < cur_cost * 1.003 + 1e-9):
            _copy_into(routes, lens, costs, where, r2, l2, c2, w2)
            cur_s, cur_cost = s2, cost2
            if s2 > best_s or (s2 == best_s and cost2 < best_cost - 1e-9):
                best_r, best_l, best_c, best_w = r2.copy(), l2.copy(), c2.copy(), w2.copy()
                best_s, best_cost = s2, cost2
        elif n > 0 and np.random.random() < 0.02:   # restart from the best now and then
            _copy_into(routes, lens, costs, where, best_r, best_l, best_c, best_w)
            cur_s, cur_cost = best_s, best_cost
    _copy_into(routes, lens, costs, where, best_r, best_l, best_c, best_w)
    return best_s, best_cost

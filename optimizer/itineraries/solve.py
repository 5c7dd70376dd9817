"""Solve a multi-day itinerary problem: ``solve(problem, stop, seed=0, params=None)``.

The ILS of :mod:`optimizer.itineraries.kernels` (Vansteenwegen et al. 2009 ILS with the OPHS hotel
moves of Divsalar et al. 2013) on the arrays compiled here; ``params.method = "cpsat"`` dispatches
to the exact model :mod:`models.itineraries_cpsat` (small cases).

Day rules shared with the verifier (:mod:`optimizer.itineraries.verify`, written apart):
* the outing of group ``g`` on day ``d`` lies in ``[lo, hi]``: the group's day window, with
  ``lo >= arrival_min`` on the arrival day and ``hi <= departure_min`` on the departure day, and
  ``hi <= lo + active_min`` (active time counted from ``lo``, so a plan that leaves later is within
  it too); if ``lo > hi`` the day is a *transfer day* (arrival after the window closes or
  departure before it opens): ``[arrival_min or 0, departure_min or MAX_DAY_MIN]``, no visits, no
  lunch;
* on the arrival and departure days, when the direct leg from the day's start place to its end
  place does not fit in ``[lo, hi]`` (``lo + leg > hi``), the day is a transfer day too (bounds
  ``[arrival_min or 0, departure_min or MAX_DAY_MIN]``, no visits, no lunch): the group goes
  straight there, e.g. leaves its hotel at 07:50 for a 09:00 flight while its window opens at 08:00;
* lunch is required when ``lo <= lunch.close_min`` and ``max(lo, lunch.open_min) + duration + leg
  <= hi``, ``leg`` the direct travel from the day's start place to its end place (a day whose
  direct leg fits is never made impossible by lunch: gap 9 of docs/ITINERARIES_KNOWN_GAPS.md);
* rest-day rule (``AcclimatizationRules.max_consecutive_gain_nights``): at most that many nights
  in a row each sleeping higher than the night before (the first night against the arrival place).

Hotels of a group (construction and retry, ``_choose_hotels``): a dynamic programme over (night,
hotel, nights of gain in a row) gives the cheapest room cost of every feasible rest of the stay;
the forward pass keeps the stay within the budget (rooms first within ``budget - must-visit
tickets``, else the whole budget) and prefers the hotel nearest to the group's sites, then the one
fewer other groups may use (``_room_pressure``: cheap rooms stay free for the groups that may only
use those). Groups without
a hotel sequence are retried during the search (every ``retry_every`` iterations, problems of two
groups or more) against the rooms left then, and groups missing a must-visit try emptying a day of
their optional visits to fit it (``_retry_unplanned``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numba import njit

from optimizer.core.errors import InvalidInput
from optimizer.core.results import FEASIBLE, NO_SOLUTION_IN_TIME, SolveStats, Unserved
from optimizer.core.stop import StoppingCriterion
from optimizer.itineraries import kernels as K
from optimizer.itineraries.giant import best_hotel_plan, is_ophs_like
from optimizer.itineraries.problem import MAX_DAY_MIN, Group, ItineraryProblem
from optimizer.itineraries.solution import DayRoute, GroupItinerary, ItinerarySolution, Visit

__all__ = ["TOURS_PROFILE", "ItineraryParams", "day_bounds", "is_tour_like", "lunch_required", "resolve_params",
           "solve", "solve_ils"]


@dataclass(frozen=True, slots=True)
class ItineraryParams:
    """Search settings.

    ``method``: ``ils`` (default) or ``cpsat`` (exact, small cases); ``shake_groups``: groups
    shaken per iteration; ``restore_every``: iterations without a new best before going back to
    the best; ``max_shake``: longest string removed per day (0: auto); ``noise``: random weight
    on insertion ratios in [1 - noise/2, 1 + noise/2]; ``hotel_move_p``: probability of a hotel
    move per shaken group; ``try_all_hotels``: a hotel move tries every hotel (default for up to
    4 groups); ``workers``: CP-SAT workers; ``two_opt``: 2-opt on the days of a shaken group;
    ``sa_t0``: start temperature of the SA acceptance as a fraction of the mean site value (0: accept
    every repaired solution, the original ILS); ``sa_alpha``: cooling per iteration; ``random_shake_p``: probability that a shake removes visits drawn
    at random over the stay instead of a string per day; ``giant_tour``: start OPHS-like problems from
    the best fixed-hotel-sequence plan (:mod:`optimizer.itineraries.giant`); ``giant_share``: the
    fraction of the runtime limit that start may use (the ILS gets the rest); ``retry_every``: every
    so many iterations the groups without a plan are retried against the rooms left (0: never);
    ``replace_gate``: a
    shaken solution within this fraction of the best score gets the replace move
    (:func:`optimizer.itineraries.kernels.replace_pass`, groups without lunch or slot quotas only; < 0:
    never); ``shake_days``: days shaken per group per iteration (0: every day); ``best_by_time``: an
    equal score with less total route time counts as a new best; ``profile``: ``general`` uses the
    fields as given, ``tours`` replaces them by :data:`TOURS_PROFILE`, ``auto`` (default) picks
    ``tours`` when :func:`is_tour_like` (MCTOPMTW), else ``general``.
    """

    method: str = "ils"
    shake_groups: int = 8
    restore_every: int = 200
    max_shake: int = 0
    noise: float = 0.6
    hotel_move_p: float = 0.3
    try_all_hotels: bool | None = None
    workers: int = 1
    two_opt: bool = True
    sa_t0: float = 1.0
    sa_alpha: float = 0.995
    random_shake_p: float = 0.5
    giant_tour: bool = True
    giant_share: float = 0.9
    retry_every: int = 500
    replace_gate: float = -1.0
    shake_days: int = 0
    best_by_time: bool = False
    profile: str = "auto"

    def __post_init__(self) -> None:
        if self.method not in ("ils", "cpsat"):
            raise InvalidInput("params.method", self.method, "must be 'ils' or 'cpsat'")
        if isinstance(self.retry_every, bool) or not isinstance(self.retry_every, int) or self.retry_every < 0:
            raise InvalidInput("params.retry_every", self.retry_every, "must be an integer >= 0")
        if isinstance(self.giant_share, bool) or not (isinstance(self.giant_share, (int, float)) and 0.0 < self.giant_share < 1.0):
            raise InvalidInput("params.giant_share", self.giant_share, "must be a number in (0, 1)")
        if self.profile not in ("auto", "general", "tours"):
            raise InvalidInput("params.profile", self.profile, "must be 'auto', 'general' or 'tours'")


#: Settings of the ``tours`` profile (they replace the fields above), chosen on half A of the
#: MCTOPMTW split (:func:`bench.itineraries.half_of`; half B held out, both reported in the
#: ``itineraries_mctopmtw`` section of ``bench/RESULTS.md``): on the 8 half-A files with a gap > 3%
#: in the previous run (1-r108, 2-r103, 3-c109, 3-r104, 3-r112, 3-rc104, 4-r103, 4-rc105), 1,500
#: iterations, seed 0, mean gap: general defaults 4.09%; + shake_days 2: 3.34%; + shake_days 2,
#: best_by_time, noise 1, SA 1.5 / 0.998, restore 500, no random shake: 2.11% (this profile); the
#: same with shake_days 1: 4.18%, without the replace move: 4.18%, without best_by_time (random
#: shake 0.5): 3.27%, every day shaken: 2.29%. The shake and acceptance follow the engine ILS
#: (:class:`optimizer.core.engine.ils.ILSParams`).
TOURS_PROFILE: dict[str, object] = {
    "shake_days": 2, "best_by_time": True, "noise": 1.0, "sa_t0": 1.5, "sa_alpha": 0.998,
    "restore_every": 500, "random_shake_p": 0.0, "replace_gate": 0.02,
}


def is_tour_like(pb: ItineraryProblem) -> bool:
    """True when every group sleeps in a fixed place every night, has no lunch, and no site has an
    entry-slot quota (team orienteering with several windows: MCTOPMTW); ``profile="auto"`` then
    uses :data:`TOURS_PROFILE`."""
    if any(s.slot_quota is not None for s in pb.sites):
        return False
    for g in pb.groups:
        if g.lunch is not None or len(g.hotels) != g.n_nights or any(h is None for h in g.hotels):
            return False
    return len(pb.groups) > 0


def resolve_params(pb: ItineraryProblem, params: ItineraryParams) -> ItineraryParams:
    """``params`` with the ``tours`` profile applied when asked for (or ``auto`` on a tour-like
    problem); ``profile`` is then ``general`` or ``tours``."""
    from dataclasses import replace

    use = params.profile == "tours" or (params.profile == "auto" and is_tour_like(pb))
    if not use:
        return replace(params, profile="general")
    return replace(params, profile="tours", **TOURS_PROFILE)


def day_bounds(g: Group, day: int) -> tuple[float, float, bool]:
    """``(lo, hi, transfer)`` of group ``g`` on horizon day ``day`` (module docstring rules)."""
    lo, hi = g.day_window(day)
    if day == g.arrival_day:
        lo = max(lo, g.arrival_min)
    if day == g.departure_day:
        hi = min(hi, g.departure_min)
    if g.active_min is not None:
        hi = min(hi, lo + g.active_min)
    if lo > hi:
        lo2 = g.arrival_min if day == g.arrival_day else 0.0
        hi2 = g.departure_min if day == g.departure_day else MAX_DAY_MIN
        return lo2, hi2, True
    return lo, hi, False


def lunch_required(g: Group, day: int, leg_min: float = 0.0) -> bool:
    """Lunch rule of the module docstring for group ``g`` on horizon day ``day`` whose direct leg
    from its start place to its end place takes ``leg_min`` minutes (0: the lunch window alone)."""
    if g.lunch is None:
        return False
    lo, hi, transfer = day_bounds(g, day)
    if transfer:
        return False
    return lo <= g.lunch.close_min and max(lo, g.lunch.open_min) + g.lunch.duration_min + leg_min <= hi


def _compile(pb: ItineraryProblem):
    n, H, D, G = pb.n_sites, pb.n_hotels, pb.n_days, len(pb.groups)
    W = max(1, max((len(s.windows_on(d)) for s in pb.sites for d in range(D)), default=1))
    w_open = np.zeros((n, D, W))
    w_close = np.zeros((n, D, W))
    n_win = np.zeros((n, D), dtype=np.int64)
    for i, s in enumerate(pb.sites):
        for d in range(D):
            ws = s.windows_on(d)
            n_win[i, d] = len(ws)
            for w, (a, b) in enumerate(ws):
                w_open[i, d, w] = a
                w_close[i, d, w] = b
    type_names = sorted({t for s in pb.sites for t in s.types}
                        | {t for g in pb.groups for t, _ in (*g.max_per_type_day, *g.max_per_type_trip)})
    T = max(1, len(type_names))
    tix = {t: i for i, t in enumerate(type_names)}
    types = np.zeros((n, T), dtype=np.int8)
    for i, s in enumerate(pb.sites):
        for t in s.types:
            types[i, tix[t]] = 1
    rules = pb.acclimatization
    lo = np.zeros((G, D))
    hi = np.full((G, D), -1.0)
    lunch = np.full((G, 3), -1.0)
    lunch_req = np.zeros((G, D), dtype=np.bool_)
    tlo = np.zeros((G, D))
    thi = np.full((G, D), MAX_DAY_MIN)
    lim_day = np.full((G, T), -1, dtype=np.int64)
    lim_trip = np.full((G, T), -1, dtype=np.int64)
    value = np.zeros((G, n))
    mv_day = np.full((G, n), -2, dtype=np.int64)
    max_visit = np.full((G, D), -np.inf)
    max_sleep = np.full((G, D), np.inf)
    fixed = np.full((G, D), -1, dtype=np.int64)
    cand = np.zeros((G, max(n, 1)), dtype=np.int32)
    n_cand = np.zeros(G, dtype=np.int32)
    hid = {h.id: i for i, h in enumerate(pb.hotels)}
    allowed_h = np.ones((G, max(H, 1)), dtype=np.bool_)
    for gi, g in enumerate(pb.groups):
        if g.allowed_hotels is not None:
            allowed_h[gi, :] = False
            for h in g.allowed_hotels:
                allowed_h[gi, hid[h]] = True
        for d in g.days:
            a, b, transfer = day_bounds(g, d)
            lo[gi, d], hi[gi, d] = a, b
            tlo[gi, d] = g.arrival_min if d == g.arrival_day else 0.0
            thi[gi, d] = g.departure_min if d == g.departure_day else MAX_DAY_MIN
            k = d - g.arrival_day
            if not transfer:
                max_visit[gi, d] = rules.max_visit_m(k) if rules else np.inf
            if rules and d < g.departure_day:
                max_sleep[gi, d] = rules.max_sleep_m(k)
            lunch_req[gi, d] = lunch_required(g, d)
            if d < g.departure_day:
                fh = g.fixed_hotel(d)
                fixed[gi, d] = hid[fh] if fh is not None else -1
        if g.lunch is not None:
            lunch[gi] = (g.lunch.open_min, g.lunch.close_min, g.lunch.duration_min)
        for t, m in g.max_per_type_day:
            lim_day[gi, tix[t]] = m
        for t, m in g.max_per_type_trip:
            lim_trip[gi, tix[t]] = m
        value[gi] = pb.group_score(g)
        for mv in g.must_visits:
            mv_day[gi, pb.place_index(mv.site_id)] = -1 if mv.day is None else mv.day
        c = [j for j in range(n) if value[gi, j] > 0 or mv_day[gi, j] >= -1]
        cand[gi, : len(c)] = c
        n_cand[gi] = len(c)
    P = K.KP(
        travel=np.ascontiguousarray(pb.travel_min, dtype=np.float64),
        n_sites=np.array([n], dtype=np.int64),
        dur=np.array([s.visit_min for s in pb.sites], dtype=np.float64).reshape(n),
        w_open=w_open, w_close=w_close, n_win=n_win,
        elev=np.array([s.elevation_m for s in pb.sites], dtype=np.float64).reshape(n),
        hotel_elev=np.array([h.elevation_m for h in pb.hotels], dtype=np.float64).reshape(H),
        types=types,
        slot_quota=np.array([-1 if s.slot_quota is None else s.slot_quota for s in pb.sites], dtype=np.int64).reshape(n),
        day_quota=np.array([-1 if s.daily_quota is None else s.daily_quota for s in pb.sites], dtype=np.int64).reshape(n),
        slot_len=np.array([pb.slot_len_min]),
        rooms_cap=np.array([-1 if h.rooms is None else h.rooms for h in pb.hotels], dtype=np.int64).reshape(H),
        room_price=np.array([h.room_price for h in pb.hotels], dtype=np.float64).reshape(H),
        price=np.array([s.ticket_price for s in pb.sites], dtype=np.float64).reshape(n),
        size=np.array([g.size for g in pb.groups], dtype=np.int64).reshape(G),
        rooms=np.array([g.rooms for g in pb.groups], dtype=np.int64).reshape(G),
        arr_day=np.array([g.arrival_day for g in pb.groups], dtype=np.int64).reshape(G),
        dep_day=np.array([g.departure_day for g in pb.groups], dtype=np.int64).reshape(G),
        arr_place=np.array([pb.place_index(g.arrival_place) for g in pb.groups], dtype=np.int64).reshape(G),
        dep_place=np.array([pb.place_index(g.departure_place) for g in pb.groups], dtype=np.int64).reshape(G),
        arr_elev=np.array([pb.place_elevation_m(g.arrival_place) for g in pb.groups], dtype=np.float64).reshape(G),
        lo=lo, hi=hi, lunch=lunch, lunch_req=lunch_req,
        budget=np.array([np.inf if g.budget is None else g.budget for g in pb.groups], dtype=np.float64).reshape(G),
        rooms_in_budget=np.array([g.budget_includes_rooms for g in pb.groups], dtype=np.bool_).reshape(G),
        lim_day=lim_day, lim_trip=lim_trip, value=value, mv_day=mv_day, max_visit=max_visit,
        max_sleep=max_sleep,
        max_gain=np.array([np.inf if rules is None or rules.max_gain_per_night_m is None
                           else rules.max_gain_per_night_m]),
        fixed_hotel=fixed, hotel_allowed=allowed_h, must_bonus=value.sum(axis=1) + 1.0, cand=cand, n_cand=n_cand,
        tlo=tlo, thi=thi,
        max_gain_run=np.array([-1 if rules is None or rules.max_consecutive_gain_nights is None
                               else rules.max_consecutive_gain_nights], dtype=np.int64),
        no_lunch_quota=np.array([g.lunch is None and all(s.slot_quota is None for s in pb.sites) for g in pb.groups],
                                dtype=np.bool_).reshape(G),
    )
    return P


def _new_state(pb: ItineraryProblem, P) -> K.KS:
    G, D, n, H = len(pb.groups), pb.n_days, pb.n_sites, pb.n_hotels
    Lmax = int(min(n, max(int(P.n_cand.max()) if G else 0, 1))) + 2
    any_quota = any(s.slot_quota is not None for s in pb.sites)
    horizon = max([float(P.hi.max()) if G else 0.0, 1.0])
    n_slots = int(math.ceil(horizon / pb.slot_len_min)) + 2 if any_quota else 1
    T = P.types.shape[1]
    return K.KS(
        route=np.zeros((G, D, Lmax), dtype=np.int32), rlen=np.zeros((G, D), dtype=np.int32),
        T0=np.zeros((G, D, Lmax + 1)), T1=np.zeros((G, D, Lmax + 1)),
        LS=np.full((G, D, Lmax + 1), np.inf), rend=np.zeros((G, D)),
        start=np.zeros((G, D, Lmax)), lunch_pos=np.full((G, D), -1, dtype=np.int32),
        lunch_start=np.zeros((G, D)), vday=np.full((G, max(n, 1)), -1, dtype=np.int32),
        vslot=np.full((G, max(n, 1)), -1, dtype=np.int32), night=np.full((G, D), -1, dtype=np.int64),
        slot_used=np.zeros((max(n, 1), D, n_slots), dtype=np.int64), day_used=np.zeros((max(n, 1), D), dtype=np.int64),
        room_used=np.zeros((max(H, 1), D), dtype=np.int64), spent=np.zeros(G), cnt_day=np.zeros((G, D, T), dtype=np.int64),
        cnt_trip=np.zeros((G, T), dtype=np.int64), gscore=np.zeros(G),
    )


def _empty_ok(P, gi: int, d: int, legs):
    """bool array: a day without visits with direct legs ``legs`` (minutes) is feasible for group
    ``gi`` on day ``d`` (module docstring: lunch never blocks it; the arrival/departure day becomes a
    transfer day when the leg does not fit in its window)."""
    legs = np.asarray(legs, dtype=np.float64)
    ok = P.lo[gi, d] + legs <= P.hi[gi, d] + K.EPS
    if d == P.arr_day[gi] or d == P.dep_day[gi]:
        ok |= P.tlo[gi, d] + legs <= P.thi[gi, d] + K.EPS
    return ok


def _empty_day_ok(P, gi: int, d: int, s_place: int, e_place: int) -> bool:
    return bool(_empty_ok(P, gi, d, P.travel[s_place, e_place]))


def _hotel_tables(P, room_used, gi: int, ignore_rooms: bool):
    """Tables of the hotel DP of group ``gi`` (nights ``a..b-1``): ``allowed[i, h]`` (night
    ``a+i``: fixed/allowed hotel, sleeping cap, free rooms unless ``ignore_rooms``), ``first[h]``
    (arrival day to ``h``: gain per night and day length), ``mid[i][h1, h2]`` (day ``a+i`` from
    ``h1`` to ``h2``), ``last[h]`` (departure day), ``gain0[h]``/``gain[h1, h2]`` (a night of gain),
    and ``best[i][h, r]``: the cheapest room cost of nights ``a+i..b-1`` with night ``a+i`` at
    ``h`` after ``r`` nights of gain in a row (inf: no feasible rest of the stay)."""
    n = int(P.n_sites[0])
    H = P.hotel_elev.shape[0]
    a, b = int(P.arr_day[gi]), int(P.dep_day[gi])
    nn = b - a
    mg = float(P.max_gain[0])
    N = int(P.max_gain_run[0])
    R = N + 1 if N >= 0 else 1
    hel = P.hotel_elev
    price = P.room_price * P.rooms[gi]
    allowed = np.zeros((nn, H), dtype=bool)
    for i in range(nn):
        k = a + i
        ok = P.hotel_allowed[gi, :H] & (hel <= P.max_sleep[gi, k] + K.EPS)
        fk = P.fixed_hotel[gi, k]
        if fk >= 0:
            ok &= np.arange(H) == fk
        if not ignore_rooms:
            ok &= (P.rooms_cap < 0) | (room_used[:, k] + P.rooms[gi] <= P.rooms_cap)
        allowed[i] = ok
    hh = P.travel[n:n + H, n:n + H]
    gain = hel[None, :] > hel[:, None]
    step_ok = hel[None, :] - hel[:, None] <= mg + K.EPS
    gain0 = hel > P.arr_elev[gi]
    first = (hel - P.arr_elev[gi] <= mg + K.EPS) & _empty_ok(P, gi, a, P.travel[P.arr_place[gi], n:n + H])
    mid = [None] + [step_ok & _empty_ok(P, gi, a + i, hh) for i in range(1, nn)]
    last = _empty_ok(P, gi, b, P.travel[n:n + H, P.dep_place[gi]])
    best = [np.full((H, R), np.inf) for _ in range(nn)]
    best[nn - 1][:] = np.where(allowed[nn - 1] & last, price, np.inf)[:, None]
    cols = np.arange(H)[None, :]
    for i in range(nn - 2, -1, -1):
        nxt = best[i + 1]
        for r in range(R):
            r2 = np.where(gain, r + 1, 0) if N >= 0 else np.zeros((H, H), dtype=np.int64)
            valid = r2 < R
            vals = nxt[cols, np.minimum(r2, R - 1)]
            vals = np.where(mid[i + 1] & valid & allowed[i + 1][None, :], vals, np.inf)
            best[i][:, r] = np.where(allowed[i], price + vals.min(axis=1), np.inf)
    return allowed, first, mid, gain0, gain, best, N


def _first_options(first, allowed0, gain0, best0, N):
    """Cost of the cheapest stay starting at each hotel on the first night (inf: none)."""
    r0 = gain0.astype(np.int64) if N >= 0 else np.zeros(len(gain0), dtype=np.int64)
    ok = first & allowed0 & ((r0 <= N) if N >= 0 else True)
    return np.where(ok, best0[np.arange(len(r0)), np.minimum(r0, best0.shape[1] - 1)], np.inf)


def _room_pressure(pb: ItineraryProblem, P) -> np.ndarray:
    """float64[H]: room-nights of the groups that may sleep at each hotel (allowed hotels) per
    room-night it has over the horizon (0: unlimited rooms). Among hotels equally near a group's
    sites the group takes the one fewer others can use (a mid-range group leaves the guesthouse,
    which every band may use, to the budget groups)."""
    n_nights = np.array([g.n_nights for g in pb.groups], dtype=np.float64)
    demand = (P.hotel_allowed[:, : pb.n_hotels] * (P.rooms * n_nights)[:, None]).sum(axis=0)
    cap = np.array([0.0 if c < 0 else float(c) * max(1, pb.n_days - 1) for c in P.rooms_cap])
    return np.where(cap > 0, demand / np.maximum(cap, 1.0), 0.0)


def _choose_hotels(pb: ItineraryProblem, P, S, gi: int, pressure: np.ndarray) -> tuple[bool, str, str]:
    """A hotel for every night of group ``gi`` against the rooms left in ``S`` (module docstring):
    ``(True, "", "")`` with the nights and rooms booked in ``S``, or ``(False, reason, detail)``
    with ``reason`` ``no_hotel`` (rooms full, or no sequence meets the altitude rules and day
    lengths even with every room free) or ``budget`` (the cheapest sequence exceeds the budget).
    ``pressure``: ``_room_pressure`` (the tie-break between hotels equally near)."""
    g = pb.groups[gi]
    a, b = g.arrival_day, g.departure_day
    if a == b:
        if _empty_day_ok(P, gi, a, P.arr_place[gi], P.dep_place[gi]):
            return True, "", ""
        return False, "no_hotel", "the direct transfer from the arrival to the departure place does not fit"
    n, H = pb.n_sites, pb.n_hotels
    allowed, first, mid, gain0, gain, best, N = _hotel_tables(P, S.room_used, gi, False)
    # prefer the hotel closest (value-weighted, must-visits counted double) to the group's sites
    cs = P.cand[gi, : P.n_cand[gi]]
    w = P.value[gi, cs] + np.where(P.mv_day[gi, cs] >= -1, P.value[gi, cs].sum() + 1.0, 0.0)
    centre = [round(float((w * (P.travel[n + h, cs] + P.travel[cs, n + h])).sum()), 6) for h in range(H)]
    price = P.room_price * P.rooms[gi]
    levels = [np.inf]
    if P.rooms_in_budget[gi] and np.isfinite(P.budget[gi]):
        must = float(sum(P.price[j] * P.size[gi] for j in cs if P.mv_day[gi, j] >= -1))
        levels = sorted({max(0.0, float(P.budget[gi]) - must), float(P.budget[gi])})
    for limit in levels:
        chain: list[int] = []
        prev, run, spent = -1, 0, 0.0
        for i in range(b - a):
            if i == 0:
                trans, gn = first & allowed[0], gain0
            else:
                trans, gn = mid[i][prev] & allowed[i], gain[prev]
            r_new = np.where(gn, run + 1, 0) if N >= 0 else np.zeros(H, dtype=np.int64)
            ok = trans & ((r_new <= N) if N >= 0 else True)
            cost = np.where(ok, spent + best[i][np.arange(H), np.minimum(r_new, best[i].shape[1] - 1)], np.inf)
            options = [h for h in range(H) if np.isfinite(cost[h]) and cost[h] <= limit + 1e-6]
            if not options:
                break
            h = min(options, key=lambda h: (centre[h], pressure[h], h))
            chain.append(h)
            prev, run, spent = h, int(r_new[h]), spent + float(price[h])
        if len(chain) == b - a:
            for k, h in zip(range(a, b), chain):
                S.night[gi, k] = h
                S.room_used[h, k] += P.rooms[gi]
            if P.rooms_in_budget[gi]:
                S.spent[gi] += spent
            return True, "", ""
    # no sequence: say why
    allowed_f, first_f, _, gain0_f, _, best_f, _ = _hotel_tables(P, S.room_used, gi, True)
    free_cost = float(_first_options(first_f, allowed_f[0], gain0_f, best_f[0], N).min())
    if not np.isfinite(free_cost):
        return False, "no_hotel", ("no hotel sequence meets the altitude rules, the group's hotels and the day lengths "
                                   "(arrival and departure times), even with every room free")
    if P.rooms_in_budget[gi] and free_cost > P.budget[gi] + 1e-6:
        return False, "budget", (f"the cheapest hotel sequence costs {free_cost:.0f} for the rooms, more than the "
                                 f"budget {P.budget[gi]:.0f}")
    full = [k for i, k in enumerate(range(a, b)) if allowed_f[i].any() and not allowed[i].any()]
    if full:
        return False, "no_hotel", (f"rooms full: no free room on night(s) {', '.join(map(str, full))} in any hotel "
                                   "the group may use (rooms, altitude rules)")
    return False, "no_hotel", ("rooms full: the hotels with free rooms on every night do not chain within the day "
                               "lengths, altitude rules and budget (a plan exists with every room free)")


@njit(cache=True, nogil=True)
def _init_routes(P, S, active, rng):
    G = S.rlen.shape[0]
    for g in range(G):
        if not active[g]:
            continue
        for d in range(P.arr_day[g], P.dep_day[g] + 1):
            K.commit_route(P, S, g, d)
    for g in range(G):
        if active[g]:
            K.fill_group(P, S, g, np.bool_(True), 0.0, rng)
    for g in range(G):
        if active[g]:
            K.fill_group(P, S, g, np.bool_(False), 0.0, rng)


def _fits_alone(pb: ItineraryProblem, P, gi: int, j: int, d: int) -> bool:
    """True if a day of group ``gi`` visiting only site ``j`` on day ``d`` meets the day rules (its
    window, lunch before or after the visit when required, arrival/departure times) for some start
    and end place it may use (any allowed hotel, ignoring rooms, budget and quotas): a necessary
    condition for ``j`` to be visited on ``d`` in any plan."""
    n, H = pb.n_sites, pb.n_hotels
    hotels = [n + h for h in range(H) if P.hotel_allowed[gi, h]]
    starts = [int(P.arr_place[gi])] if d == P.arr_day[gi] else hotels
    ends = [int(P.dep_place[gi])] if d == P.dep_day[gi] else hotels
    lo, hi = float(P.lo[gi, d]), float(P.hi[gi, d])
    lo_l, hi_l, dur_l = (float(x) for x in P.lunch[gi])
    wins = [(float(P.w_open[j, d, w]), float(P.w_close[j, d, w])) for w in range(int(P.n_win[j, d]))]

    def start_at(t: float) -> float:
        return min((max(t, a) for a, b in wins if max(t, a) <= b + K.EPS), default=np.inf)

    for sp in starts:
        for ep in ends:
            leg = float(P.travel[sp, ep])
            if (d == P.arr_day[gi] or d == P.dep_day[gi]) and lo + leg > hi + K.EPS:
                continue  # a transfer day: no visits
            lunch = bool(P.lunch_req[gi, d]) and max(lo, lo_l) + dur_l + leg <= hi + K.EPS
            st = start_at(lo + float(P.travel[sp, j]))
            end = st + float(P.dur[j])
            back = float(P.travel[j, ep])
            if not lunch and end + back <= hi + K.EPS:
                return True
            if lunch:
                if end <= hi_l + K.EPS and max(end, lo_l) + dur_l + back <= hi + K.EPS:
                    return True  # lunch after the visit
                ls = max(lo, lo_l)
                if ls <= hi_l + K.EPS:
                    st2 = start_at(ls + dur_l + float(P.travel[sp, j]))
                    if st2 + float(P.dur[j]) + back <= hi + K.EPS:
                        return True  # lunch before leaving
    return False


def _unserved_reason(pb: ItineraryProblem, P, S, gi: int, j: int, mv_day: int) -> tuple[str, str]:
    """The reason a must-visit ``j`` of group ``gi`` is left out (``solution`` module), checked in
    this order: closed, altitude, tickets over the whole budget, not reachable in its opening
    hours on any allowed day (``_fits_alone``), tickets over what the rooms and the other
    must-visits leave, daily quota full, every entry slot full; else ``not_selected``."""
    g = pb.groups[gi]
    days = list(g.days) if mv_day < 0 else [mv_day]
    open_days = [d for d in days if P.n_win[j, d] > 0 and P.max_visit[gi, d] > -np.inf]
    if not open_days:
        return "window", "closed (or a transfer day) on every allowed day"
    if all(P.elev[j] > P.max_visit[gi, d] + K.EPS for d in open_days):
        return "acclimatization", (f"{P.elev[j]:.0f} m is above the highest elevation allowed on every allowed "
                                   "day (acclimatization rules)")
    ticket = float(P.price[j] * P.size[gi])
    if ticket > P.budget[gi] + 1e-6:
        return "budget", "its tickets exceed the group's budget"
    ok_days = [d for d in open_days if P.elev[j] <= P.max_visit[gi, d] + K.EPS and _fits_alone(pb, P, gi, j, d)]
    if not ok_days:
        return "window", ("its opening hours cannot be reached on any allowed day, even with nothing else planned "
                          "(arrival and departure times, day window, lunch, altitude rules)")
    rooms = float(sum(P.room_price[S.night[gi, k]] * P.rooms[gi] for k in range(g.arrival_day, g.departure_day))
                  ) if P.rooms_in_budget[gi] else 0.0
    musts = float(sum(P.price[x] * P.size[gi] for x in range(pb.n_sites)
                      if x != j and P.mv_day[gi, x] >= -1 and S.vday[gi, x] >= 0))
    if ticket > P.budget[gi] - rooms - musts + 1e-6:
        return "budget", (f"its tickets ({ticket:.0f}) exceed what the budget leaves after the rooms and the other "
                          f"must-visits ({P.budget[gi] - rooms - musts:.0f})")
    if P.day_quota[j] >= 0 and all(S.day_used[j, d] + P.size[gi] > P.day_quota[j] for d in ok_days):
        return "quota", "the daily quota is full on every allowed day"
    if P.slot_quota[j] >= 0:
        sl = float(P.slot_len[0])
        K_ = S.slot_used.shape[2]
        free = any(S.slot_used[j, d, k] + P.size[gi] <= P.slot_quota[j]
                   for d in ok_days for w in range(int(P.n_win[j, d]))
                   for k in range(int(P.w_open[j, d, w] // sl), min(K_, int(P.w_close[j, d, w] // sl) + 1)))
        if not free:
            return "quota", "every entry slot is full on the days it could be visited"
    return "not_selected", ("it fits a day of the stay on its own but was not fitted with the rest of the plan "
                            "(time, type limits, entry slots taken, search time)")


def _build_solution(pb: ItineraryProblem, P, S, served: np.ndarray, stats: SolveStats,
                    extra_unserved: list[Unserved]) -> ItinerarySolution:
    n = pb.n_sites
    place_ids = [p.id for p in (*pb.sites, *pb.hotels, *pb.terminals)]
    its = []
    unserved = list(extra_unserved)
    total = 0.0
    for gi, g in enumerate(pb.groups):
        if not served[gi]:
            continue
        nights = tuple(pb.hotels[int(S.night[gi, k])].id for k in range(g.arrival_day, g.departure_day))
        days = []
        score = 0.0
        for d in g.days:
            sp = int(K.start_place(P, S, gi, d))
            ep = int(K.end_place(P, S, gi, d))
            L = int(S.rlen[gi, d])
            lp = int(S.lunch_pos[gi, d])
            lunch_dur = P.lunch[gi, 2]
            visits = []
            lo_d, hi_d, transfer = K.day_span(P, S, gi, d)
            leave = float(lo_d)
            if transfer and L == 0 and d == g.departure_day:
                leave = max(leave, float(hi_d) - float(P.travel[sp, ep]))  # leave as late as the departure allows
            prev = sp
            depart = leave
            for i in range(L):
                j = int(S.route[gi, d, i])
                st = float(S.start[gi, d, i])
                if i == 0 and lp != 0:
                    depart = max(leave, st - float(P.travel[sp, j]))
                    leave = depart
                if lp == i:
                    leave = float(S.lunch_start[gi, d]) + lunch_dur
                arr = leave + float(P.travel[prev, j])
                end = st + float(P.dur[j])
                visits.append(Visit(place_ids[j], arr, st, end))
                leave = end
                prev = j
                score += float(P.value[gi, j])
            if lp == L:
                leave = float(S.lunch_start[gi, d]) + lunch_dur
            ret = leave + float(P.travel[prev, ep])
            days.append(DayRoute(d, place_ids[sp], place_ids[ep], depart, tuple(visits), ret,
                                 float(S.lunch_start[gi, d]) if lp >= 0 else None))
        total += score
        its.append(GroupItinerary(g.id, nights, tuple(days), score))
        for j in range(n):
            m = int(P.mv_day[gi, j])
            if m >= -1 and S.vday[gi, j] < 0:
                reason, detail = _unserved_reason(pb, P, S, gi, j, m)
                unserved.append(Unserved(f"{g.id}/{pb.sites[j].id}", reason, detail))
    if stats.has_plan:
        from dataclasses import replace

        stats = replace(stats, objective=total)
    return ItinerarySolution(tuple(its), total, tuple(unserved), stats)


def _giant_start(pb: ItineraryProblem, P, S, stop: StoppingCriterion, seed: int, t0: float,
                 share: float = 0.9) -> bool:
    """Seed the single group's plan with the best fixed-hotel plan of
    :func:`optimizer.itineraries.giant.best_hotel_plan`; it gets ``share`` of the runtime limit (or
    2,000 engine iterations without one). False if no hotel sequence fits."""
    g = pb.groups[0]
    lengths = np.array([P.hi[0, d] - P.lo[0, d] for d in g.days])
    if stop.max_runtime_s is not None:
        sub = StoppingCriterion(max_runtime_s=max(0.01, share * stop.max_runtime_s - (time.perf_counter() - t0)))
    else:
        sub = StoppingCriterion(max_iterations=2000)
    plan = best_hotel_plan(pb, lengths, sub, seed)
    if plan is None:
        return False
    _, hotels, days = plan
    a = g.arrival_day
    for k, h in enumerate(hotels):
        old = S.night[0, a + k]
        if old >= 0:
            S.room_used[old, a + k] -= P.rooms[0]
        S.night[0, a + k] = h
        S.room_used[h, a + k] += P.rooms[0]
    for dd, visits in enumerate(days):
        d = a + dd
        K.commit_route(P, S, 0, d)
        for j in visits:
            if K.insert_at(P, S, 0, d, int(S.rlen[0, d]), int(j)) == np.inf:
                K.remove_at(P, S, 0, d, int(S.rlen[0, d]) - 1)
    return True


def _retry_unplanned(pb: ItineraryProblem, P, S, C, B, W, dirty, fbest, served, why, n_cand0, fixed0, rng,
                     pressure) -> int:
    """Retry every group without a plan (gap 10) against the rooms the best plan ``B`` leaves
    free: ``S`` and ``C`` go back to ``B`` first (a restore), then each group gets the hotels of
    ``_choose_hotels``, its routes and a greedy fill (must-visits first), in ``S``, ``C`` and ``B``;
    ``served``, ``why`` and the scores in ``fbest`` are updated. Then every planned group missing a
    must-visit tries, day by day, emptying the day of its optional visits and refilling (must-visits
    first); the first change that raises its score is kept (``W``: scratch). Returns the groups
    planned."""
    for g in np.flatnonzero(dirty):
        K.copy_group(P, S, B, int(g))
        K.copy_group(P, C, B, int(g))
        dirty[g] = False
    fbest[1] = fbest[0]
    planned = 0
    for gi in sorted(why):
        P.n_cand[gi] = n_cand0[gi]
        P.fixed_hotel[gi] = fixed0[gi]
        ok, reason, detail = _choose_hotels(pb, P, S, gi, pressure)
        if not ok:
            P.n_cand[gi] = 0
            P.fixed_hotel[gi] = -2
            why[gi] = (reason, detail)
            continue
        for d in pb.groups[gi].days:
            K.commit_route(P, S, gi, d)
        K.fill_group(P, S, gi, True, 0.0, rng)
        K.fill_group(P, S, gi, False, 0.0, rng)
        K.copy_group(P, C, S, gi)
        K.copy_group(P, B, S, gi)
        fbest[0] += S.gscore[gi]
        fbest[1] += S.gscore[gi]
        served[gi] = True
        del why[gi]
        planned += 1
    for gi in np.flatnonzero(served):
        gi = int(gi)
        if K.missing_musts(P, S, gi) == 0:
            continue
        base = float(S.gscore[gi])
        K.copy_group(P, W, S, gi)
        for d in pb.groups[gi].days:
            for p in range(int(S.rlen[gi, d]) - 1, -1, -1):
                if P.mv_day[gi, S.route[gi, d, p]] < -1:
                    K.remove_at(P, S, gi, d, p)
            K.fill_group(P, S, gi, True, 0.0, rng)
            K.fill_group(P, S, gi, False, 0.0, rng)
            if S.gscore[gi] > base + 1e-9:
                K.copy_group(P, C, S, gi)
                K.copy_group(P, B, S, gi)
                fbest[0] += S.gscore[gi] - base
                fbest[1] += S.gscore[gi] - base
                break
            K.copy_group(P, S, W, gi)
    return planned


def solve_ils(pb: ItineraryProblem, stop: StoppingCriterion, seed: int = 0,
              params: ItineraryParams | None = None) -> ItinerarySolution:
    """ILS on ``pb`` until ``stop`` (construction counted); status ``feasible``."""
    t0 = time.perf_counter()
    params = resolve_params(pb, params or ItineraryParams())
    P = _compile(pb)
    S = _new_state(pb, P)
    G = len(pb.groups)
    served = np.zeros(G, dtype=np.bool_)
    why: dict[int, tuple[str, str]] = {}
    pressure = _room_pressure(pb, P)
    for gi in range(G):
        served[gi], reason, detail = _choose_hotels(pb, P, S, gi, pressure)
        if not served[gi]:
            why[gi] = (reason, detail)
    rng = np.array([(int(seed) * 0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D) & 0x7FFFFFFFFFFFFFFF or 1], dtype=np.int64)
    if params.giant_tour and served.all() and is_ophs_like(pb):
        _giant_start(pb, P, S, stop, seed, t0, params.giant_share)
    _init_routes(P, S, served, rng)
    # groups without a plan take no part in the search: make them inert (until a retry plans them)
    n_cand0, fixed0 = P.n_cand.copy(), P.fixed_hotel.copy()
    if not served.all():
        P = P._replace(n_cand=np.where(served, P.n_cand, 0).astype(np.int32),
                       fixed_hotel=np.where(served[:, None], P.fixed_hotel, -2))
    B = K.copy_ks(S)
    Wk = K.copy_ks(S)
    n_routes_mean = max(1.0, float(np.mean([g.n_nights + 1 for g in pb.groups])) if G else 1.0)
    max_shake = params.max_shake or max(2, int(P.n_cand.max() // (3 * n_routes_mean)) if G else 2)
    try_all = params.try_all_hotels if params.try_all_hotels is not None else G <= 4
    positive = P.value[P.value > 0]
    t_start = params.sa_t0 * (float(positive.mean()) if positive.size else 0.0)
    prm = np.array([params.shake_groups, params.restore_every, max_shake, params.noise, params.hotel_move_p,
                    1.0 if try_all else 0.0, 1.0 if params.two_opt else 0.0, t_start, params.sa_alpha,
                    params.random_shake_p, params.replace_gate,
                    params.shake_days, 1.0 if params.best_by_time else 0.0])
    ctrl = np.zeros(8, dtype=np.int64)
    ctrl[0] = 1
    fbest = np.array([float(S.gscore.sum()), float(S.gscore.sum()), t_start, np.inf])
    Ck = K.copy_ks(S)
    dirty = np.zeros(G, dtype=np.bool_)
    max_iter = stop.max_iterations if stop.max_iterations is not None else np.iinfo(np.int64).max
    max_noimp = stop.max_no_improvement if stop.max_no_improvement is not None else -1
    chunk = 1
    stopped_by = "max_iterations"
    next_retry = params.retry_every if params.retry_every > 0 and G > 1 else -1
    while G > 0:
        if 0 <= next_retry <= int(ctrl[3]):
            _retry_unplanned(pb, P, S, Ck, B, Wk, dirty, fbest, served, why, n_cand0, fixed0, rng, pressure)
            next_retry = int(ctrl[3]) + params.retry_every
        if stop.max_runtime_s is not None and time.perf_counter() - t0 >= stop.max_runtime_s:
            stopped_by = "max_runtime_s"
            break
        left = max_iter - int(ctrl[3])
        if left <= 0:
            stopped_by = "max_iterations"
            break
        if max_noimp >= 0 and ctrl[2] >= max_noimp:
            stopped_by = "max_no_improvement"
            break
        tc = time.perf_counter()
        n_it = min(chunk, left, next_retry - int(ctrl[3])) if next_retry >= 0 else min(chunk, left)
        ran = K.ils_iterations(P, S, Ck, B, Wk, ctrl, fbest, rng, prm, dirty, n_it, max_noimp)
        dt = time.perf_counter() - tc
        if ran == 0:
            stopped_by = "max_no_improvement"
            break
        target = 0.05 if stop.max_runtime_s is None else min(0.05, stop.max_runtime_s / 20)
        chunk = int(max(1, min(chunk * 4, target / max(dt / ran, 1e-7))))
    status = FEASIBLE if G == 0 or served.any() else NO_SOLUTION_IN_TIME
    stats = SolveStats(status=status, runtime_s=time.perf_counter() - t0, iterations=int(ctrl[3]),
                       stopped_by=stopped_by, seed=int(seed))
    extra = [Unserved(pb.groups[gi].id, *why[gi]) for gi in sorted(why)]
    return _build_solution(pb, P, B, served, stats, extra)


def solve(problem: ItineraryProblem, stop: StoppingCriterion, seed: int = 0,
          params: ItineraryParams | None = None) -> ItinerarySolution:
    """Plan every group's stay: a hotel per night and a route per day (see the module docstring).

    Returns an ``ItinerarySolution``; must-visits left out and groups without any hotel sequence
    are in ``unserved`` with a reason. Raises ``InvalidInput`` for a bad seed or params.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInput("seed", seed, "must be an integer >= 0")
    if not isinstance(problem, ItineraryProblem):
        raise InvalidInput("problem", type(problem).__name__, "expected ItineraryProblem")
    params = params if params is not None else ItineraryParams()
    if not isinstance(params, ItineraryParams):
        raise InvalidInput("params", type(params).__name__, "expected ItineraryParams or None")
    if params.method == "cpsat":
        from models.itineraries_cpsat import solve_cpsat

        return solve_cpsat(problem, stop, seed=int(seed), workers=params.workers)
    return solve_ils(problem, stop, seed=int(seed), params=params)

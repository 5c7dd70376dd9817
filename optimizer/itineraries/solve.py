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
* lunch is required when ``lo <= lunch.close_min`` and ``max(lo, lunch.open_min) + duration <= hi``.
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
    the best fixed-hotel-sequence plan (:mod:`optimizer.itineraries.giant`); ``replace_gate``: a
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
    replace_gate: float = -1.0
    shake_days: int = 0
    best_by_time: bool = False
    profile: str = "auto"

    def __post_init__(self) -> None:
        if self.method not in ("ils", "cpsat"):
            raise InvalidInput("params.method", self.method, "must be 'ils' or 'cpsat'")
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


def lunch_required(g: Group, day: int) -> bool:
    if g.lunch is None:
        return False
    lo, hi, transfer = day_bounds(g, day)
    if transfer:
        return False
    return lo <= g.lunch.close_min and max(lo, g.lunch.open_min) + g.lunch.duration_min <= hi


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


def _empty_day_ok(P, gi: int, d: int, s_place: int, e_place: int) -> bool:
    lo, hi = P.lo[gi, d], P.hi[gi, d]
    t = lo
    if P.lunch_req[gi, d]:
        t = max(lo, P.lunch[gi, 0]) + P.lunch[gi, 2]
    return t + P.travel[s_place, e_place] <= hi + K.EPS


def _choose_hotels(pb: ItineraryProblem, P, S, gi: int) -> bool:
    """A feasible hotel for every night of group ``gi`` (rooms, altitude, budget for rooms, empty
    days feasible): backward reachability, then forward preferring the same hotel / nearest."""
    g = pb.groups[gi]
    a, b = g.arrival_day, g.departure_day
    if a == b:
        return _empty_day_ok(P, gi, a, P.arr_place[gi], P.dep_place[gi])
    n, H = pb.n_sites, pb.n_hotels
    mg = float(P.max_gain[0])

    def allowed(k: int, h: int) -> bool:
        if (P.fixed_hotel[gi, k] >= 0 and P.fixed_hotel[gi, k] != h) or not P.hotel_allowed[gi, h]:
            return False
        if P.hotel_elev[h] > P.max_sleep[gi, k] + K.EPS:
            return False
        return P.rooms_cap[h] < 0 or S.room_used[h, k] + P.rooms[gi] <= P.rooms_cap[h]

    def trans(k: int, h_prev: int, h: int) -> bool:  # day k from night k-1 hotel (or arrival) to h
        sp = P.arr_place[gi] if h_prev < 0 else n + h_prev
        pe = P.arr_elev[gi] if h_prev < 0 else P.hotel_elev[h_prev]
        if P.hotel_elev[h] - pe > mg + K.EPS:
            return False
        return _empty_day_ok(P, gi, k, sp, n + h)

    # prefer the hotel closest (value-weighted, must-visits counted double) to the group's sites
    cs = P.cand[gi, : P.n_cand[gi]]
    w = P.value[gi, cs] + np.where(P.mv_day[gi, cs] >= -1, P.value[gi, cs].sum() + 1.0, 0.0)
    centre = [float((w * (P.travel[n + h, cs] + P.travel[cs, n + h])).sum()) for h in range(H)]
    ok = np.zeros((b, H), dtype=bool)
    for h in range(H):
        ok[b - 1, h] = allowed(b - 1, h) and _empty_day_ok(P, gi, b, n + h, P.dep_place[gi])
    for k in range(b - 2, a - 1, -1):
        for h in range(H):
            ok[k, h] = allowed(k, h) and any(ok[k + 1, h2] and trans(k + 1, h, h2) for h2 in range(H))
    chain = []
    prev = -1
    cost = 0.0
    for k in range(a, b):
        options = [h for h in range(H) if ok[k, h] and trans(k, prev, h)]
        if not options:
            return False
        h = min(options, key=lambda h: (centre[h], P.room_price[h], h))
        chain.append(h)
        cost += P.room_price[h] * P.rooms[gi]
        prev = h
    if P.rooms_in_budget[gi] and cost > P.budget[gi] + 1e-6:
        return False
    for k, h in zip(range(a, b), chain):
        S.night[gi, k] = h
        S.room_used[h, k] += P.rooms[gi]
    if P.rooms_in_budget[gi]:
        S.spent[gi] += cost
    return True


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
            K.fill_group(P, S, g, True, 0.0, rng)
    for g in range(G):
        if active[g]:
            K.fill_group(P, S, g, False, 0.0, rng)


def _unserved_reason(pb: ItineraryProblem, P, S, gi: int, j: int, mv_day: int) -> tuple[str, str]:
    g = pb.groups[gi]
    days = list(g.days) if mv_day < 0 else [mv_day]
    open_days = [d for d in days if P.n_win[j, d] > 0 and P.max_visit[gi, d] > -np.inf]
    if not open_days:
        return "window", "closed (or a transfer day) on every allowed day"
    if all(P.elev[j] > P.max_visit[gi, d] + K.EPS for d in open_days):
        return "acclimatization", (f"{P.elev[j]:.0f} m is above the highest elevation allowed on every allowed "
                                   "day (acclimatization rules)")
    if P.price[j] * P.size[gi] > P.budget[gi] + 1e-6:
        return "budget", "its tickets exceed the group's budget"
    if P.day_quota[j] >= 0 and all(S.day_used[j, d] + P.size[gi] > P.day_quota[j] for d in open_days):
        return "quota", "the daily quota is full on every allowed day"
    if P.slot_quota[j] >= 0:
        return "quota", "entry slots full or not reachable in time on the allowed days"
    return "not_selected", "could not be fitted (time, type limits or search time)"


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
            leave = float(P.lo[gi, d])
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


def _giant_start(pb: ItineraryProblem, P, S, stop: StoppingCriterion, seed: int, t0: float) -> bool:
    """Seed the single group's plan with the best fixed-hotel plan of
    :func:`optimizer.itineraries.giant.best_hotel_plan`; it gets 70% of the runtime limit (or
    2,000 engine iterations without one). False if no hotel sequence fits."""
    g = pb.groups[0]
    lengths = np.array([P.hi[0, d] - P.lo[0, d] for d in g.days])
    if stop.max_runtime_s is not None:
        sub = StoppingCriterion(max_runtime_s=max(0.01, 0.7 * stop.max_runtime_s - (time.perf_counter() - t0)))
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


def solve_ils(pb: ItineraryProblem, stop: StoppingCriterion, seed: int = 0,
              params: ItineraryParams | None = None) -> ItinerarySolution:
    """ILS on ``pb`` until ``stop`` (construction counted); status ``feasible``."""
    t0 = time.perf_counter()
    params = resolve_params(pb, params or ItineraryParams())
    P = _compile(pb)
    S = _new_state(pb, P)
    G = len(pb.groups)
    served = np.zeros(G, dtype=np.bool_)
    extra: list[Unserved] = []
    for gi, g in enumerate(pb.groups):
        served[gi] = _choose_hotels(pb, P, S, gi)
        if not served[gi]:
            extra.append(Unserved(g.id, "no_hotel", "no hotel sequence meets rooms, altitude rules, budget and day "
                                                  "lengths for every night"))
    rng = np.array([(int(seed) * 0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D) & 0x7FFFFFFFFFFFFFFF or 1], dtype=np.int64)
    if params.giant_tour and served.all() and is_ophs_like(pb):
        _giant_start(pb, P, S, stop, seed, t0)
    _init_routes(P, S, served, rng)
    # groups without a plan take no part in the search: make them inert
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
    while G > 0:
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
        ran = K.ils_iterations(P, S, Ck, B, Wk, ctrl, fbest, rng, prm, dirty, min(chunk, left), max_noimp)
        dt = time.perf_counter() - tc
        if ran == 0:
            stopped_by = "max_no_improvement"
            break
        target = 0.05 if stop.max_runtime_s is None else min(0.05, stop.max_runtime_s / 20)
        chunk = int(max(1, min(chunk * 4, target / max(dt / ran, 1e-7))))
    status = FEASIBLE if G == 0 or served.any() else NO_SOLUTION_IN_TIME
    stats = SolveStats(status=status, runtime_s=time.perf_counter() - t0, iterations=int(ctrl[3]),
                       stopped_by=stopped_by, seed=int(seed))
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

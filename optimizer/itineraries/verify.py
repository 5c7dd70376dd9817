"""Independent checker of an itinerary plan: ``verify(problem, solution) -> list[Violation]``.

Written apart from the solver: it recomputes everything from the ``ItineraryProblem`` (never the
solver's arrays) and checks the times the plan states. Rules (see :mod:`optimizer.itineraries.problem`):

* places: each day starts at the arrival place or last night's hotel and ends at tonight's hotel
  or the departure place; one hotel per night, fixed hotels kept, only allowed hotels;
* times (tolerance ``tol`` minutes): leave no earlier than the day's ``lo``; every arrival is at
  least the previous departure (end of visit, or end of lunch) plus travel; a visit starts at or
  after arrival inside one of the site's windows that day and lasts ``visit_min``; back by ``hi``;
  ``return - depart <= active_min``; day bounds: the group's day window cut by arrival and
  departure times and ``lo + active_min``; ``lo > hi`` is a transfer day (no visits, no lunch),
  and so is the arrival or departure day whose direct leg (start place to end place) does not fit:
  ``lo + leg > hi`` (bounds: arrival time or 0, departure time or the end of the day);
* lunch where required (``lo <= close`` and ``max(lo, open) + duration + leg <= hi``, ``leg`` the
  direct travel from the day's start place to its end place): starts in its window, in a gap of
  the route (after leaving, or after a visit) with the next arrival no earlier than its end plus
  travel;
* each site at most once per group; altitude: site elevation by day, sleeping elevation by night,
  gain per night, nights of gain in a row (each night higher than the one before, the first
  against the arrival place; rest-day rule); type limits per day and per stay; budget (tickets x
  size, rooms when included);
* shared capacity: persons per site per day and per entry slot, rooms per hotel per night;
* score and unserved: the stated scores equal the recomputed ones; every group without a plan and
  every must-visit left out is in ``unserved``; a must-visit with a day is on that day.
"""

from __future__ import annotations

import math
from collections import defaultdict

from optimizer.core.results import Violation
from optimizer.itineraries.problem import MAX_DAY_MIN, ItineraryProblem
from optimizer.itineraries.solution import ItinerarySolution

__all__ = ["verify"]


def _bounds(g, day: int) -> tuple[float, float, bool]:
    if len(g.day_windows) == 1:
        lo, hi = g.day_windows[0]
    else:
        lo, hi = g.day_windows[day]
    if day == g.arrival_day and g.arrival_min > lo:
        lo = g.arrival_min
    if day == g.departure_day and g.departure_min < hi:
        hi = g.departure_min
    if g.active_min is not None and lo + g.active_min < hi:
        hi = lo + g.active_min
    if lo > hi:
        return (g.arrival_min if day == g.arrival_day else 0.0,
                g.departure_min if day == g.departure_day else MAX_DAY_MIN, True)
    return lo, hi, False


def _limit(values: tuple[float, ...], k: int) -> float:
    if not values:
        return math.inf
    return values[k] if k < len(values) else values[-1]


def verify(problem: ItineraryProblem, solution: ItinerarySolution, tol: float = 1e-6) -> list[Violation]:
    """Every broken rule of ``solution`` on ``problem`` (empty list: the plan is feasible)."""
    pb = problem
    out: list[Violation] = []
    sites = {s.id: s for s in pb.sites}
    hotels = {h.id: h for h in pb.hotels}
    elev = {p.id: p.elevation_m for p in (*pb.sites, *pb.hotels, *pb.terminals)}
    idx = {p.id: i for i, p in enumerate((*pb.sites, *pb.hotels, *pb.terminals))}
    t = pb.travel_min
    rules = pb.acclimatization
    groups = {g.id: g for g in pb.groups}
    unserved_ids = {u.item_id for u in solution.unserved}
    day_persons: dict[tuple[str, int], int] = defaultdict(int)
    slot_persons: dict[tuple[str, int, int], int] = defaultdict(int)
    rooms_used: dict[tuple[str, int], int] = defaultdict(int)
    seen: set[str] = set()
    total = 0.0

    def bad(item: str, kind: str, msg: str) -> None:
        out.append(Violation(item, kind, msg))

    for it in solution.itineraries:
        g = groups.get(it.group_id)
        if g is None:
            bad(it.group_id, "unknown_group", "not a group of the problem")
            continue
        if g.id in seen:
            bad(g.id, "duplicate", "two itineraries for one group")
            continue
        seen.add(g.id)
        gid = g.id
        scores = {s.id: s.score for s in pb.sites}
        scores.update(dict(g.site_scores))
        # ---- nights
        if len(it.nights) != g.n_nights:
            bad(gid, "nights", f"{len(it.nights)} hotels for {g.n_nights} nights")
            continue
        prev_elev = elev[g.arrival_place]
        gain_run = 0
        room_cost = 0.0
        for i, hid in enumerate(it.nights):
            night = g.arrival_day + i
            h = hotels.get(hid)
            if h is None:
                bad(gid, "hotel", f"night {night}: {hid!r} is not a hotel")
                prev_elev = math.nan
                continue
            if g.allowed_hotels is not None and hid not in g.allowed_hotels:
                bad(gid, "hotel", f"night {night}: {hid} is not among the group's allowed hotels")
            if i < len(g.hotels) and g.hotels[i] is not None and g.hotels[i] != hid:
                bad(gid, "fixed_hotel", f"night {night}: {hid} instead of the fixed {g.hotels[i]}")
            rooms_used[(hid, night)] += g.rooms
            room_cost += h.room_price * g.rooms
            if rules is not None:
                lim = _limit(rules.max_sleep_m_by_night, i)
                if h.elevation_m > lim + 1e-9:
                    bad(gid, "acclimatization", f"night {night} at {hid} ({h.elevation_m:.0f} m) above {lim:.0f} m")
                if rules.max_gain_per_night_m is not None and h.elevation_m - prev_elev > rules.max_gain_per_night_m + 1e-9:
                    bad(gid, "acclimatization",
                        f"night {night} at {hid}: sleeping {h.elevation_m - prev_elev:.0f} m higher than the night "
                        f"before (limit {rules.max_gain_per_night_m:.0f} m)")
            gain_run = gain_run + 1 if h.elevation_m > prev_elev + 1e-9 else 0
            if rules is not None and rules.max_consecutive_gain_nights is not None \
                    and gain_run > rules.max_consecutive_gain_nights:
                bad(gid, "acclimatization", f"night {night} at {hid}: {gain_run} nights in a row each higher than the "
                    f"night before (at most {rules.max_consecutive_gain_nights}; rest day)")
            prev_elev = h.elevation_m
        # ---- days
        days = {r.day: r for r in it.days}
        if sorted(days) != list(g.days) or len(it.days) != len(g.days):
            bad(gid, "days", f"days {sorted(days)} instead of {list(g.days)}")
            continue
        visited: dict[str, int] = {}
        tickets = 0.0
        type_trip: dict[str, int] = defaultdict(int)
        score = 0.0
        for d in g.days:
            r = days[d]
            item = f"{gid}/day{d}"
            k = d - g.arrival_day
            want_from = g.arrival_place if d == g.arrival_day else it.nights[k - 1]
            want_to = g.departure_place if d == g.departure_day else it.nights[k]
            if r.from_place != want_from or r.to_place != want_to:
                bad(item, "places", f"{r.from_place}->{r.to_place}, expected {want_from}->{want_to}")
                continue
            lo, hi, transfer = _bounds(g, d)
            leg = float(t[idx[want_from], idx[want_to]])
            if not transfer and d in (g.arrival_day, g.departure_day) and lo + leg > hi:
                lo = g.arrival_min if d == g.arrival_day else 0.0
                hi = g.departure_min if d == g.departure_day else MAX_DAY_MIN
                transfer = True
            if transfer and r.visits:
                bad(item, "transfer_day", "visits on a day with no time inside the day window")
            if r.depart_min < lo - tol:
                bad(item, "day_window", f"leaves at {r.depart_min:.3f} before {lo:.3f}")
            need_lunch = (g.lunch is not None and not transfer and lo <= g.lunch.close_min
                          and max(lo, g.lunch.open_min) + g.lunch.duration_min + leg <= hi)
            lunch_done = r.lunch_start_min is None
            if r.lunch_start_min is not None and g.lunch is not None:
                ls = r.lunch_start_min
                if not g.lunch.open_min - tol <= ls <= g.lunch.close_min + tol:
                    bad(item, "lunch", f"lunch at {ls:.2f} outside [{g.lunch.open_min}, {g.lunch.close_min}]")
            elif need_lunch:
                bad(item, "lunch", "no lunch break")
            lunch_dur = g.lunch.duration_min if g.lunch is not None else 0.0
            leave = r.depart_min
            prev = want_from
            type_day: dict[str, int] = defaultdict(int)
            for v in r.visits:
                s = sites.get(v.site_id)
                if s is None:
                    bad(item, "site", f"{v.site_id!r} is not a site")
                    continue
                if not lunch_done and r.lunch_start_min is not None and r.lunch_start_min + lunch_dur + t[idx[prev], idx[s.id]] <= v.arrival_min + tol and r.lunch_start_min >= leave - tol:
                    leave = r.lunch_start_min + lunch_dur
                    lunch_done = True
                if v.arrival_min < leave + t[idx[prev], idx[s.id]] - tol:
                    bad(item, "travel", f"arrives at {s.id} at {v.arrival_min:.3f}, earliest {leave + t[idx[prev], idx[s.id]]:.3f}")
                if v.start_min < v.arrival_min - tol:
                    bad(item, "start", f"{s.id} starts before arrival")
                ws = s.time_windows[0] if len(s.time_windows) == 1 else s.time_windows[d]
                if not any(a - tol <= v.start_min <= b + tol for a, b in ws):
                    bad(item, "time_window", f"{s.id} starts at {v.start_min:.3f}, windows {list(ws)}")
                if abs(v.end_min - v.start_min - s.visit_min) > tol:
                    bad(item, "visit_min", f"{s.id} lasts {v.end_min - v.start_min:.3f}, needs {s.visit_min}")
                if s.id in visited:
                    bad(gid, "repeat", f"{s.id} visited on days {visited[s.id]} and {d}")
                visited[s.id] = d
                if rules is not None:
                    lim = _limit(rules.max_visit_m_by_day, k)
                    if s.elevation_m > lim + 1e-9:
                        bad(item, "acclimatization", f"{s.id} at {s.elevation_m:.0f} m above the {lim:.0f} m allowed on day {k} of the stay")
                tickets += s.ticket_price * g.size
                for ty in s.types:
                    type_day[ty] += 1
                    type_trip[ty] += 1
                day_persons[(s.id, d)] += g.size
                slot_persons[(s.id, d, int(math.floor(v.start_min / pb.slot_len_min)))] += g.size
                score += scores[s.id]
                leave = v.end_min
                prev = s.id
            if not lunch_done and r.lunch_start_min is not None:
                if r.lunch_start_min >= leave - tol and r.lunch_start_min + lunch_dur + t[idx[prev], idx[want_to]] <= r.return_min + tol:
                    leave = r.lunch_start_min + lunch_dur
                    lunch_done = True
                else:
                    bad(item, "lunch", f"lunch at {r.lunch_start_min:.2f} does not fit in a gap of the route")
            if r.return_min < leave + t[idx[prev], idx[want_to]] - tol:
                bad(item, "travel", f"back at {r.return_min:.3f}, earliest {leave + t[idx[prev], idx[want_to]]:.3f}")
            if r.return_min > hi + tol:
                bad(item, "day_window", f"back at {r.return_min:.3f} after {hi:.3f}")
            if g.active_min is not None and not transfer and r.return_min - r.depart_min > g.active_min + tol:
                bad(item, "active_time", f"{r.return_min - r.depart_min:.1f} min active > {g.active_min}")
            for ty, lim_n in g.max_per_type_day:
                if type_day[ty] > lim_n:
                    bad(item, "type_limit", f"{type_day[ty]} sites of type {ty} > {lim_n}")
        for ty, lim_n in g.max_per_type_trip:
            if type_trip[ty] > lim_n:
                bad(gid, "type_limit", f"{type_trip[ty]} sites of type {ty} over the stay > {lim_n}")
        if g.budget is not None:
            cost = tickets + (room_cost if g.budget_includes_rooms else 0.0)
            if cost > g.budget + 1e-6:
                bad(gid, "budget", f"spends {cost:.2f} > budget {g.budget:.2f}")
        if abs(score - it.score) > 1e-6 * max(1.0, abs(score)):
            bad(gid, "score", f"states {it.score}, recomputed {score}")
        total += score
        for mv in g.must_visits:
            if mv.site_id in visited:
                if mv.day is not None and visited[mv.site_id] != mv.day:
                    bad(gid, "must_visit", f"{mv.site_id} on day {visited[mv.site_id]}, required on day {mv.day}")
            elif f"{gid}/{mv.site_id}" not in unserved_ids:
                bad(gid, "must_visit", f"{mv.site_id} neither visited nor listed as unserved")
    for g in pb.groups:
        if g.id not in seen and g.id not in unserved_ids:
            bad(g.id, "unserved", "no itinerary and not listed as unserved")
    for (sid, d), n in day_persons.items():
        q = sites[sid].daily_quota
        if q is not None and n > q:
            bad(sid, "daily_quota", f"day {d}: {n} persons > {q}")
    for (sid, d, k), n in slot_persons.items():
        q = sites[sid].slot_quota
        if q is not None and n > q:
            bad(sid, "slot_quota", f"day {d} slot {k}: {n} persons > {q}")
    for (hid, night), n in rooms_used.items():
        cap = hotels[hid].rooms
        if cap is not None and n > cap:
            bad(hid, "rooms", f"night {night}: {n} rooms > {cap}")
    if abs(total - solution.score) > 1e-6 * max(1.0, abs(total)):
        bad("plan", "score", f"states {solution.score}, recomputed {total}")
    return out

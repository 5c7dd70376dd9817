"""Exact CP-SAT model of the multi-day itinerary problem for small cases (a few groups, days and
~10-15 sites), used to cross-check the ILS (:mod:`optimizer.itineraries.solve`).

Formulation (the TOPTW model of Vansteenwegen et al. 2009, C&OR 36(12), per group-day with one
CP-SAT circuit, plus the hotel variables of the OPHS model of Divsalar et al. 2013, IJPE 145(1),
and the MCTOPMTW knapsack/type constraints of Souffriau et al. 2013, Transp. Sci. 47(1)):

* ``y[g,k,h]``: group ``g`` sleeps at hotel ``h`` on night ``k`` (one per night; fixed and allowed hotels,
  sleeping-altitude limit and rooms per night ``sum_g rooms_g y[g,k,h] <= rooms_h``; the gain per
  night forbids pairs of consecutive hotels, the first night is compared with the arrival place).
* Per group-day ``(g,d)`` a graph on a depot node 0 (the start/end place) and the sites allowed on
  ``d`` (open that day, under the day's altitude limit, must-visit day respected) with arc literals;
  ``add_circuit``; the site self-loop means "not visited that day", the depot self-loop "no visit".
  The start place is the arrival place or night ``d-1``'s hotel, the end place tonight's hotel or
  the departure place: arcs from / to the depot are enforced together with the ``y`` literal of the
  place they use.
* Start ``S[g,d,j]`` (integer, ``TIME_SCALE`` units per minute) inside one of the site's windows of
  the day (a window literal per window), ``S_j >= S_i + visit_i + t_ij`` on used arcs, leave at
  ``lo`` and be back by ``hi`` (the day rules of :mod:`optimizer.itineraries.solve`).
* On the arrival and departure days, a chosen start/end pair whose direct leg does not fit in
  ``[lo, hi]`` forces the empty route (a transfer day, as in the ILS and the verifier); the
  rest-day rule: ``z[g,k]`` (night ``k`` higher than night ``k-1``) at most ``N`` in any ``N+1``
  consecutive nights.
* Each site at most once per group; budget (tickets x size, rooms when included), type limits per
  day and per stay, daily quotas shared by the groups.
* Objective: maximise ``sum value * visit`` plus ``M * (must-visits made)`` with ``M`` = sum of all
  values + 1 (must-visits first, as the ILS does).

Not in this model: lunch breaks and entry-slot quotas (``InvalidInput`` if the problem has them).
Integer data: durations rounded up, deadlines down; ``optimal`` is reported only when that
rounding was exact (all times multiples of 1/TIME_SCALE) and the independent verifier accepts the
plan; a plan the verifier rejects raises ``RuntimeError`` (a model bug), never a result.
"""

from __future__ import annotations

import math
import time

import numpy as np
from ortools.sat.python import cp_model

from models._backend import cpsat_outcome, cpsat_solver, time_left_s
from optimizer.core.errors import InvalidInput
from optimizer.core.results import FEASIBLE, INFEASIBLE, NO_SOLUTION_IN_TIME, OPTIMAL, SolveStats
from optimizer.core.stop import StoppingCriterion
from optimizer.itineraries.problem import ItineraryProblem
from optimizer.itineraries.solution import DayRoute, GroupItinerary, ItinerarySolution, Visit

__all__ = ["TIME_SCALE", "solve_cpsat"]

TIME_SCALE = 100
_TOL = 1e-6


def _bounds(g, day: int) -> tuple[float, float, bool]:
    """Day rules of :mod:`optimizer.itineraries.solve` (``lo``, ``hi``, transfer day)."""
    from optimizer.itineraries.solve import day_bounds

    return day_bounds(g, day)


def _transfer_bounds(g, day: int) -> tuple[float, float]:
    """Bounds of a transfer day (:mod:`optimizer.itineraries.solve`): arrival time or 0, departure
    time or the end of the day."""
    from optimizer.itineraries.problem import MAX_DAY_MIN

    return (g.arrival_min if day == g.arrival_day else 0.0,
            g.departure_min if day == g.departure_day else MAX_DAY_MIN)


def _up(x: float) -> int:
    return int(math.ceil(x * TIME_SCALE - _TOL))


def _down(x: float) -> int:
    return int(math.floor(x * TIME_SCALE + _TOL))


def _exact(x: float) -> bool:
    return abs(x * TIME_SCALE - round(x * TIME_SCALE)) <= _TOL


def solve_cpsat(pb: ItineraryProblem, stop: StoppingCriterion, seed: int = 0, workers: int = 1) -> ItinerarySolution:
    """Solve ``pb`` exactly with CP-SAT within ``stop.max_runtime_s`` (model building included)."""
    from optimizer.core.clock import Deadline
    from optimizer.itineraries.verify import verify

    t0 = time.perf_counter()
    deadline = Deadline(stop.max_runtime_s, t0)
    if any(g.lunch is not None for g in pb.groups) or any(s.slot_quota is not None for s in pb.sites):
        raise InvalidInput("params.method", "cpsat", "the exact model has no lunch breaks or entry-slot quotas")
    m = cp_model.CpModel()
    n, H = pb.n_sites, pb.n_hotels
    t = pb.travel_min
    rules = pb.acclimatization
    exact = all(_exact(float(v)) for v in np.unique(t))
    exact &= all(_exact(s.visit_min) and all(_exact(a) and _exact(b) for d in s.time_windows for a, b in d)
                 for s in pb.sites)
    total_value = 0.0
    y: dict[tuple[int, int, int], cp_model.IntVar] = {}
    obj = []
    must_terms = []
    visit_vars: dict[tuple[int, int, int], cp_model.IntVar] = {}
    arcs_of: dict[tuple[int, int], list[tuple[int, int, cp_model.IntVar]]] = {}
    room_terms: dict[tuple[int, int], list] = {}
    day_quota_terms: dict[tuple[int, int], list] = {}
    values = [pb.group_score(g) for g in pb.groups]
    total_value = float(sum(v.sum() for v in values)) + 1.0
    scale_v = 1
    if not all(_exact(float(x)) and float(x) == round(float(x)) for v in values for x in v):
        scale_v = 100
    big = int(round(total_value * scale_v)) + 1
    for gi, g in enumerate(pb.groups):
        # hotel variables
        for k in range(g.arrival_day, g.departure_day):
            lits = []
            fixed = g.fixed_hotel(k)
            for h, hot in enumerate(pb.hotels):
                v = m.new_bool_var(f"y{gi}_{k}_{h}")
                y[(gi, k, h)] = v
                lits.append(v)
                i = k - g.arrival_day
                if ((fixed is not None and hot.id != fixed) or (rules and hot.elevation_m > rules.max_sleep_m(i) + 1e-9)
                        or (g.allowed_hotels is not None and hot.id not in g.allowed_hotels)):
                    m.add(v == 0)
                room_terms.setdefault((h, k), []).append(g.rooms * v)
            m.add_exactly_one(lits)
        if rules and rules.max_gain_per_night_m is not None and g.n_nights > 0:
            mg = rules.max_gain_per_night_m
            a_el = pb.place_elevation_m(g.arrival_place)
            for h, hot in enumerate(pb.hotels):
                if hot.elevation_m - a_el > mg + 1e-9:
                    m.add(y[(gi, g.arrival_day, h)] == 0)
            for k in range(g.arrival_day + 1, g.departure_day):
                for h1, a in enumerate(pb.hotels):
                    for h2, b in enumerate(pb.hotels):
                        if b.elevation_m - a.elevation_m > mg + 1e-9:
                            m.add_bool_or([y[(gi, k - 1, h1)].Not(), y[(gi, k, h2)].Not()])
        if rules and rules.max_consecutive_gain_nights is not None and g.n_nights > rules.max_consecutive_gain_nights:
            # rest-day rule: z[k] = 1 when night k sleeps higher than night k-1 (night 0: the arrival
            # place); at most N of any N+1 consecutive nights
            N = rules.max_consecutive_gain_nights
            a_el = pb.place_elevation_m(g.arrival_place)
            z = []
            for k in range(g.arrival_day, g.departure_day):
                zk = m.new_bool_var(f"z{gi}_{k}")
                for h2, b in enumerate(pb.hotels):
                    if k == g.arrival_day:
                        if b.elevation_m > a_el:
                            m.add_implication(y[(gi, k, h2)], zk)
                        continue
                    for h1, a in enumerate(pb.hotels):
                        if b.elevation_m > a.elevation_m:
                            m.add_bool_or([y[(gi, k - 1, h1)].Not(), y[(gi, k, h2)].Not(), zk])
                z.append(zk)
            for i in range(len(z) - N):
                m.add(sum(z[i:i + N + 1]) <= N)
        musts = {pb.place_index(mv.site_id): mv.day for mv in g.must_visits}
        cost_terms = []
        type_trip: dict[str, list] = {}
        for d in g.days:
            lo, hi, transfer = _bounds(g, d)
            k = d - g.arrival_day
            max_visit = rules.max_visit_m(k) if rules else math.inf
            # start / end places with their literals (None = always)
            if d == g.arrival_day:
                starts = [(pb.place_index(g.arrival_place), None)]
            else:
                starts = [(n + h, y[(gi, d - 1, h)]) for h in range(H)]
            if d == g.departure_day:
                ends = [(pb.place_index(g.departure_place), None)]
            else:
                ends = [(n + h, y[(gi, d, h)]) for h in range(H)]
            allowed = []
            if not transfer:
                for j, s in enumerate(pb.sites):
                    if values[gi][j] <= 0 and j not in musts:
                        continue
                    if j in musts and musts[j] is not None and musts[j] != d:
                        continue
                    if not s.windows_on(d) or s.elevation_m > max_visit + 1e-9:
                        continue
                    allowed.append(j)
            lo_i, hi_i = _up(lo), _down(hi)
            arcs = []
            loop0 = m.new_bool_var(f"e{gi}_{d}")
            arcs.append((0, 0, loop0))
            # empty day feasible for the chosen places; on the arrival/departure day a direct leg that
            # does not fit in [lo, hi] makes the day a transfer day (no visits; transfer bounds)
            end_day = d in (g.arrival_day, g.departure_day) and not transfer
            for sp, ls in starts:
                for ep, le in ends:
                    cond = [x.Not() for x in (ls, le) if x is not None]
                    if end_day and lo + t[sp, ep] > hi:
                        m.add_bool_or([loop0] + cond)
                        tlo, thi = _transfer_bounds(g, d)
                        if tlo + t[sp, ep] > thi + 1e-9:
                            m.add_bool_or(cond) if cond else m.add_bool_or([loop0.Not()])
                    elif lo_i + _up(t[sp, ep]) > hi_i:
                        m.add_bool_or([loop0.Not()] + cond)
            node = {j: i + 1 for i, j in enumerate(allowed)}
            S = {}
            for j in allowed:
                s = pb.sites[j]
                v = m.new_bool_var(f"v{gi}_{d}_{j}")
                visit_vars[(gi, d, j)] = v
                arcs.append((node[j], node[j], v.Not()))
                S[j] = m.new_int_var(0, max(hi_i, 0), f"S{gi}_{d}_{j}")
                wl = []
                for wi, (a, b) in enumerate(s.windows_on(d)):
                    w = m.new_bool_var(f"w{gi}_{d}_{j}_{wi}")
                    m.add(S[j] >= _up(a)).only_enforce_if(w)
                    m.add(S[j] <= _down(b)).only_enforce_if(w)
                    wl.append(w)
                m.add(sum(wl) == v)
                cost_terms.append((s.ticket_price * g.size, v))
                obj.append(int(round(values[gi][j] * scale_v)) * v)
                if j in musts:
                    must_terms.append(v)
                for ty in s.types:
                    type_trip.setdefault(ty, []).append(v)
                if s.daily_quota is not None:
                    day_quota_terms.setdefault((j, d), []).append(g.size * v)
                # depot arcs
                a0 = m.new_bool_var(f"a{gi}_{d}_0_{j}")
                arcs.append((0, node[j], a0))
                for sp, ls in starts:
                    m.add(S[j] >= lo_i + _up(t[sp, j])).only_enforce_if([a0] + ([ls] if ls is not None else []))
                a1 = m.new_bool_var(f"a{gi}_{d}_{j}_0")
                arcs.append((node[j], 0, a1))
                for ep, le in ends:
                    m.add(S[j] + _up(s.visit_min) + _up(t[j, ep]) <= hi_i).only_enforce_if(
                        [a1] + ([le] if le is not None else []))
            for i in allowed:
                for j in allowed:
                    if i == j:
                        continue
                    a = m.new_bool_var(f"a{gi}_{d}_{i}_{j}")
                    arcs.append((node[i], node[j], a))
                    m.add(S[j] >= S[i] + _up(pb.sites[i].visit_min) + _up(t[i, j])).only_enforce_if(a)
            m.add_circuit(arcs)
            arcs_of[(gi, d)] = [(u, w, lit) for u, w, lit in arcs]
            arcs_of[(gi, d)].append((-1, -1, allowed))  # type: ignore[arg-type]
            for ty, lim in g.max_per_type_day:
                terms = [visit_vars[(gi, d, j)] for j in allowed if ty in pb.sites[j].types]
                if terms:
                    m.add(sum(terms) <= lim)
        for j in range(n):
            vs = [visit_vars[(gi, d, j)] for d in g.days if (gi, d, j) in visit_vars]
            if len(vs) > 1:
                m.add(sum(vs) <= 1)
        for ty, lim in g.max_per_type_trip:
            if type_trip.get(ty):
                m.add(sum(type_trip[ty]) <= lim)
        if g.budget is not None:
            rc = [(pb.hotels[h].room_price * g.rooms, y[(gi, k, h)])
                  for k in range(g.arrival_day, g.departure_day) for h in range(H)] if g.budget_includes_rooms else []
            # prices in integer cents, rounded up (a plan within the model is within the budget)
            m.add(sum(int(math.ceil(c * 100 - 1e-6)) * lit for c, lit in cost_terms + rc)
                  <= int(math.floor(g.budget * 100 + 1e-6)))
    for (h, k), terms in room_terms.items():
        cap = pb.hotels[h].rooms
        if cap is not None:
            m.add(sum(terms) <= cap)
    for (j, d), terms in day_quota_terms.items():
        m.add(sum(terms) <= int(pb.sites[j].daily_quota))
    m.maximize(sum(obj) + big * sum(must_terms))
    solver = cpsat_solver(time_left_s(stop, deadline), workers=workers, seed=seed)
    tc = time.perf_counter()
    code = solver.solve(m)
    out = cpsat_outcome(solver, code, time.perf_counter() - tc)
    if not out.has_solution:
        status = INFEASIBLE if out.status == INFEASIBLE else NO_SOLUTION_IN_TIME
        stats = SolveStats(status=status, runtime_s=time.perf_counter() - t0, stopped_by="solved", seed=seed)
        return ItinerarySolution((), 0.0, (), stats)
    sol = _extract(pb, solver, y, arcs_of, values, out, exact, t0, seed)
    viol = verify(pb, sol)
    if viol:
        raise RuntimeError(f"CP-SAT itinerary rejected by the verifier (model bug): {viol[:3]}")
    return sol


def _extract(pb, solver, y, arcs_of, values, out, exact, t0, seed) -> ItinerarySolution:
    from optimizer.core.results import Unserved

    n = pb.n_sites
    t = pb.travel_min
    ids = [p.id for p in (*pb.sites, *pb.hotels, *pb.terminals)]
    its = []
    total = 0.0
    unserved = []
    for gi, g in enumerate(pb.groups):
        nights = []
        for k in range(g.arrival_day, g.departure_day):
            h = next(h for h in range(pb.n_hotels) if solver.boolean_value(y[(gi, k, h)]))
            nights.append(h)
        days = []
        visited = set()
        score = 0.0
        for d in g.days:
            lo, hi, _ = _bounds(g, d)
            sp = pb.place_index(g.arrival_place) if d == g.arrival_day else n + nights[d - g.arrival_day - 1]
            ep = pb.place_index(g.departure_place) if d == g.departure_day else n + nights[d - g.arrival_day]
            arcs = arcs_of[(gi, d)]
            allowed = arcs[-1][2]
            succ = {u: w for u, w, lit in arcs[:-1] if u != w and solver.boolean_value(lit)}
            seq = []
            cur = succ.get(0)
            while cur is not None and cur != 0:
                seq.append(allowed[cur - 1])
                cur = succ.get(cur)
            visits = []
            if d in (g.arrival_day, g.departure_day) and not seq and lo + t[sp, ep] > hi:
                tlo, thi = _transfer_bounds(g, d)  # transfer day: straight there, as late as allowed
                lo = max(tlo, thi - t[sp, ep]) if d == g.departure_day else tlo
            leave, prev = lo, sp
            depart = lo
            for j in seq:
                s = pb.sites[j]
                arr = leave + t[prev, j]
                st = min((max(arr, a) for a, b in s.windows_on(d) if max(arr, a) <= b + 1e-9), default=arr)
                visits.append(Visit(s.id, arr, st, st + s.visit_min))
                leave, prev = st + s.visit_min, j
                visited.add(j)
                score += float(values[gi][j])
            days.append(DayRoute(d, ids[sp], ids[ep], depart, tuple(visits), leave + t[prev, ep], None))
        total += score
        its.append(GroupItinerary(g.id, tuple(pb.hotels[h].id for h in nights), tuple(days), score))
        for mv in g.must_visits:
            if pb.place_index(mv.site_id) not in visited:
                unserved.append(Unserved(f"{g.id}/{mv.site_id}", "not_selected",
                                         "no feasible plan visits it (exact model)"))
    status = OPTIMAL if out.status == OPTIMAL and exact else FEASIBLE
    stats = SolveStats(status=status, objective=total, bound=None, gap=0.0 if status == OPTIMAL else None,
                       runtime_s=time.perf_counter() - t0, stopped_by="solved", seed=seed)
    return ItinerarySolution(tuple(its), total, tuple(unserved), stats)

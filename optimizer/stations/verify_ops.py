"""Independent verifiers of the station-operations plans: EV charging schedules and oxygen
replenishment plans.

Both recompute everything from the problem data in floats (never from the solver's model, its
integer scaling or its caches) and return ``list[Violation]`` (``optimizer.core.results``;
empty = valid):

* :func:`verify_charging` rebuilds every vehicle's realised timeline from the plan and the
  reported (stop, delay): the delay must be whole slots, <= ``max_delay_min``, at a maximal stay
  followed by driving, and must not push driving past the end of the day (the schedule's timeline
  arrays must match the rebuilt one). Then SoC dynamics and bounds (below the floor only by the
  shortfall of a coach listed in ``unserved``: its ``short_kwh + unmet_kwh``, where ``short_kwh``
  <= soc_min x capacity (a battery is never below empty) and ``unmet_kwh`` > 0 only once the whole
  reserve is gone; the ``unserved`` entry repeats both and the clock times below the floor / empty),
  charging only while parked at a station, energy
  per slot <= min(charger, vehicle) power x slot, connectors in use <= chargers, station power <=
  grid cap, and the reported energy cost, lateness (minutes, CNY), delays, objective (energy +
  lateness + shortfall penalty, within the reported integer rounding) and ``unserved`` (exactly
  the coaches below their floor). A schedule without a plan must list every coach as unserved.
* :func:`verify_oxygen` replays the stock of every station from the initial stock, the route
  deliveries and the demand: stock never below zero except where the plan reports lost demand,
  stock after delivery <= capacity, truck load <= capacity, route duration <= shift, at most
  ``trucks`` routes a day and one visit per station a day, route km and minutes, the reported
  stock path, stock-outs (each named in ``unserved``), costs and minimum margin. A plan without
  routes because none was found must list every station as unserved.

Violation kinds: charging ``schedule``, ``delay``, ``timeline``, ``charge``, ``soc``,
``connectors``, ``grid``, ``cost``, ``lateness``, ``objective``, ``unserved``; oxygen ``plan``,
``route``, ``truck_capacity``, ``shift``, ``km``, ``trucks``, ``visits``, ``capacity``, ``stock``,
``stockout``, ``margin``, ``cost``, ``unserved``.
"""

from __future__ import annotations

import itertools
import math

from optimizer.core.results import Violation
from optimizer.stations.charging import ChargingProblem, ChargingSchedule
from optimizer.stations.oxygen import OxygenPlan, OxygenProblem

__all__ = ["verify_charging", "verify_oxygen"]


def _rebuild_timeline(problem: ChargingProblem, n: int, stop: object, delay_min: float,
                      out: list[Violation]) -> tuple[list[float], list[int]] | None:
    """The realised (draw, at) of vehicle n from the plan data and the reported (stop, delay);
    appends a violation and returns None when the delay is not a valid stop extension."""
    v = problem.vehicles[n]
    T = problem.n_slots
    draw, at = list(v.draw_kwh), list(v.at)
    if not delay_min:
        if stop is not None:
            out.append(Violation(v.id, "delay", f"extended stop {stop} reported without a delay"))
        return draw, at
    if delay_min < 0:
        out.append(Violation(v.id, "delay", f"negative delay {delay_min}"))
        return None
    if delay_min > problem.max_delay_min + 1e-9:
        out.append(Violation(v.id, "delay", f"delay {delay_min:g} min > max_delay_min {problem.max_delay_min:g}"))
    d = round(delay_min / problem.slot_min)
    if abs(d * problem.slot_min - delay_min) > 1e-6:
        out.append(Violation(v.id, "delay", f"delay {delay_min:g} min is not a whole number of "
                                            f"{problem.slot_min:g}-min slots"))
        return None
    try:
        a, b, s = (int(x) for x in stop)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        out.append(Violation(v.id, "delay", f"delay {delay_min:g} min without a valid stop (first, last, station)"))
        return None
    if not (0 <= a <= b < T) or s < 0 or any(at[k] != s for k in range(a, b + 1)) \
            or (a > 0 and at[a - 1] == s) or (b + 1 < T and at[b + 1] == s):
        out.append(Violation(v.id, "delay", f"stop {stop} is not a maximal stay at one station in the plan"))
        return None
    if not any(x > 0 for x in draw[b + 1:]):
        out.append(Violation(v.id, "delay", f"stop {stop} is not followed by driving (a delay there delays nothing)"))
    if b + d >= T or any(x > 0 for x in draw[T - d:]):
        out.append(Violation(v.id, "delay", f"a {delay_min:g}-min delay pushes driving past the end of the day"))
        return None
    new_draw = draw[: b + 1] + [0.0] * d + draw[b + 1: T - d]
    new_at = at[: b + 1] + [s] * d + at[b + 1: T - d]
    return new_draw, new_at


def verify_charging(problem: ChargingProblem, schedule: ChargingSchedule, tol_kwh: float = 0.01) -> list[Violation]:
    """Re-check ``schedule`` against ``problem`` (module docstring); ``tol_kwh`` is the energy
    tolerance (kWh; the SoC tolerance grows by 1 Wh per slot for the model's rounding)."""
    out: list[Violation] = []
    P, T, dt = problem, problem.n_slots, problem.dt_h
    N = len(P.vehicles)
    listed = {u.item_id: u for u in schedule.unserved}
    if not schedule.stats.has_plan:
        if schedule.grid_kwh:
            out.append(Violation("plan", "schedule", f"status {schedule.stats.status} but grid energy is reported"))
        for v in P.vehicles:
            if v.id not in listed:
                out.append(Violation(v.id, "unserved", "no schedule, yet the coach is not listed as unserved"))
        return out
    if len(schedule.grid_kwh) != N or len(schedule.soc_kwh) != N or len(schedule.short_kwh) != N \
            or any(len(r) != T for r in schedule.grid_kwh) or any(len(r) != T for r in schedule.soc_kwh):
        return [Violation("plan", "schedule", f"grid/SoC/shortfall arrays do not match {N} vehicles x {T} slots")]
    delay_min = schedule.delay_min or (0.0,) * N
    delay_stop = schedule.delay_stop or (None,) * N
    if len(delay_min) != N or len(delay_stop) != N:
        return [Violation("plan", "delay", f"delay_min/delay_stop have {len(delay_min)}/{len(delay_stop)} entries "
                                          f"for {N} vehicles")]
    in_use = [[0] * T for _ in P.stations]
    power = [[0.0] * T for _ in P.stations]
    cost = lateness = 0.0
    delayed = {}
    unmet = schedule.unmet_kwh or (0.0,) * N
    if len(unmet) != N:
        return [Violation("plan", "schedule", f"unmet_kwh has {len(unmet)} entries for {N} vehicles")]
    for n, v in enumerate(P.vehicles):
        tl = _rebuild_timeline(P, n, delay_stop[n], delay_min[n], out)
        if tl is None:
            continue
        draw, at = tl
        lateness += delay_min[n]
        if delay_min[n]:
            delayed[v.id] = (P.stations[delay_stop[n][2]].id, float(delay_min[n]))
        if schedule.timeline_at and (list(schedule.timeline_at[n]) != at
                                     or any(abs(x - y) > 1e-9 for x, y in zip(schedule.timeline_draw_kwh[n], draw))):
            out.append(Violation(v.id, "timeline", "reported timeline differs from the plan shifted by the reported "
                                                   "delay"))
        soc = v.soc0 * v.capacity_kwh
        short = float(schedule.short_kwh[n])
        miss = float(unmet[n])
        reserve = v.soc_min * v.capacity_kwh
        if short < -1e-9 or miss < -1e-9:
            out.append(Violation(v.id, "soc", f"negative shortfall {short} / unmet {miss}"))
        if short > reserve + 1e-6:
            out.append(Violation(v.id, "soc", f"shortfall {short:.3f} kWh > the reserve soc_min x capacity "
                                              f"{reserve:.3f} kWh (a battery is never below empty)"))
        if miss > 1e-9 and short < reserve - 1e-6:
            out.append(Violation(v.id, "soc", f"unmet {miss:.3f} kWh while the shortfall {short:.3f} kWh is below the "
                                              f"reserve {reserve:.3f} kWh"))
        floor = reserve - (max(short, 0.0) + max(miss, 0.0) if v.id in listed else 0.0)
        lowest = math.inf
        path = []
        for t in range(T):
            gk = schedule.grid_kwh[n][t]
            if gk < -tol_kwh:
                out.append(Violation(v.id, "charge", f"slot {t}: negative charge {gk}"))
            if gk > 1e-9:
                s = at[t]
                if s < 0:
                    out.append(Violation(v.id, "charge", f"slot {t}: charges while not parked at a station"))
                    continue
                lim = min(P.stations[s].charger_kw, v.max_kw) * dt
                if gk > lim + tol_kwh:
                    out.append(Violation(v.id, "charge", f"slot {t}: {gk:.3f} kWh > {lim:.3f} kWh per slot"))
                in_use[s][t] += 1
                power[s][t] += gk / dt
                cost += P.tariff[t] * gk
            soc = soc + v.eta * gk - draw[t]
            lowest = min(lowest, soc)
            path.append(soc)
            if abs(soc - schedule.soc_kwh[n][t]) > tol_kwh + 0.001 * (t + 1):
                out.append(Violation(v.id, "soc", f"slot {t}: reported SoC {schedule.soc_kwh[n][t]:.3f} != "
                                                  f"recomputed {soc:.3f}"))
            if soc < floor - tol_kwh - 0.001 * (t + 1):
                out.append(Violation(v.id, "soc", f"slot {t}: SoC {soc:.3f} kWh below floor {floor:.3f}"))
            if soc > v.soc_max * v.capacity_kwh + tol_kwh:
                out.append(Violation(v.id, "soc", f"slot {t}: SoC {soc:.3f} kWh above ceiling"))
        below = v.soc_min * v.capacity_kwh - lowest
        if below > tol_kwh + 0.001 * T and v.id not in listed:
            out.append(Violation(v.id, "unserved", f"{below:.3f} kWh below the floor but not listed as unserved"))
        if v.id in listed and below <= 0 and short <= 1e-9:
            out.append(Violation(v.id, "unserved", "listed as unserved but stays above the floor"))
        if v.id in listed and abs(getattr(listed[v.id], "short_kwh", short) - short) > 1e-6:
            out.append(Violation(v.id, "unserved", f"unserved short_kwh {listed[v.id].short_kwh} != schedule "
                                                   f"{short}"))
        if v.id in listed and abs(getattr(listed[v.id], "unmet_kwh", miss) - miss) > 1e-6:
            out.append(Violation(v.id, "unserved", f"unserved unmet_kwh {listed[v.id].unmet_kwh} != schedule "
                                                   f"{miss}"))
        if v.id in listed:
            tol = tol_kwh + 0.001 * T
            for name, thr in (("below_floor_min", reserve), ("empty_min", 0.0)):
                first = next((t for t, e in enumerate(path) if e < thr - tol), None)  # clearly below
                if not hasattr(listed[v.id], name):
                    continue
                rep_t = getattr(listed[v.id], name)
                k = None if rep_t is None else round(rep_t / P.slot_min) - 1
                if (k is None and first is not None) or (k is not None and not (
                        0 <= k < T and path[k] < thr + tol and (first is None or first >= k))):
                    when = "never" if first is None else f"{(first + 1) * P.slot_min:g}"
                    out.append(Violation(v.id, "unserved", f"unserved {name} {rep_t} but the replayed SoC first "
                                                           f"crosses at {when} (minutes)"))
    for s, st in enumerate(P.stations):
        for t in range(T):
            if in_use[s][t] > st.chargers:
                out.append(Violation(st.id, "connectors", f"slot {t}: {in_use[s][t]} vehicles on {st.chargers} "
                                                          "chargers"))
            if power[s][t] > st.grid_kw + tol_kwh / dt:
                out.append(Violation(st.id, "grid", f"slot {t}: {power[s][t]:.1f} kW > grid cap {st.grid_kw:g} kW"))
    ec = schedule.energy_cost_cny
    if ec is None or abs(cost - ec) > 1e-6 * max(1.0, cost):
        out.append(Violation("plan", "cost", f"energy cost {ec} != recomputed {cost:.4f}"))
    if abs(lateness - schedule.lateness_min) > 1e-6:
        out.append(Violation("plan", "lateness", f"lateness {schedule.lateness_min:g} min != recomputed "
                                                 f"{lateness:g} min"))
    late_cost = P.lateness_cny_per_min * lateness
    if abs(late_cost - schedule.lateness_cost_cny) > 1e-6 * max(1.0, late_cost):
        out.append(Violation("plan", "lateness", f"lateness cost {schedule.lateness_cost_cny:.4f} CNY != recomputed "
                                                 f"{late_cost:.4f} CNY"))
    rep = {d.vehicle_id: (d.station_id, float(d.delay_min)) for d in schedule.delays}
    if rep != delayed:
        out.append(Violation("plan", "delay", f"reported delays {rep} != recomputed {delayed}"))
    reported = schedule.stats.objective
    obj = cost + late_cost + P.shortfall_penalty * (sum(schedule.short_kwh) + sum(unmet))
    if reported is None or abs(obj - reported) > schedule.cost_rounding_cny + 1e-6 * max(1.0, obj):
        out.append(Violation("plan", "objective", f"objective {reported} != energy + lateness + shortfall "
                                                  f"{obj:.4f} CNY"))
    return out


def verify_oxygen(problem: OxygenProblem, plan: OxygenPlan, tol: float = 1e-6) -> list[Violation]:
    """Re-check ``plan`` against ``problem`` (module docstring); ``tol`` is the tolerance of minutes
    and costs."""
    out: list[Violation] = []
    p = problem
    n, T = p.n, p.days
    listed = {(u.item_id, getattr(u, "day", -1)) for u in plan.unserved}
    listed_stations = {u.item_id for u in plan.unserved}
    if not plan.stats.has_plan:
        if plan.routes:
            out.append(Violation("plan", "plan", f"status {plan.stats.status} but routes are reported"))
        for s in p.station_ids:
            if s not in listed_stations:
                out.append(Violation(s, "unserved", "no plan, yet the station is not listed as unserved"))
        return out
    if len(plan.stock) != n or len(plan.lost) != n or any(len(r) != T for r in plan.stock) \
            or any(len(r) != T for r in plan.lost):
        return [Violation("plan", "plan", f"stock/lost arrays do not match {n} stations x {T} days")]
    deliv = [[0] * T for _ in range(n)]
    per_day: dict[int, int] = {}
    km_total = 0.0
    for r in plan.routes:
        tag = f"day {r.day} truck {r.truck}"
        if not 0 <= r.day < T:
            out.append(Violation(tag, "route", "day out of horizon"))
            continue
        if any(not 0 <= s < n for s in r.stops) or len(r.stops) != len(r.delivered):
            out.append(Violation(tag, "route", f"stops {r.stops} / delivered {r.delivered} do not name stations"))
            continue
        per_day[r.day] = per_day.get(r.day, 0) + 1
        if len(set(r.stops)) != len(r.stops):
            out.append(Violation(tag, "route", "a station is visited twice"))
        if any(q < 0 for q in r.delivered):
            out.append(Violation(tag, "route", "negative delivery"))
        if sum(r.delivered) > p.truck_capacity:
            out.append(Violation(tag, "truck_capacity", f"load {sum(r.delivered)} > truck capacity "
                                                        f"{p.truck_capacity}"))
        nodes = [0] + [s + 1 for s in r.stops] + [0]
        km = sum(p.km[a][b] for a, b in itertools.pairwise(nodes))
        mins = sum(p.minutes[a][b] for a, b in itertools.pairwise(nodes)) + p.service_min * len(r.stops)
        if mins > p.shift_min + tol:
            out.append(Violation(tag, "shift", f"{mins:.1f} min > shift {p.shift_min:g} min"))
        if abs(km - r.km) > 1e-6 * max(1.0, km):
            out.append(Violation(tag, "km", f"reported {r.km:.3f} km != {km:.3f} km"))
        km_total += km
        for s, q in zip(r.stops, r.delivered):
            deliv[s][r.day] += q
    for t, k in per_day.items():
        if k > p.trucks:
            out.append(Violation(f"day {t}", "trucks", f"{k} routes > {p.trucks} trucks"))
    visits: dict[tuple[int, int], int] = {}
    for r in plan.routes:
        for s in r.stops:
            if 0 <= s < n:
                visits[(s, r.day)] = visits.get((s, r.day), 0) + 1
    for (s, t), k in visits.items():
        if k > 1:
            out.append(Violation(p.station_ids[s], "visits", f"day {t}: visited by {k} trucks"))
    lost_total, margin, held = 0, None, 0
    for i in range(n):
        sid = p.station_ids[i]
        level = p.initial[i]
        for t in range(T):
            level += deliv[i][t]
            if level > p.capacity[i]:
                out.append(Violation(sid, "capacity", f"day {t}: stock {level} after delivery > capacity "
                                                      f"{p.capacity[i]}"))
            level -= p.demand[i][t]
            lost = plan.lost[i][t]
            if level + lost < 0 or (level < 0 and level + lost != 0) or (level >= 0 and lost != 0):
                out.append(Violation(sid, "stock", f"day {t}: stock {level} below zero not matched by reported "
                                                   f"lost {lost}"))
            if lost > 0 and (sid, t) not in listed and (sid, -1) not in listed:
                out.append(Violation(sid, "unserved", f"day {t}: {lost} cylinders lost but not listed as unserved"))
            level = max(level, 0)
            lost_total += lost
            held += level
            if plan.stock[i][t] != level:
                out.append(Violation(sid, "stock", f"day {t}: reported stock {plan.stock[i][t]} != replayed {level}"))
            margin = level if margin is None else min(margin, level)
    if lost_total != plan.stockout_cylinders:
        out.append(Violation("plan", "stockout", f"stock-outs {plan.stockout_cylinders} != replayed {lost_total}"))
    if margin is not None and margin != plan.min_margin:
        out.append(Violation("plan", "margin", f"min margin {plan.min_margin} != replayed {margin}"))
    if abs(km_total * p.cost_per_km - plan.routing_cost_cny) > tol * max(1.0, km_total):
        out.append(Violation("plan", "cost", f"routing cost {plan.routing_cost_cny:.2f} != "
                                             f"{km_total * p.cost_per_km:.2f}"))
    if abs(held * p.holding_cny - plan.holding_cost_cny) > tol * max(1.0, held):
        out.append(Violation("plan", "cost", f"holding cost {plan.holding_cost_cny:.2f} != "
                                             f"{held * p.holding_cny:.2f}"))
    return out

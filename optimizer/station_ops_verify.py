"""Independent verifiers for the station-operations plans (issue 6, item 3).

* :func:`verify_charging`: recomputes every vehicle's SoC in floats from the problem data and
  the reported grid energy; checks SoC bounds (the floor may only be undercut by the shortfall
  the result reports for an unserved vehicle), charging only while parked at a station, per-slot
  energy <= min(charger, vehicle) power x slot, connectors in use <= chargers, station power <=
  grid cap, and the reported energy cost. Departure delays: the realised timeline is rebuilt
  from the plan and the reported (stop, delay) (not taken from the result), the delay must be
  whole slots, <= ``max_delay_min``, at a maximal stay followed by driving, and must not push
  driving past the end of the day; reported lateness (minutes, CNY), delays and the objective
  are recomputed.
* :func:`verify_oxygen`: replays the stock of every station from the initial stock, the route
  deliveries and the demand; checks stock never below zero except where the plan reports lost
  demand, stock after delivery <= capacity, truck load <= capacity, route duration <= shift,
  at most ``trucks`` routes a day and one visit per station a day, route km, and the reported
  stock path, costs and minimum margin.

Both return a list of violations (empty = valid). They import only the data classes.
"""

from __future__ import annotations

import itertools

import numpy as np

from models.charging import ChargingProblem, ChargingResult
from models.oxygen_irp import OxygenIRP, OxygenPlan

__all__ = ["verify_charging", "verify_oxygen"]


def _rebuild_timeline(problem: ChargingProblem, n: int, stop: object, delay_min: float,
                      out: list[str]) -> tuple[list[float], list[int]] | None:
    """The realised (draw, at) of vehicle n from the plan data and the reported (stop, delay);
    appends a violation and returns None when the delay is not a valid stop extension."""
    v = problem.vehicles[n]
    T = problem.n_slots
    draw, at = list(v.draw_kwh), list(v.at)
    if not delay_min:
        if stop is not None:
            out.append(f"{v.id}: extended stop {stop} reported without a delay")
        return draw, at
    if delay_min < 0:
        out.append(f"{v.id}: negative delay {delay_min}")
        return None
    if delay_min > problem.max_delay_min + 1e-9:
        out.append(f"{v.id}: delay {delay_min:g} min > max_delay_min {problem.max_delay_min:g}")
    d = round(delay_min / problem.slot_min)
    if abs(d * problem.slot_min - delay_min) > 1e-6:
        out.append(f"{v.id}: delay {delay_min:g} min is not a whole number of {problem.slot_min:g}-min slots")
        return None
    try:
        a, b, s = (int(x) for x in stop)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        out.append(f"{v.id}: delay {delay_min:g} min without a valid stop (first, last, station)")
        return None
    if not (0 <= a <= b < T) or s < 0 or any(at[k] != s for k in range(a, b + 1)) \
            or (a > 0 and at[a - 1] == s) or (b + 1 < T and at[b + 1] == s):
        out.append(f"{v.id}: stop {stop} is not a maximal stay at one station in the plan")
        return None
    if not any(x > 0 for x in draw[b + 1:]):
        out.append(f"{v.id}: stop {stop} is not followed by driving (a delay there delays nothing)")
    if b + d >= T or any(x > 0 for x in draw[T - d:]):
        out.append(f"{v.id}: a {delay_min:g}-min delay pushes driving past the end of the day")
        return None
    new_draw = draw[: b + 1] + [0.0] * d + draw[b + 1: T - d]
    new_at = at[: b + 1] + [s] * d + at[b + 1: T - d]
    return new_draw, new_at


def verify_charging(problem: ChargingProblem, result: ChargingResult, tol_kwh: float = 0.01) -> list[str]:
    """Independent re-check (floats, from the data): rebuilds every vehicle's realised timeline from
    the plan and the reported (stop, delay) (delay <= max_delay_min, whole slots, a maximal stay
    followed by driving, no driving pushed past the day; the result's timeline arrays must match),
    then SoC dynamics and bounds (below the floor only by the reported shortfall of an unserved
    vehicle), charging only where parked at a station, power per vehicle <= min(charger, vehicle),
    connectors in use <= chargers, station power <= grid cap, the reported energy cost, lateness
    (minutes and CNY), the delay list and the objective (energy + lateness + shortfall penalty,
    within the reported integer rounding). Returns violations (empty = valid)."""
    out: list[str] = []
    P, T, dt = problem, problem.n_slots, problem.dt_h
    if not result.has_solution:
        return ["no schedule"]
    unserved = {u["vehicle"]: u["short_kwh"] for u in result.unserved}
    in_use = np.zeros((len(P.stations), T), dtype=int)
    power = np.zeros((len(P.stations), T))
    cost = lateness = 0.0
    delayed = {}
    N = len(P.vehicles)
    delay_min = result.delay_min or (0.0,) * N
    delay_stop = result.delay_stop or (None,) * N
    if len(delay_min) != N or len(delay_stop) != N:
        return [f"delay_min/delay_stop have {len(delay_min)}/{len(delay_stop)} entries for {N} vehicles"]
    for n, v in enumerate(P.vehicles):
        tl = _rebuild_timeline(P, n, delay_stop[n], delay_min[n], out)
        if tl is None:
            continue
        draw, at = tl
        lateness += delay_min[n]
        if delay_min[n]:
            delayed[v.id] = (P.stations[delay_stop[n][2]].id, float(delay_min[n]))
        if result.timeline_at and (list(result.timeline_at[n]) != at
                                   or any(abs(x - y) > 1e-9 for x, y in zip(result.timeline_draw_kwh[n], draw))):
            out.append(f"{v.id}: reported timeline differs from the plan shifted by the reported delay")
        soc = v.soc0 * v.capacity_kwh
        floor = v.soc_min * v.capacity_kwh - unserved.get(v.id, 0.0)
        for t in range(T):
            gk = result.grid_kwh[n][t]
            if gk < -tol_kwh:
                out.append(f"{v.id} slot {t}: negative charge {gk}")
            if gk > 1e-9:
                s = at[t]
                if s < 0:
                    out.append(f"{v.id} slot {t}: charges while not parked at a station")
                    continue
                lim = min(P.stations[s].charger_kw, v.max_kw) * dt
                if gk > lim + tol_kwh:
                    out.append(f"{v.id} slot {t}: {gk:.3f} kWh > {lim:.3f} kWh per slot")
                in_use[s, t] += 1
                power[s, t] += gk / dt
                cost += P.tariff[t] * gk
            soc = soc + v.eta * gk - draw[t]
            if abs(soc - result.soc_kwh[n][t]) > tol_kwh + 0.001 * (t + 1):
                out.append(f"{v.id} slot {t}: reported SoC {result.soc_kwh[n][t]:.3f} != recomputed {soc:.3f}")
            if soc < floor - tol_kwh - 0.001 * (t + 1):
                out.append(f"{v.id} slot {t}: SoC {soc:.3f} kWh below floor {floor:.3f}")
            if soc > v.soc_max * v.capacity_kwh + tol_kwh:
                out.append(f"{v.id} slot {t}: SoC {soc:.3f} kWh above ceiling")
    for s, st in enumerate(P.stations):
        for t in range(T):
            if in_use[s, t] > st.chargers:
                out.append(f"station {st.id} slot {t}: {in_use[s, t]} vehicles on {st.chargers} chargers")
            if power[s, t] > st.grid_kw + tol_kwh / dt:
                out.append(f"station {st.id} slot {t}: {power[s, t]:.1f} kW > grid cap {st.grid_kw:g} kW")
    if result.energy_cost_cny is not None and abs(cost - result.energy_cost_cny) > 1e-6 * max(1.0, cost):
        out.append(f"energy cost {result.energy_cost_cny:.4f} != recomputed {cost:.4f}")
    if abs(lateness - result.lateness_min) > 1e-6:
        out.append(f"lateness {result.lateness_min:g} min != recomputed {lateness:g} min")
    late_cost = P.lateness_cny_per_min * lateness
    if abs(late_cost - result.lateness_cost_cny) > 1e-6 * max(1.0, late_cost):
        out.append(f"lateness cost {result.lateness_cost_cny:.4f} CNY != recomputed {late_cost:.4f} CNY")
    rep = {d["vehicle"]: (d["station"], float(d["delay_min"])) for d in result.delays}
    if rep != delayed:
        out.append(f"reported delays {rep} != recomputed {delayed}")
    if result.objective_cny is not None:
        obj = cost + late_cost + P.shortfall_penalty * sum(result.short_kwh)
        if abs(obj - result.objective_cny) > result.cost_rounding_cny + 1e-6 * max(1.0, obj):
            out.append(f"objective {result.objective_cny:.4f} != energy + lateness + shortfall {obj:.4f} CNY")
    return out


def verify_oxygen(p: OxygenIRP, plan: OxygenPlan, tol: float = 1e-6) -> list[str]:
    out: list[str] = []
    if not plan.has_solution:
        return ["no plan"]
    n, T = p.n, p.days
    deliv = np.zeros((n, T), dtype=int)
    per_day: dict[int, int] = {}
    km_total = 0.0
    for r in plan.routes:
        tag = f"day {r.day} truck {r.truck}"
        if not 0 <= r.day < T:
            out.append(f"{tag}: day out of horizon")
            continue
        per_day[r.day] = per_day.get(r.day, 0) + 1
        if len(set(r.stops)) != len(r.stops):
            out.append(f"{tag}: a station is visited twice")
        if any(q < 0 for q in r.delivered):
            out.append(f"{tag}: negative delivery")
        if sum(r.delivered) > p.truck_capacity:
            out.append(f"{tag}: load {sum(r.delivered)} > truck capacity {p.truck_capacity}")
        nodes = [0] + [s + 1 for s in r.stops] + [0]
        km = sum(p.km[a][b] for a, b in itertools.pairwise(nodes))
        mins = sum(p.minutes[a][b] for a, b in itertools.pairwise(nodes)) + p.service_min * len(r.stops)
        if mins > p.shift_min + tol:
            out.append(f"{tag}: {mins:.1f} min > shift {p.shift_min:g} min")
        if abs(km - r.km) > 1e-6 * max(1.0, km):
            out.append(f"{tag}: reported {r.km:.3f} km != {km:.3f} km")
        km_total += km
        for s, q in zip(r.stops, r.delivered):
            deliv[s, r.day] += q
    for t, k in per_day.items():
        if k > p.trucks:
            out.append(f"day {t}: {k} routes > {p.trucks} trucks")
    visits = {}
    for r in plan.routes:
        for s in r.stops:
            visits[(s, r.day)] = visits.get((s, r.day), 0) + 1
    for (s, t), k in visits.items():
        if k > 1:
            out.append(f"{p.station_ids[s]} day {t}: visited by {k} trucks")
    lost_total, margin = 0, None
    for i in range(n):
        level = p.initial[i]
        for t in range(T):
            level += int(deliv[i, t])
            if level > p.capacity[i]:
                out.append(f"{p.station_ids[i]} day {t}: stock {level} after delivery > capacity {p.capacity[i]}")
            level -= p.demand[i][t]
            lost = plan.lost[i][t]
            if level + lost < 0 or (level < 0 and level + lost != 0) or (level >= 0 and lost != 0):
                out.append(f"{p.station_ids[i]} day {t}: stock {level} below zero not matched by reported lost {lost}")
            level = max(level, 0)
            lost_total += lost
            if plan.stock[i][t] != level:
                out.append(f"{p.station_ids[i]} day {t}: reported stock {plan.stock[i][t]} != replayed {level}")
            margin = level if margin is None else min(margin, level)
    if lost_total != plan.stockout_cylinders:
        out.append(f"stock-outs {plan.stockout_cylinders} != replayed {lost_total}")
    if margin is not None and margin != plan.min_margin:
        out.append(f"min margin {plan.min_margin} != replayed {margin}")
    if abs(km_total * p.cost_per_km - plan.routing_cost_cny) > 1e-6 * max(1.0, km_total):
        out.append(f"routing cost {plan.routing_cost_cny:.2f} != {km_total * p.cost_per_km:.2f}")
    return out

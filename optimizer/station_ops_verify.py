"""Independent verifiers for the station-operations plans (issue 6, item 3).

* :func:`verify_charging`: recomputes every vehicle's SoC in floats from the problem data and
  the reported grid energy; checks SoC bounds (the floor may only be undercut by the shortfall
  the result reports for an unserved vehicle), charging only while parked at a station, per-slot
  energy <= min(charger, vehicle) power x slot, connectors in use <= chargers, station power <=
  grid cap, and the reported energy cost.
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


def verify_charging(problem: ChargingProblem, result: ChargingResult, tol_kwh: float = 0.01) -> list[str]:
    """Independent re-check (floats, from the data): SoC dynamics and bounds (below the floor only
    by the reported shortfall of an unserved vehicle), charging only where parked at a station, power
    per vehicle <= min(charger, vehicle), connectors in use <= chargers, station power <= grid cap,
    and the reported energy cost. Returns violations (empty = valid)."""
    out: list[str] = []
    P, T, dt = problem, problem.n_slots, problem.dt_h
    if not result.has_solution:
        return ["no schedule"]
    unserved = {u["vehicle"]: u["short_kwh"] for u in result.unserved}
    in_use = np.zeros((len(P.stations), T), dtype=int)
    power = np.zeros((len(P.stations), T))
    cost = 0.0
    for n, v in enumerate(P.vehicles):
        soc = v.soc0 * v.capacity_kwh
        floor = v.soc_min * v.capacity_kwh - unserved.get(v.id, 0.0)
        for t in range(T):
            gk = result.grid_kwh[n][t]
            if gk < -tol_kwh:
                out.append(f"{v.id} slot {t}: negative charge {gk}")
            if gk > 1e-9:
                s = v.at[t]
                if s < 0:
                    out.append(f"{v.id} slot {t}: charges while not parked at a station")
                    continue
                lim = min(P.stations[s].charger_kw, v.max_kw) * dt
                if gk > lim + tol_kwh:
                    out.append(f"{v.id} slot {t}: {gk:.3f} kWh > {lim:.3f} kWh per slot")
                in_use[s, t] += 1
                power[s, t] += gk / dt
                cost += P.tariff[t] * gk
            soc = soc + v.eta * gk - v.draw_kwh[t]
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

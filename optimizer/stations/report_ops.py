"""Reports of the station-operations plans: JSON-safe documents, tables (polars) and plots drawn on
a matplotlib ``Axes`` the caller passes (nothing here writes a file; the caller saves).

Charging: :func:`charging_to_dict`, :func:`sessions_table`, :func:`plot_soc`,
:func:`plot_station_load`. Oxygen: :func:`oxygen_to_dict`, :func:`stock_table`,
:func:`routes_table`, :func:`plot_stock`. Units: energy kWh, power kW, money CNY, time minutes
from midnight (``start_min``) or slot indices, stock in full 40 L cylinders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from optimizer.core.clock import fmt_clock
from optimizer.core.serialize import json_safe
from optimizer.stations.charging import ChargingProblem, ChargingSchedule
from optimizer.stations.oxygen import OxygenPlan, OxygenProblem

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["charging_to_dict", "oxygen_to_dict", "plot_soc", "plot_station_load", "plot_stock", "routes_table",
           "sessions_table", "stock_table"]

SESSION_SCHEMA = {"vehicle": pl.String, "station": pl.String, "slot": pl.Int64, "start_min": pl.Float64,
                  "grid_kwh": pl.Float64, "price": pl.Float64}
STOCK_SCHEMA = {"station": pl.String, "day": pl.Int64, "demand": pl.Int64, "delivered": pl.Int64,
                "stock": pl.Int64, "lost": pl.Int64, "safety": pl.Int64, "capacity": pl.Int64}
ROUTE_SCHEMA = {"day": pl.Int64, "truck": pl.Int64, "stops": pl.List(pl.String), "delivered": pl.List(pl.Int64),
                "km": pl.Float64, "minutes": pl.Float64}


def _stats(stats: Any, extra: dict) -> dict[str, Any]:
    return {"status": stats.status, "objective": stats.objective, "bound": stats.bound, "gap": stats.gap,
            "runtime_s": stats.runtime_s, "iterations": stats.iterations, "stopped_by": stats.stopped_by,
            "seed": stats.seed, **extra}


# ------------------------------------------------------------------------------------------------
# charging


def sessions_table(problem: ChargingProblem, schedule: ChargingSchedule) -> pl.DataFrame:
    """One row per (vehicle, slot) with grid energy > 0: vehicle, station, slot, start_min (minutes
    from midnight), grid_kwh (kWh), price (CNY/kWh). Empty without a schedule."""
    rows: dict[str, list] = {c: [] for c in SESSION_SCHEMA}
    if schedule.stats.has_plan:
        for n, v in enumerate(problem.vehicles):
            for t, g in enumerate(schedule.grid_kwh[n]):
                if g > 0:
                    for c, x in zip(SESSION_SCHEMA, (v.id, problem.stations[schedule.timeline_at[n][t]].id, t,
                                                     t * problem.slot_min, g, problem.tariff[t])):
                        rows[c].append(x)
    return pl.DataFrame(rows, schema=SESSION_SCHEMA)


def charging_to_dict(problem: ChargingProblem, schedule: ChargingSchedule,
                     include_sessions: bool = True) -> dict[str, Any]:
    """The schedule as a JSON-safe dict (``json_safe``, non-finite numbers as null).

    Keys: ``status``; ``coaches`` (``total``, ``served`` = kept above their floor, ``stranded`` =
    the ``unserved`` ones, ``stranded_by_reason``); ``energy_cost_cny``, ``objective_cny`` (energy + lateness + shortfall
    penalty), ``bound_cny`` (CNY/day); ``gap`` (fraction); ``wall_s`` (s); ``unserved`` (vehicle,
    short_kwh (kWh below the floor at the lowest point, <= soc_min x capacity), unmet_kwh (driving
    energy beyond an empty battery), below_floor_at / empty_at (HH:MM or null), reason word, detail;
    ``optimizer.stations.charging``, *Shortfall*); ``delays`` (vehicle, station, delay_min, stop_first_slot,
    stop_last_slot); ``lateness_min_total``, ``lateness_cost_cny``; ``stations`` (ids),
    ``slot_min``, ``tariff`` (CNY/kWh per slot); ``sessions`` (rows of :func:`sessions_table`;
    left out when ``include_sessions`` is false); ``soc_kwh`` (vehicle -> kWh at the end of each
    slot) and ``station_load_kw`` (station -> kW per slot, stations with load) when there is a
    schedule; ``stats`` (``SolveStats`` fields and the model size); ``params`` (the delay policy).
    """
    st = schedule.stats
    has = st.has_plan
    reasons: dict[str, int] = {}
    for u in schedule.unserved:
        reasons[u.reason] = reasons.get(u.reason, 0) + 1
    n_all = len(problem.vehicles)

    def clock(m: float | None) -> str | None:
        return None if m is None else fmt_clock(m)

    doc: dict[str, Any] = {
        "status": st.status,
        "coaches": {"total": n_all, "served": n_all - len(schedule.unserved), "stranded": len(schedule.unserved),
                    "stranded_by_reason": reasons}, "energy_cost_cny": schedule.energy_cost_cny, "objective_cny": st.objective,
        "bound_cny": st.bound, "gap": st.gap, "wall_s": st.runtime_s,
        "unserved": [{"vehicle": u.item_id, "short_kwh": u.short_kwh, "unmet_kwh": u.unmet_kwh,
                      "below_floor_at": clock(u.below_floor_min), "empty_at": clock(u.empty_min), "reason": u.reason,
                      "detail": u.detail} for u in schedule.unserved],
        "delays": [{"vehicle": d.vehicle_id, "station": d.station_id, "delay_min": d.delay_min,
                    "stop_first_slot": d.stop_first_slot, "stop_last_slot": d.stop_last_slot}
                   for d in schedule.delays],
        "lateness_min_total": schedule.lateness_min if has else None,
        "lateness_cost_cny": schedule.lateness_cost_cny if has else None,
        "stations": [s.id for s in problem.stations], "slot_min": problem.slot_min, "tariff": list(problem.tariff),
        "stats": _stats(st, schedule.model_info),
        "params": {"max_delay_min": problem.max_delay_min, "lateness_cny_per_min": problem.lateness_cny_per_min,
                   "shortfall_penalty_cny_per_kwh": problem.shortfall_penalty},
    }
    if include_sessions:
        doc["sessions"] = sessions_table(problem, schedule).to_dicts()
    if has:
        doc["soc_kwh"] = {v.id: list(schedule.soc_kwh[n]) for n, v in enumerate(problem.vehicles)}
        load = schedule.station_load_kw(problem)
        doc["station_load_kw"] = {s.id: [float(x) for x in load[k]] for k, s in enumerate(problem.stations)
                                  if load[k].max() > 0}
    return json_safe(doc, nonfinite="null")


def plot_soc(problem: ChargingProblem, schedule: ChargingSchedule, ax: Axes) -> Axes:
    """SoC (% of the battery) per coach over the day; coaches below their floor (``unserved``) have
    no physical curve (the model's values dip below zero by the shortfall) and are not drawn."""
    T = problem.n_slots
    hours = np.arange(T + 1) * problem.slot_min / 60.0
    short = {n for n, s in enumerate(schedule.short_kwh) if s > 1e-9}
    if schedule.stats.has_plan:
        for n, v in enumerate(problem.vehicles):
            if n in short:
                continue
            y = [v.soc0 * 100] + [100 * e / v.capacity_kwh for e in schedule.soc_kwh[n]]
            ax.plot(hours, y, lw=0.8, alpha=0.7)
    if problem.vehicles:
        ax.axhline(100 * min(v.soc_min for v in problem.vehicles), color="red", ls="--", lw=1, label="floor")
    ax.set_xlabel("hour of day")
    ax.set_ylabel("state of charge, %")
    ax.set_ylim(0, 100)
    n_all = len(problem.vehicles)
    title = f"SoC per vehicle ({n_all - len(short)} of {n_all} electric coaches"
    ax.set_title(title + (f"; {len(short)} that cannot stay above the floor are not drawn)" if short else ")"))
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def plot_station_load(problem: ChargingProblem, schedule: ChargingSchedule, ax: Axes) -> Axes:
    """Charging power per station over the day (kW, steps), the grid cap, and the tariff (dotted,
    on a twin axis)."""
    load = schedule.station_load_kw(problem)
    hours = np.arange(problem.n_slots) * problem.slot_min / 60.0
    used = [s for s in range(len(problem.stations)) if load[s].max() > 0]
    for s in used:
        ax.step(hours, load[s], where="post", label=problem.stations[s].id, lw=1)
    if used:
        ax.axhline(max(problem.stations[s].grid_kw for s in used), color="red", ls="--", lw=1, label="grid cap")
    ax2 = ax.twinx()
    ax2.step(hours, problem.tariff, where="post", color="grey", ls=":", lw=1)
    ax2.set_ylabel("tariff, CNY/kWh (dotted)")
    ax.set_xlabel("hour of day")
    ax.set_ylabel("station load, kW")
    if used:
        ax.set_title("Charging load per station")
        ax.legend(loc="upper left", fontsize=7, ncol=2)
    else:
        ax.set_title("Charging load per station (no charging: no vehicle parks at a charger)")
    ax.grid(alpha=0.3)
    return ax


# ------------------------------------------------------------------------------------------------
# oxygen


def stock_table(problem: OxygenProblem, plan: OxygenPlan) -> pl.DataFrame:
    """One row per (station, day): demand, delivered, stock at the end of the day, lost (unmet
    demand), safety and capacity, all in cylinders. Empty without a plan."""
    rows: dict[str, list] = {c: [] for c in STOCK_SCHEMA}
    if plan.stats.has_plan:
        dl = np.zeros((problem.n, problem.days), dtype=int)
        for r in plan.routes:
            for s, q in zip(r.stops, r.delivered):
                dl[s, r.day] += q
        for i, sid in enumerate(problem.station_ids):
            for t in range(problem.days):
                for c, x in zip(STOCK_SCHEMA, (sid, t, problem.demand[i][t], int(dl[i, t]), plan.stock[i][t],
                                               plan.lost[i][t], problem.ss(i), problem.capacity[i])):
                    rows[c].append(x)
    return pl.DataFrame(rows, schema=STOCK_SCHEMA)


def routes_table(problem: OxygenProblem, plan: OxygenPlan) -> pl.DataFrame:
    """One row per truck route: day, truck, stops (station ids in order), delivered (cylinders per
    stop), km, minutes."""
    rows: dict[str, list] = {c: [] for c in ROUTE_SCHEMA}
    for r in plan.routes:
        for c, x in zip(ROUTE_SCHEMA, (r.day, r.truck, [problem.station_ids[s] for s in r.stops], list(r.delivered),
                                       r.km, r.minutes)):
            rows[c].append(x)
    return pl.DataFrame(rows, schema=ROUTE_SCHEMA)


def oxygen_to_dict(problem: OxygenProblem, plan: OxygenPlan) -> dict[str, Any]:
    """The plan as a JSON-safe dict (``json_safe``, non-finite numbers as null).

    Keys: ``status``, ``method`` (exact or policy); ``routing_cost_cny``, ``holding_cost_cny``,
    ``total_cost_cny``, ``bound_cny`` (CNY over the horizon; costs null without a plan);
    ``min_margin_cylinders``, ``stockout_cylinders`` (cylinders); ``wall_s`` (s); ``depot``;
    ``routes`` (rows of :func:`routes_table`); ``stock`` (station -> cylinders at the end of each
    day); ``unserved`` (station, day (-1: whole horizon), cylinders, reason word, detail);
    ``safety_stock`` (station -> cylinders) and ``safety_breaches`` (station, day, stock below it);
    ``stats`` (``SolveStats`` fields and the method's details).
    """
    st = plan.stats
    has = st.has_plan
    stock = stock_table(problem, plan)
    breaches = stock.filter(pl.col("stock") < pl.col("safety")).select("station", "day", "stock").to_dicts()
    doc = {
        "status": st.status, "method": plan.method,
        "routing_cost_cny": plan.routing_cost_cny if has else None,
        "holding_cost_cny": plan.holding_cost_cny if has else None,
        "total_cost_cny": plan.total_cost_cny if has else None, "bound_cny": st.bound,
        "min_margin_cylinders": plan.min_margin if has else None,
        "stockout_cylinders": plan.stockout_cylinders if has else None, "wall_s": st.runtime_s,
        "depot": problem.depot_id,
        "routes": routes_table(problem, plan).to_dicts(),
        "stock": {s: list(plan.stock[i]) for i, s in enumerate(problem.station_ids)} if has else {},
        "unserved": [{"station": u.item_id, "day": u.day, "cylinders": u.cylinders, "reason": u.reason,
                      "detail": u.detail} for u in plan.unserved],
        "safety_stock": {s: problem.ss(i) for i, s in enumerate(problem.station_ids)},
        "safety_breaches": breaches,
        "stats": _stats(st, {"stations": problem.n, "days": problem.days, **plan.details}),
    }
    return json_safe(doc, nonfinite="null")


def plot_stock(problem: OxygenProblem, plan: OxygenPlan, ax: Axes) -> Axes:
    """Full cylinders per station at the end of each day (day 0 = the initial stock)."""
    days = list(range(problem.days + 1))
    if plan.stats.has_plan:
        for i, s in enumerate(problem.station_ids):
            ax.plot(days, [problem.initial[i]] + list(plan.stock[i]), marker="o", ms=3, lw=1, label=s)
    ax.axhline(0, color="red", lw=1)
    ax.set_xlabel("end of day (0 = initial)")
    ax.set_ylabel("full 40 L cylinders in stock")
    ax.set_title(f"Oxygen stock per station ({plan.method}, min margin {plan.min_margin})")
    if plan.stats.has_plan:
        ax.legend(fontsize=7, ncol=2, loc="upper right")
    ax.grid(alpha=0.3)
    return ax

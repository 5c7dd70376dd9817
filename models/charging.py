"""EV fleet charging schedule with departure delays: time-indexed CP-SAT model (MODELS.md section 3.1).

The problem is ``optimizer.stations.charging.ChargingProblem`` (read here by its attributes: this
module imports no family module, so the family may dispatch to it without an import cycle):
vehicles n with battery ``capacity_kwh`` E_n, initial SoC ``soc0`` (share), floor ``soc_min``
(share), ceiling ``soc_max``, on-board charge limit ``max_kw``, charge efficiency ``eta``; stations
s with ``chargers`` (connectors), ``charger_kw`` and a grid cap ``grid_kw``; slots t of
``slot_min`` minutes; tariff ``pi_t`` (CNY/kWh); per vehicle and slot the energy drawn while
driving ``draw_kwh[n][t]`` and where it is parked, ``at[n][t]`` (station index, or -1). Vehicles
only charge in slots where their (realised) timeline parks them at a station. Delay policy:
``max_delay_min``, ``lateness_cny_per_min`` (w, a policy weight) and ``delay_stops`` (K,
candidate stops per vehicle, None = all).

Timeline variants (departure delays). A *charging stop* of vehicle n is a maximal run of slots
a..b with ``at[n][t] = s >= 0`` (one station) that is followed by driving (some draw after b):
the start-of-day stay before departure counts, the stay after the last return does not (a delay
there delays nothing). Variant 0 is the plan as given; variant (k, d), d = 1..D slots with
D = floor(max_delay_min / slot_min), extends stop k by d slots: slots b+1..b+d are parked at s
without draw, and the rest of the day (slots b+1..T-1-d of the plan) follows d slots later. A
variant whose shift would push driving past the last slot (draw in slots T-d..T-1 of the plan)
is dropped. Vehicle n's lateness is d * slot_min minutes (it arrives d slots late at every later
stop and at the end of the day). Only the K candidate stops that feed the most energy-hungry
stretches (largest draw from the end of the stop to the next slot parked at a station) get
variants (default K = all; ``bench/RESULTS.md`` compares K = 3); identical
timelines are kept once. Vehicles that the family's ``precheck`` finds unservable (passed in
as ``hopeless``: a stretch between charging opportunities draws more than the usable battery)
get no variants: a delay only lengthens stops, so it cannot keep them above the floor; they stay
on plan, are reported unserved with the reason and need a different route, not a delay.
:func:`timeline_variants` lists the variants, :func:`shift_timeline` builds one.

Model (all energies integer, see *Scaling*; y_nv = 1 iff vehicle n follows variant v)::

    min  sum_{n,s,t} pi_t g_nst  +  w * sum_{n,v} d_v slot_min y_nv  +  M * sum_n short_n
    s.t. sum_v y_nv = 1
         e_n0 = E_n soc0_n
         e_n,t+1 = e_nt + eta * sum_s g_nst - sum_v D_nvt y_nv        (SoC dynamics; g = grid energy)
         e_nt >= E_n soc_min - short_n ,  e_nt <= E_n soc_max      for every t = 1..T
         g_nst <= min(P_s, P_n) dt * u_nst ,  u_nst <= sum_{v: at_v[n][t] = s} y_nv   (plugged where parked)
         sum_n u_nst <= chargers_s                                    (connector concurrency)
         sum_n g_nst <= grid_s dt                                     (grid cap per station, slot)
         short_n >= 0

g/u exist only for (n, s, t) where some variant parks n at s in slot t. Where every variant
parks n at s (or there is a single variant), u is dropped unless the connectors can bind, and
D_nvt is a constant. With ``max_delay_min = 0`` (or no candidate stop) this is exactly the
fixed-timeline model: same variables, constraints and objective.

``short_n`` (kWh) is the energy by which vehicle n dips below its floor. It is penalised with
``M = shortfall_penalty`` CNY/kWh (default 10 000, far above any tariff), so it is positive only
when no schedule (and no allowed delay) keeps the vehicle above its floor; such vehicles are
reported unserved, with the reason, by ``optimizer.stations.charging``. Delayed vehicles are reported
as delays (vehicle, station, stop slots, minutes), not as unserved.
*Ordering of the weights*: the solver trades linearly, so a delay of L minutes is preferred to
a shortfall of x kWh iff w L < M x, and to an energy saving of c CNY iff w L < c. With the
defaults (w = 5, M = 10 000) any shortfall above 5 * 60 / 10 000 = 0.03 kWh costs more than the
longest delay; a weight w with w * max_delay_min > M * x makes the solver accept a shortfall of
x kWh rather than the delay.

Restrictions: delays are whole slots and taken at one stop per vehicle (a later stop cannot be
shortened to catch up, two stops cannot both be extended); a stay shorter than one whole slot at
a charger site is not in ``at`` and so is no candidate; the delayed tour is not re-checked
against site opening hours or the tour planner's other constraints (the lateness weight prices
that); other vehicles' plans do not depend on the delay (no shared guides or convoys).

Scaling (CP-SAT needs integers): SoC in Wh; grid energy g in units of ``G_UNIT_WH`` = 100 Wh;
stored energy per unit = round(100 * eta) Wh (so eta is rounded to 0.01; default eta = 0.90,
(K)); driving draw D is rounded *up* to whole Wh (conservative); bounds rounded inward. Cost
per g unit = round(pi_t * 0.1 kWh * 10 000) in 1e-4 CNY, i.e. exact for tariffs given to 3
decimals; lateness cost per variant = round(w d slot_min * 10 000) in 1e-4 CNY (the rounding
errors are reported in ``cost_rounding_cny``). The shortfall is in Wh. Coefficients go to
int64 through ``models._backend.to_int`` (overflow checked) or are rounded in the stated direction.

Status and gap come from ``models._backend.cpsat_outcome``: with a relative gap limit, ``optimal``
only when the bound is within one cost unit (1e-4 CNY) of the objective, else ``feasible``.
:func:`solve` returns the raw values in kWh and CNY (:class:`ChargingModelResult`);
``optimizer.stations.charging.solve_charging`` turns them into the family's schedule and
``optimizer.stations.verify_ops.verify_charging`` re-checks it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from models._backend import (
    DEFAULT_TIME_LIMIT_S,
    BackendOutcome,
    cpsat_outcome,
    cpsat_solver,
    cpsat_status,
    time_left_s,
    to_int,
)
from optimizer.core.clock import Deadline
from optimizer.core.results import FEASIBLE, NO_SOLUTION_IN_TIME, OPTIMAL
from optimizer.core.stop import StoppingCriterion

__all__ = ["COST_UNIT", "G_UNIT_WH", "ChargingModelResult", "Variant", "charging_stops", "shift_timeline", "solve",
           "timeline_variants"]

G_UNIT_WH = 100
"""Grid energy unit of the model, Wh."""
COST_UNIT = 1e-4
"""CNY per objective unit."""
MIN_SLICE_S = 0.05
"""Smallest time limit handed to one CP-SAT call, seconds."""


@dataclass(frozen=True)
class Variant:
    """One timeline of a vehicle: ``stop`` = (first slot, last slot, station index) of the extended
    charging stop (None for the plan as given), ``delay_slots`` d, and the realised ``draw_kwh``/``at``."""

    stop: tuple[int, int, int] | None
    delay_slots: int
    draw_kwh: tuple[float, ...]
    at: tuple[int, ...]


def charging_stops(v: Any) -> list[tuple[int, int, int]]:
    """Maximal runs (first slot, last slot, station) parked at one station and followed by driving."""
    T = len(v.at)
    after = np.concatenate([np.cumsum(np.asarray(v.draw_kwh, dtype=float)[::-1])[::-1], [0.0]])  # draw from t on
    out, t = [], 0
    while t < T:
        s = v.at[t]
        if s < 0:
            t += 1
            continue
        b = t
        while b + 1 < T and v.at[b + 1] == s:
            b += 1
        if after[b + 1] > 0:
            out.append((t, b, s))
        t = b + 1
    return out


def shift_timeline(v: Any, stop: tuple[int, int, int], d: int) -> Variant | None:
    """Extend ``stop`` (first, last, station) by d slots; None if driving would pass the last slot."""
    T = len(v.at)
    _, b, s = stop
    if d < 0 or d >= T - b:
        return None
    if d and any(x > 0 for x in v.draw_kwh[T - d:]):
        return None
    draw = tuple(v.draw_kwh[: b + 1]) + (0.0,) * d + tuple(v.draw_kwh[b + 1: T - d])
    at = tuple(v.at[: b + 1]) + (s,) * d + tuple(v.at[b + 1: T - d])
    return Variant(stop, d, draw, at)


def timeline_variants(problem: Any, v: Any) -> list[Variant]:
    """Variant 0 (the plan) and the delayed timelines of the K candidate stops (module docstring)."""
    base = Variant(None, 0, tuple(v.draw_kwh), tuple(v.at))
    D = problem.max_delay_slots
    if D <= 0 or problem.delay_stops == 0:
        return [base]
    stops = charging_stops(v)
    if problem.delay_stops is not None and len(stops) > problem.delay_stops:
        def stretch(st: tuple[int, int, int]) -> float:
            t, e = st[1] + 1, 0.0
            while t < len(v.at) and v.at[t] < 0:
                e += v.draw_kwh[t]
                t += 1
            return e
        keep = sorted(range(len(stops)), key=lambda k: (-stretch(stops[k]), k))[: problem.delay_stops]
        stops = [stops[k] for k in sorted(keep)]
    out, seen = [base], {(base.draw_kwh, base.at)}
    for st in stops:
        for d in range(1, D + 1):
            var = shift_timeline(v, st, d)
            if var is None:
                break  # longer delays push even more driving past the end of the day
            key = (var.draw_kwh, var.at)
            if key not in seen:
                seen.add(key)
                out.append(var)
    return out


@dataclass
class _Built:
    """The built CP-SAT model and what extraction needs (model units)."""

    model: object
    g: dict
    gub: dict
    u: dict
    ys: list
    variants: list
    socs: list
    shorts: list
    rounding: float
    n_y: int
    veh: list  # per vehicle: dict(dwh, store, e0, lo, late, gmax{s}) in model units
    cost_g: list  # cost units per g unit, per slot
    cap_units: list  # grid cap per station in g units per slot


class _OutOfTime(Exception):
    """Model building passed its deadline (``_build(end=...)``)."""


def _build(P: Any, hopeless: frozenset[str] = frozenset(), end: float | None = None) -> _Built:
    """The CP-SAT model of the module docstring (variables keyed (n, s, t)).

    ``end``: a ``time.perf_counter`` time; building looks at the clock before each vehicle and
    raises ``_OutOfTime`` once past it (a 500-coach model takes seconds to build), so that the
    time limit covers model building."""
    from ortools.sat.python import cp_model

    T = P.n_slots
    m = cp_model.CpModel()
    g: dict[tuple[int, int, int], cp_model.IntVar] = {}
    gub: dict[tuple[int, int, int], int] = {}
    avail: dict[tuple[int, int, int], list] = {}  # (n, s, t) -> y vars of the variants parked there (if not all)
    ub: dict[tuple[int, int, int], cp_model.IntVar] = {}
    cost_terms, cost_coefs = [], []
    rounding = 0.0
    per_station: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    socs, shorts, ys, variants = [], [], [], []
    big = to_int(P.shortfall_penalty, 1.0 / 1000.0 / COST_UNIT, "shortfall_penalty")  # cost units per Wh short
    n_y = 0
    veh: list[dict] = []
    for n, v in enumerate(P.vehicles):
        if end is not None and time.perf_counter() >= end:
            raise _OutOfTime
        E = v.capacity_kwh * 1000.0
        store = round(v.eta * G_UNIT_WH)
        lo, hi = math.ceil(v.soc_min * E - 1e-9), math.floor(v.soc_max * E + 1e-9)
        e0 = to_int(v.soc0, E, f"vehicles[{v.id}].soc0")
        short = m.new_int_var(0, int(E) + int(sum(v.draw_kwh) * 1000) + 1, f"s{n}")
        shorts.append(short)
        V = timeline_variants(P, v) if v.id not in hopeless else [Variant(None, 0, tuple(v.draw_kwh), tuple(v.at))]
        variants.append(V)
        y = [m.new_bool_var(f"y{n}_{k}") for k in range(len(V))] if len(V) > 1 else []
        ys.append(y)
        late = [0] * len(V)
        if y:
            n_y += len(y)
            m.add_exactly_one(y)
            for k, var in enumerate(V):
                if var.delay_slots:
                    c = P.lateness_cny_per_min * var.delay_slots * P.slot_min / COST_UNIT
                    ic = to_int(c, 1.0, "lateness_cny_per_min")
                    late[k] = ic
                    rounding += abs(c - ic) * COST_UNIT
                    cost_terms.append(y[k])
                    cost_coefs.append(ic)
        dwh = [[math.ceil(var.draw_kwh[t] * 1000.0 - 1e-9) for t in range(T)] for var in V]
        veh.append({"dwh": dwh, "store": store, "e0": e0, "lo": lo, "hi": hi, "late": late, "big": big,
                    "gmax": {s: math.floor(P.max_slot_kwh(v, s) * 1000.0 / G_UNIT_WH + 1e-9)
                             for s in {var.at[t] for var in V for t in range(T)} if s >= 0}})
        prev: cp_model.LinearExprT = e0
        row = []
        for t in range(T):
            inc = 0
            here = sorted({var.at[t] for var in V if var.at[t] >= 0})
            for s in here:
                gmax = math.floor(P.max_slot_kwh(v, s) * 1000.0 / G_UNIT_WH + 1e-9)
                if gmax <= 0:
                    continue
                x = m.new_int_var(0, gmax, f"g{n}_{t}" if len(V) == 1 else f"g{n}_{s}_{t}")
                key = (n, s, t)
                g[key] = x
                gub[key] = gmax
                per_station.setdefault((s, t), []).append(key)
                if y and any(var.at[t] != s for var in V):
                    av = [y[k] for k, var in enumerate(V) if var.at[t] == s]
                    avail[key] = av
                    m.add(x <= gmax * sum(av))
                c = P.tariff[t] * G_UNIT_WH / 1000.0 / COST_UNIT
                ic = to_int(c, 1.0, f"tariff[{t}]")
                rounding += abs(c - ic) * gmax * COST_UNIT
                cost_terms.append(x)
                cost_coefs.append(ic)
                inc = inc + store * x
            ds = {dw[t] for dw in dwh}
            d = dwh[0][t] if len(ds) == 1 else sum(dw[t] * y[k] for k, dw in enumerate(dwh) if dw[t])
            e = m.new_int_var(-int(E) - int(sum(v.draw_kwh) * 1000) - 1, hi, f"e{n}_{t}")
            m.add(e == prev + inc - d)
            m.add(e + short >= lo)
            row.append(e)
            prev = e
        socs.append(row)
    for (s, t), keys in per_station.items():
        st = P.stations[s]
        if len(keys) > st.chargers:
            us = []
            for k in keys:
                b = m.new_bool_var(f"u{k[0]}_{k[2]}")  # plugged on a connector
                ub[k] = b
                gm = gub[k]
                m.add(g[k] <= gm * b)
                if k in avail:
                    m.add(b <= sum(avail[k]))
                us.append(b)
            m.add(sum(us) <= st.chargers)
        cap = math.floor(st.grid_kw * P.dt_h * 1000.0 / G_UNIT_WH + 1e-9)
        if sum(gub[k] for k in keys) > cap:
            m.add(sum(g[k] for k in keys) <= cap)
    obj = cp_model.LinearExpr.weighted_sum(cost_terms, cost_coefs) + big * sum(shorts)
    m.minimize(obj)
    cost_g = [round(P.tariff[t] * G_UNIT_WH / 1000.0 / COST_UNIT) for t in range(T)]
    cap_units = [math.floor(st.grid_kw * P.dt_h * 1000.0 / G_UNIT_WH + 1e-9) for st in P.stations]
    return _Built(m, g, gub, ub, ys, variants, socs, shorts, rounding, n_y, veh, cost_g, cap_units)


def _vehicle_obj(bt: _Built, n: int, k: int, gval: dict) -> tuple[int, list[int], int]:
    """(objective units, SoC path Wh, shortfall Wh) of vehicle n on variant k with grid units gval[(s, t)]."""
    d = bt.veh[n]
    T = len(bt.cost_g)
    per_t = [0] * T
    for (_, t), x in gval.items():
        per_t[t] += x
    e, path = d["e0"], []
    for t in range(T):
        e = e + d["store"] * per_t[t] - d["dwh"][k][t]
        path.append(e)
    short = max(0, d["lo"] - min(path)) if path else 0
    return sum(bt.cost_g[t] * per_t[t] for t in range(T)) + d["late"][k] + d["big"] * short, path, short


def _repair(P: Any, bt: _Built, chosen: list[int], gsol: list[dict], deadline: float, seed: int) -> None:
    """Greedy warm start: re-optimise one vehicle at a time over its variants (a small CP-SAT model,
    the other vehicles' charging fixed: their connectors and grid power are taken), vehicles with the
    largest shortfall first, then the others while time remains; a vehicle's new plan is kept only
    if its objective falls. ``chosen``/``gsol`` (per vehicle {(s, t): g units}) are updated in place."""
    from ortools.sat.python import cp_model

    T = P.n_slots
    conn = np.zeros((len(P.stations), T), dtype=int)
    grid = np.zeros((len(P.stations), T), dtype=int)
    for gv in gsol:
        for (s, t), x in gv.items():
            if x > 0:
                conn[s, t] += 1
                grid[s, t] += x
    cur = [_vehicle_obj(bt, n, chosen[n], gsol[n]) for n in range(len(P.vehicles))]
    order = sorted((n for n in range(len(P.vehicles)) if len(bt.variants[n]) > 1), key=lambda n: (-cur[n][2], n))
    for n in order:
        if time.perf_counter() > deadline:
            break
        for (s, t), x in gsol[n].items():
            if x > 0:
                conn[s, t] -= 1
                grid[s, t] -= x
        V, d = bt.variants[n], bt.veh[n]
        m = cp_model.CpModel()
        y = [m.new_bool_var("") for _ in V]
        m.add_exactly_one(y)
        xs: dict[tuple[int, int], cp_model.IntVar] = {}
        prev: cp_model.LinearExprT = d["e0"]
        short = m.new_int_var(0, 10**9, "")
        for t in range(T):
            inc = 0
            for s in sorted({var.at[t] for var in V if var.at[t] >= 0}):
                ubv = min(d["gmax"][s], int(bt.cap_units[s] - grid[s, t])) if conn[s, t] < P.stations[s].chargers else 0
                if ubv <= 0:
                    continue
                x = m.new_int_var(0, ubv, "")
                m.add(x <= ubv * sum(y[k] for k, var in enumerate(V) if var.at[t] == s))
                xs[(s, t)] = x
                inc = inc + d["store"] * x
            dt_ = {dw[t] for dw in d["dwh"]}
            dr = d["dwh"][0][t] if len(dt_) == 1 else sum(dw[t] * y[k] for k, dw in enumerate(d["dwh"]) if dw[t])
            e = m.new_int_var(-10**9, d["hi"], "")
            m.add(e == prev + inc - dr)
            m.add(e + short >= d["lo"])
            prev = e
        m.minimize(sum(bt.cost_g[t] * x for (_, t), x in xs.items()) + sum(c * y[k] for k, c in enumerate(d["late"]))
                   + d["big"] * short)
        sv = cpsat_solver(max(MIN_SLICE_S, min(2.0, deadline - time.perf_counter())), 1, seed)
        if cpsat_status(sv.solve(m)) in (OPTIMAL, FEASIBLE):
            k = next(k for k, yk in enumerate(y) if sv.boolean_value(yk))
            gv = {key: sv.value(x) for key, x in xs.items() if sv.value(x) > 0}
            new = _vehicle_obj(bt, n, k, gv)
            if new[0] < cur[n][0]:
                chosen[n], gsol[n], cur[n] = k, gv, new
        for (s, t), x in gsol[n].items():
            if x > 0:
                conn[s, t] += 1
                grid[s, t] += x


@dataclass(frozen=True)
class ChargingModelResult:
    """Raw answer of :func:`solve` (kWh, CNY), for ``optimizer.stations.charging`` to wrap.

    ``outcome``: status word, objective and bound in CNY (energy + lateness + shortfall penalty),
    gap, back-end seconds. With a plan: ``grid_kwh[n][t]`` grid energy (kWh), ``soc_kwh[n][t]`` SoC
    at the end of slot t (kWh), ``short_kwh[n]`` dip below the floor (kWh), ``variants[n]`` the
    chosen :class:`Variant` (timeline) of vehicle n; empty tuples without a plan.
    ``cost_rounding_cny`` bounds the integer rounding of the objective; ``info``: model size
    (vehicles, stations, slots, charge_vars, variants, delay_vars, max_delay_slots) and the warm
    start (``on_plan_objective_cny``, ``warm_start_objective_cny``; None when not run)."""

    outcome: BackendOutcome
    grid_kwh: tuple[tuple[float, ...], ...]
    soc_kwh: tuple[tuple[float, ...], ...]
    short_kwh: tuple[float, ...]
    variants: tuple[Variant, ...]
    cost_rounding_cny: float
    info: dict


def solve(problem: Any, stop: StoppingCriterion, deadline: Deadline, *, workers: int = 8, seed: int = 0,
          rel_gap: float = 0.0, warm_share: float = 0.3, repair_share: float = 0.15,
          hopeless: frozenset[str] = frozenset()) -> ChargingModelResult:
    """Solve the time-indexed model with timeline variants with CP-SAT (module docstring).

    ``problem``: an ``optimizer.stations.charging.ChargingProblem``. The time limit is what is left
    of ``stop.max_runtime_s`` on ``deadline`` (``models._backend.time_left_s``; model building
    counts). When delays are possible, the fixed-timeline model (``max_delay_min = 0``) is solved
    first with ``warm_share`` of that time; then (``repair_share``) each vehicle in turn, largest
    shortfall first, is re-optimised over its own variants with the others' charging fixed (a small
    CP-SAT model) and keeps the better plan; the result is given to the delay model as a complete
    solution hint, so the delay model starts from at least the best on-plan schedule. CP-SAT stops
    at the relative gap ``rel_gap`` (0: proven optimum) or at the time limit. ``hopeless``: ids of
    vehicles that get no delay variants (no schedule can keep them above the floor).
    Never raises for an unservable fleet (shortfall instead); ``InvalidInput`` when a scaled
    coefficient would overflow the integer model."""

    if stop.max_runtime_s is None:  # an exact model still ends: the back-end default covers the whole run
        stop = dataclasses.replace(stop, max_runtime_s=DEFAULT_TIME_LIMIT_S)
        deadline = stop.deadline(deadline.started)
    P, T = problem, problem.n_slots
    budget = time_left_s(stop, deadline)
    t_start = time.perf_counter()
    end = deadline.started + stop.max_runtime_s
    try:
        bt = _build(P, hopeless, end)
    except _OutOfTime:
        info = {"vehicles": len(P.vehicles), "stations": len(P.stations), "slots": T,
                "stopped": "model building passed the time limit"}
        return ChargingModelResult(BackendOutcome(NO_SOLUTION_IN_TIME, None, None, None,
                                                  time.perf_counter() - t_start, "cpsat"),
                                   (), (), (), (), 0.0, info)
    m, g, ys, variants, socs, shorts = bt.model, bt.g, bt.ys, bt.variants, bt.socs, bt.shorts
    warm = repaired = None
    base = None
    if bt.n_y:
        try:
            base = _build(dataclasses.replace(P, max_delay_min=0.0), hopeless, end)
        except _OutOfTime:
            base = None  # no time for the warm start: the delay model alone gets what is left
    if base is not None:
        bs = cpsat_solver(max(MIN_SLICE_S, min(budget * warm_share, time_left_s(stop, deadline))), workers, seed,
                          rel_gap)
        if cpsat_status(bs.solve(base.model)) in (OPTIMAL, FEASIBLE):
            warm = bs.objective_value * COST_UNIT
            chosen = [0] * len(P.vehicles)
            gsol: list[dict] = [{} for _ in P.vehicles]
            for (n, s, t), x in base.g.items():  # base keys: at[t] = s only, i.e. variant 0
                if bs.value(x) > 0:
                    gsol[n][(s, t)] = bs.value(x)
            repair_end = min(time.perf_counter() + budget * repair_share, deadline.started + stop.max_runtime_s)
            _repair(P, bt, chosen, gsol, repair_end, seed)
            for n, y in enumerate(ys):
                for k, yk in enumerate(y):
                    m.add_hint(yk, k == chosen[n])
            for key, x in g.items():
                val = gsol[key[0]].get(key[1:], 0)
                m.add_hint(x, val)
                if key in bt.u:
                    m.add_hint(bt.u[key], val > 0)
            repaired = 0.0
            for n, (row, sh) in enumerate(zip(socs, shorts)):
                obj_n, path, short_n = _vehicle_obj(bt, n, chosen[n], gsol[n])
                repaired += obj_n * COST_UNIT
                for e, val in zip(row, path):
                    m.add_hint(e, val)
                m.add_hint(sh, short_n)
    solver = cpsat_solver(max(MIN_SLICE_S, time_left_s(stop, deadline)), workers, seed, rel_gap)
    code = solver.solve(m)
    outcome = cpsat_outcome(solver, code, time.perf_counter() - t_start, scale=1.0 / COST_UNIT,
                            gap_limited=rel_gap > 0)
    info = {"vehicles": len(P.vehicles), "stations": len(P.stations), "slots": T, "charge_vars": len(g),
            "variants": sum(len(V) for V in variants), "delay_vars": bt.n_y, "max_delay_slots": P.max_delay_slots,
            "on_plan_objective_cny": warm, "warm_start_objective_cny": repaired}
    if not outcome.has_solution:
        return ChargingModelResult(outcome, (), (), (), (), bt.rounding, info)
    chosen_v = tuple(variants[n][next(k for k, yk in enumerate(ys[n]) if solver.boolean_value(yk))] if ys[n]
                     else variants[n][0] for n in range(len(P.vehicles)))
    grid = tuple(tuple(sum(solver.value(g[(n, s, t)]) for s in range(len(P.stations)) if (n, s, t) in g)
                       * G_UNIT_WH / 1000.0 for t in range(T)) for n in range(len(P.vehicles)))
    soc = tuple(tuple(solver.value(e) / 1000.0 for e in row) for row in socs)
    short = tuple(solver.value(s) / 1000.0 for s in shorts)
    return ChargingModelResult(outcome, grid, soc, short, chosen_v, bt.rounding, info)


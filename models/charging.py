"""EV fleet charging schedule: time-indexed CP-SAT model (MODELS.md section 3.1).

Data (:class:`ChargingProblem`, frozen, validated; bad values raise ``InvalidInput(field, ...)``):
vehicles n with battery ``capacity_kwh`` E_n, initial SoC ``soc0`` (share), floor ``soc_min``
(share, the reserve; MODELS.md 3.2 recommends >= 15-20 %), ceiling ``soc_max``, on-board charge
limit ``max_kw``; stations s with ``chargers`` (connectors), ``charger_kw`` and a grid cap
``grid_kw``; slots t of ``slot_min`` minutes; tariff ``pi_t`` (CNY/kWh, an input: no Tibet TOU
tariff was found, MODELS.md 3.1); per vehicle and slot the energy drawn while driving
``draw_kwh[n][t]`` and where it is parked, ``at[n][t]`` (station index, or -1: driving or
parked without a charger). Vehicles only charge in slots where ``at`` names a station.

Model (all energies integer, see *Scaling*)::

    min  sum_{n,t} pi_t * g_nt  +  M * sum_n short_n
    s.t. e_n0 = E_n soc0_n
         e_n,t+1 = e_nt + eta * g_nt - D_nt                 (SoC dynamics; g = grid energy)
         e_nt >= E_n soc_min - short_n ,  e_nt <= E_n soc_max      for every t = 1..T
         g_nt <= min(P_s, P_n) dt * u_nt ,  u_nt = 0 unless at[n][t] = s     (plugged)
         sum_{n: at[n][t]=s} u_nt <= chargers_s                  (connector concurrency)
         sum_{n: at[n][t]=s} g_nt <= grid_s dt                    (grid cap per station, slot)
         short_n >= 0

``short_n`` (kWh) is the energy by which vehicle n dips below its floor. It is penalised with
``M = shortfall_penalty`` CNY/kWh (default 10 000, far above any tariff), so it is positive only
when no schedule keeps the vehicle above its floor; such vehicles are reported in
``ChargingResult.unserved`` with the reason. *Lateness*: the tour plan's times are fixed (the
vehicles follow the routes the tour planner gave them), so a feasible schedule has zero
lateness by construction; infeasibility shows up as shortfall, not as a delay (a model with
departure delays is not implemented).

Scaling (CP-SAT needs integers): SoC in Wh; grid energy g in units of ``G_UNIT_WH`` = 100 Wh;
stored energy per unit = round(100 * eta) Wh (so eta is rounded to 0.01; default eta = 0.90,
(K)); driving draw D is rounded *up* to whole Wh (conservative); bounds rounded inward. Cost
per g unit = round(pi_t * 0.1 kWh * 10 000) in 1e-4 CNY, i.e. exact for tariffs given to 3
decimals (the rounding error is reported in ``cost_rounding_cny``). The shortfall is in Wh.
The reported ``gap`` is (objective - CP-SAT bound) / max(objective, 1e-9), both in CNY.
Status labels as in ``models.siting``: 'optimal', 'feasible', 'time_limit_no_incumbent',
'infeasible'. :func:`optimizer.station_ops_verify.verify_charging` re-checks a result independently
(float arithmetic, from the data only).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from optimizer.domain import InvalidInput, check_finite

__all__ = ["G_UNIT_WH", "ChargingProblem", "ChargingResult", "EVStation", "EVVehicle", "precheck", "solve_charging", "tariff_from_bands"]

G_UNIT_WH = 100
COST_UNIT = 1e-4  # CNY per cost unit
DEFAULT_PENALTY = 10_000.0


@dataclass(frozen=True)
class EVStation:
    id: str
    chargers: int
    charger_kw: float
    grid_kw: float

    def __post_init__(self) -> None:
        if isinstance(self.chargers, bool) or not isinstance(self.chargers, (int, np.integer)) or self.chargers < 1:
            raise InvalidInput(f"stations[{self.id}].chargers", self.chargers, "must be an integer >= 1")
        for f in ("charger_kw", "grid_kw"):
            v = check_finite(f"stations[{self.id}].{f}", getattr(self, f))
            if v <= 0:
                raise InvalidInput(f"stations[{self.id}].{f}", v, "must be > 0")


@dataclass(frozen=True)
class EVVehicle:
    id: str
    capacity_kwh: float
    soc0: float
    soc_min: float
    draw_kwh: tuple[float, ...]
    at: tuple[int, ...]
    soc_max: float = 1.0
    max_kw: float = 150.0
    eta: float = 0.90

    def __post_init__(self) -> None:
        f = f"vehicles[{self.id}]"
        if check_finite(f"{f}.capacity_kwh", self.capacity_kwh) <= 0:
            raise InvalidInput(f"{f}.capacity_kwh", self.capacity_kwh, "must be > 0")
        for name in ("soc0", "soc_min", "soc_max"):
            v = check_finite(f"{f}.{name}", getattr(self, name))
            if not 0 <= v <= 1:
                raise InvalidInput(f"{f}.{name}", v, "must be in [0, 1]")
        if self.soc_min > self.soc_max:
            raise InvalidInput(f"{f}.soc_min", self.soc_min, "must be <= soc_max")
        if self.soc0 > self.soc_max:
            raise InvalidInput(f"{f}.soc0", self.soc0, "must be <= soc_max")
        if check_finite(f"{f}.max_kw", self.max_kw) <= 0:
            raise InvalidInput(f"{f}.max_kw", self.max_kw, "must be > 0")
        if not 0 < check_finite(f"{f}.eta", self.eta) <= 1:
            raise InvalidInput(f"{f}.eta", self.eta, "must be in (0, 1]")
        if len(self.draw_kwh) != len(self.at):
            raise InvalidInput(f"{f}.at", len(self.at), "must have one entry per slot like draw_kwh")
        for t, d in enumerate(self.draw_kwh):
            if not math.isfinite(d) or d < 0:
                raise InvalidInput(f"{f}.draw_kwh[{t}]", d, "must be finite and >= 0")


@dataclass(frozen=True)
class ChargingProblem:
    vehicles: tuple[EVVehicle, ...]
    stations: tuple[EVStation, ...]
    tariff: tuple[float, ...]
    slot_min: float = 15.0
    shortfall_penalty: float = DEFAULT_PENALTY

    def __post_init__(self) -> None:
        if check_finite("slot_min", self.slot_min) <= 0:
            raise InvalidInput("slot_min", self.slot_min, "must be > 0")
        if not self.tariff:
            raise InvalidInput("tariff", 0, "needs one price per slot")
        for t, p in enumerate(self.tariff):
            if not math.isfinite(p) or p < 0:
                raise InvalidInput(f"tariff[{t}]", p, "must be finite and >= 0 (CNY/kWh)")
        if check_finite("shortfall_penalty", self.shortfall_penalty) <= max(self.tariff):
            raise InvalidInput("shortfall_penalty", self.shortfall_penalty, "must exceed every tariff")
        ids = [s.id for s in self.stations]
        if len(set(ids)) != len(ids):
            raise InvalidInput("stations", ids, "duplicate station id")
        T = len(self.tariff)
        for v in self.vehicles:
            if len(v.draw_kwh) != T:
                raise InvalidInput(f"vehicles[{v.id}].draw_kwh", len(v.draw_kwh), f"must have {T} slots")
            for t, s in enumerate(v.at):
                if not -1 <= s < len(self.stations):
                    raise InvalidInput(f"vehicles[{v.id}].at[{t}]", s, "must be -1 or a station index")

    @property
    def n_slots(self) -> int:
        return len(self.tariff)

    @property
    def dt_h(self) -> float:
        return self.slot_min / 60.0

    def max_slot_kwh(self, v: EVVehicle, s: int) -> float:
        """Grid energy a vehicle can draw in one slot at station s (kWh)."""
        st = self.stations[s]
        return min(st.charger_kw, v.max_kw, st.grid_kw) * self.dt_h


@dataclass(frozen=True)
class ChargingResult:
    """``grid_kwh[n][t]`` grid energy per vehicle and slot; ``soc_kwh[n][t]`` SoC at the *end* of slot t
    (``soc_kwh[n][-1]``'s start is ``soc0``); ``short_kwh[n]`` dip below the floor; ``unserved``:
    ``{vehicle, short_kwh, reason}``; cost (CNY) = energy cost; gap vs CP-SAT bound."""

    status: str
    energy_cost_cny: float | None
    objective_cny: float | None
    bound_cny: float | None
    gap: float | None
    grid_kwh: tuple[tuple[float, ...], ...]
    soc_kwh: tuple[tuple[float, ...], ...]
    short_kwh: tuple[float, ...]
    unserved: tuple[dict, ...]
    wall_s: float
    cost_rounding_cny: float = 0.0
    stats: dict = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")

    def station_load_kw(self, problem: ChargingProblem) -> np.ndarray:
        """Power drawn per station and slot, kW (array [stations, slots])."""
        load = np.zeros((len(problem.stations), problem.n_slots))
        for n, v in enumerate(problem.vehicles):
            for t, s in enumerate(v.at):
                if s >= 0 and self.grid_kwh:
                    load[s, t] += self.grid_kwh[n][t] / problem.dt_h
        return load


def precheck(problem: ChargingProblem) -> list[dict]:
    """Vehicles that cannot be kept above the floor whatever the schedule, with the reason.

    Between two charging opportunities (or from the start) the SoC can only fall; if the draw of
    such a stretch exceeds what the battery can hold above the floor, the vehicle is unservable.
    """
    out = []
    for v in problem.vehicles:
        E = v.capacity_kwh
        level, worst, where = v.soc0 * E, 0.0, None
        for t in range(problem.n_slots):
            if v.at[t] >= 0:
                level = max(level, v.soc_max * E)  # optimistic: could be full after this stop
            level -= v.draw_kwh[t]
            dip = v.soc_min * E - level
            if dip > worst + 1e-9:
                worst, where = dip, t
        if worst > 1e-6:
            out.append({"vehicle": v.id, "short_kwh": worst, "slot": where,
                        "reason": f"route draws more than the usable battery between charging opportunities: "
                                  f"at least {worst:.1f} kWh below the floor by slot {where} "
                                  f"(no charger on the way or too little time parked at one)"})
    return out


def solve_charging(problem: ChargingProblem, time_limit_s: float = 30.0, workers: int = 8,
                   rel_gap: float = 0.0) -> ChargingResult:
    """Solve the time-indexed model with CP-SAT (see the module docstring)."""
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    P, T = problem, problem.n_slots
    m = cp_model.CpModel()
    g: dict[tuple[int, int], cp_model.IntVar] = {}
    gub: dict[tuple[int, int], int] = {}
    cost_terms, cost_coefs = [], []
    rounding = 0.0
    per_station: dict[tuple[int, int], list[tuple[int, int]]] = {}
    socs, shorts = [], []
    big = round(P.shortfall_penalty / 1000.0 / COST_UNIT)  # cost units per Wh short
    for n, v in enumerate(P.vehicles):
        E = v.capacity_kwh * 1000.0
        store = round(v.eta * G_UNIT_WH)
        lo, hi = math.ceil(v.soc_min * E - 1e-9), math.floor(v.soc_max * E + 1e-9)
        e0 = round(v.soc0 * E)
        short = m.new_int_var(0, int(E) + int(sum(v.draw_kwh) * 1000) + 1, f"s{n}")
        shorts.append(short)
        prev: cp_model.LinearExprT = e0
        row = []
        for t in range(T):
            s = v.at[t]
            inc = 0
            if s >= 0:
                gmax = math.floor(P.max_slot_kwh(v, s) * 1000.0 / G_UNIT_WH + 1e-9)
                if gmax > 0:
                    x = m.new_int_var(0, gmax, f"g{n}_{t}")
                    g[(n, t)] = x
                    gub[(n, t)] = gmax
                    per_station.setdefault((s, t), []).append((n, t))
                    c = P.tariff[t] * G_UNIT_WH / 1000.0 / COST_UNIT
                    ic = round(c)
                    rounding += abs(c - ic) * gmax * COST_UNIT
                    cost_terms.append(x)
                    cost_coefs.append(ic)
                    inc = store * x
            d = math.ceil(v.draw_kwh[t] * 1000.0 - 1e-9)
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
                b = m.new_bool_var(f"u{k[0]}_{k[1]}")  # plugged on a connector
                gm = gub[k]
                m.add(g[k] <= gm * b)
                us.append(b)
            m.add(sum(us) <= st.chargers)
        cap = math.floor(st.grid_kw * P.dt_h * 1000.0 / G_UNIT_WH + 1e-9)
        if sum(gub[k] for k in keys) > cap:
            m.add(sum(g[k] for k in keys) <= cap)
    obj = cp_model.LinearExpr.weighted_sum(cost_terms, cost_coefs) + big * sum(shorts)
    m.minimize(obj)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(workers)
    if rel_gap > 0:
        solver.parameters.relative_gap_limit = float(rel_gap)
    st_ = solver.solve(m)
    wall = time.perf_counter() - t0
    stats = {"vehicles": len(P.vehicles), "stations": len(P.stations), "slots": T, "charge_vars": len(g)}
    if st_ == cp_model.INFEASIBLE:
        return ChargingResult("infeasible", None, None, None, None, (), (), (), (), wall, rounding, stats)
    if st_ not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ChargingResult("time_limit_no_incumbent", None, None, None, None, (), (), (), (), wall, rounding,
                              stats)
    grid = tuple(tuple(solver.value(g[(n, t)]) * G_UNIT_WH / 1000.0 if (n, t) in g else 0.0 for t in range(T))
                 for n in range(len(P.vehicles)))
    soc = tuple(tuple(solver.value(e) / 1000.0 for e in row) for row in socs)
    short = tuple(solver.value(s) / 1000.0 for s in shorts)
    cost = sum(P.tariff[t] * grid[n][t] for n in range(len(P.vehicles)) for t in range(T))
    objective = solver.objective_value * COST_UNIT
    bound = solver.best_objective_bound * COST_UNIT
    gap = 0.0 if st_ == cp_model.OPTIMAL else (objective - bound) / max(abs(objective), 1e-9)
    reasons = {r["vehicle"]: r["reason"] for r in precheck(P)}
    unserved = tuple({"vehicle": v.id, "short_kwh": short[n],
                      "reason": reasons.get(v.id, "charger concurrency / grid cap leave too little energy "
                                                  "for this vehicle")}
                     for n, v in enumerate(P.vehicles) if short[n] > 1e-9)
    return ChargingResult("optimal" if st_ == cp_model.OPTIMAL else "feasible", cost, objective, bound, gap,
                          grid, soc, short, unserved, wall, rounding, stats)


def tariff_from_bands(n_slots: int, slot_min: float, bands: Sequence[tuple[float, float, float]]) -> tuple:
    """Tariff per slot from (start_h, end_h, CNY/kWh) bands (slot start decides); unlisted hours: last band."""
    out = []
    for t in range(n_slots):
        h = t * slot_min / 60.0
        price = bands[-1][2]
        for a, b, p in bands:
            if a <= h < b:
                price = p
                break
        out.append(float(price))
    return tuple(out)

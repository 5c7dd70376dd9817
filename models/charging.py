"""EV fleet charging schedule with departure delays: time-indexed CP-SAT model (MODELS.md section 3.1).

Data (:class:`ChargingProblem`, frozen, validated; bad values raise ``InvalidInput(field, ...)``):
vehicles n with battery ``capacity_kwh`` E_n, initial SoC ``soc0`` (share), floor ``soc_min``
(share, the reserve; MODELS.md 3.2 recommends >= 15-20 %), ceiling ``soc_max``, on-board charge
limit ``max_kw``; stations s with ``chargers`` (connectors), ``charger_kw`` and a grid cap
``grid_kw``; slots t of ``slot_min`` minutes; tariff ``pi_t`` (CNY/kWh, an input: no Tibet TOU
tariff was found, MODELS.md 3.1); per vehicle and slot the energy drawn while driving
``draw_kwh[n][t]`` and where it is parked, ``at[n][t]`` (station index, or -1: driving or
parked without a charger). Vehicles only charge in slots where their (realised) timeline parks
them at a station. Delay policy: ``max_delay_min`` (minutes, default 60; 0 = the plan's times
are fixed), ``lateness_cny_per_min`` (w, default 5 CNY per minute of lateness: a *policy
weight* that says how much energy cost one minute of lateness may save, not a measured cost)
and ``delay_stops`` (K, candidate stops per vehicle, None = all).

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
variants (default K = all: on the 50-vehicle bench K = 3 gave the same schedules); identical
timelines are kept once. Vehicles that :func:`precheck` finds unservable (a stretch between
charging opportunities draws more than the usable battery) get no variants: a delay only
lengthens stops, so it cannot keep them above the floor; they stay on plan, are reported
unserved with the reason and need a different route, not a delay. :func:`timeline_variants` lists them,
:func:`shift_timeline` builds one.

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
reported in ``ChargingResult.unserved`` with the reason. Delayed vehicles are reported in
``ChargingResult.delays`` (vehicle, station, stop slots, minutes), not as unserved.
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
errors are reported in ``cost_rounding_cny``). The shortfall is in Wh.
The reported ``gap`` is (objective - CP-SAT bound) / max(objective, 1e-9), both in CNY.
Status labels as in ``models.siting``: 'optimal', 'feasible', 'time_limit_no_incumbent',
'infeasible'. :func:`optimizer.station_ops_verify.verify_charging` re-checks a result independently
(float arithmetic, from the data only; it rebuilds the delayed timeline from the chosen stop
and delay).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from optimizer.domain import InvalidInput, check_finite, check_time_limit_s

__all__ = ["G_UNIT_WH", "ChargingProblem", "ChargingResult", "EVStation", "EVVehicle", "Variant", "charging_stops",
           "precheck", "shift_timeline", "solve_charging", "tariff_from_bands", "timeline_variants"]

G_UNIT_WH = 100
COST_UNIT = 1e-4  # CNY per cost unit
DEFAULT_PENALTY = 10_000.0
MAX_CHARGER_KW = 10_000.0  # far above any connector (megawatt chargers are ~1 MW); keeps the Wh scale in int64
MAX_GRID_KW = 1_000_000.0  # 1 GW per station: a sanity bound, not a physical claim
DEFAULT_MAX_DELAY_MIN = 60.0
DEFAULT_LATENESS_CNY_PER_MIN = 5.0


@dataclass(frozen=True)
class EVStation:
    id: str
    chargers: int
    charger_kw: float
    grid_kw: float

    def __post_init__(self) -> None:
        if isinstance(self.chargers, bool) or not isinstance(self.chargers, (int, np.integer)) or self.chargers < 1:
            raise InvalidInput(f"stations[{self.id}].chargers", self.chargers, "must be an integer >= 1")
        for f, hi in (("charger_kw", MAX_CHARGER_KW), ("grid_kw", MAX_GRID_KW)):
            v = check_finite(f"stations[{self.id}].{f}", getattr(self, f))
            if not 0 < v <= hi:
                raise InvalidInput(f"stations[{self.id}].{f}", v, f"must be > 0 and <= {hi:g} kW")


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
    """Fleet, stations, tariff (CNY/kWh per slot) and the delay policy (module docstring):
    ``max_delay_min`` (minutes >= 0; 0 = fixed plan times), ``lateness_cny_per_min`` (CNY per
    minute of lateness, >= 0, a policy weight), ``delay_stops`` (candidate stops per vehicle, None = all)."""

    vehicles: tuple[EVVehicle, ...]
    stations: tuple[EVStation, ...]
    tariff: tuple[float, ...]
    slot_min: float = 15.0
    shortfall_penalty: float = DEFAULT_PENALTY
    max_delay_min: float = DEFAULT_MAX_DELAY_MIN
    lateness_cny_per_min: float = DEFAULT_LATENESS_CNY_PER_MIN
    delay_stops: int | None = None

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
        if isinstance(self.max_delay_min, bool) or check_finite("max_delay_min", self.max_delay_min) < 0:
            raise InvalidInput("max_delay_min", self.max_delay_min, "must be >= 0 minutes")
        if check_finite("lateness_cny_per_min", self.lateness_cny_per_min) < 0:
            raise InvalidInput("lateness_cny_per_min", self.lateness_cny_per_min, "must be >= 0 (CNY per minute)")
        if self.delay_stops is not None and (isinstance(self.delay_stops, bool)
                                             or not isinstance(self.delay_stops, (int, np.integer))
                                             or self.delay_stops < 0):
            raise InvalidInput("delay_stops", self.delay_stops, "must be None (all) or an integer >= 0")
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

    @property
    def max_delay_slots(self) -> int:
        """D = floor(max_delay_min / slot_min): the longest delay in whole slots."""
        return math.floor(self.max_delay_min / self.slot_min + 1e-9)

    def max_slot_kwh(self, v: EVVehicle, s: int) -> float:
        """Grid energy a vehicle can draw in one slot at station s (kWh)."""
        st = self.stations[s]
        return min(st.charger_kw, v.max_kw, st.grid_kw) * self.dt_h


@dataclass(frozen=True)
class Variant:
    """One timeline of a vehicle: ``stop`` = (first slot, last slot, station index) of the extended
    charging stop (None for the plan as given), ``delay_slots`` d, and the realised ``draw_kwh``/``at``."""

    stop: tuple[int, int, int] | None
    delay_slots: int
    draw_kwh: tuple[float, ...]
    at: tuple[int, ...]


def charging_stops(v: EVVehicle) -> list[tuple[int, int, int]]:
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


def shift_timeline(v: EVVehicle, stop: tuple[int, int, int], d: int) -> Variant | None:
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


def timeline_variants(problem: ChargingProblem, v: EVVehicle) -> list[Variant]:
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


@dataclass(frozen=True)
class ChargingResult:
    """``grid_kwh[n][t]`` grid energy per vehicle and slot (kWh); ``soc_kwh[n][t]`` SoC at the *end*
    of slot t (kWh; the start is ``soc0``); ``short_kwh[n]`` dip below the floor; ``unserved``:
    ``{vehicle, short_kwh, reason}``; ``energy_cost_cny`` = energy cost, ``objective_cny`` = energy
    + lateness + shortfall penalty; gap vs CP-SAT bound. Delays: ``delay_min[n]`` (minutes, 0 = on
    plan), ``delay_stop[n]`` (first slot, last slot, station index) of the extended stop or None,
    ``delays`` ``{vehicle, station, stop_first_slot, stop_last_slot, delay_min}`` for delayed
    vehicles, ``lateness_min`` (sum of delays), ``lateness_cost_cny`` (w x lateness), and the
    realised timeline ``timeline_at``/``timeline_draw_kwh`` [vehicle][slot]."""

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
    delay_min: tuple[float, ...] = ()
    delay_stop: tuple[tuple[int, int, int] | None, ...] = ()
    delays: tuple[dict, ...] = ()
    lateness_min: float = 0.0
    lateness_cost_cny: float = 0.0
    timeline_at: tuple[tuple[int, ...], ...] = ()
    timeline_draw_kwh: tuple[tuple[float, ...], ...] = ()

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")

    def station_load_kw(self, problem: ChargingProblem) -> np.ndarray:
        """Power drawn per station and slot, kW (array [stations, slots]), on the realised timelines."""
        load = np.zeros((len(problem.stations), problem.n_slots))
        for n, v in enumerate(problem.vehicles):
            at = self.timeline_at[n] if self.timeline_at else v.at
            for t, s in enumerate(at):
                if s >= 0 and self.grid_kwh:
                    load[s, t] += self.grid_kwh[n][t] / problem.dt_h
        return load


def precheck(problem: ChargingProblem) -> list[dict]:
    """Vehicles that cannot be kept above the floor whatever the schedule, with the reason.

    Between two charging opportunities (or from the start) the SoC can only fall; if the draw of
    such a stretch exceeds what the battery can hold above the floor, the vehicle is unservable.
    A delay only lengthens stops, so this also holds for every delayed timeline.
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


@dataclass
class _Built:
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


def _build(P: ChargingProblem) -> _Built:
    """The CP-SAT model of the module docstring (variables keyed (n, s, t))."""
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
    big = round(P.shortfall_penalty / 1000.0 / COST_UNIT)  # cost units per Wh short
    n_y = 0
    veh: list[dict] = []
    hopeless = {r["vehicle"] for r in precheck(P)}  # no delay can keep these above the floor: no variants
    for n, v in enumerate(P.vehicles):
        E = v.capacity_kwh * 1000.0
        store = round(v.eta * G_UNIT_WH)
        lo, hi = math.ceil(v.soc_min * E - 1e-9), math.floor(v.soc_max * E + 1e-9)
        e0 = round(v.soc0 * E)
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
                    ic = round(c)
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
                ic = round(c)
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


def _repair(P: ChargingProblem, bt: _Built, chosen: list[int], gsol: list[dict], deadline: float) -> None:
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
        sv = _solver(max(0.05, min(2.0, deadline - time.perf_counter())), 1, 0.0)
        if sv.solve(m) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            k = next(k for k, yk in enumerate(y) if sv.boolean_value(yk))
            gv = {key: sv.value(x) for key, x in xs.items() if sv.value(x) > 0}
            new = _vehicle_obj(bt, n, k, gv)
            if new[0] < cur[n][0]:
                chosen[n], gsol[n], cur[n] = k, gv, new
        for (s, t), x in gsol[n].items():
            if x > 0:
                conn[s, t] += 1
                grid[s, t] += x


def _solver(time_limit_s: float, workers: int, rel_gap: float):
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(workers)
    if rel_gap > 0:
        solver.parameters.relative_gap_limit = float(rel_gap)
    return solver


def solve_charging(problem: ChargingProblem, time_limit_s: float = 30.0, workers: int = 8,
                   rel_gap: float = 0.0, warm_share: float = 0.3, repair_share: float = 0.15) -> ChargingResult:
    """Solve the time-indexed model with timeline variants with CP-SAT (see the module docstring).

    When delays are possible, the fixed-timeline model (``max_delay_min = 0``) is solved first with
    ``warm_share`` of the time limit; then (``repair_share`` of the time limit) each vehicle in turn,
    largest shortfall first, is re-optimised over its own variants with the others' charging fixed
    (a small CP-SAT model) and keeps the better plan; the result is given to the delay model as a
    complete solution hint, so the delay model starts from at least the best on-plan schedule
    (``stats``: ``on_plan_objective_cny``, ``warm_start_objective_cny``). The total wall time stays
    within ``time_limit_s`` (plus model building).
    Returns a :class:`ChargingResult`; never raises for an unservable fleet (shortfall instead)."""
    check_time_limit_s(time_limit_s)
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    P, T = problem, problem.n_slots
    bt = _build(P)
    m, g, ys, variants, socs, shorts = bt.model, bt.g, bt.ys, bt.variants, bt.socs, bt.shorts
    warm = repaired = None
    if bt.n_y:
        import dataclasses

        base = _build(dataclasses.replace(P, max_delay_min=0.0))
        bs = _solver(max(0.1, time_limit_s * warm_share), workers, rel_gap)
        if bs.solve(base.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            warm = bs.objective_value * COST_UNIT
            chosen = [0] * len(P.vehicles)
            gsol: list[dict] = [{} for _ in P.vehicles]
            for (n, s, t), x in base.g.items():  # base keys: at[t] = s only, i.e. variant 0
                if bs.value(x) > 0:
                    gsol[n][(s, t)] = bs.value(x)
            _repair(P, bt, chosen, gsol, time.perf_counter() + time_limit_s * repair_share)
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
    solver = _solver(max(0.1, time_limit_s - (time.perf_counter() - t0)), workers, rel_gap)
    st_ = solver.solve(m)
    wall = time.perf_counter() - t0
    rounding = bt.rounding
    stats = {"vehicles": len(P.vehicles), "stations": len(P.stations), "slots": T, "charge_vars": len(g),
             "variants": sum(len(V) for V in variants), "delay_vars": bt.n_y, "max_delay_slots": P.max_delay_slots,
             "on_plan_objective_cny": warm, "warm_start_objective_cny": repaired}
    if st_ == cp_model.INFEASIBLE:
        return ChargingResult("infeasible", None, None, None, None, (), (), (), (), wall, rounding, stats)
    if st_ not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ChargingResult("time_limit_no_incumbent", None, None, None, None, (), (), (), (), wall, rounding,
                              stats)
    chosen = [variants[n][next(k for k, yk in enumerate(ys[n]) if solver.boolean_value(yk))] if ys[n]
              else variants[n][0] for n in range(len(P.vehicles))]
    grid = tuple(tuple(sum(solver.value(g[(n, s, t)]) for s in range(len(P.stations)) if (n, s, t) in g)
                       * G_UNIT_WH / 1000.0 for t in range(T)) for n in range(len(P.vehicles)))
    soc = tuple(tuple(solver.value(e) / 1000.0 for e in row) for row in socs)
    short = tuple(solver.value(s) / 1000.0 for s in shorts)
    cost = sum(P.tariff[t] * grid[n][t] for n in range(len(P.vehicles)) for t in range(T))
    delay_min = tuple(c.delay_slots * P.slot_min for c in chosen)
    lateness = float(sum(delay_min))
    objective = solver.objective_value * COST_UNIT
    bound = solver.best_objective_bound * COST_UNIT
    gap = max(0.0, (objective - bound) / max(abs(objective), 1e-9))
    if st_ == cp_model.OPTIMAL and (rel_gap <= 0 or solver.objective_value - solver.best_objective_bound < 1.0):
        gap = 0.0  # integer objective: a bound within one cost unit (1e-4 CNY) proves optimality
    status = "optimal" if gap == 0.0 else "feasible"
    reasons = {r["vehicle"]: r["reason"] for r in precheck(P)}
    why = "charger concurrency / grid cap leave too little energy for this vehicle"
    if P.max_delay_slots > 0:
        why += f" (also with a departure delay of up to {P.max_delay_slots * P.slot_min:g} min at its candidate stops)"
    unserved = tuple({"vehicle": v.id, "short_kwh": short[n], "reason": reasons.get(v.id, why)}
                     for n, v in enumerate(P.vehicles) if short[n] > 1e-9)
    delays = tuple({"vehicle": v.id, "station": P.stations[chosen[n].stop[2]].id,
                    "stop_first_slot": chosen[n].stop[0], "stop_last_slot": chosen[n].stop[1],
                    "delay_min": delay_min[n]}
                   for n, v in enumerate(P.vehicles) if chosen[n].delay_slots)
    return ChargingResult(status, cost, objective, bound, gap,
                          grid, soc, short, unserved, wall, rounding, stats,
                          delay_min=delay_min, delay_stop=tuple(c.stop for c in chosen), delays=delays,
                          lateness_min=lateness, lateness_cost_cny=P.lateness_cny_per_min * lateness,
                          timeline_at=tuple(c.at for c in chosen),
                          timeline_draw_kwh=tuple(c.draw_kwh for c in chosen))


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

"""EV charging of a tour plan's electric coaches: the problem, the schedule and ``solve_charging``.

Problem (:class:`ChargingProblem`, frozen, validated on construction; a bad value raises
``InvalidInput(field, value, message)``): vehicles n (:class:`EVVehicle`) with battery
``capacity_kwh``, initial SoC ``soc0``, floor ``soc_min`` and ceiling ``soc_max`` (shares),
on-board charge limit ``max_kw`` (kW), charge efficiency ``eta``, and per slot t the energy drawn
while driving ``draw_kwh[t]`` (kWh) and where the vehicle is parked ``at[t]`` (station index, -1:
driving or parked without a charger); stations s (:class:`EVStation`) with ``chargers``
connectors of ``charger_kw`` and a grid cap ``grid_kw`` (kW); a tariff per slot (CNY/kWh) over
slots of ``slot_min`` minutes; the delay policy ``max_delay_min`` (minutes; 0 = the plan's times
are fixed), ``lateness_cny_per_min`` (CNY per minute of lateness, a policy weight, not a measured
cost) and ``delay_stops`` (candidate stops per vehicle, None = all). The formulation (time-indexed
CP-SAT model with departure-delay timeline variants, MODELS.md section 3.1) is ``models.charging``.

From a tour plan (:func:`charging_from_plan`)
---------------------------------------------
Fleet: one electric coach per planned route of a group with ``size >= coach_min_size`` (default
20 persons, (K) a group bus), in plan order, at most ``max_vehicles``. Coach data
(:class:`CoachParams`; K, a typical 12 m battery-electric coach, no Tibet source): 350 kWh
battery, 1.1 kWh/km base consumption on the flat at 24 degC, 18 t loaded mass, 150 kW on-board
charge limit, charge efficiency 0.90, start SoC 0.90 (charged overnight), floor 0.20 (MODELS.md
3.2: keep a reserve >= 15-20 %).

Energy of a leg a -> b: for every arc of the fastest road path (``optimizer.stations.demand.road_path``;
node elevations from the network)::

    E_arc = km * e0 / f_T  +  m g max(dh, 0) / eta_drive  -  eta_regen m g max(-dh, 0)   (>= 0 per arc)

with ``f_T`` the cold factor of ``optimizer.core.physics.derated_range_km`` (AAA 2019 [S27]: 0.59
at -6.7 degC with cabin heating, 1.0 at 24 degC; altitude gives no aero credit by default),
``g = 9.80665`` m/s², ``eta_drive = 0.9``, ``eta_regen = 0.65`` (MODELS.md 3.2: 60-70 %
recoverable on descent, K). The leg's energy is spread evenly over the slots between the
departure and the arrival (by overlap minutes). A vehicle is *parked at a station* in a slot that
lies wholly inside a stay at a site with chargers (a visit including its wait, or before
departure / after the return at a start or end site).

Stations: the charger sites the caller passes (``api.services.station_ops`` passes the charger
sites of ``instances/lhasa/stations.csv``, kind charger|both, candidates as if built unless
``existing_only``), each with ``chargers`` connectors of ``charger_kw`` (default 4 x 120 kW:
FACTS.md 6, State Grid 60-120 kW county stations) and a grid cap ``grid_kw`` (default 300 kW, K).
Tariff: an input, bands (start h, end h, CNY/kWh) that cover 0-24 h exactly (no gap, no
overlap, any order) at prices within 0..:data:`MAX_TARIFF_CNY_PER_KWH` (1000) CNY/kWh
(:func:`check_bands`; text ``"0-8:0.35,8-17:0.7,..."``: :func:`parse_tariff`); a slot takes the
price of the band its start lies in. :data:`DEFAULT_TARIFF` is a placeholder time-of-use shape (K:
no Tibet TOU tariff was found, MODELS.md 3.1): 00-08 0.35, 08-17 0.70, 17-22 1.05, 22-24 0.35 CNY/kWh.

Schedule (:class:`ChargingSchedule`)
------------------------------------
Grid energy and SoC per vehicle and slot, the departure delays taken, costs, ``unserved`` and
``stats`` (``optimizer.core.results.SolveStats``; objective = energy + lateness + shortfall
penalty, CNY). Reason words of ``unserved`` (one :class:`CoachUnserved` per coach that cannot be
kept above its SoC floor, a *stranded* coach):

* ``range``: the route draws more than the usable battery between two charging opportunities
  (:func:`precheck`); no schedule and no delay can help, the coach needs a different route;
* ``charger_capacity``: connectors or grid caps leave too little energy for this coach (also with
  the departure delays allowed);
* ``no_schedule``: no schedule within the time limit (``stats.status`` ``no_solution_in_time`` or
  ``infeasible``; the schedule is empty and every coach is listed).

:func:`solve_charging` is the one entry; ``optimizer.stations.verify_ops.verify_charging``
re-checks a schedule independently.

Shortfall (what a stranded coach lacks). The model lets the energy balance of a coach go below its
floor by ``dip`` kWh (penalised). A battery cannot hold less than 0 kWh, so ``dip`` is split in two:

* ``short_kwh = min(dip, soc_min x capacity)``: how far below its floor the coach's battery is at
  its lowest point, at most the whole reserve (an empty battery); never more than the battery;
* ``unmet_kwh = dip - short_kwh``: driving energy the battery cannot supply at all (> 0: the battery
  runs empty, ``empty_min``, and the coach cannot finish its route without more charge or a
  shorter route).

``short_kwh + unmet_kwh`` is the charge the coach lacks to stay above its floor; the objective's
shortfall penalty is on that sum. :class:`CoachUnserved` also gives the clock times, minutes from
midnight at the end of a slot, when the coach first falls below its floor (``below_floor_min``) and
when its battery would be empty (``empty_min``, None if never).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from models import charging as model
from optimizer.core.clock import fmt_clock
from optimizer.core.errors import InvalidInput, check_count, check_finite
from optimizer.core.physics import G, derated_range_km
from optimizer.core.results import FEASIBLE, OPTIMAL, SolveStats, Unserved
from optimizer.core.stop import StoppingCriterion
from optimizer.stations.demand import node_of, road_path

if TYPE_CHECKING:
    from optimizer.core.network import Network
    from optimizer.tours import TourPlan, TourProblem

__all__ = ["DEFAULT_TARIFF", "MAX_TARIFF_CNY_PER_KWH", "ChargingParams", "ChargingProblem", "ChargingSchedule",
           "CoachParams", "CoachUnserved", "Delay", "EVStation", "EVVehicle", "charging_from_plan", "check_bands",
           "leg_energy_kwh", "parse_tariff", "precheck", "solve_charging", "split_dip", "synthetic_charging", "tariff_from_bands"]

DEFAULT_TARIFF = ((0.0, 8.0, 0.35), (8.0, 17.0, 0.70), (17.0, 22.0, 1.05), (22.0, 24.0, 0.35))
"""Placeholder time-of-use tariff (start h, end h, CNY/kWh); K, see the module docstring."""
MAX_TARIFF_CNY_PER_KWH = 1_000.0
"""Highest tariff price accepted, CNY/kWh (a sanity bound ~1000 x real prices; below the penalty)."""
DEFAULT_PENALTY = 10_000.0
"""Shortfall penalty M, CNY per kWh below the floor (far above any tariff)."""
MAX_CHARGER_KW = 10_000.0
"""Upper bound of a connector's power, kW (megawatt chargers are ~1 MW); keeps the Wh scale in int64."""
MAX_GRID_KW = 1_000_000.0
"""Upper bound of a station's grid cap, kW (1 GW: a sanity bound, not a physical claim)."""
DEFAULT_MAX_DELAY_MIN = 60.0
DEFAULT_LATENESS_CNY_PER_MIN = 5.0
MAX_DELAY_MIN = 24 * 60
"""Longest departure delay accepted by :func:`charging_from_plan`, minutes."""

# reason words of CoachUnserved (module docstring)
RANGE = "range"
CHARGER_CAPACITY = "charger_capacity"
NO_SCHEDULE = "no_schedule"


def _is_int(v: object) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer))


@dataclass(frozen=True, slots=True)
class CoachParams:
    """An electric coach (defaults: K, module docstring): battery ``capacity_kwh`` (kWh), base
    consumption ``kwh_per_km`` (kWh/km, flat, 24 degC), loaded ``mass_kg`` (kg), on-board charge
    limit ``max_kw`` (kW), efficiencies ``eta_charge``, ``eta_drive``, ``eta_regen`` (shares), start
    SoC ``soc0`` and floor ``soc_min`` (shares). ``InvalidInput`` names a bad field."""

    capacity_kwh: float = 350.0
    kwh_per_km: float = 1.1
    mass_kg: float = 18000.0
    max_kw: float = 150.0
    eta_charge: float = 0.90
    eta_drive: float = 0.90
    eta_regen: float = 0.65
    soc0: float = 0.90
    soc_min: float = 0.20

    def __post_init__(self) -> None:
        for name in ("capacity_kwh", "kwh_per_km", "mass_kg", "max_kw"):
            if check_finite(name, getattr(self, name)) <= 0:
                raise InvalidInput(name, getattr(self, name), "must be > 0")
        for name in ("eta_charge", "eta_drive", "eta_regen", "soc0", "soc_min"):
            v = check_finite(name, getattr(self, name))
            if not 0 <= v <= 1:
                raise InvalidInput(name, v, "must be in [0, 1]")


@dataclass(frozen=True, slots=True)
class EVStation:
    """A charging station: ``chargers`` connectors (integer >= 1) of ``charger_kw`` each and a grid
    cap ``grid_kw`` for the whole station (kW, both > 0 and bounded by ``MAX_CHARGER_KW`` /
    ``MAX_GRID_KW``)."""

    id: str
    chargers: int
    charger_kw: float
    grid_kw: float

    def __post_init__(self) -> None:
        if not _is_int(self.chargers) or self.chargers < 1:
            raise InvalidInput(f"stations[{self.id}].chargers", self.chargers, "must be an integer >= 1")
        for f, hi in (("charger_kw", MAX_CHARGER_KW), ("grid_kw", MAX_GRID_KW)):
            v = check_finite(f"stations[{self.id}].{f}", getattr(self, f))
            if not 0 < v <= hi:
                raise InvalidInput(f"stations[{self.id}].{f}", v, f"must be > 0 and <= {hi:g} kW")


@dataclass(frozen=True, slots=True)
class EVVehicle:
    """An electric vehicle's day: battery ``capacity_kwh`` (kWh), ``soc0``/``soc_min``/``soc_max``
    (shares of the battery), ``draw_kwh[t]`` driving energy per slot (kWh, >= 0), ``at[t]`` station
    index where it is parked in slot t (-1: not at a station), ``max_kw`` on-board charge limit (kW),
    ``eta`` charge efficiency (share in (0, 1])."""

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


@dataclass(frozen=True, slots=True)
class ChargingProblem:
    """Fleet, stations, tariff (CNY/kWh per slot) and the delay policy (module docstring):
    ``slot_min`` (minutes per slot, > 0), ``shortfall_penalty`` (CNY/kWh below a floor, above every
    tariff), ``max_delay_min`` (minutes >= 0; 0 = fixed plan times), ``lateness_cny_per_min`` (CNY
    per minute of lateness, >= 0, a policy weight), ``delay_stops`` (candidate stops per vehicle,
    None = all). ``InvalidInput`` names a bad field."""

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
            if not (math.isfinite(p) and 0 <= p <= MAX_TARIFF_CNY_PER_KWH):
                raise InvalidInput(f"tariff[{t}]", p, f"must be finite and within 0..{MAX_TARIFF_CNY_PER_KWH:g} "
                                                      "(CNY/kWh)")
        if check_finite("shortfall_penalty", self.shortfall_penalty) <= max(self.tariff):
            raise InvalidInput("shortfall_penalty", self.shortfall_penalty, "must exceed every tariff")
        if isinstance(self.max_delay_min, bool) or check_finite("max_delay_min", self.max_delay_min) < 0:
            raise InvalidInput("max_delay_min", self.max_delay_min, "must be >= 0 minutes")
        if check_finite("lateness_cny_per_min", self.lateness_cny_per_min) < 0:
            raise InvalidInput("lateness_cny_per_min", self.lateness_cny_per_min, "must be >= 0 (CNY per minute)")
        if self.delay_stops is not None and (not _is_int(self.delay_stops) or self.delay_stops < 0):
            raise InvalidInput("delay_stops", self.delay_stops, "must be None (all) or an integer >= 0")
        ids = [s.id for s in self.stations]
        if len(set(ids)) != len(ids):
            raise InvalidInput("stations", ids, "duplicate station id")
        vids = [v.id for v in self.vehicles]
        if len(set(vids)) != len(vids):
            raise InvalidInput("vehicles", vids, "duplicate vehicle id")
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
        """Slot length, hours."""
        return self.slot_min / 60.0

    @property
    def max_delay_slots(self) -> int:
        """D = floor(max_delay_min / slot_min): the longest delay in whole slots."""
        return math.floor(self.max_delay_min / self.slot_min + 1e-9)

    def max_slot_kwh(self, v: EVVehicle, s: int) -> float:
        """Grid energy vehicle ``v`` can draw in one slot at station index ``s``, kWh."""
        st = self.stations[s]
        return min(st.charger_kw, v.max_kw, st.grid_kw) * self.dt_h


@dataclass(frozen=True, slots=True)
class ChargingParams:
    """Back-end options of :func:`solve_charging`: CP-SAT ``workers``; ``rel_gap`` (stop at this
    proven relative gap, 0 = prove the optimum); ``warm_share`` / ``repair_share`` of the time limit
    for the on-plan warm start and the per-vehicle repair (``models.charging.solve``)."""

    workers: int = 8
    rel_gap: float = 0.0
    warm_share: float = 0.3
    repair_share: float = 0.15

    def __post_init__(self) -> None:
        check_count("workers", self.workers, 1, 256)
        for name in ("rel_gap", "warm_share", "repair_share"):
            v = check_finite(name, getattr(self, name))
            if not 0 <= v < 1:
                raise InvalidInput(name, v, "must be in [0, 1)")
        if self.warm_share + self.repair_share >= 1:
            raise InvalidInput("repair_share", self.repair_share, "warm_share + repair_share must be < 1")


@dataclass(frozen=True, slots=True)
class Delay:
    """A coach that leaves a charging stop late: the stop (first and last slot at ``station_id``)
    is extended by ``delay_min`` minutes (whole slots)."""

    vehicle_id: str
    station_id: str
    stop_first_slot: int
    stop_last_slot: int
    delay_min: float


@dataclass(frozen=True, slots=True)
class CoachUnserved(Unserved):
    """A coach that cannot be kept above its SoC floor (stranded): ``item_id`` = vehicle id,
    ``reason`` one of the module docstring's words; ``short_kwh`` = kWh below the floor at the
    battery's lowest point, at most ``soc_min x capacity`` (the battery cannot go below empty);
    ``unmet_kwh`` = driving energy beyond an empty battery; ``below_floor_min`` / ``empty_min`` =
    first time below the floor / empty (minutes from midnight, end of slot; None: never or no
    schedule). All 0/None when there is no schedule at all (module docstring: *Shortfall*)."""

    short_kwh: float = 0.0
    unmet_kwh: float = 0.0
    below_floor_min: float | None = None
    empty_min: float | None = None


@dataclass(frozen=True)
class ChargingSchedule:
    """A charging schedule (the solution of a :class:`ChargingProblem`).

    Attributes
    ----------
    grid_kwh : tuple[tuple[float, ...], ...]
        [vehicle][slot] energy taken from the grid, kWh (empty without a schedule).
    soc_kwh : tuple[tuple[float, ...], ...]
        [vehicle][slot] SoC at the *end* of the slot, kWh (the start is ``soc0``).
    short_kwh : tuple[float, ...]
        Per vehicle, kWh below its floor at the lowest point, at most ``soc_min x capacity`` (0 for
        a served vehicle; module docstring: *Shortfall*).
    delay_min, delay_stop : tuple
        Per vehicle, the departure delay (minutes, 0 = on plan) and the extended stop
        (first slot, last slot, station index) or None.
    delays : tuple[Delay, ...]
        The delayed vehicles.
    timeline_at, timeline_draw_kwh : tuple
        [vehicle][slot] the realised timeline (the plan shifted by the delay).
    energy_cost_cny : float | None
        Energy cost of the day, CNY (None without a schedule).
    lateness_min, lateness_cost_cny : float
        Sum of delays (minutes) and its price (``lateness_cny_per_min`` x minutes, CNY).
    cost_rounding_cny : float
        Bound on the integer rounding of the model objective, CNY.
    unserved : tuple[CoachUnserved, ...]
        Coaches that cannot be kept above the floor, with the reason (module docstring).
    stats : SolveStats
        Status, objective (energy + lateness + shortfall penalty, CNY), CP-SAT bound, gap, runtime.
    model_info : dict
        Model size and warm start (``models.charging.ChargingModelResult.info``).
    unmet_kwh : tuple[float, ...]
        Per vehicle, driving energy beyond an empty battery (kWh; > 0: the battery runs empty).
        Empty tuple = all 0.
    """

    grid_kwh: tuple[tuple[float, ...], ...]
    soc_kwh: tuple[tuple[float, ...], ...]
    short_kwh: tuple[float, ...]
    delay_min: tuple[float, ...]
    delay_stop: tuple[tuple[int, int, int] | None, ...]
    delays: tuple[Delay, ...]
    timeline_at: tuple[tuple[int, ...], ...]
    timeline_draw_kwh: tuple[tuple[float, ...], ...]
    energy_cost_cny: float | None
    lateness_min: float
    lateness_cost_cny: float
    cost_rounding_cny: float
    unserved: tuple[CoachUnserved, ...]
    stats: SolveStats
    model_info: dict = field(default_factory=dict)
    unmet_kwh: tuple[float, ...] = ()

    @property
    def has_schedule(self) -> bool:
        return self.stats.has_plan

    def station_load_kw(self, problem: ChargingProblem) -> np.ndarray:
        """Power drawn per station and slot, kW (float64[stations, slots]), on the realised timelines."""
        load = np.zeros((len(problem.stations), problem.n_slots))
        if not self.grid_kwh:
            return load
        for n, v in enumerate(problem.vehicles):
            at = self.timeline_at[n] if self.timeline_at else v.at
            for t, s in enumerate(at):
                if s >= 0:
                    load[s, t] += self.grid_kwh[n][t] / problem.dt_h
        return load


# ------------------------------------------------------------------------------------------------
# solve


def split_dip(v: EVVehicle, dip_kwh: float) -> tuple[float, float]:
    """(short_kwh, unmet_kwh) of a dip of ``dip_kwh`` below the floor of ``v`` (module docstring:
    *Shortfall*): short = min(dip, soc_min x capacity), unmet = the rest."""
    dip = max(0.0, float(dip_kwh))
    short = min(dip, v.soc_min * v.capacity_kwh)
    return short, dip - short


def _crossings(problem: ChargingProblem, v: EVVehicle, soc_path: Sequence[float],
               tol: float = 1e-6) -> tuple[float | None, float | None]:
    """First clock minutes (end of slot) at which the energy path is below the floor / below 0."""
    floor = v.soc_min * v.capacity_kwh
    below = next(((t + 1) * problem.slot_min for t, e in enumerate(soc_path) if e < floor - tol), None)
    empty = next(((t + 1) * problem.slot_min for t, e in enumerate(soc_path) if e < -tol), None)
    return below, empty


def precheck(problem: ChargingProblem) -> list[CoachUnserved]:
    """Coaches that no schedule can keep above the floor (reason ``range``), with the shortfall.

    Between two charging opportunities (or from the start) the SoC can only fall; if the draw of
    such a stretch exceeds what the battery can hold above the floor, the vehicle is unservable.
    A delay only lengthens stops, so this also holds for every delayed timeline. ``short_kwh`` and
    ``unmet_kwh`` split this lower bound on the shortfall (module docstring: *Shortfall*); times
    are clock times (end of slot).
    """
    out = []
    for v in problem.vehicles:
        E = v.capacity_kwh
        level, worst, first = v.soc0 * E, 0.0, None
        path = []
        for t in range(problem.n_slots):
            if v.at[t] >= 0:
                level = max(level, v.soc_max * E)  # optimistic: could be full after this stop
            level -= v.draw_kwh[t]
            path.append(level)
            dip = v.soc_min * E - level
            if dip > 1e-6 and first is None:
                first = t
            worst = max(worst, dip)
        if worst > 1e-6:
            short, unmet = split_dip(v, worst)
            below, empty = _crossings(problem, v, path)
            what = (f"the battery would be empty by {fmt_clock(empty)}, {unmet:.1f} kWh short of the drive"
                    if empty is not None else f"{short:.1f} kWh below the floor at its lowest")
            out.append(CoachUnserved(v.id, RANGE,
                                     f"route draws more than the usable battery between charging opportunities: "
                                     f"even full at every stop it falls below its floor by {fmt_clock(below)} "
                                     f"and {what} (no charger on the way or too little time parked at one)",
                                     short, unmet, below, empty))
    return out


def solve_charging(problem: ChargingProblem, stop: StoppingCriterion, seed: int = 0,
                   params: ChargingParams | None = None) -> ChargingSchedule:
    """Charging schedule of ``problem`` (CP-SAT model of ``models.charging``, MODELS.md 3.1).

    The time limit is ``stop.max_runtime_s`` (the back-end default of ``models._backend`` when the
    stop has none; iteration limits do not apply to an exact model); the precheck and model
    building count against it. ``seed`` is CP-SAT's random seed; ``params`` the back-end options
    (:class:`ChargingParams`). Status ``optimal`` only when the optimum is proven (gap < one cost
    unit), ``feasible`` otherwise; without a schedule in time the status is ``no_solution_in_time``,
    the schedule is empty and every coach is unserved (``no_schedule``). Never raises for an
    unservable fleet: coaches below their floor are in ``unserved`` with the reason.
    Raises ``InvalidInput`` for bad ``params`` or a seed that is not an integer >= 0.
    """
    t0 = time.perf_counter()
    prm = params or ChargingParams()
    seed = check_count("seed", seed, 0, 2**31 - 1)
    deadline = stop.deadline(t0)
    hopeless = {u.item_id: u for u in precheck(problem)}
    raw = model.solve(problem, stop, deadline, workers=prm.workers, seed=seed, rel_gap=prm.rel_gap,
                      warm_share=prm.warm_share, repair_share=prm.repair_share, hopeless=frozenset(hopeless))
    out = raw.outcome
    runtime = time.perf_counter() - t0
    P = problem
    if not out.has_solution:
        stats = SolveStats(out.status, runtime_s=runtime, stopped_by="max_runtime_s" if out.status != "infeasible"
                           else "solved", seed=seed)
        unserved = tuple(CoachUnserved(v.id, NO_SCHEDULE, f"no charging schedule: {out.status.replace('_', ' ')}")
                         for v in P.vehicles)
        return ChargingSchedule((), (), (), (), (), (), (), (), None, 0.0, 0.0, raw.cost_rounding_cny, unserved,
                                stats, raw.info)
    chosen = raw.variants
    grid, short = raw.grid_kwh, raw.short_kwh
    cost = sum(P.tariff[t] * grid[n][t] for n in range(len(P.vehicles)) for t in range(P.n_slots))
    delay_min = tuple(c.delay_slots * P.slot_min for c in chosen)
    lateness = float(sum(delay_min))
    why = "connectors or grid caps leave too little energy for this coach"
    if P.max_delay_slots > 0:
        why += f" (also with a departure delay of up to {P.max_delay_slots * P.slot_min:g} min at its candidate stops)"
    split = [split_dip(v, short[n]) for n, v in enumerate(P.vehicles)]
    times = [_crossings(P, v, raw.soc_kwh[n]) for n, v in enumerate(P.vehicles)]
    unserved = tuple(CoachUnserved(v.id, hopeless[v.id].reason if v.id in hopeless else CHARGER_CAPACITY,
                                   hopeless[v.id].detail if v.id in hopeless else why, *split[n], *times[n])
                     for n, v in enumerate(P.vehicles) if short[n] > 1e-9)
    delays = tuple(Delay(v.id, P.stations[chosen[n].stop[2]].id, chosen[n].stop[0], chosen[n].stop[1], delay_min[n])
                   for n, v in enumerate(P.vehicles) if chosen[n].delay_slots)
    proven = out.status == OPTIMAL or (out.gap is not None and out.gap <= prm.rel_gap)
    stats = SolveStats(out.status if out.status in (OPTIMAL, FEASIBLE) else FEASIBLE, out.objective, out.bound,
                       out.gap, runtime, 0, "solved" if proven else "max_runtime_s", seed)
    return ChargingSchedule(grid, raw.soc_kwh, tuple(s for s, _ in split), delay_min, tuple(c.stop for c in chosen),
                            delays, tuple(c.at for c in chosen), tuple(c.draw_kwh for c in chosen), cost, lateness,
                            P.lateness_cny_per_min * lateness, raw.cost_rounding_cny, unserved, stats, raw.info,
                            tuple(u for _, u in split))


# ------------------------------------------------------------------------------------------------
# building problems


def _band_text(band: Sequence[float]) -> str:
    a, b, p = band
    return f"{a:g}-{b:g}:{p:g}"


def check_bands(bands: Sequence[tuple[float, float, float]]) -> tuple[tuple[float, float, float], ...]:
    """Tariff bands (start h, end h, CNY/kWh) as floats, checked: each band has 0 <= start < end
    <= 24 and a price in 0..:data:`MAX_TARIFF_CNY_PER_KWH` CNY/kWh, and the bands, in any order,
    cover 0-24 h exactly: no hour in no band (a gap) or in two (an overlap). Raises
    ``InvalidInput('tariff', <the offending band>, ...)``."""
    out = []
    for band in bands:
        try:
            a, b, p = (float(x) for x in band)
        except (TypeError, ValueError):
            raise InvalidInput("tariff", band, "a band is (start h, end h, CNY/kWh)") from None
        text = _band_text((a, b, p))
        if not (math.isfinite(p) and 0 <= p <= MAX_TARIFF_CNY_PER_KWH):
            raise InvalidInput("tariff", text, f"price must be within 0..{MAX_TARIFF_CNY_PER_KWH:g} CNY/kWh")
        if not 0 <= a < b <= 24:
            raise InvalidInput("tariff", text, "hours must satisfy 0 <= start < end <= 24")
        out.append((a, b, p))
    if not out:
        raise InvalidInput("tariff", "", "needs at least one band START-END:PRICE covering 0-24 h")
    hour = 0.0
    for a, b, p in sorted(out):
        if a > hour:
            raise InvalidInput("tariff", _band_text((a, b, p)), f"hours {hour:g}-{a:g} are in no band: the bands "
                                                                "must cover 0-24 h without gap or overlap")
        if a < hour:
            raise InvalidInput("tariff", _band_text((a, b, p)), f"overlaps another band over hours {a:g}-"
                                                                f"{min(b, hour):g}: the bands must cover 0-24 h "
                                                                "without gap or overlap")
        hour = b
    if hour < 24:
        raise InvalidInput("tariff", _band_text(max(out, key=lambda x: x[1])),
                           f"hours {hour:g}-24 are in no band: the bands must cover 0-24 h without gap or overlap")
    return tuple(out)


def parse_tariff(text: str) -> tuple[tuple[float, float, float], ...]:
    """``"0-8:0.35,8-17:0.7,17-22:1.05,22-24:0.35"`` -> bands (start h, end h, CNY/kWh), checked by
    :func:`check_bands` (cover 0-24 h without gap or overlap, prices 0..1000 CNY/kWh);
    ``InvalidInput('tariff', <the offending band>, ...)`` if malformed or out of range."""
    bands = []
    for part in text.split(","):
        try:
            hours, price = part.split(":")
            a, b = (float(x) for x in hours.split("-"))
            pr = float(price)
        except ValueError:
            raise InvalidInput("tariff", part, "expected START-END:PRICE, e.g. 0-8:0.35") from None
        if not (math.isfinite(pr) and 0 <= pr <= MAX_TARIFF_CNY_PER_KWH):
            raise InvalidInput("tariff", part, f"price must be within 0..{MAX_TARIFF_CNY_PER_KWH:g} CNY/kWh")
        if not 0 <= a < b <= 24:
            raise InvalidInput("tariff", part, "hours must satisfy 0 <= start < end <= 24")
        bands.append((a, b, pr))
    return check_bands(bands)


def tariff_from_bands(n_slots: int, slot_min: float, bands: Sequence[tuple[float, float, float]]) -> tuple:
    """Tariff per slot (CNY/kWh) from (start h, end h, CNY/kWh) bands (the slot start decides);
    the bands must pass :func:`check_bands` (``InvalidInput`` naming ``tariff`` otherwise)."""
    checked = check_bands(bands)
    out = []
    for t in range(n_slots):
        h = t * slot_min / 60.0
        out.append(next((p for a, b, p in checked if a <= h < b), checked[-1][2]))
    return tuple(out)


def leg_energy_kwh(network: Network, a: str, b: str, temperature_c: float, coach: CoachParams) -> tuple[float, float]:
    """(kWh, km) of the fastest road path a -> b (module docstring formula)."""
    if a == b:
        return 0.0, 0.0
    nodes, arcs = road_path(network, a, b)
    f_t = derated_range_km(1.0, network.site(a).elevation_m, temperature_c)
    e = 0.0
    for k, km in enumerate(arcs):
        dh = network.site(nodes[k + 1]).elevation_m - network.site(nodes[k]).elevation_m
        climb = coach.mass_kg * G * max(dh, 0.0) / coach.eta_drive / 3.6e6
        regen = coach.eta_regen * coach.mass_kg * G * max(-dh, 0.0) / 3.6e6
        e += max(0.0, km * coach.kwh_per_km / f_t + climb - regen)
    return e, float(sum(arcs))


def _spread(draw: np.ndarray, t0: float, t1: float, kwh: float, slot_min: float) -> None:
    if kwh <= 0:
        return
    if t1 <= t0:
        draw[min(len(draw) - 1, max(0, int(t0 // slot_min)))] += kwh
        return
    for s in range(max(0, int(t0 // slot_min)), min(len(draw), math.ceil(t1 / slot_min))):
        ov = min(t1, (s + 1) * slot_min) - max(t0, s * slot_min)
        if ov > 0:
            draw[s] += kwh * ov / (t1 - t0)


def _park(at: np.ndarray, t0: float, t1: float, s: int, slot_min: float) -> None:
    for k in range(max(0, math.ceil(t0 / slot_min - 1e-9)), min(len(at), math.floor(t1 / slot_min + 1e-9))):
        at[k] = s


def charging_from_plan(problem: TourProblem, plan: TourPlan, stations: Sequence[str], *,
                       temperature_c: float = -5.0,
                       tariff: Sequence[tuple[float, float, float]] = DEFAULT_TARIFF, slot_min: float = 15.0,
                       chargers: int = 4, charger_kw: float = 120.0, grid_kw: float = 300.0,
                       coach_min_size: int = 20, max_vehicles: int = 50, coach: CoachParams | None = None,
                       max_delay_min: float = DEFAULT_MAX_DELAY_MIN,
                       lateness_cny_per_min: float = DEFAULT_LATENESS_CNY_PER_MIN,
                       ) -> tuple[ChargingProblem, list[dict]]:
    """The charging problem of a tour plan's electric coaches (module docstring), and one info row
    per coach: vehicle, group, size (persons), route (site ids), km, kwh, charge_slots and
    ``stops`` (the charging stops a departure delay may extend, ``{station, first_slot, last_slot}``).

    ``stations``: charger site ids of ``problem.network``; ``temperature_c`` degC (-60..60);
    ``max_delay_min`` minutes (0..1440) and ``lateness_cny_per_min`` CNY/min: the delay policy.
    Raises ``InvalidInput`` naming the field for a bad value, an unknown station, or a plan without
    any route that qualifies for a coach (field ``coach_min_size``)."""
    cp = coach or CoachParams()
    temp = check_finite("temperature_c", temperature_c)
    if not _is_int(chargers) or chargers < 1:
        raise InvalidInput("chargers", chargers, "must be an integer >= 1 (a station without chargers cannot charge)")
    check_count("max_vehicles", max_vehicles, 1, 10_000)
    check_count("coach_min_size", coach_min_size, 1, 100_000)
    md = check_finite("max_delay_min", max_delay_min)
    if isinstance(max_delay_min, bool) or not 0 <= md <= MAX_DELAY_MIN:
        raise InvalidInput("max_delay_min", max_delay_min, f"must be within 0..{MAX_DELAY_MIN} minutes")
    net = problem.network
    for i, sid in enumerate(stations):
        if not net.has_site(sid):
            raise InvalidInput(f"stations[{i}]", sid, "is not a site of the network")
    evs = tuple(EVStation(i, chargers, float(charger_kw), float(grid_kw)) for i in stations)
    sidx = {s.id: k for k, s in enumerate(evs)}
    T = round(24 * 60 / check_finite("slot_min", slot_min))
    prices = tariff_from_bands(T, slot_min, tuple(tariff))
    groups = {g.id: g for g in problem.groups}
    vehicles, info = [], []
    legs: dict[tuple[str, str], tuple[float, float]] = {}  # (kWh, km) per site pair: routes share legs

    def leg(a: str, b: str) -> tuple[float, float]:
        if (a, b) not in legs:
            legs[(a, b)] = leg_energy_kwh(net, a, b, temp, cp)
        return legs[(a, b)]

    for r in plan.routes:
        g = groups[r.group_id]
        if g.size < coach_min_size or not r.visits or len(vehicles) >= max_vehicles:
            continue
        start, end = node_of(net, g.start), node_of(net, g.end)
        draw = np.zeros(T)
        at = np.full(T, -1, dtype=int)
        if start in sidx:
            _park(at, 0.0, r.depart, sidx[start], slot_min)
        prev, t_prev = start, r.depart
        km_tot = e_tot = 0.0
        for v in r.visits:
            e, km = leg(prev, v.site_id)
            _spread(draw, t_prev, v.arrival, e, slot_min)
            km_tot += km
            e_tot += e
            if v.site_id in sidx:
                _park(at, v.arrival, v.departure, sidx[v.site_id], slot_min)
            prev, t_prev = v.site_id, v.departure
        e, km = leg(prev, end)
        _spread(draw, t_prev, r.arrive_end, e, slot_min)
        km_tot += km
        e_tot += e
        if end in sidx:
            _park(at, r.arrive_end, 24 * 60.0, sidx[end], slot_min)
        vid = f"EV{len(vehicles) + 1:02d}"
        ev = EVVehicle(vid, cp.capacity_kwh, cp.soc0, cp.soc_min, tuple(float(x) for x in draw),
                       tuple(int(x) for x in at), 1.0, cp.max_kw, cp.eta_charge)
        vehicles.append(ev)
        info.append({"vehicle": vid, "group": g.id, "size": g.size,
                     "route": [start] + [v.site_id for v in r.visits] + [end], "km": km_tot, "kwh": e_tot,
                     "charge_slots": int((at >= 0).sum()),
                     "stops": [{"station": evs[st].id, "first_slot": a, "last_slot": b}
                               for a, b, st in model.charging_stops(ev)]})
    if not vehicles:
        raise InvalidInput("coach_min_size", coach_min_size, "no planned route qualifies for an electric coach")
    return ChargingProblem(tuple(vehicles), evs, prices, slot_min, max_delay_min=md,
                           lateness_cny_per_min=lateness_cny_per_min), info


def synthetic_charging(n_vehicles: int = 50, n_stations: int = 10, slot_min: float = 15.0, seed: int = 0,
                       chargers: int = 3, charger_kw: float = 120.0, grid_kw: float = 250.0) -> ChargingProblem:
    """Reproducible benchmark instance: each vehicle does 3-5 trips (30-120 km at 1.3 kWh/km, cold)
    between stops of 30-120 minutes at random stations; 350 kWh, soc0 U(0.35, 0.9), floor 0.2."""
    rng = np.random.default_rng(seed)
    T = round(24 * 60 / slot_min)
    stations = tuple(EVStation(f"S{k:02d}", chargers, charger_kw, grid_kw) for k in range(n_stations))
    vehicles = []
    for n in range(n_vehicles):
        draw = np.zeros(T)
        at = np.full(T, -1, dtype=int)
        t = float(rng.uniform(6, 9) * 60)
        s = int(rng.integers(n_stations))
        _park(at, 0.0, t, s, slot_min)
        for _ in range(int(rng.integers(3, 6))):
            km = float(rng.uniform(30, 120))
            dur = km / 45.0 * 60
            _spread(draw, t, t + dur, km * 1.3, slot_min)
            t += dur
            s = int(rng.integers(n_stations))
            stay = float(rng.uniform(30, 120))
            _park(at, t, t + stay, s, slot_min)
            t += stay
            if t > 21 * 60:
                break
        _park(at, t, 24 * 60.0, s, slot_min)
        vehicles.append(EVVehicle(f"V{n:02d}", 350.0, float(rng.uniform(0.35, 0.9)), 0.2,
                                  tuple(float(x) for x in draw), tuple(int(x) for x in at), 1.0, 150.0, 0.9))
    prices = tariff_from_bands(T, slot_min, DEFAULT_TARIFF)
    return ChargingProblem(tuple(vehicles), stations, prices, slot_min)

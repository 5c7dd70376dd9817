"""Station-operations use cases shared by the HTTP API, the CLI and the benches: EV charging
schedules and oxygen replenishment plans on any tour plan (typed options -> problem -> solve ->
verify -> typed result).

* :func:`schedule_charging`: the electric coaches of a tour plan (``optimizer.stations.charging``)
  at the charger sites of ``instances/lhasa/stations.csv`` (candidates as if built, or only the
  existing ones), solved with CP-SAT (``solve_charging``) and re-checked (``verify_charging``).
* :func:`plan_oxygen`: the oxygen stations to supply and their daily demand come from a siting
  (``siting.json`` of ``lhasa-ops stations site --kind oxygen``: exactly the chosen stations, each
  with the demand of the sites it covers), or from a tour plan (every oxygen site of
  ``stations.csv`` that receives demand, each site served by its nearest station); solved with
  ``solve_oxygen`` (exact for at most 8 stations, else the heuristic) and re-checked
  (``verify_oxygen``).
* :func:`tour_plan`: the tour plan a tool works on (``api.services.stations.plan_source``: a
  ``plan.json``, a demand file, group records or the demo day) with an iteration budget and,
  given a ``Deadline``, at most ``PLAN_SHARE`` of the time left.

Errors: bad input raises ``InvalidInput`` naming the field and the value. A plan that the
independent verifier rejects is returned with its violations (``violations``): callers report
them (the CLI exits 1), they never pass as valid.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.services.stations import PlanSource, plan_source
from api.services.tours import less_time
from instances._json import read_json_object
from instances.stations import read_candidate_sites
from optimizer.core.clock import Deadline
from optimizer.core.errors import InvalidInput, check_count, check_finite, check_time_limit_s
from optimizer.core.network import Network
from optimizer.core.results import Violation
from optimizer.core.stop import StoppingCriterion
from optimizer.stations.charging import (
    DEFAULT_TARIFF,
    ChargingParams,
    ChargingProblem,
    ChargingSchedule,
    charging_from_plan,
    parse_tariff,
    solve_charging,
)
from optimizer.stations.oxygen import (
    DEFAULT_SAFETY_DAYS,
    DEFAULT_SAFETY_MIN,
    OxygenParams,
    OxygenPlan,
    OxygenProblem,
    check_supply_options,
    oxygen_from_plan,
    oxygen_problem,
    solve_oxygen,
)
from optimizer.stations.report_ops import charging_to_dict, oxygen_to_dict
from optimizer.stations.verify_ops import verify_charging, verify_oxygen

__all__ = ["PLAN_SHARE", "ChargingOptions", "ChargingRun", "OxygenOptions", "OxygenRun", "SitingChoice",
           "charger_sites", "oxygen_sites", "plan_oxygen", "read_siting", "schedule_charging", "tour_plan"]

PLAN_SHARE = 0.5
"""Largest share of the time left that planning the tours may use when a deadline is given."""
MIN_SOLVER_S = 0.05
"""Smallest time limit handed to a solver, seconds."""
CHARGING_REL_GAP = 1e-3
"""CP-SAT stops the charging schedule at this proven relative gap (0.1 %) by default."""


# ------------------------------------------------------------------------------------------------
# the tour plan


def tour_plan(network: Network, *, demand: Path | str | None = None, plan: PlanSource | None = None,
              groups: Sequence[Mapping[str, Any]] | None = None, iterations: int = 2000, seed: int = 0,
              deadline: Deadline | None = None) -> tuple[Any, Any]:
    """(TourProblem, TourPlan) from one plan source (``plan_source``): ``iterations`` ILS
    iterations (integer >= 0) and, with a ``deadline``, at most ``PLAN_SHARE`` of its time left.
    Raises ``InvalidInput`` naming the field."""
    check_count("iterations", iterations, 0, 10_000_000)
    runtime = None
    if deadline is not None and deadline.limit_s is not None:
        runtime = max(MIN_SOLVER_S, PLAN_SHARE * deadline.remaining_s())
    stop = StoppingCriterion(max_iterations=iterations, max_runtime_s=runtime)
    return plan_source(network, demand=demand, plan=plan, groups=groups, stop=stop, seed=seed)


def solver_stop(time_limit_s: float, deadline: Deadline | None = None) -> StoppingCriterion:
    """The solver's stop: ``time_limit_s`` seconds, or what is left of ``deadline`` (at least
    ``MIN_SOLVER_S``) when one is given. ``InvalidInput`` for a bad ``time_limit_s``."""
    limit = check_time_limit_s(time_limit_s)
    if deadline is not None and deadline.limit_s is not None:
        limit = max(MIN_SOLVER_S, deadline.remaining_s())
    return StoppingCriterion(max_runtime_s=limit)


# ------------------------------------------------------------------------------------------------
# EV charging


def charger_sites(network: Network, existing_only: bool = False) -> tuple[str, ...]:
    """Charger site ids of ``instances/lhasa/stations.csv`` (kind charger|both), in file order;
    only the existing ones when ``existing_only``."""
    ids, existing = read_candidate_sites("charger", network)
    return tuple(i for i in ids if i in existing) if existing_only else ids


@dataclass(frozen=True, slots=True)
class ChargingOptions:
    """What a planner chooses for a charging schedule (units as ``optimizer.stations.charging``):
    ``temperature_c`` degC; ``tariff`` ``"START-END:CNY/kWh,..."`` (None: the placeholder tariff);
    ``chargers`` per station; ``charger_kw``, ``grid_kw`` kW; ``max_vehicles``; ``coach_min_size``
    persons; ``existing_only`` (only existing charger sites); ``max_delay_min`` minutes;
    ``lateness_cny_per_min`` CNY/min; ``rel_gap`` (CP-SAT stops at this proven gap)."""

    temperature_c: float = -5.0
    tariff: str | None = None
    chargers: int = 4
    charger_kw: float = 120.0
    grid_kw: float = 300.0
    max_vehicles: int = 50
    coach_min_size: int = 20
    existing_only: bool = False
    max_delay_min: int = 60
    lateness_cny_per_min: float = 5.0
    rel_gap: float = CHARGING_REL_GAP

    def __post_init__(self) -> None:
        """Fail fast (before any tour is planned) on a bad tariff (``parse_tariff``'s rules)."""
        if self.tariff is not None:
            if not isinstance(self.tariff, str):
                raise InvalidInput("tariff", self.tariff, "must be text 'START-END:PRICE,...', e.g. 0-8:0.35,8-24:0.7")
            parse_tariff(self.tariff)


@dataclass(frozen=True)
class ChargingRun:
    """A verified charging schedule: the problem, the schedule, one info row per coach (from
    ``charging_from_plan``), the verifier's violations (empty: valid) and the options."""

    problem: ChargingProblem
    schedule: ChargingSchedule
    vehicles: list[dict]
    violations: list[Violation]
    options: ChargingOptions

    def document(self, include_sessions: bool = True) -> dict[str, Any]:
        """``charging_to_dict`` plus ``vehicles`` (info rows), ``verifier`` (violations as text)
        and ``params`` (the options)."""
        doc = charging_to_dict(self.problem, self.schedule, include_sessions=include_sessions)
        o = self.options
        doc["vehicles"] = self.vehicles
        doc["verifier"] = [str(v) for v in self.violations]
        doc["params"] = {**doc["params"], "temperature_c": o.temperature_c, "chargers": o.chargers,
                         "charger_kw": o.charger_kw, "grid_kw": o.grid_kw, "existing_only": o.existing_only,
                         "max_delay_min": o.max_delay_min, "lateness_cny_per_min": o.lateness_cny_per_min,
                         "tariff": o.tariff, "rel_gap": o.rel_gap}
        return doc


REPLY_S_PER_VEHICLE = 4e-4
"""Seconds per coach kept back from the charging solve for the verifier and the answer document
(measured ~0.2 ms per coach at 500 coaches on the 2-core machine under load, ``bench/time_limits.py``)."""


def schedule_charging(tour_problem: Any, tour_plan_: Any, options: ChargingOptions, stop: StoppingCriterion,
                      seed: int = 0) -> ChargingRun:
    """Charging schedule of the electric coaches of ``tour_plan_``, verified (module docstring).
    A runtime limit in ``stop`` covers building the problem (energy per leg), the solve and the
    verifier (``REPLY_S_PER_VEHICLE`` per coach kept back). Raises ``InvalidInput`` naming the field
    for bad options."""
    t0 = time.perf_counter()
    bands = parse_tariff(options.tariff) if options.tariff else DEFAULT_TARIFF
    stations = charger_sites(tour_problem.network, options.existing_only)
    if not stations:
        raise InvalidInput("existing_only", options.existing_only, "no charger site to schedule at")
    problem, info = charging_from_plan(
        tour_problem, tour_plan_, stations, temperature_c=options.temperature_c, tariff=bands,
        chargers=options.chargers, charger_kw=options.charger_kw, grid_kw=options.grid_kw,
        coach_min_size=options.coach_min_size, max_vehicles=options.max_vehicles,
        max_delay_min=options.max_delay_min, lateness_cny_per_min=options.lateness_cny_per_min)
    stop = less_time(stop, time.perf_counter() - t0 + REPLY_S_PER_VEHICLE * len(problem.vehicles))
    schedule = solve_charging(problem, stop, seed=seed, params=ChargingParams(rel_gap=options.rel_gap))
    return ChargingRun(problem, schedule, info, verify_charging(problem, schedule), options)


# ------------------------------------------------------------------------------------------------
# oxygen


def oxygen_sites(network: Network) -> tuple[str, ...]:
    """Oxygen station site ids of ``instances/lhasa/stations.csv`` (kind oxygen|both), in file order."""
    return read_candidate_sites("oxygen", network)[0]


@dataclass(frozen=True, slots=True)
class SitingChoice:
    """What an oxygen siting chose: ``stations`` (site ids), the daily litres of each demand site
    it saw (``litres_by_site``, covered or not), and its coverage ``threshold_min`` (road minutes;
    None: every site goes to its nearest station)."""

    stations: tuple[str, ...]
    litres_by_site: Mapping[str, float]
    threshold_min: float | None
    source: str = "siting"


def read_siting(source: Path | str | Mapping[str, Any], network: Network) -> SitingChoice:
    """Read the ``siting.json`` of ``lhasa-ops stations site --kind oxygen`` (a path or the parsed
    document): ``kind`` must be ``oxygen``; ``chosen`` the stations; ``detail`` rows (``site_id``,
    ``litres_day``) the demand per site; ``params.threshold_min`` the coverage threshold.
    Raises ``InvalidInput`` naming ``siting`` or the offending key (``siting.chosen``,
    ``siting.detail[k].litres_day``, ...)."""
    doc, label = read_json_object(source, "siting", "the siting.json of lhasa-ops stations site")
    kind = doc.get("kind")
    if kind != "oxygen":
        raise InvalidInput("siting.kind", kind, "must be 'oxygen' (a siting.json of lhasa-ops stations site "
                                                "--kind oxygen)")
    chosen = doc.get("chosen")
    if not isinstance(chosen, list) or not chosen or not all(isinstance(c, str) for c in chosen):
        raise InvalidInput("siting.chosen", chosen, "must be a non-empty list of station site ids")
    for k, c in enumerate(chosen):
        if not network.has_site(c):
            raise InvalidInput(f"siting.chosen[{k}]", c, "is not a site of the network")
        if c in chosen[:k]:
            raise InvalidInput(f"siting.chosen[{k}]", c, "is listed twice")
    stations = doc.get("stations")
    if stations is not None:  # written by lhasa-ops stations site: must name the same stations
        ids = [st.get("site_id") if isinstance(st, Mapping) else st for st in stations] \
            if isinstance(stations, list) else stations
        if not isinstance(ids, list) or sorted(map(str, ids)) != sorted(chosen):
            raise InvalidInput("siting.stations", ids, f"must name the same stations as siting.chosen {chosen}")
    detail = doc.get("detail")
    if not isinstance(detail, list):
        raise InvalidInput("siting.detail", type(detail).__name__, "must be the list of demand sites "
                                                                   "(site_id, litres_day)")
    litres: dict[str, float] = {}
    for k, row in enumerate(detail):
        if not isinstance(row, Mapping):
            raise InvalidInput(f"siting.detail[{k}]", row, "must be an object with site_id and litres_day")
        sid = row.get("site_id")
        if not isinstance(sid, str) or not network.has_site(sid):
            raise InvalidInput(f"siting.detail[{k}].site_id", sid, "is not a site of the network")
        raw = row.get("litres_day")
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise InvalidInput(f"siting.detail[{k}].litres_day", raw, "must be a number of litres per day")
        v = check_finite(f"siting.detail[{k}].litres_day", raw)
        if v < 0:
            raise InvalidInput(f"siting.detail[{k}].litres_day", v, "must be >= 0 litres per day")
        litres[sid] = litres.get(sid, 0.0) + v
    params = doc.get("params") if isinstance(doc.get("params"), Mapping) else {}
    thr = params.get("threshold_min")
    threshold = None if thr is None else check_finite("siting.params.threshold_min", thr)
    return SitingChoice(tuple(dict.fromkeys(chosen)), litres, threshold, label)


@dataclass(frozen=True, slots=True)
class OxygenOptions:
    """What a planner chooses for an oxygen plan (units as ``optimizer.stations.oxygen``):
    ``method`` auto | exact | policy; ``trucks``; ``truck_capacity`` cylinders; ``shift_min``
    minutes; ``depot`` site id; ``lookahead`` days (None: try 0..3); ``safety_days`` (safety stock
    in days of the busiest day's demand) and ``safety_min_cylinders`` (its floor);
    ``exact_max_stations`` (auto: exact up to this many stations)."""

    method: str = "auto"
    trucks: int = 3
    truck_capacity: int = 40
    shift_min: float = 600.0
    depot: str = "lhasa_railway"
    lookahead: int | None = None
    safety_days: float = DEFAULT_SAFETY_DAYS
    safety_min_cylinders: int = DEFAULT_SAFETY_MIN
    exact_max_stations: int = 8

    def __post_init__(self) -> None:
        """Fail fast (before any tour is planned), with the bounds the HTTP model shares."""
        OxygenParams(method=self.method, lookahead=self.lookahead, exact_max_stations=self.exact_max_stations)
        check_supply_options(self.trucks, self.truck_capacity, self.shift_min, self.safety_days,
                             self.safety_min_cylinders)


@dataclass(frozen=True)
class OxygenRun:
    """A verified oxygen plan: the problem, the plan, one info row per station, the demand sites
    left uncovered by a siting (site_id, litres_day, nearest_station, minutes), the verifier's
    violations (empty: valid), the options and where the stations came from (``siting`` path or
    ``stations.csv``)."""

    problem: OxygenProblem
    plan: OxygenPlan
    stations: list[dict]
    uncovered: list[dict]
    violations: list[Violation]
    options: OxygenOptions
    stations_from: str = "stations.csv"

    def document(self) -> dict[str, Any]:
        """``oxygen_to_dict`` plus ``stations`` (info rows), ``uncovered_sites``, ``stations_from``,
        ``verifier`` (violations as text) and ``params`` (the options)."""
        doc = oxygen_to_dict(self.problem, self.plan)
        o = self.options
        doc["stations"] = self.stations
        doc["uncovered_sites"] = self.uncovered
        doc["stations_from"] = self.stations_from
        doc["verifier"] = [str(v) for v in self.violations]
        doc["params"] = {"method": o.method, "trucks": o.trucks, "truck_capacity": o.truck_capacity,
                         "shift_min": o.shift_min, "depot": o.depot, "lookahead": o.lookahead,
                         "safety_days": o.safety_days, "safety_min_cylinders": o.safety_min_cylinders,
                         "exact_max_stations": o.exact_max_stations}
        return doc


def plan_oxygen(network: Network, options: OxygenOptions, stop: StoppingCriterion, *,
                tour: tuple[Any, Any] | None = None, siting: SitingChoice | None = None,
                seed: int = 0) -> OxygenRun:
    """Oxygen replenishment plan, verified (module docstring). ``tour``: (TourProblem, TourPlan)
    whose demand is used (with a siting: assigned to the siting's stations within its threshold);
    ``siting``: the stations to supply (without ``tour`` its own demand per site is used). At
    least one of the two is needed. Raises ``InvalidInput`` naming the field."""
    if tour is None and siting is None:
        raise InvalidInput("plan", None, "give a tour plan or a siting to plan oxygen for")
    common: dict[str, Any] = {"depot": options.depot, "trucks": options.trucks,
                              "truck_capacity": options.truck_capacity, "shift_min": options.shift_min,
                              "safety_days": options.safety_days,
                              "safety_min_cylinders": options.safety_min_cylinders}
    if siting is not None:
        stations, thr = siting.stations, siting.threshold_min
        if tour is not None:
            problem, info, uncovered = oxygen_from_plan(tour[0], tour[1], stations, threshold_min=thr, **common)
        else:
            problem, info, uncovered = oxygen_problem(network, siting.litres_by_site, stations, threshold_min=thr,
                                                      **common)
        origin = siting.source
    else:
        problem, info, uncovered = oxygen_from_plan(tour[0], tour[1], oxygen_sites(network), **common)
        origin = "stations.csv"
    params = OxygenParams(method=options.method, lookahead=options.lookahead,
                          exact_max_stations=options.exact_max_stations)
    plan = solve_oxygen(problem, stop, seed=seed, params=params)
    return OxygenRun(problem, plan, info, uncovered, verify_oxygen(problem, plan), options, origin)


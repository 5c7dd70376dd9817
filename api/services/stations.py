"""Station use cases shared by the HTTP API, the CLI and the benches: the plan source of every
station tool, and station siting (oxygen MCLP, EV-charger FRLM) on any tour plan.

Plan source (``plan_source``), the same for ``stations site``, ``stations charge`` and
``stations oxygen``: a saved ``plan.json`` (``lhasa-ops plan``; read and verified by
``api.services.tours.load_plan``), a demand file or parsed group records (planned by
``api.services.tours.plan_groups`` / ``plan_records``), or, with none of them, the embedded demo day
(``api.services.tours.demo_day``: ``instances/lhasa/demand_peak_day.csv``, ILS). Giving two
sources is an ``InvalidInput``.

Siting (``site_stations``): plan source -> oxygen demand per visited site
(``optimizer.stations.demand.oxygen_demand``) or EV round-trip flows on the plan's routes
(``ev_flows``) -> MCLP or FRLM problem over the candidates of ``instances/lhasa/stations.csv``
-> ``solve_siting`` (p, then the marginal curve p = 1..p_max) -> ``verify_siting``. One time
limit covers it all: the tour plan may use ``PLAN_SHARE`` of it (its iteration limit normally
ends it first, so the same seed gives the same plan), the siting solves share the rest.

Errors: bad input raises ``InvalidInput`` naming the field and the value; a siting that the
independent verifier (``optimizer.stations.verify_siting``) rejects is a solver bug and raises
``RuntimeError``, never a result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.services import tours
from instances.stations import read_candidate_sites
from optimizer.core.clock import Deadline
from optimizer.core.errors import InvalidInput, check_finite
from optimizer.core.network import Network
from optimizer.core.results import Violation
from optimizer.core.stop import StoppingCriterion
from optimizer.stations.demand import ev_flows, oxygen_demand
from optimizer.stations.report_siting import siting_to_dict
from optimizer.stations.siting import (
    BACKENDS,
    STATION_KINDS,
    SitingParams,
    SitingProblem,
    SitingSolution,
    charger_siting_problem,
    oxygen_siting_problem,
    solve_siting,
)
from optimizer.stations.verify_siting import verify_siting

PlanSource = Path | str | Mapping[str, Any]


def plan_source(network: Network, *, demand: Path | str | None = None, plan: PlanSource | None = None,
                groups: Sequence[Mapping[str, Any]] | None = None, stop: StoppingCriterion,
                seed: int = 0) -> tuple[Any, Any]:
    """(TourProblem, TourPlan) that a station tool works on.

    ``plan``: a ``plan.json`` path or its parsed document (read back and verified, ``stop`` and
    ``seed`` unused); ``demand``: a demand file (``.csv``, ``.parquet``, ``.json``) planned under
    ``stop`` with ``seed``; ``groups``: group records in the JSON layout of ``instances.demand``
    (the records of ``POST /v1/tours/plan``), planned likewise; none: the embedded demo day under
    ``stop`` with ``seed``.

    Raises ``InvalidInput`` naming ``plan``/``demand``/``groups`` when more than one source is
    given, and the reader's ``InvalidInput`` for a bad file or record.
    """
    given = [name for name, v in (("plan", plan), ("demand", demand), ("groups", groups)) if v is not None]
    if len(given) > 1:
        shown = {"plan": plan if not isinstance(plan, Mapping) else "<plan object>", "demand": demand,
                 "groups": f"<{len(groups or ())} group records>"}[given[1]]
        raise InvalidInput(given[1], str(shown), f"give at most one plan source; {' and '.join(given)} were given")
    if plan is not None:
        return tours.load_plan(plan, network)
    if demand is not None:
        return tours.plan_groups(network, tours.read_groups(demand, network), stop, seed=seed)
    if groups is not None:
        return tours.plan_records(groups, network, stop, seed=seed, source="groups")
    if network is tours.lhasa_network():
        return tours.demo_day(stop, seed=seed)
    return tours.demo_day(stop, seed=seed, network=network)


PLAN_SHARE = 0.5
"""Largest share of a request's time limit the tour plan may use (the siting solves get the rest)."""
DEFAULT_TIME_LIMIT_S = 60.0
DEFAULT_ITERATIONS = 2000
"""ILS iterations of a tour plan the stations tools make (demo day, demand file or groups)."""


@dataclass(frozen=True, slots=True)
class SitingInput:
    """What a siting request asks for (CLI options, HTTP body).

    Attributes
    ----------
    kind : str
        ``oxygen`` (MCLP over the oxygen candidates, demand in L/day) or ``charger`` (FRLM over the
        charger candidates, EV round trips/day).
    p : int
        Stations to open, 1..candidates.
    threshold_min : float
        oxygen: coverage threshold, road minutes site -> station, > 0.
    range_km, temperature_c : float
        charger: nominal EV range, km (> 0), and ambient temperature, degC (-60..60), for derating.
    ev_share : float
        charger: share of tour vehicles that are EVs, 0..1.
    min_path_km : float
        charger: drop O-D round trips shorter than this, km, >= 0.
    backend : str
        ``cpsat``, ``mathopt`` or ``pulp``.
    p_max : int | None
        Marginal curve up to this p (None: max(p, 10), at most the candidates).
    iterations : int
        ILS iterations of the tour plan made for a demand file, groups or the demo day (>= 0).
    seed : int
        Seed of the tour plan and the siting solves (>= 0).
    time_limit_s : float
        Wall-clock limit of the whole use case (plan + siting), seconds, > 0.
    """

    kind: str
    p: int
    threshold_min: float = 30.0
    range_km: float = 300.0
    temperature_c: float = -5.0
    ev_share: float = 0.2
    min_path_km: float = 0.0
    backend: str = "cpsat"
    p_max: int | None = None
    iterations: int = DEFAULT_ITERATIONS
    seed: int = 0
    time_limit_s: float = DEFAULT_TIME_LIMIT_S

    def __post_init__(self) -> None:
        if self.kind not in STATION_KINDS:
            raise InvalidInput("kind", self.kind, "must be 'oxygen' or 'charger'")
        if self.backend not in BACKENDS:
            raise InvalidInput("backend", self.backend, f"must be one of {', '.join(BACKENDS)}")
        for name in ("iterations", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise InvalidInput(name, v, "must be an integer >= 0")
        t = check_finite("time_limit_s", self.time_limit_s)
        if t <= 0:
            raise InvalidInput("time_limit_s", t, "must be > 0 seconds")


@dataclass(frozen=True, slots=True)
class SitingOutcome:
    """A verified siting and where it came from.

    ``tour_problem``/``tour_plan``: the plan the demand came from; ``problem``/``solution``: the
    siting; ``violations``: the verifier's verdict (always empty: a rejected siting raises);
    ``document``: ``report_siting.siting_to_dict`` plus ``source`` (plan source) and
    ``verifier`` (``"ok"``).
    """

    tour_problem: Any
    tour_plan: Any
    problem: SitingProblem
    solution: SitingSolution
    violations: tuple[Violation, ...]
    document: dict[str, Any]


def _source_label(demand: Any, plan: Any, groups: Any) -> str:
    if plan is not None:
        return "plan" if isinstance(plan, Mapping) else f"plan {plan}"
    if demand is not None:
        return f"demand {demand}"
    if groups is not None:
        return f"{len(groups)} groups"
    return "demo day"


def site_stations(inp: SitingInput, network: Network | None = None, *, demand: Path | str | None = None,
                  plan: PlanSource | None = None, groups: Sequence[Mapping[str, Any]] | None = None,
                  deadline: Deadline | None = None) -> SitingOutcome:
    """Site ``inp.kind`` stations for the plan from ``plan``/``demand``/``groups`` (else the demo day).

    ``deadline`` (default: ``inp.time_limit_s`` from now) bounds the whole use case. Raises
    ``InvalidInput`` naming the field for bad input (two plan sources, p outside 1..candidates,
    p_max outside [p, candidates], ...); ``RuntimeError`` if the verifier rejects the siting.
    """
    clock = deadline if deadline is not None else Deadline(inp.time_limit_s)
    net = network if network is not None else tours.lhasa_network()
    cands, existing = read_candidate_sites(inp.kind, net)
    if isinstance(inp.p, bool) or not isinstance(inp.p, int):
        raise InvalidInput("p", inp.p, "must be an integer")
    p_max = inp.p_max if inp.p_max is not None else min(len(cands), max(inp.p, 10))
    plan_stop = StoppingCriterion(max_iterations=inp.iterations,
                                  max_runtime_s=max(0.01, PLAN_SHARE * clock.remaining_s()))
    tour_problem, tour_plan = plan_source(net, demand=demand, plan=plan, groups=groups, stop=plan_stop,
                                          seed=inp.seed)
    if inp.kind == "oxygen":
        df = oxygen_demand(tour_problem, tour_plan)
        problem: SitingProblem = oxygen_siting_problem(net, df["site_id"].to_list(), df["litres_day"].to_list(),
                                                       inp.p, cands, existing, inp.threshold_min)
    else:
        flows = ev_flows(tour_problem, tour_plan, ev_share=inp.ev_share, min_path_km=inp.min_path_km)
        problem = charger_siting_problem(net, flows, inp.p, cands, existing, range_km=inp.range_km,
                                         temperature_c=inp.temperature_c)
    params = SitingParams(backend=inp.backend, p_max=p_max)
    left = clock.remaining_s()
    stop = StoppingCriterion(max_runtime_s=max(0.05, left) if math.isfinite(left) else DEFAULT_TIME_LIMIT_S)
    solution = solve_siting(problem, stop, seed=inp.seed, params=params)
    violations = tuple(verify_siting(problem, solution))
    if violations:
        raise RuntimeError(f"the siting solver returned an answer with {len(violations)} violations, "
                           f"first: {violations[0]}")
    doc = siting_to_dict(problem, solution)
    doc["source"] = _source_label(demand, plan, groups)
    doc["verifier"] = "ok"
    return SitingOutcome(tour_problem, tour_plan, problem, solution, violations, doc)


__all__ = ["DEFAULT_ITERATIONS", "PLAN_SHARE", "SitingInput", "SitingOutcome", "plan_source", "site_stations"]

"""Station siting: problems, solution and ``solve_siting`` (MCLP, p-median, FRLM).

Three location models, each solved exactly by ``models.siting`` on CP-SAT, MathOpt (SCIP) or
PuLP (CBC), chosen by ``SitingParams.backend``:

* ``CoverageProblem``: maximal covering location (Church & ReVelle 1974; MODELS.md 2.1): open
  ``p`` of the candidates to maximise the demand within a service standard;
* ``PMedianProblem``: p-median (Hakimi 1964; ReVelle & Swain 1970; MODELS.md 2.2): open ``p``
  to minimise the demand-weighted distance to the nearest open site;
* ``FlowProblem``: flow refuelling location (Kuby & Lim 2005), arc-cover path-cover form
  (Capar et al. 2013, EJOR 227(1):142-151; MODELS.md 2.4), capacitated variant after Upchurch,
  Kuby & Lim (2009) (MODELS.md 2.5) with ``SitingParams(capacitated=True)``.

Lhasa builders: ``oxygen_siting_problem`` (MCLP over the oxygen candidates, demand = litres/day
per visited site, coverage = road minutes site -> station <= threshold) and
``charger_siting_problem`` (FRLM over the charger candidates, EV round-trip flows, the nominal
range derated by ``optimizer.core.physics.derated_range_km`` for temperature and elevation:
cabin heating on, no aerodynamic credit). Existing stations are candidates like the others (not
forced open); ``existing`` only marks them.

``solve_siting(problem, stop, seed=0, params=None) -> SitingSolution``: the time limit comes
from ``stop.max_runtime_s`` (shared by the answer for ``p`` and, with ``params.p_max``, the
marginal curve p = 1..p_max, each point solved to optimality when time allows; without a
runtime limit each solve gets ``models._backend.DEFAULT_TIME_LIMIT_S``).

Status words (``optimizer.core.results``): ``optimal`` (proved), ``feasible``, ``infeasible``,
``no_solution_in_time`` (no point found; the solution then has no stations).

Unserved reasons (``SitingSolution.unserved``; ``item_id`` = the demand point's id or the path's
id, ``origin->destination`` unless given):

* ``not_covered``: MCLP demand with no chosen station within the threshold (a candidate could);
* ``out_of_reach``: MCLP demand that no candidate covers at all (no p helps);
* ``not_refuelled``: an FRLM path with flow that the chosen stations cannot refuel;
* ``out_of_range``: an FRLM path that no set of candidates can refuel (an arc beyond the range,
  or no candidate within reach of some arc);
* ``capacity``: capacitated FRLM, a path refuelled only in part (the share is in ``detail``);
* ``no_solution_in_time`` / ``infeasible``: every demand point or path with demand, when the
  solve returned no point.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models import siting as _models
from models._backend import DEFAULT_TIME_LIMIT_S
from optimizer.core.errors import InvalidInput, check_finite
from optimizer.core.network import Network
from optimizer.core.physics import derated_range_km
from optimizer.core.results import (
    FEASIBLE,
    INFEASIBLE,
    NO_SOLUTION_IN_TIME,
    OPTIMAL,
    SolveStats,
    Unserved,
    relative_gap,
)
from optimizer.core.stop import StoppingCriterion

__all__ = [
    "BACKENDS",
    "LHASA_ELEVATION_M",
    "STATION_KINDS",
    "CoverageProblem",
    "FlowPath",
    "FlowProblem",
    "MarginalPoint",
    "PMedianProblem",
    "SitingParams",
    "SitingProblem",
    "SitingSolution",
    "charger_siting_problem",
    "model_kind",
    "oxygen_siting_problem",
    "solve_siting",
]

BACKENDS = _models.BACKENDS
STATION_KINDS = ("oxygen", "charger")
LHASA_ELEVATION_M = 3650.0
"""Elevation used to derate the EV range (Lhasa city, MODELS.md section 0), m."""


# --------------------------------------------------------------------------------------------------
# checks


def _check_p(p: object, n_candidates: int) -> int:
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
        raise InvalidInput("p", p, "must be an integer")
    p = int(p)
    if p < 1:
        raise InvalidInput("p", p, "must be >= 1")
    if p > n_candidates:
        raise InvalidInput("p", p, f"larger than the number of candidates ({n_candidates})")
    return p


def _check_candidates(cands: Sequence[Hashable], name: str = "candidates") -> tuple:
    cands = tuple(cands)
    if not cands:
        raise InvalidInput(name, cands, "at least one candidate is needed")
    seen = set()
    for i, c in enumerate(cands):
        if c in seen:
            raise InvalidInput(f"{name}[{i}]", c, "duplicate candidate id")
        seen.add(c)
    return cands


def _frozen_array(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def _check_demand(demand: object) -> np.ndarray:
    try:
        d = np.asarray(demand, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput("demand", demand, "not an array of numbers") from None
    if d.ndim != 1 or d.size == 0:
        raise InvalidInput("demand", demand, "must be a non-empty 1-d array")
    for i, v in enumerate(d):
        if not math.isfinite(v):
            raise InvalidInput(f"demand[{i}]", float(v), "must be finite")
        if v < 0:
            raise InvalidInput(f"demand[{i}]", float(v), "must be >= 0")
    return _frozen_array(d)


def _check_ids(ids: Sequence[str] | None, n: int) -> tuple[str, ...]:
    if ids is None:
        return tuple(str(i) for i in range(n))
    ids = tuple(str(v) for v in ids)
    if len(ids) != n:
        raise InvalidInput("demand_ids", len(ids), f"needs one id per demand point ({n})")
    if len(set(ids)) != n:
        dup = next(v for v in ids if ids.count(v) > 1)
        raise InvalidInput("demand_ids", dup, "duplicate demand point id")
    return ids


def _check_distance(distance: object, n: int, m: int) -> np.ndarray:
    dist = np.asarray(distance, dtype=np.float64)
    if dist.shape != (n, m):
        raise InvalidInput("distance", dist.shape, f"shape must be (n, m) = ({n}, {m})")
    bad = np.argwhere(np.isnan(dist) | (dist < 0))
    if bad.size:
        i, j = bad[0]
        raise InvalidInput(f"distance[{i},{j}]", float(dist[i, j]), "must be >= 0 or inf")
    return _frozen_array(dist)


def _check_existing(existing: object, cands: tuple) -> frozenset:
    ex = frozenset(existing or ())
    extra = sorted(map(str, ex - set(cands)))
    if extra:
        raise InvalidInput("existing", extra[0], "an existing station must be one of the candidates")
    return ex


def _check_station_kind(kind: str) -> str:
    if kind not in ("", *STATION_KINDS):
        raise InvalidInput("station_kind", kind, "must be 'oxygen', 'charger' or '' (generic)")
    return kind


# --------------------------------------------------------------------------------------------------
# problems


@dataclass(frozen=True, eq=False)
class CoverageProblem:
    """Maximal covering: demand points, candidate sites and a coverage matrix (or distances + a
    service standard). Validated on construction (``InvalidInput`` naming the field).

    Attributes
    ----------
    demand : float64[n]
        Demand weight ``a_i`` of each point (L/day for oxygen), finite, >= 0.
    candidates : tuple
        Candidate site ids (unique), length m.
    p : int
        Stations to open, 1 <= p <= m.
    coverage : bool[n, m] | None
        ``coverage[i, j]``: site j covers point i. From ``distance <= threshold`` if None.
    distance : float64[n, m] | None
        Travel time (or distance) point i -> site j, >= 0; ``inf`` = unreachable.
    threshold : float | None
        Service standard ``S`` (unit of ``distance``), > 0; needed with ``distance`` when
        ``coverage`` is None.
    demand_ids : tuple[str, ...] | None
        Id of each demand point (a site id); None: ``"0".."n-1"``.
    existing : frozenset
        Candidates that already exist (reported, not forced open).
    station_kind : str
        ``oxygen``, ``charger`` or ``""`` (generic), for reports.
    unit : str
        Unit of ``demand`` (``L/day``), for reports.
    """

    demand: np.ndarray
    candidates: tuple
    p: int
    coverage: np.ndarray | None = None
    distance: np.ndarray | None = None
    threshold: float | None = None
    demand_ids: tuple[str, ...] | None = None
    existing: frozenset = frozenset()
    station_kind: str = ""
    unit: str = ""

    def __post_init__(self) -> None:
        d = _check_demand(self.demand)
        cands = _check_candidates(self.candidates)
        n, m = d.size, len(cands)
        object.__setattr__(self, "demand", d)
        object.__setattr__(self, "candidates", cands)
        object.__setattr__(self, "p", _check_p(self.p, m))
        if self.distance is not None:
            object.__setattr__(self, "distance", _check_distance(self.distance, n, m))
        if self.threshold is not None:
            t = check_finite("threshold", self.threshold)
            if t <= 0:
                raise InvalidInput("threshold", t, "must be > 0")
            object.__setattr__(self, "threshold", t)
        if self.coverage is not None:
            cov = np.asarray(self.coverage)
            if cov.shape != (n, m):
                raise InvalidInput("coverage", cov.shape, f"shape must be (n, m) = ({n}, {m})")
            if cov.dtype != np.bool_:
                if not np.isin(cov, (0, 1)).all():
                    raise InvalidInput("coverage", "non-boolean entries", "must be boolean / 0-1")
                cov = cov.astype(bool)
            object.__setattr__(self, "coverage", _frozen_array(cov))
        elif self.distance is None or self.threshold is None:
            raise InvalidInput("coverage", None, "give a coverage matrix or a distance matrix and a threshold")
        object.__setattr__(self, "demand_ids", _check_ids(self.demand_ids, n))
        object.__setattr__(self, "existing", _check_existing(self.existing, cands))
        _check_station_kind(self.station_kind)

    def coverage_matrix(self) -> np.ndarray:
        """``bool[n, m]``: the given coverage matrix, else ``distance <= threshold``."""
        if self.coverage is not None:
            return self.coverage
        return self.distance <= self.threshold

    @property
    def total(self) -> float:
        return float(self.demand.sum())


@dataclass(frozen=True, eq=False)
class PMedianProblem:
    """p-median: demand points, candidate sites and the distance point -> site.

    Attributes
    ----------
    demand : float64[n]
        Demand weight of each point, finite, >= 0.
    candidates : tuple
        Candidate site ids (unique), length m.
    p : int
        Sites to open, 1 <= p <= m.
    distance : float64[n, m]
        Travel time (or distance) point i -> site j, >= 0; ``inf`` = unreachable.
    demand_ids, existing, station_kind, unit :
        As in ``CoverageProblem``.
    """

    demand: np.ndarray
    candidates: tuple
    p: int
    distance: np.ndarray
    demand_ids: tuple[str, ...] | None = None
    existing: frozenset = frozenset()
    station_kind: str = ""
    unit: str = ""

    def __post_init__(self) -> None:
        d = _check_demand(self.demand)
        cands = _check_candidates(self.candidates)
        if self.distance is None:
            raise InvalidInput("distance", None, "p-median needs a distance matrix")
        object.__setattr__(self, "demand", d)
        object.__setattr__(self, "candidates", cands)
        object.__setattr__(self, "p", _check_p(self.p, len(cands)))
        object.__setattr__(self, "distance", _check_distance(self.distance, d.size, len(cands)))
        object.__setattr__(self, "demand_ids", _check_ids(self.demand_ids, d.size))
        object.__setattr__(self, "existing", _check_existing(self.existing, cands))
        _check_station_kind(self.station_kind)

    @property
    def total(self) -> float:
        return float(self.demand.sum())


@dataclass(frozen=True, eq=False)
class FlowPath:
    """One O-D flow on its (shortest) path, driven as a round trip O -> D -> O.

    Attributes
    ----------
    nodes : tuple
        Node ids from origin to destination (>= 2, no repeats).
    arc_km : tuple[float, ...]
        Length of each arc ``nodes[t] -> nodes[t+1]``, > 0 (km, or the network's units).
    flow : float
        Round trips per period (EV round trips/day), finite, >= 0.
    id : str | None
        Name of the path in reports and ``unserved``; None: ``"origin->destination"``.
    """

    nodes: tuple
    arc_km: tuple[float, ...]
    flow: float
    id: str | None = None

    def __post_init__(self) -> None:
        nodes = tuple(self.nodes)
        if len(nodes) < 2:
            raise InvalidInput("nodes", nodes, "a path needs at least an origin and a destination")
        if len(set(nodes)) != len(nodes):
            raise InvalidInput("nodes", nodes, "a path may not repeat a node")
        arcs = tuple(check_finite(f"arc_km[{t}]", v) for t, v in enumerate(self.arc_km))
        if len(arcs) != len(nodes) - 1:
            raise InvalidInput("arc_km", arcs, f"needs len(nodes) - 1 = {len(nodes) - 1} lengths")
        for t, v in enumerate(arcs):
            if v <= 0:
                raise InvalidInput(f"arc_km[{t}]", v, "must be > 0")
        f = check_finite("flow", self.flow)
        if f < 0:
            raise InvalidInput("flow", f, "must be >= 0")
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "arc_km", arcs)
        object.__setattr__(self, "flow", f)
        if self.id is None:
            object.__setattr__(self, "id", f"{nodes[0]}->{nodes[-1]}")

    @property
    def length_km(self) -> float:
        return float(sum(self.arc_km))


@dataclass(frozen=True, eq=False)
class FlowProblem:
    """FRLM data: O-D paths with flows, candidate station nodes, vehicle range and p.

    Attributes
    ----------
    paths : tuple[FlowPath, ...]
    candidates : tuple
        Candidate station node ids (unique), each a node of the network.
    range_km : float
        Usable range on a full charge, > 0, unit of ``arc_km`` (already derated).
    p : int
        Number of stations, 1 <= p <= len(candidates).
    capacities : tuple[float, ...] | None
        Capacitated variant only: refuels per period a station at ``candidates[k]`` serves, >= 0.
    nodes : tuple | None
        All node ids of the network; candidates must be among them. None: the nodes on the paths.
    existing, station_kind, unit :
        As in ``CoverageProblem`` (``unit``: ``EV round trips/day``).
    nominal_range_km, temperature_c, elevation_m : float | None
        Where ``range_km`` came from (``charger_siting_problem``), for reports only.
    """

    paths: tuple
    candidates: tuple
    range_km: float
    p: int
    capacities: tuple | None = None
    nodes: tuple | None = None
    existing: frozenset = frozenset()
    station_kind: str = ""
    unit: str = ""
    nominal_range_km: float | None = None
    temperature_c: float | None = None
    elevation_m: float | None = None

    def __post_init__(self) -> None:
        paths = tuple(self.paths)
        for q, pth in enumerate(paths):
            if not isinstance(pth, FlowPath):
                raise InvalidInput(f"paths[{q}]", pth, "must be a FlowPath")
        r = check_finite("range_km", self.range_km)
        if r <= 0:
            raise InvalidInput("range_km", r, "must be > 0")
        cands = _check_candidates(self.candidates)
        if self.nodes is not None:
            nodes = tuple(self.nodes)
            missing = {v for pth in paths for v in pth.nodes} - set(nodes)
            if missing:
                raise InvalidInput("paths", sorted(map(str, missing))[:5], "path nodes not in nodes")
        else:
            nodes = tuple(dict.fromkeys(v for pth in paths for v in pth.nodes))
        node_set = set(nodes)
        for i, c in enumerate(cands):
            if c not in node_set:
                raise InvalidInput(f"candidates[{i}]", c, "is not a node of the network")
        caps = None
        if self.capacities is not None:
            caps = tuple(check_finite(f"capacities[{k}]", v) for k, v in enumerate(self.capacities))
            if len(caps) != len(cands):
                raise InvalidInput("capacities", len(caps), f"needs one value per candidate ({len(cands)})")
            for k, v in enumerate(caps):
                if v < 0:
                    raise InvalidInput(f"capacities[{k}]", v, "must be >= 0")
        seen_ids: set[str] = set()
        for q, pth in enumerate(paths):
            if pth.id in seen_ids:
                raise InvalidInput(f"paths[{q}].id", pth.id, "duplicate path id (give each path its own id)")
            seen_ids.add(pth.id)
        object.__setattr__(self, "paths", paths)
        object.__setattr__(self, "candidates", cands)
        object.__setattr__(self, "range_km", r)
        object.__setattr__(self, "p", _check_p(self.p, len(cands)))
        object.__setattr__(self, "capacities", caps)
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "existing", _check_existing(self.existing, cands))
        _check_station_kind(self.station_kind)

    @property
    def total_flow(self) -> float:
        return float(sum(pth.flow for pth in self.paths))

    @property
    def total(self) -> float:
        return self.total_flow


SitingProblem = CoverageProblem | PMedianProblem | FlowProblem


# --------------------------------------------------------------------------------------------------
# params and solution


@dataclass(frozen=True, slots=True)
class SitingParams:
    """Options of ``solve_siting``.

    Attributes
    ----------
    backend : str
        ``cpsat`` (OR-Tools CP-SAT), ``mathopt`` (MathOpt with SCIP) or ``pulp`` (CBC).
    workers : int
        Solver threads, 1..64.
    capacitated : bool
        ``FlowProblem`` only: the capacitated FRLM (needs ``capacities``; mathopt or pulp).
    p_max : int | None
        Also solve p = 1..p_max for the marginal curve (p <= p_max <= candidates); None: no curve.
    """

    backend: str = "cpsat"
    workers: int = 8
    capacitated: bool = False
    p_max: int | None = None

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise InvalidInput("backend", self.backend, f"must be one of {BACKENDS}")
        if isinstance(self.workers, bool) or not isinstance(self.workers, (int, np.integer)) \
                or not 1 <= self.workers <= 64:
            raise InvalidInput("workers", self.workers, "must be an integer in 1..64")
        if self.p_max is not None and (isinstance(self.p_max, bool) or not isinstance(self.p_max, (int, np.integer))
                                       or self.p_max < 1):
            raise InvalidInput("p_max", self.p_max, "must be an integer >= 1")


@dataclass(frozen=True, slots=True)
class MarginalPoint:
    """One point of the marginal curve: the optimum with ``p`` stations.

    ``objective`` in the problem's unit (None without a point), ``bound`` the proven bound,
    ``status`` a shared status word, ``chosen`` the stations, ``runtime_s`` wall seconds.
    """

    p: int
    objective: float | None
    bound: float | None
    status: str
    chosen: tuple = ()
    runtime_s: float = 0.0


@dataclass(frozen=True, eq=False)
class SitingSolution:
    """Outcome of ``solve_siting``.

    Attributes
    ----------
    model : str
        ``mclp``, ``pmedian``, ``frlm`` or ``cfrlm`` (capacitated).
    chosen : tuple
        Candidate ids opened (empty without a point).
    covered : tuple[float, ...]
        Per demand point (MCLP) or path (FRLM): 1.0 covered / refuelled, 0.0 not; the refuelled
        share in the capacitated FRLM; empty for p-median and without a point.
    assignment : tuple[int, ...]
        p-median: index into ``candidates`` serving each point (-1: zero demand); else empty.
    flow_share : Mapping[tuple[int, int], float]
        Capacitated FRLM: share ``g_qk`` of path q's flow refuelled at candidate k.
    marginal : tuple[MarginalPoint, ...]
        p = 1..p_max when ``SitingParams.p_max`` was given, else empty.
    backend : str
    unserved : tuple[Unserved, ...]
        Demand points / paths left out, with the reasons of the module docstring.
    stats : SolveStats
        Status, objective, bound and gap of the answer for ``p``; ``runtime_s`` covers the curve.
    """

    model: str
    chosen: tuple
    covered: tuple
    assignment: tuple
    flow_share: Mapping
    marginal: tuple
    backend: str
    unserved: tuple
    stats: SolveStats

    @property
    def objective(self) -> float | None:
        return self.stats.objective

    @property
    def status(self) -> str:
        return self.stats.status

    @property
    def has_solution(self) -> bool:
        return self.stats.has_plan


def model_kind(problem: SitingProblem, capacitated: bool = False) -> str:
    """``mclp``, ``pmedian``, ``frlm`` or ``cfrlm`` for ``problem``; ``InvalidInput`` for another type."""
    if isinstance(problem, CoverageProblem):
        return "mclp"
    if isinstance(problem, PMedianProblem):
        return "pmedian"
    if isinstance(problem, FlowProblem):
        return "cfrlm" if capacitated else "frlm"
    raise InvalidInput("problem", type(problem).__name__, "must be a CoverageProblem, PMedianProblem or FlowProblem")


# --------------------------------------------------------------------------------------------------
# solve


def _solve_once(problem: SitingProblem, kind: str, prm: SitingParams, limit_s: float, seed: int) -> Any:
    if kind == "mclp":
        return _models.solve_mclp(problem, prm.backend, time_limit_s=limit_s, workers=prm.workers, seed=seed)
    if kind == "pmedian":
        return _models.solve_pmedian(problem, prm.backend, time_limit_s=limit_s, workers=prm.workers, seed=seed)
    return _models.solve_frlm(problem, prm.backend, capacitated=kind == "cfrlm", time_limit_s=limit_s,
                              workers=prm.workers, seed=seed)


def _unserved(problem: SitingProblem, kind: str, raw: Any) -> tuple[Unserved, ...]:
    unit = f" {problem.unit}" if problem.unit else ""
    out: list[Unserved] = []
    if kind in ("mclp", "pmedian"):
        a = problem.demand
        if not raw.has_solution:
            return tuple(Unserved(problem.demand_ids[i], raw.status, f"{a[i]:g}{unit}: the solve returned no stations")
                         for i in range(a.size) if a[i] > 0)
        if kind == "pmedian":
            return ()
        cov = problem.coverage_matrix()
        chosen = [problem.candidates.index(c) for c in raw.chosen]
        for i in range(a.size):
            if a[i] <= 0 or raw.covered[i] > 0.5:
                continue
            where = ""
            if problem.distance is not None and chosen:
                j = min(chosen, key=lambda k: problem.distance[i, k])
                thr = f" (threshold {problem.threshold:g})" if problem.threshold is not None else ""
                where = f"; nearest chosen station {problem.candidates[j]} at {problem.distance[i, j]:.1f}{thr}"
            if not cov[i].any():
                out.append(Unserved(problem.demand_ids[i], "out_of_reach",
                                    f"{a[i]:g}{unit}: no candidate site covers this point{where}"))
            else:
                out.append(Unserved(problem.demand_ids[i], "not_covered",
                                    f"{a[i]:g}{unit}: no chosen station covers this point{where}"))
        return tuple(out)
    for q, pth in enumerate(problem.paths):
        if pth.flow <= 0:
            continue
        if not raw.has_solution:
            out.append(Unserved(pth.id, raw.status, f"{pth.flow:g}{unit}: the solve returned no stations"))
            continue
        share = raw.covered[q]
        if share >= 1.0 - 1e-9:
            continue
        if any(not s for s in _models.refuel_sets(pth, problem.range_km, problem.candidates)):
            out.append(Unserved(pth.id, "out_of_range",
                                f"{pth.flow:g}{unit}, {pth.length_km:.1f} km: no set of candidates can refuel "
                                f"this round trip with a range of {problem.range_km:.1f} km"))
        elif share > 1e-9:
            out.append(Unserved(pth.id, "capacity", f"{pth.flow:g}{unit}: only {100 * share:.1f}% refuelled "
                                                    "within the station capacities"))
        else:
            out.append(Unserved(pth.id, "not_refuelled",
                                f"{pth.flow:g}{unit}, {pth.length_km:.1f} km: the chosen stations cannot refuel "
                                "this round trip"))
    return tuple(out)


MAIN_SHARE = 0.5
"""Share of the time limit the solve for the requested ``p`` gets when a marginal curve follows
(it is the answer; the curve points share the rest)."""


def solve_siting(problem: SitingProblem, stop: StoppingCriterion, seed: int = 0,
                 params: SitingParams | None = None) -> SitingSolution:
    """Open ``problem.p`` stations optimally (MCLP, p-median or FRLM by the problem's type).

    The answer for ``p`` is solved first; with ``params.p_max`` the marginal curve p = 1..p_max
    follows (the point for ``p`` reused). The solve for ``p`` (the answer) gets ``MAIN_SHARE`` of the
    time left of ``stop.max_runtime_s`` (construction included) when a curve follows, every curve
    point an equal share of what is left then; points the time does not allow end as
    ``no_solution_in_time`` (those left when the time is up are not built at all). ``stop.max_iterations`` / ``max_no_improvement`` do not apply to
    exact models. The same seed gives the same answer.

    Raises ``InvalidInput`` for a bad problem type, params (unknown back end, ``p_max`` outside
    [p, candidates], a capacitated FRLM without capacities or on CP-SAT) or seed.
    """
    deadline = stop.deadline()
    prm = params or SitingParams()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInput("seed", seed, "must be an integer >= 0")
    if prm.capacitated and not isinstance(problem, FlowProblem):
        raise InvalidInput("capacitated", True, "only the FRLM (FlowProblem) has a capacitated variant")
    kind = model_kind(problem, prm.capacitated)
    m = len(problem.candidates)
    ks: list[int] = []
    if prm.p_max is not None:
        if not problem.p <= prm.p_max <= m:
            raise InvalidInput("p_max", prm.p_max, f"must be an integer in [p, {m}] = [{problem.p}, {m}]")
        ks = [k for k in range(1, prm.p_max + 1) if k != problem.p]

    def limit(solves_left: int) -> float:
        if stop.max_runtime_s is None:
            return DEFAULT_TIME_LIMIT_S
        return stop.time_left_s(deadline, 0.01) / max(1, solves_left)

    main_limit = limit(1) * MAIN_SHARE if ks else limit(1)
    main = _solve_once(problem, kind, prm, main_limit, int(seed))
    points = {problem.p: MarginalPoint(problem.p, main.objective, main.bound, main.status, tuple(main.chosen),
                                       main.runtime_s)}
    for n_done, k in enumerate(ks):
        if stop.max_runtime_s is not None and stop.time_left_s(deadline, 0.0) <= 0.0:
            # out of time: the remaining points are not built at all (each model build and solver
            # start costs tens of ms, which would overrun the limit by the length of the curve)
            points[k] = MarginalPoint(k, None, None, NO_SOLUTION_IN_TIME, (), 0.0)
            continue
        r = _solve_once(dataclasses.replace(problem, p=k), kind, prm, limit(len(ks) - n_done), int(seed))
        points[k] = MarginalPoint(k, r.objective, r.bound, r.status, tuple(r.chosen), r.runtime_s)
    marginal = tuple(pt for _, pt in sorted(points.items())) if prm.p_max is not None else ()
    runtime = deadline.elapsed_s()
    solved = main.status in (OPTIMAL, INFEASIBLE)
    stats = SolveStats(status=main.status, objective=main.objective, bound=main.bound,
                       gap=relative_gap(main.objective, main.bound), runtime_s=runtime, iterations=0,
                       stopped_by="solved" if solved else "max_runtime_s", seed=int(seed))
    has = main.status in (OPTIMAL, FEASIBLE)
    return SitingSolution(
        model=kind, chosen=tuple(main.chosen) if has else (), covered=tuple(main.covered) if has else (),
        assignment=tuple(main.assignment) if has else (), flow_share=dict(main.flow_share) if has else {},
        marginal=marginal, backend=prm.backend, unserved=_unserved(problem, kind, main), stats=stats)


# --------------------------------------------------------------------------------------------------
# Lhasa builders


def _check_threshold(threshold_min: float) -> float:
    thr = check_finite("threshold_min", threshold_min)
    if thr <= 0:
        raise InvalidInput("threshold_min", thr, "must be > 0")
    return thr


def _check_network_candidates(network: Network, candidates: Sequence[str]) -> tuple[str, ...]:
    cands = tuple(candidates)
    for i, c in enumerate(cands):
        if not network.has_site(c):
            raise InvalidInput(f"candidates[{i}]", c, "is not a site of the network")
    return cands


def oxygen_siting_problem(network: Network, site_ids: Sequence[str], litres_day: Sequence[float], p: int,
                          candidates: Sequence[str], existing: frozenset | Sequence[str] = frozenset(),
                          threshold_min: float = 30.0) -> CoverageProblem:
    """MCLP for oxygen stations: demand ``litres_day[i]`` (L/day, finite, >= 0) at ``site_ids[i]``
    is covered by a station within ``threshold_min`` road minutes (``network.travel_min``,
    site -> station). ``site_ids``/``litres_day``: e.g. the columns of
    ``optimizer.stations.demand.oxygen_demand``.

    Raises ``InvalidInput`` naming ``threshold_min``, ``candidates[i]``, ``demand`` (no sites),
    ``demand[i].site_id``, ``demand[i].litres_day`` or ``p``.
    """
    cands = _check_network_candidates(network, candidates)
    thr = _check_threshold(threshold_min)
    ids = [str(s) for s in site_ids]
    w = np.asarray(litres_day, dtype=np.float64)
    if len(ids) != w.size:
        raise InvalidInput("demand", len(ids), f"{len(ids)} site ids but {w.size} litres_day values")
    for i, (sid, v) in enumerate(zip(ids, w)):
        if not network.has_site(sid):
            raise InvalidInput(f"demand[{i}].site_id", sid, "is not a site of the network")
        if not math.isfinite(v) or v < 0:
            raise InvalidInput(f"demand[{i}].litres_day", float(v), "must be finite and >= 0")
    if not ids:
        raise InvalidInput("demand", 0, "no demand sites (the plan visits no site)")
    rows = [network.index(s) for s in ids]
    cols = [network.index(c) for c in cands]
    dist = network.travel_min[np.ix_(rows, cols)]
    return CoverageProblem(demand=w, candidates=cands, p=p, distance=dist, threshold=thr, demand_ids=tuple(ids),
                           existing=frozenset(existing), station_kind="oxygen", unit="L/day")


def charger_siting_problem(network: Network, flows: Sequence[FlowPath], p: int, candidates: Sequence[str],
                           existing: frozenset | Sequence[str] = frozenset(), range_km: float = 300.0,
                           temperature_c: float = -5.0, elevation_m: float = LHASA_ELEVATION_M) -> FlowProblem:
    """FRLM for EV chargers: ``flows`` (EV round trips/day on road paths, e.g. from
    ``optimizer.stations.demand.ev_flows``), the nominal ``range_km`` derated for
    ``temperature_c`` (degC) and ``elevation_m`` (m) by ``derated_range_km`` (cabin heating on,
    no aerodynamic credit).

    Raises ``InvalidInput`` naming ``range_km``, ``temperature_c``, ``elevation_m``,
    ``candidates[i]`` or ``p``.
    """
    rng = check_finite("range_km", range_km)
    if rng <= 0:
        raise InvalidInput("range_km", rng, "must be > 0")
    temp = check_finite("temperature_c", temperature_c)
    cands = _check_network_candidates(network, candidates)
    eff = derated_range_km(rng, elevation_m, temp)
    return FlowProblem(paths=tuple(flows), candidates=cands, range_km=eff, p=p,
                       nodes=tuple(s.id for s in network.sites), existing=frozenset(existing),
                       station_kind="charger", unit="EV round trips/day", nominal_range_km=rng,
                       temperature_c=temp, elevation_m=float(elevation_m))


"""Station siting: maximal covering (MCLP), p-median and the flow refuelling location model (FRLM).

Three exact models, each with an OR-Tools back end (``'cpsat'``: CP-SAT; ``'mathopt'``: MathOpt
with SCIP) and a PuLP back end (``'pulp'``: CBC via ``PULP_CBC_CMD``). Every solve re-checks the
returned point with :func:`check_siting`, which recomputes coverage / refuelability from the
data by a different method than the model builder, before the result is labelled ``'optimal'``
or ``'feasible'``. A time limit without an incumbent is ``'time_limit_no_incumbent'``.

Public surface
--------------
* data: :class:`CoverageProblem`, :class:`FlowPath`, :class:`FlowProblem` (frozen, validated on
  construction; bad values raise ``InvalidInput(field, value, message)``);
* solvers: :func:`solve_mclp`, :func:`solve_pmedian`, :func:`solve_frlm` -> :class:`SitingResult`;
* :func:`check_siting` (list of violations, empty when the point is feasible and the objective
  is right), :func:`refuel_sets` (the ``K_a^q`` sets), :func:`derated_range_km`.

Integer scaling for CP-SAT
--------------------------
CP-SAT needs integer objective coefficients. Every objective coefficient ``c`` is replaced by
``round(c * S)`` with ``S = OBJ_UNITS / M``, ``OBJ_UNITS = 10**12`` and ``M`` the model's objective
magnitude (total demand for MCLP, total flow for FRLM, ``sum_i a_i max_j d_ij`` for p-median), so
any objective value is an integer <= ~10**12. The rounding changes any solution's objective by at
most ``E = sum_k |c_k - round(c_k S)/S| * ub_k``; the float bound reported is CP-SAT's bound / S
widened by E, and ``'optimal'`` is only claimed when the float objective is within
``OPT_TOL = 1e-6`` (relative, of max(|objective|, M / 100)) of that widened bound; otherwise the
result is ``'feasible'`` with the bound. All constraint coefficients are 0/1 (CP-SAT is not
offered for the capacitated FRLM, whose flow shares are continuous).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from optimizer.core.physics import derated_range_km  # noqa: F401
from optimizer.domain import InvalidInput, check_finite, check_time_limit_s

__all__ = [
    "BACKENDS",
    "OBJ_UNITS",
    "OPT_TOL",
    "CoverageProblem",
    "FlowPath",
    "FlowProblem",
    "SitingResult",
    "check_siting",
    "derated_range_km",
    "refuel_sets",
    "round_trip",
    "solve_frlm",
    "solve_mclp",
    "solve_pmedian",
]

OBJ_UNITS = 10**12
"""Integer objective units used by CP-SAT for the whole objective magnitude (see module docstring)."""

OPT_TOL = 1e-6
"""Relative optimality / agreement tolerance on objectives."""

BACKENDS = ("cpsat", "mathopt", "pulp")

_FEAS_TOL = 1e-6


# --------------------------------------------------------------------------------------------------
# data


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


@dataclass(frozen=True, eq=False)
class CoverageProblem:
    """Demand points, candidate sites and either a coverage matrix or distances + a threshold.

    Attributes
    ----------
    demand : float64[n]
        Demand weight ``a_i`` of each demand point, finite, >= 0.
    candidates : tuple
        Candidate site ids (unique), length m.
    p : int
        Number of sites to open, 1 <= p <= m.
    coverage : bool[n, m] | None
        ``coverage[i, j]``: site j covers point i. Derived from ``distance <= threshold`` if None.
    distance : float64[n, m] | None
        Road travel time (or distance) from point i to site j, >= 0; ``inf`` = unreachable.
        Required by p-median.
    threshold : float | None
        Service standard ``S`` (same unit as ``distance``), > 0; required with ``distance`` when
        ``coverage`` is None.
    """

    demand: np.ndarray
    candidates: tuple
    p: int
    coverage: np.ndarray | None = None
    distance: np.ndarray | None = None
    threshold: float | None = None

    def __post_init__(self) -> None:
        try:
            d = np.asarray(self.demand, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidInput("demand", self.demand, "not an array of numbers") from None
        if d.ndim != 1 or d.size == 0:
            raise InvalidInput("demand", self.demand, "must be a non-empty 1-d array")
        for i, v in enumerate(d):
            if not math.isfinite(v):
                raise InvalidInput(f"demand[{i}]", float(v), "must be finite")
            if v < 0:
                raise InvalidInput(f"demand[{i}]", float(v), "must be >= 0")
        cands = _check_candidates(self.candidates)
        n, m = d.size, len(cands)
        object.__setattr__(self, "demand", _frozen_array(d))
        object.__setattr__(self, "candidates", cands)
        object.__setattr__(self, "p", _check_p(self.p, m))
        if self.distance is not None:
            dist = np.asarray(self.distance, dtype=np.float64)
            if dist.shape != (n, m):
                raise InvalidInput("distance", dist.shape, f"shape must be (n, m) = ({n}, {m})")
            bad = np.argwhere(np.isnan(dist) | (dist < 0) | (dist == -np.inf))
            if bad.size:
                i, j = bad[0]
                raise InvalidInput(f"distance[{i},{j}]", float(dist[i, j]), "must be >= 0 or inf")
            object.__setattr__(self, "distance", _frozen_array(dist))
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
        elif self.distance is None:
            raise InvalidInput("coverage", None, "give a coverage matrix or a distance matrix (+ threshold)")

    def coverage_matrix(self) -> np.ndarray:
        """``bool[n, m]``: the given coverage matrix, else ``distance <= threshold``."""
        if self.coverage is not None:
            return self.coverage
        if self.distance is None or self.threshold is None:
            raise InvalidInput("threshold", self.threshold, "MCLP needs a coverage matrix or distance + threshold")
        return self.distance <= self.threshold


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
        Round trips per period, finite, >= 0.
    """

    nodes: tuple
    arc_km: tuple[float, ...]
    flow: float

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
        Vehicle range on a full tank/charge, > 0, same unit as ``arc_km`` (derate it first with
        :func:`derated_range_km` where altitude/cold apply).
    p : int
        Number of stations, 1 <= p <= len(candidates).
    capacities : tuple[float, ...] | None
        Capacitated variant only: refuels per period a station at ``candidates[k]`` can serve, >= 0.
    nodes : tuple | None
        All node ids of the network; candidates must be among them. None: the nodes on the paths.
    """

    paths: tuple
    candidates: tuple
    range_km: float
    p: int
    capacities: tuple | None = None
    nodes: tuple | None = None

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
            on_paths = {v for pth in paths for v in pth.nodes}
            missing = on_paths - set(nodes)
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
        object.__setattr__(self, "paths", paths)
        object.__setattr__(self, "candidates", cands)
        object.__setattr__(self, "range_km", r)
        object.__setattr__(self, "p", _check_p(self.p, len(cands)))
        object.__setattr__(self, "capacities", caps)
        object.__setattr__(self, "nodes", nodes)

    @property
    def total_flow(self) -> float:
        return float(sum(pth.flow for pth in self.paths))


@dataclass(frozen=True)
class SitingResult:
    """Outcome of one siting solve.

    Attributes
    ----------
    status : str
        ``'optimal'`` (proved, and re-checked by :func:`check_siting`), ``'feasible'`` (re-checked
        incumbent, not proved optimal), ``'time_limit_no_incumbent'``, ``'infeasible'``.
    objective : float | None
        Covered demand (MCLP), demand-weighted distance (p-median) or refuelled flow (FRLM),
        recomputed from the data; None without a solution.
    chosen : tuple
        Candidate ids opened.
    covered : tuple[float, ...]
        Per demand point (MCLP) or path (FRLM): 1.0 covered / refuelled, 0.0 not; the refuelled
        share in the capacitated FRLM; empty for p-median.
    bound : float | None
        Best proven bound on the optimum (upper for max, lower for min), float units.
    backend : str
    wall_s : float
    assignment : tuple[int, ...]
        p-median: index into ``problem.candidates`` serving each demand point (-1: zero demand and
        unassigned); empty otherwise.
    flow_share : dict
        Capacitated FRLM: ``{(q, k): g_qk}`` share of path q's flow refuelled at candidate k.
    """

    status: str
    objective: float | None
    chosen: tuple
    covered: tuple
    bound: float | None
    backend: str
    wall_s: float
    assignment: tuple = ()
    flow_share: dict = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


# --------------------------------------------------------------------------------------------------
# range derating (MODELS.md section 3.2)

# --------------------------------------------------------------------------------------------------
# FRLM geometry


def round_trip(path: FlowPath) -> tuple[list, list[float]]:
    """The round trip O -> D -> O as a cycle: ``(tails, lengths)`` where directed arc ``t`` runs
    from ``tails[t]`` to ``tails[(t + 1) % L]`` with length ``lengths[t]``, ``L = 2 (len(nodes) - 1)``."""
    nodes, arcs = list(path.nodes), list(path.arc_km)
    tails = nodes[:-1] + nodes[::-1][:-1]
    lengths = arcs + arcs[::-1]
    return tails, lengths


def refuel_sets(path: FlowPath, range_km: float, candidates: Sequence[Hashable]) -> list[frozenset]:
    """``K_a^q`` for every directed arc ``a`` of the round trip (order of :func:`round_trip`).

    ``K_a^q`` = candidates k on the path from which the vehicle, leaving k full, reaches the head
    of arc a driving in trip direction within ``range_km`` (Capar et al. 2013). The round trip is
    treated as a cycle (the vehicle repeats it), so the walk back from arc a may wrap past the
    origin; this is exactly Kuby & Lim's convention that a vehicle leaves an origin without a
    station with half a tank and must return with half (a station within R/2 of each end that
    has none). An empty set means the path cannot be refuelled at any p.
    """
    cset = set(candidates)
    tails, lengths = round_trip(path)
    L = len(lengths)
    out = []
    for a in range(L):
        k_set = set()
        dist = 0.0
        for step in range(L):
            t = (a - step) % L
            dist += lengths[t]
            if dist > range_km + 1e-9:
                break
            if tails[t] in cset:
                k_set.add(tails[t])
        out.append(frozenset(k_set))
    return out


def _minimal_sets(sets: list[frozenset]) -> list[frozenset]:
    """Drop duplicates and supersets (implied constraints)."""
    uniq = sorted(set(sets), key=len)
    keep: list[frozenset] = []
    for s in uniq:
        if not any(k <= s for k in keep):
            keep.append(s)
    return keep


# --------------------------------------------------------------------------------------------------
# generic 0-1 / mixed model and back ends


class _Model:
    """A small linear model: variables with bounds and type, rows ``lo <= sum c x <= hi``."""

    def __init__(self, sense: str, magnitude: float) -> None:
        self.sense = sense
        self.magnitude = max(float(magnitude), 1e-300)
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.integer: list[bool] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []
        self.obj: dict[int, float] = {}

    def var(self, lb: float, ub: float, integer: bool, cost: float = 0.0) -> int:
        self.lb.append(lb)
        self.ub.append(ub)
        self.integer.append(integer)
        k = len(self.lb) - 1
        if cost:
            self.obj[k] = cost
        return k

    def row(self, coefs: dict[int, float], lo: float = -math.inf, hi: float = math.inf) -> None:
        self.rows.append((coefs, lo, hi))


@dataclass
class _Raw:
    status: str  # optimal | feasible | time_limit_no_incumbent | infeasible
    values: list[float] | None
    bound: float | None


def _solve_cpsat(model: _Model, time_limit_s: float, workers: int) -> _Raw:
    from ortools.sat.python import cp_model

    if not all(model.integer):
        raise InvalidInput("backend", "cpsat", "this model has continuous variables; use 'mathopt' or 'pulp'")
    m = cp_model.CpModel()
    xs = [m.new_int_var(math.ceil(lo - 1e-9), math.floor(hi + 1e-9), f"v{k}")
          for k, (lo, hi) in enumerate(zip(model.lb, model.ub, strict=True))]
    for coefs, lo, hi in model.rows:
        ic = {}
        for k, c in coefs.items():
            if abs(c - round(c)) > 1e-12:
                raise InvalidInput("backend", "cpsat", "non-integer constraint coefficient; use 'mathopt' or 'pulp'")
            ic[k] = round(c)
        expr = cp_model.LinearExpr.weighted_sum([xs[k] for k in ic], list(ic.values()))
        if lo == hi:
            m.add(expr == round(lo))
        else:
            if lo > -math.inf:
                m.add(expr >= math.ceil(lo - 1e-9))
            if hi < math.inf:
                m.add(expr <= math.floor(hi + 1e-9))
    scale = OBJ_UNITS / model.magnitude
    icost = {k: round(c * scale) for k, c in model.obj.items()}
    err = sum(abs(c - icost[k] / scale) * max(abs(model.lb[k]), abs(model.ub[k])) for k, c in model.obj.items())
    nz = [k for k, c in icost.items() if c]
    expr = cp_model.LinearExpr.weighted_sum([xs[k] for k in nz], [icost[k] for k in nz])
    if model.sense == "max":
        m.maximize(expr)
    else:
        m.minimize(expr)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(workers)
    st = solver.solve(m)
    if st == cp_model.INFEASIBLE:
        return _Raw("infeasible", None, None)
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if st == cp_model.MODEL_INVALID:
            raise RuntimeError(f"CP-SAT rejected the model: {m.validate()}")
        return _Raw("time_limit_no_incumbent", None, None)
    vals = [float(solver.value(x)) for x in xs]
    sb = solver.best_objective_bound / scale
    bound = sb + err if model.sense == "max" else sb - err
    return _Raw("optimal" if st == cp_model.OPTIMAL else "feasible", vals, bound)


def _solve_mathopt(model: _Model, time_limit_s: float, workers: int) -> _Raw:
    from ortools.math_opt.python import mathopt

    m = mathopt.Model(name="siting")
    xs = [m.add_variable(lb=lo, ub=hi, is_integer=it, name=f"v{k}")
          for k, (lo, hi, it) in enumerate(zip(model.lb, model.ub, model.integer, strict=True))]
    for coefs, lo, hi in model.rows:
        expr = mathopt.fast_sum(c * xs[k] for k, c in coefs.items())
        m.add_linear_constraint(lb=lo, ub=hi, expr=expr)
    obj = mathopt.fast_sum(c * xs[k] for k, c in model.obj.items())
    if model.sense == "max":
        m.maximize(obj)
    else:
        m.minimize(obj)
    params = mathopt.SolveParameters(time_limit=timedelta(seconds=float(time_limit_s)), threads=int(workers),
                                     relative_gap_tolerance=OPT_TOL / 10, absolute_gap_tolerance=0.0)
    res = mathopt.solve(m, mathopt.SolverType.GSCIP, params=params)
    reason = res.termination.reason
    TR = mathopt.TerminationReason
    if reason in (TR.INFEASIBLE,):
        return _Raw("infeasible", None, None)
    if not res.has_primal_feasible_solution():
        return _Raw("time_limit_no_incumbent", None, None)
    vals = [float(res.variable_values(x)) for x in xs]
    bound = float(res.termination.objective_bounds.dual_bound)
    if not math.isfinite(bound):
        bound = None
    return _Raw("optimal" if reason == TR.OPTIMAL else "feasible", vals, bound)


def _solve_pulp(model: _Model, time_limit_s: float, workers: int) -> _Raw:
    import pulp

    prob = pulp.LpProblem("siting", pulp.LpMaximize if model.sense == "max" else pulp.LpMinimize)
    add = getattr(prob, "add_variable", None)  # PuLP >= 3 builder; plain LpVariable before

    def new_var(name, lo, hi, cat):
        return add(name, lo, hi, cat=cat) if add else pulp.LpVariable(name, lo, hi, cat=cat)

    xs = []
    for k, (lo, hi, it) in enumerate(zip(model.lb, model.ub, model.integer, strict=True)):
        if it and lo == 0 and hi == 1:
            xs.append(new_var(f"v{k}", 0, 1, pulp.LpBinary))
        else:
            xs.append(new_var(f"v{k}", lo, None if hi == math.inf else hi,
                              pulp.LpInteger if it else pulp.LpContinuous))
    prob += pulp.lpSum(c * xs[k] for k, c in model.obj.items())
    for r, (coefs, lo, hi) in enumerate(model.rows):
        expr = pulp.lpSum(c * xs[k] for k, c in coefs.items())
        if lo == hi:
            prob += (expr == lo), f"r{r}"
        else:
            if lo > -math.inf:
                prob += (expr >= lo), f"r{r}l"
            if hi < math.inf:
                prob += (expr <= hi), f"r{r}u"
    with warnings.catch_warnings():
        # PuLP 3 flags PULP_CBC_CMD (the bundled CBC) for removal in 4.0; it is the CBC we ship with.
        warnings.filterwarnings("ignore", message=".*PULP_CBC_CMD.*", category=DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=float(time_limit_s), threads=int(workers), gapRel=0.0)
    prob.solve(solver)
    if prob.status == pulp.LpStatusInfeasible:
        return _Raw("infeasible", None, None)
    sol = getattr(prob, "sol_status", None)
    if sol == pulp.LpSolutionOptimal and prob.status == pulp.LpStatusOptimal:
        vals = [float(x.value() or 0.0) for x in xs]
        return _Raw("optimal", vals, float(pulp.value(prob.objective) or 0.0))
    if sol == pulp.LpSolutionIntegerFeasible:
        return _Raw("feasible", [float(x.value() or 0.0) for x in xs], None)
    if sol == pulp.LpSolutionInfeasible:
        return _Raw("infeasible", None, None)
    return _Raw("time_limit_no_incumbent", None, None)


def _dispatch(model: _Model, backend: str, time_limit_s: float, workers: int) -> _Raw:
    if backend not in BACKENDS:
        raise InvalidInput("backend", backend, f"must be one of {BACKENDS}")
    t = check_time_limit_s(time_limit_s)
    if not model.lb:
        return _Raw("optimal", [], 0.0)
    return {"cpsat": _solve_cpsat, "mathopt": _solve_mathopt, "pulp": _solve_pulp}[backend](model, t, workers)


def _finish(problem, raw: _Raw, backend: str, t0: float, sense: str, build, kind: str) -> SitingResult:
    """Turn a raw solve into a checked result. ``build(values) -> (chosen, covered, assignment,
    flow_share, objective)``."""
    wall = time.perf_counter() - t0
    if raw.values is None:
        return SitingResult(raw.status, None, (), (), raw.bound, backend, wall)
    chosen, covered, assignment, share, obj = build(raw.values)
    status = raw.status
    bound = raw.bound
    if bound is not None:
        tol = _opt_tol(obj, _magnitude(problem, kind))
        if status == "optimal" and abs(bound - obj) > tol:
            status = "feasible"  # proven for the scaled model only
        if sense == "max":  # FRLM / MCLP objectives cannot exceed total flow / demand
            bound = max(min(bound, _magnitude(problem, kind)), obj)
        else:
            bound = min(bound, obj)
    elif status == "optimal":
        bound = obj
    res = SitingResult(status, obj, chosen, covered, bound, backend, time.perf_counter() - t0,
                       assignment, share)
    problems = check_siting(problem, res, kind)
    if problems:
        raise RuntimeError(f"{backend} returned a point that fails the re-check: {problems[:5]}")
    return res


def _magnitude(problem, kind: str) -> float:
    """Objective magnitude M: total flow (FRLM), total demand (MCLP), sum_i a_i max_j d_ij (p-median)."""
    if isinstance(problem, FlowProblem):
        return max(problem.total_flow, 1e-300)
    if kind == "pmedian":
        d = problem.distance
        return max(float(sum(problem.demand[i] * np.max(d[i][np.isfinite(d[i])], initial=0.0)
                             for i in range(d.shape[0]))), 1e-300)
    return max(float(problem.demand.sum()), 1e-300)


def _opt_tol(obj: float, magnitude: float) -> float:
    """Absolute optimality / agreement tolerance: OPT_TOL * max(|obj|, 1 % of the magnitude)."""
    return OPT_TOL * max(abs(obj), 1e-2 * magnitude)


# --------------------------------------------------------------------------------------------------
# MCLP


def solve_mclp(problem: CoverageProblem, backend: str = "cpsat", time_limit_s: float = 60.0,
               workers: int = 8) -> SitingResult:
    """Maximal covering location (Church & ReVelle 1974; MODELS.md section 2.1).

    ::

        max  sum_i a_i X_i
        s.t. sum_{j in N_i} Y_j >= X_i      for every demand point i
             sum_j Y_j = p
             X_i, Y_j in {0, 1}

    ``N_i = {j : coverage[i, j]}`` (from ``distance[i, j] <= threshold`` when no coverage matrix is
    given, e.g. road minutes <= T). Points with ``a_i = 0`` or empty ``N_i`` get no variable.
    """
    t0 = time.perf_counter()
    cov = problem.coverage_matrix()
    n, m = cov.shape
    a = problem.demand
    model = _Model("max", max(float(a.sum()), 1e-300))
    y = [model.var(0, 1, True) for _ in range(m)]
    model.row({k: 1.0 for k in y}, problem.p, problem.p)
    xvar: dict[int, int] = {}
    for i in range(n):
        js = np.flatnonzero(cov[i])
        if a[i] <= 0 or js.size == 0:
            continue
        xvar[i] = model.var(0, 1, True, float(a[i]))
        coefs = {y[j]: 1.0 for j in js}
        coefs[xvar[i]] = -1.0
        model.row(coefs, 0.0)
    raw = _dispatch(model, backend, time_limit_s, workers)

    def build(v):
        chosen = tuple(problem.candidates[j] for j in range(m) if v[y[j]] > 0.5)
        covered = tuple(1.0 if (i in xvar and v[xvar[i]] > 0.5) else 0.0 for i in range(n))
        obj = float(sum(a[i] for i in range(n) if covered[i] > 0.5))
        return chosen, covered, (), {}, obj

    return _finish(problem, raw, backend, t0, "max", build, "mclp")


# --------------------------------------------------------------------------------------------------
# p-median


def solve_pmedian(problem: CoverageProblem, backend: str = "cpsat", time_limit_s: float = 60.0,
                  workers: int = 8) -> SitingResult:
    """p-median (Hakimi 1964; ReVelle & Swain 1970; MODELS.md section 2.2).

    ::

        min  sum_i sum_j a_i d_ij x_ij
        s.t. sum_j x_ij = 1        for every demand point i with a_i > 0
             x_ij <= y_j
             sum_j y_j = p
             y_j in {0, 1}, x_ij in {0, 1}

    ``x_ij`` exists only for finite ``d_ij`` (``inf`` = unreachable). Points with zero demand are
    not assigned. Integral ``x`` loses nothing (given y, assignment to the nearest open site is
    optimal) and keeps CP-SAT applicable. Returns ``'infeasible'`` when no p sites can reach every
    point with demand.
    """
    if problem.distance is None:
        raise InvalidInput("distance", None, "p-median needs a distance matrix")
    t0 = time.perf_counter()
    d = problem.distance
    n, m = d.shape
    a = problem.demand
    model = _Model("min", _magnitude(problem, "pmedian"))
    y = [model.var(0, 1, True) for _ in range(m)]
    model.row({k: 1.0 for k in y}, problem.p, problem.p)
    xv: dict[tuple[int, int], int] = {}
    for i in range(n):
        if a[i] <= 0:
            continue
        js = np.flatnonzero(np.isfinite(d[i]))
        if js.size == 0:
            return SitingResult("infeasible", None, (), (), None, backend, time.perf_counter() - t0)
        row = {}
        for j in js:
            k = model.var(0, 1, True, float(a[i] * d[i, j]))
            xv[(i, int(j))] = k
            row[k] = 1.0
            model.row({k: 1.0, y[j]: -1.0}, hi=0.0)
        model.row(row, 1.0, 1.0)
    raw = _dispatch(model, backend, time_limit_s, workers)

    def build(v):
        chosen = tuple(problem.candidates[j] for j in range(m) if v[y[j]] > 0.5)
        assign = [-1] * n
        for (i, j), k in xv.items():
            if v[k] > 0.5:
                assign[i] = j
        obj = float(sum(a[i] * d[i, assign[i]] for i in range(n) if assign[i] >= 0))
        return chosen, (), tuple(assign), {}, obj

    return _finish(problem, raw, backend, t0, "min", build, "pmedian")


# --------------------------------------------------------------------------------------------------
# FRLM


def solve_frlm(problem: FlowProblem, backend: str = "cpsat", capacitated: bool = False,
               time_limit_s: float = 60.0, workers: int = 8) -> SitingResult:
    """Flow refuelling location model, arc-cover path-cover (AC-PC) form.

    Kuby & Lim (2005) FRLM in the AC-PC formulation of Capar & Kuby (2012) and Capar, Kuby, Leon
    & Tsai (2013), EJOR 227(1):142-151 (MODELS.md section 2.4)::

        max  sum_q f_q y_q
        s.t. sum_{k in K_a^q} x_k >= y_q     for every path q and every directed arc a of its round trip
             sum_k x_k = p
             x_k in {0, 1},  0 <= y_q <= 1   (y integral in every back end; integrality is free)

    Conventions (as in Kuby & Lim 2005 / Capar et al. 2013):

    * every O-D flow drives its path as a round trip O -> D -> O; arcs are directed in trip order,
      2 (|nodes| - 1) per path;
    * ``K_a^q`` (:func:`refuel_sets`): candidates k on path q such that a vehicle leaving k with a
      full tank reaches the head of arc a, driving along the round trip, within ``range_km``;
      the walk back from a wraps around the origin because trips repeat. This encodes "the
      vehicle leaves an origin without a station with half a tank" (it must find a station within
      R/2 of the origin, and symmetrically of the destination unless one is there);
    * a path with an arc longer than the range, or no candidate on it, is never refuelled;
      a path needs at least one station on it even when its round trip is shorter than R.

    Exact reductions (do not change the optimum): duplicate and superset ``K`` sets of one path
    are dropped (implied), paths with zero flow or an empty ``K`` get no variable, and paths with
    identical reduced constraint sets share one ``y`` whose cost is their summed flow.

    Capacitated variant (``capacitated=True``; Upchurch, Kuby & Lim 2009 as restated in MODELS.md
    section 2.5, with one station of capacity ``capacities[k]`` per opened candidate)::

        max  sum_q f_q y_q
        s.t. sum_{k in K_a^q} g_qk >= y_q        for every q, a
             g_qk <= y_q,  g_qk <= x_k
             sum_q e_qk f_q g_qk <= cap_k x_k     for every candidate k
             sum_k x_k = p;   x binary;  0 <= y_q, g_qk <= 1 continuous

    ``g_qk`` = share of flow q refuelled at k, ``e_qk`` = times the round trip passes k (2 for an
    interior node, 1 for O and D): every pass is conservatively counted as a refuel. Needs
    ``problem.capacities``; back ends ``'mathopt'`` (SCIP) and ``'pulp'`` (CBC) only.
    """
    t0 = time.perf_counter()
    if capacitated and problem.capacities is None:
        raise InvalidInput("capacities", None, "the capacitated FRLM needs one capacity per candidate")
    if capacitated and backend == "cpsat":
        raise InvalidInput("backend", backend, "capacitated FRLM has continuous flow shares; use 'mathopt' or 'pulp'")
    cands = problem.candidates
    cidx = {c: k for k, c in enumerate(cands)}
    model = _Model("max", max(problem.total_flow, 1e-300))
    x = [model.var(0, 1, True) for _ in cands]
    model.row({k: 1.0 for k in x}, problem.p, problem.p)

    # reduced constraint families per path
    fams: list[tuple[frozenset, ...] | None] = []
    for pth in problem.paths:
        if pth.flow <= 0:
            fams.append(None)
            continue
        sets = refuel_sets(pth, problem.range_km, cands)
        if any(not s for s in sets):
            fams.append(None)
            continue
        fams.append(tuple(sorted(_minimal_sets(sets), key=lambda s: sorted(map(cidx.get, s)))))

    yof: dict[int, int] = {}  # path -> y variable
    share: dict[tuple[int, int], int] = {}
    if not capacitated:
        groups: dict[tuple, list[int]] = {}
        for q, fam in enumerate(fams):
            if fam is not None:
                groups.setdefault(fam, []).append(q)
        for fam, qs in groups.items():
            yk = model.var(0, 1, True, float(sum(problem.paths[q].flow for q in qs)))
            for q in qs:
                yof[q] = yk
            for s in fam:
                coefs = {x[cidx[c]]: 1.0 for c in s}
                coefs[yk] = -1.0
                model.row(coefs, 0.0)
    else:
        caps = problem.capacities
        load: dict[int, dict[int, float]] = {}
        for q, fam in enumerate(fams):
            if fam is None:
                continue
            pth = problem.paths[q]
            yk = model.var(0, 1, False, pth.flow)
            yof[q] = yk
            on = sorted({c for s in fam for c in s}, key=cidx.get)
            passes = {c: (1 if c in (pth.nodes[0], pth.nodes[-1]) else 2) for c in on}
            for c in on:
                g = model.var(0, 1, False)
                share[(q, cidx[c])] = g
                model.row({g: 1.0, yk: -1.0}, hi=0.0)
                model.row({g: 1.0, x[cidx[c]]: -1.0}, hi=0.0)
                load.setdefault(cidx[c], {})[g] = passes[c] * pth.flow
            for s in fam:
                coefs = {share[(q, cidx[c])]: 1.0 for c in s}
                coefs[yk] = -1.0
                model.row(coefs, 0.0)
        for k, terms in load.items():
            coefs = dict(terms)
            coefs[x[k]] = -caps[k]
            model.row(coefs, hi=0.0)

    raw = _dispatch(model, backend, time_limit_s, workers)

    def build(v):
        chosen = tuple(c for k, c in enumerate(cands) if v[x[k]] > 0.5)
        if not capacitated:
            covered = tuple(1.0 if (q in yof and v[yof[q]] > 0.5) else 0.0 for q in range(len(problem.paths)))
            gs = {}
        else:
            covered = tuple(min(1.0, max(0.0, v[yof[q]])) if q in yof else 0.0 for q in range(len(problem.paths)))
            gs = {qk: min(1.0, max(0.0, v[g])) for qk, g in share.items() if v[g] > 1e-9}
        obj = float(sum(problem.paths[q].flow * covered[q] for q in range(len(problem.paths))))
        return chosen, covered, (), gs, obj

    return _finish(problem, raw, backend, t0, "max", build, "cfrlm" if capacitated else "frlm")


# --------------------------------------------------------------------------------------------------
# independent re-check


def _refuelable_by_simulation(path: FlowPath, stations: set, range_km: float) -> bool:
    """Drive O -> D -> O: start full at a station at O, else with half a tank; fill up at every
    station; fail if the tank runs dry; on return to O without a station, at least half a tank
    must be left (the trip repeats). At least one station must be on the path."""
    if not any(v in stations for v in path.nodes):
        return False
    tails, lengths = round_trip(path)
    fuel = range_km if tails[0] in stations else range_km / 2.0
    for t, ln in enumerate(lengths):
        if tails[t] in stations:
            fuel = range_km
        fuel -= ln
        if fuel < -1e-9:
            return False
    return tails[0] in stations or fuel >= range_km / 2.0 - 1e-9


def _k_sets_by_distance(path: FlowPath, range_km: float, stations: Sequence) -> list[set]:
    """K sets recomputed from cyclic distances (used to check the capacitated variant)."""
    tails, lengths = round_trip(path)
    L = len(lengths)
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    total = cum[-1]
    out = []
    for a in range(L):
        head_pos = cum[a + 1]
        s = set()
        for t in range(L):
            d = head_pos - cum[t] if t <= a else head_pos + total - cum[t]
            if d <= range_km + 1e-9 and tails[t] in stations:
                s.add(tails[t])
        out.append(s)
    return out


def check_siting(problem: CoverageProblem | FlowProblem, result: SitingResult,
                 kind: str | None = None) -> list[str]:
    """Violations of ``result`` against ``problem``, recomputed from the data (empty = all good).

    Checks: p distinct chosen candidates; every point/path marked covered really is (MCLP:
    a chosen site within the threshold or coverage matrix; FRLM: a drive simulation of the round
    trip with the half-tank rule; capacitated FRLM: shares, station capacities and arc coverage
    with ``K`` sets recomputed from cyclic distances; p-median: every demand point assigned to a
    chosen reachable site); the objective recomputed from the data; and the bound on the right
    side of the objective (tolerance ``OPT_TOL * max(|obj|, 1 % of the objective magnitude)``).
    ``kind`` ('mclp' | 'pmedian' | 'frlm' | 'cfrlm') is inferred when None.
    """
    out: list[str] = []
    if not result.has_solution:
        return out
    chosen = list(result.chosen)
    cands = problem.candidates
    if len(set(chosen)) != len(chosen):
        out.append(f"chosen has duplicates: {chosen}")
    bad = [c for c in chosen if c not in set(cands)]
    if bad:
        out.append(f"chosen sites not among candidates: {bad}")
    if len(chosen) != problem.p:
        out.append(f"{len(chosen)} sites chosen, p = {problem.p}")
    cset = set(chosen)
    if kind is None:
        if isinstance(problem, FlowProblem):
            kind = "cfrlm" if result.flow_share else "frlm"
        else:
            kind = "pmedian" if result.assignment else "mclp"
    obj = result.objective if result.objective is not None else math.nan
    sense = "min" if kind == "pmedian" else "max"

    if kind == "mclp":
        cov = problem.coverage_matrix()
        cidx = [cands.index(c) for c in chosen if c in set(cands)]
        if len(result.covered) != len(problem.demand):
            out.append("covered has the wrong length")
        else:
            for i, c in enumerate(result.covered):
                if c > 0.5 and not cov[i, cidx].any():
                    out.append(f"demand point {i} marked covered but no chosen site covers it")
        true_obj = float(sum(problem.demand[i] for i, c in enumerate(result.covered) if c > 0.5))
    elif kind == "pmedian":
        d = problem.distance
        assign = result.assignment
        true_obj = 0.0
        if len(assign) != len(problem.demand):
            out.append("assignment has the wrong length")
        else:
            for i, j in enumerate(assign):
                if problem.demand[i] > 0 and j < 0:
                    out.append(f"demand point {i} is not assigned")
                    continue
                if j < 0:
                    continue
                if cands[j] not in cset:
                    out.append(f"demand point {i} assigned to unopened site {cands[j]!r}")
                if not math.isfinite(d[i, j]):
                    out.append(f"demand point {i} assigned to unreachable site {cands[j]!r}")
                true_obj += float(problem.demand[i] * d[i, j])
    else:
        paths = problem.paths
        if len(result.covered) != len(paths):
            out.append("covered has the wrong length")
            return out
        if kind == "frlm":
            for q, c in enumerate(result.covered):
                if c > 0.5 and not _refuelable_by_simulation(paths[q], cset, problem.range_km):
                    out.append(f"path {q} {paths[q].nodes[0]}->{paths[q].nodes[-1]} marked refuelled but "
                               f"the round trip runs dry with stations {sorted(map(str, cset))}")
        else:
            caps = problem.capacities
            if caps is None:
                out.append("flow shares given but the problem has no capacities")
                caps = (math.inf,) * len(cands)
            cidx = {c: k for k, c in enumerate(cands)}
            load = [0.0] * len(cands)
            for (q, k), g in result.flow_share.items():
                if g > result.covered[q] + _FEAS_TOL:
                    out.append(f"share g[{q},{k}] = {g} exceeds y[{q}] = {result.covered[q]}")
                if g > _FEAS_TOL and cands[k] not in cset:
                    out.append(f"share g[{q},{k}] > 0 at unopened site {cands[k]!r}")
                pth = paths[q]
                passes = sum(1 for v in round_trip(pth)[0] if v == cands[k])
                if passes == 0 and g > _FEAS_TOL:
                    out.append(f"share g[{q},{k}] at a site not on path {q}")
                load[k] += passes * pth.flow * g
            for k, ld in enumerate(load):
                if ld > caps[k] + _FEAS_TOL * max(1.0, caps[k]):
                    out.append(f"station {cands[k]!r} serves {ld:.6g} > capacity {caps[k]}")
            for q, yq in enumerate(result.covered):
                if yq <= _FEAS_TOL:
                    continue
                for a, ks in enumerate(_k_sets_by_distance(paths[q], problem.range_km, cands)):
                    got = sum(result.flow_share.get((q, cidx[c]), 0.0) for c in ks)
                    if got < yq - 1e-5:
                        out.append(f"path {q} arc {a}: refuelled share {got:.6g} < y = {yq:.6g}")
                        break
        true_obj = float(sum(paths[q].flow * c for q, c in enumerate(result.covered)))

    tol = _opt_tol(true_obj, _magnitude(problem, kind))
    if not abs(obj - true_obj) <= tol:
        out.append(f"objective {obj} differs from the recomputed {true_obj}")
    if result.bound is not None:
        slack = (result.bound - obj) if sense == "max" else (obj - result.bound)
        if slack < -tol:
            out.append(f"bound {result.bound} is on the wrong side of the objective {obj}")
        if result.status == "optimal" and abs(slack) > tol:
            out.append(f"status optimal but bound {result.bound} != objective {obj}")
    return out

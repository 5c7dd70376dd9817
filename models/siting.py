"""Station-siting formulations: maximal covering (MCLP), p-median and the flow refuelling location
model (FRLM, AC-PC form, with a capacitated variant), on three back ends.

Formulations only: each ``solve_*`` builds its model from the family's problem
(``optimizer.stations.siting``: ``CoverageProblem``, ``PMedianProblem``, ``FlowProblem``; read by
attribute), solves it on ``'cpsat'`` (OR-Tools CP-SAT), ``'mathopt'`` (MathOpt with SCIP) or
``'pulp'`` (CBC via ``PULP_CBC_CMD``) through ``models._backend`` (shared status words and time
limits) and returns the raw answer, a ``SitingRaw`` (chosen ids, covered flags, assignment, flow
shares, objective recomputed from the data, bound). The family's ``solve_siting`` turns it into a
``SitingSolution``; ``optimizer.stations.verify_siting`` re-checks it independently.

Integer scaling for CP-SAT
--------------------------
CP-SAT needs integer objective coefficients. Every objective coefficient ``c`` is replaced by
``round(c * S)`` (``models._backend.to_int``) with ``S = OBJ_UNITS / M``, ``OBJ_UNITS = 10**12``
and ``M`` the model's objective magnitude (total demand for MCLP, total flow for FRLM,
``sum_i a_i max_j d_ij`` for p-median), so any objective value is an integer <= ~10**12. The
rounding changes any solution's objective by at most ``E = sum_k |c_k - round(c_k S)/S| * ub_k``;
the float bound reported is CP-SAT's bound / S widened by E, and ``'optimal'`` is only claimed
when the float objective is within ``OPT_TOL = 1e-6`` (relative, of max(|objective|, M / 100)) of
that widened bound; otherwise the answer is ``'feasible'`` with the bound. All constraint
coefficients are 0/1 (CP-SAT is not offered for the capacitated FRLM, whose flow shares are
continuous).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from models._backend import cpsat_solver, cpsat_status, mathopt_status, pulp_status, to_int
from optimizer.core.errors import InvalidInput, check_time_limit_s
from optimizer.core.results import FEASIBLE, INFEASIBLE, NO_SOLUTION_IN_TIME, OPTIMAL

__all__ = [
    "BACKENDS",
    "OBJ_UNITS",
    "OPT_TOL",
    "SitingRaw",
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


@dataclass(frozen=True, slots=True)
class SitingRaw:
    """What one formulation answered.

    Attributes
    ----------
    status : str
        Shared status word: ``optimal`` (proved, within ``OPT_TOL`` of the float bound),
        ``feasible``, ``infeasible`` or ``no_solution_in_time``.
    objective : float | None
        Covered demand (MCLP), demand-weighted distance (p-median) or refuelled flow (FRLM),
        recomputed from the data and the extracted point; None without a point.
    bound : float | None
        Best proven bound on the optimum (upper for max, lower for min), float units.
    chosen : tuple
        Candidate ids opened.
    covered : tuple[float, ...]
        Per demand point (MCLP) or path (FRLM): 1.0 covered / refuelled, 0.0 not; the refuelled
        share in the capacitated FRLM; empty for p-median.
    assignment : tuple[int, ...]
        p-median: index into ``candidates`` serving each demand point (-1: zero demand); else empty.
    flow_share : dict[tuple[int, int], float]
        Capacitated FRLM: ``{(q, k): g_qk}`` share of path q's flow refuelled at candidate k.
    backend : str
    runtime_s : float
        Wall seconds of build + solve + extraction.
    """

    status: str
    objective: float | None
    bound: float | None
    chosen: tuple = ()
    covered: tuple = ()
    assignment: tuple = ()
    flow_share: dict = field(default_factory=dict)
    backend: str = ""
    runtime_s: float = 0.0

    @property
    def has_solution(self) -> bool:
        return self.status in (OPTIMAL, FEASIBLE)


# --------------------------------------------------------------------------------------------------
# FRLM geometry


def round_trip(path: Any) -> tuple[list, list[float]]:
    """The round trip O -> D -> O of ``path`` (``nodes``, ``arc_km``) as a cycle: ``(tails, lengths)``
    where directed arc ``t`` runs from ``tails[t]`` to ``tails[(t + 1) % L]`` with length
    ``lengths[t]``, ``L = 2 (len(nodes) - 1)``."""
    nodes, arcs = list(path.nodes), list(path.arc_km)
    tails = nodes[:-1] + nodes[::-1][:-1]
    lengths = arcs + arcs[::-1]
    return tails, lengths


def refuel_sets(path: Any, range_km: float, candidates: Sequence[Hashable]) -> list[frozenset]:
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


@dataclass(frozen=True, slots=True)
class _Raw:
    status: str  # shared status word
    values: list[float] | None
    bound: float | None


CHECK_EVERY = 256
"""Rows (or demand points) between two looks at the clock while a model is built or translated."""
_OUT_OF_TIME = _Raw(NO_SOLUTION_IN_TIME, None, None)


def _late(end: float, k: int) -> bool:
    """Every ``CHECK_EVERY``-th step: is the wall clock (``time.perf_counter``) past ``end``?"""
    return k % CHECK_EVERY == 0 and time.perf_counter() >= end


def _left(end: float) -> float:
    """Seconds to ``end``, at least 0.01 (a back end needs a positive limit)."""
    return max(0.01, end - time.perf_counter())


def _solve_cpsat(model: _Model, end: float, workers: int, seed: int) -> _Raw:
    from ortools.sat.python import cp_model

    if not all(model.integer):
        raise InvalidInput("backend", "cpsat", "this model has continuous variables; use 'mathopt' or 'pulp'")
    m = cp_model.CpModel()
    xs = [m.new_int_var(math.ceil(lo - 1e-9), math.floor(hi + 1e-9), f"v{k}")
          for k, (lo, hi) in enumerate(zip(model.lb, model.ub, strict=True))]
    for r, (coefs, lo, hi) in enumerate(model.rows):
        if _late(end, r):
            return _OUT_OF_TIME
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
    icost = {k: to_int(c, scale, "objective coefficient") for k, c in model.obj.items()}
    err = sum(abs(c - icost[k] / scale) * max(abs(model.lb[k]), abs(model.ub[k])) for k, c in model.obj.items())
    nz = [k for k, c in icost.items() if c]
    expr = cp_model.LinearExpr.weighted_sum([xs[k] for k in nz], [icost[k] for k in nz])
    if model.sense == "max":
        m.maximize(expr)
    else:
        m.minimize(expr)
    solver = cpsat_solver(_left(end), workers=workers, seed=seed)
    status = cpsat_status(solver.solve(m))
    if status not in (OPTIMAL, FEASIBLE):
        return _Raw(status, None, None)
    vals = [float(solver.value(x)) for x in xs]
    sb = solver.best_objective_bound / scale
    bound = sb + err if model.sense == "max" else sb - err
    return _Raw(status, vals, bound)


def _solve_mathopt(model: _Model, end: float, workers: int, seed: int) -> _Raw:
    from ortools.math_opt.python import mathopt

    m = mathopt.Model(name="siting")
    xs = [m.add_variable(lb=lo, ub=hi, is_integer=it, name=f"v{k}")
          for k, (lo, hi, it) in enumerate(zip(model.lb, model.ub, model.integer, strict=True))]
    for r, (coefs, lo, hi) in enumerate(model.rows):
        if _late(end, r):
            return _OUT_OF_TIME
        expr = mathopt.fast_sum(c * xs[k] for k, c in coefs.items())
        m.add_linear_constraint(lb=lo, ub=hi, expr=expr)
    obj = mathopt.fast_sum(c * xs[k] for k, c in model.obj.items())
    if model.sense == "max":
        m.maximize(obj)
    else:
        m.minimize(obj)
    params = mathopt.SolveParameters(time_limit=timedelta(seconds=_left(end)), threads=int(workers),
                                     random_seed=int(seed) % 2**31,
                                     relative_gap_tolerance=OPT_TOL / 10, absolute_gap_tolerance=0.0)
    res = mathopt.solve(m, mathopt.SolverType.GSCIP, params=params)
    status = mathopt_status(res)
    if status not in (OPTIMAL, FEASIBLE):
        return _Raw(status, None, None)
    vals = [float(res.variable_values(x)) for x in xs]
    bound = float(res.termination.objective_bounds.dual_bound)
    return _Raw(status, vals, bound if math.isfinite(bound) else None)


def _solve_pulp(model: _Model, end: float, workers: int, seed: int) -> _Raw:
    del seed  # CBC's search is deterministic for a given model
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
        if _late(end, r):
            return _OUT_OF_TIME
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
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=_left(end), threads=int(workers), gapRel=0.0)
    prob.solve(solver)
    status = pulp_status(prob)
    if status not in (OPTIMAL, FEASIBLE):
        return _Raw(status, None, None)
    vals = [float(x.value() or 0.0) for x in xs]
    return _Raw(status, vals, float(pulp.value(prob.objective) or 0.0) if status == OPTIMAL else None)


def _dispatch(model: _Model, backend: str, time_limit_s: float, workers: int, seed: int,
              t0: float | None = None) -> _Raw:
    """Solve ``model`` on ``backend`` within ``time_limit_s`` counted from ``t0`` (``time.perf_counter``;
    None: now), so that building the model counts against the limit: the back end's translation
    checks the clock every ``CHECK_EVERY`` rows and answers ``no_solution_in_time`` once past it, and
    the solver gets the time left."""
    if backend not in BACKENDS:
        raise InvalidInput("backend", backend, f"must be one of {BACKENDS}")
    t = check_time_limit_s(time_limit_s)
    if not model.lb:
        return _Raw(OPTIMAL, [], 0.0)
    end = (time.perf_counter() if t0 is None else t0) + t
    if time.perf_counter() >= end:
        return _OUT_OF_TIME
    return {"cpsat": _solve_cpsat, "mathopt": _solve_mathopt, "pulp": _solve_pulp}[backend](model, end, workers, seed)


def _finish(problem: Any, raw: _Raw, backend: str, t0: float, sense: str, build, kind: str) -> SitingRaw:
    """Turn a back end's answer into a ``SitingRaw``. ``build(values) -> (chosen, covered,
    assignment, flow_share, objective)``. ``optimal`` is kept only when the float objective meets
    the bound within ``OPT_TOL``; a max bound is clipped to the total demand/flow."""
    if raw.values is None:
        return SitingRaw(raw.status, None, raw.bound, backend=backend, runtime_s=time.perf_counter() - t0)
    chosen, covered, assignment, share, obj = build(raw.values)
    status = raw.status
    bound = raw.bound
    if bound is not None:
        tol = _opt_tol(obj, _magnitude(problem, kind))
        if status == OPTIMAL and abs(bound - obj) > tol:
            status = FEASIBLE  # proven for the scaled model only
        if sense == "max":  # FRLM / MCLP objectives cannot exceed total flow / demand
            bound = max(min(bound, _magnitude(problem, kind)), obj)
        else:
            bound = min(bound, obj)
    elif status == OPTIMAL:
        bound = obj
    return SitingRaw(status, obj, bound, chosen, covered, assignment, share, backend, time.perf_counter() - t0)


def _magnitude(problem: Any, kind: str) -> float:
    """Objective magnitude M: total flow (FRLM), total demand (MCLP), sum_i a_i max_j d_ij (p-median)."""
    if kind in ("frlm", "cfrlm"):
        return max(float(sum(p.flow for p in problem.paths)), 1e-300)
    if kind == "pmedian":
        d = problem.distance
        return max(float(sum(problem.demand[i] * np.max(d[i][np.isfinite(d[i])], initial=0.0)
                             for i in range(d.shape[0]))), 1e-300)
    return max(float(np.sum(problem.demand)), 1e-300)


def _opt_tol(obj: float, magnitude: float) -> float:
    """Absolute optimality / agreement tolerance: OPT_TOL * max(|obj|, 1 % of the magnitude)."""
    return OPT_TOL * max(abs(obj), 1e-2 * magnitude)


# --------------------------------------------------------------------------------------------------
# MCLP


def solve_mclp(problem: Any, backend: str = "cpsat", time_limit_s: float = 60.0, workers: int = 8,
               seed: int = 0) -> SitingRaw:
    """Maximal covering location (Church & ReVelle 1974; MODELS.md section 2.1).

    ``problem``: an ``optimizer.stations.siting.CoverageProblem`` (``demand`` float64[n],
    ``candidates`` length m, ``p``, ``coverage_matrix()`` bool[n, m]). ::

        max  sum_i a_i X_i
        s.t. sum_{j in N_i} Y_j >= X_i      for every demand point i
             sum_j Y_j = p
             X_i, Y_j in {0, 1}

    ``N_i = {j : coverage[i, j]}`` (from ``distance[i, j] <= threshold`` when no coverage matrix is
    given, e.g. road minutes <= T). Points with ``a_i = 0`` or empty ``N_i`` get no variable.
    ``covered`` flags every point an open site reaches (zero-demand points included).
    Raises ``InvalidInput`` for an unknown back end or a bad time limit.
    """
    t0 = time.perf_counter()
    cov = problem.coverage_matrix()
    n, m = cov.shape
    a = problem.demand
    model = _Model("max", max(float(a.sum()), 1e-300))
    y = [model.var(0, 1, True) for _ in range(m)]
    model.row({k: 1.0 for k in y}, problem.p, problem.p)
    xvar: dict[int, int] = {}
    end = t0 + check_time_limit_s(time_limit_s)
    for i in range(n):
        if _late(end, i):
            return SitingRaw(NO_SOLUTION_IN_TIME, None, None, backend=backend, runtime_s=time.perf_counter() - t0)
        js = np.flatnonzero(cov[i])
        if a[i] <= 0 or js.size == 0:
            continue
        xvar[i] = model.var(0, 1, True, float(a[i]))
        coefs = {y[j]: 1.0 for j in js}
        coefs[xvar[i]] = -1.0
        model.row(coefs, 0.0)
    raw = _dispatch(model, backend, time_limit_s, workers, seed, t0)

    def build(v):
        open_j = [j for j in range(m) if v[y[j]] > 0.5]
        chosen = tuple(problem.candidates[j] for j in open_j)
        # covered = reached by an open site (at the optimum the same as X; a non-optimal point may
        # leave X_i = 0 for a reached point, which would understate what the stations cover)
        covered = tuple(1.0 if cov[i, open_j].any() else 0.0 for i in range(n))
        obj = float(sum(a[i] for i in range(n) if covered[i] > 0.5))
        return chosen, covered, (), {}, obj

    return _finish(problem, raw, backend, t0, "max", build, "mclp")


# --------------------------------------------------------------------------------------------------
# p-median


def solve_pmedian(problem: Any, backend: str = "cpsat", time_limit_s: float = 60.0, workers: int = 8,
                  seed: int = 0) -> SitingRaw:
    """p-median (Hakimi 1964; ReVelle & Swain 1970; MODELS.md section 2.2).

    ``problem``: an ``optimizer.stations.siting.PMedianProblem`` (``demand`` float64[n],
    ``candidates`` length m, ``p``, ``distance`` float64[n, m], inf = unreachable). ::

        min  sum_i sum_j a_i d_ij x_ij
        s.t. sum_j x_ij = 1        for every demand point i with a_i > 0
             x_ij <= y_j
             sum_j y_j = p
             y_j in {0, 1}, x_ij in {0, 1}

    ``x_ij`` exists only for finite ``d_ij``. Points with zero demand are not assigned. Integral
    ``x`` loses nothing (given y, assignment to the nearest open site is optimal) and keeps CP-SAT
    applicable. Returns ``infeasible`` when a point with demand reaches no site at all; the back
    end proves infeasibility when no p sites reach every point.
    """
    t0 = time.perf_counter()
    d = problem.distance
    n, m = d.shape
    a = problem.demand
    model = _Model("min", _magnitude(problem, "pmedian"))
    y = [model.var(0, 1, True) for _ in range(m)]
    model.row({k: 1.0 for k in y}, problem.p, problem.p)
    xv: dict[tuple[int, int], int] = {}
    end = t0 + check_time_limit_s(time_limit_s)
    for i in range(n):
        if _late(end, i):
            return SitingRaw(NO_SOLUTION_IN_TIME, None, None, backend=backend, runtime_s=time.perf_counter() - t0)
        if a[i] <= 0:
            continue
        js = np.flatnonzero(np.isfinite(d[i]))
        if js.size == 0:
            return SitingRaw(INFEASIBLE, None, None, backend=backend, runtime_s=time.perf_counter() - t0)
        row = {}
        for j in js:
            k = model.var(0, 1, True, float(a[i] * d[i, j]))
            xv[(i, int(j))] = k
            row[k] = 1.0
            model.row({k: 1.0, y[j]: -1.0}, hi=0.0)
        model.row(row, 1.0, 1.0)
    raw = _dispatch(model, backend, time_limit_s, workers, seed, t0)

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


def solve_frlm(problem: Any, backend: str = "cpsat", capacitated: bool = False, time_limit_s: float = 60.0,
               workers: int = 8, seed: int = 0) -> SitingRaw:
    """Flow refuelling location model, arc-cover path-cover (AC-PC) form.

    ``problem``: an ``optimizer.stations.siting.FlowProblem`` (``paths`` with ``nodes``,
    ``arc_km``, ``flow``; ``candidates``; ``range_km``; ``p``; ``capacities``).

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
    ``covered`` flags every path the open stations refuel (zero-flow paths included).

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
    Raises ``InvalidInput`` naming ``capacities`` or ``backend`` otherwise.
    """
    t0 = time.perf_counter()
    if capacitated and problem.capacities is None:
        raise InvalidInput("capacities", None, "the capacitated FRLM needs one capacity per candidate")
    if capacitated and backend == "cpsat":
        raise InvalidInput("backend", backend, "capacitated FRLM has continuous flow shares; use 'mathopt' or 'pulp'")
    cands = problem.candidates
    cidx = {c: k for k, c in enumerate(cands)}
    model = _Model("max", _magnitude(problem, "frlm"))
    x = [model.var(0, 1, True) for _ in cands]
    model.row({k: 1.0 for k in x}, problem.p, problem.p)

    # reduced constraint families per path
    fams: list[tuple[frozenset, ...] | None] = []
    end = t0 + check_time_limit_s(time_limit_s)
    for q, pth in enumerate(problem.paths):
        if _late(end, q):
            return SitingRaw(NO_SOLUTION_IN_TIME, None, None, backend=backend, runtime_s=time.perf_counter() - t0)
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

    raw = _dispatch(model, backend, time_limit_s, workers, seed, t0)

    def build(v):
        chosen = tuple(c for k, c in enumerate(cands) if v[x[k]] > 0.5)
        if not capacitated:
            # refuelled = every K set meets the open stations (at the optimum the same as y; a
            # non-optimal point may leave y_q = 0 for a path its stations refuel)
            open_c = set(chosen)
            covered = tuple(1.0 if all(k & open_c for k in refuel_sets(pth, problem.range_km, cands)) else 0.0
                            for pth in problem.paths)
            gs = {}
        else:
            covered = tuple(min(1.0, max(0.0, v[yof[q]])) if q in yof else 0.0 for q in range(len(problem.paths)))
            gs = {qk: min(1.0, max(0.0, v[g])) for qk, g in share.items() if v[g] > 1e-9}
        obj = float(sum(problem.paths[q].flow * covered[q] for q in range(len(problem.paths))))
        return chosen, covered, (), gs, obj

    return _finish(problem, raw, backend, t0, "max", build, "cfrlm" if capacitated else "frlm")

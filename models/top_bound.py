"""Proven upper bound (and, when tight, the optimum) of a Team Orienteering Problem without time windows.

Why: Chao, Golden & Wasil's (1996, EJOR 88(3):464-474) reported TOP scores are the reference of the
Chao benchmark, and a few of them exceed what any feasible plan can collect under real-valued
Euclidean travel (issue 15). A score above the optimum can only be shown by a bound, not by a search.

Formulation (a 0-1 MILP solved by HiGHS through ``scipy.optimize.milp``): the single-commodity flow
model of the TOP, with unlabelled routes and a time flow that also rules out subtours (Gavish & Graves
1978 for the TSP; used for the TOP by e.g. Dang, Guibadj & Moukrim 2013, EJOR 229(2):332-344):

* Customers ``C`` = those with a positive score that a route can reach at all; arcs ``s -> j``,
  ``j -> e`` and ``i -> j`` (``i, j`` in ``C``) with binary ``x_a`` and a flow ``f_a`` >= 0.
* ``sum_{a into j} x_a <= 1`` and ``sum_{a into j} x_a = sum_{a out of j} x_a`` for every ``j`` in ``C``;
  ``sum_j x_{s,j} <= m`` (at most ``m`` routes).
* Time flow: ``f_a`` is the route length up to the head of ``a``:
  ``f_{s,j} = w_{s,j} x_{s,j}``; ``sum_{a out of j} f_a = sum_{a into j} f_a + sum_{a out of j} w_a x_a``;
  ``(ds_i + w_ij) x_ij <= f_ij <= (H - de_j) x_ij`` (``de_e = 0``), with ``w`` the arc weights
  (``service_i + travel[i, j]``), ``H = return_by - depart`` (the depot semantics of
  :mod:`optimizer.toptw.problem`) and ``ds`` / ``de`` the shortest path lengths from the start / to
  the end. A cycle of customers without the depot would need a flow that grows all the way round, so
  there is none (arcs of weight 0 could allow one: that only loosens the bound).
* Maximise ``sum_j score_j sum_{a into j} x_a``. With ``target``: the constraint ``score >= target``
  is added and the question becomes "can any plan reach ``target``?" (HiGHS answers *infeasible*
  much sooner than it closes the gap of the maximisation).

**Relaxed integer data, so the bound is valid in floats.** Every arc weight is scaled by ``scale``
units per minute and rounded *down* (``floor(w * scale - 1e-6)``), the horizon rounded *up*
(``ceil((H + TOL) * scale + 1e-6)`` with the verifier's tolerance ``TOL``); scores are integers (divided by
their greatest common divisor; other scores x100 rounded up). Every route the float verifier (:func:`optimizer.toptw.verify.verify`) accepts is
then feasible in the integer model, so the model's bound is an upper bound on the float optimum and
an infeasible ``target`` model proves that no float-feasible plan reaches ``target``. All
coefficients are integers, so HiGHS's tolerances (1e-6) never decide between two plans. The converse
does not hold (the integer model may accept a route up to ``|route| / scale`` minutes too long): its
plan is re-checked by the verifier, and the answer says ``optimal`` only when a verified plan
reaches the bound.

Pruning (valid for any travel matrix): customer ``i`` is kept iff ``ds[i] + de[i] <= H``, arc
``i -> j`` iff ``ds[i] + w[i, j] + de[j] <= H`` (integer data, shortest paths by Dijkstra). Customers
with score 0 are left out when the integer weights satisfy the triangle inequality (a detour through
one never shortens a route); otherwise they stay, as possible short cuts (issue 14, case 5).

Only for problems whose windows never bind: every customer opens at or before the departure and
closes at or after the return deadline; otherwise ``InvalidInput`` (use :mod:`models.toptw_cpsat`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

from models._backend import highs_status, time_left_s
from optimizer.core.clock import Deadline
from optimizer.core.errors import InvalidInput
from optimizer.core.results import (
    FEASIBLE,
    INFEASIBLE,
    NO_SOLUTION_IN_TIME,
    OPTIMAL,
    SolveStats,
    relative_gap,
)
from optimizer.core.stop import StoppingCriterion
from optimizer.toptw.problem import TOPTWInstance
from optimizer.toptw.solution import ToptwSolution, make_solution
from optimizer.toptw.verify import TOL, toptw_score, verify

__all__ = ["BOUND_SCALE", "relaxed_weights", "top_upper_bound"]

BOUND_SCALE = 1000
"""Integer units per minute of the relaxed data (``floor`` of each arc weight, ``ceil`` of the horizon)."""

_EPS = 1e-6


def relaxed_weights(inst: TOPTWInstance, scale: int = BOUND_SCALE) -> tuple[np.ndarray, int]:
    """Relaxed integer arc weights and horizon of ``inst``.

    Returns ``(w, H)``: ``w`` int64[n, n] with ``w[i, j] = floor((service_i + travel[i, j]) * scale -
    1e-6)`` (at least 0; no service term on the start depot's row) and ``H = ceil((return_by - depart
    + TOL) * scale + 1e-6)``. For every route ``s -> c_1 -> ... -> c_q -> e`` the sum of ``w`` along it is at most ``H`` whenever the verifier
    accepts its float schedule (floors of a sum's terms sum to at most the floor of the sum).
    Raises ``InvalidInput`` for a non-positive or non-integer ``scale``.
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise InvalidInput("scale", scale, "must be an integer >= 1")
    w = np.asarray(inst.service_min, dtype=np.float64)[:, None] + np.asarray(inst.travel_min, dtype=np.float64)
    w[inst.start] = np.asarray(inst.travel_min[inst.start], dtype=np.float64)  # a route leaves the start at once
    wi = np.maximum(np.floor(w * scale - _EPS), 0).astype(np.int64)
    horizon = math.ceil((inst.return_by_min - inst.depart_min + TOL) * scale + _EPS)
    return wi, horizon


def _check_no_windows(inst: TOPTWInstance) -> None:
    cust = np.asarray(inst.customers, dtype=np.int64)
    if cust.size == 0:
        return
    late = cust[inst.open_min[cust] > inst.depart_min + _EPS]
    if late.size:
        j = int(late[0])
        raise InvalidInput(f"open_min[{j}]", float(inst.open_min[j]),
                           "top_upper_bound is for problems without binding time windows (opens after departure)")
    early = cust[inst.close_min[cust] < inst.return_by_min - _EPS]
    if early.size:
        j = int(early[0])
        raise InvalidInput(f"close_min[{j}]", float(inst.close_min[j]),
                           "top_upper_bound is for problems without binding time windows (closes before return_by)")


def _scores(inst: TOPTWInstance) -> tuple[np.ndarray, float]:
    """Integer scores and the score one integer unit stands for.

    Integer scores are divided by their greatest common divisor (the Chao sets score in steps of 5 or
    6), so that "score >= target" is rounded up to the next reachable value; other scores are
    multiplied by 100 and rounded *up* (the bound stays an upper bound). Returns ``(int64[n], unit)``
    with ``score ~ int_score * unit``.
    """
    s = np.asarray(inst.score, dtype=np.float64)
    if np.all(np.abs(s - np.round(s)) <= 1e-9):
        si = np.round(s).astype(np.int64)
        g = int(np.gcd.reduce(si[si > 0])) if np.any(si > 0) else 1
        return si // g, float(g)
    return np.ceil(s * 100 - 1e-9).astype(np.int64), 0.01


def top_upper_bound(inst: TOPTWInstance, stop: StoppingCriterion, seed: int = 0, target: float | None = None,
                    scale: int = BOUND_SCALE) -> ToptwSolution:
    """Upper bound on the optimal score of the TOP ``inst`` (no binding windows), with the best plan found.

    ``stop.max_runtime_s`` limits the whole call, model building included (none: 60 s); HiGHS runs
    on one thread and is deterministic (``seed`` is recorded only). Returns a ``ToptwSolution``:

    * without ``target``: ``stats.bound`` is a proven upper bound on the optimum of ``inst`` under its
      float travel times (``None`` if HiGHS proved none in time); the routes are HiGHS's plan when the
      verifier accepts it (else none); the status is ``optimal`` only when that verified plan reaches
      the bound, else ``feasible`` or ``no_solution_in_time``;
    * with ``target``: status ``infeasible`` means *proven*: no plan scores ``target`` or more, and
      ``stats.bound`` is then the largest score below ``target`` on the model's integer score grid;
      otherwise as above, for plans scoring at least ``target``.

    Raises ``InvalidInput`` for binding windows, a bad scale, seed or target.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInput("seed", seed, "must be an integer >= 0")
    if target is not None and not (isinstance(target, (int, float, np.integer, np.floating))
                                   and math.isfinite(float(target)) and not isinstance(target, bool)):
        raise InvalidInput("target", target, "must be a finite number or None")
    clock = Deadline(stop.max_runtime_s)
    _check_no_windows(inst)
    w, H = relaxed_weights(inst, scale)
    score, unit = _scores(inst)
    s, e = inst.start, inst.end
    empty = [[] for _ in range(inst.n_routes)]
    sp = shortest_path(w.astype(np.float64), method="D", directed=True)  # exact on integers < 2^53
    # a customer worth nothing can only help as a short cut, which the triangle inequality rules out
    off = ~np.eye(inst.n, dtype=bool)
    metric = bool(np.all(sp[off] >= w[off]))
    cust = [int(j) for j in inst.customers if score[j] > 0 or (not metric and score[j] >= 0)]
    ds = {j: sp[s, j] for j in cust}
    de = {j: sp[j, e] for j in cust}
    keep = [j for j in cust if ds[j] + de[j] <= H]
    need = None if target is None else math.ceil(float(target) / unit - 1e-9)
    # arcs (tail, head, weight, lower flow, upper flow); -1 = start depot, -2 = end depot
    arcs: list[tuple[int, int, int, float, float]] = []
    for j in keep:
        arcs.append((-1, j, int(w[s, j]), float(w[s, j]), float(H - de[j])))
        arcs.append((j, -2, int(w[j, e]), float(ds[j] + w[j, e]), float(H)))
    for i in keep:
        for j in keep:
            if i != j and ds[i] + w[i, j] + de[j] <= H:
                arcs.append((i, j, int(w[i, j]), float(ds[i] + w[i, j]), float(H - de[j])))
    A = len(arcs)
    if A == 0:
        if need is not None and need > 0:
            stats = SolveStats(status=INFEASIBLE, bound=(need - 1) * unit, runtime_s=clock.elapsed_s(),
                               stopped_by="solved", seed=int(seed))
        else:
            stats = SolveStats(status=OPTIMAL, objective=0.0, bound=0.0, gap=0.0, runtime_s=clock.elapsed_s(),
                               stopped_by="solved", seed=int(seed))
        return make_solution(inst, empty, stats)

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def add(coefs: list[tuple[int, float]], low: float, high: float) -> None:
        r = len(lo)
        for c, v in coefs:
            rows.append(r)
            cols.append(c)
            vals.append(v)
        lo.append(low)
        hi.append(high)

    ins: dict[int, list[int]] = {j: [] for j in keep}
    outs: dict[int, list[int]] = {j: [] for j in keep}
    for a, (i, j, *_rest) in enumerate(arcs):
        if j >= 0:
            ins[j].append(a)
        if i >= 0:
            outs[i].append(a)
    for j in keep:  # x: columns 0..A-1, f: A..2A-1
        add([(a, 1.0) for a in ins[j]], -np.inf, 1.0)
        add([(a, 1.0) for a in ins[j]] + [(a, -1.0) for a in outs[j]], 0.0, 0.0)
        add([(A + a, 1.0) for a in outs[j]] + [(A + a, -1.0) for a in ins[j]]
            + [(a, -float(arcs[a][2])) for a in outs[j]], 0.0, 0.0)
    add([(a, 1.0) for a, arc in enumerate(arcs) if arc[0] == -1], -np.inf, float(inst.n_routes))
    for a, (i, _j, wt, fl, fh) in enumerate(arcs):
        if i == -1:
            add([(A + a, 1.0), (a, -float(wt))], 0.0, 0.0)
        else:
            add([(A + a, 1.0), (a, -fh)], -np.inf, 0.0)
            add([(A + a, 1.0), (a, -fl)], 0.0, np.inf)
    gain = np.zeros(2 * A)
    for a, (_i, j, *_rest) in enumerate(arcs):
        if j >= 0:
            gain[a] = float(score[j])
    if need is not None:
        add([(a, gain[a]) for a in range(A) if gain[a] != 0.0], float(need), np.inf)
    M = coo_matrix((vals, (rows, cols)), shape=(len(lo), 2 * A)).tocsr()
    res = milp(-gain, constraints=LinearConstraint(M, np.array(lo), np.array(hi)),
               integrality=np.r_[np.ones(A), np.zeros(A)],
               bounds=Bounds(np.zeros(2 * A), np.r_[np.ones(A), np.full(A, float(H))]),
               options={"time_limit": time_left_s(stop, clock), "mip_rel_gap": 0.0, "disp": False})
    status = highs_status(res)
    solved = res.status == 0
    if status == INFEASIBLE:
        stats = SolveStats(status=INFEASIBLE, bound=(need - 1) * unit if need is not None else None,
                           runtime_s=clock.elapsed_s(), stopped_by="solved", seed=int(seed))
        return make_solution(inst, empty, stats)
    dual = getattr(res, "mip_dual_bound", None)
    if solved and res.fun is not None:
        dual = res.fun if dual is None else min(dual, res.fun)
    # the integer objective's bound, rounded down: no integer plan scores more
    bound = None if dual is None or not math.isfinite(dual) else math.floor(-dual + 1e-6) * unit
    routes: list[list[int]] = []
    if res.x is not None:
        x = res.x[:A] > 0.5
        nxt = {i: j for a, (i, j, *_r) in enumerate(arcs) if x[a] and i >= 0 and j >= 0}
        for a, (i, j, *_r) in enumerate(arcs):
            if x[a] and i == -1:
                r = [j]
                while r[-1] in nxt and len(r) <= len(keep):
                    r.append(nxt[r[-1]])
                routes.append(r)
    routes += [[] for _ in range(inst.n_routes - len(routes))]
    if len(routes) > inst.n_routes or verify(inst, make_solution(inst, routes, SolveStats(status=FEASIBLE))):
        routes = empty  # longer than t_max in floats by less than the rounding: not a plan
    if bound is None:
        stats = SolveStats(status=FEASIBLE if any(routes) else NO_SOLUTION_IN_TIME,
                           runtime_s=clock.elapsed_s(), stopped_by="max_runtime_s", seed=int(seed))
        return make_solution(inst, routes, stats)
    value = toptw_score(inst, routes)
    status = OPTIMAL if value >= bound - 1e-9 else FEASIBLE
    stats = SolveStats(status=status, objective=value, bound=float(bound), gap=relative_gap(value, bound),
                       runtime_s=clock.elapsed_s(), iterations=0,
                       stopped_by="solved" if solved else "max_runtime_s", seed=int(seed))
    return make_solution(inst, routes, stats)

"""Exact CP-SAT model of the (T)OPTW for small instances (up to ~20 customers).

Formulation (the MIP of Vansteenwegen, Souffriau, Vanden Berghe & Van Oudheusden 2009, C&OR
36(12):3281-3290, with its subtour/flow constraints replaced by one CP-SAT circuit per route):

* For each route ``k = 0..m-1`` a graph on the local nodes ``{s} U C_k U {e}`` (``C_k`` = customers
  that can be reached in time at all) with arc literals ``x[k,i,j]``; ``add_circuit`` over it with
  a self-loop ``skip[k,i]`` on every customer ("not on route k"). If ``s == e`` the depot self-loop
  is ``unused[k]`` (empty route); if ``s != e`` the closing arc ``e -> s`` is ``used[k]`` and both
  depots get the self-loop ``unused[k]``.
* ``sum_k (1 - skip[k,i]) <= 1`` for every customer ``i`` (visited at most once).
* Integer service start ``T[i]`` in ``[est_i, lst_i]`` (scaled); routes leave ``s`` when it opens
  (``D = open_s``) and reach ``e`` by ``R = min(t_max, close_e)`` (the depot semantics of
  :mod:`optimizer.toptw.problem`); ``x[k,s,j] => T[j] >= D + t[s,j]``;
  ``x[k,i,j] => T[j] >= T[i] + d_i + t[i,j]`` (waiting allowed); ``x[k,i,e] => T[i] + d_i + t[i,e]
  <= R``. One ``T[i]`` per customer suffices because a customer is on at most one route.
* Maximise ``sum_{k,i} score_i (1 - skip[k,i])``. Symmetry breaking: ``used[k] >= used[k+1]``.
* Pruning uses bounds that hold along *paths* (:func:`optimizer.toptw.reach.time_bounds` on the
  scaled data): ``est_i`` / ``lst_i`` are the earliest / latest service starts of ``i`` over every
  walk from ``s`` / to ``e``. A customer with ``est_i > lst_i`` gets no variables, an arc with
  ``est_i + d_i + t_ij > lst_j`` is not created. Travel times need not be metric, so pruning on the
  direct arc alone (``max(open_i, t[s,i]) > close_i``) would cut off routes such as ``s -> 1 -> 2``
  when ``t[s,2] > close_2`` but ``t[s,1] + d_1 + t[1,2]`` is small (issue 14, case 5).
* Every answer, before it is labelled, goes through the independent checker
  (:func:`optimizer.toptw.verify.verify`: routes, score, unserved list) and its score is compared with
  the CP-SAT objective. A rejected answer is a solver bug: ``RuntimeError`` is raised, so an answer
  the checker rejects is never returned, let alone as ``optimal``.

Integer data: times are multiplied by ``TIME_SCALE`` (= 100 units per minute). The KU Leuven
benchmark travel times are truncated to 1 (Solomon) or 2 (Cordeau) decimals and service times /
windows have at most 2 decimals, so this scaling is **exact** there. For other data (e.g. Chao TOP,
real Euclidean travel) every duration is rounded *up* and every deadline *down*, which keeps each
solution feasible in floats but may cut off the float optimum; such a run never reports
``'optimal'`` and gives no bound. Scores are used as integers when they all
are (true for every benchmark); otherwise they are multiplied by ``SCORE_SCALE`` and rounded, with
the same consequence.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.sat.python import cp_model

from models._backend import cpsat_outcome, cpsat_solver, time_left_s
from optimizer.core.results import FEASIBLE, INFEASIBLE, NO_SOLUTION_IN_TIME, OPTIMAL, SolveStats
from optimizer.core.stop import StoppingCriterion
from optimizer.toptw.problem import TOPTWInstance
from optimizer.toptw.reach import time_bounds, usable_arc
from optimizer.toptw.solution import ToptwSolution, make_solution
from optimizer.toptw.verify import toptw_score, verify

__all__ = ["SCORE_SCALE", "TIME_SCALE", "scale_scores", "scale_times", "solve_cpsat"]

TIME_SCALE = 100
"""Integer time units per minute used by the CP-SAT and routing models (exact for 2-decimal data)."""

SCORE_SCALE = 100
"""Multiplier applied to scores before rounding when they are not all integers."""

_TOL = 1e-6


def _is_multiple(values: np.ndarray, scale: float) -> bool:
    v = np.asarray(values, dtype=np.float64) * scale
    return bool(np.all(np.abs(v - np.round(v)) <= _TOL))


def scale_times(inst: TOPTWInstance, scale: int = TIME_SCALE) -> tuple[dict[str, np.ndarray | int], bool]:
    """Conservative integer time data (units of ``1/scale`` minute) and an exactness flag.

    Returns ``({"travel": int64[n,n] (up), "service": int64[n] (up), "open": int64[n] (up),
    "close": int64[n] (down), "t_max": int (down)}, exact)``. Durations are rounded up and deadlines
    down (with a 1e-6 tolerance on the scaled value), so any integer-feasible schedule is feasible
    in floats; ``exact`` is True when no rounding was needed.
    """

    def up(a: np.ndarray) -> np.ndarray:
        return np.ceil(np.asarray(a, dtype=np.float64) * scale - _TOL).astype(np.int64)

    def down(a: np.ndarray) -> np.ndarray:
        return np.floor(np.asarray(a, dtype=np.float64) * scale + _TOL).astype(np.int64)

    data: dict[str, np.ndarray | int] = {
        "travel": up(inst.travel_min),
        "service": up(inst.service_min),
        "open": up(inst.open_min),
        "close": down(inst.close_min),
        "t_max": int(down(np.array([inst.t_max]))[0]),
    }
    exact = all(
        _is_multiple(a, scale)
        for a in (inst.travel_min, inst.service_min, inst.open_min, inst.close_min, np.array([inst.t_max]))
    )
    return data, exact


def scale_scores(inst: TOPTWInstance) -> tuple[np.ndarray, int, bool]:
    """Integer scores ``int64[n]``, the factor used (1 or ``SCORE_SCALE``) and an exactness flag."""
    if _is_multiple(inst.score, 1):
        return np.round(inst.score).astype(np.int64), 1, True
    scaled = np.round(inst.score * SCORE_SCALE).astype(np.int64)
    return scaled, SCORE_SCALE, _is_multiple(inst.score, SCORE_SCALE)


def _bounds(inst: TOPTWInstance, t: dict):
    """Path-based time bounds of the scaled data (``optimizer.toptw.reach``) and the departure time."""
    depart = int(t["open"][inst.start])
    deadline = min(int(t["t_max"]), int(t["close"][inst.end]))
    b = time_bounds(t["travel"], t["service"], t["open"], t["close"], inst.customers, inst.start, inst.end,
                    depart, deadline)
    return b, depart, deadline


def solve_cpsat(inst: TOPTWInstance, stop: StoppingCriterion, seed: int = 0, workers: int = 0) -> ToptwSolution:
    """Solve ``inst`` with the CP-SAT circuit model described in the module docstring.

    Parameters
    ----------
    inst : the instance (intended for <= ~20 customers; larger ones may end 'feasible' or with no
        solution in time).
    stop : its ``max_runtime_s`` is the wall-clock limit, model building included
        (``models._backend.time_left_s``); iteration limits do not apply.
    seed : CP-SAT random seed.
    workers : CP-SAT search workers (0 = one per available core).

    Returns a ``ToptwSolution`` whose ``stats.status`` is ``optimal`` only when CP-SAT proved it
    *and* the integer scaling was exact; ``stats.bound`` is the proven bound (None when the scaling
    was not exact: the bound of the rounded model does not bound the float one). No solution in time:
    ``no_solution_in_time`` with empty routes.

    Raises
    ------
    RuntimeError if CP-SAT reports the model invalid or infeasible (the all-empty solution is always
    feasible, so either is a bug), or if the answer fails the independent checker
    :func:`optimizer.toptw.verify.verify` (routes in floats, score, unserved list) or its score
    disagrees with the objective: an answer the checker rejects is a solver bug, never a result.
    """
    clock = stop.deadline()
    t, exact_t = scale_times(inst)
    scores, score_factor, exact_s = scale_scores(inst)
    tr, sv = t["travel"], t["service"]
    s, e = inst.start, inst.end
    m = inst.n_routes
    b, depart, return_by = _bounds(inst, t)
    cust = [i for i in inst.customers if b.usable[i]]
    # Arcs between customers that some feasible route can use (path-based bounds; valid for every route).
    cc_arcs = [(i, j) for i in cust for j in cust if i != j and usable_arc(b, tr, sv, i, j)]

    model = cp_model.CpModel()
    T = {i: model.new_int_var(int(b.est[i]), int(b.lst[i]), f"T{i}") for i in cust}
    # Local numbering for the circuit: 0 = s, 1..K = customers, K+1 = e (if distinct).
    loc = {i: p + 1 for p, i in enumerate(cust)}
    loc_s = 0
    loc_e = 0 if s == e else len(cust) + 1
    x: list[dict[tuple[int, int], cp_model.IntVar]] = []
    visit: dict[tuple[int, int], cp_model.IntVar] = {}
    used: list[cp_model.IntVar] = []
    for k in range(m):
        arcs: list[tuple[int, int, cp_model.LiteralT]] = []
        xk: dict[tuple[int, int], cp_model.IntVar] = {}
        u = model.new_bool_var(f"used{k}")
        used.append(u)
        for i in cust:
            v = model.new_bool_var(f"visit{k}_{i}")
            visit[k, i] = v
            arcs.append((loc[i], loc[i], v.Not()))
            a_in = model.new_bool_var(f"x{k}_s_{i}")
            a_out = model.new_bool_var(f"x{k}_{i}_e")
            xk[s, i], xk[i, e] = a_in, a_out  # (s, i) and (i, e) keys are distinct even if s == e
            arcs.append((loc_s, loc[i], a_in))
            arcs.append((loc[i], loc_e, a_out))
            model.add(T[i] >= depart + int(tr[s, i])).only_enforce_if(a_in)
            model.add(T[i] + int(sv[i]) + int(tr[i, e]) <= return_by).only_enforce_if(a_out)
            model.add_implication(v, u)
        for i, j in cc_arcs:
            lit = model.new_bool_var(f"x{k}_{i}_{j}")
            xk[i, j] = lit
            arcs.append((loc[i], loc[j], lit))
            model.add(T[j] >= T[i] + int(sv[i]) + int(tr[i, j])).only_enforce_if(lit)
        if s == e:
            arcs.append((loc_s, loc_s, u.Not()))
        else:
            arcs.append((loc_e, loc_s, u))
            arcs.append((loc_s, loc_s, u.Not()))
            arcs.append((loc_e, loc_e, u.Not()))
        model.add_circuit(arcs)
        x.append(xk)
    for i in cust:
        model.add(sum(visit[k, i] for k in range(m)) <= 1)
    for k in range(m - 1):
        model.add_implication(used[k + 1], used[k])
    model.maximize(sum(int(scores[i]) * visit[k, i] for k in range(m) for i in cust))

    solver = cpsat_solver(time_left_s(stop, clock), workers=workers, seed=seed)
    t0 = time.perf_counter()
    code = solver.solve(model)
    outcome = cpsat_outcome(solver, code, time.perf_counter() - t0, scale=score_factor)
    exact = exact_t and exact_s

    if outcome.status == INFEASIBLE:
        raise RuntimeError(f"CP-SAT returned {solver.status_name(code)} on {inst.name}: model bug")
    if outcome.status == NO_SOLUTION_IN_TIME:
        stats = SolveStats(status=NO_SOLUTION_IN_TIME, runtime_s=clock.elapsed_s(), stopped_by="max_runtime_s",
                           seed=int(seed))
        return make_solution(inst, [], stats)

    routes: list[list[int]] = []
    for k in range(m):
        route: list[int] = []
        if solver.boolean_value(used[k]):
            first = [i for i in cust if solver.boolean_value(x[k][s, i])]
            if len(first) != 1:
                raise RuntimeError(f"{inst.name}: route {k} has {len(first)} start arcs")
            node = first[0]
            while True:
                route.append(node)
                if len(route) > len(cust):
                    raise RuntimeError(f"{inst.name}: route {k} does not close")
                if solver.boolean_value(x[k][node, e]):
                    break
                nxt = [
                    j for j in cust if j != node and (node, j) in x[k] and solver.boolean_value(x[k][node, j])
                ]
                if len(nxt) != 1:
                    raise RuntimeError(f"{inst.name}: route {k} node {node} has {len(nxt)} successors")
                node = nxt[0]
        routes.append(route)

    objective = toptw_score(inst, routes)
    if exact_s and abs(objective - outcome.objective) > 1e-6:
        raise RuntimeError(f"{inst.name}: routes score {objective} != CP-SAT objective {outcome.objective}")
    status = OPTIMAL if outcome.status == OPTIMAL and exact else FEASIBLE
    bound = outcome.bound if exact else None
    gap = (0.0 if status == OPTIMAL else outcome.gap) if exact else None
    stopped = "solved" if outcome.status == OPTIMAL else "max_runtime_s"
    stats = SolveStats(status=status, objective=objective, bound=bound, gap=gap, runtime_s=clock.elapsed_s(),
                       stopped_by=stopped, seed=int(seed))
    solution = make_solution(inst, routes, stats)
    violations = verify(inst, solution)  # the independent checker sees every answer before it is returned
    if violations:
        raise RuntimeError(f"{inst.name}: CP-SAT answer ({status}) rejected by the checker: "
                           f"{[v.message for v in violations]}")
    return solution

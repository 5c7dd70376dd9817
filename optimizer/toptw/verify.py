"""Independent verifier and scorer for (T)OPTW routes.

Kept deliberately simple and separate from every solver so that it can judge them: the schedule is
recomputed from scratch in floats. Semantics (Vansteenwegen et al. 2009, C&OR 36(12):3281-3290):
each route leaves ``inst.start`` at its opening time ``open_min[start]`` (``inst.depart_min``; see
"Depot times" in :mod:`optimizer.toptw.problem`), goes through its customers in order, starts
service at customer ``j`` at ``max(arrival_j, open_j)`` (waiting allowed), which must be
``<= close_j``, leaves after ``service_min[j]``, and must reach ``inst.end`` by
``min(t_max, close_min[end])`` (``inst.return_by_min``). Travel times are used as given (never
assumed metric). Each customer is visited at
most once over all routes and at most ``inst.n_routes`` routes are used.

``verify(problem, solution)`` returns core ``Violation``s: the route rules above (kinds
``route_count``, ``index``, ``depot``, ``duplicate``, ``window``, ``t_max`` (the return deadline)), ``score`` when
``solution.score`` differs from the recomputed score by more than 1e-6, and ``unserved`` when a
customer is neither visited nor listed in ``solution.unserved`` (or listed and visited).
``check_toptw_routes(inst, routes)`` gives the route rules' messages as plain strings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from optimizer.core.results import Violation
from optimizer.toptw.problem import TOPTWInstance
from optimizer.toptw.solution import ToptwSolution

__all__ = ["TOL", "check_toptw_routes", "earliest_schedule", "route_violations", "toptw_score", "verify"]

TOL = 1e-6
"""Absolute tolerance in minutes for window and ``t_max`` checks."""


def earliest_schedule(inst: TOPTWInstance, route: Sequence[int]) -> tuple[np.ndarray, float]:
    """Earliest service start times along ``route`` (customer node indices, depots excluded).

    The route leaves ``inst.start`` at ``open_min[start]``. Returns ``(start_min, end_arrival_min)``:
    float64[len(route)] service start times in minutes and the arrival time at ``inst.end``. Windows are *not* checked here (a late start is still
    reported as its earliest value); see :func:`check_toptw_routes`. Indices must be valid nodes.
    """
    starts = np.empty(len(route), dtype=np.float64)
    t = float(inst.open_min[inst.start])  # routes leave the start depot when it opens
    prev = inst.start
    for pos, j in enumerate(route):
        j = int(j)
        t = max(t + float(inst.travel_min[prev, j]), float(inst.open_min[j]))
        starts[pos] = t
        t += float(inst.service_min[j])
        prev = j
    return starts, t + float(inst.travel_min[prev, inst.end])


def check_toptw_routes(inst: TOPTWInstance, routes: Sequence[Sequence[int]]) -> list[str]:
    """The messages of ``route_violations`` (empty when feasible)."""
    return [v.message for v in route_violations(inst, routes)]


def route_violations(inst: TOPTWInstance, routes: Sequence[Sequence[int]]) -> list[Violation]:
    """Return the violations of ``routes`` (empty when feasible); ``item_id`` is ``route <r>``.

    ``routes`` is a sequence of routes, each a sequence of customer node indices in visit order
    (depots excluded). An empty route means an unused vehicle and is not scheduled (so it is fine
    even when ``travel[start, end] > t_max``), but it counts towards the route count. Checked:
    route count ``<= inst.n_routes``; indices are integers naming customers (not a depot, in
    range); each customer at most once over all routes; the earliest-start schedule leaving the start
    depot at ``open_min[start]`` meets every window (``start <= close + TOL``) and reaches the end
    depot by ``min(t_max, close_min[end]) + TOL``.
    """
    violations: list[Violation] = []
    if len(routes) > inst.n_routes:
        violations.append(Violation("plan", "route_count",
                                    f"{len(routes)} routes used, at most n_routes={inst.n_routes} allowed"))
    seen: dict[int, int] = {}
    for r, route in enumerate(routes):
        valid: list[int] = []
        for pos, node in enumerate(route):
            if isinstance(node, (bool, np.bool_)) or int(node) != node:
                violations.append(Violation(f"route {r}", "index", f"route {r} pos {pos}: node {node!r} is not an integer index"))
                continue
            j = int(node)
            if not 0 <= j < inst.n:
                violations.append(Violation(f"route {r}", "index", f"route {r} pos {pos}: node {j} out of range 0..{inst.n - 1}"))
                continue
            if j in (inst.start, inst.end):
                violations.append(Violation(f"route {r}", "depot",
                                            f"route {r} pos {pos}: node {j} is a depot (routes list customers only)"))
                continue
            if j in seen:
                violations.append(Violation(f"route {r}", "duplicate",
                                            f"route {r} pos {pos}: customer {j} already visited in route {seen[j]}"))
            else:
                seen[j] = r
            valid.append(j)
        if len(valid) != len(route) or not valid:
            continue  # a route with bad indices has no meaningful schedule; an empty route is unused
        starts, end_arrival = earliest_schedule(inst, valid)
        for pos, (j, s) in enumerate(zip(valid, starts)):
            if s > inst.close_min[j] + TOL:
                violations.append(Violation(
                    f"route {r}", "window", f"route {r} pos {pos}: customer {j} service starts at {s:.6f} "
                    f"after its window closes at {inst.close_min[j]:.6f}"))
        deadline = min(float(inst.t_max), float(inst.close_min[inst.end]))
        if end_arrival > deadline + TOL:
            violations.append(Violation(
                f"route {r}", "t_max", f"route {r}: reaches end depot at {end_arrival:.6f} > min(t_max, "
                f"end depot close)={deadline:.6f}"))
    return violations


def toptw_score(inst: TOPTWInstance, routes: Sequence[Sequence[int]]) -> float:
    """Total score of the distinct nodes visited by ``routes`` (a repeated customer counts once).

    Feasibility is not checked; call :func:`check_toptw_routes` for that.
    """
    visited = {int(j) for route in routes for j in route}
    return float(sum(float(inst.score[j]) for j in visited))


def verify(problem: TOPTWInstance, solution: ToptwSolution) -> list[Violation]:
    """Check ``solution`` against ``problem`` from scratch (see the module docstring); ``[]`` if it holds."""
    out = route_violations(problem, solution.routes)
    visited = {int(j) for r in solution.routes for j in r
               if isinstance(j, (int, np.integer)) and not isinstance(j, bool) and 0 <= int(j) < problem.n}
    want = toptw_score(problem, [sorted(visited)])
    if not (math.isfinite(solution.score) and abs(solution.score - want) <= 1e-6):
        out.append(Violation("plan", "score", f"solution.score={solution.score} but the routes score {want}"))
    listed = {u.item_id for u in solution.unserved}
    for j in problem.customers:
        if j in visited and str(j) in listed:
            out.append(Violation(str(j), "unserved", f"customer {j} is listed as unserved but visited"))
        elif j not in visited and str(j) not in listed:
            out.append(Violation(str(j), "unserved", f"customer {j} is neither visited nor listed as unserved"))
    return out

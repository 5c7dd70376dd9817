"""OR-Tools routing-library baseline for the (T)OPTW (prize-collecting VRP with time windows).

Model: ``m`` vehicles from ``inst.start`` to ``inst.end``; transit ``i -> j`` = travel ``t_ij`` +
service ``d_i`` of the origin; a ``Time`` dimension with slack (waiting) whose cumul is the service
start: ``[open_i, close_i]`` at customers, 0 at the start, ``<= t_max`` at the end. Every customer is
optional through ``AddDisjunction([i], penalty_i)`` with ``penalty_i = score_i * P`` where ``P =
m * t_max + 1`` (scaled units) exceeds any possible total arc cost (a route's travel is at most its
duration ``<= t_max``), so the search maximises score first and only then minimises travel. Arc cost
= scaled travel time. First solution PATH_CHEAPEST_ARC, then GUIDED_LOCAL_SEARCH until the time
limit. This is a correctness baseline, not a competitive TOPTW heuristic.

Integer data: times are scaled by ``models.toptw_cpsat.TIME_SCALE`` (100 units per minute: exact for
the KU Leuven 1-2 decimal travel times), durations rounded up and deadlines down otherwise; scores
are used as integers, or multiplied by ``SCORE_SCALE`` and rounded if they are not integral. The
returned routes are re-checked in floats with :func:`optimizer.toptw_check.check_toptw_routes`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from models.toptw_cpsat import TIME_SCALE, scale_scores, scale_times
from optimizer.toptw_check import check_toptw_routes, toptw_score
from optimizer.toptw_instance import TOPTWInstance

__all__ = ["RoutingResult", "solve_routing"]


@dataclass(frozen=True)
class RoutingResult:
    """Result of :func:`solve_routing`.

    Attributes
    ----------
    status : str
        ``'feasible'`` when the routing library returned a solution, ``'no_solution'`` otherwise
        (the routes are then empty). Never claims optimality. With distinct depots and
        ``travel[start, end] > t_max`` even an empty vehicle violates the time dimension, so the
        library finds nothing and the result is ``'no_solution'`` (CP-SAT handles that case).
    objective : float
        Sum of the scores of the visited customers (floats, from ``routes``).
    routes : list[list[int]]
        ``n_routes`` routes of customer node indices in visit order (depots excluded; may be empty).
    travel_min : float
        Total travel time of the routes in minutes (float data).
    solver_status : str
        Name of the routing library's status (e.g. ``ROUTING_SUCCESS``).
    wall_s : float
        Wall-clock seconds in the solver.
    """

    status: str
    objective: float
    routes: list[list[int]]
    travel_min: float
    solver_status: str
    wall_s: float


def _route_travel(inst: TOPTWInstance, route: list[int]) -> float:
    nodes = [inst.start, *route, inst.end]
    return float(sum(inst.travel_min[a, b] for a, b in zip(nodes[:-1], nodes[1:])))


def solve_routing(inst: TOPTWInstance, time_limit_s: float, seed: int = 0) -> RoutingResult:
    """Solve ``inst`` with the OR-Tools routing library (see module docstring).

    Parameters
    ----------
    inst : the instance.
    time_limit_s : search time limit in seconds (> 0), honoured by the routing library.
    seed : accepted for interface uniformity; the routing library's PATH_CHEAPEST_ARC + GLS search
        has no random seed (it is deterministic up to the wall-clock time limit), so it is only
        copied into ``sat_parameters.random_seed`` (unused by this search).

    Raises
    ------
    ValueError for a non-positive time limit; RuntimeError if the returned routes fail the float
    re-check.
    """
    if not (time_limit_s > 0 and math.isfinite(time_limit_s)):
        raise ValueError(f"time_limit_s={time_limit_s!r}: must be a positive finite number of seconds")
    t, _exact = scale_times(inst, TIME_SCALE)
    scores, _factor, _ = scale_scores(inst)
    tr, sv, op, cl, tmax = t["travel"], t["service"], t["open"], t["close"], int(t["t_max"])
    n, m = inst.n, inst.n_routes

    manager = pywrapcp.RoutingIndexManager(n, m, [inst.start] * m, [inst.end] * m)
    routing = pywrapcp.RoutingModel(manager)
    travel_cb = routing.RegisterTransitMatrix(tr.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(travel_cb)
    transit_cb = routing.RegisterTransitMatrix((tr + sv[:, None]).tolist())
    routing.AddDimension(transit_cb, max(tmax, 0), max(tmax, 0), True, "Time")
    time_dim = routing.GetDimensionOrDie("Time")

    penalty_factor = m * max(tmax, 0) + 1
    for i in inst.customers:
        idx = manager.NodeToIndex(i)
        routing.AddDisjunction([idx], int(scores[i]) * penalty_factor)
        lo, hi = int(op[i]), int(cl[i])
        if lo > hi or lo > tmax:
            routing.ActiveVar(idx).SetValue(0)  # window empty after conservative rounding
        else:
            time_dim.CumulVar(idx).SetRange(lo, min(hi, tmax))
    for v in range(m):
        time_dim.CumulVar(routing.End(v)).SetMax(tmax)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(round(time_limit_s * 1000))))
    params.sat_parameters.random_seed = int(seed)

    t0 = time.perf_counter()
    solution = routing.SolveWithParameters(params)
    wall = time.perf_counter() - t0
    status_name = routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status())

    if solution is None:
        return RoutingResult("no_solution", 0.0, [[] for _ in range(m)], 0.0, status_name, wall)

    routes: list[list[int]] = []
    for v in range(m):
        route = []
        idx = solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(idx):
            route.append(manager.IndexToNode(idx))
            idx = solution.Value(routing.NextVar(idx))
        routes.append(route)

    violations = check_toptw_routes(inst, routes)
    if violations:
        raise RuntimeError(f"{inst.name}: routing solution fails the float re-check: {violations}")
    return RoutingResult(
        status="feasible",
        objective=toptw_score(inst, routes),
        routes=routes,
        travel_min=sum(_route_travel(inst, r) for r in routes),
        solver_status=status_name,
        wall_s=wall,
    )

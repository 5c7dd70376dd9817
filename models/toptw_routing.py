"""OR-Tools routing-library baseline for the (T)OPTW (prize-collecting VRP with time windows).

Model: ``m`` vehicles from ``inst.start`` to ``inst.end``; transit ``i -> j`` = travel ``t_ij`` +
service ``d_i`` of the origin; a ``Time`` dimension with slack (waiting) whose cumul is the service
start: ``[open_i, close_i]`` at customers, ``>= open(start)`` at the start and ``<= min(t_max,
close(end))`` at the end (the depot semantics of :mod:`optimizer.toptw.problem`: a route leaves the
depot no earlier than it opens and is back by its closing time). Travel times are used as given
(the time dimension needs no triangle inequality). Every customer is
optional through ``AddDisjunction([i], penalty_i)`` with ``penalty_i = score_i * P`` where ``P =
m * t_max + 1`` (scaled units) exceeds any possible total arc cost (a route's travel is at most its
duration ``<= t_max``), so the search maximises score first and only then minimises travel. Arc cost
= scaled travel time. First solution PATH_CHEAPEST_ARC, then GUIDED_LOCAL_SEARCH until the time
limit. This is a correctness baseline, not a competitive TOPTW heuristic.

Integer data: times are scaled by ``models.toptw_cpsat.TIME_SCALE`` (100 units per minute: exact for
the KU Leuven 1-2 decimal travel times), durations rounded up and deadlines down otherwise; scores
are used as integers, or multiplied by ``SCORE_SCALE`` and rounded if they are not integral. The
returned answer is re-checked in floats with the independent checker :func:`optimizer.toptw.verify.verify`.
The result never claims optimality (status ``feasible``, or ``no_solution_in_time`` with empty routes).
"""

from __future__ import annotations

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from models._backend import time_left_s
from models.toptw_cpsat import TIME_SCALE, scale_scores, scale_times
from optimizer.core.results import FEASIBLE, NO_SOLUTION_IN_TIME, SolveStats
from optimizer.core.stop import StoppingCriterion
from optimizer.toptw.problem import TOPTWInstance
from optimizer.toptw.solution import ToptwSolution, make_solution
from optimizer.toptw.verify import verify

__all__ = ["solve_routing"]


def solve_routing(inst: TOPTWInstance, stop: StoppingCriterion, seed: int = 0) -> ToptwSolution:
    """Solve ``inst`` with the OR-Tools routing library (see module docstring).

    Parameters
    ----------
    inst : the instance.
    stop : its ``max_runtime_s`` is the search limit, model building included
        (``models._backend.time_left_s``).
    seed : recorded in the stats; the PATH_CHEAPEST_ARC + GLS search has no random seed (it is
        deterministic up to the wall-clock time limit).

    Returns ``feasible`` routes, or ``no_solution_in_time`` with empty routes when the library
    finds nothing (with distinct depots and ``travel[start, end] > t_max`` even an empty vehicle
    violates the time dimension; CP-SAT handles that case). When the start depot opens after the
    return deadline, the empty plan is returned (``feasible``) without a search. Raises RuntimeError
    if the answer fails the independent checker.
    """
    deadline = stop.deadline()
    t, _exact = scale_times(inst, TIME_SCALE)
    scores, _factor, _ = scale_scores(inst)
    tr, sv, op, cl = t["travel"], t["service"], t["open"], t["close"]
    depart = int(op[inst.start])
    tmax = min(int(t["t_max"]), int(cl[inst.end]))  # the return deadline
    n, m = inst.n, inst.n_routes
    if depart > tmax:  # no route can leave and come back: the empty plan is the only one
        stats = SolveStats(status=FEASIBLE, runtime_s=deadline.elapsed_s(), stopped_by="solved",
                           seed=int(seed))
        return make_solution(inst, [], stats)

    manager = pywrapcp.RoutingIndexManager(n, m, [inst.start] * m, [inst.end] * m)
    routing = pywrapcp.RoutingModel(manager)
    travel_cb = routing.RegisterTransitMatrix(tr.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(travel_cb)
    transit_cb = routing.RegisterTransitMatrix((tr + sv[:, None]).tolist())
    routing.AddDimension(transit_cb, max(tmax, 0), max(tmax, 0), False, "Time")  # start cumul >= depart
    time_dim = routing.GetDimensionOrDie("Time")

    penalty_factor = m * max(tmax, 0) + 1
    for i in inst.customers:
        idx = manager.NodeToIndex(i)
        routing.AddDisjunction([idx], int(scores[i]) * penalty_factor)
        lo, hi = int(op[i]), int(cl[i])
        if lo > hi or lo > tmax or hi < depart:
            routing.ActiveVar(idx).SetValue(0)  # window empty after conservative rounding
        else:
            time_dim.CumulVar(idx).SetRange(max(lo, depart), min(hi, tmax))
    for v in range(m):
        time_dim.CumulVar(routing.Start(v)).SetMin(depart)
        time_dim.CumulVar(routing.End(v)).SetMax(tmax)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(round(time_left_s(stop, deadline) * 1000))))
    params.sat_parameters.random_seed = int(seed)

    solution = routing.SolveWithParameters(params)
    if solution is None:
        stats = SolveStats(status=NO_SOLUTION_IN_TIME, runtime_s=deadline.elapsed_s(), stopped_by="max_runtime_s",
                           seed=int(seed))
        return make_solution(inst, [], stats)

    routes: list[list[int]] = []
    for v in range(m):
        route = []
        idx = solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(idx):
            route.append(manager.IndexToNode(idx))
            idx = solution.Value(routing.NextVar(idx))
        routes.append(route)

    stats = SolveStats(status=FEASIBLE, runtime_s=deadline.elapsed_s(), stopped_by="max_runtime_s", seed=int(seed))
    solution = make_solution(inst, routes, stats)
    violations = verify(inst, solution)
    if violations:
        raise RuntimeError(f"{inst.name}: routing solution rejected by the checker: {[v.message for v in violations]}")
    return solution

"""Oxygen-cylinder replenishment: exact multi-day inventory-routing model over enumerated routes
(MODELS.md section 4.3), on CP-SAT.

The problem is ``optimizer.stations.oxygen.OxygenProblem`` (read here by its attributes; this
module imports no family module): stations i = 1..n with capacity ``U_i``, initial stock
``I_i0``, daily demand ``d_it`` (full cylinders), safety stock ``SS_i``; ``trucks`` K of
``truck_capacity`` Q; costs ``cost_per_km``, ``holding_cny`` h, ``stockout_cny`` M. The family
passes the candidate routes: every subset of at most ``max_route_stops`` reachable stations in
its shortest order whose duration fits the shift, as (stops, km, minutes).

Model (``x_rt`` = 1 if route r is driven on day t; ``q_irt`` cylinders left at station i)::

    min  sum_rt c_r x_rt + h sum_it I_it + M sum_it L_it + (M / 10) sum_it B_it
    s.t. sum_r x_rt <= K ;  sum_{r ∋ i} x_rt <= 1                       (trucks; one visit a day)
         q_irt <= min(U_i, Q) x_rt ;  sum_i q_irt <= Q x_rt               (truck load)
         I_i,t-1 + sum_r q_irt <= U_i                                     (deliveries at the start of day t)
         I_it = I_i,t-1 + sum_r q_irt - d_it + L_it ,  I_it, L_it >= 0    (L: unmet demand, a stock-out)
         I_it + B_it >= SS_i ,  0 <= B_it <= SS_i                         (soft safety stock)

with ``c_r = km_r * cost_per_km``. Scale: every cost is converted to integer 0.01 CNY by
``models._backend.to_int`` (the rounding is at most 0.005 CNY per route-day, exact for km given to
0.1 km at a cost_per_km with 1 decimal). Optimal for the route set, i.e. exact when the routes
are all subsets (``max_route_stops >= n``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from models._backend import BackendOutcome, cpsat_outcome, cpsat_solver, time_left_s, to_int
from optimizer.core.clock import Deadline
from optimizer.core.stop import StoppingCriterion

__all__ = ["COST_SCALE", "ExactRoute", "OxygenModelResult", "solve"]

COST_SCALE = 100
"""Objective units per CNY (0.01 CNY)."""


@dataclass(frozen=True, slots=True)
class ExactRoute:
    """A route the model drives: ``day``, ``route`` index into the candidate routes, ``delivered``
    cylinders per stop (in the route's stop order)."""

    day: int
    route: int
    delivered: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class OxygenModelResult:
    """Raw answer of :func:`solve`: the back end's outcome (objective and bound in CNY, penalties
    included) and, with a plan, the routes driven (day by day, in candidate-route order)."""

    outcome: BackendOutcome
    driven: tuple[ExactRoute, ...]


def solve(problem: Any, routes: Sequence[tuple[tuple[int, ...], float, float]], stop: StoppingCriterion,
          deadline: Deadline, *, workers: int = 8, seed: int = 0,
          hint: Sequence[tuple[int, tuple[int, ...], tuple[int, ...]]] = ()) -> OxygenModelResult:
    """Build and solve the model of the module docstring on CP-SAT; the time limit is what is left
    of ``stop`` on ``deadline`` when the model is built (``models._backend.time_left_s``).

    ``problem``: an ``optimizer.stations.oxygen.OxygenProblem``; ``routes``: candidate routes
    (station indices in visiting order, km, minutes); ``hint``: (day, stops, delivered) of a known
    plan, whose routes that are candidates are given to CP-SAT as a solution hint."""
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    p = problem
    n, T, K, Q = p.n, p.days, p.trucks, p.truck_capacity
    m = cp_model.CpModel()
    x = {(r, t): m.new_bool_var(f"x{r}_{t}") for r in range(len(routes)) for t in range(T)}
    q = {}
    for r, (order, _, _) in enumerate(routes):
        for t in range(T):
            for i in order:
                q[(i, r, t)] = m.new_int_var(0, min(p.capacity[i], Q), f"q{i}_{r}_{t}")
                m.add(q[(i, r, t)] <= min(p.capacity[i], Q) * x[(r, t)])
            m.add(sum(q[(i, r, t)] for i in order) <= Q * x[(r, t)])
    on = {i: [r for r, rt in enumerate(routes) if i in rt[0]] for i in range(n)}
    stock, lost = {}, {}
    obj_below: list = []
    for t in range(T):
        m.add(sum(x[(r, t)] for r in range(len(routes))) <= K)
        for i in range(n):
            if on[i]:
                m.add(sum(x[(r, t)] for r in on[i]) <= 1)
            stock[(i, t)] = m.new_int_var(0, p.capacity[i], f"I{i}_{t}")
            lost[(i, t)] = m.new_int_var(0, p.demand[i][t], f"L{i}_{t}")
            prev = p.initial[i] if t == 0 else stock[(i, t - 1)]
            qin = sum(q[(i, r, t)] for r in on[i]) if on[i] else 0
            m.add(prev + qin <= p.capacity[i])
            m.add(stock[(i, t)] == prev + qin - p.demand[i][t] + lost[(i, t)])
            if p.ss(i) > 0:
                below = m.new_int_var(0, p.ss(i), f"B{i}_{t}")
                m.add(stock[(i, t)] + below >= p.ss(i))
                obj_below.append(below)
    c_route = [to_int(km * p.cost_per_km, COST_SCALE, f"routes[{r}].cost") for r, (_, km, _) in enumerate(routes)]
    h = to_int(p.holding_cny, COST_SCALE, "holding_cny")
    M = to_int(p.stockout_cny, COST_SCALE, "stockout_cny")
    obj = (sum(c_route[r] * x[(r, t)] for r in range(len(routes)) for t in range(T))
           + h * sum(stock.values()) + M * sum(lost.values()) + (M // 10) * sum(obj_below))
    m.minimize(obj)
    if hint:
        index = {frozenset(order): r for r, (order, _, _) in enumerate(routes)}
        used = set()
        for day, stops, delivered in hint:
            r = index.get(frozenset(stops))
            if r is None or (r, day) in used:
                continue
            used.add((r, day))
            m.add_hint(x[(r, day)], 1)
            for i, qq in zip(stops, delivered):
                m.add_hint(q[(i, r, day)], min(qq, min(p.capacity[i], Q)))
        for key, var in x.items():
            if key not in used:
                m.add_hint(var, 0)
    solver = cpsat_solver(time_left_s(stop, deadline), workers, seed)
    code = solver.solve(m)
    outcome = cpsat_outcome(solver, code, time.perf_counter() - t0, scale=COST_SCALE)
    if not outcome.has_solution:
        return OxygenModelResult(outcome, ())
    driven = tuple(ExactRoute(t, r, tuple(int(solver.value(q[(i, r, t)])) for i in routes[r][0]))
                   for t in range(T) for r in range(len(routes)) if solver.value(x[(r, t)]))
    return OxygenModelResult(outcome, driven)

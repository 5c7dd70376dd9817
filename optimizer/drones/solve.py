"""``solve``: the one entry point of the drone family (heuristic by default, exact CP-SAT on request).

Heuristic (``method="heuristic"``): greedy cheapest insertion by priority (latest window close first
among equals), a relocate local search, then iterated ruin-and-recreate (random and related
removal, priority-ordered best insertion with new-trip moves, relocate every 10th iteration); all
kernels in Numba (``optimizer.drones.kernels``). ``stop.max_iterations`` counts ruin-and-recreate
iterations, ``stop.max_runtime_s`` covers everything, the air-distance matrix included. The clock is
read every ``max(1, min(25, 2500 // N))`` iterations (fixed by the instance size, so a seed with only
an iteration limit gives the same answer); the limit can be overrun by one such batch.

Exact (``method="exact"``): trip enumeration + CP-SAT set packing with scheduling
(``models.drone_exact``), for small cases; its time limit is what ``stop.max_runtime_s`` leaves after
the instance is built.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from optimizer.core.errors import InvalidInput, check_count
from optimizer.core.results import FEASIBLE, OPTIMAL, SolveStats, Unserved
from optimizer.core.stop import StoppingCriterion
from optimizer.drones.instance import DroneInstance, build_instance, decode_routes, trips_from_routes
from optimizer.drones.kernels import insert_all, recompute, relocate_pass, ruin_and_recreate
from optimizer.drones.problem import DroneProblem
from optimizer.drones.solution import CAPACITY, TIME_LIMIT, DronePlan
from optimizer.drones.verify import verify

METHODS = ("heuristic", "exact")


@dataclass(frozen=True, slots=True)
class DroneParams:
    """Options of ``solve``.

    Attributes
    ----------
    method : str
        ``heuristic`` (default) or ``exact`` (``models.drone_exact``: CP-SAT over enumerated trips,
        small cases only).
    max_trips : int
        Exact model: most feasible trips the enumeration may find per drone group before it gives
        up with ``InvalidInput`` (guards memory and time), 1..10^7.
    workers : int
        Exact model: CP-SAT search workers, 1..64.
    """

    method: str = "heuristic"
    max_trips: int = 200_000
    workers: int = 8

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidInput("params.method", self.method, f"must be one of {list(METHODS)}")
        check_count("params.max_trips", self.max_trips, 1, 10_000_000)
        check_count("params.workers", self.workers, 1, 64)


def solve(problem: DroneProblem, stop: StoppingCriterion, seed: int = 0, params: DroneParams | None = None) -> DronePlan:
    """Plan the day's drone trips (multi-trip drone VRP with time windows, energy and no-fly zones).

    Every trip of the plan is feasible; every delivery left out is in ``plan.unserved`` with a reason
    word (``optimizer.drones.solution``). Raises ``InvalidInput`` for bad arguments.
    """
    t0 = time.perf_counter()
    if not isinstance(problem, DroneProblem):
        raise InvalidInput("problem", type(problem).__name__, "must be a DroneProblem")
    if not isinstance(stop, StoppingCriterion):
        raise InvalidInput("stop", type(stop).__name__, "must be a StoppingCriterion")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInput("seed", seed, "must be an integer >= 0")
    params = params if params is not None else DroneParams()
    if not isinstance(params, DroneParams):
        raise InvalidInput("params", type(params).__name__, "must be a DroneParams")
    inst = build_instance(problem)
    if params.method == "exact":
        return _solve_exact(inst, stop, int(seed), params, t0)
    return _solve_heuristic(inst, stop, int(seed), t0)


def _unserved(inst: DroneInstance, served: set[int], reason: str, detail: str) -> tuple[Unserved, ...]:
    """Screened deliveries with their reason, then every other delivery not served with ``reason``."""
    p = inst.problem
    out = [Unserved(p.deliveries[c].id, r, txt) for c, (r, txt) in inst.excluded.items()]
    out += [Unserved(p.deliveries[c].id, reason, detail) for c in inst.active if int(c) not in served]
    return tuple(out)


def _plan(inst: DroneInstance, routes: dict[int, list[list[int]]], stats: SolveStats, reason: str,
          detail: str) -> DronePlan:
    trips = trips_from_routes(inst, routes)
    served = {c for v in routes.values() for tr in v for c in tr}
    return DronePlan(trips, _unserved(inst, served, reason, detail), stats,
                     int(sum(int(inst.prio[c]) for c in served)), float(sum(t.energy_wh for t in trips)),
                     float(sum(t.return_min - t.depart_min for t in trips)))


def _solve_heuristic(inst: DroneInstance, stop: StoppingCriterion, seed: int, t0: float) -> DronePlan:
    p = inst.problem
    N, ND = len(p.deliveries), len(inst.drones)
    routes = -np.ones((ND, 2 * N + 4), dtype=np.int64)
    lens = np.zeros(ND, dtype=np.int64)
    costs = np.zeros(ND)
    where = -np.ones(N, dtype=np.int64)
    active = inst.active
    use_time = 1 if p.objective == "time" else 0
    day0, day1 = p.day
    args = (inst.D, inst.DR, inst.DL, day0, day1, use_time)
    np.random.seed(seed)
    order = active[np.lexsort((inst.DL[active, 3], -inst.prio[active]))] if len(active) else active
    buf = np.empty(2 * N + 8, dtype=np.int64)
    insert_all(order, routes, lens, costs, where, buf, *args)
    # relocate passes until none improves, or the time is up (each pass is one kernel call, about
    # 0.1 s at 500 deliveries; the insertion above already gives a complete feasible plan)
    while ((stop.max_runtime_s is None or time.perf_counter() - t0 < stop.max_runtime_s)
           and relocate_pass(active, routes, lens, costs, where, buf, *args)):
        pass
    it = 0
    max_it = stop.max_iterations if stop.max_iterations is not None else 10**9
    max_stall = stop.max_no_improvement
    stopped_by = "max_iterations"
    batch = max(1, min(25, 2500 // max(N, 1)))
    best = (int(sum(int(inst.prio[c]) for c in active if where[c] >= 0)), float(costs.sum()))
    stall = 0
    while len(active):
        if it >= max_it:
            stopped_by = "max_iterations"
            break
        if stop.max_runtime_s is not None and time.perf_counter() - t0 >= stop.max_runtime_s:
            stopped_by = "max_runtime_s"
            break
        if max_stall is not None and stall >= max_stall:
            stopped_by = "max_no_improvement"
            break
        n = min(batch, max_it - it)
        s2, c2 = ruin_and_recreate(routes, lens, costs, where, active, inst.prio, n, seed * 7919 + it, it, *args)
        it += n
        if s2 > best[0] or (s2 == best[0] and c2 < best[1] - 1e-9):
            best, stall = (int(s2), float(c2)), 0
        else:
            stall += n
    else:
        stopped_by = "solved"  # nothing a solver could serve
    recompute(routes, lens, costs, *args)
    routes_d = decode_routes(routes, lens)
    stats = SolveStats(FEASIBLE, float(costs.sum()), None, None, time.perf_counter() - t0, it, stopped_by, seed)
    plan = _plan(inst, routes_d, stats, CAPACITY,
                 "no spare drone capacity (energy, payload, time window or fleet)")
    return plan


def _solve_exact(inst: DroneInstance, stop: StoppingCriterion, seed: int, params: DroneParams, t0: float) -> DronePlan:
    from models.drone_exact import solve_exact

    deadline = stop.deadline(t0)
    res = solve_exact(inst, stop, deadline, seed=seed, max_trips=params.max_trips, workers=params.workers)
    runtime = time.perf_counter() - t0
    if res.routes is None:
        stats = SolveStats(res.status, None, None, None, runtime, 0, res.stopped_by, seed)
        return _plan(inst, {}, stats, TIME_LIMIT, "the exact model found no plan within the time limit")
    stats = SolveStats(res.status, res.objective, res.bound, res.gap, runtime, 0, res.stopped_by, seed)
    plan = _plan(inst, res.routes, stats, CAPACITY, "not in the optimal plan (capacity)" if res.status == OPTIMAL
                 else "not in the best plan found within the time limit (capacity)")
    bad = verify(inst.problem, plan)
    if bad:  # never label a plan the verifier rejects: a bug in the formulation, not a result
        raise RuntimeError(f"the exact drone model returned a plan the verifier rejects: {[str(v) for v in bad[:3]]}")
    return plan

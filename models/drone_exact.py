"""Exact drone delivery plan for small cases: trip enumeration + CP-SAT (set packing with scheduling).

Formulation (route-based, the set-partitioning view of the multi-trip drone VRP, Dorling et al. 2017):

* T_g: every feasible trip (ordered stop sequence) of drone group g = (hub, type), enumerated by DFS
  (a prefix that breaks the payload, the energy reserve or a time window cannot be extended, since energy
  grows and the departure interval [lo, hi] shrinks along the sequence); per stop set only orders not
  dominated in (cost, duration, lo, -hi) are kept.
* x_{t,d} in {0,1}: drone d of group g flies trip t in T_g, as an optional interval with start
  s in [lo_t, hi_t] and size duration_t + swap (``GRID`` = 0.01 min, rounded conservatively: start
  bounds inward, size up).
* each delivery at most once: sum_{t ∋ i, d} x_{t,d} <= 1;  NoOverlap of each drone's intervals.
* lexicographic objective: (1) max sum_i priority_i * served_i; (2) with (1) fixed, min sum cost_t x_{t,d}
  (energy in Wh or flight minutes, scaled by ``COST_SCALE`` to integers).

Takes the family's prepared instance (``optimizer.drones.instance``) and returns raw values (routes,
status, objective, bound) that ``optimizer.drones.solve`` turns into a ``DronePlan``. The time limit is
what the caller's ``StoppingCriterion`` leaves (``models._backend.time_left_s``); the enumeration counts
against it. Only for small instances (``max_trips`` guards the enumeration).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models._backend import cpsat_solver, cpsat_status, time_left_s, to_int
from optimizer.core.clock import Deadline
from optimizer.core.errors import InvalidInput
from optimizer.core.results import FEASIBLE, NO_SOLUTION_IN_TIME, OPTIMAL, relative_gap
from optimizer.core.stop import StoppingCriterion
from optimizer.drones.instance import DroneInstance
from optimizer.drones.kernels import INF, route_cost

GRID = 100.0  # time units per minute
COST_SCALE = 1000.0  # integer cost units per Wh (or per minute)


@dataclass(frozen=True, slots=True)
class ExactResult:
    """What the model found: ``routes`` {drone index: [trip (delivery indices), ...]} in time order
    (None without a plan), the shared status word, the stage-2 cost and its bound (Wh or min; the
    bound is None unless stage 1 was proved optimal), the gap, and what ended the solve."""

    status: str
    routes: dict | None
    objective: float | None
    bound: float | None
    gap: float | None
    stopped_by: str


class _OutOfTime(Exception):
    pass


def _trip_window(inst: DroneInstance, d: int, seq: list[int]) -> tuple[float, float, float]:
    """(lo, hi, duration) of a single trip of drone d, min (no drone-level schedule)."""
    _base, _k, v, tv, svc = inst.DR[d, 1:6]
    hub = int(inst.DR[d, 0])
    off, lo, hi, u = 0.0, -INF, INF, hub
    for c in seq:
        node = int(inst.DL[c, 0])
        off += inst.D[u, node] / v + tv
        lo, hi = max(lo, inst.DL[c, 2] - off), min(hi, inst.DL[c, 3] - off)
        off += svc
        u = node
    off += inst.D[u, hub] / v + tv
    day0, day1 = inst.problem.day
    return max(lo, day0), min(hi, day1 - off), off


def enumerate_trips(inst: DroneInstance, d: int, active: list[int], max_trips: int = 200_000,
                    deadline: Deadline | None = None) -> list[tuple]:
    """Non-dominated feasible trips of drone d: (stops tuple, cost, lo, hi, duration).

    Raises ``InvalidInput`` naming ``max_trips`` when more trips exist than allowed, ``_OutOfTime``
    when ``deadline`` expires.
    """
    use_time = 1 if inst.problem.objective == "time" else 0
    day0, day1 = inst.problem.day
    found: dict[frozenset, list[tuple]] = {}
    count = 0
    buf = np.empty(len(active) + 2, dtype=np.int64)
    work = np.empty((2, len(active) + 2))

    def dfs(seq: list[int]) -> None:
        nonlocal count
        for c in active:
            if c in seq:
                continue
            s2 = seq + [c]
            buf[: len(s2)] = s2
            cost = route_cost(buf, len(s2), d, inst.D, inst.DR, inst.DL, day0, day1, use_time, work)
            if cost >= INF:
                continue
            count += 1
            if count > max_trips:
                raise InvalidInput("max_trips", max_trips, "too many trips to enumerate; the exact model is for small cases")
            if deadline is not None and count % 256 == 0 and deadline.expired():
                raise _OutOfTime
            lo, hi, dur = _trip_window(inst, d, s2)
            found.setdefault(frozenset(s2), []).append((tuple(s2), cost, lo, hi, dur))
            dfs(s2)

    dfs([])
    out = []
    for opts in found.values():
        opts.sort(key=lambda o: (o[1], o[4]))
        kept: list[tuple] = []
        for o in opts:
            if not any(k[1] <= o[1] + 1e-12 and k[4] <= o[4] + 1e-12 and k[2] <= o[2] + 1e-12 and k[3] >= o[3] - 1e-12
                       for k in kept):
                kept.append(o)
        out += kept
    return out


def solve_exact(inst: DroneInstance, stop: StoppingCriterion, deadline: Deadline, seed: int = 0,
                max_trips: int = 200_000, workers: int = 8) -> ExactResult:
    """Optimal plan (lexicographic: priority served, then cost) within the time ``stop`` leaves.

    Stage 1 maximises the served priority; stage 2 fixes it and minimises the cost, starting from
    stage 1's plan (kept if stage 2 finds nothing better in time). ``status`` is ``optimal`` only
    when both stages are proved optimal. Raises ``InvalidInput`` naming ``max_trips`` when the
    enumeration is too large.
    """
    from ortools.sat.python import cp_model

    active = [int(c) for c in inst.active]
    groups: dict[tuple[int, str], list[int]] = {}
    for d, (_, hi, t) in enumerate(inst.drones):
        groups.setdefault((hi, t), []).append(d)
    m = cp_model.CpModel()
    xs: list[tuple[int, tuple, float, object, object]] = []
    cover: dict[int, list] = {c: [] for c in active}
    try:
        for ds in groups.values():
            trips = enumerate_trips(inst, ds[0], active, max_trips, deadline)
            for d in ds:
                swap = inst.DR[d, 8]
                ivs = []
                for stops, cost, lo, hi, dur in trips:
                    a, b = math.ceil(lo * GRID - 1e-6), math.floor(hi * GRID + 1e-6)
                    if a > b:
                        continue
                    x = m.NewBoolVar("")
                    s = m.NewIntVar(a, b, "")
                    ivs.append(m.NewOptionalFixedSizeIntervalVar(s, math.ceil((dur + swap) * GRID - 1e-6), x, ""))
                    xs.append((d, stops, cost, x, s))
                    for c in stops:
                        cover[c].append(x)
                m.AddNoOverlap(ivs)
            if deadline.expired():
                raise _OutOfTime
    except _OutOfTime:
        return ExactResult(NO_SOLUTION_IN_TIME, None, None, None, None, "max_runtime_s")
    if not xs:  # nothing can be flown: the empty plan is optimal
        return ExactResult(OPTIMAL, {}, 0.0, 0.0, 0.0, "solved")
    for c, lits in cover.items():
        if lits:
            m.Add(sum(lits) <= 1)
    served_expr = sum(int(inst.prio[c]) * x for _, stops, _, x, _ in xs for c in stops)
    m.Maximize(served_expr)
    solver = cpsat_solver(time_left_s(stop, deadline), workers=workers, seed=seed)
    st1 = cpsat_status(solver.Solve(m))
    if st1 not in (OPTIMAL, FEASIBLE):
        return ExactResult(st1, None, None, None, None, "max_runtime_s" if st1 == NO_SOLUTION_IN_TIME else "solved")
    chosen = _chosen(solver, xs)
    best = round(solver.ObjectiveValue())
    hint = {id(x): solver.Value(x) for _, _, _, x, _ in xs}
    for _, _, _, x, _ in xs:
        m.AddHint(x, hint[id(x)])
    m.Add(served_expr >= best)
    m.ClearObjective()
    cost_expr = sum(to_int(cost, COST_SCALE, "trip cost") * x for _, _, cost, x, _ in xs)
    m.Minimize(cost_expr)
    stage1_cost = sum(cost for d, stops, cost, x, _ in xs if hint[id(x)])
    solver = cpsat_solver(time_left_s(stop, deadline), workers=workers, seed=seed)
    st2 = cpsat_status(solver.Solve(m))
    if st2 in (OPTIMAL, FEASIBLE):
        chosen = _chosen(solver, xs)
        objective = sum(cost for d, stops, cost, x, _ in xs if solver.Value(x))
        bound = solver.BestObjectiveBound() / COST_SCALE if st1 == OPTIMAL else None
    else:
        objective, bound = stage1_cost, None
    status = OPTIMAL if (st1 == OPTIMAL and st2 == OPTIMAL) else FEASIBLE
    if status == OPTIMAL:  # the integer bound equals the integer objective; report it in exact units
        bound = objective
    gap = 0.0 if status == OPTIMAL else relative_gap(objective, bound)
    stopped_by = "solved" if status == OPTIMAL else "max_runtime_s"
    routes = {d: [stops for _, stops in sorted(v)] for d, v in chosen.items()}
    return ExactResult(status, routes, float(objective), bound, gap, stopped_by)


def _chosen(solver, xs) -> dict[int, list[tuple[int, list[int]]]]:
    out: dict[int, list[tuple[int, list[int]]]] = {}
    for d, stops, _, x, s in xs:
        if solver.Value(x):
            out.setdefault(d, []).append((solver.Value(s), list(stops)))
    return out


__all__ = ["COST_SCALE", "GRID", "ExactResult", "enumerate_trips", "solve_exact"]

"""Exact drone delivery plan for small cases: trip enumeration + CP-SAT (set packing with scheduling).

Formulation (route-based, as the set-partitioning view of the multi-trip drone VRP, Dorling et al. 2017):

* T_g: every feasible trip (ordered stop sequence) of drone group g = (hub, type), enumerated by DFS
  (a prefix that breaks the payload, the energy reserve or a time window cannot be extended, since energy
  grows and the departure interval [lo, hi] shrinks along the sequence); per stop set only orders not
  dominated in (cost, duration, lo, -hi) are kept.
* x_{t,d} in {0,1}: drone d of group g flies trip t in T_g, as an optional interval with start
  s in [lo_t, hi_t] and size duration_t + swap (0.01 min grid, rounded conservatively).
* each delivery at most once: sum_{t ∋ i, d} x_{t,d} <= 1;  NoOverlap of each drone's intervals.
* lexicographic objective: (1) max sum_i priority_i * served_i; (2) with (1) fixed, min sum cost_t x_{t,d}
  (energy in Wh, or flight minutes).

Only for small instances (``max_trips`` guards the enumeration).
"""

from __future__ import annotations

import math
import time

import numpy as np
from ortools.sat.python import cp_model

from optimizer.domain import InvalidInput
from optimizer.drones import (
    INF,
    DronePlan,
    DroneProblem,
    Instance,
    _route_cost,
    build_instance,
    trips_from_routes,
)

GRID = 100.0  # time units per minute


def _trip_window(inst: Instance, d: int, seq: list[int]) -> tuple[float, float, float]:
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


def enumerate_trips(inst: Instance, d: int, active: list[int], max_trips: int = 200_000) -> list[tuple]:
    """Non-dominated feasible trips of drone d: (stops tuple, cost, lo, hi, duration)."""
    use_time = 1 if inst.problem.objective == "time" else 0
    day0, day1 = inst.problem.day
    found: dict[frozenset, list[tuple]] = {}
    count = 0
    buf = np.empty(len(active) + 2, dtype=np.int64)

    def dfs(seq: list[int]) -> None:
        nonlocal count
        for c in active:
            if c in seq:
                continue
            s2 = seq + [c]
            buf[: len(s2)] = s2
            cost = _route_cost(buf, len(s2), d, inst.D, inst.DR, inst.DL, day0, day1, use_time)
            if cost >= INF:
                continue
            count += 1
            if count > max_trips:
                raise InvalidInput("max_trips", max_trips, "too many trips to enumerate; the exact model is for small cases")
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


def solve_exact(problem: DroneProblem | Instance, time_limit_s: float = 60.0, max_trips: int = 200_000) -> tuple[DronePlan, bool]:
    """Optimal plan (lexicographic priority, then cost) and whether CP-SAT proved optimality of both stages."""
    t0 = time.perf_counter()
    inst = problem if isinstance(problem, Instance) else build_instance(problem)
    p = inst.problem
    N = len(p.deliveries)
    active = [c for c in range(N) if c not in inst.excluded]
    groups: dict[tuple[int, str], list[int]] = {}
    for d, (_, hi, t) in enumerate(inst.drones):
        groups.setdefault((hi, t), []).append(d)
    m = cp_model.CpModel()
    xs: list[tuple[int, tuple, float, cp_model.IntVar, cp_model.IntVar]] = []
    cover: dict[int, list] = {c: [] for c in active}
    for ds in groups.values():
        trips = enumerate_trips(inst, ds[0], active, max_trips)
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
    for c, lits in cover.items():
        if lits:
            m.Add(sum(lits) <= 1)
    served_expr = sum(int(inst.prio[c]) * x for _, stops, _, x, _ in xs for c in stops)
    m.Maximize(served_expr)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 8
    st1 = solver.Solve(m)
    if st1 not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise InvalidInput("exact", solver.StatusName(st1), "CP-SAT found no plan")
    best = round(solver.ObjectiveValue())
    m.Add(served_expr >= best)
    m.ClearObjective()
    m.Minimize(sum(round(cost * 1000) * x for _, _, cost, x, _ in xs))
    solver.parameters.max_time_in_seconds = max(1.0, time_limit_s - (time.perf_counter() - t0))
    st2 = solver.Solve(m)
    if st2 not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise InvalidInput("exact", solver.StatusName(st2), "CP-SAT stage 2 found no plan")
    chosen: dict[int, list[tuple[int, list[int]]]] = {}
    for d, stops, _, x, s in xs:
        if solver.Value(x):
            chosen.setdefault(d, []).append((solver.Value(s), list(stops)))
    routes = {d: [stops for _, stops in sorted(v)] for d, v in chosen.items()}
    trips = trips_from_routes(inst, routes)
    served = {c for v in routes.values() for tr in v for c in tr}
    unserved = {p.deliveries[c].id: r for c, r in inst.excluded.items()}
    for c in active:
        if c not in served:
            unserved[p.deliveries[c].id] = "not in the optimal plan (capacity)"
    plan = DronePlan(trips, unserved, int(sum(inst.prio[c] for c in served)), float(sum(t.energy_wh for t in trips)),
                     float(sum(t.return_min - t.depart_min for t in trips)), time.perf_counter() - t0, 0, routes)
    return plan, st1 == cp_model.OPTIMAL and st2 == cp_model.OPTIMAL

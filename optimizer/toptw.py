"""The classic TOPTW (benchmark form) solved by the same ILS engine as the Lhasa planner.

A ``TOPTWInstance`` maps onto the kernels as: nodes = customers, ``m`` routes of size 1 from the
start depot to the end depot inside ``[open(start), t_max]``, value = score, daily capacity 1
(each customer served at most once overall), no entry slots.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from optimizer.ils import ILSParams, StoppingCriterion, run_ils
from optimizer.kernels import NODE, KernelProblem, new_state
from optimizer.toptw_instance import TOPTWInstance


@dataclass(frozen=True, slots=True)
class TOPTWSolution:
    """Routes as lists of instance node indices (customers only, in visit order) and the score."""

    routes: tuple[tuple[int, ...], ...]
    score: float
    iterations: int
    runtime_s: float
    stopped_by: str


def compile_toptw(inst: TOPTWInstance) -> tuple[KernelProblem, np.ndarray, np.ndarray]:
    """Kernel arrays for ``inst``: (KernelProblem, daily capacity int64[c], customer ids int64[c])."""
    cust = np.array(inst.customers, dtype=np.int64)
    c, m = len(cust), inst.n_routes
    t = np.ascontiguousarray(inst.travel_min[np.ix_(cust, cust)], dtype=np.float64)
    start_t = inst.travel_min[inst.start, cust]
    end_t = inst.travel_min[cust, inst.end]
    P = KernelProblem(
        travel=t,
        travel_t=np.ascontiguousarray(t.T),
        t_from=np.ascontiguousarray(np.tile(start_t, (m, 1))),
        t_to=np.ascontiguousarray(np.tile(end_t, (m, 1))),
        t_direct=np.full(m, float(inst.travel_min[inst.start, inst.end])),
        service=np.ascontiguousarray(inst.service_min[cust], dtype=np.float64),
        open_=np.ascontiguousarray(inst.open_min[cust], dtype=np.float64),
        close=np.ascontiguousarray(inst.close_min[cust], dtype=np.float64),
        day_start=np.full(m, float(inst.open_min[inst.start])),
        day_end=np.full(m, float(inst.t_max)),
        value=np.ascontiguousarray(np.tile(inst.score[cust].astype(np.float64), (m, 1))),
        protect=np.zeros((m, c), dtype=np.bool_),
        size=np.ones(m, dtype=np.int64),
        cand=np.ascontiguousarray(np.tile(np.arange(c, dtype=np.int32), (m, 1))),
        n_cand=np.full(m, c, dtype=np.int32),
        slot_quota=np.full(c, -1, dtype=np.int64),
        slot_len=np.array([1440.0]),
    )
    return P, np.ones(c, dtype=np.int64), cust


def solve_toptw(inst: TOPTWInstance, stop: StoppingCriterion, seed: int = 0,
                params: ILSParams = ILSParams()) -> TOPTWSolution:
    """Solve a benchmark TOPTW/TOP instance with the ILS engine (see ``optimizer.ils``)."""
    t0 = time.perf_counter()
    P, daily, cust = compile_toptw(inst)
    S = new_state(P, daily, 1, len(cust) + 1)
    res = run_ils(P, S, stop, seed=seed, params=params, t0=t0)
    B = res.state
    routes = tuple(
        tuple(int(cust[B.ri[NODE, r, p]]) for p in range(int(B.length[r])))
        for r in range(inst.n_routes)
    )
    score = float(sum(inst.score[i] for rt in routes for i in rt))
    return TOPTWSolution(routes=routes, score=score, iterations=res.iterations,
                         runtime_s=time.perf_counter() - t0, stopped_by=res.stopped_by)

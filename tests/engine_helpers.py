"""Kernel states built by hand for the engine's move tests (TOPTW instances, kernel numbering)."""

from __future__ import annotations

import numpy as np

from optimizer.core.engine.kernels import NODE, insert_visit, insertion_cost, new_state
from optimizer.core.results import FEASIBLE, SolveStats
from optimizer.toptw import TOPTWInstance, compile_toptw, make_solution, verify


def line_instance(xs, scores, m, t_max):
    """Customers on the x axis at ``xs`` (depot at 0), no service, windows [0, t_max], ``m`` routes."""
    x = np.array([0.0, *xs])
    n = len(x)
    travel = np.abs(x[:, None] - x[None, :])
    return TOPTWInstance(name="line", x=x, y=np.zeros(n), service_min=np.zeros(n),
                         score=np.array([0.0, *scores]), open_min=np.zeros(n), close_min=np.full(n, t_max),
                         travel_min=travel, n_routes=m, t_max=t_max)


def kernel_state(inst, routes, **overrides):
    """``(P, S, cust)``: the kernel problem of ``inst`` with fields of ``overrides`` replaced (e.g.
    ``day_end=float64[m]``, ``protect=bool[m, c]``) and a state holding ``routes`` (lists of kernel
    customer indices 0..c-1), each visit appended at its earliest slot (asserted feasible)."""
    P, daily, cust = compile_toptw(inst)
    if overrides:
        P = P._replace(**{k: np.asarray(v, dtype=getattr(P, k).dtype) for k, v in overrides.items()})
    S = new_state(P, daily, 1, len(cust) + 1)
    for r, route in enumerate(routes):
        for j in route:
            shift, k = insertion_cost(P, S, r, j, int(S.length[r]))
            assert shift < np.inf
            insert_visit(P, S, r, j, int(S.length[r]), k)
    return P, S, cust


def kernel_routes(S, cust):
    """The routes of state ``S`` as lists of the instance's customer node indices."""
    return [[int(cust[S.ri[NODE, r, p]]) for p in range(int(S.length[r]))] for r in range(S.length.shape[0])]


def verified(inst, S, cust):
    """The ``ToptwSolution`` of ``S``, asserted feasible by the independent verifier."""
    sol = make_solution(inst, kernel_routes(S, cust), SolveStats(status=FEASIBLE))
    assert verify(inst, sol) == []
    return sol

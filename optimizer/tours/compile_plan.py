"""Compile plan of the tour kernels: two workers compile the engine kernels at once (issue 15 item 3).

Run by ``optimizer.core.warmup`` on a cold start (``python -m optimizer.tours.compile_plan --worker K
--of N --markers DIR``; the mechanism is ``optimizer.core.compile_plan``). Signatures use the types
of the warm-up problem (``optimizer.tours.solve.warm_up_problem``): ``P`` the ``KernelProblem``, ``S``
the ``RouteState``, int64 scalars, C-contiguous 1-d arrays, and None for the neighbourhoods the default
``TOUR_PARAMS`` leave off (``ils_iterations``' last five arguments).

The split follows the call graph (callees first) and each kernel's measured self compile time
(``python -m bench.first_run``, serial cold compile: ``ils_iterations`` ~3.0 s, ``seed_protected`` 1.3,
``greedy_fill`` 1.1, ``two_opt_route`` 1.0, ``best_insertion_among`` 0.9, the rest 0.1-0.5 each, quiet
2-core machine). ``ils_iterations`` calls almost everything, so it comes last, and its 3 s are
compiled while nothing else is left: part 0 builds up to ``greedy_fill`` then ``ils_iterations``;
part 1 the position sweep (``_plain_sweep``), the route primitives, ``_fill_best`` (greedy_fill's live-candidate scan, ~1.8 s: in part 0
it left part 0 with 11.9 s of CPU against part 1's 5.3), ``two_opt_route``, ``replace_route`` (what
``ils_iterations`` waits for) and last ``seed_protected`` (which only the warm-up calls), so that part 0
waits little for them. A kernel that is not listed (an inlined helper, a numpy overload) is
compiled by whichever worker needs it.
"""

from __future__ import annotations

import sys

from numba import typeof, types

from optimizer.core.compile_plan import Step, array_types, main
from optimizer.core.engine import ils, kernels, moves


def plan() -> list[list[Step]]:
    """The two parts (see the module docstring); builds the warm-up problem's arrays for their types."""
    from optimizer.tours.solve import compile_problem, warm_up_problem

    P, daily, n_slots = compile_problem(warm_up_problem())
    S = kernels.new_state(P, daily, n_slots, int(P.n_cand.max()) + 1)
    p, s = typeof(P), typeof(S)
    i8, f8, none = types.int64, types.float64, types.none
    a_i8, a_i4, a_f8, a_b = array_types()
    m_f8, m_i8 = types.Array(types.float64, 2, "C"), types.Array(types.int64, 2, "C")
    part0 = [
        Step(kernels._t_in, (p, i8, i8, i8)),
        Step(kernels._t_out, (p, i8, i8, i8)),
        Step(kernels._t_between, (p, i8, i8, i8)),
        Step(kernels.insertion_cost, (p, s, i8, i8, i8)),
        Step(kernels.limited_nodes, (p, s, a_i4, i8, a_i4)),
        Step(kernels._tree_better, (a_f8, i8, i8)),
        Step(kernels._tree_build, (a_f8, a_i8)),
        Step(kernels._tree_update, (a_f8, a_i8, i8)),
        Step(kernels.total_time, (p, s)),
        Step(ils._rand, (a_i8,)),
        Step(ils._better, (f8, f8, f8, f8)),
        Step(kernels.assign_routes, (s, s, a_b)),
        Step(kernels.best_insertion_among, (p, s, i8, a_i4, i8, a_f8)),
        Step(kernels.greedy_fill, (p, s, a_b, a_i4, i8, a_f8)),
        Step(ils.ils_iterations, (p, s, s, s, a_i8, a_f8, a_f8, i8, i8, a_b, none, none, none, none, none)),
    ]
    part1 = [
        Step(kernels._position_table, (p, s, i8, m_f8, m_i8)),
        Step(kernels._plain_sweep, (p, s, i8, a_i8, i8, i8, a_f8, f8, i8, i8, i8, f8, i8, m_f8, m_i8, a_f8, i8)),
        Step(kernels.recompute_route, (p, s, i8, i8)),
        Step(kernels.insert_visit, (p, s, i8, i8, i8, i8)),
        Step(kernels.remove_positions, (p, s, i8, a_b)),
        Step(kernels._fill_best, (p, s, i8, a_f8, a_i8, a_f8, i8, a_i8, a_i8, a_i8, m_f8, m_i8, i8)),
        Step(kernels.two_opt_route, (p, s, i8)),
        Step(moves.replace_route, (p, s, i8, a_f8)),
        Step(kernels.seed_protected, (p, s, a_i8)),
    ]
    return [part0, part1]


if __name__ == "__main__":
    sys.exit(main(plan))

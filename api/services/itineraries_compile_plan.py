"""Compile plan of the itinerary kernels (issue 15 item 3): two worker processes compile them into Numba's
disk cache at once (``optimizer.core.compile_plan``), while the caller goes on (``serve`` answers,
``itineraries plan`` imports and reads); the caller's warm-up then loads them (``optimizer.core.warmup``).

Signatures use the types of the itinerary warm-up's own problem (``api.services.itineraries``: one
group, two days, built by ``optimizer.itineraries.solve``): ``p`` the ``KP`` arrays, ``s`` the ``KS``
state, int64 scalars, int32 site indices where the kernels read them from ``P.cand`` / ``S.route``.
The split follows the call graph (``optimizer.itineraries.kernels``): part 0 is the schedule core
(``commit_route``, insertion and removal), the greedy fill and ``_init_routes``, then
``ils_iterations``; part 1 first compiles what needs none of that (group copies, hotel checks), then
the hotel move, repairs, shakes, 2-opt and the replace pass, which wait for part 0's core.

Run as ``python -m api.services.itineraries_compile_plan --worker K --of N --markers DIR``.
"""

from __future__ import annotations

import sys

from optimizer.core.compile_plan import Step, array_types, main


def plan() -> list[list[Step]]:
    """The two parts (see the module docstring)."""
    from numba import typeof, types

    from api.services.itineraries import warm_up_problem
    from optimizer.itineraries import kernels as k
    from optimizer.itineraries import solve as isolve

    pb = warm_up_problem()
    P = isolve._compile(pb)
    S = isolve._new_state(pb, P)
    p, s = typeof(P), typeof(S)
    i8, i4, f8, b1 = types.int64, types.int32, types.float64, types.boolean
    a_i8, a_i4, a_f8, a_b = array_types()
    part0 = [
        Step(k.start_place, (p, s, i8, i8)),
        Step(k.end_place, (p, s, i8, i8)),
        Step(k.day_span, (p, s, i8, i8)),
        Step(k._lunch_at, (p, i8, f8)),
        Step(k.earliest_start, (p, s, i8, i8, i4, f8)),
        Step(k._need_lunch_in, (p, s, i8, i8, f8, f8, b1)),
        Step(k._latest_starts, (p, s, i8, i8, i8)),
        Step(k.commit_route, (p, s, i8, i8)),
        Step(k._book, (p, s, i8, i8, i8, i8)),
        Step(k.remove_at, (p, s, i8, i8, i8)),
        Step(k.insert_at, (p, s, i8, i8, i8, i8)),
        Step(k._step, (p, s, i8, i8, i8, i4, f8, f8)),
        Step(k._finish, (p, s, i8, i8, i8, f8, f8)),
        Step(k._rand, (a_i8,)),
        Step(k._uniform, (a_i8,)),
        Step(k.can_visit, (p, s, i8, i8, i4)),
        Step(k.local_shift, (p, s, i8, i8, i8, i4)),
        Step(k.eval_insert, (p, s, i8, i8, i8, i4)),
        Step(k._best_in_day, (p, s, i8, i8, i4, f8, f8, b1)),
        Step(k.fill_group, (p, s, i8, b1, f8, a_i8)),
        Step(isolve._init_routes, (p, s, a_b, a_i8)),
        Step(k.ils_iterations, (p, s, s, s, s, a_i8, a_f8, a_i8, a_f8, a_b, i8, i8)),
    ]
    part1 = [
        Step(k._ledger_group, (p, s, i8, i8)),
        Step(k.copy_group, (p, s, s, i8)),
        Step(k.gain_run_breaks, (p, s, i8, i8, i8)),
        Step(k.hotel_ok, (p, s, i8, i8, i8)),
        Step(k.missing_musts, (p, s, i8)),
        Step(k.total_score, (s,)),
        Step(k.repair_route, (p, s, i8, i8)),
        Step(k.set_hotel, (p, s, i8, i8, i8)),
        Step(k.shake_group, (p, s, i8, i8, i8, i8, a_i8)),
        Step(k.shake_random, (p, s, i8, i8, a_i8)),
        Step(k.eval_seq, (p, s, i8, i8, a_i4, i4)),
        Step(k.two_opt_route, (p, s, i8, i8)),
        Step(k.hotel_move, (p, s, s, i8, a_i8, b1, f8)),
        Step(k.replace_pass, (p, s, i8, a_i8)),
    ]
    return [part0, part1]


if __name__ == "__main__":
    sys.exit(main(plan))

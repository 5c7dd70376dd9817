"""The classic (Team) Orienteering Problem with Time Windows, benchmark form.

    from optimizer.toptw import TOPTWInstance, ToptwParams, solve, verify
    sol = solve(inst, StoppingCriterion(max_iterations=2000), seed=0)                   # the ILS
    sol = solve(inst, StoppingCriterion(max_runtime_s=20), params=ToptwParams(method="cpsat"))
    assert verify(inst, sol) == []

Readers of the public benchmark files: ``instances.benchmarks``.
"""

from optimizer.toptw.problem import TOPTWInstance
from optimizer.toptw.solution import UNSERVED_REASONS, ToptwSolution, make_solution
from optimizer.toptw.solve import METHODS, ToptwParams, compile_toptw, solve, solve_ils
from optimizer.toptw.verify import (
    check_toptw_routes,
    earliest_schedule,
    route_violations,
    toptw_score,
    verify,
)

__all__ = [
    "METHODS", "UNSERVED_REASONS", "TOPTWInstance", "ToptwParams", "ToptwSolution", "check_toptw_routes",
    "compile_toptw", "earliest_schedule", "make_solution", "route_violations", "solve", "solve_ils",
    "toptw_score", "verify",
]

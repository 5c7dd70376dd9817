"""What every problem family shares, and nothing else: input errors and checks, the stopping
criterion, result types, clock, physics, the road network and the airspace.

This package imports nothing else of the project (an import-linter contract in pyproject.toml).
"""

from optimizer.core.clock import MINUTES_PER_DAY, Deadline, fmt_clock, parse_clock
from optimizer.core.errors import InvalidInput, check_count, check_finite, check_time_limit_s, check_window
from optimizer.core.results import (
    FEASIBLE,
    INFEASIBLE,
    NO_SOLUTION_IN_TIME,
    OPTIMAL,
    STATUSES,
    SolveStats,
    Unserved,
    Violation,
    relative_gap,
)
from optimizer.core.serialize import json_safe
from optimizer.core.stop import MaxIterations, MaxRuntime, NoImprovement, StoppingCriterion

__all__ = [
    "FEASIBLE", "INFEASIBLE", "MINUTES_PER_DAY", "NO_SOLUTION_IN_TIME", "OPTIMAL", "STATUSES", "Deadline",
    "InvalidInput", "MaxIterations", "MaxRuntime", "NoImprovement", "SolveStats", "StoppingCriterion",
    "Unserved", "Violation", "check_count", "check_finite", "check_time_limit_s", "check_window",
    "fmt_clock", "json_safe", "parse_clock", "relative_gap",
]

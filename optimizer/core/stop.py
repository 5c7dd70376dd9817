"""One stopping criterion for every solver, heuristic or exact.

A search stops at whichever limit comes first. Exact models read their time limit from
``max_runtime_s`` (``time_left_s``); construction and model building count against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimizer.core.clock import Deadline
from optimizer.core.errors import InvalidInput, check_finite


@dataclass(frozen=True, slots=True)
class StoppingCriterion:
    """When a search stops: whichever of the limits comes first.

    Attributes
    ----------
    max_runtime_s : float | None
        Wall-clock limit in seconds, construction and model building included (None: no limit).
    max_iterations : int | None
        Iterations of a heuristic (None: no limit). With only this limit a seed gives the same answer.
        Exact models ignore it.
    max_no_improvement : int | None
        Stop after this many iterations without a new best (None: no limit). Exact models ignore it.

    Raises ``InvalidInput`` for a non-positive or non-finite runtime, a negative or non-integer
    count, or no limit at all.
    """

    max_runtime_s: float | None = None
    max_iterations: int | None = None
    max_no_improvement: int | None = None

    def __post_init__(self) -> None:
        if self.max_runtime_s is not None:
            if isinstance(self.max_runtime_s, bool) or check_finite("max_runtime_s", self.max_runtime_s) <= 0:
                raise InvalidInput("max_runtime_s", self.max_runtime_s, "must be a finite number of seconds > 0")
        for name in ("max_iterations", "max_no_improvement"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0):
                raise InvalidInput(name, v, "must be an integer >= 0")
        if self.max_runtime_s is None and self.max_iterations is None and self.max_no_improvement is None:
            raise InvalidInput("stop", None, "give at least one of max_runtime_s, max_iterations, max_no_improvement")

    def deadline(self, started: float | None = None) -> Deadline:
        """A ``Deadline`` for ``max_runtime_s`` starting now (or at ``started``, a perf_counter value)."""
        return Deadline(self.max_runtime_s, started)

    def time_left_s(self, deadline: Deadline, floor_s: float = 0.01) -> float:
        """Seconds an exact back end may still use: what is left of the deadline, at least
        ``floor_s`` (so a back end is never handed 0 or a negative limit); inf with no runtime limit."""
        left = deadline.remaining_s()
        return left if math.isinf(left) else max(floor_s, left)


def MaxIterations(n: int) -> StoppingCriterion:
    """Stop after ``n`` iterations (deterministic for a seed)."""
    return StoppingCriterion(max_iterations=n)


def MaxRuntime(seconds: float) -> StoppingCriterion:
    """Stop after ``seconds`` of wall-clock time."""
    return StoppingCriterion(max_runtime_s=seconds)


def NoImprovement(n: int) -> StoppingCriterion:
    """Stop after ``n`` iterations without a new best."""
    return StoppingCriterion(max_no_improvement=n)

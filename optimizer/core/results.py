"""What every solver returns besides its plan: what was left out, and how the solve went.

Status words are shared by every family (``STATUSES``):

* ``optimal``: proven optimal (an exact model, with the verifier agreeing);
* ``feasible``: a verified plan, optimality not proven (every heuristic);
* ``infeasible``: proven that no plan satisfies the hard constraints;
* ``no_solution_in_time``: the limit ran out before any plan was found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

OPTIMAL = "optimal"
FEASIBLE = "feasible"
INFEASIBLE = "infeasible"
NO_SOLUTION_IN_TIME = "no_solution_in_time"
STATUSES = (OPTIMAL, FEASIBLE, INFEASIBLE, NO_SOLUTION_IN_TIME)


@dataclass(frozen=True, slots=True)
class Unserved:
    """An item a plan leaves out, with the reason.

    Attributes
    ----------
    item_id : str
        What is left out (a group, ``group/site`` for one must-visit, a delivery, a booking, a coach...).
    reason : str
        A short family-specific word (``quota``, ``window``, ``payload``, ``capacity`` ...), documented
        by the family's solution module.
    detail : str
        A sentence a planner can read.
    """

    item_id: str
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken rule that a verifier found.

    Attributes
    ----------
    item_id : str
        Where (a route, a group, a site, a station, ``plan`` for the whole answer).
    kind : str
        Which rule (``time_window``, ``capacity``, ``score``, ``energy`` ...).
    message : str
        What is wrong, with the numbers.
    """

    item_id: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.item_id}: {self.kind}: {self.message}"


@dataclass(frozen=True, slots=True)
class SolveStats:
    """How a solve went.

    Attributes
    ----------
    status : str
        One of ``STATUSES``.
    objective : float | None
        Objective value of the returned plan in the family's units (None without a plan).
    bound : float | None
        Best proven bound on the objective (None for heuristics).
    gap : float | None
        Relative gap ``|bound - objective| / max(1, |objective|)`` (None without a bound).
    runtime_s : float
        Wall-clock seconds of the whole solve, construction and model building included.
    iterations : int
        Heuristic iterations (0 for an exact model).
    stopped_by : str
        What ended the search: ``max_runtime_s``, ``max_iterations``, ``max_no_improvement``,
        ``solved`` (an exact model finished) or ``""``.
    seed : int
        The seed used. Same seed and a limit without ``max_runtime_s`` give the same answer.
    threads : int
        Searches run in parallel threads (1: a single search).
    """

    status: str
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    runtime_s: float = 0.0
    iterations: int = 0
    stopped_by: str = ""
    seed: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status={self.status!r}: must be one of {STATUSES}")

    @property
    def has_plan(self) -> bool:
        return self.status in (OPTIMAL, FEASIBLE)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """``|bound - objective| / max(1, |objective|)``, or None when either is missing or not finite."""
    if objective is None or bound is None or not (math.isfinite(objective) and math.isfinite(bound)):
        return None
    return abs(bound - objective) / max(1.0, abs(objective))

"""The one entry of the flights family: ``solve(problem, stop, seed=0, params=None)``.

Dispatches on the problem's type: a :class:`DesignProblem` gets the exact menu design
(:func:`optimizer.flights.design.design_menu`: orienteering by subset DP), a :class:`ScheduleProblem`
the day's schedule (:func:`optimizer.flights.schedule.solve_schedule`: greedy + the time-indexed 0-1
model of :mod:`models.flight_schedule` on CP-SAT and/or HiGHS).
"""

from __future__ import annotations

from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion
from optimizer.flights.design import design_menu
from optimizer.flights.problem import DesignProblem, FlightParams, ScheduleProblem
from optimizer.flights.schedule import solve_schedule
from optimizer.flights.solution import Menu, Schedule

__all__ = ["solve"]


def solve(problem: DesignProblem | ScheduleProblem, stop: StoppingCriterion, seed: int = 0,
          params: FlightParams | None = None) -> Menu | Schedule:
    """Design a menu or schedule a day, within ``stop.max_runtime_s`` (model building included).

    Returns a :class:`Menu` for a ``DesignProblem`` and a :class:`Schedule` for a ``ScheduleProblem``,
    each with ``unserved`` (reasons in :mod:`optimizer.flights.solution`) and ``stats``. ``seed``:
    CP-SAT's random seed (the design is deterministic). ``params``: :class:`FlightParams` (back end,
    workers, rel_gap, ...; None: defaults). Raises ``InvalidInput`` for another problem type, a bad
    ``stop``, ``seed`` or ``params``.
    """
    if not isinstance(stop, StoppingCriterion):
        raise InvalidInput("stop", type(stop).__name__, "must be a StoppingCriterion")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidInput("seed", seed, "must be an integer")
    if params is not None and not isinstance(params, FlightParams):
        raise InvalidInput("params", type(params).__name__, "must be a FlightParams or None")
    if isinstance(problem, DesignProblem):
        return design_menu(problem, stop, seed)
    if isinstance(problem, ScheduleProblem):
        return solve_schedule(problem, stop, seed, params)
    raise InvalidInput("problem", type(problem).__name__, "must be a DesignProblem or a ScheduleProblem")

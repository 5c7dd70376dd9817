"""``verify(problem, solution) -> list[Violation]`` for every stations problem.

Dispatches to the independent verifiers: ``verify_siting`` (``optimizer.stations.verify_siting``),
``verify_charging`` and ``verify_oxygen`` (``optimizer.stations.verify_ops``), each of which
recomputes coverage, state of charge or stock from the problem's data, never from the solver's state.
"""

from __future__ import annotations

from optimizer.core.errors import InvalidInput
from optimizer.core.results import Violation
from optimizer.stations.charging import ChargingProblem
from optimizer.stations.oxygen import OxygenProblem
from optimizer.stations.problem import StationsProblem
from optimizer.stations.siting import CoverageProblem, FlowProblem, PMedianProblem
from optimizer.stations.solution import StationsSolution
from optimizer.stations.verify_ops import verify_charging, verify_oxygen
from optimizer.stations.verify_siting import verify_siting


def verify(problem: StationsProblem, solution: StationsSolution) -> list[Violation]:
    """Every broken rule of ``solution`` for ``problem`` (empty: the answer holds)."""
    if isinstance(problem, (CoverageProblem, PMedianProblem, FlowProblem)):
        return verify_siting(problem, solution)  # type: ignore[arg-type]
    if isinstance(problem, ChargingProblem):
        return verify_charging(problem, solution)  # type: ignore[arg-type]
    if isinstance(problem, OxygenProblem):
        return verify_oxygen(problem, solution)  # type: ignore[arg-type]
    raise InvalidInput("problem", type(problem).__name__, "not a stations problem (siting, charging or oxygen)")

"""``solve(problem, stop, seed=0, params=None)``: the one entry of the stations family.

Dispatches on the problem's type: a siting problem to ``solve_siting`` (``params``: ``SitingParams``),
a ``ChargingProblem`` to ``solve_charging`` (``ChargingParams``), an ``OxygenProblem`` to
``solve_oxygen`` (``OxygenParams``). Raises ``InvalidInput`` for any other problem or a ``params`` of
the wrong kind.
"""

from __future__ import annotations

from typing import Any

from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion
from optimizer.stations.charging import ChargingParams, ChargingProblem, solve_charging
from optimizer.stations.oxygen import OxygenParams, OxygenProblem, solve_oxygen
from optimizer.stations.problem import StationsProblem
from optimizer.stations.siting import CoverageProblem, FlowProblem, PMedianProblem, SitingParams, solve_siting
from optimizer.stations.solution import StationsSolution

_KINDS: tuple[tuple[tuple[type, ...], type, Any], ...] = (
    ((CoverageProblem, PMedianProblem, FlowProblem), SitingParams, solve_siting),
    ((ChargingProblem,), ChargingParams, solve_charging),
    ((OxygenProblem,), OxygenParams, solve_oxygen),
)


def solve(problem: StationsProblem, stop: StoppingCriterion, seed: int = 0, params: Any = None) -> StationsSolution:
    """Solve a siting, charging or oxygen problem within ``stop``; see the module docstring."""
    for types, params_type, fn in _KINDS:
        if isinstance(problem, types):
            if params is not None and not isinstance(params, params_type):
                raise InvalidInput("params", type(params).__name__,
                                   f"a {type(problem).__name__} takes {params_type.__name__}")
            return fn(problem, stop, seed, params)
    raise InvalidInput("problem", type(problem).__name__, "not a stations problem (siting, charging or oxygen)")

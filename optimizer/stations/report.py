"""Reports of the stations family: ``to_dict(problem, solution)`` for every problem kind, plus the
tables and plots of each kind (plots draw on the ``Axes`` they are given and write no file).

Siting: ``siting_to_dict``, ``marginal_table``, ``detail_table``, ``plot_marginal``,
``plot_siting_map`` (``optimizer.stations.report_siting``). Charging and oxygen: ``charging_to_dict``,
``sessions_table``, ``plot_soc``, ``plot_station_load``, ``oxygen_to_dict``, ``stock_table``,
``routes_table``, ``plot_stock`` (``optimizer.stations.report_ops``).
"""

from __future__ import annotations

from typing import Any

from optimizer.core.errors import InvalidInput
from optimizer.stations.charging import ChargingProblem
from optimizer.stations.oxygen import OxygenProblem
from optimizer.stations.problem import StationsProblem
from optimizer.stations.report_ops import (
    charging_to_dict,
    oxygen_to_dict,
    plot_soc,
    plot_station_load,
    plot_stock,
    routes_table,
    sessions_table,
    stock_table,
)
from optimizer.stations.report_siting import (
    detail_table,
    marginal_table,
    plot_marginal,
    plot_siting_map,
    siting_to_dict,
)
from optimizer.stations.siting import CoverageProblem, FlowProblem, PMedianProblem
from optimizer.stations.solution import StationsSolution

__all__ = ["charging_to_dict", "detail_table", "marginal_table", "oxygen_to_dict", "plot_marginal", "plot_siting_map",
           "plot_soc", "plot_station_load", "plot_stock", "routes_table", "sessions_table", "siting_to_dict",
           "stock_table", "to_dict"]


def to_dict(problem: StationsProblem, solution: StationsSolution) -> dict[str, Any]:
    """The solution as a JSON-safe dict, by the problem's kind."""
    if isinstance(problem, (CoverageProblem, PMedianProblem, FlowProblem)):
        return siting_to_dict(problem, solution)  # type: ignore[arg-type]
    if isinstance(problem, ChargingProblem):
        return charging_to_dict(problem, solution)  # type: ignore[arg-type]
    if isinstance(problem, OxygenProblem):
        return oxygen_to_dict(problem, solution)  # type: ignore[arg-type]
    raise InvalidInput("problem", type(problem).__name__, "not a stations problem (siting, charging or oxygen)")

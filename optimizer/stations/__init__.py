"""Stations: siting oxygen-supply stations (MCLP) and EV chargers (FRLM), EV fleet charging schedules
and multi-day oxygen replenishment, on any tour plan.

One entry: ``solve(problem, stop, seed=0, params=None)`` dispatching on the problem's kind;
``verify(problem, solution) -> list[Violation]``; ``report.to_dict(problem, solution)``.
"""

from optimizer.stations.charging import ChargingParams, ChargingProblem, ChargingSchedule, EVStation, EVVehicle
from optimizer.stations.oxygen import OxygenParams, OxygenPlan, OxygenProblem
from optimizer.stations.problem import StationsProblem
from optimizer.stations.siting import (
    CoverageProblem,
    FlowPath,
    FlowProblem,
    PMedianProblem,
    SitingParams,
    SitingSolution,
)
from optimizer.stations.solution import StationsSolution
from optimizer.stations.solve import solve
from optimizer.stations.verify import verify

__all__ = ["ChargingParams", "ChargingProblem", "ChargingSchedule", "CoverageProblem", "EVStation", "EVVehicle",
           "FlowPath", "FlowProblem", "OxygenParams", "OxygenPlan", "OxygenProblem", "PMedianProblem", "SitingParams",
           "SitingSolution", "StationsProblem", "StationsSolution", "solve", "verify"]

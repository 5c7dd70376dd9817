"""The stations family's problems: siting (MCLP, p-median, FRLM), EV charging and oxygen replenishment.

Each is a frozen dataclass validated on construction, defined in its own module; this module
gathers them so ``optimizer.stations.problem`` names every problem of the family.
"""

from optimizer.stations.charging import ChargingProblem, CoachParams, EVStation, EVVehicle
from optimizer.stations.oxygen import OxygenProblem
from optimizer.stations.siting import CoverageProblem, FlowPath, FlowProblem, PMedianProblem, SitingProblem

StationsProblem = SitingProblem | ChargingProblem | OxygenProblem

__all__ = ["ChargingProblem", "CoachParams", "CoverageProblem", "EVStation", "EVVehicle", "FlowPath", "FlowProblem",
           "OxygenProblem", "PMedianProblem", "SitingProblem", "StationsProblem"]

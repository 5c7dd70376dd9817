"""The stations family's solutions: each carries ``unserved`` (core ``Unserved``, reasons documented in
its module) and ``stats`` (core ``SolveStats``).

* ``SitingSolution`` (``optimizer.stations.siting``): unserved demand sites / flows (``not_covered``,
  ``not_refuelled`` ...);
* ``ChargingSchedule`` (``optimizer.stations.charging``): coaches that cannot be kept above their
  floor (``range``, ``charger_capacity``, ``no_schedule``);
* ``OxygenPlan`` (``optimizer.stations.oxygen``): stations left short (``unreachable``, ``trucks``,
  ``stockout``, ``no_plan``).
"""

from optimizer.stations.charging import ChargingSchedule, CoachUnserved, Delay
from optimizer.stations.oxygen import OxygenPlan, OxygenShortfall, TruckRoute
from optimizer.stations.siting import MarginalPoint, SitingSolution

StationsSolution = SitingSolution | ChargingSchedule | OxygenPlan

__all__ = ["ChargingSchedule", "CoachUnserved", "Delay", "MarginalPoint", "OxygenPlan", "OxygenShortfall",
           "SitingSolution", "StationsSolution", "TruckRoute"]

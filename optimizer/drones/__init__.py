"""Drone deliveries at altitude: multi-trip drone VRP with time windows, battery reserve, thrust
limit at altitude and no-fly zones (MODELS.md sections 5.1-5.3).

    from optimizer.drones import Delivery, DroneProblem, solve, verify
    plan = solve(problem, StoppingCriterion(max_iterations=300), seed=0)
    assert verify(problem, plan) == []

Modules: ``problem`` (Delivery, DroneProblem), ``energy`` (DroneType, the trip-energy formula),
``solution`` (Stop, Trip, DronePlan, reason words), ``solve`` (DroneParams, solve), ``verify``,
``report`` (to_dict, tables, GeoJSON, plot); ``instance`` and ``kernels`` are the solver's internals.
"""

from optimizer.drones.energy import DroneType
from optimizer.drones.kernels import trip_energy_wh
from optimizer.drones.problem import Delivery, DroneProblem
from optimizer.drones.solution import (
    CAPACITY,
    NO_FLY,
    PAYLOAD,
    RANGE,
    REASONS,
    TIME_LIMIT,
    DronePlan,
    Stop,
    Trip,
)
from optimizer.drones.solve import DroneParams, solve
from optimizer.drones.verify import verify

__all__ = [
    "CAPACITY",
    "NO_FLY",
    "PAYLOAD",
    "RANGE",
    "REASONS",
    "TIME_LIMIT",
    "Delivery",
    "DroneParams",
    "DronePlan",
    "DroneProblem",
    "DroneType",
    "Stop",
    "Trip",
    "solve",
    "trip_energy_wh",
    "verify",
]

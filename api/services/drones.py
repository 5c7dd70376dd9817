"""Drone delivery use cases shared by the HTTP API, the CLI and the benches.

``plan_deliveries``: deliveries + airspace (the embedded Lhasa airspace or a GeoJSON) + drone
types -> ``DroneProblem`` -> ``solve`` -> ``verify`` -> ``DeliveryRun`` (problem, plan,
violations). ``DeliveryRun.to_dict`` is the answer of ``POST /v1/drones/delivery-plan`` and the
CLI's ``plan.json``. ``warm_up`` compiles (or loads from Numba's disk cache) the drone kernels.

Errors: bad input raises ``InvalidInput`` (``RecordError`` for a file) naming the field and value.
A plan the verifier rejects is reported in ``violations`` (the CLI exits 1 on it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instances.drones import load_drone_types, read_drone_demand
from instances.paths import AIRSPACE_GEOJSON, DRONE_DEMAND_CSV, DRONE_TYPES_CSV
from optimizer.core.airspace import airspace_from_geojson
from optimizer.core.errors import InvalidInput
from optimizer.core.results import Violation
from optimizer.core.stop import StoppingCriterion
from optimizer.core.warmup import KernelWarmUp
from optimizer.drones import Delivery, DronePlan, DroneProblem, DroneType, solve, verify
from optimizer.drones.report import plan_geojson, to_dict

__all__ = ["AIRSPACE_GEOJSON", "DRONE_DEMAND_CSV", "DRONE_TYPES_CSV", "KERNELS", "DeliveryRun", "ensure_compiled",
           "is_compiled", "load_drone_types", "plan_deliveries", "read_drone_demand", "warm_up"]


@dataclass(frozen=True)
class DeliveryRun:
    """One planned day: the problem, the verified plan and the verifier's findings (empty: valid)."""

    problem: DroneProblem
    plan: DronePlan
    violations: tuple[Violation, ...]

    def to_dict(self, with_map: bool = False) -> dict[str, Any]:
        """``optimizer.drones.report.to_dict`` plus ``violations`` (strings) and, with ``with_map``,
        ``map`` (the GeoJSON FeatureCollection of ``plan_geojson``)."""
        out = to_dict(self.problem, self.plan)
        out["violations"] = [str(v) for v in self.violations]
        if with_map:
            out["map"] = plan_geojson(self.problem, self.plan)
        return out


def plan_deliveries(deliveries: tuple[Delivery, ...] | list[Delivery], *, airspace: dict | Path | str | None = None,
                    types: dict[str, DroneType] | Path | str | None = None, temperature_c: float | None = 15.0,
                    objective: str = "energy", iterations: int = 300, seed: int = 0, buffer_km: float = 0.2,
                    max_runtime_s: float | None = 60.0) -> DeliveryRun:
    """Plan, then verify, one day of drone deliveries.

    ``airspace``: a GeoJSON FeatureCollection (dict or text) or a path (None: the embedded Lhasa
    airspace); ``types``: drone types by id or a CSV path (None: the embedded types);
    ``temperature_c`` degC (None: ISA at each hub); ``iterations``: ruin-and-recreate iterations
    (integer >= 0); ``max_runtime_s``: wall-clock limit of the solve, seconds, instance construction
    included (None: iterations only). Raises ``InvalidInput``.
    """
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise InvalidInput("iterations", iterations, "must be an integer >= 0")
    dels = tuple(deliveries)
    if not dels:
        raise InvalidInput("deliveries", [], "give at least one delivery")
    asp = airspace_from_geojson(AIRSPACE_GEOJSON if airspace is None else airspace, buffer_km=buffer_km)
    if types is None or isinstance(types, (str, Path)):
        types = load_drone_types(DRONE_TYPES_CSV if types is None else types)
    problem = DroneProblem(asp, types, dels, temperature_c=temperature_c, objective=objective)
    plan = solve(problem, StoppingCriterion(max_iterations=iterations, max_runtime_s=max_runtime_s), seed=seed)
    return DeliveryRun(problem, plan, tuple(verify(problem, plan)))


def _compile_kernels() -> None:
    """A two-delivery plan: compiles (or loads from Numba's disk cache) every drone kernel."""
    plan_deliveries((Delivery("w1", 91.09, 29.70, 1.0), Delivery("w2", 91.1169, 29.6578, 1.0)), iterations=1,
                    max_runtime_s=None)


KERNELS = KernelWarmUp("drones", _compile_kernels)


def is_compiled() -> bool:
    """Whether the drone kernels are compiled (or loaded) in this process."""
    return KERNELS.is_compiled()


def warm_up() -> float:
    """Compile (or load from Numba's disk cache) the drone kernels once per process, so the first
    request's time limit applies to its own work; the seconds this call waited (0.0 once compiled)."""
    return KERNELS.ensure()


def ensure_compiled() -> float:
    """``warm_up`` (callers at the same time wait for the one compiling; ``optimizer.core.warmup``).
    Call it before a request's clock starts."""
    return KERNELS.ensure()

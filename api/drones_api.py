"""``POST /v1/drones/delivery-plan``: plan drone deliveries from the Lhasa hubs (or a posted airspace).

The request lists the deliveries (lon, lat, weight, window HH:MM, priority), the day's temperature and
the search effort; ``airspace`` (optional) is a GeoJSON FeatureCollection of no-fly polygons and hubs
with fleets, replacing ``instances/lhasa/airspace.geojson``. The response has the trips, the unserved
deliveries with reasons, the verifier's violations (empty) and ``map``: a GeoJSON FeatureCollection of
the trips (LineStrings around no-fly zones), hubs, zones and deliveries. Bad input (an unclosed
polygon, a bad window, an unknown drone type) raises ``InvalidInput`` -> HTTP 422.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.drones_cli import plan_dict, plan_geojson
from api.security import require_api_key
from optimizer.domain import InvalidInput, parse_clock

router = APIRouter(tags=["drones"])


class DeliveryIn(BaseModel):
    id: str
    lon: float
    lat: float
    weight_kg: float
    open: str = "00:00"
    close: str = "24:00"
    priority: int = 1


class DronePlanRequest(BaseModel):
    deliveries: list[DeliveryIn] = Field(..., max_length=2000)
    temperature_c: float | None = Field(15.0, description="day's temperature, degC (null: ISA)")
    objective: Literal["energy", "time"] = "energy"
    iterations: int = Field(300, ge=0, le=20_000)
    seed: int = 0
    buffer_km: float = Field(0.2, ge=0, le=20)
    airspace: dict[str, Any] | None = Field(None, description="GeoJSON FeatureCollection (no_fly polygons, hubs)")


@router.post("/v1/drones/delivery-plan", dependencies=[Depends(require_api_key)])
def delivery_plan(req: DronePlanRequest) -> dict[str, Any]:
    """Plan, verify and map one day of drone deliveries (HTTP 422 ``invalid_input`` on bad data)."""
    from optimizer.airspace import AIRSPACE_GEOJSON, airspace_from_geojson
    from optimizer.drone_energy import load_drone_types
    from optimizer.drone_verify import verify_drone_plan
    from optimizer.drones import Delivery, DroneProblem, build_instance, solve
    from optimizer.ils import StoppingCriterion

    dels = tuple(Delivery(d.id, d.lon, d.lat, d.weight_kg,
                          (parse_clock(d.open, f"deliveries[{i}].open"), parse_clock(d.close, f"deliveries[{i}].close")),
                          d.priority) for i, d in enumerate(req.deliveries))
    if not dels:
        raise InvalidInput("deliveries", [], "give at least one delivery")
    asp = airspace_from_geojson(req.airspace if req.airspace is not None else AIRSPACE_GEOJSON, buffer_km=req.buffer_km)
    prob = DroneProblem(asp, load_drone_types(), dels, temperature_c=req.temperature_c, objective=req.objective)
    inst = build_instance(prob)
    plan = solve(inst, StoppingCriterion(max_iterations=req.iterations, max_runtime_s=30), seed=req.seed)
    out = plan_dict(inst, plan, verify_drone_plan(prob, plan, inst.dist))
    out["map"] = plan_geojson(inst, plan)
    return out

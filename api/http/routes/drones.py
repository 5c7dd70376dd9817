"""``POST /v1/drones/delivery-plan``: plan drone deliveries from the Lhasa hubs (or a posted airspace).

The request lists the deliveries (lon, lat in WGS84 degrees, weight in kg, window HH:MM, priority),
the day's temperature (degC) and the search effort; ``airspace`` (optional) is a GeoJSON
FeatureCollection of no-fly polygons and hubs with fleets, replacing
``instances/lhasa/airspace.geojson``. ``time_limit_s`` bounds the whole request (instance
construction included; ``api.http.limits``). The response has the trips, the unserved deliveries with
reasons, the verifier's violations (empty) and ``map``: a GeoJSON FeatureCollection of the trips
(LineStrings around no-fly zones), hubs, zones and deliveries. Bad input (an unclosed polygon, a
bad window, an unknown drone type) raises ``InvalidInput`` -> HTTP 422.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.http.limits import (
    MAX_TIME_LIMIT_S,
    MIN_SOLVER_S,
    Budget,
    check_time_limit,
    default_time_limit,
    time_limit_field_doc,
)
from api.http.security import require_api_key
from api.services.drones import ensure_compiled as services_ensure_compiled
from api.services.drones import plan_deliveries
from optimizer.core.clock import parse_clock
from optimizer.drones import Delivery

router = APIRouter(tags=["drones"])

MAX_DELIVERIES = 300
"""Largest number of deliveries in one request (500 before issue 14 build 5): building the instance
(all-pairs obstacle-avoiding air distances, quadratic in the deliveries) cannot be cut short, and at
300 a request with ``time_limit_s = 1`` answers within 1.5 s on the 2-core machine under load (500
took 2.5 s; ``bench/time_limits.py``). Larger days: the Python API or ``lhasa-ops drones deliver``."""
REPLY_S_PER_DELIVERY = 6e-4
"""Seconds per delivery kept back from the solve for the verifier, the map and the JSON answer
(measured ~0.4 ms per delivery at 500 deliveries on the 2-core machine under load,
``bench/time_limits.py``), so that ``time_limit_s`` covers the whole request (issue 14 build 5)."""
MAX_SEED = 2**32 - 1
CLOCK = r"^\d{1,2}:\d{2}$"

Float = Annotated[float, Field(allow_inf_nan=False)]

EXAMPLE_DELIVERY = {"id": "city_001", "lon": 91.09, "lat": 29.70, "weight_kg": 1.2, "open": "10:00",
                    "close": "12:00", "priority": 1}


class DeliveryIn(BaseModel):
    """One parcel: where it goes, how heavy, when it may arrive, how much it matters."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [EXAMPLE_DELIVERY]})

    id: str = Field(min_length=1, max_length=64, description="Delivery identifier, unique in the request.")
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, description="Drop-off longitude, WGS84 degrees.")
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="Drop-off latitude, WGS84 degrees.")
    weight_kg: float = Field(gt=0, le=1000, allow_inf_nan=False,
                             description="Parcel weight, kg (> 0). Parcels no drone can lift are reported unserved.")
    open: str = Field("00:00", pattern=CLOCK, max_length=5,
                      description="Earliest arrival at the drop-off, local time HH:MM.")
    close: str = Field("24:00", pattern=CLOCK, max_length=5,
                       description="Latest arrival at the drop-off, local time HH:MM ('24:00' allowed).")
    priority: StrictInt = Field(1, ge=1, le=1000,
                                description="Priority weight (integer >= 1): the plan maximises the served "
                                            "priority first, then minimises energy or time.")


class DronePlanRequest(BaseModel):
    """Plan one day of drone deliveries."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"deliveries": [EXAMPLE_DELIVERY, {"id": "city_002", "lon": 91.1169, "lat": 29.6578, "weight_kg": 1.0,
                                           "open": "08:00", "close": "18:00", "priority": 2}],
         "temperature_c": 15.0, "objective": "energy", "iterations": 300, "seed": 0, "buffer_km": 0.2,
         "time_limit_s": 30, "airspace": None}]})

    deliveries: list[DeliveryIn] = Field(..., min_length=1, max_length=MAX_DELIVERIES,
                                         description=f"The parcels of the day (1..{MAX_DELIVERIES}).")
    temperature_c: float | None = Field(15.0, ge=-60, le=60, allow_inf_nan=False,
                                        description="Day's air temperature, degC (-60..60; null: ISA temperature "
                                                    "at each hub's elevation). Sets air density and battery derating.")
    objective: Literal["energy", "time"] = Field("energy", description="After the served priority: minimise total "
                                                                      "energy (Wh) or total flight time (min).")
    iterations: StrictInt = Field(300, ge=0, le=20_000, description="Ruin-and-recreate iterations (0..20000); the "
                                                                    "time limit still applies.")
    seed: StrictInt = Field(0, ge=0, le=MAX_SEED, description="Random seed (integer 0..2^32-1).")
    buffer_km: float = Field(0.2, ge=0, le=20, allow_inf_nan=False,
                             description="Safety buffer around no-fly polygons, km (0..20).")
    time_limit_s: float = Field(default_time_limit(30.0), gt=0, le=MAX_TIME_LIMIT_S, allow_inf_nan=False,
                                description=time_limit_field_doc(default_time_limit(30.0)))
    airspace: dict[str, Any] | None = Field(None, description="GeoJSON FeatureCollection replacing the embedded "
                                                              "airspace: Polygon features with kind 'no_fly' "
                                                              "(lon/lat degrees) and Point features with kind 'hub' "
                                                              "and a fleet. Null: instances/lhasa/airspace.geojson.")


def warm_up() -> None:
    """Compile (or load from numba's disk cache) the drone kernels (``api.services.drones.warm_up``),
    so the first request's time limit applies to its own work. Run on a background thread at startup
    (once per process: a request that comes meanwhile waits for it, ``ensure_compiled``)."""
    services_ensure_compiled()


@router.post("/v1/drones/delivery-plan", dependencies=[Depends(require_api_key)])
def delivery_plan(req: DronePlanRequest) -> dict[str, Any]:
    """Plan, verify and map one day of drone deliveries (HTTP 422 ``invalid_input`` on bad data).

    Response keys: ``status`` (shared status word), ``served_priority``/``total_priority`` (sum of
    priorities), ``served``/``deliveries`` (counts), ``trips`` (per trip: drone, type, hub,
    ``depart``/``return`` HH:MM, ``stops`` with ``arrive`` HH:MM and ``payload_kg`` kg, ``payload_kg`` kg,
    ``energy_wh`` Wh, ``reserve_margin_wh`` Wh, ``km`` km), ``unserved`` (delivery, ``reason`` sentence,
    ``code`` reason word), ``total_energy_wh`` (Wh), ``total_flight_min`` (minutes), ``runtime_s``
    (solver seconds, instance construction included), ``violations`` (verifier findings; empty for a
    valid plan) and ``map`` (GeoJSON FeatureCollection, lon/lat degrees).
    """
    check_time_limit(req.time_limit_s)
    services_ensure_compiled()  # a request that comes while the kernels compile waits; its clock starts after
    budget = Budget(req.time_limit_s)
    dels = tuple(Delivery(d.id, d.lon, d.lat, d.weight_kg,
                          (parse_clock(d.open, f"deliveries[{i}].open"), parse_clock(d.close, f"deliveries[{i}].close")),
                          d.priority) for i, d in enumerate(req.deliveries))
    run = plan_deliveries(dels, airspace=req.airspace, temperature_c=req.temperature_c, objective=req.objective,
                          iterations=req.iterations, seed=req.seed, buffer_km=req.buffer_km,
                          max_runtime_s=max(MIN_SOLVER_S, budget.left() - REPLY_S_PER_DELIVERY * len(dels)))
    return run.to_dict(with_map=True)

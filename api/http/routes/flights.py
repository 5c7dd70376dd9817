"""``POST /v1/flights/products``: design the sightseeing-flight product menu.

The request gives the duration classes (whole minutes), the day's temperature at the vertiports, optional
vertiport and aircraft-type filters and a time limit (at most ``MAX_TIME_LIMIT_S``). The response is
``api.services.flights.menu_document``: ``status``, ``products`` (each a ``FlightProduct`` with class, minutes flying/viewing,
highest altitude, air density, usable endurance and the flown ``path`` as [[lon, lat], ...]), ``offers``
(every vertiport x aircraft x class cell, with a note and, for a cell without a route, the ``reason`` word),
``unavailable`` (cells without a route) and ``violations`` (the independent verifier's, per product; empty lists = OK). Data: the embedded
``instances/lhasa`` viewpoints, vertiports, aircraft types and no-fly zones. Unknown ids -> HTTP 422
``{"code": "invalid_input", "message", "field": "vertiports[0]"}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.http.limits import MAX_TIME_LIMIT_S, Budget, check_time_limit, default_time_limit
from api.http.security import require_api_key
from api.services import flights as service

router = APIRouter(tags=["flights"])


class FlightProductsRequest(BaseModel):
    """Design the product menu over the embedded Lhasa viewpoints."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"durations_min": [15, 30, 60], "temperature_c": 15.0, "vertiports": ["dagze_ga"], "aircraft_types": None,
         "time_limit_s": 10}]})

    durations_min: list[Annotated[StrictInt, Field(ge=1, le=240)]] = Field(
        default=[15, 30, 60], min_length=1, max_length=8,
        description="Duration classes, whole minutes (each 1..240): one product per vertiport, aircraft type and "
                    "class, with block time (take-off to landing) <= the class.",
        examples=[[15, 30, 60]])
    temperature_c: float | None = Field(
        default=15.0, ge=-40, le=45, allow_inf_nan=False,
        description="Air temperature at the vertiport, degC (-40..45), lowered by 6.5 K/km aloft; null: ISA. "
                    "Warmer air is thinner: less endurance.", examples=[15.0])
    vertiports: list[str] | None = Field(
        default=None, max_length=20,
        description="Vertiport ids to design for (null: all of instances/lhasa/vertiports.csv).",
        examples=[["dagze_ga", "city_pad"]])
    aircraft_types: list[str] | None = Field(
        default=None, max_length=20,
        description="Aircraft type ids (null: all of instances/lhasa/aircraft_types.csv, e.g. evtol, h125).",
        examples=[["evtol"]])
    time_limit_s: float = Field(
        default=default_time_limit(20.0), gt=0, le=MAX_TIME_LIMIT_S, allow_inf_nan=False,
        description=f"Wall-clock limit of the whole design, seconds (0 < x <= {MAX_TIME_LIMIT_S:g}, the server "
                    "maximum LHASA_OPS_MAX_TIME_LIMIT_S); routes found after it are marked optimal=false.",
        examples=[10])


@router.post("/v1/flights/products", dependencies=[Depends(require_api_key)])
def flight_products(req: FlightProductsRequest) -> dict[str, Any]:
    """Design, verify and return the sightseeing-flight menu (HTTP 422 ``invalid_input`` on bad data)."""
    budget = Budget(check_time_limit(req.time_limit_s))
    result = service.design_menu(service.flight_data(), req.durations_min, req.temperature_c, req.vertiports,
                                 req.aircraft_types, budget.slice())
    return service.menu_document(result)

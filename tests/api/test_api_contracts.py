"""The request contracts in the OpenAPI document: every field of the solve requests is described
(with its unit), numbers are bounded, lists and strings have a length limit, and each model carries
a complete example that the model itself accepts."""

from __future__ import annotations

import pytest

from api.http.routes.drones import DeliveryIn, DronePlanRequest
from api.http.routes.jobs import OxygenJobRequest
from api.http.openapi import document
from api.http.schemas import GroupIn, LatLon, PlanRequest
from api.http.routes.station_ops import ChargingRequest, OxygenRequest
from api.http.routes.stations import SitingRequest

MODELS = [PlanRequest, GroupIn, LatLon, DronePlanRequest, DeliveryIn, SitingRequest, ChargingRequest, OxygenRequest,
          OxygenJobRequest]
# validated by the core with a named field (a pydantic bound inside the str | LatLon union or the
# kind -> weight map would report a less precise path): lat/lon ranges, interest weights, group size
CORE_CHECKED = {("LatLon", "lat"), ("LatLon", "lon"), ("GroupIn", "size")}


@pytest.fixture(scope="module")
def schemas():
    return document()["components"]["schemas"]


def variants(prop: dict) -> list[dict]:
    return [v for v in prop.get("anyOf", [prop]) if v.get("type") != "null"]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_is_described_and_bounded(schemas, model):
    sch = schemas[model.__name__]
    assert sch.get("examples"), f"{model.__name__}: no example"
    for name, prop in sch["properties"].items():
        assert len(prop.get("description", "")) >= 10, f"{model.__name__}.{name}: no description"
        if (model.__name__, name) in CORE_CHECKED:
            continue
        for v in variants(prop):
            if v.get("type") in ("number", "integer"):
                assert {"minimum", "exclusiveMinimum"} & set(v), f"{model.__name__}.{name}: no lower bound"
                assert {"maximum", "exclusiveMaximum"} & set(v), f"{model.__name__}.{name}: no upper bound"
            if v.get("type") == "array":
                assert "maxItems" in v, f"{model.__name__}.{name}: unbounded list"
            if v.get("type") == "string" and name not in ("group_id",):
                assert {"maxLength", "pattern", "enum", "const"} & set(v) or "enum" in prop, \
                    f"{model.__name__}.{name}: unbounded string"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_examples_are_valid_requests(model):
    """Each model's example body is accepted by the model itself (validation raises otherwise)."""
    examples = model.model_config["json_schema_extra"]["examples"]
    assert examples
    for ex in examples:
        parsed = model.model_validate(ex)
        assert set(ex) <= set(parsed.model_dump())


def test_time_limit_fields_name_the_server_maximum(schemas):
    for name in ("PlanRequest", "DronePlanRequest", "SitingRequest", "OxygenRequest", "ChargingRequest"):
        prop = schemas[name]["properties"]["time_limit_s"]
        assert "LHASA_OPS_MAX_TIME_LIMIT_S" in prop["description"]
        assert prop.get("maximum", 1e9) <= 300


def test_floats_reject_nan_and_infinity():
    import math

    from pydantic import ValidationError

    for bad in (math.nan, math.inf):
        with pytest.raises(ValidationError):
            DeliveryIn(id="x", lon=91.1, lat=29.6, weight_kg=bad)
        with pytest.raises(ValidationError):
            OxygenRequest(shift_min=bad)
        with pytest.raises(ValidationError):
            SitingRequest(kind="oxygen", p=2, threshold_min=bad)


def test_strict_integers_are_not_truncated():
    from pydantic import ValidationError

    for model, field in ((OxygenRequest, "trucks"), (SitingRequest, "p"), (DronePlanRequest, "iterations")):
        base = {"kind": "oxygen", "p": 2} if model is SitingRequest else {}
        if model is DronePlanRequest:
            base = {"deliveries": [{"id": "a", "lon": 91.1, "lat": 29.6, "weight_kg": 1.0}]}
        with pytest.raises(ValidationError):
            model.model_validate(base | {field: 2.5})
        with pytest.raises(ValidationError):
            model.model_validate(base | {field: "3"})


def test_booleans_and_strings_are_not_numbers():
    from pydantic import ValidationError

    cases = [(OxygenRequest, {"shift_min": True}), (OxygenRequest, {"shift_min": "600"}),
             (SitingRequest, {"kind": "oxygen", "p": 2, "threshold_min": True}),
             (DeliveryIn, {"id": "x", "lon": 91.1, "lat": 29.6, "weight_kg": False}),
             (PlanRequest, {"groups": [], "time_limit_s": True})]
    for model, body in cases:
        with pytest.raises(ValidationError):
            model.model_validate(body)
    assert OxygenRequest.model_validate({"shift_min": 600}).shift_min == 600.0  # an integer is a number

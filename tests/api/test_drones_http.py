"""``POST /v1/drones/delivery-plan``: a plan with a GeoJSON map; bad airspace -> 422 naming it."""

import json

from fastapi.testclient import TestClient

from instances.paths import AIRSPACE_GEOJSON


def test_api_delivery_plan_and_unclosed_polygon():
    """POST /v1/drones/delivery-plan answers a plan with a GeoJSON map; an unclosed polygon is a 422 naming it."""
    from api.http.app import app
    client = TestClient(app)
    body = {"deliveries": [{"id": "a", "lon": 91.09, "lat": 29.70, "weight_kg": 1.2, "open": "10:00", "close": "12:00"},
                           {"id": "b", "lon": 91.1169, "lat": 29.6578, "weight_kg": 1.0}], "iterations": 10}
    r = client.post("/v1/drones/delivery-plan", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["violations"] == [] and d["served"] == 1
    assert any(f["properties"]["kind"] == "trip" for f in d["map"]["features"])
    assert {"served_priority", "total_priority", "served", "deliveries", "trips", "unserved", "total_energy_wh",
            "total_flight_min", "runtime_s", "violations", "map"} <= set(d)
    assert d["unserved"] == [{"delivery": "b", "reason": "inside no-fly zone 'old_city'", "code": "no_fly"}]
    gj = json.loads(AIRSPACE_GEOJSON.read_text(encoding="utf-8"))
    gj["features"][0]["geometry"]["coordinates"][0].pop()
    r = client.post("/v1/drones/delivery-plan", json={**body, "airspace": gj})
    assert r.status_code == 422 and "does not close" in r.json()["message"]

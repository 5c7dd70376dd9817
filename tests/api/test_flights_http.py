"""``POST /v1/flights/products`` and ``POST /v1/flights/schedule``: verified answers and 422s naming the field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.http.app import app


@pytest.fixture(scope="module")
def client():
    return TestClient(app)


def test_api_products_and_422s(client):
    """POST /v1/flights/products returns the verified menu; a negative duration, an unknown vertiport and a
    time limit above the server maximum are 422 {code, message, field}."""
    c = client
    r = c.post("/v1/flights/products", json={"durations_min": [15, 30], "vertiports": ["city_pad"]})
    assert r.status_code == 200, r.text
    d = r.json()
    assert {p["vertiport_id"] for p in d["products"]} == {"city_pad"} and len(d["offers"]) == 4
    assert all(v == [] for v in d["violations"].values()) and d["products"][0]["path"][0] == [91.085, 29.632]
    for body, field in (({"durations_min": [-15]}, "durations_min[0]"), ({"vertiports": ["lhasa_zoo"]}, "vertiports[0]"),
                        ({"time_limit_s": 600}, "time_limit_s")):
        r = c.post("/v1/flights/products", json=body)
        assert r.status_code == 422 and r.json()["code"] == "invalid_input" and r.json()["field"] == field, r.text
        assert r.json()["message"]


def test_api_schedule_and_422(client):
    """POST /v1/flights/schedule answers a verifier-clean schedule; an unknown product is a 422 naming the field."""
    body = {"products": [{"id": "p30", "vertiport_id": "vp", "aircraft_type_id": "ev", "block_min": 30}],
            "aircraft": [{"id": "a1", "type_id": "ev", "vertiport_id": "vp", "seats": 4, "open": "10:00",
                          "close": "12:00", "turnaround_min": 20}],
            "bookings": [{"id": "A", "product_id": "p30", "party_size": 3, "open": "10:00", "close": "10:20",
                          "desired": "10:10"},
                         {"id": "B", "product_id": "p30", "party_size": 2, "open": "10:00", "close": "10:20",
                          "desired": "10:00"},
                         {"id": "C", "product_id": "p30", "party_size": 2, "open": "10:50", "close": "11:40",
                          "desired": "10:50"}],
            "vertiports": [{"id": "vp", "takeoffs_per_slot": 1}], "slot_min": 10, "start_step_min": 10,
            "time_limit_s": 5, "workers": 1}
    r = client.post("/v1/flights/schedule", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["violations"] == [] and d["status"] == "optimal"
    assert d["kpis"]["passengers"] == 5 and d["kpis"]["deviation_min"] == 10
    assert [u["reason"] for u in d["unassigned"]] == ["capacity"]
    body["bookings"][0]["product_id"] = "nope"
    r = client.post("/v1/flights/schedule", json=body)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input" and r.json()["field"] == "bookings[A].product_id"
    r = client.post("/v1/flights/schedule", json={**body, "time_limit_s": 1e9})
    assert r.status_code == 422 and r.json()["field"] == "time_limit_s"

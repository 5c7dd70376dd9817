"""``POST /v1/stations/siting`` on the demo day, on request groups and on a plan.json object."""

from __future__ import annotations

import json
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.http.app import app

DEMAND_EXAMPLE = "instances/lhasa/demand_example.json"


def example_groups() -> list[dict]:
    with open(DEMAND_EXAMPLE, encoding="utf-8") as f:
        return json.load(f)["groups"]


def test_api_siting():
    """Demo-day siting for both kinds; bad p and range are HTTP 422 naming the field."""
    client = TestClient(app)
    r = client.post("/v1/stations/siting", json={"kind": "oxygen", "p": 2, "iterations": 20, "p_max": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "optimal" and len(body["chosen"]) == 2 and len(body["marginal"]) == 3
    assert 0 < body["covered_pct"] <= 100 and body["covered"] <= body["total"]
    assert body["verifier"] == "ok" and body["source"] == "demo day"
    r = client.post("/v1/stations/siting", json={"kind": "charger", "p": 2, "iterations": 20, "p_max": 2,
                                                  "backend": "pulp"})
    assert r.status_code == 200, r.text
    for p in (0, 999):
        r = client.post("/v1/stations/siting", json={"kind": "charger", "p": p, "iterations": 0})
        assert r.status_code == 422
        assert r.json()["code"] == "invalid_input" and r.json()["field"] == "p"
    r = client.post("/v1/stations/siting", json={"kind": "charger", "p": 2, "range_km": 0, "iterations": 0})
    assert r.status_code == 422 and r.json()["field"] == "range_km"


def test_api_siting_for_groups():
    """With ``groups`` the siting is for those groups' demand: every covered demand site is one the
    groups visit and each is served by exactly one chosen station."""
    client = TestClient(app)
    r = client.post("/v1/stations/siting", json={"kind": "oxygen", "p": 2, "groups": example_groups(),
                                                  "iterations": 200, "p_max": 3, "time_limit_s": 20})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == "3 groups" and body["status"] == "optimal" and len(body["chosen"]) == 2
    served = [s for st in body["stations"] for s in st["demand_sites"]]
    assert len(served) == len(set(served))
    assert body["params"]["demand_sites"] == len(served) + len(body["unserved"])


def test_api_siting_for_a_plan_object(lhasa_network):
    """A plan.json object is used as it is; groups and plan together are HTTP 422 naming the field."""
    from api.services import tours
    from optimizer.core.stop import MaxIterations

    problem, plan = tours.plan_groups(lhasa_network, tours.read_groups(DEMAND_EXAMPLE, lhasa_network),
                                      MaxIterations(100), seed=0)
    doc = json.loads(json.dumps(tours.plan_document(problem, plan)))
    client = TestClient(app)
    r = client.post("/v1/stations/siting", json={"kind": "charger", "p": 1, "plan": doc, "p_max": 2})
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "plan" and r.json()["verifier"] == "ok"
    r = client.post("/v1/stations/siting", json={"kind": "charger", "p": 1, "plan": doc,
                                                  "groups": example_groups()})
    assert r.status_code == 422 and r.json()["field"] == "groups"
    r = client.post("/v1/stations/siting", json={"kind": "charger", "p": 1, "plan": {"routes": []}})
    assert r.status_code == 422 and r.json()["field"] == "plan.groups"

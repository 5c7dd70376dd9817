"""HTTP: ``POST /v1/stations/charging-schedule`` and ``/v1/stations/oxygen-plan`` on the demo day, on
posted ``groups``, on a posted ``plan`` and (oxygen) on a posted ``siting``; bad input is 422 naming
the field."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.http.app import app
from api.http.schemas import EXAMPLE_GROUP

GROUPS = [dict(EXAMPLE_GROUP, group_id=f"G{k}", size=20 + k, start="potala", end="potala",
               must_visit=[site]) for k, site in enumerate(("drepung", "sera", "jokhang", "norbulingka"))]
SITING = {"kind": "oxygen", "chosen": ["potala", "drepung"],
          "detail": [{"site_id": "potala", "litres_day": 30000.0}, {"site_id": "jokhang", "litres_day": 12000.0},
                     {"site_id": "drepung", "litres_day": 9000.0}, {"site_id": "namtso_tashi", "litres_day": 500.0}],
          "params": {"threshold_min": 30.0}}


@pytest.fixture(scope="module")
def client():
    with TestClient(app) as c:
        yield c


def test_api_charging_schedule_and_bad_input(client):
    c = client
    r = c.post("/v1/stations/charging-schedule",
               json={"iterations": 50, "max_vehicles": 10, "time_limit_s": 10, "include_sessions": False})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["status"] in ("optimal", "feasible") and d["verifier"] == []
    assert len(d["soc_kwh"]) == 10 and "sessions" not in d
    bad = c.post("/v1/stations/charging-schedule", json={"iterations": 10, "chargers": 0})
    assert bad.status_code == 422 and bad.json()["field"] == "chargers"
    neg = c.post("/v1/stations/charging-schedule", json={"iterations": 10, "tariff": "0-24:-0.2"})
    assert neg.status_code == 422 and neg.json()["field"] == "tariff"
    for bad_delay in ({"max_delay_min": -15}, {"max_delay_min": 500}, {"lateness_cny_per_min": -1}):
        assert c.post("/v1/stations/charging-schedule", json={"iterations": 10, **bad_delay}).status_code == 422
    ok = c.post("/v1/stations/charging-schedule",
                json={"iterations": 50, "max_vehicles": 6, "time_limit_s": 10, "max_delay_min": 30,
                      "lateness_cny_per_min": 1.0, "include_sessions": False})
    assert ok.status_code == 200, ok.text
    od = ok.json()
    assert od["verifier"] == [] and od["params"]["max_delay_min"] == 30
    assert od["lateness_min_total"] == pytest.approx(sum(x["delay_min"] for x in od["delays"]))


def test_api_oxygen_plan_and_bad_depot(client):
    r = client.post("/v1/stations/oxygen-plan", json={"iterations": 50, "method": "policy"})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["verifier"] == [] and d["stockout_cylinders"] == 0 and d["routes"]
    assert d["min_margin_cylinders"] > 0 and d["safety_breaches"] == []  # the default safety stock holds
    bad = client.post("/v1/stations/oxygen-plan", json={"iterations": 10, "depot": "nowhere"})
    assert bad.status_code == 422 and bad.json()["field"] == "depot"


def test_charging_schedule_for_posted_groups(client):
    """The coaches come from the posted groups (one per group of >= 20 persons), not the demo day."""
    r = client.post("/v1/stations/charging-schedule",
                    json={"groups": GROUPS, "iterations": 100, "time_limit_s": 20, "include_sessions": False})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["verifier"] == [] and d["status"] in ("optimal", "feasible")
    assert sorted(v["group"] for v in d["vehicles"]) == sorted(g["group_id"] for g in GROUPS)


def test_charging_schedule_for_a_posted_plan(client):
    """A plan.json document (planned elsewhere) is read back and used as it is."""
    from api.services.tours import lhasa_network, plan_document, plan_groups
    from instances.demand import groups_from_records
    from optimizer.core.stop import MaxIterations

    net = lhasa_network()
    problem, plan = plan_groups(net, groups_from_records(GROUPS, net), MaxIterations(100))
    doc = plan_document(problem, plan)
    r = client.post("/v1/stations/charging-schedule", json={"plan": doc, "time_limit_s": 20})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["verifier"] == [] and len(d["vehicles"]) == len(GROUPS)
    routes = {rt["group_id"]: rt for rt in doc["routes"]}
    for v in d["vehicles"]:
        assert v["route"][1:-1] == [x["site_id"] for x in routes[v["group"]]["visits"]]


def test_two_plan_sources_and_bad_groups_are_422(client):
    from api.services.tours import lhasa_network, plan_document, plan_groups
    from instances.demand import groups_from_records
    from optimizer.core.stop import MaxIterations

    net = lhasa_network()
    doc = plan_document(*plan_groups(net, groups_from_records(GROUPS[:1], net), MaxIterations(10)))
    for path in ("/v1/stations/charging-schedule", "/v1/stations/oxygen-plan"):
        r = client.post(path, json={"groups": GROUPS, "plan": doc, "time_limit_s": 10})
        assert r.status_code == 422 and r.json()["field"] in ("groups", "plan"), r.text
        r = client.post(path, json={"groups": [dict(GROUPS[0], must_visit=["nowhere"])], "time_limit_s": 10})
        assert r.status_code == 422 and "must_visit" in r.json()["field"] + r.json()["message"], r.text


def test_oxygen_plan_for_posted_groups(client):
    r = client.post("/v1/stations/oxygen-plan", json={"groups": GROUPS, "iterations": 100, "time_limit_s": 20})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["verifier"] == [] and d["stations_from"] == "stations.csv"
    served = {s for st in d["stations"] for s in st["sites"]}
    assert {"drepung", "sera", "jokhang", "norbulingka"} <= served  # the groups' must-visits carry the demand
    assert len(d["stations"]) < 14  # not the demo day's 14 stations


def test_oxygen_plan_for_a_posted_siting(client):
    """Exactly the siting's stations; a site beyond its threshold is listed as uncovered."""
    r = client.post("/v1/stations/oxygen-plan", json={"siting": SITING, "time_limit_s": 20})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["verifier"] == [] and d["stations_from"] == "siting"
    assert sorted(s["station"] for s in d["stations"]) == ["drepung", "potala"]
    assert [u["site_id"] for u in d["uncovered_sites"]] == ["namtso_tashi"]
    assert d["method"] == "exact" and d["status"] == "optimal"
    bad = client.post("/v1/stations/oxygen-plan", json={"siting": dict(SITING, kind="charger"), "time_limit_s": 5})
    assert bad.status_code == 422 and bad.json()["field"] == "siting.kind"
    bad = client.post("/v1/stations/oxygen-plan",
                      json={"siting": dict(SITING, chosen=["nowhere"]), "time_limit_s": 5})
    assert bad.status_code == 422 and bad.json()["field"] == "siting.chosen[0]"


@pytest.mark.parametrize("path, body, field, words", [
    ("/v1/stations/charging-schedule", {"tariff": "0-8:0.35,10-24:0.7"}, "tariff", "10-24:0.7"),
    ("/v1/stations/charging-schedule", {"tariff": "0-12:1,6-24:2"}, "tariff", "6-24:2"),
    ("/v1/stations/charging-schedule", {"tariff": "0-24:1e300"}, "tariff", "1000"),
    ("/v1/stations/oxygen-plan", {"trucks": 0}, "trucks", ""),
    ("/v1/stations/oxygen-plan", {"lookahead": 31}, "lookahead", ""),
    ("/v1/stations/oxygen-plan", {"safety_days": 366.0}, "safety_days", ""),
])
def test_trial_inputs_are_422_naming_the_users_field(client, path, body, field, words):
    """Fresh-user trial: a tariff with a gap or an overlap answered 200, a price of 1e300 was blamed on
    shortfall_penalty, and zero trucks planned 237 stock-outs. Each is now 422 naming the user's field."""
    r = client.post(path, json={"iterations": 10, **body})
    assert r.status_code == 422, r.text
    assert field in r.json()["field"] and words in r.json()["message"], r.json()

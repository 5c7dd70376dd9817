"""The server side of the Week (行程) and Live day (当日运营) pages, without a browser.

Protects: the demo-week sample the page plans is the demo week's generator drawn for N groups and
is accepted by ``POST /v1/itineraries/plan`` (synchronously up to 100 groups, with the verifier's
``violations`` empty); the places the page draws itineraries with carry every hotel's sleeping
altitude and every site's altitude reached, as the data files say; an uploaded stay demand file
is read like ``lhasa-ops itineraries plan --demand`` and a bad one is a 422 naming the field; a
booking of size 0 (the page's error case) is a 422 naming the size.
"""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.http.app import create_app
from api.services import itineraries
from instances.lhasa_itineraries import group_request_to_record, unavoidable_altitudes


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("LHASA_OPS_DB", str(tmp_path_factory.mktemp("webweek") / "jobs.sqlite"))
    mp.delenv("LHASA_OPS_API_KEYS", raising=False)
    mp.delenv("LHASA_OPS_API_KEYS_FILE", raising=False)
    with TestClient(create_app()) as c:
        yield c
    mp.undo()


def test_demo_week_sample_is_the_generator_and_plans_at_once(client):
    """``/v1/web/demo-week?groups=6`` answers the generator's 6 groups; the plan of them is answered at
    once (200, not a job) and the independent verifier found nothing."""
    r = client.get("/v1/web/demo-week", params={"groups": 6})
    assert r.status_code == 200, r.text
    groups = r.json()["groups"]
    assert groups == [group_request_to_record(g) for g in itineraries.demo_week(6)]
    plan = client.post("/v1/itineraries/plan", json={"groups": groups, "time_limit_s": 5, "iterations": 50})
    assert plan.status_code == 200, plan.text
    body = plan.json()
    assert body["violations"] == [] and body["groups"] == 6
    assert body["persons"] == sum(g["size"] for g in groups)


@pytest.mark.parametrize("n", [0, 1501, "x"])
def test_demo_week_bad_count_is_422(client, n):
    r = client.get("/v1/web/demo-week", params={"groups": n})
    assert r.status_code == 422 and "groups" in r.text


def test_week_places_carry_altitudes_and_rules(client):
    """Every hotel with its sleeping altitude and rooms (hotels.csv), every site with the altitude reached
    on the way (Namtso over Largen La, above its own elevation), and the embedded rules."""
    doc = client.get("/v1/web/week-places").json()
    data = itineraries.lhasa_data()
    places = doc["places"]
    for h in data.hotels:
        p = places[h.id]
        assert p["kind"] == "hotel" and p["elevation_m"] == h.elevation_m and p["rooms"] == h.rooms
        site = data.network.site(h.site_id)
        assert (p["lon"], p["lat"]) == (site.lon, site.lat)
    reach = unavoidable_altitudes(data)
    for s in data.network.sites:
        assert places[s.id]["reach_m"] == reach[s.id] and places[s.id]["elevation_m"] == s.elevation_m
    assert places["namtso_tashi"]["reach_m"] > places["namtso_tashi"]["elevation_m"]
    assert doc["rules"]["max_visit_altitude_m"] == list(data.rules.max_visit_altitude_m)


def test_week_file_upload_reads_like_the_cli(client, tmp_path):
    """A demand file written by ``write_demand`` comes back as the same records; a departure before the
    arrival is a 422 naming the row and field."""
    groups = itineraries.demo_week(4)
    path = itineraries.write_demand(groups, tmp_path / "week.csv")
    r = client.post("/v1/web/week-file", params={"filename": "week.csv"}, content=path.read_bytes())
    assert r.status_code == 200, r.text
    assert r.json()["groups"] == [group_request_to_record(g) for g in groups]
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("departure")] = "2026-01-01"
    bad = "\n".join([lines[0], ",".join(row)]) + "\n"
    r = client.post("/v1/web/week-file", params={"filename": "week.csv"}, content=bad.encode())
    assert r.status_code == 422, r.text
    assert "departure" in (r.json()["field"] + r.json()["message"])
    r = client.post("/v1/web/week-file", params={"filename": "week.txt"}, content=b"x")
    assert r.status_code == 422 and r.json()["field"] == "file"


def test_a_booking_of_size_zero_is_422_naming_the_size(client):
    """The Live day page's error case: the API refuses a group of 0 persons naming the field, and
    stores nothing."""
    r = client.post("/v1/days", json={"date": "2026-08-03", "groups": [], "iterations": 1})
    assert r.status_code == 201, r.text
    g = {"group_id": "Z", "size": 0, "start": "lhasa_railway", "end": "lhasa_railway",
         "day_window": ["08:00", "19:00"], "must_visit": ["potala"]}
    r = client.post("/v1/days/2026-08-03/bookings", json={"group": g})
    assert r.status_code == 422, r.text
    assert "size" in r.json()["field"]
    assert client.get("/v1/days/2026-08-03").json()["version"] == 1

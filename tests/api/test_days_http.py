"""HTTP API of live days (issue 17): create, read, book (201 / 409 full with alternatives),
cancel, events (the diff), versions; bad input is a 422 naming the field and stores nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("LHASA_OPS_DB", str(tmp_path_factory.mktemp("db") / "days.sqlite"))
    mp.delenv("LHASA_OPS_API_KEYS", raising=False)
    mp.delenv("LHASA_OPS_API_KEYS_FILE", raising=False)
    with TestClient(create_app()) as c:
        yield c
    mp.undo()


def group(gid: str, size: int = 30, must=("potala",)) -> dict:
    return {
        "group_id": gid,
        "size": size,
        "start": "lhasa_railway",
        "end": "lhasa_railway",
        "day_window": ["08:00", "19:00"],
        "must_visit": list(must),
    }


def test_a_day_over_http(client):
    r = client.post(
        "/v1/days",
        json={
            "date": "2026-08-01",
            "groups": [group("A", 5), group("B", 5, must=("jokhang",))],
            "iterations": 100,
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1 and r.json()["violations"] == []
    assert client.post("/v1/days", json={"date": "2026-08-01", "groups": []}).json()["code"] == "day_exists"
    r = client.post(
        "/v1/days/2026-08-01/events",
        json={"kind": "quota_cut", "at": "07:00", "site_id": "potala", "quota": 40, "iterations": 50},
    )
    assert r.status_code == 200, r.text
    ev = r.json()
    assert ev["version"] == 2 and ev["violations"] == [] and "changed" in ev and "lost_visits" in ev
    # 40 places, at most 10 taken by A and B: C (30) gets in, D (30) is told full
    r = client.post(
        "/v1/days/2026-08-01/bookings", json={"group": group("C", 30), "wanted_slots": {"potala": "10:00"}}
    )
    assert r.status_code == 201, r.text
    assert any(
        v["site_id"] == "potala" and v["start_hhmm"].startswith("10:") for v in r.json()["route"]["visits"]
    )
    r2 = client.post(
        "/v1/days/2026-08-01/bookings", json={"group": group("D", 30), "wanted_slots": {"potala": "10:00"}}
    )
    assert r2.status_code == 409, r2.text
    full = r2.json()
    assert full["code"] == "full" and full["field"] == "group" and full["alternatives"]
    alt = full["alternatives"][0]
    assert {"kind", "site_id", "slot_hhmm", "score", "score_loss", "extra_travel_min", "route"} <= set(alt)
    day = client.get("/v1/days/2026-08-01").json()
    assert day["kpis"]["groups"] == len(day["groups"]) and day["version"] >= 2
    r = client.delete("/v1/days/2026-08-01/bookings/B")
    assert r.status_code == 200 and r.json()["outcome"] == "removed"
    v = client.get(f"/v1/days/2026-08-01/versions/{r.json()['version']}").json()
    assert v["kind"] == "cancel" and v["reason"] == "cancel B"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "group_delayed", "at": "12:00", "group_id": "NOPE", "delay_min": 5}, "event.group_id"),
        ({"kind": "road_closed", "at": "12:00", "road": ["potala", "nowhere"]}, "event.road"),
        ({"kind": "site_closed", "at": "12:00", "site_id": "atlantis"}, "event.site_id"),
        ({"kind": "volcano", "at": "12:00"}, "event.kind"),
        ({"kind": "site_closed", "at": "06:00", "site_id": "sera"}, "event.at"),
    ],
)
def test_bad_events_are_422_and_leave_the_plan(client, body, field):
    client.post("/v1/days", json={"date": "2026-08-05", "groups": [group("A")], "iterations": 50})
    client.post(
        "/v1/days/2026-08-05/events",
        json={"kind": "quota_cut", "at": "07:00", "site_id": "potala", "quota": 500, "iterations": 20},
    )
    before = client.get("/v1/days/2026-08-05").json()
    r = client.post("/v1/days/2026-08-05/events", json=body)
    assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert client.get("/v1/days/2026-08-05").json() == before


def test_unknown_day_and_bad_date(client):
    assert client.get("/v1/days/2030-01-01").status_code == 404
    assert client.get("/v1/days/not-a-date").json()["field"] == "date"
    r = client.post("/v1/days/2030-01-01/bookings", json={"group": group("A")})
    assert r.status_code == 404 and r.json()["code"] == "not_found"

"""Tests of the HTTP API (``api.http.app``): in-process with TestClient, and once through a real
uvicorn server in a subprocess. Every returned plan is re-checked independently: the problem is
rebuilt from the request's records and ``verify`` runs on a ``TourPlan`` rebuilt from the JSON."""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import httpx
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette: "use httpx2" deprecation notice
    from fastapi.testclient import TestClient

from api.http.app import app
from instances.demand import groups_from_records
from instances.loader import load_lhasa
from optimizer.tours import TourProblem, verify
from optimizer.tours.report import plan_from_dict

REPO = Path(__file__).resolve().parents[1]

GROUPS = [
    {"group_id": "G1", "size": 25, "start": "potala", "end": {"lat": 29.6503, "lon": 91.1300},
     "day_window": ["08:00", "19:00"], "must_visit": ["jokhang"], "interests": {"monastery": 1.5},
     "zone": None},
    {"group_id": "G2", "size": 40, "start": "lhasa_railway", "end": "lhasa_railway",
     "day_window": ["08:30", "18:30"], "must_visit": ["potala", "norbulingka"]},
    {"group_id": "G3", "size": 12, "start": {"lat": 29.66, "lon": 91.10}, "end": "barkhor",
     "day_window": ["09:00", "17:00"], "interests": {"lake": 0}},
]


def plan_body(groups=None, **kw):
    body = {"groups": copy.deepcopy(GROUPS if groups is None else groups), "time_limit_s": 5, "seed": 0,
            "iterations": 20}
    body.update(kw)
    return body


@pytest.fixture(scope="module")
def client():
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def network():
    return load_lhasa()


def recheck(network, records, doc) -> list:
    """Independent check: problem rebuilt from the records, plan rebuilt from the JSON."""
    problem = TourProblem(network=network, groups=groups_from_records(records, network))
    return verify(problem, plan_from_dict(doc))


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_sites(client):
    r = client.get("/v1/instances/lhasa/sites")
    assert r.status_code == 200
    sites = r.json()
    assert len(sites) >= 45
    potala = next(s for s in sites if s["id"] == "potala")
    assert potala["open"] == "09:00" and potala["slot_quota"] == 834 and potala["name_zh"] == "布达拉宫"
    assert {"id", "name_en", "name_zh", "lat", "lon", "elevation_m", "kind", "rating", "score", "visit_min",
            "open", "close", "daily_quota", "slot_quota", "coord_conf"} <= set(potala)


def test_plan_three_groups(client, network):
    body = plan_body()
    r = client.post("/v1/tours/plan", json=body)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["violations"] == []
    assert doc["iterations"] == 20 and doc["seed"] == 0
    assert {rt["group_id"] for rt in doc["routes"]} == {"G1", "G2", "G3"}
    assert doc["kpis"]["groups"] == 3
    g1 = next(rt for rt in doc["routes"] if rt["group_id"] == "G1")
    assert "jokhang" in [v["site_id"] for v in g1["visits"]]
    assert recheck(network, body["groups"], doc) == []


def test_plan_is_deterministic_for_seed_and_iterations(client):
    a = client.post("/v1/tours/plan", json=plan_body()).json()
    b = client.post("/v1/tours/plan", json=plan_body()).json()
    assert a["routes"] == b["routes"]


@pytest.mark.parametrize("index, change, field", [
    (1, {"must_visit": ["potala", "atlantis"]}, "groups[1].must_visit"),
    (0, {"start": "atlantis"}, "groups[0].start"),
    (2, {"day_window": ["17:00", "09:00"]}, "groups[2].day_window[1]"),
    (0, {"interests": {"volcano": 1.0}}, "groups[0].interests"),
    (0, {"zone": "R9"}, "groups[0].zone"),
])
def test_bad_group_is_422_naming_the_field(client, index, change, field):
    groups = copy.deepcopy(GROUPS)
    groups[index].update(change)
    r = client.post("/v1/tours/plan", json=plan_body(groups))
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid_input"
    assert body["field"] == field
    assert f"index {index}" in body["message"]


def test_duplicate_group_id_is_422(client):
    r = client.post("/v1/tours/plan", json=plan_body([GROUPS[0], GROUPS[0]]))
    assert r.status_code == 422 and r.json()["field"] == "groups[1].group_id"


def test_nan_size_is_422_naming_the_field(client):
    # Python's json (and so FastAPI) accepts the non-standard NaN literal in a request body
    raw = ('{"groups": [{"group_id": "X", "size": NaN, "start": "potala", "end": "potala", '
           '"day_window": ["08:00", "19:00"]}], "iterations": 5}')
    r = client.post("/v1/tours/plan", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422
    doc = r.json()
    assert doc["code"] == "invalid_input"
    assert "groups[0].size" in [e["field"] for e in doc["errors"]]
    assert "NaN" not in r.text  # the body is not echoed back; the value is named as text (JSON has no NaN)
    assert doc["message"] == "groups[0].size=nan: Input should be a valid integer"


def test_nan_coordinate_is_422_naming_the_field(client):
    raw = ('{"groups": [{"group_id": "X", "size": 5, "start": {"lat": NaN, "lon": 91.1}, "end": "potala", '
           '"day_window": ["08:00", "19:00"]}], "iterations": 5}')
    r = client.post("/v1/tours/plan", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["field"] == "groups[0].start.lat"


@pytest.mark.parametrize("change", [
    {"time_limit_s": 0}, {"time_limit_s": 61}, {"time_limit_s": -1}, {"seed": -1}, {"iterations": -1},
])
def test_bad_options_are_422(client, change):
    r = client.post("/v1/tours/plan", json=plan_body(**change))
    assert r.status_code == 422
    doc = r.json()
    assert doc["code"] == "invalid_input" and doc["field"] == next(iter(change)) and doc["message"]


def test_huge_size_is_422_not_500(client):
    """A size beyond any tour group (and beyond int64) is rejected naming the field."""
    for size in (10**30, 10**6):
        g = dict(copy.deepcopy(GROUPS[0]), size=size)
        r = client.post("/v1/tours/plan", json=plan_body([g]))
        assert r.status_code == 422, r.text
        assert r.json()["field"] == "groups[0].size"


def test_shape_errors_are_422(client):
    bad = copy.deepcopy(GROUPS[0])
    bad["size"] = 2.5
    assert client.post("/v1/tours/plan", json=plan_body([bad])).status_code == 422
    del bad["size"]
    assert client.post("/v1/tours/plan", json=plan_body([bad])).status_code == 422
    assert client.post("/v1/tours/plan", json={"groups": [], "colour": "red"}).status_code == 422
    r = client.post("/v1/tours/plan", content="{", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_empty_groups_is_an_empty_plan(client):
    r = client.post("/v1/tours/plan", json={"groups": []})
    assert r.status_code == 200
    doc = r.json()
    assert doc["routes"] == [] and doc["unserved"] == [] and doc["violations"] == []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_server(network):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.http.app:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=base, timeout=30.0) as http:
            for _ in range(150):  # up to ~30 s for the server to come up
                if proc.poll() is not None:
                    pytest.fail(f"server exited early: {proc.stdout.read().decode(errors='replace')}")
                try:
                    if http.get("/healthz", timeout=1.0).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            else:
                pytest.fail("server did not answer /healthz")
            body = plan_body()
            r = http.post("/v1/tours/plan", json=body)
            assert r.status_code == 200, r.text
            doc = r.json()
            assert doc["violations"] == []
            assert recheck(network, body["groups"], doc) == []
            assert http.post("/v1/tours/plan", json=plan_body([{"group_id": "X"}])).status_code == 422
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

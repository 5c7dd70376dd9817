"""Every solve endpoint takes ``time_limit_s`` (bounded by ``LHASA_OPS_MAX_TIME_LIMIT_S``) and honours
it, construction included (``api.http.limits``): with a 1 s limit and an effort that would take far longer
(iteration budgets of 100 000 for the demo-day plan, 20 000 drone iterations, 1 000 tour groups), the
answer comes within the limit plus a fixed overhead. Also the optional ``candidate_sites`` of a plan."""

from __future__ import annotations

import time
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.http.app import create_app
from api.cli.drones import read_drone_demand
from instances.loader import LHASA_DIR

LIMIT_S = 1.0
OVERHEAD_S = 6.0  # generous: uninterruptible steps (CP-SAT presolve, one batch of drone iterations), verify, JSON
HEAVY_ITERATIONS = 100_000  # a demo-day plan of 100 000 ILS iterations alone takes ~30 s


def group(i: int, **kw) -> dict:
    return {"group_id": f"G{i}", "size": 10, "start": "potala", "end": "potala", "day_window": ["08:00", "19:00"]} | kw


def deliveries() -> list[dict]:
    out = []
    for d in read_drone_demand(LHASA_DIR / "drone_demand_example.csv"):
        o, c = d.window
        out.append({"id": d.id, "lon": d.lon, "lat": d.lat, "weight_kg": d.weight_kg,
                    "open": f"{int(o) // 60:02d}:{int(o) % 60:02d}", "close": f"{int(c) // 60:02d}:{int(c) % 60:02d}",
                    "priority": d.priority})
    return out


def flight_bookings() -> list[dict]:
    """The 100 example bookings (a 5-min take-off grid keeps HiGHS and CP-SAT busy for ~20 s)."""
    from optimizer.core.clock import fmt_clock
    from instances.flights import read_bookings_csv
    return [{"id": b.id, "product_id": b.product_id, "party_size": b.party_size, "open": fmt_clock(b.window[0]),
             "close": fmt_clock(b.window[1]), "desired": fmt_clock(b.desired_min)}
            for b in read_bookings_csv(LHASA_DIR / "flight_bookings_example.csv")]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("LHASA_OPS_DB", str(tmp_path_factory.mktemp("limits") / "jobs.sqlite"))
    mp.delenv("LHASA_OPS_API_KEYS", raising=False)
    mp.delenv("LHASA_OPS_API_KEYS_FILE", raising=False)
    mp.delenv("LHASA_OPS_MAX_TIME_LIMIT_S", raising=False)
    with TestClient(create_app()) as c:
        # compile (or load from the numba cache) the drone kernels once, untimed
        r = c.post("/v1/drones/delivery-plan", json={"deliveries": deliveries()[:2], "iterations": 1})
        assert r.status_code == 200, r.text
        yield c
    mp.undo()


HEAVY = {
    "/v1/tours/plan": lambda: {"groups": [group(i) for i in range(1000)]},
    "/v1/stations/siting": lambda: {"kind": "oxygen", "p": 3, "iterations": HEAVY_ITERATIONS},
    "/v1/stations/charging-schedule": lambda: {"iterations": HEAVY_ITERATIONS, "max_vehicles": 500},
    "/v1/stations/oxygen-plan": lambda: {"iterations": HEAVY_ITERATIONS, "method": "exact"},
    "/v1/drones/delivery-plan": lambda: {"deliveries": deliveries(), "iterations": 20_000},
    "/v1/flights/products": lambda: {"durations_min": [15, 30, 45, 60, 90, 120, 180, 240]},
    "/v1/flights/schedule": lambda: {"bookings": flight_bookings(), "start_step_min": 5},
}


@pytest.mark.parametrize("path", list(HEAVY))
def test_a_small_time_limit_is_honoured(client, path):
    body = HEAVY[path]() | {"time_limit_s": LIMIT_S}
    t0 = time.perf_counter()
    r = client.post(path, json=body)
    wall = time.perf_counter() - t0
    assert r.status_code == 200, r.text
    print(f"{path}: limit {LIMIT_S} s, answered in {wall:.2f} s")
    assert wall < LIMIT_S + OVERHEAD_S
    doc = r.json()
    if path == "/v1/tours/plan":
        assert doc["stopped_by"] == "max_runtime_s" and doc["violations"] == []
    elif path == "/v1/drones/delivery-plan" or path == "/v1/flights/schedule":
        assert doc["violations"] == []
    elif path == "/v1/flights/products":  # violations per product
        assert doc["products"] and all(v == [] for v in doc["violations"].values())
    elif path != "/v1/stations/siting":
        assert doc["verifier"] == [] or doc["status"] in ("no_solution_in_time", "infeasible")


def test_an_oxygen_job_honours_its_time_limit(client):
    r = client.post("/v1/jobs/oxygen-plan", json={"iterations": HEAVY_ITERATIONS, "method": "exact",
                                                  "time_limit_s": LIMIT_S})
    assert r.status_code == 202, r.text
    t0 = time.perf_counter()
    job_id = r.json()["id"]
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            break
        assert time.perf_counter() - t0 < 60, job
        time.sleep(0.05)
    assert job["status"] == "done", job["error"]
    assert time.perf_counter() - t0 < LIMIT_S + OVERHEAD_S


@pytest.mark.parametrize("path", list(HEAVY))
def test_time_limits_above_the_server_maximum_are_422(client, path):
    r = client.post(path, json=HEAVY[path]() | {"time_limit_s": 61})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_input" and r.json()["field"] == "time_limit_s"
    for bad in (0, -1):
        r = client.post(path, json=HEAVY[path]() | {"time_limit_s": bad})
        assert r.status_code == 422 and r.json()["field"] == "time_limit_s"


def test_the_server_maximum_comes_from_the_environment(client, monkeypatch):
    monkeypatch.setenv("LHASA_OPS_MAX_TIME_LIMIT_S", "2")
    r = client.post("/v1/stations/oxygen-plan", json={"iterations": 10, "method": "policy", "time_limit_s": 5})
    assert r.status_code == 422 and r.json()["field"] == "time_limit_s"
    assert "LHASA_OPS_MAX_TIME_LIMIT_S" in r.json()["message"]
    r = client.post("/v1/stations/oxygen-plan", json={"iterations": 10, "method": "policy", "time_limit_s": 2})
    assert r.status_code == 200, r.text


def test_candidate_sites_restrict_the_visits(client):
    cands = ["jokhang", "sera", "norbulingka"]
    body = {"groups": [group(i, must_visit=["jokhang"]) for i in range(3)], "iterations": 50, "time_limit_s": 5,
            "candidate_sites": cands}
    r = client.post("/v1/tours/plan", json=body)
    assert r.status_code == 200, r.text
    doc = r.json()
    visited = {v["site_id"] for rt in doc["routes"] for v in rt["visits"]}
    assert visited and visited <= set(cands) and doc["violations"] == []
    free = client.post("/v1/tours/plan", json=body | {"candidate_sites": None}).json()
    assert {v["site_id"] for rt in free["routes"] for v in rt["visits"]} - set(cands)  # unrestricted goes further


@pytest.mark.parametrize("cands, field", [
    (["atlantis"], "candidate_sites[0]"),
    (["sera", "sera"], "candidate_sites[1]"),
    (["lhasa_railway"], "candidate_sites[0]"),  # a hub, not a scenic site
    (["sera"], "groups[0].must_visit"),  # the must-visit jokhang is not a candidate
    ([], "candidate_sites"),
])
def test_bad_candidate_sites_are_422(client, cands, field):
    body = {"groups": [group(0, must_visit=["jokhang"])], "iterations": 5, "candidate_sites": cands}
    r = client.post("/v1/tours/plan", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


def test_the_load_bench_request_has_exactly_30_candidate_stops(client):
    from bench.api_load import N_CANDIDATES, daily_plan_body

    body, n = daily_plan_body(seed=3)
    assert n == N_CANDIDATES == 30 and len(set(body["candidate_sites"])) == 30
    assert "time_limit_s" not in body and "iterations" not in body  # the default stopping rule
    r = client.post("/v1/tours/plan", json=body | {"iterations": 200})
    assert r.status_code == 200, r.text
    doc = r.json()
    visited = {v["site_id"] for rt in doc["routes"] for v in rt["visits"]}
    assert visited and visited <= set(body["candidate_sites"]) and doc["violations"] == []

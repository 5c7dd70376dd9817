"""Drone delivery: heuristic vs exact CP-SAT on small cases, verifier, unserved reasons, no-fly detours."""

import dataclasses
import json

import pytest

from models.drone_exact import solve_exact
from optimizer.airspace import Airspace, Hub, airspace_from_geojson
from optimizer.domain import InvalidInput
from optimizer.drone_energy import load_drone_types
from optimizer.drone_verify import verify_drone_plan
from optimizer.drones import Delivery, DroneProblem, build_instance, random_deliveries, solve
from optimizer.ils import StoppingCriterion

TYPES = load_drone_types()
LHASA = airspace_from_geojson()


def _small(seed: int, n: int = 10) -> DroneProblem:
    hub = Hub("niangre", "n", 91.112, 29.712, 3750, (("parcel", 2), ("flycart30", 1)))
    dl = random_deliveries(n, seed=seed, center=(91.11, 29.69), spread_km=5, day=(480, 720))
    return DroneProblem(Airspace(LHASA.zones, (hub,)), TYPES, tuple(dl), temperature_c=10, day=(480, 720))


@pytest.mark.parametrize("seed", [1, 4, 5])
def test_heuristic_within_one_percent_of_exact(seed):
    """Issue 7 target: on <= 12 deliveries the heuristic serves the same priority and is within 1 % of CP-SAT's energy."""
    p = _small(seed, 12 if seed % 2 == 0 else 10)
    inst = build_instance(p)
    exact, optimal = solve_exact(inst, time_limit_s=20)
    heur = solve(inst, StoppingCriterion(max_iterations=300), seed=0)
    assert optimal
    assert verify_drone_plan(p, exact, inst.dist) == []
    assert verify_drone_plan(p, heur, inst.dist) == []
    assert heur.served_priority >= exact.served_priority
    if heur.served_priority == exact.served_priority:
        assert heur.total_energy_wh <= exact.total_energy_wh * 1.01 + 1e-6


def test_time_objective_and_seed_determinism():
    """objective='time' minimises flight minutes; a seed with only an iteration limit gives the same plan."""
    p = dataclasses.replace(_small(1), objective="time")
    a = solve(p, StoppingCriterion(max_iterations=50), seed=3)
    b = solve(p, StoppingCriterion(max_iterations=50), seed=3)
    assert a.total_flight_min == b.total_flight_min and a.routes == b.routes
    assert verify_drone_plan(p, a) == []


def test_bad_deliveries_get_reasons():
    """A parcel heavier than any drone and one inside the old city are unserved with the reason."""
    dl = (Delivery("heavy", 91.09, 29.70, 45.0), Delivery("potala", 91.1169, 29.6578, 1.0),
          Delivery("ok", 91.09, 29.70, 1.0, (600, 660), 2))
    p = DroneProblem(LHASA, TYPES, dl, temperature_c=10)
    plan = solve(p, StoppingCriterion(max_iterations=20), seed=0)
    assert "exceeds" in plan.unserved["heavy"]
    assert "old_city" in plan.unserved["potala"]
    assert "ok" not in plan.unserved
    assert verify_drone_plan(p, plan) == []
    with pytest.raises(InvalidInput, match="weight_kg"):
        Delivery("neg", 91.0, 29.0, -1.0)
    with pytest.raises(InvalidInput, match="unknown drone type"):
        DroneProblem(Airspace((), (Hub("h", "h", 91, 29, 3650, (("nope", 1),)),)), TYPES, ())


def test_verifier_catches_tampered_plans():
    """Energy understated, a missed window and a crossing of the old city are all reported."""
    p = _small(3)
    plan = solve(p, StoppingCriterion(max_iterations=30), seed=0)
    assert plan.trips and verify_drone_plan(p, plan) == []
    t0 = plan.trips[0]
    bad = dataclasses.replace(plan, trips=[dataclasses.replace(t0, energy_wh=t0.energy_wh / 2)] + plan.trips[1:])
    assert any("energy stated" in v for v in verify_drone_plan(p, bad))
    late = dataclasses.replace(t0, depart_min=t0.depart_min + 500)
    bad = dataclasses.replace(plan, trips=[late] + plan.trips[1:])
    assert any("window" in v or "arrival" in v for v in verify_drone_plan(p, bad))
    # a plan that flew straight across the old city would be flagged: check the primitive the verifier uses
    inst = build_instance(p)
    assert not inst.dist.segment_clear((91.10, 29.656), (91.15, 29.656))


def test_paths_avoid_no_fly_and_trips_respect_reserve():
    """Deliveries on both sides of the old city: every leg is routed around it, every trip above reserve."""
    hub = Hub("niangre", "n", 91.112, 29.712, 3750, (("parcel", 3),))
    dl = tuple(Delivery(f"s{i}", 91.10 + 0.01 * i, 29.640, 1.0, (480, 1080), 1) for i in range(5))
    p = DroneProblem(Airspace(LHASA.zones, (hub,)), TYPES, dl, temperature_c=15)
    plan = solve(p, StoppingCriterion(max_iterations=50), seed=0)
    inst = build_instance(p)
    assert verify_drone_plan(p, plan, inst.dist) == []
    assert all(t.energy_wh <= t.usable_wh for t in plan.trips)
    import numpy as np
    straight = np.hypot(*(inst.dist.xy[1:] - inst.dist.xy[0]).T)
    assert (inst.dist.matrix[0, 1:] >= straight - 1e-9).all()  # detours are never shorter than straight
    assert any(inst.dist.pp[0, 1 + k] == float("inf") for k in range(5))  # some straight lines are blocked


def test_cli_deliver_writes_map_and_plan(tmp_path):
    """`lhasa-ops drones deliver` on the example day: exit 0, verifier OK, map.png and reasons for the two bad rows."""
    import json

    from typer.testing import CliRunner

    from api.cli.main import app
    res = CliRunner().invoke(app, ["drones", "deliver", "--iterations", "30", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "Verifier         OK" in res.output
    d = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    reasons = {u["delivery"]: u["reason"] for u in d["unserved"]}
    assert "exceeds" in reasons["bad_heavy"] and "old_city" in reasons["bad_potala"]
    assert (tmp_path / "map.png").stat().st_size > 10_000
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lon,lat,weight_kg,open,close,priority\nx,91.1,29.7,1.0,14:00,10:00,1\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["drones", "deliver", "--demand", str(bad), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "before it opens" in res.output


def test_api_delivery_plan_and_unclosed_polygon():
    """POST /v1/drones/delivery-plan answers a plan with a GeoJSON map; an unclosed polygon is a 422 naming it."""
    from fastapi.testclient import TestClient

    from api.http.app import app
    from optimizer.airspace import AIRSPACE_GEOJSON
    client = TestClient(app)
    body = {"deliveries": [{"id": "a", "lon": 91.09, "lat": 29.70, "weight_kg": 1.2, "open": "10:00", "close": "12:00"},
                           {"id": "b", "lon": 91.1169, "lat": 29.6578, "weight_kg": 1.0}], "iterations": 10}
    r = client.post("/v1/drones/delivery-plan", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["violations"] == [] and d["served"] == 1
    assert any(f["properties"]["kind"] == "trip" for f in d["map"]["features"])
    gj = json.loads(AIRSPACE_GEOJSON.read_text(encoding="utf-8"))
    gj["features"][0]["geometry"]["coordinates"][0].pop()
    r = client.post("/v1/drones/delivery-plan", json={**body, "airspace": gj})
    assert r.status_code == 422 and "does not close" in r.json()["message"]

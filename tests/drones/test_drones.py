"""Drone delivery: heuristic vs exact CP-SAT on small cases, verifier, unserved reasons, no-fly detours, contract."""

import dataclasses

import numpy as np
import pytest

from instances.drones import lhasa_airspace, load_drone_types, random_deliveries
from optimizer.core.airspace import Airspace, Hub
from optimizer.core.errors import InvalidInput
from optimizer.core.results import FEASIBLE, NO_SOLUTION_IN_TIME, OPTIMAL, SolveStats, Unserved, Violation
from optimizer.core.stop import StoppingCriterion
from optimizer.drones import REASONS, Delivery, DroneParams, DronePlan, DroneProblem, solve, verify
from optimizer.drones.instance import build_instance

TYPES = load_drone_types()
LHASA = lhasa_airspace()


def _small(seed: int, n: int = 10) -> DroneProblem:
    hub = Hub("niangre", "n", 91.112, 29.712, 3750, (("parcel", 2), ("flycart30", 1)))
    dl = random_deliveries(n, seed=seed, center=(91.11, 29.69), spread_km=5, day=(480, 720))
    return DroneProblem(Airspace(LHASA.zones, (hub,)), TYPES, tuple(dl), temperature_c=10, day=(480, 720))


def _reasons(plan: DronePlan) -> dict[str, Unserved]:
    return plan.unserved_by_id()


@pytest.mark.parametrize("seed", [1, 4, 5])
def test_heuristic_within_one_percent_of_exact(seed):
    """On <= 12 deliveries the heuristic serves the same priority and is within 1 % of CP-SAT's energy."""
    p = _small(seed, 12 if seed % 2 == 0 else 10)
    exact = solve(p, StoppingCriterion(max_runtime_s=20), params=DroneParams(method="exact"))
    heur = solve(p, StoppingCriterion(max_iterations=300), seed=0)
    assert exact.stats.status == OPTIMAL
    assert verify(p, exact) == []
    assert verify(p, heur) == []
    assert heur.served_priority >= exact.served_priority
    if heur.served_priority == exact.served_priority:
        assert heur.total_energy_wh <= exact.total_energy_wh * 1.01 + 1e-6
    assert exact.stats.objective == pytest.approx(exact.total_energy_wh)
    assert exact.stats.gap == 0.0 and exact.stats.bound == pytest.approx(exact.stats.objective)


def test_exact_out_of_time_is_a_status_not_an_error():
    """An exact solve whose time runs out during the enumeration answers no_solution_in_time with an empty plan
    and every delivery unserved with a reason (never an exception, never a fake plan)."""
    p = _small(4, 12)
    plan = solve(p, StoppingCriterion(max_runtime_s=0.001), params=DroneParams(method="exact"))
    assert plan.stats.status == NO_SOLUTION_IN_TIME
    assert plan.trips == () and plan.served_priority == 0
    assert {u.item_id for u in plan.unserved} == {d.id for d in p.deliveries}
    assert {u.reason for u in plan.unserved} <= {"time_limit", "no_fly", "payload", "range"}
    assert verify(p, plan) == []


def test_exact_enumeration_guard_names_max_trips():
    with pytest.raises(InvalidInput, match="max_trips"):
        solve(_small(4, 12), StoppingCriterion(max_runtime_s=20), params=DroneParams(method="exact", max_trips=3))
    with pytest.raises(InvalidInput, match="params.method"):
        DroneParams(method="magic")


def test_time_objective_and_seed_determinism():
    """objective='time' minimises flight minutes; a seed with only an iteration limit gives the same plan."""
    p = dataclasses.replace(_small(1), objective="time")
    a = solve(p, StoppingCriterion(max_iterations=50), seed=3)
    b = solve(p, StoppingCriterion(max_iterations=50), seed=3)
    assert a.total_flight_min == b.total_flight_min and a.trips == b.trips
    assert a.stats.objective == pytest.approx(a.total_flight_min)
    assert verify(p, a) == []


def test_bad_deliveries_get_reasons():
    """A parcel heavier than any drone and one inside the old city are unserved with the reason."""
    dl = (Delivery("heavy", 91.09, 29.70, 45.0), Delivery("potala", 91.1169, 29.6578, 1.0),
          Delivery("ok", 91.09, 29.70, 1.0, (600, 660), 2))
    p = DroneProblem(LHASA, TYPES, dl, temperature_c=10)
    plan = solve(p, StoppingCriterion(max_iterations=20), seed=0)
    why = _reasons(plan)
    assert "exceeds" in why["heavy"].detail and why["heavy"].reason == "payload"
    assert "old_city" in why["potala"].detail and why["potala"].reason == "no_fly"
    assert "ok" not in why
    assert verify(p, plan) == []
    with pytest.raises(InvalidInput, match="weight_kg"):
        Delivery("neg", 91.0, 29.0, -1.0)
    with pytest.raises(InvalidInput, match="unknown drone type"):
        DroneProblem(Airspace((), (Hub("h", "h", 91, 29, 3650, (("nope", 1),)),)), TYPES, ())
    with pytest.raises(InvalidInput, match="unique"):
        DroneProblem(LHASA, TYPES, (dl[0], dl[0]))


def test_verifier_catches_tampered_plans():
    """Energy understated, a missed window, a leg cut across the old city and a dropped delivery are all reported."""
    p = _small(3)
    plan = solve(p, StoppingCriterion(max_iterations=30), seed=0)
    assert plan.trips and verify(p, plan) == []
    t0 = plan.trips[0]
    bad = dataclasses.replace(plan, trips=(dataclasses.replace(t0, energy_wh=t0.energy_wh / 2),) + plan.trips[1:])
    assert any("energy stated" in str(v) for v in verify(p, bad))
    late = dataclasses.replace(t0, depart_min=t0.depart_min + 500)
    bad = dataclasses.replace(plan, trips=(late,) + plan.trips[1:])
    assert any("window" in str(v) or "arrival" in str(v) for v in verify(p, bad))
    assert all(isinstance(v, Violation) for v in verify(p, bad))
    # a plan that flew straight across the old city is flagged
    inst = build_instance(p)
    assert not inst.dist.segment_clear((91.10, 29.656), (91.15, 29.656))
    bent = [(k, t) for k, t in enumerate(plan.trips) if any(len(leg) > 2 for leg in t.legs)]
    if bent:
        k, t = bent[0]
        straight = dataclasses.replace(t, legs=tuple((leg[0], leg[-1]) for leg in t.legs))
        bad = dataclasses.replace(plan, trips=plan.trips[:k] + (straight,) + plan.trips[k + 1:])
        assert any(v.kind == "no_fly" for v in verify(p, bad))
    served = plan.trips[0].stops[0].delivery
    bad = dataclasses.replace(plan, trips=plan.trips[1:])
    assert any(v.item_id == served and v.kind == "unserved" for v in verify(p, bad))


def test_paths_avoid_no_fly_and_trips_respect_reserve():
    """Deliveries on both sides of the old city: every leg is routed around it, every trip above reserve."""
    hub = Hub("niangre", "n", 91.112, 29.712, 3750, (("parcel", 3),))
    dl = tuple(Delivery(f"s{i}", 91.10 + 0.01 * i, 29.640, 1.0, (480, 1080), 1) for i in range(5))
    p = DroneProblem(Airspace(LHASA.zones, (hub,)), TYPES, dl, temperature_c=15)
    plan = solve(p, StoppingCriterion(max_iterations=50), seed=0)
    inst = build_instance(p)
    assert verify(p, plan) == []
    assert all(t.energy_wh <= t.usable_wh for t in plan.trips)
    straight = np.hypot(*(inst.dist.xy[1:] - inst.dist.xy[0]).T)
    assert (inst.dist.matrix[0, 1:] >= straight - 1e-9).all()  # detours are never shorter than straight
    assert any(inst.dist.pp[0, 1 + k] == float("inf") for k in range(5))  # some straight lines are blocked
    assert any(len(leg) > 2 for t in plan.trips for leg in t.legs)  # and the plan's paths bend around


def test_contract_shapes_and_stopping():
    """solve returns a frozen DronePlan with Unserved reasons from REASONS and SolveStats; each stop limit is honoured."""
    p = _small(2)
    plan = solve(p, StoppingCriterion(max_iterations=10), seed=5)
    assert isinstance(plan.stats, SolveStats) and plan.stats.status == FEASIBLE
    assert plan.stats.iterations == 10 and plan.stats.stopped_by == "max_iterations" and plan.stats.seed == 5
    assert all(isinstance(u, Unserved) and u.reason in REASONS for u in plan.unserved)
    assert plan.served + len(plan.unserved) == len(p.deliveries)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.trips = ()  # type: ignore[misc]
    stalled = solve(p, StoppingCriterion(max_no_improvement=5), seed=0)
    assert stalled.stats.stopped_by == "max_no_improvement" and verify(p, stalled) == []
    timed = solve(p, StoppingCriterion(max_runtime_s=0.3), seed=0)
    assert timed.stats.stopped_by == "max_runtime_s" and timed.stats.runtime_s < 3.0 and verify(p, timed) == []
    with pytest.raises(InvalidInput, match="seed"):
        solve(p, StoppingCriterion(max_iterations=1), seed=-1)

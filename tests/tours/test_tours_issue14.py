"""Issue 14, cases 7 and 8 (the tour-planner parts), as regression tests on the inputs kept in
``tests/data/tours/`` (each file says what it holds and why).

Case 7: day windows near 3.9e9 minutes once made the slot grid 4.7 GB (3 sites) or a
``MemoryError`` (48 sites). Now a day window must lie within 0..2880 min (``MAX_DAY_MIN``) and is
otherwise an ``InvalidInput`` naming the field; the slot grid follows the groups' days, not a
site's opening hours.
Case 8: all interest weights 0 gave reason ``nothing_fits``; now ``no_interest``. Zero-value stops
are never inserted, must-visits excepted.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from optimizer.core.engine.ils import run_ils
from optimizer.core.engine.kernels import NODE, new_state, seed_protected
from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network, Road, Site, shortest_path_matrices
from optimizer.core.stop import StoppingCriterion
from optimizer.tours import Location, TourGroup, TourProblem, solve, verify
from optimizer.tours.problem import MAX_DAY_MIN
from optimizer.tours.solution import UNSERVED_REASONS
from optimizer.tours.solve import compile_problem, seeding_order

DATA = Path(__file__).resolve().parents[1] / "data" / "tours"


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def network_of(doc: dict) -> Network:
    sites = tuple(
        Site(id=s["id"], name_en=s["id"], name_zh=s["id"], lat=29.6 + 0.01 * k, lon=91.1, elevation_m=3650,
             kind=s["kind"], rating="4A" if s["score"] else "n/a", score=float(s["score"]),
             visit_min=float(s["visit_min"]), window=tuple(float(t) for t in s["window"]),
             slot_quota=s.get("slot_quota"))
        for k, s in enumerate(doc["sites"]))
    roads = tuple(Road(a=r["a"], b=r["b"], name="r", length_km=r["length_km"], speed_kmh=30,
                       travel_min=r["travel_min"]) for r in doc["roads"])
    travel, dist = shortest_path_matrices(sites, roads)
    return Network(sites=sites, roads=roads, travel_min=travel, distance_km=dist)


def group_of(rec: dict) -> TourGroup:
    return TourGroup(id=rec["id"], size=rec["size"], start=Location(rec["start"]), end=Location(rec["end"]),
                     day_window=tuple(float(t) for t in rec["day_window"]),
                     must_visit=tuple(rec.get("must_visit", ())), interests=rec.get("interests", {}))


# ---------------------------------------------------------------------------------------------
# case 7: large absolute times


@pytest.mark.parametrize("rec", load("issue14_case7_large_times.json")["absurd_groups"], ids=lambda r: r["id"])
def test_case7_absurd_day_window_is_rejected_naming_the_field(rec):
    """A day window beyond 0..2880 min is an InvalidInput naming the field, never a MemoryError."""
    with pytest.raises(InvalidInput) as e:
        group_of(rec)
    assert e.value.field == rec["field"]
    assert "2880" in e.value.message


def test_case7_absurd_times_on_the_lhasa_network_are_rejected(lhasa_network):
    """The 48-site case of the issue: rejected while building the problem, before any allocation."""
    doc = load("issue14_case7_large_times.json")
    recs = [dict(r, start="potala", end="potala") for r in doc["absurd_groups"]]
    for rec in recs:
        with pytest.raises(InvalidInput, match="2880"):
            TourProblem(network=lhasa_network, groups=(group_of(rec),))


def test_case7_tiny_slot_is_rejected():
    """Entry slots under a minute would blow the grid up the same way: rejected, field slot_min."""
    doc = load("issue14_case7_large_times.json")
    net = network_of(doc)
    with pytest.raises(InvalidInput) as e:
        TourProblem(network=net, groups=(), slot_min=1e-6)
    assert e.value.field == "slot_min"
    TourProblem(network=net, groups=(), slot_min=1.0)


def test_case7_open_ended_site_plans_in_time_with_little_memory():
    """A slotted site 'open' until 3.9e9 min, valid day windows (one ending at 2880): the plan
    comes within its time limit, allocates little, verifies clean, and quotas hold."""
    doc = load("issue14_case7_large_times.json")
    net = network_of(doc)
    groups = tuple(group_of(r) for r in doc["open_ended_groups"])
    problem = TourProblem(network=net, groups=groups, slot_min=float(doc["slot_min"]))
    solve(problem, StoppingCriterion(max_iterations=2))  # kernels compiled (or loaded) outside the clock
    _, _, n_slots = compile_problem(problem)
    assert n_slots == int(np.ceil(MAX_DAY_MIN / problem.slot_min)) + 1  # by the days, not by the site
    tracemalloc.start()
    t0 = time.perf_counter()
    plan = solve(problem, StoppingCriterion(max_runtime_s=5.0, max_iterations=2000))
    wall = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert wall < 5.0
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    assert verify(problem, plan) == []
    visited = {r.group_id: [v.site_id for v in r.visits] for r in plan.routes}
    assert "a" in visited["night"]  # the open-ended site after midnight, inside the 2880 grid
    assert all(v.start <= MAX_DAY_MIN for r in plan.routes for v in r.visits)


# ---------------------------------------------------------------------------------------------
# case 8: zero interest weights


def case8_problem(**kw) -> TourProblem:
    doc = load("issue14_case8_zero_interest.json")
    return TourProblem(network=network_of(doc), groups=tuple(group_of(r) for r in doc["groups"]),
                       slot_min=float(doc["slot_min"]), **kw)


@pytest.mark.parametrize("bonus", [1000.0, 0.0])
def test_case8_reasons_and_no_zero_value_stops(bonus):
    """All weights 0: reason no_interest (not nothing_fits); a too-short day stays nothing_fits;
    sites worth 0 to a group are never planned for it; a must-visit is planned even when it is
    worth 0 (weight 0 and no bonus)."""
    doc = load("issue14_case8_zero_interest.json")
    problem = case8_problem(must_visit_bonus=bonus)
    plan = solve(problem, StoppingCriterion(max_iterations=300), seed=3)
    assert verify(problem, plan) == []
    whole = {u.group_id: u for u in plan.unserved if u.site_id is None}
    visited = {r.group_id: {v.site_id for v in r.visits} for r in plan.routes}
    for rec in doc["groups"]:
        if "expect_reason" in rec:
            assert whole[rec["id"]].reason == rec["expect_reason"]
            assert rec["id"] not in visited
        for sid in rec.get("never_visits", ()):
            assert sid not in visited.get(rec["id"], set()), (rec["id"], sid)
        for sid in rec.get("must_visits_done", ()):
            assert sid in visited[rec["id"]]
    assert "value" in whole["zero"].detail or "values no site" in whole["zero"].detail
    assert all(u.reason in UNSERVED_REASONS for u in plan.unserved)
    assert all(r.score > 0 or any(problem.groups[problem.group_index(r.group_id)].must_visit)
               for r in plan.routes)


def test_case8_engine_never_inserts_a_zero_value_candidate():
    """The shared engine (also the benchmark TOPTW's, where score-0 clients are candidates): a
    candidate worth 0 to a route is never inserted by the greedy fill or the ILS, unless it is
    protected (a must-visit), which the construction puts in."""
    problem = case8_problem()
    P, daily, n_slots = compile_problem(problem)
    R, n = P.value.shape
    pois = np.array([j for j, s in enumerate(problem.network.sites) if s.is_poi], dtype=np.int32)
    cand = np.zeros((R, n), dtype=np.int32)
    cand[:, : pois.size] = pois
    value = P.value.copy()
    value[0, :] = 0.0          # route 0 ("zero") sees every site as a candidate worth 0
    protect = P.protect.copy()
    protect[2, :] = False
    value[2, :] = 0.0          # route 2 ("must_zero"): worth 0 everywhere, p protected
    protect[2, problem.network.index("p")] = True
    P = P._replace(cand=cand, n_cand=np.full(R, pois.size, dtype=np.int32), value=value, protect=protect)
    S = new_state(P, daily, n_slots, pois.size + 1)
    seed_protected(P, S, seeding_order(problem))
    res = run_ils(P, S, StoppingCriterion(max_iterations=200), seed=1)
    B = res.state
    route = {r: [int(B.ri[NODE, r, p]) for p in range(int(B.length[r]))] for r in range(R)}
    assert route[0] == []
    assert route[2] == [problem.network.index("p")]
    for r in range(R):
        assert all(P.value[r, j] > 0 or P.protect[r, j] for j in route[r]), (r, route[r])
    assert route[1]  # a route with positive values is still planned

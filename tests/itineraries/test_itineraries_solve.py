"""The itinerary ILS: verified plans, equal to the CP-SAT optimum on small cases, altitude rules and
daily quotas moving visits to other days, unserved reasons, determinism, and the verifier
catching broken plans."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from itin_cases import line_travel, random_problem

from optimizer.core.errors import InvalidInput
from optimizer.core.stop import MaxIterations, StoppingCriterion
from optimizer.itineraries.problem import (
    AcclimatizationRules,
    Group,
    Hotel,
    ItineraryProblem,
    Lunch,
    MustVisit,
    Site,
)
from optimizer.itineraries.solve import ItineraryParams, solve
from optimizer.itineraries.verify import verify


def _day_of(sol, group_id: str, site_id: str) -> int | None:
    it = sol.itinerary(group_id)
    for r in it.days:
        if any(v.site_id == site_id for v in r.visits):
            return r.day
    return None


@pytest.mark.parametrize("seed", range(6))
def test_heuristic_equals_cpsat_optimum_on_small_cases(seed):
    """On random small cases (2 groups, 3 days, 9 sites, hotels to choose, windows, budget, type
    limit, daily quota, altitude) the ILS reaches the proven CP-SAT optimum; both plans verified."""
    pb = random_problem(seed)
    exact = solve(pb, StoppingCriterion(max_runtime_s=60.0), params=ItineraryParams(method="cpsat"))
    assert exact.stats.status == "optimal"
    assert verify(pb, exact) == []
    heur = solve(pb, MaxIterations(300), seed=0)
    assert verify(pb, heur) == []
    assert heur.score == pytest.approx(exact.score)


def _namtso_case(rules: AcclimatizationRules | None) -> ItineraryProblem:
    # places on a line: hotel at 0, Namtso-like lake far away (120 min), two sites open only on the
    # third and fourth day (index 2, 3), each filling most of its day
    sites = (
        Site("namtso", 50.0, 240.0, elevation_m=4720.0),
        Site("a", 30.0, 420.0, time_windows=((), (), ((480.0, 600.0),), ()), elevation_m=3650.0),
        Site("b", 30.0, 420.0, time_windows=((), (), (), ((480.0, 600.0),)), elevation_m=3650.0),
    )
    travel = line_travel([120.0, 5.0, -5.0, 0.0])
    g = Group("g", 0, 480.0, "hotel", 3, 1200.0, "hotel", day_windows=((480.0, 1200.0),))
    return ItineraryProblem("namtso", 4, sites, (Hotel("hotel", 3650.0),), (g,), travel, acclimatization=rules)


def test_acclimatization_moves_high_visit_to_third_day_or_later():
    """Without rules the lake goes on day 1 or 2 (days 3 and 4 hold a and b); with a 3,700 m limit
    on the first two days it moves to the third day or later, and the plan is verified."""
    free = solve(_namtso_case(None), MaxIterations(200), seed=0)
    assert verify(_namtso_case(None), free) == []
    assert free.score == pytest.approx(110.0)
    assert _day_of(free, "g", "namtso") in (0, 1)
    rules = AcclimatizationRules(max_visit_m_by_day=(3700.0, 3700.0, 5200.0))
    pb = _namtso_case(rules)
    ruled = solve(pb, MaxIterations(200), seed=0)
    assert verify(pb, ruled) == []
    assert _day_of(ruled, "g", "namtso") >= 2
    assert ruled.score == pytest.approx(80.0)


def test_unreachable_must_visit_is_unserved_for_acclimatization():
    """A must-visit above the altitude allowed on every day of a short stay is unserved with reason
    'acclimatization' (the rest of the plan stands)."""
    base = _namtso_case(AcclimatizationRules(max_visit_m_by_day=(3700.0,)))
    g = replace(base.groups[0], must_visits=(MustVisit("namtso"),))
    pb = replace(base, groups=(g,))
    sol = solve(pb, MaxIterations(100), seed=0)
    assert verify(pb, sol) == []
    reasons = {u.item_id: u.reason for u in sol.unserved}
    assert reasons == {"g/namtso": "acclimatization"}


def _quota_case(daily_quota: int | None) -> ItineraryProblem:
    # site A (must-visit) on any day; site B only open on day 1 and fills it
    sites = (
        Site("A", 10.0, 120.0, daily_quota=daily_quota),
        Site("B", 20.0, 500.0, time_windows=((), ((480.0, 500.0),))),
    )
    travel = line_travel([10.0, -10.0, 0.0])
    groups = tuple(Group(f"g{k}", 0, 480.0, "hotel", 1, 1140.0, "hotel", size=10, rooms=5,
                         must_visits=(MustVisit("A"),), day_windows=((480.0, 1140.0),)) for k in range(4))
    return ItineraryProblem("quota", 2, sites, (Hotel("hotel"),), groups, travel)


def test_daily_quota_moves_some_groups_to_another_day():
    """Without a quota all four groups see A on day 0 (B fills day 1); with 20 persons a day, two
    groups see A on day 1 instead, every group still sees A, and the quota holds."""
    free = solve(_quota_case(None), MaxIterations(200), seed=0)
    assert verify(_quota_case(None), free) == []
    assert [_day_of(free, f"g{k}", "A") for k in range(4)] == [0, 0, 0, 0]
    pb = _quota_case(20)
    sol = solve(pb, MaxIterations(300), seed=0)
    assert verify(pb, sol) == []
    days = sorted(_day_of(sol, f"g{k}", "A") for k in range(4))
    assert days == [0, 0, 1, 1]
    assert sol.unserved == ()


def test_lunch_slot_quota_rooms_are_respected():
    """Many groups, a lunch break, a slot quota and few rooms: the plan passes the verifier and some
    groups sleep elsewhere when the central hotel is full."""
    rng = np.random.default_rng(3)
    n = 8
    sites = tuple(Site(f"s{i}", float(rng.integers(1, 10)), 60.0, (((540.0, 1000.0),),), slot_quota=20)
                  for i in range(n))
    hotels = (Hotel("central", rooms=10), Hotel("far", rooms=100))
    x = list(rng.uniform(-30, 30, n)) + [0.0, 40.0]
    groups = tuple(Group(f"g{k}", 0, 480.0, "central", 2, 1080.0, "central", size=8, rooms=4,
                         lunch=Lunch(690.0, 810.0, 60.0), day_windows=((480.0, 1080.0),)) for k in range(6))
    pb = ItineraryProblem("busy", 3, sites, hotels, groups, line_travel(x))
    sol = solve(pb, MaxIterations(100), seed=1)
    assert verify(pb, sol) == []
    nights = [h for it in sol.itineraries for h in it.nights]
    assert nights.count("central") <= 2 * 2  # 10 rooms, 4 per group: two groups a night
    assert all(r.lunch_start_min is not None for it in sol.itineraries for r in it.days)


def test_same_seed_same_answer_and_bad_seed():
    pb = random_problem(11)
    a = solve(pb, MaxIterations(50), seed=4)
    b = solve(pb, MaxIterations(50), seed=4)
    assert a.itineraries == b.itineraries and a.score == b.score
    with pytest.raises(InvalidInput):
        solve(pb, MaxIterations(5), seed=-1)


def test_verifier_catches_broken_plans():
    """Shifting a visit out of its window, over-booking a daily quota, breaking the budget or a
    stated score each give a violation of the right kind."""
    pb = random_problem(2)
    sol = solve(pb, MaxIterations(100), seed=0)
    assert verify(pb, sol) == []
    it = sol.itineraries[0]
    day = next(r for r in it.days if r.visits)
    v = day.visits[0]
    late = replace(v, start_min=2000.0, end_min=2000.0 + (v.end_min - v.start_min))
    bad_day = replace(day, visits=(late, *day.visits[1:]))
    bad_it = replace(it, days=tuple(bad_day if r is day else r for r in it.days))
    bad = replace(sol, itineraries=(bad_it, *sol.itineraries[1:]))
    kinds = {x.kind for x in verify(pb, bad)}
    assert "time_window" in kinds
    cheap = replace(pb, groups=tuple(replace(g, budget=0.0) for g in pb.groups))
    if any(pb.sites[pb.place_index(v.site_id)].ticket_price > 0 for it in sol.itineraries for r in it.days
           for v in r.visits):
        assert "budget" in {x.kind for x in verify(cheap, sol)}
    wrong = replace(sol, score=sol.score + 1.0)
    assert "score" in {x.kind for x in verify(pb, wrong)}
    tight = replace(pb, sites=tuple(replace(s, daily_quota=0) for s in pb.sites))
    if any(r.visits for it in sol.itineraries for r in it.days):
        assert "daily_quota" in {x.kind for x in verify(tight, sol)}


def test_allowed_hotels_are_kept():
    """A group restricted to one hotel sleeps only there (ILS and exact model), and the verifier
    flags a night elsewhere."""
    pb = random_problem(5)
    g0 = replace(pb.groups[0], allowed_hotels=("h0", "h1"))
    pb2 = replace(pb, groups=(g0, *pb.groups[1:]))
    sol = solve(pb2, MaxIterations(100), seed=0)
    assert verify(pb2, sol) == []
    assert set(sol.itinerary("g0").nights) <= {"h0", "h1"}
    exact = solve(pb2, StoppingCriterion(max_runtime_s=60.0), params=ItineraryParams(method="cpsat"))
    assert verify(pb2, exact) == [] and set(exact.itinerary("g0").nights) <= {"h0", "h1"}
    only_h2 = replace(pb, groups=(replace(pb.groups[0], allowed_hotels=("h2",)), *pb.groups[1:]))
    if any(h != "h2" for h in sol.itinerary("g0").nights):
        assert "hotel" in {v.kind for v in verify(only_h2, sol)}
    with pytest.raises(InvalidInput):
        replace(pb, groups=(replace(pb.groups[0], allowed_hotels=("nope",)),))

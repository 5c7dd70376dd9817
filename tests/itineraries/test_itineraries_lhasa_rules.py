"""Rules found on the Lhasa demo week (docs/ITINERARIES_KNOWN_GAPS.md items 3, 9, 10): lunch counts
the day's last leg, a departure whose direct leg does not fit in the day window is a transfer
day, the construction tries every hotel a group may use and afford (and says why when none
fits), and the rest-day rule (``max_consecutive_gain_nights``) is kept by the search, the exact
model and the verifier."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from itin_cases import line_travel

from optimizer.core.results import FEASIBLE, SolveStats
from optimizer.core.stop import MaxIterations, StoppingCriterion
from optimizer.itineraries import kernels as K
from optimizer.itineraries.problem import (
    AcclimatizationRules,
    Group,
    Hotel,
    ItineraryProblem,
    Lunch,
    MustVisit,
    Site,
    Terminal,
)
from optimizer.itineraries.solve import (
    ItineraryParams,
    _build_solution,
    _compile,
    _new_state,
    _retry_unplanned,
    _room_pressure,
    solve,
)
from optimizer.itineraries.verify import verify

LUNCH = Lunch(690.0, 810.0, 60.0)


def _airport_case(departure_min: float) -> ItineraryProblem:
    """One hotel at x=0 with two sites near it, the airport 67 min away (Lhasa -> Gonggar); a
    group arrives at 15:30 on day 0 and leaves on day 2 at ``departure_min``; window 08:00-20:00."""
    sites = (Site("a", 5.0, 60.0), Site("b", 4.0, 60.0))
    hotels = (Hotel("city", rooms=10),)
    travel = line_travel([5.0, -5.0, 0.0, 67.0])
    g = Group("X", 0, 930.0, "airport", 2, departure_min, "airport", size=10, rooms=5, lunch=LUNCH,
              day_windows=((480.0, 1200.0),))
    return ItineraryProblem("airport", 3, sites, hotels, (g,), travel, terminals=(Terminal("airport"),))


def test_group_leaving_at_1230_is_served_without_lunch_on_its_last_day():
    """Gap 9 repro: leaving at 12:30, lunch (11:30 + 60 min) would end at 12:30 but the drive to
    the airport takes 67 min: lunch is not required that day, the group is served and verified;
    on the full day before, a plan without its lunch is caught by the verifier."""
    pb = _airport_case(750.0)
    sol = solve(pb, MaxIterations(50), seed=0)
    assert sol.unserved == ()
    assert verify(pb, sol) == []
    it = sol.itinerary("X")
    last = it.days[-1]
    assert last.lunch_start_min is None and last.return_min <= 750.0 + 1e-6
    full = it.days[1]
    assert full.lunch_start_min is not None
    no_lunch = replace(it, days=(it.days[0], replace(full, lunch_start_min=None), last))
    assert "lunch" in {v.kind for v in verify(pb, replace(sol, itineraries=(no_lunch,)))}


def test_lunch_is_still_required_when_it_and_the_last_leg_fit():
    """Leaving at 14:00 there is time for lunch and the 67-min drive: lunch is planned."""
    pb = _airport_case(840.0)
    sol = solve(pb, MaxIterations(50), seed=0)
    assert sol.unserved == () and verify(pb, sol) == []
    assert sol.itinerary("X").days[-1].lunch_start_min is not None


def test_early_flight_leaves_before_the_day_window_opens():
    """A 09:00 flight 67 min away while the window opens at 08:00: the last day is a transfer day
    (leave at 07:53, no visits); the verifier rejects a visit on that day."""
    pb = _airport_case(540.0)
    sol = solve(pb, MaxIterations(50), seed=0)
    assert sol.unserved == () and verify(pb, sol) == []
    last = sol.itinerary("X").days[-1]
    assert last.visits == () and last.depart_min < 480.0 and last.return_min <= 540.0 + 1e-6
    it = sol.itinerary("X")
    src = next(r for r in it.days if r.visits)
    moved = replace(last, visits=src.visits[:1])
    bad = replace(sol, itineraries=(replace(it, days=(it.days[0], it.days[1], moved)),))
    assert "transfer_day" in {v.kind for v in verify(pb, bad)}


def _hotels_case(budget_b: float | None) -> ItineraryProblem:
    """Two hotels at the same place: a guesthouse (1 room, 100 a night) that both groups may use
    and a dearer hotel (10 rooms, 300) only group A may use. A comes first in the input."""
    sites = (Site("s", 5.0, 60.0),)
    hotels = (Hotel("guest", rooms=1, room_price=100.0), Hotel("dear", rooms=10, room_price=300.0))
    travel = line_travel([3.0, 0.0, 0.0])
    groups = (Group("A", 0, 480.0, "guest", 2, 1200.0, "guest", budget=2000.0, budget_includes_rooms=True),
              Group("B", 0, 480.0, "guest", 2, 1200.0, "guest", budget=budget_b, budget_includes_rooms=True,
                    allowed_hotels=("guest",)))
    return ItineraryProblem("hotels", 3, sites, hotels, groups, travel)


def test_construction_leaves_the_guesthouse_to_the_group_that_may_only_use_it():
    """Gap 10: A sleeps in the dearer hotel it can afford, so B (guesthouse only) is served too."""
    pb = _hotels_case(1000.0)
    sol = solve(pb, MaxIterations(30), seed=0)
    assert sol.unserved == () and verify(pb, sol) == []
    assert sol.itinerary("A").nights == ("dear", "dear")
    assert sol.itinerary("B").nights == ("guest", "guest")


def test_group_without_hotel_gets_an_honest_reason():
    """B's budget cannot pay two guesthouse nights: reason ``budget``. With A forced into the
    guesthouse, B finds it full: ``no_hotel`` saying the rooms are full."""
    pb = _hotels_case(150.0)
    sol = solve(pb, MaxIterations(10), seed=0)
    assert verify(pb, sol) == []
    (u,) = [u for u in sol.unserved if u.item_id == "B"]
    assert u.reason == "budget" and "200" in u.detail
    pb2 = _hotels_case(1000.0)
    pb2 = replace(pb2, groups=(replace(pb2.groups[0], allowed_hotels=("guest",)), pb2.groups[1]))
    sol2 = solve(pb2, MaxIterations(10), seed=0, params=ItineraryParams(retry_every=2))
    assert verify(pb2, sol2) == []
    (u2,) = [u for u in sol2.unserved if u.item_id == "B"]
    assert u2.reason == "no_hotel" and "rooms full" in u2.detail


def _climb_case(rule: int | None) -> ItineraryProblem:
    """Hotels h0..h4 at 3,600..4,000 m on a line, the valuable sites next to h2; a group arriving
    at 3,600 m with nights 0, 2, 3 fixed at h1, h3, h4 (three gains) and night 1 free: h2 is the
    nearest (a fourth gain in a row); any other hotel gives a night without gain."""
    sites = tuple(Site(f"s{i}", 10.0, 60.0) for i in range(3))
    hotels = tuple(Hotel(f"h{k}", 3600.0 + 100.0 * k, rooms=5) for k in range(5))
    travel = line_travel([20.0, 21.0, 22.0] + [10.0 * k for k in range(5)] + [0.0])
    g = Group("C", 0, 480.0, "arr", 4, 1200.0, "arr", hotels=("h1", None, "h3", "h4"),
              day_windows=((480.0, 1200.0),))
    rules = AcclimatizationRules(max_consecutive_gain_nights=rule)
    return ItineraryProblem("climb", 5, sites, hotels, (g,), travel, terminals=(Terminal("arr", 3600.0),),
                            acclimatization=rules)


def test_rest_day_rule_changes_the_plan_and_is_verified():
    """Gap 3: without the rule night 1 is at h2 (four nights of gain in a row); with at most 2 in a
    row the search (hotel moves on every iteration) and the exact model avoid h2, and the
    verifier rejects the unconstrained plan under the rule."""
    free = _climb_case(None)
    sol_free = solve(free, MaxIterations(30), seed=0)
    assert verify(free, sol_free) == [] and sol_free.itinerary("C").nights[1] == "h2"
    ruled = _climb_case(2)
    assert "acclimatization" in {v.kind for v in verify(ruled, sol_free)}
    sol = solve(ruled, MaxIterations(200), seed=0, params=ItineraryParams(hotel_move_p=1.0, try_all_hotels=True))
    assert sol.unserved == () and verify(ruled, sol) == []
    assert sol.itinerary("C").nights[1] != "h2"
    exact = solve(ruled, StoppingCriterion(max_runtime_s=60.0), params=ItineraryParams(method="cpsat"))
    assert verify(ruled, exact) == [] and exact.itinerary("C").nights[1] != "h2"
    assert abs(exact.score - sol.score) < 1e-6


def test_retry_plans_a_group_once_its_rooms_are_freed():
    """Gap 10, the retry step of the search: B (guesthouse only) has no plan while A holds the one
    guesthouse room; once the best plan moves A to the other hotel, ``_retry_unplanned`` plans B
    (hotels, routes, fill) in the current, accepted and best states, and the plan verifies."""
    pb = _hotels_case(1000.0)
    pb = replace(pb, groups=(replace(pb.groups[0], allowed_hotels=("guest", "dear")), pb.groups[1]))
    P = _compile(pb)
    S = _new_state(pb, P)
    # A takes the guesthouse (as an older construction did); B then finds it full
    for k in (0, 1):
        S.night[0, k] = 0
        S.room_used[0, k] += 1
    S.spent[0] += 200.0
    n_cand0, fixed0 = P.n_cand.copy(), P.fixed_hotel.copy()
    P = P._replace(n_cand=np.array([P.n_cand[0], 0], dtype=np.int32),
                   fixed_hotel=np.vstack([P.fixed_hotel[:1], np.full((1, pb.n_days), -2)]))
    for d in pb.groups[0].days:
        K.commit_route(P, S, 0, d)
    rng = np.array([7], dtype=np.int64)
    K.fill_group(P, S, 0, False, 0.0, rng)
    served = np.array([True, False])
    why = {1: ("no_hotel", "rooms full")}
    B, C, W = K.copy_ks(S), K.copy_ks(S), K.copy_ks(S)
    dirty = np.zeros(2, dtype=np.bool_)
    fbest = np.array([S.gscore.sum(), S.gscore.sum(), 0.0])
    pressure = _room_pressure(pb, P)
    assert _retry_unplanned(pb, P, S, C, B, W, dirty, fbest, served, why, n_cand0, fixed0, rng, pressure) == 0
    assert why[1][0] == "no_hotel" and "rooms full" in why[1][1]
    # the best plan moves A to the dearer hotel: the guesthouse is free again
    for k in (0, 1):
        assert K.set_hotel(P, B, 0, k, 1)
    dirty[0] = True  # the current state differs from the best there
    assert _retry_unplanned(pb, P, S, C, B, W, dirty, fbest, served, why, n_cand0, fixed0, rng, pressure) == 1
    assert served.all() and why == {}
    stats = SolveStats(status=FEASIBLE, runtime_s=0.0, iterations=0, stopped_by="max_iterations", seed=0)
    for state in (S, C, B):
        sol = _build_solution(pb, P, state, served, stats, [])
        assert sol.unserved == () and verify(pb, sol) == []
        assert sol.itinerary("B").nights == ("guest", "guest") and sol.itinerary("A").nights == ("dear", "dear")
    assert abs(fbest[0] - B.gscore.sum()) < 1e-9


def test_retry_empties_a_day_to_fit_a_missing_must_visit():
    """Gap 10, the must-visit repair of the retry: a day filled with two optional visits has no
    time left for the must-visit; emptying the day and refilling (must-visits first) fits it, in
    the current, accepted and best states, and the plan verifies."""
    sites = (Site("m", 1.0, 60.0), Site("o1", 5.0, 60.0), Site("o2", 5.0, 60.0))
    g = Group("M", 0, 480.0, "base", 0, 610.0, "base", must_visits=(MustVisit("m"),),
              day_windows=((480.0, 1200.0),))
    pb = ItineraryProblem("must", 1, sites, (Hotel("base"),), (g,), line_travel([1.0, 2.0, 3.0, 0.0]))
    P = _compile(pb)
    S = _new_state(pb, P)
    K.commit_route(P, S, 0, 0)
    assert K.insert_at(P, S, 0, 0, 0, 1) < np.inf and K.insert_at(P, S, 0, 0, 1, 2) < np.inf
    assert K.missing_musts(P, S, 0) == 1
    B, C, W = K.copy_ks(S), K.copy_ks(S), K.copy_ks(S)
    fbest = np.array([S.gscore.sum(), S.gscore.sum(), 0.0])
    served = np.array([True])
    assert _retry_unplanned(pb, P, S, C, B, W, np.zeros(1, dtype=np.bool_), fbest, served, {},
                            P.n_cand.copy(), P.fixed_hotel.copy(), np.array([3], dtype=np.int64),
                            _room_pressure(pb, P)) == 0
    stats = SolveStats(status=FEASIBLE, runtime_s=0.0, iterations=0, stopped_by="max_iterations", seed=0)
    for state in (S, C, B):
        sol = _build_solution(pb, P, state, served, stats, [])
        assert sol.unserved == () and verify(pb, sol) == []
        assert {v.site_id for v in sol.itinerary("M").days[0].visits} >= {"m"}
    assert abs(fbest[0] - B.gscore.sum()) < 1e-9

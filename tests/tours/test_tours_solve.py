"""Tour solver: optimality on a tiny case, quotas, must-visits, determinism, edge cases."""

from __future__ import annotations

import itertools
import math

import pytest

from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network, Road, Site, shortest_path_matrices
from optimizer.core.stop import MaxIterations, StoppingCriterion
from optimizer.tours import Location, TourGroup, TourProblem, solve, verify


def tiny_network() -> Network:
    """A hub and five sites; ``a`` has an entry quota of 20 persons per hourly slot."""
    def site(i, score, visit, window, slot_quota=None):
        return Site(id=i, name_en=i, name_zh=i, lat=29.6 + 0.01 * len(i) * score / 100, lon=91.1,
                    elevation_m=3650, kind="monastery" if score else "town", rating="4A" if score else "n/a",
                    score=score, visit_min=visit, window=window, slot_quota=slot_quota)
    sites = (
        site("hub", 0, 0, (0, 1440)),
        site("a", 100, 50, (540, 720), slot_quota=20),
        site("b", 60, 40, (480, 900)),
        site("c", 80, 90, (600, 960)),
        site("d", 40, 30, (480, 1200)),
        site("e", 70, 60, (780, 1000)),
    )
    roads = tuple(Road(a=x, b=y, name="r", length_km=t / 2, speed_kmh=30, travel_min=t) for x, y, t in [
        ("hub", "a", 20), ("hub", "b", 15), ("a", "b", 25), ("b", "c", 30), ("a", "c", 35),
        ("c", "d", 20), ("d", "e", 25), ("hub", "e", 40), ("b", "d", 45)])
    travel, dist = shortest_path_matrices(sites, roads)
    return Network(sites=sites, roads=roads, travel_min=travel, distance_km=dist,
                   zones={"Z": ("a", "b")}, zone_names={"Z": "zone"})


def tiny_problem(**kw) -> TourProblem:
    net = tiny_network()
    groups = (
        TourGroup(id="g1", size=15, start=Location("hub"), end=Location("hub"), day_window=(480, 900)),
        TourGroup(id="g2", size=10, start=Location("hub"), end=Location("hub"), day_window=(540, 840),
                  interests={"monastery": 1.5}),
    )
    return TourProblem(network=net, groups=groups, **kw)


def brute_force_best(problem: TourProblem) -> float:
    """Exact optimum by enumeration: every site sequence per group, every entry slot choice at
    slotted sites, then every pair of group routes checked against the shared slot quotas."""
    net = problem.network
    pois = [s for s in net.sites if s.is_poi]
    options = []  # per group: list of (score, {(site, slot): persons})
    for g in problem.groups:
        opts = [(0.0, {})]
        h0, h1 = net.index(g.start.site_id), net.index(g.end.site_id)
        for k in range(1, len(pois) + 1):
            for seq in itertools.permutations(pois, k):
                stack = [(g.day_window[0], h0, 0, {})]
                for s in seq:
                    nxt = []
                    for t, at, _, use in stack:
                        arr = t + net.travel_min[at, net.index(s.id)]
                        first = max(arr, s.window[0])
                        starts = [first]
                        if s.slot_quota is not None:
                            starts = [max(first, kk * problem.slot_min)
                                      for kk in range(int(first // problem.slot_min), 25)]
                        for st in starts:
                            if st > s.latest_start + 1e-9:
                                continue
                            u = dict(use)
                            if s.slot_quota is not None:
                                u[(s.id, int(st // problem.slot_min))] = g.size
                            nxt.append((st + s.visit_min, net.index(s.id), 0, u))
                    stack = nxt
                for t, at, _, use in stack:
                    if t + net.travel_min[at, h1] <= g.day_window[1] + 1e-9:
                        sc = sum(g.size * s.score * g.interests.get(s.kind, 1.0) for s in seq)
                        opts.append((sc, use))
        options.append(opts)
    best = 0.0
    quota = {s.id: s.slot_quota for s in pois}
    for (s1, u1), (s2, u2) in itertools.product(*options):
        if s1 + s2 <= best:
            continue
        ok = all(u1.get(key, 0) + u2.get(key, 0) <= quota[key[0]] for key in set(u1) | set(u2))
        if ok:
            best = s1 + s2
    return best


def test_tiny_case_reaches_brute_force_optimum():
    """On 5 sites and 2 groups competing for one slotted site, the ILS finds the proven optimum."""
    problem = tiny_problem()
    plan = solve(problem, MaxIterations(300), seed=0)
    assert verify(problem, plan) == []
    assert plan.kpis["total_score"] == pytest.approx(brute_force_best(problem))


def test_slot_quota_forces_groups_apart():
    """Both groups want site ``a`` (quota 20/slot, sizes 15 and 10): they must enter in different slots."""
    problem = tiny_problem()
    plan = solve(problem, MaxIterations(300), seed=0)
    slots = [math.floor(v.start / 60) for r in plan.routes for v in r.visits if v.site_id == "a"]
    assert len(slots) == len(set(slots))
    assert verify(problem, plan) == []


def test_same_seed_same_plan_and_other_seed_still_valid():
    """Same seed and iteration budget give the identical plan."""
    problem = tiny_problem()
    p1 = solve(problem, MaxIterations(200), seed=7)
    p2 = solve(problem, MaxIterations(200), seed=7)
    assert p1.routes == p2.routes and p1.unserved == p2.unserved
    p3 = solve(problem, MaxIterations(200), seed=8)
    assert verify(problem, p3) == []


def test_empty_demand_is_an_empty_plan():
    """No groups: a valid plan with no routes, not an error."""
    problem = TourProblem(network=tiny_network(), groups=())
    plan = solve(problem, MaxIterations(10))
    assert plan.routes == () and plan.unserved == () and plan.kpis["groups"] == 0
    assert verify(problem, plan) == []


def test_nothing_fits_is_reported_per_group():
    """A group whose day is too short for any visit is unserved with reason nothing_fits."""
    net = tiny_network()
    g = TourGroup(id="late", size=5, start=Location("hub"), end=Location("hub"), day_window=(1300, 1320))
    problem = TourProblem(network=net, groups=(g,))
    plan = solve(problem, MaxIterations(10))
    assert plan.routes == ()
    assert [(u.group_id, u.site_id, u.reason) for u in plan.unserved] == [("late", None, "nothing_fits")]
    assert verify(problem, plan) == []


def test_must_visit_outside_window_is_unserved_with_reason():
    """A must-visit that closes before the group can get there is reported with reason window."""
    net = tiny_network()
    g = TourGroup(id="g", size=5, start=Location("hub"), end=Location("hub"), day_window=(800, 1000),
                  must_visit=("a",))
    problem = TourProblem(network=net, groups=(g,))
    plan = solve(problem, MaxIterations(50))
    assert ("g", "a", "window") in [(u.group_id, u.site_id, u.reason) for u in plan.unserved]
    assert verify(problem, plan) == []


def test_full_quota_must_visit_reports_quota():
    """Three groups of 15 must visit ``a`` (20/slot, 3 slots in its hours: 09-12): one slot each."""
    net = tiny_network()
    groups = tuple(TourGroup(id=f"g{k}", size=15, start=Location("hub"), end=Location("hub"),
                             day_window=(480, 900), must_visit=("a",)) for k in range(4))
    problem = TourProblem(network=net, groups=groups)
    plan = solve(problem, MaxIterations(100))
    assert verify(problem, plan) == []
    reasons = [u.reason for u in plan.unserved if u.site_id == "a"]
    # a's latest start is 720 - 50 = 670, so slots 9, 10, 11 admit one group of 15 each
    assert reasons == ["quota"]


def test_zone_restricts_sites():
    """A group confined to zone Z visits only a and b."""
    net = tiny_network()
    g = TourGroup(id="z", size=5, start=Location("hub"), end=Location("hub"), day_window=(480, 1200), zone="Z")
    problem = TourProblem(network=net, groups=(g,))
    plan = solve(problem, MaxIterations(50))
    assert {v.site_id for v in plan.routes[0].visits} <= {"a", "b"}
    assert verify(problem, plan) == []


def test_lat_lon_start_is_planned_and_verified():
    """A group starting from a point (not a site) gets a route that the verifier accepts."""
    net = tiny_network()
    g = TourGroup(id="p", size=5, start=Location(lat=29.6, lon=91.101), end=Location("hub"), day_window=(480, 1200))
    problem = TourProblem(network=net, groups=(g,))
    plan = solve(problem, MaxIterations(50))
    assert plan.routes and verify(problem, plan) == []


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_bad_seed_is_rejected(bad):
    """A seed must be a non-negative integer; the error names the field."""
    with pytest.raises(InvalidInput, match="seed"):
        solve(tiny_problem(), MaxIterations(1), seed=bad)


def test_stopping_criterion_needs_a_limit():
    with pytest.raises(InvalidInput):
        StoppingCriterion()
    with pytest.raises(InvalidInput, match="max_runtime_s"):
        StoppingCriterion(max_runtime_s=float("nan"))


def test_lhasa_demo_day_quota_and_must_visits(lhasa_network, demo_groups):
    """The embedded peak day: verifier-clean, Potala slots within quota, >= 95% of groups served."""
    problem = TourProblem(network=lhasa_network, groups=demo_groups)
    plan = solve(problem, MaxIterations(300), seed=0)
    assert verify(problem, plan) == []
    potala = lhasa_network.site("potala")
    usage = plan.slot_usage(problem)
    assert max(v for (s, _), v in usage.items() if s == "potala") <= potala.slot_quota
    assert plan.kpis["served_pct"] >= 95.0


def test_doubled_demand_stays_within_quota(lhasa_network, demo_groups):
    """Demand x2 (every group twice): quotas still hold and unserved must-visits say why."""
    twice = demo_groups + tuple(
        TourGroup(id=g.id + "_b", size=g.size, start=g.start, end=g.end, day_window=g.day_window,
                  must_visit=g.must_visit, interests=g.interests, zone=g.zone) for g in demo_groups)
    problem = TourProblem(network=lhasa_network, groups=twice)
    plan = solve(problem, MaxIterations(100), seed=1)
    assert verify(problem, plan) == []
    persons = sum(v for (s, _), v in plan.slot_usage(problem).items() if s == "potala")
    assert persons <= lhasa_network.site("potala").daily_quota
    assert all(u.reason in {"window", "quota", "time", "nothing_fits"} for u in plan.unserved)
    assert any(u.site_id == "potala" and u.reason == "quota" for u in plan.unserved)

"""Tests of the independent plan verifier ``optimizer.tours.verify``.

A tiny hand-made network (5 road sites + 1 off-road depot) and four groups, with a correct plan
whose times were worked out by hand. Each test breaks exactly one thing of that plan and checks
that the verifier reports the expected ``kind``.

Road times (min): hotel-potala 10, potala-jokhang 8 (and a slower parallel road of 15),
hotel-norbu 12, norbu-potala 9, jokhang-sera 20, potala-sera 25.
Shortest: hotel-jokhang 18, hotel-sera 35, norbu-jokhang 17.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from optimizer.core.network import Network, Road, Site
from optimizer.core.physics import haversine_km
from optimizer.core.results import Violation
from optimizer.tours import Location, Route, TourGroup, TourPlan, TourProblem, TourUnserved, Visit, verify

DAY = (0.0, 1440.0)


def site(sid: str, kind: str, score: float, visit: float, window, lat: float, lon: float, **kw) -> Site:
    return Site(id=sid, name_en=sid, name_zh=sid, lat=lat, lon=lon, elevation_m=3650.0, kind=kind,
                rating="n/a" if score == 0 else "5A", score=score, visit_min=visit, window=window, **kw)


SITES = (
    site("hotel", "town", 0.0, 0.0, DAY, 29.6500, 91.1000),
    site("potala", "palace", 10.0, 120.0, (540.0, 1020.0), 29.6578, 91.1169, daily_quota=50, slot_quota=30),
    site("jokhang", "monastery", 8.0, 60.0, (480.0, 1200.0), 29.6525, 91.1322),
    site("norbu", "park", 4.0, 60.0, (540.0, 1080.0), 29.6531, 91.0889),
    site("sera", "monastery", 6.0, 90.0, (540.0, 960.0), 29.6997, 91.1333),
    # Off-road hub placed exactly on G4's lat/lon start: it must NOT be chosen as access node.
    site("depot", "transport", 0.0, 0.0, DAY, 29.6400, 91.1000),
)


def road(a: str, b: str, minutes: float, km: float) -> Road:
    return Road(a=a, b=b, name=f"{a}-{b}", length_km=km, speed_kmh=km / minutes * 60, travel_min=minutes)


ROADS = (
    road("hotel", "potala", 10, 3),
    road("potala", "jokhang", 8, 2),
    road("jokhang", "potala", 15, 2.5),  # slower parallel road: the minimum (8) must be kept
    road("hotel", "norbu", 12, 4),
    road("norbu", "potala", 9, 3),
    road("jokhang", "sera", 20, 7),
    road("potala", "sera", 25, 6),
)


def floyd_warshall(sites, roads) -> tuple[np.ndarray, np.ndarray]:
    """All-pairs fastest times (min) and the length (km) of those fastest paths."""
    idx = {s.id: i for i, s in enumerate(sites)}
    n = len(sites)
    t = np.full((n, n), np.inf)
    d = np.full((n, n), np.inf)
    np.fill_diagonal(t, 0.0)
    np.fill_diagonal(d, 0.0)
    for r in roads:
        i, j = idx[r.a], idx[r.b]
        if r.travel_min < t[i, j]:
            t[i, j] = t[j, i] = r.travel_min
            d[i, j] = d[j, i] = r.length_km
    for k in range(n):
        for i in range(n):
            for j in range(n):
                if t[i, k] + t[k, j] < t[i, j]:
                    t[i, j] = t[i, k] + t[k, j]
                    d[i, j] = d[i, k] + d[k, j]
    return t, d


def make_network(sites=SITES, roads=ROADS) -> Network:
    t, d = floyd_warshall(sites, roads)
    return Network(sites=sites, roads=roads, travel_min=t, distance_km=d,
                   zones={"old_city": ("potala", "jokhang", "norbu")}, zone_names={"old_city": "Old city"})


P_LAT, P_LON = 29.64, 91.10  # 0.01 deg due south of hotel
HOTEL = Location(site_id="hotel")
POINT = Location(lat=P_LAT, lon=P_LON)
# Hand computation: 0.01 deg of latitude = 6371.0088 * pi/180 * 0.01 km; * 1.3 detour / 30 km/h * 60.
ACCESS = 6371.0088 * math.pi / 180 * 0.01 * 1.3 / 30.0 * 60.0

GROUPS = (
    TourGroup("G1", 20, HOTEL, HOTEL, (480.0, 1200.0), must_visit=("potala",),
              interests={"monastery": 1.5}, zone="old_city"),
    TourGroup("G2", 15, HOTEL, HOTEL, (480.0, 1200.0), must_visit=("jokhang",)),
    TourGroup("G3", 16, HOTEL, HOTEL, (480.0, 1200.0)),
    TourGroup("G4", 5, POINT, POINT, (480.0, 1200.0)),
)


def make_problem(network: Network | None = None) -> TourProblem:
    return TourProblem(network=network or make_network(), groups=GROUPS, slot_min=60.0)


def v(sid: str, arrival: float, start: float, visit: float) -> Visit:
    return Visit(site_id=sid, arrival=arrival, wait=max(0.0, start - arrival), start=start,
                 departure=start + visit)


# --- the correct plan, by hand --------------------------------------------------------------
# G1: hotel 530 -> potala 540..660 (slot 9) -> jokhang 668..728 -> hotel 746.
#     score 20 * (10 + 8 * 1.5) = 440, travel 10 + 8 + 18 = 36.
R1 = Route("G1", 530.0, (v("potala", 540, 540, 120), v("jokhang", 668, 668, 60)), 746.0, 440.0, 36.0, 7.0)
# G2: hotel 480 -> jokhang 498..558 -> potala 566, wait 34, 600..720 (slot 10) -> sera 745..835 -> hotel 870.
#     score 15 * (8 + 10 + 6) = 360, travel 18 + 8 + 25 + 35 = 86.
R2 = Route("G2", 480.0, (v("jokhang", 498, 498, 60), v("potala", 566, 600, 120), v("sera", 745, 745, 90)),
           870.0, 360.0, 86.0, 20.0)
# G4: point -> (access to hotel) -> norbu, wait until 540, 540..600 -> hotel -> point.
#     score 5 * 4 = 20, travel 2 * (ACCESS + 12).
R4 = Route("G4", 520.0, (v("norbu", 520 + ACCESS + 12, 540, 60),), 600 + 12 + ACCESS, 20.0,
           2 * (ACCESS + 12), 8.0)
KPIS = {"groups_served": 3, "visitors_served": 40, "total_score": 820.0}


def make_plan(routes=(R1, R2, R4), unserved=(TourUnserved.of("G3", None, "quota"),), kpis=None, **kw) -> TourPlan:
    return TourPlan(routes=tuple(routes), unserved=tuple(unserved), kpis=dict(KPIS if kpis is None else kpis),
                    slot_min=kw.pop("slot_min", 60.0), **kw)


def kinds(violations: list[Violation]) -> set[str]:
    return {x.kind for x in violations}


# --- tests ----------------------------------------------------------------------------------


def test_correct_plan_has_no_violations():
    """A hand-checked feasible plan passes; protects against false alarms (parallel-road minimum,
    lat/lon access leg to the nearest *road* node, waits, slot counting, KPIs)."""
    assert verify(make_problem(), make_plan()) == []


def test_access_constant_matches_haversine():
    """The hand-computed access leg equals the haversine formula (guards the test's own oracle)."""
    km = haversine_km(P_LAT, P_LON, 29.65, 91.10)
    assert km * 1.3 / 30 * 60 == pytest.approx(ACCESS, rel=1e-12)


def test_wrong_arrival_is_timing():
    """An arrival that ignores the travel time from the previous stop is reported as timing."""
    bad = replace(R1, visits=(replace(R1.visits[0], arrival=535.0, wait=5.0), R1.visits[1]))
    out = verify(make_problem(), make_plan(routes=(bad, R2, R4)))
    assert kinds(out) == {"timing"}
    assert all(x.group_id == "G1" and x.site_id == "potala" for x in out)


def test_wrong_wait_or_departure_is_timing():
    """Wait must equal max(0, start - arrival); departure must equal start + visit_min."""
    bad_wait = replace(R2, visits=(R2.visits[0], replace(R2.visits[1], wait=0.0), R2.visits[2]))
    assert kinds(verify(make_problem(), make_plan(routes=(R1, bad_wait, R4)))) == {"timing"}
    bad_dep = replace(R2, visits=(R2.visits[0], replace(R2.visits[1], departure=719.0), R2.visits[2]))
    assert "timing" in kinds(verify(make_problem(), make_plan(routes=(R1, bad_dep, R4))))


def test_start_before_opening_is_window():
    """Starting the Potala at 08:50 when it opens at 09:00 is a window violation."""
    visits = (v("potala", 530, 530, 120), v("jokhang", 658, 658, 60))
    bad = Route("G1", 520.0, visits, 736.0, 440.0, 36.0, 7.0)
    out = verify(make_problem(), make_plan(routes=(bad, R2, R4)))
    assert kinds(out) == {"window"}
    assert out[0].site_id == "potala"


def test_visit_ending_after_closing_is_window():
    """Sera closes at 16:00 with a 90-min visit: starting at 14:40 ends at 16:10 -> window."""
    bad = replace(R2, visits=(R2.visits[0], R2.visits[1], v("sera", 745, 880, 90)), arrive_end=1005.0)
    out = verify(make_problem(), make_plan(routes=(R1, bad, R4)))
    assert kinds(out) == {"window"}
    assert out[0].site_id == "sera"


def test_slot_quota_exceeded_by_two_groups():
    """G1 (20) and G2 (15) both enter the Potala in slot 9 (09:00-10:00): 35 > 30 per slot."""
    g2 = Route("G2", 480.0, (v("potala", 490, 540, 120), v("jokhang", 668, 668, 60)), 746.0, 270.0, 36.0, 7.0)
    unserved = (TourUnserved.of("G3", None, "quota"),)
    kpis = {"groups_served": 3, "visitors_served": 40, "total_score": 440 + 270 + 20}
    out = verify(make_problem(), make_plan(routes=(R1, g2, R4), unserved=unserved, kpis=kpis))
    assert kinds(out) == {"slot_quota"}
    assert out[0].site_id == "potala"


def test_daily_quota_exceeded():
    """Adding G3 (16) at the Potala in slot 13 keeps slots under 30 but makes 51 > 50 per day."""
    r3 = Route("G3", 770.0, (v("potala", 780, 780, 120),), 910.0, 160.0, 20.0, 6.0)
    kpis = {"groups_served": 4, "visitors_served": 56, "total_score": 980.0}
    out = verify(make_problem(), make_plan(routes=(R1, R2, r3, R4), unserved=(), kpis=kpis))
    assert kinds(out) == {"daily_quota"}
    assert out[0].site_id == "potala"


def _g2_without_jokhang() -> Route:
    # hotel 590 -> potala 600..720 -> sera 745..835 -> hotel 870; score 15 * 16, travel 10 + 25 + 35.
    return Route("G2", 590.0, (v("potala", 600, 600, 120), v("sera", 745, 745, 90)), 870.0, 240.0, 70.0, 15.0)


def test_missing_must_visit_not_reported():
    """G2 skips its must-visit Jokhang without listing it in unserved -> must_visit."""
    kpis = {"groups_served": 2, "visitors_served": 25, "total_score": 700.0}
    out = verify(make_problem(), make_plan(routes=(R1, _g2_without_jokhang(), R4), kpis=kpis))
    assert kinds(out) == {"must_visit"}
    assert (out[0].group_id, out[0].site_id) == ("G2", "jokhang")


def test_missing_must_visit_reported_is_fine():
    """The same plan is correct once the skipped must-visit is reported (and G2 is not served)."""
    kpis = {"groups_served": 2, "visitors_served": 25, "total_score": 700.0}
    unserved = (TourUnserved.of("G3", None, "quota"), TourUnserved.of("G2", "jokhang", "time"))
    plan = make_plan(routes=(R1, _g2_without_jokhang(), R4), unserved=unserved, kpis=kpis)
    assert verify(make_problem(), plan) == []


def test_unserved_must_visit_that_is_visited():
    """Reporting a must-visit as unserved while the route visits it is contradictory -> must_visit."""
    unserved = (TourUnserved.of("G3", None, "quota"), TourUnserved.of("G1", "potala", "quota"))
    assert kinds(verify(make_problem(), make_plan(unserved=unserved))) == {"must_visit"}


def test_group_without_route_not_reported():
    """G3 has no route and no whole-group unserved entry -> unserved."""
    out = verify(make_problem(), make_plan(unserved=()))
    assert kinds(out) == {"unserved"}
    assert out[0].group_id == "G3"


def test_site_twice_is_duplicate():
    """G2 visits the Jokhang twice in a row (0-min hop): duplicate, nothing else."""
    visits = (v("jokhang", 498, 498, 60), v("jokhang", 558, 558, 60), v("potala", 626, 626, 120),
              v("sera", 771, 771, 90))
    bad = Route("G2", 480.0, visits, 896.0, 480.0, 86.0, 20.0)
    kpis = {"groups_served": 3, "visitors_served": 40, "total_score": 440 + 480 + 20}
    out = verify(make_problem(), make_plan(routes=(R1, bad, R4), kpis=kpis))
    assert kinds(out) == {"duplicate"}


def test_zone_violation():
    """G1 is confined to the old city; visiting Sera (outside it) is a zone violation."""
    bad = Route("G1", 530.0, (v("potala", 540, 540, 120), v("sera", 685, 685, 90)), 810.0, 380.0, 70.0, 13.0)
    kpis = {"groups_served": 3, "visitors_served": 40, "total_score": 380 + 360 + 20}
    out = verify(make_problem(), make_plan(routes=(bad, R2, R4), kpis=kpis))
    assert kinds(out) == {"zone"}
    assert out[0].site_id == "sera"


def test_day_window_overrun_at_end():
    """G1 waits for a 19:00 Jokhang visit and gets back at 20:18, after its 20:00 day end."""
    bad = replace(R1, visits=(R1.visits[0], v("jokhang", 668, 1140, 60)), arrive_end=1218.0)
    out = verify(make_problem(), make_plan(routes=(bad, R2, R4)))
    assert kinds(out) == {"day_window"}


def test_depart_before_day_window():
    """G2 leaves at 07:50, before its 08:00 day start (the rest of the route is consistent)."""
    bad = replace(R2, depart=470.0, visits=(v("jokhang", 488, 488, 60), R2.visits[1], R2.visits[2]))
    bad = replace(bad, visits=(bad.visits[0], v("potala", 556, 600, 120), bad.visits[2]))
    assert kinds(verify(make_problem(), make_plan(routes=(R1, bad, R4)))) == {"day_window"}


def test_score_mismatch():
    """A route score that is not size * score * interest weight is reported as score. total_score is
    checked against the recomputed route scores: the correct 820 passes, a KPI summed from the
    wrong route score (780) is reported as kpi too."""
    bad = replace(R1, score=400.0)  # forgot the 1.5 monastery weight
    out = verify(make_problem(), make_plan(routes=(bad, R2, R4)))
    assert kinds(out) == {"score"}
    out = verify(make_problem(), make_plan(routes=(bad, R2, R4), kpis={**KPIS, "total_score": 780.0}))
    assert kinds(out) == {"score", "kpi"}


def test_travel_mismatch():
    """route.travel_min must equal the recomputed sum of legs (here the access legs are forgotten)."""
    bad = replace(R4, travel_min=24.0)
    assert kinds(verify(make_problem(), make_plan(routes=(R1, R2, bad)))) == {"travel"}


def test_latlon_start_without_access_leg_is_timing():
    """A lat/lon start is attached to the nearest road node (hotel, not the off-road depot that
    sits exactly on the point) with an access leg; ignoring that leg is a timing violation."""
    bad = replace(R4, visits=(v("norbu", 532, 540, 60),))
    out = verify(make_problem(), make_plan(routes=(R1, R2, bad)))
    assert kinds(out) == {"timing"}
    assert out[0].group_id == "G4"


def test_latlon_end_without_access_leg_is_timing():
    """The end leg to a lat/lon point also includes the access time."""
    bad = replace(R4, arrive_end=612.0)
    assert kinds(verify(make_problem(), make_plan(routes=(R1, R2, bad)))) == {"timing"}


def test_hub_visit():
    """Visiting a hub (score 0) is not a visit: kind hub."""
    # G3: hotel -> hotel (0 min) -> hotel; the hub scores 0.
    r3 = Route("G3", 600.0, (v("hotel", 600, 600, 0),), 600.0, 0.0, 0.0, 0.0)
    # A route with at least one visit (even a hub) counts as served by the KPI definition.
    kpis = {"groups_served": 4, "visitors_served": 56, "total_score": 820.0}
    out = verify(make_problem(), make_plan(routes=(R1, R2, r3, R4), unserved=(), kpis=kpis))
    assert kinds(out) == {"hub"}


def test_unknown_group_and_site():
    """Routes and unserved entries naming unknown groups or sites are reported as unknown."""
    ghost = replace(R1, group_id="G9")
    out = verify(make_problem(), make_plan(routes=(R1, R2, R4, ghost)))
    assert "unknown" in kinds(out)
    unserved = (TourUnserved.of("G3", None, "quota"), TourUnserved.of("G1", "nowhere", "x"))
    out = verify(make_problem(), make_plan(unserved=unserved))
    assert kinds(out) == {"unknown"}


def test_two_routes_for_one_group():
    """A group has at most one route."""
    out = verify(make_problem(), make_plan(routes=(R1, R2, R4, R1)))
    assert "duplicate_route" in kinds(out)


def test_kpi_mismatch():
    """KPIs present in the plan must match the recomputation."""
    out = verify(make_problem(), make_plan(kpis={**KPIS, "visitors_served": 41}))
    assert kinds(out) == {"kpi"}
    out = verify(make_problem(), make_plan(kpis={**KPIS, "groups_served": 4}))
    assert kinds(out) == {"kpi"}


def test_nonfinite_numbers():
    """NaN/inf in a route, a visit or a KPI is reported (and does not crash quota counting)."""
    bad = replace(R1, visits=(replace(R1.visits[0], start=math.nan), R1.visits[1]))
    assert "nonfinite" in kinds(verify(make_problem(), make_plan(routes=(bad, R2, R4))))
    assert kinds(verify(make_problem(), make_plan(kpis={**KPIS, "total_score": math.inf}))) == {"nonfinite"}


def test_matrix_mismatch():
    """A network whose travel_min matrix disagrees with its roads is flagged (matrix)."""
    net = make_network()
    t = net.travel_min.copy()
    t[0, 1] = t[1, 0] = 11.0  # hotel-potala is 10 by road
    bad_net = Network(sites=net.sites, roads=net.roads, travel_min=t, distance_km=net.distance_km,
                      zones=net.zones, zone_names=net.zone_names)
    out = verify(make_problem(bad_net), make_plan())
    assert kinds(out) == {"matrix"}


def test_slot_min_mismatch():
    """A plan counted on another slot grid than the problem's is flagged."""
    assert "slot_min" in kinds(verify(make_problem(), make_plan(slot_min=30.0)))


def test_violation_is_frozen():
    """Violation is an immutable value object."""
    x = Violation("G1", "kpi", "m")
    with pytest.raises(AttributeError):
        x.kind = "other"  # type: ignore[misc]

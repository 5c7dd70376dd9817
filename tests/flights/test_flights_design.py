"""Sightseeing-flight route design: exact orienteering, no-fly detours, endurance derating, the verifier
and the Lhasa menu (readers: tests/instances/test_flights_readers.py; CLI and HTTP: tests/api/)."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from instances.flights import load_flight_data
from optimizer.core.airspace import Airspace
from optimizer.core.clock import Deadline
from optimizer.core.errors import InvalidInput
from optimizer.core.physics import air_density
from optimizer.core.stop import MaxRuntime
from optimizer.flights import (
    AircraftType,
    DesignProblem,
    FlightData,
    FlightProduct,
    Menu,
    Vertiport,
    Viewpoint,
    solve,
)
from optimizer.flights.design import design_route, solve_orienteering
from optimizer.flights.verify import verify, verify_product

LHASA = load_flight_data()
STOP = MaxRuntime(30.0)


def design_menu(data, durations=(15, 30, 60), temperature_c=15.0, vertiports=None, aircraft=None) -> Menu:
    """The menu of ``data`` through the family's ``solve``; every menu is checked by the verifier."""
    problem = DesignProblem(data, tuple(durations), temperature_c, vertiports, aircraft)
    menu = solve(problem, STOP)
    assert verify(problem, menu) == []
    return menu


def messages(violations) -> list[str]:
    return [v.message for v in violations]


def _plane(elev_m: float = 0.0, cruise_kmh: float = 60.0, endurance_sea_min: float = 1000.0,
           viewpoints: list[tuple[str, float, float, float, float]] = (), overhead_min: float = 0.0,
           reserve_min: float = 0.0) -> FlightData:
    """Synthetic data without no-fly zones: a vertiport at (91.0, 29.0) and viewpoints
    (id, east_km, north_km, score, view_min[, flight_alt_m]) placed in km around it."""
    asp = Airspace((), (), ref_lat=29.0, ref_lon=91.0)
    vp = Vertiport("base", "base", "", 91.0, 29.0, elev_m, 1, 15, 0, 1440)
    vps = {}
    for t in viewpoints:
        vid, x, y, s, view = t[:5]
        alt = t[5] if len(t) > 5 else elev_m + 300.0
        lon, lat = asp.to_lonlat(x, y)
        vps[vid] = Viewpoint(vid, vid, "", lon, lat, elev_m, alt, s, view)
    ac = AircraftType("test", "test", "evtol", 4, 1, 2000, cruise_kmh, endurance_sea_min, reserve_min,
                      overhead_min, 9000)
    return FlightData(vps, {"base": vp}, {"test": ac}, asp)


# ----------------------------------------------------------------------------------------------- exact solver
def test_known_optimum_four_viewpoints_on_a_line():
    """Hand-solved case: viewpoints 10/20/30/40 min out on a line (scores 3/4/5/9, 5 min viewing each), limit
    70 min. Tours cost 2 x farthest + viewing, so the best is {B, C}: score 9 in exactly 70 min (D alone
    needs 85, {A, C} scores 8, three viewpoints need 75)."""
    x = np.array([0.0, 10, 20, 30, 40])
    t = np.abs(x[:, None] - x[None, :])
    order, score, minutes, optimal = solve_orienteering(t, np.array([0, 5, 5, 5, 5.0]), np.array([0, 3, 4, 5, 9.0]), 70)
    assert set(order) == {2, 3} and score == 9 and minutes == pytest.approx(70) and optimal
    order, score, _, _ = solve_orienteering(t, np.array([0, 5, 5, 5, 5.0]), np.array([0, 3, 4, 5, 9.0]), 69.9)
    assert set(order) == {1, 2} and score == 7  # 0.1 min less: {B, C} no longer fits


def test_known_optimum_end_to_end_with_rounded_up_block():
    """The same line as a real FlightData (cruise 60 km/h = 1 km/min, 2 min take-off/landing): the 72-min
    class gets {b, c} in exactly 60 km + 10 min viewing + 2 min, and the 71-min class falls back to {a, b}."""
    d = _plane(viewpoints=[("a", 0, 10, 3, 5), ("b", 0, 20, 4, 5), ("c", 0, 30, 5, 5), ("d", 0, 40, 9, 5)],
               overhead_min=2.0)
    r = design_route(d, "base", "test", 72)
    assert set(r.product.viewpoints) == {"b", "c"} and r.product.score == 9
    assert r.total_min == pytest.approx(72.0, abs=1e-6) and r.product.block_min == math.ceil(r.total_min - 1e-6)
    assert verify_product(r.product, d, r.path, 72, temperature_c=15.0) == []
    assert design_route(d, "base", "test", 71).product.score == 7


def _brute_force(t, view, score, limit):
    n = len(score) - 1
    best = 0.0
    for k in range(1, n + 1):
        for perm in itertools.permutations(range(1, n + 1), k):
            seq = (0, *perm, 0)
            tot = sum(t[a, b] for a, b in itertools.pairwise(seq)) + sum(view[v] for v in perm)
            if tot <= limit + 1e-9:
                best = max(best, sum(score[v] for v in perm))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_solver_equals_brute_force_on_random_instances(seed):
    """On 7 random viewpoints (Euclidean minutes, random scores and viewing times) the DP's score equals the
    best over all subsets and orders, and its tour really fits the limit."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-20, 20, size=(8, 2))
    t = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(axis=2))
    view = np.r_[0, rng.uniform(0, 6, 7)]
    score = np.r_[0, rng.integers(1, 20, 7)].astype(float)
    limit = float(rng.uniform(30, 90))
    order, sc, minutes, optimal = solve_orienteering(t, view, score, limit)
    assert optimal and sc == _brute_force(t, view, score, limit)
    seq = (0, *order, 0)
    tot = sum(t[a, b] for a, b in itertools.pairwise(seq)) + sum(view[v] for v in order)
    assert tot == pytest.approx(minutes) and tot <= limit + 1e-9 and sum(score[v] for v in order) == sc


@pytest.mark.parametrize("seed", range(3))
def test_altitude_levels_are_exact_against_brute_force(seed):
    """Endurance depends on the highest viewpoint flown: design_route (one DP per altitude level) equals a
    brute force that derates each candidate tour at its own top altitude."""
    rng = np.random.default_rng(100 + seed)
    vps = [(f"v{i}", *rng.uniform(-15, 15, 2), float(rng.integers(1, 20)), float(rng.uniform(1, 5)),
            float(rng.choice([300.0, 2500.0, 4500.0, 6000.0]))) for i in range(6)]
    d = _plane(elev_m=0.0, cruise_kmh=90.0, endurance_sea_min=70.0, viewpoints=vps, overhead_min=2.0,
               reserve_min=20.0)
    ac, base = d.aircraft["test"], d.vertiports["base"]
    best = 0.0
    for k in range(1, 7):
        for perm in itertools.permutations(list(d.viewpoints), k):
            seq = ("base", *perm, "base")
            tot = (sum(d.km(a, b) for a, b in itertools.pairwise(seq)) / 90 * 60 + 2.0
                   + sum(d.viewpoints[v].view_min for v in perm))
            top = max([300.0] + [d.viewpoints[v].flight_alt_m for v in perm])
            rho = air_density(top, 15.0 - 0.0065 * (top - base.elevation_m))
            if tot <= min(60.0, ac.usable_min(rho)) + 1e-9:
                best = max(best, sum(d.viewpoints[v].score for v in perm))
    r = design_route(d, "base", "test", 60, temperature_c=15.0)
    got = r.product.score if hasattr(r, "product") else 0.0
    assert got == best
    if hasattr(r, "product"):
        assert verify_product(r.product, d, r.path, 60, temperature_c=15.0) == []


def test_deadline_in_the_past_stops_the_search_and_says_so():
    """The time limit is honoured: with an expired deadline the solver returns at once, not claiming optimality."""
    t = np.ones((6, 6))
    order, _, _, optimal = solve_orienteering(t, np.zeros(6), np.ones(6), 100,
                                              deadline=Deadline(1.0, started=time.perf_counter() - 2.0))
    assert order == [] and not optimal


# ----------------------------------------------------------------------------------------------- airspace, verifier
def test_route_is_detoured_around_the_old_city_and_verifier_flags_a_shortcut():
    """sera_view -> potala_skyline in a straight line crosses the old-city polygon: the air distance is longer
    than the straight line and the designed path is clean, while the same product flown straight is flagged."""
    to_km = LHASA.airspace.to_km
    straight = math.dist(to_km(*LHASA.lonlat("sera_view")), to_km(*LHASA.lonlat("potala_skyline")))
    assert LHASA.km("sera_view", "potala_skyline") > straight + 1.0
    seq = ("city_pad", "sera_view", "potala_skyline", "city_pad")
    ac = LHASA.aircraft["h125"]
    km = sum(LHASA.km(a, b) for a, b in itertools.pairwise(seq))
    block = math.ceil(km / ac.cruise_kmh * 60 + 9 + ac.takeoff_landing_min)
    good = FlightProduct("t", "city_pad", "h125", block, 164.0, seq[1:3], round(km, 3))
    path = [q for i, (a, b) in enumerate(itertools.pairwise(seq)) for q in LHASA.path(a, b)[(1 if i else 0):]]
    assert verify_product(good, LHASA, path, 30) == []
    km_cut = sum(math.dist(to_km(*LHASA.lonlat(a)), to_km(*LHASA.lonlat(b))) for a, b in itertools.pairwise(seq))
    cut = FlightProduct("cut", "city_pad", "h125", block, 164.0, seq[1:3], round(km_cut, 3))
    assert any("crosses no-fly zone old_city" in m for m in messages(verify_product(cut, LHASA, None, 30)))


def test_verifier_catches_tampered_products():
    """Each kind of lie is caught: wrong score, truncated block_min, a repeated viewpoint, another vertiport,
    a too-short duration class, a wrong distance."""
    m = design_menu(LHASA, (30,), vertiports=("city_pad",), aircraft=("h125",))
    r = m.routes[0]
    p = r.product
    assert verify_product(p, LHASA, r.path, 30) == []
    cases = {
        "score": FlightProduct(p.id, p.vertiport_id, p.aircraft_type_id, p.block_min, p.score + 1, p.viewpoints, p.distance_km),
        "> block_min": FlightProduct(p.id, p.vertiport_id, p.aircraft_type_id, math.floor(r.total_min) - 1, p.score,
                                     p.viewpoints, p.distance_km),
        "twice": FlightProduct(p.id, p.vertiport_id, p.aircraft_type_id, p.block_min, p.score * 2,
                               p.viewpoints * 2, p.distance_km),
        "start and end": FlightProduct(p.id, "dagze_ga", p.aircraft_type_id, p.block_min, p.score, p.viewpoints,
                                       p.distance_km),
        "distance_km": FlightProduct(p.id, p.vertiport_id, p.aircraft_type_id, p.block_min, p.score, p.viewpoints,
                                     p.distance_km - 1.0),
    }
    for needle, bad in cases.items():
        assert any(needle in msg for msg in messages(verify_product(bad, LHASA, r.path, 30))), needle
    assert any("duration class" in msg for msg in messages(verify_product(p, LHASA, r.path, p.block_min - 1)))


# ----------------------------------------------------------------------------------------------- endurance at altitude
def test_endurance_is_derated_at_namtso_and_a_sea_level_product_fails_there():
    """Thin air: usable endurance at Namtso's flight altitude is below sea level's (power ~ rho^-1/2), and a
    45-min route that fits an eVTOL at sea level is unavailable from a vertiport at Namtso's elevation."""
    ev = LHASA.aircraft["evtol"]
    sea, namtso = ev.usable_min(air_density(0.0, 15.0)), ev.usable_min(air_density(5000.0, -5.0))
    assert namtso < sea - 10
    far = [("lake", 0, 65, 10, 5)]  # 130 km = 39 min + 5 view + 3 take-off/landing = 47 min
    lo = _plane(0.0, ev.cruise_kmh, ev.endurance_sea_min, far, ev.takeoff_landing_min, ev.reserve_min)
    hi = _plane(4718.0, ev.cruise_kmh, ev.endurance_sea_min, [(*far[0], 5000.0)], ev.takeoff_landing_min,
                ev.reserve_min)
    r = design_route(lo, "base", "test", 60, temperature_c=15.0)
    assert r.product.viewpoints == ("lake",) and 45 < r.total_min < 50
    assert verify_product(r.product, lo, r.path, 60, temperature_c=15.0) == []
    assert design_route(hi, "base", "test", 60, temperature_c=15.0).reason == "out_of_reach"
    assert any("usable endurance" in m for m in messages(verify_product(r.product, hi, r.path, 60, temperature_c=15.0)))


# ----------------------------------------------------------------------------------------------- the Lhasa menu
def test_lhasa_menu_is_verified_monotone_and_deterministic():
    """Every product of the default menu passes the verifier; for the same vertiport and aircraft the 60-min
    score >= 30-min >= 15-min; block_min fits the class; the same input gives the same menu."""
    m = design_menu(LHASA)
    assert len(m.routes) >= 6 and all(r.optimal for r in m.routes) and m.stats.status == "optimal"
    for r in m.routes:
        assert verify_product(r.product, LHASA, r.path, r.class_min) == [], r.product.id
        assert r.product.block_min <= r.class_min
    by = {(o.vertiport_id, o.aircraft_type_id, o.class_min): o.score for o in m.offers}
    for v in LHASA.vertiports:
        for a in LHASA.aircraft:
            assert by[(v, a, 60)] >= by[(v, a, 30)] >= by[(v, a, 15)] > 0
    assert design_menu(LHASA).products == m.products


def test_unavailable_and_duplicate_cells_are_reported_not_dropped():
    """A 10-min class from Dagze reaches no viewpoint: the cell is unserved with the reason; an eVTOL's 90-min
    class is endurance-limited to the 60-min route and points to that product instead of duplicating it."""
    m = design_menu(LHASA, (10, 60, 90), vertiports=("dagze_ga",), aircraft=("evtol",))
    cells = {o.class_min: o for o in m.offers}
    assert len(cells) == 2 and 10 not in cells
    assert [(u.item_id, u.reason) for u in m.unserved] == [("dagze_ga/evtol/10", "out_of_reach")]
    assert "no viewpoint reachable" in m.unserved[0].detail
    assert cells[90].product_id == cells[60].product_id and "same route" in cells[90].note
    assert len(m.products) == 1


@pytest.mark.parametrize("t", [-300.0, 80.0, float("nan")])
def test_menu_rejects_an_impossible_temperature_naming_the_value_given(t):
    """Found by a fresh-user trial: -300 degC was reported as -301.95 (the temperature aloft)."""
    with pytest.raises(InvalidInput) as e:
        DesignProblem(LHASA, (15,), t)
    assert e.value.field == "temperature_c"
    assert e.value.value is t or (math.isnan(t) and math.isnan(e.value.value))

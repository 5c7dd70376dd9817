"""Daily schedule of sightseeing flights: the exact model on both back ends, the greedy fallback, the
verifier and the reasons for unserved bookings (CLI and HTTP: tests/api/test_flights_cli.py, _http.py)."""

from __future__ import annotations

import dataclasses
import itertools
import random

import pytest
from flights_helpers import flight_day

from optimizer.core.errors import InvalidInput
from optimizer.core.results import SolveStats, Unserved
from optimizer.core.stop import MaxRuntime
from optimizer.flights import (
    Aircraft,
    Booking,
    Departure,
    FlightParams,
    FlightProduct,
    Schedule,
    ScheduleProblem,
    VertiportCapacity,
    random_bookings,
    solve,
    verify,
)


def solve_flight_schedule(problem: ScheduleProblem, time_limit_s: float = 30.0, seed: int = 0, **params) -> Schedule:
    """``solve`` with a wall-clock limit and ``FlightParams(**params)``."""
    return solve(problem, MaxRuntime(time_limit_s), seed=seed, params=FlightParams(**params))


def verify_flight_schedule(problem: ScheduleProblem, schedule: Schedule) -> list[str]:
    """The verifier's messages (empty: valid)."""
    return [v.message for v in verify(problem, schedule)]


def feasible(departures, unserved, pax, requested, dev, W, objective=None) -> Schedule:
    """A hand-built schedule reported as feasible (for the verifier tests)."""
    return Schedule(tuple(departures), tuple(unserved), pax, requested, dev, W, None, None,
                    SolveStats("feasible", objective))


P30 = FlightProduct("p30", "vp", "ev", 30, 1.0)


def hand_problem(**kw) -> ScheduleProblem:
    """One 4-seat aircraft 10:00-12:00, 20 min turnaround, a 30 min product, grid and slot 10 min.

    A (3 persons, 10:00-10:20, wants 10:10) and B (2, 10:00-10:20, wants 10:00) cannot share a flight
    (5 > 4 seats) and no second flight fits their window (busy 50 min); C (2, 10:50-11:40, wants 10:50)
    flies on a second flight >= 50 min after the first. Max passengers = A + C = 5; then A at 10:10 and
    C at 11:00, or A at 10:00 and C at 10:50: deviation 10 min either way. D (5 persons) is larger than
    every aircraft; E wants 13:20, after the aircraft's last landing.
    """
    ac = Aircraft("a1", "ev", "vp", 4, (600, 720), turnaround_min=20)
    books = (Booking("A", "p30", 3, (600, 620), 610), Booking("B", "p30", 2, (600, 620), 600),
             Booking("C", "p30", 2, (650, 700), 650), Booking("D", "p30", 5, (600, 700), 650),
             Booking("E", "p30", 1, (800, 820), 800))
    args = {"products": (P30,), "aircraft": (ac,), "bookings": books, "vertiports": (VertiportCapacity("vp", 1),),
            "slot_min": 10, "start_step_min": 10} | kw
    return ScheduleProblem(**args)


@pytest.mark.parametrize("backend", ["auto", "cpsat", "highs"])
def test_known_optimum_by_hand(backend):
    """The hand-worked day, every back end: 5 passengers, 10 min deviation, optimal, reasons, verifier clean."""
    p = hand_problem()
    s = solve_flight_schedule(p, time_limit_s=10, workers=1, backend=backend)
    assert s.stats.status == "optimal"
    assert (s.passengers, s.deviation_min) == (5, 10)
    assert s.stats.objective == p.weight_per_passenger * 5 - 10 == s.stats.bound
    assert sorted(b for d in s.departures for b in d.booking_ids) == ["A", "C"]
    assert {u.item_id: u.reason for u in s.unserved} == {"B": "capacity", "D": "party_too_large", "E": "window"}
    assert verify_flight_schedule(p, s) == []


def _brute_force(p: ScheduleProblem) -> int:
    """Best W*P - D over every assignment of each booking to (aircraft, grid take-off) or nothing; the
    verifier decides feasibility, so this shares nothing with the model builder."""
    W = p.weight_per_passenger
    prods = {q.id: q for q in p.products}
    options = []
    for b in p.bookings:
        q = prods[b.product_id]
        opts = [None] + [(a.id, t) for a in p.aircraft for t in p.candidate_starts(a, q)
                         if b.window[0] <= t <= b.window[1]]
        options.append(opts)
    best = 0
    for combo in itertools.product(*options):
        groups: dict[tuple[str, int], list[Booking]] = {}
        for b, o in zip(p.bookings, combo, strict=True):
            if o is not None:
                groups.setdefault(o, []).append(b)
        deps, pax, dev = [], 0, 0
        ac = {a.id: a for a in p.aircraft}
        for (aid, t), bs in groups.items():
            q = prods[bs[0].product_id]
            if any(b.product_id != q.id for b in bs):
                break
            a = ac[aid]
            n = sum(b.party_size for b in bs)
            deps.append(Departure(aid, q.id, q.vertiport_id, t, t + q.block_min, t + q.block_min + a.ground_min(q.block_min),
                                  a.seats, n, tuple(b.id for b in bs)))
            pax += n
            dev += sum(abs(t - b.desired_min) for b in bs)
        else:
            flown = {b for d in deps for b in d.booking_ids}
            un = tuple(Unserved(b.id, "capacity", "") for b in p.bookings if b.id not in flown)
            sched = feasible(deps, un, pax, sum(b.party_size for b in p.bookings), dev, W, W * pax - dev)
            if not verify_flight_schedule(p, sched):
                best = max(best, W * pax - dev)
    return best


@pytest.mark.parametrize("backend", ["cpsat", "highs"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_brute_force_equals_solver_optimum(seed, backend):
    """On tiny random days (2 aircraft, 2 products, 4 bookings) CP-SAT's and HiGHS's optimum equal exhaustive search."""
    rng = random.Random(seed)
    prods = (FlightProduct("s", "vp", "ev", rng.choice([20, 30]), 1.0), FlightProduct("l", "vp", "ev", 40, 2.0))
    fleet = (Aircraft("a1", "ev", "vp", 4, (600, 700), 10, 0.5), Aircraft("a2", "ev", "vp", 3, (620, 700), 15))
    books = []
    for i in range(4):
        lo = rng.choice([600, 610, 620, 630, 640])
        hi = lo + rng.choice([0, 10, 20])
        books.append(Booking(f"b{i}", rng.choice("sl"), rng.randint(1, 4), (lo, hi), rng.choice([lo, hi])))
    p = ScheduleProblem(prods, fleet, tuple(books), (VertiportCapacity("vp", 1),), slot_min=10, start_step_min=10)
    s = solve_flight_schedule(p, time_limit_s=10, workers=1, backend=backend)
    assert s.stats.status == "optimal"
    assert verify_flight_schedule(p, s) == []
    assert s.stats.objective == _brute_force(p)


def test_synthetic_day_is_verifier_clean_and_reproducible():
    """A 40-booking synthetic day over 2 vertiports: optimal, verifier clean; workers=1 repeats it exactly."""
    p = flight_day(40, seed=5, step=10, twin_evtol=False)
    a = solve_flight_schedule(p, time_limit_s=20, workers=1, seed=3)
    b = solve_flight_schedule(p, time_limit_s=20, workers=1, seed=3)
    assert a.stats.status == "optimal" and verify_flight_schedule(p, a) == []
    assert 0 < a.passengers < a.passengers_requested and a.stats.bound == a.stats.objective
    assert len(a.unserved) + a.bookings_served == 40
    assert b.departures == a.departures and b.unserved == a.unserved


def _valid():
    p = hand_problem()
    return p, solve_flight_schedule(p, time_limit_s=10, workers=1)


def test_verifier_catches_overbooked_seats():
    """Putting B on A's flight (5 persons on 4 seats) is reported."""
    p, s = _valid()
    d0 = next(d for d in s.departures if "A" in d.booking_ids)
    bad = dataclasses.replace(d0, booking_ids=d0.booking_ids + ("B",), passengers=d0.passengers + 2)
    s2 = dataclasses.replace(s, departures=tuple(bad if d is d0 else d for d in s.departures),
                             unserved=tuple(u for u in s.unserved if u.item_id != "B"), passengers=7,
                             stats=SolveStats("feasible"))
    assert any("on 4 seats" in v for v in verify_flight_schedule(p, s2))


def test_verifier_catches_overlapping_flights():
    """A second flight taking off before the aircraft is ready (turnaround) is reported."""
    p, s = _valid()
    first, second = sorted(s.departures, key=lambda d: d.start_min)
    moved = dataclasses.replace(second, start_min=first.start_min + 40, land_min=first.start_min + 70,
                                ready_min=first.start_min + 90)
    s2 = dataclasses.replace(s, departures=(first, moved), stats=SolveStats("feasible"), deviation_min=0)
    assert any("before" in v and "ready" in v for v in verify_flight_schedule(p, s2))


def test_verifier_catches_vertiport_slot_and_window():
    """Two take-offs in one slot of a 1-take-off vertiport, and a booking flown outside its window, are reported."""
    p = hand_problem(aircraft=(Aircraft("a1", "ev", "vp", 4, (600, 720), 20), Aircraft("a2", "ev", "vp", 4, (600, 720), 20)))
    a = Departure("a1", "p30", "vp", 600, 630, 650, 4, 3, ("A",))
    b = Departure("a2", "p30", "vp", 605, 635, 655, 4, 2, ("B",))
    un = tuple(Unserved(x, "capacity", "") for x in "CDE")
    s = feasible((a, b), un, 5, 13, 10, p.weight_per_passenger)
    viol = verify_flight_schedule(p, s)
    assert any("take-offs in slot" in v for v in viol)
    late = dataclasses.replace(b, start_min=630, land_min=660, ready_min=680)
    s2 = dataclasses.replace(s, departures=(a, late), deviation_min=10 + 30)
    assert any("outside window" in v for v in verify_flight_schedule(p, s2))


def test_verifier_catches_wrong_totals():
    """A reported passenger count or objective that does not match the flights is reported."""
    p, s = _valid()
    assert any("passengers: reported" in v for v in verify_flight_schedule(p, dataclasses.replace(s, passengers=6)))
    wrong = dataclasses.replace(s, stats=dataclasses.replace(s.stats, objective=s.stats.objective + 1))
    assert any("objective" in v for v in verify_flight_schedule(p, wrong))


def test_no_product_reason_when_no_aircraft_flies_it():
    """A product whose type has no aircraft at its vertiport leaves its bookings unassigned as 'no_product'."""
    orphan = FlightProduct("far", "elsewhere", "ev", 20, 1.0)
    p = hand_problem(products=(P30, orphan), bookings=(Booking("F", "far", 2, (600, 700), 620),))
    s = solve_flight_schedule(p, time_limit_s=5, workers=1)
    assert [(u.item_id, u.reason) for u in s.unserved] == [("F", "no_product")]
    assert s.stats.status == "optimal" and verify_flight_schedule(p, s) == []


@pytest.mark.parametrize("change, field", [
    ({"bookings": (Booking("X", "nope", 1, (600, 620), 600),)}, "bookings[X].product_id"),
    ({"bookings": (Booking("X", "p30", 1, (600, 620), 600), Booking("X", "p30", 2, (600, 620), 600))}, "bookings[1].id"),
    ({"aircraft": (Aircraft("h", "heli", "vp", 4, (600, 720)),)}, "aircraft[h].type_id"),
    ({"aircraft": (Aircraft("a", "ev", "other", 4, (600, 720)),)}, "aircraft[a].vertiport_id"),
    ({"slot_min": 0}, "slot_min"),
    ({"start_step_min": 2.5}, "start_step_min"),
])
def test_bad_input_names_the_field(change, field):
    """Unknown product, duplicate id, aircraft nobody's product uses, bad grid: InvalidInput naming the field."""
    with pytest.raises(InvalidInput) as e:
        hand_problem(**change)
    assert e.value.field == field


def test_bad_booking_and_time_limit_values():
    """A zero party or window closing before it opens, and a non-positive time limit, raise InvalidInput."""
    with pytest.raises(InvalidInput, match="party_size"):
        Booking("x", "p30", 0, (600, 620), 600)
    with pytest.raises(InvalidInput, match="window"):
        Booking("x", "p30", 1, (620, 600), 610)
    # trial finding: both named the window in minutes ((600, 540), 600..720) for a booking written as HH:MM
    with pytest.raises(InvalidInput) as e:
        Booking("x", "p30", 1, (600, 540), 570)
    assert str(e.value) == "bookings[x].window=('10:00', '09:00'): closes before it opens"
    with pytest.raises(InvalidInput) as e:
        Booking("x", "p30", 1, (600, 720), 780)
    assert str(e.value) == "bookings[x].desired_min='13:00': must be within the booking's window 10:00..12:00"
    with pytest.raises(InvalidInput) as e:
        solve_flight_schedule(hand_problem(), time_limit_s=0)
    assert e.value.field == "max_runtime_s"
    with pytest.raises(InvalidInput) as e:
        solve_flight_schedule(hand_problem(), backend="gurobi")
    assert e.value.field == "backend"


def test_tiny_time_limit_returns_a_status():
    """A 10 ms limit on a 100-booking day answers with a status (greedy fallback or CP-SAT) and never crashes."""
    from api.services.flights import DEFAULT_BOOKINGS, schedule_problem_from_files
    p = schedule_problem_from_files(DEFAULT_BOOKINGS, None, None, 5)
    s = solve_flight_schedule(p, time_limit_s=0.01, workers=1)
    assert s.stats.status in ("optimal", "feasible", "no_solution_in_time")
    assert verify_flight_schedule(p, s) == []
    assert s.stats.runtime_s < 5


def _twins_day(seed: int) -> ScheduleProblem:
    """A small random day with 2-3 identical aircraft (one pool) plus a different one at the same vertiport."""
    rng = random.Random(seed)
    prods = (FlightProduct("s", "vp", "ev", rng.choice([20, 30]), 1.0), FlightProduct("l", "vp", "ev", 40, 2.0))
    k = rng.choice([2, 3])
    fleet = tuple(Aircraft(f"t{i}", "ev", "vp", 4, (600, 760), 10, 0.5) for i in range(k))
    fleet += (Aircraft("odd", "ev", "vp", 3, (620, 760), 15),)
    books = []
    for i in range(12):
        lo = rng.choice(range(600, 700, 10))
        hi = lo + rng.choice([0, 10, 20, 30])
        books.append(Booking(f"b{i}", rng.choice("sl"), rng.randint(1, 4), (lo, hi), rng.choice([lo, hi])))
    return ScheduleProblem(prods, fleet, tuple(books), (VertiportCapacity("vp", rng.choice([1, 2, 3])),), slot_min=10,
                                 start_step_min=10)


@pytest.mark.parametrize("backend", ["cpsat", "highs"])
@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_pooled_model_equals_per_tail_model(seed, backend):
    """Identical aircraft pooled (copies + pool capacity rows) give the per-tail model's optimum J; the
    greedy tail assignment never double-books an aircraft (the verifier checks each tail)."""
    p = _twins_day(seed)
    pooled = solve_flight_schedule(p, time_limit_s=20, workers=1, backend=backend, pool_identical=True)
    tails = solve_flight_schedule(p, time_limit_s=20, workers=1, backend=backend, pool_identical=False)
    assert pooled.stats.status == tails.stats.status == "optimal"
    assert pooled.stats.objective == tails.stats.objective
    assert len(pooled.model_stats["pools"]) == 2 and len(tails.model_stats["pools"]) == len(p.aircraft)
    assert verify_flight_schedule(p, pooled) == [] and verify_flight_schedule(p, tails) == []


def test_pooled_tail_assignment_packs_a_busy_pool():
    """Three identical aircraft, nine one-party bookings in overlapping windows: every tail is used and the
    busy intervals of each tail are disjoint (verifier), with as many take-offs as the pool allows."""
    prod = (FlightProduct("p", "vp", "ev", 30, 1.0),)
    fleet = tuple(Aircraft(f"t{i}", "ev", "vp", 1, (600, 720), 0) for i in range(3))
    books = tuple(Booking(f"b{i}", "p", 1, (600, 690), 600 + 10 * (i % 4)) for i in range(9))
    p = ScheduleProblem(prod, fleet, books, (VertiportCapacity("vp", 3),), slot_min=10, start_step_min=10)
    for pool in (True, False):
        s = solve_flight_schedule(p, time_limit_s=20, workers=1, backend="highs", pool_identical=pool)
        assert s.stats.status == "optimal" and verify_flight_schedule(p, s) == []
        assert s.passengers == 9  # 3 tails x 3 flights of 30 min (no ground time) in 600..720
        assert {d.aircraft_id for d in s.departures} == {"t0", "t1", "t2"}


def test_independent_blocks_and_gap_stop():
    """Two vertiports share no row: HiGHS solves them as separate blocks; the sum equals the CP-SAT optimum,
    and a rel_gap stop reports a proven gap within it."""
    prods = (FlightProduct("a", "va", "ev", 20, 1.0), FlightProduct("b", "vb", "ev", 30, 1.0))
    fleet = (Aircraft("e1", "ev", "va", 4, (600, 760), 10, 0.5), Aircraft("e2", "ev", "vb", 4, (600, 760), 10, 0.5))
    books = random_bookings(prods, 24, seed=7, day=(600, 740))
    p = ScheduleProblem(prods, fleet, books, (VertiportCapacity("va", 1), VertiportCapacity("vb", 1)), slot_min=10,
                              start_step_min=10)
    h = solve_flight_schedule(p, time_limit_s=20, workers=1, backend="highs")
    c = solve_flight_schedule(p, time_limit_s=20, workers=1, backend="cpsat")
    assert h.stats.status == c.stats.status == "optimal" and h.stats.objective == c.stats.objective
    g = solve_flight_schedule(p, time_limit_s=20, workers=1, rel_gap=0.05)
    assert g.stats.gap is not None and g.stats.gap <= 0.05 and verify_flight_schedule(p, g) == []


def test_auto_backend_never_returns_less_than_the_greedy_schedule():
    """Found by a fresh-user trial: with a tiny time limit 'auto' returned an empty schedule although the
    greedy schedule served bookings; and a reported bound exceeded all passengers requested."""
    from api.services.flights import schedule_problem_from_files
    from instances.paths import FLIGHT_BOOKINGS_CSV

    p = schedule_problem_from_files(FLIGHT_BOOKINGS_CSV, None, None, 5)
    s = solve_flight_schedule(p, time_limit_s=0.01, workers=1)
    assert s.passengers > 0 and verify_flight_schedule(p, s) == []
    if s.passengers_bound is not None:
        assert s.passengers_bound <= s.passengers_requested

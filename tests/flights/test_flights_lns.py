"""The rolling-window LNS of the flight schedule (models.flight_lns): feasible and never worse than its
start, exact on a small day, deterministic for a seed under a work limit, HiGHS blocks merged only when
better; and, through ``solve``, better than the greedy schedule on the bundled day (issue 15)."""

from __future__ import annotations

import time

from flights_helpers import flight_day

import models.flight_schedule as F
from models.flight_lns import lns, merge_block
from optimizer.core.stop import MaxRuntime
from optimizer.flights import (
    FlightParams,
    ScheduleProblem,
    solve,
    verify,
)
from optimizer.flights.schedule import greedy_schedule, unservable_reasons


def _day(n: int = 40, seed: int = 5) -> ScheduleProblem:
    return flight_day(n, seed)


def _model(p: ScheduleProblem):
    m = F.build_model(p, unservable_reasons(p))
    return m, greedy_schedule(p, m)[0]


def _j(m, assign: dict[int, int]) -> int:
    coef = {bd: c for bd, c in zip(m.xs, m.coef, strict=True)}
    return sum(coef[bd] for bd in assign.items())


def _ks(m, assign: dict[int, int]) -> list[int]:
    k_of = {bd: k for k, bd in enumerate(m.xs)}
    return [k_of[bd] for bd in assign.items()]


def test_lns_is_feasible_and_never_worse_than_its_start():
    """From the greedy schedule: the rows hold, J is reported right and is at least the greedy J."""
    p = _day(60, seed=3)
    m, start = _model(p)
    r = lns(p, m, start, time.perf_counter() + 60, seed=0, work_limit=3.0)
    assert F.check_answer(p, m, _ks(m, r.assign))
    assert r.objective == _j(m, r.assign) >= _j(m, start)
    assert r.windows > 0


def test_lns_reaches_the_proven_optimum_of_a_small_day():
    """A small day HiGHS proves optimal: the LNS alone, from the empty schedule, ends at the same J (run to
    the whole day); with the LP stop on, at the same passengers (only the deviation is left to HiGHS)."""
    p = _day(24, seed=7)
    opt = solve(p, MaxRuntime(60), params=FlightParams(backend="highs"))
    assert opt.stats.status == "optimal"
    m, _start = _model(p)
    r = lns(p, m, {}, time.perf_counter() + 120, seed=1, pax_bounds=False)
    assert r.converged and F.check_answer(p, m, _ks(m, r.assign))
    assert r.objective == opt.stats.objective
    q = lns(p, m, {}, time.perf_counter() + 120, seed=1)
    assert F.check_answer(p, m, _ks(m, q.assign))
    assert sum(p.bookings[bi].party_size for bi in q.assign) == opt.passengers


def test_lns_repeats_itself_under_a_work_limit():
    """Same seed and work limit: the same schedule, reported as stopped by work; another seed may differ."""
    p = _day(60, seed=3)
    m, start = _model(p)
    a = lns(p, m, start, time.perf_counter() + 120, seed=4, work_limit=1.0)
    b = lns(p, m, start, time.perf_counter() + 120, seed=4, work_limit=1.0)
    assert a.assign == b.assign and a.windows == b.windows
    assert a.stopped_by_work and b.stopped_by_work


def test_merge_block_takes_a_better_block_only():
    """A block's schedule replaces the incumbent there only when its J is larger; other blocks untouched."""
    p = _day(40, seed=5)
    m, start = _model(p)
    dx = [k for k, (_bi, d) in enumerate(m.xs) if p.products[m.deps[d][1]].vertiport_id == "dx"]
    block = [k for k in _ks(m, start) if k in set(dx)]
    rest = {bi: d for bi, d in start.items() if (bi, d) not in {m.xs[k] for k in block}}
    assert block and rest
    assign = dict(rest)
    j_block = sum(m.coef[k] for k in block)
    assert merge_block(m, assign, dx, block, j_block, j_block + 5)
    assert assign == start
    worse = block[:-1]
    assert not merge_block(m, assign, dx, worse, sum(m.coef[k] for k in worse), j_block)
    assert assign == start


def test_deterministic_lns_flies_more_than_the_greedy_on_the_bundled_day():
    """The bundled 100 bookings under a deterministic limit (machine-independent): verifier clean, more
    passengers than the greedy schedule, the same schedule twice."""
    from api.services.flights import schedule_problem_from_files
    from instances.paths import FLIGHT_BOOKINGS_CSV

    p = schedule_problem_from_files(FLIGHT_BOOKINGS_CSV, None, None, 5)
    _m, start = _model(p)
    greedy_pax = sum(p.bookings[bi].party_size for bi in start)
    a = solve(p, MaxRuntime(300), seed=0, params=FlightParams(deterministic_time=1.0))
    b = solve(p, MaxRuntime(300), seed=0, params=FlightParams(deterministic_time=1.0))
    assert verify(p, a) == []
    assert a.passengers > greedy_pax
    assert a.model_stats["reproducible"] and a.departures == b.departures


def test_group_bounds_hold_and_settled_groups_are_whole():
    """The LP passenger bound of each group is >= what the HiGHS optimum flies there; the settled departures
    are exactly the groups whose schedule already meets it."""
    from models.flight_lns import group_pax_bounds, index, settled_departures

    p = _day(40, seed=5)
    m, start = _model(p)
    ix = index(p, m)
    bounds = group_pax_bounds(p, m, ix)
    opt = solve(p, MaxRuntime(60), params=FlightParams(backend="highs"))
    assert opt.stats.status == "optimal"
    flown_opt = [0] * ix.n_groups
    dep_group = {(p.products[m.deps[d][1]].vertiport_id, p.aircraft[m.deps[d][0]].type_id): int(ix.group[d])
                 for d in range(len(m.deps))}
    books = {b.id: b for b in p.bookings}
    ac = {a.id: a for a in p.aircraft}
    for dep in opt.departures:
        g = dep_group[(dep.vertiport_id, ac[dep.aircraft_id].type_id)]
        flown_opt[g] += sum(books[b].party_size for b in dep.booking_ids)
    assert all(b is not None and b >= f for b, f in zip(bounds, flown_opt, strict=True))
    settled = settled_departures(p, m, ix, opt_assign := start, bounds)
    flown = [0] * ix.n_groups
    for bi, d in opt_assign.items():
        flown[int(ix.group[d])] += p.bookings[bi].party_size
    expect = {int(d) for g in range(ix.n_groups) if flown[g] >= bounds[g] for d in ix.deps_of_group[g]}
    assert settled == expect

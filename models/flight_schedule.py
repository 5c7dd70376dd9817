"""Daily schedule of sightseeing flights: a time-indexed 0-1 model on CP-SAT and HiGHS (formulation only).

Bookings (party size, product, take-off window, desired take-off) are assigned to departures of
aircraft flying the product menu, with seat limits, vertiport take-off capacity per slot and the
ground time (turnaround plus recharge/refuel) each aircraft needs after a flight. The model
maximises passengers flown, then minimises the deviation from the desired take-off times.

Data (:class:`optimizer.flights.problem.ScheduleProblem`): products p (vertiport, aircraft type, block minutes
``B_p``), aircraft a (type, base vertiport, seats ``S_a``, availability ``[o_a, c_a]``, ground time
``G_a(B) = turnaround + ceil(recharge_per_block * B)``), bookings b (product ``p_b``, party ``n_b``,
window ``[e_b, l_b]``, desired take-off ``r_b``), vertiports v (take-offs per slot ``K_v`` of
``slot_min`` minutes, opening hours). All times are integer minutes from midnight.

Formulation (time-indexed, Sousa & Wolsey 1992, Math. Programming 54: 353-367; the booking-to-
departure assignment is the passenger-assignment layer of tour-flight scheduling)
---------------------------------------------------------------------------------------------
Candidate departures d = (a, p, t): every aircraft a, every product p of a's vertiport and type,
every take-off t on the clock grid ``t = 0 (mod start_step_min)`` with ``o_a <= t``,
``t + B_p <= c_a`` and the vertiport open at take-off and landing; only departures that at least
one booking could use are built. ``D(b)`` = departures of ``p_b`` with ``e_b <= t <= l_b`` and
``n_b <= S_a``. Busy interval of d: ``[t, t + B_p + G_a(B_p))``. Booleans y_d (departure flown)
and x_bd (booking b on d, d in D(b))::

    max  sum_{b, d in D(b)} (W n_b - |t_d - r_b|) x_bd
    s.t. sum_{d in D(b)} x_bd <= 1                              each booking at most once
         sum_b n_b x_bd <= S_a y_d ,  x_bd => y_d                seats (and a tight LP link)
         sum_{d of a: t_d <= k < t_d + B + G} y_d <= 1           per aircraft a, every grid time k
         sum_{d at v: floor(t_d / slot_min) = s} y_d <= K_v      per vertiport v, slot s

The aircraft rows are the clique form of the time-indexed non-overlap constraint; since every
take-off lies on the grid, two busy intervals of one aircraft overlap iff both cover the later
take-off, so checking the grid times is exact. Flights need to land by ``c_a``; the ground time
after the last landing may run past it. Departures the solver opens without passengers are dropped
from the result (dropping one never breaks a constraint).

Packing rows (valid inequalities, cut off fractional seat fillings only): for a departure with
``S`` seats, ``sum_b g(n_b) x_bd <= 2 y_d`` with ``g(n) = 2`` for a party of more than half the
seats, ``1`` for more than a third (or exactly half where the third rule is not valid for ``S``),
``0`` else; validity is checked by a knapsack DP over all multisets of party sizes (at most 2 in
total). For 4 seats: a party of 3 or 4 leaves no room for a party of 2, which the seat row alone
allows fractionally. Vertiport slot rows that cannot bind are left out: an aircraft takes off at
most ``floor((t_max - t_min) / L_min) + 1`` times among a slot's take-offs (``L_min`` its shortest
busy interval there), and when the fleet's total is <= the capacity the row is implied.

Identical aircraft (``pool_identical=True``; off by default, see below). Aircraft equal in type,
base, seats, availability, turnaround and recharge rate form a pool of ``k_G`` tails. Departures
become (pool, product, take-off, copy c) for ``c = 1..min(k_G, K_v)`` with ``y_c <= y_{c-1}``;
seats stay per copy (exact) and the aircraft rows become pool capacities
``sum_{d of G covering k} y_d <= k_G``. Exact: the busy intervals form an interval graph, whose
chromatic number equals its largest clique (the most intervals covering one point, reached at a
take-off on the grid), so the pool rows hold iff the flights can be split over ``k_G`` tails. The
result assigns tails by greedy interval colouring (by take-off: the first tail of the pool, in
fleet order, free at the take-off), so departures still name an aircraft and the verifier checks
every tail. Pooling does not tighten the LP bound (the interval rows have the integer decomposition
property, so splitting a pooled LP point as ``y/k_G`` per tail is LP-feasible), and HiGHS detects the
tail symmetry itself; the per-tail model is the default (``bench/RESULTS.md`` has the comparison).

Lexicographic objective and scale
---------------------------------
``W = 1 + sum_b max(r_b - e_b, l_b - r_b)`` (minutes) exceeds any total deviation, so one more
passenger always outweighs every deviation: the single weighted objective ``J = W P - D`` (P
passengers, D total deviation in minutes) is the lexicographic one. Everything is an exact integer:
minutes, persons, and J in "W-units" (``J <= W * total party size``, far below 2**63).

Back ends
---------
The same 0-1 model goes to CP-SAT (OR-Tools; greedy schedule as a hint: earliest desired take-off
first, closest take-off, open departures first) and/or to HiGHS branch and cut
(``scipy.optimize.milp``, one thread), both through :mod:`models._backend`. HiGHS gets the model split
into independent blocks (connected components of the constraint matrix: e.g. one per vertiport and
aircraft type when no slot row binds); the day's J and bound are the sums over the blocks (exact: no
row links two blocks). It works in three passes (:func:`_solve_highs`): the LP relaxation of every
block (its optimum, rounded down, bounds the block); the MIP restricted to the departures the LP uses
(a relaxation-induced neighbourhood: a good schedule of the block within a second or two); then the
full MIP per block, smallest first, each with a share of the time proportional to its size (the last
gets all that is left). With ``rel_gap > 0`` the passes stop as soon as the day's best J is within
``rel_gap`` of the sum of the blocks' bounds, so a block whose LP bound is close enough is never
branched on; a block that is solved stops at the gap that keeps the day within ``rel_gap``: a column
fixed at 1 costing minus the J of the other blocks makes HiGHS's relative gap (which includes the
objective constant) ``(bound - J) / J`` of the whole day, less the others' gap. Why (issue 15 item 2):
on the 500 x 6 x 2 days the LP bound of the 3-eVTOL block is within 2-3.2 passengers of the schedule
its LP-support MIP finds, and HiGHS's branch and bound needs tens of CPU seconds to close more than
one of them (root cuts: 141.2 -> 140.3 passengers in about 5 s); with the single-tail blocks proven
(a few tenths of a second each) the day is within 1 % after 1.6-3.6 s of CPU (was about 9 s).
``backend='auto'`` (default) runs HiGHS in one thread, for the bound and for the blocks it
solves well (one aircraft: it proves them within seconds), alongside the rolling-window LNS of
:mod:`models.flight_lns` in the other (CP-SAT on small windows of the model, from the greedy
schedule): each block HiGHS posts replaces the LNS's schedule there when better, a block it proves
optimal is left alone, and the LNS stops once its schedule meets HiGHS's bound so far (or is within
the asked gap of it); HiGHS in turn starts no further block once the LNS's schedule is within the gap.
First the LP relaxation of each group's part of the model bounds the passengers it can fly
(:func:`models.flight_lns.group_pax_bounds`, a fraction of a second); HiGHS takes the blocks whose greedy
schedule already meets that bound first, with ``SETTLED_SHARE`` of their time share (they need only a
bound), and the LNS leaves such groups alone.
Why: the LP relaxation of this model is tight, but on the 5-minute grid neither HiGHS's nor CP-SAT's
(1 worker) primal search fills the day of a busy aircraft within the default 20 s; the windows of the
LNS are solved exactly in tens of milliseconds each (issue 15; ``bench/RESULTS.md``). Before, ``auto``
ran CP-SAT on the whole model instead of the LNS (152-153 passengers of the bundled day at 20 s,
against 174 after 300 s). ``backend='cpsat'`` runs the LNS for ``LNS_SHARE`` of the time, then CP-SAT
on the whole model hinted with its schedule (its bound is far weaker than HiGHS's); ``'highs'`` runs
HiGHS alone. HiGHS cannot be stopped from outside through scipy, so the LNS, when it ends first (at
its bound or converged), waits for HiGHS; if HiGHS is still busy at the time limit, its answer is
dropped but the bound it had proven by then (every block's LP or MIP bound) stands. HiGHS answers are re-checked row by row before use
(:func:`check_answer`).

Status and gaps
---------------
``bound`` is the smallest proven upper bound on J (CP-SAT's ``best_objective_bound``; HiGHS's dual
bound rounded down after a 1e-9 relative + 1e-6 tolerance, as :mod:`models.siting` does; J is an
integer). The schedule (:mod:`optimizer.flights.schedule`) is ``optimal`` only when ``bound <= J``.

Determinism: CP-SAT's ``random_seed`` is fixed (``seed``); HiGHS is deterministic for a given
model. A solve that proves optimality returns the same J every time (``backend='cpsat'`` with
``workers == 1``, or HiGHS, return the same schedule too; with ``'auto'`` a tie in J is broken in
favour of HiGHS; the HiGHS blocks come in a fixed order and the tails of a pool are assigned by a
fixed rule). A solve stopped by the wall-clock limit or by ``rel_gap`` depends on how far each engine
got (HiGHS's block time shares are wall-clock too), so it may return a different - equally verified -
schedule and bound on a busier machine. ``FlightParams.deterministic_time`` runs CP-SAT alone on
one worker with ``max_deterministic_time`` (the LNS's windows for ``LNS_SHARE`` of it, each window with
its own deterministic limit, then the whole model for the rest; no HiGHS): it stops after the same
work every time, so the same seed gives the same schedule (unless the wall-clock limit, kept as a
safety stop, comes first; ``BackendRun.stopped_by_work`` says which).
:func:`optimizer.flights.verify.verify` re-checks any result from the data.
"""

from __future__ import annotations

import atexit
import bisect
import math
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix, hstack
from scipy.sparse.csgraph import connected_components

from models import flight_lns
from models._backend import cpsat_solver, cpsat_status, highs_status
from optimizer.core.results import FEASIBLE, INFEASIBLE, OPTIMAL
from optimizer.flights.problem import Aircraft, FlightParams, ScheduleProblem

__all__ = ["CPSAT_BUILD_S_PER_VAR", "BackendRun", "ScheduleModel", "assign_tails", "build_model", "check_answer",
           "solve_model"]


@dataclass
class ScheduleModel:
    """Index sets of the time-indexed model shared by the back ends and the greedy schedule."""

    deps: list[tuple[int, int, int]]  # departure -> (first aircraft of its pool, product index, take-off minute)
    ground: list[int]  # departure -> ground minutes after it
    elig: list[list[int]]  # booking -> departures it may fly on
    xs: list[tuple[int, int]]  # assignment variables (booking, departure)
    coef: list[int]  # objective coefficient of each assignment variable: W n_b - |t - r_b|
    seat_rows: list[tuple[int, list[int]]]  # (departure, its assignment vars) where the parties could overflow
    cliques: list[tuple[int, list[int]]]  # (pool size, departures of the pool covering one grid time) if it can bind
    slots: list[tuple[int, list[int]]]  # (capacity, departures) per vertiport slot where it can bind
    pools: list[list[int]] = field(default_factory=list)  # pool -> its aircraft indices (identical tails)
    pool_of: list[int] = field(default_factory=list)  # departure -> pool
    order: list[tuple[int, int]] = field(default_factory=list)  # (copy c, copy c-1): y_c <= y_{c-1}
    pack_rows: list[tuple[int, list[int], list[int]]] = field(default_factory=list)  # (d, vars, g): sum g x <= 2 y_d


def pool_key(a: Aircraft) -> tuple:
    """Aircraft with equal keys are interchangeable in every rule of the model."""
    return (a.type_id, a.vertiport_id, a.seats, tuple(a.available), a.turnaround_min, float(a.recharge_per_block_min))


def build_model(P: ScheduleProblem, reasons: dict[str, str], pool_identical: bool = False) -> ScheduleModel:
    """The model's index sets (module docstring); bookings in ``reasons`` (unservable) get no variables."""
    pidx = {p.id: k for k, p in enumerate(P.products)}
    W = P.weight_per_passenger
    pools: list[list[int]] = []
    if pool_identical:
        by_key: dict[tuple, int] = {}
        for ai, a in enumerate(P.aircraft):
            g = by_key.setdefault(pool_key(a), len(pools))
            if g == len(pools):
                pools.append([])
            pools[g].append(ai)
    else:
        pools = [[ai] for ai in range(len(P.aircraft))]
    starts: dict[tuple[int, int], list[int]] = {}
    for g, members in enumerate(pools):
        a = P.aircraft[members[0]]
        for pi, p in enumerate(P.products):
            s = P.candidate_starts(a, p)
            if s:
                starts[(g, pi)] = s
    by_product: dict[int, list[int]] = defaultdict(list)
    for g, pi in starts:
        by_product[pi].append(g)
    dep_of: dict[tuple[int, int, int], int] = {}
    deps: list[tuple[int, int, int]] = []
    pool_of: list[int] = []
    order: list[tuple[int, int]] = []
    elig: list[list[int]] = []
    for b in P.bookings:
        row = []
        if b.id not in reasons:
            pi = pidx[b.product_id]
            p = P.products[pi]
            for g in by_product[pi]:
                a0 = pools[g][0]
                if P.aircraft[a0].seats < b.party_size:
                    continue
                copies = min(len(pools[g]), P.vertiport(p.vertiport_id).takeoffs_per_slot)
                s = starts[(g, pi)]
                for t in s[bisect.bisect_left(s, b.window[0]):bisect.bisect_right(s, b.window[1])]:
                    key = (g, pi, t)
                    d = dep_of.get(key)
                    if d is None:
                        d = dep_of[key] = len(deps)
                        for c in range(copies):  # copies c = 0..copies-1 get consecutive indices
                            deps.append((a0, pi, t))
                            pool_of.append(g)
                            if c:
                                order.append((d + c, d + c - 1))
                    row.extend(range(d, d + copies))
        elig.append(row)
    ground = [P.aircraft[a].ground_min(P.products[p].block_min) for a, p, _ in deps]
    xs, coef = [], []
    on_dep: dict[int, list[int]] = defaultdict(list)
    for bi, row in enumerate(elig):
        b = P.bookings[bi]
        for d in row:
            on_dep[d].append(len(xs))
            xs.append((bi, d))
            coef.append(W * b.party_size - abs(deps[d][2] - b.desired_min))
    seat_rows = [(d, ks) for d, ks in sorted(on_dep.items())
                 if sum(P.bookings[xs[k][0]].party_size for k in ks) > P.aircraft[deps[d][0]].seats]
    pack_rows = []
    weights: dict[int, list[int] | None] = {}
    for d, ks in seat_rows:
        cap = P.aircraft[deps[d][0]].seats
        if cap not in weights:
            weights[cap] = _half_third_weights(cap)
        g = weights[cap]
        if g is None:
            continue
        ks2 = [k for k in ks if g[P.bookings[xs[k][0]].party_size]]
        gs = [g[P.bookings[xs[k][0]].party_size] for k in ks2]
        if sum(gs) > 2 and any(v == 1 for v in gs):  # only 2-weights: the at-most-one is in the clique table
            pack_rows.append((d, ks2, gs))
    per_pool: dict[int, list[int]] = defaultdict(list)
    per_slot: dict[tuple[str, int], list[int]] = defaultdict(list)
    for d, (_a, p, t) in enumerate(deps):
        per_pool[pool_of[d]].append(d)
        per_slot[(P.products[p].vertiport_id, t // P.slot_min)].append(d)
    cliques = []
    for g, ds in sorted(per_pool.items()):
        cap = len(pools[g])
        # departures whose busy interval covers grid time k, by a sweep over the take-off times (a
        # scan of every departure per k was quadratic: seconds on a 1-minute grid)
        end = {d: deps[d][2] + P.products[deps[d][1]].block_min + ground[d] for d in ds}
        by_start = sorted(ds, key=lambda d: deps[d][2])
        active: list[int] = []
        nxt = 0
        for k in sorted({deps[d][2] for d in ds}):
            while nxt < len(by_start) and deps[by_start[nxt]][2] <= k:
                active.append(by_start[nxt])
                nxt += 1
            active = [d for d in active if k < end[d]]
            if len(active) > cap:
                cliques.append((cap, sorted(active)))  # in departure order, as ds
    slots = [(P.vertiport(v).takeoffs_per_slot, ds) for (v, _s), ds in sorted(per_slot.items())
             if _slot_can_bind(P, ds, deps, ground, pool_of, pools, P.vertiport(v).takeoffs_per_slot)]
    return ScheduleModel(deps, ground, elig, xs, coef, seat_rows, cliques, slots, pools, pool_of, order, pack_rows)


def _slot_can_bind(P, ds, deps, ground, pool_of, pools, cap: int) -> bool:
    """Whether a vertiport slot row can bind given the aircraft rows (else it is left out).

    One aircraft takes off at most ``floor((t_max - t_min) / L_min) + 1`` times among the slot's
    take-offs (L_min: its shortest busy interval there), and at most once per take-off minute, so a
    pool of k tails at most k times that; when the pools' sum is <= the capacity the row is implied."""
    if len(ds) <= cap:
        return False
    by_pool: dict[int, list[int]] = defaultdict(list)
    for d in ds:
        by_pool[pool_of[d]].append(d)
    most = 0
    for g, gd in by_pool.items():
        ts = [deps[d][2] for d in gd]
        span = min(P.products[deps[d][1]].block_min + ground[d] for d in gd)
        per_tail = min(len(set(ts)), (max(ts) - min(ts)) // max(span, 1) + 1)
        most += min(len(gd), len(pools[g]) * per_tail)
    return most > cap


def assign_tails(P: ScheduleProblem, M: ScheduleModel, used: Iterable[int]) -> dict[int, int]:
    """Opened departures -> aircraft index: greedy interval colouring per pool (by take-off, then index).

    Each departure goes to the first tail of its pool (in fleet order) free at its take-off; this never
    fails when at most pool-size busy intervals cover every time (interval graphs are perfect)."""
    tail: dict[int, int] = {}
    by_pool: dict[int, list[int]] = defaultdict(list)
    for d in used:
        by_pool[M.pool_of[d]].append(d)
    for g, ds in by_pool.items():
        free = {a: -1 for a in M.pools[g]}
        for d in sorted(ds, key=lambda d: (M.deps[d][2], d)):
            _a, p, t = M.deps[d]
            a = next((a for a in M.pools[g] if free[a] <= t), None)
            if a is None:  # cannot happen after check_answer
                raise RuntimeError("pool capacity exceeded while assigning tails")
            free[a] = t + P.products[p].block_min + M.ground[d]
            tail[d] = a
    return tail


@dataclass
class BackendRun:
    """One back end's answer: chosen assignment variables, J bound, whether proven optimal or infeasible."""

    backend: str
    chosen: list[int] | None = None
    bound: int | None = None
    optimal: bool = False
    infeasible: bool = False
    wall_s: float = 0.0
    stopped_by_work: bool = False
    """CP-SAT under ``deterministic_time``: ended by a proof or by the deterministic limit (not the clock)."""
    lns: object = None
    """The LNS's :class:`models.flight_lns.LnsResult` (backend ``lns``)."""
    lp_bounds: int = 0
    """HiGHS: blocks whose LP relaxation was solved (pass 1 of :func:`_solve_highs`)."""
    support_blocks: int = 0
    """HiGHS: blocks whose LP-support MIP gave their schedule (pass 2)."""
    mip_blocks: int = 0
    """HiGHS: blocks that went through the full MIP (pass 3; the others kept their LP bound)."""
    cpu_s: float = 0.0
    """CPU seconds of the thread that ran it (HiGHS, LNS): on a machine with a free core per thread, about
    its wall time; on a shared machine, the work it needed whatever the load."""


SETTLED_SHARE = 0.25
"""Part of its time share a HiGHS block gets when the LNS already flies its LP's passengers (``auto``)."""
LP_SHARE = 0.1
"""Most of the time left that one block's LP relaxation may take (HiGHS, pass 1 of :func:`_solve_highs`)."""
SUPPORT_SHARE = 0.3
"""Share of the time left after the LPs for the MIPs restricted to the LP's support (pass 2)."""
SUPPORT_MIN_Y = 0.2
"""A departure stays open in the LP-support MIP when its LP value is above this; measured on the 500 x 6 x 2 days: 0.2 keeps about 56 of the 351 departures of the 3-eVTOL
block and finds the same schedule as 0.01 (78 kept) in half the time."""
SUPPORT_GAP = 0.01
"""HiGHS's relative gap for the LP-support MIP: it is a heuristic (its bound is not the block's), so
proving its own optimum is not worth the time (500 x 6 x 2 days, 3-eVTOL block: 0.5-0.9 s of CPU at 1 %,
up to 1.5 s at 0.2 %, the same schedules)."""
LNS_SHARE = 0.5
"""Share of the time (or of ``deterministic_time``) the LNS gets before CP-SAT's whole-model run (``cpsat``)."""
CPSAT_BUILD_S_PER_VAR = 3e-5
"""Cost of building a back end's model in Python (variables, rows, hints), seconds per x variable
(``bench/RESULTS.md``). ``auto`` skips CP-SAT when building it would take more than half of the time
left, and HiGHS when it would take all of it; with neither, the greedy schedule is the answer."""


def _solve_cpsat(P, M: ScheduleModel, limit_s: float, workers: int, seed: int, rel_gap: float, greedy: tuple | None,
                 log: bool, solver_box: list | None = None, stop=None, det_time: float | None = None) -> BackendRun:

    t0 = time.perf_counter()
    m = cp_model.CpModel()
    y = [m.new_bool_var(f"y{d}") for d in range(len(M.deps))]
    x = [m.new_bool_var(f"x{bi}_{d}") for bi, d in M.xs]
    by_booking: dict[int, list[int]] = defaultdict(list)
    for k, (bi, d) in enumerate(M.xs):
        by_booking[bi].append(k)
        m.add_implication(x[k], y[d])
    for ks in by_booking.values():
        if len(ks) > 1:
            m.add_at_most_one([x[k] for k in ks])
    for d, ks in M.seat_rows:
        m.add(sum(P.bookings[M.xs[k][0]].party_size * x[k] for k in ks) <= P.aircraft[M.deps[d][0]].seats * y[d])
    for cap, cover in M.cliques:
        if cap == 1:
            m.add_at_most_one([y[d] for d in cover])
        else:
            m.add(sum(y[d] for d in cover) <= cap)
    for cap, ds in M.slots:
        m.add(sum(y[d] for d in ds) <= cap)
    for d, prev in M.order:
        m.add_implication(y[d], y[prev])
    for d, ks, g in M.pack_rows:
        m.add(cp_model.LinearExpr.weighted_sum([x[k] for k in ks], g) <= 2 * y[d])
    m.maximize(cp_model.LinearExpr.weighted_sum(x, M.coef))
    if greedy is not None and time.perf_counter() - t0 < limit_s:
        assign, opened = greedy
        for d in range(len(M.deps)):
            m.add_hint(y[d], d in opened)
        for k, (bi, d) in enumerate(M.xs):
            m.add_hint(x[k], assign.get(bi) == d)
    solver = cpsat_solver(max(0.05, limit_s - (time.perf_counter() - t0)), workers, seed, rel_gap)
    solver.parameters.log_search_progress = bool(log)
    if det_time is not None:  # reproducible: stop on work done, the wall clock only as a safety stop
        solver.parameters.max_deterministic_time = float(det_time)
    if solver_box is not None:
        solver_box.append(solver)
    if stop is not None and stop.is_set():  # the other engine finished while this model was built
        solver.parameters.max_time_in_seconds = 0.01
    st = solver.solve(m)
    run = BackendRun("cpsat", wall_s=time.perf_counter() - t0)
    status = cpsat_status(st)
    if status in (OPTIMAL, FEASIBLE):
        run.chosen = [k for k in range(len(x)) if solver.boolean_value(x[k])]
        run.bound = math.floor(solver.best_objective_bound + 1e-6)
        run.optimal = status == OPTIMAL
    run.infeasible = status == INFEASIBLE
    if det_time is not None:  # reproducible when proven or stopped by the deterministic limit, not the clock
        run.stopped_by_work = status in (OPTIMAL, INFEASIBLE) or solver.deterministic_time >= det_time * (1 - 1e-9)
    return run


def _lp_bound(profit: np.ndarray, A, b: np.ndarray, marginals: np.ndarray) -> int:
    """A proven integer bound on ``max profit.x s.t. A x <= b, 0 <= x <= 1`` from an LP's duals.

    Weak duality with the box: for any ``lam >= 0``, ``profit.x = lam.A x + (profit - A^T lam).x <=
    lam.b + sum_j max(0, (profit - A^T lam)_j)``. ``lam`` is minus the LP's ``ineqlin.marginals``
    (scipy's sign for a minimisation), clipped at 0, so the bound holds whatever the LP solver's
    tolerances (it is the LP optimum when the duals are exact); rounded down after a 1e-9 relative +
    1e-6 margin for the float sums (J is an integer)."""
    lam = np.maximum(0.0, -np.asarray(marginals, dtype=float))
    reduced = profit - A.T @ lam
    value = float(b @ lam + np.maximum(reduced, 0.0).sum())
    return math.floor(value + 1e-9 * abs(value) + 1e-6)


_LEFT_RUNNING: list[tuple[threading.Thread, threading.Event]] = []
"""HiGHS threads a solve left running at its time limit (their answer dropped), with their stop events."""


def _join_left_running() -> None:
    """At interpreter exit, wait for the HiGHS threads solves left running: each HiGHS call is bounded
    by its solve's time limit, and a C++ solver thread still running while the interpreter shuts down
    aborts the process ('terminate called without an active exception')."""
    for th, stop in _LEFT_RUNNING:
        stop.set()
        th.join()


atexit.register(_join_left_running)


def _solve_highs(P, M: ScheduleModel, limit_s: float, rel_gap: float, on_block=None,
                 settled: set[int] | None = None, bound_box: list | None = None, best_box: list | None = None, stop=None) -> BackendRun:
    """The same model as a 0-1 MILP for HiGHS (``scipy.optimize.milp``: branch and cut, LP bounds).

    Three passes over the independent blocks:

    1. *LP bounds*: the LP relaxation of every block (``scipy.optimize.linprog``, HiGHS's simplex, a
       fraction of a second for the 500-booking day); its duals give a bound on the block's J by weak
       duality (:func:`_lp_bound`: valid whatever the LP's tolerances, the LP optimum rounded down).
    2. *LP-support MIP* (a relaxation-induced neighbourhood, Danna, Rothberg & Le Pape 2005, Math.
       Programming 102: 71-90, in the form of a restricted master heuristic): the block's MIP with only
       the departures whose LP value is above ``SUPPORT_MIN_Y`` left open, largest block first, for at
       most ``SUPPORT_SHARE`` of the time; any answer is a schedule of the block. On the 500 x 6 x 2
       days it keeps a sixth of the departures of the 3-eVTOL block and finds the schedule HiGHS's full
       search reaches after its root cut loop, in 0.5-0.9 s of CPU.
    3. *Full MIP* per block, smallest first, each with a share of the time proportional to its size, stopping at the
       gap that keeps the day within ``rel_gap`` given the other blocks' best J and bounds (a column
       fixed at 1 costing minus the J of the other blocks makes HiGHS's relative gap, which includes
       the objective constant, that of the day). With ``rel_gap > 0`` a block is skipped, and the
       pass ends, once the day's J (best per block) is within ``rel_gap`` of the sum of the blocks'
       bounds (each block's smallest: LP or MIP); on these days the LP bound of the 3-eVTOL block is
       within 1-3 passengers of its optimum, so once the single-tail blocks are proven the day meets 1 %
       without HiGHS's branch and bound on it.

    ``on_block(ks, picked, j, bound)``: called with each block's schedule (the block's assignment
    variables ``ks``, those set to 1 ``picked``, re-checked against the rows, their J and the block's
    bound; after pass 2 and after pass 3). ``settled``: departures whose passengers are already at
    their LP bound in the LNS's schedule; a block made only of them goes first in pass 3 and gets
    ``SETTLED_SHARE`` of its time share. ``bound_box``: a list whose item 0 is kept at the day's proven
    bound on J so far (the sum of every block's smallest bound), so that the LNS, and the caller of a
    run still going at the time limit, can use it. ``best_box``: a list whose item 0 another engine
    keeps at the J of its schedule of the whole day (the LNS's), counted in the ``rel_gap`` test of
    pass 3 along with this run's own schedules. ``stop``: a ``threading.Event``; when set, no further
    block is started."""

    t0, c0 = time.perf_counter(), time.thread_time()
    nd, nx = len(M.deps), len(M.xs)
    rows, cols, vals, ub = [], [], [], []

    def row(entries: list[tuple[int, float]], rhs: float) -> None:
        r = len(ub)
        for c, v in entries:
            rows.append(r)
            cols.append(c)
            vals.append(v)
        ub.append(rhs)

    by_booking: dict[int, list[int]] = defaultdict(list)
    for k, (bi, d) in enumerate(M.xs):
        by_booking[bi].append(k)
        row([(nd + k, 1.0), (d, -1.0)], 0.0)  # x <= y
    for ks in by_booking.values():
        if len(ks) > 1:
            row([(nd + k, 1.0) for k in ks], 1.0)
    for d, ks in M.seat_rows:
        row([(nd + k, float(P.bookings[M.xs[k][0]].party_size)) for k in ks]
            + [(d, -float(P.aircraft[M.deps[d][0]].seats))], 0.0)
    for d, ks, g in M.pack_rows:
        row([(nd + k, float(gk)) for k, gk in zip(ks, g, strict=True)] + [(d, -2.0)], 0.0)
    for cap, cover in M.cliques:
        row([(d, 1.0) for d in cover], float(cap))
    for cap, ds in M.slots:
        row([(d, 1.0) for d in ds], float(cap))
    for d, prev in M.order:
        row([(d, 1.0), (prev, -1.0)], 0.0)
    c = np.concatenate([np.zeros(nd), -np.asarray(M.coef, dtype=float)])
    A = coo_matrix((vals, (rows, cols)), shape=(len(ub), nd + nx)).tocsr()
    ub = np.asarray(ub)
    comps = _components(A, nd + nx)
    quick = [settled is not None and all(int(col) in settled for col in cs if col < nd) for cs in comps]
    order = sorted(range(len(comps)), key=lambda i: not quick[i])  # stable: smallest first within each
    comps, quick = [comps[i] for i in order], [quick[i] for i in order]
    subs = []
    for cs in comps:
        rs = np.unique(A[:, cs].nonzero()[0])
        subs.append((A[rs][:, cs], ub[rs]))
    n = len(comps)
    bound = [int(-c[cs][c[cs] < 0].sum()) for cs in comps]  # every assignment variable at 1
    best_j = [0] * n
    best_pick: list[list[int]] = [[] for _ in range(n)]
    run = BackendRun("highs", chosen=[], bound=sum(bound))

    def publish() -> None:
        run.bound = sum(bound)
        if bound_box is not None:
            bound_box[:] = [run.bound]  # one assignment: a reader in another thread sees the old or the new

    def take(i: int, picked: list[int], ties: bool = False) -> bool:
        """Keep ``picked`` as block i's schedule when it passes the rows and beats the one kept (or equals
        it, with ``ties``: the full MIP's schedule, the same every run once proven, wins over pass 2's)."""
        if not check_answer(P, M, picked):
            return False
        j = sum(M.coef[k] for k in picked)
        if best_pick[i] and (j < best_j[i] or (j == best_j[i] and not ties)):
            return False
        best_j[i], best_pick[i] = j, picked
        return True

    def post(i: int) -> None:
        if on_block is not None:
            ks = [int(col) - nd for col in comps[i] if col >= nd]
            on_block(ks, best_pick[i], best_j[i], bound[i])

    def left_s() -> float:
        return limit_s - (time.perf_counter() - t0)

    def stopped() -> bool:
        return stop is not None and stop.is_set()

    publish()
    # pass 1: LP bounds
    lp_x: list[np.ndarray | None] = [None] * n
    for i, cs in enumerate(comps):
        if left_s() <= 0.05 or stopped():
            break
        sub, rhs = subs[i]
        res = linprog(c[cs], A_ub=sub, b_ub=rhs, bounds=(0, 1), method="highs",
                      options={"time_limit": max(0.05, LP_SHARE * left_s())})
        if res.status == 0:
            bound[i] = min(bound[i], _lp_bound(-c[cs], sub, rhs, res.ineqlin.marginals))
            lp_x[i] = res.x
            run.lp_bounds += 1
    publish()
    # pass 2: the MIP restricted to the LP's support
    support_until = time.perf_counter() + SUPPORT_SHARE * max(0.0, left_s())
    for i in sorted(range(n), key=lambda i: -len(comps[i])):  # the largest block first: it has the most to gain
        cs = comps[i]
        if lp_x[i] is None or stopped():
            continue
        budget = support_until - time.perf_counter()
        if budget <= 0.05:
            break
        x = lp_x[i]
        keep = {int(col) for col, v in zip(cs, x, strict=True) if col < nd and v > SUPPORT_MIN_Y}
        hi = np.asarray([1.0 if (col in keep if col < nd else M.xs[col - nd][1] in keep) else 0.0 for col in cs])
        sub, rhs = subs[i]
        res = milp(c[cs], constraints=LinearConstraint(sub, -np.inf, rhs), bounds=Bounds(0.0, hi),
                   integrality=np.ones(len(cs)), options={"time_limit": budget, "mip_rel_gap": SUPPORT_GAP,
                                                          "disp": False})
        if res.x is not None:
            picked = [int(col) - nd for col, v in zip(cs, res.x, strict=True) if col >= nd and v > 0.5]
            if take(i, picked):
                run.support_blocks += 1
                post(i)
    publish()
    # pass 3: the full MIP per block
    left_cols = nd + nx
    for i, cs in enumerate(comps):
        day_j = sum(best_j)
        other_j = best_box[0] if best_box else 0  # the other engine's whole schedule, when better
        if rel_gap > 0 and sum(bound) - max(day_j, other_j) <= rel_gap * max(day_j, other_j, 1):
            break  # the day is within the asked gap: the blocks left keep their LP bound
        if stopped():
            break
        left = max(0.05, left_s())
        last = i == n - 1
        budget = left if last else max(0.05, left * len(cs) / left_cols * (SETTLED_SHARE if quick[i] else 1.0))
        left_cols -= len(cs)
        if bound[i] <= best_j[i]:
            continue  # proven by its LP bound already
        sub, rhs = subs[i]
        cc, lo, hi, off = c[cs], 0.0, 1.0, 0
        gap = 0.0
        if rel_gap > 0:
            # the day's gap is sum(bound - J) / sum(J): a column fixed at 1 costing -(J of the other
            # blocks) makes HiGHS's relative gap that of the day; the others' gap comes off the tolerance
            off = day_j - best_j[i]
            others = sum(bound) - bound[i] - off
            gap = max(0.0, rel_gap - others / max(day_j, 1))
            if off > 0:
                sub = hstack([sub, np.zeros((sub.shape[0], 1))]).tocsr()
                cc, lo, hi = np.append(cc, -float(off)), np.append(np.zeros(len(cs)), 1.0), 1.0
        res = milp(cc, constraints=LinearConstraint(sub, -np.inf, rhs), bounds=Bounds(lo, hi),
                   integrality=np.ones(len(cc)), options={"time_limit": budget, "mip_rel_gap": gap, "disp": False})
        run.mip_blocks += 1
        if res.x is not None:
            take(i, [int(col) - nd for col, v in zip(cs, res.x[:len(cs)], strict=True) if col >= nd and v > 0.5],
                 ties=True)
        dual = getattr(res, "mip_dual_bound", None)
        if res.x is not None and dual is not None and np.isfinite(dual):
            b = -float(dual) - off
            bound[i] = min(bound[i], max(best_j[i], math.floor(b + 1e-9 * abs(b) + 1e-6)))  # tolerance as in siting
        run.infeasible = run.infeasible or highs_status(res) == INFEASIBLE
        publish()
        post(i)
    for i in range(n):
        run.chosen += best_pick[i]
    publish()
    run.wall_s = time.perf_counter() - t0
    run.cpu_s = time.thread_time() - c0
    return run


def _components(A, n: int) -> list[np.ndarray]:
    """Columns of A split into independent blocks (no row links two blocks), smallest block first.

    The blocks share no constraint, so the MILP separates: its optimum (and any bound) is the sum over
    the blocks, each solved alone. Ties in size keep the order of the first column (deterministic)."""
    G = (A.T @ A).tocsr() if A.shape[0] else A.T @ A
    _k, label = connected_components(G, directed=False)
    groups: dict[int, list[int]] = defaultdict(list)
    for col in range(n):
        groups[int(label[col])].append(col)
    return [np.asarray(g) for g in sorted(groups.values(), key=lambda g: (len(g), g[0]))]


def _half_third_weights(cap: int) -> list[int] | None:
    """Weights g(n) of the packing row ``sum_b g(n_b) x_bd <= 2 y_d`` for ``cap`` seats (index n = party).

    g(n) = 2 for a party of more than half the seats, 1 for more than a third (or exactly half when a
    third-rule would be invalid), 0 else; checked by a knapsack DP over every multiset of party sizes
    (largest sum of g with seats <= cap must be <= 2). None when the row adds nothing (cap < 2)."""
    for third in (True, False):
        g = [0] * (cap + 1)
        for n in range(1, cap + 1):
            g[n] = 2 if 2 * n > cap else (1 if (3 * n > cap if third else 2 * n == cap) else 0)
        best = [0] * (cap + 1)
        for c in range(1, cap + 1):
            best[c] = max([best[c - 1]] + [best[c - n] + g[n] for n in range(1, c + 1)])
        if best[cap] <= 2:
            return g if any(g[1:cap]) else None
    return None  # unreachable: the half rule is always valid


def check_answer(P: ScheduleProblem, M: ScheduleModel, chosen: list[int]) -> bool:
    """Re-check a back end's 0-1 answer against the model rows (HiGHS works to a tolerance)."""
    seen, load, used = set(), defaultdict(int), set()
    for k in chosen:
        bi, d = M.xs[k]
        if bi in seen:
            return False
        seen.add(bi)
        load[d] += P.bookings[bi].party_size
        used.add(d)
    if any(n > P.aircraft[M.deps[d][0]].seats for d, n in load.items()):
        return False
    if any(sum(d in used for d in cover) > cap for cap, cover in M.cliques):
        return False
    return all(sum(d in used for d in ds) <= cap for cap, ds in M.slots)


def _lns_run(P, M: ScheduleModel, start: dict[int, int], limit_s: float, seed: int, work: float | None,
             stop=None, inbox=None, bound_box=None, rel_gap: float = 0.0, pax_bounds=None, best_box=None) -> BackendRun:
    """The rolling-window LNS (:mod:`models.flight_lns`) from ``start``, as a back-end answer (no bound)."""
    t0, c0 = time.perf_counter(), time.thread_time()
    res = flight_lns.lns(P, M, start, t0 + limit_s, seed, work_limit=work, stop=stop, inbox=inbox,
                         bound_box=bound_box, rel_gap=rel_gap, group_bounds=pax_bounds, best_box=best_box)
    k_of = {bd: k for k, bd in enumerate(M.xs)}
    run = BackendRun("lns", chosen=sorted(k_of[bd] for bd in res.assign.items()), wall_s=time.perf_counter() - t0)
    run.stopped_by_work = res.stopped_by_work
    run.cpu_s = time.thread_time() - c0
    run.lns = res
    return run


def solve_model(P: ScheduleProblem, M: ScheduleModel, limit_s: float, params: FlightParams, seed: int,
                greedy: tuple[dict[int, int], set[int]] | None) -> tuple[list[BackendRun], dict]:
    """Run the back end(s) of ``params.backend`` on the model for at most ``limit_s`` seconds.

    ``greedy``: (booking -> departure, opened departures): the LNS's start and CP-SAT's hint.

    * ``auto``: HiGHS (one thread: the bound, block by block) alongside the LNS (:mod:`models.flight_lns`,
      CP-SAT on windows, one thread) from the greedy schedule; each block HiGHS finishes replaces the
      LNS's schedule on that block when better (blocks share no row), and a block it proves optimal is
      left alone by the LNS. HiGHS is skipped when building its model would take the whole time; then
      as ``cpsat``.
    * ``cpsat``: the LNS for ``LNS_SHARE`` of the time, then CP-SAT on the whole model (``workers``)
      hinted with the LNS's schedule, for the bound.
    * ``highs``: HiGHS alone.
    * ``deterministic_time`` (cpsat or auto): as ``cpsat`` but stopped by work: the LNS gets
      ``LNS_SHARE`` of the deterministic time, CP-SAT the rest (wall-clock limit as a safety stop).

    Returns every back end's answer, each re-checked with :func:`check_answer` (a rejected answer has
    ``chosen = None``), and figures for the result's ``model_stats`` (wall seconds, bounds, objectives,
    skipped back ends, LNS windows).
    """
    stats: dict = {}
    runs: list[BackendRun] = []
    rel_gap = float(params.rel_gap)
    det = params.deterministic_time
    t0 = time.perf_counter()
    start = dict(greedy[0]) if greedy is not None else {}
    cores = os.cpu_count() or 2
    highs_ok = len(M.xs) * CPSAT_BUILD_S_PER_VAR <= limit_s  # the MILP's Python build costs about this per variable
    if params.backend == "highs":
        runs.append(_solve_highs(P, M, limit_s, rel_gap))
    elif params.backend == "cpsat" or det is not None or not highs_ok:
        if det is not None and params.backend == "auto":
            stats["highs_skipped"] = "deterministic_time: HiGHS's time limit is wall-clock"
        elif not highs_ok and params.backend == "auto":
            stats["highs_skipped"] = f"building {len(M.xs)} variables would take longer than the {limit_s:.2f} s left"
        lns_run = _lns_run(P, M, start, LNS_SHARE * limit_s, seed, None if det is None else LNS_SHARE * det)
        runs.append(lns_run)
        hint = ({M.xs[k][0]: M.xs[k][1] for k in lns_run.chosen}, {M.xs[k][1] for k in lns_run.chosen})
        left = limit_s - (time.perf_counter() - t0)
        workers = params.workers if params.backend == "cpsat" else min(params.workers, max(1, cores - 1))
        if len(M.xs) * CPSAT_BUILD_S_PER_VAR <= 0.5 * left:
            runs.append(_solve_cpsat(P, M, max(0.05, left), workers, seed, rel_gap, hint, params.log,
                                     det_time=None if det is None else (1 - LNS_SHARE) * det))
        else:
            stats["cpsat_skipped"] = f"building {len(M.xs)} variables would take most of the {left:.2f} s left"
    else:
        inbox: list = []
        bound_box: list = []  # item 0: HiGHS's proven bound on the day's J so far
        best_box: list = []  # item 0: J of the LNS's schedule
        stop = threading.Event()
        ix = flight_lns.index(P, M)
        pax_bounds = flight_lns.group_pax_bounds(P, M, ix, limit_s=0.1 * limit_s)
        settled = flight_lns.settled_departures(P, M, ix, start, pax_bounds)
        stats["lns_settled_departures"] = len(settled)

        highs_runs: list[BackendRun] = []

        def highs_thread() -> None:
            r = _solve_highs(P, M, limit_s - (time.perf_counter() - t0), rel_gap,
                             on_block=lambda *a: inbox.append(a), settled=settled, bound_box=bound_box, best_box=best_box, stop=stop)
            highs_runs.append(r)

        th = threading.Thread(target=highs_thread, daemon=True)
        th.start()
        lns_run = _lns_run(P, M, start, limit_s - (time.perf_counter() - t0), seed, None, None, inbox, bound_box,
                           rel_gap, pax_bounds, best_box)
        if lns_run.lns.ended_by == "bound":
            stop.set()  # the day is within the asked gap: HiGHS starts no further block
        # HiGHS gets what is left of the limit, never more: its Python model build cannot be
        # interrupted, so a HiGHS still busy then is left to finish on its own and its answer dropped
        th.join(timeout=max(0.0, limit_s - (time.perf_counter() - t0)))
        if th.is_alive():
            stats["highs_unfinished"] = ("HiGHS had not finished at the time limit; the LNS's schedule stands, "
                                         "with the bound HiGHS had proven by then")
            stop.set()
            _LEFT_RUNNING[:] = [(t, e) for t, e in _LEFT_RUNNING if t.is_alive()] + [(th, stop)]
            if bound_box:  # proven block by block (LP or MIP bounds): valid whatever HiGHS does next
                runs.append(BackendRun("highs", chosen=None, bound=int(bound_box[0])))
        else:
            runs.extend(highs_runs)
        # the blocks HiGHS finished after the LNS ended
        assign = {M.xs[k][0]: M.xs[k][1] for k in lns_run.chosen}
        finished = inbox[:]  # a snapshot: a HiGHS left running may still append
        for block in finished:
            flight_lns.merge_block(M, assign, *block)
        k_of = {bd: k for k, bd in enumerate(M.xs)}
        lns_run.chosen = sorted(k_of[bd] for bd in assign.items())
        runs.insert(0, lns_run)
    if det is not None:
        stats["deterministic_time"] = det
        stats["stopped_by_work"] = bool(runs and all(r.stopped_by_work for r in runs))
    for r in runs:
        stats[f"{r.backend}_wall_s"] = round(r.wall_s, 3)
        if r.cpu_s:
            stats[f"{r.backend}_cpu_s"] = round(r.cpu_s, 3)
        if r.backend == "highs" and r.lp_bounds:
            stats["highs_blocks"] = {"lp_bound": r.lp_bounds, "lp_support_schedule": r.support_blocks,
                                     "full_mip": r.mip_blocks}
        if r.backend != "lns":
            stats[f"{r.backend}_bound"] = r.bound
        if r.chosen is not None and not check_answer(P, M, r.chosen):
            stats[f"{r.backend}_rejected"] = True
            r.chosen = None
        if r.chosen is not None:
            stats[f"{r.backend}_objective"] = sum(M.coef[k] for k in r.chosen)
        if getattr(r, "lns", None) is not None:
            stats["lns_windows"] = r.lns.windows
            stats["lns_improved"] = r.lns.improved
            stats["lns_work"] = round(r.lns.work, 3)
            stats["lns_blocks_from_highs"] = r.lns.blocks_taken
    return runs, stats

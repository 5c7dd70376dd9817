"""Daily schedule of sightseeing flights: a time-indexed 0-1 model, CP-SAT and HiGHS (issue 8, part B).

Bookings (party size, product, take-off window, desired take-off) are assigned to departures of
aircraft flying the product menu, with seat limits, vertiport take-off capacity per slot and the
ground time (turnaround plus recharge/refuel) each aircraft needs after a flight. The model
maximises passengers flown, then minimises the deviation from the desired take-off times.

Data (:class:`FlightScheduleProblem`, frozen, validated on construction; bad values raise
``InvalidInput(field, value, message)``): products p (vertiport, aircraft type, block minutes
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
allows fractionally. On the benchmark day they lower HiGHS's root bound of the hardest block by
about 0.8 % of its J. Vertiport slot rows that cannot bind are left out: an aircraft takes off at
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
every tail. Measured on the 500-booking Lhasa days (3 identical eVTOLs) the pooled model is not
faster for HiGHS: its LP bound is no better (the interval rows have the integer decomposition
property, so splitting a pooled LP point as ``y/k_G`` per tail is LP-feasible), its capacity rows give HiGHS's clique table and
cuts less than the per-tail at-most-one rows, and HiGHS detects the tail symmetry itself; with the
blocks and packing rows below the per-tail model reached a proven 1 % in 8-10 s on seeds 0-2 and
0.64 % on the 10-min grid, the pooled one in 9-17 s and 0.94 %. The per-tail model is the default.

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
(``scipy.optimize.milp``, one thread). HiGHS gets the model split into independent blocks (connected
components of the constraint matrix: e.g. one per vertiport and aircraft type when no slot row
binds), smallest first, each with a share of the time proportional to its size (the last gets all
that is left); the day's J and bound are the sums over the blocks (exact: no row links two blocks).
With ``rel_gap > 0`` each block stops at that gap, and the last one at the day's gap: a column fixed
at 1 costing minus the J of the blocks already solved makes HiGHS's relative gap (which includes the
objective constant) ``(bound - J) / J`` of the whole day, less the others' proven gap. ``backend='auto'`` (default) runs both at once with the whole
time limit and keeps the better schedule and the smaller proven bound (both bound the same J*); CP-SAT
is stopped as soon as HiGHS proves optimality or, with ``rel_gap > 0``, the asked gap on the day (it
used to run to the limit then, so a 1 % stop never ended early), and gets at most ``cpu_count - 1``
workers. HiGHS cannot be stopped from outside through scipy, so a CP-SAT run that stops first waits
for HiGHS; CP-SAT's own ``relative_gap_limit`` uses its own (far weaker) bound. Why both:
on the benchmark days the LP relaxation of this model is far tighter than the bound CP-SAT proves
within seconds (Lhasa 100-booking example day, 5-min grid: CP-SAT's bound 209 passengers after 20 s,
the LP's 181, HiGHS 174 found and <= 177 proven in 20 s), and HiGHS's LP-based search closes the gap where CP-SAT's portfolio on 1-2 threads does not;
CP-SAT remains the fallback when HiGHS gives nothing in time and the back end asked for by name.
If neither answers in time, the greedy schedule is returned (``stats['source'] == 'greedy'``,
status ``'feasible'`` without a bound). HiGHS answers are re-checked row by row before use.

Status and gaps
---------------
Status labels as in :mod:`models.siting` / :mod:`models.charging`: ``'optimal'``, ``'feasible'``
(time limit with an incumbent), ``'time_limit_no_incumbent'``, ``'infeasible'`` (cannot happen:
the empty schedule is feasible). ``bound`` is the smallest proven upper bound on J (CP-SAT's
``best_objective_bound``; HiGHS's dual bound rounded down after a 1e-9 relative + 1e-6 tolerance, as
:mod:`models.siting` does; J is an integer). ``'optimal'`` is claimed only when ``bound <= J``.
``gap = (bound - J) / max(|J|, 1)`` (0 when optimal). Since ``W P_max - D_max <= J* <= bound``, the
passengers are bounded by ``passengers_bound = floor((bound + W - 1) / W)`` and ``passengers_gap =
(passengers_bound - P) / max(passengers_bound, 1)``.

Unassigned bookings carry a reason: ``'no_product'`` (no aircraft of the product's type is based at
its vertiport), ``'party_too_large'`` (party larger than every such aircraft's seats),
``'window'`` (no candidate take-off of the product inside the window, aircraft availability and
vertiport hours), ``'capacity'`` (could fly alone, but seats / aircraft time / take-off slots went
to other bookings), ``'no_solution'`` (time limit before any schedule was found).

Determinism: CP-SAT's ``random_seed`` is fixed (``seed``); HiGHS is deterministic for a given
model. A solve that proves optimality returns the same J every time (``backend='cpsat'`` with
``workers == 1``, or HiGHS, return the same schedule too; with ``'auto'`` a tie in J is broken in
favour of HiGHS; the HiGHS blocks come in a fixed order and the tails of a pool are assigned by a
fixed rule). A solve stopped by the wall-clock limit or by ``rel_gap`` depends on how far each engine
got (HiGHS's block time shares are wall-clock too), so it may return a different - equally verified -
schedule and bound on a busier machine.
:func:`optimizer.flight_schedule_verify.verify_flight_schedule` re-checks any result from the data.
"""

from __future__ import annotations

import bisect
import math
import os
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from optimizer.domain import InvalidInput
from optimizer.flights_domain import Aircraft, Booking, FlightProduct, check_count, check_minute

__all__ = ["BACKENDS", "REASONS", "Departure", "FlightSchedule", "FlightScheduleProblem", "Unassigned", "Vertiport",
           "schedule_to_dict", "solve_flight_schedule"]

REASONS = ("no_product", "party_too_large", "window", "capacity", "no_solution")
_REASON_TEXT = {
    "no_product": "no aircraft of the product's type is based at its vertiport",
    "party_too_large": "party larger than the seats of every aircraft flying this product",
    "window": "no take-off of this product fits the window (aircraft availability, vertiport hours, grid)",
    "capacity": "feasible alone, but seats, aircraft time or take-off slots went to other bookings",
    "no_solution": "the time limit ran out before any schedule was found",
}


@dataclass(frozen=True, slots=True)
class Vertiport:
    """Take-off capacity of one vertiport.

    Attributes
    ----------
    id : str
        Vertiport id (the ``vertiport_id`` of products and aircraft).
    takeoffs_per_slot : int
        Take-offs allowed per slot of ``FlightScheduleProblem.slot_min`` minutes, >= 1.
    hours : tuple[int, int]
        Opening and closing minute; take-offs and landings must fall inside.
    """

    id: str
    takeoffs_per_slot: int = 2
    hours: tuple[int, int] = (0, 24 * 60)

    def __post_init__(self) -> None:
        check_count(f"vertiports[{self.id}].takeoffs_per_slot", self.takeoffs_per_slot, 1, 1000)
        lo = check_minute(f"vertiports[{self.id}].hours.open", self.hours[0])
        hi = check_minute(f"vertiports[{self.id}].hours.close", self.hours[1])
        if hi <= lo:
            raise InvalidInput(f"vertiports[{self.id}].hours", self.hours, "closes before it opens")


@dataclass(frozen=True)
class FlightScheduleProblem:
    """One flying day: the menu, the fleet, the bookings and the vertiport capacities.

    Attributes
    ----------
    products, aircraft, bookings : tuple
        :class:`FlightProduct`, :class:`Aircraft`, :class:`Booking` (lists are turned into tuples).
    vertiports : tuple[Vertiport, ...]
        Capacities; a vertiport not listed gets ``default_takeoffs_per_slot`` and opens all day.
    slot_min : int
        Length of a take-off capacity slot, minutes (slot s = ``[s*slot_min, (s+1)*slot_min)``).
    start_step_min : int
        Grid of candidate take-off times, minutes (take-offs at multiples of it).
    default_takeoffs_per_slot : int
        Capacity of vertiports not listed in ``vertiports``.

    Raises ``InvalidInput`` naming the field: duplicate ids, a booking of an unknown product, an
    aircraft whose type and base no product uses, a vertiport listed twice, bad grid values.
    """

    products: tuple[FlightProduct, ...]
    aircraft: tuple[Aircraft, ...]
    bookings: tuple[Booking, ...]
    vertiports: tuple[Vertiport, ...] = ()
    slot_min: int = 10
    start_step_min: int = 10
    default_takeoffs_per_slot: int = 2

    def __post_init__(self) -> None:
        for name, cls in (("products", FlightProduct), ("aircraft", Aircraft), ("bookings", Booking),
                          ("vertiports", Vertiport)):
            items = tuple(getattr(self, name))
            object.__setattr__(self, name, items)
            seen: set[str] = set()
            for i, it in enumerate(items):
                if not isinstance(it, cls):
                    raise InvalidInput(f"{name}[{i}]", type(it).__name__, f"must be a {cls.__name__}")
                if it.id in seen:
                    raise InvalidInput(f"{name}[{i}].id", it.id, f"duplicate {name[:-1] if name != 'aircraft' else name} id")
                seen.add(it.id)
        check_count("slot_min", self.slot_min, 1, 24 * 60)
        check_count("start_step_min", self.start_step_min, 1, 24 * 60)
        check_count("default_takeoffs_per_slot", self.default_takeoffs_per_slot, 1, 1000)
        pids = {p.id for p in self.products}
        for b in self.bookings:
            if b.product_id not in pids:
                known = sorted(pids)
                shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
                raise InvalidInput(f"bookings[{b.id}].product_id", b.product_id,
                                   f"not a product of this schedule's menu ({shown})")
        flown = {(p.vertiport_id, p.aircraft_type_id) for p in self.products}
        types = {p.aircraft_type_id for p in self.products}
        for a in self.aircraft:
            if a.type_id not in types:
                raise InvalidInput(f"aircraft[{a.id}].type_id", a.type_id, "no product is designed for this type")
            if (a.vertiport_id, a.type_id) not in flown:
                raise InvalidInput(f"aircraft[{a.id}].vertiport_id", a.vertiport_id,
                                   f"no product of type {a.type_id!r} departs from this vertiport")

    def product(self, product_id: str) -> FlightProduct:
        """The product with this id (``KeyError`` if absent)."""
        return _index(self.products)[product_id]

    def vertiport(self, vertiport_id: str) -> Vertiport:
        """The listed vertiport, or a default one (``default_takeoffs_per_slot``, open all day)."""
        for v in self.vertiports:
            if v.id == vertiport_id:
                return v
        return Vertiport(vertiport_id, self.default_takeoffs_per_slot)

    @property
    def weight_per_passenger(self) -> int:
        """W of the module docstring: 1 + the largest possible total deviation, minutes."""
        return 1 + sum(max(b.desired_min - b.window[0], b.window[1] - b.desired_min) for b in self.bookings)

    def candidate_starts(self, a: Aircraft, p: FlightProduct) -> list[int]:
        """Grid take-off minutes at which ``a`` can fly ``p`` (availability and vertiport hours)."""
        if p.vertiport_id != a.vertiport_id or p.aircraft_type_id != a.type_id:
            return []
        v = self.vertiport(p.vertiport_id)
        lo = max(a.available[0], v.hours[0])
        hi = min(a.available[1], v.hours[1]) - p.block_min  # latest take-off: landing inside both
        step = self.start_step_min
        first = -(-lo // step) * step
        return list(range(first, hi + 1, step))


def _index(items: Iterable) -> dict:
    return {it.id: it for it in items}


@dataclass(frozen=True, slots=True)
class Departure:
    """One flown departure: aircraft, product, take-off/landing/ready minutes, passengers, bookings."""

    aircraft_id: str
    product_id: str
    vertiport_id: str
    start_min: int
    land_min: int
    ready_min: int  # landing + ground time: the aircraft's next earliest take-off
    seats: int
    passengers: int
    booking_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Unassigned:
    """A booking left out and why (``reason`` in :data:`REASONS`; ``detail`` in words)."""

    booking_id: str
    reason: str
    detail: str


@dataclass(frozen=True)
class FlightSchedule:
    """Result of :func:`solve_flight_schedule` (see the module docstring for the gap definitions).

    ``departures`` sorted by (aircraft, take-off); ``unassigned`` one row per booking not flown;
    ``passengers`` / ``deviation_min`` (sum over flown bookings of |take-off - desired|, minutes);
    ``objective`` = ``weight_per_passenger * passengers - deviation_min``; ``bound`` CP-SAT's bound
    on it; ``wall_s`` seconds including model building.
    """

    status: str
    departures: tuple[Departure, ...]
    unassigned: tuple[Unassigned, ...]
    passengers: int
    passengers_requested: int
    deviation_min: int
    weight_per_passenger: int
    objective: int | None
    bound: int | None
    gap: float | None
    passengers_bound: int | None
    passengers_gap: float | None
    wall_s: float
    stats: dict = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")

    @property
    def bookings_served(self) -> int:
        return sum(len(d.booking_ids) for d in self.departures)

    def assignment(self) -> dict[str, Departure]:
        """Booking id -> the departure it flies on."""
        return {b: d for d in self.departures for b in d.booking_ids}


def _reasons(problem: FlightScheduleProblem) -> dict[str, str]:
    """Bookings that no schedule can serve, with the reason (see the module docstring)."""
    out: dict[str, str] = {}
    prods = _index(problem.products)
    for b in problem.bookings:
        p = prods[b.product_id]
        fleet = [a for a in problem.aircraft if a.vertiport_id == p.vertiport_id and a.type_id == p.aircraft_type_id]
        if not fleet:
            out[b.id] = "no_product"
            continue
        fits = [a for a in fleet if a.seats >= b.party_size]
        if not fits:
            out[b.id] = "party_too_large"
            continue
        if not any(b.window[0] <= t <= b.window[1] for a in fits for t in problem.candidate_starts(a, p)):
            out[b.id] = "window"
    return out


def _pool_fits(busy: list[tuple[int, int]], t: int, end: int, cap: int) -> bool:
    """Whether the busy interval ``[t, end)`` can join ``busy`` with at most ``cap`` covering any time.

    The most intervals overlap at some interval's start, so checking the starts inside ``[t, end)``
    and ``t`` itself is enough."""
    for q in [t] + [s for s, _e in busy if t < s < end]:
        if 1 + sum(s <= q < e for s, e in busy) > cap:
            return False
    return True


def _greedy(problem, deps, elig, party, desired, ground, pool_of=None, pool_size=None
            ) -> tuple[dict[int, int], set[int]]:
    """Greedy schedule used as a CP-SAT hint: booking index -> departure index, and open departures.

    ``pool_of[d]`` / ``pool_size[g]``: the aircraft pool of a departure and the pool's size (default:
    ``deps[d][0]``, one aircraft per pool). Copies of one (pool, product, take-off) come in index
    order, so the first closed copy is the one opened (the copy order rule of the model holds)."""
    P = problem
    if pool_of is None:
        pool_of = [a for a, _p, _t in deps]
        pool_size = defaultdict(lambda: 1)
    load: dict[int, int] = {}
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)  # pool -> intervals
    slot_use: dict[tuple[str, int], int] = defaultdict(int)
    assign: dict[int, int] = {}
    order = sorted(range(len(P.bookings)), key=lambda i: (desired[i], -party[i], P.bookings[i].id))
    for i in order:
        cands = sorted(elig[i], key=lambda d: (abs(deps[d][2] - desired[i]), deps[d][2], d))
        best = None
        for d in cands:  # an open departure with room first
            if d in load and load[d] + party[i] <= P.aircraft[deps[d][0]].seats:
                best = d
                break
        if best is None:
            for d in cands:
                if d in load:
                    continue
                _a, p, t = deps[d]
                end = t + P.products[p].block_min + ground[d]
                v = P.products[p].vertiport_id
                if slot_use[(v, t // P.slot_min)] >= P.vertiport(v).takeoffs_per_slot:
                    continue
                g = pool_of[d]
                if not _pool_fits(busy[g], t, end, pool_size[g]):
                    continue
                busy[g].append((t, end))
                slot_use[(v, t // P.slot_min)] += 1
                load[d] = 0
                best = d
                break
        if best is not None:
            load[best] += party[i]
            assign[i] = best
    return assign, set(load)


BACKENDS = ("auto", "cpsat", "highs")


@dataclass
class _Model:
    """Index sets of the time-indexed model shared by the back ends (internal)."""

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


def _pool_key(a: Aircraft) -> tuple:
    """Aircraft with equal keys are interchangeable in every rule of the model."""
    return (a.type_id, a.vertiport_id, a.seats, tuple(a.available), a.turnaround_min, float(a.recharge_per_block_min))


def _build(P: FlightScheduleProblem, reasons: dict[str, str], pool_identical: bool = True) -> _Model:
    pidx = {p.id: k for k, p in enumerate(P.products)}
    W = P.weight_per_passenger
    pools: list[list[int]] = []
    if pool_identical:
        by_key: dict[tuple, int] = {}
        for ai, a in enumerate(P.aircraft):
            g = by_key.setdefault(_pool_key(a), len(pools))
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
        for k in sorted({deps[d][2] for d in ds}):  # departures whose busy interval covers grid time k
            cover = [d for d in ds if deps[d][2] <= k < deps[d][2] + P.products[deps[d][1]].block_min + ground[d]]
            if len(cover) > cap:
                cliques.append((cap, cover))
    slots = [(P.vertiport(v).takeoffs_per_slot, ds) for (v, _s), ds in sorted(per_slot.items())
             if _slot_can_bind(P, ds, deps, ground, pool_of, pools, P.vertiport(v).takeoffs_per_slot)]
    return _Model(deps, ground, elig, xs, coef, seat_rows, cliques, slots, pools, pool_of, order, pack_rows)


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


def _assign_tails(P: FlightScheduleProblem, M: _Model, used: Iterable[int]) -> dict[int, int]:
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
            if a is None:  # cannot happen after _feasible
                raise RuntimeError("pool capacity exceeded while assigning tails")
            free[a] = t + P.products[p].block_min + M.ground[d]
            tail[d] = a
    return tail


@dataclass
class _Run:
    """One back end's answer (internal): chosen assignment variables, J bound, whether proven optimal."""

    backend: str
    chosen: list[int] | None = None
    bound: int | None = None
    optimal: bool = False
    infeasible: bool = False
    wall_s: float = 0.0


CPSAT_BUILD_S_PER_VAR = 3e-5
"""Measured cost of building a back end's model in Python (variables, rows, hints): ~30 us per x variable
(1,000 bookings on a 1-min grid: 208,669 variables, 6.7 s for CP-SAT). ``auto`` skips CP-SAT when building
it would take more than half of the time left, and HiGHS when it would take all of it; with neither, the
greedy schedule is the answer (``stats['source'] == 'greedy'``)."""


def _solve_cpsat(P, M: _Model, limit_s: float, workers: int, seed: int, rel_gap: float, greedy: tuple | None,
                 log: bool, solver_box: list | None = None, stop=None) -> _Run:
    from ortools.sat.python import cp_model

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
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, limit_s - (time.perf_counter() - t0))
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    solver.parameters.log_search_progress = bool(log)
    if rel_gap > 0:
        solver.parameters.relative_gap_limit = float(rel_gap)
    if solver_box is not None:
        solver_box.append(solver)
    if stop is not None and stop.is_set():  # the other engine finished while this model was built
        solver.parameters.max_time_in_seconds = 0.01
    st = solver.solve(m)
    run = _Run("cpsat", wall_s=time.perf_counter() - t0)
    if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        run.chosen = [k for k in range(len(x)) if solver.boolean_value(x[k])]
        run.bound = math.floor(solver.best_objective_bound + 1e-6)
        run.optimal = st == cp_model.OPTIMAL
    run.infeasible = st == cp_model.INFEASIBLE
    return run


def _solve_highs(P, M: _Model, limit_s: float, rel_gap: float) -> _Run:
    """The same model as a 0-1 MILP for HiGHS (``scipy.optimize.milp``: branch and cut, LP bounds)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix, hstack

    t0 = time.perf_counter()
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
    run = _Run("highs", chosen=[], bound=0)
    done_j = done_gap = 0  # J and proven absolute gap of the components solved so far
    left_cols = nd + nx
    for i, cs in enumerate(comps):
        left = max(0.05, limit_s - (time.perf_counter() - t0))
        last = i == len(comps) - 1
        budget = left if last else max(0.05, left * len(cs) / left_cols)
        left_cols -= len(cs)
        rs = np.unique(A[:, cs].nonzero()[0])
        sub = A[rs][:, cs]
        cc, lo, hi, off = c[cs], 0.0, 1.0, 0
        gap = max(0.0, rel_gap)
        if rel_gap > 0 and last and done_j > 0:
            # the day's gap is sum(bound - J) / sum(J): a column fixed at 1 costing -(J of the blocks
            # solved) makes HiGHS's relative gap that of the day (its gap includes the objective
            # constant); the others' proven gap is taken off the tolerance
            off = done_j
            gap = max(0.0, rel_gap - done_gap / done_j)
            sub = hstack([sub, np.zeros((sub.shape[0], 1))]).tocsr()
            cc, lo, hi = np.append(cc, -float(off)), np.append(np.zeros(len(cs)), 1.0), 1.0
        res = milp(cc, constraints=LinearConstraint(sub, -np.inf, ub[rs]), bounds=Bounds(lo, hi),
                   integrality=np.ones(len(cc)), options={"time_limit": budget, "mip_rel_gap": gap, "disp": False})
        j = 0
        if res.x is not None:
            picked = [int(col) - nd for col, v in zip(cs, res.x[:len(cs)], strict=True) if col >= nd and v > 0.5]
            run.chosen += picked
            j = sum(M.coef[k] for k in picked)
        dual = getattr(res, "mip_dual_bound", None)
        if res.x is not None and dual is not None and np.isfinite(dual):
            b = -float(dual) - off
            b = max(j, math.floor(b + 1e-9 * abs(b) + 1e-6))  # J is an integer; float tolerance as in siting
        else:  # no bound from HiGHS: every assignment variable at 1 bounds this component
            b = int(-c[cs][c[cs] < 0].sum())
        run.bound += b
        done_j += j
        done_gap += b - j
        run.infeasible = run.infeasible or res.status == 2
    run.wall_s = time.perf_counter() - t0
    return run


def _components(A, n: int) -> list[np.ndarray]:
    """Columns of A split into independent blocks (no row links two blocks), smallest block first.

    The blocks share no constraint, so the MILP separates: its optimum (and any bound) is the sum over
    the blocks, each solved alone. Ties in size keep the order of the first column (deterministic)."""
    from scipy.sparse.csgraph import connected_components
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


def _feasible(P, M: _Model, chosen: list[int]) -> bool:
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


def solve_flight_schedule(problem: FlightScheduleProblem, time_limit_s: float = 30.0, workers: int = 8,
                          seed: int = 0, rel_gap: float = 0.0, hint: bool = True, log: bool = False,
                          backend: str = "auto", pool_identical: bool = False) -> FlightSchedule:
    """Schedule the day's bookings on departures (formulation: module docstring).

    Parameters: ``time_limit_s`` wall-clock limit, seconds (> 0), model building and reading back included
    (the engines get what is left less min(0.5 s, 5 %)); ``workers``
    CP-SAT threads (>= 1); ``seed`` CP-SAT ``random_seed``; ``rel_gap`` stop once the relative gap on J
    is below it (0: prove optimality or use the whole limit); ``hint`` start CP-SAT from a greedy
    schedule; ``log`` print CP-SAT's search log; ``backend``: ``'cpsat'`` (CP-SAT alone), ``'highs'``
    (the same 0-1 model by HiGHS branch and cut, ``scipy.optimize.milp``, one thread) or ``'auto'``
    (both at once, each with the whole limit: the better schedule and the smaller of the two proven
    bounds; CP-SAT is stopped when HiGHS proves optimality or ``rel_gap``); ``pool_identical`` pool
    identical aircraft (module docstring; the same optimum, off by default as it is not faster). Returns a :class:`FlightSchedule`
    (``stats['source']`` names the back end whose schedule it is); raises ``InvalidInput`` for bad
    parameters.
    """
    t0 = time.perf_counter()
    if isinstance(time_limit_s, bool) or not isinstance(time_limit_s, (int, float)) or not (0 < time_limit_s < 1e6):
        raise InvalidInput("time_limit_s", time_limit_s, "must be a positive number of seconds")
    check_count("workers", workers, 1, 256)
    if backend not in BACKENDS:
        raise InvalidInput("backend", backend, f"must be one of {', '.join(BACKENDS)}")
    P = problem
    W = P.weight_per_passenger
    reasons = _reasons(P)
    M = _build(P, reasons, bool(pool_identical))
    stats = {"bookings": len(P.bookings), "aircraft": len(P.aircraft), "products": len(P.products),
             "departures": len(M.deps), "assignment_vars": len(M.xs), "aircraft_rows": len(M.cliques),
             "pools": [len(g) for g in M.pools], "backend": backend}
    requested = sum(b.party_size for b in P.bookings)
    if not M.xs:  # nothing can fly: the empty schedule is optimal
        un = tuple(Unassigned(b.id, reasons[b.id], _REASON_TEXT[reasons[b.id]]) for b in P.bookings)
        return FlightSchedule("optimal", (), un, 0, requested, 0, W, 0, 0, 0.0, 0, 0.0, time.perf_counter() - t0,
                              stats | {"source": "none"})
    greedy = (_greedy(P, M.deps, M.elig, [b.party_size for b in P.bookings], [b.desired_min for b in P.bookings],
                      M.ground, M.pool_of, [len(g) for g in M.pools]) if hint else None)
    left = time_limit_s - (time.perf_counter() - t0)
    left -= min(0.5, 0.05 * left)  # kept for reading the answers back and building the result
    runs: list[_Run] = []
    if backend == "cpsat":
        runs.append(_solve_cpsat(P, M, left, workers, seed, rel_gap, greedy, log))
    elif backend == "highs":
        runs.append(_solve_highs(P, M, left, rel_gap))
    else:
        import threading
        box: list = []
        out: list[_Run] = []

        def highs_thread() -> None:
            r = _solve_highs(P, M, left, rel_gap)
            out.append(r)
            if r.chosen is not None and r.bound is not None:
                j = sum(M.coef[k] for k in r.chosen)
                if r.bound <= j or (rel_gap > 0 and (r.bound - j) <= rel_gap * max(abs(j), 1)):
                    stop.set()  # HiGHS proved optimality or the asked gap: CP-SAT need not go on
                    for s in box:
                        s.stop_search()

        stop = threading.Event()
        th = threading.Thread(target=highs_thread, daemon=True)
        if len(M.xs) * CPSAT_BUILD_S_PER_VAR <= left:  # the MILP's Python build costs about as much per variable
            th.start()
        else:
            stats["highs_skipped"] = f"building {len(M.xs)} variables would take longer than the {left:.2f} s left"
        cores = os.cpu_count() or 2
        if len(M.xs) * CPSAT_BUILD_S_PER_VAR <= 0.5 * left:
            runs.append(_solve_cpsat(P, M, left, min(workers, max(1, cores - 1)), seed, rel_gap, greedy, log, box,
                                     stop))
        else:
            stats["cpsat_skipped"] = f"building {len(M.xs)} variables would take most of the {left:.2f} s left"
        if th.is_alive() or th.ident is not None:
            th.join(timeout=max(1.0, left + 10.0))
        runs += out
    for r in runs:
        stats[f"{r.backend}_wall_s"] = round(r.wall_s, 3)
        stats[f"{r.backend}_bound"] = r.bound
        if r.chosen is not None and not _feasible(P, M, r.chosen):
            stats[f"{r.backend}_rejected"] = True
            r.chosen = None
        if r.chosen is not None:
            stats[f"{r.backend}_objective"] = sum(M.coef[k] for k in r.chosen)
    bounds = [r.bound for r in runs if r.bound is not None]
    bound = min(bounds) if bounds else None
    best = max((r for r in runs if r.chosen is not None), key=lambda r: (sum(M.coef[k] for k in r.chosen),
                                                                          r.backend == "highs"), default=None)
    source = best.backend if best is not None else None
    on: dict[int, list[int]] = defaultdict(list)
    if best is not None:
        for k in best.chosen:
            bi, d = M.xs[k]
            on[d].append(bi)
    if greedy is not None:  # the greedy schedule is valid too: keep it when no back end found a better one in time
        assign = greedy[0]
        j_greedy = sum(W * P.bookings[bi].party_size - abs(M.deps[d][2] - P.bookings[bi].desired_min)
                       for bi, d in assign.items())
        j_best = None if best is None else sum(M.coef[k] for k in best.chosen)
        if assign and (j_best is None or j_greedy > j_best):
            on = defaultdict(list)
            for bi, d in assign.items():
                on[d].append(bi)
            source = "greedy"
    if source is None:
        label = "infeasible" if runs and all(r.infeasible for r in runs) else "time_limit_no_incumbent"
        un = tuple(Unassigned(b.id, reasons.get(b.id, "no_solution"), _REASON_TEXT[reasons.get(b.id, "no_solution")])
                   for b in P.bookings)
        return FlightSchedule(label, (), un, 0, requested, 0, W, None, bound, None, None, None,
                              time.perf_counter() - t0, stats | {"source": None})
    stats["source"] = source
    departures = []
    order = {a.id: k for k, a in enumerate(P.aircraft)}
    tails = _assign_tails(P, M, on)
    for d, bis in on.items():
        _a, p, t = M.deps[d]
        ac, pr = P.aircraft[tails[d]], P.products[p]
        bis.sort(key=lambda i: P.bookings[i].id)
        departures.append(Departure(ac.id, pr.id, pr.vertiport_id, t, t + pr.block_min,
                                    t + pr.block_min + M.ground[d], ac.seats,
                                    sum(P.bookings[i].party_size for i in bis), tuple(P.bookings[i].id for i in bis)))
    departures.sort(key=lambda d: (order[d.aircraft_id], d.start_min))
    flown = {b for d in departures for b in d.booking_ids}
    unassigned = tuple(Unassigned(b.id, reasons.get(b.id, "capacity"), _REASON_TEXT[reasons.get(b.id, "capacity")])
                       for b in P.bookings if b.id not in flown)
    pax = sum(d.passengers for d in departures)
    want = {b.id: b.desired_min for b in P.bookings}
    dev = sum(abs(d.start_min - want[b]) for d in departures for b in d.booking_ids)
    obj = W * pax - dev
    if bound is None:
        return FlightSchedule("feasible", tuple(departures), unassigned, pax, requested, dev, W, obj, None, None,
                              None, None, time.perf_counter() - t0, stats)
    bound = min(bound, W * requested)  # J <= W x all passengers requested, whatever a back end reported
    optimal = bound <= obj  # proven: no schedule has a larger J
    bound = max(bound, obj) if optimal else bound
    gap = 0.0 if optimal else max(0.0, (bound - obj) / max(abs(obj), 1))
    pb = pax if optimal else (bound + W - 1) // W
    pgap = 0.0 if optimal else max(0.0, (pb - pax) / max(pb, 1))
    return FlightSchedule("optimal" if optimal else "feasible", tuple(departures), unassigned, pax, requested, dev, W,
                          obj, bound, gap, pb, pgap, time.perf_counter() - t0, stats)


def schedule_to_dict(problem: FlightScheduleProblem, schedule: FlightSchedule) -> dict:
    """JSON-ready dict of a schedule: KPIs, departures (HH:MM and minutes) and unassigned bookings."""
    from optimizer.domain import fmt_clock
    seats = sum(d.seats for d in schedule.departures)
    devs = [abs(d.start_min - b.desired_min) for d in schedule.departures for b in problem.bookings
            if b.id in set(d.booking_ids)]
    return {
        "status": schedule.status,
        "kpis": {
            "bookings": len(problem.bookings),
            "bookings_served": schedule.bookings_served,
            "passengers": schedule.passengers,
            "passengers_requested": schedule.passengers_requested,
            "departures": len(schedule.departures),
            "seat_load_factor": round(schedule.passengers / seats, 4) if seats else 0.0,
            "deviation_min": schedule.deviation_min,
            "mean_abs_deviation_min": round(sum(devs) / len(devs), 2) if devs else 0.0,
            "objective": schedule.objective,
            "bound": schedule.bound,
            "gap": schedule.gap,
            "passengers_bound": schedule.passengers_bound,
            "passengers_gap": schedule.passengers_gap,
            "weight_per_passenger": schedule.weight_per_passenger,
            "wall_s": round(schedule.wall_s, 3),
        },
        "departures": [{"aircraft_id": d.aircraft_id, "product_id": d.product_id, "vertiport_id": d.vertiport_id,
                        "start_min": d.start_min, "land_min": d.land_min, "ready_min": d.ready_min,
                        "start": fmt_clock(d.start_min), "land": fmt_clock(d.land_min), "seats": d.seats,
                        "passengers": d.passengers, "booking_ids": list(d.booking_ids)} for d in schedule.departures],
        "unassigned": [{"booking_id": u.booking_id, "reason": u.reason, "detail": u.detail}
                       for u in schedule.unassigned],
        "stats": schedule.stats,
    }

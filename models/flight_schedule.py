"""Daily schedule of sightseeing flights: a time-indexed CP-SAT model (issue 8, part B).

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

Lexicographic objective and scale
---------------------------------
``W = 1 + sum_b max(r_b - e_b, l_b - r_b)`` (minutes) exceeds any total deviation, so one more
passenger always outweighs every deviation: the single weighted objective ``J = W P - D`` (P
passengers, D total deviation in minutes) is the lexicographic one. Everything is an exact integer:
minutes, persons, and J in "W-units" (``J <= W * total party size``, far below 2**63).

Status and gaps
---------------
Status labels as in :mod:`models.siting` / :mod:`models.charging`: ``'optimal'``, ``'feasible'``
(time limit with an incumbent), ``'time_limit_no_incumbent'``, ``'infeasible'`` (cannot happen:
the empty schedule is feasible). ``bound`` is CP-SAT's proven upper bound on J; ``gap = (bound -
J) / max(|J|, 1)`` (0 when optimal). Since ``W P_max - D_max <= J* <= bound``, the passengers can
be bounded by ``passengers_bound = floor((bound + W - 1) / W)`` and ``passengers_gap =
(passengers_bound - P) / max(passengers_bound, 1)``. A greedy schedule (earliest desired first,
closest take-off) is given to CP-SAT as a hint, so even a tiny time limit normally has an incumbent.

Unassigned bookings carry a reason: ``'no_product'`` (no aircraft of the product's type is based at
its vertiport), ``'party_too_large'`` (party larger than every such aircraft's seats),
``'window'`` (no candidate take-off of the product inside the window, aircraft availability and
vertiport hours), ``'capacity'`` (could fly alone, but seats / aircraft time / take-off slots went
to other bookings), ``'no_solution'`` (time limit before any schedule was found).

Determinism: ``random_seed`` is fixed (``seed``). With ``workers == 1`` the answer is reproducible
bit for bit; with several workers CP-SAT's portfolio races threads, so a solve stopped by the time
limit may return a different (equally verified) schedule of a different quality; solves that reach
``'optimal'`` return the same J, and may differ only between equal-J alternatives.
:func:`optimizer.flight_schedule_verify.verify_flight_schedule` re-checks any result from the data.
"""

from __future__ import annotations

import bisect
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from optimizer.domain import InvalidInput
from optimizer.flights_domain import Aircraft, Booking, FlightProduct, check_minute

__all__ = ["REASONS", "Departure", "FlightSchedule", "FlightScheduleProblem", "Unassigned", "Vertiport",
           "schedule_to_dict", "solve_flight_schedule"]

REASONS = ("no_product", "party_too_large", "window", "capacity", "no_solution")
_REASON_TEXT = {
    "no_product": "no aircraft of the product's type is based at its vertiport",
    "party_too_large": "party larger than the seats of every aircraft flying this product",
    "window": "no take-off of this product fits the window (aircraft availability, vertiport hours, grid)",
    "capacity": "feasible alone, but seats, aircraft time or take-off slots went to other bookings",
    "no_solution": "the time limit ran out before any schedule was found",
}


def _int_in(field_name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidInput(field_name, value, "must be an integer")
    if not lo <= int(value) <= hi:
        raise InvalidInput(field_name, value, f"must be within {lo}..{hi}")
    return int(value)


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
        _int_in(f"vertiports[{self.id}].takeoffs_per_slot", self.takeoffs_per_slot, 1, 1000)
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
        _int_in("slot_min", self.slot_min, 1, 24 * 60)
        _int_in("start_step_min", self.start_step_min, 1, 24 * 60)
        _int_in("default_takeoffs_per_slot", self.default_takeoffs_per_slot, 1, 1000)
        pids = {p.id for p in self.products}
        for b in self.bookings:
            if b.product_id not in pids:
                raise InvalidInput(f"bookings[{b.id}].product_id", b.product_id, "unknown product")
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


def _greedy(problem, deps, elig, party, desired, ground) -> tuple[dict[int, int], set[int]]:
    """Greedy schedule used as a CP-SAT hint: booking index -> departure index, and open departures."""
    P = problem
    load: dict[int, int] = {}
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)  # aircraft -> intervals
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
                a, p, t = deps[d]
                end = t + P.products[p].block_min + ground[d]
                v = P.products[p].vertiport_id
                if slot_use[(v, t // P.slot_min)] >= P.vertiport(v).takeoffs_per_slot:
                    continue
                if any(s < end and t < e for s, e in busy[a]):
                    continue
                busy[a].append((t, end))
                slot_use[(v, t // P.slot_min)] += 1
                load[d] = 0
                best = d
                break
        if best is not None:
            load[best] += party[i]
            assign[i] = best
    return assign, set(load)


def solve_flight_schedule(problem: FlightScheduleProblem, time_limit_s: float = 30.0, workers: int = 8,
                          seed: int = 0, rel_gap: float = 0.0, hint: bool = True, log: bool = False) -> FlightSchedule:
    """Schedule the day's bookings on departures with CP-SAT (formulation: module docstring).

    Parameters: ``time_limit_s`` wall-clock limit, seconds (> 0), model building included (CP-SAT gets
    what is left, at least 0.05 s); ``workers``
    CP-SAT threads (>= 1); ``seed`` CP-SAT ``random_seed``; ``rel_gap`` stop once the relative gap
    on J is below it (0: prove optimality or use the whole limit); ``hint`` start from a greedy
    schedule; ``log`` print CP-SAT's search log. Returns a :class:`FlightSchedule`; raises ``InvalidInput`` for bad parameters.
    """
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    if isinstance(time_limit_s, bool) or not isinstance(time_limit_s, (int, float)) or not (0 < time_limit_s < 1e6):
        raise InvalidInput("time_limit_s", time_limit_s, "must be a positive number of seconds")
    _int_in("workers", workers, 1, 256)
    P = problem
    W = P.weight_per_passenger
    reasons = _reasons(P)
    pidx = {p.id: k for k, p in enumerate(P.products)}
    party = [b.party_size for b in P.bookings]
    desired = [b.desired_min for b in P.bookings]

    # candidate departures, only where some booking fits (seats, window)
    starts: dict[tuple[int, int], list[int]] = {}
    for ai, a in enumerate(P.aircraft):
        for pi, p in enumerate(P.products):
            s = P.candidate_starts(a, p)
            if s:
                starts[(ai, pi)] = s
    by_product: dict[int, list[int]] = defaultdict(list)
    for ai, pi in starts:
        by_product[pi].append(ai)
    dep_of: dict[tuple[int, int, int], int] = {}
    deps: list[tuple[int, int, int]] = []
    elig: list[list[int]] = []
    for bi, b in enumerate(P.bookings):
        row = []
        if b.id not in reasons:
            pi = pidx[b.product_id]
            for ai in by_product[pi]:
                if P.aircraft[ai].seats < b.party_size:
                    continue
                s = starts[(ai, pi)]
                for t in s[bisect.bisect_left(s, b.window[0]):bisect.bisect_right(s, b.window[1])]:
                    key = (ai, pi, t)
                    d = dep_of.get(key)
                    if d is None:
                        d = dep_of[key] = len(deps)
                        deps.append(key)
                    row.append(d)
        elig.append(row)
    ground = [P.aircraft[a].ground_min(P.products[p].block_min) for a, p, _ in deps]
    stats = {"bookings": len(P.bookings), "aircraft": len(P.aircraft), "products": len(P.products),
             "departures": len(deps), "assignment_vars": sum(len(r) for r in elig)}

    m = cp_model.CpModel()
    y = [m.new_bool_var(f"y{d}") for d in range(len(deps))]
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    on_dep: dict[int, list[int]] = defaultdict(list)
    terms, coefs = [], []
    for bi, row in enumerate(elig):
        vs = []
        for d in row:
            v = m.new_bool_var(f"x{bi}_{d}")
            x[(bi, d)] = v
            vs.append(v)
            on_dep[d].append(bi)
            m.add_implication(v, y[d])
            terms.append(v)
            coefs.append(W * party[bi] - abs(deps[d][2] - desired[bi]))
        if len(vs) > 1:
            m.add_at_most_one(vs)
    for d, bs in on_dep.items():
        seats = P.aircraft[deps[d][0]].seats
        if sum(party[bi] for bi in bs) > seats:
            m.add(sum(party[bi] * x[(bi, d)] for bi in bs) <= seats * y[d])
    per_aircraft: dict[int, list[int]] = defaultdict(list)
    per_slot: dict[tuple[str, int], list[int]] = defaultdict(list)
    for d, (a, p, t) in enumerate(deps):
        per_aircraft[a].append(d)
        per_slot[(P.products[p].vertiport_id, t // P.slot_min)].append(d)
    n_clique = 0
    for a, ds in per_aircraft.items():
        ds.sort(key=lambda d: deps[d][2])
        times = sorted({deps[d][2] for d in ds})
        for k in times:  # departures whose busy interval covers grid time k
            cover = [d for d in ds if deps[d][2] <= k < deps[d][2] + P.products[deps[d][1]].block_min + ground[d]]
            if len(cover) > 1:
                m.add_at_most_one([y[d] for d in cover])
                n_clique += 1
    for (v, _s), ds in per_slot.items():
        cap = P.vertiport(v).takeoffs_per_slot
        if len(ds) > cap:
            m.add(sum(y[d] for d in ds) <= cap)
    stats["aircraft_rows"] = n_clique
    m.maximize(cp_model.LinearExpr.weighted_sum(terms, coefs) if terms else 0)
    assign: dict[int, int] = {}
    opened: set[int] = set()
    if hint and deps:
        assign, opened = _greedy(P, deps, elig, party, desired, ground)
        for d in range(len(deps)):
            m.add_hint(y[d], d in opened)
        for (bi, d), v in x.items():
            m.add_hint(v, assign.get(bi) == d)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, float(time_limit_s) - (time.perf_counter() - t0))
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    solver.parameters.log_search_progress = bool(log)
    if rel_gap > 0:
        solver.parameters.relative_gap_limit = float(rel_gap)
    st = solver.solve(m)
    stats["cpsat_wall_s"] = round(solver.wall_time, 3)
    requested = sum(party)
    if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        on: dict[int, list[int]] = defaultdict(list)
        for (bi, d), v in x.items():
            if solver.boolean_value(v):
                on[d].append(bi)
        optimal = st == cp_model.OPTIMAL
        bound = round(float(solver.best_objective_bound)) if terms else 0
        stats["source"] = "cp-sat"
    elif assign:  # time limit before CP-SAT reported the (feasible) hint: return the greedy schedule
        on = defaultdict(list)
        for bi, d in assign.items():
            on[d].append(bi)
        optimal, bound = False, None
        stats["source"] = "greedy"
    else:
        label = "infeasible" if st == cp_model.INFEASIBLE else "time_limit_no_incumbent"
        un = tuple(Unassigned(b.id, reasons.get(b.id, "no_solution"), _REASON_TEXT[reasons.get(b.id, "no_solution")])
                   for b in P.bookings)
        if not deps and st != cp_model.INFEASIBLE:  # nothing can fly: the empty schedule is optimal
            un = tuple(Unassigned(b.id, reasons[b.id], _REASON_TEXT[reasons[b.id]]) for b in P.bookings)
            return FlightSchedule("optimal", (), un, 0, requested, 0, W, 0, 0, 0.0, 0, 0.0,
                                  time.perf_counter() - t0, stats)
        return FlightSchedule(label, (), un, 0, requested, 0, W, None, None, None, None, None,
                              time.perf_counter() - t0, stats)
    departures = []
    order = {a.id: k for k, a in enumerate(P.aircraft)}
    for d, bis in on.items():
        a, p, t = deps[d]
        ac, pr = P.aircraft[a], P.products[p]
        bis.sort(key=lambda i: P.bookings[i].id)
        departures.append(Departure(ac.id, pr.id, pr.vertiport_id, t, t + pr.block_min, t + pr.block_min + ground[d],
                                    ac.seats, sum(party[i] for i in bis), tuple(P.bookings[i].id for i in bis)))
    departures.sort(key=lambda d: (order[d.aircraft_id], d.start_min))
    flown = {b for d in departures for b in d.booking_ids}
    unassigned = tuple(Unassigned(b.id, reasons.get(b.id, "capacity"), _REASON_TEXT[reasons.get(b.id, "capacity")])
                       for b in P.bookings if b.id not in flown)
    pax = sum(d.passengers for d in departures)
    dev = sum(abs(deps[d][2] - desired[bi]) for d, bis in on.items() for bi in bis)
    obj = W * pax - dev
    if bound is None:
        return FlightSchedule("feasible", tuple(departures), unassigned, pax, requested, dev, W, obj, None, None,
                              None, None, time.perf_counter() - t0, stats)
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

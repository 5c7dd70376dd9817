"""The day's sightseeing-flight schedule: unservable bookings, a greedy schedule, and the exact model.

:func:`solve_schedule` finds the bookings no schedule can serve (reasons in
:mod:`optimizer.flights.solution`), builds the time-indexed 0-1 model (:mod:`models.flight_schedule`,
formulation there), computes a greedy schedule on its candidate departures, runs the back end(s) of
``FlightParams.backend`` for the time left (``auto``: HiGHS for the bound alongside the rolling-window
LNS of :mod:`models.flight_lns`, which starts from the greedy schedule and takes HiGHS's blocks when
better; ``cpsat``: the LNS, then CP-SAT hinted with its schedule), and returns the best verified answer:
a back end's (``source`` ``lns``, ``highs`` or ``cpsat``), or the greedy one when none found a better
one in time. Objective ``J = W * passengers - deviation
minutes`` (``ScheduleProblem.weight_per_passenger``): passengers first, then the deviation from the
desired take-offs.

Status: ``optimal`` only when the smallest proven bound is <= J; ``feasible`` with a schedule and no
proof (``bound`` None when no back end answered); ``no_solution_in_time`` with an empty schedule;
``infeasible`` cannot happen (the empty schedule is feasible) but is reported if every back end says so.
``gap = (bound - J) / max(|J|, 1)``; since ``W P_max - D_max <= J* <= bound``, the passengers are
bounded by ``passengers_bound = floor((bound + W - 1) / W)``.
"""

from __future__ import annotations

from collections import defaultdict

import models.flight_schedule as formulation  # module import: the model imports this package's nouns
from models._backend import time_left_s
from optimizer.core.errors import InvalidInput
from optimizer.core.results import FEASIBLE, INFEASIBLE, NO_SOLUTION_IN_TIME, OPTIMAL, SolveStats, Unserved
from optimizer.core.stop import StoppingCriterion
from optimizer.flights.problem import FlightParams, ScheduleProblem
from optimizer.flights.solution import REASON_TEXT, Departure, Schedule

__all__ = ["greedy_schedule", "solve_schedule", "unservable_reasons"]


def unservable_reasons(problem: ScheduleProblem) -> dict[str, str]:
    """Bookings that no schedule can serve, with the reason (``no_product``, ``party_too_large``, ``window``)."""
    out: dict[str, str] = {}
    prods = {p.id: p for p in problem.products}
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


def greedy_schedule(problem: ScheduleProblem, M: formulation.ScheduleModel) -> tuple[dict[int, int], set[int]]:
    """Greedy schedule on the model's candidate departures: booking index -> departure index, and the
    opened departures (CP-SAT's hint, and the answer when no back end beats it in time).

    Earliest desired take-off first (then larger parties), each booking on the closest take-off: an
    open departure with room first, else a new one that fits the aircraft pool and the vertiport slot."""
    return _greedy(problem, M.deps, M.elig, [b.party_size for b in problem.bookings],
                   [b.desired_min for b in problem.bookings], M.ground, M.pool_of, [len(g) for g in M.pools])


def _greedy(problem, deps, elig, party, desired, ground, pool_of=None, pool_size=None
            ) -> tuple[dict[int, int], set[int]]:
    """Greedy schedule: booking index -> departure index, and open departures.

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


def _unserved(problem: ScheduleProblem, reasons: dict[str, str], flown: set[str], default: str) -> tuple[Unserved, ...]:
    out = []
    for b in problem.bookings:
        if b.id not in flown:
            why = reasons.get(b.id, default)
            out.append(Unserved(b.id, why, REASON_TEXT[why]))
    return tuple(out)


def _reproducibility(params: FlightParams, mstats: dict, optimal: bool) -> dict:
    """``reproducible`` (same seed -> same schedule) and why (``models.flight_schedule``, *Determinism*)."""
    if params.deterministic_time is not None:
        if mstats.get("stopped_by_work"):
            return {"reproducible": True, "reproducible_note": f"CP-SAT stopped by its deterministic limit "
                                                               f"({params.deterministic_time:g}) or a proof"}
        return {"reproducible": False, "reproducible_note": "the wall-clock limit stopped CP-SAT before its "
                                                            "deterministic limit: the schedule may differ between runs"}
    if optimal and (params.backend == "highs" or (params.backend == "cpsat" and params.workers == 1)):
        return {"reproducible": True, "reproducible_note": "proven optimal"}
    if optimal:
        return {"reproducible": False, "reproducible_note": "proven optimal (same objective every run), but the "
                                                            "schedule may differ between runs with this back end"}
    return {"reproducible": False, "reproducible_note": "stopped by the wall-clock limit: the schedule may differ "
                                                        "between runs (set deterministic_time for a repeatable answer)"}


def solve_schedule(problem: ScheduleProblem, stop: StoppingCriterion, seed: int = 0,
                   params: FlightParams | None = None) -> Schedule:
    """Schedule the day's bookings on departures (module docstring).

    ``stop.max_runtime_s`` is the wall-clock limit, model building and reading back included (the
    engines get what is left less min(0.5 s, 5 %)); without one the back ends get
    ``models._backend.DEFAULT_TIME_LIMIT_S``. ``seed``: CP-SAT's ``random_seed``. ``params``: back
    end, workers, rel_gap, hint, log, pooling (``FlightParams``; None: defaults).
    ``model_stats['source']`` names the back end whose schedule it is (or ``greedy``, ``none``).
    """
    params = FlightParams() if params is None else params
    if not isinstance(params, FlightParams):
        raise InvalidInput("params", type(params).__name__, "must be a FlightParams")
    deadline = stop.deadline()
    P = problem
    W = P.weight_per_passenger
    requested = P.passengers_requested
    reasons = unservable_reasons(P)
    M = formulation.build_model(P, reasons, bool(params.pool_identical))
    mstats: dict = {"bookings": len(P.bookings), "aircraft": len(P.aircraft), "products": len(P.products),
              "departures": len(M.deps), "assignment_vars": len(M.xs), "aircraft_rows": len(M.cliques),
              "pools": [len(g) for g in M.pools], "backend": params.backend}
    if not M.xs:  # nothing can fly: the empty schedule is optimal
        stats = SolveStats(OPTIMAL, 0, 0, 0.0, deadline.elapsed_s(), 0, "solved", int(seed))
        return Schedule((), _unserved(P, reasons, set(), "capacity"), 0, requested, 0, W, 0, 0.0, stats,
                        mstats | {"source": "none", "reproducible": True,
                                  "reproducible_note": "nothing can fly: the empty schedule"})
    greedy = greedy_schedule(P, M) if params.hint else None
    left = time_left_s(stop, deadline)
    left -= min(0.5, 0.05 * left)  # kept for reading the answers back and building the result
    runs, run_stats = formulation.solve_model(P, M, max(0.01, left), params, int(seed), greedy)
    mstats |= run_stats
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
        status = INFEASIBLE if runs and all(r.infeasible for r in runs) else NO_SOLUTION_IN_TIME
        stats = SolveStats(status, None, bound, None, deadline.elapsed_s(), 0, "max_runtime_s", int(seed))
        return Schedule((), _unserved(P, reasons, set(), "no_solution"), 0, requested, 0, W, None, None, stats,
                        mstats | {"source": None} | _reproducibility(params, mstats, False))
    mstats["source"] = source
    departures = []
    order = {a.id: k for k, a in enumerate(P.aircraft)}
    tails = formulation.assign_tails(P, M, on)
    for d, bis in on.items():
        _a, p, t = M.deps[d]
        ac, pr = P.aircraft[tails[d]], P.products[p]
        bis.sort(key=lambda i: P.bookings[i].id)
        departures.append(Departure(ac.id, pr.id, pr.vertiport_id, t, t + pr.block_min,
                                    t + pr.block_min + M.ground[d], ac.seats,
                                    sum(P.bookings[i].party_size for i in bis), tuple(P.bookings[i].id for i in bis)))
    departures.sort(key=lambda d: (order[d.aircraft_id], d.start_min))
    flown = {b for d in departures for b in d.booking_ids}
    unserved = _unserved(P, reasons, flown, "capacity")
    pax = sum(d.passengers for d in departures)
    want = {b.id: b.desired_min for b in P.bookings}
    dev = sum(abs(d.start_min - want[b]) for d in departures for b in d.booking_ids)
    obj = W * pax - dev
    if bound is None:
        stats = SolveStats(FEASIBLE, obj, None, None, deadline.elapsed_s(), 0, "max_runtime_s", int(seed))
        mstats |= _reproducibility(params, mstats, False)
        return Schedule(tuple(departures), unserved, pax, requested, dev, W, None, None, stats, mstats)
    bound = min(bound, W * requested)  # J <= W x all passengers requested, whatever a back end reported
    optimal = bound <= obj  # proven: no schedule has a larger J
    bound = max(bound, obj) if optimal else bound
    gap = 0.0 if optimal else max(0.0, (bound - obj) / max(abs(obj), 1))
    pb = pax if optimal else (bound + W - 1) // W
    pgap = 0.0 if optimal else max(0.0, (pb - pax) / max(pb, 1))
    done = optimal or (params.rel_gap > 0 and gap <= params.rel_gap)
    stats = SolveStats(OPTIMAL if optimal else FEASIBLE, obj, bound, gap, deadline.elapsed_s(), 0,
                       "solved" if done else "max_runtime_s", int(seed))
    mstats |= _reproducibility(params, mstats, optimal)
    return Schedule(tuple(departures), unserved, pax, requested, dev, W, pb, pgap, stats, mstats)

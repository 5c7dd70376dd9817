"""Live day plans: the first plan, booking-time insertion, alternatives when full, cancellation,
and re-planning after a disruption with everything before its clock time fixed.

Formulations (``shared/MODELS.md`` 1.4 for the tour problem; issue 17 for the day):

* **First plan** (``create_day``): the one-day TOPTW with shared slot quotas of
  ``optimizer.tours.solve`` over the groups known at creation.
* **Booking** (``book``): the new group's route is planned alone against the slot ledger of the
  current plan (persons left per site and slot): a one-route ILS of the engine
  (``optimizer.core.engine``: O(1) Wait/MaxShift insertions plus a slot reservation per visit,
  Vansteenwegen et al. 2009, Computers & OR 36(12)) whose capacity arrays *are* the ledger, so no
  confirmed group moves and no slot is oversold. A group whose wanted entry slot is given
  (``wanted_slots``) may only use that slot at that site. The booking is accepted only when the
  group is served (a visit and every must-visit); otherwise it is refused, and when capacity is the
  cause (``full``) the ``k`` best alternatives are planned the same way: the same site in another
  slot with room, or another site of the same kind (分流), each with its score and what it costs the
  group against its ideal route (the route it would get on an empty day).
* **Re-planning** (``apply_event``): at the event's clock time ``t`` every group's live segment is
  cut (``optimizer.days.problem``): what has started stays, groups on the road reach their next
  stop, and the residual days form a new ``TourProblem`` on the network after the event. Every
  residual keeps its remaining visits in their slots where they still fit (``append_in_slot``);
  only the groups that lost a visit that way (or were delayed) are re-optimised, by the ILS over
  those routes alone against the ledger left by everybody else, within the time limit. Score is
  maximised over the re-planned groups; the number of groups changed is kept small by
  construction (lexicographically second: a group whose remaining day still fits is never moved).

Errors: ``InvalidInput`` naming the field (unknown group or site or road, a clock time before the
last event's, a group booked twice, a cancelled group).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from optimizer.core.clock import fmt_clock
from optimizer.core.engine.ils import run_ils
from optimizer.core.engine.kernels import RouteState, new_state, seed_protected
from optimizer.core.errors import InvalidInput
from optimizer.core.results import FEASIBLE, SolveStats
from optimizer.core.stop import StoppingCriterion
from optimizer.days.kernels import append_in_slot
from optimizer.days.problem import DayEvent, Segment, slot_of
from optimizer.days.state import DayState, ledger, network_at
from optimizer.tours.problem import Location, TourGroup, TourProblem
from optimizer.tours.solution import Route, TourUnserved, Visit
from optimizer.tours.solve import TOUR_PARAMS, compile_problem, decode, seeding_order
from optimizer.tours.solve import solve as tours_solve

BOOKING_ITERATIONS = 40
"""ILS iterations of the one-route search of a booking (deterministic; ~1 ms)."""
ALTERNATIVE_ITERATIONS = 15
"""ILS iterations per alternative tried."""
MAX_ALTERNATIVE_TRIES = 24
"""At most this many alternatives are planned per refused booking (slots, then sites)."""
TOL = 1e-6
DECODE_SHARE = 0.85
"""A re-plan's search stops at this share of the time limit; the rest is for decoding the routes."""


# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True, slots=True)
class Alternative:
    """A way to serve a refused group: ``kind`` ``slot`` (the same site at another entry slot) or
    ``site`` (another site of the same kind instead of ``replaces``).

    ``must_visit`` and ``wanted_slots`` (site -> slot start, minutes) are what to book to get it;
    ``route`` is the route it gives; ``score`` its visitor-weighted score; ``score_loss`` the score
    below the group's ideal route (planned on an empty day), ``extra_travel_min`` and
    ``extra_wait_min`` what it costs the group in minutes against that ideal route.
    """

    kind: str
    site_id: str
    replaces: str
    slot_start: float
    must_visit: tuple[str, ...]
    wanted_slots: tuple[tuple[str, float], ...]
    route: Route
    score: float
    score_loss: float
    extra_travel_min: float
    extra_wait_min: float


@dataclass(frozen=True, slots=True)
class BookingResult:
    """Answer to a booking: ``status`` ``booked`` (``segment`` holds its route), ``full`` (a
    wanted site or slot has no room: ``alternatives``, best first) or ``unservable`` (the group
    cannot be served on this day whatever the others do: ``unserved`` says why)."""

    status: str
    group: TourGroup
    segment: Segment | None
    unserved: tuple[TourUnserved, ...]
    alternatives: tuple[Alternative, ...] = ()
    moved: tuple[tuple[str, Segment, tuple[TourUnserved, ...]], ...] = ()
    wanted: tuple[tuple[str, float], ...] = ()
    """The entry slots the booking asked for (site id, slot start minutes): the group is pinned."""
    """(group id, its new live segment, its unserved) of every confirmed group moved to make room
    (only when the booking allowed moves)."""


@dataclass(frozen=True, slots=True)
class GroupChange:
    """How one group's day changed between two versions: visits as (site id, start minute)."""

    group_id: str
    before: tuple[tuple[str, float], ...]
    after: tuple[tuple[str, float], ...]
    lost: tuple[tuple[str, str], ...]
    """(site id, reason) of every visit of ``before`` not in ``after``."""


@dataclass(frozen=True, slots=True)
class Replan:
    """Answer to an event: the new state, which groups changed (and how), and the search stats."""

    state: DayState
    event: DayEvent
    changes: tuple[GroupChange, ...]
    replanned: tuple[str, ...]
    stats: SolveStats
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# helpers


def _visit_key(v: Visit) -> tuple[str, float]:
    return (v.site_id, round(float(v.start), 6))


def _ledger_state(P, daily, n_slots: int, slot_left: np.ndarray, day_left: np.ndarray) -> RouteState:
    """A RouteState for ``P`` whose capacity arrays are ``slot_left``/``day_left`` (not copied)."""
    S = new_state(P, daily, n_slots, int(P.n_cand.max(initial=0)) + 1)
    return S._replace(slot_left=slot_left, day_left=day_left)


def _plan_one(
    net,
    group: TourGroup,
    slot_min: float,
    slot_left: np.ndarray,
    day_left: np.ndarray,
    wanted: dict[str, int],
    iterations: int,
    seed: int,
):
    """Plan one group alone against a *copy* of the ledger; entry at a site of ``wanted`` only in
    its slot. Returns (route or None, unserved list)."""
    problem = TourProblem(network=net, groups=(group,), slot_min=slot_min)
    P, daily, _ = compile_problem(problem)
    P.n_cand[~np.isfinite(P.t_direct)] = 0  # no way home from the start: nothing to plan (see apply_event)
    sl = slot_left.copy()
    dl = day_left.copy()
    for sid, k in wanted.items():
        j = net.index(sid)
        keep = sl[j, k] if 0 <= k < sl.shape[1] else 0
        sl[j, :] = 0
        if 0 <= k < sl.shape[1]:
            sl[j, k] = keep
    S = _ledger_state(P, daily, sl.shape[1], sl, dl)
    seed_protected(P, S, np.zeros(1, dtype=np.int64))
    res = run_ils(P, S, StoppingCriterion(max_iterations=iterations), seed=seed, params=TOUR_PARAMS)
    routes, unserved = decode(problem, P, res.state)
    return (routes[0] if routes else None), unserved


def _served(group: TourGroup, route: Route | None, unserved) -> bool:
    return route is not None and bool(route.visits) and not unserved


def route_usage(route: Route | None, size: int, net, slot_min: float):
    """(site index, slot, persons) of every visit of ``route``."""
    if route is None:
        return []
    return [(net.index(v.site_id), slot_of(v.start, slot_min), size) for v in route.visits]


# --------------------------------------------------------------------------------------------
# first plan


def create_day(
    date: str,
    base,
    groups: tuple[TourGroup, ...],
    stop: StoppingCriterion,
    seed: int = 0,
    slot_min: float = 60.0,
) -> tuple[DayState, SolveStats]:
    """Version 1 of a day: every group planned at once (``optimizer.tours.solve``); returns the
    state and the search stats. Raises ``InvalidInput`` for bad groups (``TourProblem`` validation)."""
    problem = TourProblem(network=base, groups=tuple(groups), slot_min=slot_min)
    plan = tours_solve(problem, stop, seed=seed)
    state = DayState(date=date, base=base, slot_min=slot_min, version=1)
    routes = {r.group_id: r for r in plan.routes}
    for g in groups:
        state.groups[g.id] = g
        state.segments[g.id] = [
            Segment.of(0, g, routes.get(g.id))
        ]
        state.unserved[g.id] = [u for u in plan.unserved if u.group_id == g.id]
    return state, plan.stats


# --------------------------------------------------------------------------------------------
# bookings


def booking_group(state: DayState, group: TourGroup, at: float | None) -> TourGroup:
    """The piece of ``group`` that can still be planned: from ``max(day open, clock, at)``."""
    if group.id in state.groups:
        raise InvalidInput("group.group_id", group.id, "is already booked on this day (cancel it first)")
    now = state.clock if at is None else float(at)
    if now < state.clock - TOL:
        raise InvalidInput("at", fmt_clock(now), f"is before the last event of the day at {fmt_clock(state.clock)}")
    TourProblem(network=state.base, groups=(group,), slot_min=state.slot_min)  # validates ids
    return group


def book(
    state: DayState,
    group: TourGroup,
    slot_left: np.ndarray,
    day_left: np.ndarray,
    at: float | None = None,
    wanted_slots: dict[str, float] | None = None,
    k: int = 3,
    seed: int = 0,
    iterations: int = BOOKING_ITERATIONS,
    allow_moves: bool = False,
) -> BookingResult:
    """Insert ``group`` into the day without moving anyone (see the module docstring).

    ``slot_left`` int64[n, K] and ``day_left`` int64[n] are the current ledger (``ledger(state)``);
    they are only read here: the caller commits a ``booked`` result (``commit_booking``).
    ``wanted_slots``: site id -> start of the wanted entry slot, minutes (must be a must-visit).
    ``allow_moves``: when the group does not fit as things are, confirmed groups may be moved to
    make room (``book_with_moves``; none of them loses a must-visit).
    Raises ``InvalidInput`` (group already booked, bad site or time)."""
    booking_group(state, group, at)
    now = max(state.clock, float(at) if at is not None else state.clock)
    net = network_at(state, state.epoch)
    wanted = _wanted(net, group, wanted_slots or {}, state.slot_min)
    piece = _piece(state, group, now)
    route, unserved = _plan_one(net, piece, state.slot_min, slot_left, day_left, wanted, iterations, seed)
    if route is not None:
        route = _named(route, group.id)
    unserved = [TourUnserved.of(group.id, u.site_id, u.reason, u.detail) for u in unserved]
    seg = Segment.of(state.epoch, piece, route)
    if _served(group, route, unserved):
        pins = tuple(sorted((s, float(t)) for s, t in (wanted_slots or {}).items()))
        return BookingResult("booked", group, seg, (), wanted=pins)
    # would it be served on an empty day? if not, capacity is not the reason
    empty_sl, empty_dl = _empty_ledger(state, net)
    ideal, ideal_un = _plan_one(net, piece, state.slot_min, empty_sl, empty_dl, wanted, iterations, seed)
    if not _served(group, ideal, ideal_un) and not wanted:
        return BookingResult("unservable", group, None, tuple(unserved))
    if allow_moves:
        moved = book_with_moves(state, group, piece, slot_left, day_left, wanted, seed=seed)
        if moved is not None:
            return moved
    alts = alternatives(state, piece, slot_left, day_left, wanted, k=k, seed=seed)
    return BookingResult("full", group, None, tuple(unserved), tuple(alts))


MAX_MOVABLE = 40
"""At most this many confirmed groups are considered for moving to make room for one booking."""
MOVE_STOP = StoppingCriterion(max_iterations=300, max_no_improvement=100)
"""Search of a booking that may move others (deterministic)."""


def book_with_moves(
    state: DayState,
    group: TourGroup,
    piece: TourGroup,
    slot_left: np.ndarray,
    day_left: np.ndarray,
    wanted: dict[str, int],
    seed: int = 0,
) -> BookingResult | None:
    """Make room for ``group`` (planned as ``piece``: its day from now on) by moving confirmed
    groups, never un-serving one.

    The groups whose live routes visit one of the piece's must-visits (at most ``MAX_MOVABLE``,
    the smallest first; never a group pinned to its wanted entry slots) are re-planned together
    with it: the piece's must-visits are placed first (in its wanted slots), each moved group
    then keeps its visits in their slots where they still fit, and the ILS re-plans the piece and
    the groups that lost a visit, against the ledger left by everybody else. Accepted only if the
    piece is served and every moved group that was served still has all its must-visits (its
    other visits may change). Returns a ``booked`` result with ``moved``, or None (the ledger
    arrays are not changed)."""
    net = network_at(state, state.epoch)
    musts = set(piece.must_visit)
    movable = [
        gid
        for gid in state.groups
        if gid not in state.cancelled
        and gid not in state.pinned
        and state.live(gid) is not None
        and state.live(gid).route is not None
        and any(v.site_id in musts for v in state.live(gid).route.visits)
    ]
    movable.sort(key=lambda g: (state.groups[g].size, g))
    movable = movable[:MAX_MOVABLE]
    if not movable:
        return None
    segs = [state.live(g) for g in movable]
    pieces = (piece,) + tuple(seg.tour_group(state.groups[g]) for g, seg in zip(movable, segs))
    sl, dl = slot_left.copy(), day_left.copy()
    for g, seg in zip(movable, segs):
        for j, kk, q in route_usage(seg.route, state.groups[g].size, net, state.slot_min):
            sl[j, kk] += q
            dl[j] += q
    problem = TourProblem(network=net, groups=pieces, slot_min=state.slot_min)
    P, daily, _ = compile_problem(problem)
    P.n_cand[~np.isfinite(P.t_direct)] = 0
    for r, g in enumerate(movable, start=1):
        seen = {
            net.index(v.site_id)
            for s in state.segments[g][:-1]
            if s.route is not None
            for v in s.route.visits
        }
        if seen:
            keep = [int(j) for j in P.cand[r, : P.n_cand[r]] if int(j) not in seen]
            P.cand[r, : len(keep)] = keep
            P.n_cand[r] = len(keep)
    S = _ledger_state(P, daily, sl.shape[1], sl, dl)
    saved = {sid: sl[net.index(sid)].copy() for sid in wanted}
    for sid, kk in wanted.items():
        j = net.index(sid)
        sl[j, :] = 0
        sl[j, kk] = saved[sid][kk]
    seed_protected(P, S, np.zeros(1, dtype=np.int64))
    for sid, kk in wanted.items():
        j = net.index(sid)
        used = saved[sid][kk] - sl[j, kk]
        sl[j, :] = saved[sid]
        sl[j, kk] -= used
    if int(S.length[0]) < len(piece.must_visit):
        return None
    affected = [0]
    for r, seg in enumerate(segs, start=1):
        lost = False
        for v in seg.route.visits:
            j = net.index(v.site_id)
            kk = slot_of(v.start, state.slot_min) if P.slot_quota[j] >= 0 else -1
            if not append_in_slot(P, S, r, j, kk):
                lost = True
        if lost:
            affected.append(r)
    idx = np.array(affected, dtype=np.int64)
    sub = _sub_problem(P, S, idx)
    res = run_ils(sub[0], sub[1], MOVE_STOP, seed=seed, params=TOUR_PARAMS)
    _write_back(S, res.state, idx)
    routes, unserved = decode(problem, P, S)
    by = {r.group_id: r for r in routes}
    un_by: dict[str, list[TourUnserved]] = {}
    for u in unserved:
        un_by.setdefault(u.group_id, []).append(u)
    if not _served(piece, by.get(piece.id), un_by.get(piece.id, [])):
        return None
    moved = []
    for r, (g, seg) in enumerate(zip(movable, segs), start=1):
        was = not state.unserved.get(g)
        if was and un_by.get(g):
            return None  # a confirmed group would lose a must-visit
        new_route = by.get(g)
        if r not in affected:
            continue
        old_keys = [_visit_key(v) for v in seg.route.visits]
        new_keys = [_visit_key(v) for v in new_route.visits] if new_route is not None else []
        if old_keys != new_keys:
            moved.append(
                (
                    g,
                    Segment(seg.epoch, seg.start, seg.end, seg.open, seg.close, seg.must_visit, new_route),
                    tuple(un_by.get(g, [])),
                )
            )
    new_seg = Segment.of(state.epoch, piece, by[piece.id])
    pins = tuple(sorted((s, float(kk * state.slot_min)) for s, kk in wanted.items()))
    return BookingResult("booked", group, new_seg, tuple(un_by.get(piece.id, [])), (), tuple(moved), pins)


def _sub_problem(P, S, idx: np.ndarray):
    """The rows ``idx`` of (P, S) as a problem and state of their own; capacity arrays shared."""
    Psub = P._replace(
        t_from=np.ascontiguousarray(P.t_from[idx]),
        t_to=np.ascontiguousarray(P.t_to[idx]),
        t_direct=P.t_direct[idx].copy(),
        day_start=P.day_start[idx].copy(),
        day_end=P.day_end[idx].copy(),
        value=np.ascontiguousarray(P.value[idx]),
        protect=np.ascontiguousarray(P.protect[idx]),
        size=P.size[idx].copy(),
        cand=np.ascontiguousarray(P.cand[idx]),
        n_cand=P.n_cand[idx].copy(),
    )
    Ssub = RouteState(
        rt=np.ascontiguousarray(S.rt[:, idx, :]),
        ri=np.ascontiguousarray(S.ri[:, idx, :]),
        length=S.length[idx].copy(),
        end_arr=S.end_arr[idx].copy(),
        in_route=np.ascontiguousarray(S.in_route[idx]),
        slot_left=S.slot_left,
        day_left=S.day_left,
        rvalue=S.rvalue[idx].copy(),
    )
    return Psub, Ssub


def _write_back(S, B, idx: np.ndarray) -> None:
    """Copy the rows of the searched sub-state ``B`` back into ``S`` (and the capacity arrays)."""
    S.rt[:, idx, :] = B.rt
    S.ri[:, idx, :] = B.ri
    S.length[idx] = B.length
    S.end_arr[idx] = B.end_arr
    S.in_route[idx] = B.in_route
    S.rvalue[idx] = B.rvalue
    S.slot_left[:] = B.slot_left
    S.day_left[:] = B.day_left


def _named(route: Route, gid: str) -> Route:
    return (
        route
        if route.group_id == gid
        else Route(
            gid,
            route.depart,
            route.visits,
            route.arrive_end,
            route.score,
            route.travel_min,
            route.distance_km,
        )
    )


def _piece(state: DayState, group: TourGroup, now: float) -> TourGroup:
    o, c = group.day_window
    o = max(o, now)
    return TourGroup(
        id=group.id,
        size=group.size,
        start=group.start,
        end=group.end,
        day_window=(o, max(o, c)),
        must_visit=group.must_visit,
        interests=group.interests,
        zone=group.zone,
    )


def _wanted(net, group: TourGroup, wanted_slots: dict[str, float], slot_min: float) -> dict[str, int]:
    out = {}
    for sid, t in wanted_slots.items():
        if sid not in group.must_visit:
            raise InvalidInput(
                f"wanted_slots.{sid}", sid, "a wanted entry slot must be for one of the group's must-visits"
            )
        if not net.has_site(sid):
            raise InvalidInput(f"wanted_slots.{sid}", sid, "unknown site id")
        if not (isinstance(t, (int, float)) and math.isfinite(t) and 0 <= t <= 2880):
            raise InvalidInput(f"wanted_slots.{sid}", t, "must be a time within the day")
        out[sid] = slot_of(float(t), slot_min)
    return out


def _empty_ledger(state: DayState, net) -> tuple[np.ndarray, np.ndarray]:
    K = state.n_slots
    sl = np.full((net.n, K), np.iinfo(np.int64).max // 4, dtype=np.int64)
    for j, s in enumerate(net.sites):
        if s.slot_quota is not None:
            sl[j, :] = s.slot_quota
    dl = np.array(
        [s.daily_quota if s.daily_quota is not None else np.iinfo(np.int64).max // 4 for s in net.sites],
        dtype=np.int64,
    )
    return sl, dl


def _waits(route: Route) -> float:
    return sum(v.wait for v in route.visits)


def alternatives(
    state: DayState,
    piece: TourGroup,
    slot_left: np.ndarray,
    day_left: np.ndarray,
    wanted: dict[str, int],
    k: int = 3,
    seed: int = 0,
) -> list[Alternative]:
    """The ``k`` best ways to serve a group refused for capacity: for each must-visit that is
    full (or whose wanted slot is), the same site in each other slot with room for the group, then
    each other site of the same kind with room; each planned against the ledger
    (``_plan_one``) and kept if the group is served. Best score first."""
    net = network_at(state, state.epoch)
    ideal, _ = _plan_one(
        net, piece, state.slot_min, *_empty_ledger(state, net), {}, ALTERNATIVE_ITERATIONS, seed
    )
    ideal_score = ideal.score if ideal is not None else 0.0
    ideal_travel = ideal.travel_min if ideal is not None else 0.0
    ideal_wait = _waits(ideal) if ideal is not None else 0.0
    full_sites = [
        s
        for s in piece.must_visit
        if s in wanted or _site_full_for(net, s, piece, slot_left, day_left, state.slot_min)
    ]
    if not full_sites:
        full_sites = list(piece.must_visit)
    out: list[Alternative] = []
    tries = 0
    for sid in full_sites:
        j = net.index(sid)
        site = net.site(sid)
        first = slot_of(max(site.window[0], piece.day_window[0]), state.slot_min)
        last = slot_of(max(site.window[0], min(site.latest_start, piece.day_window[1])), state.slot_min)
        for kk in range(first, min(last, slot_left.shape[1] - 1) + 1):
            if tries >= MAX_ALTERNATIVE_TRIES:
                break
            if wanted.get(sid) == kk or slot_left[j, kk] < piece.size:
                continue
            w = dict(wanted)
            w[sid] = kk
            tries += 1
            route, un = _plan_one(
                net, piece, state.slot_min, slot_left, day_left, w, ALTERNATIVE_ITERATIONS, seed
            )
            if _served(piece, route, un):
                out.append(
                    _alt(
                        "slot",
                        sid,
                        sid,
                        kk * state.slot_min,
                        piece.must_visit,
                        w,
                        route,
                        state.slot_min,
                        ideal_score,
                        ideal_travel,
                        ideal_wait,
                    )
                )
        for other in net.sites:
            if tries >= MAX_ALTERNATIVE_TRIES:
                break
            if other.id == sid or other.kind != site.kind or not other.is_poi or other.id in piece.must_visit:
                continue
            if piece.zone is not None and other.id not in net.zones[piece.zone]:
                continue
            must = tuple(other.id if m == sid else m for m in piece.must_visit)
            w = {s: kk for s, kk in wanted.items() if s != sid}
            alt_group = TourGroup(
                id=piece.id,
                size=piece.size,
                start=piece.start,
                end=piece.end,
                day_window=piece.day_window,
                must_visit=must,
                interests=piece.interests,
                zone=piece.zone,
            )
            tries += 1
            route, un = _plan_one(
                net, alt_group, state.slot_min, slot_left, day_left, w, ALTERNATIVE_ITERATIONS, seed
            )
            if _served(alt_group, route, un):
                v = next(v for v in route.visits if v.site_id == other.id)
                out.append(
                    _alt(
                        "site",
                        other.id,
                        sid,
                        slot_of(v.start, state.slot_min) * state.slot_min,
                        must,
                        w,
                        route,
                        state.slot_min,
                        ideal_score,
                        ideal_travel,
                        ideal_wait,
                    )
                )
    out.sort(key=lambda a: (-a.score, a.extra_travel_min, a.kind, a.site_id, a.slot_start))
    return out[:k]


def _site_full_for(net, sid, piece, slot_left, day_left, slot_min) -> bool:
    j = net.index(sid)
    if day_left[j] < piece.size:
        return True
    site = net.site(sid)
    if site.slot_quota is None:
        return False
    first = slot_of(max(site.window[0], piece.day_window[0]), slot_min)
    last = slot_of(max(site.window[0], min(site.latest_start, piece.day_window[1])), slot_min)
    return not any(
        slot_left[j, kk] >= piece.size for kk in range(first, min(last, slot_left.shape[1] - 1) + 1)
    )


def _alt(
    kind, sid, replaces, slot_start, must, wanted, route, slot_min, ideal_score, ideal_travel, ideal_wait
):
    return Alternative(
        kind=kind,
        site_id=sid,
        replaces=replaces,
        slot_start=float(slot_start),
        must_visit=tuple(must),
        wanted_slots=tuple(sorted((s, kk * slot_min) for s, kk in wanted.items())),
        route=route,
        score=route.score,
        score_loss=max(0.0, ideal_score - route.score),
        extra_travel_min=route.travel_min - ideal_travel,
        extra_wait_min=_waits(route) - ideal_wait,
    )


def commit_booking(
    state: DayState, result: BookingResult, slot_left: np.ndarray, day_left: np.ndarray
) -> None:
    """Add a ``booked`` result to ``state`` and take its persons from the ledger (in place); the
    groups it moved get their new live segments (their old visits go back to the ledger first)."""
    g = result.group
    seg = result.segment
    net = state.base
    for gid, new_seg, unserved in result.moved:
        old = state.live(gid)
        size = state.groups[gid].size
        for j, kk, q in route_usage(old.route if old is not None else None, size, net, state.slot_min):
            slot_left[j, kk] += q
            day_left[j] += q
        state.segments[gid] = state.segments[gid][:-1] + [new_seg]
        state.unserved[gid] = list(unserved)
        for j, kk, q in route_usage(new_seg.route, size, net, state.slot_min):
            slot_left[j, kk] -= q
            day_left[j] -= q
    if result.wanted:
        state.pinned[g.id] = dict(result.wanted)
    state.groups[g.id] = g
    state.segments[g.id] = [seg]
    state.unserved[g.id] = list(result.unserved)
    for j, kk, q in route_usage(seg.route, g.size, net, state.slot_min):
        slot_left[j, kk] -= q
        day_left[j] -= q


def cancel_booking(state: DayState, group_id: str, slot_left: np.ndarray, day_left: np.ndarray) -> str:
    """Cancel a booking: the group's live segment is dropped and its persons go back to the
    ledger (in place). A group without fixed segments leaves the day (returns ``removed``); one
    with visits already fixed by an event is marked cancelled and keeps them (``cancelled``).
    Raises ``InvalidInput`` for an unknown or already cancelled group."""
    if group_id not in state.groups:
        raise InvalidInput("group_id", group_id, "is not booked on this day")
    if group_id in state.cancelled:
        raise InvalidInput("group_id", group_id, "is already cancelled")
    g = state.groups[group_id]
    live = state.live(group_id)
    if live is not None:
        for j, kk, q in route_usage(live.route, g.size, state.base, state.slot_min):
            slot_left[j, kk] += q
            day_left[j] += q
        state.segments[group_id] = state.segments[group_id][:-1]
    state.unserved[group_id] = []
    if not state.segments[group_id]:
        del state.groups[group_id], state.segments[group_id], state.unserved[group_id]
        state.pinned.pop(group_id, None)
        return "removed"
    state.cancelled.add(group_id)
    return "cancelled"


# --------------------------------------------------------------------------------------------
# events


def check_event(state: DayState, event: DayEvent) -> None:
    """``InvalidInput`` if ``event`` cannot apply to ``state``: a time before the last event, an
    unknown (or non-scenic) site, a road that is not on the network (or already closed), an
    unknown or cancelled group."""
    if event.at < state.clock - TOL:
        raise InvalidInput("event.at", fmt_clock(event.at),
                           f"is before the last event of the day at {fmt_clock(state.clock)}")
    net = network_at(state, state.epoch)
    if event.site_id is not None:
        if not net.has_site(event.site_id):
            raise InvalidInput("event.site_id", event.site_id, "unknown site id")
        if not net.site(event.site_id).is_poi:
            raise InvalidInput("event.site_id", event.site_id, "is a hub, not a visitable site")
    if event.road is not None:
        a, b = event.road
        if not any({r.a, r.b} == {a, b} for r in net.roads):
            known = any({r.a, r.b} == {a, b} for r in state.base.roads)
            raise InvalidInput(
                "event.road",
                f"{a}-{b}",
                "is already closed"
                if known
                else "is not a road segment of the network (give the two site ids at its ends)",
            )
        for end in (a, b):
            if sum(1 for r in net.roads if end in (r.a, r.b)) == 1:
                raise InvalidInput(
                    "event.road", f"{a}-{b}", f"is the last open road of {end}: close the site instead"
                )
    if event.group_id is not None:
        if event.group_id not in state.groups:
            raise InvalidInput("event.group_id", event.group_id, "is not booked on this day")
        if event.group_id in state.cancelled:
            raise InvalidInput("event.group_id", event.group_id, "is already cancelled")


def _leg_travel(visits, depart: float, arrive_end: float) -> float:
    t, prev = 0.0, depart
    for v in visits:
        t += v.arrival - prev
        prev = v.departure
    return t + (arrive_end - prev)


def _prefix_route(
    state: DayState, group: TourGroup, seg: Segment, visits, arrive_end: float, on_road_to: str | None
) -> Route:
    net = network_at(state, seg.epoch)
    dist = 0.0
    for a, b in zip(visits, visits[1:]):
        dist += float(net.distance_km[net.index(a.site_id), net.index(b.site_id)])
    if on_road_to is not None and visits:
        dist += float(net.distance_km[net.index(visits[-1].site_id), net.index(on_road_to)])
    score = 0.0
    for v in visits:
        s = net.site(v.site_id)
        score += group.size * s.score * float(group.interests.get(s.kind, 1.0))
    return Route(
        group_id=group.id,
        depart=seg.route.depart,
        visits=tuple(visits),
        arrive_end=arrive_end,
        score=score,
        travel_min=_leg_travel(visits, seg.route.depart, arrive_end),
        distance_km=dist,
    )


@dataclass
class _Cut:
    fixed: Segment | None
    residual: TourGroup | None  # None: the group's day is over (or cancelled)
    kept: list  # visits of the live route not started by t (to keep if they fit)
    committed: tuple  # sites visited before t in this live segment


def cut_group(state: DayState, gid: str, t: float, delay: float = 0.0) -> _Cut:
    """Cut a group's live segment at ``t`` (module docstring of ``optimizer.days.problem``)."""
    g = state.groups[gid]
    seg = state.live(gid)
    close = g.day_window[1]
    if seg is None:
        return _Cut(None, None, [], ())
    route = seg.route
    visits = list(route.visits) if route is not None else []

    def residual(start: Location, open_: float, done: tuple) -> TourGroup:
        o = open_
        return TourGroup(
            id=gid,
            size=g.size,
            start=start,
            end=g.end,
            day_window=(o, max(o, close)),
            must_visit=tuple(m for m in seg.must_visit if m not in done),
            interests=g.interests,
            zone=g.zone,
        )

    if not visits or route.depart >= t - TOL:
        planned = route.depart if visits else seg.open
        o = max(seg.open, t) if delay == 0 else max(t, planned + delay)
        return _Cut(None, residual(seg.start, o, ()), visits, ())
    committed = [v for v in visits if v.start < t - TOL]
    if len(committed) == len(visits):
        whole = Segment(seg.epoch, seg.start, seg.end, seg.open, seg.close, seg.must_visit, route, fixed=True)
        return _Cut(whole, None, [], tuple(v.site_id for v in committed))
    nxt = visits[len(committed)]
    if committed and committed[-1].departure > t + TOL:
        here = committed[-1].site_id
        release = committed[-1].departure
        arrive_end = committed[-1].departure
        on_road = None
    else:
        here = nxt.site_id
        release = max(nxt.arrival, t)
        arrive_end = nxt.arrival
        on_road = nxt.site_id
    pre = _prefix_route(state, g, seg, committed, arrive_end, on_road)
    fixed = Segment(seg.epoch, seg.start, Location(site_id=here), seg.open, seg.close, (), pre, fixed=True)
    done = tuple(v.site_id for v in committed)
    return _Cut(
        fixed, residual(Location(site_id=here), release + delay, done), visits[len(committed) :], done
    )


def apply_event(state: DayState, event: DayEvent, stop: StoppingCriterion, seed: int = 0) -> Replan:
    """Apply ``event`` and re-plan the rest of the day (module docstring). Returns a new state
    (``state`` is not changed) with its version number + 1, the changes, and the search stats.

    The time limit of ``stop`` covers the whole call (cut, model building, search, decoding).
    Raises ``InvalidInput`` (``check_event``)."""
    t0 = time.perf_counter()
    check_event(state, event)
    t = float(event.at)
    new = state.copy()
    new.events.append(event)
    new.clock = t
    new.version = state.version + 1
    e = new.epoch
    net = network_at(new, e)
    cuts: dict[str, _Cut] = {}
    for gid in state.groups:
        if gid in state.cancelled or state.live(gid) is None:
            continue
        delay = float(event.delay_min) if event.kind == "group_delayed" and event.group_id == gid else 0.0
        cuts[gid] = cut_group(state, gid, t, delay)
    # fixed pieces and cancellation
    for gid, c in cuts.items():
        segs = new.segments[gid][:-1]
        if c.fixed is not None:
            segs.append(c.fixed)
        new.segments[gid] = segs
        new.unserved[gid] = []
    if event.kind == "group_cancelled":
        new.cancelled.add(event.group_id)
        cuts.pop(event.group_id, None)
    res_ids = [gid for gid, c in cuts.items() if c.residual is not None]
    residuals = tuple(cuts[gid].residual for gid in res_ids)
    slot_left, day_left = ledger(new, fixed_only=True)  # only fixed segments are in new.segments now
    changes_kept: dict[str, int] = {}
    lost_by_event: dict[str, list[str]] = {}
    iters = 0
    stopped_by = "max_iterations"
    replanned: list[str] = []
    if residuals:
        problem = TourProblem(network=net, groups=residuals, slot_min=new.slot_min)
        P, daily, _ = compile_problem(problem)
        # a residual whose end cannot be reached from where it is gets no visit (the engine's shift
        # arithmetic is undefined on an infinite direct trip: inf - inf)
        P.n_cand[~np.isfinite(P.t_direct)] = 0
        for r, gid in enumerate(res_ids):  # a site is visited once a day: drop those seen before t
            seen = {
                net.index(v.site_id)
                for seg in new.segments[gid]
                if seg.route is not None
                for v in seg.route.visits
            }
            if seen:
                keep = [int(j) for j in P.cand[r, : P.n_cand[r]] if int(j) not in seen]
                P.cand[r, : len(keep)] = keep
                P.n_cand[r] = len(keep)
                P.value[r, list(seen)] = 0.0
        S = _ledger_state(P, daily, new.n_slots, slot_left, day_left)
        for r, gid in enumerate(res_ids):
            kept = 0
            for v in cuts[gid].kept if np.isfinite(P.t_direct[r]) else ():
                j = net.index(v.site_id)
                kk = slot_of(v.start, new.slot_min) if P.slot_quota[j] >= 0 else -1
                if append_in_slot(P, S, r, j, kk):
                    kept += 1
                else:
                    lost_by_event.setdefault(gid, []).append(v.site_id)
            changes_kept[gid] = kept
        affected = [
            r
            for r, gid in enumerate(res_ids)
            if gid in lost_by_event or (event.kind == "group_delayed" and gid == event.group_id)
        ]
        replanned = [res_ids[r] for r in affected]
        if affected:
            idx = np.array(affected, dtype=np.int64)
            Psub, Ssub = _sub_problem(P, S, idx)
            order = np.array(
                [
                    k
                    for k in seeding_order(
                        TourProblem(
                            network=net, groups=tuple(residuals[r] for r in affected), slot_min=new.slot_min
                        )
                    )
                ],
                dtype=np.int64,
            )
            seed_protected(Psub, Ssub, order)
            left = None
            if stop.max_runtime_s is not None:  # the search ends early enough to decode in time
                left = max(0.01, DECODE_SHARE * stop.max_runtime_s - (time.perf_counter() - t0))
            sub_stop = StoppingCriterion(
                max_runtime_s=left,
                max_iterations=stop.max_iterations,
                max_no_improvement=stop.max_no_improvement,
            )
            res = run_ils(Psub, Ssub, sub_stop, seed=seed, params=TOUR_PARAMS)
            iters, stopped_by = res.iterations, res.stopped_by
            _write_back(S, res.state, idx)
        routes, unserved = decode(problem, P, S)
        by_gid = {r.group_id: r for r in routes}
        closed = {ev.site_id for ev in new.events if ev.kind == "site_closed"}
        for gid, piece in zip(res_ids, residuals):
            route = by_gid.get(gid)
            new.segments[gid].append(
                Segment.of(e, piece, route)
            )
            us = []
            for u in unserved:
                if u.group_id != gid:
                    continue
                if u.site_id is not None and u.site_id in closed:
                    u = TourUnserved.of(
                        gid, u.site_id, "closed", "the site is closed for the rest of the day"
                    )
                us.append(u)
            new.unserved[gid] = us
    changes = diff_states(state, new, event, lost_by_event)
    stats = SolveStats(
        status=FEASIBLE,
        objective=None,
        runtime_s=time.perf_counter() - t0,
        iterations=iters,
        stopped_by=stopped_by,
        seed=int(seed),
    )
    return Replan(state=new, event=event, changes=tuple(changes), replanned=tuple(replanned), stats=stats)


_EVENT_REASON = {
    "site_closed": "site_closed",
    "road_closed": "road_closed",
    "quota_cut": "quota_cut",
    "group_delayed": "group_delayed",
    "group_cancelled": "group_cancelled",
}


def diff_states(
    old: DayState,
    new: DayState,
    event: DayEvent | None = None,
    lost_by_event: dict[str, list[str]] | None = None,
) -> list[GroupChange]:
    """Every group whose day (visits as site and start minute) differs between ``old`` and ``new``;
    a visit lost because the event made it impossible has the event's kind as its reason
    (``site_closed``, ``road_closed``, ``quota_cut``, ``group_delayed``, ``group_cancelled``), one
    dropped by the re-optimisation ``replanned``, one of a group that left the day ``removed``."""
    from optimizer.days.state import group_visits

    lost_by_event = lost_by_event or {}
    out = []
    for gid in list(old.groups) + [g for g in new.groups if g not in old.groups]:
        before = tuple(_visit_key(v) for v in group_visits(old, gid)) if gid in old.groups else ()
        after = tuple(_visit_key(v) for v in group_visits(new, gid)) if gid in new.groups else ()
        if before == after:
            continue
        after_sites = {s for s, _ in after}
        lost = []
        for s, _ in before:
            if s in after_sites:
                continue
            if gid not in new.groups:
                why = "removed"
            elif event is not None and event.kind == "group_cancelled" and event.group_id == gid:
                why = "group_cancelled"
            elif event is not None and s in lost_by_event.get(gid, []):
                why = _EVENT_REASON[event.kind]
            else:
                why = "replanned"
            lost.append((s, why))
        out.append(GroupChange(gid, before, after, tuple(lost)))
    return out


# --------------------------------------------------------------------------------------------
# the family's contract: play a whole log


def solve(problem, stop: StoppingCriterion, seed: int = 0, params=None):
    """Play ``problem.log`` (a ``DayProblem``) online, as the service would: an empty day, then
    every booking inserted against the ledger (``book``), every cancellation, and every event
    re-planned (``apply_event``) with what is left of ``stop``'s time limit (iteration limits apply
    per event). A log entry that cannot apply (unknown group, time before the last event, ...)
    raises ``InvalidInput`` naming the entry. ``params``: unused (the engine's tour parameters).
    Returns a ``DayPlan``."""
    from optimizer.core.results import Unserved
    from optimizer.days.solution import DayPlan, VersionSummary
    from optimizer.days.state import day_kpis

    t0 = time.perf_counter()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInput("seed", seed, "must be an integer >= 0")
    state, _ = create_day(
        problem.date, problem.network, (), StoppingCriterion(max_iterations=1), slot_min=problem.slot_min
    )
    sl, dl = ledger(state)
    versions = [VersionSummary(1, "first plan", "create", 0, time.perf_counter() - t0)]
    refused: list[Unserved] = []
    iterations = 0
    stopped_by = "max_iterations"
    for i, entry in enumerate(problem.log):
        t1 = time.perf_counter()
        try:
            if entry.kind == "booking":
                res = book(
                    state,
                    entry.group,
                    sl,
                    dl,
                    at=entry.at,
                    wanted_slots=dict(entry.wanted_slots),
                    seed=int(seed),
                    allow_moves=entry.allow_moves,
                )
                if res.status != "booked":
                    why = "; ".join(u.detail for u in res.unserved[:2]) or res.status
                    refused.append(Unserved(item_id=entry.group.id, reason=res.status, detail=why))
                    continue
                commit_booking(state, res, sl, dl)
                state.version += 1
                versions.append(
                    VersionSummary(
                        state.version,
                        f"booking {entry.group.id}",
                        "booking",
                        1 + len(res.moved),
                        time.perf_counter() - t1,
                    )
                )
            elif entry.kind == "cancel":
                cancel_booking(state, entry.group_id, sl, dl)
                state.version += 1
                versions.append(
                    VersionSummary(
                        state.version, f"cancel {entry.group_id}", "cancel", 1, time.perf_counter() - t1
                    )
                )
            else:
                left = None
                if stop.max_runtime_s is not None:
                    left = max(0.01, stop.max_runtime_s - (time.perf_counter() - t0))
                ev_stop = StoppingCriterion(
                    max_runtime_s=left,
                    max_iterations=stop.max_iterations,
                    max_no_improvement=stop.max_no_improvement,
                )
                rep = apply_event(state, entry.event, ev_stop, seed=int(seed))
                state = rep.state
                sl, dl = ledger(state)
                iterations += rep.stats.iterations
                stopped_by = rep.stats.stopped_by or stopped_by
                ev = entry.event
                versions.append(
                    VersionSummary(
                        state.version,
                        f"{ev.kind} at {ev.at:g} min",
                        "event",
                        len(rep.changes),
                        time.perf_counter() - t1,
                    )
                )
        except InvalidInput as e:
            raise InvalidInput(f"log[{i}].{e.field}", e.value, e.message) from None
    lost = tuple(u for gid, us in state.unserved.items() if gid not in state.cancelled for u in us)
    kpis = day_kpis(state)
    stats = SolveStats(
        status=FEASIBLE,
        objective=kpis["total_score"],
        runtime_s=time.perf_counter() - t0,
        iterations=iterations,
        stopped_by=stopped_by,
        seed=int(seed),
    )
    return DayPlan(
        state=state, versions=tuple(versions), unserved=tuple(refused) + lost, kpis=kpis, stats=stats
    )

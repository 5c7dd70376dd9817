"""Independent check of every version of a live day (issue 17): the tour verifier on every
segment, plus what only a day has: continuity of each group's chain of segments, quotas that
change over the day, closures, and fixed prefixes that must not move between versions.

Rules (``DayViolation.kind``)
    every ``optimizer.tours.verify`` kind, for the segments of each epoch checked as one
    ``TourPlan`` of their ``TourGroup`` pieces on that epoch's network (timing, windows, travel,
    score, day windows, must-visits reported, ...; quotas are checked here instead, because
    they change with the clock);
    ``chain``: a group's first segment does not start at its start at its day open or later, a
    segment does not start where and after the previous one ended, the live segment does not end at
    the group's end, or its must-visits are not the group's minus those already seen;
    ``slot_quota``/``daily_quota``: persons entering a site in a slot (over the day) above the
    quota in effect for that slot (``slot_quota_at``: cuts apply to slots beginning at or after
    the cut) or the daily quota, over every visit of every segment;
    ``closed``: a visit of a closed site starting at or after the closure;
    ``duplicate``: a site visited in two segments of one group (once a day, as within a route);
    ``epoch``: a segment planned on a network of the future, or a live segment older than the last
    event that changed the network;
    ``moved`` (``verify_transition``): a visit that had started before the new version's clock,
    or a fixed segment, differs from the previous version.

Nothing is reused from the solver: networks are rebuilt from the events (``network_after``)
and every number is recomputed by ``optimizer.tours.verify``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from optimizer.core.results import Violation
from optimizer.days.problem import slot_of
from optimizer.days.state import DayState, network_after, slot_quota_at
from optimizer.tours.problem import TourProblem
from optimizer.tours.solution import TourPlan, TourUnserved
from optimizer.tours.verify import verify as tours_verify

TOL = 1e-6


@dataclass(frozen=True, slots=True)
class DayViolation(Violation):
    """A broken rule of a day version: ``kind`` (module docstring), ``group_id``/``site_id`` where
    it applies."""

    group_id: str | None = None
    site_id: str | None = None


def _v(kind: str, message: str, group_id: str | None = None, site_id: str | None = None) -> DayViolation:
    return DayViolation(
        item_id=group_id or site_id or "day", kind=kind, message=message, group_id=group_id, site_id=site_id
    )


def _without_quotas(net):
    sites = tuple(dataclasses.replace(s, slot_quota=None, daily_quota=None) for s in net.sites)
    return dataclasses.replace(net, sites=sites)


def verify_state(state: DayState) -> list[DayViolation]:
    """Check one version of a day from scratch; every violation found (``[]`` if none)."""
    out: list[DayViolation] = []
    networks = {}
    by_epoch: dict[int, list] = {}
    for gid, segs in state.segments.items():
        g = state.groups.get(gid)
        if g is None:
            out.append(_v("chain", "segments of a group that is not booked", gid))
            continue
        for i, seg in enumerate(segs):
            if not 0 <= seg.epoch <= len(state.events):
                out.append(_v("epoch", f"segment {i} is on epoch {seg.epoch} of {len(state.events)}", gid))
                continue
            by_epoch.setdefault(seg.epoch, []).append((gid, i, seg))
        out += _check_chain(state, gid, segs)
    for e, items in sorted(by_epoch.items()):
        net = networks.get(e)
        if net is None:
            net = networks[e] = _without_quotas(network_after(state.base, state.events[:e]))
        groups = tuple(seg.tour_group(state.groups[gid]) for gid, _, seg in items)
        problem = TourProblem(network=net, groups=groups, slot_min=state.slot_min)
        routes = tuple(
            seg.route
            for _, _, seg in items
            if seg.route is not None and seg.route.visits or seg.route is not None and seg.fixed
        )
        unserved: list[TourUnserved] = []
        for gid, _, seg in items:
            if seg.fixed:
                continue
            unserved += state.unserved.get(gid, [])
            if seg.route is None and not any(u.site_id is None for u in state.unserved.get(gid, [])):
                unserved.append(TourUnserved.of(gid, None, "time", "no visit planned"))
        plan = TourPlan(routes=routes, unserved=tuple(unserved), kpis={}, slot_min=state.slot_min)
        for v in tours_verify(problem, plan):
            out.append(
                _v(
                    v.kind,
                    f"epoch {e}: {v.message}",
                    getattr(v, "group_id", None),
                    getattr(v, "site_id", None),
                )
            )
    out += _check_capacity(state)
    out += _check_closures(state)
    return out


def _check_chain(state: DayState, gid: str, segs) -> list[DayViolation]:
    out = []
    g = state.groups[gid]
    if not segs:
        return [_v("chain", "a booked group without any segment", gid)]
    first = segs[0]
    if first.start != g.start or first.open < g.day_window[0] - TOL:
        out.append(_v("chain", "the first segment does not start at the group's start inside its day", gid))
    seen: set[str] = set()
    for i, seg in enumerate(segs):
        if abs(seg.close - g.day_window[1]) > TOL:
            out.append(
                _v("chain", f"segment {i} closes at {seg.close}, the group's day at {g.day_window[1]}", gid)
            )
        if i > 0:
            prev = segs[i - 1]
            if not prev.fixed:
                out.append(_v("chain", f"segment {i - 1} is followed by another but is not fixed", gid))
            if seg.start != prev.end:
                out.append(
                    _v(
                        "chain",
                        f"segment {i} starts at {seg.start.label()}, segment {i - 1} ended at "
                        f"{prev.end.label()}",
                        gid,
                    )
                )
            if prev.route is not None and seg.open < prev.route.arrive_end - TOL:
                out.append(
                    _v(
                        "chain",
                        f"segment {i} opens at {seg.open} before segment {i - 1} arrives at "
                        f"{prev.route.arrive_end}",
                        gid,
                    )
                )
            if seg.epoch <= prev.epoch:
                out.append(_v("epoch", f"segment {i} is on epoch {seg.epoch}, not after {prev.epoch}", gid))
        if not seg.fixed:
            want = tuple(m for m in g.must_visit if m not in seen)
            if tuple(seg.must_visit) != want:
                out.append(
                    _v("chain", f"live segment owes must-visits {seg.must_visit}, the group {want}", gid)
                )
            if seg.end != g.end:
                out.append(_v("chain", "the live segment does not end at the group's end", gid))
            if i != len(segs) - 1:
                out.append(_v("chain", "a live segment that is not the last", gid))
            if seg.epoch != len(state.events):
                out.append(
                    _v(
                        "epoch",
                        f"live segment on epoch {seg.epoch}, not the current {len(state.events)}",
                        gid,
                    )
                )
        if seg.route is not None:
            again = sorted({v.site_id for v in seg.route.visits} & seen)
            if again:
                out.append(
                    _v("duplicate", f"segment {i} visits {again} again (a site is visited once a day)", gid)
                )
            seen |= {v.site_id for v in seg.route.visits}
    if gid in state.cancelled and not segs[-1].fixed:
        out.append(_v("chain", "a cancelled group still has a live segment", gid))
    return out


def _check_capacity(state: DayState) -> list[DayViolation]:
    per_slot: dict[tuple[str, int], int] = {}
    per_day: dict[str, int] = {}
    for gid, segs in state.segments.items():
        g = state.groups.get(gid)
        if g is None:
            continue
        for seg in segs:
            if seg.route is None:
                continue
            for v in seg.route.visits:
                key = (v.site_id, slot_of(v.start, state.slot_min))
                per_slot[key] = per_slot.get(key, 0) + g.size
                per_day[v.site_id] = per_day.get(v.site_id, 0) + g.size
    out = []
    for (sid, k), persons in sorted(per_slot.items()):
        if not state.base.has_site(sid):
            continue
        q = slot_quota_at(state.base, state.events, sid, k, state.slot_min)
        if q is not None and persons > q:
            out.append(
                _v(
                    "slot_quota",
                    f"{persons} persons enter {sid} in slot {k} (from {k * state.slot_min:g} min), quota {q}",
                    site_id=sid,
                )
            )
    for sid, persons in sorted(per_day.items()):
        if not state.base.has_site(sid):
            continue
        q = state.base.site(sid).daily_quota
        if q is not None and persons > q:
            out.append(
                _v("daily_quota", f"{persons} persons enter {sid} over the day, quota {q}", site_id=sid)
            )
    return out


def _check_closures(state: DayState) -> list[DayViolation]:
    closed: dict[str, float] = {}
    for ev in state.events:
        if ev.kind == "site_closed":
            closed[ev.site_id] = min(closed.get(ev.site_id, ev.at), ev.at)
    out = []
    if not closed:
        return out
    for gid, segs in state.segments.items():
        for seg in segs:
            for v in seg.route.visits if seg.route is not None else ():
                t = closed.get(v.site_id)
                if t is not None and v.start > t + TOL:
                    out.append(
                        _v(
                            "closed",
                            f"visit of {v.site_id} starts at {v.start}, the site closed at {t}",
                            gid,
                            v.site_id,
                        )
                    )
    return out


def verify_transition(old: DayState, new: DayState) -> list[DayViolation]:
    """``moved`` violations: between two versions, every fixed segment of ``old`` is in ``new``
    unchanged, and every visit of ``old`` that started before ``new.clock`` is in ``new`` with the
    same site and start (a group cancelled or removed by a booking cancellation excepted for
    visits not yet fixed)."""
    out = []
    for gid, segs in old.segments.items():
        new_segs = new.segments.get(gid)
        for i, seg in enumerate(segs):
            if not seg.fixed:
                continue
            if new_segs is None or i >= len(new_segs) or new_segs[i] != seg:
                out.append(_v("moved", f"fixed segment {i} changed", gid))
        if new_segs is None:
            continue
        new_starts = {
            (v.site_id, round(v.start, 6)) for s in new_segs if s.route is not None for v in s.route.visits
        }
        for s in segs:
            for v in s.route.visits if s.route is not None else ():
                if v.start < new.clock - TOL and (v.site_id, round(v.start, 6)) not in new_starts:
                    out.append(
                        _v(
                            "moved",
                            f"visit of {v.site_id} at {v.start}, before the clock {new.clock}, changed",
                            gid,
                            v.site_id,
                        )
                    )
    return out


def verify(problem, plan) -> list[DayViolation]:
    """Check a day played online (``DayProblem``, ``DayPlan``): the last version from scratch
    (``verify_state``), plus that it is the log's day: ``log`` violations when a booked group is
    not a booking of the log (or differs from it), a booking of the log is neither in the day nor
    refused in ``plan.unserved``, or the events are not the log's events in order."""
    state = plan.state
    out = verify_state(state)
    booked = {e.group.id: e.group for e in problem.log if e.kind == "booking"}
    refused = {u.item_id for u in plan.unserved if u.reason in ("full", "unservable")}
    cancelled_by_delete = {e.group_id for e in problem.log if e.kind == "cancel"}
    for gid, g in state.groups.items():
        if gid not in booked:
            out.append(_v("log", "a group in the day that no booking of the log made", gid))
        elif booked[gid] != g:
            out.append(_v("log", "the group differs from its booking", gid))
    for gid in booked:
        if gid not in state.groups and gid not in refused and gid not in cancelled_by_delete:
            out.append(_v("log", "a booking of the log is neither in the day nor refused", gid))
        if gid in state.groups and gid in refused:
            out.append(_v("log", "a refused booking is in the day", gid))
    events = [e.event for e in problem.log if e.kind == "event"]
    if list(state.events) != events:
        out.append(
            _v("log", f"the day has {len(state.events)} events, the log {len(events)} (or another order)")
        )
    return out

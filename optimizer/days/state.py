"""The live state of one day: groups, their segments, the events so far, and the slot ledger.

``DayState`` is the one mutable object of the family (like the engine's ``RouteState``): the
service keeps one per date in memory, changes it only under that date's lock, and stores every
version (``api.services.day_store``). Everything else here is derived from it:

* ``network_at(state, e)``: the network of epoch ``e`` (base network changed by the first ``e``
  events: a closed site's window ends so that no visit starts at or after the closure; a closed
  road is removed and shortest paths recomputed; a quota cut sets the site's slot quota);
* ``slot_quota_at``: the entry quota of a site for one slot (cuts apply to slots that begin at or
  after the cut);
* ``ledger(state)``: persons left per (site, slot) and per site for the day, int64 arrays, after
  every visit of every segment (fixed and live);
* ``day_kpis(state)``: the headline figures of the day.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from optimizer.core.network import Network, shortest_path_matrices
from optimizer.days.problem import NETWORK_EVENTS, DayEvent, Segment, slot_of
from optimizer.tours.problem import MAX_DAY_MIN, TourGroup
from optimizer.tours.solution import TourUnserved

BIG = np.iinfo(np.int64).max // 4
"""Persons left in a slot or day without a limit."""


@dataclass
class DayState:
    """One day's plan at one version (mutable; see the module docstring).

    Attributes
    ----------
    date : str
        ISO date of the day (``2026-08-01``).
    base : Network
        The network before any event.
    slot_min : float
        Entry-slot length, minutes.
    groups : dict[str, TourGroup]
        Every group booked (insertion order = booking order), cancelled ones included.
    segments : dict[str, list[Segment]]
        Each group's segments in time order; the last is live unless fixed.
    unserved : dict[str, list[TourUnserved]]
        What each group's live segment leaves out, with the reason.
    cancelled : set[str]
        Groups cancelled by an event (their fixed segments stay: those visits happened).
    pinned : dict[str, dict[str, float]]
        Groups booked with wanted entry slots, and those slots.
    events : list[DayEvent]
        Events applied so far, in clock order.
    clock : float
        Time of the last event (minutes); nothing before it may change.
    version : int
        Version number (1: the first plan).
    """

    date: str
    base: Network
    slot_min: float = 60.0
    groups: dict[str, TourGroup] = field(default_factory=dict)
    segments: dict[str, list[Segment]] = field(default_factory=dict)
    unserved: dict[str, list[TourUnserved]] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)
    pinned: dict[str, dict[str, float]] = field(default_factory=dict)
    """Groups booked with wanted entry slots (site id -> slot start, minutes): never moved to make
    room for another booking."""
    events: list[DayEvent] = field(default_factory=list)
    clock: float = 0.0
    version: int = 0
    _networks: dict[tuple, Network] = field(default_factory=dict, repr=False, compare=False)
    """Networks by the events that made them (shared by copies: a key names its events exactly)."""

    @property
    def epoch(self) -> int:
        """The current epoch (= number of events applied)."""
        return len(self.events)

    @property
    def n_slots(self) -> int:
        """Slots of the ledger: the whole planning domain 0..``MAX_DAY_MIN``."""
        return int(math.ceil(MAX_DAY_MIN / self.slot_min)) + 1

    def copy(self) -> DayState:
        """A copy whose lists and dicts can be changed without touching this one (segments,
        groups and events are frozen and shared)."""
        return DayState(
            date=self.date,
            base=self.base,
            slot_min=self.slot_min,
            groups=dict(self.groups),
            segments={g: list(s) for g, s in self.segments.items()},
            unserved={g: list(u) for g, u in self.unserved.items()},
            cancelled=set(self.cancelled),
            pinned=dict(self.pinned),
            events=list(self.events),
            clock=self.clock,
            version=self.version,
            _networks=self._networks,
        )

    def live(self, group_id: str) -> Segment | None:
        """The group's live (not fixed) segment, or None."""
        segs = self.segments.get(group_id) or []
        return segs[-1] if segs and not segs[-1].fixed else None


def network_after(base: Network, events: list[DayEvent] | tuple[DayEvent, ...]) -> Network:
    """``base`` changed by ``events`` (site closures, road closures, quota cuts; group events
    leave the network alone). A site closed at ``t`` keeps its opening time and closes so that its
    latest start is ``t`` at most (``window = (open, max(open, min(close, t + visit_min)))``, and
    if ``t`` is at or before opening, nothing can start: ``latest_start < open``)."""
    sites = list(base.sites)
    roads = list(base.roads)
    index = {s.id: i for i, s in enumerate(sites)}
    roads_changed = False
    for ev in events:
        if ev.kind == "site_closed":
            i = index[ev.site_id]
            s = sites[i]
            o, c = s.window
            if ev.at <= o:
                window = (
                    o,
                    o,
                )  # latest start o - visit_min < o: closed all day (a zero-length visit at o at most)
            else:
                window = (o, max(o, min(c, ev.at + s.visit_min)))
            sites[i] = dataclasses.replace(s, window=window)
        elif ev.kind == "quota_cut":
            i = index[ev.site_id]
            sites[i] = dataclasses.replace(sites[i], slot_quota=int(ev.quota))
        elif ev.kind == "road_closed":
            a, b = ev.road
            roads = [r for r in roads if {r.a, r.b} != {a, b}]
            roads_changed = True
    if not roads_changed:
        return dataclasses.replace(base, sites=tuple(sites))
    travel, dist = shortest_path_matrices(tuple(sites), tuple(roads))
    return dataclasses.replace(
        base, sites=tuple(sites), roads=tuple(roads), travel_min=travel, distance_km=dist
    )


def network_at(state: DayState, epoch: int) -> Network:
    """Network of ``epoch`` (cached on the state)."""
    key = tuple(ev for ev in state.events[:epoch] if ev.kind in NETWORK_EVENTS)
    net = state._networks.get(key)
    if net is None:
        net = network_after(state.base, list(key))
        if len(state._networks) > 64:
            state._networks.clear()
        state._networks[key] = net
    return net


def slot_quota_at(
    base: Network, events: list[DayEvent], site_id: str, slot: int, slot_min: float
) -> int | None:
    """Persons per slot admitted at ``site_id`` in ``slot``: the last quota cut of the site made at
    or before the slot begins, else the base quota (None: unlimited)."""
    q = base.site(site_id).slot_quota
    begin = slot * slot_min
    for ev in events:
        if ev.kind == "quota_cut" and ev.site_id == site_id and ev.at <= begin + 1e-9:
            q = int(ev.quota)
    return q


def all_visits(state: DayState):
    """(group id, size, visit) for every visit of every segment of the day."""
    for gid, segs in state.segments.items():
        size = state.groups[gid].size
        for seg in segs:
            if seg.route is not None:
                for v in seg.route.visits:
                    yield gid, size, v


def ledger(state: DayState, fixed_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Persons left: (int64[n, K] per site and slot, int64[n] per site for the day).

    Quotas in effect (``slot_quota_at``) minus the persons of every visit of every segment (only
    the fixed ones with ``fixed_only``). May be negative only if a cut went below what had entered.
    """
    net = state.base
    n, K = net.n, state.n_slots
    slot_left = np.full((n, K), BIG, dtype=np.int64)
    day_left = np.array(
        [s.daily_quota if s.daily_quota is not None else BIG for s in net.sites], dtype=np.int64
    )
    cuts = [ev for ev in state.events if ev.kind == "quota_cut"]
    for j, s in enumerate(net.sites):
        if s.slot_quota is not None:
            slot_left[j, :] = s.slot_quota
    for ev in cuts:
        j = net.index(ev.site_id)
        first = int(math.ceil(ev.at / state.slot_min - 1e-9))
        slot_left[j, first:] = int(ev.quota)
    for gid, segs in state.segments.items():
        size = state.groups[gid].size
        for seg in segs:
            if seg.route is None or (fixed_only and not seg.fixed):
                continue
            for v in seg.route.visits:
                j = net.index(v.site_id)
                slot_left[j, slot_of(v.start, state.slot_min)] -= size
                day_left[j] -= size
    return slot_left, day_left


def group_visits(state: DayState, group_id: str) -> list:
    """Every visit of the group over its segments, in time order."""
    out = []
    for seg in state.segments.get(group_id, []):
        if seg.route is not None:
            out.extend(seg.route.visits)
    return out


def group_summary(state: DayState, group_id: str) -> tuple[bool, float, int]:
    """(served, score, visits) of a group over the whole day. Served: not cancelled, at least one
    visit, and every must-visit seen in some segment."""
    visits = group_visits(state, group_id)
    score = sum(seg.route.score for seg in state.segments.get(group_id, []) if seg.route is not None)
    seen = {v.site_id for v in visits}
    g = state.groups[group_id]
    served = group_id not in state.cancelled and bool(visits) and all(s in seen for s in g.must_visit)
    return served, score, len(visits)


def day_kpis(state: DayState) -> dict[str, float]:
    """Headline figures: ``groups`` (booked, cancelled excluded), ``groups_cancelled``,
    ``groups_served``, ``groups_unrouted`` (no visit at all), ``visitors``, ``visitors_served``,
    ``served_pct``, ``total_score`` (visitor-weighted, every segment, cancelled groups' done visits
    included), ``visits``, ``must_visits_unserved``, ``events``."""
    groups = served = unrouted = visits = visitors = visitors_served = 0
    score = 0.0
    for gid, g in state.groups.items():
        ok, s, nv = group_summary(state, gid)
        score += s
        visits += nv
        if gid in state.cancelled:
            continue
        groups += 1
        visitors += g.size
        if ok:
            served += 1
            visitors_served += g.size
        if nv == 0:
            unrouted += 1
    lost = sum(
        1
        for gid, us in state.unserved.items()
        if gid not in state.cancelled
        for u in us
        if u.site_id is not None
    )
    return {
        "groups": float(groups),
        "groups_cancelled": float(len(state.cancelled)),
        "groups_served": float(served),
        "groups_unrouted": float(unrouted),
        "visitors": float(visitors),
        "visitors_served": float(visitors_served),
        "served_pct": 100.0 * served / groups if groups else 100.0,
        "total_score": float(score),
        "visits": float(visits),
        "must_visits_unserved": float(lost),
        "events": float(len(state.events)),
    }

"""A live day: the nouns of day-of operations (issue 17) on top of the one-day tour problem.

Units: times in minutes from midnight of the planning day (float), as in ``optimizer.tours``;
group sizes and quotas in persons.

A day plan is not made once. Groups book through the day, and disruptions arrive at a clock
time ``t``. The plan of a group is kept as a chain of **segments** (``Segment``): each segment is
a piece of the group's day planned on one **epoch** of the network (the network as changed by
the events so far: epoch 0 is the base network, epoch ``e`` the network after the ``e``-th
event). When an event arrives at ``t``, every group's live segment is cut at ``t``:

* visits that started before ``t`` stay (they are *fixed*: the cut-off part becomes a fixed
  segment that never changes again);
* a group on the road at ``t`` continues to the stop it is driving to (the leg in progress is
  fixed; a coach does not turn round on a mountain road), and a group waiting at a site is there;
* the rest of the group's day, the *residual*, is a ``TourGroup`` of its own: it starts where
  the group will be free (the site it is visiting or driving to, or its start if it has not
  left) at that time (never before ``t``), ends at the group's end, keeps the group's day
  close, size, interests and zone, and must still visit the must-visits it has not seen.

Every segment is therefore an ordinary TOPTW route of a ``TourGroup`` on one network, which is
what lets the tour verifier (``optimizer.tours.verify.check_route``) check each of them.

Events (``DayEvent.kind``)
    ``site_closed``: no visit of ``site_id`` starts at or after ``t`` (visits in progress end);
    ``road_closed``: the road segment between ``road = (a, b)`` is cut from ``t`` (legs that
    leave at or after ``t`` take the next fastest path); ``quota_cut``: the entry quota of
    ``site_id`` becomes ``quota`` persons per slot for every slot that begins at or after ``t``
    (slots already open keep theirs); ``group_delayed``: ``group_id`` is free ``delay_min``
    minutes later than planned (its coach is late); ``group_cancelled``: ``group_id`` stops
    after what it has started.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from optimizer.core.errors import InvalidInput, check_finite
from optimizer.tours.problem import MAX_DAY_MIN, Location, TourGroup
from optimizer.tours.solution import Route

EVENT_KINDS = ("site_closed", "road_closed", "quota_cut", "group_delayed", "group_cancelled")
NETWORK_EVENTS = ("site_closed", "road_closed", "quota_cut")
MAX_DELAY_MIN = 1440.0
MAX_QUOTA = 10_000_000


@dataclass(frozen=True, slots=True)
class DayEvent:
    """A disruption at clock time ``at`` (minutes from midnight); see the module docstring.

    Which fields are required depends on ``kind``: ``site_id`` (site_closed, quota_cut),
    ``road`` (road_closed: two site ids, either order), ``quota`` (quota_cut, persons per slot,
    integer >= 0), ``group_id`` (group_delayed, group_cancelled), ``delay_min`` (group_delayed,
    minutes > 0, at most 1440). Raises ``InvalidInput`` naming the field; whether the site, road
    or group exists is checked against the day (``optimizer.days.solve.apply_event``).
    """

    kind: str
    at: float
    site_id: str | None = None
    road: tuple[str, str] | None = None
    quota: int | None = None
    group_id: str | None = None
    delay_min: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise InvalidInput(
                "event.kind", self.kind, f"unknown event kind; known: {', '.join(EVENT_KINDS)}"
            )
        at = check_finite("event.at", self.at)
        if not 0 <= at <= MAX_DAY_MIN:
            raise InvalidInput(
                "event.at", self.at, f"must be within 0..{MAX_DAY_MIN:g} minutes from midnight"
            )
        need = {
            "site_closed": ("site_id",),
            "quota_cut": ("site_id", "quota"),
            "road_closed": ("road",),
            "group_delayed": ("group_id", "delay_min"),
            "group_cancelled": ("group_id",),
        }[self.kind]
        for name in need:
            if getattr(self, name) is None or getattr(self, name) == "":
                raise InvalidInput(
                    f"event.{name}", getattr(self, name), f"is required for a {self.kind} event"
                )
        if self.road is not None and (
            len(self.road) != 2 or not all(isinstance(x, str) and x for x in self.road)
        ):
            raise InvalidInput("event.road", self.road, "must be two site ids (the ends of the road segment)")
        if self.quota is not None:
            if (
                isinstance(self.quota, bool)
                or not isinstance(self.quota, int)
                or not 0 <= self.quota <= MAX_QUOTA
            ):
                raise InvalidInput(
                    "event.quota", self.quota, f"must be an integer in 0..{MAX_QUOTA:,} persons per slot"
                )
        if self.delay_min is not None:
            d = check_finite("event.delay_min", self.delay_min)
            if not 0 < d <= MAX_DELAY_MIN:
                raise InvalidInput(
                    "event.delay_min", self.delay_min, f"must be in (0, {MAX_DELAY_MIN:g}] minutes"
                )


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of a group's day, planned on the network of ``epoch``.

    Attributes
    ----------
    epoch : int
        Index of the network the piece was planned on (0: base; ``e``: after the ``e``-th event).
    start, end : Location
        Where the piece starts (the group's start, or the site where it was free at a cut) and
        ends (the group's end; for a fixed piece, the site it was at or driving to at the cut).
    open, close : float
        The piece's day window, minutes: it may leave ``start`` from ``open`` and must reach
        ``end`` by ``close``.
    must_visit : tuple[str, ...]
        Must-visits this piece still owes (fixed pieces owe none).
    route : Route | None
        The piece's route (``group_id`` = the group's id); None: no visit planned.
    fixed : bool
        True once cut off by an event: it never changes again.
    """

    epoch: int
    start: Location
    end: Location
    open: float
    close: float
    must_visit: tuple[str, ...]
    route: Route | None
    fixed: bool = False

    @classmethod
    def of(cls, epoch: int, piece: TourGroup, route: Route | None) -> Segment:
        """The open segment that plans ``piece`` (a group's whole day, or the rest of it after a cut:
        its start, end, day window and must-visits) from ``epoch`` with ``route``."""
        return cls(epoch=epoch, start=piece.start, end=piece.end, open=piece.day_window[0],
                   close=piece.day_window[1], must_visit=piece.must_visit, route=route)

    def tour_group(self, group: TourGroup) -> TourGroup:
        """The piece as a ``TourGroup`` of its own (what its route is checked against)."""
        close = max(self.close, self.open)
        return TourGroup(
            id=group.id,
            size=group.size,
            start=self.start,
            end=self.end,
            day_window=(self.open, close),
            must_visit=self.must_visit,
            interests=group.interests,
            zone=group.zone,
        )


def slot_of(start: float, slot_min: float) -> int:
    """Entry slot of a visit starting at ``start`` minutes (slots of ``slot_min`` from midnight)."""
    return int(math.floor(start / slot_min + 1e-9))


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of a day's log: a ``booking`` (``group``, optional ``at`` minutes,
    ``wanted_slots`` as (site id, slot start minutes) pairs, ``allow_moves``), a ``cancel``
    (``group_id``) or an ``event`` (``event``)."""

    kind: str
    group: TourGroup | None = None
    at: float | None = None
    wanted_slots: tuple[tuple[str, float], ...] = ()
    allow_moves: bool = False
    group_id: str | None = None
    event: DayEvent | None = None

    def __post_init__(self) -> None:
        need = {"booking": "group", "cancel": "group_id", "event": "event"}
        if self.kind not in need:
            raise InvalidInput("entry.kind", self.kind, "must be booking, cancel or event")
        if getattr(self, need[self.kind]) is None:
            raise InvalidInput(f"entry.{need[self.kind]}", None, f"is required for a {self.kind} entry")


@dataclass(frozen=True)
class DayProblem:
    """A day to plan online: the network before any event, the slot length, and the log of
    bookings, cancellations and events in the order they arrive (``optimizer.days.solve.solve``
    plays it; ``network`` is a ``optimizer.core.network.Network``)."""

    network: object
    log: tuple[LogEntry, ...]
    date: str = "2026-08-01"
    slot_min: float = 60.0

    def __post_init__(self) -> None:
        if check_finite("slot_min", self.slot_min) < 1:
            raise InvalidInput("slot_min", self.slot_min, "must be >= 1 minute")

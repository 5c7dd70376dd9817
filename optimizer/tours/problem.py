"""The tour planner's problem: tour groups (who, from where to where, when, what they want to see)
on a road network with shared per-slot entry quotas.

Units: time in minutes from midnight of the planning day (float), distance in km, group size in
persons. All classes are frozen and validated on construction; a bad value raises
``InvalidInput`` naming the field and the value.

Time domain. A ``TourProblem`` is one planning day: every group's day window lies within
``[0, MAX_DAY_MIN]`` = 0..2880 min (the planning day and the night after it, room for a late
return), and entry slots are at least ``MIN_SLOT_MIN`` = 1 min long. Times outside are rejected
here, naming the field (e.g. ``group[G1].day_window.close``), so the solver and the verifier,
which both take a constructed ``TourProblem``, see the same domain. The solver's slot grid is
sized by the latest day-window close (at most 2881 slots per site), never by a site's opening
hours (a site may be "open" far beyond the day; only the groups' days bound when it is visited).
Absolute times near 4e9 min (issue 14, case 7) once made the grid 23 GiB; they are now an
``InvalidInput``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from optimizer.core.errors import InvalidInput, check_finite, check_window
from optimizer.core.network import Network

MAX_GROUP_SIZE = 100_000  # persons; far above any tour group, keeps quota arithmetic in int64
MAX_DAY_MIN = 2880.0      # minutes from midnight: a day window lies within the day and the night after
MIN_SLOT_MIN = 1.0        # minutes: shortest entry slot (bounds the solver's slot grid with MAX_DAY_MIN)


@dataclass(frozen=True, slots=True)
class Location:
    """Where a group starts or ends: a site id or a WGS84 point (attached to the nearest node)."""

    site_id: str | None = None
    lat: float | None = None
    lon: float | None = None

    def __post_init__(self) -> None:
        if self.site_id is None and (self.lat is None or self.lon is None):
            raise InvalidInput("location", self, "give a site id or both lat and lon")
        if self.site_id is None:
            lat = check_finite("location.lat", self.lat)
            lon = check_finite("location.lon", self.lon)
            if not -90 <= lat <= 90:
                raise InvalidInput("location.lat", lat, "must be in [-90, 90]")
            if not -180 <= lon <= 180:
                raise InvalidInput("location.lon", lon, "must be in [-180, 180]")

    def label(self) -> str:
        return self.site_id if self.site_id is not None else f"{self.lat:.5f},{self.lon:.5f}"


@dataclass(frozen=True, slots=True)
class TourGroup:
    """One tour group's day: who, from where to where, when, and what they want to see.

    Attributes
    ----------
    id : str
    size : int
        Persons, >= 1. Each visit consumes ``size`` of the site's entry quota.
    start, end : Location
    day_window : tuple[float, float]
        Earliest departure from ``start`` and latest arrival at ``end``, minutes from midnight,
        both within ``[0, MAX_DAY_MIN]`` (0..2880 min; see the module docstring).
    must_visit : tuple[str, ...]
        Site ids the group must see (reported as unserved, with a reason, if impossible).
    interests : Mapping[str, float]
        Site kind -> weight >= 0 multiplying the site score (missing kinds weigh 1.0; 0 excludes:
        such a site is never planned unless it is a must-visit, and a group that values no site
        is unserved with reason ``no_interest``).
    zone : str | None
        Ring/circle id the group must stay within (start and end excepted).
    """

    id: str
    size: int
    start: Location
    end: Location
    day_window: tuple[float, float]
    must_visit: tuple[str, ...] = ()
    interests: Mapping[str, float] = field(default_factory=dict)
    zone: str | None = None

    def __post_init__(self) -> None:
        where = f"group[{self.id}]"
        if not self.id:
            raise InvalidInput(f"{where}.id", self.id, "must be a non-empty string")
        if isinstance(self.size, bool) or not isinstance(self.size, (int, np.integer)) or self.size < 1:
            raise InvalidInput(f"{where}.size", self.size, "must be an integer >= 1 persons")
        if self.size > MAX_GROUP_SIZE:
            raise InvalidInput(f"{where}.size", self.size, f"must be at most {MAX_GROUP_SIZE:,} persons")
        lo, hi = check_window(f"{where}.day_window", self.day_window)
        for name, t in (("open", lo), ("close", hi)):
            if t > MAX_DAY_MIN:
                raise InvalidInput(f"{where}.day_window.{name}", t,
                                   f"must be within 0..{MAX_DAY_MIN:g} minutes from midnight of the planning day "
                                   "(a day plan; times are not absolute)")
        if len(set(self.must_visit)) != len(self.must_visit):
            raise InvalidInput(f"{where}.must_visit", self.must_visit, "lists a site twice")
        for kind, w in self.interests.items():
            if check_finite(f"{where}.interests.{kind}", w) < 0:
                raise InvalidInput(f"{where}.interests.{kind}", w, "must be >= 0")


@dataclass(frozen=True)
class TourProblem:
    """A day of tour groups on a network, with shared per-slot entry quotas.

    Attributes
    ----------
    network : Network
    groups : tuple[TourGroup, ...]
    slot_min : float
        Length of an entry slot, minutes (60: hourly timed entry as at the Potala); at least
        ``MIN_SLOT_MIN`` (1 min).
    must_visit_bonus : float
        Internal objective bonus per visitor for a must-visit (makes them dominate any score).
    access_speed_kmh, access_detour : float
        For a lat/lon start or end: speed and detour ratio of the leg to the nearest road node.

    Validation on construction checks ids (unknown sites, duplicate groups), zones and quotas.
    """

    network: Network
    groups: tuple[TourGroup, ...]
    slot_min: float = 60.0
    must_visit_bonus: float = 1000.0
    access_speed_kmh: float = 30.0
    access_detour: float = 1.3

    def __post_init__(self) -> None:
        if check_finite("slot_min", self.slot_min) < MIN_SLOT_MIN:
            raise InvalidInput("slot_min", self.slot_min, f"must be >= {MIN_SLOT_MIN:g} minute")
        if check_finite("access_speed_kmh", self.access_speed_kmh) <= 0:
            raise InvalidInput("access_speed_kmh", self.access_speed_kmh, "must be > 0")
        if check_finite("access_detour", self.access_detour) < 1:
            raise InvalidInput("access_detour", self.access_detour, "must be >= 1")
        check_finite("must_visit_bonus", self.must_visit_bonus)
        net = self.network
        seen: set[str] = set()
        for g in self.groups:
            where = f"group[{g.id}]"
            if g.id in seen:
                raise InvalidInput(f"{where}.id", g.id, "duplicate group id")
            seen.add(g.id)
            for name, loc in (("start", g.start), ("end", g.end)):
                if loc.site_id is not None and not net.has_site(loc.site_id):
                    raise InvalidInput(f"{where}.{name}", loc.site_id, "unknown site id")
            if g.zone is not None and g.zone not in net.zones:
                raise InvalidInput(f"{where}.zone", g.zone, f"unknown ring/circle; known: {sorted(net.zones)}")
            for sid in g.must_visit:
                if not net.has_site(sid):
                    raise InvalidInput(f"{where}.must_visit", sid, "unknown site id")
                if not net.site(sid).is_poi:
                    raise InvalidInput(f"{where}.must_visit", sid, "is a hub, not a visitable site")
                if g.zone is not None and sid not in net.zones[g.zone]:
                    raise InvalidInput(f"{where}.must_visit", sid, f"is outside the group's zone {g.zone}")

    def group_index(self, group_id: str) -> int:
        for k, g in enumerate(self.groups):
            if g.id == group_id:
                return k
        raise InvalidInput("group_id", group_id, "unknown group id")

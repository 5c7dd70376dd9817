"""Domain nouns of the tour planner: sites, the road network, tour groups, problems and plans.

Units everywhere in the core: time in minutes from midnight of the planning day (float),
distance in km, elevation in m, group size in persons. All classes are frozen and validated on
construction; a bad value raises ``InvalidInput`` naming the field and the value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

MINUTES_PER_DAY = 1440.0
MAX_GROUP_SIZE = 100_000  # persons; far above any tour group, keeps quota arithmetic in int64


class InvalidInput(ValueError):
    """Bad input data. ``field`` names the offending field (dotted path), ``value`` its value."""

    def __init__(self, field_name: str, value: object, message: str) -> None:
        self.field = field_name
        self.value = value
        self.message = message
        super().__init__(f"{field_name}={value!r}: {message}")


def check_finite(field_name: str, value: float) -> float:
    """Return ``value`` as float, raising ``InvalidInput`` if it is not a finite number."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(field_name, value, "not a number") from None
    if not math.isfinite(x):
        raise InvalidInput(field_name, value, "must be a finite number")
    return x


def check_time_limit_s(value: float, field_name: str = "time_limit_s") -> float:
    """Return a solver time limit in seconds as float; ``InvalidInput`` unless finite and > 0 (NaN, inf,
    bools and non-numbers included)."""
    if isinstance(value, bool):
        raise InvalidInput(field_name, value, "must be a finite number of seconds > 0")
    t = check_finite(field_name, value)
    if t <= 0:
        raise InvalidInput(field_name, value, "must be a finite number of seconds > 0")
    return t


def check_window(field_name: str, window: tuple[float, float]) -> tuple[float, float]:
    """Validate a ``(open, close)`` window in minutes from midnight, returning it as floats."""
    if len(window) != 2:
        raise InvalidInput(field_name, window, "a window is a pair (open, close)")
    lo = check_finite(f"{field_name}.open", window[0])
    hi = check_finite(f"{field_name}.close", window[1])
    if lo < 0:
        raise InvalidInput(f"{field_name}.open", lo, "must be >= 0 minutes from midnight")
    if hi < lo:
        raise InvalidInput(field_name, (lo, hi), f"closes at {hi} before it opens at {lo}")
    return (lo, hi)


def fmt_clock(minutes: float) -> str:
    """Format minutes from midnight as HH:MM (rounded down to the minute)."""
    m = int(math.floor(minutes + 1e-9))
    return f"{m // 60:02d}:{m % 60:02d}"


def parse_clock(text: str, field_name: str = "time") -> float:
    """Parse ``HH:MM`` (``24:00`` allowed) into minutes from midnight."""
    try:
        hh, mm = str(text).strip().split(":")
        h, m = int(hh), int(mm)
    except ValueError:
        raise InvalidInput(field_name, text, "expected HH:MM") from None
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m != 0):
        raise InvalidInput(field_name, text, "hour must be 0..24 and minute 0..59")
    return float(h * 60 + m)


@dataclass(frozen=True, slots=True)
class Site:
    """A place on the Lhasa network: a scenic site (score > 0) or a hub (town, station, airport).

    Attributes
    ----------
    id : str
        Stable identifier (``potala``).
    name_en, name_zh : str
        Display names.
    lat, lon : float
        WGS84 degrees.
    elevation_m : float
        Elevation above sea level, m.
    kind : str
        Site kind (``palace``, ``monastery``, ``lake``, ``town``, ``transport`` ...).
    rating : str
        China A-level rating (``5A`` .. ``3A``), ``unk`` if not verified, ``n/a`` for hubs.
    score : float
        Score (prize) of one visit per visitor, >= 0. 0 marks a hub that is not visited.
    visit_min : float
        Service duration of a group visit, minutes, >= 0.
    window : tuple[float, float]
        Opening hours, minutes from midnight. A visit must start and end inside them, so the
        latest start is ``window[1] - visit_min``.
    daily_quota : int | None
        Persons admitted per day (None: unlimited).
    slot_quota : int | None
        Persons admitted per entry slot (None: unlimited). Slots are the problem's slot grid.
    county, coord_conf, provenance : str
        Where it is, how sure its coordinates are, and where its facts come from.
    """

    id: str
    name_en: str
    name_zh: str
    lat: float
    lon: float
    elevation_m: float
    kind: str
    rating: str
    score: float
    visit_min: float
    window: tuple[float, float]
    daily_quota: int | None = None
    slot_quota: int | None = None
    county: str = ""
    coord_conf: str = ""
    provenance: str = ""

    def __post_init__(self) -> None:
        where = f"site[{self.id}]"
        if not self.id:
            raise InvalidInput(f"{where}.id", self.id, "must be a non-empty string")
        lat = check_finite(f"{where}.lat", self.lat)
        lon = check_finite(f"{where}.lon", self.lon)
        if not -90 <= lat <= 90:
            raise InvalidInput(f"{where}.lat", lat, "must be in [-90, 90]")
        if not -180 <= lon <= 180:
            raise InvalidInput(f"{where}.lon", lon, "must be in [-180, 180]")
        check_finite(f"{where}.elevation_m", self.elevation_m)
        if check_finite(f"{where}.score", self.score) < 0:
            raise InvalidInput(f"{where}.score", self.score, "must be >= 0")
        if check_finite(f"{where}.visit_min", self.visit_min) < 0:
            raise InvalidInput(f"{where}.visit_min", self.visit_min, "must be >= 0")
        check_window(f"{where}.window", self.window)
        for name in ("daily_quota", "slot_quota"):
            q = getattr(self, name)
            if q is not None and (not isinstance(q, (int, np.integer)) or q < 0 or q > 10**12):
                raise InvalidInput(f"{where}.{name}", q, "must be an integer in [0, 1e12] or None")

    @property
    def latest_start(self) -> float:
        """Latest start of a visit so that it ends by closing time, minutes."""
        return self.window[1] - self.visit_min

    @property
    def is_poi(self) -> bool:
        """True for a scenic site that groups visit (score > 0)."""
        return self.score > 0


@dataclass(frozen=True, slots=True)
class Road:
    """An undirected road segment between two sites (road nodes).

    ``length_km`` and ``travel_min`` are > 0; ``speed_kmh`` is the typical speed the travel time
    was derived from.
    """

    a: str
    b: str
    name: str
    length_km: float
    speed_kmh: float
    travel_min: float
    max_elev_m: float = float("nan")
    provenance: str = ""

    def __post_init__(self) -> None:
        where = f"road[{self.a}-{self.b}]"
        for name in ("length_km", "travel_min", "speed_kmh"):
            if check_finite(f"{where}.{name}", getattr(self, name)) <= 0:
                raise InvalidInput(f"{where}.{name}", getattr(self, name), "must be > 0")


@dataclass(frozen=True)
class Network:
    """Sites, roads, zones (rings and circles) and all-pairs shortest-path matrices.

    Attributes
    ----------
    sites : tuple[Site, ...]
        Index ``i`` of a site is its row/column in the matrices.
    roads : tuple[Road, ...]
    travel_min : np.ndarray
        float64[n, n], shortest road travel time between sites, minutes (inf if unreachable).
    distance_km : np.ndarray
        float64[n, n], road length of that fastest path, km.
    zones : Mapping[str, tuple[str, ...]]
        Ring or circle id -> member site ids (the 三环八圈 reconstruction, editable data).
    zone_names : Mapping[str, str]
        Ring or circle id -> display name.
    """

    sites: tuple[Site, ...]
    roads: tuple[Road, ...]
    travel_min: np.ndarray
    distance_km: np.ndarray
    zones: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    zone_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.sites)
        ids = [s.id for s in self.sites]
        if len(set(ids)) != n:
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise InvalidInput("sites.id", dup[0], "duplicate site id")
        for name in ("travel_min", "distance_km"):
            m = getattr(self, name)
            if m.shape != (n, n):
                raise InvalidInput(name, m.shape, f"must have shape ({n}, {n})")
        object.__setattr__(self, "_index", {s.id: i for i, s in enumerate(self.sites)})

    def index(self, site_id: str) -> int:
        """Row of ``site_id`` in the matrices; raises ``InvalidInput`` for an unknown id."""
        try:
            return self._index[site_id]  # type: ignore[attr-defined]
        except KeyError:
            raise InvalidInput("site_id", site_id, "unknown site id") from None

    def site(self, site_id: str) -> Site:
        return self.sites[self.index(site_id)]

    def has_site(self, site_id: str) -> bool:
        return site_id in self._index  # type: ignore[attr-defined]

    @property
    def n(self) -> int:
        return len(self.sites)


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
        Earliest departure from ``start`` and latest arrival at ``end``, minutes from midnight.
    must_visit : tuple[str, ...]
        Site ids the group must see (reported as unserved, with a reason, if impossible).
    interests : Mapping[str, float]
        Site kind -> weight >= 0 multiplying the site score (missing kinds weigh 1.0; 0 excludes).
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
        check_window(f"{where}.day_window", self.day_window)
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
        Length of an entry slot, minutes (60: hourly timed entry as at the Potala).
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
        if check_finite("slot_min", self.slot_min) <= 0:
            raise InvalidInput("slot_min", self.slot_min, "must be > 0 minutes")
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


@dataclass(frozen=True, slots=True)
class Visit:
    """One stop of a route: times in minutes from midnight (arrival + wait = start; start + visit = departure)."""

    site_id: str
    arrival: float
    wait: float
    start: float
    departure: float


@dataclass(frozen=True, slots=True)
class Route:
    """A group's day: departure from its start, the visits in order, arrival at its end."""

    group_id: str
    depart: float
    visits: tuple[Visit, ...]
    arrive_end: float
    score: float
    travel_min: float
    distance_km: float


@dataclass(frozen=True, slots=True)
class Unserved:
    """A group or a must-visit that the plan leaves out, with the reason.

    ``site_id`` is None when the whole group is unserved.
    Reasons: ``window`` (cannot be reached inside the site's and the group's windows),
    ``quota`` (reachable but every feasible slot is full), ``time`` (does not fit beside the
    group's other must-visits), ``zone`` (outside the group's zone), ``nothing_fits``.
    """

    group_id: str
    site_id: str | None
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class TourPlan:
    """The planner's answer: one route per served group, what is left out and why, and KPIs."""

    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]
    kpis: Mapping[str, float]
    slot_min: float
    iterations: int = 0
    runtime_s: float = 0.0
    seed: int = 0
    stopped_by: str = ""

    def route(self, group_id: str) -> Route | None:
        for r in self.routes:
            if r.group_id == group_id:
                return r
        return None

    def slot_usage(self, problem: TourProblem) -> dict[tuple[str, int], int]:
        """Persons entering each (site id, slot index) according to this plan."""
        size = {g.id: g.size for g in problem.groups}
        usage: dict[tuple[str, int], int] = {}
        for r in self.routes:
            for v in r.visits:
                key = (v.site_id, int(math.floor(v.start / self.slot_min + 1e-9)))
                usage[key] = usage.get(key, 0) + size[r.group_id]
        return usage

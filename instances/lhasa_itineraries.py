"""Readers of the Lhasa multi-day data (issue 16) and the builder of the Lhasa itinerary problem.

Files (``instances/lhasa/``, every figure tagged S = source, K = general knowledge, A = assumption;
see ``instances/lhasa/SOURCES_itineraries.md``):

- ``hotels.csv``: overnight places, one row per (place, price band): ``id``, names, ``site_id`` (a
  node of the road network), ``elevation_m``, ``rooms`` (rooms per night shared by all groups),
  ``persons_per_room``, ``price_band`` (budget | mid | upscale), ``price_cny`` (per room and night).
- ``site_tickets.csv``: ticket price per site and season (``from``/``to`` as ``MM-DD``, inclusive,
  may wrap the new year), CNY per person; a site without a row is free.
- ``site_windows.csv``: several opening windows per site (``open``/``close`` HH:MM, ``days`` of
  the week, ``max_group`` persons); a site without a row keeps the one window of ``sites.csv``.
- ``site_types.csv`` + ``site_type_limits.csv``: a type per visitable site and "at most n visits of
  a type per group and day".
- ``acclimatization.toml``: the rule set (``AcclimatizationRules``): highest sleeping altitude by
  night since arrival, highest gain per night above a threshold, consecutive nights of gain, highest
  altitude reached by day since arrival.

``load_itinerary_data(data_dir=None)`` reads them all with the road network
(``instances.loader.load_lhasa``) and cross-checks the site ids. Errors are ``RecordError`` (an
``InvalidInput``) naming the file, the row, the field and the value.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np

from instances._csv import (
    MISSING,
    RecordError,
    float_field,
    int_field,
    read_csv_records,
    record_context,
    text_field,
)
from instances.loader import load_lhasa
from instances.paths import LHASA_DIR
from optimizer.core.clock import parse_clock
from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network
from optimizer.itineraries import problem as ip

HOTELS_CSV = LHASA_DIR / "hotels.csv"
SITE_TICKETS_CSV = LHASA_DIR / "site_tickets.csv"
SITE_WINDOWS_CSV = LHASA_DIR / "site_windows.csv"
SITE_TYPES_CSV = LHASA_DIR / "site_types.csv"
SITE_TYPE_LIMITS_CSV = LHASA_DIR / "site_type_limits.csv"
ACCLIMATIZATION_TOML = LHASA_DIR / "acclimatization.toml"

PRICE_BANDS = ("budget", "mid", "upscale")
MAX_GROUP_SIZE = 100_000
"""Persons per group at most (as ``optimizer.tours.problem.MAX_GROUP_SIZE``): far above any group,
keeps room and budget arithmetic in int64/finite floats (an assumption of this reader, not a source)."""
MAX_BUDGET_CNY = 1e9
"""Budget per person at most, CNY: far above any stay; ``budget_cny x size`` stays finite."""
SEASONS = ("peak", "off_peak")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

__all__ = [
    "ACCLIMATIZATION_TOML",
    "HOTELS_CSV",
    "SITE_TICKETS_CSV",
    "SITE_TYPES_CSV",
    "SITE_TYPE_LIMITS_CSV",
    "SITE_WINDOWS_CSV",
    "AcclimatizationRules",
    "Hotel",
    "ItineraryData",
    "SiteWindow",
    "TicketPrice",
    "load_itinerary_data",
    "parse_weekdays",
    "reach_altitudes",
    "read_acclimatization",
    "read_hotels",
    "read_site_tickets",
    "read_site_type_limits",
    "read_site_types",
    "read_site_windows",
]


# --------------------------------------------------------------------------------------------- records

@dataclass(frozen=True, slots=True)
class Hotel:
    """A pool of rooms at one overnight place and price band.

    Attributes
    ----------
    id : str
        Hotel id (unique).
    site_id : str
        The node of the road network the hotel stands at (travel starts and ends there).
    elevation_m : float
        Sleeping altitude, metres above sea level, > 0.
    rooms : int
        Rooms per night shared by every planned group, >= 0.
    persons_per_room : int
        Beds per room, >= 1; a group of ``q`` persons takes ``ceil(q / persons_per_room)`` rooms.
    price_band : str
        ``budget`` | ``mid`` | ``upscale``.
    price_cny : float
        Price per room and night, CNY, >= 0.
    """

    id: str
    site_id: str
    elevation_m: float
    rooms: int
    persons_per_room: int
    price_band: str
    price_cny: float
    name_en: str = ""
    name_zh: str = ""
    provenance: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidInput("id", self.id, "a hotel needs an id")
        if not math.isfinite(self.elevation_m) or self.elevation_m <= 0:
            raise InvalidInput("elevation_m", self.elevation_m, "must be a finite altitude > 0 m")
        if self.rooms < 0:
            raise InvalidInput("rooms", self.rooms, "must be >= 0")
        if self.persons_per_room < 1:
            raise InvalidInput("persons_per_room", self.persons_per_room, "must be >= 1")
        if self.price_band not in PRICE_BANDS:
            raise InvalidInput("price_band", self.price_band, f"must be one of {list(PRICE_BANDS)}")
        if not math.isfinite(self.price_cny) or self.price_cny < 0:
            raise InvalidInput("price_cny", self.price_cny, "must be a finite price >= 0 CNY")

    def rooms_for(self, persons: int) -> int:
        """Rooms a group of ``persons`` takes: ``ceil(persons / persons_per_room)``."""
        return -(-int(persons) // self.persons_per_room)


@dataclass(frozen=True, slots=True)
class TicketPrice:
    """The price of a site's ticket in one season: days ``start``..``end`` (``(month, day)``,
    inclusive; ``start > end`` wraps the new year), ``price_cny`` per person >= 0."""

    site_id: str
    season: str
    start: tuple[int, int]
    end: tuple[int, int]
    price_cny: float
    provenance: str = ""

    def __post_init__(self) -> None:
        if self.season not in SEASONS:
            raise InvalidInput("season", self.season, f"must be one of {list(SEASONS)}")
        if not math.isfinite(self.price_cny) or self.price_cny < 0:
            raise InvalidInput("price_cny", self.price_cny, "must be a finite price >= 0 CNY")

    def covers(self, day: dt.date) -> bool:
        """True if ``day`` falls in this season."""
        md = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end


@dataclass(frozen=True, slots=True)
class SiteWindow:
    """One opening window of a site: ``open_min``..``close_min`` (minutes from midnight) on the
    ``weekdays`` (0 = Monday .. 6 = Sunday), for groups of at most ``max_group`` persons (None: any)."""

    site_id: str
    window_id: str
    open_min: float
    close_min: float
    weekdays: frozenset[int]
    max_group: int | None = None
    label: str = ""
    provenance: str = ""

    def __post_init__(self) -> None:
        if self.close_min <= self.open_min:
            raise InvalidInput("close", self.close_min, f"window closes before it opens at {self.open_min} min")
        if not self.weekdays:
            raise InvalidInput("days", "", "a window needs at least one weekday")
        if self.max_group is not None and self.max_group < 1:
            raise InvalidInput("max_group", self.max_group, "must be >= 1 person (blank: any)")

    def open_on(self, day: dt.date) -> bool:
        """True if the window opens on ``day``'s weekday."""
        return day.weekday() in self.weekdays


@dataclass(frozen=True, slots=True)
class AcclimatizationRules:
    """Acclimatization rules for groups that arrive at ``arrival_altitude_m`` (a planner's parameter set).

    Days and nights count from arrival: day 1 is the arrival day, night 1 the night after it.

    Attributes
    ----------
    max_sleep_altitude_m : tuple[float, ...]
        Highest sleeping altitude (m) on night 1, 2, ...; the last value holds for later nights.
    max_visit_altitude_m : tuple[float, ...]
        Highest altitude (m) reached on day 1, 2, ... (a site, or the highest road point on the
        way); the last value holds for later days.
    max_sleep_gain_m : float
        Highest rise of the sleeping altitude from one night to the next (the first night against
        ``arrival_altitude_m``), counted above ``threshold_m`` (WMS 2019: 500 m above 3,000 m).
    threshold_m : float
        Altitude above which gains count, m.
    max_consecutive_gain_nights : int
        At most this many nights in a row each higher than the one before (WMS: a rest day every
        3-4 days); 0 disables the rule.
    arrival_altitude_m : float
        Altitude of arrival (Lhasa 3,650 m).
    """

    max_sleep_altitude_m: tuple[float, ...]
    max_visit_altitude_m: tuple[float, ...]
    max_sleep_gain_m: float = 500.0
    threshold_m: float = 3000.0
    max_consecutive_gain_nights: int = 3
    arrival_altitude_m: float = 3650.0
    name: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        for name in ("max_sleep_altitude_m", "max_visit_altitude_m"):
            vals = getattr(self, name)
            if len(vals) == 0:
                raise InvalidInput(name, list(vals), "give at least one altitude")
            for k, v in enumerate(vals):
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                    raise InvalidInput(f"{name}[{k}]", v, "must be a finite altitude > 0 m")
        for name in ("max_sleep_gain_m", "threshold_m", "arrival_altitude_m"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise InvalidInput(name, v, "must be a finite number of metres >= 0")
        n = self.max_consecutive_gain_nights
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InvalidInput("max_consecutive_gain_nights", n, "must be an integer >= 0")

    def max_sleep_altitude(self, night: int) -> float:
        """Highest sleeping altitude (m) on ``night`` (1-based since arrival)."""
        if night < 1:
            raise InvalidInput("night", night, "nights count from 1")
        return float(self.max_sleep_altitude_m[min(night, len(self.max_sleep_altitude_m)) - 1])

    def max_visit_altitude(self, day: int) -> float:
        """Highest altitude (m) reached on ``day`` (1-based since arrival)."""
        if day < 1:
            raise InvalidInput("day", day, "days count from 1")
        return float(self.max_visit_altitude_m[min(day, len(self.max_visit_altitude_m)) - 1])

    def sleep_gain_m(self, previous_m: float, next_m: float) -> float:
        """The gain that counts against ``max_sleep_gain_m``: the rise above ``threshold_m``."""
        return max(0.0, max(next_m, self.threshold_m) - max(previous_m, self.threshold_m))

    def check_sleeping(self, altitudes_m: Sequence[float]) -> list[str]:
        """Break-downs of the rules by a sequence of sleeping altitudes (night 1, 2, ...); empty: kept."""
        out: list[str] = []
        prev = self.arrival_altitude_m
        run = 0
        for k, a in enumerate(altitudes_m, start=1):
            cap = self.max_sleep_altitude(k)
            if a > cap + 1e-9:
                out.append(f"night {k}: sleeps at {a:.0f} m above the cap {cap:.0f} m")
            gain = self.sleep_gain_m(prev, a)
            if gain > self.max_sleep_gain_m + 1e-9:
                out.append(f"night {k}: gains {gain:.0f} m over {prev:.0f} m (max {self.max_sleep_gain_m:.0f} m)")
            run = run + 1 if a > prev + 1e-9 else 0
            if self.max_consecutive_gain_nights and run > self.max_consecutive_gain_nights:
                out.append(f"night {k}: {run} nights of gain in a row (max {self.max_consecutive_gain_nights})")
            prev = a
        return out

    def first_day_reaching(self, altitude_m: float, last_day: int = 60) -> int | None:
        """The first day (1-based) on which ``altitude_m`` may be reached; None if none up to ``last_day``."""
        for d in range(1, last_day + 1):
            if altitude_m <= self.max_visit_altitude(d) + 1e-9:
                return d
        return None

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description,
                "arrival_altitude_m": self.arrival_altitude_m, "threshold_m": self.threshold_m,
                "max_sleep_gain_m": self.max_sleep_gain_m,
                "max_consecutive_gain_nights": self.max_consecutive_gain_nights,
                "max_sleep_altitude_m": list(self.max_sleep_altitude_m),
                "max_visit_altitude_m": list(self.max_visit_altitude_m)}


# --------------------------------------------------------------------------------------------- readers

def _path(path: Path | str | None, default: Path) -> Path:
    return Path(path) if path is not None else default


def read_hotels(path: Path | str | None = None) -> tuple[Hotel, ...]:
    """The hotels of ``hotels.csv`` (default: the embedded file), in file order; ids unique."""
    p = _path(path, HOTELS_CSV)
    cols = ("id", "name_en", "name_zh", "site_id", "elevation_m", "rooms", "persons_per_room", "price_band",
            "price_cny", "provenance", "notes")
    _, records = read_csv_records(p, required=cols[:1] + cols[3:9], known=cols)
    out: list[Hotel] = []
    seen: set[str] = set()
    for r in records:
        with record_context(str(p), r.where):
            h = Hotel(id=text_field(r, "id"), site_id=text_field(r, "site_id"),
                      elevation_m=float_field(r, "elevation_m"), rooms=int_field(r, "rooms"),
                      persons_per_room=int_field(r, "persons_per_room"), price_band=text_field(r, "price_band"),
                      price_cny=float_field(r, "price_cny"), name_en=r.values.get("name_en", ""),
                      name_zh=r.values.get("name_zh", ""), provenance=r.values.get("provenance", ""),
                      notes=r.values.get("notes", ""))
            if h.id in seen:
                raise InvalidInput("id", h.id, "hotel id appears twice")
        seen.add(h.id)
        out.append(h)
    return tuple(out)


def _month_day(text: str, name: str) -> tuple[int, int]:
    try:
        mm, dd = text.split("-")
        m, d = int(mm), int(dd)
        dt.date(2024, m, d)  # a leap year: 02-29 allowed
    except ValueError:
        raise InvalidInput(name, text, "expected MM-DD (a day of the year)") from None
    return (m, d)


def read_site_tickets(path: Path | str | None = None) -> tuple[TicketPrice, ...]:
    """Ticket prices of ``site_tickets.csv``; the seasons of one site may not overlap."""
    p = _path(path, SITE_TICKETS_CSV)
    cols = ("site_id", "season", "from", "to", "price_cny", "provenance")
    _, records = read_csv_records(p, required=cols[:5], known=cols)
    out: list[TicketPrice] = []
    for r in records:
        with record_context(str(p), r.where):
            t = TicketPrice(site_id=text_field(r, "site_id"), season=text_field(r, "season"),
                            start=_month_day(text_field(r, "from"), "from"), end=_month_day(text_field(r, "to"), "to"),
                            price_cny=float_field(r, "price_cny"), provenance=r.values.get("provenance", ""))
            for other in out:
                if other.site_id == t.site_id and _seasons_overlap(other, t):
                    raise InvalidInput("from", r.values["from"],
                                       f"season {t.season!r} of {t.site_id!r} overlaps its {other.season!r} season")
        out.append(t)
    return tuple(out)


def _seasons_overlap(a: TicketPrice, b: TicketPrice) -> bool:
    day = dt.date(2024, 1, 1)
    for _ in range(366):
        if a.covers(day) and b.covers(day):
            return True
        day += dt.timedelta(days=1)
    return False


def parse_weekdays(text: str, name: str = "days") -> frozenset[int]:
    """``all`` or a comma list of ``mon``..``sun`` and ranges (``mon-sat``) -> weekday numbers (0 = Monday)."""
    t = text.strip().lower()
    if t in ("all", "daily", ""):
        return frozenset(range(7))
    out: set[int] = set()
    for part in t.split(","):
        part = part.strip()
        ends = part.split("-")
        if len(ends) > 2 or any(e not in WEEKDAYS for e in ends):
            raise InvalidInput(name, text, "expected 'all' or weekdays mon..sun, e.g. 'mon-sat' or 'tue,thu'")
        a, b = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        k = a
        while True:
            out.add(k)
            if k == b:
                break
            k = (k + 1) % 7
    return frozenset(out)


def read_site_windows(path: Path | str | None = None) -> tuple[SiteWindow, ...]:
    """Opening windows of ``site_windows.csv``; (site_id, window_id) unique."""
    p = _path(path, SITE_WINDOWS_CSV)
    cols = ("site_id", "window_id", "open", "close", "days", "max_group", "label", "provenance")
    _, records = read_csv_records(p, required=cols[:5], known=cols)
    out: list[SiteWindow] = []
    seen: set[tuple[str, str]] = set()
    for r in records:
        with record_context(str(p), r.where):
            open_min = parse_clock(text_field(r, "open"), "open")
            close_min = parse_clock(text_field(r, "close"), "close")
            if close_min <= open_min:
                raise InvalidInput("close", r.values["close"], f"closes before it opens at {r.values['open']}")
            w = SiteWindow(site_id=text_field(r, "site_id"), window_id=text_field(r, "window_id"),
                           open_min=open_min, close_min=close_min,
                           weekdays=parse_weekdays(r.values.get("days", "all")),
                           max_group=int_field(r, "max_group", required=False),
                           label=r.values.get("label", ""), provenance=r.values.get("provenance", ""))
            if (w.site_id, w.window_id) in seen:
                raise InvalidInput("window_id", w.window_id, f"appears twice for site {w.site_id!r}")
        seen.add((w.site_id, w.window_id))
        out.append(w)
    return tuple(out)


def read_site_types(path: Path | str | None = None) -> dict[str, str]:
    """``site_types.csv`` as site id -> type; a site appears once."""
    p = _path(path, SITE_TYPES_CSV)
    _, records = read_csv_records(p, required=("site_id", "type"), known=("site_id", "type", "provenance"))
    out: dict[str, str] = {}
    for r in records:
        with record_context(str(p), r.where):
            sid, typ = text_field(r, "site_id"), text_field(r, "type")
            if sid in out:
                raise InvalidInput("site_id", sid, "site appears twice")
        out[sid] = typ
    return out


def read_site_type_limits(path: Path | str | None = None) -> dict[str, int]:
    """``site_type_limits.csv`` as type -> at most this many visits per group and day (>= 1)."""
    p = _path(path, SITE_TYPE_LIMITS_CSV)
    _, records = read_csv_records(p, required=("type", "max_per_day"), known=("type", "max_per_day", "provenance"))
    out: dict[str, int] = {}
    for r in records:
        with record_context(str(p), r.where):
            typ, n = text_field(r, "type"), int_field(r, "max_per_day")
            if n < 1:
                raise InvalidInput("max_per_day", n, "must be >= 1 (drop the type's sites instead)")
            if typ in out:
                raise InvalidInput("type", typ, "type appears twice")
        out[typ] = n
    return out


_RULE_KEYS = ("name", "description", "arrival_altitude_m", "threshold_m", "max_sleep_gain_m",
              "max_consecutive_gain_nights", "max_sleep_altitude_m", "max_visit_altitude_m")


def acclimatization_from_mapping(data: Mapping, source: str = "rules") -> AcclimatizationRules:
    """An ``AcclimatizationRules`` from a mapping with the keys of ``acclimatization.toml`` (the JSON
    body of the API takes the same keys). Unknown keys are an error; missing optional keys take the
    defaults (WMS 2019). Raises ``RecordError`` naming ``source`` and the key."""
    if not isinstance(data, Mapping):
        raise RecordError(source, "file", "rules", data, "expected a table of rules")
    for k in data:
        if k not in _RULE_KEYS:
            raise RecordError(source, "file", str(k), MISSING, f"unknown key; known: {list(_RULE_KEYS)}")
    for k in ("max_sleep_altitude_m", "max_visit_altitude_m"):
        if k not in data:
            raise RecordError(source, "file", k, MISSING, "missing required key")
        if not isinstance(data[k], (list, tuple)):
            raise RecordError(source, "file", k, data[k], "expected a list of altitudes in metres")
    kwargs = {k: data[k] for k in _RULE_KEYS if k in data}
    for k in ("max_sleep_altitude_m", "max_visit_altitude_m"):
        kwargs[k] = tuple(data[k])
    for k in ("name", "description"):
        if k in kwargs and not isinstance(kwargs[k], str):
            raise RecordError(source, "file", k, kwargs[k], "expected a string")
    with record_context(source, "file"):
        return AcclimatizationRules(**kwargs)


def read_acclimatization(path: Path | str | None = None) -> AcclimatizationRules:
    """The rule set of an ``acclimatization.toml`` (default: the embedded WMS-based set)."""
    p = _path(path, ACCLIMATIZATION_TOML)
    if not p.is_file():
        raise RecordError(str(p), "file", "path", str(p), "file not found")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise RecordError(str(p), "file", "path", str(p), f"cannot read TOML: {e}") from None
    return acclimatization_from_mapping(data, str(p))


# --------------------------------------------------------------------------------------------- bundle

@dataclass(frozen=True)
class ItineraryData:
    """Everything the Lhasa itinerary problem is built from (``load_itinerary_data``).

    ``reach_altitude_m[(from_site, to_site)]``: the highest altitude met on the fastest road path
    (sites and road passes, ``reach_altitudes``) for every hotel site and every visitable site.
    """

    network: Network
    hotels: tuple[Hotel, ...]
    tickets: tuple[TicketPrice, ...]
    windows: tuple[SiteWindow, ...]
    site_types: Mapping[str, str]
    type_limits: Mapping[str, int]
    rules: AcclimatizationRules
    reach_altitude_m: Mapping[tuple[str, str], float] = field(default_factory=dict)

    def hotel(self, hotel_id: str) -> Hotel:
        for h in self.hotels:
            if h.id == hotel_id:
                return h
        raise InvalidInput("hotel", hotel_id, "unknown hotel id")

    def ticket_price(self, site_id: str, day: dt.date) -> float:
        """CNY per person for ``site_id`` on ``day`` (0 for a site without a ticket row, or out of season)."""
        for t in self.tickets:
            if t.site_id == site_id and t.covers(day):
                return t.price_cny
        return 0.0

    def windows_on(self, site_id: str, day: dt.date, group_size: int | None = None) -> tuple[tuple[float, float], ...]:
        """Opening windows (minutes) of ``site_id`` on ``day`` for a group of ``group_size`` persons:
        the rows of ``site_windows.csv`` if the site has any (possibly none that day), else the
        one window of ``sites.csv``."""
        rows = [w for w in self.windows if w.site_id == site_id]
        if not rows:
            return (tuple(self.network.site(site_id).window),)
        return tuple((w.open_min, w.close_min) for w in sorted(rows, key=lambda w: w.open_min)
                     if w.open_on(day) and (group_size is None or w.max_group is None or group_size <= w.max_group))


def reach_altitudes(network: Network, sources: Sequence[str], targets: Sequence[str]) -> dict[tuple[str, str], float]:
    """Highest altitude (m) on the fastest road path from each source site to each target site:
    max of both ends' ``elevation_m`` and the ``max_elev_m`` of every road used (of parallel roads
    the faster; a road without ``max_elev_m`` counts its ends only). Unreachable pairs are omitted."""
    g = nx.Graph()
    g.add_nodes_from(s.id for s in network.sites)
    for r in network.roads:
        if r.a == r.b:
            continue
        if g.has_edge(r.a, r.b) and g[r.a][r.b]["w"] <= r.travel_min:
            continue
        top = r.max_elev_m if math.isfinite(r.max_elev_m) else -math.inf
        g.add_edge(r.a, r.b, w=float(r.travel_min), top=float(top))
    elev = {s.id: s.elevation_m for s in network.sites}
    out: dict[tuple[str, str], float] = {}
    wanted = set(targets)
    for src in dict.fromkeys(sources):
        paths = nx.single_source_dijkstra_path(g, src, weight="w")
        for t in wanted:
            path = paths.get(t)
            if path is None:
                continue
            top = max(elev[src], elev[t])
            for a, b in itertools.pairwise(path):
                top = max(top, elev[a], elev[b], g[a][b]["top"])
            out[(src, t)] = float(top)
    return out


def load_itinerary_data(data_dir: Path | str | None = None, rules: AcclimatizationRules | Path | str | None = None
                        ) -> ItineraryData:
    """Read the network and the multi-day files from ``data_dir`` (default: the embedded
    ``instances/lhasa/``) and check that every site id they name is a site of the network, that
    every typed site's type has a limit, and that hotels stand on road nodes.

    ``rules``: an ``AcclimatizationRules``, a TOML path, or None (``acclimatization.toml`` of
    ``data_dir``). Raises ``RecordError`` naming the file, the row, the field and the value.
    """
    d = Path(data_dir) if data_dir is not None else LHASA_DIR
    network = load_lhasa(d)
    hotels = read_hotels(d / HOTELS_CSV.name)
    tickets = read_site_tickets(d / SITE_TICKETS_CSV.name)
    windows = read_site_windows(d / SITE_WINDOWS_CSV.name)
    types = read_site_types(d / SITE_TYPES_CSV.name)
    limits = read_site_type_limits(d / SITE_TYPE_LIMITS_CSV.name)
    if isinstance(rules, AcclimatizationRules):
        rule_set = rules
    else:
        rule_set = read_acclimatization(d / ACCLIMATIZATION_TOML.name if rules is None else rules)
    _check_site_ids(d / HOTELS_CSV.name, [h.site_id for h in hotels], network)
    _check_site_ids(d / SITE_TICKETS_CSV.name, [t.site_id for t in tickets], network)
    _check_site_ids(d / SITE_WINDOWS_CSV.name, [w.site_id for w in windows], network)
    _check_site_ids(d / SITE_TYPES_CSV.name, list(types), network)
    for k, (sid, typ) in enumerate(types.items(), start=1):
        if typ not in limits:
            raise RecordError(str(d / SITE_TYPES_CSV.name), f"row {k}", "type", typ,
                              f"site {sid!r}: type has no row in {SITE_TYPE_LIMITS_CSV.name}")
    visitable = [s.id for s in network.sites if s.is_poi]
    reach = reach_altitudes(network, [h.site_id for h in hotels], visitable + [h.site_id for h in hotels])
    return ItineraryData(network=network, hotels=hotels, tickets=tickets, windows=windows, site_types=types,
                         type_limits=limits, rules=rule_set, reach_altitude_m=reach)


def _check_site_ids(path: Path, ids: Sequence[str], network: Network) -> None:
    for k, sid in enumerate(ids, start=1):
        if not network.has_site(sid):
            raise RecordError(str(path), f"row {k}", "site_id", sid, "is not a site of the network (sites.csv)")


# --------------------------------------------------------------------------------------------- demand

@dataclass(frozen=True, slots=True)
class GroupRequest:
    """One group's multi-day stay in the Lhasa region (a plain record of the demand file).

    Attributes
    ----------
    group_id : str
        Unique id.
    size : int
        Persons, 1..``MAX_GROUP_SIZE``.
    arrival, departure : datetime.date
        First and last day of the stay (``departure >= arrival``; a stay of one day has none of
        the nights). Day 1 of the acclimatization rules is ``arrival``.
    arrival_min, departure_min : float
        Minutes from midnight: when the group is at ``arrive_at`` on its arrival day, and when it
        must be back at ``depart_from`` on its departure day.
    arrive_at, depart_from : str
        Site ids (Gonggar airport, the railway station, a hotel's node).
    must_visit : tuple[str, ...]
        Site ids the group must visit once during the stay.
    interests : Mapping[str, float]
        Site type (``site_types.csv``) -> weight >= 0 of a visit's score.
    day_start_min, day_end_min : float
        Daily window, minutes from midnight: leave the hotel no earlier, be back no later.
    price_band : str | None
        The dearest hotel band the group accepts (budget < mid < upscale; None: any).
    budget_cny : float | None
        Most the group spends per person over the stay on tickets and its share of rooms, CNY
        0..``MAX_BUDGET_CNY`` (None: no budget).
    packed_lunch : bool
        The group carries a packed lunch (long excursions such as a Namtso day trip): no lunch stop
        is planned. Otherwise a lunch stop of ``LUNCH`` is planned every day.
    """

    group_id: str
    size: int
    arrival: dt.date
    departure: dt.date
    arrival_min: float = 720.0
    departure_min: float = 720.0
    arrive_at: str = "gonggar_airport"
    depart_from: str = "gonggar_airport"
    must_visit: tuple[str, ...] = ()
    interests: Mapping[str, float] = field(default_factory=dict)
    day_start_min: float = 480.0
    day_end_min: float = 1200.0
    price_band: str | None = None
    budget_cny: float | None = None
    packed_lunch: bool = False

    def __post_init__(self) -> None:
        if not self.group_id:
            raise InvalidInput("group_id", self.group_id, "a group needs an id")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise InvalidInput("size", self.size, "must be an integer >= 1 persons")
        if self.size > MAX_GROUP_SIZE:
            raise InvalidInput("size", self.size, f"must be at most {MAX_GROUP_SIZE:,} persons")
        if self.departure < self.arrival:
            raise InvalidInput("departure", self.departure.isoformat(),
                               f"departure before arrival {self.arrival.isoformat()}")
        for name in ("arrival_min", "departure_min", "day_start_min", "day_end_min"):
            v = getattr(self, name)
            if not math.isfinite(v) or not 0 <= v <= 1440:
                raise InvalidInput(name, v, "must be minutes from midnight in 0..1440")
        if self.day_end_min <= self.day_start_min:
            raise InvalidInput("day_end", self.day_end_min, f"the day ends before it starts at {self.day_start_min:g} min")
        if self.departure == self.arrival and self.departure_min < self.arrival_min:
            raise InvalidInput("departure_time", self.departure_min, "a one-day stay leaves before it arrives")
        if self.price_band is not None and self.price_band not in PRICE_BANDS:
            raise InvalidInput("price_band", self.price_band, f"must be one of {list(PRICE_BANDS)} or blank")
        if self.budget_cny is not None and (not math.isfinite(self.budget_cny) or self.budget_cny < 0):
            raise InvalidInput("budget_cny", self.budget_cny, "must be a finite budget >= 0 CNY per person (blank: none)")
        if self.budget_cny is not None and self.budget_cny > MAX_BUDGET_CNY:
            raise InvalidInput("budget_cny", self.budget_cny, f"must be at most {MAX_BUDGET_CNY:,.0f} CNY per person "
                               "(blank: no budget)")
        if len(set(self.must_visit)) != len(self.must_visit):
            raise InvalidInput("must_visit", ";".join(self.must_visit), "a site is listed twice")
        for k, w in self.interests.items():
            if not math.isfinite(w) or w < 0:
                raise InvalidInput(f"interests[{k}]", w, "must be a finite weight >= 0")

    @property
    def days(self) -> int:
        """Days of the stay, arrival and departure days included."""
        return (self.departure - self.arrival).days + 1

    @property
    def nights(self) -> int:
        return self.days - 1


DEMAND_COLUMNS = ("group_id", "size", "arrival", "departure", "arrival_time", "departure_time", "arrive_at",
                  "depart_from", "must_visit", "interests", "day_start", "day_end", "price_band", "budget_cny",
                  "packed_lunch")
DEMAND_REQUIRED = ("group_id", "size", "arrival", "departure")


def _date(value: object, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(name, value, "expected a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(name, value, "expected a date YYYY-MM-DD") from None


def _bool(value: object, name: str) -> bool:
    if value is None or value is False or value is True:
        return bool(value)
    if isinstance(value, str):
        t = value.strip().lower()
        if t in ("", "0", "false", "no"):
            return False
        if t in ("1", "true", "yes"):
            return True
    raise InvalidInput(name, value, "expected true/false (or 1/0, yes/no; blank: false)")


def _opt_number(value: object, name: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InvalidInput(name, value, "expected a number")
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(name, value, "expected a number") from None
    if not math.isfinite(x):
        raise InvalidInput(name, value, "must be a finite number")
    return x


def group_request_from_record(rec: Mapping[str, object], network: Network, types: frozenset[str]) -> GroupRequest:
    """A ``GroupRequest`` from one record (a CSV row's text cells or a JSON object): columns of
    ``DEMAND_COLUMNS``; ``must_visit`` ``a;b`` or a list; ``interests`` ``type:w;type:w`` or a mapping;
    times ``HH:MM``. Raises ``InvalidInput`` naming the field and value."""
    from instances.demand import parse_hhmm, parse_interests, parse_site_id, parse_site_list, parse_size

    for k in rec:
        if k not in DEMAND_COLUMNS:
            raise InvalidInput(str(k), MISSING, f"unknown column; known: {list(DEMAND_COLUMNS)}")
    for k in DEMAND_REQUIRED:
        if k not in rec:
            raise InvalidInput(k, MISSING, "missing required column")

    def opt(name: str, default: object) -> object:
        v = rec.get(name)
        return default if v is None or (isinstance(v, str) and not v.strip()) else v

    gid = rec["group_id"]
    if not isinstance(gid, str) or not gid.strip():
        raise InvalidInput("group_id", gid, "expected a non-empty id")
    band = opt("price_band", None)
    if band is not None and not isinstance(band, str):
        raise InvalidInput("price_band", band, f"must be one of {list(PRICE_BANDS)} or blank")
    return GroupRequest(
        group_id=gid.strip(), size=parse_size(rec["size"]),
        arrival=_date(rec["arrival"], "arrival"), departure=_date(rec["departure"], "departure"),
        arrival_min=parse_hhmm(opt("arrival_time", "12:00"), "arrival_time"),
        departure_min=parse_hhmm(opt("departure_time", "12:00"), "departure_time"),
        arrive_at=parse_site_id(opt("arrive_at", "gonggar_airport"), "arrive_at", network),
        depart_from=parse_site_id(opt("depart_from", "gonggar_airport"), "depart_from", network),
        must_visit=parse_site_list(rec.get("must_visit"), "must_visit", network),
        interests=parse_interests(rec.get("interests"), "interests", types),
        day_start_min=parse_hhmm(opt("day_start", "08:00"), "day_start"),
        day_end_min=parse_hhmm(opt("day_end", "20:00"), "day_end"),
        price_band=band.strip() if isinstance(band, str) else None,
        budget_cny=_opt_number(rec.get("budget_cny"), "budget_cny"),
        packed_lunch=_bool(rec.get("packed_lunch"), "packed_lunch"),
    )


def group_requests_from_records(records: Sequence[Mapping[str, object]], network: Network, types: frozenset[str],
                                source: str = "groups", labels: Sequence[str] | None = None) -> tuple[GroupRequest, ...]:
    """Groups from records; ids unique. Raises ``RecordError`` naming ``source``, the record
    (``labels[k]``, default ``index k``), the field and the value."""
    out: list[GroupRequest] = []
    seen: set[str] = set()
    for k, rec in enumerate(records):
        where = labels[k] if labels is not None else f"index {k}"
        with record_context(source, where):
            if not isinstance(rec, Mapping):
                raise InvalidInput("group", rec, "expected an object with the group's fields")
            g = group_request_from_record(rec, network, types)
            if g.group_id in seen:
                raise InvalidInput("group_id", g.group_id, "group id appears twice")
        seen.add(g.group_id)
        out.append(g)
    if not out:
        raise RecordError(source, "file", "groups", MISSING, "no groups")
    return tuple(out)


def read_group_requests(path: Path | str, network: Network, types: frozenset[str]) -> tuple[GroupRequest, ...]:
    """Read a multi-day demand file: CSV (``DEMAND_COLUMNS``, one group per row) or JSON
    (``{"groups": [...]}`` or a list of objects with the same keys). Raises ``RecordError``
    naming the file, the row or index, the field and the value."""
    import json

    p = Path(path)
    if p.suffix.lower() == ".json":
        if not p.is_file():
            raise RecordError(str(p), "file", "path", str(p), "file not found")
        try:
            doc = json.loads(p.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise RecordError(str(p), "file", "path", str(p), f"cannot read JSON: {e}") from None
        records = doc.get("groups") if isinstance(doc, dict) else doc
        if not isinstance(records, list):
            raise RecordError(str(p), "file", "groups", MISSING, "expected a list of groups under 'groups'")
        return group_requests_from_records(records, network, types, str(p))
    if p.suffix.lower() != ".csv":
        raise RecordError(str(p), "file", "path", str(p), "expected a .csv or .json demand file")
    _, records = read_csv_records(p, required=DEMAND_REQUIRED, known=DEMAND_COLUMNS)
    return group_requests_from_records([r.values for r in records], network, types, str(p),
                                       [r.where for r in records])


def group_request_to_record(g: GroupRequest) -> dict[str, object]:
    """The JSON record of a group (the keys of ``DEMAND_COLUMNS``; round-trips through the readers)."""
    from optimizer.core.clock import fmt_clock

    return {"group_id": g.group_id, "size": g.size, "arrival": g.arrival.isoformat(),
            "departure": g.departure.isoformat(), "arrival_time": fmt_clock(g.arrival_min),
            "departure_time": fmt_clock(g.departure_min), "arrive_at": g.arrive_at, "depart_from": g.depart_from,
            "must_visit": list(g.must_visit), "interests": dict(g.interests), "day_start": fmt_clock(g.day_start_min),
            "day_end": fmt_clock(g.day_end_min), "price_band": g.price_band,
            "budget_cny": g.budget_cny, "packed_lunch": g.packed_lunch}


def write_group_requests(groups: Sequence[GroupRequest], path: Path | str) -> Path:
    """Write groups as CSV (``.csv``) or JSON (``.json``); the readers give the same groups back
    (times are written as whole minutes)."""
    import csv
    import json

    p = Path(path)
    recs = [group_request_to_record(g) for g in groups]
    if p.suffix.lower() == ".json":
        p.write_text(json.dumps({"groups": recs}, ensure_ascii=False, indent=1), encoding="utf-8")
        return p
    with p.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(DEMAND_COLUMNS))
        w.writeheader()
        for r in recs:
            row = dict(r)
            row["must_visit"] = ";".join(r["must_visit"])  # type: ignore[arg-type]
            row["interests"] = ";".join(f"{k}:{v:g}" for k, v in r["interests"].items())  # type: ignore[union-attr]
            row["price_band"] = r["price_band"] or ""
            row["budget_cny"] = "" if r["budget_cny"] is None else f"{r['budget_cny']:g}"
            row["packed_lunch"] = "true" if r["packed_lunch"] else ""
            w.writerow(row)
    return p


# --------------------------------------------------------------------------------------------- builder

LUNCH = (690.0, 810.0, 60.0)
"""Lunch of every Lhasa group: starts 11:30-13:30, 60 min (A: a planning convention)."""


@dataclass(frozen=True)
class LhasaItineraryInstance:
    """An ``ItineraryProblem`` built from the Lhasa data and a demand, with what maps it back to
    the calendar: horizon day ``d`` is ``start + d`` days; ``requests`` by group id; ``notes``:
    the approximations the builder made (windows dropped, prices that change within the horizon);
    ``place_site``: the road-network site of every place (site, hotel, terminal) id."""

    problem: ip.ItineraryProblem
    start: dt.date
    data: ItineraryData
    requests: Mapping[str, GroupRequest]
    notes: tuple[str, ...] = ()
    place_site: Mapping[str, str] = field(default_factory=dict)

    def date_of(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))


def unavoidable_altitudes(data: ItineraryData) -> dict[str, float]:
    """Site id -> the lowest, over the hotels' nodes, of the highest altitude on the fastest road
    path to the site (``reach_altitude_m``): what a visit reaches whichever hotel the group sleeps
    at (Namtso: Largen La 5,190 m; Yamdrok: Kamba La 4,990 m). Sites unreachable from every hotel
    keep their own elevation."""
    hotel_nodes = {h.site_id for h in data.hotels}
    out: dict[str, float] = {}
    for s in data.network.sites:
        vals = [data.reach_altitude_m[(h, s.id)] for h in hotel_nodes if (h, s.id) in data.reach_altitude_m]
        out[s.id] = min(vals) if vals else s.elevation_m
    return out


def build_lhasa_problem(groups: Sequence[GroupRequest], data: ItineraryData | None = None,
                        start: dt.date | None = None, name: str = "lhasa", slot_len_min: float = 60.0
                        ) -> LhasaItineraryInstance:
    """Build the Lhasa ``ItineraryProblem`` for ``groups`` over the horizon ``start`` (default: the
    first arrival) .. the last departure.

    Places: every visitable site (score > 0) with its windows per horizon day (``windows_on``:
    several per day, by weekday; converted to windows on the *start* of the visit, ``open..close -
    visit_min``; a window shorter than the visit is dropped), its ticket price on the horizon's
    first day (season of ``site_tickets.csv``), its type (``site_types.csv``), its unavoidable
    altitude (``unavoidable_altitudes``) as elevation, and its quotas; every hotel of
    ``hotels.csv``; the arrival and departure places as terminals. Travel: fastest road paths
    (``instances.loader``). Groups: score of a site = its score x the group's interest weight for
    the site's type (1 for a type the group does not weigh), must-visits on any day, budget =
    ``budget_cny x size`` covering tickets and rooms, ``rooms = ceil(size / persons_per_room)``
    (the largest ``persons_per_room`` of the hotels is not assumed: the smallest is used), the hotels
    of its ``price_band`` or cheaper bands (``allowed_hotels``, when the optimizer has it), the type
    limits per day of ``site_type_limits.csv``, lunch ``LUNCH`` (none with ``packed_lunch``), its day window. Acclimatization:
    ``max_sleep_altitude_m`` by night, ``max_sleep_gain_m`` per night, ``max_visit_altitude_m`` by
    day, ``max_consecutive_gain_nights`` (0: none; the optimizer counts the first night against the
    arrival terminal's elevation, ``check_sleeping`` against ``arrival_altitude_m``: the optimizer
    is the stricter when the terminal is lower) (``threshold_m`` is not part of the optimizer's
    rules: every Lhasa hotel is above 3,000 m so the threshold is moot).

    A window with ``max_group`` (the Jokhang's pilgrim hours, groups of at most 10) is kept only
    if every group fits it (the optimizer's windows are not per group); ``notes`` says so.
    Raises ``InvalidInput`` for an empty demand, a duplicate id, a group outside 365 days.
    """
    d = data if data is not None else load_itinerary_data()
    gs = tuple(groups)
    if not gs:
        raise InvalidInput("groups", [], "give at least one group")
    ids: dict[str, GroupRequest] = {}
    for g in gs:
        if g.group_id in ids:
            raise InvalidInput("group_id", g.group_id, "group id appears twice")
        ids[g.group_id] = g
    t0 = start if start is not None else min(g.arrival for g in gs)
    for g in gs:
        if g.arrival < t0:
            raise InvalidInput(f"group[{g.group_id}].arrival", g.arrival.isoformat(),
                               f"before the horizon start {t0.isoformat()}")
    n_days = (max(g.departure for g in gs) - t0).days + 1
    if n_days > 366:
        raise InvalidInput("departure", max(g.departure for g in gs).isoformat(),
                           f"the horizon from {t0.isoformat()} exceeds 366 days")
    dates = [t0 + dt.timedelta(days=k) for k in range(n_days)]
    net = d.network
    notes: list[str] = []
    largest = max(g.size for g in gs)
    alt = unavoidable_altitudes(d)

    sites: list[ip.Site] = []
    for s in net.sites:
        if not s.is_poi:
            continue
        per_day: list[tuple[tuple[float, float], ...]] = []
        for day in dates:
            ws = []
            rows = [w for w in d.windows if w.site_id == s.id]
            for w in [w for w in rows if w.open_on(day)] if rows else [None]:
                if w is not None and w.max_group is not None and largest > w.max_group:
                    continue
                lo, hi = (w.open_min, w.close_min) if w is not None else (s.window[0], s.window[1])
                if hi - s.visit_min >= lo:
                    ws.append((lo, hi - s.visit_min))
            per_day.append(tuple(ws))
        for w in (w for w in d.windows if w.site_id == s.id):
            if w.close_min - w.open_min < s.visit_min:
                notes.append(f"{s.id}: window {w.window_id} dropped: shorter than the {s.visit_min:g}-min visit")
            elif w.max_group is not None and largest > w.max_group:
                notes.append(f"{s.id}: window {w.window_id} dropped: for groups of at most {w.max_group} persons "
                             f"while the largest group has {largest} (windows are not per group in the optimizer)")
        tw = (per_day[0],) if all(p == per_day[0] for p in per_day) else tuple(per_day)
        prices = {d.ticket_price(s.id, day) for day in dates}
        if len(prices) > 1:
            notes.append(f"{s.id}: ticket price changes within the horizon {sorted(prices)}; "
                         f"the price of {t0.isoformat()} is used")
        typ = d.site_types.get(s.id)
        sites.append(ip.Site(id=s.id, score=s.score, visit_min=s.visit_min, time_windows=tw,
                          ticket_price=d.ticket_price(s.id, t0), types=(typ,) if typ else (),
                          elevation_m=alt[s.id], daily_quota=s.daily_quota, slot_quota=s.slot_quota))
    site_ids = {s.id for s in sites}
    hotels = tuple(ip.Hotel(id=h.id, elevation_m=h.elevation_m, rooms=h.rooms, room_price=h.price_cny)
                   for h in d.hotels)
    hotel_ids = {h.id for h in hotels}
    terminal_of: dict[str, str] = {}
    for g in gs:
        for sid in (g.arrive_at, g.depart_from):
            if sid in terminal_of:
                continue
            tid = sid if sid not in site_ids and sid not in hotel_ids else f"{sid}_terminal"
            terminal_of[sid] = tid
    terminals = tuple(ip.Terminal(id=tid, elevation_m=net.site(sid).elevation_m) for sid, tid in terminal_of.items())
    node = [net.index(s.id) for s in sites] + [net.index(h.site_id) for h in d.hotels] + \
        [net.index(sid) for sid in terminal_of]
    travel = net.travel_min[np.ix_(node, node)]

    per_room = min(h.persons_per_room for h in d.hotels) if d.hotels else 2
    typed_sites = {s.id: s.types[0] for s in sites if s.types}
    types_present = sorted(set(typed_sites.values()))
    band_rank = {b: i for i, b in enumerate(PRICE_BANDS)}
    per_group_hotels = "allowed_hotels" in getattr(ip.Group, "__dataclass_fields__", {})
    if not per_group_hotels and any(g.price_band for g in gs):
        notes.append("price_band not applied: the optimizer has no per-group hotel list (only the budget limits hotels)")
    opt_groups = []
    for g in gs:
        extra: dict[str, object] = {}
        if per_group_hotels and g.price_band is not None:
            allowed = tuple(h.id for h in d.hotels if band_rank[h.price_band] <= band_rank[g.price_band])
            if len(allowed) < len(d.hotels):
                extra["allowed_hotels"] = allowed
        weights = dict(g.interests)
        scores = tuple((s.id, round(s.score * weights.get(typed_sites.get(s.id, ""), 1.0), 2))
                       for s in sites if weights and weights.get(typed_sites.get(s.id, ""), 1.0) != 1.0)
        opt_groups.append(ip.Group(
            id=g.group_id, arrival_day=(g.arrival - t0).days, arrival_min=g.arrival_min,
            arrival_place=terminal_of[g.arrive_at], departure_day=(g.departure - t0).days,
            departure_min=g.departure_min, departure_place=terminal_of[g.depart_from], size=g.size,
            rooms=-(-g.size // per_room), site_scores=scores,
            must_visits=tuple(ip.MustVisit(m) for m in g.must_visit),
            budget=None if g.budget_cny is None else g.budget_cny * g.size, budget_includes_rooms=True,
            max_per_type_day=tuple((t, d.type_limits[t]) for t in types_present if t in d.type_limits),
            lunch=None if g.packed_lunch else ip.Lunch(*LUNCH), day_windows=((g.day_start_min, g.day_end_min),),
            **extra))
    for g in gs:
        for m in g.must_visit:
            if m not in site_ids:
                raise InvalidInput(f"group[{g.group_id}].must_visit", m, "not a visitable site (score 0: a town or hub)")
    r = d.rules
    rules = ip.AcclimatizationRules(max_sleep_m_by_night=r.max_sleep_altitude_m, max_gain_per_night_m=r.max_sleep_gain_m,
                                    max_visit_m_by_day=r.max_visit_altitude_m,
                                    max_consecutive_gain_nights=r.max_consecutive_gain_nights or None)
    problem = ip.ItineraryProblem(name=name, n_days=n_days, sites=tuple(sites), hotels=hotels, groups=tuple(opt_groups),
                               travel_min=travel, terminals=terminals, acclimatization=rules,
                               slot_len_min=slot_len_min)
    place_site = {s.id: s.id for s in sites} | {h.id: h.site_id for h in d.hotels} | \
        {tid: sid for sid, tid in terminal_of.items()}
    return LhasaItineraryInstance(problem=problem, start=t0, data=d, requests=ids, notes=tuple(dict.fromkeys(notes)),
                                  place_site=place_site)

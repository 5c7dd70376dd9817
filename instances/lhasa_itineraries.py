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
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

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

HOTELS_CSV = LHASA_DIR / "hotels.csv"
SITE_TICKETS_CSV = LHASA_DIR / "site_tickets.csv"
SITE_WINDOWS_CSV = LHASA_DIR / "site_windows.csv"
SITE_TYPES_CSV = LHASA_DIR / "site_types.csv"
SITE_TYPE_LIMITS_CSV = LHASA_DIR / "site_type_limits.csv"
ACCLIMATIZATION_TOML = LHASA_DIR / "acclimatization.toml"

PRICE_BANDS = ("budget", "mid", "upscale")
SEASONS = ("peak", "off_peak")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

__all__ = [
    "ACCLIMATIZATION_TOML", "HOTELS_CSV", "SITE_TICKETS_CSV", "SITE_TYPES_CSV", "SITE_TYPE_LIMITS_CSV",
    "SITE_WINDOWS_CSV", "AcclimatizationRules", "Hotel", "ItineraryData", "SiteWindow", "TicketPrice",
    "load_itinerary_data", "parse_weekdays", "read_acclimatization", "read_hotels", "read_site_tickets",
    "read_site_type_limits", "read_site_types", "read_site_windows", "reach_altitudes",
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
            for a, b in zip(path, path[1:]):
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

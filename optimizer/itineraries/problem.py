"""Multi-day itineraries: the problem (one type for OPHS, MCTOPMTW and the Lhasa many-group case).

For itin-data (how to build a problem)
--------------------------------------
An ``ItineraryProblem`` has a horizon of ``n_days`` days (day index ``0..n_days-1``), and
*places* in one travel matrix ``travel_min[P, P]`` (minutes, not necessarily symmetric or metric)
ordered **sites first, then hotels, then terminals**: place ``i`` is ``sites[i]`` for
``i < n_sites``, ``hotels[i - n_sites]`` for the next ``n_hotels``, then ``terminals`` (airport,
railway station: places where a group arrives or leaves but does not sleep or score).
``place_index(id)`` maps an id to its row.

* ``Site``: score (default for every group), ``visit_min``, time windows **per day** on the start
  of the visit (several per day; ``time_windows[d]`` for day ``d``, or one entry used on every day;
  an empty tuple for a day = closed), ticket price per person, types (a site may have several),
  elevation, and quotas shared by all groups: ``daily_quota`` persons per day, ``slot_quota``
  persons per entry slot of ``ItineraryProblem.slot_len_min`` minutes (the slot of a visit is the
  one its start falls in).
* ``Hotel``: elevation, ``rooms`` per night shared by all groups (None: unlimited), room price.
* ``Group``: arrives on ``arrival_day`` at ``arrival_min`` at ``arrival_place`` (a hotel or terminal
  id) and leaves on ``departure_day`` by ``departure_min`` from ``departure_place``. It sleeps
  ``departure_day - arrival_day`` nights (night ``k`` of the horizon is the night after day ``k``);
  ``hotels`` fixes the hotel of some nights of its stay (``hotels[i]`` = night ``arrival_day + i``;
  None or a shorter tuple = the solver chooses). Each day it leaves its hotel (or the arrival place)
  no earlier than ``day_windows`` open and is back at the night's hotel (or the departure place) by
  its close; ``active_min`` caps the minutes between leaving and coming back each day. A ``Lunch``
  is a break of ``duration_min`` that starts inside ``[open_min, close_min]``, taken at the place
  just left (before a travel leg), required on every day whose outing starts before ``close_min``
  and that has time for lunch and the direct leg to the day's end place (lunch never makes a day
  that has time for its direct leg impossible: a group leaving Lhasa at 12:30 for the 67-min drive
  to Gonggar has no lunch stop). On the arrival and departure days, when the direct leg from the
  day's start place to its end place does not fit in the day window (a 09:00 flight, the window
  opening at 08:00), the day is a transfer day: the group goes straight there, before the window
  opens or after it closes.
  ``site_scores`` overrides the site score for this group (its interests; 0 = not interested);
  ``must_visits`` any day or a given day; ``budget`` covers tickets (``ticket_price * size``) and,
  with ``budget_includes_rooms``, rooms (``room_price * rooms`` per night); type limits per day
  (``max_per_type_day``) and over the stay (``max_per_type_trip``).
* ``AcclimatizationRules`` (one for all groups, indexed by days since the group's arrival, ``k =
  0`` the arrival day / first night): ``max_sleep_m_by_night[k]``, ``max_gain_per_night_m``
  (sleeping elevation minus the previous night's, the first night compared with the arrival place),
  ``max_visit_m_by_day[k]``, ``max_consecutive_gain_nights`` (at most this many nights in a row
  each sleeping higher than the night before, the first night against the arrival place: the WMS
  rest day every 3-4 days of ascent). A tuple shorter than the stay repeats its last value; empty
  = no limit.

How the benchmarks map onto it
    * OPHS (Divsalar et al. 2013): one group, ``n_days = D``, every hotel a ``Hotel`` (unlimited
      rooms, price 0), arrival at hotel ``H0`` on day 0 at 0, departure from ``H1`` on day ``D-1``,
      ``day_windows[d] = (0, T_d)``; no windows at sites (one wide window).
    * MCTOPMTW (Souffriau et al. 2013): one group, ``n_days = m`` tours, one hotel (the depot) fixed
      every night, two windows per site per day, ``budget = B`` (tickets, size 1), type limits over
      the whole trip (``max_per_type_trip``).

Units: minutes from midnight of each day (float), elevation metres, prices in one currency (CNY for
Lhasa), persons. Every class is frozen and validated on construction: ``InvalidInput(field, value,
message)`` naming the field (``group[G1].budget``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from optimizer.core.errors import InvalidInput, check_finite, check_window

__all__ = [
    "MAX_DAY_MIN",
    "AcclimatizationRules",
    "Group",
    "Hotel",
    "ItineraryProblem",
    "Lunch",
    "MustVisit",
    "Site",
    "Terminal",
    "Window",
]

Window = tuple[float, float]
MAX_DAY_MIN = 2880.0  # default 'open all day' window and the end of a transfer day


def _check_count(name: str, v: object, lo: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or int(v) < lo:
        raise InvalidInput(name, v, f"must be an integer >= {lo}")
    return int(v)


def _check_nonneg(name: str, v: object) -> float:
    x = check_finite(name, v)
    if x < 0:
        raise InvalidInput(name, v, "must be >= 0")
    return x


def _check_windows(name: str, windows: object) -> tuple[Window, ...]:
    try:
        ws = tuple(tuple(w) for w in windows)  # type: ignore[union-attr]
    except TypeError:
        raise InvalidInput(name, windows, "a tuple of (open, close) windows") from None
    out = tuple(check_window(f"{name}[{i}]", w) for i, w in enumerate(ws))  # type: ignore[arg-type]
    return tuple(sorted(out))


@dataclass(frozen=True, slots=True)
class Site:
    """A site a group may visit (scenic site, monastery, lake ... or an OPHS/MCTOPMTW vertex).

    Attributes
    ----------
    id : str
    score : float
        Default value of a visit, >= 0 (a group's ``site_scores`` overrides it).
    visit_min : float
        Minutes spent on site, >= 0.
    time_windows : tuple[tuple[Window, ...], ...]
        ``time_windows[d]``: windows ``(open, close)`` in minutes from midnight of day ``d`` on the
        *start* of the visit; one entry = the same windows every day; ``()`` for a day: closed.
        Default: open all day ``(0, MAX_DAY_MIN)``.
    ticket_price : float
        Per person, >= 0.
    types : tuple[str, ...]
        Categories counted by type limits (a site may have several, as in MCTOPMTW).
    elevation_m : float
        Metres above sea level (acclimatization rules).
    daily_quota, slot_quota : int | None
        Persons admitted per day / per entry slot, shared by all groups (None: unlimited).
    """

    id: str
    score: float
    visit_min: float
    time_windows: tuple[tuple[Window, ...], ...] = (((0.0, MAX_DAY_MIN),),)
    ticket_price: float = 0.0
    types: tuple[str, ...] = ()
    elevation_m: float = 0.0
    daily_quota: int | None = None
    slot_quota: int | None = None

    def __post_init__(self) -> None:
        f = f"site[{self.id}]"
        object.__setattr__(self, "id", str(self.id))
        object.__setattr__(self, "score", _check_nonneg(f"{f}.score", self.score))
        object.__setattr__(self, "visit_min", _check_nonneg(f"{f}.visit_min", self.visit_min))
        object.__setattr__(self, "ticket_price", _check_nonneg(f"{f}.ticket_price", self.ticket_price))
        object.__setattr__(self, "elevation_m", check_finite(f"{f}.elevation_m", self.elevation_m))
        if len(self.time_windows) == 0:
            raise InvalidInput(f"{f}.time_windows", self.time_windows, "give at least one day of windows")
        object.__setattr__(self, "time_windows", tuple(
            _check_windows(f"{f}.time_windows[{d}]", ws) for d, ws in enumerate(self.time_windows)))
        object.__setattr__(self, "types", tuple(str(t) for t in self.types))
        for q in ("daily_quota", "slot_quota"):
            v = getattr(self, q)
            if v is not None:
                object.__setattr__(self, q, _check_count(f"{f}.{q}", v))

    def windows_on(self, day: int) -> tuple[Window, ...]:
        """Windows on the start of a visit on horizon day ``day``."""
        return self.time_windows[0] if len(self.time_windows) == 1 else self.time_windows[day]


@dataclass(frozen=True, slots=True)
class Hotel:
    """A hotel (or the depot of a benchmark). ``rooms`` per night shared by all groups (None:
    unlimited); ``room_price`` per room per night, >= 0."""

    id: str
    elevation_m: float = 0.0
    rooms: int | None = None
    room_price: float = 0.0

    def __post_init__(self) -> None:
        f = f"hotel[{self.id}]"
        object.__setattr__(self, "id", str(self.id))
        object.__setattr__(self, "elevation_m", check_finite(f"{f}.elevation_m", self.elevation_m))
        object.__setattr__(self, "room_price", _check_nonneg(f"{f}.room_price", self.room_price))
        if self.rooms is not None:
            object.__setattr__(self, "rooms", _check_count(f"{f}.rooms", self.rooms))


@dataclass(frozen=True, slots=True)
class Terminal:
    """A place where groups arrive or leave (airport, railway station); no score, no night."""

    id: str
    elevation_m: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", str(self.id))
        object.__setattr__(self, "elevation_m", check_finite(f"terminal[{self.id}].elevation_m", self.elevation_m))


@dataclass(frozen=True, slots=True)
class MustVisit:
    """A site a group must visit: on any day of its stay (``day`` None) or on horizon day ``day``."""

    site_id: str
    day: int | None = None


@dataclass(frozen=True, slots=True)
class Lunch:
    """A daily break of ``duration_min`` starting within ``[open_min, close_min]`` (minutes from
    midnight), taken at the place the group is at (after a visit or before leaving the hotel)."""

    open_min: float
    close_min: float
    duration_min: float

    def __post_init__(self) -> None:
        lo, hi = check_window("lunch", (self.open_min, self.close_min))
        object.__setattr__(self, "open_min", lo)
        object.__setattr__(self, "close_min", hi)
        object.__setattr__(self, "duration_min", _check_nonneg("lunch.duration_min", self.duration_min))


@dataclass(frozen=True, slots=True)
class Group:
    """A tour group's stay. See the module docstring for the meaning of every field.

    ``day_windows``: one ``(open, close)`` for every day, or one per horizon day (OPHS trip
    lengths). ``active_min``: max minutes between leaving and returning each day (None: no limit).
    ``rooms``: rooms it takes per night. ``budget`` None: no budget. ``allowed_hotels``: the hotels
    it may sleep in (e.g. its price band; None: any), fixed hotels must be among them.
    Raises ``InvalidInput`` on departure before arrival, a negative budget, a size < 1 ...
    """

    id: str
    arrival_day: int
    arrival_min: float
    arrival_place: str
    departure_day: int
    departure_min: float
    departure_place: str
    size: int = 1
    rooms: int = 1
    hotels: tuple[str | None, ...] = ()
    site_scores: tuple[tuple[str, float], ...] = ()
    must_visits: tuple[MustVisit, ...] = ()
    budget: float | None = None
    budget_includes_rooms: bool = False
    max_per_type_day: tuple[tuple[str, int], ...] = ()
    max_per_type_trip: tuple[tuple[str, int], ...] = ()
    lunch: Lunch | None = None
    day_windows: tuple[Window, ...] = ((480.0, 1200.0),)
    active_min: float | None = None
    allowed_hotels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        f = f"group[{self.id}]"
        object.__setattr__(self, "id", str(self.id))
        object.__setattr__(self, "arrival_day", _check_count(f"{f}.arrival_day", self.arrival_day))
        object.__setattr__(self, "departure_day", _check_count(f"{f}.departure_day", self.departure_day))
        object.__setattr__(self, "arrival_min", _check_nonneg(f"{f}.arrival_min", self.arrival_min))
        object.__setattr__(self, "departure_min", _check_nonneg(f"{f}.departure_min", self.departure_min))
        if (self.departure_day, self.departure_min) < (self.arrival_day, self.arrival_min):
            raise InvalidInput(f"{f}.departure_day", (self.departure_day, self.departure_min),
                               f"departure before arrival (day {self.arrival_day}, minute {self.arrival_min:g})")
        object.__setattr__(self, "size", _check_count(f"{f}.size", self.size, 1))
        object.__setattr__(self, "rooms", _check_count(f"{f}.rooms", self.rooms))
        if self.budget is not None:
            object.__setattr__(self, "budget", _check_nonneg(f"{f}.budget", self.budget))
        if len(self.day_windows) == 0:
            raise InvalidInput(f"{f}.day_windows", self.day_windows, "give at least one window")
        object.__setattr__(self, "day_windows", tuple(
            check_window(f"{f}.day_windows[{i}]", w) for i, w in enumerate(self.day_windows)))
        if self.active_min is not None:
            object.__setattr__(self, "active_min", _check_nonneg(f"{f}.active_min", self.active_min))
        scores = tuple((str(s), _check_nonneg(f"{f}.site_scores[{s}]", v)) for s, v in self.site_scores)
        object.__setattr__(self, "site_scores", scores)
        for name in ("max_per_type_day", "max_per_type_trip"):
            lim = tuple((str(t), _check_count(f"{f}.{name}[{t}]", n)) for t, n in getattr(self, name))
            object.__setattr__(self, name, lim)
        if self.allowed_hotels is not None:
            object.__setattr__(self, "allowed_hotels", tuple(str(h) for h in self.allowed_hotels))
        if len(self.hotels) > self.n_nights:
            raise InvalidInput(f"{f}.hotels", self.hotels, f"more entries than the {self.n_nights} nights of the stay")
        for mv in self.must_visits:
            if mv.day is not None and not self.arrival_day <= mv.day <= self.departure_day:
                raise InvalidInput(f"{f}.must_visits[{mv.site_id}].day", mv.day,
                                   f"outside the stay (days {self.arrival_day}..{self.departure_day})")

    @property
    def n_nights(self) -> int:
        return self.departure_day - self.arrival_day

    @property
    def days(self) -> range:
        """Horizon days of the stay (arrival day to departure day, both included)."""
        return range(self.arrival_day, self.departure_day + 1)

    def day_window(self, day: int) -> Window:
        """The window of horizon day ``day``, before arrival/departure times are applied."""
        return self.day_windows[0] if len(self.day_windows) == 1 else self.day_windows[day]

    def fixed_hotel(self, night: int) -> str | None:
        """The hotel fixed for horizon night ``night`` (None: chosen by the solver)."""
        i = night - self.arrival_day
        return self.hotels[i] if 0 <= i < len(self.hotels) else None


@dataclass(frozen=True, slots=True)
class AcclimatizationRules:
    """Altitude rules, indexed by days since arrival (``k = 0``: arrival day and first night).

    ``max_sleep_m_by_night[k]``: highest hotel elevation for night ``k``; ``max_gain_per_night_m``:
    highest rise of sleeping elevation from one night to the next (night 0 against the arrival
    place); ``max_visit_m_by_day[k]``: highest site elevation visited on day ``k``;
    ``max_consecutive_gain_nights``: most nights in a row that each sleep higher than the night
    before (night 0 against the arrival place; any rise counts), an integer >= 1. A tuple shorter
    than the stay repeats its last entry; empty or None: no limit. Source of the Lhasa defaults:
    itin-data's ``instances/lhasa`` (wilderness-medicine guidance, WMS 2019: above 3,000 m raise the
    sleeping altitude by at most 500 m a night, and take a rest day every 3-4 days of ascent).
    Raises ``InvalidInput`` for a non-finite altitude, a negative gain or a run length < 1.
    """

    max_sleep_m_by_night: tuple[float, ...] = ()
    max_gain_per_night_m: float | None = None
    max_visit_m_by_day: tuple[float, ...] = ()
    max_consecutive_gain_nights: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_sleep_m_by_night", "max_visit_m_by_day"):
            object.__setattr__(self, name, tuple(check_finite(f"acclimatization.{name}[{i}]", v)
                                                 for i, v in enumerate(getattr(self, name))))
        if self.max_gain_per_night_m is not None:
            object.__setattr__(self, "max_gain_per_night_m",
                               _check_nonneg("acclimatization.max_gain_per_night_m", self.max_gain_per_night_m))
        if self.max_consecutive_gain_nights is not None:
            object.__setattr__(self, "max_consecutive_gain_nights", _check_count(
                "acclimatization.max_consecutive_gain_nights", self.max_consecutive_gain_nights, 1))

    @staticmethod
    def _at(values: tuple[float, ...], k: int) -> float:
        if not values:
            return math.inf
        return values[min(k, len(values) - 1)]

    def max_sleep_m(self, k: int) -> float:
        return self._at(self.max_sleep_m_by_night, k)

    def max_visit_m(self, k: int) -> float:
        return self._at(self.max_visit_m_by_day, k)


@dataclass(frozen=True, eq=False)
class ItineraryProblem:
    """Groups, sites, hotels and terminals over ``n_days`` days (module docstring for the model).

    Attributes
    ----------
    name : str
    n_days : int
        Days of the horizon, >= 1.
    sites, hotels, terminals : tuple
        Places, in this order in ``travel_min``.
    groups : tuple[Group, ...]
    travel_min : float64[P, P]
        Minutes between places (row to column), finite and >= 0.
    acclimatization : AcclimatizationRules | None
    slot_len_min : float
        Length of an entry slot for ``Site.slot_quota`` (slot ``k`` = ``[k*len, (k+1)*len)``).
    """

    name: str
    n_days: int
    sites: tuple[Site, ...]
    hotels: tuple[Hotel, ...]
    groups: tuple[Group, ...]
    travel_min: np.ndarray
    terminals: tuple[Terminal, ...] = ()
    acclimatization: AcclimatizationRules | None = None
    slot_len_min: float = 60.0
    _index: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_days", _check_count("n_days", self.n_days, 1))
        for name in ("sites", "hotels", "groups", "terminals"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        index: dict[str, int] = {}
        for i, p in enumerate((*self.sites, *self.hotels, *self.terminals)):
            if p.id in index:
                raise InvalidInput("place.id", p.id, "duplicate place id")
            index[p.id] = i
        object.__setattr__(self, "_index", index)
        n_p = len(index)
        try:
            t = np.array(self.travel_min, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidInput("travel_min", self.travel_min, "not a numeric matrix") from None
        if t.shape != (n_p, n_p):
            raise InvalidInput("travel_min", t.shape, f"shape must be ({n_p}, {n_p}) (sites, hotels, terminals)")
        bad = np.argwhere(~np.isfinite(t) | (t < 0))
        if bad.size:
            i, j = (int(v) for v in bad[0])
            raise InvalidInput(f"travel_min[{i},{j}]", float(t[i, j]), "must be finite and >= 0")
        t.setflags(write=False)
        object.__setattr__(self, "travel_min", t)
        sl = check_finite("slot_len_min", self.slot_len_min)
        if sl < 1:
            raise InvalidInput("slot_len_min", sl, "must be >= 1 minute")
        object.__setattr__(self, "slot_len_min", sl)
        for s in self.sites:
            if len(s.time_windows) not in (1, self.n_days):
                raise InvalidInput(f"site[{s.id}].time_windows", len(s.time_windows),
                                   f"give 1 or n_days={self.n_days} days of windows")
        hotel_ids = {h.id for h in self.hotels}
        ends = hotel_ids | {t.id for t in self.terminals}
        site_ids = {s.id for s in self.sites}
        gids: set[str] = set()
        for g in self.groups:
            f = f"group[{g.id}]"
            if g.id in gids:
                raise InvalidInput("group.id", g.id, "duplicate group id")
            gids.add(g.id)
            if g.departure_day >= self.n_days:
                raise InvalidInput(f"{f}.departure_day", g.departure_day, f"beyond the horizon of {self.n_days} days")
            if len(g.day_windows) not in (1, self.n_days):
                raise InvalidInput(f"{f}.day_windows", len(g.day_windows), f"give 1 or n_days={self.n_days} windows")
            for name in ("arrival_place", "departure_place"):
                if getattr(g, name) not in ends:
                    raise InvalidInput(f"{f}.{name}", getattr(g, name), "not a hotel or terminal id")
            for i, h in enumerate(g.hotels):
                if h is not None and h not in hotel_ids:
                    raise InvalidInput(f"{f}.hotels[{i}]", h, "not a hotel id")
                if h is not None and g.allowed_hotels is not None and h not in g.allowed_hotels:
                    raise InvalidInput(f"{f}.hotels[{i}]", h, "not among the group's allowed_hotels")
            if g.allowed_hotels is not None:
                for h in g.allowed_hotels:
                    if h not in hotel_ids:
                        raise InvalidInput(f"{f}.allowed_hotels", h, "not a hotel id")
            for s, _ in g.site_scores:
                if s not in site_ids:
                    raise InvalidInput(f"{f}.site_scores", s, "not a site id")
            for mv in g.must_visits:
                if mv.site_id not in site_ids:
                    raise InvalidInput(f"{f}.must_visits", mv.site_id, "not a site id")

    # ------------------------------------------------------------------ lookups
    @property
    def n_sites(self) -> int:
        return len(self.sites)

    @property
    def n_hotels(self) -> int:
        return len(self.hotels)

    def place_index(self, place_id: str) -> int:
        """Row of ``place_id`` in ``travel_min``; ``KeyError`` if unknown."""
        return self._index[place_id]

    def place_elevation_m(self, place_id: str) -> float:
        i = self._index[place_id]
        places = (*self.sites, *self.hotels, *self.terminals)
        return float(places[i].elevation_m)

    def group_score(self, g: Group) -> np.ndarray:
        """float64[n_sites]: the value of each site for group ``g`` (its overrides applied)."""
        v = np.array([s.score for s in self.sites], dtype=np.float64)
        for sid, val in g.site_scores:
            v[self._index[sid]] = val
        return v

    def __repr__(self) -> str:
        return (f"ItineraryProblem(name={self.name!r}, n_days={self.n_days}, sites={self.n_sites}, "
                f"hotels={self.n_hotels}, terminals={len(self.terminals)}, groups={len(self.groups)})")

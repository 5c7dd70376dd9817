"""The nouns of low-altitude sightseeing flights and the two problems: menu design and the day's schedule.

Units: distance km, speed km/h, altitude and elevation m AMSL, temperature degC, density kg/m^3;
schedule times are whole minutes from midnight of the flying day (``int``; a non-integral value is
rejected, never truncated), durations minutes, seats and party sizes persons. Every class is frozen
and validated on construction; a bad value raises ``InvalidInput`` naming the field and the value.

* Design (:class:`DesignProblem`): the :class:`FlightData` (viewpoints, vertiports, aircraft types,
  airspace) and the cells to design, vertiports x aircraft types x duration classes, at the day's
  temperature. The answer is a menu of :class:`FlightProduct` rows.
* Schedule (:class:`ScheduleProblem`): the menu, the fleet (:class:`Aircraft`), the bookings
  (:class:`Booking`) and the take-off capacity of each vertiport (:class:`VertiportCapacity`). The
  answer assigns bookings to departures.
* :class:`FlightParams`: the back-end options of both (``solve(..., params=FlightParams(...))``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from optimizer.core.airspace import AirDistances, Airspace
from optimizer.core.clock import fmt_clock
from optimizer.core.errors import InvalidInput, check_count, check_finite
from optimizer.core.physics import LAPSE, RHO_SEA, air_density

__all__ = ["AIRCRAFT_KINDS", "BACKENDS", "DEFAULT_DURATIONS_MIN", "TRANSIT_AGL_M", "Aircraft", "AircraftType",
           "Booking", "DesignProblem", "FlightData", "FlightParams", "FlightProduct", "ScheduleProblem", "Vertiport",
           "VertiportCapacity", "Viewpoint", "cell_id", "check_id", "check_minute", "flight_density"]

TRANSIT_AGL_M = 300.0
"""Transit height above the vertiport, m (assumption: the usual VFR sightseeing height)."""
DEFAULT_DURATIONS_MIN = (15, 30, 60)
AIRCRAFT_KINDS = ("evtol", "helicopter")
BACKENDS = ("auto", "cpsat", "highs")
MINUTES = 24 * 60


def check_minute(field_name: str, value: object, lo: int = 0, hi: int = MINUTES) -> int:
    """Return ``value`` as an ``int`` minute in ``[lo, hi]``; reject bools, NaN and fractions."""
    if isinstance(value, bool):
        raise InvalidInput(field_name, value, "must be a whole number of minutes")
    if isinstance(value, (int, np.integer)):
        v = int(value)
    else:
        x = check_finite(field_name, value)
        if x != int(x):
            raise InvalidInput(field_name, value, "must be a whole number of minutes (no fractions)")
        v = int(x)
    if not lo <= v <= hi:
        raise InvalidInput(field_name, value, f"must be within {lo}..{hi} minutes")
    return v


def check_id(field_name: str, value: object) -> str:
    """Return ``value`` if it is a non-blank string (an id), else ``InvalidInput``."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field_name, value, "must be a non-empty id")
    return value


def _check_range(field_name: str, value: object, lo: float, hi: float) -> float:
    x = check_finite(field_name, value)
    if not lo <= x <= hi:
        raise InvalidInput(field_name, value, f"must be within {lo:g}..{hi:g}")
    return x


# ----------------------------------------------------------------------------------------------- design nouns
@dataclass(frozen=True, slots=True)
class Viewpoint:
    """Where an aircraft orbits to show a target.

    Attributes
    ----------
    lon, lat : float
        WGS84 degrees.
    elevation_m : float
        Ground elevation, m AMSL (-500..9000).
    flight_alt_m : float
        Orbit altitude, m AMSL, >= ``elevation_m`` (at most 11000).
    score : float
        Scenic score, >= 0.
    view_min : float
        Minutes of orbiting, >= 0.
    """

    id: str
    name_en: str
    name_zh: str
    lon: float
    lat: float
    elevation_m: float
    flight_alt_m: float
    score: float
    view_min: float

    def __post_init__(self) -> None:
        check_id("viewpoints.id", self.id)
        f = f"viewpoints[{self.id}]"
        _check_range(f"{f}.lon", self.lon, -180, 180)
        _check_range(f"{f}.lat", self.lat, -90, 90)
        elev = _check_range(f"{f}.elevation_m", self.elevation_m, -500, 9000)
        alt = _check_range(f"{f}.flight_alt_m", self.flight_alt_m, -500, 11000)
        if alt < elev:
            raise InvalidInput(f"{f}.flight_alt_m", self.flight_alt_m, f"below the ground elevation {elev:g} m")
        _check_range(f"{f}.score", self.score, 0, 1e6)
        _check_range(f"{f}.view_min", self.view_min, 0, 600)


@dataclass(frozen=True, slots=True)
class Vertiport:
    """A take-off and landing site.

    Attributes
    ----------
    lon, lat : float
        WGS84 degrees.
    elevation_m : float
        Field elevation, m AMSL (-500..9000).
    takeoffs_per_slot : int
        Departures allowed per ``slot_min`` minutes, >= 1.
    slot_min : int
        Length of a take-off slot, minutes.
    open_min, close_min : int
        Opening hours, minutes from midnight.
    """

    id: str
    name_en: str
    name_zh: str
    lon: float
    lat: float
    elevation_m: float
    takeoffs_per_slot: int
    slot_min: int
    open_min: int
    close_min: int

    def __post_init__(self) -> None:
        check_id("vertiports.id", self.id)
        f = f"vertiports[{self.id}]"
        _check_range(f"{f}.lon", self.lon, -180, 180)
        _check_range(f"{f}.lat", self.lat, -90, 90)
        _check_range(f"{f}.elevation_m", self.elevation_m, -500, 9000)
        check_count(f"{f}.takeoffs_per_slot", self.takeoffs_per_slot, 1, 1000)
        check_count(f"{f}.slot_min", self.slot_min, 1, MINUTES)
        lo = check_minute(f"{f}.open_min", self.open_min)
        if check_minute(f"{f}.close_min", self.close_min) <= lo:
            raise InvalidInput(f"{f}.close_min", self.close_min, "closes before it opens")


@dataclass(frozen=True, slots=True)
class AircraftType:
    """A sightseeing aircraft type.

    Attributes
    ----------
    kind : str
        ``evtol`` or ``helicopter``.
    seats, crew : int
        Passenger seats (pilot excluded, 1..100) and crew (0..10).
    mtow_kg : float
        Maximum take-off mass, kg.
    cruise_kmh : float
        Cruise speed, km/h.
    endurance_sea_min : float
        Flight time to empty at sea-level density, minutes.
    reserve_min : float
        Minutes that must remain at landing.
    takeoff_landing_min : float
        Minutes added to every flight for take-off and landing.
    ceiling_m : float
        Highest altitude the type may fly, m AMSL.

    Endurance at altitude: power to hold the aircraft up grows as rho^{-1/2} (Dorling et al. 2017,
    IEEE TSMC: Systems 47(1):70-85, hover-equivalent model; MODELS.md 5.1), so a full battery or tank
    lasts ``endurance_sea_min * sqrt(rho / 1.225)`` minutes. For the helicopter the same scaling of
    fuel flow is an assumption (induced power dominates; profile and parasite power fall with rho, so
    it is conservative).
    """

    id: str
    name: str
    kind: str
    seats: int
    crew: int
    mtow_kg: float
    cruise_kmh: float
    endurance_sea_min: float
    reserve_min: float
    takeoff_landing_min: float
    ceiling_m: float

    def __post_init__(self) -> None:
        check_id("aircraft_types.id", self.id)
        f = f"aircraft_types[{self.id}]"
        if self.kind not in AIRCRAFT_KINDS:
            raise InvalidInput(f"{f}.kind", self.kind, "must be evtol or helicopter")
        check_count(f"{f}.seats", self.seats, 1, 100)
        check_count(f"{f}.crew", self.crew, 0, 10)
        _check_range(f"{f}.mtow_kg", self.mtow_kg, 1, 1e5)
        _check_range(f"{f}.cruise_kmh", self.cruise_kmh, 1, 1000)
        _check_range(f"{f}.endurance_sea_min", self.endurance_sea_min, 1, 2000)
        _check_range(f"{f}.reserve_min", self.reserve_min, 0, 600)
        _check_range(f"{f}.takeoff_landing_min", self.takeoff_landing_min, 0, 120)
        _check_range(f"{f}.ceiling_m", self.ceiling_m, 0, 15000)

    def endurance_min(self, rho: float) -> float:
        """Minutes to empty at density ``rho`` (kg/m^3): ``endurance_sea_min * sqrt(rho / 1.225)``."""
        return self.endurance_sea_min * math.sqrt(rho / RHO_SEA)

    def usable_min(self, rho: float) -> float:
        """Minutes a flight may last at ``rho``: endurance minus the reserve (may be <= 0)."""
        return self.endurance_min(rho) - self.reserve_min

    def leg_min(self, km: float) -> float:
        """Minutes to fly ``km`` at cruise speed."""
        return km / self.cruise_kmh * 60.0


def flight_density(vertiport: Vertiport, max_alt_m: float, temperature_c: float | None) -> float:
    """Air density (kg/m^3) at ``max_alt_m`` on a day with ``temperature_c`` at the vertiport (ISA if None).

    ISA pressure at ``max_alt_m``; the temperature aloft is the vertiport temperature lowered by the
    ISA lapse rate 6.5 K/km (MODELS.md section 0).
    """
    t = None if temperature_c is None else temperature_c - LAPSE * (max_alt_m - vertiport.elevation_m)
    return air_density(max_alt_m, t)


@dataclass(frozen=True, eq=False)
class FlightData:
    """Viewpoints, vertiports, aircraft types and the airspace, with air distances among all points.

    ``km(a, b)`` is the shortest air distance (km) around the buffered no-fly polygons between two
    vertiport or viewpoint ids; ``path(a, b)`` its polyline as (lon, lat). The distances are computed
    once, on construction (equality and hash by identity). Raises ``InvalidInput`` when a vertiport or
    viewpoint lies inside a no-fly zone (field ``vertiports[i]`` / ``viewpoints[i]``, i = position in
    the mapping) or a key differs from its item's id.
    """

    viewpoints: dict[str, Viewpoint]
    vertiports: dict[str, Vertiport]
    aircraft: dict[str, AircraftType]
    airspace: Airspace
    ids: tuple[str, ...] = field(init=False, repr=False, compare=False)
    index: dict[str, int] = field(init=False, repr=False, compare=False)
    dist: AirDistances = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for table, items, cls in (("vertiports", self.vertiports, Vertiport), ("viewpoints", self.viewpoints, Viewpoint),
                                  ("aircraft_types", self.aircraft, AircraftType)):
            for i, (k, p) in enumerate(items.items()):
                if not isinstance(p, cls) or p.id != k:
                    raise InvalidInput(f"{table}[{i}]", k, f"must map the id to a {cls.__name__} with that id")
        for table, items in (("vertiports", self.vertiports), ("viewpoints", self.viewpoints)):
            for i, p in enumerate(items.values()):
                z = self.airspace.zone_containing(p.lon, p.lat)
                if z is not None:
                    raise InvalidInput(f"{table}[{i}]", p.id, f"lies inside no-fly zone {z!r}")
        ids = tuple(self.vertiports) + tuple(self.viewpoints)
        if len(set(ids)) != len(ids):
            dup = sorted(set(self.vertiports) & set(self.viewpoints))
            raise InvalidInput("viewpoints", dup, "an id is both a vertiport and a viewpoint")
        pts = [(p.lon, p.lat) for p in (*self.vertiports.values(), *self.viewpoints.values())]
        object.__setattr__(self, "ids", ids)
        object.__setattr__(self, "index", {k: i for i, k in enumerate(ids)})
        object.__setattr__(self, "dist", AirDistances(self.airspace, pts))

    def lonlat(self, pid: str) -> tuple[float, float]:
        """(lon, lat) of a vertiport or viewpoint id."""
        p = self.vertiports.get(pid) or self.viewpoints[pid]
        return (p.lon, p.lat)

    def km(self, a: str, b: str) -> float:
        """Air distance (km) from ``a`` to ``b`` around the buffered no-fly polygons."""
        return float(self.dist.matrix[self.index[a], self.index[b]])

    def path(self, a: str, b: str) -> list[tuple[float, float]]:
        """The shortest polyline from ``a`` to ``b`` as (lon, lat) pairs."""
        return self.dist.path(self.index[a], self.index[b])


@dataclass(frozen=True)
class DesignProblem:
    """Design a menu: one best route per vertiport x aircraft type x duration class.

    Attributes
    ----------
    data : FlightData
    durations_min : tuple[int, ...]
        Duration classes, whole minutes (1..1440); sorted and deduplicated on construction.
    temperature_c : float | None
        Air temperature at the vertiport, degC (-60..50), lowered by 6.5 K/km aloft; None: ISA.
    vertiports, aircraft_types : tuple[str, ...] | None
        Ids to design for (None: every one of ``data``, in data order).

    Raises ``InvalidInput`` naming ``durations_min[i]``, ``temperature_c``, ``vertiports[i]`` or
    ``aircraft_types[i]``.
    """

    data: FlightData
    durations_min: tuple[int, ...] = DEFAULT_DURATIONS_MIN
    temperature_c: float | None = 15.0
    vertiports: tuple[str, ...] | None = None
    aircraft_types: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.data, FlightData):
            raise InvalidInput("data", type(self.data).__name__, "must be a FlightData")
        if self.temperature_c is not None:
            tc = check_finite("temperature_c", self.temperature_c)
            if not -60.0 <= tc <= 50.0:
                raise InvalidInput("temperature_c", self.temperature_c, "must be within -60..50 degC at the vertiport")
        durs = []
        for i, d in enumerate(self.durations_min):
            if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not 1 <= int(d) <= MINUTES:
                raise InvalidInput(f"durations_min[{i}]", d, "must be a whole number of minutes within 1..1440")
            durs.append(int(d))
        if not durs:
            raise InvalidInput("durations_min", [], "give at least one duration class")
        object.__setattr__(self, "durations_min", tuple(sorted(set(durs))))
        for name, known in (("vertiports", self.data.vertiports), ("aircraft_types", self.data.aircraft)):
            ids = getattr(self, name)
            if ids is None:
                continue
            ids = tuple(ids)
            for i, k in enumerate(ids):
                if k not in known:
                    raise InvalidInput(f"{name}[{i}]", k, f"unknown id (known: {sorted(known)})")
            object.__setattr__(self, name, ids)

    @property
    def vertiport_ids(self) -> tuple[str, ...]:
        return tuple(self.data.vertiports) if self.vertiports is None else self.vertiports

    @property
    def aircraft_type_ids(self) -> tuple[str, ...]:
        return tuple(self.data.aircraft) if self.aircraft_types is None else self.aircraft_types

    def cells(self) -> list[tuple[str, str, int]]:
        """Every (vertiport id, aircraft type id, duration class) to design, in menu order."""
        return [(v, a, d) for v in self.vertiport_ids for a in self.aircraft_type_ids for d in self.durations_min]


def cell_id(vertiport_id: str, aircraft_type_id: str, class_min: int) -> str:
    """The ``item_id`` of a menu cell: ``vertiport/aircraft_type/class_min``."""
    return f"{vertiport_id}/{aircraft_type_id}/{int(class_min)}"


# ----------------------------------------------------------------------------------------------- schedule nouns
@dataclass(frozen=True, slots=True)
class FlightProduct:
    """One sightseeing flight on the menu: a closed route from a vertiport over viewpoints.

    Attributes
    ----------
    id : str
        Stable identifier (``dagze_ga_evtol_30``).
    vertiport_id : str
        Where the flight takes off and lands.
    aircraft_type_id : str
        The aircraft type the route was designed (and its endurance checked) for.
    block_min : int
        Take-off to landing, minutes (flying plus viewing), >= 1.
    score : float
        Sum of the viewpoint scores the route collects, >= 0.
    viewpoints : tuple[str, ...]
        Viewpoint ids in flying order.
    distance_km : float
        Flown distance around no-fly zones, km, >= 0.
    """

    id: str
    vertiport_id: str
    aircraft_type_id: str
    block_min: int
    score: float
    viewpoints: tuple[str, ...] = ()
    distance_km: float = 0.0

    def __post_init__(self) -> None:
        check_id("products.id", self.id)
        check_minute(f"products[{self.id}].block_min", self.block_min, 1, MINUTES)
        if check_finite(f"products[{self.id}].score", self.score) < 0:
            raise InvalidInput(f"products[{self.id}].score", self.score, "must be >= 0")
        if check_finite(f"products[{self.id}].distance_km", self.distance_km) < 0:
            raise InvalidInput(f"products[{self.id}].distance_km", self.distance_km, "must be >= 0")


@dataclass(frozen=True, slots=True)
class Aircraft:
    """One airframe available for the day.

    Attributes
    ----------
    id : str
        Tail id (``evtol_1``).
    type_id : str
        Aircraft type; must match the ``aircraft_type_id`` of every product it flies.
    vertiport_id : str
        Base; it flies only products from this vertiport.
    seats : int
        Passenger seats, >= 1.
    available : tuple[int, int]
        First take-off and last landing, minutes from midnight.
    turnaround_min : int
        Ground time after each landing before the next take-off (boarding, checks), minutes, >= 0.
    recharge_per_block_min : float
        Extra ground minutes per minute flown (battery recharge or refuelling), >= 0; the ground time
        after a flight of ``b`` block minutes is ``turnaround_min + ceil(recharge_per_block_min * b)``.
    """

    id: str
    type_id: str
    vertiport_id: str
    seats: int
    available: tuple[int, int]
    turnaround_min: int = 15
    recharge_per_block_min: float = 0.0

    def __post_init__(self) -> None:
        check_id("aircraft.id", self.id)
        check_count(f"aircraft[{self.id}].seats", self.seats, 1, 500)
        lo = check_minute(f"aircraft[{self.id}].available.open", self.available[0])
        hi = check_minute(f"aircraft[{self.id}].available.close", self.available[1])
        if hi <= lo:
            raise InvalidInput(f"aircraft[{self.id}].available", self.available, "closes before it opens")
        check_minute(f"aircraft[{self.id}].turnaround_min", self.turnaround_min, 0, MINUTES)
        r = check_finite(f"aircraft[{self.id}].recharge_per_block_min", self.recharge_per_block_min)
        if not 0 <= r <= 100:
            raise InvalidInput(f"aircraft[{self.id}].recharge_per_block_min", r, "must be within 0..100")

    def ground_min(self, block_min: int) -> int:
        """Ground minutes after a flight of ``block_min`` before the next take-off."""
        return self.turnaround_min + int(np.ceil(self.recharge_per_block_min * block_min - 1e-9))


@dataclass(frozen=True, slots=True)
class Booking:
    """A party that wants to fly one product within a time window.

    Attributes
    ----------
    id : str
        Booking reference.
    product_id : str
        The product booked.
    party_size : int
        Persons who fly together on one departure, >= 1.
    window : tuple[int, int]
        Earliest and latest acceptable take-off, minutes from midnight.
    desired_min : int
        Preferred take-off, minutes from midnight, inside ``window``.
    """

    id: str
    product_id: str
    party_size: int
    window: tuple[int, int]
    desired_min: int

    def __post_init__(self) -> None:
        check_id("bookings.id", self.id)
        check_count(f"bookings[{self.id}].party_size", self.party_size, 1, 500)
        lo = check_minute(f"bookings[{self.id}].window.open", self.window[0])
        hi = check_minute(f"bookings[{self.id}].window.close", self.window[1])
        if hi < lo:  # named as HH:MM, as bookings are written (the window was shown in minutes)
            raise InvalidInput(f"bookings[{self.id}].window", (fmt_clock(lo), fmt_clock(hi)), "closes before it opens")
        desired = check_minute(f"bookings[{self.id}].desired_min", self.desired_min)
        if not lo <= desired <= hi:
            raise InvalidInput(f"bookings[{self.id}].desired_min", fmt_clock(desired),
                               f"must be within the booking's window {fmt_clock(lo)}..{fmt_clock(hi)}")


@dataclass(frozen=True, slots=True)
class VertiportCapacity:
    """Take-off capacity of one vertiport on the schedule's slot grid.

    Attributes
    ----------
    id : str
        Vertiport id (the ``vertiport_id`` of products and aircraft).
    takeoffs_per_slot : int
        Take-offs allowed per slot of ``ScheduleProblem.slot_min`` minutes, >= 1.
    hours : tuple[int, int]
        Opening and closing minute; take-offs and landings must fall inside.
    """

    id: str
    takeoffs_per_slot: int = 2
    hours: tuple[int, int] = (0, MINUTES)

    def __post_init__(self) -> None:
        check_count(f"vertiports[{self.id}].takeoffs_per_slot", self.takeoffs_per_slot, 1, 1000)
        lo = check_minute(f"vertiports[{self.id}].hours.open", self.hours[0])
        hi = check_minute(f"vertiports[{self.id}].hours.close", self.hours[1])
        if hi <= lo:
            raise InvalidInput(f"vertiports[{self.id}].hours", self.hours, "closes before it opens")


@dataclass(frozen=True)
class ScheduleProblem:
    """One flying day: the menu, the fleet, the bookings and the vertiport capacities.

    Attributes
    ----------
    products, aircraft, bookings : tuple
        :class:`FlightProduct`, :class:`Aircraft`, :class:`Booking` (lists are turned into tuples).
    vertiports : tuple[VertiportCapacity, ...]
        Capacities; a vertiport not listed gets ``default_takeoffs_per_slot`` and opens all day.
    slot_min : int
        Length of a take-off capacity slot, minutes (slot s = ``[s*slot_min, (s+1)*slot_min)``).
    start_step_min : int
        Grid of candidate take-off times, minutes (take-offs at multiples of it).
    default_takeoffs_per_slot : int
        Capacity of vertiports not listed in ``vertiports``.

    Raises ``InvalidInput`` naming the field: duplicate ids, a booking of an unknown product, an
    aircraft whose type and base no product uses, a vertiport listed twice, bad grid values.
    """

    products: tuple[FlightProduct, ...]
    aircraft: tuple[Aircraft, ...]
    bookings: tuple[Booking, ...]
    vertiports: tuple[VertiportCapacity, ...] = ()
    slot_min: int = 10
    start_step_min: int = 10
    default_takeoffs_per_slot: int = 2

    def __post_init__(self) -> None:
        for name, cls in (("products", FlightProduct), ("aircraft", Aircraft), ("bookings", Booking),
                          ("vertiports", VertiportCapacity)):
            items = tuple(getattr(self, name))
            object.__setattr__(self, name, items)
            seen: set[str] = set()
            for i, it in enumerate(items):
                if not isinstance(it, cls):
                    raise InvalidInput(f"{name}[{i}]", type(it).__name__, f"must be a {cls.__name__}")
                if it.id in seen:
                    raise InvalidInput(f"{name}[{i}].id", it.id, f"duplicate {name[:-1] if name != 'aircraft' else name} id")
                seen.add(it.id)
        check_count("slot_min", self.slot_min, 1, MINUTES)
        check_count("start_step_min", self.start_step_min, 1, MINUTES)
        check_count("default_takeoffs_per_slot", self.default_takeoffs_per_slot, 1, 1000)
        pids = {p.id for p in self.products}
        for b in self.bookings:
            if b.product_id not in pids:
                known = sorted(pids)
                shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
                raise InvalidInput(f"bookings[{b.id}].product_id", b.product_id,
                                   f"not a product of this schedule's menu ({shown})")
        flown = {(p.vertiport_id, p.aircraft_type_id) for p in self.products}
        types = {p.aircraft_type_id for p in self.products}
        for a in self.aircraft:
            if a.type_id not in types:
                raise InvalidInput(f"aircraft[{a.id}].type_id", a.type_id, "no product is designed for this type")
            if (a.vertiport_id, a.type_id) not in flown:
                raise InvalidInput(f"aircraft[{a.id}].vertiport_id", a.vertiport_id,
                                   f"no product of type {a.type_id!r} departs from this vertiport")

    def product(self, product_id: str) -> FlightProduct:
        """The product with this id (``KeyError`` if absent)."""
        return {p.id: p for p in self.products}[product_id]

    def vertiport(self, vertiport_id: str) -> VertiportCapacity:
        """The listed vertiport, or a default one (``default_takeoffs_per_slot``, open all day)."""
        for v in self.vertiports:
            if v.id == vertiport_id:
                return v
        return VertiportCapacity(vertiport_id, self.default_takeoffs_per_slot)

    @property
    def weight_per_passenger(self) -> int:
        """W = 1 + the largest possible total deviation, minutes: one more passenger outweighs any deviation."""
        return 1 + sum(max(b.desired_min - b.window[0], b.window[1] - b.desired_min) for b in self.bookings)

    @property
    def passengers_requested(self) -> int:
        """Sum of the party sizes of every booking."""
        return sum(b.party_size for b in self.bookings)

    def candidate_starts(self, a: Aircraft, p: FlightProduct) -> list[int]:
        """Grid take-off minutes at which ``a`` can fly ``p`` (availability and vertiport hours)."""
        if p.vertiport_id != a.vertiport_id or p.aircraft_type_id != a.type_id:
            return []
        v = self.vertiport(p.vertiport_id)
        lo = max(a.available[0], v.hours[0])
        hi = min(a.available[1], v.hours[1]) - p.block_min  # latest take-off: landing inside both
        step = self.start_step_min
        first = -(-lo // step) * step
        return list(range(first, hi + 1, step))


# ----------------------------------------------------------------------------------------------- parameters
@dataclass(frozen=True, slots=True)
class FlightParams:
    """Back-end options of ``solve`` (the design ignores them: its dynamic programme is exact).

    Attributes
    ----------
    backend : str
        ``auto`` (HiGHS for the bound alongside the CP-SAT rolling-window LNS of ``models.flight_lns``:
        the better schedule, block by block, and HiGHS's bound), ``cpsat`` (the LNS, then CP-SAT on
        the whole model hinted with its schedule) or ``highs`` (``scipy.optimize.milp`` alone).
    workers : int
        CP-SAT threads (1..256; ``auto`` gives CP-SAT at most ``cpu_count - 1``). With 1 worker and a
        proof of optimality the same seed gives the same schedule.
    rel_gap : float
        Stop once the proven relative gap on the objective is at most this (0..1; 0: prove optimality
        or use the whole time limit).
    hint : bool
        Start the LNS / CP-SAT from the greedy schedule (and keep the greedy schedule when no back end
        beats it); False: the LNS starts from the empty schedule.
    log : bool
        Print CP-SAT's search log.
    pool_identical : bool
        Pool identical aircraft (exact; off by default, as it is not faster: ``models.flight_schedule``).
    deterministic_time : float | None
        Stop CP-SAT after this much *deterministic* time (CP-SAT's ``max_deterministic_time``, work
        units of roughly one second) instead of the wall clock, so that the same seed gives the same
        schedule on any machine and load: the LNS's windows for half of it, then CP-SAT on the whole
        model for the rest (HiGHS's limits are wall-clock, so it does not run), 1 worker,
        ``rel_gap`` 0 (others raise ``InvalidInput``); the time limit still applies as a safety stop,
        and a run it stops is reported as not reproducible. None (default): wall-clock limits; the
        answer says when a run stopped by the clock may differ between runs (``reproducible``).
    """

    backend: str = "auto"
    workers: int = 1
    rel_gap: float = 0.0
    hint: bool = True
    log: bool = False
    pool_identical: bool = False
    deterministic_time: float | None = None

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise InvalidInput("backend", self.backend, f"must be one of {', '.join(BACKENDS)}")
        check_count("workers", self.workers, 1, 256)
        if isinstance(self.rel_gap, bool) or not 0.0 <= check_finite("rel_gap", self.rel_gap) <= 1.0:
            raise InvalidInput("rel_gap", self.rel_gap, "must be within 0..1")
        if self.deterministic_time is not None:
            dt = check_finite("deterministic_time", self.deterministic_time)
            if isinstance(self.deterministic_time, bool) or not 0 < dt <= 1e6:
                raise InvalidInput("deterministic_time", self.deterministic_time, "must be > 0 and <= 1e6")
            if self.backend == "highs":
                raise InvalidInput("backend", self.backend, "a deterministic limit needs CP-SAT (cpsat or auto): "
                                                            "HiGHS's time limit is wall-clock")
            if self.workers != 1:
                raise InvalidInput("workers", self.workers, "a deterministic limit needs 1 worker")
            if self.rel_gap:
                raise InvalidInput("rel_gap", self.rel_gap, "must be 0 with a deterministic limit")

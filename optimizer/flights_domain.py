"""Domain nouns of low-altitude sightseeing flights (issue 8): products, aircraft, bookings.

Units: time in whole minutes from midnight of the flying day (``int``; a non-integral value is
rejected, never truncated), duration in minutes, distance in km, seats and party sizes in persons.
All classes are frozen and validated on construction; a bad value raises ``InvalidInput`` naming
the field and the value.

The route-design side (:mod:`optimizer.flight_routes`) turns viewpoints, vertiports and aircraft
types into :class:`FlightProduct` rows (a menu); the schedule side (:mod:`models.flight_schedule`)
assigns :class:`Booking` rows to departures of :class:`Aircraft` flying those products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.domain import InvalidInput, check_finite

__all__ = ["Aircraft", "Booking", "FlightProduct", "check_count", "check_id", "check_minute"]


def check_minute(field_name: str, value: object, lo: int = 0, hi: int = 24 * 60) -> int:
    """Return ``value`` as an ``int`` minute in ``[lo, hi]``; reject bools, NaN and fractions."""
    if isinstance(value, bool):
        raise InvalidInput(field_name, value, "must be a whole number of minutes")
    if isinstance(value, (int, np.integer)):
        v = int(value)
    else:
        x = check_finite(field_name, value)  # type: ignore[arg-type]
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


def check_count(field_name: str, value: object, lo: int = 1, hi: int = 10_000) -> int:
    """Return ``value`` as an ``int`` in ``[lo, hi]``; reject bools, floats and out-of-range values."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidInput(field_name, value, "must be an integer")
    if not lo <= int(value) <= hi:
        raise InvalidInput(field_name, value, f"must be within {lo}..{hi}")
    return int(value)


@dataclass(frozen=True, slots=True)
class FlightProduct:
    """One sightseeing flight on the menu: a closed route from a vertiport over viewpoints.

    Attributes
    ----------
    id : str
        Stable identifier (``dagze_30``).
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
        check_minute(f"products[{self.id}].block_min", self.block_min, 1, 24 * 60)
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
        check_minute(f"aircraft[{self.id}].turnaround_min", self.turnaround_min, 0, 24 * 60)
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
        if hi < lo:
            raise InvalidInput(f"bookings[{self.id}].window", self.window, "closes before it opens")
        check_minute(f"bookings[{self.id}].desired_min", self.desired_min, lo, hi)

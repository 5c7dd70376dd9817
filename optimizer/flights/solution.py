"""What the flights ``solve`` returns: a product menu (design) or a day's schedule.

Both carry ``unserved: tuple[Unserved, ...]`` (a reason for everything left out) and
``stats: SolveStats`` (shared status words ``optimal``, ``feasible``, ``infeasible``,
``no_solution_in_time``; ``runtime_s`` includes model building).

Reason words of a :class:`Menu` (``item_id`` = ``vertiport/aircraft_type/class_min``, a cell without a
product, :data:`DESIGN_REASONS`):

* ``ceiling``: the transit altitude over the vertiport is above the aircraft type's ceiling;
* ``out_of_reach``: no viewpoint can be flown to and back within the class and the usable endurance;
* ``time_limit``: the time limit ran out before any route of the cell was found.

Reason words of a :class:`Schedule` (``item_id`` = booking id, :data:`SCHEDULE_REASONS`):

* ``no_product``: no aircraft of the product's type is based at its vertiport;
* ``party_too_large``: the party is larger than the seats of every aircraft flying the product;
* ``window``: no candidate take-off of the product fits the window (aircraft availability,
  vertiport hours, take-off grid);
* ``capacity``: the booking could fly alone, but seats, aircraft time or take-off slots went to
  other bookings;
* ``no_solution``: the time limit ran out before any schedule was found.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from optimizer.core.results import SolveStats, Unserved
from optimizer.flights.problem import FlightProduct

__all__ = ["DESIGN_REASONS", "REASON_TEXT", "SCHEDULE_REASONS", "Departure", "DesignedRoute", "Menu", "MenuOffer",
           "Schedule"]

DESIGN_REASONS = ("ceiling", "out_of_reach", "time_limit")
SCHEDULE_REASONS = ("no_product", "party_too_large", "window", "capacity", "no_solution")
REASON_TEXT = {
    "no_product": "no aircraft of the product's type is based at its vertiport",
    "party_too_large": "party larger than the seats of every aircraft flying this product",
    "window": "no take-off of this product fits the window (aircraft availability, vertiport hours, grid)",
    "capacity": "feasible alone, but seats, aircraft time or take-off slots went to other bookings",
    "no_solution": "the time limit ran out before any schedule was found",
}


# ----------------------------------------------------------------------------------------------- design
@dataclass(frozen=True, slots=True)
class DesignedRoute:
    """A product with the numbers behind it.

    Attributes
    ----------
    product : FlightProduct
    class_min : int
        The duration class it was designed for, minutes.
    flying_min, viewing_min, overhead_min : float
        Minutes flying (km / cruise), orbiting the viewpoints, and taking off and landing.
    max_alt_m : float
        Highest altitude flown, m AMSL; ``rho`` its air density, kg/m^3.
    usable_min : float
        Endurance minus reserve at ``rho``, minutes.
    path : tuple[tuple[float, float], ...]
        The flown polyline (lon, lat) around the no-fly zones.
    optimal : bool
        Whether the dynamic programme finished (the route is proven best for its cell).
    """

    product: FlightProduct
    class_min: int
    flying_min: float
    viewing_min: float
    overhead_min: float
    max_alt_m: float
    rho: float
    usable_min: float
    path: tuple[tuple[float, float], ...]
    optimal: bool

    @property
    def total_min(self) -> float:
        return self.flying_min + self.viewing_min + self.overhead_min


@dataclass(frozen=True, slots=True)
class MenuOffer:
    """One cell of the menu (vertiport x aircraft type x duration class) and the product sold there.

    ``note``: 'same route as ...' when a longer class sells a shorter class's product, the
    endurance limit when it binds, or that the route is not proven optimal.
    """

    vertiport_id: str
    aircraft_type_id: str
    class_min: int
    product_id: str
    score: float
    block_min: int
    note: str = ""


@dataclass(frozen=True)
class Menu:
    """The product menu.

    Attributes
    ----------
    routes : tuple[DesignedRoute, ...]
        Distinct routes (one product each), in menu order.
    offers : tuple[MenuOffer, ...]
        Every cell that sells a product (a longer class may point to a shorter class's product).
    unserved : tuple[Unserved, ...]
        Every cell without a product (``DESIGN_REASONS``).
    stats : SolveStats
        ``objective``: the sum of the offered cells' scores; ``optimal`` when every route is proven.
    """

    routes: tuple[DesignedRoute, ...]
    offers: tuple[MenuOffer, ...]
    unserved: tuple[Unserved, ...]
    stats: SolveStats

    @property
    def products(self) -> tuple[FlightProduct, ...]:
        return tuple(r.product for r in self.routes)


# ----------------------------------------------------------------------------------------------- schedule
@dataclass(frozen=True, slots=True)
class Departure:
    """One flown departure: aircraft, product, take-off/landing/ready minutes, passengers, bookings.

    ``ready_min`` = landing + the aircraft's ground time: its next earliest take-off.
    """

    aircraft_id: str
    product_id: str
    vertiport_id: str
    start_min: int
    land_min: int
    ready_min: int
    seats: int
    passengers: int
    booking_ids: tuple[str, ...]


@dataclass(frozen=True)
class Schedule:
    """A day's schedule.

    Attributes
    ----------
    departures : tuple[Departure, ...]
        Sorted by (aircraft in fleet order, take-off).
    unserved : tuple[Unserved, ...]
        One per booking not flown (``SCHEDULE_REASONS``).
    passengers, passengers_requested : int
        Persons flown and persons booked.
    deviation_min : int
        Sum over flown bookings of |take-off - desired|, minutes.
    weight_per_passenger : int
        W: the objective is ``J = W * passengers - deviation_min`` (lexicographic: passengers first).
    passengers_bound : int | None
        ``floor((bound + W - 1) / W)``: no schedule flies more persons (None without a bound).
    passengers_gap : float | None
        ``(passengers_bound - passengers) / max(passengers_bound, 1)``.
    stats : SolveStats
        ``objective`` J, ``bound`` the smallest proven upper bound on J, ``gap`` (bound - J) / max(J, 1).
    model_stats : dict
        Model size and back-end figures (``source``: the back end whose schedule it is, or ``greedy``).
    """

    departures: tuple[Departure, ...]
    unserved: tuple[Unserved, ...]
    passengers: int
    passengers_requested: int
    deviation_min: int
    weight_per_passenger: int
    passengers_bound: int | None
    passengers_gap: float | None
    stats: SolveStats
    model_stats: dict = field(default_factory=dict)

    @property
    def bookings_served(self) -> int:
        return sum(len(d.booking_ids) for d in self.departures)

    def assignment(self) -> dict[str, Departure]:
        """Booking id -> the departure it flies on."""
        return {b: d for d in self.departures for b in d.booking_ids}

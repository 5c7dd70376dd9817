"""A drone delivery plan: timed trips with their flown paths, what was left out and why, how the solve went.

Reason words of ``DronePlan.unserved`` (``Unserved.reason``; ``detail`` is a sentence with the numbers):

* ``no_fly``: the drop-off lies inside a no-fly zone or its safety buffer, or no obstacle-free
  air path joins it to any hub;
* ``payload``: heavier than what any drone can lift at its hub's air density;
* ``range``: no drone can fly there and back above the battery reserve inside the window and the day;
* ``capacity``: feasible on its own, but the fleet's day had no room for it (the plan serves
  higher priorities or cheaper combinations);
* ``time_limit``: the solve ended before any plan was found (``stats.status`` is
  ``no_solution_in_time``; every delivery carries this reason).

``stats.objective`` is the plan's total energy (Wh) or total flight minutes (``objective="time"``);
the served priority (the first, lexicographic objective) is ``served_priority``.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.core.results import SolveStats, Unserved

NO_FLY = "no_fly"
PAYLOAD = "payload"
RANGE = "range"
CAPACITY = "capacity"
TIME_LIMIT = "time_limit"
REASONS = (NO_FLY, PAYLOAD, RANGE, CAPACITY, TIME_LIMIT)

LonLat = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Stop:
    """A drop: the delivery id, the arrival time (min from midnight) and the payload on board on arrival (kg)."""

    delivery: str
    arrive_min: float
    payload_on_arrival_kg: float


@dataclass(frozen=True, slots=True)
class Trip:
    """One sortie: hub -> stops -> the same hub.

    Attributes
    ----------
    drone, drone_type, hub : str
        Drone id (``<hub>/<type>#<k>``), its type id and its hub id.
    depart_min, return_min : float
        Take-off and landing at the hub, minutes from midnight.
    stops : tuple[Stop, ...]
        The drops in flight order (at least one).
    payload_kg : float
        Parcels loaded at the hub, kg.
    energy_wh : float
        Energy the trip uses, Wh.
    usable_wh : float
        Energy the type may use per trip (battery above the reserve), Wh.
    km : float
        Air distance flown, km.
    legs : tuple[tuple[LonLat, ...], ...]
        The flown path, one polyline (lon, lat) per leg: hub -> stop 1, ..., last stop -> hub
        (``len(stops) + 1`` legs), bending around the no-fly zones.
    """

    drone: str
    drone_type: str
    hub: str
    depart_min: float
    return_min: float
    stops: tuple[Stop, ...]
    payload_kg: float
    energy_wh: float
    usable_wh: float
    km: float
    legs: tuple[tuple[LonLat, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class DronePlan:
    """The day's trips, the deliveries left out with a reason, and the solve's statistics.

    Attributes
    ----------
    trips : tuple[Trip, ...]
        Every trip, drone by drone in time order.
    unserved : tuple[Unserved, ...]
        Every delivery not in a trip, with a reason word of ``REASONS`` (module docstring).
    stats : SolveStats
        Status, objective (Wh or min), bound and gap (exact model), runtime (instance construction
        included), iterations (ruin-and-recreate), what stopped the search, seed.
    served_priority : int
        Sum of the priorities of the deliveries served.
    total_energy_wh : float
        Sum of the trips' energy, Wh.
    total_flight_min : float
        Sum of the trips' durations, min.
    """

    trips: tuple[Trip, ...]
    unserved: tuple[Unserved, ...]
    stats: SolveStats
    served_priority: int = 0
    total_energy_wh: float = 0.0
    total_flight_min: float = 0.0

    @property
    def served(self) -> int:
        """Number of deliveries served."""
        return sum(len(t.stops) for t in self.trips)

    def unserved_by_id(self) -> dict[str, Unserved]:
        """The unserved deliveries by id."""
        return {u.item_id: u for u in self.unserved}

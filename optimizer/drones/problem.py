"""The drone delivery problem: parcels, hubs with fleets, drone types, the day and its air.

Problem (MODELS.md section 5.2: a multi-trip drone VRP after Dorling et al. 2017, with time
windows, battery swaps at hubs and no-fly zones):

* drones are based at hubs (``Hub.fleet`` of ``optimizer.core.airspace``); each flies trips
  hub -> deliveries -> same hub and swaps its battery (``DroneType.swap_min``) between trips;
* all parcels of a trip are loaded at the hub, so a leg is flown with the parcels not yet dropped;
  the trip energy is ``optimizer.drones.energy.trip_energy_wh`` at the hub's air density (ISA
  pressure at the hub elevation, the day's temperature);
* a trip is feasible if its payload <= ``max_payload_kg(rho)``, its energy <= ``usable_wh``
  (battery above the reserve at landing), the hub lies below the type's ceiling, and its legs
  follow obstacle-free paths around the no-fly zones (``airspace.buffer_km`` kept clear);
* drones do not hover-wait: a trip departs at s and reaches its stops at s + fixed offsets, every
  stop inside its window; trips start and end inside ``day``;
* objective, lexicographic: maximise the sum of priorities served, then minimise total energy (Wh)
  or total flight minutes (``objective="time"``).

Units: lon/lat WGS84 degrees, weight kg, times minutes from midnight, temperature degC.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.core.airspace import Airspace
from optimizer.core.errors import InvalidInput, check_finite, check_window
from optimizer.core.physics import air_density
from optimizer.drones.energy import DroneType

OBJECTIVES = ("energy", "time")


@dataclass(frozen=True, slots=True)
class Delivery:
    """A parcel to deliver.

    Attributes
    ----------
    id : str
        Unique within the problem.
    lon, lat : float
        Drop-off point, WGS84 degrees.
    weight_kg : float
        Parcel weight, kg (> 0).
    window : tuple[float, float]
        Earliest and latest arrival, minutes from midnight (open <= close).
    priority : int
        Weight of the delivery in the served priority (integer >= 1).

    Raises ``InvalidInput`` naming ``delivery[<id>].<field>``.
    """

    id: str
    lon: float
    lat: float
    weight_kg: float
    window: tuple[float, float] = (0.0, 1440.0)
    priority: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise InvalidInput("delivery.id", self.id, "must be a non-blank string")
        if not -180.0 <= check_finite(f"delivery[{self.id}].lon", self.lon) <= 180.0:
            raise InvalidInput(f"delivery[{self.id}].lon", self.lon, "must be within -180..180 degrees")
        if not -90.0 <= check_finite(f"delivery[{self.id}].lat", self.lat) <= 90.0:
            raise InvalidInput(f"delivery[{self.id}].lat", self.lat, "must be within -90..90 degrees")
        if check_finite(f"delivery[{self.id}].weight_kg", self.weight_kg) <= 0:
            raise InvalidInput(f"delivery[{self.id}].weight_kg", self.weight_kg, "must be > 0")
        object.__setattr__(self, "window", check_window(f"delivery[{self.id}].window", self.window))
        if isinstance(self.priority, bool) or int(self.priority) != self.priority or self.priority < 1:
            raise InvalidInput(f"delivery[{self.id}].priority", self.priority, "must be an integer >= 1")


@dataclass(frozen=True)
class DroneProblem:
    """One day of drone deliveries.

    Attributes
    ----------
    airspace : Airspace
        No-fly zones (with ``buffer_km``) and hubs with their fleets (type id -> count).
    types : dict[str, DroneType]
        Drone types by id; every type in a hub's fleet must be here.
    deliveries : tuple[Delivery, ...]
        The parcels of the day (unique ids; may be empty).
    temperature_c : float | None
        The day's air temperature, degC (None: ISA temperature at each hub's elevation).
    day : tuple[float, float]
        Operating day, minutes from midnight: trips depart and return inside it.
    objective : str
        ``energy`` (Wh) or ``time`` (flight minutes), minimised after the served priority.

    Raises ``InvalidInput`` for duplicate delivery ids, an unknown type in a fleet, no drone at all,
    a bad day or objective.
    """

    airspace: Airspace
    types: dict[str, DroneType]
    deliveries: tuple[Delivery, ...]
    temperature_c: float | None = None
    day: tuple[float, float] = (480.0, 1080.0)
    objective: str = "energy"

    def __post_init__(self) -> None:
        object.__setattr__(self, "deliveries", tuple(self.deliveries))
        object.__setattr__(self, "day", check_window("day", self.day))
        for d in self.deliveries:
            if not isinstance(d, Delivery):
                raise InvalidInput("deliveries", type(d).__name__, "every item must be a Delivery")
        ids = [d.id for d in self.deliveries]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise InvalidInput("deliveries", dup, "delivery ids must be unique")
        if self.objective not in OBJECTIVES:
            raise InvalidInput("objective", self.objective, f"must be one of {list(OBJECTIVES)}")
        if self.temperature_c is not None:
            check_finite("temperature_c", self.temperature_c)
        for tid, ty in self.types.items():
            if not isinstance(ty, DroneType) or ty.id != tid:
                raise InvalidInput(f"types[{tid}]", getattr(ty, "id", ty), "must be the DroneType with that id")
        for h in self.airspace.hubs:
            for t, _ in h.fleet:
                if t not in self.types:
                    raise InvalidInput(f"hub[{h.id}].fleet", t, f"unknown drone type (known: {sorted(self.types)})")
        if not self.drones():
            raise InvalidInput("airspace.hubs", len(self.airspace.hubs), "no drones at any hub")
        for i in range(len(self.airspace.hubs)):
            self.rho(i)  # hub elevation and temperature inside the ISA range (InvalidInput otherwise)

    def drones(self) -> list[tuple[str, int, str]]:
        """(drone id ``<hub>/<type>#<k>``, hub index, type id) for every drone, hub by hub."""
        out = []
        for hi, h in enumerate(self.airspace.hubs):
            for t, n in h.fleet:
                out += [(f"{h.id}/{t}#{k + 1}", hi, t) for k in range(int(n))]
        return out

    def rho(self, hub_index: int) -> float:
        """Air density at a hub, kg/m^3 (ISA pressure at its elevation, the day's temperature)."""
        return air_density(self.airspace.hubs[hub_index].elevation_m, self.temperature_c)

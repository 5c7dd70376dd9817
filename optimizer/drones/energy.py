"""Multirotor energy at altitude: the drone type and the one trip-energy formula (Dorling et al. 2017).

Units: mass kg, density kg/m^3, power W, energy Wh, distance km, speed m/s (km/min inside the
kernels), time s (min inside the kernels), altitude m.

Formulas
--------
Hover power of a multirotor, Dorling, Chu, Hu & Tang (2017), IEEE TSMC: Systems 47(1):70-85, eq. (3)
(MODELS.md section 5.1)::

    P(m) = k (W + m)^{3/2},   k = sqrt(g^3 / (2 rho zeta n)) / eta     [W]

W frame + battery mass, m payload on board, zeta area of one rotor disc (m^2), n rotors,
g = ``optimizer.core.physics.G`` (9.80665 m/s^2), rho the air density at the hub
(``optimizer.core.physics.air_density``: ISA pressure, the day's temperature). ``eta`` (figure of
merit, our addition; eta = 1 is the paper's ideal) converts induced power to electrical power.
Dorling et al. use the same power in cruise (hover-equivalent model, no speed dependence); so
does this module. P grows as rho^{-1/2}: x1.20 at Lhasa (ISA), x1.27 at Namtso.

A leg of ``km`` takes ``t = km / v + 2 h / v_climb`` (cruise plus climb and descent to the cruise
height h). A trip hub -> stops 1..n -> hub, all parcels loaded at the hub, uses::

    E = sum_{i=1..n} P(m_i) (t_i + s) + P(0) t_{n+1}       m_i = sum_{j >= i} w_j   [W min -> Wh: / 60]

with s the hover time at a drop (lowering the parcel) and w_j the parcel dropped at stop j. THE one
implementation is ``optimizer.drones.kernels.trip_energy_wh`` (Numba; it sits with the kernels that
inline it, so that Numba's on-disk cache, which only watches the caller's file, sees any change);
``DroneType.trip_energy_wh`` calls it for the trip expansion and the verifier.

Thrust limit: maximum take-off mass scales with density, ``mtow(rho) = mtow_sea * rho / 1.225``
(rotor thrust at fixed rpm is proportional to rho; FACTS.md section 7), so the payload that can be
lifted shrinks at altitude.

Battery: a trip may use at most ``battery_wh * (1 - reserve_frac)`` Wh (Dorling et al.'s
"capacity x (1 - reserve)").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimizer.core.errors import InvalidInput, check_finite
from optimizer.core.physics import RHO_SEA, G
from optimizer.drones.kernels import trip_energy_wh

M_PER_S_TO_KM_PER_MIN = 0.06


@dataclass(frozen=True, slots=True)
class DroneType:
    """A multirotor delivery drone type (data, see ``instances/lhasa/drone_types.csv``).

    Attributes
    ----------
    id : str
    frame_kg : float
        Empty mass without battery, kg (> 0).
    battery_kg : float
        Battery mass carried on every flight, kg (> 0). W in Dorling et al. is frame + battery.
    battery_wh : float
        Nominal battery energy, Wh (all packs together, > 0).
    reserve_frac : float
        Share of ``battery_wh`` that must remain at landing, in [0, 1).
    payload_kg : float
        Rated payload, kg (further limited by the thrust limit at altitude).
    mtow_sea_kg : float
        Thrust-limited take-off mass at sea-level density, kg (scaled by rho / 1.225 at altitude;
        >= frame + battery).
    speed_mps : float
        Cruise speed, m/s.
    climb_mps : float
        Vertical speed for take-off and landing, m/s.
    cruise_agl_m : float
        Cruise height above ground, m (<= 120 m in 适飞空域, regulation MODELS.md 5.6).
    ceiling_m : float
        Service ceiling, m above sea level.
    rotors : int
        n, number of rotors (>= 1).
    rotor_area_m2 : float
        zeta, area of one rotor disc, m^2.
    efficiency : float
        eta, electrical-to-induced power efficiency (figure of merit), 0 < eta <= 1.
    service_s : float
        Hover time at a delivery (lowering the parcel), s (>= 0).
    swap_min : float
        Battery swap and reload time at a hub between trips, min (>= 0).
    name : str
        Display name.

    Raises ``InvalidInput`` naming ``drone_type[<id>].<field>`` for a value out of range.
    """

    id: str
    frame_kg: float
    battery_kg: float
    battery_wh: float
    reserve_frac: float
    payload_kg: float
    mtow_sea_kg: float
    speed_mps: float
    climb_mps: float
    cruise_agl_m: float
    ceiling_m: float
    rotors: int
    rotor_area_m2: float
    efficiency: float
    service_s: float
    swap_min: float
    name: str = ""

    def __post_init__(self) -> None:
        for f in ("frame_kg", "battery_kg", "battery_wh", "payload_kg", "mtow_sea_kg", "speed_mps", "climb_mps",
                  "cruise_agl_m", "ceiling_m", "rotor_area_m2", "efficiency"):
            if check_finite(f"drone_type[{self.id}].{f}", getattr(self, f)) <= 0:
                raise InvalidInput(f"drone_type[{self.id}].{f}", getattr(self, f), "must be > 0")
        for f in ("service_s", "swap_min"):
            if check_finite(f"drone_type[{self.id}].{f}", getattr(self, f)) < 0:
                raise InvalidInput(f"drone_type[{self.id}].{f}", getattr(self, f), "must be >= 0")
        if not 0.0 <= check_finite(f"drone_type[{self.id}].reserve_frac", self.reserve_frac) < 1.0:
            raise InvalidInput(f"drone_type[{self.id}].reserve_frac", self.reserve_frac, "must be in [0, 1)")
        if self.efficiency > 1.0:
            raise InvalidInput(f"drone_type[{self.id}].efficiency", self.efficiency, "must be <= 1")
        if isinstance(self.rotors, bool) or int(self.rotors) != self.rotors or self.rotors < 1:
            raise InvalidInput(f"drone_type[{self.id}].rotors", self.rotors, "must be an integer >= 1")
        if self.mtow_sea_kg < self.frame_kg + self.battery_kg:
            raise InvalidInput(f"drone_type[{self.id}].mtow_sea_kg", self.mtow_sea_kg, "below frame + battery mass")

    @property
    def usable_wh(self) -> float:
        """Energy a trip may use, Wh: battery_wh (1 - reserve_frac)."""
        return self.battery_wh * (1.0 - self.reserve_frac)

    @property
    def base_kg(self) -> float:
        """Mass flown on every leg without payload: frame + battery, kg."""
        return self.frame_kg + self.battery_kg

    @property
    def km_per_min(self) -> float:
        """Cruise speed, km/min."""
        return self.speed_mps * M_PER_S_TO_KM_PER_MIN

    @property
    def vert_min(self) -> float:
        """Climb and descent to ``cruise_agl_m`` on every leg, min."""
        return 2.0 * self.cruise_agl_m / self.climb_mps / 60.0

    @property
    def service_min(self) -> float:
        """Hover time at a drop, min."""
        return self.service_s / 60.0

    def power_coeff(self, rho: float) -> float:
        """k in P = k (W + m)^{3/2}: sqrt(g^3 / (2 rho zeta n)) / eta, W / kg^{3/2}."""
        return math.sqrt(G ** 3 / (2.0 * rho * self.rotor_area_m2 * self.rotors)) / self.efficiency

    def power_w(self, payload_kg: float, rho: float) -> float:
        """Hover (= cruise) power with ``payload_kg`` on board at density ``rho``, W (Dorling et al. 2017)."""
        return self.power_coeff(rho) * (self.base_kg + payload_kg) ** 1.5

    def max_payload_kg(self, rho: float) -> float:
        """Payload that can be lifted at ``rho``: min(rated, mtow_sea rho/1.225 - frame - battery), kg (may be 0)."""
        return max(0.0, min(self.payload_kg, self.mtow_sea_kg * rho / RHO_SEA - self.base_kg))

    def leg_minutes(self, km: float) -> float:
        """Flight time of one leg: cruise ``km`` at ``speed_mps`` plus climb and descent, min."""
        return km / self.km_per_min + self.vert_min

    def trip_energy_wh(self, leg_km, drop_kg, rho: float) -> float:
        """Energy of one trip at density ``rho``, Wh: ``trip_energy_wh`` with this type's data.

        ``leg_km``: the n + 1 leg lengths, km; ``drop_kg``: the n parcels in stop order, kg.
        Raises ``InvalidInput`` if the lengths do not match.
        """
        legs = np.asarray(leg_km, dtype=np.float64)
        drops = np.asarray(drop_kg, dtype=np.float64)
        if legs.ndim != 1 or drops.ndim != 1 or len(legs) != len(drops) + 1:
            raise InvalidInput("leg_km", len(legs), f"a trip with {len(drops)} stops has {len(drops) + 1} legs")
        work = np.zeros((2, len(legs)))
        work[0] = [self.leg_minutes(float(km)) for km in legs]
        work[1, : len(drops)] = drops
        return float(trip_energy_wh(work, len(drops), self.power_coeff(rho), self.base_kg, self.service_min))

    def range_km(self, payload_kg: float, rho: float) -> float:
        """Out-and-back radius with ``payload_kg`` out and empty back, km (0 if not even the climbs fit).

        Solves ``trip_energy_wh([r, r], [payload]) = usable_wh`` for r (the energy is linear in r).
        """
        e0 = self.trip_energy_wh([0.0, 0.0], [payload_kg], rho)
        e1 = self.trip_energy_wh([1.0, 1.0], [payload_kg], rho)
        if e0 >= self.usable_wh:
            return 0.0
        return (self.usable_wh - e0) / (e1 - e0)

"""Multirotor energy at altitude: ISA air density, Dorling et al. (2017) power, battery and reserve.

Units: mass kg, density kg/m^3, power W, energy Wh, distance km, speed m/s, time s, altitude m.

Formulas
--------
ISA troposphere (MODELS.md section 0)::

    T_isa(h) = 288.15 - 0.0065 h            [K]
    p(h)     = 101325 (T_isa(h) / 288.15)^5.2559   [Pa]
    rho      = p / (287.05 T)               [kg/m^3]   with T the day's temperature (K) if given, else T_isa

Hover power of a multirotor, Dorling, Chu, Hu & Tang (2017), IEEE TSMC: Systems 47(1):70-85, eq. (3)
(MODELS.md section 5.1)::

    P(m) = (W + m)^{3/2} sqrt(g^3 / (2 rho zeta n)) / eta   [W]

W frame mass, m battery + payload, zeta area of one rotor disc (m^2), n rotors, g = 9.81 m/s^2;
``eta`` (figure of merit, our addition; eta = 1 is the paper's ideal) converts induced power to
electrical power. Dorling et al. use the same power in cruise (hover-equivalent model, no speed
dependence); so does this module. P grows as rho^{-1/2}: x1.20 at Lhasa (ISA), x1.27 at Namtso.

Thrust limit: maximum take-off mass scales with density, ``mtow(rho) = mtow_sea * rho / 1.225``
(rotor thrust at fixed rpm is proportional to rho; FACTS.md section 7), so the payload that can be
lifted shrinks at altitude.

Battery: a trip may use at most ``battery_wh * (1 - reserve_frac)`` Wh (Dorling et al.'s
"capacity x (1 - reserve)").
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from optimizer.core.physics import G, ISA_EXP, LAPSE, P0, R_DRY, RHO_SEA, T0, air_density  # noqa: F401
from optimizer.domain import InvalidInput, check_finite

DRONE_TYPES_CSV = Path(__file__).resolve().parent.parent / "instances" / "lhasa" / "drone_types.csv"


@dataclass(frozen=True, slots=True)
class DroneType:
    """A multirotor delivery drone type (data, see ``instances/lhasa/drone_types.csv``).

    Attributes
    ----------
    id : str
    frame_kg : float
        W in Dorling et al.: empty mass without battery, kg.
    battery_kg : float
        Battery mass carried on every flight, kg.
    battery_wh : float
        Nominal battery energy, Wh (all packs together).
    reserve_frac : float
        Share of ``battery_wh`` that must remain at landing, 0..1.
    payload_kg : float
        Rated payload, kg (further limited by the thrust limit at altitude).
    mtow_sea_kg : float
        Thrust-limited take-off mass at sea-level density, kg (scaled by rho / 1.225 at altitude).
    speed_mps : float
        Cruise speed, m/s.
    climb_mps : float
        Vertical speed for take-off and landing, m/s.
    cruise_agl_m : float
        Cruise height above ground, m (<= 120 m in 适飞空域, regulation MODELS.md 5.6).
    ceiling_m : float
        Service ceiling, m above sea level.
    rotors : int
        n, number of rotors.
    rotor_area_m2 : float
        zeta, area of one rotor disc, m^2.
    efficiency : float
        eta, electrical-to-induced power efficiency (figure of merit), 0 < eta <= 1.
    service_s : float
        Hover time at a delivery (lowering the parcel), s.
    swap_min : float
        Battery swap and reload time at a hub between trips, min.
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
        if not 0.0 <= self.reserve_frac < 1.0:
            raise InvalidInput(f"drone_type[{self.id}].reserve_frac", self.reserve_frac, "must be in [0, 1)")
        if self.efficiency > 1.0:
            raise InvalidInput(f"drone_type[{self.id}].efficiency", self.efficiency, "must be <= 1")
        if int(self.rotors) != self.rotors or self.rotors < 1:
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

    def power_coeff(self, rho: float) -> float:
        """k in P = k (W + m)^{3/2}: sqrt(g^3 / (2 rho zeta n)) / eta, W / kg^{3/2}."""
        return math.sqrt(G ** 3 / (2.0 * rho * self.rotor_area_m2 * self.rotors)) / self.efficiency

    def power_w(self, payload_kg: float, rho: float) -> float:
        """Hover (= cruise) power with ``payload_kg`` on board at density ``rho``, W (Dorling et al. 2017)."""
        return self.power_coeff(rho) * (self.base_kg + payload_kg) ** 1.5

    def max_payload_kg(self, rho: float) -> float:
        """Payload that can be lifted at ``rho``: min(rated, mtow_sea rho/1.225 - frame - battery), kg (may be 0)."""
        return max(0.0, min(self.payload_kg, self.mtow_sea_kg * rho / RHO_SEA - self.base_kg))

    def leg_time_s(self, km: float) -> float:
        """Flight time of one leg: cruise km / speed plus climb and descent to ``cruise_agl_m``, s."""
        return km * 1000.0 / self.speed_mps + 2.0 * self.cruise_agl_m / self.climb_mps

    def leg_energy_wh(self, km: float, payload_kg: float, rho: float) -> float:
        """Energy of one leg with ``payload_kg`` on board, Wh: P(m) t_leg / 3600."""
        return self.power_w(payload_kg, rho) * self.leg_time_s(km) / 3600.0

    def range_km(self, payload_kg: float, rho: float) -> float:
        """Out-and-back radius with ``payload_kg`` out and empty back, km (0 if not even the climbs fit)."""
        e = self.usable_wh * 3600.0
        p_out, p_back = self.power_w(payload_kg, rho), self.power_w(0.0, rho)
        e -= p_out * self.service_s + (p_out + p_back) * 2.0 * self.cruise_agl_m / self.climb_mps
        if e <= 0:
            return 0.0
        return e / (p_out + p_back) * self.speed_mps / 1000.0


_FLOAT_COLS = ("frame_kg", "battery_kg", "battery_wh", "reserve_frac", "payload_kg", "mtow_sea_kg", "speed_mps",
               "climb_mps", "cruise_agl_m", "ceiling_m", "rotor_area_m2", "efficiency", "service_s", "swap_min")


def load_drone_types(path: Path | str = DRONE_TYPES_CSV) -> dict[str, DroneType]:
    """Read drone types from CSV (columns: id, name, the DroneType fields; ``#`` lines are comments)."""
    out: dict[str, DroneType] = {}
    with open(path, encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        for i, r in enumerate(rows):
            try:
                kw = {c: float(r[c]) for c in _FLOAT_COLS}
                out[r["id"]] = DroneType(id=r["id"], name=r.get("name", ""), rotors=int(r["rotors"]), **kw)
            except (KeyError, ValueError) as e:
                raise InvalidInput(f"drone_types[{i}]", r, f"bad row: {e}") from None
    return out

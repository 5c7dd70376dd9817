"""Physics shared by every family: gravity, the ISA atmosphere, great-circle distance, EV range derating.

Units: elevation m, temperature degC (K inside), pressure Pa, density kg/m^3, distance km.

ISA troposphere (ICAO Doc 7488; MODELS.md section 0)::

    T_isa(h) = 288.15 - 0.0065 h                    [K]
    p(h)     = 101325 (T_isa(h) / 288.15)^5.2559    [Pa]
    rho      = p / (287.05 T)                       [kg/m^3]

with ``T`` the day's temperature (K) when given, else ``T_isa``. Standard gravity ``G`` is the
CGPM (1901) value 9.80665 m/s^2.
"""

from __future__ import annotations

import numpy as np

from optimizer.core.errors import InvalidInput, check_finite

G = 9.80665  # m/s^2, standard gravity (CGPM 1901)
RHO_SEA = 1.225  # kg/m^3, ISA sea level
R_DRY = 287.05  # J/(kg K), specific gas constant of dry air
LAPSE = 0.0065  # K/m, ISA troposphere lapse rate
T0 = 288.15  # K, ISA sea-level temperature
P0 = 101325.0  # Pa, ISA sea-level pressure
ISA_EXP = 5.2559  # g / (R L)
EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
KM_PER_DEG_LAT = 111.32  # km per degree of latitude (equirectangular projection)


def air_density(elevation_m: float, temperature_c: float | None = None) -> float:
    """Air density in kg/m^3 at ``elevation_m`` (ISA pressure) and ``temperature_c`` (ISA if None).

    Valid for -500..11 000 m and -93..67 degC; ``InvalidInput`` outside.
    """
    h = check_finite("elevation_m", elevation_m)
    if not -500.0 <= h <= 11000.0:
        raise InvalidInput("elevation_m", h, "must be within the troposphere, -500..11000 m")
    t_isa = T0 - LAPSE * h
    p = P0 * (t_isa / T0) ** ISA_EXP
    t = t_isa if temperature_c is None else check_finite("temperature_c", temperature_c) + 273.15
    if not 180.0 <= t <= 340.0:
        raise InvalidInput("temperature_c", temperature_c, "must be within -93..67 C")
    return p / (R_DRY * t)


def haversine_km(lat1: np.ndarray | float, lon1: np.ndarray | float,
                 lat2: np.ndarray | float, lon2: np.ndarray | float) -> np.ndarray | float:
    """Great-circle distance, km, between WGS84 points in degrees (haversine on a sphere of radius
    ``EARTH_RADIUS_KM``). Broadcasts over arrays; scalars in, a float out."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    d = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return float(d) if np.ndim(d) == 0 else d


def derated_range_km(nominal_km: float, elevation_m: float, temperature_c: float,
                     cabin_heating: bool = True, aero_share: float = 0.0) -> float:
    """Usable EV range after cold and altitude derating: ``nominal * f_temp * f_alt``, km.

    ``f_temp`` (MODELS.md section 3.2, AAA 2019 [S27]) is piecewise linear in the ambient
    temperature through the sourced points

    * 24 degC (75 degF, AAA test baseline): 1.00;
    * -6.7 degC (20 degF): 0.59 with cabin heating (range -41 %), 0.88 without (-12 %);
    * 35 degC with A/C: 0.83 (-17 %);

    held constant outside [-6.7, 35] degC. Below -6.7 degC no sourced figure exists (the Recurrent
    fleet average of ~-20 % at <= 0 degC [S28] is milder than AAA's heater case), so the -6.7 degC
    value is held -- optimistic for colder days; pass a measured factor instead where one exists.

    ``f_alt``: thinner air only scales the aerodynamic term of consumption by rho/rho0 (MODELS.md
    section 0/3.2; 0.69 at Lhasa, (C)); battery capacity does not depend on pressure (K). With
    ``aero_share`` s = share of consumption that is aerodynamic drag at sea level,
    ``f_alt = 1 / (1 - s (1 - rho/rho0))`` with rho from the ISA pressure at ``elevation_m`` and the
    *actual* temperature. MODELS.md gives no sourced value for s, so the default s = 0 takes no
    altitude credit (conservative). Climbs are path-specific energy and belong in the arc energy
    (MODELS.md section 2.7), not in this factor.

    Raises ``InvalidInput`` for nominal_km <= 0, elevation outside [-500, 9000] m, temperature
    outside [-60, 60] degC or aero_share outside [0, 1).
    """
    nominal = check_finite("nominal_km", nominal_km)
    if nominal <= 0:
        raise InvalidInput("nominal_km", nominal, "must be > 0")
    h = check_finite("elevation_m", elevation_m)
    if not -500.0 <= h <= 9000.0:
        raise InvalidInput("elevation_m", h, "must be in [-500, 9000] m")
    t = check_finite("temperature_c", temperature_c)
    if not -60.0 <= t <= 60.0:
        raise InvalidInput("temperature_c", t, "must be in [-60, 60] degC")
    s = check_finite("aero_share", aero_share)
    if not 0.0 <= s < 1.0:
        raise InvalidInput("aero_share", s, "must be in [0, 1)")
    cold = 0.59 if cabin_heating else 0.88
    f_temp = float(np.interp(t, [-6.7, 24.0, 35.0], [cold, 1.0, 0.83]))
    rho = air_density(h, t)
    f_alt = 1.0 / (1.0 - s * (1.0 - min(rho / RHO_SEA, 1.0))) if s > 0 else 1.0
    return nominal * f_temp * f_alt

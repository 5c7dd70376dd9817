"""Independent check of a sightseeing-flight product against the data (issue 8).

``verify_product`` recomputes everything from the CSV rows and the unbuffered no-fly polygons with shapely,
sharing nothing with the route designer but the data objects, the airspace's km projection and the ISA
density (:func:`optimizer.drone_energy.air_density`):

* the flight starts and ends at its vertiport, visits only known viewpoints, none twice;
* the flown polyline (the designer's ``path`` or, if none is given, straight legs) passes the viewpoints in
  order and no segment meets the interior of a no-fly polygon;
* ``distance_km`` equals the polyline length, ``score`` the sum of the viewpoint scores;
* block time = flying (km / cruise) + viewing + take-off/landing <= ``block_min`` < that + 1 (rounded up,
  never truncated) <= the duration class;
* no altitude above the aircraft's ceiling; block time <= endurance_sea sqrt(rho / 1.225) - reserve with rho at
  the flight's highest altitude and the day's temperature lowered by 6.5 K/km above the vertiport.
"""

from __future__ import annotations

import math

from shapely.geometry import LineString, Polygon

from optimizer.drone_energy import air_density
from optimizer.flight_routes import TRANSIT_AGL_M, FlightData
from optimizer.flights_domain import FlightProduct

_TOL_DEG = 1e-7
_TOL_MIN = 1e-6


def verify_product(product: FlightProduct, data: FlightData, path: list | tuple | None = None,
                   class_min: int | None = None, temperature_c: float | None = 15.0) -> list[str]:
    """Violations of ``product`` (empty list: OK). ``path``: flown polyline [(lon, lat), ...] or None for
    straight legs; ``class_min``: the duration class it is sold as (None: not checked)."""
    out: list[str] = []
    p = product.id
    vp = data.vertiports.get(product.vertiport_id)
    ac = data.aircraft.get(product.aircraft_type_id)
    if vp is None:
        return [f"{p}: unknown vertiport {product.vertiport_id!r}"]
    if ac is None:
        return [f"{p}: unknown aircraft type {product.aircraft_type_id!r}"]
    unknown = [v for v in product.viewpoints if v not in data.viewpoints]
    if unknown:
        return [f"{p}: unknown viewpoints {unknown}"]
    if len(set(product.viewpoints)) != len(product.viewpoints):
        out.append(f"{p}: a viewpoint is visited twice {list(product.viewpoints)}")
    vps = [data.viewpoints[v] for v in product.viewpoints]
    stops = [(vp.lon, vp.lat)] + [(v.lon, v.lat) for v in vps] + [(vp.lon, vp.lat)]
    line = [tuple(map(float, q)) for q in (path if path is not None else stops)]
    if len(line) < 2:
        return out + [f"{p}: the path has fewer than two points"]

    def same(a: tuple, b: tuple) -> bool:
        return abs(a[0] - b[0]) <= _TOL_DEG and abs(a[1] - b[1]) <= _TOL_DEG

    if not same(line[0], stops[0]) or not same(line[-1], stops[-1]):
        out.append(f"{p}: the path does not start and end at vertiport {vp.id}")
    k = 1
    for q in line[1:-1]:
        if k < len(stops) - 1 and same(q, stops[k]):
            k += 1
    if k != len(stops) - 1:
        out.append(f"{p}: the path does not pass the viewpoints in order (passes {k - 1} of {len(vps)})")

    to_km = data.airspace.to_km
    zones = [(z.id, Polygon([to_km(lon, lat) for lon, lat in z.ring])) for z in data.airspace.zones]
    km = 0.0
    for i in range(len(line) - 1):
        a, b = to_km(*line[i]), to_km(*line[i + 1])
        km += math.dist(a, b)
        if a == b:
            continue
        seg = LineString([a, b])
        for zid, poly in zones:
            if seg.relate_pattern(poly, "T********"):
                out.append(f"{p}: leg {i} {line[i]} -> {line[i + 1]} crosses no-fly zone {zid}")
    if abs(km - product.distance_km) > max(0.01, 1e-3 * km):
        out.append(f"{p}: distance_km {product.distance_km} but the path is {km:.3f} km")
    score = sum(v.score for v in vps)
    if abs(score - product.score) > 1e-6:
        out.append(f"{p}: score {product.score} but the viewpoints sum to {score}")

    total = km / ac.cruise_kmh * 60.0 + sum(v.view_min for v in vps) + ac.takeoff_landing_min
    if total > product.block_min + _TOL_MIN:
        out.append(f"{p}: flight takes {total:.2f} min > block_min {product.block_min}")
    elif product.block_min >= total + 1.0:
        out.append(f"{p}: block_min {product.block_min} is padded (flight takes {total:.2f} min)")
    if class_min is not None and product.block_min > class_min:
        out.append(f"{p}: block_min {product.block_min} exceeds its duration class {class_min} min")
    top = max([vp.elevation_m + TRANSIT_AGL_M] + [v.flight_alt_m for v in vps])
    if top > ac.ceiling_m:
        out.append(f"{p}: flies at {top:.0f} m above the {ac.id} ceiling {ac.ceiling_m:.0f} m")
    t = None if temperature_c is None else temperature_c - 0.0065 * (top - vp.elevation_m)
    rho = air_density(top, t)
    usable = ac.endurance_sea_min * math.sqrt(rho / 1.225) - ac.reserve_min
    if total > usable + _TOL_MIN:
        out.append(f"{p}: flight takes {total:.2f} min > usable endurance {usable:.2f} min "
                   f"(rho {rho:.3f} kg/m3 at {top:.0f} m, reserve {ac.reserve_min:g} min)")
    return out

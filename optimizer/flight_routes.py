"""Sightseeing-flight route design (issue 8): viewpoints, vertiports, aircraft types and the product menu.

Units: distance km, time minutes, speed km/h, altitude and elevation m AMSL, density kg/m^3, temperature degC.

Data (``instances/lhasa/``): ``viewpoints.csv`` (where an aircraft orbits to show a target, with a score and
a viewing time), ``vertiports.csv`` and ``aircraft_types.csv``; no-fly polygons from ``airspace.geojson``.
Loaders raise ``InvalidInput`` naming ``table[row].field`` and the value.

Endurance at altitude
---------------------
Power needed to hold the aircraft up grows as rho^{-1/2} (Dorling et al. 2017, IEEE TSMC: Systems 47(1):70-85,
hover-equivalent model, as in :mod:`optimizer.drone_energy`; MODELS.md 5.1 and 5.5), so a full battery or tank
lasts ``endurance_sea_min * sqrt(rho / 1.225)`` minutes. For the helicopter the same scaling of fuel flow is an
assumption (induced power dominates; profile and parasite power fall with rho, so it is conservative). The
flight's rho is ISA pressure at its highest altitude (vertiport + ``TRANSIT_AGL_M`` or the highest viewpoint
orbit) with the day's vertiport temperature lowered by 6.5 K/km (:func:`optimizer.drone_energy.air_density`).
Usable minutes = endurance - ``reserve_min``.

Route design: the orienteering problem
--------------------------------------
Golden, Levy & Vohra (1987), Naval Research Logistics 34(3):307-318; survey Vansteenwegen, Souffriau & Van
Oudheusden (2011), EJOR 209(1):1-10. From vertiport 0, choose a subset S of viewpoints and an order
v1..vk maximising ``sum_{v in S} score_v`` subject to::

    T = takeoff_landing_min + t(0, v1) + sum_i view_{vi} + sum_i t(vi, vi+1) + t(vk, 0)
    T <= min(duration class, usable minutes at the flight's rho)

with t(a, b) = air km around the no-fly polygons (visibility graph, :class:`optimizer.airspace.AirDistances`)
/ cruise_kmh * 60. Exact by dynamic programming over subsets (Held-Karp style): ``D[m, j]`` = least minutes
from take-off to the end of viewing j having seen the set m (j in m),
``D[m | {k}, k] = min_j D[m, j] + t(j, k) + view_k``, keeping only states that can still return in time; the
best route is the largest-score (m, j) with ``D[m, j] + t(j, 0) <= limit`` (ties: fewer minutes). The
endurance limit depends on the highest altitude flown, so the problem is solved once per altitude level h
with only viewpoints at or below h and the limit at h; the best over the levels is optimal (a route whose
top altitude is h is feasible at level h, and every route found at level h flies no higher than h).
``O(2^n n^2)`` with n <= ``MAX_EXACT_VIEWPOINTS`` viewpoints in reach (Numba).
"""

from __future__ import annotations

import csv
import itertools
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from optimizer.airspace import AIRSPACE_GEOJSON, AirDistances, Airspace, airspace_from_geojson
from optimizer.domain import InvalidInput, check_finite, check_time_limit_s, parse_clock
from optimizer.drone_energy import LAPSE, RHO_SEA, air_density
from optimizer.flights_domain import FlightProduct

LHASA_DIR = AIRSPACE_GEOJSON.parent
VIEWPOINTS_CSV = LHASA_DIR / "viewpoints.csv"
VERTIPORTS_CSV = LHASA_DIR / "vertiports.csv"
AIRCRAFT_TYPES_CSV = LHASA_DIR / "aircraft_types.csv"
TRANSIT_AGL_M = 300.0  # transit height above the vertiport, m (assumption; VFR sightseeing height)
DEFAULT_DURATIONS_MIN = (15, 30, 60)
MAX_EXACT_VIEWPOINTS = 20  # subset DP memory: 2^20 x 20 float64 = 168 MB
_EPS = 1e-9
_BLOCK = 1 << 15  # masks per kernel call between deadline checks

__all__ = ["AircraftType", "DesignedRoute", "FlightData", "Menu", "MenuOffer", "Vertiport", "Viewpoint",
           "design_menu", "design_route", "load_aircraft_types", "load_flight_data", "load_vertiports",
           "load_viewpoints", "solve_orienteering"]


@dataclass(frozen=True, slots=True)
class Viewpoint:
    """Where an aircraft orbits to show a target: (lon, lat) WGS84, ground ``elevation_m``, orbit
    ``flight_alt_m`` AMSL (>= ground), ``score`` >= 0, ``view_min`` >= 0 minutes of orbiting."""

    id: str
    name_en: str
    name_zh: str
    lon: float
    lat: float
    elevation_m: float
    flight_alt_m: float
    score: float
    view_min: float


@dataclass(frozen=True, slots=True)
class Vertiport:
    """A take-off and landing site: (lon, lat), field ``elevation_m``, ``takeoffs_per_slot`` departures
    per ``slot_min`` minutes, ``open_min``/``close_min`` minutes from midnight."""

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


@dataclass(frozen=True, slots=True)
class AircraftType:
    """A sightseeing aircraft type (``kind`` evtol | helicopter); ``seats`` passengers (pilot excluded).

    ``endurance_sea_min``: flight time to empty at sea-level density; ``reserve_min`` must remain at
    landing; ``takeoff_landing_min`` is added to every flight; ``ceiling_m`` caps the flight altitude.
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

    def endurance_min(self, rho: float) -> float:
        """Minutes to empty at density ``rho``: endurance_sea_min sqrt(rho / 1.225) (power ~ rho^-1/2, Dorling 2017)."""
        return self.endurance_sea_min * math.sqrt(rho / RHO_SEA)

    def usable_min(self, rho: float) -> float:
        """Minutes a flight may last at ``rho``: endurance minus the reserve (may be <= 0)."""
        return self.endurance_min(rho) - self.reserve_min

    def leg_min(self, km: float) -> float:
        """Minutes to fly ``km`` at cruise speed."""
        return km / self.cruise_kmh * 60.0


def flight_density(vertiport: Vertiport, max_alt_m: float, temperature_c: float | None) -> float:
    """Air density (kg/m^3) at ``max_alt_m`` on a day with ``temperature_c`` at the vertiport (ISA if None).

    The temperature aloft is the vertiport temperature lowered by the ISA lapse rate 6.5 K/km.
    """
    t = None if temperature_c is None else temperature_c - LAPSE * (max_alt_m - vertiport.elevation_m)
    return air_density(max_alt_m, t)


# ----------------------------------------------------------------------------------------------- loaders
def _rows(path: Path | str, table: str) -> list[dict[str, str]]:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    except OSError as e:
        raise InvalidInput(table, str(path), f"cannot read: {e.strerror}") from None
    if not rows:
        raise InvalidInput(table, str(path), "no rows")
    return rows


def _get(r: dict, table: str, i: int, col: str) -> str:
    v = r.get(col)
    if v is None or str(v).strip() == "":
        raise InvalidInput(f"{table}[{i}].{col}", v, "missing value")
    return str(v).strip()


def _num(r: dict, table: str, i: int, col: str, lo: float, hi: float) -> float:
    f = f"{table}[{i}].{col}"
    x = check_finite(f, _get(r, table, i, col))
    if not lo <= x <= hi:
        raise InvalidInput(f, x, f"must be within {lo:g}..{hi:g}")
    return x


def _int(r: dict, table: str, i: int, col: str, lo: int, hi: int) -> int:
    x = _num(r, table, i, col, lo, hi)
    if x != int(x):
        raise InvalidInput(f"{table}[{i}].{col}", x, "must be a whole number")
    return int(x)


def _unique(items: list, table: str) -> dict:
    out: dict = {}
    for i, it in enumerate(items):
        if it.id in out:
            raise InvalidInput(f"{table}[{i}].id", it.id, "duplicate id")
        out[it.id] = it
    return out


def load_viewpoints(path: Path | str = VIEWPOINTS_CSV) -> dict[str, Viewpoint]:
    """Viewpoints from CSV (``#`` comment lines; columns as :class:`Viewpoint`). Raises ``InvalidInput``."""
    t = "viewpoints"
    out = []
    for i, r in enumerate(_rows(path, t)):
        elev = _num(r, t, i, "elevation_m", -500, 9000)
        alt = _num(r, t, i, "flight_alt_m", -500, 11000)
        if alt < elev:
            raise InvalidInput(f"{t}[{i}].flight_alt_m", alt, f"below the ground elevation {elev:g} m")
        out.append(Viewpoint(_get(r, t, i, "id"), r.get("name_en", ""), r.get("name_zh", ""),
                             _num(r, t, i, "lon", -180, 180), _num(r, t, i, "lat", -90, 90), elev, alt,
                             _num(r, t, i, "score", 0, 1e6), _num(r, t, i, "view_min", 0, 600)))
    return _unique(out, t)


def load_vertiports(path: Path | str = VERTIPORTS_CSV) -> dict[str, Vertiport]:
    """Vertiports from CSV (open/close as HH:MM). Raises ``InvalidInput`` naming row and field."""
    t = "vertiports"
    out = []
    for i, r in enumerate(_rows(path, t)):
        lo = parse_clock(_get(r, t, i, "open"), f"{t}[{i}].open")
        hi = parse_clock(_get(r, t, i, "close"), f"{t}[{i}].close")
        if hi <= lo:
            raise InvalidInput(f"{t}[{i}].close", r["close"], "closes before it opens")
        out.append(Vertiport(_get(r, t, i, "id"), r.get("name_en", ""), r.get("name_zh", ""),
                             _num(r, t, i, "lon", -180, 180), _num(r, t, i, "lat", -90, 90),
                             _num(r, t, i, "elevation_m", -500, 9000), _int(r, t, i, "takeoffs_per_slot", 1, 1000),
                             _int(r, t, i, "slot_min", 1, 1440), int(lo), int(hi)))
    return _unique(out, t)


def load_aircraft_types(path: Path | str = AIRCRAFT_TYPES_CSV) -> dict[str, AircraftType]:
    """Aircraft types from CSV (columns as :class:`AircraftType`). Raises ``InvalidInput`` naming row and field."""
    t = "aircraft_types"
    out = []
    for i, r in enumerate(_rows(path, t)):
        kind = _get(r, t, i, "kind")
        if kind not in ("evtol", "helicopter"):
            raise InvalidInput(f"{t}[{i}].kind", kind, "must be evtol or helicopter")
        out.append(AircraftType(_get(r, t, i, "id"), r.get("name", ""), kind, _int(r, t, i, "seats", 1, 100),
                                _int(r, t, i, "crew", 0, 10), _num(r, t, i, "mtow_kg", 1, 1e5),
                                _num(r, t, i, "cruise_kmh", 1, 1000), _num(r, t, i, "endurance_sea_min", 1, 2000),
                                _num(r, t, i, "reserve_min", 0, 600), _num(r, t, i, "takeoff_landing_min", 0, 120),
                                _num(r, t, i, "ceiling_m", 0, 15000)))
    return _unique(out, t)


class FlightData:
    """Viewpoints, vertiports, aircraft types and the airspace, with air distances among all points.

    ``km(a, b)`` is the shortest air distance (km) around the buffered no-fly polygons between two
    vertiport or viewpoint ids; ``path(a, b)`` its polyline as (lon, lat). Raises ``InvalidInput`` when
    a vertiport or viewpoint lies inside a no-fly zone.
    """

    def __init__(self, viewpoints: dict[str, Viewpoint], vertiports: dict[str, Vertiport],
                 aircraft: dict[str, AircraftType], airspace: Airspace) -> None:
        self.viewpoints, self.vertiports, self.aircraft, self.airspace = viewpoints, vertiports, aircraft, airspace
        for table, items in (("vertiports", vertiports), ("viewpoints", viewpoints)):
            for i, p in enumerate(items.values()):
                z = airspace.zone_containing(p.lon, p.lat)
                if z is not None:
                    raise InvalidInput(f"{table}[{i}]", p.id, f"lies inside no-fly zone {z!r}")
        self.ids = list(vertiports) + list(viewpoints)
        self.index = {k: i for i, k in enumerate(self.ids)}
        pts = [(p.lon, p.lat) for p in (*vertiports.values(), *viewpoints.values())]
        self.dist = AirDistances(airspace, pts)

    def lonlat(self, pid: str) -> tuple[float, float]:
        p = self.vertiports.get(pid) or self.viewpoints[pid]
        return (p.lon, p.lat)

    def km(self, a: str, b: str) -> float:
        return float(self.dist.matrix[self.index[a], self.index[b]])

    def path(self, a: str, b: str) -> list[tuple[float, float]]:
        return self.dist.path(self.index[a], self.index[b])


def load_flight_data(directory: Path | str = LHASA_DIR, airspace: Airspace | None = None) -> FlightData:
    """The three CSVs of ``directory`` and its ``airspace.geojson`` (unless ``airspace`` is given)."""
    d = Path(directory)
    asp = airspace if airspace is not None else airspace_from_geojson(d / "airspace.geojson")
    return FlightData(load_viewpoints(d / "viewpoints.csv"), load_vertiports(d / "vertiports.csv"),
                      load_aircraft_types(d / "aircraft_types.csv"), asp)


# ----------------------------------------------------------------------------------------------- exact OP solver
@njit(cache=True)
def _op_dp_block(dp, out_t, back_t, tt, view, score, limit, lo, hi, best):  # pragma: no cover (numba)
    """Relax masks lo..hi-1 of the subset DP; update ``best`` = [score, minutes, mask, last] in place."""
    n = out_t.shape[0]
    for m in range(lo, hi):
        msc = 0.0
        for j in range(n):
            if (m >> j) & 1:
                msc += score[j]
        for j in range(n):
            if not (m >> j) & 1:
                continue
            d = dp[m, j]
            if d == np.inf:
                continue
            tot = d + back_t[j]
            if msc > best[0] + _EPS or (abs(msc - best[0]) <= _EPS and tot < best[1] - _EPS):
                best[0] = msc
                best[1] = tot
                best[2] = m
                best[3] = j
            for k in range(n):
                if (m >> k) & 1:
                    continue
                c = d + tt[j, k] + view[k]
                if c + back_t[k] <= limit + _EPS and c < dp[m | (1 << k), k]:
                    dp[m | (1 << k), k] = c


def solve_orienteering(t_min: np.ndarray, view_min: np.ndarray, score: np.ndarray, limit_min: float,
                       deadline: float | None = None) -> tuple[list[int], float, float, bool]:
    """Exact orienteering tour from node 0 over nodes 1..n (subset DP, see the module docstring).

    Parameters
    ----------
    t_min : (n+1, n+1) array of travel minutes (inf: no path); node 0 is the depot.
    view_min, score : (n+1,) arrays; entry 0 (the depot) is ignored.
    limit_min : largest tour minutes (travel + viewing).
    deadline : ``time.monotonic()`` value after which the search stops (result then maybe not optimal).

    Returns ``(order, score, minutes, optimal)``: node indices 1..n in visiting order (empty: no node fits).
    Raises ``InvalidInput`` if more than ``MAX_EXACT_VIEWPOINTS`` nodes can be reached at all.
    """
    t = np.asarray(t_min, dtype=np.float64)
    n_all = t.shape[0] - 1
    view = np.asarray(view_min, dtype=np.float64)
    sc = np.asarray(score, dtype=np.float64)
    cand = [k for k in range(1, n_all + 1) if t[0, k] + view[k] + t[k, 0] <= limit_min + _EPS]
    n = len(cand)
    if n == 0:
        return [], 0.0, 0.0, True
    if n > MAX_EXACT_VIEWPOINTS:
        raise InvalidInput("viewpoints", n, f"at most {MAX_EXACT_VIEWPOINTS} viewpoints in reach of one flight "
                                            "for the exact solver; shorten the duration or drop viewpoints")
    c = np.array(cand)
    out_t, back_t = t[0, c].copy(), t[c, 0].copy()
    tt, vw, s = t[np.ix_(c, c)].copy(), view[c].copy(), sc[c].copy()
    dp = np.full((1 << n, n), np.inf)
    for j in range(n):
        dp[1 << j, j] = out_t[j] + vw[j]
    best = np.array([-1.0, np.inf, 0.0, 0.0])
    optimal = True
    for lo in range(1, 1 << n, _BLOCK):
        if deadline is not None and time.monotonic() > deadline:
            optimal = False
            break
        _op_dp_block(dp, out_t, back_t, tt, vw, s, float(limit_min), lo, min(lo + _BLOCK, 1 << n), best)
    if best[0] < 0:
        return [], 0.0, 0.0, optimal
    m, j = int(best[2]), int(best[3])
    order = [j]
    while m != (1 << j):
        pm = m ^ (1 << j)
        target = dp[m, j] - tt[:, j] - vw[j]
        prev = next(i for i in range(n) if (pm >> i) & 1 and abs(dp[pm, i] - target[i]) <= 1e-9)
        m, j = pm, prev
        order.append(j)
    return [int(c[k]) for k in reversed(order)], float(best[0]), float(best[1]), optimal


# ----------------------------------------------------------------------------------------------- products
@dataclass(frozen=True, slots=True)
class DesignedRoute:
    """A product with the numbers behind it: minutes flying/viewing/take-off+landing, highest altitude
    ``max_alt_m`` and its density ``rho``, ``usable_min`` (endurance - reserve there), the polyline ``path``
    (lon, lat) around the no-fly zones, the duration class it was designed for and whether it is proven optimal."""

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
    """One cell of the menu (vertiport x aircraft type x duration class): the product sold there
    (``product_id``, None when unavailable) and a ``note`` (why unavailable, or 'same route as ...')."""

    vertiport_id: str
    aircraft_type_id: str
    class_min: int
    product_id: str | None
    score: float
    block_min: int | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Menu:
    """The product menu: distinct ``routes`` (one :class:`FlightProduct` each) and every ``offers`` cell."""

    routes: tuple[DesignedRoute, ...]
    offers: tuple[MenuOffer, ...]
    temperature_c: float | None
    runtime_s: float

    @property
    def products(self) -> tuple[FlightProduct, ...]:
        return tuple(r.product for r in self.routes)

    @property
    def unavailable(self) -> tuple[MenuOffer, ...]:
        return tuple(o for o in self.offers if o.product_id is None)


def design_route(data: FlightData, vertiport_id: str, aircraft_id: str, class_min: int,
                 temperature_c: float | None = 15.0, deadline: float | None = None,
                 product_id: str | None = None) -> DesignedRoute | str:
    """Best route of at most ``class_min`` block minutes (and within the usable endurance); a reason string
    when no viewpoint can be reached. Raises ``InvalidInput`` for an unknown vertiport or aircraft type."""
    if vertiport_id not in data.vertiports:
        raise InvalidInput("vertiport_id", vertiport_id, f"unknown vertiport (known: {sorted(data.vertiports)})")
    if aircraft_id not in data.aircraft:
        raise InvalidInput("aircraft_type_id", aircraft_id, f"unknown aircraft type (known: {sorted(data.aircraft)})")
    vp, ac = data.vertiports[vertiport_id], data.aircraft[aircraft_id]
    base = vp.elevation_m + TRANSIT_AGL_M
    if base > ac.ceiling_m:
        return f"vertiport transit altitude {base:.0f} m is above the {ac.id} ceiling {ac.ceiling_m:.0f} m"
    vps = [v for v in data.viewpoints.values() if v.flight_alt_m <= ac.ceiling_m]
    levels = sorted({max(base, v.flight_alt_m) for v in vps} | {base})
    limits = [min(float(class_min), ac.usable_min(flight_density(vp, h, temperature_c))) for h in levels]
    best: tuple | None = None
    optimal = True
    for li, (h, lim) in enumerate(zip(levels, limits)):
        if li + 1 < len(levels) and limits[li + 1] >= lim - _EPS:
            continue  # a higher level allows as many minutes and more viewpoints
        avail = lim - ac.takeoff_landing_min
        if avail <= 0:
            continue
        sub = [v for v in vps if v.flight_alt_m <= h]
        ids = [vertiport_id] + [v.id for v in sub]
        km = data.dist.matrix[np.ix_([data.index[k] for k in ids], [data.index[k] for k in ids])]
        tmin = km / ac.cruise_kmh * 60.0
        view = np.array([0.0] + [v.view_min for v in sub])
        score = np.array([0.0] + [v.score for v in sub])
        order, sc, minutes, opt = solve_orienteering(tmin, view, score, avail, deadline)
        optimal = optimal and opt
        if order and (best is None or sc > best[0] + _EPS or (abs(sc - best[0]) <= _EPS and minutes < best[1] - _EPS)):
            best = (sc, minutes, [sub[k - 1] for k in order])
    if best is None:
        usable = ac.usable_min(flight_density(vp, base, temperature_c))
        if not optimal:
            return "time limit reached before any route was found"
        return (f"no viewpoint reachable and back within {min(class_min, usable):.1f} min "
                f"(class {class_min} min, usable endurance {usable:.1f} min at {base:.0f} m)")
    seq = [vertiport_id] + [v.id for v in best[2]] + [vertiport_id]
    dist_km = sum(data.km(a, b) for a, b in itertools.pairwise(seq))
    path: list[tuple[float, float]] = []
    for a, b in itertools.pairwise(seq):
        leg = [(float(x), float(y)) for x, y in data.path(a, b)]
        path += leg if not path else leg[1:]
    max_alt = max([base] + [v.flight_alt_m for v in best[2]])
    rho = flight_density(vp, max_alt, temperature_c)
    flying, viewing = ac.leg_min(dist_km), sum(v.view_min for v in best[2])
    total = flying + viewing + ac.takeoff_landing_min
    pid = product_id or f"{vertiport_id}_{aircraft_id}_{class_min}"
    prod = FlightProduct(pid, vertiport_id, aircraft_id, max(1, math.ceil(total - 1e-6)),
                         float(sum(v.score for v in best[2])), tuple(v.id for v in best[2]), round(dist_km, 3))
    return DesignedRoute(prod, int(class_min), flying, viewing, ac.takeoff_landing_min, max_alt, rho,
                         ac.usable_min(rho), tuple(path), optimal)


def design_menu(data: FlightData, durations_min: tuple[int, ...] | list[int] = DEFAULT_DURATIONS_MIN,
                temperature_c: float | None = 15.0, vertiports: list[str] | None = None,
                aircraft: list[str] | None = None, time_limit_s: float = 30.0) -> Menu:
    """The product menu: for each vertiport x aircraft type x duration class the best route (exact).

    Products are deduplicated per vertiport and aircraft type (a longer class whose best route is the
    same as a shorter one's points to that product); cells without a route are offers with
    ``product_id=None`` and the reason. ``time_limit_s`` bounds the whole design (routes found after the
    limit are marked ``optimal=False``). Raises ``InvalidInput`` for a bad duration, an unknown
    vertiport or aircraft id (field ``durations_min[i]``, ``vertiports[i]``, ``aircraft_types[i]``), or a
    ``temperature_c`` outside -60..50 degC at the vertiport.
    """
    t0 = time.monotonic()
    if temperature_c is not None:
        tc = check_finite("temperature_c", temperature_c)
        if not -60.0 <= tc <= 50.0:
            raise InvalidInput("temperature_c", temperature_c, "must be within -60..50 degC at the vertiport")
    durs = []
    for i, d in enumerate(durations_min):
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not 1 <= int(d) <= 24 * 60:
            raise InvalidInput(f"durations_min[{i}]", d, "must be a whole number of minutes within 1..1440")
        durs.append(int(d))
    if not durs:
        raise InvalidInput("durations_min", [], "give at least one duration class")
    durs = sorted(set(durs))
    vids = list(data.vertiports) if vertiports is None else list(vertiports)
    aids = list(data.aircraft) if aircraft is None else list(aircraft)
    for name, ids, known in (("vertiports", vids, data.vertiports), ("aircraft_types", aids, data.aircraft)):
        for i, k in enumerate(ids):
            if k not in known:
                raise InvalidInput(f"{name}[{i}]", k, f"unknown id (known: {sorted(known)})")
    check_time_limit_s(time_limit_s)
    deadline = t0 + float(time_limit_s)
    routes: list[DesignedRoute] = []
    offers: list[MenuOffer] = []
    for v in vids:
        for a in aids:
            prev: DesignedRoute | None = None
            for d in durs:
                r = design_route(data, v, a, d, temperature_c, deadline)
                if isinstance(r, str):
                    offers.append(MenuOffer(v, a, d, None, 0.0, None, r))
                elif prev is not None and r.product.viewpoints == prev.product.viewpoints:
                    why = "endurance-limited" if r.usable_min < d else "no better route"
                    offers.append(MenuOffer(v, a, d, prev.product.id, prev.product.score, prev.product.block_min,
                                            f"same route as {prev.product.id} ({why})"))
                else:
                    routes.append(r)
                    prev = r
                    note = "" if r.optimal else "time limit: best found, not proven optimal. "
                    if r.usable_min < d:
                        note += f"endurance-limited: {r.usable_min:.1f} usable min at {r.max_alt_m:.0f} m"
                    offers.append(MenuOffer(v, a, d, r.product.id, r.product.score, r.product.block_min, note.strip()))
    return Menu(tuple(routes), tuple(offers), temperature_c, time.monotonic() - t0)

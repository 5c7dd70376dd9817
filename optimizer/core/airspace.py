"""Airspace as data: no-fly polygons and drone hubs (GeoJSON), obstacle-avoiding air distances.

Coordinates are WGS84 lon/lat in the GeoJSON; internally points are projected to a local plane in km
(equirectangular about the mean latitude, error < 0.1 % over the Lhasa region).

Shortest paths around no-fly polygons use the visibility graph (Lozano-Perez & Wesley 1979; MODELS.md
section 5.3): polygons are inflated by a safety buffer, graph nodes are the inflated polygons' vertices
plus the points, an edge joins two nodes if the straight segment does not meet any (buffered) polygon,
and Dijkstra/Floyd gives the shortest obstacle-avoiding path. ``AirDistances`` folds them into one
dense matrix, built once per instance.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from scipy.sparse.csgraph import shortest_path
from shapely.geometry import LineString, Point, Polygon

from optimizer.core.errors import InvalidInput, check_finite
from optimizer.core.physics import KM_PER_DEG_LAT

_EPS_KM = 0.02  # graph vertices sit this far outside the buffered polygons, so they "see" each other


@dataclass(frozen=True, slots=True)
class NoFlyZone:
    """A no-fly polygon. ``ring`` is the closed exterior ring as (lon, lat) pairs (first == last)."""

    id: str
    name: str
    ring: tuple[tuple[float, float], ...]
    reason: str = ""

    def __post_init__(self) -> None:
        if len(self.ring) < 4:
            raise InvalidInput(f"no_fly[{self.id}].ring", len(self.ring), "a polygon ring needs >= 4 positions")
        for i, (lon, lat) in enumerate(self.ring):
            check_finite(f"no_fly[{self.id}].ring[{i}].lon", lon)
            check_finite(f"no_fly[{self.id}].ring[{i}].lat", lat)
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise InvalidInput(f"no_fly[{self.id}].ring[{i}]", (lon, lat), "lon/lat out of range")
        if tuple(self.ring[0]) != tuple(self.ring[-1]):
            raise InvalidInput(f"no_fly[{self.id}].ring", (self.ring[0], self.ring[-1]),
                               "the polygon does not close (first and last positions differ)")
        if not Polygon(self.ring).is_valid:
            raise InvalidInput(f"no_fly[{self.id}].ring", self.id, "the polygon is self-intersecting")


@dataclass(frozen=True, slots=True)
class Hub:
    """A drone hub (battery swaps, loading). ``fleet`` maps drone type id to count."""

    id: str
    name: str
    lon: float
    lat: float
    elevation_m: float
    fleet: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        check_finite(f"hub[{self.id}].lon", self.lon)
        check_finite(f"hub[{self.id}].lat", self.lat)
        check_finite(f"hub[{self.id}].elevation_m", self.elevation_m)
        for t, n in self.fleet:
            if int(n) != n or n < 0:
                raise InvalidInput(f"hub[{self.id}].fleet[{t}]", n, "must be an integer >= 0")


@dataclass(frozen=True)
class Airspace:
    """No-fly zones and hubs; ``buffer_km`` is the safety margin around every zone."""

    zones: tuple[NoFlyZone, ...]
    hubs: tuple[Hub, ...]
    buffer_km: float = 0.2
    ref_lat: float = 29.65
    ref_lon: float = 91.1
    _polys: list = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if check_finite("buffer_km", self.buffer_km) < 0:
            raise InvalidInput("buffer_km", self.buffer_km, "must be >= 0")
        ids = [h.id for h in self.hubs]
        if len(set(ids)) != len(ids):
            raise InvalidInput("hubs", ids, "hub ids must be unique")
        polys = [Polygon([self.to_km(lon, lat) for lon, lat in z.ring]) for z in self.zones]
        object.__setattr__(self, "_polys", polys)
        for h in self.hubs:
            z = self.zone_containing(h.lon, h.lat)
            if z is not None:
                raise InvalidInput(f"hub[{h.id}]", (h.lon, h.lat), f"hub lies inside no-fly zone {z!r}")

    def to_km(self, lon: float, lat: float) -> tuple[float, float]:
        """Project lon/lat to the local km plane."""
        return ((lon - self.ref_lon) * KM_PER_DEG_LAT * math.cos(math.radians(self.ref_lat)),
                (lat - self.ref_lat) * KM_PER_DEG_LAT)

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        return (self.ref_lon + x / (KM_PER_DEG_LAT * math.cos(math.radians(self.ref_lat))),
                self.ref_lat + y / KM_PER_DEG_LAT)

    def zone_containing(self, lon: float, lat: float) -> str | None:
        """Id of the (unbuffered) no-fly zone containing the point, or None."""
        p = Point(self.to_km(lon, lat))
        for z, poly in zip(self.zones, self._polys):
            if poly.covers(p):
                return z.id
        return None

    def blocked_polys(self) -> list[Polygon]:
        """Zones inflated by ``buffer_km`` (what a segment may not meet)."""
        return [p.buffer(self.buffer_km, join_style="mitre") if self.buffer_km > 0 else p for p in self._polys]


def _ring(coords: list, fid: str) -> tuple[tuple[float, float], ...]:
    try:
        return tuple((float(c[0]), float(c[1])) for c in coords)
    except (TypeError, ValueError, IndexError):
        raise InvalidInput(f"no_fly[{fid}].coordinates", coords, "expected [[lon, lat], ...]") from None


def airspace_from_geojson(data: dict | str | Path, buffer_km: float = 0.2) -> Airspace:
    """Build an ``Airspace`` from a GeoJSON FeatureCollection (dict, JSON text or path).

    Polygon features with ``properties.kind == "no_fly"`` become zones (exterior ring only; the ring
    must close); Point features with ``kind == "hub"`` become hubs (``properties.fleet`` like
    ``{"flycart30": 2}``, ``elevation_m``). Raises ``InvalidInput`` naming the feature.
    """
    if isinstance(data, Path) or (isinstance(data, str) and not data.lstrip().startswith("{")):
        data = json.loads(Path(data).read_text(encoding="utf-8"))
    elif isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise InvalidInput("airspace", type(data).__name__, "expected a GeoJSON FeatureCollection")
    zones, hubs = [], []
    for i, f in enumerate(data.get("features", [])):
        props = f.get("properties") or {}
        geom = f.get("geometry") or {}
        fid = str(props.get("id", i))
        kind = props.get("kind")
        if kind == "no_fly":
            if geom.get("type") != "Polygon" or not geom.get("coordinates"):
                raise InvalidInput(f"no_fly[{fid}].geometry", geom.get("type"), "a no-fly zone must be a Polygon")
            zones.append(NoFlyZone(fid, str(props.get("name", fid)), _ring(geom["coordinates"][0], fid),
                                   str(props.get("reason", ""))))
        elif kind == "hub":
            if geom.get("type") != "Point":
                raise InvalidInput(f"hub[{fid}].geometry", geom.get("type"), "a hub must be a Point")
            lon, lat = geom["coordinates"][:2]
            fleet = tuple((str(k), int(v)) for k, v in (props.get("fleet") or {}).items())
            hubs.append(Hub(fid, str(props.get("name", fid)), float(lon), float(lat),
                            float(props.get("elevation_m", 3650.0)), fleet))
    return Airspace(tuple(zones), tuple(hubs), buffer_km=buffer_km)


class AirDistances:
    """All-pairs obstacle-avoiding air distances (km) between ``points`` (lon, lat), built once.

    ``matrix[i, j]`` is the visibility-graph shortest path; ``inf`` where no path exists.
    ``path(i, j)`` returns the polyline (lon, lat) for maps and the verifier.
    """

    def __init__(self, airspace: Airspace, points: list[tuple[float, float]]) -> None:
        self.airspace = airspace
        self.xy = np.array([airspace.to_km(lon, lat) for lon, lat in points], dtype=np.float64).reshape(-1, 2)
        self.blocked = airspace.blocked_polys()
        verts = []
        for p in self.blocked:
            outer = p.buffer(_EPS_KM, join_style="mitre")
            verts.extend(list(outer.exterior.coords)[:-1])
        self.verts = np.array(verts, dtype=np.float64).reshape(-1, 2)
        self._union = shapely.union_all(self.blocked) if self.blocked else None
        n, v = len(self.xy), len(self.verts)
        self.pp = self._vis(self.xy, self.xy)           # point-point direct (inf if blocked)
        self.pv = self._vis(self.xy, self.verts)        # point-vertex
        vv = self._vis(self.verts, self.verts)
        self.dv = shortest_path(np.where(np.isfinite(vv), vv, 0.0), method="D", directed=False) if v else vv
        self._vv = vv
        if v:
            # B[p, w] = min_u pv[p, u] + dv[u, w];  D[p, q] = min_w B[p, w] + pv[q, w]
            b = np.min(self.pv[:, :, None] + self.dv[None, :, :], axis=1)
            via = np.min(b[:, None, :] + self.pv[None, :, :], axis=2)
            self.matrix = np.minimum(self.pp, via)
        else:
            self.matrix = self.pp.copy()
        np.fill_diagonal(self.matrix, 0.0)
        self.n = n

    def _vis(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Euclidean distances a x b, inf where the segment meets a buffered no-fly polygon."""
        d = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))
        if self._union is None or len(a) == 0 or len(b) == 0:
            return d
        ia, ib = np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij")
        coords = np.stack([a[ia.ravel()], b[ib.ravel()]], axis=1)
        same = np.all(coords[:, 0] == coords[:, 1], axis=1)
        coords[same, 1] += 1e-9
        lines = shapely.linestrings(coords)
        shapely.prepare(self._union)
        hit = shapely.intersects(self._union, lines).reshape(d.shape)
        return np.where(hit, np.inf, d)

    def segment_clear(self, lonlat_a: tuple[float, float], lonlat_b: tuple[float, float]) -> bool:
        """True if the straight segment avoids every unbuffered no-fly polygon."""
        seg = LineString([self.airspace.to_km(*lonlat_a), self.airspace.to_km(*lonlat_b)])
        return not any(seg.intersects(p) for p in self.airspace._polys)

    def path(self, i: int, j: int) -> list[tuple[float, float]]:
        """Shortest polyline from point i to point j as (lon, lat) pairs."""
        to_ll = self.airspace.to_lonlat
        if i == j or self.pp[i, j] <= self.matrix[i, j] + 1e-9:
            return [to_ll(*self.xy[i]), to_ll(*self.xy[j])]
        if not np.isfinite(self.matrix[i, j]):
            raise InvalidInput("path", (i, j), "no obstacle-free path")
        tot = self.pv[i, :, None] + self.dv + self.pv[j, None, :]
        u, w = np.unravel_index(int(np.argmin(tot)), tot.shape)
        seq = [int(u)]
        _, pred = shortest_path(np.where(np.isfinite(self._vv), self._vv, 0.0), method="D", directed=False,
                                indices=int(w), return_predecessors=True)
        k = int(u)
        while k != w:
            k = int(pred[k])
            seq.append(k)
        pts = [tuple(self.xy[i])] + [tuple(self.verts[k]) for k in seq] + [tuple(self.xy[j])]
        return [to_ll(x, y) for x, y in pts]

"""The road network: sites, road segments, zones, and its shortest paths (one definition for all).

Units: time in minutes, distance in km, elevation in m, coordinates WGS84 degrees. Solvers use the
all-pairs matrices of ``shortest_path_matrices`` (SciPy Dijkstra over a sparse graph); verifiers
rebuild paths from the roads with ``road_graph`` (networkx), never from the solver's matrices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from optimizer.core.errors import InvalidInput, check_finite, check_window
from optimizer.core.physics import haversine_km

ACCESS_SPEED_KMH = 30.0  # km/h, leg from an off-road point or site to the nearest road node (assumption)
ACCESS_DETOUR = 1.3  # road km per straight-line km on that leg (assumption)


@dataclass(frozen=True, slots=True)
class Site:
    """A place on the Lhasa network: a scenic site (score > 0) or a hub (town, station, airport).

    Attributes
    ----------
    id : str
        Stable identifier (``potala``).
    name_en, name_zh : str
        Display names.
    lat, lon : float
        WGS84 degrees.
    elevation_m : float
        Elevation above sea level, m.
    kind : str
        Site kind (``palace``, ``monastery``, ``lake``, ``town``, ``transport`` ...).
    rating : str
        China A-level rating (``5A`` .. ``3A``), ``unk`` if not verified, ``n/a`` for hubs.
    score : float
        Score (prize) of one visit per visitor, >= 0. 0 marks a hub that is not visited.
    visit_min : float
        Service duration of a group visit, minutes, >= 0.
    window : tuple[float, float]
        Opening hours, minutes from midnight. A visit must start and end inside them, so the
        latest start is ``window[1] - visit_min``.
    daily_quota : int | None
        Persons admitted per day (None: unlimited).
    slot_quota : int | None
        Persons admitted per entry slot (None: unlimited). Slots are the problem's slot grid.
    county, coord_conf, provenance : str
        Where it is, how sure its coordinates are, and where its facts come from.
    """

    id: str
    name_en: str
    name_zh: str
    lat: float
    lon: float
    elevation_m: float
    kind: str
    rating: str
    score: float
    visit_min: float
    window: tuple[float, float]
    daily_quota: int | None = None
    slot_quota: int | None = None
    county: str = ""
    coord_conf: str = ""
    provenance: str = ""

    def __post_init__(self) -> None:
        where = f"site[{self.id}]"
        if not self.id:
            raise InvalidInput(f"{where}.id", self.id, "must be a non-empty string")
        lat = check_finite(f"{where}.lat", self.lat)
        lon = check_finite(f"{where}.lon", self.lon)
        if not -90 <= lat <= 90:
            raise InvalidInput(f"{where}.lat", lat, "must be in [-90, 90]")
        if not -180 <= lon <= 180:
            raise InvalidInput(f"{where}.lon", lon, "must be in [-180, 180]")
        check_finite(f"{where}.elevation_m", self.elevation_m)
        if check_finite(f"{where}.score", self.score) < 0:
            raise InvalidInput(f"{where}.score", self.score, "must be >= 0")
        if check_finite(f"{where}.visit_min", self.visit_min) < 0:
            raise InvalidInput(f"{where}.visit_min", self.visit_min, "must be >= 0")
        check_window(f"{where}.window", self.window)
        for name in ("daily_quota", "slot_quota"):
            q = getattr(self, name)
            if q is not None and (not isinstance(q, (int, np.integer)) or q < 0 or q > 10**12):
                raise InvalidInput(f"{where}.{name}", q, "must be an integer in [0, 1e12] or None")

    @property
    def latest_start(self) -> float:
        """Latest start of a visit so that it ends by closing time, minutes."""
        return self.window[1] - self.visit_min

    @property
    def is_poi(self) -> bool:
        """True for a scenic site that groups visit (score > 0)."""
        return self.score > 0


@dataclass(frozen=True, slots=True)
class Road:
    """An undirected road segment between two sites (road nodes).

    ``length_km`` and ``travel_min`` are > 0; ``speed_kmh`` is the typical speed the travel time
    was derived from.
    """

    a: str
    b: str
    name: str
    length_km: float
    speed_kmh: float
    travel_min: float
    max_elev_m: float = float("nan")
    provenance: str = ""

    def __post_init__(self) -> None:
        where = f"road[{self.a}-{self.b}]"
        for name in ("length_km", "travel_min", "speed_kmh"):
            if check_finite(f"{where}.{name}", getattr(self, name)) <= 0:
                raise InvalidInput(f"{where}.{name}", getattr(self, name), "must be > 0")


@dataclass(frozen=True)
class Network:
    """Sites, roads, zones (rings and circles) and all-pairs shortest-path matrices.

    Attributes
    ----------
    sites : tuple[Site, ...]
        Index ``i`` of a site is its row/column in the matrices.
    roads : tuple[Road, ...]
    travel_min : np.ndarray
        float64[n, n], shortest road travel time between sites, minutes (inf if unreachable).
    distance_km : np.ndarray
        float64[n, n], road length of that fastest path, km.
    zones : Mapping[str, tuple[str, ...]]
        Ring or circle id -> member site ids (the 三环八圈 reconstruction, editable data).
    zone_names : Mapping[str, str]
        Ring or circle id -> display name.
    """

    sites: tuple[Site, ...]
    roads: tuple[Road, ...]
    travel_min: np.ndarray
    distance_km: np.ndarray
    zones: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    zone_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.sites)
        ids = [s.id for s in self.sites]
        if len(set(ids)) != n:
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise InvalidInput("sites.id", dup[0], "duplicate site id")
        for name in ("travel_min", "distance_km"):
            m = getattr(self, name)
            if m.shape != (n, n):
                raise InvalidInput(name, m.shape, f"must have shape ({n}, {n})")
        object.__setattr__(self, "_index", {s.id: i for i, s in enumerate(self.sites)})

    def index(self, site_id: str) -> int:
        """Row of ``site_id`` in the matrices; raises ``InvalidInput`` for an unknown id."""
        try:
            return self._index[site_id]  # type: ignore[attr-defined]
        except KeyError:
            raise InvalidInput("site_id", site_id, "unknown site id") from None

    def site(self, site_id: str) -> Site:
        return self.sites[self.index(site_id)]

    def has_site(self, site_id: str) -> bool:
        return site_id in self._index  # type: ignore[attr-defined]

    @property
    def n(self) -> int:
        return len(self.sites)


def shortest_path_matrices(sites: tuple[Site, ...], roads: tuple[Road, ...]) -> tuple[np.ndarray, np.ndarray]:
    """All-pairs fastest road paths: (travel_min float64[n, n], distance_km float64[n, n]).

    ``distance_km`` is the length of the fastest path (not the shortest length). Sites that no
    road touches get an access leg to the nearest road node (haversine x ``ACCESS_DETOUR`` at
    ``ACCESS_SPEED_KMH``). Unreachable pairs are ``inf``.
    """
    n = len(sites)
    idx = {s.id: i for i, s in enumerate(sites)}
    best: dict[tuple[int, int], tuple[float, float]] = {}
    for r in roads:
        i, j = sorted((idx[r.a], idx[r.b]))
        if (i, j) not in best or r.travel_min < best[(i, j)][0]:
            best[(i, j)] = (r.travel_min, r.length_km)
    on_road = {i for pair in best for i in pair}
    lat = np.array([s.lat for s in sites])
    lon = np.array([s.lon for s in sites])
    road_nodes = np.array(sorted(on_road), dtype=np.int64)
    for i in range(n):
        if i in on_road or len(road_nodes) == 0:
            continue
        d = haversine_km(lat[i], lon[i], lat[road_nodes], lon[road_nodes])
        j = int(road_nodes[np.argmin(d)])
        km = float(d.min()) * ACCESS_DETOUR
        best[tuple(sorted((i, j)))] = (km / ACCESS_SPEED_KMH * 60.0, km)
    rows = np.array([p[0] for p in best] + [p[1] for p in best], dtype=np.int64)
    cols = np.array([p[1] for p in best] + [p[0] for p in best], dtype=np.int64)
    tmin = np.array([v[0] for v in best.values()] * 2)
    km = np.array([v[1] for v in best.values()] * 2)
    graph = csr_matrix((tmin, (rows, cols)), shape=(n, n))
    length = {(int(a), int(b)): float(k) for a, b, k in zip(rows, cols, km)}
    travel, pred = dijkstra(graph, directed=True, return_predecessors=True)
    dist = np.full((n, n), np.inf)
    for s in range(n):
        dist[s, s] = 0.0
        for t in np.argsort(travel[s], kind="stable"):
            p = pred[s, t]
            if t != s and p >= 0:
                dist[s, t] = dist[s, p] + length[(int(p), int(t))]
    return travel, dist


def road_graph(network: Network) -> nx.Graph:
    """Undirected graph of ``network.roads`` weighted by ``travel_min`` (min over parallel roads).

    Every site is a node, even one without roads, so lookups never fail.
    """
    g = nx.Graph()
    g.add_nodes_from(s.id for s in network.sites)
    for r in network.roads:
        if r.a == r.b:
            continue
        w = float(r.travel_min)
        if g.has_edge(r.a, r.b) and g[r.a][r.b]["travel_min"] <= w:
            continue
        g.add_edge(r.a, r.b, travel_min=w)
    return g

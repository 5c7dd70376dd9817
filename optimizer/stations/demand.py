"""Station demand from any tour plan: oxygen demand per site, EV flows on road paths, candidate sites.

Demand is derived from a ``TourPlan`` of the tour engine (the planner's own demand, a saved
plan or the demo day):

* **Oxygen** (:func:`oxygen_demand`, MODELS.md section 4.2): per site
  ``V_s = N_s * pi(h_s) * theta * q * tau`` litres/day, with ``N_s`` the visitors the plan sends
  to site s, ``pi(h)`` the acute-mountain-sickness (AMS) share at the site's elevation,
  ``theta`` the share of the sick who use oxygen at a station, ``q`` L/min and ``tau`` minutes per
  session. The peak hour is the hour (by visit start) with the most visitors; seats are sized with
  Erlang-B (loss system, sick visitors should not queue), ``B(c, a) <= 1 %``, ``a = sessions/h * tau/60``.
* **EV flows** (:func:`ev_flows`): every consecutive leg of every planned route (start -> visits
  -> end) is expanded into its node sequence along the fastest road path (Dijkstra
  on ``optimizer.core.network.road_graph``: of parallel roads the faster one) and
  carries ``size / persons_per_vehicle * ev_share`` EV round trips; legs on the same O-D path (either
  direction) are summed. FRLM drives every path as a round trip O -> D -> O (Kuby & Lim 2005),
  so an out-and-back excursion (Lhasa -> Namtso -> Lhasa) is represented exactly; a leg of a loop
  tour is represented by its own round trip, which is conservative (it needs fuel for the way back).

Candidate sites (:class:`StationSite`, read from ``instances/lhasa/stations.csv`` by
``instances.stations.read_stations``): :func:`candidate_sites` picks those of one kind (``oxygen``
or ``charger``; ``both`` counts for each) and the subset that already exists. The siting models
that use all this are in :mod:`optimizer.stations.siting`.

Sources of the AMS curve and oxygen parameters (``shared/MODELS.md`` section 4.1, FACTS.md 5):

* AMS share by elevation: Maggiorini et al. 1990, BMJ 301:853 [S31] -- 9 % at 2850 m, 13 % at
  3050 m, 34 % at 3650 m, 53 % at 4559 m; consistent with 36.7 % of tourists in Lhasa (3658 m,
  n = 2385, Gonggalanzi et al. 2016 [S29]) and the 45-55 % suggested for Namtso (4718 m, K
  interpolation in MODELS.md). Piecewise linear between those points; below 2850 m linear to 0
  at 1500 m (K); above 4559 m the last slope continues, capped at ``AMS_CAP`` = 0.60 (K, assumption:
  no survey above 4559 m).
* share using oxygen ``theta = 0.3``: the example of MODELS.md 4.2 (C, an assumption).
* ``q = 2 L/min``, ``tau = 15 min``: nasal cannula 2-4 L/min, 10-15 min per session (S
  snowlinemall.cn / digipub.cc, FACTS.md 5); planning rule 2 L/min x 15 min = 30 L per session (D).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import polars as pl

from optimizer.core.errors import InvalidInput, check_finite
from optimizer.core.network import Network, road_graph
from optimizer.core.physics import haversine_km
from optimizer.stations.siting import FlowPath

if TYPE_CHECKING:  # the tour nouns: duck-typed here (problem.network/groups, plan.routes)
    from optimizer.tours import TourPlan, TourProblem

__all__ = [
    "AMS_CAP",
    "AMS_POINTS",
    "STATION_FILE_KINDS",
    "STATION_STATUSES",
    "OxygenParams",
    "StationSite",
    "ams_share",
    "candidate_sites",
    "erlang_b",
    "erlang_b_seats",
    "ev_flows",
    "node_of",
    "oxygen_demand",
    "road_path",
]

AMS_POINTS = ((1500.0, 0.0), (2850.0, 0.09), (3050.0, 0.13), (3650.0, 0.34), (4559.0, 0.53))
"""(elevation m, AMS share): Maggiorini et al. 1990 [S31]; the 1500 m zero anchor is K."""
AMS_CAP = 0.60
"""Upper cap of the extrapolated AMS share above 4559 m (K, assumption)."""

KINDS = ("oxygen", "charger")
STATION_FILE_KINDS = ("oxygen", "charger", "both")
STATION_STATUSES = ("existing", "candidate")


def ams_share(elevation_m: float | np.ndarray) -> np.ndarray:
    """AMS share of fresh visitors at ``elevation_m`` (see the module docstring for the curve)."""
    h = np.asarray(elevation_m, dtype=np.float64)
    xs = np.array([p[0] for p in AMS_POINTS])
    ys = np.array([p[1] for p in AMS_POINTS])
    out = np.interp(h, xs, ys, left=0.0)
    slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    above = h > xs[-1]
    out = np.where(above, np.minimum(AMS_CAP, ys[-1] + slope * (h - xs[-1])), out)
    return out


def erlang_b(c: int, a: float) -> float:
    """Erlang-B blocking probability for c servers and offered load a (recursive form)."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_b_seats(a: float, target: float = 0.01) -> int:
    """Smallest c with ``B(c, a) <= target`` (0 for no load)."""
    if a <= 0:
        return 0
    c = 1
    while erlang_b(c, a) > target:
        c += 1
    return c


@dataclass(frozen=True)
class OxygenParams:
    """Parameters of the oxygen demand (defaults and sources in the module docstring)."""

    share_using_oxygen: float = 0.3
    litres_per_min: float = 2.0
    minutes_per_session: float = 15.0
    blocking: float = 0.01

    def __post_init__(self) -> None:
        for name in ("share_using_oxygen", "litres_per_min", "minutes_per_session", "blocking"):
            v = check_finite(name, getattr(self, name))
            if v < 0 or (name in ("share_using_oxygen", "blocking") and v > 1):
                raise InvalidInput(name, v, "must be >= 0" + (" and <= 1" if name != "litres_per_min" else ""))
        if self.minutes_per_session <= 0:
            raise InvalidInput("minutes_per_session", self.minutes_per_session, "must be > 0")


OXYGEN_SCHEMA = {
    "site_id": pl.String, "elevation_m": pl.Float64, "visitors_day": pl.Int64, "visitors_peak_hour": pl.Int64,
    "ams_share": pl.Float64, "sessions_day": pl.Float64, "sessions_peak_hour": pl.Float64,
    "litres_day": pl.Float64, "peak_l_per_min": pl.Float64, "seats": pl.Int64,
}


def oxygen_demand(problem: TourProblem, plan: TourPlan, params: OxygenParams | None = None) -> pl.DataFrame:
    """Oxygen demand per visited site (one row per site with visitors), sorted by litres/day.

    ``visitors_peak_hour``: visitors whose visit starts in the busiest clock hour;
    ``sessions_* = visitors * ams_share * share_using_oxygen``; ``litres_day = sessions_day * q * tau``;
    ``peak_l_per_min = sessions_peak_hour * tau / 60 * q`` (mean concurrent users x q);
    ``seats``: Erlang-B seats for the peak hour at the blocking target.
    """
    prm = params or OxygenParams()
    net = problem.network
    size = {g.id: g.size for g in problem.groups}
    per_hour: dict[str, dict[int, int]] = {}
    for r in plan.routes:
        for v in r.visits:
            if not math.isfinite(v.start):
                continue
            h = math.floor(v.start / 60.0)
            d = per_hour.setdefault(v.site_id, {})
            d[h] = d.get(h, 0) + size.get(r.group_id, 0)
    rows: dict[str, list[Any]] = {c: [] for c in OXYGEN_SCHEMA}
    for sid, hours in per_hour.items():
        elev = net.site(sid).elevation_m
        pi = float(ams_share(elev))
        day, peak = sum(hours.values()), max(hours.values())
        s_day = day * pi * prm.share_using_oxygen
        s_peak = peak * pi * prm.share_using_oxygen
        load = s_peak * prm.minutes_per_session / 60.0
        vals = {"site_id": sid, "elevation_m": elev, "visitors_day": day, "visitors_peak_hour": peak,
                "ams_share": pi, "sessions_day": s_day, "sessions_peak_hour": s_peak,
                "litres_day": s_day * prm.litres_per_min * prm.minutes_per_session,
                "peak_l_per_min": load * prm.litres_per_min, "seats": erlang_b_seats(load, prm.blocking)}
        for c in OXYGEN_SCHEMA:
            rows[c].append(vals[c])
    df = pl.DataFrame(rows, schema=OXYGEN_SCHEMA)
    return df.sort(["litres_day", "site_id"], descending=[True, False])


# --------------------------------------------------------------------------------------------------
# road paths and EV flows


_GRAPHS: dict[int, tuple[Network, nx.Graph, dict[tuple[str, str], float]]] = {}
_GRAPHS_MAX = 8


def _graph(network: Network) -> tuple[nx.Graph, dict[tuple[str, str], float]]:
    """``road_graph(network)`` and the km of the fastest road of each adjacent pair (both directions)."""
    hit = _GRAPHS.get(id(network))
    if hit is not None and hit[0] is network:
        return hit[1], hit[2]
    g = road_graph(network)
    km: dict[tuple[str, str], float] = {}
    fastest: dict[frozenset, float] = {}
    for r in network.roads:
        key = frozenset((r.a, r.b))
        if r.a == r.b or (key in fastest and r.travel_min >= fastest[key]):
            continue
        fastest[key] = r.travel_min
        km[(r.a, r.b)] = km[(r.b, r.a)] = float(r.length_km)
    if len(_GRAPHS) >= _GRAPHS_MAX:
        _GRAPHS.pop(next(iter(_GRAPHS)))
    _GRAPHS[id(network)] = (network, g, km)
    return g, km


def road_path(network: Network, a: str, b: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Node ids and arc lengths (km) of the fastest road path a -> b (Dijkstra on travel minutes).

    Raises ``InvalidInput`` naming ``route`` when no road path joins them.
    """
    g, km = _graph(network)
    try:
        nodes = nx.dijkstra_path(g, a, b, weight="travel_min")
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        raise InvalidInput("route", f"{a}->{b}", "no road path between these sites") from None
    return tuple(nodes), tuple(km[(u, v)] for u, v in itertools.pairwise(nodes))


def node_of(network: Network, loc: Any) -> str:
    """The site id of a ``Location``: its ``site_id``, else the site nearest its lat/lon (haversine)."""
    if loc.site_id is not None:
        return loc.site_id
    lat = np.array([s.lat for s in network.sites])
    lon = np.array([s.lon for s in network.sites])
    return network.sites[int(np.argmin(haversine_km(loc.lat, loc.lon, lat, lon)))].id




def ev_flows(problem: TourProblem, plan: TourPlan, ev_share: float = 0.2,
             persons_per_vehicle: float = 4.0, min_path_km: float = 0.0) -> list[FlowPath]:
    """EV O-D round-trip flows per day from the planned routes (see the module docstring).

    ``persons_per_vehicle`` = 4 (K, assumption: a 4-passenger tour SUV/MPV); ``ev_share`` = share of
    tour vehicles that are EVs, in [0, 1]. A lat/lon start or end is snapped to the nearest site.
    Paths are oriented from the lexically smaller end id; sorted by flow, descending.
    ``min_path_km`` drops O-D paths shorter than that (default 0: keep all). The FRLM needs a
    station on every path it counts, so short city legs (a few km, in practice charged overnight
    at hotels) otherwise dominate the covered share; e.g. 20 km keeps only the excursions.
    """
    ev = check_finite("ev_share", ev_share)
    if not 0 <= ev <= 1:
        raise InvalidInput("ev_share", ev, "must be in [0, 1]")
    ppv = check_finite("persons_per_vehicle", persons_per_vehicle)
    if ppv <= 0:
        raise InvalidInput("persons_per_vehicle", ppv, "must be > 0")
    min_km = check_finite("min_path_km", min_path_km)
    if min_km < 0:
        raise InvalidInput("min_path_km", min_km, "must be >= 0")
    net = problem.network
    groups = {g.id: g for g in problem.groups}
    acc: dict[tuple[str, str], float] = {}
    for r in plan.routes:
        g = groups[r.group_id]
        seq = [node_of(net, g.start)] + [v.site_id for v in r.visits] + [node_of(net, g.end)]
        f = g.size / ppv * ev
        for a, b in itertools.pairwise(seq):
            if a == b:
                continue
            key = (a, b) if a < b else (b, a)
            acc[key] = acc.get(key, 0.0) + f
    out = []
    for (a, b), f in acc.items():
        nodes, arcs = road_path(net, a, b)
        if sum(arcs) < min_km:
            continue
        out.append(FlowPath(nodes=nodes, arc_km=arcs, flow=f))
    out.sort(key=lambda p: (-p.flow, p.nodes[0], p.nodes[-1]))
    return out


# --------------------------------------------------------------------------------------------------
# candidate station sites


@dataclass(frozen=True, slots=True)
class StationSite:
    """A row of the stations file: a site that has or may get a station.

    Attributes
    ----------
    site_id : str
        A site of the network.
    kind : str
        ``oxygen``, ``charger`` or ``both``.
    status : str
        ``existing`` or ``candidate``.
    capacity : float | None
        Seats (oxygen) or charge points (charger); None if unknown.
    cost_cny : float | None
        Investment, CNY; None if unknown.
    provenance, notes : str
        Where the facts come from.
    """

    site_id: str
    kind: str
    status: str
    capacity: float | None = None
    cost_cny: float | None = None
    provenance: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        if not self.site_id:
            raise InvalidInput("site_id", self.site_id, "required")
        if self.kind not in STATION_FILE_KINDS:
            raise InvalidInput("kind", self.kind, "must be oxygen, charger or both")
        if self.status not in STATION_STATUSES:
            raise InvalidInput("status", self.status, "must be existing or candidate")
        for name in ("capacity", "cost_cny"):
            v = getattr(self, name)
            if v is not None and (check_finite(name, v) < 0):
                raise InvalidInput(name, v, "must be >= 0")


def candidate_sites(stations: Sequence[StationSite], kind: str,
                    network: Network | None = None) -> tuple[tuple[str, ...], frozenset[str]]:
    """(candidate site ids for ``kind``, the subset that already exists), in file order.

    ``kind``: ``oxygen`` or ``charger`` (``both`` rows count for each). Raises ``InvalidInput``
    naming ``kind``, or ``candidates[i]`` for a site that is not in ``network``.
    """
    if kind not in KINDS:
        raise InvalidInput("kind", kind, "must be 'oxygen' or 'charger'")
    rows = [s for s in stations if s.kind in (kind, "both")]
    ids = tuple(dict.fromkeys(s.site_id for s in rows))
    existing = frozenset(s.site_id for s in rows if s.status == "existing")
    if network is not None:
        for i, c in enumerate(ids):
            if not network.has_site(c):
                raise InvalidInput(f"candidates[{i}]", c, "is not a site of the network")
    return ids, existing

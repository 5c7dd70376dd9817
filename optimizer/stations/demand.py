"""Siting oxygen-supply stations (MCLP) and EV chargers (FRLM) from a planned tour day.

Demand is derived from a ``TourPlan`` of the tour engine:

* **Oxygen** (:func:`oxygen_demand`, MODELS.md section 4.2): per site
  ``V_s = N_s * pi(h_s) * theta * q * tau`` litres/day, with ``N_s`` the visitors the plan sends
  to site s, ``pi(h)`` the acute-mountain-sickness (AMS) share at the site's elevation,
  ``theta`` the share of the sick who use oxygen at a station, ``q`` L/min and ``tau`` minutes per
  session. The peak hour is the hour (by visit start) with the most visitors; seats are sized with
  Erlang-B (loss system, sick visitors should not queue), ``B(c, a) <= 1 %``, ``a = sessions/h * tau/60``.
* **EV flows** (:func:`ev_flows`): every consecutive leg of every planned route (start -> visits
  -> end) is expanded into its node sequence along the fastest road path (scipy Dijkstra
  predecessors on the same graph as ``instances.loader``: of parallel roads the faster one) and
  carries ``size / persons_per_vehicle * ev_share`` EV round trips; legs on the same O-D path (either
  direction) are summed. FRLM drives every path as a round trip O -> D -> O (Kuby & Lim 2005),
  so an out-and-back excursion (Lhasa -> Namtso -> Lhasa) is represented exactly; a leg of a loop
  tour is represented by its own round trip, which is conservative (it needs fuel for the way back).

Siting: :func:`site_oxygen` = maximal covering (Church & ReVelle 1974) over the candidate sites of
``instances/lhasa/stations.csv`` covering demand sites within ``threshold_min`` road minutes;
:func:`site_chargers` = flow refuelling location model (AC-PC, Capar et al. 2013) with the range
derated by :func:`models.siting.derated_range_km` at Lhasa's elevation and a temperature.
Existing stations are candidates like the others (not forced open); the result lists which of the
chosen sites already exist. Both return a :class:`StationSiting` with the coverage of the
requested ``p`` and a marginal curve (objective for p = 1..p_max, each solved to optimality).

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
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from instances.loader import LHASA_DIR, haversine_km
from models.siting import (
    CoverageProblem,
    FlowPath,
    FlowProblem,
    SitingResult,
    derated_range_km,
    solve_frlm,
    solve_mclp,
)
from optimizer.domain import InvalidInput, Location, Network, TourPlan, TourProblem, check_finite

__all__ = [
    "AMS_CAP",
    "AMS_POINTS",
    "LHASA_ELEVATION_M",
    "OxygenParams",
    "StationSiting",
    "ams_share",
    "candidate_sites",
    "erlang_b_seats",
    "ev_flows",
    "oxygen_demand",
    "read_stations",
    "road_path",
    "site_chargers",
    "site_oxygen",
]

STATIONS_CSV = LHASA_DIR / "stations.csv"
LHASA_ELEVATION_M = 3650.0
"""Elevation used to derate the EV range (Lhasa city, MODELS.md section 0)."""

AMS_POINTS = ((1500.0, 0.0), (2850.0, 0.09), (3050.0, 0.13), (3650.0, 0.34), (4559.0, 0.53))
"""(elevation m, AMS share): Maggiorini et al. 1990 [S31]; the 1500 m zero anchor is K."""
AMS_CAP = 0.60
"""Upper cap of the extrapolated AMS share above 4559 m (K, assumption)."""

KINDS = ("oxygen", "charger")
DEFAULT_TIME_LIMIT_S = 60.0


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
# road graph and EV flows


@dataclass(frozen=True, eq=False)
class _RoadGraph:
    pred: np.ndarray
    length: dict


_GRAPHS: dict[int, tuple[Network, _RoadGraph]] = {}


def _road_graph(network: Network) -> _RoadGraph:
    """The loader's graph (fastest of parallel roads) with all-pairs Dijkstra predecessors."""
    hit = _GRAPHS.get(id(network))
    if hit is not None and hit[0] is network:
        return hit[1]
    n = network.n
    best: dict[tuple[int, int], tuple[float, float]] = {}
    for r in network.roads:
        i, j = sorted((network.index(r.a), network.index(r.b)))
        if (i, j) not in best or r.travel_min < best[(i, j)][0]:
            best[(i, j)] = (r.travel_min, r.length_km)
    rows = np.array([p[0] for p in best] + [p[1] for p in best], dtype=np.int64)
    cols = np.array([p[1] for p in best] + [p[0] for p in best], dtype=np.int64)
    tmin = np.array([v[0] for v in best.values()] * 2)
    km = np.array([v[1] for v in best.values()] * 2)
    graph = csr_matrix((tmin, (rows, cols)), shape=(n, n))
    _, pred = dijkstra(graph, directed=True, return_predecessors=True)
    g = _RoadGraph(pred=pred, length={(int(a), int(b)): float(k) for a, b, k in zip(rows, cols, km)})
    _GRAPHS[id(network)] = (network, g)
    return g


def road_path(network: Network, a: str, b: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Node ids and arc lengths (km) of the fastest road path a -> b; InvalidInput if unreachable."""
    g = _road_graph(network)
    s, t = network.index(a), network.index(b)
    nodes = [t]
    while nodes[-1] != s:
        p = int(g.pred[s, nodes[-1]])
        if p < 0:
            raise InvalidInput("route", f"{a}->{b}", "no road path between these sites")
        nodes.append(p)
    nodes.reverse()
    arcs = tuple(g.length[(nodes[k], nodes[k + 1])] for k in range(len(nodes) - 1))
    return tuple(network.sites[i].id for i in nodes), arcs


def _node_of(network: Network, loc: Location) -> str:
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
        seq = [_node_of(net, g.start)] + [v.site_id for v in r.visits] + [_node_of(net, g.end)]
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
# stations data


def read_stations(path: Path | str | None = None) -> pl.DataFrame:
    """``stations.csv``: site_id, kind (oxygen|charger|both), status (existing|candidate), capacity, cost_cny, ..."""
    p = Path(path) if path is not None else STATIONS_CSV
    if not p.is_file():
        raise InvalidInput("stations", str(p), "file not found")
    df = pl.read_csv(p, infer_schema=False)
    for k, r in enumerate(df.iter_rows(named=True), start=2):
        if r["kind"] not in ("oxygen", "charger", "both"):
            raise InvalidInput(f"{p.name}:row {k}.kind", r["kind"], "must be oxygen, charger or both")
        if r["status"] not in ("existing", "candidate"):
            raise InvalidInput(f"{p.name}:row {k}.status", r["status"], "must be existing or candidate")
    return df


def candidate_sites(kind: str, network: Network | None = None, path: Path | str | None = None) -> tuple[tuple[str, ...], frozenset]:
    """(candidate site ids for ``kind``, the subset that already exists), in file order."""
    _check_kind(kind)
    df = read_stations(path).filter(pl.col("kind").is_in([kind, "both"]))
    ids = tuple(dict.fromkeys(df["site_id"].to_list()))
    existing = frozenset(df.filter(pl.col("status") == "existing")["site_id"].to_list())
    if network is not None:
        _check_nodes(network, ids)
    return ids, existing


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InvalidInput("kind", kind, "must be 'oxygen' or 'charger'")


def _check_nodes(network: Network, cands: Sequence[str]) -> None:
    for i, c in enumerate(cands):
        if not network.has_site(c):
            raise InvalidInput(f"candidates[{i}]", c, "is not a site of the network")


# --------------------------------------------------------------------------------------------------
# siting


@dataclass(frozen=True)
class StationSiting:
    """Outcome of one station-siting run.

    ``covered`` is litres/day of oxygen demand within the threshold (oxygen) or EV round trips/day
    refuelled (charger); ``marginal`` has one dict per p = 1..p_max: p, objective, covered_pct,
    gain (objective minus that of p - 1; p = 1 gains from 0), status, wall_s.
    """

    kind: str
    p: int
    chosen: tuple[str, ...]
    existing_chosen: tuple[str, ...]
    covered: float
    total: float
    covered_pct: float
    status: str
    backend: str
    wall_s: float
    unit: str
    marginal: list[dict[str, Any]]
    params: dict[str, Any]
    result: SitingResult
    detail: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "p": self.p, "chosen": list(self.chosen),
                "existing_chosen": list(self.existing_chosen), "covered": self.covered, "total": self.total,
                "covered_pct": self.covered_pct, "unit": self.unit, "status": self.status, "backend": self.backend,
                "wall_s": self.wall_s, "marginal": self.marginal, "params": self.params, "detail": self.detail}


def _p_max(p: int, m: int, p_max: int | None) -> int:
    if p_max is None:
        return min(m, max(p, 10))
    if isinstance(p_max, bool) or not isinstance(p_max, (int, np.integer)) or p_max < p or p_max > m:
        raise InvalidInput("p_max", p_max, f"must be an integer in [p, {m}]")
    return int(p_max)


def _curve(make, solve, p: int, pmax: int, total: float) -> tuple[SitingResult, list[dict[str, Any]]]:
    marginal, prev, main = [], 0.0, None
    for k in range(1, pmax + 1):
        res = solve(make(k))
        if k == p:
            main = res
        obj = res.objective if res.objective is not None else math.nan
        marginal.append({"p": k, "objective": obj, "covered_pct": 100.0 * obj / total if total > 0 else 0.0,
                         "gain": obj - prev, "status": res.status, "wall_s": res.wall_s})
        prev = obj
    assert main is not None
    return main, marginal


def site_oxygen(network: Network, demand_df: pl.DataFrame, p: int, threshold_min: float = 30.0,
                backend: str = "cpsat", candidates: Sequence[str] | None = None, p_max: int | None = None,
                time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> StationSiting:
    """MCLP: choose p oxygen stations maximising the litres/day of demand within ``threshold_min``
    road minutes (``network.travel_min``, site -> station). ``demand_df`` needs ``site_id`` and
    ``litres_day`` (as from :func:`oxygen_demand`)."""
    t0 = time.perf_counter()
    existing: frozenset = frozenset()
    if candidates is None:
        candidates, existing = candidate_sites("oxygen")
    cands = tuple(candidates)
    _check_nodes(network, cands)
    thr = check_finite("threshold_min", threshold_min)
    if thr <= 0:
        raise InvalidInput("threshold_min", thr, "must be > 0")
    for col in ("site_id", "litres_day"):
        if col not in demand_df.columns:
            raise InvalidInput(f"demand.{col}", None, "column missing")
    ids = demand_df["site_id"].to_list()
    w = demand_df["litres_day"].cast(pl.Float64).to_numpy()
    for i, (sid, v) in enumerate(zip(ids, w)):
        if not network.has_site(sid):
            raise InvalidInput(f"demand[{i}].site_id", sid, "is not a site of the network")
        if not math.isfinite(v) or v < 0:
            raise InvalidInput(f"demand[{i}].litres_day", float(v), "must be finite and >= 0")
    if not ids:
        raise InvalidInput("demand", 0, "no demand sites")
    rows = [network.index(s) for s in ids]
    cols = [network.index(c) for c in cands]
    dist = network.travel_min[np.ix_(rows, cols)]
    total = float(w.sum())

    def make(k: int) -> CoverageProblem:
        return CoverageProblem(demand=w, candidates=cands, p=k, distance=dist, threshold=thr)

    main_problem = make(p)  # validates p (names the field) before the curve
    pmax = _p_max(main_problem.p, len(cands), p_max)
    res, marginal = _curve(make, lambda pr: solve_mclp(pr, backend, time_limit_s=time_limit_s), main_problem.p,
                           pmax, total)
    cov = float(res.objective or 0.0)
    detail = []
    if res.has_solution:
        chosen_idx = [cands.index(c) for c in res.chosen]
        for i, sid in enumerate(ids):
            tt = dist[i, chosen_idx]
            j = int(np.argmin(tt))
            detail.append({"site_id": sid, "litres_day": float(w[i]), "covered": bool(res.covered[i] > 0.5),
                           "nearest_station": res.chosen[j], "minutes": float(tt[j])})
    return StationSiting(
        kind="oxygen", p=main_problem.p, chosen=tuple(res.chosen),
        existing_chosen=tuple(c for c in res.chosen if c in existing), covered=cov, total=total,
        covered_pct=100.0 * cov / total if total > 0 else 0.0, status=res.status, backend=backend,
        wall_s=time.perf_counter() - t0, unit="L/day", marginal=marginal,
        params={"threshold_min": thr, "candidates": len(cands), "demand_sites": len(ids), "p_max": pmax},
        result=res, detail=detail)


def site_chargers(network: Network, flows: Sequence[FlowPath], p: int, range_km: float = 300.0,
                  temperature_c: float = -5.0, backend: str = "cpsat", candidates: Sequence[str] | None = None,
                  p_max: int | None = None, elevation_m: float = LHASA_ELEVATION_M,
                  time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> StationSiting:
    """FRLM: choose p charger sites maximising the EV round trips/day that can be driven without
    running flat, with the nominal ``range_km`` derated for ``temperature_c`` and ``elevation_m``
    (:func:`models.siting.derated_range_km`, cabin heating on, no aerodynamic credit)."""
    t0 = time.perf_counter()
    rng = check_finite("range_km", range_km)
    if rng <= 0:
        raise InvalidInput("range_km", rng, "must be > 0")
    temp = check_finite("temperature_c", temperature_c)
    existing: frozenset = frozenset()
    if candidates is None:
        candidates, existing = candidate_sites("charger")
    cands = tuple(candidates)
    _check_nodes(network, cands)
    eff = derated_range_km(rng, elevation_m, temp)
    paths = tuple(flows)
    nodes = tuple(s.id for s in network.sites)
    total = float(sum(q.flow for q in paths))

    def make(k: int) -> FlowProblem:
        return FlowProblem(paths=paths, candidates=cands, range_km=eff, p=k, nodes=nodes)

    main_problem = make(p)
    pmax = _p_max(main_problem.p, len(cands), p_max)
    res, marginal = _curve(make, lambda pr: solve_frlm(pr, backend, time_limit_s=time_limit_s), main_problem.p,
                           pmax, total)
    cov = float(res.objective or 0.0)
    detail = [{"origin": q.nodes[0], "destination": q.nodes[-1], "km": q.length_km, "flow": q.flow,
               "refuelled": bool(res.covered[k] > 0.5) if res.covered else False}
              for k, q in enumerate(paths)]
    return StationSiting(
        kind="charger", p=main_problem.p, chosen=tuple(res.chosen),
        existing_chosen=tuple(c for c in res.chosen if c in existing), covered=cov, total=total,
        covered_pct=100.0 * cov / total if total > 0 else 0.0, status=res.status, backend=backend,
        wall_s=time.perf_counter() - t0, unit="EV round trips/day", marginal=marginal,
        params={"range_km": rng, "temperature_c": temp, "elevation_m": elevation_m, "effective_range_km": eff,
                "candidates": len(cands), "paths": len(paths), "p_max": pmax},
        result=res, detail=detail)

"""Daily tour-group routes: the TOPTW with shared per-slot entry quotas, solved by the ILS engine.

Model (Vansteenwegen et al. 2009 TOPTW, with the Lhasa extensions of ``shared/MODELS.md`` 1.4):
each group ``g`` is one route from its start to its end inside its day window; a visit to site
``i`` starts inside the site's opening hours and ends before closing (latest start =
close - visit_min); a site is visited at most once per route; every visit uses ``size_g`` of the
site's quota for the entry slot its start falls in (slots of ``slot_min`` minutes from midnight)
and of its daily quota, shared by all groups. Objective: maximise the sum over visits of
``size_g * score_i * interest_g(kind_i)`` (visitor-weighted score), must-visits first (a bonus of
``must_visit_bonus`` per visitor), then minimise total route time.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time

import numpy as np

from optimizer.core.engine import ils as _ils_module
from optimizer.core.engine import kernels as _kernels_module
from optimizer.core.engine import moves as _moves_module
from optimizer.core.engine.ils import ILSParams, run_ils
from optimizer.core.engine.kernels import (
    NODE,
    START,
    KernelProblem,
    RouteState,
    new_state,
    seed_protected,
    travel_is_metric,
)
from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network, Road, Site, shortest_path_matrices
from optimizer.core.physics import haversine_km
from optimizer.core.results import FEASIBLE, SolveStats
from optimizer.core.stop import StoppingCriterion
from optimizer.core.warmup import KernelWarmUp, kernel_cached
from optimizer.tours.problem import Location, TourGroup, TourProblem
from optimizer.tours.solution import Route, TourPlan, TourUnserved, Visit, tour_kpis

UNLIMITED = np.iinfo(np.int64).max // 4
DECODE_S_PER_GROUP = 4e-5
"""CPU seconds per group a time-limited search leaves for decoding the routes and the KPIs after
it (measured 3.3e-5 CPU s per party at 50,000 parties, ``bench/city_scale.py``), scaled by the
wall/CPU ratio the solve has seen so far (a loaded machine gives the process a fraction of a
core), so ``stats.runtime_s`` stays within ``stop.max_runtime_s`` at city scale (issue 15)."""
MIN_LOAD_FACTOR, MAX_LOAD_FACTOR = 2.0, 10.0
"""Smallest and largest wall/CPU ratio the decode reserve assumes (at least 2: the load measured
before the search may rise during it; a 5,000-party solve overran a 30 s limit by 0.3 s with 1)."""
MIN_SEARCH_S = 0.01
"""Shortest search a time-limited solve gets when the decode reserve eats its whole limit."""
# Many routes that rarely interact: shake more of them per iteration than for the classic TOPTW.
TOUR_PARAMS = ILSParams(shake_routes=8)


def road_nodes(network: Network) -> np.ndarray:
    """Indices of sites that are an end of at least one road (where a lat/lon point attaches)."""
    ends = {r.a for r in network.roads} | {r.b for r in network.roads}
    idx = [i for i, s in enumerate(network.sites) if s.id in ends]
    return np.array(idx if idx else range(network.n), dtype=np.int64)


def location_vector(problem: TourProblem, loc: Location, nodes: np.ndarray) -> tuple[np.ndarray, int, float]:
    """Travel minutes from ``loc`` to every site (float64[n]), its node and access minutes.

    A site id uses its matrix row; a lat/lon point takes an access leg to the nearest road node
    (haversine km x ``access_detour`` at ``access_speed_kmh``) and the road network from there.
    """
    net = problem.network
    if loc.site_id is not None:
        i = net.index(loc.site_id)
        return net.travel_min[i], i, 0.0
    lat = np.array([net.sites[k].lat for k in nodes])
    lon = np.array([net.sites[k].lon for k in nodes])
    d = haversine_km(loc.lat, loc.lon, lat, lon)
    k = int(np.argmin(d))
    node = int(nodes[k])
    access = float(d[k]) * problem.access_detour / problem.access_speed_kmh * 60.0
    return net.travel_min[node] + access, node, access


def interest_weight(group, kind: str) -> float:
    return float(group.interests.get(kind, 1.0))


def locations_matrix(problem: TourProblem, locs: list[Location], nodes: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``location_vector`` for many locations at once: travel minutes float64[m, n], node int64[m]
    and access minutes float64[m] (one vectorised haversine over the lat/lon points, issue 15)."""
    net = problem.network
    m = len(locs)
    node = np.zeros(m, dtype=np.int64)
    access = np.zeros(m, dtype=np.float64)
    pts = [k for k, loc in enumerate(locs) if loc.site_id is None]
    for k, loc in enumerate(locs):
        if loc.site_id is not None:
            node[k] = net.index(loc.site_id)
    if pts:
        lat = np.array([net.sites[k].lat for k in nodes])
        lon = np.array([net.sites[k].lon for k in nodes])
        plat = np.array([locs[k].lat for k in pts], dtype=np.float64)
        plon = np.array([locs[k].lon for k in pts], dtype=np.float64)
        d = np.asarray(haversine_km(plat[:, None], plon[:, None], lat[None, :], lon[None, :]))
        a = np.argmin(d, axis=1)
        idx = np.array(pts, dtype=np.int64)
        node[idx] = nodes[a]
        access[idx] = d[np.arange(len(pts)), a] * problem.access_detour / problem.access_speed_kmh * 60.0
    return net.travel_min[node] + access[:, None], node, access


def compile_problem(problem: TourProblem) -> tuple[KernelProblem, np.ndarray, int]:
    """Arrays for the kernels: (KernelProblem, daily capacity int64[n], number of slots).

    Values are visitor-weighted scores; a site a group cannot use (hub, value 0 (interest weight
    0) unless a must-visit, outside its zone, unreachable, or open for less than its visit
    duration) is not among its candidates. The slot grid spans 0 .. the latest day-window close.
    Built with array operations over all groups (issue 15: a Python loop over groups x sites
    cost seconds at 50,000 groups); Python touches each group only to read its fields.
    """
    net = problem.network
    n, R = net.n, len(problem.groups)
    groups = problem.groups
    nodes = road_nodes(net)
    service = np.array([s.visit_min for s in net.sites], dtype=np.float64)
    open_ = np.array([s.window[0] for s in net.sites], dtype=np.float64)
    close = np.array([s.latest_start for s in net.sites], dtype=np.float64)
    score = np.array([s.score for s in net.sites], dtype=np.float64)
    kind_names = sorted({s.kind for s in net.sites})
    kind_of = np.array([kind_names.index(s.kind) for s in net.sites], dtype=np.int64)
    t_from, n_s, acc_s = locations_matrix(problem, [g.start for g in groups], nodes)
    t_to, n_e, acc_e = locations_matrix(problem, [g.end for g in groups], nodes)
    t_direct = acc_s + net.travel_min[n_s, n_e] + acc_e
    day_start = np.array([g.day_window[0] for g in groups], dtype=np.float64)
    day_end = np.array([g.day_window[1] for g in groups], dtype=np.float64)
    size = np.array([g.size for g in groups], dtype=np.int64)
    weight_k = np.array([[float(g.interests.get(k, 1.0)) for k in kind_names] for g in groups],
                        dtype=np.float64).reshape(R, len(kind_names))
    value = size[:, None] * score[None, :] * weight_k[:, kind_of]
    protect = np.zeros((R, n), dtype=np.bool_)
    allowed = np.ones((R, n), dtype=np.bool_)
    zone_mask = {z: np.array([s.id in set(ids) for s in net.sites], dtype=np.bool_) for z, ids in net.zones.items()}
    for r, g in enumerate(groups):
        for sid in g.must_visit:
            protect[r, net.index(sid)] = True
        if g.zone is not None:
            allowed[r] = zone_mask[g.zone]
    value = np.where(protect, value + size[:, None] * problem.must_visit_bonus, value)
    usable = ((score > 0) & (close >= open_))[None, :] & np.isfinite(t_from) & np.isfinite(t_to) & allowed
    # a stop worth nothing to the group is never a candidate, unless it is a must-visit
    ok = usable & ((value > 0) | protect)
    value = np.where(ok, value, 0.0)
    n_cand = ok.sum(axis=1).astype(np.int32)
    cand = np.argsort(~ok, axis=1, kind="stable").astype(np.int32)  # candidates first, in site order
    cand[np.arange(n)[None, :] >= n_cand[:, None]] = 0
    # Slot grid: a visit starts no later than its group's day-window close, so the grid spans
    # 0 .. max close (<= MAX_DAY_MIN, checked by TourGroup), whatever the sites' opening hours.
    n_slots = math.ceil(float(day_end.max(initial=0.0)) / problem.slot_min) + 1
    quota = np.array([s.slot_quota if s.slot_quota is not None else -1 for s in net.sites], dtype=np.int64)
    daily = np.array([s.daily_quota if s.daily_quota is not None else UNLIMITED for s in net.sites], dtype=np.int64)
    travel = np.ascontiguousarray(net.travel_min, dtype=np.float64)
    t_from, t_to, t_direct = np.ascontiguousarray(t_from), np.ascontiguousarray(t_to), np.ascontiguousarray(t_direct)
    P = KernelProblem(
        travel=travel,
        travel_t=np.ascontiguousarray(net.travel_min.T, dtype=np.float64),
        t_from=t_from, t_to=t_to,
        t_direct=t_direct, service=service, open_=open_, close=close, day_start=day_start,
        day_end=day_end, value=np.ascontiguousarray(value), protect=protect, size=size, cand=cand, n_cand=n_cand,
        slot_quota=quota, slot_len=np.array([problem.slot_min], dtype=np.float64),
        metric=travel_is_metric(travel, t_from, t_to, t_direct, service, cand, n_cand))
    return P, daily, n_slots


def _route_of(problem: TourProblem, P: KernelProblem, S: RouteState, r: int) -> Route:
    net = problem.network
    g = problem.groups[r]
    L = int(S.length[r])
    first = int(S.ri[NODE, r, 0])
    # leave as late as possible without delaying the first visit: no wait at the first gate
    depart = max(float(P.day_start[r]), float(S.rt[START, r, 0]) - float(P.t_from[r, first]))
    visits = []
    travel = 0.0
    prev_dep = depart
    prev = -1
    score = 0.0
    dist = 0.0
    for p in range(L):
        j = int(S.ri[NODE, r, p])
        leg = float(P.t_from[r, j]) if prev < 0 else float(P.travel[prev, j])
        arrival = prev_dep + leg
        start = float(S.rt[START, r, p])
        site = net.sites[j]
        visits.append(Visit(site_id=site.id, arrival=arrival, wait=start - arrival, start=start,
                            departure=start + site.visit_min))
        travel += leg
        if prev >= 0:
            dist += float(net.distance_km[prev, j])
        score += g.size * site.score * interest_weight(g, site.kind)
        prev_dep, prev = start + site.visit_min, j
    leg = float(P.t_to[r, prev])
    travel += leg
    return Route(group_id=g.id, depart=depart, visits=tuple(visits), arrive_end=prev_dep + leg,
                 score=score, travel_min=travel, distance_km=dist)


def _alone_status(P: KernelProblem, S: RouteState, daily_left: np.ndarray, r: int, j: int) -> str:
    """Why route ``r`` cannot visit ``j`` on its own: 'window', 'quota' or 'ok'."""
    a = P.day_start[r] + P.t_from[r, j]
    s = max(a, P.open_[j])
    if s > P.close[j] + 1e-9 or s + P.service[j] + P.t_to[r, j] > P.day_end[r] + 1e-9:
        return "window"
    if daily_left[j] < P.size[r]:
        return "quota"
    if P.slot_quota[j] < 0:
        return "ok"
    slot_len = float(P.slot_len[0])
    k = int(math.floor(s / slot_len))
    while k < S.slot_left.shape[1]:
        sk = max(s, k * slot_len)
        if sk > P.close[j] + 1e-9 or sk + P.service[j] + P.t_to[r, j] > P.day_end[r] + 1e-9:
            break
        if S.slot_left[j, k] >= P.size[r]:
            return "ok"
        k += 1
    return "quota"


def _fits_without_quotas(P: KernelProblem, r: int, nodes: list[int]) -> bool:
    """True if route ``r`` can visit ``nodes`` (in some order) within the time windows alone,
    ignoring every quota. Tries all orders (callers pass a group's must-visits, at most a few)."""
    for order in itertools.permutations(nodes):
        t, prev, ok = float(P.day_start[r]), -1, True
        for j in order:
            a = t + float(P.t_from[r, j] if prev < 0 else P.travel[prev, j])
            s = max(a, float(P.open_[j]))
            if s > P.close[j] + 1e-9:
                ok = False
                break
            t, prev = s + float(P.service[j]), j
        if ok and t + float(P.t_to[r, prev]) <= P.day_end[r] + 1e-9:
            return True
    return False


def _no_candidate_reason(problem: TourProblem, P: KernelProblem, r: int) -> tuple[str, str]:
    """Why group ``r`` has no candidate site at all (before any time window is looked at).

    Candidates drop out, in this order, for: no visitable site in the group's zone (``zone``), no
    road from the start or to the end (``unreachable``), an interest weight of 0 for every site
    left (``no_interest``: the group values no site, so no visit is worth making).
    """
    net = problem.network
    g = problem.groups[r]
    allowed = set(net.zones[g.zone]) if g.zone is not None else None
    pois = [j for j, s in enumerate(net.sites)
            if s.is_poi and s.latest_start >= s.window[0] and (allowed is None or s.id in allowed)]
    if not pois:
        return "zone", f"no visitable site lies in the group's zone {g.zone}"
    reach = [j for j in pois if math.isfinite(P.t_from[r, j]) and math.isfinite(P.t_to[r, j])]
    if not reach:
        return "unreachable", "no site can be reached by road from the group's start and back to its end"
    return "no_interest", "the group's interest weights are 0 for every site it could visit (it values no site)"


def decode(problem: TourProblem, P: KernelProblem, S: RouteState) -> tuple[list[Route], list[TourUnserved]]:
    """Routes of the groups with visits, and every unserved group or must-visit with its reason."""
    net = problem.network
    routes: list[Route] = []
    unserved: list[TourUnserved] = []
    for r, g in enumerate(problem.groups):
        visited = {int(S.ri[NODE, r, p]) for p in range(int(S.length[r]))}
        if visited:
            routes.append(_route_of(problem, P, S, r))
        for sid in g.must_visit:
            j = net.index(sid)
            if j in visited:
                continue
            why = _alone_status(P, S, S.day_left, r, j)
            reason = {"window": "window", "quota": "quota"}.get(why, "time")
            if reason == "time" and len(g.must_visit) <= 5:
                # it fits on its own: would it fit beside the other must-visits but for the quotas?
                musts = [net.index(m) for m in g.must_visit]
                if _fits_without_quotas(P, r, musts):
                    reason = "quota"
            detail = {
                "window": "cannot be reached inside the site's opening hours and the group's day window",
                "quota": "the entry slots that would fit the group's day are full",
                "time": "does not fit in the day beside the group's other visits",
            }[reason]
            unserved.append(TourUnserved.of(g.id, sid, reason, detail))
        if not visited:
            whys = [_alone_status(P, S, S.day_left, r, int(P.cand[r, c])) for c in range(int(P.n_cand[r]))]
            if not whys:
                reason, detail = _no_candidate_reason(problem, P, r)
            elif all(w == "window" for w in whys):
                reason, detail = "nothing_fits", "no site can be visited inside the group's day window"
            elif "ok" not in whys:
                reason, detail = "quota", "every site the group could reach is full"
            else:
                reason, detail = "time", "no visit fits the group's day"
            unserved.append(TourUnserved.of(g.id, None, reason, detail))
    return routes, unserved


def warm_up_problem() -> TourProblem:
    """The warm-up's tiny problem: three groups on a three-site network (one slot quota, one must-visit)."""
    sites = (
        Site(id="h", name_en="h", name_zh="h", lat=29.6, lon=91.1, elevation_m=3650, kind="town",
             rating="n/a", score=0.0, visit_min=0.0, window=(0.0, 1440.0)),
        Site(id="a", name_en="a", name_zh="a", lat=29.61, lon=91.1, elevation_m=3650, kind="monastery",
             rating="4A", score=10.0, visit_min=30.0, window=(480.0, 1000.0), slot_quota=10),
        Site(id="b", name_en="b", name_zh="b", lat=29.62, lon=91.1, elevation_m=3650, kind="lake",
             rating="4A", score=5.0, visit_min=30.0, window=(480.0, 1000.0)),
    )
    roads = (Road(a="h", b="a", name="r", length_km=5, speed_kmh=30, travel_min=10),
             Road(a="a", b="b", name="r", length_km=5, speed_kmh=30, travel_min=10))
    travel, dist = shortest_path_matrices(sites, roads)
    net = Network(sites=sites, roads=roads, travel_min=travel, distance_km=dist)
    groups = tuple(TourGroup(id=f"g{k}", size=4, start=Location("h"), end=Location("h"),
                             day_window=(480.0, 1100.0), must_visit=("a",) if k else ()) for k in range(3))
    return TourProblem(network=net, groups=groups)


def _compile_kernels() -> None:
    """A three-group solve on a three-site network (``warm_up_problem``): compiles (or loads from Numba's
    cache) every kernel the planner uses with the default ``TOUR_PARAMS`` (other params compile their
    moves on first use)."""
    _solve(warm_up_problem(), StoppingCriterion(max_iterations=3))


def _kernels_cached() -> bool:
    """Whether a Numba cache index newer than its source is on disk for a kernel of each engine file
    (``ils_iterations``, ``greedy_fill``, ``replace_route``): a file look-up, no load."""
    return all(kernel_cached(m.__file__, name) for m, name in (
        (_ils_module, "ils_iterations"), (_kernels_module, "greedy_fill"), (_moves_module, "replace_route")))


KERNELS = KernelWarmUp("tours", _compile_kernels, workers="optimizer.tours.compile_plan", cached=_kernels_cached)
"""The tour kernels' warm-up; a cold start may compile them in worker processes (``optimizer.tours.compile_plan``)."""


def compile_seconds() -> float:
    """Seconds this process spent compiling (or loading) the tour kernels (0.0 before; not part of any
    solve's ``runtime_s``)."""
    return KERNELS.seconds


def is_compiled() -> bool:
    """Whether the tour kernels are compiled (or loaded) in this process."""
    return KERNELS.is_compiled()


def ensure_compiled() -> float:
    """Compile (or load from Numba's disk cache) the kernels once per process, before a solve's
    clock starts; returns the seconds this call waited (0.0 once they are compiled). Threads that
    call it together wait for the one compiling (``optimizer.core.warmup.KernelWarmUp``)."""
    return KERNELS.ensure()


def warm_up() -> float:
    """``ensure_compiled`` under the name the CLI and benches use: the seconds spent compiling (or
    loading) the tour kernels now, 0.0 when this process has them already.

    The first solve after an install pays the kernels' JIT compilation; ``solve`` does this first,
    outside its clock, and so may callers that promise a time limit (the CLI, the API at startup) to
    show or report it.
    """
    return KERNELS.ensure()


def seeding_order(problem: TourProblem) -> np.ndarray:
    """Order in which groups get their must-visits first: most must-visits, then largest, first."""
    keys = [(-len(g.must_visit), -g.size, k) for k, g in enumerate(problem.groups)]
    return np.array([k for *_, k in sorted(keys)], dtype=np.int64)


def solve(problem: TourProblem, stop: StoppingCriterion, seed: int = 0,
          params: ILSParams | None = None) -> TourPlan:
    """Plan one day of routes for every group (TOPTW with shared slot capacity).

    The kernels are compiled (or loaded from Numba's cache) once per process *before* the clock
    starts (``ensure_compiled``), so a cold first call honours ``stop.max_runtime_s`` for its own
    work; the compile time is logged and kept apart (``compile_seconds()``), never in
    ``plan.stats.runtime_s``.

    Iterated local search after Vansteenwegen et al. (2009), Computers & OR 36(12), with
    insertions checked in O(1) by Wait/MaxShift and an entry-slot reservation per visit.

    Parameters
    ----------
    problem : TourProblem
    stop : StoppingCriterion
        Time limit (construction and decoding included: the search stops ``DECODE_S_PER_GROUP``
        per group, times the load seen, early), iteration budget and/or no-improvement limit.
    seed : int
        Same seed and iteration budget give the same plan.
    params : ILSParams | None
        Tuning of the search (None: ``TOUR_PARAMS``).

    Returns a plan whose routes are feasible, with ``plan.stats`` (status ``feasible``, objective
    = total visitor-weighted score, runtime, iterations, ``stopped_by``, seed); groups or
    must-visits that cannot be served are in ``plan.unserved`` with a reason. Raises
    ``InvalidInput`` for a bad seed or params.
    """
    ensure_compiled()
    return _solve(problem, stop, seed, params)


def _solve(problem: TourProblem, stop: StoppingCriterion, seed: int = 0,
           params: ILSParams | None = None) -> TourPlan:
    """``solve`` without the compile step (the clock starts here)."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInput("seed", seed, "must be an integer >= 0")
    if params is None:
        params = TOUR_PARAMS
    elif not isinstance(params, ILSParams):
        raise InvalidInput("params", type(params).__name__, "expected ILSParams or None")
    if not problem.groups:
        kpis = tour_kpis(problem, [], [])
        stats = SolveStats(status=FEASIBLE, objective=0.0, runtime_s=time.perf_counter() - t0, seed=int(seed))
        return TourPlan(routes=(), unserved=(), kpis=kpis, slot_min=problem.slot_min, stats=stats)
    P, daily, n_slots = compile_problem(problem)
    max_len = int(P.n_cand.max()) + 1
    S = new_state(P, daily, n_slots, max_len)
    seed_protected(P, S, seeding_order(problem))
    search_stop = stop
    if stop.max_runtime_s is not None:
        load = (time.perf_counter() - t0) / max(time.process_time() - c0, 1e-6)
        reserve = DECODE_S_PER_GROUP * len(problem.groups) * min(max(load, MIN_LOAD_FACTOR), MAX_LOAD_FACTOR)
        search_stop = dataclasses.replace(stop, max_runtime_s=max(MIN_SEARCH_S, stop.max_runtime_s - reserve))
    res = run_ils(P, S, search_stop, seed=int(seed), params=params, t0=t0)
    routes, unserved = decode(problem, P, res.state)
    kpis = tour_kpis(problem, routes, unserved)
    stats = SolveStats(status=FEASIBLE, objective=float(kpis["total_score"]), runtime_s=time.perf_counter() - t0,
                       iterations=res.iterations, stopped_by=res.stopped_by, seed=int(seed))
    return TourPlan(routes=tuple(routes), unserved=tuple(unserved), kpis=kpis, slot_min=problem.slot_min,
                    stats=stats)

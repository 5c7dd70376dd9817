"""Independent verifier of a ``TourPlan`` against its ``TourProblem``.

This module is written apart from the solver **on purpose**: it imports nothing from the tour
solver or the routing engine (only the problem/plan nouns and ``optimizer.core``'s road graph and
haversine), and it recomputes every number itself (road travel times
with networkx Dijkstra on ``network.roads``, access legs of lat/lon locations, arrival/wait/start/
departure chains, scores, slot and daily usage, KPIs). A bug shared by solver and verifier would
go unnoticed, so the two must not share code.

``verify(problem, plan, tol)`` returns a list of ``TourViolation`` (the core ``Violation`` with
``group_id``/``site_id``); an empty list means the plan is
feasible and internally consistent. Units: minutes from midnight for times, minutes for
durations, km for distances, persons for group sizes and quotas.

Rules, with their ``kind`` and tolerances (``tol`` is an absolute tolerance in minutes, default
1e-6 min, for every time comparison):

Time domain: the problem's own (``optimizer/tours/problem.py``): day windows within 0..2880 min
and slots of at least 1 min are checked when the ``TourProblem`` is built, so the verifier and the
solver accept and reject the same inputs; slots are counted on the absolute starts of the plan.

Travel times (recomputed, never read from the plan or from ``network.travel_min``)
    The road graph is undirected; of parallel roads between the same two nodes the smallest
    ``travel_min`` is kept; shortest times come from networkx Dijkstra. A ``Location`` given by a
    site id sits on that site (access 0 min). A ``Location`` given by lat/lon is attached to the
    nearest site, by haversine great-circle distance (earth radius 6371.0088 km), among the sites
    that are endpoints of at least one road; its access leg is
    ``haversine_km * problem.access_detour / problem.access_speed_kmh * 60`` min. Travel between
    two endpoints is ``access_a + road(node_a, node_b) + access_b``.
    ``matrix``: ``network.travel_min[i, j]`` differs from the recomputed road time by more than
    ``tol`` (both infinite counts as equal).
    ``unreachable``: a leg of a route has infinite travel time.

Per route
    ``unknown``: the route's group, a visited site, or an unserved entry's group/site is unknown.
    ``duplicate_route``: a group has more than one route.
    ``day_window``: ``depart < day_window[0] - tol`` or ``arrive_end > day_window[1] + tol``.
    ``timing``: for each visit, ``|arrival - (previous departure or depart + travel)| > tol``;
    ``|wait - max(0, start - arrival)| > tol``; ``start < arrival - tol``;
    ``|departure - (start + visit_min)| > tol``; ``|arrive_end - (last departure + travel to
    end)| > tol``.
    ``window``: ``start < site.window[0] - tol`` or ``start + visit_min > site.window[1] + tol``
    (i.e. the visit starts after ``site.latest_start``).
    ``hub``: the visited site is not a POI (score 0).
    ``duplicate``: a site visited more than once in one route.
    ``zone``: the group has a zone and a visited site is not in ``network.zones[zone]`` (start
    and end are exempt).
    ``score``: ``route.score`` differs from ``sum(group.size * site.score * weight)`` with
    ``weight = group.interests.get(site.kind, 1.0)`` beyond ``max(tol, 1e-6 * |recomputed|)``.
    ``travel``: ``route.travel_min`` differs from the recomputed sum of legs (start -> visits ->
    end, access legs included) beyond ``max(tol, 1e-4 * |recomputed|)``.
    ``nonfinite``: any number of the route or its visits is NaN/inf (or not a number). Timing,
    window and score checks are skipped for such a route (comparisons with NaN are meaningless);
    its visits with a finite start still count towards quotas.

Capacity, over all routes together
    ``slot_quota``: persons entering a site in one slot exceed ``site.slot_quota``; the slot of a
    visit is ``floor(start / plan.slot_min + 1e-9)``.
    ``daily_quota``: persons entering a site over the day exceed ``site.daily_quota``.
    ``slot_min``: ``plan.slot_min`` differs from ``problem.slot_min`` (then quotas are still
    counted on ``plan.slot_min``, as the plan claims; on ``problem.slot_min`` if the plan's value
    is not a positive finite number).

Must-visits and unserved entries
    ``must_visit``: a must-visit of a group that has a route is neither in the route nor listed in
    ``plan.unserved`` with that group and site; or it is listed as unserved but visited anyway.
    ``unserved``: a group without a route is not listed in ``plan.unserved`` with ``site_id``
    None (that whole-group entry also covers its must-visits); or a group is listed as wholly
    unserved although its route has visits.

KPIs (only the keys present in ``plan.kpis`` are checked; ``kind='kpi'``)
    A group is *served* when it has a route with at least one visit and every must-visit visited.
    ``groups_served`` = number of served groups (tol 1e-9); ``visitors_served`` = sum of their
    sizes (tol 1e-9); ``total_score`` = sum of the **recomputed** route scores (relative tol
    1e-6, absolute ``tol``).
    ``nonfinite``: a KPI value, ``plan.slot_min``, ``plan.stats.runtime_s`` is not finite.

Not checked: ``route.distance_km`` beyond being finite (the fastest path is not unique, so its
length is not well defined), unserved ``reason`` strings, interest weights of 0 (such a visit is
allowed and scores 0, although the solver never plans one except as a must-visit).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np

from optimizer.core.network import Network, Site, road_graph
from optimizer.core.physics import haversine_km
from optimizer.core.results import Violation
from optimizer.tours.problem import Location, TourGroup, TourProblem
from optimizer.tours.solution import Route, TourPlan

SCORE_REL_TOL = 1e-6
TRAVEL_REL_TOL = 1e-4
KPI_COUNT_TOL = 1e-9
SLOT_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class TourViolation(Violation):
    """One broken rule (the core ``Violation``) with the group and site it concerns (None when not
    specific). ``item_id`` is ``<group>/<site>``, the group, the site, or ``plan``."""

    group_id: str | None = None
    site_id: str | None = None


def _violation(group_id: str | None, site_id: str | None, kind: str, message: str) -> TourViolation:
    if group_id is not None and site_id is not None:
        item = f"{group_id}/{site_id}"
    else:
        item = group_id if group_id is not None else (site_id if site_id is not None else "plan")
    return TourViolation(item_id=item, kind=kind, message=message, group_id=group_id, site_id=site_id)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A point attached to the road graph: road node ``node`` plus an access leg of ``access_min`` minutes."""

    node: str | None
    access_min: float


# --------------------------------------------------------------------------------------------
# small numeric helpers


def is_finite_number(x: object) -> bool:
    """True if ``x`` is a real number (not bool) that is finite."""
    if type(x) is float:  # the common case, without the conversions below
        return math.isfinite(x)
    if isinstance(x, bool):
        return False
    try:
        return math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def close(a: float, b: float, abs_tol: float, rel_tol: float = 0.0) -> bool:
    """``|a - b| <= max(abs_tol, rel_tol * |b|)``; two equal infinities are close."""
    if a == b:
        return True
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= max(abs_tol, rel_tol * abs(b))


def slot_of(start_min: float, slot_min: float) -> int:
    """Entry slot index of a visit starting at ``start_min`` on a grid of ``slot_min`` minutes."""
    return int(math.floor(start_min / slot_min + SLOT_EPS))


# --------------------------------------------------------------------------------------------
# travel times, recomputed from the roads


class TravelOracle:
    """Shortest road times (minutes) between nodes, with Dijkstra results cached per source."""

    def __init__(self, network: Network, access_speed_kmh: float, access_detour: float) -> None:
        self.graph = road_graph(network)
        self.access_speed_kmh = float(access_speed_kmh)
        self.access_detour = float(access_detour)
        node_ids = {r.a for r in network.roads} | {r.b for r in network.roads}
        self.road_sites: tuple[Site, ...] = tuple(s for s in network.sites if s.id in node_ids)
        self._lat = np.array([s.lat for s in self.road_sites], dtype=np.float64)
        self._lon = np.array([s.lon for s in self.road_sites], dtype=np.float64)
        self._from: dict[str, dict[str, float]] = {}

    def road_min(self, a: str | None, b: str | None) -> float:
        """Shortest road time from node ``a`` to node ``b``, minutes; inf if unreachable."""
        if a is None or b is None:
            return math.inf
        if a == b:
            return 0.0
        if a not in self._from:
            if a not in self.graph:
                return math.inf
            self._from[a] = nx.single_source_dijkstra_path_length(self.graph, a, weight="travel_min")
        return float(self._from[a].get(b, math.inf))

    def endpoint(self, loc: Location) -> Endpoint:
        """Attach a ``Location`` to the graph: its site (access 0) or the nearest road node."""
        if loc.site_id is not None:
            return Endpoint(loc.site_id, 0.0)
        if not self.road_sites:
            return Endpoint(None, math.inf)
        # one vectorised haversine over the road nodes (a loop of scalar calls dominated the
        # verifier's time on large requests); argmin keeps the first of equal distances
        d = haversine_km(float(loc.lat), float(loc.lon), self._lat, self._lon)  # type: ignore[arg-type]
        k = int(np.argmin(d))
        return Endpoint(self.road_sites[k].id, float(d[k]) * self.access_detour / self.access_speed_kmh * 60.0)

    def leg_min(self, a: Endpoint, b: Endpoint) -> float:
        """Travel time between two endpoints, minutes: access of ``a`` + road + access of ``b``."""
        return a.access_min + self.road_min(a.node, b.node) + b.access_min


def check_matrix(network: Network, oracle: TravelOracle, tol: float) -> list[TourViolation]:
    """``matrix`` violations: entries of ``network.travel_min`` that differ from Dijkstra by > ``tol`` min."""
    out: list[TourViolation] = []
    ids = [s.id for s in network.sites]
    m = network.travel_min
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            want = oracle.road_min(a, b)
            got = float(m[i, j])
            if not close(got, want, tol):
                msg = f"network.travel_min[{a},{b}]={got} but roads give {want} min"
                out.append(_violation(None, a, "matrix", msg))
    return out


# --------------------------------------------------------------------------------------------
# per-route checks


def route_numbers(route: Route) -> list[tuple[str, object]]:
    """All numeric fields of a route and its visits as ``(label, value)`` pairs."""
    nums: list[tuple[str, object]] = [
        ("depart", route.depart),
        ("arrive_end", route.arrive_end),
        ("score", route.score),
        ("travel_min", route.travel_min),
        ("distance_km", route.distance_km),
    ]
    for k, v in enumerate(route.visits):
        for name in ("arrival", "wait", "start", "departure"):
            nums.append((f"visits[{k}].{name}", getattr(v, name)))
    return nums


def check_nonfinite_route(route: Route) -> list[TourViolation]:
    """``nonfinite`` violations for NaN/inf/non-numeric fields of a route and its visits."""
    return [
        _violation(route.group_id, None, "nonfinite", f"route {label}={value!r} is not a finite number")
        for label, value in route_numbers(route)
        if not is_finite_number(value)
    ]


def visit_weight(group: TourGroup, site: Site) -> float:
    """Interest weight of ``site`` for ``group`` (missing kinds weigh 1.0)."""
    return float(group.interests.get(site.kind, 1.0))


def recomputed_score(problem: TourProblem, group: TourGroup, route: Route) -> float:
    """Score of a route: sum over known visited sites of ``size * site.score * weight``."""
    net = problem.network
    total = 0.0
    for v in route.visits:
        if net.has_site(v.site_id):
            s = net.site(v.site_id)
            total += group.size * s.score * visit_weight(group, s)
    return total


def check_route(
    problem: TourProblem, group: TourGroup, route: Route, oracle: TravelOracle, tol: float
) -> list[TourViolation]:
    """Timing, window, hub, duplicate, zone, day-window, score and travel checks of one route.

    Assumes every number of the route is finite (``check_nonfinite_route`` guards that).
    """
    net = problem.network
    gid = group.id
    out: list[TourViolation] = []

    def bad(site_id: str | None, kind: str, msg: str) -> None:
        out.append(_violation(gid, site_id, kind, msg))

    day_lo, day_hi = group.day_window
    if route.depart < day_lo - tol:
        bad(None, "day_window", f"departs at {route.depart} before the day window opens at {day_lo}")

    zone_members = set(net.zones[group.zone]) if group.zone is not None else None
    start_ep = oracle.endpoint(group.start)
    prev_ep: Endpoint | None = start_ep
    prev_time = float(route.depart)
    travel_total = 0.0
    travel_known = True
    seen: set[str] = set()

    for k, v in enumerate(route.visits):
        sid = v.site_id
        if not net.has_site(sid):
            bad(sid, "unknown", f"visit {k} is at unknown site {sid!r}")
            prev_ep, prev_time, travel_known = None, float(v.departure), False
            continue
        site = net.site(sid)
        if sid in seen:
            bad(sid, "duplicate", f"site {sid} visited more than once")
        seen.add(sid)
        if not site.is_poi:
            bad(sid, "hub", f"site {sid} is a hub (score 0), not a visitable site")
        if zone_members is not None and sid not in zone_members:
            bad(sid, "zone", f"site {sid} is outside the group's zone {group.zone}")

        here = Endpoint(sid, 0.0)
        if prev_ep is not None:
            leg = oracle.leg_min(prev_ep, here)
            if not math.isfinite(leg):
                bad(sid, "unreachable", f"no road to {sid} from the previous stop")
                travel_known = False
            else:
                travel_total += leg
                want = prev_time + leg
                if not close(v.arrival, want, tol):
                    bad(sid, "timing",
                        f"arrival {v.arrival} but previous departure {prev_time} + travel {leg} = {want}")
        want_wait = max(0.0, v.start - v.arrival)
        if not close(v.wait, want_wait, tol):
            bad(sid, "timing", f"wait {v.wait} but max(0, start - arrival) = {want_wait}")
        if v.start < v.arrival - tol:
            bad(sid, "timing", f"starts at {v.start} before arriving at {v.arrival}")
        want_dep = v.start + site.visit_min
        if not close(v.departure, want_dep, tol):
            bad(sid, "timing", f"departure {v.departure} but start + visit_min = {want_dep}")
        open_, close_ = site.window
        if v.start < open_ - tol:
            bad(sid, "window", f"starts at {v.start} before the site opens at {open_}")
        if v.start + site.visit_min > close_ + tol:
            bad(sid, "window", f"ends at {v.start + site.visit_min} after the site closes at {close_}")
        prev_ep, prev_time = here, float(v.departure)

    end_ep = oracle.endpoint(group.end)
    if prev_ep is not None:
        leg = oracle.leg_min(prev_ep, end_ep)
        if not math.isfinite(leg):
            bad(None, "unreachable", f"no road to the end {group.end.label()} from the last stop")
            travel_known = False
        else:
            travel_total += leg
            want = prev_time + leg
            if not close(route.arrive_end, want, tol):
                bad(None, "timing",
                    f"arrive_end {route.arrive_end} but last departure {prev_time} + travel {leg} = {want}")
    if route.arrive_end > day_hi + tol:
        bad(None, "day_window",
            f"arrives at the end at {route.arrive_end} after the day window closes at {day_hi}")

    want_score = recomputed_score(problem, group, route)
    if not close(route.score, want_score, tol, SCORE_REL_TOL):
        bad(None, "score", f"route score {route.score} but recomputed {want_score}")
    if travel_known and not close(route.travel_min, travel_total, tol, TRAVEL_REL_TOL):
        bad(None, "travel", f"route travel_min {route.travel_min} but recomputed {travel_total}")
    return out


# --------------------------------------------------------------------------------------------
# plan-wide checks


def effective_slot_min(problem: TourProblem, plan: TourPlan) -> float:
    """Slot length used for counting, minutes: the plan's if positive and finite, else the problem's."""
    s = plan.slot_min
    return float(s) if is_finite_number(s) and float(s) > 0 else float(problem.slot_min)


def check_capacity(problem: TourProblem, routes: Iterable[Route], slot_min: float) -> list[TourViolation]:
    """``slot_quota`` and ``daily_quota`` violations over all routes (persons entering per site)."""
    net = problem.network
    size = {g.id: g.size for g in problem.groups}
    per_slot: dict[tuple[str, int], int] = {}
    per_day: dict[str, int] = {}
    who: dict[str, set[str]] = {}
    for r in routes:
        if r.group_id not in size:
            continue
        for v in r.visits:
            if not net.has_site(v.site_id) or not is_finite_number(v.start):
                continue
            key = (v.site_id, slot_of(float(v.start), slot_min))
            per_slot[key] = per_slot.get(key, 0) + size[r.group_id]
            per_day[v.site_id] = per_day.get(v.site_id, 0) + size[r.group_id]
            who.setdefault(v.site_id, set()).add(r.group_id)
    out: list[TourViolation] = []
    for (sid, slot), persons in sorted(per_slot.items()):
        q = net.site(sid).slot_quota
        if q is not None and persons > q:
            msg = f"{persons} persons enter {sid} in slot {slot} (from {slot * slot_min} min), quota {q}"
            out.append(_violation(None, sid, "slot_quota", msg))
    for sid, persons in sorted(per_day.items()):
        q = net.site(sid).daily_quota
        if q is not None and persons > q:
            msg = f"{persons} persons enter {sid} over the day (groups {sorted(who[sid])}), quota {q}"
            out.append(_violation(None, sid, "daily_quota", msg))
    return out


def check_must_visits(
    problem: TourProblem, plan: TourPlan, routes: dict[str, Route]
) -> list[TourViolation]:
    """``unknown``, ``must_visit`` and ``unserved`` violations of ``plan.unserved`` vs the routes."""
    net = problem.network
    groups = {g.id: g for g in problem.groups}
    out: list[TourViolation] = []
    listed: set[tuple[str, str | None]] = set()
    for u in plan.unserved:
        if u.group_id not in groups:
            msg = f"unserved entry names unknown group {u.group_id!r}"
            out.append(_violation(u.group_id, u.site_id, "unknown", msg))
            continue
        if u.site_id is not None and not net.has_site(u.site_id):
            msg = f"unserved entry names unknown site {u.site_id!r}"
            out.append(_violation(u.group_id, u.site_id, "unknown", msg))
            continue
        listed.add((u.group_id, u.site_id))

    for g in problem.groups:
        route = routes.get(g.id)
        if route is None:
            if (g.id, None) not in listed:
                msg = "group has no route and is not listed as unserved"
                out.append(_violation(g.id, None, "unserved", msg))
            continue
        visited = {v.site_id for v in route.visits}
        if (g.id, None) in listed and visited:
            msg = "group is listed as unserved but its route has visits"
            out.append(_violation(g.id, None, "unserved", msg))
        for sid in g.must_visit:
            if sid in visited and (g.id, sid) in listed:
                msg = f"must-visit {sid} is listed as unserved but visited"
                out.append(_violation(g.id, sid, "must_visit", msg))
            elif sid not in visited and (g.id, sid) not in listed and (g.id, None) not in listed:
                msg = f"must-visit {sid} is neither visited nor reported unserved"
                out.append(_violation(g.id, sid, "must_visit", msg))
    return out


def is_served(group: TourGroup, route: Route | None) -> bool:
    """A group is served if its route has at least one visit and covers every must-visit."""
    if route is None or not route.visits:
        return False
    visited = {v.site_id for v in route.visits}
    return all(s in visited for s in group.must_visit)


def check_kpis(
    problem: TourProblem, plan: TourPlan, routes: dict[str, Route], tol: float
) -> list[TourViolation]:
    """``kpi``/``nonfinite`` violations of the KPIs present: groups/visitors served, total score."""
    out: list[TourViolation] = []
    for key, value in plan.kpis.items():
        if not is_finite_number(value):
            msg = f"kpis[{key!r}]={value!r} is not a finite number"
            out.append(_violation(None, None, "nonfinite", msg))
    served = [g for g in problem.groups if is_served(g, routes.get(g.id))]
    total = sum(recomputed_score(problem, g, routes[g.id]) for g in problem.groups if g.id in routes)
    expected = {
        "groups_served": (float(len(served)), KPI_COUNT_TOL, 0.0),
        "visitors_served": (float(sum(g.size for g in served)), KPI_COUNT_TOL, 0.0),
        "total_score": (total, tol, SCORE_REL_TOL),
    }
    for key, (want, abs_tol, rel_tol) in expected.items():
        if key in plan.kpis and is_finite_number(plan.kpis[key]):
            got = float(plan.kpis[key])
            if not close(got, want, abs_tol, rel_tol):
                out.append(_violation(None, None, "kpi", f"kpis[{key!r}]={got} but recomputed {want}"))
    return out


def check_plan_numbers(problem: TourProblem, plan: TourPlan) -> list[TourViolation]:
    """``nonfinite`` for ``plan.slot_min``/``runtime_s``; ``slot_min`` if the plan's grid differs."""
    out: list[TourViolation] = []
    for name, value in (("slot_min", plan.slot_min), ("stats.runtime_s", plan.stats.runtime_s)):
        if not is_finite_number(value):
            msg = f"plan.{name}={value!r} is not a finite number"
            out.append(_violation(None, None, "nonfinite", msg))
    if is_finite_number(plan.slot_min) and float(plan.slot_min) != float(problem.slot_min):
        msg = f"plan.slot_min={plan.slot_min} but problem.slot_min={problem.slot_min}"
        out.append(_violation(None, None, "slot_min", msg))
    return out


# --------------------------------------------------------------------------------------------
# entry point


def verify(problem: TourProblem, plan: TourPlan, tol: float = 1e-6) -> list[TourViolation]:
    """Check ``plan`` against ``problem`` from scratch; return every violation found (``[]`` if none).

    ``tol`` is the absolute tolerance in minutes for time comparisons (and the absolute floor of
    the score tolerance). See the module docstring for every rule and its ``kind``. Independent
    of the solver by design: nothing is reused from it, everything is recomputed.
    """
    net = problem.network
    oracle = TravelOracle(net, problem.access_speed_kmh, problem.access_detour)
    groups = {g.id: g for g in problem.groups}
    out: list[TourViolation] = []
    out += check_matrix(net, oracle, tol)
    out += check_plan_numbers(problem, plan)

    first_route: dict[str, Route] = {}
    for r in plan.routes:
        if r.group_id not in groups:
            out.append(_violation(r.group_id, None, "unknown", f"route for unknown group {r.group_id!r}"))
            continue
        if r.group_id in first_route:
            out.append(_violation(r.group_id, None, "duplicate_route", "group has more than one route"))
            continue
        first_route[r.group_id] = r
        nonfinite = check_nonfinite_route(r)
        out += nonfinite
        if not nonfinite:
            out += check_route(problem, groups[r.group_id], r, oracle, tol)

    # Capacity counts every route the plan claims, duplicates included: they would all enter.
    known_routes = [r for r in plan.routes if r.group_id in groups]
    out += check_capacity(problem, known_routes, effective_slot_min(problem, plan))
    out += check_must_visits(problem, plan, first_route)
    out += check_kpis(problem, plan, first_route, tol)
    return out

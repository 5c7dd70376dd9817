"""The tour planner's answer: one route per group, what is left out and why, KPIs and solve stats.

Units: times in minutes from midnight (float), durations in minutes, distances in km, sizes in
persons, scores visitor-weighted (``size * site score * interest weight``).

Unserved reasons (``TourUnserved.reason``)
    ``window``: cannot be reached inside the site's opening hours and the group's day window;
    ``quota``: reachable, but every entry slot that would fit the group's day is full;
    ``time``: does not fit in the day beside the group's other (must-)visits;
    ``zone``: outside the group's zone (for a whole group: no visitable site lies in its zone);
    ``nothing_fits``: no site the group values fits the group's day window;
    ``no_interest`` (whole groups only): the group values no site it could visit, every interest
    weight that applies is 0, so no stop is worth making (zero-value stops are never planned,
    must-visits excepted);
    ``unreachable``: no road from the group's start to any site and back to its end (also set by
    scenario edits: a cut road); ``closed``: set by scenario edits (a closed site).

A group is **served** when it has a route with at least one visit and none of its must-visits is
listed as unserved (``served_group_ids``); every KPI of a plan comes from ``tour_kpis``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.core.results import FEASIBLE, SolveStats, Unserved
from optimizer.tours.problem import TourProblem

UNSERVED_REASONS = ("window", "quota", "time", "zone", "nothing_fits", "no_interest", "closed", "unreachable")


@dataclass(frozen=True, slots=True)
class Visit:
    """One stop of a route: times in minutes from midnight (arrival + wait = start; start + visit = departure)."""

    site_id: str
    arrival: float
    wait: float
    start: float
    departure: float


@dataclass(frozen=True, slots=True)
class Route:
    """A group's day: departure from its start, the visits in order, arrival at its end.

    ``score`` is visitor-weighted; ``travel_min`` includes access legs; ``distance_km`` is road km.
    """

    group_id: str
    depart: float
    visits: tuple[Visit, ...]
    arrive_end: float
    score: float
    travel_min: float
    distance_km: float


@dataclass(frozen=True, slots=True)
class TourUnserved(Unserved):
    """A group (``site_id`` None) or one of its must-visits that the plan leaves out.

    ``item_id`` is the group id, or ``"<group>/<site>"`` for a must-visit; build one with
    ``TourUnserved.of(group_id, site_id, reason, detail)``. Reasons: see the module docstring.
    """

    group_id: str = ""
    site_id: str | None = None

    @classmethod
    def of(cls, group_id: str, site_id: str | None, reason: str, detail: str = "") -> TourUnserved:
        item = group_id if site_id is None else f"{group_id}/{site_id}"
        return cls(item_id=item, reason=reason, detail=detail, group_id=group_id, site_id=site_id)


@dataclass(frozen=True)
class TourPlan:
    """The planner's answer.

    Attributes
    ----------
    routes : tuple[Route, ...]
        One route per group with at least one visit.
    unserved : tuple[TourUnserved, ...]
        Every group without a route and every must-visit left out, with its reason.
    kpis : Mapping[str, float]
        Headline figures (``tour_kpis``).
    slot_min : float
        Entry-slot length the plan was made on, minutes.
    stats : SolveStats
        Status (``feasible``), objective (= ``kpis["total_score"]``), runtime, iterations,
        ``stopped_by`` and seed of the search.
    """

    routes: tuple[Route, ...]
    unserved: tuple[TourUnserved, ...]
    kpis: Mapping[str, float]
    slot_min: float
    stats: SolveStats = SolveStats(status=FEASIBLE)

    def route(self, group_id: str) -> Route | None:
        for r in self.routes:
            if r.group_id == group_id:
                return r
        return None

    def slot_usage(self, problem: TourProblem) -> dict[tuple[str, int], int]:
        """Persons entering each (site id, slot index) according to this plan."""
        size = {g.id: g.size for g in problem.groups}
        usage: dict[tuple[str, int], int] = {}
        for r in self.routes:
            for v in r.visits:
                key = (v.site_id, int(math.floor(v.start / self.slot_min + 1e-9)))
                usage[key] = usage.get(key, 0) + size[r.group_id]
        return usage


def served_group_ids(problem: TourProblem, routes: Iterable[Route], unserved: Iterable[TourUnserved]) -> list[str]:
    """Ids of the served groups, in problem order: a route with at least one visit and no
    must-visit listed as unserved (the one definition of "served")."""
    missing = {u.group_id for u in unserved if u.site_id is not None}
    routed = {r.group_id for r in routes if r.visits}
    return [g.id for g in problem.groups if g.id in routed and g.id not in missing]


def tour_kpis(problem: TourProblem, routes: Sequence[Route], unserved: Sequence[TourUnserved]) -> dict[str, float]:
    """Headline figures of a plan (the one definition of tour KPIs).

    Keys: ``groups``, ``groups_served`` (``served_group_ids``), ``groups_partial`` (routed, not
    served), ``groups_unserved`` (no route), ``visitors``, ``visitors_served`` (persons),
    ``served_pct`` (% of groups), ``total_score`` (sum of route scores), ``mean_score_per_visitor``
    (per person routed), ``visits``, ``must_visits``, ``must_visits_unserved``, ``mean_wait_min``,
    ``total_travel_min``, ``total_distance_km``.
    """
    size = {g.id: g.size for g in problem.groups}
    served = served_group_ids(problem, routes, unserved)
    n_visits = sum(len(r.visits) for r in routes)
    waits = [v.wait for r in routes for v in r.visits]
    visitors = sum(size.values())
    total_score = sum(r.score for r in routes)
    persons_routed = sum(size[r.group_id] for r in routes)
    return {
        "groups": float(len(problem.groups)),
        "groups_served": float(len(served)),
        "groups_partial": float(len(routes) - len(served)),
        "groups_unserved": float(len(problem.groups) - len(routes)),
        "visitors": float(visitors),
        "visitors_served": float(sum(size[g] for g in served)),
        "served_pct": 100.0 * len(served) / len(problem.groups) if problem.groups else 100.0,
        "total_score": total_score,
        "mean_score_per_visitor": total_score / persons_routed if persons_routed else 0.0,
        "visits": float(n_visits),
        "must_visits": float(sum(len(g.must_visit) for g in problem.groups)),
        "must_visits_unserved": float(sum(1 for u in unserved if u.site_id is not None)),
        "mean_wait_min": float(np.mean(waits)) if waits else 0.0,
        "total_travel_min": sum(r.travel_min for r in routes),
        "total_distance_km": sum(r.distance_km for r in routes),
    }

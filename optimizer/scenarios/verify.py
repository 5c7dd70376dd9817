"""Independent check of a scenario run: every plan re-verified, every KPI recomputed from the plans.

``verify(problem, solution) -> list[Violation]`` rebuilds each scenario's day from the problem
(``optimizer.scenarios.apply`` on the base network and groups: fresh travel matrices, nothing
taken from the run), re-verifies the plan with the tours verifier
(``optimizer.tours.verify``; its violations come back with ``item_id`` ``"<scenario>/<item>"``),
and recomputes from the plan's routes alone the KPIs a planner reads: groups, visitors, visits,
groups served / partial / unserved (served = a route whose visits include every must-visit the
group had before the change), must-visits and must-visits unserved, total travel minutes and the
peak slot utilisation of every site with a slot quota. It also checks that every unserved group
and must-visit is listed with a reason, and that every scenario of the problem either has a
result or is unserved with one of ``BATCH_REASONS``.

Violation kinds: ``coverage`` (a scenario missing, duplicated or unknown), ``reason`` (an unknown
reason word), ``kpi`` (a KPI that the plan does not give; message with both numbers),
``unserved`` (something left out without a reason), and the tours verifier's kinds.
"""

from __future__ import annotations

import math
from collections import Counter

from optimizer.core.results import Violation
from optimizer.scenarios.apply import apply
from optimizer.scenarios.problem import ScenarioProblem
from optimizer.scenarios.solution import BATCH_REASONS, ScenarioResult, ScenarioRun
from optimizer.tours import verify as verify_tours

REL_TOL = 1e-9
ABS_TOL = 1e-6


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _check_result(problem: ScenarioProblem, r: ScenarioResult) -> list[Violation]:
    s = problem.scenario(r.scenario.name)
    fresh = apply(s, problem.network, problem.groups_of(s))
    day = fresh.problem
    out = [Violation(f"{s.name}/{v.item_id}", v.kind, v.message) for v in verify_tours(day, r.plan)]

    size = {g.id: g.size for g in day.groups}
    visited: dict[str, set[str]] = {}
    for route in r.plan.routes:
        if route.visits:
            visited[route.group_id] = {v.site_id for v in route.visits}
    must = fresh.original_must
    served = [gid for gid in size if gid in visited and all(m in visited[gid] for m in must[gid])]
    missing_must = {(gid, m) for gid, ms in must.items() for m in ms if m not in visited.get(gid, set())}
    expected: dict[str, float] = {
        "groups": len(size), "visitors": sum(size.values()),
        "visits": sum(len(route.visits) for route in r.plan.routes),
        "groups_served": len(served), "visitors_served": sum(size[g] for g in served),
        "groups_unserved": len(size) - len(visited), "groups_partial": len(visited) - len(served),
        "must_visits": sum(len(ms) for ms in must.values()), "must_visits_unserved": len(missing_must),
        "served_pct": 100.0 * len(served) / len(size) if size else 100.0,
        "total_travel_min": sum(route.travel_min for route in r.plan.routes),
        "violations": len(out),
    }
    persons: Counter[tuple[str, int]] = Counter()
    for route in r.plan.routes:
        for v in route.visits:
            persons[(v.site_id, math.floor(v.start / day.slot_min + 1e-9))] += size.get(route.group_id, 0)
    for site in day.network.sites:
        if site.slot_quota is not None and site.slot_quota > 0 and (site.is_poi or f"peak_util_{site.id}" in r.kpis):
            peak = max((p for (sid, _), p in persons.items() if sid == site.id), default=0)
            expected[f"peak_util_{site.id}"] = peak / site.slot_quota
    for key, want in expected.items():
        got = r.kpis.get(key)
        if got is None or not _same(float(got), float(want)):
            out.append(Violation(s.name, "kpi", f"{key} = {got}, the plan gives {want:g}"))

    listed = {(u.group_id, u.site_id) for u in r.unserved}
    for gid, m in sorted(missing_must):
        if (gid, m) not in listed:
            out.append(Violation(f"{s.name}/{gid}/{m}", "unserved", "must-visit not visited and not listed as "
                                 "unserved"))
    for gid in size:
        if gid not in visited and (gid, None) not in listed:
            out.append(Violation(f"{s.name}/{gid}", "unserved", "group without a route and not listed as unserved"))
    return out


def verify(problem: ScenarioProblem, solution: ScenarioRun) -> list[Violation]:
    """Every rule above that ``solution`` breaks (empty when the run is correct)."""
    out: list[Violation] = []
    names = [s.name for s in problem.scenarios]
    seen = Counter([r.scenario.name for r in solution.results] + [u.item_id for u in solution.unserved])
    for n in names:
        if seen[n] != 1:
            out.append(Violation(n, "coverage", f"appears {seen[n]} times among results and unserved (must be 1)"))
    for n in seen:
        if n not in names:
            out.append(Violation(n, "coverage", "not a scenario of the problem"))
    for u in solution.unserved:
        if u.reason not in BATCH_REASONS:
            out.append(Violation(u.item_id, "reason", f"unknown reason {u.reason!r}; known: {list(BATCH_REASONS)}"))
    for r in solution.results:
        if r.scenario.name in names:
            out.extend(_check_result(problem, r))
    return out


__all__ = ["verify"]

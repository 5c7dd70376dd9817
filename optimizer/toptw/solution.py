"""A (T)OPTW answer: routes of customer node indices, the score, what was not visited, and stats.

Unserved reasons (``Unserved.reason``, ``item_id`` = the customer's node index as text)
    ``unreachable``: no route can visit the customer: along every path from the start depot (left
    at its opening time) its window is missed, or the end depot cannot be reached in time afterwards
    (:func:`optimizer.toptw.reach.time_bounds`; paths, not only the direct arcs, since travel
    times need not be metric);
    ``not_selected``: not ruled out by those bounds, but not in the returned routes (no room beside
    the visits chosen, or the search ran out of time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from optimizer.core.results import SolveStats, Unserved
from optimizer.toptw.problem import TOPTWInstance
from optimizer.toptw.reach import time_bounds

UNSERVED_REASONS = ("unreachable", "not_selected")


@dataclass(frozen=True, slots=True)
class ToptwSolution:
    """Routes, score, unserved customers and solve stats.

    Attributes
    ----------
    routes : tuple[tuple[int, ...], ...]
        ``n_routes`` routes of customer node indices in visit order (depots excluded; unused routes
        are empty).
    score : float
        Sum of the scores of the visited customers (recomputed in floats from ``routes``).
    unserved : tuple[Unserved, ...]
        Every customer not visited, with its reason (see the module docstring).
    stats : SolveStats
        ``objective`` = ``score``; ``bound``/``gap`` from an exact model (None for the ILS and the
        routing baseline); ``status`` ``optimal`` only when CP-SAT proved it on exactly scaled data.
    """

    routes: tuple[tuple[int, ...], ...]
    score: float
    unserved: tuple[Unserved, ...]
    stats: SolveStats


def reachable_customers(inst: TOPTWInstance) -> frozenset[int]:
    """Customers that the path-based time bounds do not rule out (floats, no tolerance)."""
    b = time_bounds(inst.travel_min, inst.service_min, inst.open_min, inst.close_min, inst.customers,
                    inst.start, inst.end, inst.depart_min, inst.return_by_min)
    return frozenset(int(j) for j in inst.customers if b.usable[j])


def unserved_customers(inst: TOPTWInstance, routes: Sequence[Sequence[int]]) -> tuple[Unserved, ...]:
    """An ``Unserved`` for every customer not in ``routes``: ``unreachable`` or ``not_selected``."""
    visited = {int(j) for r in routes for j in r}
    missing = [j for j in inst.customers if j not in visited]
    reach = reachable_customers(inst) if missing else frozenset()
    out = []
    for j in missing:
        if j in reach:
            out.append(Unserved(str(j), "not_selected", "reachable but not in the routes"))
        else:
            out.append(Unserved(str(j), "unreachable",
                                "no route can meet its window and reach the end depot in time"))
    return tuple(out)


def make_solution(inst: TOPTWInstance, routes: Sequence[Sequence[int]], stats: SolveStats) -> ToptwSolution:
    """A ``ToptwSolution`` of ``routes`` padded to ``inst.n_routes`` (empty routes last), its float
    score and its unserved customers; ``stats.objective`` is set to the score when there is a plan."""
    rs = [tuple(int(j) for j in r) for r in routes]
    rs += [()] * max(0, inst.n_routes - len(rs))
    score = float(sum(float(inst.score[j]) for j in {j for r in rs for j in r}))
    if stats.has_plan:
        stats = replace(stats, objective=score)
    return ToptwSolution(routes=tuple(rs), score=score, unserved=unserved_customers(inst, rs), stats=stats)

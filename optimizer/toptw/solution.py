"""A (T)OPTW answer: routes of customer node indices, the score, what was not visited, and stats.

Unserved reasons (``Unserved.reason``, ``item_id`` = the customer's node index as text)
    ``unreachable``: no route can visit the customer alone (its window cannot be met from the start
    depot, or the end depot cannot be reached by ``t_max`` afterwards);
    ``not_selected``: reachable on its own, but not in the returned routes (no room beside the
    visits chosen, or the search ran out of time).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from collections.abc import Sequence

from optimizer.core.results import SolveStats, Unserved
from optimizer.toptw.problem import TOPTWInstance

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


def alone_reachable(inst: TOPTWInstance, j: int) -> bool:
    """Whether a route can visit customer ``j`` alone: service starts by ``close_j`` after leaving
    the start depot at 0 and the end depot is reached by ``t_max`` (floats, no tolerance)."""
    start = max(float(inst.travel_min[inst.start, j]), float(inst.open_min[j]))
    return start <= inst.close_min[j] and start + inst.service_min[j] + inst.travel_min[j, inst.end] <= inst.t_max


def unserved_customers(inst: TOPTWInstance, routes: Sequence[Sequence[int]]) -> tuple[Unserved, ...]:
    """An ``Unserved`` for every customer not in ``routes``: ``unreachable`` or ``not_selected``."""
    visited = {int(j) for r in routes for j in r}
    out = []
    for j in inst.customers:
        if j in visited:
            continue
        if alone_reachable(inst, j):
            out.append(Unserved(str(j), "not_selected", "reachable on its own but not in the routes"))
        else:
            out.append(Unserved(str(j), "unreachable", "no route can meet its window and return by t_max"))
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

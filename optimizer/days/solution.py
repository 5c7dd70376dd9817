"""The answer of a day played online (``optimizer.days.solve.solve``): the final live state, one
summary per version, what is left out and why, KPIs and stats.

Unserved reasons (``Unserved.reason``): ``full`` (a booking refused because a wanted site or
slot had no room), ``unservable`` (a booking the day cannot serve at all), and, for a must-visit of
a booked group that its plan leaves out, the tour reasons of ``optimizer.tours.solution``
(``quota``, ``window``, ``time``, ...) plus ``closed`` (the site was closed by an event);
``item_id`` is the group id, or ``group/site`` for a must-visit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from optimizer.core.results import FEASIBLE, SolveStats, Unserved
from optimizer.days.state import DayState


@dataclass(frozen=True, slots=True)
class VersionSummary:
    """One version: number, reason (``booking G001``, ``road_closed at 11:00``...), kind
    (create, booking, cancel, event), groups changed, and the seconds it took."""

    version: int
    reason: str
    kind: str
    groups_changed: int
    runtime_s: float


@dataclass(frozen=True)
class DayPlan:
    """A day played online: ``state`` (the last version), ``versions`` (every version in order),
    ``unserved`` (refused bookings and must-visits left out, with reasons), ``kpis``
    (``optimizer.days.state.day_kpis``), ``stats`` (objective = total score)."""

    state: DayState
    versions: tuple[VersionSummary, ...]
    unserved: tuple[Unserved, ...]
    kpis: Mapping[str, float]
    stats: SolveStats = SolveStats(status=FEASIBLE)

"""The scenarios family's solution: one result per scenario that ran, and why the others did not.

``ScenarioRun`` is what ``optimizer.scenarios.solve`` returns: ``results`` (one
``ScenarioResult`` per scenario that ran, in file order), ``unserved`` (a core ``Unserved`` per
scenario that did not, ``item_id`` = the scenario's name) and ``stats``.

Reasons of the batch's ``unserved``:
    ``failed``: the scenario's solve raised (``detail``: the error); ``time``: the batch's
    ``max_runtime_s`` ran out before it started; ``stopped``: the caller asked the run to stop
    (e.g. a server shutdown) before it started.

Reasons inside one scenario (``ScenarioResult.unserved``, ``TourUnserved``): the tour planner's
(``window``, ``quota``, ``time``, ``nothing_fits``, ``no_interest``, ``zone``) plus ``closed`` (a must-visit at a
site the scenario closes), ``unreachable`` (a ``window`` must-visit that no open road reaches
from the group's start or back to its end, e.g. behind a closed road) and ``zone`` (a must-visit
outside the group's edited zone). A group is *served* when it has a route and none of its
original must-visits is unserved (``optimizer.tours.served_group_ids`` on these entries).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from optimizer.core.results import SolveStats, Unserved, Violation
from optimizer.scenarios.spec import Scenario
from optimizer.tours import TourPlan, TourProblem, TourUnserved

BATCH_REASONS = ("failed", "time", "stopped")
SCENARIO_REASONS = ("closed", "unreachable", "window", "quota", "time", "zone", "nothing_fits", "no_interest")


@dataclass(frozen=True)
class ScenarioTables:
    """One scenario's tables (polars), as ``optimizer.scenarios.report.scenario_tables`` builds them.

    ``usage``: persons per (site, entry slot) vs the slot quota; ``unserved``: every unserved group
    / must-visit with its reason and the group's size; ``site_peaks``: per site persons/day and peak
    utilisation; ``must_served``: per must-visit site, groups that must see it and groups that do;
    ``legs``: persons per undirected site-to-site leg; ``sites``: the scenario's sites (id, name,
    lon/lat, is_poi). Every table has a ``scenario`` column except ``sites``.
    """

    usage: pl.DataFrame
    unserved: pl.DataFrame
    site_peaks: pl.DataFrame
    must_served: pl.DataFrame
    legs: pl.DataFrame
    sites: pl.DataFrame


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario that ran.

    Attributes
    ----------
    scenario : Scenario
    problem : TourProblem
        The scenario's day (``optimizer.scenarios.apply``).
    plan : TourPlan
        The tour planner's plan of that day.
    unserved : tuple[TourUnserved, ...]
        The plan's unserved (``window`` relabelled ``unreachable`` where no road leads) plus the
        must-visits the change itself removed (``closed``, ``zone``).
    original_must : Mapping[str, tuple[str, ...]]
        Group id -> its must-visits before the change.
    violations : tuple[Violation, ...]
        What the tours verifier found right after the solve (empty for a correct planner).
    kpis : Mapping[str, Any]
        ``optimizer.scenarios.report.KPI_COLUMNS`` and ``peak_util_<site>``; ``runtime_s`` in s.
    tables : ScenarioTables
    """

    scenario: Scenario
    problem: TourProblem
    plan: TourPlan
    unserved: tuple[TourUnserved, ...]
    original_must: Mapping[str, tuple[str, ...]]
    violations: tuple[Violation, ...]
    kpis: Mapping[str, Any]
    tables: ScenarioTables


@dataclass(frozen=True)
class ScenarioRun:
    """What ``solve`` returns for a ``ScenarioProblem``.

    Attributes
    ----------
    results : tuple[ScenarioResult, ...]
        Scenarios that ran, in the problem's order.
    unserved : tuple[Unserved, ...]
        Scenarios that did not run to the end (``item_id`` = scenario name; reasons above).
    stats : SolveStats
        ``feasible`` when at least one scenario ran, else ``no_solution_in_time``; ``objective`` =
        scenarios that ran; ``iterations`` = ILS iterations over all scenarios; ``runtime_s`` =
        wall clock of the batch; ``stopped_by`` = ``max_runtime_s`` when the batch limit left a
        scenario out, ``stopped`` when the caller stopped it, else ``""``.
    """

    results: tuple[ScenarioResult, ...]
    unserved: tuple[Unserved, ...]
    stats: SolveStats

    def result(self, name: str) -> ScenarioResult | None:
        """The result of the scenario called ``name``, or None when it did not run."""
        for r in self.results:
            if r.scenario.name == name:
                return r
        return None


__all__ = ["BATCH_REASONS", "SCENARIO_REASONS", "ScenarioResult", "ScenarioRun", "ScenarioTables"]

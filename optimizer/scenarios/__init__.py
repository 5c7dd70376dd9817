"""Capacity scenarios: what-if runs of the tour planner (demand sweeps, quotas, closures, new sites).

Public surface::

    from optimizer.scenarios import ScenarioProblem, ScenarioParams, load_scenarios, solve, verify
    sset = load_scenarios("scenarios/peak_season.toml", network, profiles)      # -> ScenarioSet
    problem = ScenarioProblem(network, sset.scenarios, demand={spec: groups, ...})
    run = solve(problem, StoppingCriterion(max_iterations=2000), params=ScenarioParams(jobs=2))
    assert verify(problem, run) == []                                           # -> list[Violation]

``spec`` parses scenario files, ``apply`` turns a scenario into a tour problem, ``run`` runs a
batch on any ``concurrent.futures.Executor`` (local processes or a Dask cluster), ``report`` builds
KPIs, tables, plots on an ``Axes`` and the HTML report. This package reads and writes no file
except the scenario file itself (``load_scenarios``); ``api.services.scenarios`` loads the network
and the demand and writes the outputs.
"""

from optimizer.scenarios.apply import AppliedScenario, apply, scale_groups
from optimizer.scenarios.problem import ScenarioProblem
from optimizer.scenarios.run import InlineExecutor
from optimizer.scenarios.solution import (
    BATCH_REASONS,
    SCENARIO_REASONS,
    ScenarioResult,
    ScenarioRun,
    ScenarioTables,
)
from optimizer.scenarios.solve import ScenarioParams, solve
from optimizer.scenarios.spec import (
    DemandSpec,
    Scenario,
    ScenarioSet,
    StationsSpec,
    describe,
    load_scenarios,
    parse_scenarios,
    slugify,
)
from optimizer.scenarios.verify import verify

__all__ = [
    "BATCH_REASONS", "SCENARIO_REASONS", "AppliedScenario", "DemandSpec", "InlineExecutor", "Scenario",
    "ScenarioParams", "ScenarioProblem", "ScenarioResult", "ScenarioRun", "ScenarioSet", "ScenarioTables",
    "StationsSpec", "apply", "describe", "load_scenarios", "parse_scenarios", "scale_groups", "slugify",
    "solve", "verify",
]

"""The scenarios family's contract: ``ScenarioProblem`` -> ``solve`` (any Executor) -> ``ScenarioRun`` with
``unserved`` and ``stats`` -> ``verify``; what is left out and why; the ``stations`` table of a scenario file."""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.services.scenarios import make_problem, parse_document
from instances.demand_generator import PROFILES
from optimizer.core.errors import InvalidInput
from optimizer.core.results import FEASIBLE, NO_SOLUTION_IN_TIME, SolveStats, Unserved, Violation
from optimizer.core.stop import StoppingCriterion
from optimizer.scenarios import (
    BATCH_REASONS,
    InlineExecutor,
    ScenarioParams,
    ScenarioProblem,
    ScenarioRun,
    describe,
    parse_scenarios,
    solve,
    verify,
)
from optimizer.scenarios.run import run

DOC = {"base": {"seed": 2, "iterations": 40, "demand": {"groups": 15, "seed": 4}},
       "scenario": [{"name": "s", "demand_scale": [1, 2]},
                    {"name": "potala closed", "closed_sites": ["potala"]}]}
STOP = StoppingCriterion(max_iterations=40)


@pytest.fixture(scope="module")
def problem() -> ScenarioProblem:
    return make_problem(parse_document(DOC).scenarios)


@pytest.fixture(scope="module")
def solved(problem) -> ScenarioRun:
    return solve(problem, STOP, seed=0, params=ScenarioParams(jobs=1))


def test_solve_returns_a_verified_run_with_the_shared_types(problem, solved):
    """Every scenario ran, in file order; stats and unserved are the core types; the verifier agrees."""
    assert [r.scenario.name for r in solved.results] == ["s x1", "s x2", "potala closed"]
    assert solved.unserved == () and isinstance(solved.stats, SolveStats)
    assert solved.stats.status == FEASIBLE and solved.stats.objective == 3.0
    assert solved.stats.iterations == sum(r.plan.stats.iterations for r in solved.results) > 0
    assert verify(problem, solved) == []
    closed = solved.result("potala closed")
    assert closed is not None and {u.reason for u in closed.unserved} >= {"closed"}


def test_any_executor_gives_the_same_kpis(problem, solved):
    """A thread pool (any concurrent.futures Executor) gives the inline results, runtime aside."""
    seen: list[tuple[int, int, str]] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        other = solve(problem, STOP, params=ScenarioParams(executor=pool, progress=lambda *a: seen.append(a)))
    strip = [{k: v for k, v in r.kpis.items() if k != "runtime_s"} for r in solved.results]
    assert [{k: v for k, v in r.kpis.items() if k != "runtime_s"} for r in other.results] == strip
    assert sorted(d for d, _, _ in seen) == [1, 2, 3] and {t for _, t, _ in seen} == {3}
    assert verify(problem, other) == []


def test_progress_and_on_result_come_from_the_caller(problem):
    """Inline: progress after every scenario in order, on_result with each result."""
    seen, got = [], []
    run(problem, InlineExecutor(), STOP, progress=lambda *a: seen.append(a), on_result=got.append)
    assert seen == [(1, 3, "s x1"), (2, 3, "s x2"), (3, 3, "potala closed")]
    assert [r.scenario.name for r in got] == ["s x1", "s x2", "potala closed"]


def test_should_stop_leaves_the_rest_unserved_stopped(problem):
    """A stop request between scenarios: what has not started is unserved with reason ``stopped``."""
    done: list[str] = []
    out = run(problem, InlineExecutor(), STOP, on_result=lambda r: done.append(r.scenario.name),
              should_stop=lambda: len(done) >= 1)
    assert [r.scenario.name for r in out.results] == ["s x1"]
    assert [(u.item_id, u.reason) for u in out.unserved] == [("s x2", "stopped"), ("potala closed", "stopped")]
    assert out.stats.stopped_by == "stopped" and verify(problem, out) == []


def test_batch_deadline_leaves_late_scenarios_unserved_time(problem, monkeypatch):
    """``max_runtime_s`` is a deadline for the batch: a scenario not started by then is unserved (``time``)."""
    import optimizer.scenarios.run as runmod

    real = runmod.run_scenario

    def slow(*args, **kwargs):
        out = real(*args, **kwargs)
        time.sleep(0.3)  # the batch deadline passes while this scenario runs
        return out

    monkeypatch.setattr(runmod, "run_scenario", slow)
    out = run(problem, InlineExecutor(), StoppingCriterion(max_runtime_s=0.2, max_iterations=40))
    assert len(out.results) == 1
    assert [u.reason for u in out.unserved] == ["time", "time"]
    assert out.stats.stopped_by == "max_runtime_s" and verify(problem, out) == []


def test_a_failing_scenario_is_unserved_failed_and_the_others_run(problem, monkeypatch):
    """An exception in one scenario is its ``failed`` reason (with the error); the batch goes on."""
    import optimizer.scenarios.run as runmod

    real = runmod.run_scenario

    def flaky(scenario, *args, **kwargs):
        if scenario.name == "s x2":
            raise RuntimeError("boom")
        return real(scenario, *args, **kwargs)

    monkeypatch.setattr(runmod, "run_scenario", flaky)
    out = solve(problem, STOP, params=ScenarioParams(jobs=1))
    assert [r.scenario.name for r in out.results] == ["s x1", "potala closed"]
    assert out.unserved == (Unserved("s x2", "failed", "RuntimeError: boom"),)
    assert "failed" in BATCH_REASONS and verify(problem, out) == []


def test_nothing_ran_is_no_solution_in_time(problem):
    out = run(problem, InlineExecutor(), STOP, should_stop=lambda: True)
    assert out.results == () and out.stats.status == NO_SOLUTION_IN_TIME and len(out.unserved) == 3


def test_verify_catches_a_kpi_the_plan_does_not_give(problem, solved):
    """A KPI that disagrees with the plan, a lost scenario and an unknown reason are violations."""
    r = solved.results[0]
    bad = dataclasses.replace(r, kpis={**r.kpis, "groups_served": r.kpis["groups_served"] + 1})
    tampered = dataclasses.replace(solved, results=(bad, *solved.results[1:]))
    v = verify(problem, tampered)
    assert v and all(isinstance(x, Violation) for x in v)
    assert any(x.kind == "kpi" and x.item_id == "s x1" and "groups_served" in x.message for x in v)
    lost = dataclasses.replace(solved, results=solved.results[:2], unserved=(Unserved("potala closed", "gone"),))
    kinds = {x.kind for x in verify(problem, lost)}
    assert kinds == {"reason"}
    missing = dataclasses.replace(solved, results=solved.results[:2])
    assert [x.kind for x in verify(problem, missing)] == ["coverage"]


def test_verify_catches_a_plan_that_breaks_the_scenario(problem, solved):
    """A plan that visits the closed Potala is rejected by the re-run tours verifier."""
    closed = solved.result("potala closed")
    other = solved.result("s x1")
    swapped = dataclasses.replace(closed, plan=other.plan)  # planned on the unchanged network
    run_ = dataclasses.replace(solved, results=(*solved.results[:2], swapped))
    assert any(v.item_id.startswith("potala closed/") for v in verify(problem, run_))


def test_problem_is_checked_on_construction(problem):
    s = problem.scenarios[0]
    with pytest.raises(InvalidInput) as e:
        ScenarioProblem(problem.network, ())
    assert e.value.field == "scenarios"
    with pytest.raises(InvalidInput) as e:
        ScenarioProblem(problem.network, (s, s), problem.demand)
    assert e.value.field == "scenario[s x1].name"
    with pytest.raises(InvalidInput) as e:
        ScenarioProblem(problem.network, (s,), {})
    assert e.value.field == "scenario[s x1].demand"


def test_params_name_a_bad_jobs_value():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidInput) as e:
            ScenarioParams(jobs=bad)
        assert e.value.field == "jobs"


# --------------------------------------------------------------------------------------------
# the stations table


def test_stations_table_parses_and_a_scenario_replaces_it(problem):
    doc = {"base": {"stations": {"siting": {"kind": "oxygen", "p": 2}, "charging": {"chargers": 2}}},
           "scenario": [{"name": "a"}, {"name": "b", "stations": {"siting": {"kind": "charger", "min_path_km": 20}}}]}
    a, b = parse_scenarios(doc, problem.network, PROFILES).scenarios
    assert a.stations.siting == {"kind": "oxygen", "p": 2} and a.stations.charging == {"chargers": 2}
    assert b.stations.siting == {"kind": "charger", "min_path_km": 20.0} and b.stations.charging is None
    assert describe(a).endswith("; stations siting oxygen p=2, charging")
    assert describe(b).endswith("; stations siting charger p=3")  # p defaults to 3


BAD_STATIONS = [
    ({"siting": {"p": 2}}, "base.stations.siting.kind"),
    ({"siting": {"kind": "hydrogen"}}, "base.stations.siting.kind"),
    ({"siting": {"kind": "oxygen", "p": 0}}, "base.stations.siting.p"),
    ({"siting": {"kind": "oxygen", "ev_share": 1.5}}, "base.stations.siting.ev_share"),
    ({"siting": {"kind": "oxygen", "backend": "gurobi"}}, "base.stations.siting.backend"),
    ({"siting": {"kind": "oxygen", "radius": 3}}, "base.stations.siting.radius"),
    ({"charging": {"chargers": "four"}}, "base.stations.charging.chargers"),
    ({"charging": {"grid_kw": -1}}, "base.stations.charging.grid_kw"),
    ({"fuel": {}}, "base.stations.fuel"),
]


@pytest.mark.parametrize("table,field", BAD_STATIONS, ids=[f for _, f in BAD_STATIONS])
def test_bad_stations_tables_name_the_key(problem, table, field):
    with pytest.raises(InvalidInput) as e:
        parse_scenarios({"base": {"stations": table}}, problem.network, PROFILES)
    assert e.value.field == field, str(e.value)

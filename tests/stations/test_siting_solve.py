"""``solve_siting``'s contract (stop, seed, params, shared result types), the siting report and the
plan source of the station tools; every answer is checked by the independent verifier."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from api.services import stations as service
from api.services import tours
from optimizer.core.errors import InvalidInput
from optimizer.core.results import STATUSES, SolveStats, Unserved, Violation
from optimizer.core.stop import MaxIterations, MaxRuntime
from optimizer.stations.report_siting import (
    detail_table,
    marginal_table,
    plot_marginal,
    plot_siting_map,
    siting_to_dict,
)
from optimizer.stations.siting import (
    CoverageProblem,
    FlowPath,
    FlowProblem,
    SitingParams,
    SitingSolution,
    solve_siting,
)
from optimizer.stations.verify_siting import verify_siting

DEMAND_EXAMPLE = "instances/lhasa/demand_example.json"


def tiny_mclp(p: int = 1) -> CoverageProblem:
    dist = np.array([[5.0, 12.0, 30.0], [8.0, 9.0, 25.0], [20.0, 7.0, 11.0], [40.0, 15.0, 4.0]])
    return CoverageProblem([3.0, 1.0, 4.0, 1.5], ("s1", "s2", "s3"), p, distance=dist, threshold=10.0,
                           demand_ids=("a", "b", "c", "d"), existing=frozenset({"s3"}), station_kind="oxygen",
                           unit="L/day")


def tiny_frlm(p: int = 1) -> FlowProblem:
    paths = (FlowPath(("A", "B", "C", "D"), (1.0, 1.0, 1.0), 1.0), FlowPath(("A", "B"), (1.0,), 5.0),
             FlowPath(("C", "D"), (1.0,), 2.0))
    return FlowProblem(paths, ("A", "B", "C", "D"), range_km=4.0, p=p, station_kind="charger",
                       unit="EV round trips/day")


@pytest.mark.parametrize("make", [tiny_mclp, tiny_frlm], ids=["mclp", "frlm"])
def test_contract_shared_types(make):
    """solve -> a frozen Solution with Unserved and SolveStats; verify -> list[Violation] (empty)."""
    problem = make(1)
    sol = solve_siting(problem, MaxRuntime(10.0), seed=0)
    assert isinstance(sol, SitingSolution) and isinstance(sol.stats, SolveStats)
    assert sol.stats.status in STATUSES and sol.stats.status == "optimal" and sol.stats.seed == 0
    assert all(isinstance(u, Unserved) for u in sol.unserved) and sol.unserved
    v = verify_siting(problem, sol)
    assert isinstance(v, list) and v == []
    with pytest.raises(AttributeError):
        sol.chosen = ()  # frozen
    assert all(isinstance(x, Violation) for x in verify_siting(problem, sol))


def test_same_seed_same_answer():
    """Two solves with the same seed give the same stations, objective and curve."""
    a = solve_siting(tiny_mclp(2), MaxRuntime(10.0), seed=3, params=SitingParams(p_max=3))
    b = solve_siting(tiny_mclp(2), MaxRuntime(10.0), seed=3, params=SitingParams(p_max=3))
    assert a.chosen == b.chosen and a.objective == b.objective
    assert [(m.p, m.objective, m.chosen) for m in a.marginal] == [(m.p, m.objective, m.chosen) for m in b.marginal]
    assert verify_siting(tiny_mclp(2), a) == []


def test_time_limit_covers_the_curve():
    """The whole solve (answer and curve, model building included) keeps to max_runtime_s (plus
    the back ends' reply time); points without time are no_solution_in_time, never fake answers."""
    paths = tuple(FlowPath((f"n{i}", f"n{i + 1}", f"n{i + 2}"), (1.0, 1.0), float(i + 1)) for i in range(200))
    problem = FlowProblem(paths, tuple(f"n{i}" for i in range(202)), range_km=3.0, p=5)
    t0 = time.perf_counter()
    sol = solve_siting(problem, MaxRuntime(0.5), params=SitingParams(p_max=20, workers=1))
    assert time.perf_counter() - t0 < 5.0
    assert verify_siting(problem, sol) == []
    assert len(sol.marginal) == 20 and all(m.status in STATUSES for m in sol.marginal)


@pytest.mark.parametrize("bad, field", [
    (SitingParams(p_max=1), "p_max"),  # p_max < p
    (SitingParams(p_max=4), "p_max"),  # more than the candidates
    (SitingParams(capacitated=True), "capacitated"),  # no capacitated MCLP
])
def test_bad_params_name_the_field(bad, field):
    """Curve bounds and model options are checked with the field named."""
    with pytest.raises(InvalidInput) as e:
        solve_siting(tiny_mclp(2), MaxRuntime(5.0), params=bad)
    assert e.value.field == field
    with pytest.raises(InvalidInput) as e:
        SitingParams(backend="gurobi")
    assert e.value.field == "backend"
    with pytest.raises(InvalidInput) as e:
        solve_siting(tiny_mclp(1), MaxRuntime(5.0), seed=-1)
    assert e.value.field == "seed"


def test_report_is_json_and_plots_write_nothing(tmp_path, monkeypatch, lhasa_network):
    """siting_to_dict is JSON without NaN; each covered demand point is served by one station;
    the plots draw on the given Axes and write no file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problem = tiny_mclp(2)
    sol = solve_siting(problem, MaxRuntime(10.0), params=SitingParams(p_max=3))
    assert verify_siting(problem, sol) == []
    doc = siting_to_dict(problem, sol)
    json.dumps(doc, allow_nan=False)
    assert doc["kind"] == "oxygen" and doc["existing_chosen"] == [c for c in sol.chosen if c == "s3"]
    served = [s for st in doc["stations"] for s in st["demand_sites"]]
    assert sorted(served) == sorted(i for i, c in zip(problem.demand_ids, sol.covered) if c > 0.5)
    assert [u["item_id"] for u in doc["unserved"]] == [u.item_id for u in sol.unserved]
    assert marginal_table(problem, sol).height == 3 and detail_table(problem, sol).height == 4
    monkeypatch.chdir(tmp_path)
    fig, ax = plt.subplots()
    assert plot_marginal(problem, sol, ax) is ax
    fig2, ax2 = plt.subplots()
    lhasa = CoverageProblem([1.0, 2.0], ("potala", "sera"), 1, coverage=[[True, False], [False, True]],
                            demand_ids=("potala", "sera"))
    lsol = solve_siting(lhasa, MaxRuntime(5.0))
    assert verify_siting(lhasa, lsol) == []
    assert plot_siting_map(lhasa, lsol, ax2, lhasa_network) is ax2
    plt.close(fig)
    plt.close(fig2)
    assert list(tmp_path.iterdir()) == []


def test_plan_source_resolves_each_source(lhasa_network, tmp_path):
    """plan.json, a demand file and group records give the same groups; two sources are refused."""
    stop = MaxIterations(50)
    p1, plan1 = service.plan_source(lhasa_network, demand=DEMAND_EXAMPLE, stop=stop)
    with open(DEMAND_EXAMPLE, encoding="utf-8") as f:
        records = json.load(f)["groups"]
    p2, _ = service.plan_source(lhasa_network, groups=records, stop=stop)
    doc = json.loads(json.dumps(tours.plan_document(p1, plan1)))
    p3, plan3 = service.plan_source(lhasa_network, plan=doc, stop=stop)
    assert [g.id for g in p1.groups] == [g.id for g in p2.groups] == [g.id for g in p3.groups]
    assert [r.group_id for r in plan3.routes] == [r.group_id for r in plan1.routes]
    with pytest.raises(InvalidInput) as e:
        service.plan_source(lhasa_network, demand=DEMAND_EXAMPLE, plan=doc, stop=stop)
    assert e.value.field == "demand"

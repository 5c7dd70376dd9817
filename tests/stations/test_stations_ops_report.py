"""Station-operations reports and the shared contract: JSON-safe documents, polars tables, plots on a
given Axes that write no file, the ``solve -> verify`` contract on tiny cases, and plans without a
solution (every item unserved, no cost figures)."""

from __future__ import annotations

import dataclasses
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from optimizer.core.results import SolveStats, Unserved, Violation
from optimizer.core.stop import MaxIterations, MaxRuntime
from optimizer.stations.charging import (
    ChargingProblem,
    ChargingSchedule,
    CoachUnserved,
    EVStation,
    EVVehicle,
    solve_charging,
)
from optimizer.stations.oxygen import (
    OxygenParams,
    OxygenPlan,
    OxygenProblem,
    OxygenShortfall,
    solve_oxygen,
)
from optimizer.stations.report_ops import (
    charging_to_dict,
    oxygen_to_dict,
    plot_soc,
    plot_station_load,
    plot_stock,
    routes_table,
    sessions_table,
    stock_table,
)
from optimizer.stations.verify_ops import verify_charging, verify_oxygen


def tiny_charging() -> ChargingProblem:
    # two coaches at one 1-connector station; the second one's day is longer than its battery
    st = (EVStation("A", 1, 40.0, 40.0),)
    v1 = EVVehicle("v1", 60.0, 0.5, 0.2, (0.0, 0.0, 27.0, 0.0), (0, 0, -1, -1))
    v2 = EVVehicle("v2", 60.0, 0.9, 0.2, (0.0, 30.0, 30.0, 0.0), (-1, -1, -1, -1))
    return ChargingProblem((v1, v2), st, (1.0, 2.0, 1.0, 1.0), max_delay_min=0)


def tiny_oxygen() -> OxygenProblem:
    m = ((0.0, 10.0, 10.0), (10.0, 0.0, 20.0), (10.0, 20.0, 0.0))
    return OxygenProblem(("s0", "s1"), (10, 10), (2, 2), ((2, 2, 2), (1, 3, 1)), m, m, trucks=1,
                         truck_capacity=10, service_min=0.0, safety=(1, 1))


def test_contract_tiny_cases():
    """Each problem kind: solve(problem, stop, seed) -> a solution with unserved and SolveStats, and
    verify(problem, solution) -> list[Violation] (empty)."""
    cp = tiny_charging()
    s = solve_charging(cp, MaxIterations(100), seed=0)
    assert isinstance(s.stats, SolveStats) and s.stats.status == "optimal" and s.stats.seed == 0
    assert all(isinstance(u, Unserved) for u in s.unserved) and [u.item_id for u in s.unserved] == ["v2"]
    assert s.unserved[0].reason == "range"
    assert verify_charging(cp, s) == []
    op = tiny_oxygen()
    o = solve_oxygen(op, MaxRuntime(10), seed=0)
    assert isinstance(o.stats, SolveStats) and o.stats.status == "optimal" and o.unserved == ()
    assert verify_oxygen(op, o) == []
    pol = solve_oxygen(op, MaxIterations(100), seed=0, params=OxygenParams(method="policy"))
    assert pol.method == "policy" and pol.stats.status == "feasible" and verify_oxygen(op, pol) == []


def test_charging_document_tables_and_plots(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cp = tiny_charging()
    s = solve_charging(cp, MaxRuntime(10))
    doc = charging_to_dict(cp, s)
    json.dumps(doc, allow_nan=False)
    assert doc["status"] == "optimal" and doc["energy_cost_cny"] == pytest.approx(s.energy_cost_cny)
    u = s.unserved[0]
    assert doc["unserved"] == [{"vehicle": "v2", "short_kwh": pytest.approx(s.short_kwh[1]),
                                "unmet_kwh": pytest.approx(u.unmet_kwh), "below_floor_at": doc["unserved"][0]["below_floor_at"],
                                "empty_at": doc["unserved"][0]["empty_at"], "reason": "range", "detail": u.detail}]
    assert doc["unserved"][0]["below_floor_at"] is None or ":" in doc["unserved"][0]["below_floor_at"]
    assert doc["coaches"] == {"total": 2, "served": 1, "stranded": 1, "stranded_by_reason": {"range": 1}}
    assert set(doc["soc_kwh"]) == {"v1", "v2"} and list(doc["station_load_kw"]) == ["A"]
    tab = sessions_table(cp, s)
    assert tab.height == len(doc["sessions"]) > 0 and tab["grid_kwh"].sum() == pytest.approx(sum(map(sum, s.grid_kwh)))
    assert "sessions" not in charging_to_dict(cp, s, include_sessions=False)
    fig, (a1, a2) = plt.subplots(1, 2)
    assert plot_soc(cp, s, a1) is a1 and len(a1.lines) == 2  # v1's curve + the floor (v2 is unserved)
    assert plot_station_load(cp, s, a2) is a2 and a2.get_title().startswith("Charging load")
    plt.close(fig)
    assert list(tmp_path.iterdir()) == []  # the plots write nothing


def test_oxygen_document_tables_and_plots(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    op = tiny_oxygen()
    o = solve_oxygen(op, MaxRuntime(10))
    doc = oxygen_to_dict(op, o)
    json.dumps(doc, allow_nan=False)
    assert doc["total_cost_cny"] == pytest.approx(o.total_cost_cny) and doc["method"] == "exact"
    assert doc["safety_stock"] == {"s0": 1, "s1": 1} and doc["safety_breaches"] == []
    st = stock_table(op, o)
    assert st.height == op.n * op.days and st["stock"].to_list() == [x for row in o.stock for x in row]
    assert routes_table(op, o).height == len(o.routes) == len(doc["routes"])
    fig, ax = plt.subplots()
    assert plot_stock(op, o, ax) is ax and len(ax.lines) == op.n + 1
    plt.close(fig)
    assert list(tmp_path.iterdir()) == []


def test_no_plan_lists_everything_and_reports_no_costs():
    """A solve with no answer in time is an empty plan with every item unserved, never a fake plan;
    the verifier checks that nothing is left out without a reason."""
    cp = tiny_charging()
    empty = ChargingSchedule((), (), (), (), (), (), (), (), None, 0.0, 0.0, 0.0,
                             tuple(CoachUnserved(v.id, "no_schedule", "no schedule") for v in cp.vehicles),
                             SolveStats("no_solution_in_time"))
    assert verify_charging(cp, empty) == []
    doc = charging_to_dict(cp, empty)
    assert doc["energy_cost_cny"] is None and doc["lateness_min_total"] is None and "soc_kwh" not in doc
    missing = ChargingSchedule((), (), (), (), (), (), (), (), None, 0.0, 0.0, 0.0, empty.unserved[:1],
                               SolveStats("no_solution_in_time"))
    assert [(v.item_id, v.kind) for v in verify_charging(cp, missing)] == [("v2", "unserved")]
    op = tiny_oxygen()
    none = OxygenPlan("exact", (), (), (), 0.0, 0.0, 0, 0,
                      tuple(OxygenShortfall(s, "no_plan", "no plan") for s in op.station_ids),
                      SolveStats("no_solution_in_time"))
    assert verify_oxygen(op, none) == []
    d = oxygen_to_dict(op, none)
    assert d["total_cost_cny"] is None and d["min_margin_cylinders"] is None and d["stock"] == {}
    unlisted = verify_oxygen(op, dataclasses.replace(none, unserved=()))
    assert len(unlisted) == op.n and all(isinstance(v, Violation) and v.kind == "unserved" for v in unlisted)


def test_verifier_names_unlisted_shortfalls():
    """A coach below its floor that the schedule does not list as unserved is a violation."""
    cp = tiny_charging()
    s = solve_charging(cp, MaxRuntime(10))
    kinds = {(v.item_id, v.kind) for v in verify_charging(cp, dataclasses.replace(s, unserved=()))}
    assert ("v2", "unserved") in kinds
    op = tiny_oxygen()
    o = solve_oxygen(op, MaxRuntime(10))
    dropped = dataclasses.replace(o, routes=())  # no deliveries: the replay finds stock below zero
    assert {v.kind for v in verify_oxygen(op, dropped)} >= {"stock", "cost"}
    no_trucks = dataclasses.replace(op, trucks=0)  # every stock-out is real and listed with its reason
    short = solve_oxygen(no_trucks, MaxRuntime(10))
    assert short.stockout_cylinders > 0 and verify_oxygen(no_trucks, short) == []
    assert {u.reason for u in short.unserved} == {"stockout"}
    assert {v.kind for v in verify_oxygen(no_trucks, dataclasses.replace(short, unserved=()))} == {"unserved"}

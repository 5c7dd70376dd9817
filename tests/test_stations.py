"""Station siting from a planned tour day (``optimizer.stations``, CLI ``stations site``, API
``POST /v1/stations/siting``)."""

from __future__ import annotations

import itertools
import json
import warnings

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.http.app import app
from api.cli.main import app as cli_app
from models.siting import OPT_TOL, FlowPath, check_siting
from optimizer.domain import InvalidInput, Location, TourGroup, TourPlan, TourProblem
from optimizer.ils import StoppingCriterion
from optimizer.stations.demand import (
    ams_share,
    candidate_sites,
    ev_flows,
    oxygen_demand,
    read_stations,
    road_path,
    site_chargers,
    site_oxygen,
)
from optimizer.tours import solve


@pytest.fixture(scope="module")
def demo(lhasa_network, demo_groups):
    problem = TourProblem(network=lhasa_network, groups=demo_groups)
    plan = solve(problem, StoppingCriterion(max_iterations=200), seed=0)
    return problem, plan


@pytest.fixture(scope="module")
def o2_df(demo):
    return oxygen_demand(*demo)


@pytest.fixture(scope="module")
def flows(demo):
    return ev_flows(*demo, ev_share=0.2)


def test_stations_csv_sites_are_network_nodes(lhasa_network):
    df = read_stations()
    assert set(df["kind"]) <= {"oxygen", "charger", "both"}
    assert all(lhasa_network.has_site(s) for s in df["site_id"])
    assert df["provenance"].null_count() == 0
    for kind in ("oxygen", "charger"):
        cands, existing = candidate_sites(kind, lhasa_network)
        assert len(cands) >= 10 and existing <= set(cands)


def test_ams_curve_monotone_and_sourced_points():
    assert ams_share(3650.0) == pytest.approx(0.34)
    assert ams_share(4559.0) == pytest.approx(0.53)
    h = np.linspace(1000, 6000, 101)
    assert np.all(np.diff(ams_share(h)) >= 0) and ams_share(6000.0) <= 0.6


def test_oxygen_demand_increases_with_elevation(lhasa_network):
    # two groups of equal size, one visit each: Jokhang (3650 m) and Namtso (4718 m)
    net = lhasa_network
    home = Location(site_id="lhasa_railway")
    groups = tuple(TourGroup(id=f"G{k}", size=10, start=home, end=home, day_window=(480.0, 1200.0))
                   for k in range(2))
    problem = TourProblem(network=net, groups=groups)
    from optimizer.domain import Route, Visit
    routes = (Route("G0", 480.0, (Visit("jokhang", 700.0, 0.0, 700.0, 790.0),), 900.0, 0.0, 0.0, 0.0),
              Route("G1", 480.0, (Visit("namtso_tashi", 760.0, 0.0, 760.0, 880.0),), 1150.0, 0.0, 0.0, 0.0))
    plan = TourPlan(routes=routes, unserved=(), kpis={}, slot_min=60.0)
    df = oxygen_demand(problem, plan)
    row = {r["site_id"]: r for r in df.iter_rows(named=True)}
    assert row["jokhang"]["visitors_day"] == row["namtso_tashi"]["visitors_day"] == 10
    assert row["namtso_tashi"]["litres_day"] > row["jokhang"]["litres_day"] > 0
    # 10 visitors x 0.34 x 0.3 x 2 L/min x 15 min
    assert row["jokhang"]["litres_day"] == pytest.approx(10 * 0.34 * 0.3 * 30)


def test_demo_oxygen_demand(o2_df, demo):
    problem, plan = demo
    assert o2_df.height > 5
    assert (o2_df["litres_day"] >= 0).all() and (o2_df["seats"] >= 0).all()
    visitors = sum(problem.groups[[g.id for g in problem.groups].index(r.group_id)].size * len(r.visits)
                   for r in plan.routes)
    assert int(o2_df["visitors_day"].sum()) == visitors


def test_ev_flows_follow_road_graph(lhasa_network, flows):
    net = lhasa_network
    edges = {frozenset((r.a, r.b)) for r in net.roads}
    assert flows and all(isinstance(q, FlowPath) for q in flows)
    for q in flows:
        for a, b in itertools.pairwise(q.nodes):
            assert frozenset((a, b)) in edges
        d = net.distance_km[net.index(q.nodes[0]), net.index(q.nodes[-1])]
        assert q.length_km == pytest.approx(d, abs=1e-9)
    keys = [frozenset((q.nodes[0], q.nodes[-1])) for q in flows]
    assert len(keys) == len(set(keys))  # aggregated per O-D path


def test_ev_flow_total_matches_legs(demo):
    problem, plan = demo
    size = {g.id: g.size for g in problem.groups}
    f1 = ev_flows(problem, plan, ev_share=0.1, persons_per_vehicle=5.0)
    f2 = ev_flows(problem, plan, ev_share=0.2, persons_per_vehicle=5.0)
    assert sum(q.flow for q in f2) == pytest.approx(2 * sum(q.flow for q in f1))
    far = ev_flows(problem, plan, ev_share=0.2, min_path_km=20.0)
    assert far and all(q.length_km >= 20.0 for q in far)
    assert max(sum(size.values()), 1) > 0


def test_road_path_endpoints(lhasa_network):
    nodes, arcs = road_path(lhasa_network, "potala", "namtso_tashi")
    assert nodes[0] == "potala" and nodes[-1] == "namtso_tashi"
    assert sum(arcs) == pytest.approx(lhasa_network.distance_km[lhasa_network.index("potala"),
                                                                lhasa_network.index("namtso_tashi")])


@pytest.mark.parametrize("p", [2, 4])
def test_oxygen_siting_optimal_and_backends_agree(lhasa_network, o2_df, p):
    a = site_oxygen(lhasa_network, o2_df, p, threshold_min=20.0, backend="cpsat", p_max=p)
    b = site_oxygen(lhasa_network, o2_df, p, threshold_min=20.0, backend="pulp", p_max=p)
    assert a.status == b.status == "optimal"
    assert a.covered == pytest.approx(b.covered, rel=OPT_TOL)
    assert len(a.chosen) == p and 0 < a.covered_pct <= 100
    assert a.total == pytest.approx(float(o2_df["litres_day"].sum()))
    assert [m["p"] for m in a.marginal] == list(range(1, p + 1))
    objs = [m["objective"] for m in a.marginal]
    assert all(x <= y + 1e-6 for x, y in itertools.pairwise(objs))  # more stations never cover less


@pytest.mark.parametrize("p", [2, 4])
def test_charger_siting_optimal_and_backends_agree(lhasa_network, flows, p):
    a = site_chargers(lhasa_network, flows, p, range_km=300.0, temperature_c=-5.0, backend="cpsat")
    b = site_chargers(lhasa_network, flows, p, range_km=300.0, temperature_c=-5.0, backend="pulp")
    assert a.status == b.status == "optimal"
    assert a.covered == pytest.approx(b.covered, rel=OPT_TOL)
    assert a.params["effective_range_km"] < 300.0
    assert all(m["status"] == "optimal" for m in a.marginal)
    objs = [m["objective"] for m in a.marginal]
    assert all(x <= y + 1e-6 for x, y in itertools.pairwise(objs))


def test_siting_result_rechecks(lhasa_network, flows):
    from models.siting import FlowProblem
    res = site_chargers(lhasa_network, flows, 3, p_max=3)
    cands, _ = candidate_sites("charger")
    prob = FlowProblem(paths=tuple(flows), candidates=cands, range_km=res.params["effective_range_km"], p=3,
                       nodes=tuple(s.id for s in lhasa_network.sites))
    assert check_siting(prob, res.result) == []


def _field(fn, *args, **kw) -> str:
    with pytest.raises(InvalidInput) as e:
        fn(*args, **kw)
    return e.value.field


def test_bad_inputs_name_the_field(lhasa_network, o2_df, flows):
    net = lhasa_network
    assert _field(site_oxygen, net, o2_df, 999) == "p"
    assert _field(site_oxygen, net, o2_df, 0) == "p"
    neg = o2_df.with_columns(pl.when(pl.col("site_id") == o2_df["site_id"][1]).then(-5.0)
                             .otherwise(pl.col("litres_day")).alias("litres_day"))
    assert _field(site_oxygen, net, neg, 2) == "demand[1].litres_day"
    assert _field(site_oxygen, net, o2_df, 2, threshold_min=0) == "threshold_min"
    assert _field(site_oxygen, net, o2_df, 1, candidates=["potala", "atlantis"]) == "candidates[1]"
    assert _field(site_chargers, net, flows, 2, range_km=0) == "range_km"
    assert _field(site_chargers, net, flows, 2, range_km=-10) == "range_km"
    assert _field(site_chargers, net, flows, 99) == "p"
    assert _field(site_chargers, net, flows, 1, candidates=["nowhere"]) == "candidates[0]"
    assert _field(site_chargers, net, flows, 2, temperature_c=float("nan")) == "temperature_c"


def test_cli_writes_files(tmp_path):
    runner = CliRunner()
    out = tmp_path / "st"
    r = runner.invoke(cli_app, ["stations", "site", "--kind", "charger", "--p", "3", "--iterations", "50",
                                "--p-max", "5", "--min-path-km", "20", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "Chosen (p=3)" in r.output and "Covered" in r.output
    for f in ("siting.json", "marginal.png", "map.png"):
        assert (out / f).stat().st_size > 0
    doc = json.loads((out / "siting.json").read_text())
    assert doc["status"] == "optimal" and len(doc["chosen"]) == 3 and len(doc["marginal"]) == 5
    r = runner.invoke(cli_app, ["stations", "site", "--kind", "oxygen", "--p", "1", "--iterations", "20",
                                "--p-max", "2", "--out", str(tmp_path / "o2")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, ["stations", "site", "--kind", "oxygen", "--p", "0", "--iterations", "0",
                                "--out", str(tmp_path / "bad")])
    assert r.exit_code == 2 and "p=0" in r.output
    r = runner.invoke(cli_app, ["stations", "site", "--kind", "water", "--p", "1", "--out", str(tmp_path / "bad")])
    assert r.exit_code == 2 and "kind" in r.output


def test_api_siting():
    client = TestClient(app)
    r = client.post("/v1/stations/siting", json={"kind": "oxygen", "p": 2, "iterations": 20, "p_max": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "optimal" and len(body["chosen"]) == 2 and len(body["marginal"]) == 3
    assert 0 < body["covered_pct"] <= 100 and body["covered"] <= body["total"]
    r = client.post("/v1/stations/siting", json={"kind": "charger", "p": 2, "iterations": 20, "p_max": 2,
                                                  "backend": "pulp"})
    assert r.status_code == 200, r.text
    for p in (0, 999):
        r = client.post("/v1/stations/siting", json={"kind": "charger", "p": p, "iterations": 0})
        assert r.status_code == 422
        assert r.json()["code"] == "invalid_input" and r.json()["field"] == "p"
    r = client.post("/v1/stations/siting", json={"kind": "charger", "p": 2, "range_km": 0, "iterations": 0})
    assert r.status_code == 422 and r.json()["field"] == "range_km"

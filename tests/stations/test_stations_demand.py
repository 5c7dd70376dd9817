"""Station demand from a planned tour day and Lhasa siting on it (``optimizer.stations.demand``,
``optimizer.stations.siting`` builders, ``instances.stations``); every siting is verified."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from instances.stations import read_candidate_sites, read_stations
from models.siting import OPT_TOL
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import MaxRuntime, StoppingCriterion
from optimizer.stations.demand import ams_share, candidate_sites, ev_flows, oxygen_demand, road_path
from optimizer.stations.siting import (
    FlowPath,
    SitingParams,
    charger_siting_problem,
    oxygen_siting_problem,
    solve_siting,
)
from optimizer.stations.verify_siting import verify_siting
from optimizer.tours import Location, Route, TourGroup, TourPlan, TourProblem, Visit, solve


def site_oxygen(network, df, p, threshold_min=30.0, backend="cpsat", candidates=None, p_max=None):
    """Build the oxygen MCLP on the Lhasa candidates, solve p and the curve; verified."""
    cands, existing = read_candidate_sites("oxygen") if candidates is None else (candidates, frozenset())
    prob = oxygen_siting_problem(network, df["site_id"].to_list(), df["litres_day"].to_list(), p, cands, existing,
                                 threshold_min)
    pmax = p_max if p_max is not None else min(len(cands), max(prob.p, 10))
    sol = solve_siting(prob, MaxRuntime(60.0), params=SitingParams(backend=backend, p_max=pmax))
    assert verify_siting(prob, sol) == []
    return prob, sol


def site_chargers(network, flows, p, range_km=300.0, temperature_c=-5.0, backend="cpsat", candidates=None,
                  p_max=None):
    """Build the charger FRLM on the Lhasa candidates, solve p and the curve; verified."""
    cands, existing = read_candidate_sites("charger") if candidates is None else (candidates, frozenset())
    prob = charger_siting_problem(network, flows, p, cands, existing, range_km=range_km, temperature_c=temperature_c)
    pmax = p_max if p_max is not None else min(len(cands), max(prob.p, 10))
    sol = solve_siting(prob, MaxRuntime(60.0), params=SitingParams(backend=backend, p_max=pmax))
    assert verify_siting(prob, sol) == []
    return prob, sol


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
    rows = read_stations(network=lhasa_network)
    assert {r.kind for r in rows} <= {"oxygen", "charger", "both"}
    assert all(lhasa_network.has_site(r.site_id) for r in rows)
    assert all(r.provenance for r in rows)
    for kind in ("oxygen", "charger"):
        cands, existing = candidate_sites(rows, kind, lhasa_network)
        assert len(cands) >= 10 and existing <= set(cands)
        assert (cands, existing) == read_candidate_sites(kind, lhasa_network)


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
    prob, a = site_oxygen(lhasa_network, o2_df, p, threshold_min=20.0, backend="cpsat", p_max=p)
    _, b = site_oxygen(lhasa_network, o2_df, p, threshold_min=20.0, backend="pulp", p_max=p)
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective, rel=OPT_TOL)
    assert len(a.chosen) == p and 0 < 100 * a.objective / prob.total <= 100
    assert prob.total == pytest.approx(float(o2_df["litres_day"].sum()))
    assert [m.p for m in a.marginal] == list(range(1, p + 1))
    objs = [m.objective for m in a.marginal]
    assert all(x <= y + 1e-6 for x, y in itertools.pairwise(objs))  # more stations never cover less


@pytest.mark.parametrize("p", [2, 4])
def test_charger_siting_optimal_and_backends_agree(lhasa_network, flows, p):
    prob, a = site_chargers(lhasa_network, flows, p, range_km=300.0, temperature_c=-5.0, backend="cpsat")
    _, b = site_chargers(lhasa_network, flows, p, range_km=300.0, temperature_c=-5.0, backend="pulp")
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective, rel=OPT_TOL)
    assert prob.range_km < 300.0
    assert all(m.status == "optimal" for m in a.marginal)
    objs = [m.objective for m in a.marginal]
    assert all(x <= y + 1e-6 for x, y in itertools.pairwise(objs))


def test_siting_result_rechecks(lhasa_network, flows):
    """The charger siting holds for the verifier, and every path left out is named with a reason."""
    prob, res = site_chargers(lhasa_network, flows, 3, p_max=3)
    assert verify_siting(prob, res) == []
    left = {u.item_id for u in res.unserved}
    assert left == {q.id for q, c in zip(prob.paths, res.covered) if c < 1 and q.flow > 0}
    assert {u.reason for u in res.unserved} <= {"not_refuelled", "out_of_range"}


def _field(fn, *args, **kw) -> str:
    with pytest.raises(InvalidInput) as e:
        fn(*args, **kw)
    return e.value.field


def test_bad_inputs_name_the_field(lhasa_network, o2_df, flows):
    """Bad values raise InvalidInput naming the field."""
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

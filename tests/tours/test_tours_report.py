"""Tests of ``optimizer.tours.report`` (and ``api.services.tours.write_outputs``): tables, GeoJSON, the JSON document and the files written.

One small day on the embedded Lhasa network, with enough Potala demand (6,000 persons against a
daily quota of 5,000) that some must-visits are unserved for quota, one group that cannot do
anything in its half hour, and a lat/lon start. Solved once per module with a fixed iteration
budget (deterministic for the seed).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace

import polars as pl
import pytest

from api.services.tours import OUTPUT_FILES, write_outputs
from instances.loader import load_lhasa
from optimizer.core.stop import StoppingCriterion
from optimizer.tours import Location, TourGroup, TourProblem, solve, verify
from optimizer.tours.report import (
    busiest_slots,
    plan_from_dict,
    plan_to_dict,
    routes_geojson,
    site_slot_usage,
    slot_index,
    unserved_table,
    visits_table,
)

DAY = (480.0, 1140.0)


@pytest.fixture(scope="module")
def network():
    return load_lhasa()


@pytest.fixture(scope="module")
def problem(network):
    groups = [TourGroup(id=f"P{k:02d}", size=500, start=Location("potala"), end=Location("potala"),
                        day_window=DAY, must_visit=("potala",)) for k in range(12)]
    groups += [
        TourGroup(id="pt", size=17, start=Location(lat=29.6500, lon=91.1200), end=Location("jokhang"),
                  day_window=DAY, interests={"monastery": 2.0}),
        TourGroup(id="late", size=9, start=Location("gonggar_airport"), end=Location("gonggar_airport"),
                  day_window=(480.0, 510.0)),
    ]
    return TourProblem(network=network, groups=tuple(groups))


@pytest.fixture(scope="module")
def plan(problem):
    p = solve(problem, StoppingCriterion(max_iterations=20), seed=0)
    assert verify(problem, p) == []
    return p


def test_visits_table_has_one_row_per_visit(problem, plan):
    df = visits_table(problem, plan)
    assert df.height == sum(len(r.visits) for r in plan.routes)
    assert df.columns[:9] == ["group_id", "size", "seq", "site_id", "site_name", "arrival", "wait_min",
                              "start", "departure"]
    rows = df.iter_rows(named=True)
    for r in plan.routes:
        for k, v in enumerate(r.visits, start=1):
            row = next(rows)
            assert (row["group_id"], row["seq"], row["site_id"]) == (r.group_id, k, v.site_id)
            assert row["start"] == v.start and row["wait_min"] == v.wait
            assert row["slot"] == slot_index(v.start, plan.slot_min)
            assert row["start_hhmm"] == f"{int(v.start) // 60:02d}:{int(v.start) % 60:02d}"
    sizes = {g.id: g.size for g in problem.groups}
    assert all(row["size"] == sizes[row["group_id"]] for row in df.iter_rows(named=True))


def test_slot_usage_sums_to_persons(problem, plan):
    usage = site_slot_usage(problem, plan)
    visits = visits_table(problem, plan)
    assert usage["persons"].sum() == visits["size"].sum()
    assert dict(((r["site_id"], r["slot"]), r["persons"]) for r in usage.iter_rows(named=True)) \
        == plan.slot_usage(problem)
    potala = usage.filter(pl.col("site_id") == "potala")
    assert potala["slot_quota"].to_list() == [834] * potala.height
    assert (potala["persons"] <= 834).all()
    assert potala["utilisation"].to_list() == pytest.approx((potala["persons"] / 834).to_list())
    unlimited = usage.filter(pl.col("slot_quota").is_null())
    assert unlimited["utilisation"].null_count() == unlimited.height


def test_busiest_slots_are_the_fullest_quota_slots(problem, plan):
    top = busiest_slots(problem, plan, k=3)
    assert top.height == 3
    util = site_slot_usage(problem, plan)["utilisation"].drop_nulls().sort(descending=True).head(3).to_list()
    assert top["utilisation"].to_list() == util
    assert busiest_slots(problem, plan, k=0).height == 0


def test_unserved_table(problem, plan):
    df = unserved_table(plan)
    assert df.columns == ["group_id", "site_id", "reason", "detail"]
    assert df.height == len(plan.unserved)
    # 6,000 persons want the Potala (daily quota 5,000): some are refused for quota
    assert df.filter((pl.col("site_id") == "potala") & (pl.col("reason") == "quota")).height >= 1
    late = df.filter(pl.col("group_id") == "late").row(0, named=True)
    assert late["site_id"] is None and late["reason"] == "nothing_fits"


def test_geojson_structure(problem, plan):
    gj = routes_geojson(problem, plan)
    json.dumps(gj, allow_nan=False)
    assert gj["type"] == "FeatureCollection"
    lines = [f for f in gj["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in gj["features"] if f["geometry"]["type"] == "Point"]
    assert len(lines) == len(plan.routes) and len(lines) + len(points) == len(gj["features"])
    net = problem.network
    for f in gj["features"]:
        assert f["type"] == "Feature"
        coords = f["geometry"]["coordinates"]
        for lon, lat in coords if f["geometry"]["type"] == "LineString" else [coords]:
            assert 85 < lon < 95 and 28 < lat < 32  # [lon, lat] order, around Lhasa
    for f in lines:
        r = plan.route(f["properties"]["group_id"])
        assert f["properties"]["n_visits"] == len(r.visits) == len(f["geometry"]["coordinates"]) - 2
        assert f["properties"]["score"] == r.score
        site = net.site(r.visits[0].site_id)
        assert f["geometry"]["coordinates"][1] == [site.lon, site.lat]
    pt = next(f for f in lines if f["properties"]["group_id"] == "pt")
    assert pt["geometry"]["coordinates"][0] == [91.12, 29.65]
    jokhang = net.site("jokhang")
    assert pt["geometry"]["coordinates"][-1] == [jokhang.lon, jokhang.lat]
    sizes = {g.id: g.size for g in problem.groups}
    assert sum(f["properties"]["visitors"] for f in points) == sum(
        sizes[r.group_id] * len(r.visits) for r in plan.routes)
    assert {f["properties"]["site_id"] for f in points} == {v.site_id for r in plan.routes for v in r.visits}


def test_plan_dict_round_trip(problem, plan):
    d = json.loads(json.dumps(plan_to_dict(problem, plan), allow_nan=False))
    assert {"routes", "unserved", "kpis", "seed", "iterations", "runtime_s"} <= set(d)
    assert d["iterations"] == plan.stats.iterations == 20
    back = plan_from_dict(d)
    assert back == plan
    assert verify(problem, back) == []


def test_nonfinite_numbers_survive_json_as_violations(problem, plan):
    r = plan.routes[0]
    broken = replace(plan, routes=(replace(r, score=math.nan),) + plan.routes[1:])
    d = plan_to_dict(problem, broken)
    assert d["routes"][0]["score"] is None
    back = plan_from_dict(json.loads(json.dumps(d, allow_nan=False)))
    assert any(v.kind == "nonfinite" for v in verify(problem, back))


def test_write_outputs(problem, plan, tmp_path):
    out = tmp_path / "nested" / "out"
    paths = write_outputs(problem, plan, out)
    assert set(paths) == set(OUTPUT_FILES)
    assert all(p.parent == out and p.is_file() for p in paths.values())
    with paths["visits.csv"].open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == sum(len(r.visits) for r in plan.routes)
    usage = pl.read_csv(paths["site_slot_usage.csv"])
    assert usage["persons"].sum() == sum(int(row["size"]) for row in rows)
    doc = json.loads(paths["plan.json"].read_text())
    assert plan_from_dict(doc) == plan
    gj = json.loads(paths["routes.geojson"].read_text())
    assert gj["type"] == "FeatureCollection"


def test_empty_plan(network, tmp_path):
    problem = TourProblem(network=network, groups=())
    plan = solve(problem, StoppingCriterion(max_iterations=5))
    assert visits_table(problem, plan).height == 0
    assert site_slot_usage(problem, plan).height == 0
    assert routes_geojson(problem, plan) == {"type": "FeatureCollection", "features": []}
    paths = write_outputs(problem, plan, tmp_path)
    assert json.loads(paths["plan.json"].read_text())["routes"] == []

"""Scenario files (``optimizer.scenarios.spec``), their application to the Lhasa network (``apply``), and the
run through the service (``api.services.scenarios``: runner, outputs and report)."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import polars as pl
import pytest

from api.services.scenarios import run_file, run_set
from instances.demand_generator import PROFILES, generate_demand
from instances.loader import load_lhasa
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion
from optimizer.scenarios import apply, load_scenarios, parse_scenarios, scale_groups, slugify
from optimizer.tours import solve, verify

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "scenarios" / "peak_season.toml"


@pytest.fixture(scope="module")
def net():
    return load_lhasa()


@pytest.fixture(scope="module")
def groups(net):
    return generate_demand(net, n_groups=40, seed=3, profile="peak")


def parse(text: str, net) -> object:
    return parse_scenarios(tomllib.loads(text), net, PROFILES)


def one(text: str, net):
    return parse(text, net).scenarios[0]


# --------------------------------------------------------------------------------------------
# parsing


def test_sample_file_parses_and_sweep_expands(net):
    s = load_scenarios(SAMPLE, net, PROFILES)
    names = [x.name for x in s.scenarios]
    assert names[:4] == ["peak x1", "peak x1.5", "peak x2", "peak x3"]
    assert [x.demand_scale for x in s.scenarios[:4]] == [1.0, 1.5, 2.0, 3.0]
    assert {x.family for x in s.scenarios[:4]} == {"peak"}
    assert s.scenarios[1].slug == "peak-x1-5"
    assert len({x.slug for x in s.scenarios}) == len(s.scenarios)
    assert s.base.demand.profile == "peak" and s.base.demand.groups == 320 and s.base.demand.seed == 2026
    by = {x.name: x for x in s.scenarios}
    q = by["potala 6500 x2"].quota_changes["potala"]
    assert (q.daily, q.slot) == (6500, 1084)
    assert by["namtso road closed"].closed_roads == (("damxung_town", "nagenla"),)
    assert by["new 4A site"].added_sites[0].site.rating == "4A"
    assert "lhalu_wetland" in by["R1 ring promoted"].zone_edits["R1"]


def test_no_scenarios_gives_the_base(net):
    s = parse("[base]\niterations = 10\n", net)
    assert [x.name for x in s.scenarios] == ["base"] and s.scenarios[0].iterations == 10


def test_scenario_inherits_and_overrides_base(net):
    s = parse('[base]\nseed = 4\niterations = 50\n[base.demand]\ngroups = 12\n'
              '[[scenario]]\nname = "a"\n[[scenario]]\nname = "b"\nseed = 9\ndemand = { groups = 7 }\n', net)
    a, b = s.scenarios
    assert (a.seed, a.iterations, a.demand.groups) == (4, 50, 12)
    assert (b.seed, b.iterations, b.demand.groups, b.demand.profile) == (9, 50, 7, "peak")


BAD = [
    ('[[scenario]]\nname = "s"\nbogus = 1\n', "scenario[s].bogus"),
    ('[base]\nseeed = 1\n', "base.seeed"),
    ('[base]\niterations = -5\n', "base.iterations"),
    ('[base]\niterations = "many"\n', "base.iterations"),
    ('[base]\nnetwork = "paris"\n', "base.network"),
    ('[base.demand]\nprofile = "winter"\n', "base.demand.profile"),
    ('[base.demand]\nfile = "nope.csv"\n', "base.demand.file"),
    ('[extra]\nx = 1\n', "file.extra"),
    ('[[scenario]]\nseed = 1\n', "scenario[#1].name"),
    ('[[scenario]]\nname = "s"\ndemand_scale = -1\n', "scenario[s].demand_scale"),
    ('[[scenario]]\nname = "s"\ndemand_scale = [1, "x"]\n', "scenario[s].demand_scale[1]"),
    ('[[scenario]]\nname = "s"\ndemand_scale = []\n', "scenario[s].demand_scale"),
    ('[[scenario]]\nname = "s"\nclosed_sites = ["atlantis"]\n', "scenario[s].closed_sites[0]"),
    ('[[scenario]]\nname = "s"\nclosed_sites = ["lhasa_railway"]\n', "scenario[s].closed_sites"),
    ('[[scenario]]\nname = "s"\nclosed_sites = "potala"\n', "scenario[s].closed_sites"),
    ('[[scenario]]\nname = "s"\nclosed_roads = [["potala", "namtso_tashi"]]\n', "scenario[s].closed_roads[0]"),
    ('[[scenario]]\nname = "s"\nclosed_roads = [["potala"]]\n', "scenario[s].closed_roads[0]"),
    ('[[scenario]]\nname = "s"\nclosed_roads = [["potala", "nowhere"]]\n', "scenario[s].closed_roads[0][1]"),
    ('[[scenario]]\nname = "s"\n[scenario.quota.potala]\ndaily = -1\n', "scenario[s].quota.potala.daily"),
    ('[[scenario]]\nname = "s"\n[scenario.quota.potala]\nslot = 1.5\n', "scenario[s].quota.potala.slot"),
    ('[[scenario]]\nname = "s"\n[scenario.quota.potala]\nhourly = 5\n', "scenario[s].quota.potala.hourly"),
    ('[[scenario]]\nname = "s"\n[scenario.quota.louvre]\ndaily = 5\n', "scenario[s].quota.louvre"),
    ('[[scenario]]\nname = "s"\n[[scenario.road_speed]]\na = "potala"\nb = "jokhang"\nfactor = 0\n',
     "scenario[s].road_speed[0].factor"),
    ('[[scenario]]\nname = "s"\n[[scenario.road_speed]]\na = "potala"\nfactor = 2\n', "scenario[s].road_speed[0].b"),
    ('[[scenario]]\nname = "s"\n[scenario.zones]\nR1 = ["potala", "mars"]\n', "scenario[s].zones.R1[1]"),
    ('[[scenario]]\nname = "s"\n[scenario.zones]\nR1 = "potala"\n', "scenario[s].zones.R1"),
    ('[[scenario]]\nname = "s"\n[[scenario.add_site]]\nid = "potala"\n', "scenario[s].add_site[0].name_en"),
    (('[[scenario]]\nname = "s"\n[[scenario.add_site]]\nid = "x"\nname_en = "X"\nlat = 99\nlon = 91\n'
     'kind = "park"\nrating = "4A"\nscore = 1\nvisit_min = 10\nopen = "09:00"\nclose = "18:00"\n'
     'roads = [{ to = "potala", length_km = 1, speed_kmh = 10 }]\n'), "scenario[s].add_site[0].lat"),
    (('[[scenario]]\nname = "s"\n[[scenario.add_site]]\nid = "x"\nname_en = "X"\nlat = 29.6\nlon = 91\n'
     'kind = "park"\nrating = "4A"\nscore = 1\nvisit_min = 10\nopen = "9am"\nclose = "18:00"\n'
     'roads = [{ to = "potala", length_km = 1, speed_kmh = 10 }]\n'), "scenario[s].add_site[0].open"),
    (('[[scenario]]\nname = "s"\n[[scenario.add_site]]\nid = "x"\nname_en = "X"\nlat = 29.6\nlon = 91\n'
     'kind = "park"\nrating = "4A"\nscore = 1\nvisit_min = 10\nopen = "09:00"\nclose = "18:00"\n'
     'roads = [{ to = "gotham", length_km = 1, speed_kmh = 10 }]\n'), "scenario[s].add_site[0].roads[0].to"),
    ('[[scenario]]\nname = "s"\n[[scenario]]\nname = "s"\n', "scenario[s].name"),
    ('[[scenario]]\nname = "p"\ndemand_scale = [1, 2]\n[[scenario]]\nname = "p x2"\n', "scenario[p x2].name"),
]


@pytest.mark.parametrize("text,key", BAD, ids=[k for _, k in BAD])
def test_bad_files_name_the_key(net, text, key):
    with pytest.raises(InvalidInput) as e:
        parse(text, net)
    assert e.value.field == key, str(e.value)
    assert key in str(e.value)


def test_bad_toml_and_missing_file(tmp_path, net):
    p = tmp_path / "bad.toml"
    p.write_text("[base\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        load_scenarios(p, net, PROFILES)
    with pytest.raises(InvalidInput, match="file not found"):
        load_scenarios(tmp_path / "none.toml", net, PROFILES)
    with pytest.raises(InvalidInput) as e:
        run_file(p, tmp_path / "out", jobs=1)
    assert e.value.field == "file"


def test_demand_file_relative_to_the_toml(tmp_path, net):
    from instances.demand import write_demand
    write_demand(generate_demand(net, 5, seed=1), tmp_path / "day.csv")
    p = tmp_path / "s.toml"
    p.write_text('[base.demand]\nfile = "day.csv"\n', encoding="utf-8")
    s = load_scenarios(p, net, PROFILES)
    assert s.base.demand.file == tmp_path / "day.csv"


def test_slugify():
    assert slugify("Peak x1.5") == "peak-x1-5"
    assert slugify("那根拉") == "scenario"


# --------------------------------------------------------------------------------------------
# apply


def test_scale_groups_replicates_with_unique_ids(groups):
    g = groups[:10]
    assert scale_groups(g, 1.0, 0) == tuple(g)
    s = scale_groups(g, 2.5, 7)
    ids = [x.id for x in s]
    assert len(s) == 25 and len(set(ids)) == 25
    assert f"{g[0].id}#2" in ids and sum(i.endswith("#3") for i in ids) == 5
    assert scale_groups(g, 2.5, 7) == s
    assert len(scale_groups(g, 0.5, 1)) == 5 and scale_groups(g, 0, 1) == ()


def _solve(problem, seed=1):
    return solve(problem, StoppingCriterion(max_iterations=200), seed=seed)


def test_closed_site_gets_no_visits_and_closed_must_visits_are_reported(net, groups):
    sc = one('[[scenario]]\nname = "c"\nclosed_sites = ["potala"]\n', net)
    applied = apply(sc, net, groups)
    p = applied.problem
    assert p.network.site("potala").score == 0 and p.network.has_site("potala")
    n_must = sum("potala" in g.must_visit for g in groups)
    assert n_must > 0
    assert len(applied.dropped) == n_must and {u.reason for u in applied.dropped} == {"closed"}
    assert all("potala" not in g.must_visit for g in p.groups)
    plan = _solve(p)
    assert verify(p, plan) == []
    assert all(v.site_id != "potala" for r in plan.routes for v in r.visits)


def test_closed_site_via_runner_reports_reason_closed(tmp_path, net):
    s = parse('[base]\niterations = 100\n[base.demand]\ngroups = 30\nseed = 3\n'
              '[[scenario]]\nname = "closed"\nclosed_sites = ["potala"]\n', net)
    k = run_set(s, tmp_path, jobs=1).kpis
    row = k.row(0, named=True)
    assert row["unserved_closed"] > 0 and row["violations"] == 0
    un = pl.read_csv(tmp_path / "closed" / "unserved.csv")
    assert un.filter(pl.col("reason") == "closed")["site_id"].unique().to_list() == ["potala"]
    # a group that lost a must-visit to the closure is not counted as served
    assert row["groups_served"] <= row["groups"] - un.filter(pl.col("reason") == "closed")["group_id"].n_unique()


def test_quota_change_is_respected_by_the_verifier(net, groups):
    sc = one('[[scenario]]\nname = "q"\ndemand_scale = 3\n[scenario.quota.potala]\ndaily = 300\nslot = 100\n'
             '[scenario.quota.jokhang]\nslot = 150\n', net)
    p = apply(sc, net, groups).problem
    pot = p.network.site("potala")
    assert (pot.daily_quota, pot.slot_quota) == (300, 100)
    assert p.network.site("jokhang").slot_quota == 150 and p.network.site("jokhang").daily_quota is None
    plan = _solve(p)
    assert verify(p, plan) == []
    usage = plan.slot_usage(p)
    assert sum(v for (s, _), v in usage.items() if s == "potala") <= 300
    assert max(v for (s, _), v in usage.items() if s == "potala") <= 100
    assert any(u.reason == "quota" and u.site_id == "potala" for u in plan.unserved)
    none = one('[[scenario]]\nname = "q"\n[scenario.quota.potala]\ndaily = "none"\n', net)
    assert apply(none, net, ()).problem.network.site("potala").daily_quota is None


def test_closed_road_and_speed_factor_change_travel_times(net):
    i, j = net.index("damxung_town"), net.index("namtso_tashi")
    assert math.isfinite(net.travel_min[i, j])
    sc = one('[[scenario]]\nname = "r"\nclosed_roads = [["damxung_town", "nagenla"]]\n'
             '[[scenario.road_speed]]\na = "potala"\nb = "jokhang"\nfactor = 0.25\n', net)
    n2 = apply(sc, net, ()).problem.network
    assert math.isinf(n2.travel_min[i, j]) and math.isinf(n2.travel_min[net.index("potala"), j])
    a, b = net.index("potala"), net.index("jokhang")
    assert n2.travel_min[a, b] > net.travel_min[a, b]
    assert n2.travel_min[a, b] <= 4 * net.travel_min[a, b] + 1e-9
    assert len(n2.roads) == len(net.roads) - 1


def test_closed_road_makes_must_visit_unreachable(tmp_path, net):
    s = parse('[base]\niterations = 100\n[base.demand]\ngroups = 40\nseed = 3\n'
              '[[scenario]]\nname = "namtso"\nclosed_roads = [["damxung_town", "nagenla"]]\n', net)
    row = run_set(s, tmp_path, jobs=1).kpis.row(0, named=True)
    n_namtso = sum("namtso_tashi" in g.must_visit for g in generate_demand(net, 40, seed=3))
    assert n_namtso > 0 and row["unserved_unreachable"] == n_namtso and row["violations"] == 0


ADD = ('[[scenario]]\nname = "new"\n[[scenario.add_site]]\nid = "new_park"\nname_en = "New park"\n'
       'lat = 29.622\nlon = 91.14\nkind = "park"\nrating = "4A"\nscore = 500\nvisit_min = 60\n'
       'open = "08:00"\nclose = "19:00"\nslot_quota = 40\n'
       'roads = [{ to = "nanshan_park", length_km = 3, speed_kmh = 30 }]\n')


def test_added_site_is_reachable_and_visited(net, groups):
    sc = one(ADD, net)
    p = apply(sc, net, groups).problem
    n2 = p.network
    k = n2.index("new_park")
    assert n2.n == net.n + 1
    assert n2.travel_min[k, n2.index("nanshan_park")] == pytest.approx(6.0)
    assert math.isfinite(n2.travel_min[k, n2.index("potala")])
    plan = _solve(p)
    assert verify(p, plan) == []
    assert any(v.site_id == "new_park" for r in plan.routes for v in r.visits)


def test_zone_edit_drops_must_visits_outside_the_new_zone(net):
    gs = generate_demand(net, 200, seed=5)
    zoned = [g for g in gs if g.zone == "C1" and any(s != "potala" for s in g.must_visit)]
    assert zoned
    sc = one('[[scenario]]\nname = "z"\n[scenario.zones]\nC1 = ["potala"]\n', net)
    applied = apply(sc, net, gs)
    assert applied.problem.network.zones["C1"] == ("potala",)
    assert {u.reason for u in applied.dropped} == {"zone"}
    assert {u.group_id for u in applied.dropped} == {g.id for g in zoned}


# --------------------------------------------------------------------------------------------
# runner and report

def test_run_scenarios_jobs_1_and_2_agree_and_write_files(tmp_path, tiny_scenario_file):
    sset = load_scenarios(tiny_scenario_file(iterations=200, groups=40), load_lhasa(), PROFILES)
    r1 = run_set(sset, tmp_path / "a", jobs=1)
    r2 = run_set(sset, tmp_path / "b", jobs=2)
    assert r1.violations == () and r2.violations == ()
    k1, k2 = r1.kpis, r2.kpis
    drop = ["runtime_s"]
    assert k1.drop(drop).equals(k2.drop(drop))
    assert k1["scenario"].to_list() == ["tiny x1", "tiny x2", "potala small"]
    assert k1["violations"].to_list() == [0, 0, 0]
    assert k1["groups"].to_list() == [40, 80, 40]
    row = k1.row(2, named=True)
    assert row["unserved_quota"] > 0 and row["peak_util_potala"] <= 1.0
    out = tmp_path / "a"
    for slug in ("tiny-x1", "tiny-x2", "potala-small"):
        for name in ("kpis.json", "site_slot_usage.parquet", "site_slot_usage.csv", "unserved.csv"):
            assert (out / slug / name).exists(), (slug, name)
    assert json.loads((out / "tiny-x1" / "kpis.json").read_text())["groups"] == 40
    for name in ("kpis.parquet", "kpis.csv", "unserved_by_site.csv", "max_scale_95.csv"):
        assert (out / name).exists()
    assert pl.read_parquet(out / "kpis.parquet").height == 3
    m95 = pl.read_csv(out / "max_scale_95.csv")
    assert set(m95.columns) >= {"family", "site_id", "max_scale_95"}
    pot = m95.filter((pl.col("family") == "potala small") & (pl.col("site_id") == "potala"))
    assert pot["max_scale_95"].to_list() == [None]  # quota 200/day cannot serve 95 % of the Potala groups

    html = out / "report.html"
    text = html.read_text(encoding="utf-8")
    assert html.name == "report.html" and text.count("<svg") == 6
    assert "data:image/png;base64," in text and "<script" not in text and "http" not in text.replace(
        "http://www.w3.org/2000/svg", "")
    for slug in ("tiny-x1", "tiny-x2", "potala-small"):
        assert (out / f"heatmap_{slug}.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "unserved_by_site.png").read_bytes()[:4] == b"\x89PNG"


def test_scenarios_cli_writes_report(tmp_path):
    f = tmp_path / "one.toml"
    f.write_text('[base]\niterations = 50\n[base.demand]\ngroups = 15\n', encoding="utf-8")
    k = run_file(f, tmp_path / "out", jobs=1).kpis
    assert k.height == 1 and k["violations"][0] == 0
    assert (tmp_path / "out" / "report.html").exists()
    assert (tmp_path / "out" / "heatmap_base.png").exists()


def test_jobs_must_be_positive(tmp_path, net):
    with pytest.raises(InvalidInput) as e:
        run_set(parse("", net), tmp_path, jobs=0)
    assert e.value.field == "jobs"


def test_date_picks_the_season_profile():
    """A demand date in the peak-price season (May-Oct) gives the peak profile, otherwise shoulder."""
    from optimizer.scenarios.spec import season_profile

    assert season_profile("2026-08-15", "d") == "peak"
    assert season_profile("2026-01-10", "d") == "shoulder"
    with pytest.raises(InvalidInput, match="d"):
        season_profile("15/08/2026", "d")


def test_demand_date_in_a_file_sets_the_profile(net):
    """`date` in [base.demand] replaces `profile`; giving both is an error naming `date`."""
    doc = {"base": {"demand": {"date": "2026-12-01", "groups": 10}}, "scenario": [{"name": "s"}]}
    sset = parse_scenarios(doc, net, PROFILES)
    assert sset.scenarios[0].demand.profile == "shoulder"
    doc["base"]["demand"]["profile"] = "peak"
    with pytest.raises(InvalidInput, match="date"):
        parse_scenarios(doc, net, PROFILES)

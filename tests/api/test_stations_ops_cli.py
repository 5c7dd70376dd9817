"""CLI: ``lhasa-ops stations charge`` and ``stations oxygen`` on the demo day, on ``--plan`` (the
``plan.json`` of ``lhasa-ops plan``), on ``--demand`` and (oxygen) on ``--siting``; outputs, the
verifier's verdict, and exit code 2 naming the field for bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli.main import app

DEMAND = "instances/lhasa/demand_example.json"


def run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def plan_json(tmp_path_factory):
    """A plan.json written by ``lhasa-ops plan`` on the example demand."""
    out = tmp_path_factory.mktemp("plan")
    res = run("plan", "--demand", DEMAND, "--iterations", "200", "--out", str(out))
    assert res.exit_code == 0, res.output
    return out / "plan.json"


def test_cli_charge_writes_outputs(tmp_path):
    res = run("stations", "charge", "--iterations", "50", "--max-vehicles", "8", "--time-limit", "10",
              "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert "Verifier         ok" in res.output and "Tour plan        demo day" in res.output
    for f in ("charging.json", "soc.png", "station_load.png"):
        assert (tmp_path / f).is_file()
    bad = run("stations", "charge", "--chargers", "0", "--iterations", "10", "--out", str(tmp_path))
    assert bad.exit_code == 2


def test_cli_charge_delay_options(tmp_path):
    res = run("stations", "charge", "--iterations", "50", "--max-vehicles", "8", "--time-limit", "10",
              "--max-delay-min", "30", "--lateness-cny-per-min", "2", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert "Lateness" in res.output and "max delay 30 min" in res.output and "Verifier         ok" in res.output
    doc = json.loads((tmp_path / "charging.json").read_text())
    assert doc["params"]["max_delay_min"] == 30 and doc["params"]["lateness_cny_per_min"] == 2.0
    assert doc["lateness_cost_cny"] == pytest.approx(2.0 * doc["lateness_min_total"])
    bad = run("stations", "charge", "--iterations", "10", "--max-delay-min", "-15", "--out", str(tmp_path))
    assert bad.exit_code == 2 and "max_delay_min" in bad.output


@pytest.mark.parametrize("args, field", [
    (["stations", "charge", "--grid-kw", "1e20"], "grid_kw"),
    (["stations", "charge", "--time-limit", "nan"], "time_limit"),
    (["stations", "charge", "--max-vehicles", "0"], "max_vehicles"),
    (["stations", "oxygen", "--time-limit", "nan"], "time_limit"),
    (["stations", "oxygen", "--time-limit", "-1"], "time_limit"),
    (["stations", "oxygen", "--method", "fast"], "method"),
    (["stations", "oxygen", "--safety-days", "-1"], "safety_days"),
    # fresh-user trial: these ran (exit 0); the CLI now shares the HTTP bounds
    (["stations", "oxygen", "--safety-days", "1e9"], "safety_days=1000000000.0"),
    (["stations", "oxygen", "--lookahead", "-100"], "lookahead=-100"),
    (["stations", "oxygen", "--lookahead", "100"], "lookahead=100"),
    (["stations", "oxygen", "--trucks", "0"], "trucks=0"),
    (["stations", "oxygen", "--shift-min", "1e9"], "shift_min"),
    (["stations", "charge", "--tariff", "0-8:0.35,10-24:0.7"], "tariff='10-24:0.7'"),
    (["stations", "charge", "--tariff", "0-12:1,6-24:2"], "tariff='6-24:2'"),
    (["stations", "charge", "--tariff", "0-24:1e300"], "tariff='0-24:1e300'"),
])
def test_cli_station_ops_bad_numbers_exit_2_naming_the_field(tmp_path, args, field):
    """Found by a fresh-user trial: a huge grid cap crashed (int overflow), NaN time limits ran, and a
    zero fleet size was blamed on another option. Each now stops with exit 2 naming its field."""
    res = run(*args, "--iterations", "10", "--out", str(tmp_path))
    assert res.exit_code == 2, res.output
    assert field in res.output and "Traceback" not in res.output


def test_cli_oxygen_writes_outputs(tmp_path):
    res = run("stations", "oxygen", "--iterations", "50", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert "Verifier         ok" in res.output and "Min stock margin" in res.output
    assert (tmp_path / "oxygen.json").is_file() and (tmp_path / "stock.png").is_file()
    doc = json.loads((tmp_path / "oxygen.json").read_text())
    assert doc["min_margin_cylinders"] > 0 and doc["safety_breaches"] == []


def test_charge_on_a_saved_plan(plan_json, tmp_path):
    """The coaches of the saved plan (example demand), not of the demo day."""
    res = run("stations", "charge", "--plan", str(plan_json), "--time-limit", "20", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert f"Tour plan        plan {plan_json}" in res.output and "Verifier         ok" in res.output
    doc = json.loads((tmp_path / "charging.json").read_text())
    plan = json.loads(plan_json.read_text())
    sizes = {g["group_id"]: g["size"] for g in plan["groups"]}
    assert {v["group"] for v in doc["vehicles"]} <= {g for g, s in sizes.items() if s >= 20}
    assert doc["verifier"] == []


def test_charge_on_a_demand_file(tmp_path):
    res = run("stations", "charge", "--demand", DEMAND, "--iterations", "100", "--time-limit", "20",
              "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert f"Tour plan        demand {DEMAND}" in res.output and "Verifier         ok" in res.output


def test_two_plan_sources_exit_2(plan_json, tmp_path):
    res = run("stations", "oxygen", "--plan", str(plan_json), "--demand", DEMAND, "--out", str(tmp_path))
    assert res.exit_code == 2 and "plan source" in res.output
    res = run("stations", "charge", "--plan", str(tmp_path / "missing.json"), "--out", str(tmp_path))
    assert res.exit_code == 2 and "plan" in res.output


def test_oxygen_on_a_hand_written_siting(tmp_path):
    """Exactly the stations of the siting, each with the demand of the sites it covers (the siting's
    own demand: no tour plan is made); a bad siting file exits 2 naming the key."""
    siting = {"kind": "oxygen", "chosen": ["potala", "drepung"],
              "detail": [{"site_id": "potala", "litres_day": 30000.0}, {"site_id": "jokhang", "litres_day": 12000.0},
                         {"site_id": "drepung", "litres_day": 9000.0}],
              "params": {"threshold_min": 30.0}}
    f = tmp_path / "siting.json"
    f.write_text(json.dumps(siting))
    res = run("stations", "oxygen", "--siting", str(f), "--out", str(tmp_path / "o"))
    assert res.exit_code == 0, res.output
    assert "Tour plan" not in res.output and "Verifier         ok" in res.output
    doc = json.loads((tmp_path / "o" / "oxygen.json").read_text())
    by = {s["station"]: s for s in doc["stations"]}
    assert set(by) == {"potala", "drepung"} and sorted(by["potala"]["sites"]) == ["jokhang", "potala"]
    assert by["potala"]["litres_day"] == pytest.approx(42000.0) and doc["method"] == "exact"
    f.write_text(json.dumps(dict(siting, kind="charger")))
    bad = run("stations", "oxygen", "--siting", str(f), "--out", str(tmp_path / "o"))
    assert bad.exit_code == 2 and "siting.kind" in bad.output


def test_oxygen_on_the_siting_of_stations_site(tmp_path):
    """End to end: ``stations site --kind oxygen --p 3`` then ``stations oxygen --siting``: the plan
    supplies exactly the chosen stations."""
    out = tmp_path / "stations"
    res = run("stations", "site", "--kind", "oxygen", "--p", "3", "--iterations", "100", "--out", str(out))
    assert res.exit_code == 0, res.output
    chosen = json.loads((out / "siting.json").read_text())["chosen"]
    res = run("stations", "oxygen", "--siting", str(out / "siting.json"), "--out", str(tmp_path / "o"))
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "o" / "oxygen.json").read_text())
    assert {s["station"] for s in doc["stations"]} <= set(chosen) and len(doc["stations"]) >= 1
    assert doc["verifier"] == [] and doc["stations_from"] == str(out / "siting.json")


def test_siting_file_with_a_bom_or_inconsistent_stations(tmp_path):
    """Found by a fresh-user trial: a siting.json saved with a UTF-8 BOM was rejected, and one whose
    ``stations`` named a station not in ``chosen`` was accepted silently."""
    import json

    from api.services.station_ops import read_siting
    from api.services.tours import lhasa_network
    from optimizer.core.errors import InvalidInput

    net = lhasa_network()
    doc = {"kind": "oxygen", "chosen": ["potala", "nagenla"],
           "stations": [{"site_id": "potala"}, {"site_id": "nagenla"}],
           "detail": [{"site_id": "potala", "litres_day": 10.0}], "params": {"threshold_min": 30}}
    path = tmp_path / "siting.json"
    path.write_text("\ufeff" + json.dumps(doc), encoding="utf-8")
    assert read_siting(path, net).stations == ("potala", "nagenla")
    doc["stations"][0]["site_id"] = "atlantis"
    with pytest.raises(InvalidInput) as e:
        read_siting(doc, net)
    assert e.value.field == "siting.stations"
    doc["stations"][0]["site_id"] = "potala"
    doc["chosen"] = ["potala", "potala"]
    with pytest.raises(InvalidInput) as e:
        read_siting(doc, net)
    assert e.value.field == "siting.chosen[1]"


def test_cli_charge_summary_leads_with_stranded_coaches_in_clock_times(tmp_path):
    """Issue 14 case 8: 'feasible, gap 0.00%' above 7 stranded coaches, '564.7 kWh below floor' with a
    350 kWh battery, and 'slot 48' instead of a clock time."""
    import re

    res = run("stations", "charge", "--time-limit", "20", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    status = next(ln for ln in lines if ln.startswith("Status"))
    doc = json.loads((tmp_path / "charging.json").read_text())
    c = doc["coaches"]
    assert c["stranded"] == len(doc["unserved"]) and c["served"] + c["stranded"] == c["total"]
    if c["stranded"]:
        assert f"feasible for {c['served']} of {c['total']} coaches; {c['stranded']} stranded" in status
    assert lines.index(status) < next(k for k, ln in enumerate(lines) if ln.startswith("Solver"))
    assert not re.search(r"slot \d", res.output)
    for u in doc["unserved"]:
        assert 0 <= u["short_kwh"] <= 0.2 * 350 + 1e-6  # at most the reserve of a 350 kWh battery, floor 0.2
        for k in ("below_floor_at", "empty_at"):
            assert u[k] is None or re.fullmatch(r"\d\d:\d\d", u[k])
    for m in re.finditer(r"([\d.]+) kWh reserve used up", res.output):
        assert float(m.group(1)) <= 70.0 + 1e-6

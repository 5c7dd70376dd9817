"""Tests of the ``lhasa-ops`` command line (``api.cli.main``) with typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from optimizer.report import OUTPUT_FILES

HEADER = "group_id,size,start,end,day_start,day_end,must_visit,interests,zone\n"
GOOD_ROWS = (
    "A,20,potala,potala,08:00,19:00,jokhang,monastery:1.5,\n"
    "B,35,barkhor,jokhang,09:00,18:00,,,\n"
    "C,12,lhasa_railway,lhasa_railway,08:30,18:30,norbulingka;sera,,\n"
)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write(tmp_path, name: str, text: str):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_plan_writes_outputs_and_reports_no_violations(runner, tmp_path):
    demand = write(tmp_path, "small.csv", HEADER + GOOD_ROWS)
    out = tmp_path / "out"
    res = runner.invoke(app, ["plan", "--demand", str(demand), "--iterations", "20", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for name in OUTPUT_FILES:
        assert (out / name).is_file()
    text = res.stdout
    assert "0 violations" in text
    assert "Groups served" in text and "/ 3 (" in text
    assert "Busiest slots" in text
    assert "20 iterations" in text
    assert len(text.strip().splitlines()) <= 25
    doc = json.loads((out / "plan.json").read_text())
    assert doc["iterations"] == 20 and len(doc["routes"]) == 3


def test_plan_bad_row_exits_2_naming_row_and_field(runner, tmp_path):
    demand = write(tmp_path, "bad.csv", HEADER + "A,20,potala,potala,08:00,19:00,jokhang,,\n"
                                                  "B,35,barkhor,jokhang,09:00,18:00,nowhere,,\n")
    out = tmp_path / "o"
    res = runner.invoke(app, ["plan", "--demand", str(demand), "--iterations", "5", "--out", str(out)])
    assert res.exit_code == 2
    err = res.stderr
    assert err.startswith("error: ")
    assert "row 2" in err and "must_visit" in err and "nowhere" in err
    assert "Traceback" not in res.output
    assert not out.exists()


@pytest.mark.parametrize("args", [
    ["--time-limit", "-1"],
    ["--time-limit", "0"],
    ["--iterations", "-5"],
    ["--seed", "-1"],
])
def test_plan_bad_option_values_exit_2(runner, tmp_path, args):
    res = runner.invoke(app, ["plan", *args, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert res.stderr.startswith("error: ")
    assert "Traceback" not in res.output


def test_plan_missing_file_exits_2(runner, tmp_path):
    res = runner.invoke(app, ["plan", "--demand", str(tmp_path / "nope.csv"), "--iterations", "5"])
    assert res.exit_code == 2
    assert "file not found" in res.stderr


def test_plan_out_is_a_file_exits_2(runner, tmp_path):
    demand = write(tmp_path, "small.csv", HEADER + GOOD_ROWS)
    blocker = write(tmp_path, "blocker", "")
    res = runner.invoke(app, ["plan", "--demand", str(demand), "--iterations", "5", "--out", str(blocker)])
    assert res.exit_code == 2
    assert "not a directory" in res.stderr


def test_sites_lists_the_network(runner):
    res = runner.invoke(app, ["sites"])
    assert res.exit_code == 0, res.output
    assert "potala" in res.stdout and "Potala Palace" in res.stdout and "5,000/834" in res.stdout


SMALL_SCENARIOS = """
[base]
seed = 1
iterations = 50
[base.demand]
profile = "peak"
groups = 30
seed = 7

[[scenario]]
name = "peak"
demand_scale = [1, 2]
"""


def test_scenarios_run_writes_report(runner, tmp_path):
    """`scenarios run` runs a sweep and writes the KPI table and the HTML report."""
    f = tmp_path / "s.toml"
    f.write_text(SMALL_SCENARIOS, encoding="utf-8")
    res = runner.invoke(app, ["scenarios", "run", str(f), "--out", str(tmp_path / "out"), "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert "peak x2" in res.output
    assert (tmp_path / "out" / "report.html").is_file() and (tmp_path / "out" / "kpis.csv").is_file()


def test_scenarios_bad_key_exits_2_naming_it(runner, tmp_path):
    """A typo in a scenario file is an error naming the key, exit code 2, no traceback."""
    f = tmp_path / "bad.toml"
    f.write_text(SMALL_SCENARIOS.replace("demand_scale", "demand_scael"), encoding="utf-8")
    res = runner.invoke(app, ["scenarios", "run", str(f), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "demand_scael" in res.output and "Traceback" not in res.output

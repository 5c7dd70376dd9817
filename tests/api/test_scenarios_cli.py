"""Tests of ``lhasa-ops scenarios run`` (``api.cli.scenarios``, registered in ``api.cli.main``) with typer's
CliRunner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli.main import app


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


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


def test_scenarios_run_prints_the_verifier_verdict_and_writes_every_scenario(runner, tmp_path):
    """The run ends with the family verifier's verdict; every scenario has its folder and KPI row."""
    f = tmp_path / "s.toml"
    f.write_text(SMALL_SCENARIOS, encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["scenarios", "run", str(f), "--out", str(out), "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert "Verifier         ok (0 violations)" in res.output
    meta = json.loads((out / "scenarios.json").read_text(encoding="utf-8"))
    assert [m["name"] for m in meta] == ["peak x1", "peak x2"]
    for slug in ("peak-x1", "peak-x2"):
        assert json.loads((out / slug / "kpis.json").read_text(encoding="utf-8"))["violations"] == 0


def test_scenarios_run_rejects_bad_options(runner, tmp_path):
    """--jobs 0 and an --out that is a file are bad input (exit 2, the option named)."""
    f = tmp_path / "s.toml"
    f.write_text(SMALL_SCENARIOS, encoding="utf-8")
    res = runner.invoke(app, ["scenarios", "run", str(f), "--jobs", "0"])
    assert res.exit_code == 2 and "--jobs" in res.output
    (tmp_path / "file").write_text("x", encoding="utf-8")
    res = runner.invoke(app, ["scenarios", "run", str(f), "--out", str(tmp_path / "file")])
    assert res.exit_code == 2 and "--out" in res.output


@pytest.mark.parametrize(("demand", "scale", "key", "value"), [
    ("groups = 20", "1e9", "scenario[huge].demand_scale", "20000000000"),
    ('file = "groups.csv"', "300000", "scenario[huge].demand_scale", "600000"),
])
def test_a_scenario_over_the_run_cap_exits_2_before_any_work(runner, tmp_path, demand, scale, key, value):
    """Trial finding: ``demand_scale = 1e9`` on 20 groups ran until killed (memory) instead of an
    error; the CLI caps a scenario at ``MAX_RUN_GROUPS`` (groups x demand_scale), files included."""
    (tmp_path / "groups.csv").write_text("group_id,size,start,end,day_start,day_end\n"
                                         "g1,5,barkhor,barkhor,08:00,18:00\ng2,5,barkhor,barkhor,08:00,18:00\n",
                                         encoding="utf-8")
    toml = tmp_path / "s.toml"
    toml.write_text(f'[base]\niterations = 10\n[base.demand]\n{demand}\n[[scenario]]\nname = "huge"\n'
                    f"demand_scale = {scale}\n", encoding="utf-8")
    res = runner.invoke(app, ["scenarios", "run", str(toml), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert f"{key}={value}: a scenario may have at most 200,000 groups" in " ".join(res.output.split())


def test_a_cluster_address_without_a_port_is_exit_2(runner, tiny_scenario_file, tmp_path):
    """Trial finding: ``--cluster nonsense`` ended in Dask's ValueError traceback (missing port)."""
    res = runner.invoke(app, ["scenarios", "run", str(tiny_scenario_file()), "--cluster", "nonsense",
                              "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "cluster='nonsense'" in res.output, res.output

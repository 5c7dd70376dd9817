"""Tests of ``lhasa-ops scenarios`` (``api.cli.main``) with typer's CliRunner. (The plan and sites
commands are tested in tests/api/test_tours_cli.py.)"""

from __future__ import annotations

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

"""``lhasa-ops plan --city N`` (issue 15): plans a seeded city-scale day instead of a demand file,
with the verifier's verdict, and refuses a bad count or a demand file given as well."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli.main import app


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_plan_city_day(runner, tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(app, ["plan", "--city", "300", "--iterations", "30", "--seed", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "300 groups" in res.stdout and "0 violations" in res.stdout
    doc = json.loads((out / "plan.json").read_text())
    assert len(doc["groups"]) == 300


@pytest.mark.parametrize("args,needle", [(["--city", "0"], "city"),
                                         (["--city", "10000000"], "at most 200,000 parties"),
                                         (["--city", "5", "--demand", "x.csv"], "--demand or --city")])
def test_plan_city_bad_input(runner, tmp_path, args, needle):
    res = runner.invoke(app, ["plan", *args, "--out", str(tmp_path / "o")])
    assert res.exit_code != 0
    assert needle in res.output


def test_large_plan_json_is_compact_and_reads_back(runner, tmp_path, monkeypatch):
    """Above ``PRETTY_JSON_MAX_ROUTES`` routes plan.json is written on one line (the C encoder);
    it still reads back, verified, into the same plan."""
    from api.services import tours

    monkeypatch.setattr(tours, "PRETTY_JSON_MAX_ROUTES", 10)
    out = tmp_path / "out"
    res = runner.invoke(app, ["plan", "--city", "40", "--iterations", "20", "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = (out / "plan.json").read_text()
    assert text.count("\n") == 1
    problem, plan = tours.load_plan(out / "plan.json", tours.lhasa_network())
    assert len(problem.groups) == 40 and len(plan.routes) > 10

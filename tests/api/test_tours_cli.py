"""Tests of ``lhasa-ops plan`` and ``lhasa-ops sites`` (``api.cli.main``) with typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from api.services.tours import OUTPUT_FILES, lhasa_network, load_plan

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
    assert [g["group_id"] for g in doc["groups"]] == ["A", "B", "C"]
    problem, plan = load_plan(out / "plan.json", lhasa_network())  # self-contained: verified on reading
    assert len(problem.groups) == 3 and len(plan.routes) == 3


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


def test_a_piped_first_run_says_it_is_compiling(runner, tmp_path, monkeypatch):
    """Issue 15: a first run piped to a file printed nothing for the ~30 s of compilation. When the
    output is not a terminal and compiling takes over a second, a line on stderr says what is happening."""
    import time

    import api.cli.main as cli_main

    monkeypatch.setattr(cli_main, "warm_up", lambda: time.sleep(1.4) or 1.4)
    monkeypatch.setattr(cli_main.first_run, "NOTE_SHOWN", [False])  # not printed by the entry point
    monkeypatch.setattr(cli_main.first_run, "kernels_cached", lambda: False)
    res = runner.invoke(app, ["plan", "--iterations", "5", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "compiling the solver kernels" in res.output
    # a slow load from a filled cache (a busy machine) says so, not "compiling"
    monkeypatch.setattr(cli_main.first_run, "kernels_cached", lambda: True)
    res = runner.invoke(app, ["plan", "--iterations", "5", "--out", str(tmp_path / "o1")])
    assert res.exit_code == 0 and "loading the compiled solver kernels" in res.output, res.output
    assert "compiling the solver kernels" not in res.output
    # the entry point said it already (api.cli.launch): nothing more
    monkeypatch.setattr(cli_main.first_run, "kernels_cached", lambda: False)
    monkeypatch.setattr(cli_main.first_run, "NOTE_SHOWN", [True])
    res = runner.invoke(app, ["plan", "--iterations", "5", "--out", str(tmp_path / "o3")])
    assert res.exit_code == 0 and "compiling the solver kernels" not in res.output, res.output
    monkeypatch.setattr(cli_main, "warm_up", lambda: 0.01)
    res = runner.invoke(app, ["plan", "--iterations", "5", "--out", str(tmp_path / "o2")])
    assert res.exit_code == 0 and "compiling the solver kernels" not in res.output

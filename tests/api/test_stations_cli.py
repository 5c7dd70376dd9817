"""``lhasa-ops stations site`` on the demo day, a demand file and a saved plan.json (the outputs,
the printed verifier verdict, exit codes)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli.main import app as cli_app
from api.services import tours
from optimizer.core.stop import MaxIterations

DEMAND_EXAMPLE = "instances/lhasa/demand_example.json"


def test_cli_writes_files(tmp_path):
    """Charger and oxygen siting on the demo day write siting.json and both charts; bad p or kind
    is exit 2 naming the field."""
    runner = CliRunner()
    out = tmp_path / "st"
    r = runner.invoke(cli_app, ["stations", "site", "--kind", "charger", "--p", "3", "--iterations", "50",
                                "--p-max", "5", "--min-path-km", "20", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "Chosen (p=3)" in r.output and "Covered" in r.output
    assert "Verifier         ok (0 violations)" in r.output
    for f in ("siting.json", "marginal.png", "map.png"):
        assert (out / f).stat().st_size > 0
    doc = json.loads((out / "siting.json").read_text())
    assert doc["status"] == "optimal" and len(doc["chosen"]) == 3 and len(doc["marginal"]) == 5
    assert doc["verifier"] == "ok" and doc["source"] == "demo day"
    r = runner.invoke(cli_app, ["stations", "site", "--kind", "oxygen", "--p", "1", "--iterations", "20",
                                "--p-max", "2", "--out", str(tmp_path / "o2")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, ["stations", "site", "--kind", "oxygen", "--p", "0", "--iterations", "0",
                                "--out", str(tmp_path / "bad")])
    assert r.exit_code == 2 and "p=0" in r.output
    r = runner.invoke(cli_app, ["stations", "site", "--kind", "water", "--p", "1", "--out", str(tmp_path / "bad")])
    assert r.exit_code == 2 and "kind" in r.output


def test_cli_sites_for_a_demand_file(tmp_path):
    """--demand plans the given groups and sites for their demand only: the stations serve the
    sites those groups visit, and siting.json lists what each chosen station serves."""
    out = tmp_path / "st"
    r = CliRunner().invoke(cli_app, ["stations", "site", "--kind", "oxygen", "--p", "2", "--demand", DEMAND_EXAMPLE,
                                     "--iterations", "200", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert f"Source           demand {DEMAND_EXAMPLE}" in r.output and "Verifier         ok" in r.output
    doc = json.loads((out / "siting.json").read_text())
    visited = {d["site_id"] for d in doc["detail"]}
    served = [s for st in doc["stations"] for s in st["demand_sites"]]
    assert len(served) == len(set(served)) and set(served) <= visited
    assert sum(st["demand"] for st in doc["stations"]) == pytest.approx(doc["covered"])
    assert {u["item_id"] for u in doc["unserved"]} == visited - set(served)
    assert doc["params"]["demand_sites"] < 23  # three groups visit fewer sites than the demo day


def test_cli_sites_for_a_saved_plan(tmp_path, lhasa_network):
    """--plan reads a plan.json back (no re-planning) and sites for it; --plan with --demand is exit 2."""
    problem, plan = tours.plan_groups(lhasa_network, tours.read_groups(DEMAND_EXAMPLE, lhasa_network),
                                      MaxIterations(100), seed=0)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(tours.plan_document(problem, plan)), encoding="utf-8")
    out = tmp_path / "st"
    r = CliRunner().invoke(cli_app, ["stations", "site", "--kind", "charger", "--p", "2", "--plan", str(path),
                                     "--p-max", "3", "--out", str(out)])
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "siting.json").read_text())
    assert doc["source"] == f"plan {path}" and len(doc["chosen"]) == 2 and doc["verifier"] == "ok"
    r = CliRunner().invoke(cli_app, ["stations", "site", "--kind", "charger", "--p", "2", "--plan", str(path),
                                     "--demand", DEMAND_EXAMPLE, "--out", str(out)])
    assert r.exit_code == 2 and "plan source" in r.output

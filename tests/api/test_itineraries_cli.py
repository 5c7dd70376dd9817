"""``lhasa-ops itineraries``: plan a small demand file (outputs, verifier 0 violations), bad demand -> exit 2
naming file and row, and the demo-week writer."""

from __future__ import annotations

import csv
import json

import typer
from typer.testing import CliRunner

from api.cli.itineraries import itineraries_app


def _app():
    app = typer.Typer()
    app.add_typer(itineraries_app, name="itineraries")
    return app


def test_plan_small_demand_writes_every_output(tmp_path):
    demand = tmp_path / "week.csv"
    res = CliRunner().invoke(_app(), ["itineraries", "demo-week", "--groups", "6", "--seed", "4", "--out", str(demand)])
    assert res.exit_code == 0, res.output
    out = tmp_path / "out"
    res = CliRunner().invoke(_app(), ["itineraries", "plan", "--demand", str(demand), "--iterations", "100",
                                      "--time-limit", "20", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Verifier         0 violations" in res.output and "Groups served" in res.output
    assert "potala entries/day" in res.output and "Acclimatization" in res.output
    d = json.loads((out / "itineraries.json").read_text(encoding="utf-8"))
    assert d["violations"] == [] and d["groups"] == 6 and len(d["demand"]) == 6
    with (out / "hotel_usage.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert all(int(r["rooms_used"]) <= int(r["rooms"]) for r in rows)
    geo = sorted(out.glob("day_*.geojson"))
    assert len(geo) == d["days"]
    assert (out / "calendar.png").stat().st_size > 10_000
    visits = [r for r in csv.DictReader((out / "itineraries.csv").open(encoding="utf-8")) if r["kind"] == "visit"]
    assert len(visits) == sum(len(day["visits"]) for it in d["itineraries"] for day in it["days"])


def test_bad_demand_exits_2_naming_file_row_and_field(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("group_id,size,arrival,departure,budget_cny\ng1,4,2026-07-06,2026-07-08,100\n"
                   "g2,4,2026-07-06,2026-07-08,-5\n", encoding="utf-8")
    res = CliRunner().invoke(_app(), ["itineraries", "plan", "--demand", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "bad.csv: row 2 (line 3): budget_cny=" in res.output
    bad.write_text("group_id,size,arrival,departure\ng1,4,2026-07-06,2026-07-02\n", encoding="utf-8")
    res = CliRunner().invoke(_app(), ["itineraries", "plan", "--demand", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "departure before arrival" in res.output
    rules = tmp_path / "r.toml"
    rules.write_text("max_sleep_altitude_m = [3800]\n", encoding="utf-8")
    res = CliRunner().invoke(_app(), ["itineraries", "plan", "--rules", str(rules), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "max_visit_altitude_m" in res.output


def test_demo_week_writer(tmp_path):
    res = CliRunner().invoke(_app(), ["itineraries", "demo-week", "--groups", "30", "--out", str(tmp_path / "w.json")])
    assert res.exit_code == 0 and "30 groups" in res.output
    assert len(json.loads((tmp_path / "w.json").read_text(encoding="utf-8"))["groups"]) == 30
    res = CliRunner().invoke(_app(), ["itineraries", "demo-week", "--out", str(tmp_path / "w.txt")])
    assert res.exit_code == 2

"""``lhasa-ops drones deliver``: the example day, outputs, reasons, bad input -> exit 2."""

import json

from typer.testing import CliRunner

from api.cli.drones import drones_app


def _app():
    """The ``drones`` sub-app mounted as in ``api.cli.main`` (kept independent of the other families' commands)."""
    import typer

    app = typer.Typer()
    app.add_typer(drones_app, name="drones")
    return app


def test_cli_deliver_writes_map_and_plan(tmp_path):
    """`lhasa-ops drones deliver` on the example day: exit 0, verifier OK, map.png and reasons for the two bad rows."""
    res = CliRunner().invoke(_app(), ["drones", "deliver", "--iterations", "30", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "Verifier         OK" in res.output
    d = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    reasons = {u["delivery"]: u["reason"] for u in d["unserved"]}
    assert "exceeds" in reasons["bad_heavy"] and "old_city" in reasons["bad_potala"]
    assert {u["delivery"]: u["code"] for u in d["unserved"]}["bad_heavy"] == "payload"
    assert d["violations"] == [] and d["status"] == "feasible"
    assert (tmp_path / "map.png").stat().st_size > 10_000
    gj = json.loads((tmp_path / "map.geojson").read_text(encoding="utf-8"))
    assert sum(f["properties"]["kind"] == "trip" for f in gj["features"]) == len(d["trips"])
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lon,lat,weight_kg,open,close,priority\nx,91.1,29.7,1.0,14:00,10:00,1\n", encoding="utf-8")
    res = CliRunner().invoke(_app(), ["drones", "deliver", "--demand", str(bad), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "before it opens" in res.output
    assert "bad.csv: row 1 (line 2)" in res.output


def test_cli_deliver_default_day_serves_51_of_64(tmp_path):
    """The embedded example day at the CLI defaults (500 iterations, seed 0): 51/64 served, verifier OK."""
    res = CliRunner().invoke(_app(), ["drones", "deliver", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    d = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert (d["served"], d["deliveries"], d["served_priority"], d["total_priority"]) == (51, 64, 91, 112)
    assert d["violations"] == []

"""``lhasa-ops flights design`` and ``lhasa-ops flights schedule``: exit codes, printed verdicts, files."""

from __future__ import annotations

import csv
import json

from flights_helpers import copy_flight_data, edit_csv_cell
from typer.testing import CliRunner

from api.cli.main import app


def test_cli_design_prints_the_menu_and_writes_files(tmp_path):
    """`lhasa-ops flights design` exits 0, prints the table, writes products.csv/json and the map; a bad
    duration or a bad data row exits 2 naming the field."""
    res = CliRunner().invoke(app, ["flights", "design", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "Verifier         OK" in res.output and "city_pad_evtol_15" in res.output
    d = json.loads((tmp_path / "products.json").read_text(encoding="utf-8"))
    with open(tmp_path / "products.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(d["products"]) >= 6 and all(v == [] for v in d["violations"].values())
    assert (tmp_path / "menu_map.png").stat().st_size > 20_000
    res = CliRunner().invoke(app, ["flights", "design", "--durations", "15,abc", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "durations_min[1]" in res.output
    (tmp_path / "data").mkdir()
    data = copy_flight_data(tmp_path / "data")
    edit_csv_cell(data / "vertiports.csv", 0, "elevation_m", "high")
    res = CliRunner().invoke(app, ["flights", "design", "--data", str(data), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "vertiports.csv: row 1 (line" in res.output and "elevation_m='high'" in res.output


def test_cli_schedule_writes_outputs(tmp_path):
    """``lhasa-ops flights schedule`` on the Lhasa example exits 0 and writes gantt.png and a verified schedule.json."""
    res = CliRunner().invoke(app, ["flights", "schedule", "--out", str(tmp_path), "--time-limit", "3",
                                   "--workers", "2"])
    assert res.exit_code == 0, res.output
    assert "Passengers flown" in res.output and "Departures" in res.output
    assert (tmp_path / "gantt.png").stat().st_size > 10_000
    doc = json.loads((tmp_path / "schedule.json").read_text(encoding="utf-8"))
    assert doc["violations"] == [] and doc["kpis"]["passengers"] > 0
    assert (tmp_path / "departures.csv").exists() and (tmp_path / "unassigned.csv").exists()


def test_cli_bad_bookings_exit_2(tmp_path):
    """A bookings CSV with a window closing before it opens exits 2 naming the file, row and field."""
    bad = tmp_path / "bad.csv"
    bad.write_text("id,product_id,party_size,open,close,desired\nx,dagze_ga_evtol_30,2,14:00,10:00,12:00\n",
                   encoding="utf-8")
    res = CliRunner().invoke(app, ["flights", "schedule", "--bookings", str(bad), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "bad.csv: row 1 (line 2)" in res.output and "before it opens" in res.output


def test_cli_schedule_reads_the_design_products_csv(tmp_path):
    """The products.csv that ``flights design`` writes is a valid ``--products`` input of ``flights schedule``."""
    res = CliRunner().invoke(app, ["flights", "design", "--vertiports", "dagze_ga,damxung", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["flights", "schedule", "--products", str(tmp_path / "products.csv"),
                                   "--time-limit", "2", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "schedule.json").read_text(encoding="utf-8"))
    assert doc["violations"] == [] and doc["status"] in ("optimal", "feasible")

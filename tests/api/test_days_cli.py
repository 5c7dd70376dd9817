"""``lhasa-ops day``: the demo log and a replay that checks every version (issue 17)."""

from __future__ import annotations

import csv

from typer.testing import CliRunner

from api.cli.main import app

runner = CliRunner()


def test_demo_log_then_a_short_replay(tmp_path):
    log = tmp_path / "day.csv"
    r = runner.invoke(app, ["day", "demo-log", str(log), "--seed", "1"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(log.open(encoding="utf-8")))
    assert sum(x["kind"] == "booking" for x in rows) == 320
    assert {x["kind"] for x in rows} >= {"quota_cut", "road_closed", "group_delayed"}
    short = tmp_path / "short.csv"
    keep = [x for x in rows if x["kind"] == "booking"][:25] + [x for x in rows if x["kind"] != "booking"]
    keep[-1]["group_id"] = keep[0]["group_id"]  # the late coach is one of the booked groups
    with short.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(keep)
    r = runner.invoke(app, ["day", "replay", str(short), "--iterations", "50", "--offline-iterations", "200"])
    assert r.exit_code == 0, r.output
    assert "0 violations" in r.output and "Online/offline" in r.output


def test_a_bad_log_row_is_exit_2_naming_it(tmp_path):
    log = tmp_path / "bad.csv"
    log.write_text(
        "seq,at,kind,group_id,site_id,road,quota,delay_min,group\n1,10:00,group_delayed,NOPE,,,,5,\n",
        encoding="utf-8",
    )
    r = runner.invoke(app, ["day", "replay", str(log)])
    assert r.exit_code == 2
    assert "log row 2" in r.output and "NOPE" in r.output


def test_a_log_that_is_not_utf8_or_has_unknown_columns_or_extra_cells_is_exit_2(tmp_path):
    """Trial findings: a log saved as Latin-1 ended in a UnicodeDecodeError traceback; a misspelt
    column (``site``) was ignored (the error then blamed ``site_id=None``); a row with extra cells
    had them dropped. Each now stops with exit 2 naming the file and the line or column."""
    head = "seq,at,kind,group_id,site_id,road,quota,delay_min,group\n"
    cases = (
        (head.encode() + b"1,10:00,site_closed,,caf\xe9,,,,\n", "line 2: encoding="),
        (head.replace("site_id", "site").encode() + b"1,10:00,site_closed,,potala,,,,\n", "site: unknown column"),
        (head.encode() + b"1,10:00,site_closed,,potala,,,,,,extra\n", "row 1 (line 2): fields=11"),
    )
    for k, (body, said) in enumerate(cases):
        log = tmp_path / f"log{k}.csv"
        log.write_bytes(body)
        r = runner.invoke(app, ["day", "replay", str(log)])
        assert r.exit_code == 2 and said in " ".join(r.output.split()), r.output


def test_demo_log_to_an_unwritable_path_is_exit_2(tmp_path):
    """Trial finding: ``day demo-log /proc/nope.csv`` ended in a FileNotFoundError traceback."""
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    r = runner.invoke(app, ["day", "demo-log", str(tmp_path / "a_file" / "day.csv")])
    assert r.exit_code == 2 and "cannot write" in r.output, r.output

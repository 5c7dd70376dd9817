"""``bench.itineraries --rebuild`` writes the section from a finished run's CSV without solving:
the rows read back typed as the run wrote them, a missing column or file is named, and the split
halves cover every row once."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.itineraries import COLUMNS, halves, read_rows, summary


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)


def test_rows_read_back_typed_and_summarised(tmp_path):
    rows = [
        {"instance": "a", "m": 2, "value": 100.0, "score": 99.0, "gap_pct": 1.0, "valid": 1, "wall_s": 10.02,
         "iterations": 300, "new_best": 0},
        {"instance": "b", "m": 3, "value": "", "score": 50.0, "gap_pct": "", "valid": 1, "wall_s": 10.01,
         "iterations": 7, "new_best": 0},
        {"instance": "c", "m": 3, "value": 80.0, "score": 82.0, "gap_pct": -2.5, "valid": 1, "wall_s": 10.0,
         "iterations": 9, "new_best": 1},
    ]
    f = tmp_path / "run.csv"
    _write(f, rows)
    back = read_rows(f)
    assert back == rows
    s = summary(back)
    assert s["n"] == 3 and s["valid"] == 3 and s["new_best"] == 1


def test_missing_file_or_column_is_named(tmp_path):
    with pytest.raises(SystemExit, match="no such file"):
        read_rows(tmp_path / "none.csv")
    f = tmp_path / "bad.csv"
    f.write_text("instance,m\nx,1\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="missing column"):
        read_rows(f)


def test_halves_alternate_within_each_folder():
    files = [Path("s1/a"), Path("s1/b"), Path("s1/c"), Path("s2/d"), Path("s2/e")]
    h = halves(files)
    assert h == {"a": "A", "b": "B", "c": "A", "d": "A", "e": "B"}

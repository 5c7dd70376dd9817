"""Test helpers shared by the flights reader and CLI tests: a copy of the embedded flight data in a
temporary folder, and an edit of one CSV cell that keeps the file's comment lines."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from instances.paths import LHASA_DIR

FLIGHT_FILES = ("viewpoints.csv", "vertiports.csv", "aircraft_types.csv", "airspace.geojson")


def copy_flight_data(tmp_path: Path) -> Path:
    """``tmp_path`` holding copies of the embedded viewpoints, vertiports, aircraft types and airspace."""
    for f in FLIGHT_FILES:
        shutil.copy(LHASA_DIR / f, tmp_path / f)
    return tmp_path


def edit_csv_cell(path: Path, row: int, col: str, value: str) -> None:
    """Set data row ``row`` (0-based), column ``col`` of the CSV at ``path`` to ``value``."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    comments = [ln for ln in lines if ln.startswith("#")]
    rows = list(csv.DictReader(ln for ln in lines if not ln.startswith("#")))
    rows[row][col] = value
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.writelines(comments)
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)

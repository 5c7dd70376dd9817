"""Rebuild the embedded Lhasa instance (``instances/lhasa/*.csv``) from the sourced facts.

Run ``python -m instances.build_lhasa [SHARED_LHASA_DIR]``. The inputs are the compiled facts in
``../shared/lhasa`` (sites, roads, rings, circles with ``coord_conf`` and ``provenance``
columns). The product never reads ``../shared`` at run time: the output CSVs are committed.

What this adds to the facts (every rule is documented in ``instances/lhasa/README.md``):

* ``score``: rating points x kind factor (see ``RATING_POINTS`` and ``KIND_FACTOR``); hubs
  (towns with rating ``n/a``, transport) score 0 and are not visited.
* ``open_time``/``close_time`` defaults by kind where the facts give none (``hours_source``
  says ``default``).
* ``daily_quota``/``slot_quota``: the Potala's ~5,000 persons/day in hourly timed slots
  (``slot_quota = ceil(5000 / 6)`` for its six entry hours 09:00-14:59), the theatre's seats.
* sites without coordinates are dropped (listed in the README).
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

from instances._csv import read_csv_records
from instances.paths import LHASA_DIR

RATING_POINTS = {"5A": 100.0, "4A": 80.0, "3A": 60.0, "unk": 45.0, "none": 40.0}
KIND_FACTOR = {
    "palace": 1.0, "monastery": 1.0, "lake": 1.0, "museum": 0.8, "town": 1.0, "viewpoint": 0.8,
    "park": 0.7, "wetland": 0.8, "village": 0.8, "hot_spring": 0.8, "theatre": 0.9,
}
DEFAULT_HOURS = {
    "monastery": ("09:00", "17:00"), "museum": ("10:00", "17:00"), "palace": ("09:30", "17:30"),
    "lake": ("08:00", "20:00"), "viewpoint": ("00:00", "24:00"), "park": ("08:00", "20:00"),
    "wetland": ("08:00", "20:00"), "village": ("09:00", "19:00"), "hot_spring": ("10:00", "22:00"),
    "town": ("00:00", "24:00"), "transport": ("00:00", "24:00"), "theatre": ("21:00", "22:30"),
}
DEFAULT_VISIT_MIN = {"town": 30, "transport": 0}
POTALA_ENTRY_SLOTS = 6  # hourly slots 09:00 .. 14:59 (last entry ~15:00, S in FACTS.md sec. 4)

SITE_COLUMNS = [
    "id", "name_zh", "name_en", "lat", "lon", "coord_conf", "elevation_m", "kind", "rating", "score",
    "visit_min", "open_time", "close_time", "hours_source", "daily_quota", "slot_quota", "county",
    "provenance", "notes",
]


def site_score(rating: str, kind: str) -> float:
    """Score per visitor of one visit: rating points x kind factor; 0 for hubs."""
    if kind == "transport" or rating == "n/a":
        return 0.0
    return RATING_POINTS.get(rating, RATING_POINTS["unk"]) * KIND_FACTOR.get(kind, 0.8)


def build_sites(rows: list[dict[str, str]]) -> tuple[list[dict[str, object]], list[str]]:
    out, dropped = [], []
    for r in rows:
        if not r["lat"] or not r["lon"]:
            dropped.append(r["id"])
            continue
        kind, rating = r["kind"], r["rating"]
        score = site_score(rating, kind)
        if r["open_time"] and r["close_time"]:
            open_t, close_t, src = r["open_time"], r["close_time"], "facts"
        else:
            open_t, close_t = DEFAULT_HOURS.get(kind, ("09:00", "18:00"))
            src = "default"
        visit = r["typical_visit_min"] or str(DEFAULT_VISIT_MIN.get(kind, 60))
        daily = r["daily_capacity"] or ""
        slot = ""
        if r["id"] == "potala" and daily:
            slot = str(math.ceil(int(daily) / POTALA_ENTRY_SLOTS))
        out.append({
            "id": r["id"], "name_zh": r["name_zh"], "name_en": r["name_en"], "lat": r["lat"],
            "lon": r["lon"], "coord_conf": r["coord_conf"], "elevation_m": r["elevation_m"],
            "kind": kind, "rating": rating, "score": f"{score:g}", "visit_min": visit,
            "open_time": open_t, "close_time": close_t, "hours_source": src, "daily_quota": daily,
            "slot_quota": slot, "county": r["county"], "provenance": r["provenance"],
            "notes": r["notes"],
        })
    return out, dropped


def main(src: Path, dst: Path = LHASA_DIR) -> None:
    _, records = read_csv_records(src / "sites.csv", comment="")
    sites, dropped = build_sites([r.values for r in records])
    dst.mkdir(parents=True, exist_ok=True)
    with open(dst / "sites.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=SITE_COLUMNS)
        w.writeheader()
        w.writerows(sites)
    for name in ("roads.csv", "rings.csv", "circles.csv"):
        (dst / name).write_bytes((src / name).read_bytes())
    print(f"wrote {len(sites)} sites to {dst}; dropped (no coordinates): {dropped}")


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else LHASA_DIR.parents[2] / "shared" / "lhasa"
    main(src, LHASA_DIR)

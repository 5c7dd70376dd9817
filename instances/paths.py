"""Where the embedded data lives: the one definition of the Lhasa data folder and its files.

Every reader takes a path; these are the defaults. ``benchmarks_root()`` locates the public
benchmark instances. ``optimizer`` never imports this module.
"""

from __future__ import annotations

import os
from pathlib import Path

LHASA_DIR = Path(__file__).resolve().parent / "lhasa"

SITES_CSV = LHASA_DIR / "sites.csv"
ROADS_CSV = LHASA_DIR / "roads.csv"
RINGS_CSV = LHASA_DIR / "rings.csv"
CIRCLES_CSV = LHASA_DIR / "circles.csv"
STATIONS_CSV = LHASA_DIR / "stations.csv"
AIRSPACE_GEOJSON = LHASA_DIR / "airspace.geojson"
DRONE_TYPES_CSV = LHASA_DIR / "drone_types.csv"
DRONE_DEMAND_CSV = LHASA_DIR / "drone_demand_example.csv"
VIEWPOINTS_CSV = LHASA_DIR / "viewpoints.csv"
VERTIPORTS_CSV = LHASA_DIR / "vertiports.csv"
AIRCRAFT_TYPES_CSV = LHASA_DIR / "aircraft_types.csv"
FLIGHT_BOOKINGS_CSV = LHASA_DIR / "flight_bookings_example.csv"
DEMAND_PEAK_DAY_CSV = LHASA_DIR / "demand_peak_day.csv"
DEMAND_EXAMPLE_JSON = LHASA_DIR / "demand_example.json"


def benchmarks_root() -> Path:
    """Root of the public benchmark instances: ``$LHASA_BENCHMARKS`` if set, else ``shared/benchmarks``
    beside the repository (the layout of a developer's machine and of CI)."""
    env = os.environ.get("LHASA_BENCHMARKS")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"

"""Readers of the embedded drone data and a seeded generator of synthetic drone demand.

* ``load_drone_types(path)``: drone types CSV (``instances/lhasa/drone_types.csv``; columns ``id``,
  ``name`` and the ``DroneType`` fields; ``#`` lines are comments);
* ``read_drone_demand(path)``: deliveries CSV (``id, lon, lat, weight_kg, open, close, priority``;
  ``open``/``close`` local time HH:MM, ``priority`` optional, default 1);
* ``lhasa_airspace(buffer_km)``: the embedded airspace (``instances/lhasa/airspace.geojson``);
* ``random_deliveries(n, seed, ...)``: synthetic demand for tests and benchmarks.

Bad rows raise ``RecordError`` (an ``InvalidInput``) naming file, row, field and value.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from instances._csv import float_field, int_field, read_csv_records, record_context, text_field
from instances.paths import AIRSPACE_GEOJSON, DRONE_DEMAND_CSV, DRONE_TYPES_CSV
from optimizer.core.airspace import Airspace, airspace_from_geojson
from optimizer.core.clock import parse_clock
from optimizer.core.errors import InvalidInput
from optimizer.core.physics import KM_PER_DEG_LAT
from optimizer.drones import Delivery, DroneType

__all__ = ["AIRSPACE_GEOJSON", "DRONE_DEMAND_CSV", "DRONE_TYPES_CSV", "lhasa_airspace", "load_drone_types",
           "random_deliveries", "read_drone_demand"]

_TYPE_FLOATS = ("frame_kg", "battery_kg", "battery_wh", "reserve_frac", "payload_kg", "mtow_sea_kg", "speed_mps",
                "climb_mps", "cruise_agl_m", "ceiling_m", "rotor_area_m2", "efficiency", "service_s", "swap_min")
_DEMAND_COLS = ("id", "lon", "lat", "weight_kg", "open", "close", "priority")


def load_drone_types(path: Path | str = DRONE_TYPES_CSV) -> dict[str, DroneType]:
    """Drone types by id from CSV. Raises ``RecordError`` naming the row and field (duplicate ids included)."""
    _, recs = read_csv_records(path, required=("id", "rotors", *_TYPE_FLOATS),
                               known=("id", "name", "rotors", *_TYPE_FLOATS))
    out: dict[str, DroneType] = {}
    for rec in recs:
        with record_context(str(path), rec.where):
            tid = text_field(rec, "id")
            if tid in out:
                raise InvalidInput("id", tid, "drone type id appears twice")
            kw = {c: float_field(rec, c) for c in _TYPE_FLOATS}
            out[tid] = DroneType(id=tid, name=text_field(rec, "name", required=False) or "",
                                 rotors=int_field(rec, "rotors"), **kw)
    if not out:
        raise InvalidInput("drone_types", str(path), "no drone types in the file")
    return out


def read_drone_demand(path: Path | str = DRONE_DEMAND_CSV) -> tuple[Delivery, ...]:
    """Deliveries from CSV (``#`` lines are comments). Raises ``RecordError`` naming the row and field."""
    _, recs = read_csv_records(path, required=_DEMAND_COLS[:6], known=_DEMAND_COLS)
    out = []
    for rec in recs:
        with record_context(str(path), rec.where):
            did = text_field(rec, "id")
            window = (parse_clock(text_field(rec, "open"), "open"), parse_clock(text_field(rec, "close"), "close"))
            prio = int_field(rec, "priority", required=False)
            out.append(Delivery(did, float_field(rec, "lon"), float_field(rec, "lat"), float_field(rec, "weight_kg"),
                                window, 1 if prio is None else prio))
    return tuple(out)


def lhasa_airspace(buffer_km: float = 0.2, path: Path | str = AIRSPACE_GEOJSON) -> Airspace:
    """The embedded Lhasa airspace (no-fly zones, hubs with fleets) with a ``buffer_km`` safety buffer."""
    return airspace_from_geojson(Path(path), buffer_km=buffer_km)


def random_deliveries(n: int, seed: int = 0, center: tuple[float, float] = (91.12, 29.66), spread_km: float = 12.0,
                      day: tuple[float, float] = (480.0, 1080.0)) -> list[Delivery]:
    """Seeded synthetic demand around ``center`` (lon, lat), uniform in a disc of ``spread_km``:
    weights 0.3-2 kg (80 %) or 3-25 kg, windows of 1-4 h inside ``day`` (min), priority 1-3 (1:2:3 = 3:2:1)."""
    rng = np.random.default_rng(seed)
    out = []
    kx = KM_PER_DEG_LAT * math.cos(math.radians(center[1]))
    for i in range(n):
        r, a = spread_km * math.sqrt(rng.random()), 2 * math.pi * rng.random()
        lon, lat = center[0] + r * math.cos(a) / kx, center[1] + r * math.sin(a) / KM_PER_DEG_LAT
        w = float(rng.uniform(0.3, 2.0)) if rng.random() < 0.8 else float(rng.uniform(3.0, 25.0))
        width = float(rng.uniform(60, 240))
        o = float(rng.uniform(day[0], day[1] - width))
        out.append(Delivery(f"d{i:03d}", round(lon, 5), round(lat, 5), round(w, 2), (round(o), round(o + width)),
                            int(rng.choice([1, 1, 1, 2, 2, 3]))))
    return out

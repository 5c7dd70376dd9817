"""Load the embedded Lhasa instance (``instances/lhasa/``) into a ``Network``.

Travel times and distances between every pair of sites are shortest paths over the road graph
(``optimizer.core.network.shortest_path_matrices``: Dijkstra on the undirected segments of
``roads.csv``; of parallel roads the faster one counts). A site that is not an end of any road is
attached to its nearest road node by an access leg of ``haversine x ACCESS_DETOUR`` km at
``ACCESS_SPEED_KMH``. Errors (``RecordError``, an ``InvalidInput``) name the file, the row, the
field and the value.
"""

from __future__ import annotations

from pathlib import Path

from instances._csv import read_csv_records, record_context, text_field
from instances.paths import CIRCLES_CSV, LHASA_DIR, RINGS_CSV, ROADS_CSV, SITES_CSV
from optimizer.core.clock import parse_clock
from optimizer.core.errors import InvalidInput
from optimizer.core.network import (  # noqa: F401
    ACCESS_DETOUR,
    ACCESS_SPEED_KMH,
    Network,
    Road,
    Site,
    shortest_path_matrices,
)
from optimizer.core.physics import EARTH_RADIUS_KM, haversine_km  # noqa: F401

__all__ = ["LHASA_DIR", "load_lhasa", "read_roads", "read_sites", "read_zones"]


def _opt_int(value: str | None, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(field, value, "expected an integer") from None


def _float(rec, name: str) -> float:
    v = rec.values.get(name, "")
    try:
        return float(v)
    except ValueError:
        raise InvalidInput(name, v, "expected a number") from None


def read_sites(path: Path) -> tuple[Site, ...]:
    """Read ``sites.csv`` into sites; raises ``RecordError`` naming the file, row and column."""
    sites = []
    _, records = read_csv_records(path, required=("id", "lat", "lon", "kind", "score", "visit_min",
                                                  "open_time", "close_time"))
    for r in records:
        v = r.values
        with record_context(str(path), r.where):
            sites.append(Site(
                id=text_field(r, "id"), name_en=v.get("name_en", ""), name_zh=v.get("name_zh", ""),
                lat=_float(r, "lat"), lon=_float(r, "lon"), elevation_m=_float(r, "elevation_m"),
                kind=text_field(r, "kind"), rating=v.get("rating") or "unk", score=_float(r, "score"),
                visit_min=_float(r, "visit_min"),
                window=(parse_clock(v["open_time"], "open_time"), parse_clock(v["close_time"], "close_time")),
                daily_quota=_opt_int(v.get("daily_quota"), "daily_quota"),
                slot_quota=_opt_int(v.get("slot_quota"), "slot_quota"),
                county=v.get("county", ""), coord_conf=v.get("coord_conf", ""), provenance=v.get("provenance", ""),
            ))
    return tuple(sites)


def read_roads(path: Path, site_ids: set[str]) -> tuple[Road, ...]:
    """Read ``roads.csv``; both ends must be known site ids."""
    roads = []
    _, records = read_csv_records(path, required=("from", "to", "length_km", "typical_speed_kmh", "travel_min"))
    for r in records:
        v = r.values
        with record_context(str(path), r.where):
            for end in ("from", "to"):
                if v[end] not in site_ids:
                    raise InvalidInput(end, v[end], "unknown site id")
            roads.append(Road(a=v["from"], b=v["to"], name=v.get("road", ""), length_km=_float(r, "length_km"),
                              speed_kmh=_float(r, "typical_speed_kmh"), travel_min=_float(r, "travel_min"),
                              max_elev_m=float(v.get("max_elev_m") or "nan"), provenance=v.get("provenance", "")))
    return tuple(roads)


def read_zones(rings: Path, circles: Path, site_ids: set[str]) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Rings (ordered by ``seq``) and circles as zone id -> member site ids (known sites only)."""
    zones: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    _, ring_records = read_csv_records(rings, required=("ring_id", "ring_name", "seq", "site_id"))
    keyed = []
    for r in ring_records:
        with record_context(str(rings), r.where):
            seq = _opt_int(r.values["seq"], "seq")
        keyed.append((r.values["ring_id"], seq, r.values))
    for ring_id, _, v in sorted(keyed, key=lambda x: (x[0], x[1])):
        names[ring_id] = v["ring_name"]
        if v["site_id"] in site_ids and v["site_id"] not in zones.setdefault(ring_id, []):
            zones[ring_id].append(v["site_id"])
    _, circle_records = read_csv_records(circles, required=("circle_id", "circle_name", "site_id"))
    for r in circle_records:
        v = r.values
        names[v["circle_id"]] = v["circle_name"]
        if v["site_id"] in site_ids and v["site_id"] not in zones.setdefault(v["circle_id"], []):
            zones[v["circle_id"]].append(v["site_id"])
    return {k: tuple(v) for k, v in zones.items()}, names


def load_lhasa(data_dir: Path | str | None = None) -> Network:
    """Load the embedded Lhasa network (48 sites, 58 road segments, rings and circles), or the same
    files from ``data_dir``.

    Raises ``InvalidInput`` (``RecordError``) naming file, row and column for a malformed data file.
    """
    d = Path(data_dir) if data_dir is not None else LHASA_DIR
    sites = read_sites(d / SITES_CSV.name)
    ids = {s.id for s in sites}
    roads = read_roads(d / ROADS_CSV.name, ids)
    zones, names = read_zones(d / RINGS_CSV.name, d / CIRCLES_CSV.name, ids)
    travel, dist = shortest_path_matrices(sites, roads)
    return Network(sites=sites, roads=roads, travel_min=travel, distance_km=dist, zones=zones, zone_names=names)

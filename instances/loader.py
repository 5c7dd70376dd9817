"""Load the embedded Lhasa instance (``instances/lhasa/``) into a ``Network``.

Travel times and distances between every pair of sites are shortest paths over the road graph
(scipy's Dijkstra on the undirected segments of ``roads.csv``; of parallel roads the faster one
counts). A site that is not an end of any road is attached to its nearest road node by an access
leg of ``haversine x ACCESS_DETOUR`` km at ``ACCESS_SPEED_KMH``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from optimizer.core.network import ACCESS_DETOUR, ACCESS_SPEED_KMH, shortest_path_matrices  # noqa: F401
from optimizer.core.physics import EARTH_RADIUS_KM, haversine_km  # noqa: F401
from optimizer.domain import InvalidInput, Network, Road, Site, parse_clock

LHASA_DIR = Path(__file__).resolve().parent / "lhasa"


def _read(path: Path) -> pl.DataFrame:
    if not path.exists():
        raise InvalidInput("path", str(path), "file not found")
    return pl.read_csv(path, infer_schema=False)


def _opt_int(value: str | None, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(field, value, "expected an integer") from None


def read_sites(path: Path) -> tuple[Site, ...]:
    """Read ``sites.csv`` into sites; raises ``InvalidInput`` naming the row and column."""
    sites = []
    for k, r in enumerate(_read(path).iter_rows(named=True), start=2):
        where = f"{path.name}:row {k}"
        try:
            visit = float(r["visit_min"])
            sites.append(Site(
                id=r["id"], name_en=r["name_en"] or "", name_zh=r["name_zh"] or "",
                lat=float(r["lat"]), lon=float(r["lon"]), elevation_m=float(r["elevation_m"]),
                kind=r["kind"], rating=r["rating"] or "unk", score=float(r["score"]), visit_min=visit,
                window=(parse_clock(r["open_time"], f"{where}.open_time"),
                        parse_clock(r["close_time"], f"{where}.close_time")),
                daily_quota=_opt_int(r["daily_quota"], f"{where}.daily_quota"),
                slot_quota=_opt_int(r["slot_quota"], f"{where}.slot_quota"),
                county=r["county"] or "", coord_conf=r["coord_conf"] or "", provenance=r["provenance"] or "",
            ))
        except InvalidInput as e:
            raise InvalidInput(f"{where}.{e.field}", e.value, e.message) from None
        except (TypeError, ValueError) as e:
            raise InvalidInput(where, r.get("id"), f"bad value: {e}") from None
    return tuple(sites)


def read_roads(path: Path, site_ids: set[str]) -> tuple[Road, ...]:
    """Read ``roads.csv``; both ends must be known site ids."""
    roads = []
    for k, r in enumerate(_read(path).iter_rows(named=True), start=2):
        where = f"{path.name}:row {k}"
        for end in ("from", "to"):
            if r[end] not in site_ids:
                raise InvalidInput(f"{where}.{end}", r[end], "unknown site id")
        try:
            roads.append(Road(a=r["from"], b=r["to"], name=r["road"] or "", length_km=float(r["length_km"]),
                              speed_kmh=float(r["typical_speed_kmh"]), travel_min=float(r["travel_min"]),
                              max_elev_m=float(r["max_elev_m"] or "nan"), provenance=r["provenance"] or ""))
        except InvalidInput as e:
            raise InvalidInput(f"{where}.{e.field}", e.value, e.message) from None
        except (TypeError, ValueError) as e:
            raise InvalidInput(where, f"{r['from']}-{r['to']}", f"bad value: {e}") from None
    return tuple(roads)


def read_zones(rings: Path, circles: Path, site_ids: set[str]) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Rings (ordered by ``seq``) and circles as zone id -> member site ids (known sites only)."""
    zones: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    ring_df = _read(rings).with_columns(pl.col("seq").cast(pl.Int64)).sort(["ring_id", "seq"])
    for r in ring_df.iter_rows(named=True):
        names[r["ring_id"]] = r["ring_name"]
        if r["site_id"] in site_ids and r["site_id"] not in zones.setdefault(r["ring_id"], []):
            zones[r["ring_id"]].append(r["site_id"])
    for r in _read(circles).iter_rows(named=True):
        names[r["circle_id"]] = r["circle_name"]
        if r["site_id"] in site_ids and r["site_id"] not in zones.setdefault(r["circle_id"], []):
            zones[r["circle_id"]].append(r["site_id"])
    return {k: tuple(v) for k, v in zones.items()}, names


def load_lhasa(data_dir: Path | str | None = None) -> Network:
    """Load the embedded Lhasa network (48 sites, 58 road segments, rings and circles).

    Raises ``InvalidInput`` naming file, row and column for a malformed data file.
    """
    d = Path(data_dir) if data_dir is not None else LHASA_DIR
    sites = read_sites(d / "sites.csv")
    ids = {s.id for s in sites}
    roads = read_roads(d / "roads.csv", ids)
    zones, names = read_zones(d / "rings.csv", d / "circles.csv", ids)
    travel, dist = shortest_path_matrices(sites, roads)
    return Network(sites=sites, roads=roads, travel_min=travel, distance_km=dist, zones=zones, zone_names=names)

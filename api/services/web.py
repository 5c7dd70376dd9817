"""Use cases of the planners' web app (``lhasa-ops serve``, page ``/``): map layers, the demo day's
demand, reading an uploaded demand or scenario file, a day plan with everything the page draws, and
one-line headlines of a scenario run.

The browser calls the family endpoints (``/v1/tours/plan``, ``/v1/scenarios``, ``/v1/stations/...``,
``/v1/drones/...``, ``/v1/flights/...``) for everything else; these functions only add what a map
page needs and the API did not answer yet. Nothing here solves differently: a day plan is
``api.services.tours.plan_groups`` / ``demo_day`` (checked by the independent verifier).

Units: GeoJSON positions ``[lon, lat]`` WGS84 degrees (RFC 7946); times in minutes from midnight
with ``HH:MM`` companions; persons; percentages 0..100; utilisation as a fraction of a quota.
Errors: ``InvalidInput(field, value, message)`` for a bad upload or request (HTTP 422 in the app).
"""

from __future__ import annotations

import json
import math
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from shapely.geometry import MultiPoint, mapping

from api.services import tours
from instances.demand import DemandError, groups_from_records, groups_to_records
from instances.drones import read_drone_demand
from instances.flights import read_bookings_csv
from instances.paths import AIRSPACE_GEOJSON, DEMAND_PEAK_DAY_CSV, DRONE_DEMAND_CSV, FLIGHT_BOOKINGS_CSV
from instances.stations import read_stations
from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network
from optimizer.core.stop import StoppingCriterion
from optimizer.scenarios.report import SERVED_SHARE, headlines
from optimizer.tours.report import routes_geojson, site_slot_usage, to_dict

DEMAND_SUFFIXES = (".csv", ".json")
"""Demand files the page can upload (the readers of ``instances.demand``)."""
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
"""Largest uploaded file, bytes (the app's body limit applies too)."""
HEADLINE_SHARE = 100 * SERVED_SHARE
"""Served share (%) below which a headline names the limit (the scenario report's ``SERVED_SHARE``)."""


def _feature(geometry: Mapping[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": dict(geometry), "properties": props}


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _clock(minutes: float) -> str:
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


@lru_cache(maxsize=1)
def _airspace_doc() -> dict[str, Any]:
    return json.loads(Path(AIRSPACE_GEOJSON).read_text(encoding="utf-8"))


def map_layers(network: Network | None = None) -> dict[str, Any]:
    """The vector layers of the page's map (drawn without any tile server).

    Returns ``{"sites", "roads", "zones", "stations", "no_fly", "bbox"}``: GeoJSON
    FeatureCollections of the network's sites (Point; ``id``, ``name_en``, ``name_zh``, ``kind``,
    ``score``, ``daily_quota``/``slot_quota`` persons, ``hub`` true for score 0), roads
    (LineString between the two sites, straight; ``a``, ``b``, ``name``, ``length_km``,
    ``travel_min``), rings and circles (``zone_id``, ``name``, ``kind`` "ring" | "circle";
    a ring is a closed LineString through its members in file order, a circle the convex hull of its
    members, buffered by 0.01 degree), stations of ``instances/lhasa/stations.csv`` (``site_id``,
    ``kind``, ``status``, ``capacity``) and the no-fly zones of ``instances/lhasa/airspace.geojson``
    as they are; ``bbox`` is ``[lon_min, lat_min, lon_max, lat_max]`` of the sites.
    Raises ``InvalidInput`` when a data file is broken.
    """
    net = network if network is not None else tours.lhasa_network()
    sites = [_feature({"type": "Point", "coordinates": [s.lon, s.lat]}, id=s.id, name_en=s.name_en,
                      name_zh=s.name_zh, kind=s.kind, score=s.score, visit_min=s.visit_min,
                      open=_clock(s.window[0]), close=_clock(s.window[1]), daily_quota=s.daily_quota,
                      slot_quota=s.slot_quota, hub=not s.is_poi, elevation_m=s.elevation_m)
             for s in net.sites]
    roads = []
    for r in net.roads:
        a, b = net.site(r.a), net.site(r.b)
        roads.append(_feature({"type": "LineString", "coordinates": [[a.lon, a.lat], [b.lon, b.lat]]},
                              a=r.a, b=r.b, name=r.name, length_km=r.length_km, travel_min=r.travel_min))
    zones = []
    for zid, members in net.zones.items():
        pts = [(net.site(m).lon, net.site(m).lat) for m in members if net.has_site(m)]
        if not pts:
            continue
        kind = "ring" if zid.upper().startswith("R") else "circle"
        name = net.zone_names.get(zid, zid)
        if kind == "ring" and len(pts) >= 2:
            geom = {"type": "LineString", "coordinates": [list(p) for p in pts + [pts[0]]]}
        else:
            geom = mapping(MultiPoint(pts).convex_hull.buffer(0.01))
        zones.append(_feature(geom, zone_id=zid, name=name, kind=kind, members=list(members)))
    stations = []
    for st in read_stations(network=net):
        s = net.site(st.site_id)
        stations.append(_feature({"type": "Point", "coordinates": [s.lon, s.lat]}, site_id=st.site_id,
                                 name_en=s.name_en, name_zh=s.name_zh, kind=st.kind, status=st.status,
                                 capacity=st.capacity))
    no_fly = [f for f in _airspace_doc().get("features", []) if f.get("properties", {}).get("kind") == "no_fly"]
    lons = [s.lon for s in net.sites]
    lats = [s.lat for s in net.sites]
    return {"sites": _collection(sites), "roads": _collection(roads), "zones": _collection(zones),
            "stations": _collection(stations), "no_fly": _collection(no_fly),
            "bbox": [min(lons), min(lats), max(lons), max(lats)]}


def demo_groups(network: Network | None = None) -> list[dict[str, Any]]:
    """The demo day's groups (``instances/lhasa/demand_peak_day.csv``, 320 groups) as the JSON
    records of ``POST /v1/tours/plan``."""
    net = network if network is not None else tours.lhasa_network()
    return groups_to_records(tours.read_groups(DEMAND_PEAK_DAY_CSV, net))


def demo_deliveries() -> list[dict[str, Any]]:
    """The example drone demand (``instances/lhasa/drone_demand_example.csv``, synthetic, with two rows
    meant to be refused: a 45 kg parcel and a drop in the old-city no-fly zone) as the records of
    ``POST /v1/drones/delivery-plan`` (lon/lat degrees, weight kg, open/close HH:MM)."""
    return [{"id": d.id, "lon": d.lon, "lat": d.lat, "weight_kg": d.weight_kg, "open": _clock(d.window[0]),
             "close": _clock(d.window[1]), "priority": d.priority} for d in read_drone_demand(DRONE_DEMAND_CSV)]


def demo_bookings() -> list[dict[str, Any]]:
    """The example sightseeing-flight bookings (``instances/lhasa/flight_bookings_example.csv``,
    synthetic) as the records of ``POST /v1/flights/schedule`` (times HH:MM, party size persons)."""
    return [{"id": b.id, "product_id": b.product_id, "party_size": b.party_size, "open": _clock(b.window[0]),
             "close": _clock(b.window[1]), "desired": _clock(b.desired_min)}
            for b in read_bookings_csv(FLIGHT_BOOKINGS_CSV)]


def read_demand_upload(filename: str, data: bytes, network: Network | None = None) -> list[dict[str, Any]]:
    """Validate an uploaded demand file (CSV or JSON, the layout of ``instances.demand``) and answer its
    groups as plan-request records.

    Raises ``InvalidInput`` naming the file, row, field and value (``DemandError``), or
    ``InvalidInput("file", filename, ...)`` for an unsupported name or a file over
    ``MAX_UPLOAD_BYTES``.
    """
    suffix = Path(filename or "").suffix.lower()
    if suffix not in DEMAND_SUFFIXES:
        raise InvalidInput("file", filename, f"a demand file must end in one of {', '.join(DEMAND_SUFFIXES)}")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput("file", filename, f"the file has {len(data)} bytes, more than {MAX_UPLOAD_BYTES}")
    net = network if network is not None else tours.lhasa_network()
    with tempfile.TemporaryDirectory(prefix="lhasa-upload-") as tmp:
        path = Path(tmp) / (Path(filename).name or f"demand{suffix}")
        path.write_bytes(data)
        try:
            groups = tours.read_groups(path, net)
        except DemandError as e:  # name the uploaded file, not the server's temporary copy
            raise _as_upload(e, str(path), filename) from None
    return groups_to_records(groups)


def _as_upload(e: DemandError, path: str, filename: str) -> DemandError:
    """``e`` naming the uploaded ``filename`` instead of the temporary ``path`` it was read from
    (message, ``source`` and ``value``); the row, field and message stay as they are."""
    e.source = filename
    if e.value == path:
        e.value = filename
    e.args = (str(e).replace(path, filename),)
    return e


def read_scenario_upload(filename: str, data: bytes) -> dict[str, Any]:
    """A scenario TOML (or JSON) upload as the JSON document ``POST /v1/scenarios`` takes.

    Only parsing happens here (``InvalidInput("file", filename, ...)`` naming the line of a TOML
    error); the document is validated when it is posted.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput("file", filename, f"the file has {len(data)} bytes, more than {MAX_UPLOAD_BYTES}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("file", filename, f"not UTF-8 text: {exc}") from None
    try:
        doc = json.loads(text) if filename.lower().endswith(".json") else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("file", filename, f"cannot parse: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidInput("file", filename, "the document must be a table/object")
    return doc


def day_plan(records: Sequence[Mapping[str, Any]] | None, stop: StoppingCriterion, seed: int = 0,
             network: Network | None = None) -> dict[str, Any]:
    """Plan a day for ``records`` (None: the demo day) and answer what the Day plan page draws.

    Returns ``to_dict`` of the plan (``kpis``, ``routes``, ``unserved``, ...) plus ``violations``
    (always empty: a plan the verifier rejects raises ``RuntimeError``), ``geojson`` (one
    LineString per route through its stops, one Point per visited site; ``routes_geojson``),
    ``usage`` (the rows of ``site_slot_usage``: ``site_id``, ``site_name``, ``slot``, ``slot_start``
    HH:MM, ``persons``, ``slot_quota``, ``utilisation`` fraction or null) and ``demo`` (true for the demo day).
    Raises ``InvalidInput`` for bad records.
    """
    net = network if network is not None else tours.lhasa_network()
    if records is None:
        problem, plan = tours.demo_day(stop, seed=seed)
    else:
        problem, plan = tours.plan_groups(net, groups_from_records(list(records), net), stop, seed=seed)
    out = to_dict(problem, plan)
    out["violations"] = []
    out["geojson"] = routes_geojson(problem, plan)
    usage = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
             for row in site_slot_usage(problem, plan).iter_rows(named=True)]
    out["usage"] = usage
    out["demo"] = records is None
    return out


def scenario_headlines(results: Sequence[Mapping[str, Any]], network: Network | None = None) -> list[dict[str, Any]]:
    """One line per scenario family of a run's KPI rows (``GET /v1/scenarios/{id}`` ``results``), in
    English and Chinese: ``optimizer.scenarios.report.headlines`` with the network's site names
    ("peak: the Potala Palace quota is the first limit: 100% of groups served at x1 demand, 95% at
    x1.5, 83% at x2"). Returns ``[{"family", "scenarios", "en", "zh"}]``."""
    net = network if network is not None else tours.lhasa_network()
    return headlines(results, {s.id: (s.name_en, s.name_zh) for s in net.sites}, share=HEADLINE_SHARE)


# ------------------------------------------------------------------ Week (行程) and Live day (当日运营) pages

DEMO_WEEK_SEED = 2026
"""Seed of the demo week (``instances.demo_week``; ``lhasa-ops itineraries demo-week``)."""


def demo_week_groups(n_groups: int = 1500, seed: int = DEMO_WEEK_SEED) -> list[dict[str, Any]]:
    """The demo week's demand drawn for ``n_groups`` groups (``instances.demo_week.generate_demo_week``:
    the same distributions, arrivals Mon 2026-07-06 .. Sun; 1,500 is the embedded demo week) as the
    records of ``POST /v1/itineraries/plan``. Raises ``InvalidInput("n_groups", ...)`` below 1."""
    from api.services import itineraries
    from instances.lhasa_itineraries import group_request_to_record

    return [group_request_to_record(g) for g in itineraries.demo_week(n_groups, seed)]


def week_places() -> dict[str, Any]:
    """What the Week page draws an itinerary with: every place a day route names, and the rules.

    Returns ``{"places": {id: {kind, site_id, name_en, name_zh, lon, lat, elevation_m, reach_m,
    rooms, price_band}}, "rules": {...}}``: ``kind`` is ``hotel`` (``elevation_m``: sleeping
    altitude, m; ``rooms`` per night; ``price_band``) or ``site`` (every node of the network, also
    the arrival/departure terminals; ``reach_m``: the highest altitude met on the way there from the
    nearest hotel, m, ``instances.lhasa_itineraries.unavoidable_altitudes``: what the optimizer's
    day-altitude rule checks, e.g. Namtso 5,190 m over Largen La). ``rules``: the embedded
    acclimatization rule set (``instances/lhasa/acclimatization.toml``, ``AcclimatizationRules.to_dict``).
    Positions lon/lat WGS84 degrees."""
    from api.services import itineraries
    from instances.lhasa_itineraries import unavoidable_altitudes

    data = itineraries.lhasa_data()
    net = data.network
    reach = unavoidable_altitudes(data)
    places: dict[str, dict[str, Any]] = {}
    for s in net.sites:
        places[s.id] = {"kind": "site", "site_id": s.id, "name_en": s.name_en, "name_zh": s.name_zh, "lon": s.lon,
                        "lat": s.lat, "elevation_m": s.elevation_m, "reach_m": reach.get(s.id, s.elevation_m),
                        "rooms": None, "price_band": None}
    for h in data.hotels:
        s = net.site(h.site_id)
        places[h.id] = {"kind": "hotel", "site_id": h.site_id, "name_en": h.name_en or h.id,
                        "name_zh": h.name_zh or h.name_en or h.id, "lon": s.lon, "lat": s.lat,
                        "elevation_m": h.elevation_m, "reach_m": h.elevation_m, "rooms": h.rooms,
                        "price_band": h.price_band}
    return {"places": places, "rules": data.rules.to_dict()}


def read_week_upload(filename: str, data: bytes) -> list[dict[str, Any]]:
    """Validate an uploaded multi-day demand file (CSV or JSON, ``lhasa-ops itineraries plan --demand``)
    and answer its groups as the records of ``POST /v1/itineraries/plan``.

    Raises ``InvalidInput`` naming the file, row, field and value, or ``InvalidInput("file", ...)``
    for an unsupported name or a file over ``MAX_UPLOAD_BYTES``."""
    from api.services import itineraries
    from instances.lhasa_itineraries import group_request_to_record

    suffix = Path(filename or "").suffix.lower()
    if suffix not in DEMAND_SUFFIXES:
        raise InvalidInput("file", filename, f"a demand file must end in one of {', '.join(DEMAND_SUFFIXES)}")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput("file", filename, f"the file has {len(data)} bytes, more than {MAX_UPLOAD_BYTES}")
    with tempfile.TemporaryDirectory(prefix="lhasa-upload-") as tmp:
        path = Path(tmp) / (Path(filename).name or f"week{suffix}")
        path.write_bytes(data)
        groups = itineraries.read_demand(path)
    return [group_request_to_record(g) for g in groups]


__all__ = ["DEMAND_SUFFIXES", "DEMO_WEEK_SEED", "HEADLINE_SHARE", "MAX_UPLOAD_BYTES", "day_plan",
           "demo_bookings", "demo_deliveries", "demo_groups", "demo_week_groups", "map_layers",
           "read_demand_upload", "read_scenario_upload", "read_week_upload", "scenario_headlines",
           "week_places"]

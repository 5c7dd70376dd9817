"""Reports of a drone plan: the JSON dict, polars tables, the GeoJSON map and a plot on a given ``Axes``.

Units in the outputs: times HH:MM (``fmt_clock``), weights kg, energy Wh, distance km, lon/lat WGS84
degrees. Nothing here writes a file: the caller saves.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from optimizer.core.clock import fmt_clock
from optimizer.core.serialize import json_safe
from optimizer.drones.problem import DroneProblem
from optimizer.drones.solution import DronePlan, Trip


def _trip_dict(t: Trip) -> dict[str, Any]:
    return {"drone": t.drone, "type": t.drone_type, "hub": t.hub, "depart": fmt_clock(t.depart_min),
            "return": fmt_clock(t.return_min),
            "stops": [{"delivery": s.delivery, "arrive": fmt_clock(s.arrive_min),
                       "payload_kg": round(s.payload_on_arrival_kg, 2)} for s in t.stops],
            "payload_kg": round(t.payload_kg, 2), "energy_wh": round(t.energy_wh, 1),
            "reserve_margin_wh": round(t.usable_wh - t.energy_wh, 1), "km": round(t.km, 2)}


def to_dict(problem: DroneProblem, solution: DronePlan) -> dict[str, Any]:
    """The plan as JSON-safe data.

    Keys: ``status`` (shared status word), ``served_priority``/``total_priority`` (sums of
    priorities), ``served``/``deliveries`` (counts), ``trips`` (per trip: drone, type, hub,
    ``depart``/``return`` HH:MM, ``stops`` with ``arrive`` HH:MM and ``payload_kg`` on arrival, kg,
    ``payload_kg`` kg, ``energy_wh`` Wh, ``reserve_margin_wh`` Wh, ``km`` km), ``unserved``
    (delivery, ``reason``: the detail sentence, ``code``: the reason word), ``total_energy_wh`` (Wh),
    ``total_flight_min`` (min), ``runtime_s`` (the solve's seconds, instance construction included).
    """
    return json_safe({
        "status": solution.stats.status,
        "served_priority": solution.served_priority,
        "total_priority": int(sum(d.priority for d in problem.deliveries)),
        "served": solution.served,
        "deliveries": len(problem.deliveries),
        "trips": [_trip_dict(t) for t in solution.trips],
        "unserved": [{"delivery": u.item_id, "reason": u.detail, "code": u.reason} for u in solution.unserved],
        "total_energy_wh": round(solution.total_energy_wh, 1),
        "total_flight_min": round(solution.total_flight_min, 1),
        "runtime_s": round(solution.stats.runtime_s, 3),
    })


def trips_table(problem: DroneProblem, solution: DronePlan) -> pl.DataFrame:
    """One row per trip: drone, type, hub, depart/return (min from midnight), stops (ids joined by
    spaces), n_stops, payload_kg, energy_wh, reserve_margin_wh, km."""
    rows = [{"drone": t.drone, "type": t.drone_type, "hub": t.hub, "depart_min": t.depart_min,
             "return_min": t.return_min, "stops": " ".join(s.delivery for s in t.stops), "n_stops": len(t.stops),
             "payload_kg": t.payload_kg, "energy_wh": t.energy_wh, "reserve_margin_wh": t.usable_wh - t.energy_wh,
             "km": t.km} for t in solution.trips]
    schema = {"drone": pl.Utf8, "type": pl.Utf8, "hub": pl.Utf8, "depart_min": pl.Float64, "return_min": pl.Float64,
              "stops": pl.Utf8, "n_stops": pl.Int64, "payload_kg": pl.Float64, "energy_wh": pl.Float64,
              "reserve_margin_wh": pl.Float64, "km": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def unserved_table(problem: DroneProblem, solution: DronePlan) -> pl.DataFrame:
    """One row per delivery left out: delivery, reason (word), detail, weight_kg, priority."""
    dl = {d.id: d for d in problem.deliveries}
    rows = [{"delivery": u.item_id, "reason": u.reason, "detail": u.detail,
             "weight_kg": dl[u.item_id].weight_kg if u.item_id in dl else None,
             "priority": dl[u.item_id].priority if u.item_id in dl else None} for u in solution.unserved]
    schema = {"delivery": pl.Utf8, "reason": pl.Utf8, "detail": pl.Utf8, "weight_kg": pl.Float64, "priority": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def plan_geojson(problem: DroneProblem, solution: DronePlan) -> dict[str, Any]:
    """No-fly zones (Polygon), hubs (Point), trips (LineString along the flown, detoured legs) and
    deliveries (Point, ``unserved``: the detail sentence or None) as a GeoJSON FeatureCollection."""
    unserved = {u.item_id: u.detail for u in solution.unserved}
    feats: list[dict] = []
    for z in problem.airspace.zones:
        feats.append({"type": "Feature", "properties": {"kind": "no_fly", "id": z.id, "name": z.name},
                      "geometry": {"type": "Polygon", "coordinates": [list(map(list, z.ring))]}})
    for h in problem.airspace.hubs:
        feats.append({"type": "Feature", "properties": {"kind": "hub", "id": h.id, "name": h.name},
                      "geometry": {"type": "Point", "coordinates": [h.lon, h.lat]}})
    for k, t in enumerate(solution.trips):
        line: list = []
        for leg in t.legs:
            line += [list(map(float, q)) for q in (leg if not line else leg[1:])]
        feats.append({"type": "Feature", "properties": {
            "kind": "trip", "trip": k, "drone": t.drone, "depart": fmt_clock(t.depart_min), "return": fmt_clock(t.return_min),
            "stops": [s.delivery for s in t.stops], "energy_wh": round(t.energy_wh, 1), "usable_wh": t.usable_wh,
            "payload_kg": round(t.payload_kg, 2)}, "geometry": {"type": "LineString", "coordinates": line}})
    for d in problem.deliveries:
        feats.append({"type": "Feature", "properties": {"kind": "delivery", "id": d.id, "unserved": unserved.get(d.id)},
                      "geometry": {"type": "Point", "coordinates": [d.lon, d.lat]}})
    return json_safe({"type": "FeatureCollection", "features": feats})


def plot_plan(problem: DroneProblem, solution: DronePlan, ax: Any, title: str | None = None,
              xlim: tuple[float, float] | None = None, ylim: tuple[float, float] | None = None) -> Any:
    """Draw the plan on ``ax`` (a matplotlib ``Axes``): no-fly zones (red), hubs (black squares), trips
    (coloured lines), served (o) and unserved (x) deliveries; lon/lat axes. Returns ``ax``; writes nothing.

    ``title`` defaults to a one-line summary; ``xlim``/``ylim`` (degrees) zoom in.
    """
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("tab20")
    unserved = {u.item_id for u in solution.unserved}
    for z in problem.airspace.zones:
        xs, ys = zip(*z.ring)
        ax.fill(xs, ys, color="red", alpha=0.3)
        ax.annotate(z.id, (sum(xs) / len(xs), sum(ys) / len(ys)), fontsize=7, color="darkred")
    for k, t in enumerate(solution.trips):
        pts = [q for i, leg in enumerate(t.legs) for q in (leg if i == 0 else leg[1:])]
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, lw=1.0, color=cmap(k % 20), alpha=0.85)
    for h in problem.airspace.hubs:
        ax.plot(h.lon, h.lat, "ks", ms=8)
        ax.annotate(h.id, (h.lon, h.lat), fontsize=8, xytext=(4, 4), textcoords="offset points")
    for d in problem.deliveries:
        bad = d.id in unserved
        ax.plot(d.lon, d.lat, "x" if bad else "o", color="grey" if bad else "navy", ms=4)
    ax.set_xlabel("lon")
    ax.set_ylabel("lat")
    ax.set_aspect(1 / 0.87)
    if xlim is not None:
        ax.set_xlim(*xlim)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if title is None:
        title = (f"Drone trips: {len(solution.trips)} trips, {solution.served} served, {len(solution.unserved)} "
                 f"unserved, {solution.total_energy_wh / 1000:.1f} kWh")
    ax.set_title(title, fontsize=10)
    return ax

"""Outputs of a tour plan: tables (polars), GeoJSON and a JSON document.

Pure functions of ``(problem, plan)``; nothing here solves or changes a plan, and nothing writes a
file (``api.services.tours.write_outputs`` does). Units as in the
core: times are minutes from midnight (float) with ``*_hhmm`` companions for people, durations
in minutes, distances in km, sizes and quotas in persons. The entry slot of a visit is
``floor(start / plan.slot_min + 1e-9)``, the same rule as ``TourPlan.slot_usage`` and the
verifier.

``to_dict`` (= ``plan_to_dict``) keeps the exact floats of the plan, so
``plan_from_dict(plan_to_dict(p))`` rebuilds a plan that ``optimizer.tours.verify`` judges exactly as it judges ``p`` (JSON has no
NaN or infinity: such a number is written as ``null`` and read back as NaN, which the verifier
reports as ``nonfinite``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

import polars as pl

from optimizer.core.clock import fmt_clock
from optimizer.core.errors import InvalidInput
from optimizer.core.results import FEASIBLE, SolveStats
from optimizer.tours.problem import Location, TourProblem
from optimizer.tours.solution import Route, TourPlan, TourUnserved, Visit

SLOT_EPS = 1e-9

VISITS_SCHEMA: dict[str, Any] = {
    "group_id": pl.String, "size": pl.Int64, "seq": pl.Int64, "site_id": pl.String, "site_name": pl.String,
    "arrival": pl.Float64, "wait_min": pl.Float64, "start": pl.Float64, "departure": pl.Float64,
    "arrival_hhmm": pl.String, "start_hhmm": pl.String, "departure_hhmm": pl.String, "slot": pl.Int64,
}
"""Columns of ``visits_table`` (times in minutes from midnight, ``seq`` from 1)."""

USAGE_SCHEMA: dict[str, Any] = {
    "site_id": pl.String, "site_name": pl.String, "slot": pl.Int64, "slot_start": pl.String,
    "persons": pl.Int64, "slot_quota": pl.Int64, "utilisation": pl.Float64,
}
"""Columns of ``site_slot_usage`` (``slot_quota``/``utilisation`` null when the site has no slot quota)."""

UNSERVED_SCHEMA: dict[str, Any] = {
    "group_id": pl.String, "site_id": pl.String, "reason": pl.String, "detail": pl.String,
}

def slot_index(start_min: float, slot_min: float) -> int:
    """Entry slot of a visit starting at ``start_min`` on a grid of ``slot_min`` minutes."""
    return int(math.floor(start_min / slot_min + SLOT_EPS))


def _clock(minutes: float) -> str | None:
    return fmt_clock(minutes) if _finite(minutes) else None


def _finite(x: object) -> bool:
    try:
        return math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _num(x: object) -> float | None:
    """A float for JSON: None for NaN/inf (JSON cannot hold them)."""
    return float(x) if _finite(x) else None  # type: ignore[arg-type]


def _sizes(problem: TourProblem) -> dict[str, int]:
    return {g.id: int(g.size) for g in problem.groups}


# --------------------------------------------------------------------------------------------
# tables


def visits_table(problem: TourProblem, plan: TourPlan) -> pl.DataFrame:
    """One row per visit, in route order: who, where, when (minutes and HH:MM) and the entry slot."""
    net = problem.network
    size = _sizes(problem)
    rows: dict[str, list[Any]] = {c: [] for c in VISITS_SCHEMA}
    for r in plan.routes:
        for k, v in enumerate(r.visits, start=1):
            name = net.site(v.site_id).name_en if net.has_site(v.site_id) else ""
            vals = {
                "group_id": r.group_id, "size": size.get(r.group_id), "seq": k, "site_id": v.site_id,
                "site_name": name, "arrival": _num(v.arrival), "wait_min": _num(v.wait),
                "start": _num(v.start), "departure": _num(v.departure), "arrival_hhmm": _clock(v.arrival),
                "start_hhmm": _clock(v.start), "departure_hhmm": _clock(v.departure),
                "slot": slot_index(v.start, plan.slot_min) if _finite(v.start) else None,
            }
            for c in VISITS_SCHEMA:
                rows[c].append(vals[c])
    return pl.DataFrame(rows, schema=VISITS_SCHEMA)


def site_slot_usage(problem: TourProblem, plan: TourPlan) -> pl.DataFrame:
    """Persons entering each (site, slot) used by the plan, against the site's slot quota.

    Sorted by site id and slot. ``utilisation = persons / slot_quota`` (null without a quota;
    a quota of 0 with persons gives infinity, which the verifier would report anyway).
    """
    net = problem.network
    size = _sizes(problem)
    usage: Counter[tuple[str, int]] = Counter()
    for r in plan.routes:
        for v in r.visits:
            if _finite(v.start) and r.group_id in size:
                usage[(v.site_id, slot_index(v.start, plan.slot_min))] += size[r.group_id]
    rows: dict[str, list[Any]] = {c: [] for c in USAGE_SCHEMA}
    for (sid, slot), persons in sorted(usage.items()):
        site = net.site(sid) if net.has_site(sid) else None
        quota = site.slot_quota if site is not None else None
        util = None if quota is None else (persons / quota if quota > 0 else math.inf)
        vals = {"site_id": sid, "site_name": site.name_en if site else "", "slot": slot,
                "slot_start": fmt_clock(slot * plan.slot_min), "persons": persons,
                "slot_quota": quota, "utilisation": util}
        for c in USAGE_SCHEMA:
            rows[c].append(vals[c])
    return pl.DataFrame(rows, schema=USAGE_SCHEMA)


def busiest_slots(problem: TourProblem, plan: TourPlan, k: int = 5) -> pl.DataFrame:
    """The ``k`` busiest (site, slot) pairs: highest utilisation of a slot quota first, then
    slots of sites without a quota by persons (columns of ``site_slot_usage``)."""
    if k < 0:
        raise InvalidInput("k", k, "must be >= 0")
    usage = site_slot_usage(problem, plan)
    return usage.sort(["utilisation", "persons", "site_id", "slot"],
                      descending=[True, True, False, False], nulls_last=True).head(k)


def unserved_table(plan: TourPlan) -> pl.DataFrame:
    """One row per unserved entry: group, site (null for a whole group), reason and detail."""
    rows = {c: [getattr(u, c) for u in plan.unserved] for c in UNSERVED_SCHEMA}
    return pl.DataFrame(rows, schema=UNSERVED_SCHEMA)


# --------------------------------------------------------------------------------------------
# GeoJSON


def _location_lonlat(problem: TourProblem, loc: Location) -> list[float]:
    if loc.site_id is not None:
        s = problem.network.site(loc.site_id)
        return [float(s.lon), float(s.lat)]
    return [float(loc.lon), float(loc.lat)]  # type: ignore[arg-type]


def routes_geojson(problem: TourProblem, plan: TourPlan) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (RFC 7946, ``[lon, lat]`` WGS84).

    One ``LineString`` per route through the group's start, its visited sites and its end
    (straight segments between stops, not road geometry), with properties ``kind="route"``,
    ``group_id``, ``size``, ``score``, ``n_visits``, ``depart``/``arrive_end`` (HH:MM),
    ``travel_min`` and ``distance_km``; then one ``Point`` per visited site with ``kind="site"``,
    ``site_id``, ``name``, ``visitors`` (persons) and ``groups`` (count).
    """
    net = problem.network
    groups = {g.id: g for g in problem.groups}
    features: list[dict[str, Any]] = []
    visitors: Counter[str] = Counter()
    n_groups: Counter[str] = Counter()
    for r in plan.routes:
        g = groups.get(r.group_id)
        coords: list[list[float]] = []
        if g is not None:
            coords.append(_location_lonlat(problem, g.start))
        for v in r.visits:
            if net.has_site(v.site_id):
                s = net.site(v.site_id)
                coords.append([float(s.lon), float(s.lat)])
                visitors[v.site_id] += g.size if g is not None else 0
                n_groups[v.site_id] += 1
        if g is not None:
            coords.append(_location_lonlat(problem, g.end))
        if not coords:
            continue
        if len(coords) == 1:  # a LineString needs two positions
            coords.append(list(coords[0]))
        features.append({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": coords},
            "properties": {
                "kind": "route", "group_id": r.group_id, "size": g.size if g is not None else None,
                "score": _num(r.score), "n_visits": len(r.visits),
                "depart": _clock(r.depart), "arrive_end": _clock(r.arrive_end),
                "travel_min": _num(r.travel_min), "distance_km": _num(r.distance_km),
            },
        })
    for sid in sorted(visitors, key=lambda s: (-visitors[s], s)):
        s = net.site(sid)
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(s.lon), float(s.lat)]},
            "properties": {"kind": "site", "site_id": sid, "name": s.name_en, "name_zh": s.name_zh,
                           "visitors": int(visitors[sid]), "groups": int(n_groups[sid])},
        })
    return {"type": "FeatureCollection", "features": features}


# --------------------------------------------------------------------------------------------
# JSON document


def plan_to_dict(problem: TourProblem, plan: TourPlan) -> dict[str, Any]:
    """The plan as a JSON-serialisable dict (exact floats, HH:MM companions, site names).

    Keys: ``seed``, ``iterations``, ``stopped_by``, ``runtime_s`` (from ``plan.stats``), ``slot_min``, ``kpis``, ``routes`` (each with
    ``group_id``, ``size``, ``depart``, ``arrive_end``, ``score``, ``travel_min``, ``distance_km``
    and ``visits``: ``site_id``, ``site_name``, ``arrival``, ``wait``, ``start``, ``departure``,
    ``slot``) and ``unserved`` (``group_id``, ``site_id``, ``reason``, ``detail``).
    """
    net = problem.network
    size = _sizes(problem)
    routes = []
    for r in plan.routes:
        visits = []
        for v in r.visits:
            visits.append({
                "site_id": v.site_id,
                "site_name": net.site(v.site_id).name_en if net.has_site(v.site_id) else "",
                "arrival": _num(v.arrival), "wait": _num(v.wait), "start": _num(v.start),
                "departure": _num(v.departure),
                "arrival_hhmm": _clock(v.arrival), "start_hhmm": _clock(v.start),
                "departure_hhmm": _clock(v.departure),
                "slot": slot_index(v.start, plan.slot_min) if _finite(v.start) else None,
            })
        routes.append({
            "group_id": r.group_id, "size": size.get(r.group_id),
            "depart": _num(r.depart), "arrive_end": _num(r.arrive_end),
            "depart_hhmm": _clock(r.depart), "arrive_end_hhmm": _clock(r.arrive_end),
            "score": _num(r.score), "travel_min": _num(r.travel_min), "distance_km": _num(r.distance_km),
            "visits": visits,
        })
    return {
        "seed": int(plan.stats.seed),
        "iterations": int(plan.stats.iterations),
        "stopped_by": plan.stats.stopped_by,
        "runtime_s": _num(plan.stats.runtime_s),
        "slot_min": _num(plan.slot_min),
        "kpis": {k: _num(v) for k, v in plan.kpis.items()},
        "routes": routes,
        "unserved": [{"group_id": u.group_id, "site_id": u.site_id, "reason": u.reason, "detail": u.detail}
                     for u in plan.unserved],
    }


def _get(d: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(d, Mapping):
        raise InvalidInput(where, _shown(d), "expected an object")
    if key not in d:
        raise InvalidInput(f"{where}.{key}", None, "missing key")
    return d[key]


def _shown(x: Any) -> Any:
    """A value as an error shows it: short values as they are, long containers by type and size."""
    if isinstance(x, (list, tuple, Mapping)) and len(x) > 3:
        return f"<{type(x).__name__} of {len(x)}>"
    return x


def _list(d: Mapping[str, Any], key: str, where: str) -> list[Any]:
    x = _get(d, key, where)
    if not isinstance(x, list):
        raise InvalidInput(f"{where}.{key}", _shown(x), "expected a list")
    return x


def _text(d: Mapping[str, Any], key: str, where: str, optional: bool = False) -> str | None:
    x = _get(d, key, where) if not optional or (isinstance(d, Mapping) and key in d) else None
    if x is None and optional:
        return None
    if not isinstance(x, str) or not x:
        raise InvalidInput(f"{where}.{key}", _shown(x), "expected a non-empty string")
    return x


def _float(d: Mapping[str, Any], key: str, where: str) -> float:
    x = _get(d, key, where)
    if x is None:
        return math.nan  # written for a NaN/inf: the verifier reports it as nonfinite
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise InvalidInput(f"{where}.{key}", _shown(x), "expected a number")
    return float(x)


def _opt_int(d: Mapping[str, Any], key: str, where: str) -> int:
    x = d.get(key)
    if x is None:
        return 0
    if isinstance(x, bool) or not isinstance(x, int) or x < 0:
        raise InvalidInput(f"{where}.{key}", _shown(x), "expected an integer >= 0")
    return x


def plan_from_dict(d: Mapping[str, Any], where: str = "plan") -> TourPlan:
    """Rebuild a ``TourPlan`` from ``plan_to_dict``'s output (extra keys are ignored).

    Raises ``InvalidInput`` naming the path of a missing field or one of the wrong type
    (``plan.routes[3].visits[0].arrival``; ``where`` is the prefix). Numbers are not otherwise
    checked: run ``verify`` on the result for that.
    """
    if not isinstance(d, Mapping):
        raise InvalidInput(where, _shown(d), "expected an object")
    routes = []
    for i, r in enumerate(_list(d, "routes", where)):
        at = f"{where}.routes[{i}]"
        visits = []
        for k, v in enumerate(_list(r, "visits", at)):
            vat = f"{at}.visits[{k}]"
            visits.append(Visit(site_id=_text(v, "site_id", vat), arrival=_float(v, "arrival", vat),
                                wait=_float(v, "wait", vat), start=_float(v, "start", vat),
                                departure=_float(v, "departure", vat)))
        routes.append(Route(group_id=_text(r, "group_id", at), depart=_float(r, "depart", at),
                            visits=tuple(visits), arrive_end=_float(r, "arrive_end", at),
                            score=_float(r, "score", at), travel_min=_float(r, "travel_min", at),
                            distance_km=_float(r, "distance_km", at)))
    unserved = []
    for k, u in enumerate(_list(d, "unserved", where)):
        at = f"{where}.unserved[{k}]"
        _get(u, "site_id", at)
        detail = u.get("detail", "")
        unserved.append(TourUnserved.of(_text(u, "group_id", at), _text(u, "site_id", at, optional=True),
                                        _text(u, "reason", at), detail if isinstance(detail, str) else str(detail)))
    raw_kpis = d.get("kpis") or {}
    if not isinstance(raw_kpis, Mapping):
        raise InvalidInput(f"{where}.kpis", _shown(raw_kpis), "expected an object of numbers")
    kpis = {str(k): _float(raw_kpis, k, f"{where}.kpis") for k in raw_kpis}
    runtime = d.get("runtime_s", 0.0)
    if runtime is not None and (isinstance(runtime, bool) or not isinstance(runtime, (int, float))):
        raise InvalidInput(f"{where}.runtime_s", _shown(runtime), "expected a number")
    stopped_by = d.get("stopped_by") or ""
    if not isinstance(stopped_by, str):
        raise InvalidInput(f"{where}.stopped_by", _shown(stopped_by), "expected a string")
    stats = SolveStats(status=FEASIBLE, objective=kpis.get("total_score"),
                       runtime_s=math.nan if runtime is None else float(runtime),
                       iterations=_opt_int(d, "iterations", where), stopped_by=stopped_by,
                       seed=_opt_int(d, "seed", where))
    return TourPlan(routes=tuple(routes), unserved=tuple(unserved), kpis=kpis,
                    slot_min=_float(d, "slot_min", where), stats=stats)


def to_dict(problem: TourProblem, plan: TourPlan) -> dict[str, Any]:
    """The family's JSON form of a plan: ``plan_to_dict``."""
    return plan_to_dict(problem, plan)

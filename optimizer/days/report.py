"""A live day as JSON: the stored document of a version (``state_to_dict`` / ``state_from_dict``,
lossless), the answer of ``GET /v1/days/{date}`` (``to_dict``), changes and alternatives.

Times are minutes from midnight (floats) with an ``HH:MM`` twin where a person reads them.
"""

from __future__ import annotations

from typing import Any

from optimizer.core.clock import fmt_clock
from optimizer.days.problem import DayEvent, Segment
from optimizer.days.solve import Alternative, GroupChange
from optimizer.days.state import DayState, day_kpis, group_visits
from optimizer.tours.problem import Location, TourGroup
from optimizer.tours.solution import Route, TourUnserved, Visit


def _loc(loc: Location) -> Any:
    return loc.site_id if loc.site_id is not None else {"lat": loc.lat, "lon": loc.lon}


def _loc_back(d: Any) -> Location:
    return Location(site_id=d) if isinstance(d, str) else Location(lat=float(d["lat"]), lon=float(d["lon"]))


def group_to_dict(g: TourGroup) -> dict[str, Any]:
    return {
        "id": g.id,
        "size": g.size,
        "start": _loc(g.start),
        "end": _loc(g.end),
        "day_window": list(g.day_window),
        "must_visit": list(g.must_visit),
        "interests": dict(g.interests),
        "zone": g.zone,
    }


def group_from_dict(d: dict[str, Any]) -> TourGroup:
    return TourGroup(
        id=d["id"],
        size=int(d["size"]),
        start=_loc_back(d["start"]),
        end=_loc_back(d["end"]),
        day_window=(float(d["day_window"][0]), float(d["day_window"][1])),
        must_visit=tuple(d["must_visit"]),
        interests=dict(d["interests"]),
        zone=d["zone"],
    )


def route_to_dict(r: Route | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "group_id": r.group_id,
        "depart": r.depart,
        "arrive_end": r.arrive_end,
        "score": r.score,
        "travel_min": r.travel_min,
        "distance_km": r.distance_km,
        "visits": [[v.site_id, v.arrival, v.wait, v.start, v.departure] for v in r.visits],
    }


def route_from_dict(d: dict[str, Any] | None) -> Route | None:
    if d is None:
        return None
    return Route(
        group_id=d["group_id"],
        depart=float(d["depart"]),
        arrive_end=float(d["arrive_end"]),
        score=float(d["score"]),
        travel_min=float(d["travel_min"]),
        distance_km=float(d["distance_km"]),
        visits=tuple(Visit(s, float(a), float(w), float(st), float(dp)) for s, a, w, st, dp in d["visits"]),
    )


def segment_to_dict(s: Segment) -> dict[str, Any]:
    return {
        "epoch": s.epoch,
        "start": _loc(s.start),
        "end": _loc(s.end),
        "open": s.open,
        "close": s.close,
        "must_visit": list(s.must_visit),
        "route": route_to_dict(s.route),
        "fixed": s.fixed,
    }


def segment_from_dict(d: dict[str, Any]) -> Segment:
    return Segment(
        epoch=int(d["epoch"]),
        start=_loc_back(d["start"]),
        end=_loc_back(d["end"]),
        open=float(d["open"]),
        close=float(d["close"]),
        must_visit=tuple(d["must_visit"]),
        route=route_from_dict(d["route"]),
        fixed=bool(d["fixed"]),
    )


def unserved_to_dict(u: TourUnserved) -> dict[str, Any]:
    return {"group_id": u.group_id, "site_id": u.site_id, "reason": u.reason, "detail": u.detail}


def event_to_dict(e: DayEvent) -> dict[str, Any]:
    return {
        "kind": e.kind,
        "at": e.at,
        "at_hhmm": fmt_clock(e.at),
        "site_id": e.site_id,
        "road": list(e.road) if e.road else None,
        "quota": e.quota,
        "group_id": e.group_id,
        "delay_min": e.delay_min,
    }


def event_from_dict(d: dict[str, Any]) -> DayEvent:
    return DayEvent(
        kind=d["kind"],
        at=float(d["at"]),
        site_id=d.get("site_id"),
        road=tuple(d["road"]) if d.get("road") else None,
        quota=d.get("quota"),
        group_id=d.get("group_id"),
        delay_min=d.get("delay_min"),
    )


def state_to_dict(state: DayState) -> dict[str, Any]:
    """Everything of a version but the base network (lossless; ``state_from_dict`` reads it back)."""
    return {
        "date": state.date,
        "version": state.version,
        "slot_min": state.slot_min,
        "clock": state.clock,
        "groups": [group_to_dict(g) for g in state.groups.values()],
        "segments": {gid: [segment_to_dict(s) for s in segs] for gid, segs in state.segments.items()},
        "unserved": {gid: [unserved_to_dict(u) for u in us] for gid, us in state.unserved.items() if us},
        "cancelled": sorted(state.cancelled),
        "pinned": {g: dict(w) for g, w in state.pinned.items()},
        "events": [event_to_dict(e) for e in state.events],
    }


def state_from_dict(d: dict[str, Any], base) -> DayState:
    st = DayState(
        date=d["date"],
        base=base,
        slot_min=float(d["slot_min"]),
        clock=float(d["clock"]),
        version=int(d["version"]),
    )
    for gd in d["groups"]:
        g = group_from_dict(gd)
        st.groups[g.id] = g
        st.segments[g.id] = [segment_from_dict(s) for s in d["segments"].get(g.id, [])]
        st.unserved[g.id] = [
            TourUnserved.of(u["group_id"], u["site_id"], u["reason"], u["detail"])
            for u in d["unserved"].get(g.id, [])
        ]
    st.cancelled = set(d["cancelled"])
    st.pinned = {g: {s: float(t) for s, t in w.items()} for g, w in d.get("pinned", {}).items()}
    st.events = [event_from_dict(e) for e in d["events"]]
    return st


def change_to_dict(c: GroupChange) -> dict[str, Any]:
    return {
        "group_id": c.group_id,
        "before": [{"site_id": s, "start": t, "start_hhmm": fmt_clock(t)} for s, t in c.before],
        "after": [{"site_id": s, "start": t, "start_hhmm": fmt_clock(t)} for s, t in c.after],
        "lost": [{"site_id": s, "reason": r} for s, r in c.lost],
    }


def alternative_to_dict(a: Alternative) -> dict[str, Any]:
    return {
        "kind": a.kind,
        "site_id": a.site_id,
        "replaces": a.replaces,
        "slot_start": a.slot_start,
        "slot_hhmm": fmt_clock(a.slot_start),
        "score": a.score,
        "score_loss": a.score_loss,
        "extra_travel_min": a.extra_travel_min,
        "extra_wait_min": a.extra_wait_min,
        "must_visit": list(a.must_visit),
        "wanted_slots": {s: fmt_clock(t) for s, t in a.wanted_slots},
        "route": day_route_dict(a.route),
    }


def day_route_dict(r: Route | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "group_id": r.group_id,
        "depart_hhmm": fmt_clock(r.depart),
        "arrive_end_hhmm": fmt_clock(r.arrive_end),
        "score": r.score,
        "travel_min": r.travel_min,
        "visits": [
            {
                "site_id": v.site_id,
                "start": v.start,
                "start_hhmm": fmt_clock(v.start),
                "departure_hhmm": fmt_clock(v.departure),
            }
            for v in r.visits
        ],
    }


def state_dict(state: DayState, groups: bool = True) -> dict[str, Any]:
    """The current version for a person or a client: KPIs, events, and per group its visits over
    the whole day (every segment), whether it is cancelled, and what it leaves out."""
    out: dict[str, Any] = {
        "date": state.date,
        "version": state.version,
        "clock": state.clock,
        "clock_hhmm": fmt_clock(state.clock),
        "slot_min": state.slot_min,
        "kpis": day_kpis(state),
        "events": [event_to_dict(e) for e in state.events],
    }
    if groups:
        rows = []
        for gid, g in state.groups.items():
            vs = group_visits(state, gid)
            rows.append(
                {
                    "group_id": gid,
                    "size": g.size,
                    "cancelled": gid in state.cancelled,
                    "visits": [
                        {
                            "site_id": v.site_id,
                            "start": v.start,
                            "start_hhmm": fmt_clock(v.start),
                            "departure_hhmm": fmt_clock(v.departure),
                        }
                        for v in vs
                    ],
                    "fixed_visits": sum(
                        len(s.route.visits) for s in state.segments[gid] if s.fixed and s.route is not None
                    ),
                    "unserved": [unserved_to_dict(u) for u in state.unserved.get(gid, [])],
                }
            )
        out["groups"] = rows
    return out


def to_dict(problem, plan) -> dict[str, Any]:
    """A day played online (``DayProblem``, ``DayPlan``) as JSON: the last version
    (``state_dict``), every version's summary, what is left out, and the stats."""
    out = state_dict(plan.state)
    out["versions"] = [
        {
            "version": v.version,
            "reason": v.reason,
            "kind": v.kind,
            "groups_changed": v.groups_changed,
            "runtime_s": v.runtime_s,
        }
        for v in plan.versions
    ]
    out["unserved"] = [{"item_id": u.item_id, "reason": u.reason, "detail": u.detail} for u in plan.unserved]
    s = plan.stats
    out["stats"] = {
        "status": s.status,
        "objective": s.objective,
        "runtime_s": s.runtime_s,
        "iterations": s.iterations,
        "stopped_by": s.stopped_by,
        "seed": s.seed,
    }
    return out

"""Outputs of an itinerary plan computed from the problem and the plan only: a JSON document,
tables (polars) and a plot on a given matplotlib Axes (nothing is written or shown here).

The Lhasa use case adds calendar dates and its own tables in :mod:`api.services.itineraries`;
these are the family-level, data-agnostic ones (times in minutes from midnight of each day).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from optimizer.itineraries.problem import ItineraryProblem
from optimizer.itineraries.solution import ItinerarySolution

__all__ = ["hotel_nights_table", "plot_group_days", "to_dict", "visits_table"]


def to_dict(problem: ItineraryProblem, solution: ItinerarySolution) -> dict[str, Any]:
    """JSON-ready dict: score, stats, unserved, and per group its nights and day routes."""
    st = solution.stats
    return {
        "problem": problem.name,
        "score": solution.score,
        "stats": {"status": st.status, "objective": st.objective, "runtime_s": st.runtime_s,
                  "iterations": st.iterations, "stopped_by": st.stopped_by, "seed": st.seed},
        "unserved": [{"item_id": u.item_id, "reason": u.reason, "detail": u.detail} for u in solution.unserved],
        "itineraries": [
            {"group_id": it.group_id, "score": it.score, "nights": list(it.nights),
             "days": [{"day": r.day, "from": r.from_place, "to": r.to_place, "depart_min": r.depart_min,
                       "return_min": r.return_min, "lunch_start_min": r.lunch_start_min,
                       "visits": [{"site_id": v.site_id, "arrival_min": v.arrival_min, "start_min": v.start_min,
                                   "end_min": v.end_min} for v in r.visits]} for r in it.days]}
            for it in solution.itineraries],
    }


def visits_table(problem: ItineraryProblem, solution: ItinerarySolution) -> pl.DataFrame:
    """One row per visit: group, day, order, site, arrival/start/end minutes, group size."""
    sizes = {g.id: g.size for g in problem.groups}
    rows = [{"group_id": it.group_id, "day": r.day, "order": k, "site_id": v.site_id, "arrival_min": v.arrival_min,
             "start_min": v.start_min, "end_min": v.end_min, "persons": sizes[it.group_id]}
            for it in solution.itineraries for r in it.days for k, v in enumerate(r.visits)]
    schema = {"group_id": pl.Utf8, "day": pl.Int64, "order": pl.Int64, "site_id": pl.Utf8, "arrival_min": pl.Float64,
              "start_min": pl.Float64, "end_min": pl.Float64, "persons": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def hotel_nights_table(problem: ItineraryProblem, solution: ItinerarySolution) -> pl.DataFrame:
    """Rooms taken per hotel and night against the hotel's rooms (None: unlimited)."""
    groups = {g.id: g for g in problem.groups}
    used: dict[tuple[str, int], int] = {}
    for it in solution.itineraries:
        g = groups[it.group_id]
        for i, h in enumerate(it.nights):
            used[(h, g.arrival_day + i)] = used.get((h, g.arrival_day + i), 0) + g.rooms
    rooms = {h.id: h.rooms for h in problem.hotels}
    rows = [{"hotel_id": h, "night": k, "rooms_used": n, "rooms": rooms[h]} for (h, k), n in sorted(used.items())]
    return pl.DataFrame(rows, schema={"hotel_id": pl.Utf8, "night": pl.Int64, "rooms_used": pl.Int64,
                                      "rooms": pl.Int64})


def plot_group_days(problem: ItineraryProblem, solution: ItinerarySolution, group_id: str, ax) -> None:
    """Gantt chart of one group's stay on ``ax``: a row per day, bars for visits (labelled with the
    site id) and lunch, the night's hotel at the right. ``KeyError`` if the group has no plan."""
    it = solution.itinerary(group_id)
    if it is None:
        raise KeyError(group_id)
    g = next(g for g in problem.groups if g.id == group_id)
    for r in it.days:
        y = r.day
        ax.plot([r.depart_min, r.return_min], [y, y], color="0.7", lw=1)
        for v in r.visits:
            ax.barh(y, v.end_min - v.start_min, left=v.start_min, height=0.5, color="tab:blue")
            ax.text((v.start_min + v.end_min) / 2, y, v.site_id, ha="center", va="center", fontsize=7, color="white")
        if r.lunch_start_min is not None and g.lunch is not None:
            ax.barh(y, g.lunch.duration_min, left=r.lunch_start_min, height=0.5, color="tab:orange")
        ax.text(r.return_min + 10, y, r.to_place, va="center", fontsize=7)
    ax.set_yticks([r.day for r in it.days])
    ax.set_yticklabels([f"day {r.day}" for r in it.days])
    ax.invert_yaxis()
    ax.set_xlabel("minutes from midnight")
    ax.set_title(f"{group_id}: score {it.score:g}")

"""Reports of the flights family: JSON documents, tables (polars) and plots on a caller's ``Axes``.

* :func:`to_dict` (menu or schedule), JSON-safe through ``optimizer.core.serialize.json_safe``;
* tables: :func:`products_table`, :func:`departures_table`, :func:`unserved_table`;
* plots that draw on a matplotlib ``Axes`` and write no file (the caller saves):
  :func:`plot_menu` (no-fly zones in red, vertiports as squares, viewpoints as stars, one line per
  route) and :func:`plot_gantt` (one row per aircraft grouped by vertiport, a solid bar per flight
  from take-off to landing labelled with the product and the passengers on board, e.g.
  ``evtol_30 4/4`` (product id without the vertiport prefix), a hatched bar for the ground time that
  follows (turnaround + recharge/refuel), the aircraft's unavailable hours greyed out; one colour per
  vertiport; the x axis is the clock, HH:MM).

Units: minutes from midnight (and HH:MM), km, m AMSL, kg/m^3.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from optimizer.core.clock import fmt_clock
from optimizer.core.serialize import json_safe
from optimizer.flights.problem import DesignProblem, ScheduleProblem, cell_id
from optimizer.flights.solution import Menu, Schedule

__all__ = ["PRODUCT_COLUMNS", "departures_table", "gantt_figsize", "menu_dict", "plot_gantt", "plot_menu",
           "products_table", "schedule_dict", "to_dict", "unserved_table"]

PRODUCT_COLUMNS = ("id", "vertiport_id", "aircraft_type_id", "class_min", "block_min", "score", "distance_km",
                   "viewpoints", "seats", "flying_min", "viewing_min", "takeoff_landing_min", "max_alt_m", "rho_kg_m3",
                   "usable_min", "optimal")


def to_dict(problem: DesignProblem | ScheduleProblem, solution: Menu | Schedule) -> dict[str, Any]:
    """The JSON document of a menu (:func:`menu_dict`) or a schedule (:func:`schedule_dict`)."""
    if isinstance(solution, Menu):
        return menu_dict(problem, solution)  # type: ignore[arg-type]
    return schedule_dict(problem, solution)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------- menu
def _product_rows(problem: DesignProblem, menu: Menu) -> list[dict[str, Any]]:
    rows = []
    for r in menu.routes:
        p = r.product
        rows.append({"id": p.id, "vertiport_id": p.vertiport_id, "aircraft_type_id": p.aircraft_type_id,
                     "class_min": r.class_min, "block_min": p.block_min, "score": p.score,
                     "distance_km": round(p.distance_km, 3), "viewpoints": list(p.viewpoints),
                     "seats": problem.data.aircraft[p.aircraft_type_id].seats, "flying_min": round(r.flying_min, 2),
                     "viewing_min": round(r.viewing_min, 2), "takeoff_landing_min": r.overhead_min,
                     "max_alt_m": r.max_alt_m, "rho_kg_m3": round(r.rho, 4), "usable_min": round(r.usable_min, 2),
                     "optimal": r.optimal, "path": [[round(x, 6), round(y, 6)] for x, y in r.path]})
    return rows


def _cells(problem: DesignProblem, menu: Menu) -> list[dict[str, Any]]:
    """Every cell in menu order: the offer, or the unserved cell with ``product_id`` None and the reason."""
    offers = {cell_id(o.vertiport_id, o.aircraft_type_id, o.class_min): o for o in menu.offers}
    unserved = {u.item_id: u for u in menu.unserved}
    out = []
    for v, a, d in problem.cells():
        cid = cell_id(v, a, d)
        o = offers.get(cid)
        if o is not None:
            out.append({"vertiport_id": v, "aircraft_type_id": a, "class_min": d, "product_id": o.product_id,
                        "score": o.score, "block_min": o.block_min, "note": o.note, "reason": None})
        else:
            u = unserved.get(cid)
            out.append({"vertiport_id": v, "aircraft_type_id": a, "class_min": d, "product_id": None, "score": 0.0,
                        "block_min": None, "note": u.detail if u is not None else "",
                        "reason": u.reason if u is not None else None})
    return out


def menu_dict(problem: DesignProblem, menu: Menu) -> dict[str, Any]:
    """The menu as a JSON-safe dict.

    ``status``; ``temperature_c``; ``runtime_s``; ``products`` (FlightProduct fields + the numbers behind
    them + ``path`` as [[lon, lat], ...]); ``offers`` (every vertiport x aircraft x class cell, in menu
    order; ``reason`` None, or for a cell without a product the reason word, with ``product_id`` None and
    ``note`` the reason in words); ``unavailable`` (those cells).
    """
    offers = _cells(problem, menu)
    return json_safe({"status": menu.stats.status, "temperature_c": problem.temperature_c,
                      "runtime_s": round(menu.stats.runtime_s, 3), "products": _product_rows(problem, menu),
                      "offers": offers, "unavailable": [o for o in offers if o["product_id"] is None]})


def products_table(problem: DesignProblem, menu: Menu) -> pl.DataFrame:
    """One row per product, columns ``PRODUCT_COLUMNS`` (viewpoints ``;``-separated)."""
    rows = [{c: (";".join(r[c]) if c == "viewpoints" else r[c]) for c in PRODUCT_COLUMNS}
            for r in _product_rows(problem, menu)]
    return pl.DataFrame(rows, schema={c: _PRODUCT_TYPES[c] for c in PRODUCT_COLUMNS})


_PRODUCT_TYPES = {"id": pl.Utf8, "vertiport_id": pl.Utf8, "aircraft_type_id": pl.Utf8, "class_min": pl.Int64,
                  "block_min": pl.Int64, "score": pl.Float64, "distance_km": pl.Float64, "viewpoints": pl.Utf8,
                  "seats": pl.Int64, "flying_min": pl.Float64, "viewing_min": pl.Float64,
                  "takeoff_landing_min": pl.Float64, "max_alt_m": pl.Float64, "rho_kg_m3": pl.Float64,
                  "usable_min": pl.Float64, "optimal": pl.Boolean}


def plot_menu(problem: DesignProblem, menu: Menu, ax: Any, zoom: tuple | None = None, title: str | None = None) -> Any:
    """Draw the no-fly zones, vertiports, viewpoints and every route of ``menu`` on ``ax``.

    ``zoom``: ((lon_min, lon_max), (lat_min, lat_max)) to show, or None for the whole region. Returns ``ax``.
    """
    import matplotlib.pyplot as plt

    data = problem.data
    cmap = plt.get_cmap("tab20")
    for z in data.airspace.zones:
        xs, ys = zip(*z.ring, strict=True)
        ax.fill(xs, ys, color="red", alpha=0.3)
        ax.annotate(z.id, (sum(xs) / len(xs), sum(ys) / len(ys)), fontsize=7, color="darkred")
    for k, r in enumerate(menu.routes):
        xs, ys = zip(*r.path, strict=True)
        ax.plot(xs, ys, lw=1.2, color=cmap(k % 20), alpha=0.85, label=f"{r.product.id} ({r.product.score:g})")
    for v in data.viewpoints.values():
        ax.plot(v.lon, v.lat, "*", color="goldenrod", ms=10, mec="k", mew=0.4)
        ax.annotate(v.id, (v.lon, v.lat), fontsize=6, xytext=(3, -8), textcoords="offset points")
    for p in data.vertiports.values():
        ax.plot(p.lon, p.lat, "ks", ms=8)
        ax.annotate(p.id, (p.lon, p.lat), fontsize=8, weight="bold", xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("lon")
    ax.set_ylabel("lat")
    ax.set_aspect(1 / 0.87)
    if zoom is not None:
        ax.set_xlim(*zoom[0])
        ax.set_ylim(*zoom[1])
    if title is None:
        title = f"Sightseeing products: {len(menu.routes)} routes, {len(menu.unserved)} unavailable cells"
    ax.set_title(title, fontsize=10)
    return ax


# ----------------------------------------------------------------------------------------------- schedule
def schedule_dict(problem: ScheduleProblem, schedule: Schedule) -> dict[str, Any]:
    """The schedule as a JSON-safe dict: ``status``, ``kpis``, ``departures`` (HH:MM and minutes),
    ``unassigned`` (booking_id, reason, detail: the schedule's ``unserved``) and ``stats`` (model size
    and back-end figures)."""
    st = schedule.stats
    seats = sum(d.seats for d in schedule.departures)
    want = {b.id: b.desired_min for b in problem.bookings}
    devs = [abs(d.start_min - want[b]) for d in schedule.departures for b in d.booking_ids]
    return json_safe({
        "status": st.status,
        "kpis": {
            "bookings": len(problem.bookings),
            "bookings_served": schedule.bookings_served,
            "passengers": schedule.passengers,
            "passengers_requested": schedule.passengers_requested,
            "departures": len(schedule.departures),
            "seat_load_factor": round(schedule.passengers / seats, 4) if seats else 0.0,
            "deviation_min": schedule.deviation_min,
            "mean_abs_deviation_min": round(sum(devs) / len(devs), 2) if devs else 0.0,
            "objective": st.objective,
            "bound": st.bound,
            "gap": st.gap,
            "passengers_bound": schedule.passengers_bound,
            "passengers_gap": schedule.passengers_gap,
            "weight_per_passenger": schedule.weight_per_passenger,
            "wall_s": round(st.runtime_s, 3),
        },
        "departures": [{"aircraft_id": d.aircraft_id, "product_id": d.product_id, "vertiport_id": d.vertiport_id,
                        "start_min": d.start_min, "land_min": d.land_min, "ready_min": d.ready_min,
                        "start": fmt_clock(d.start_min), "land": fmt_clock(d.land_min), "seats": d.seats,
                        "passengers": d.passengers, "booking_ids": list(d.booking_ids)} for d in schedule.departures],
        "unassigned": [{"booking_id": u.item_id, "reason": u.reason, "detail": u.detail} for u in schedule.unserved],
        "stats": schedule.model_stats,
        "reproducible": schedule.model_stats.get("reproducible"),
        "reproducible_note": schedule.model_stats.get("reproducible_note"),
    })


def departures_table(problem: ScheduleProblem, schedule: Schedule) -> pl.DataFrame:
    """One row per departure: aircraft_id, product_id, vertiport_id, start, land, ready (HH:MM), seats,
    passengers, booking_ids (``;``-separated)."""
    schema = {"aircraft_id": pl.Utf8, "product_id": pl.Utf8, "vertiport_id": pl.Utf8, "start": pl.Utf8,
              "land": pl.Utf8, "ready": pl.Utf8, "seats": pl.Int64, "passengers": pl.Int64, "booking_ids": pl.Utf8}
    rows = [(d.aircraft_id, d.product_id, d.vertiport_id, fmt_clock(d.start_min), fmt_clock(d.land_min),
             fmt_clock(d.ready_min), d.seats, d.passengers, ";".join(d.booking_ids)) for d in schedule.departures]
    return pl.DataFrame(rows, schema=schema, orient="row")


def unserved_table(problem: ScheduleProblem, schedule: Schedule) -> pl.DataFrame:
    """One row per booking not flown: booking_id, reason, detail."""
    rows = [(u.item_id, u.reason, u.detail) for u in schedule.unserved]
    return pl.DataFrame(rows, schema={"booking_id": pl.Utf8, "reason": pl.Utf8, "detail": pl.Utf8}, orient="row")


def _clock_span(problem: ScheduleProblem, schedule: Schedule) -> tuple[int, int]:
    times = [t for a in problem.aircraft for t in a.available] + [d.ready_min for d in schedule.departures]
    lo = (min(times) // 60) * 60 if times else 0
    hi = -(-max(times) // 60) * 60 if times else 24 * 60
    return int(lo), int(hi)


def gantt_figsize(problem: ScheduleProblem, schedule: Schedule) -> tuple[float, float]:
    """A figure size (inches) that fits :func:`plot_gantt`: width by the hours shown, height by the fleet."""
    lo, hi = _clock_span(problem, schedule)
    return (max(10.0, (hi - lo) / 45.0), 1.2 + 0.6 * max(1, len(problem.aircraft)))


def plot_gantt(problem: ScheduleProblem, schedule: Schedule, ax: Any, title: str | None = None) -> Any:
    """Draw the Gantt chart of ``schedule`` on ``ax`` (module docstring). Returns ``ax``."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    aircraft = sorted(problem.aircraft, key=lambda a: (a.vertiport_id, a.type_id, a.id))
    ports = sorted({a.vertiport_id for a in aircraft})
    cmap = plt.get_cmap("tab10")
    colour = {v: cmap(i % 10) for i, v in enumerate(ports)}
    row = {a.id: i for i, a in enumerate(aircraft)}
    lo, hi = _clock_span(problem, schedule)
    for a in aircraft:
        y = row[a.id]
        for s, e in ((lo, a.available[0]), (a.available[1], hi)):
            if e > s:
                ax.barh(y, e - s, left=s, height=0.8, color="0.9", edgecolor="none")
    for d in schedule.departures:
        y, c = row[d.aircraft_id], colour[d.vertiport_id]
        ax.barh(y, d.land_min - d.start_min, left=d.start_min, height=0.7, color=c, edgecolor="black", lw=0.5)
        if d.ready_min > d.land_min:
            ax.barh(y, d.ready_min - d.land_min, left=d.land_min, height=0.7, color="white", edgecolor=c,
                    hatch="///", lw=0.5)
        label = f"{d.product_id.removeprefix(d.vertiport_id + '_')} {d.passengers}/{d.seats}"
        ax.text(d.start_min + 0.5, y, label, va="center", ha="left", fontsize=6, rotation=90 if
                d.land_min - d.start_min < 25 else 0, clip_on=True)
    ax.set_yticks(range(len(aircraft)))
    ax.set_yticklabels([f"{a.id} ({a.type_id}, {a.seats} seats)\n@{a.vertiport_id}" for a in aircraft], fontsize=8)
    ax.invert_yaxis()
    ticks = list(range(lo, hi + 1, 60))
    ax.set_xticks(ticks)
    ax.set_xticklabels([fmt_clock(t) for t in ticks], fontsize=8)
    ax.set_xlim(lo, hi)
    ax.grid(axis="x", color="0.8", lw=0.5)
    handles = [Patch(color=colour[v], label=f"flight from {v}") for v in ports]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="///", label="ground: turnaround + recharge/refuel"))
    handles.append(Patch(color="0.9", label="aircraft unavailable"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(handles), fontsize=8,
              frameon=False)
    gap = schedule.stats.gap
    ax.set_title(title or (f"Sightseeing flights: {len(schedule.departures)} departures, {schedule.bookings_served}/"
                           f"{len(problem.bookings)} bookings, {schedule.passengers}/{schedule.passengers_requested} "
                           f"passengers ({schedule.stats.status}, gap {gap if gap is not None else float('nan'):.2%})"),
                 fontsize=10)
    return ax

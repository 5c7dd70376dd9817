"""Timeline (Gantt) chart of a day of sightseeing flights (issue 8, part B).

One row per aircraft (grouped by vertiport), a solid bar per flight from take-off to landing labelled
with the product and the passengers on board (``evtol_30 4/4``: product id without the vertiport prefix), a hatched bar for the ground
time that follows (turnaround + recharge/refuel), and the aircraft's unavailable hours greyed out.
Colours: one per vertiport. The x axis is the clock (HH:MM).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["draw_gantt"]


def draw_gantt(problem: Any, schedule: Any, path: Path | str, title: str | None = None) -> Path:
    """Save the Gantt chart of ``schedule`` (a ``FlightSchedule`` of ``problem``) as a PNG at ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from optimizer.domain import fmt_clock

    aircraft = sorted(problem.aircraft, key=lambda a: (a.vertiport_id, a.type_id, a.id))
    ports = sorted({a.vertiport_id for a in aircraft})
    cmap = plt.get_cmap("tab10")
    colour = {v: cmap(i % 10) for i, v in enumerate(ports)}
    row = {a.id: i for i, a in enumerate(aircraft)}
    times = [t for a in aircraft for t in a.available] + [d.ready_min for d in schedule.departures]
    lo = (min(times) // 60) * 60 if times else 0
    hi = -(-max(times) // 60) * 60 if times else 24 * 60
    fig, ax = plt.subplots(figsize=(max(10.0, (hi - lo) / 45.0), 1.2 + 0.6 * max(1, len(aircraft))))
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
    ticks = list(range(int(lo), int(hi) + 1, 60))
    ax.set_xticks(ticks)
    ax.set_xticklabels([fmt_clock(t) for t in ticks], fontsize=8)
    ax.set_xlim(lo, hi)
    ax.grid(axis="x", color="0.8", lw=0.5)
    handles = [Patch(color=colour[v], label=f"flight from {v}") for v in ports]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="///", label="ground: turnaround + recharge/refuel"))
    handles.append(Patch(color="0.9", label="aircraft unavailable"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(handles), fontsize=8,
              frameon=False)
    served = sum(len(d.booking_ids) for d in schedule.departures)
    ax.set_title(title or (f"Sightseeing flights: {len(schedule.departures)} departures, {served}/{len(problem.bookings)} "
                           f"bookings, {schedule.passengers}/{schedule.passengers_requested} passengers "
                           f"({schedule.status}, gap {schedule.gap if schedule.gap is not None else float('nan'):.2%})"),
                 fontsize=10)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out

"""Independent check of a sightseeing-flight schedule (issue 8, part B), from the data only.

:func:`verify_flight_schedule` re-derives every rule of the day from the problem's products,
aircraft, bookings and vertiport capacities (plain Python; nothing is taken from the model's
internals) and lists the violations; an empty list means the schedule is feasible and its
reported figures are right. Checked:

* every booking appears exactly once: on one departure or in ``unassigned`` (reason known);
* a booking flies its own product, taking off inside its window;
* a departure's aircraft exists, is based at the product's vertiport and is of the product's type;
  landing = take-off + block, ready = landing + the aircraft's ground time for that block;
* seats: passengers on a departure (sum of parties) <= the aircraft's seats, and equal to the
  reported ``passengers``;
* each aircraft's flights lie inside its availability (take-off >= open, landing <= close) and the
  vertiport's hours, and its busy intervals ``[take-off, ready)`` are pairwise disjoint;
* take-offs per vertiport and slot (``floor(take-off / slot_min)``) <= the vertiport's capacity;
* reported totals: passengers, deviation (sum of |take-off - desired|), requested passengers,
  weight W (``1 + sum_b max(desired - open, close - desired)``) and objective ``W * P - D``;
  bound >= objective when reported; ``'optimal'`` only with bound == objective.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from typing import Any

__all__ = ["verify_flight_schedule"]

REASONS = {"no_product", "party_too_large", "window", "capacity", "no_solution"}


def verify_flight_schedule(problem: Any, schedule: Any) -> list[str]:
    """Violations of ``schedule`` (a ``FlightSchedule``) against ``problem`` (a ``FlightScheduleProblem``).

    Returns a list of human-readable messages (empty: feasible and the reported figures match).
    """
    out: list[str] = []
    prods = {p.id: p for p in problem.products}
    fleet = {a.id: a for a in problem.aircraft}
    books = {b.id: b for b in problem.bookings}
    caps = {v.id: v for v in problem.vertiports}
    slot = problem.slot_min

    def port(vid: str) -> tuple[int, tuple[int, int]]:
        v = caps.get(vid)
        return (v.takeoffs_per_slot, tuple(v.hours)) if v is not None else (problem.default_takeoffs_per_slot, (0, 1440))

    seen: dict[str, str] = {}
    pax_total = dev_total = 0
    busy: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    takeoffs: dict[tuple[str, int], int] = defaultdict(int)
    for k, d in enumerate(schedule.departures):
        tag = f"departure {k} ({d.aircraft_id} {d.product_id} @{d.start_min})"
        a, p = fleet.get(d.aircraft_id), prods.get(d.product_id)
        if a is None or p is None:
            out.append(f"{tag}: unknown aircraft or product")
            continue
        if a.vertiport_id != p.vertiport_id or a.type_id != p.aircraft_type_id:
            out.append(f"{tag}: aircraft {a.id} ({a.type_id} at {a.vertiport_id}) cannot fly product {p.id} "
                       f"({p.aircraft_type_id} at {p.vertiport_id})")
        if d.vertiport_id != p.vertiport_id:
            out.append(f"{tag}: vertiport {d.vertiport_id} is not the product's {p.vertiport_id}")
        ground = a.turnaround_min + math.ceil(a.recharge_per_block_min * p.block_min - 1e-9)
        if d.land_min != d.start_min + p.block_min:
            out.append(f"{tag}: lands at {d.land_min}, expected take-off + block = {d.start_min + p.block_min}")
        if d.ready_min != d.start_min + p.block_min + ground:
            out.append(f"{tag}: ready at {d.ready_min}, expected landing + ground = {d.start_min + p.block_min + ground}")
        if d.start_min < a.available[0] or d.start_min + p.block_min > a.available[1]:
            out.append(f"{tag}: outside aircraft availability {a.available}")
        cap, hours = port(p.vertiport_id)
        if d.start_min < hours[0] or d.start_min + p.block_min > hours[1]:
            out.append(f"{tag}: outside vertiport hours {hours}")
        busy[a.id].append((d.start_min, d.start_min + p.block_min + ground, tag))
        takeoffs[(p.vertiport_id, d.start_min // slot)] += 1
        pax = 0
        for bid in d.booking_ids:
            b = books.get(bid)
            if b is None:
                out.append(f"{tag}: unknown booking {bid}")
                continue
            if bid in seen:
                out.append(f"booking {bid}: assigned twice ({seen[bid]} and {tag})")
            seen[bid] = tag
            if b.product_id != p.id:
                out.append(f"booking {bid}: booked {b.product_id}, flies {p.id} ({tag})")
            if not b.window[0] <= d.start_min <= b.window[1]:
                out.append(f"booking {bid}: take-off {d.start_min} outside window {b.window} ({tag})")
            pax += b.party_size
            dev_total += abs(d.start_min - b.desired_min)
        if pax > a.seats:
            out.append(f"{tag}: {pax} passengers on {a.seats} seats")
        if d.seats != a.seats:
            out.append(f"{tag}: reports {d.seats} seats, aircraft has {a.seats}")
        if pax != d.passengers:
            out.append(f"{tag}: reports {d.passengers} passengers, parties sum to {pax}")
        pax_total += pax
    for aid, iv in busy.items():
        iv.sort()
        for (_s1, e1, t1), (s2, _e2, t2) in itertools.pairwise(iv):
            if s2 < e1:
                out.append(f"aircraft {aid}: {t2} takes off at {s2} before {t1} is ready at {e1}")
    for (vid, s), n in sorted(takeoffs.items()):
        cap = port(vid)[0]
        if n > cap:
            out.append(f"vertiport {vid}: {n} take-offs in slot {s} ({s * slot}-{(s + 1) * slot} min), capacity {cap}")
    for u in schedule.unassigned:
        if u.booking_id not in books:
            out.append(f"unassigned: unknown booking {u.booking_id}")
        elif u.booking_id in seen:
            out.append(f"booking {u.booking_id}: both flown ({seen[u.booking_id]}) and unassigned")
        else:
            seen[u.booking_id] = "unassigned"
        if u.reason not in REASONS:
            out.append(f"booking {u.booking_id}: unknown reason {u.reason!r}")
    missing = [b for b in books if b not in seen]
    if missing:
        out.append(f"bookings neither flown nor unassigned: {missing[:10]}{' ...' if len(missing) > 10 else ''}")
    if schedule.passengers != pax_total:
        out.append(f"passengers: reported {schedule.passengers}, recomputed {pax_total}")
    if schedule.deviation_min != dev_total:
        out.append(f"deviation: reported {schedule.deviation_min}, recomputed {dev_total}")
    requested = sum(b.party_size for b in problem.bookings)
    if schedule.passengers_requested != requested:
        out.append(f"passengers requested: reported {schedule.passengers_requested}, recomputed {requested}")
    w = 1 + sum(max(b.desired_min - b.window[0], b.window[1] - b.desired_min) for b in problem.bookings)
    if schedule.weight_per_passenger != w:
        out.append(f"weight per passenger: reported {schedule.weight_per_passenger}, recomputed {w}")
    if schedule.objective is not None:
        if schedule.objective != w * pax_total - dev_total:
            out.append(f"objective: reported {schedule.objective}, recomputed {w * pax_total - dev_total}")
        if schedule.bound is not None and schedule.bound < schedule.objective:
            out.append(f"bound {schedule.bound} below objective {schedule.objective}")
        if schedule.status == "optimal" and schedule.bound is not None and schedule.bound != schedule.objective:
            out.append(f"status optimal but bound {schedule.bound} != objective {schedule.objective}")
    return out

"""Independent check of a drone plan, recomputed from the problem and the plan's own flown paths.

For every trip: the drone exists and flies from its own hub, the hub lies below the type's ceiling,
the stops are known deliveries served once, the payload fits the thrust limit at the hub's air
density, the stated path (``Trip.legs``) joins hub -> stops -> hub and keeps out of every no-fly
zone and its safety buffer (shapely, in the airspace's km plane), the leg lengths of that path give
the arrival times (inside the windows), the landing (inside the day) and the energy (the one formula
``optimizer.drones.energy.trip_energy_wh``, at most the usable battery), and the drone's next trip
departs after the battery swap. The plan's stated figures (times, km, payloads, energy, totals)
must match the recomputed ones; every delivery is served or listed as unserved with a known reason.

It uses none of the solver's matrices: leg lengths come from the stated path, not from the
visibility graph the solver built. Returns ``list[Violation]`` (empty: the plan is valid).
"""

from __future__ import annotations

import itertools
import math

import shapely
from shapely.geometry import LineString, Polygon

from optimizer.core.clock import fmt_clock
from optimizer.core.results import FEASIBLE, OPTIMAL, Violation
from optimizer.drones.problem import DroneProblem
from optimizer.drones.solution import REASONS, DronePlan, Trip

TOL_WH = 1e-3
TOL_MIN = 1e-6
TOL_DEG = 1e-7  # path end points may differ from the stop by this much (about 1 cm)
TOL_BUFFER_KM = 1e-6


def verify(problem: DroneProblem, solution: DronePlan) -> list[Violation]:
    """Every broken rule of ``solution`` for ``problem`` (rules in the module docstring)."""
    asp = problem.airspace
    hubs = asp.hubs
    hub_ix = {h.id: i for i, h in enumerate(hubs)}
    dl = {d.id: d for d in problem.deliveries}
    fleet = {d[0]: (d[1], d[2]) for d in problem.drones()}
    zones = [(z.id, Polygon([asp.to_km(lon, lat) for lon, lat in z.ring])) for z in asp.zones]
    for _, poly in zones:
        shapely.prepare(poly)
    out: list[Violation] = []
    served: dict[str, int] = {}
    last_free: dict[str, float] = {}
    day0, day1 = problem.day
    if solution.stats.status not in (OPTIMAL, FEASIBLE) and solution.trips:
        out.append(Violation("plan", "status", f"status {solution.stats.status!r} but {len(solution.trips)} trips"))
    for k, tr in enumerate(sorted(solution.trips, key=lambda t: (t.drone, t.depart_min))):
        tag = f"trip {k} ({tr.drone} {tr.depart_min:.1f})"
        if tr.drone not in fleet:
            out.append(Violation(tag, "drone", f"unknown drone {tr.drone!r}"))
            continue
        hi, tid = fleet[tr.drone]
        if tr.drone_type != tid:
            out.append(Violation(tag, "drone", f"type stated {tr.drone_type!r}, the drone is a {tid!r}"))
        if hub_ix.get(tr.hub) != hi:
            out.append(Violation(tag, "hub", f"flies from {tr.hub}, drone is based at {hubs[hi].id}"))
        ty = problem.types[tid]
        rho = problem.rho(hi)
        if hubs[hi].elevation_m + ty.cruise_agl_m > ty.ceiling_m:
            out.append(Violation(tag, "ceiling", f"hub above the {ty.id} ceiling {ty.ceiling_m} m"))
        if not tr.stops:
            out.append(Violation(tag, "empty_trip", "a trip without stops"))
            continue
        unknown = [s.delivery for s in tr.stops if s.delivery not in dl]
        if unknown:
            out.append(Violation(tag, "delivery", f"unknown deliveries {unknown}"))
            continue
        for s in tr.stops:
            if s.delivery in served:
                out.append(Violation(s.delivery, "duplicate", f"delivery {s.delivery} served twice"))
            served[s.delivery] = served.get(s.delivery, 0) + 1
        drops = [dl[s.delivery].weight_kg for s in tr.stops]
        pay = math.fsum(drops)
        if pay > ty.max_payload_kg(rho) + 1e-9:
            out.append(Violation(tag, "payload", f"payload {pay:.2f} kg above the {ty.max_payload_kg(rho):.2f} kg "
                                                 f"limit at rho={rho:.3f}"))
        if abs(pay - tr.payload_kg) > 1e-6:
            out.append(Violation(tag, "stated", f"payload stated {tr.payload_kg:.3f} kg, recomputed {pay:.3f} kg"))
        if tr.depart_min < max(day0, last_free.get(tr.drone, day0)) - TOL_MIN:
            out.append(Violation(tag, "schedule", "departs before the drone is free (battery swap) or before the day starts"))
        kms = _leg_km(problem, tr, tag, zones, out)
        if kms is None:
            continue
        t = tr.depart_min
        on_board = pay
        for s, km in zip(tr.stops, kms):
            d = dl[s.delivery]
            t += ty.leg_minutes(km)
            if abs(t - s.arrive_min) > 1e-4:
                out.append(Violation(tag, "stated", f"arrival at {s.delivery} stated {s.arrive_min:.3f}, recomputed {t:.3f}"))
            if t < d.window[0] - TOL_MIN or t > d.window[1] + TOL_MIN:
                out.append(Violation(s.delivery, "time_window", f"{tag}: {s.delivery} reached at {fmt_clock(t)} "
                                                                f"({t:.1f}), window {d.window}"))
            if abs(on_board - s.payload_on_arrival_kg) > 1e-6:
                out.append(Violation(tag, "stated", f"payload on arrival at {s.delivery} stated "
                                                    f"{s.payload_on_arrival_kg:.3f} kg, recomputed {on_board:.3f} kg"))
            t += ty.service_min
            on_board -= d.weight_kg
        t += ty.leg_minutes(kms[-1])
        e = ty.trip_energy_wh(kms, drops, rho)
        if e > ty.usable_wh + TOL_WH:
            out.append(Violation(tag, "energy", f"uses {e:.1f} Wh, only {ty.usable_wh:.1f} Wh above the reserve"))
        if abs(e - tr.energy_wh) > 1e-3 * max(1.0, e):
            out.append(Violation(tag, "energy", f"energy stated {tr.energy_wh:.2f} Wh, recomputed {e:.2f} Wh"))
        if abs(t - tr.return_min) > 1e-4:
            out.append(Violation(tag, "stated", f"return stated {tr.return_min:.3f}, recomputed {t:.3f}"))
        if abs(math.fsum(kms) - tr.km) > 1e-6 * max(1.0, tr.km):
            out.append(Violation(tag, "stated", f"km stated {tr.km:.4f}, flown path {math.fsum(kms):.4f}"))
        if t > day1 + TOL_MIN:
            out.append(Violation(tag, "day", f"returns at {t:.1f}, after the day ends at {day1}"))
        last_free[tr.drone] = t + ty.swap_min
    _check_accounting(problem, solution, served, out)
    return out


def _leg_km(problem: DroneProblem, tr: Trip, tag: str, zones: list, out: list[Violation]) -> list[float] | None:
    """Length (km) of each stated leg, checking that the path joins hub -> stops -> hub and keeps out of
    every zone and its buffer; None (with a violation) when the path does not fit the trip."""
    asp = problem.airspace
    hub = {h.id: h for h in asp.hubs}.get(tr.hub)
    if hub is None:
        return None
    dl = {d.id: d for d in problem.deliveries}
    ends = [(hub.lon, hub.lat)] + [(dl[s.delivery].lon, dl[s.delivery].lat) for s in tr.stops] + [(hub.lon, hub.lat)]
    if len(tr.legs) != len(tr.stops) + 1:
        out.append(Violation(tag, "path", f"{len(tr.legs)} legs stated for {len(tr.stops)} stops "
                                          f"(hub -> stops -> hub has {len(tr.stops) + 1})"))
        return None
    kms = []
    for i, leg in enumerate(tr.legs):
        if len(leg) < 2 or not (_near(leg[0], ends[i]) and _near(leg[-1], ends[i + 1])):
            out.append(Violation(tag, "path", f"leg {i} does not join {ends[i]} to {ends[i + 1]}"))
            return None
        xy = [asp.to_km(lon, lat) for lon, lat in leg]
        km = 0.0
        for p, q in itertools.pairwise(xy):
            km += math.hypot(q[0] - p[0], q[1] - p[1])
            seg = LineString([p, q]) if p != q else None
            if seg is None:
                continue
            for zid, poly in zones:
                if seg.intersects(poly):
                    out.append(Violation(tag, "no_fly", f"leg {i} crosses no-fly zone {zid!r}"))
                elif asp.buffer_km > 0 and seg.distance(poly) < asp.buffer_km - TOL_BUFFER_KM:
                    out.append(Violation(tag, "no_fly", f"leg {i} passes {seg.distance(poly):.3f} km from no-fly "
                                                        f"zone {zid!r}, inside its {asp.buffer_km:g} km buffer"))
        kms.append(km)
    return kms


def _near(a, b) -> bool:
    return abs(a[0] - b[0]) <= TOL_DEG and abs(a[1] - b[1]) <= TOL_DEG


def _check_accounting(problem: DroneProblem, solution: DronePlan, served: dict[str, int], out: list[Violation]) -> None:
    """Every delivery served or unserved (not both, not twice), known reason words, stated totals."""
    ids = {d.id for d in problem.deliveries}
    seen_unserved: set[str] = set()
    for u in solution.unserved:
        if u.item_id not in ids:
            out.append(Violation(u.item_id, "unserved", "unknown delivery listed as unserved"))
        if u.item_id in seen_unserved:
            out.append(Violation(u.item_id, "unserved", "listed as unserved twice"))
        seen_unserved.add(u.item_id)
        if u.reason not in REASONS:
            out.append(Violation(u.item_id, "unserved", f"reason {u.reason!r} is not one of {list(REASONS)}"))
    for d in problem.deliveries:
        if d.id not in served and d.id not in seen_unserved:
            out.append(Violation(d.id, "unserved", f"delivery {d.id} neither served nor listed as unserved"))
        if d.id in served and d.id in seen_unserved:
            out.append(Violation(d.id, "unserved", f"delivery {d.id} served and listed as unserved"))
    prio = sum(d.priority for d in problem.deliveries if d.id in served)
    if prio != solution.served_priority:
        out.append(Violation("plan", "totals", f"served priority stated {solution.served_priority}, recomputed {prio}"))
    e = math.fsum(t.energy_wh for t in solution.trips)
    if abs(e - solution.total_energy_wh) > 1e-6 * max(1.0, e):
        out.append(Violation("plan", "totals", f"total energy stated {solution.total_energy_wh:.3f} Wh, "
                                               f"sum of trips {e:.3f} Wh"))
    m = math.fsum(t.return_min - t.depart_min for t in solution.trips)
    if abs(m - solution.total_flight_min) > 1e-6 * max(1.0, m):
        out.append(Violation("plan", "totals", f"total flight stated {solution.total_flight_min:.3f} min, "
                                               f"sum of trips {m:.3f} min"))

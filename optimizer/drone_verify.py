"""Independent check of a drone plan: energy above the reserve, payload, no-fly zones, time windows.

Recomputes every trip leg by leg from the problem (``DroneType`` methods in pure Python, air
density from ``air_density``), re-draws each leg's polyline and tests it against the *unbuffered*
no-fly polygons with shapely, and re-times the trips. Returns a list of violations (empty = valid).
"""

from __future__ import annotations

import itertools

from optimizer.airspace import AirDistances
from optimizer.drones import DronePlan, DroneProblem

TOL_WH = 1e-3
TOL_MIN = 1e-6


def verify_drone_plan(problem: DroneProblem, plan: DronePlan, dist: AirDistances | None = None) -> list[str]:
    """List every violated rule of ``plan`` (empty list: the plan is feasible and consistent)."""
    hubs = problem.airspace.hubs
    hub_ix = {h.id: i for i, h in enumerate(hubs)}
    dl_ix = {d.id: i for i, d in enumerate(problem.deliveries)}
    H = len(hubs)
    if dist is None:
        dist = AirDistances(problem.airspace, [(h.lon, h.lat) for h in hubs] + [(d.lon, d.lat) for d in problem.deliveries])
    out: list[str] = []
    seen: dict[str, str] = {}
    fleet = {d[0]: (d[1], d[2]) for d in problem.drones()}
    last_free: dict[str, float] = {}
    day0, day1 = problem.day
    for k, tr in enumerate(sorted(plan.trips, key=lambda t: (t.drone, t.depart_min))):
        tag = f"trip {k} ({tr.drone} {tr.depart_min:.1f})"
        if tr.drone not in fleet:
            out.append(f"{tag}: unknown drone")
            continue
        hi, tid = fleet[tr.drone]
        if hubs[hi].id != tr.hub or hi != hub_ix.get(tr.hub):
            out.append(f"{tag}: flies from {tr.hub}, drone is based at {hubs[hi].id}")
        ty = problem.types[tid]
        rho = problem.rho(hi)
        if hubs[hi].elevation_m + ty.cruise_agl_m > ty.ceiling_m:
            out.append(f"{tag}: hub above the {ty.id} ceiling {ty.ceiling_m} m")
        if not tr.stops:
            out.append(f"{tag}: empty trip")
            continue
        pay = 0.0
        for s in tr.stops:
            if s.delivery not in dl_ix:
                out.append(f"{tag}: unknown delivery {s.delivery}")
                return out
            if s.delivery in seen:
                out.append(f"{tag}: delivery {s.delivery} served twice")
            seen[s.delivery] = tr.drone
            pay += problem.deliveries[dl_ix[s.delivery]].weight_kg
        if pay > ty.max_payload_kg(rho) + 1e-9:
            out.append(f"{tag}: payload {pay:.2f} kg above the {ty.max_payload_kg(rho):.2f} kg limit at rho={rho:.3f}")
        if tr.depart_min < max(day0, last_free.get(tr.drone, day0)) - TOL_MIN:
            out.append(f"{tag}: departs before the drone is free (battery swap) or before the day starts")
        t, e, u = tr.depart_min, 0.0, hi
        nodes = [hub_ix[tr.hub]] + [H + dl_ix[s.delivery] for s in tr.stops] + [hi]
        for a, b in itertools.pairwise(nodes):
            poly = dist.path(a, b)
            for p, q in itertools.pairwise(poly):
                if not dist.segment_clear(p, q):
                    out.append(f"{tag}: leg {a}->{b} crosses a no-fly zone")
                    break
        for s in tr.stops:
            d = problem.deliveries[dl_ix[s.delivery]]
            v = H + dl_ix[s.delivery]
            km = float(dist.matrix[u, v])
            e += ty.leg_energy_wh(km, pay, rho) + ty.power_w(pay, rho) * ty.service_s / 3600
            t += ty.leg_time_s(km) / 60
            if abs(t - s.arrive_min) > 1e-4:
                out.append(f"{tag}: arrival at {s.delivery} stated {s.arrive_min:.3f}, recomputed {t:.3f}")
            if t < d.window[0] - TOL_MIN or t > d.window[1] + TOL_MIN:
                out.append(f"{tag}: {s.delivery} reached at {t:.1f}, window {d.window}")
            t += ty.service_s / 60
            pay -= d.weight_kg
            u = v
        km = float(dist.matrix[u, hi])
        e += ty.leg_energy_wh(km, 0.0, rho)
        t += ty.leg_time_s(km) / 60
        if e > ty.usable_wh + TOL_WH:
            out.append(f"{tag}: uses {e:.1f} Wh, only {ty.usable_wh:.1f} Wh above the reserve")
        if abs(e - tr.energy_wh) > 1e-3 * max(1.0, e):
            out.append(f"{tag}: energy stated {tr.energy_wh:.2f} Wh, recomputed {e:.2f} Wh")
        if t > day1 + TOL_MIN:
            out.append(f"{tag}: returns at {t:.1f}, after the day ends at {day1}")
        last_free[tr.drone] = t + ty.swap_min
    for d in problem.deliveries:
        if d.id not in seen and d.id not in plan.unserved:
            out.append(f"delivery {d.id} neither served nor listed as unserved")
        if d.id in seen and d.id in plan.unserved:
            out.append(f"delivery {d.id} served and listed as unserved")
    return out

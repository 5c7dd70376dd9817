"""What the drone solvers work on: air distances and kernel arrays built once per problem, and the
expansion of drone routes (index lists) into timed ``Trip`` records with their flown paths.

``build_instance`` also screens every delivery that no trip could ever serve and gives the reason
(``no_fly``, ``payload``, ``range``; see ``optimizer.drones.solution``); those are never offered to
a solver. Units as in ``optimizer.drones.kernels``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Point

from optimizer.core.airspace import AirDistances
from optimizer.drones.kernels import INF, route_cost
from optimizer.drones.problem import DroneProblem
from optimizer.drones.solution import NO_FLY, PAYLOAD, RANGE, Stop, Trip

NO_PATH_KM = 1e9  # stands for "no obstacle-free path" in the kernels' distance matrix


@dataclass(frozen=True)
class DroneInstance:
    """Arrays the kernels use, built once per problem (``build_instance``).

    Attributes
    ----------
    problem : DroneProblem
    dist : AirDistances
        Visibility-graph air distances between hubs (first H points) and deliveries.
    D : np.ndarray
        (H + N, H + N) km, ``NO_PATH_KM`` where no obstacle-free path exists.
    DR, DL : np.ndarray
        Per drone and per delivery rows (layout in ``optimizer.drones.kernels``).
    prio : np.ndarray
        (N,) int64 priorities.
    drones : list[tuple[str, int, str]]
        ``problem.drones()``: (drone id, hub index, type id), row order of ``DR``.
    excluded : dict[int, tuple[str, str]]
        Delivery index -> (reason word, detail) for deliveries no trip can serve.
    """

    problem: DroneProblem
    dist: AirDistances
    D: np.ndarray
    DR: np.ndarray
    DL: np.ndarray
    prio: np.ndarray
    drones: list
    excluded: dict

    @property
    def active(self) -> np.ndarray:
        """Indices of the deliveries a solver may serve (not excluded), int64."""
        return np.array([c for c in range(len(self.problem.deliveries)) if c not in self.excluded], dtype=np.int64)


def build_instance(problem: DroneProblem) -> DroneInstance:
    """Air distances (visibility graph, once) and kernel arrays; pre-screens deliveries with a reason."""
    hubs = problem.airspace.hubs
    pts = [(h.lon, h.lat) for h in hubs] + [(d.lon, d.lat) for d in problem.deliveries]
    dist = AirDistances(problem.airspace, pts)
    H = len(hubs)
    drones = problem.drones()
    DR = np.zeros((len(drones), 10))
    for i, (_, hi, t) in enumerate(drones):
        ty, rho = problem.types[t], problem.rho(hi)
        ok = 1.0 if hubs[hi].elevation_m + ty.cruise_agl_m <= ty.ceiling_m else 0.0
        DR[i] = (hi, ty.base_kg, ty.power_coeff(rho), ty.km_per_min, ty.vert_min, ty.service_min, ty.usable_wh,
                 ty.max_payload_kg(rho), ty.swap_min, ok)
    N = len(problem.deliveries)
    DL = np.zeros((N, 4))
    prio = np.zeros(N, dtype=np.int64)
    excluded: dict[int, tuple[str, str]] = {}
    maxpay = max((DR[i, 7] for i in range(len(drones)) if DR[i, 9] > 0), default=0.0)
    for c, d in enumerate(problem.deliveries):
        DL[c] = (H + c, d.weight_kg, d.window[0], d.window[1])
        prio[c] = d.priority
        z = problem.airspace.zone_containing(d.lon, d.lat)
        if z is not None:
            excluded[c] = (NO_FLY, f"inside no-fly zone {z!r}")
            continue
        if d.weight_kg > maxpay + 1e-9:
            detail = f"weight {d.weight_kg:g} kg exceeds every drone's payload at altitude (max {maxpay:.1f} kg)"
            excluded[c] = (PAYLOAD, detail)
            continue
        if not np.isfinite(dist.matrix[:H, H + c]).any():
            xy = Point(problem.airspace.to_km(d.lon, d.lat))
            near = [z.id for z, poly in zip(problem.airspace.zones, dist.blocked) if poly.covers(xy)]
            detail = (f"within the {problem.airspace.buffer_km:g} km safety buffer of no-fly zone {near[0]!r}"
                      if near else "no obstacle-free air path from any hub")
            excluded[c] = (NO_FLY, detail)
    D = np.ascontiguousarray(np.where(np.isfinite(dist.matrix), dist.matrix, NO_PATH_KM))
    day0, day1 = problem.day
    seq = np.zeros(1, dtype=np.int64)
    work = np.empty((2, 2))
    for c in range(N):
        if c in excluded:
            continue
        seq[0] = c
        if not any(route_cost(seq, 1, dr, D, DR, DL, day0, day1, 0, work) < INF for dr in range(len(drones))):
            excluded[c] = (RANGE, "no drone can reach it and return above the battery reserve within its time window")
    return DroneInstance(problem, dist, D, DR, DL, prio, drones, excluded)


def decode_routes(routes: np.ndarray, lens: np.ndarray) -> dict[int, list[list[int]]]:
    """Kernel routes (rows of delivery indices, -1 between trips) -> {drone index: [trip, ...]}."""
    out = {}
    for d in range(routes.shape[0]):
        trips, cur = [], []
        for q in range(lens[d]):
            c = int(routes[d, q])
            if c < 0:
                trips.append(cur)
                cur = []
            else:
                cur.append(c)
        if cur:
            trips.append(cur)
        if trips:
            out[d] = trips
    return out


def trips_from_routes(inst: DroneInstance, routes: dict[int, list[list[int]]]) -> tuple[Trip, ...]:
    """Expand drone routes (trips of delivery indices, in flight order) into timed ``Trip`` records.

    Each trip departs as early as the drone is free (day start, or the last landing plus the battery
    swap) and its windows allow; the trips of a drone must be feasible in that order.
    """
    p = inst.problem
    out = []
    for d, trips in sorted(routes.items()):
        did, hub, t = inst.drones[d]
        ty = p.types[t]
        v, tv, svc = inst.DR[d, 3:6]
        swap = inst.DR[d, 8]
        rho = p.rho(hub)
        tfree = p.day[0]
        for trip in trips:
            nodes = [hub] + [int(inst.DL[c, 0]) for c in trip] + [hub]
            legs_km = np.array([inst.D[a, b] for a, b in itertools.pairwise(nodes)])
            drops = np.array([inst.DL[c, 1] for c in trip])
            e = ty.trip_energy_wh(legs_km, drops, rho)
            pay = float(drops.sum())
            off, lo = 0.0, -INF
            offs, pays = [], []
            for q, c in enumerate(trip):
                off += legs_km[q] / v + tv
                lo = max(lo, inst.DL[c, 2] - off)
                offs.append(off)
                pays.append(pay)
                off += svc
                pay -= inst.DL[c, 1]
            off += legs_km[-1] / v + tv
            s = max(tfree, lo)
            stops = tuple(Stop(p.deliveries[c].id, float(s + o), float(pw)) for c, o, pw in zip(trip, offs, pays))
            legs = tuple(tuple((float(x), float(y)) for x, y in inst.dist.path(a, b))
                         for a, b in itertools.pairwise(nodes))
            out.append(Trip(did, t, p.airspace.hubs[hub].id, float(s), float(s + off), stops, float(drops.sum()),
                            float(e), ty.usable_wh, float(legs_km.sum()), legs))
            tfree = s + off + swap
    return tuple(out)

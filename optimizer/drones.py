"""Multi-trip drone delivery at altitude: problem, Numba kernels and the heuristic ``solve``.

Problem (MODELS.md section 5.2, multi-trip drone VRP after Dorling et al. 2017, with time windows,
battery swaps at hubs and no-fly zones):

* drones are based at hubs (``Hub.fleet``); each flies trips hub -> deliveries -> same hub, and
  swaps its battery (``DroneType.swap_min``) between trips;
* all parcels of a trip are loaded at the hub, so a leg is flown with the parcels not yet dropped;
  leg energy is ``P(payload on board) * t_leg`` with P from ``optimizer.drone_energy`` at the hub's
  air density (ISA pressure at the hub elevation, the day's temperature);
* a trip is feasible if its payload <= ``max_payload_kg(rho)`` and its energy <= ``usable_wh``
  (battery above the reserve at landing); legs follow the visibility-graph detour around no-fly zones;
* drones do not hover-wait: a trip departs at time s and reaches its stops at s + fixed offsets,
  so the trip's feasible departures form an interval [lo, hi] from the time windows; the drone's
  trips are scheduled earliest-first;
* objective, lexicographic: maximise the sum of priorities served, then minimise total energy (Wh)
  (or total flight minutes, ``objective="time"``).

Heuristic: greedy cheapest insertion by priority, then iterated ruin-and-recreate (random and
related removal, priority-ordered best insertion with new-trip moves), all kernels in Numba.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from numba import njit
from shapely.geometry import Point

from optimizer.airspace import AirDistances, Airspace
from optimizer.domain import InvalidInput, check_finite, check_window
from optimizer.drone_energy import DroneType, air_density
from optimizer.ils import StoppingCriterion

INF = 1e18


@dataclass(frozen=True, slots=True)
class Delivery:
    """A parcel to deliver: location (lon, lat), weight (kg), time window (min from midnight), priority (int >= 1)."""

    id: str
    lon: float
    lat: float
    weight_kg: float
    window: tuple[float, float] = (0.0, 1440.0)
    priority: int = 1

    def __post_init__(self) -> None:
        check_finite(f"delivery[{self.id}].lon", self.lon)
        check_finite(f"delivery[{self.id}].lat", self.lat)
        if check_finite(f"delivery[{self.id}].weight_kg", self.weight_kg) <= 0:
            raise InvalidInput(f"delivery[{self.id}].weight_kg", self.weight_kg, "must be > 0")
        object.__setattr__(self, "window", check_window(f"delivery[{self.id}].window", self.window))
        if isinstance(self.priority, bool) or int(self.priority) != self.priority or self.priority < 1:
            raise InvalidInput(f"delivery[{self.id}].priority", self.priority, "must be an integer >= 1")


@dataclass(frozen=True)
class DroneProblem:
    """Deliveries, hubs with fleets, drone types, day temperature and operating day (min from midnight)."""

    airspace: Airspace
    types: dict[str, DroneType]
    deliveries: tuple[Delivery, ...]
    temperature_c: float | None = None
    day: tuple[float, float] = (480.0, 1080.0)
    objective: str = "energy"

    def __post_init__(self) -> None:
        object.__setattr__(self, "deliveries", tuple(self.deliveries))
        object.__setattr__(self, "day", check_window("day", self.day))
        ids = [d.id for d in self.deliveries]
        if len(set(ids)) != len(ids):
            raise InvalidInput("deliveries", ids, "delivery ids must be unique")
        if self.objective not in ("energy", "time"):
            raise InvalidInput("objective", self.objective, "must be 'energy' or 'time'")
        for h in self.airspace.hubs:
            for t, _ in h.fleet:
                if t not in self.types:
                    raise InvalidInput(f"hub[{h.id}].fleet", t, f"unknown drone type (known: {sorted(self.types)})")
        if not self.drones():
            raise InvalidInput("airspace.hubs", len(self.airspace.hubs), "no drones at any hub")

    def drones(self) -> list[tuple[str, int, str]]:
        """(drone id, hub index, type id) for every drone."""
        out = []
        for hi, h in enumerate(self.airspace.hubs):
            for t, n in h.fleet:
                out += [(f"{h.id}/{t}#{k + 1}", hi, t) for k in range(int(n))]
        return out

    def rho(self, hub_index: int) -> float:
        """Air density at a hub (ISA pressure at its elevation, the day's temperature)."""
        return air_density(self.airspace.hubs[hub_index].elevation_m, self.temperature_c)


@dataclass
class Instance:
    """Arrays the kernels use; built once per problem (``build_instance``)."""

    problem: DroneProblem
    dist: AirDistances
    D: np.ndarray          # (H + N)^2 km
    DR: np.ndarray         # per drone: hub, base_kg, k, km/min, tvert_min, svc_min, usable_wh, maxpay, swap_min, ceiling_ok
    DL: np.ndarray         # per delivery: node, weight, open, close
    prio: np.ndarray
    drones: list
    excluded: dict         # delivery index -> reason (never offered to the solver)


def build_instance(problem: DroneProblem) -> Instance:
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
        DR[i] = (hi, ty.base_kg, ty.power_coeff(rho), ty.speed_mps * 0.06, 2 * ty.cruise_agl_m / ty.climb_mps / 60,
                 ty.service_s / 60, ty.usable_wh, ty.max_payload_kg(rho), ty.swap_min, ok)
    N = len(problem.deliveries)
    DL = np.zeros((N, 4))
    prio = np.zeros(N, dtype=np.int64)
    excluded: dict[int, str] = {}
    for c, d in enumerate(problem.deliveries):
        DL[c] = (H + c, d.weight_kg, d.window[0], d.window[1])
        prio[c] = d.priority
        z = problem.airspace.zone_containing(d.lon, d.lat)
        if z is not None:
            excluded[c] = f"inside no-fly zone {z!r}"
            continue
        maxpay = max((DR[i, 7] for i in range(len(drones)) if DR[i, 9] > 0), default=0.0)
        if d.weight_kg > maxpay + 1e-9:
            excluded[c] = f"weight {d.weight_kg:g} kg exceeds every drone's payload at altitude (max {maxpay:.1f} kg)"
            continue
        if not np.isfinite(dist.matrix[:H, H + c]).any():
            xy = Point(problem.airspace.to_km(d.lon, d.lat))
            near = [z.id for z, poly in zip(problem.airspace.zones, dist.blocked) if poly.covers(xy)]
            excluded[c] = (f"within the {problem.airspace.buffer_km:g} km safety buffer of no-fly zone {near[0]!r}" if near
                           else "no obstacle-free air path from any hub")
    inst = Instance(problem, dist, np.ascontiguousarray(np.where(np.isfinite(dist.matrix), dist.matrix, 1e9)),
                    DR, DL, prio, drones, excluded)
    for c in range(N):
        if c in excluded:
            continue
        ok = False
        for dr in range(len(drones)):
            seq = np.array([c], dtype=np.int64)
            if _route_cost(seq, 1, dr, inst.D, DR, DL, problem.day[0], problem.day[1], 0) < INF:
                ok = True
                break
        if not ok:
            excluded[c] = "no drone can reach it and return above the battery reserve within its time window"
    return inst


# --------------------------------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def _route_cost(seq, L, d, D, DR, DL, day0, day1, use_time):
    """Energy (Wh) or flight minutes of drone d's route ``seq[:L]`` (trips split by -1); INF if infeasible."""
    hub = int(DR[d, 0])
    base, k, v, tv, svc, usable, maxpay, swap = DR[d, 1], DR[d, 2], DR[d, 3], DR[d, 4], DR[d, 5], DR[d, 6], DR[d, 7], DR[d, 8]
    if DR[d, 9] <= 0 and L > 0:
        return INF
    tfree = day0
    total = 0.0
    i = 0
    while i < L:
        j = i
        pay = 0.0
        while j < L and seq[j] >= 0:
            pay += DL[seq[j], 1]
            j += 1
        if j == i or pay > maxpay + 1e-9:
            return INF
        off = 0.0
        e = 0.0
        lo = -INF
        hi = INF
        u = hub
        for q in range(i, j):
            c = seq[q]
            node = int(DL[c, 0])
            tl = D[u, node] / v + tv
            p = k * (base + pay) ** 1.5
            e += p * (tl + svc) / 60.0
            off += tl
            lo = max(lo, DL[c, 2] - off)
            hi = min(hi, DL[c, 3] - off)
            off += svc
            pay -= DL[c, 1]
            u = node
        tl = D[u, hub] / v + tv
        e += k * base ** 1.5 * tl / 60.0
        off += tl
        if e > usable + 1e-9:
            return INF
        s = max(tfree, lo)
        if s > hi + 1e-9 or s + off > day1 + 1e-9:
            return INF
        tfree = s + off + swap
        total += off if use_time else e
        i = j + 1
    return total


@njit(cache=True, nogil=True)
def _best_insert(c, routes, lens, costs, buf, D, DR, DL, day0, day1, use_time):
    """Cheapest feasible insertion of delivery c: (drone, pos, kind, delta); drone -1 if none.

    kind 0: c at pos inside a trip; kind 1: new trip [c, -1] at trip boundary pos; kind 2: [-1, c] appended.
    """
    bd, bp, bk, bdelta = -1, -1, -1, INF
    for d in range(routes.shape[0]):
        L = lens[d]
        r = routes[d]
        for kind in range(3):
            for pos in range(L + 1):
                if kind == 0:
                    if L == 0 and pos == 0:
                        pass
                    elif not ((pos > 0 and r[pos - 1] >= 0) or (pos < L and r[pos] >= 0)):
                        continue
                    if L == 0:
                        pass
                    n = 0
                    for q in range(pos):
                        buf[n] = r[q]
                        n += 1
                    buf[n] = c
                    n += 1
                    for q in range(pos, L):
                        buf[n] = r[q]
                        n += 1
                elif kind == 1:
                    if L == 0 or not (pos == 0 or r[pos - 1] < 0) or pos == L:
                        continue
                    n = 0
                    for q in range(pos):
                        buf[n] = r[q]
                        n += 1
                    buf[n] = c
                    buf[n + 1] = -1
                    n += 2
                    for q in range(pos, L):
                        buf[n] = r[q]
                        n += 1
                else:
                    if L == 0 or pos != L:
                        continue
                    for q in range(L):
                        buf[q] = r[q]
                    buf[L] = -1
                    buf[L + 1] = c
                    n = L + 2
                cst = _route_cost(buf, n, d, D, DR, DL, day0, day1, use_time)
                if cst < INF and cst - costs[d] < bdelta - 1e-12:
                    bd, bp, bk, bdelta = d, pos, kind, cst - costs[d]
    return bd, bp, bk, bdelta


@njit(cache=True, nogil=True)
def _apply_insert(c, d, pos, kind, routes, lens):
    L = lens[d]
    r = routes[d]
    if kind == 0:
        for q in range(L, pos, -1):
            r[q] = r[q - 1]
        r[pos] = c
        lens[d] = L + 1
    elif kind == 1:
        for q in range(L + 1, pos + 1, -1):
            r[q] = r[q - 2]
        r[pos] = c
        r[pos + 1] = -1
        lens[d] = L + 2
    else:
        r[L] = -1
        r[L + 1] = c
        lens[d] = L + 2


@njit(cache=True, nogil=True)
def _remove(c, routes, lens, where):
    """Remove delivery c from its drone's route, dropping a trip left empty."""
    d = where[c]
    r = routes[d]
    L = lens[d]
    pos = -1
    for q in range(L):
        if r[q] == c:
            pos = q
            break
    left_sep = pos == 0 or r[pos - 1] < 0
    right_sep = pos == L - 1 or r[pos + 1] < 0
    drop = 1
    start = pos
    if left_sep and right_sep and L > 1:
        drop = 2
        if pos < L - 1:
            start = pos          # remove c and the separator after it
        else:
            start = pos - 1      # last trip: remove the separator before it
    for q in range(start, L - drop):
        r[q] = r[q + drop]
    lens[d] = L - drop
    where[c] = -1


@njit(cache=True, nogil=True)
def _recompute(routes, lens, costs, D, DR, DL, day0, day1, use_time):
    for d in range(routes.shape[0]):
        costs[d] = _route_cost(routes[d], lens[d], d, D, DR, DL, day0, day1, use_time)


@njit(cache=True, nogil=True)
def _insert_all(order, routes, lens, costs, where, buf, D, DR, DL, day0, day1, use_time):
    for c in order:
        if where[c] >= 0:
            continue
        d, pos, kind, delta = _best_insert(c, routes, lens, costs, buf, D, DR, DL, day0, day1, use_time)
        if d >= 0:
            _apply_insert(c, d, pos, kind, routes, lens)
            where[c] = d
            costs[d] += delta


@njit(cache=True, nogil=True)
def _priority_order(cands, prio, noise):
    keys = np.empty(len(cands))
    for i in range(len(cands)):
        keys[i] = -prio[cands[i]] * 1000.0 + noise * np.random.random()
    return cands[np.argsort(keys)]


@njit(cache=True, nogil=True)
def _relocate_pass(active, routes, lens, costs, where, buf, D, DR, DL, day0, day1, use_time):
    improved = False
    for c in active:
        d0 = where[c]
        if d0 < 0:
            continue
        saved = routes[d0].copy()
        L0 = lens[d0]
        c0 = costs[d0]
        _remove(c, routes, lens, where)
        costs[d0] = _route_cost(routes[d0], lens[d0], d0, D, DR, DL, day0, day1, use_time)
        d, pos, kind, delta = _best_insert(c, routes, lens, costs, buf, D, DR, DL, day0, day1, use_time)
        gain = c0 - costs[d0]
        if d >= 0 and delta < gain - 1e-9:
            _apply_insert(c, d, pos, kind, routes, lens)
            where[c] = d
            costs[d] += delta
            improved = True
        else:
            routes[d0, :] = saved
            lens[d0] = L0
            costs[d0] = c0
            where[c] = d0
    return improved


@njit(cache=True, nogil=True)
def _score(wh, active, prio):
    s = 0
    for c in active:
        if wh[c] >= 0:
            s += prio[c]
    return s


@njit(cache=True, nogil=True)
def _copy_into(routes, lens, costs, where, r2, l2, c2, w2):
    routes[:, :] = r2
    lens[:] = l2
    costs[:] = c2
    where[:] = w2


@njit(cache=True, nogil=True)
def _ils(routes, lens, costs, where, active, prio, n_iter, seed, it0, D, DR, DL, day0, day1, use_time):
    """Ruin-and-recreate iterations from the given solution; returns the best (in place) and its score."""
    np.random.seed(seed)
    buf = np.empty(routes.shape[1] + 4, dtype=np.int64)
    n = len(active)
    best_r, best_l, best_c, best_w = routes.copy(), lens.copy(), costs.copy(), where.copy()

    best_s = _score(where, active, prio)
    best_cost = costs.sum()
    cur_s, cur_cost = best_s, best_cost
    for it in range(n_iter):
        r2, l2, c2, w2 = routes.copy(), lens.copy(), costs.copy(), where.copy()
        served = active[w2[active] >= 0]
        if len(served) > 0:
            k = 1 + np.random.randint(min(12, max(1, len(served) // 3 + 1)))
            if np.random.random() < 0.5:
                picks = np.random.permutation(served)[:k]
            else:
                s0 = served[np.random.randint(len(served))]
                dd = np.empty(len(served))
                for i in range(len(served)):
                    dd[i] = D[int(DL[served[i], 0]), int(DL[s0, 0])]
                picks = served[np.argsort(dd)][:k]
            for c in picks:
                _remove(c, r2, l2, w2)
            _recompute(r2, l2, c2, D, DR, DL, day0, day1, use_time)
        cands = active[w2[active] < 0]
        order = _priority_order(cands, prio, 5.0)
        _insert_all(order, r2, l2, c2, w2, buf, D, DR, DL, day0, day1, use_time)
        if (it0 + it) % 10 == 0:  # every 10th iteration of the whole run, however it is batched
            _relocate_pass(active, r2, l2, c2, w2, buf, D, DR, DL, day0, day1, use_time)
        s2 = _score(w2, active, prio)
        cost2 = c2.sum()
        if s2 > cur_s or (s2 == cur_s and cost2 < cur_cost * 1.003 + 1e-9):
            _copy_into(routes, lens, costs, where, r2, l2, c2, w2)
            cur_s, cur_cost = s2, cost2
            if s2 > best_s or (s2 == best_s and cost2 < best_cost - 1e-9):
                best_r, best_l, best_c, best_w = r2.copy(), l2.copy(), c2.copy(), w2.copy()
                best_s, best_cost = s2, cost2
        elif n > 0 and np.random.random() < 0.02:   # restart from the best now and then
            _copy_into(routes, lens, costs, where, best_r, best_l, best_c, best_w)
            cur_s, cur_cost = best_s, best_cost
    _copy_into(routes, lens, costs, where, best_r, best_l, best_c, best_w)
    return best_s, best_cost


# --------------------------------------------------------------------------------------- results
@dataclass(frozen=True, slots=True)
class Stop:
    delivery: str
    arrive_min: float
    payload_on_arrival_kg: float


@dataclass(frozen=True, slots=True)
class Trip:
    """One sortie: hub -> stops -> hub, with its energy (Wh) and the battery left above the reserve."""

    drone: str
    drone_type: str
    hub: str
    depart_min: float
    return_min: float
    stops: tuple[Stop, ...]
    payload_kg: float
    energy_wh: float
    usable_wh: float
    km: float


@dataclass
class DronePlan:
    trips: list[Trip]
    unserved: dict[str, str]
    served_priority: int
    total_energy_wh: float
    total_flight_min: float
    runtime_s: float = 0.0
    iterations: int = 0
    routes: dict = field(default_factory=dict)   # drone index -> list of trips (lists of delivery indices)


def trips_from_routes(inst: Instance, routes: dict[int, list[list[int]]]) -> list[Trip]:
    """Expand drone routes (lists of trips of delivery indices) into timed ``Trip`` records."""
    p = inst.problem
    out = []
    for d, trips in sorted(routes.items()):
        did, hi, t = inst.drones[d]
        ty = p.types[t]
        base, k, v, tv, svc, _usable, _, swap = inst.DR[d, 1:9]
        hub = hi
        tfree = p.day[0]
        for trip in trips:
            pay = float(sum(inst.DL[c, 1] for c in trip))
            off, lo, u, e, km = 0.0, -INF, hub, 0.0, 0.0
            offs, pays = [], []
            for c in trip:
                node = int(inst.DL[c, 0])
                tl = inst.D[u, node] / v + tv
                e += k * (base + pay) ** 1.5 * (tl + svc) / 60
                km += inst.D[u, node]
                off += tl
                lo = max(lo, inst.DL[c, 2] - off)
                offs.append(off)
                pays.append(pay)
                off += svc
                pay -= inst.DL[c, 1]
                u = node
            tl = inst.D[u, hub] / v + tv
            e += k * base ** 1.5 * tl / 60
            km += inst.D[u, hub]
            off += tl
            s = max(tfree, lo)
            stops = tuple(Stop(p.deliveries[c].id, float(s + o), float(pw)) for c, o, pw in zip(trip, offs, pays))
            out.append(Trip(did, t, p.airspace.hubs[hub].id, float(s), float(s + off), stops,
                            float(sum(inst.DL[c, 1] for c in trip)), float(e), ty.usable_wh, float(km)))
            tfree = s + off + swap
    return out


def _decode(routes, lens) -> dict[int, list[list[int]]]:
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


def solve(problem: DroneProblem | Instance, stop: StoppingCriterion, seed: int = 0) -> DronePlan:
    """Plan the day's drone trips (multi-trip drone VRP with time windows, energy and no-fly zones).

    Greedy priority-ordered cheapest insertion, then iterated ruin-and-recreate with a relocate
    local search (Numba). Every trip in the plan is feasible; deliveries left out appear in
    ``plan.unserved`` with a reason. ``stop.max_iterations`` counts ruin-and-recreate iterations.
    """
    t0 = time.perf_counter()
    inst = problem if isinstance(problem, Instance) else build_instance(problem)
    p = inst.problem
    N, ND = len(p.deliveries), len(inst.drones)
    routes = -np.ones((ND, 2 * N + 4), dtype=np.int64)
    lens = np.zeros(ND, dtype=np.int64)
    costs = np.zeros(ND)
    where = -np.ones(N, dtype=np.int64)
    active = np.array([c for c in range(N) if c not in inst.excluded], dtype=np.int64)
    use_time = 1 if p.objective == "time" else 0
    day0, day1 = p.day
    args = (inst.D, inst.DR, inst.DL, day0, day1, use_time)
    np.random.seed(seed)
    order = active[np.lexsort((inst.DL[active, 3], -inst.prio[active]))] if len(active) else active
    buf = np.empty(2 * N + 8, dtype=np.int64)
    _insert_all(order, routes, lens, costs, where, buf, *args)
    while _relocate_pass(active, routes, lens, costs, where, buf, *args):
        pass
    it = 0
    max_it = stop.max_iterations if stop.max_iterations is not None else 10**9
    # iterations between clock checks: fixed by the instance size only (same seed -> same answer), ~25 on
    # small days, fewer on large ones so that a time limit is overshot by at most a few iterations
    batch = max(1, min(25, 2500 // max(N, 1)))
    while it < max_it and len(active):
        if stop.max_runtime_s is not None and time.perf_counter() - t0 >= stop.max_runtime_s:
            break
        n = min(batch, max_it - it)
        _ils(routes, lens, costs, where, active, inst.prio, n, seed * 7919 + it, it, *args)
        it += n
    _recompute(routes, lens, costs, *args)
    dec = _decode(routes, lens)
    trips = trips_from_routes(inst, dec)
    unserved = {p.deliveries[c].id: r for c, r in inst.excluded.items()}
    for c in active:
        if where[c] < 0:
            unserved[p.deliveries[c].id] = "no spare drone capacity (energy, payload, time window or fleet)"
    served = int(sum(inst.prio[c] for c in range(N) if where[c] >= 0))
    return DronePlan(trips, unserved, served, float(sum(t.energy_wh for t in trips)),
                     float(sum(t.return_min - t.depart_min for t in trips)), time.perf_counter() - t0, it, dec)


def random_deliveries(n: int, seed: int = 0, center: tuple[float, float] = (91.12, 29.66), spread_km: float = 12.0,
                      day: tuple[float, float] = (480.0, 1080.0)) -> list[Delivery]:
    """Seeded synthetic demand around ``center``: weights 0.3-2 kg (80 %) or 3-25 kg, windows of 1-4 h, priority 1-3."""
    rng = np.random.default_rng(seed)
    out = []
    kx = 111.32 * math.cos(math.radians(center[1]))
    for i in range(n):
        r, a = spread_km * math.sqrt(rng.random()), 2 * math.pi * rng.random()
        lon, lat = center[0] + r * math.cos(a) / kx, center[1] + r * math.sin(a) / 111.32
        w = float(rng.uniform(0.3, 2.0)) if rng.random() < 0.8 else float(rng.uniform(3.0, 25.0))
        width = float(rng.uniform(60, 240))
        o = float(rng.uniform(day[0], day[1] - width))
        out.append(Delivery(f"d{i:03d}", round(lon, 5), round(lat, 5), round(w, 2), (round(o), round(o + width)),
                            int(rng.choice([1, 1, 1, 2, 2, 3]))))
    return out

"""Build the station-operations problems (issue 6) from the Lhasa instance and a tour plan.

EV charging (:func:`charging_from_plan`)
----------------------------------------
Fleet: one electric coach per planned route of a group with ``size >= coach_min_size`` (default
20 persons, (K) a group bus), in plan order, at most ``max_vehicles``. Coach data (K, typical
12 m battery-electric coach, no Tibet source): 350 kWh battery, 1.1 kWh/km base consumption on
the flat at 24 degC, 18 t loaded mass, 150 kW on-board charge limit, charge efficiency 0.90,
start SoC 0.90 (charged overnight), floor 0.20 (MODELS.md 3.2: keep a reserve >= 15-20 %).

Energy of a leg a -> b: for every arc of the fastest road path (``optimizer.stations.road_path``;
node elevations from ``sites.csv``)::

    E_arc = km * e0 / f_T  +  m g max(dh, 0) / eta_drive  -  eta_regen m g max(-dh, 0)   (>= 0 per arc)

with ``f_T`` the cold factor of ``models.siting.derated_range_km`` (AAA 2019 [S27]: 0.59 at
-6.7 degC with cabin heating, 1.0 at 24 degC; altitude gives no aero credit by default),
``eta_drive = 0.9``, ``eta_regen = 0.65`` (MODELS.md 3.2: 60-70 % recoverable on descent, K).
The leg's energy is spread evenly over the 15-minute slots between the departure and the arrival
(by overlap minutes). A vehicle is *parked at a station* in a slot that lies wholly inside a stay
at a site with chargers (a visit including its wait, or before departure / after the return at a
start or end site).

Stations: the charger sites of ``instances/lhasa/stations.csv`` (kind charger|both; existing and,
by default, candidate sites as if built; ``existing_only`` keeps the existing ones), each with
``chargers`` connectors of ``charger_kw`` (default 4 x 120 kW: FACTS.md 6, State Grid 60-120 kW
county stations) and a grid cap ``grid_kw`` (default 300 kW, K). Tariff: an input;
:data:`DEFAULT_TARIFF` is a placeholder time-of-use shape (K: no Tibet TOU tariff was found,
MODELS.md 3.1): 00-08 0.35, 08-17 0.70, 17-22 1.05, 22-24 0.35 CNY/kWh.

Oxygen (:func:`oxygen_from_plan`)
---------------------------------
Daily litres per visited site from :func:`optimizer.stations.oxygen_demand` (MODELS.md 4.2); each
site is served by the nearest oxygen station (kind oxygen|both in ``stations.csv``, road
minutes); litres -> 40 L / 15 MPa cylinders at 5600 L each (MODELS.md 4.1: ~5900 L ideal, real
~5 % less), rounded up per station and day. The 7-day horizon scales the planned day by
``day_factors`` (default 1.0, 1.0, 1.0, 1.0, 1.2, 1.3, 1.1: weekend peak, K assumption).
Capacity per station: ``cover_days`` (3) x the largest daily demand, at least 4 cylinders;
initial stock half the capacity (K); optional safety stock ``safety_days`` x the largest
daily demand (default 0). Depot: the filling plant, proxied by the ``depot`` site
(default ``lhasa_railway``, K). Trucks: 3 x 40 cylinders, 600-minute shift, 20 min per stop,
3 CNY/km, 1 CNY per cylinder-night (all K).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from instances.stations import (
    read_candidate_sites as candidate_sites,  # transitional (part 2 moves this file)
)
from models.charging import ChargingProblem, EVStation, EVVehicle, charging_stops, tariff_from_bands
from models.oxygen_irp import OxygenIRP
from optimizer.core.physics import G, derated_range_km
from optimizer.domain import InvalidInput, Network, TourPlan, TourProblem, check_finite
from optimizer.stations.demand import _node_of, oxygen_demand, road_path

__all__ = ["DEFAULT_TARIFF", "CoachParams", "charging_from_plan", "leg_energy_kwh", "oxygen_from_plan",
           "parse_tariff", "synthetic_charging", "synthetic_oxygen"]

DEFAULT_TARIFF = ((0.0, 8.0, 0.35), (8.0, 17.0, 0.70), (17.0, 22.0, 1.05), (22.0, 24.0, 0.35))
CYLINDER_L = 5600.0


@dataclass(frozen=True)
class CoachParams:
    capacity_kwh: float = 350.0
    kwh_per_km: float = 1.1
    mass_kg: float = 18000.0
    max_kw: float = 150.0
    eta_charge: float = 0.90
    eta_drive: float = 0.90
    eta_regen: float = 0.65
    soc0: float = 0.90
    soc_min: float = 0.20

    def __post_init__(self) -> None:
        for name in ("capacity_kwh", "kwh_per_km", "mass_kg", "max_kw"):
            if check_finite(name, getattr(self, name)) <= 0:
                raise InvalidInput(name, getattr(self, name), "must be > 0")
        for name in ("eta_charge", "eta_drive", "eta_regen", "soc0", "soc_min"):
            v = check_finite(name, getattr(self, name))
            if not 0 <= v <= 1:
                raise InvalidInput(name, v, "must be in [0, 1]")


def parse_tariff(text: str) -> tuple[tuple[float, float, float], ...]:
    """``"0-8:0.35,8-17:0.7,17-22:1.05,22-24:0.35"`` -> bands; InvalidInput('tariff', ...) if malformed/negative."""
    bands = []
    for part in text.split(","):
        try:
            hours, price = part.split(":")
            a, b = (float(x) for x in hours.split("-"))
            pr = float(price)
        except ValueError:
            raise InvalidInput("tariff", part, "expected START-END:PRICE, e.g. 0-8:0.35") from None
        if not (math.isfinite(pr) and pr >= 0):
            raise InvalidInput("tariff", part, "price must be finite and >= 0 (CNY/kWh)")
        if not 0 <= a < b <= 24:
            raise InvalidInput("tariff", part, "hours must satisfy 0 <= start < end <= 24")
        bands.append((a, b, pr))
    return tuple(bands)


def leg_energy_kwh(network: Network, a: str, b: str, temperature_c: float, coach: CoachParams) -> tuple[float, float]:
    """(kWh, km) of the fastest road path a -> b (module docstring formula)."""
    if a == b:
        return 0.0, 0.0
    nodes, arcs = road_path(network, a, b)
    f_t = derated_range_km(1.0, network.site(a).elevation_m, temperature_c)
    e = 0.0
    for k, km in enumerate(arcs):
        dh = network.site(nodes[k + 1]).elevation_m - network.site(nodes[k]).elevation_m
        climb = coach.mass_kg * G * max(dh, 0.0) / coach.eta_drive / 3.6e6
        regen = coach.eta_regen * coach.mass_kg * G * max(-dh, 0.0) / 3.6e6
        e += max(0.0, km * coach.kwh_per_km / f_t + climb - regen)
    return e, float(sum(arcs))


def _spread(draw: np.ndarray, t0: float, t1: float, kwh: float, slot_min: float) -> None:
    if kwh <= 0:
        return
    if t1 <= t0:
        draw[min(len(draw) - 1, max(0, int(t0 // slot_min)))] += kwh
        return
    for s in range(max(0, int(t0 // slot_min)), min(len(draw), math.ceil(t1 / slot_min))):
        ov = min(t1, (s + 1) * slot_min) - max(t0, s * slot_min)
        if ov > 0:
            draw[s] += kwh * ov / (t1 - t0)


def _park(at: np.ndarray, t0: float, t1: float, s: int, slot_min: float) -> None:
    for k in range(max(0, math.ceil(t0 / slot_min - 1e-9)), min(len(at), math.floor(t1 / slot_min + 1e-9))):
        at[k] = s


def charging_from_plan(problem: TourProblem, plan: TourPlan, temperature_c: float = -5.0,
                       tariff: Sequence[tuple[float, float, float]] = DEFAULT_TARIFF, slot_min: float = 15.0,
                       chargers: int = 4, charger_kw: float = 120.0, grid_kw: float = 300.0,
                       coach_min_size: int = 20, max_vehicles: int = 50, existing_only: bool = False,
                       coach: CoachParams | None = None, max_delay_min: float = 60.0,
                       lateness_cny_per_min: float = 5.0) -> tuple[ChargingProblem, list[dict]]:
    """(ChargingProblem, per-vehicle info rows: vehicle, group, route sites, km, kWh, charge slots and
    ``stops``: the charging stops a departure delay may extend, ``{station, first_slot, last_slot}``).

    ``max_delay_min`` / ``lateness_cny_per_min``: the delay policy of ``models.charging`` (minutes;
    CNY per minute, a policy weight); a negative delay or a non-finite weight raises ``InvalidInput``."""
    cp = coach or CoachParams()
    temp = check_finite("temperature_c", temperature_c)
    if isinstance(chargers, bool) or not isinstance(chargers, int) or chargers < 1:
        raise InvalidInput("chargers", chargers, "must be an integer >= 1 (a station without chargers cannot charge)")
    net = problem.network
    ids, existing = candidate_sites("charger", net)
    if existing_only:
        ids = tuple(i for i in ids if i in existing)
    stations = tuple(EVStation(i, chargers, float(charger_kw), float(grid_kw)) for i in ids)
    sidx = {s.id: k for k, s in enumerate(stations)}
    T = round(24 * 60 / check_finite("slot_min", slot_min))
    prices = tariff_from_bands(T, slot_min, tuple(tariff))
    groups = {g.id: g for g in problem.groups}
    vehicles, info = [], []
    for r in plan.routes:
        g = groups[r.group_id]
        if g.size < coach_min_size or not r.visits or len(vehicles) >= max_vehicles:
            continue
        start, end = _node_of(net, g.start), _node_of(net, g.end)
        draw = np.zeros(T)
        at = np.full(T, -1, dtype=int)
        if start in sidx:
            _park(at, 0.0, r.depart, sidx[start], slot_min)
        prev, t_prev = start, r.depart
        km_tot = e_tot = 0.0
        for v in r.visits:
            e, km = leg_energy_kwh(net, prev, v.site_id, temp, cp)
            _spread(draw, t_prev, v.arrival, e, slot_min)
            km_tot += km
            e_tot += e
            if v.site_id in sidx:
                _park(at, v.arrival, v.departure, sidx[v.site_id], slot_min)
            prev, t_prev = v.site_id, v.departure
        e, km = leg_energy_kwh(net, prev, end, temp, cp)
        _spread(draw, t_prev, r.arrive_end, e, slot_min)
        km_tot += km
        e_tot += e
        if end in sidx:
            _park(at, r.arrive_end, 24 * 60.0, sidx[end], slot_min)
        vid = f"EV{len(vehicles) + 1:02d}"
        ev = EVVehicle(vid, cp.capacity_kwh, cp.soc0, cp.soc_min, tuple(float(x) for x in draw),
                       tuple(int(x) for x in at), 1.0, cp.max_kw, cp.eta_charge)
        vehicles.append(ev)
        info.append({"vehicle": vid, "group": g.id, "size": g.size,
                     "route": [start] + [v.site_id for v in r.visits] + [end], "km": km_tot, "kwh": e_tot,
                     "charge_slots": int((at >= 0).sum()),
                     "stops": [{"station": stations[st].id, "first_slot": a, "last_slot": b}
                               for a, b, st in charging_stops(ev)]})
    if not vehicles:
        raise InvalidInput("coach_min_size", coach_min_size, "no planned route qualifies for an electric coach")
    return ChargingProblem(tuple(vehicles), stations, prices, slot_min, max_delay_min=max_delay_min,
                           lateness_cny_per_min=lateness_cny_per_min), info


def synthetic_charging(n_vehicles: int = 50, n_stations: int = 10, slot_min: float = 15.0, seed: int = 0,
                       chargers: int = 3, charger_kw: float = 120.0, grid_kw: float = 250.0) -> ChargingProblem:
    """Reproducible benchmark instance: each vehicle does 3-5 trips (30-120 km at 1.3 kWh/km, cold)
    between stops of 30-120 minutes at random stations; 350 kWh, soc0 U(0.35, 0.9), floor 0.2."""
    rng = np.random.default_rng(seed)
    T = round(24 * 60 / slot_min)
    stations = tuple(EVStation(f"S{k:02d}", chargers, charger_kw, grid_kw) for k in range(n_stations))
    vehicles = []
    for n in range(n_vehicles):
        draw = np.zeros(T)
        at = np.full(T, -1, dtype=int)
        t = float(rng.uniform(6, 9) * 60)
        s = int(rng.integers(n_stations))
        _park(at, 0.0, t, s, slot_min)
        for _ in range(int(rng.integers(3, 6))):
            km = float(rng.uniform(30, 120))
            dur = km / 45.0 * 60
            _spread(draw, t, t + dur, km * 1.3, slot_min)
            t += dur
            s = int(rng.integers(n_stations))
            stay = float(rng.uniform(30, 120))
            _park(at, t, t + stay, s, slot_min)
            t += stay
            if t > 21 * 60:
                break
        _park(at, t, 24 * 60.0, s, slot_min)
        vehicles.append(EVVehicle(f"V{n:02d}", 350.0, float(rng.uniform(0.35, 0.9)), 0.2,
                                  tuple(float(x) for x in draw), tuple(int(x) for x in at), 1.0, 150.0, 0.9))
    prices = tariff_from_bands(T, slot_min, DEFAULT_TARIFF)
    return ChargingProblem(tuple(vehicles), stations, prices, slot_min)


def oxygen_from_plan(problem: TourProblem, plan: TourPlan, depot: str = "lhasa_railway",
                     day_factors: Sequence[float] = (1.0, 1.0, 1.0, 1.0, 1.2, 1.3, 1.1), cover_days: float = 3.0,
                     trucks: int = 3, truck_capacity: int = 40, shift_min: float = 600.0,
                     cost_per_km: float = 3.0, safety_days: float = 0.0) -> tuple[OxygenIRP, list[dict]]:
    """(OxygenIRP over the oxygen stations that receive demand, per-station info rows)."""
    net = problem.network
    if not net.has_site(depot):
        raise InvalidInput("depot", depot, "is not a site of the network")
    for k, f in enumerate(day_factors):
        if not (math.isfinite(f) and f >= 0):
            raise InvalidInput(f"day_factors[{k}]", f, "must be finite and >= 0")
    if not day_factors:
        raise InvalidInput("day_factors", 0, "needs at least one day")
    df = oxygen_demand(problem, plan)
    cands, _ = candidate_sites("oxygen", net)
    cidx = [net.index(c) for c in cands]
    litres: dict[str, float] = {}
    for sid, lday in zip(df["site_id"].to_list(), df["litres_day"].to_list()):
        tt = net.travel_min[net.index(sid), cidx]
        st = cands[int(np.argmin(tt))]
        litres[st] = litres.get(st, 0.0) + float(lday)
    ids = tuple(s for s in cands if litres.get(s, 0.0) > 0)
    if not ids:
        raise InvalidInput("plan", 0, "no oxygen demand in the plan")
    demand = tuple(tuple(math.ceil(litres[s] * f / CYLINDER_L - 1e-9) for f in day_factors) for s in ids)
    cap = tuple(max(4, math.ceil(cover_days * max(d))) for d in demand)
    init = tuple(c // 2 for c in cap)
    nodes = [net.index(depot)] + [net.index(s) for s in ids]
    km = tuple(tuple(float(net.distance_km[a, b]) for b in nodes) for a in nodes)
    mins = tuple(tuple(float(net.travel_min[a, b]) for b in nodes) for a in nodes)
    sd = check_finite("safety_days", safety_days)
    if sd < 0:
        raise InvalidInput("safety_days", sd, "must be >= 0")
    safety = tuple(min(cap[k], int(math.ceil(sd * max(d) - 1e-9))) for k, d in enumerate(demand))
    irp = OxygenIRP(ids, cap, init, demand, km, mins, trucks=trucks, truck_capacity=truck_capacity,
                    shift_min=shift_min, cost_per_km=cost_per_km, depot_id=depot, safety=safety)
    info = [{"station": s, "litres_day": litres[s], "capacity": cap[k], "initial": init[k],
             "demand": list(demand[k])} for k, s in enumerate(ids)]
    return irp, info


def synthetic_oxygen(n: int = 20, days: int = 7, seed: int = 0, trucks: int = 3) -> OxygenIRP:
    """Reproducible benchmark: n stations uniform in a 200 x 200 km square around the depot,
    road km = 1.3 x Euclidean at 50 km/h, demand 1-6 cylinders/day, capacity 3-4 days of peak."""
    rng = np.random.default_rng(seed)
    pts = np.vstack([[100.0, 100.0], rng.uniform(0, 200, (n, 2))])
    d = np.linalg.norm(pts[:, None] - pts[None], axis=2) * 1.3
    km = tuple(tuple(round(float(x), 1) for x in row) for row in d)
    mins = tuple(tuple(float(x) / 50.0 * 60.0 for x in row) for row in km)
    dem = tuple(tuple(int(x) for x in rng.integers(1, 7, days)) for _ in range(n))
    cap = tuple(int(max(r) * rng.integers(3, 5)) for r in dem)
    return OxygenIRP(tuple(f"O{k:02d}" for k in range(n)), cap, tuple(c // 2 for c in cap), dem, km, mins,
                     trucks=trucks, truck_capacity=40, shift_min=600.0)

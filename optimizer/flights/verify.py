"""Independent checks of the flights family, from the problem's data only: ``verify(problem, solution)``.

Written apart from the solvers: nothing is taken from the designer's air-distance matrix or the
schedule model's index sets; every figure is recomputed (plain Python, shapely for the geometry).
Each violation is a ``Violation(item_id, kind, message)``; an empty list means the answer is valid and
its reported figures are right.

Menu (:class:`DesignProblem`, :class:`Menu`), per product (``verify_product``), from the CSV rows and
the unbuffered no-fly polygons:

* the flight starts and ends at its vertiport, visits only known viewpoints, none twice;
* the flown polyline (the designer's ``path`` or, if none is given, straight legs) passes the viewpoints in
  order and no segment meets the interior of a no-fly polygon;
* ``distance_km`` equals the polyline length, ``score`` the sum of the viewpoint scores;
* block time = flying (km / cruise) + viewing + take-off/landing <= ``block_min`` < that + 1 (rounded up,
  never truncated) <= the duration class;
* no altitude above the aircraft's ceiling; block time <= endurance_sea sqrt(rho / 1.225) - reserve with rho at
  the flight's highest altitude (ISA pressure) and the day's temperature lowered by 6.5 K/km above the vertiport;

and for the whole menu: every cell (vertiport x aircraft type x class) is offered or unserved exactly
once, an offer sells a product of the menu designed for its vertiport and type, within its class, with
the product's score and block time; reasons are known; ``optimal`` only when every route is proven.

Schedule (:class:`ScheduleProblem`, :class:`Schedule`):

* every booking appears exactly once: on one departure or in ``unserved`` (reason known);
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
  bound >= objective when reported; ``optimal`` only with bound == objective; no departures when
  the status says there is no schedule.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

from shapely.geometry import LineString, Polygon

from optimizer.core.errors import InvalidInput
from optimizer.core.physics import air_density
from optimizer.core.results import FEASIBLE, OPTIMAL, STATUSES, Violation
from optimizer.flights.problem import (
    TRANSIT_AGL_M,
    DesignProblem,
    FlightData,
    FlightProduct,
    ScheduleProblem,
    cell_id,
)
from optimizer.flights.solution import DESIGN_REASONS, SCHEDULE_REASONS, Menu, Schedule

__all__ = ["verify", "verify_menu", "verify_product", "verify_schedule"]

_TOL_DEG = 1e-7
_TOL_MIN = 1e-6


def verify(problem: DesignProblem | ScheduleProblem, solution: Menu | Schedule) -> list[Violation]:
    """Violations of ``solution`` against ``problem`` (a menu or a schedule; module docstring).

    Raises ``InvalidInput`` when the pair is not (DesignProblem, Menu) or (ScheduleProblem, Schedule)."""
    if isinstance(problem, DesignProblem) and isinstance(solution, Menu):
        return verify_menu(problem, solution)
    if isinstance(problem, ScheduleProblem) and isinstance(solution, Schedule):
        return verify_schedule(problem, solution)
    raise InvalidInput("solution", type(solution).__name__,
                       f"cannot verify a {type(solution).__name__} against a {type(problem).__name__}")


def verify_product(product: FlightProduct, data: FlightData, path: list | tuple | None = None,
                   class_min: int | None = None, temperature_c: float | None = 15.0) -> list[Violation]:
    """Violations of ``product`` (empty list: OK), each with ``item_id`` = the product id. ``path``: flown
    polyline [(lon, lat), ...] or None for straight legs; ``class_min``: the duration class it is sold
    as (None: not checked); ``temperature_c``: at the vertiport, degC (None: ISA)."""
    out: list[Violation] = []
    p = product.id

    def bad(kind: str, message: str) -> None:
        out.append(Violation(p, kind, message))

    vp = data.vertiports.get(product.vertiport_id)
    ac = data.aircraft.get(product.aircraft_type_id)
    if vp is None:
        return [Violation(p, "unknown_id", f"unknown vertiport {product.vertiport_id!r}")]
    if ac is None:
        return [Violation(p, "unknown_id", f"unknown aircraft type {product.aircraft_type_id!r}")]
    unknown = [v for v in product.viewpoints if v not in data.viewpoints]
    if unknown:
        return [Violation(p, "unknown_id", f"unknown viewpoints {unknown}")]
    if len(set(product.viewpoints)) != len(product.viewpoints):
        bad("repeat", f"a viewpoint is visited twice {list(product.viewpoints)}")
    vps = [data.viewpoints[v] for v in product.viewpoints]
    stops = [(vp.lon, vp.lat)] + [(v.lon, v.lat) for v in vps] + [(vp.lon, vp.lat)]
    line = [tuple(map(float, q)) for q in (path if path is not None else stops)]
    if len(line) < 2:
        return out + [Violation(p, "path", "the path has fewer than two points")]

    def same(a: tuple, b: tuple) -> bool:
        return abs(a[0] - b[0]) <= _TOL_DEG and abs(a[1] - b[1]) <= _TOL_DEG

    if not same(line[0], stops[0]) or not same(line[-1], stops[-1]):
        bad("path", f"the path does not start and end at vertiport {vp.id}")
    k = 1
    for q in line[1:-1]:
        if k < len(stops) - 1 and same(q, stops[k]):
            k += 1
    if k != len(stops) - 1:
        bad("path", f"the path does not pass the viewpoints in order (passes {k - 1} of {len(vps)})")

    to_km = data.airspace.to_km
    zones = [(z.id, Polygon([to_km(lon, lat) for lon, lat in z.ring])) for z in data.airspace.zones]
    km = 0.0
    for i in range(len(line) - 1):
        a, b = to_km(*line[i]), to_km(*line[i + 1])
        km += math.dist(a, b)
        if a == b:
            continue
        seg = LineString([a, b])
        for zid, poly in zones:
            if seg.relate_pattern(poly, "T********"):
                bad("no_fly", f"leg {i} {line[i]} -> {line[i + 1]} crosses no-fly zone {zid}")
    if abs(km - product.distance_km) > max(0.01, 1e-3 * km):
        bad("distance", f"distance_km {product.distance_km} but the path is {km:.3f} km")
    score = sum(v.score for v in vps)
    if abs(score - product.score) > 1e-6:
        bad("score", f"score {product.score} but the viewpoints sum to {score}")

    total = km / ac.cruise_kmh * 60.0 + sum(v.view_min for v in vps) + ac.takeoff_landing_min
    if total > product.block_min + _TOL_MIN:
        bad("block_time", f"flight takes {total:.2f} min > block_min {product.block_min}")
    elif product.block_min >= total + 1.0:
        bad("block_time", f"block_min {product.block_min} is padded (flight takes {total:.2f} min)")
    if class_min is not None and product.block_min > class_min:
        bad("duration_class", f"block_min {product.block_min} exceeds its duration class {class_min} min")
    top = max([vp.elevation_m + TRANSIT_AGL_M] + [v.flight_alt_m for v in vps])
    if top > ac.ceiling_m:
        bad("ceiling", f"flies at {top:.0f} m above the {ac.id} ceiling {ac.ceiling_m:.0f} m")
    t = None if temperature_c is None else temperature_c - 0.0065 * (top - vp.elevation_m)
    rho = air_density(top, t)
    usable = ac.endurance_sea_min * math.sqrt(rho / 1.225) - ac.reserve_min
    if total > usable + _TOL_MIN:
        bad("endurance", f"flight takes {total:.2f} min > usable endurance {usable:.2f} min "
                         f"(rho {rho:.3f} kg/m3 at {top:.0f} m, reserve {ac.reserve_min:g} min)")
    return out


def verify_menu(problem: DesignProblem, menu: Menu) -> list[Violation]:
    """Violations of a menu: every product (``verify_product``) and the cells (module docstring)."""
    out: list[Violation] = []
    data, temp = problem.data, problem.temperature_c
    products: dict[str, FlightProduct] = {}
    for r in menu.routes:
        p = r.product
        if p.id in products:
            out.append(Violation(p.id, "duplicate", "two routes sell the same product id"))
        products[p.id] = p
        out += verify_product(p, data, r.path, r.class_min, temp)
    cells = {cell_id(v, a, d): (v, a, d) for v, a, d in problem.cells()}
    seen: dict[str, str] = {}
    for o in menu.offers:
        cid = cell_id(o.vertiport_id, o.aircraft_type_id, o.class_min)
        if cid not in cells:
            out.append(Violation(cid, "cell", "an offer for a cell the problem does not ask for"))
        if cid in seen:
            out.append(Violation(cid, "cell", f"offered twice (also {seen[cid]})"))
        seen[cid] = "offered"
        p = products.get(o.product_id)
        if p is None:
            out.append(Violation(cid, "offer", f"sells {o.product_id!r}, not a product of the menu"))
            continue
        if (p.vertiport_id, p.aircraft_type_id) != (o.vertiport_id, o.aircraft_type_id):
            out.append(Violation(cid, "offer", f"sells {p.id} of {p.vertiport_id}/{p.aircraft_type_id}"))
        if p.block_min > o.class_min:
            out.append(Violation(cid, "duration_class", f"sells {p.id} of {p.block_min} min in a {o.class_min}-min class"))
        if p.score != o.score or p.block_min != o.block_min:
            out.append(Violation(cid, "offer", f"reports score {o.score} and {o.block_min} min, "
                                               f"product {p.id} has {p.score} and {p.block_min} min"))
    for u in menu.unserved:
        if u.item_id not in cells:
            out.append(Violation(u.item_id, "cell", "unserved cell the problem does not ask for"))
        if u.item_id in seen:
            out.append(Violation(u.item_id, "cell", f"both {seen[u.item_id]} and unserved"))
        seen[u.item_id] = "unserved"
        if u.reason not in DESIGN_REASONS:
            out.append(Violation(u.item_id, "reason", f"unknown reason {u.reason!r}"))
    missing = [c for c in cells if c not in seen]
    if missing:
        out.append(Violation("menu", "cell", f"cells neither offered nor unserved: {missing[:10]}"))
    st = menu.stats
    if st.status not in STATUSES:
        out.append(Violation("menu", "status", f"unknown status {st.status!r}"))
    if st.status == OPTIMAL and not all(r.optimal for r in menu.routes):
        out.append(Violation("menu", "status", "optimal, but a route is not proven optimal"))
    if st.status not in (OPTIMAL, FEASIBLE) and menu.offers:
        out.append(Violation("menu", "status", f"status {st.status} with offers"))
    if st.objective is not None and abs(st.objective - sum(o.score for o in menu.offers)) > 1e-6:
        out.append(Violation("menu", "objective", f"reported {st.objective}, offers sum to "
                                                  f"{sum(o.score for o in menu.offers)}"))
    return out


def verify_schedule(problem: ScheduleProblem, schedule: Schedule) -> list[Violation]:
    """Violations of ``schedule`` against ``problem`` (module docstring); empty: feasible and the
    reported figures match."""
    out: list[Violation] = []

    def bad(item: str, kind: str, message: str) -> None:
        out.append(Violation(item, kind, message))

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
            bad(tag, "unknown_id", "unknown aircraft or product")
            continue
        if a.vertiport_id != p.vertiport_id or a.type_id != p.aircraft_type_id:
            bad(tag, "compatibility", f"aircraft {a.id} ({a.type_id} at {a.vertiport_id}) cannot fly product {p.id} "
                       f"({p.aircraft_type_id} at {p.vertiport_id})")
        if d.vertiport_id != p.vertiport_id:
            bad(tag, "compatibility", f"vertiport {d.vertiport_id} is not the product's {p.vertiport_id}")
        ground = a.turnaround_min + math.ceil(a.recharge_per_block_min * p.block_min - 1e-9)
        if d.land_min != d.start_min + p.block_min:
            bad(tag, "timing", f"lands at {d.land_min}, expected take-off + block = {d.start_min + p.block_min}")
        if d.ready_min != d.start_min + p.block_min + ground:
            bad(tag, "timing", f"ready at {d.ready_min}, expected landing + ground = {d.start_min + p.block_min + ground}")
        if d.start_min < a.available[0] or d.start_min + p.block_min > a.available[1]:
            bad(tag, "availability", f"outside aircraft availability {a.available}")
        cap, hours = port(p.vertiport_id)
        if d.start_min < hours[0] or d.start_min + p.block_min > hours[1]:
            bad(tag, "vertiport_hours", f"outside vertiport hours {hours}")
        busy[a.id].append((d.start_min, d.start_min + p.block_min + ground, tag))
        takeoffs[(p.vertiport_id, d.start_min // slot)] += 1
        pax = 0
        for bid in d.booking_ids:
            b = books.get(bid)
            if b is None:
                bad(tag, "unknown_id", f"unknown booking {bid}")
                continue
            if bid in seen:
                bad(bid, "assignment", f"assigned twice ({seen[bid]} and {tag})")
            seen[bid] = tag
            if b.product_id != p.id:
                bad(bid, "product", f"booked {b.product_id}, flies {p.id} ({tag})")
            if not b.window[0] <= d.start_min <= b.window[1]:
                bad(bid, "window", f"take-off {d.start_min} outside window {b.window} ({tag})")
            pax += b.party_size
            dev_total += abs(d.start_min - b.desired_min)
        if pax > a.seats:
            bad(tag, "seats", f"{pax} passengers on {a.seats} seats")
        if d.seats != a.seats:
            bad(tag, "seats", f"reports {d.seats} seats, aircraft has {a.seats}")
        if pax != d.passengers:
            bad(tag, "passengers", f"reports {d.passengers} passengers, parties sum to {pax}")
        pax_total += pax
    for aid, iv in busy.items():
        iv.sort()
        for (_s1, e1, t1), (s2, _e2, t2) in itertools.pairwise(iv):
            if s2 < e1:
                bad(aid, "overlap", f"{t2} takes off at {s2} before {t1} is ready at {e1}")
    for (vid, s), n in sorted(takeoffs.items()):
        cap = port(vid)[0]
        if n > cap:
            bad(vid, "slot_capacity", f"{n} take-offs in slot {s} ({s * slot}-{(s + 1) * slot} min), capacity {cap}")
    for u in schedule.unserved:
        if u.item_id not in books:
            bad(u.item_id, "unknown_id", f"unserved: unknown booking {u.item_id}")
        elif u.item_id in seen:
            bad(u.item_id, "assignment", f"both flown ({seen[u.item_id]}) and unserved")
        else:
            seen[u.item_id] = "unserved"
        if u.reason not in SCHEDULE_REASONS:
            bad(u.item_id, "reason", f"unknown reason {u.reason!r}")
    missing = [b for b in books if b not in seen]
    if missing:
        bad("schedule", "assignment", f"bookings neither flown nor unserved: {missing[:10]}{' ...' if len(missing) > 10 else ''}")
    if schedule.passengers != pax_total:
        bad("schedule", "totals", f"passengers: reported {schedule.passengers}, recomputed {pax_total}")
    if schedule.deviation_min != dev_total:
        bad("schedule", "totals", f"deviation: reported {schedule.deviation_min}, recomputed {dev_total}")
    requested = sum(b.party_size for b in problem.bookings)
    if schedule.passengers_requested != requested:
        bad("schedule", "totals", f"passengers requested: reported {schedule.passengers_requested}, recomputed {requested}")
    w = 1 + sum(max(b.desired_min - b.window[0], b.window[1] - b.desired_min) for b in problem.bookings)
    if schedule.weight_per_passenger != w:
        bad("schedule", "totals", f"weight per passenger: reported {schedule.weight_per_passenger}, recomputed {w}")
    st = schedule.stats
    if st.status not in STATUSES:
        bad("schedule", "status", f"unknown status {st.status!r}")
    if st.status not in (OPTIMAL, FEASIBLE) and schedule.departures:
        bad("schedule", "status", f"status {st.status} but {len(schedule.departures)} departures")
    if st.objective is not None:
        if st.objective != w * pax_total - dev_total:
            bad("schedule", "objective", f"objective: reported {st.objective}, recomputed {w * pax_total - dev_total}")
        if st.bound is not None and st.bound < st.objective:
            bad("schedule", "bound", f"bound {st.bound} below objective {st.objective}")
        if st.status == OPTIMAL and st.bound is not None and st.bound != st.objective:
            bad("schedule", "status", f"status optimal but bound {st.bound} != objective {st.objective}")
    elif st.status == OPTIMAL:
        bad("schedule", "status", "status optimal without an objective")
    return out

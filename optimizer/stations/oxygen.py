"""Oxygen-cylinder replenishment of the oxygen stations over several days: the problem, the plan
and ``solve_oxygen`` (multi-day inventory routing, MODELS.md section 4.3).

Problem (:class:`OxygenProblem`, frozen, validated; a bad value raises ``InvalidInput(field,
value, message)``): stations i = 1..n with cylinder capacity ``U_i``, initial stock ``I_i0``,
daily demand ``d_it`` (full 40 L cylinders, integer) and safety stock ``SS_i``; a depot 0 (the
filling plant); road matrices ``km[a][b]`` and ``minutes[a][b]`` over depot + stations; ``trucks``
K identical trucks of ``truck_capacity`` Q cylinders and a shift of ``shift_min`` minutes
(driving + ``service_min`` per stop); costs ``cost_per_km`` (CNY/km), ``holding_cny`` (CNY per
full cylinder held overnight) and ``stockout_cny`` (CNY per cylinder of unmet demand).

Timing: deliveries arrive at the start of day t, then the day's demand is consumed::

    I_it = I_i,t-1 + q_it - d_it + L_it ,   I_it >= 0 ,   I_i,t-1 + q_it <= U_i

``L_it >= 0`` is demand that cannot be met (a stock-out). The safety stock is soft: the exact
model penalises each cylinder-day below ``SS_i`` at ``stockout_cny / 10``; the heuristic triggers
a visit when the projected stock would fall below ``SS_i`` and fills up to it. The *stock margin*
is min_{i,t} I_it (full cylinders left at the end of a day, over the horizon).

Solving (:func:`solve_oxygen`, :class:`OxygenParams`)
-----------------------------------------------------
``method="auto"`` (default) uses the exact model when there are at most ``exact_max_stations``
(8) stations and the heuristic otherwise: with up to 8 stations every subset of stations (at most
255 routes) is a candidate route; the route set grows as 2^n, so above that the exact model
enumerates short routes only and proves nothing about the full problem (times in
``bench/RESULTS.md``).

* Exact (``models.oxygen_irp``): CP-SAT over candidate routes = all subsets of at most
  ``max_route_stops`` reachable stations (default n for n <= 8, else 3) in their shortest order
  (brute force up to 7 stops, nearest neighbour above) that fit the shift. ``optimal`` is claimed
  only when the route set is all subsets; with a restricted route set the plan is ``feasible``
  and no bound is reported (CP-SAT's bound holds only for that set).
* Heuristic (documented, no optimality claim): each day t the stations that would run out by
  the end of day t + ``lookahead`` (stock minus the demand of days t..t+lookahead below the
  safety stock) must be visited and are filled *up to capacity* (order-up-to, OU policy of
  Archetti et al. 2007, Transportation Science 41(3)); must-visit stations are routed with
  Clarke-Wright savings under truck capacity and shift; routes beyond K trucks are dropped in
  order of least urgency. ``lookahead=None`` tries 0..3, each with and without opportunistic
  insertion of stations not yet due (detour <= half their own round trip). Each distinct start
  plan (best first by fewest stock-outs, then cylinder-days below safety stock, then cost) is
  improved by a deterministic local search over delivery days while the evaluation budget lasts
  (:func:`improve_plan`: drop a visit, move it to another day, or add one; quantities just in
  time = the demand until the next visit plus the safety stock, each day re-routed with savings;
  a move is kept when (stock-outs, cylinder-days below safety stock, cost) falls
  lexicographically), and the best local optimum is kept: the rank of a start does not predict
  the rank of its local optimum. Being a local search, a looser safety stock can still end in a
  costlier plan than a tighter one (no monotonicity is promised).

From a tour plan or a siting (:func:`oxygen_problem`, :func:`oxygen_from_plan`)
-------------------------------------------------------------------------------
Daily litres per visited site (``optimizer.stations.demand.oxygen_demand``, MODELS.md 4.2) go to
the station the caller lists that is nearest by road minutes (optionally only within
``threshold_min``: the siting's coverage; sites farther away are *uncovered* and returned apart);
litres -> 40 L / 15 MPa cylinders at :data:`CYLINDER_L` = 5600 L each (MODELS.md 4.1: ~5900 L
ideal, real ~5 % less), rounded up per station and day. The horizon scales the planned day by
``day_factors`` (default 1.0, 1.0, 1.0, 1.0, 1.2, 1.3, 1.1: a weekend peak, K). Capacity per
station: ``cover_days`` (3) x the largest daily demand, at least 4 cylinders; initial stock half
the capacity (K). Depot: the filling plant, proxied by the ``depot`` site (default
``lhasa_railway``, K). Trucks: 3 x 40 cylinders, 600-minute shift, 20 min per stop, 3 CNY/km,
1 CNY per cylinder-night (all K).

Safety stock (default): ``SS_i = max(safety_min_cylinders, ceil(safety_days x the station's
largest daily demand))``, capped at the capacity, with ``safety_days = 1.0`` and
``safety_min_cylinders = 1``: a station ends every day with at least one busiest day's demand in
stock (so a delivery missed for a day does not empty it, and the stock never reaches zero).
With no safety stock the just-in-time deliveries leave stations empty on the night before a
delivery (stock margin 0). ``safety_days = 0`` with ``safety_min_cylinders = 0`` gives that plan.

Plan (:class:`OxygenPlan`): truck routes per day, stock and lost demand per station and day,
costs, ``unserved`` and ``stats``. Reason words of ``unserved`` (:class:`OxygenShortfall`:
``item_id`` = station id, ``day`` (-1 = the whole horizon), ``cylinders`` not delivered):

* ``unreachable``: a single depot round trip exceeds the shift or no road reaches the station;
* ``trucks``: the station needed a delivery that day but all trucks were in use;
* ``stockout``: demand left unmet that day for another reason (truck capacity or shift);
* ``no_plan``: no plan within the time limit (every station is listed, the plan is empty).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from models import oxygen_irp as model
from optimizer.core.errors import InvalidInput, check_count, check_finite
from optimizer.core.results import FEASIBLE, INFEASIBLE, OPTIMAL, SolveStats, Unserved
from optimizer.core.stop import StoppingCriterion
from optimizer.stations.demand import oxygen_demand

if TYPE_CHECKING:
    from optimizer.core.network import Network
    from optimizer.tours import TourPlan, TourProblem

__all__ = ["CYLINDER_L", "DEFAULT_DAY_FACTORS", "OxygenParams", "OxygenPlan", "OxygenProblem", "OxygenShortfall",
           "TruckRoute", "check_supply_options", "improve_plan", "oxygen_from_plan", "oxygen_problem", "route_length", "solve_oxygen",
           "synthetic_oxygen"]

CYLINDER_L = 5600.0
"""Usable litres of one full 40 L / 15 MPa cylinder (MODELS.md 4.1)."""
DEFAULT_DAY_FACTORS = (1.0, 1.0, 1.0, 1.0, 1.2, 1.3, 1.1)
"""Demand of each horizon day relative to the planned day (a weekend peak, K)."""
DEFAULT_STOCKOUT = 10_000.0
"""Penalty per cylinder of unmet demand, CNY."""
DEFAULT_SAFETY_DAYS = 1.0
"""Safety stock in days of the station's largest daily demand (module docstring)."""
DEFAULT_SAFETY_MIN = 1
"""Smallest safety stock of a station with demand, cylinders."""
EXACT_MAX_STATIONS = 8
"""``method="auto"`` solves exactly up to this many stations."""

# Bounds of the planner's options, shared by :func:`oxygen_problem`, :class:`OxygenParams`, the CLI
# (``lhasa-ops stations oxygen``) and the HTTP request model (``POST /v1/stations/oxygen-plan``).
MIN_TRUCKS, MAX_TRUCKS = 1, 100
"""Trucks per day: at least one (without trucks no station is ever supplied), at most 100."""
MAX_TRUCK_CAPACITY = 10_000
"""Cylinders per truck load, 1..10000."""
MAX_SHIFT_MIN = 1440.0
"""Longest truck shift, minutes (one day)."""
MAX_LOOKAHEAD = 30
"""Heuristic lookahead, days (0..30; None: try 0..3)."""
MAX_SAFETY_DAYS = 365.0
"""Safety stock, days of the busiest day's demand (0..365)."""
MAX_SAFETY_MIN = 10_000
"""Smallest safety stock of a station, cylinders (0..10000)."""

# reason words of OxygenShortfall (module docstring)
UNREACHABLE = "unreachable"
TRUCKS = "trucks"
STOCKOUT = "stockout"
NO_PLAN = "no_plan"
UNREACHABLE_DETAIL = "a single depot round trip exceeds the shift or the road is missing"


def _int(name: str, v: object, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise InvalidInput(name, v, f"must be an integer >= {lo}")
    return int(v)


@dataclass(frozen=True, slots=True)
class OxygenProblem:
    """Stations, demand, depot, trucks and costs of a replenishment horizon (module docstring).

    ``demand[i][t]`` cylinders (station i, day t); ``km``/``minutes`` are (n+1) x (n+1) with the
    depot first (inf: no road); ``safety`` per station, cylinders (() = 0 everywhere).
    ``InvalidInput`` names a bad field (``stations[<id>].capacity``, ``km[a][b]``, ...)."""

    station_ids: tuple[str, ...]
    capacity: tuple[int, ...]
    initial: tuple[int, ...]
    demand: tuple[tuple[int, ...], ...]
    km: tuple[tuple[float, ...], ...]
    minutes: tuple[tuple[float, ...], ...]
    trucks: int = 2
    truck_capacity: int = 40
    shift_min: float = 600.0
    service_min: float = 20.0
    cost_per_km: float = 3.0
    holding_cny: float = 1.0
    stockout_cny: float = DEFAULT_STOCKOUT
    depot_id: str = "depot"
    safety: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.station_ids)
        if n == 0:
            raise InvalidInput("stations", 0, "no stations")
        if len(set(self.station_ids)) != n:
            raise InvalidInput("stations", list(self.station_ids), "duplicate station id")
        for name in ("capacity", "initial", "demand"):
            if len(getattr(self, name)) != n:
                raise InvalidInput(name, len(getattr(self, name)), f"needs one entry per station ({n})")
        if self.safety:
            if len(self.safety) != n:
                raise InvalidInput("safety", len(self.safety), f"needs one entry per station ({n})")
            for i, sid in enumerate(self.station_ids):
                if _int(f"stations[{sid}].safety", self.safety[i], 0) > self.capacity[i]:
                    raise InvalidInput(f"stations[{sid}].safety", self.safety[i], "exceeds capacity")
        T = len(self.demand[0])
        if T == 0:
            raise InvalidInput("demand", 0, "needs at least one day")
        for i, sid in enumerate(self.station_ids):
            u = _int(f"stations[{sid}].capacity", self.capacity[i], 1)
            i0 = _int(f"stations[{sid}].initial", self.initial[i], 0)
            if i0 > u:
                raise InvalidInput(f"stations[{sid}].initial", i0, f"exceeds capacity {u}")
            if len(self.demand[i]) != T:
                raise InvalidInput(f"stations[{sid}].demand", len(self.demand[i]), f"must have {T} days")
            for t, d in enumerate(self.demand[i]):
                _int(f"stations[{sid}].demand[{t}]", d, 0)
        for name in ("km", "minutes"):
            mat = getattr(self, name)
            if len(mat) != n + 1 or any(len(r) != n + 1 for r in mat):
                raise InvalidInput(name, len(mat), f"must be {n + 1} x {n + 1} (depot first)")
            for a in range(n + 1):
                for b in range(n + 1):
                    v = mat[a][b]
                    if not (v >= 0):  # NaN fails too; inf means unreachable
                        raise InvalidInput(f"{name}[{a}][{b}]", v, "must be >= 0")
        _int("trucks", self.trucks, 0)
        _int("truck_capacity", self.truck_capacity, 1)
        for name in ("shift_min", "service_min", "cost_per_km", "holding_cny", "stockout_cny"):
            if check_finite(name, getattr(self, name)) < 0:
                raise InvalidInput(name, getattr(self, name), "must be >= 0")
        if self.shift_min <= 0:
            raise InvalidInput("shift_min", self.shift_min, "must be > 0")

    @property
    def n(self) -> int:
        return len(self.station_ids)

    @property
    def days(self) -> int:
        return len(self.demand[0])

    def ss(self, i: int) -> int:
        """Safety stock of station index ``i``, cylinders."""
        return int(self.safety[i]) if self.safety else 0


@dataclass(frozen=True, slots=True)
class TruckRoute:
    """One truck's tour on ``day``: depot -> ``stops`` (station indices, in order) -> depot,
    ``delivered`` cylinders per stop, ``km`` and ``minutes`` (driving + service)."""

    day: int
    truck: int
    stops: tuple[int, ...]
    delivered: tuple[int, ...]
    km: float
    minutes: float


@dataclass(frozen=True, slots=True)
class OxygenShortfall(Unserved):
    """Demand a plan leaves unmet: ``item_id`` = station id, ``reason`` one of the module
    docstring's words, ``day`` (-1: the whole horizon), ``cylinders`` not delivered."""

    day: int = -1
    cylinders: int = 0


@dataclass(frozen=True)
class OxygenPlan:
    """A replenishment plan (the solution of an :class:`OxygenProblem`).

    Attributes
    ----------
    method : str
        ``exact`` or ``policy`` (the heuristic).
    routes : tuple[TruckRoute, ...]
    stock, lost : tuple[tuple[int, ...], ...]
        [station][day] full cylinders at the end of the day, and unmet demand (cylinders).
    routing_cost_cny, holding_cost_cny : float
        Truck km x cost_per_km, and cylinder-nights x holding_cny, CNY.
    stockout_cylinders, min_margin : int
        Total unmet demand, and the lowest end-of-day stock (cylinders).
    unserved : tuple[OxygenShortfall, ...]
    stats : SolveStats
        Status, objective (routing + holding, CNY), bound (exact: CP-SAT bound incl. penalties),
        gap, runtime, iterations (local-search evaluations), stopped_by, seed.
    details : dict
        ``route_set`` (exact), ``lookahead``/``insertion``/``ls`` (heuristic).
    """

    method: str
    routes: tuple[TruckRoute, ...]
    stock: tuple[tuple[int, ...], ...]
    lost: tuple[tuple[int, ...], ...]
    routing_cost_cny: float
    holding_cost_cny: float
    stockout_cylinders: int
    min_margin: int
    unserved: tuple[OxygenShortfall, ...]
    stats: SolveStats
    details: dict = field(default_factory=dict)

    @property
    def total_cost_cny(self) -> float:
        return self.routing_cost_cny + self.holding_cost_cny

    @property
    def has_plan(self) -> bool:
        return self.stats.has_plan


@dataclass(frozen=True, slots=True)
class OxygenParams:
    """Options of :func:`solve_oxygen` (module docstring): ``method`` ``auto`` | ``exact`` |
    ``policy``; ``exact_max_stations`` (auto: exact up to this many stations); ``max_route_stops``
    (exact: longest candidate route, None = all stations for n <= 8, else 3); ``lookahead``
    (heuristic: days, None = try 0..3); ``improve`` (heuristic: run the local search);
    ``max_evals`` (local-search evaluations at most); ``workers`` (CP-SAT)."""

    method: str = "auto"
    exact_max_stations: int = EXACT_MAX_STATIONS
    max_route_stops: int | None = None
    lookahead: int | None = None
    improve: bool = True
    max_evals: int = 4000
    workers: int = 8

    def __post_init__(self) -> None:
        if self.method not in ("auto", "exact", "policy"):
            raise InvalidInput("method", self.method, "must be 'auto', 'exact' or 'policy'")
        check_count("exact_max_stations", self.exact_max_stations, 0, 64)
        if self.max_route_stops is not None:
            check_count("max_route_stops", self.max_route_stops, 1, 64)
        if self.lookahead is not None:
            check_count("lookahead", self.lookahead, 0, MAX_LOOKAHEAD)
        check_count("max_evals", self.max_evals, 0, 10_000_000)
        check_count("workers", self.workers, 1, 256)


# ------------------------------------------------------------------------------------------------
# routes and stock


def route_length(p: OxygenProblem, stops: Sequence[int]) -> tuple[float, float]:
    """(km, minutes incl. service) of depot -> stops (station indices) -> depot."""
    nodes = [0] + [s + 1 for s in stops] + [0]
    km = sum(p.km[a][b] for a, b in itertools.pairwise(nodes))
    mins = sum(p.minutes[a][b] for a, b in itertools.pairwise(nodes)) + p.service_min * len(stops)
    return km, mins


def _best_order(p: OxygenProblem, subset: tuple[int, ...]) -> tuple[tuple[int, ...], float, float]:
    """Shortest (km) order of a small subset (brute force up to 7 stops, else nearest neighbour)."""
    if len(subset) <= 7:
        best = None
        for perm in itertools.permutations(subset):
            if len(perm) > 1 and perm[0] > perm[-1]:
                continue  # reversed duplicate (symmetric km assumed for the search, re-measured below)
            km, mins = route_length(p, perm)
            rk, rm = route_length(p, perm[::-1])
            if rk < km:
                perm, km, mins = perm[::-1], rk, rm
            if best is None or km < best[1]:
                best = (perm, km, mins)
        assert best is not None
        return best
    order, left, cur = [], set(subset), 0
    while left:
        nxt = min(left, key=lambda s: p.km[cur][s + 1])
        order.append(nxt)
        left.remove(nxt)
        cur = nxt + 1
    km, mins = route_length(p, order)
    return tuple(order), km, mins


def _unreachable(p: OxygenProblem) -> list[int]:
    out = []
    for i in range(p.n):
        km, mins = route_length(p, (i,))
        if not math.isfinite(km) or mins > p.shift_min:
            out.append(i)
    return out


def _unreachable_unserved(p: OxygenProblem, bad: Sequence[int]) -> list[OxygenShortfall]:
    return [OxygenShortfall(p.station_ids[i], UNREACHABLE, UNREACHABLE_DETAIL, -1, int(sum(p.demand[i])))
            for i in sorted(bad)]


def candidate_routes(p: OxygenProblem, max_stops: int) -> list[tuple[tuple[int, ...], float, float]]:
    """Every subset of at most ``max_stops`` reachable stations in its shortest order that fits the
    shift: (stops, km, minutes), the route set of the exact model."""
    routes = []
    bad = set(_unreachable(p))
    ok = [i for i in range(p.n) if i not in bad]
    for k in range(1, min(max_stops, len(ok)) + 1):
        for sub in itertools.combinations(ok, k):
            order, km, mins = _best_order(p, sub)
            if mins <= p.shift_min and math.isfinite(km):
                routes.append((order, km, mins))
    return routes


def _stock_path(p: OxygenProblem, deliveries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, T = p.n, p.days
    stock = np.zeros((n, T), dtype=int)
    lost = np.zeros((n, T), dtype=int)
    for i in range(n):
        level = p.initial[i]
        for t in range(T):
            level += int(deliveries[i, t]) - p.demand[i][t]
            if level < 0:
                lost[i, t] = -level
                level = 0
            stock[i, t] = level
    return stock, lost


def _finish(p: OxygenProblem, routes: list[TruckRoute], method: str, unserved: list[OxygenShortfall],
            details: dict) -> OxygenPlan:
    """The plan of ``routes``: stock path, stock-outs (each named in ``unserved``), costs. Its
    ``stats`` are provisional (status feasible); :func:`solve_oxygen` sets the final ones."""
    dl = np.zeros((p.n, p.days), dtype=int)
    for r in routes:
        for s, q in zip(r.stops, r.delivered):
            dl[s, r.day] += q
    stock, lost = _stock_path(p, dl)
    for i, t in zip(*np.nonzero(lost)):
        if not any(u.item_id == p.station_ids[i] and u.day == int(t) for u in unserved):
            unserved.append(OxygenShortfall(p.station_ids[i], STOCKOUT,
                                            "stock-out: no delivery fitted the trucks' capacity/shift on or before "
                                            "this day", int(t), int(lost[i, t])))
    routing = sum(r.km for r in routes) * p.cost_per_km
    holding = float(stock.sum()) * p.holding_cny
    return OxygenPlan(method=method, routes=tuple(routes), stock=tuple(tuple(int(x) for x in row) for row in stock),
                      lost=tuple(tuple(int(x) for x in row) for row in lost), routing_cost_cny=routing,
                      holding_cost_cny=holding, stockout_cylinders=int(lost.sum()), min_margin=int(stock.min()),
                      unserved=tuple(unserved), stats=SolveStats(FEASIBLE, routing + holding), details=details)


def _below(p: OxygenProblem, r: OxygenPlan) -> int:
    """Cylinder-days below the safety stock."""
    return sum(max(0, p.ss(i) - r.stock[i][t]) for i in range(p.n) for t in range(p.days))


# ------------------------------------------------------------------------------------------------
# heuristic: order-up-to policy, savings routes, local search


def _savings_routes(p: OxygenProblem, need: dict[int, int]) -> list[list[int]]:
    """Clarke-Wright savings over the stations in ``need`` (station -> cylinders), capacity Q, shift."""
    routes = {i: [i] for i in need}
    load = {i: need[i] for i in need}
    where = {i: i for i in need}
    sav = []
    keys = sorted(need)
    for a, b in itertools.combinations(keys, 2):
        s = p.km[0][a + 1] + p.km[b + 1][0] - p.km[a + 1][b + 1]
        sav.append((s, a, b))
    sav.sort(key=lambda z: (-z[0], z[1], z[2]))
    for s, a, b in sav:
        ra, rb = where[a], where[b]
        if ra == rb or load[ra] + load[rb] > p.truck_capacity:
            continue
        A, B = routes[ra], routes[rb]
        cand = None
        for X, Y in ((A, B), (A, B[::-1]), (A[::-1], B), (A[::-1], B[::-1])):
            if X[-1] == a and Y[0] == b or X[-1] == b and Y[0] == a:
                cand = X + Y
                break
        if cand is None:
            continue
        if route_length(p, cand)[1] > p.shift_min:
            continue
        routes[ra] = cand
        load[ra] += load[rb]
        del routes[rb], load[rb]
        for i in cand:
            where[i] = ra
    return list(routes.values())


def _policy(p: OxygenProblem, lookahead: int, extra: bool) -> OxygenPlan:
    """One run of the order-up-to policy (module docstring)."""
    n, T, Q = p.n, p.days, p.truck_capacity
    bad = set(_unreachable(p))
    unserved = _unreachable_unserved(p, bad)
    level = list(p.initial)
    out: list[TruckRoute] = []
    for t in range(T):
        need: dict[int, int] = {}
        urgency: dict[int, int] = {}
        for i in range(n):
            if i in bad:
                continue
            horizon = sum(p.demand[i][t:min(T, t + lookahead + 1)])
            if level[i] - horizon < p.ss(i):
                need[i] = min(p.capacity[i] - level[i], Q)
                urgency[i] = level[i] - p.demand[i][t]  # < 0: runs out today without a delivery
        routes = _savings_routes(p, {i: v for i, v in need.items() if v > 0})
        routes.sort(key=lambda r: (min(urgency[i] for i in r), -sum(need[i] for i in r)))
        kept = routes[: p.trucks]
        if extra:
            for i in sorted(range(n), key=lambda i: level[i] / p.capacity[i]):
                if i in bad or i in need or p.capacity[i] - level[i] <= 0:
                    continue
                alone = route_length(p, (i,))[0]
                best = None
                for k, r in enumerate(kept):
                    load = sum(need[j] for j in r)
                    add = min(p.capacity[i] - level[i], Q - load)
                    if add <= 0:
                        continue
                    for pos in range(len(r) + 1):
                        cand = r[:pos] + [i] + r[pos:]
                        km2, mins2 = route_length(p, cand)
                        d = km2 - route_length(p, r)[0]
                        if mins2 <= p.shift_min and d <= 0.5 * alone and (best is None or d < best[0]):
                            best = (d, k, cand, add)
                if best is not None:
                    _, k, cand, add = best
                    kept[k] = cand
                    need[i] = add
                    urgency[i] = level[i] - p.demand[i][t]
        for k, r in enumerate(kept):
            order, km, mins = _best_order(p, tuple(r)) if len(r) <= 7 else (tuple(r), *route_length(p, r))
            dq = tuple(need[i] for i in order)
            out.append(TruckRoute(t, k, tuple(order), dq, km, mins))
            for i, qq in zip(order, dq):
                level[i] += qq
        for r in routes[p.trucks:]:
            for i in r:
                if urgency[i] < 0:
                    unserved.append(OxygenShortfall(p.station_ids[i], TRUCKS,
                                                    f"needs a delivery on day {t} but all {p.trucks} trucks are in "
                                                    "use", t, -urgency[i]))
        for i in range(n):
            level[i] = max(0, level[i] - p.demand[i][t])
    return _finish(p, out, "policy", unserved, {"lookahead": lookahead, "insertion": extra})


def improve_plan(p: OxygenProblem, plan: OxygenPlan, max_evals: int = 4000,
                 deadline: float = math.inf) -> tuple[OxygenPlan, int]:
    """Local search over delivery days (module docstring), deterministic; (better plan, evaluations).

    A plan is represented by its visits (station, day). Given the visits, each station receives
    *just in time*: at a visit, the demand until its next visit (or the horizon end) plus its
    safety stock, minus the stock on hand, capped by the free capacity and the truck capacity;
    each day's visits are routed with Clarke-Wright savings (capacity, shift) and each route's
    order is the shortest (brute force up to 7 stops); more routes than trucks is infeasible.
    Moves, first improvement, in a fixed order: drop a visit (an earlier one then delivers more),
    or move it to another day not yet visited (earlier days first); only where none helps, add a
    visit (repairs stock below the safety stock, or lowers holding). Stops after ``max_evals`` plan
    evaluations, at ``deadline`` (a ``time.perf_counter`` value) or at a local optimum. Returns the
    better of ``plan`` and the local optimum (``details["ls"]``: evaluations, moves kept, cost
    before/after)."""
    if not plan.routes or max_evals <= 0:
        return plan, 0
    n, T, Q = p.n, p.days, p.truck_capacity
    bad = set(_unreachable(p))
    order_cache: dict[tuple[int, ...], tuple[tuple[int, ...], float, float]] = {}

    def best_order(sub: tuple[int, ...]) -> tuple[tuple[int, ...], float, float]:
        if sub not in order_cache:
            order_cache[sub] = _best_order(p, sub) if len(sub) <= 7 else (sub, *route_length(p, sub))
        return order_cache[sub]

    def build(visits: frozenset) -> tuple[tuple, OxygenPlan] | None:
        q: dict[tuple[int, int], int] = {}
        for i in range(n):
            days = sorted(t for (j, t) in visits if j == i)
            level = p.initial[i]
            for t in range(T):
                if days and t in days:
                    k = days.index(t)
                    nxt = days[k + 1] if k + 1 < len(days) else T
                    want = sum(p.demand[i][t:nxt]) + p.ss(i) - level
                    qq = max(0, min(want, p.capacity[i] - level, Q))
                    if qq > 0:
                        q[(i, t)] = qq
                        level += qq
                level = max(0, level - p.demand[i][t])
        routes: list[TruckRoute] = []
        for t in range(T):
            need = {i: qq for (i, tt), qq in q.items() if tt == t}
            rs = _savings_routes(p, need)
            if len(rs) > p.trucks:
                return None
            for k, r in enumerate(sorted(sorted(r) for r in rs)):
                order, km, mins = best_order(tuple(r))
                if mins > p.shift_min:
                    order, (km, mins) = tuple(r), route_length(p, r)
                    if mins > p.shift_min:
                        return None
                routes.append(TruckRoute(t, k, order, tuple(need[i] for i in order), km, mins))
        r = _finish(p, routes, plan.method, _unreachable_unserved(p, bad), dict(plan.details))
        return (r.stockout_cylinders, _below(p, r), round(r.total_cost_cny, 6)), r

    cur_set = frozenset((s, r.day) for r in plan.routes for s in r.stops)
    got = build(cur_set)
    # an infeasible start (just-in-time loads need more routes than trucks): any feasible neighbour is better
    cur_key, cur = got if got is not None else ((math.inf,), plan)
    evals, kept = 1, 0
    improved = True
    while improved and evals < max_evals and time.perf_counter() < deadline:
        improved = False
        groups = [[cur_set - {(i, t)}] + [(cur_set - {(i, t)}) | {(i, t2)} for t2 in range(T)
                                          if t2 != t and (i, t2) not in cur_set] for (i, t) in sorted(cur_set)]
        # add a visit: tried only where no drop or move helps (it mends stock below the safety stock)
        groups.append([cur_set | {(i, t)} for i in range(n) if i not in bad for t in range(T)
                       if (i, t) not in cur_set])
        for cands in groups:
            for cs in cands:
                if evals >= max_evals or time.perf_counter() >= deadline:
                    break
                evals += 1
                got = build(frozenset(cs))
                if got is not None and got[0] < cur_key:
                    cur_key, cur = got
                    cur_set = frozenset(cs)
                    kept += 1
                    improved = True
                    break
            if improved:
                break
    base_key = (plan.stockout_cylinders, _below(p, plan), round(plan.total_cost_cny, 6))
    best = cur if cur_key < base_key else plan
    details = dict(best.details)
    details["ls"] = {"evaluations": evals, "moves": kept, "cost_before": plan.total_cost_cny,
                     "cost_after": best.total_cost_cny}
    return dataclasses.replace(best, details=details), evals


def _solve_policy(p: OxygenProblem, prm: OxygenParams, max_evals: int, deadline: float) -> tuple[OxygenPlan, int]:
    """The policy's start plans (one lookahead, or 0..3 with and without insertion), each improved
    in turn, best start first, while the shared ``max_evals`` and ``deadline`` last; the best plan
    by (stock-outs, cylinder-days below safety stock, cost) after improvement. The rank of a start
    does not predict the rank of its local optimum (a start that misses the safety stock on one day
    can end cheapest once repaired), so every distinct start is improved, not just the first."""
    def key(r: OxygenPlan) -> tuple:
        return r.stockout_cylinders, _below(p, r), round(r.total_cost_cny, 6)

    if prm.lookahead is None:
        plans = [_policy(p, la, extra) for la in range(4) for extra in (False, True)]
    else:
        plans = [_policy(p, prm.lookahead, False)]
    starts: dict[tuple, OxygenPlan] = {}
    for r in sorted(plans, key=key):  # stable: ties keep the lookahead order
        starts.setdefault(tuple(r.routes), r)
    if not prm.improve:
        return next(iter(starts.values())), 0
    best, used = None, 0
    for start in starts.values():
        if best is not None and (used >= max_evals or time.perf_counter() >= deadline):
            break
        r, evals = improve_plan(p, start, max_evals - used, deadline)
        used += evals
        if best is None or key(r) < key(best):
            best = r
    assert best is not None
    return best, used


def _solve_exact(p: OxygenProblem, prm: OxygenParams, stop: StoppingCriterion, deadline, seed: int) -> OxygenPlan:
    kmax = (p.n if p.n <= 8 else 3) if prm.max_route_stops is None else prm.max_route_stops
    routes = candidate_routes(p, kmax)
    all_subsets = kmax >= p.n
    raw = model.solve(p, routes, stop, deadline, workers=prm.workers, seed=seed)
    details = {"routes_enumerated": len(routes), "route_set": "all subsets" if all_subsets
               else f"subsets of <= {kmax} stops"}
    if not raw.outcome.has_solution:
        return OxygenPlan("exact", (), (), (), 0.0, 0.0, 0, 0, (), SolveStats(raw.outcome.status), details)
    out = []
    k_of_day: dict[int, int] = {}
    for d in raw.driven:
        order, km, mins = routes[d.route]
        k = k_of_day.get(d.day, 0)
        k_of_day[d.day] = k + 1
        out.append(TruckRoute(d.day, k, order, d.delivered, km, mins))
    plan = _finish(p, out, "exact", _unreachable_unserved(p, _unreachable(p)), details)
    if all_subsets:
        status, bound, gap = raw.outcome.status, raw.outcome.bound, raw.outcome.gap
    else:  # CP-SAT's bound holds for the restricted route set only: no optimality claim, no bound
        status, bound, gap = FEASIBLE, None, None
    return dataclasses.replace(plan, stats=SolveStats(status, plan.total_cost_cny, bound, gap))


def solve_oxygen(problem: OxygenProblem, stop: StoppingCriterion, seed: int = 0,
                 params: OxygenParams | None = None) -> OxygenPlan:
    """Replenishment plan of ``problem``: exact (CP-SAT, ``models.oxygen_irp``) or the heuristic,
    as ``params.method`` says (``auto``: exact up to ``params.exact_max_stations`` stations).

    ``stop``: the exact model's time limit is what is left of ``stop.max_runtime_s`` after the
    route enumeration (the back-end default without one); the heuristic is deterministic (``seed``
    unused) and its local search stops at ``stop.max_runtime_s``, at ``stop.max_iterations``
    evaluations (and at ``params.max_evals``) or at a local optimum (``stats.stopped_by`` ``""``).
    ``stats.objective`` = routing + holding cost, CNY; ``stats.bound`` (exact, all subsets) the
    CP-SAT bound of the penalised objective. Without a plan in time the status is
    ``no_solution_in_time`` (or ``infeasible``), the plan is empty and every station is unserved
    (``no_plan``). Raises ``InvalidInput`` for a bad seed.
    """
    t0 = time.perf_counter()
    prm = params or OxygenParams()
    seed = check_count("seed", seed, 0, 2**31 - 1)
    deadline = stop.deadline(t0)
    exact = prm.method == "exact" or (prm.method == "auto" and problem.n <= prm.exact_max_stations)
    if exact:
        plan = _solve_exact(problem, prm, stop, deadline, seed)
        runtime = time.perf_counter() - t0
        st = plan.stats
        if not st.has_plan:
            unserved = tuple(OxygenShortfall(s, NO_PLAN, f"no replenishment plan: {st.status.replace('_', ' ')}",
                                             -1, int(sum(problem.demand[i])))
                             for i, s in enumerate(problem.station_ids))
            stopped = "solved" if st.status == INFEASIBLE else "max_runtime_s"
            return dataclasses.replace(plan, unserved=unserved,
                                       stats=SolveStats(st.status, runtime_s=runtime, stopped_by=stopped, seed=seed))
        stopped = "solved" if st.status == OPTIMAL else "max_runtime_s"
        return dataclasses.replace(plan, stats=dataclasses.replace(st, runtime_s=runtime, stopped_by=stopped,
                                                                   seed=seed))
    cap = prm.max_evals if stop.max_iterations is None else min(prm.max_evals, stop.max_iterations)
    end = math.inf if stop.max_runtime_s is None else t0 + stop.max_runtime_s
    plan, evals = _solve_policy(problem, prm, cap, end)
    if time.perf_counter() >= end:
        stopped = "max_runtime_s"
    elif prm.improve and evals >= cap and cap > 0:
        stopped = "max_iterations"
    else:
        stopped = ""
    stats = SolveStats(FEASIBLE, plan.total_cost_cny, None, None, time.perf_counter() - t0, evals, stopped, seed)
    return dataclasses.replace(plan, stats=stats)


# ------------------------------------------------------------------------------------------------
# building problems


def _safety_stock(demand: Sequence[int], capacity: int, safety_days: float, safety_min: int) -> int:
    peak = max(demand)
    if peak <= 0:
        return 0
    return min(capacity, max(safety_min, math.ceil(safety_days * peak - 1e-9)))


def check_supply_options(trucks: int, truck_capacity: int, shift_min: float, safety_days: float,
                         safety_min_cylinders: int) -> tuple[float, int]:
    """Check a planner's fleet and safety-stock options against the shared bounds (``trucks``
    :data:`MIN_TRUCKS`..:data:`MAX_TRUCKS`, ``truck_capacity`` 1..:data:`MAX_TRUCK_CAPACITY`,
    ``shift_min`` in (0, :data:`MAX_SHIFT_MIN`], ``safety_days`` 0..:data:`MAX_SAFETY_DAYS`,
    ``safety_min_cylinders`` 0..:data:`MAX_SAFETY_MIN`); returns (safety_days, safety_min_cylinders).
    Raises ``InvalidInput`` naming the field and the value."""
    if isinstance(trucks, bool) or not isinstance(trucks, (int, np.integer)) or not MIN_TRUCKS <= trucks <= MAX_TRUCKS:
        raise InvalidInput("trucks", trucks, f"must be an integer within {MIN_TRUCKS}..{MAX_TRUCKS} "
                                             "(without a truck no station is ever supplied)")
    check_count("truck_capacity", truck_capacity, 1, MAX_TRUCK_CAPACITY)
    shift = check_finite("shift_min", shift_min)
    if isinstance(shift_min, bool) or not 0 < shift <= MAX_SHIFT_MIN:
        raise InvalidInput("shift_min", shift_min, f"must be > 0 and <= {MAX_SHIFT_MIN:g} minutes")
    sd = check_finite("safety_days", safety_days)
    if isinstance(safety_days, bool) or not 0 <= sd <= MAX_SAFETY_DAYS:
        raise InvalidInput("safety_days", safety_days, f"must be within 0..{MAX_SAFETY_DAYS:g} days")
    return sd, check_count("safety_min_cylinders", safety_min_cylinders, 0, MAX_SAFETY_MIN)


def oxygen_problem(network: Network, litres_by_site: Mapping[str, float], stations: Sequence[str], *,
                   depot: str = "lhasa_railway", threshold_min: float | None = None,
                   day_factors: Sequence[float] = DEFAULT_DAY_FACTORS, cover_days: float = 3.0, trucks: int = 3,
                   truck_capacity: int = 40, shift_min: float = 600.0, cost_per_km: float = 3.0,
                   safety_days: float = DEFAULT_SAFETY_DAYS,
                   safety_min_cylinders: int = DEFAULT_SAFETY_MIN) -> tuple[OxygenProblem, list[dict], list[dict]]:
    """The replenishment problem of the oxygen ``stations`` (site ids) for the daily demand
    ``litres_by_site`` (site id -> litres/day), module docstring; each site goes to its nearest
    station by road minutes, within ``threshold_min`` minutes when given.

    Returns (problem over the stations that receive demand, one info row per station: station,
    litres_day, sites (site ids it serves), capacity, initial, safety, demand (cylinders per day),
    and one row per uncovered site: site_id, litres_day, nearest_station, minutes).
    Raises ``InvalidInput`` naming the field: unknown depot/station/site, bad numbers (``trucks``
    1..:data:`MAX_TRUCKS`, ``truck_capacity`` 1..:data:`MAX_TRUCK_CAPACITY`, ``shift_min`` in
    (0, :data:`MAX_SHIFT_MIN`], ``safety_days`` 0..:data:`MAX_SAFETY_DAYS`, ``safety_min_cylinders``
    0..:data:`MAX_SAFETY_MIN`), or no demand at any station (field ``stations``)."""
    if not network.has_site(depot):
        raise InvalidInput("depot", depot, "is not a site of the network")
    if not day_factors:
        raise InvalidInput("day_factors", 0, "needs at least one day")
    for k, f in enumerate(day_factors):
        if not (math.isfinite(f) and f >= 0):
            raise InvalidInput(f"day_factors[{k}]", f, "must be finite and >= 0")
    cover = check_finite("cover_days", cover_days)
    if cover <= 0:
        raise InvalidInput("cover_days", cover, "must be > 0")
    sd, smin = check_supply_options(trucks, truck_capacity, shift_min, safety_days, safety_min_cylinders)
    thr = None if threshold_min is None else check_finite("threshold_min", threshold_min)
    if thr is not None and thr <= 0:
        raise InvalidInput("threshold_min", thr, "must be > 0 minutes")
    stations = tuple(dict.fromkeys(stations))
    if not stations:
        raise InvalidInput("stations", 0, "no oxygen stations given")
    for k, s in enumerate(stations):
        if not network.has_site(s):
            raise InvalidInput(f"stations[{k}]", s, "is not a site of the network")
    cidx = [network.index(c) for c in stations]
    litres: dict[str, float] = {}
    served_sites: dict[str, list[str]] = {}
    uncovered: list[dict] = []
    for sid, lday in litres_by_site.items():
        if not network.has_site(sid):
            raise InvalidInput(f"demand[{sid}]", sid, "is not a site of the network")
        lv = check_finite(f"demand[{sid}].litres_day", lday)
        if lv < 0:
            raise InvalidInput(f"demand[{sid}].litres_day", lv, "must be >= 0")
        tt = network.travel_min[network.index(sid), cidx]
        j = int(np.argmin(tt))
        st = stations[j]
        if thr is not None and not float(tt[j]) <= thr:
            uncovered.append({"site_id": sid, "litres_day": lv, "nearest_station": st, "minutes": float(tt[j])})
            continue
        litres[st] = litres.get(st, 0.0) + lv
        served_sites.setdefault(st, []).append(sid)
    ids = tuple(s for s in stations if litres.get(s, 0.0) > 0)
    if not ids:
        raise InvalidInput("stations", list(stations), "no oxygen demand reaches these stations")
    demand = tuple(tuple(math.ceil(litres[s] * f / CYLINDER_L - 1e-9) for f in day_factors) for s in ids)
    cap = tuple(max(4, math.ceil(cover * max(d))) for d in demand)
    init = tuple(c // 2 for c in cap)
    safety = tuple(_safety_stock(d, cap[k], sd, smin) for k, d in enumerate(demand))
    nodes = [network.index(depot)] + [network.index(s) for s in ids]
    km = tuple(tuple(float(network.distance_km[a, b]) for b in nodes) for a in nodes)
    mins = tuple(tuple(float(network.travel_min[a, b]) for b in nodes) for a in nodes)
    problem = OxygenProblem(ids, cap, init, demand, km, mins, trucks=trucks, truck_capacity=truck_capacity,
                            shift_min=shift_min, cost_per_km=cost_per_km, depot_id=depot, safety=safety)
    info = [{"station": s, "litres_day": litres[s], "sites": served_sites[s], "capacity": cap[k], "initial": init[k],
             "safety": safety[k], "demand": list(demand[k])} for k, s in enumerate(ids)]
    return problem, info, uncovered


def oxygen_from_plan(problem: TourProblem, plan: TourPlan, stations: Sequence[str],
                     **options) -> tuple[OxygenProblem, list[dict], list[dict]]:
    """:func:`oxygen_problem` with the daily litres per site of a tour plan
    (``optimizer.stations.demand.oxygen_demand``); ``options`` as :func:`oxygen_problem`.
    Raises ``InvalidInput`` (field ``plan``) when the plan sends nobody to any site."""
    df = oxygen_demand(problem, plan)
    litres = dict(zip(df["site_id"].to_list(), (float(x) for x in df["litres_day"].to_list())))
    if not any(v > 0 for v in litres.values()):
        raise InvalidInput("plan", 0, "no oxygen demand in the plan")
    return oxygen_problem(problem.network, litres, stations, **options)


def synthetic_oxygen(n: int = 20, days: int = 7, seed: int = 0, trucks: int = 3) -> OxygenProblem:
    """Reproducible benchmark: n stations uniform in a 200 x 200 km square around the depot,
    road km = 1.3 x Euclidean at 50 km/h, demand 1-6 cylinders/day, capacity 3-4 days of peak,
    no safety stock."""
    rng = np.random.default_rng(seed)
    pts = np.vstack([[100.0, 100.0], rng.uniform(0, 200, (n, 2))])
    d = np.linalg.norm(pts[:, None] - pts[None], axis=2) * 1.3
    km = tuple(tuple(round(float(x), 1) for x in row) for row in d)
    mins = tuple(tuple(float(x) / 50.0 * 60.0 for x in row) for row in km)
    dem = tuple(tuple(int(x) for x in rng.integers(1, 7, days)) for _ in range(n))
    cap = tuple(int(max(r) * rng.integers(3, 5)) for r in dem)
    return OxygenProblem(tuple(f"O{k:02d}" for k in range(n)), cap, tuple(c // 2 for c in cap), dem, km, mins,
                         trucks=trucks, truck_capacity=40, shift_min=600.0)

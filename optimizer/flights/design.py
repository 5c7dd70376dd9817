"""Exact route design of sightseeing flights: the orienteering problem over viewpoints, by subset DP.

Units: distance km, time minutes, speed km/h, altitude m AMSL, density kg/m^3, temperature degC.

Endurance at altitude
---------------------
A full battery or tank lasts ``endurance_sea_min * sqrt(rho / 1.225)`` minutes (power ~ rho^-1/2,
Dorling et al. 2017, IEEE TSMC: Systems 47(1):70-85; :class:`optimizer.flights.problem.AircraftType`).
The flight's rho is ISA pressure at its highest altitude (vertiport + ``TRANSIT_AGL_M`` or the highest
viewpoint orbit) with the day's vertiport temperature lowered by 6.5 K/km
(:func:`optimizer.flights.problem.flight_density`). Usable minutes = endurance - ``reserve_min``.

Route design: the orienteering problem
--------------------------------------
Golden, Levy & Vohra (1987), Naval Research Logistics 34(3):307-318; survey Vansteenwegen, Souffriau & Van
Oudheusden (2011), EJOR 209(1):1-10. From vertiport 0, choose a subset S of viewpoints and an order
v1..vk maximising ``sum_{v in S} score_v`` subject to::

    T = takeoff_landing_min + t(0, v1) + sum_i view_{vi} + sum_i t(vi, vi+1) + t(vk, 0)
    T <= min(duration class, usable minutes at the flight's rho)

with t(a, b) = air km around the no-fly polygons (visibility graph, :class:`optimizer.core.airspace.AirDistances`)
/ cruise_kmh * 60. Exact by dynamic programming over subsets (Held-Karp style): ``D[m, j]`` = least minutes
from take-off to the end of viewing j having seen the set m (j in m),
``D[m | {k}, k] = min_j D[m, j] + t(j, k) + view_k``, keeping only states that can still return in time; the
best route is the largest-score (m, j) with ``D[m, j] + t(j, 0) <= limit`` (ties: fewer minutes). The
endurance limit depends on the highest altitude flown, so the problem is solved once per altitude level h
with only viewpoints at or below h and the limit at h; the best over the levels is optimal (a route whose
top altitude is h is feasible at level h, and every route found at level h flies no higher than h).
``O(2^n n^2)`` with n <= ``MAX_EXACT_VIEWPOINTS`` viewpoints in reach (Numba).

The menu: each vertiport x aircraft type x duration class gets its best route; a longer class whose best
route equals a shorter one's sells that product (no duplicate products); a cell without a route is
``unserved`` with its reason (:mod:`optimizer.flights.solution`).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numba import njit

from models._backend import DEFAULT_TIME_LIMIT_S
from optimizer.core.clock import Deadline
from optimizer.core.errors import InvalidInput
from optimizer.core.results import FEASIBLE, NO_SOLUTION_IN_TIME, OPTIMAL, SolveStats, Unserved
from optimizer.core.stop import StoppingCriterion
from optimizer.flights.problem import (
    TRANSIT_AGL_M,
    DesignProblem,
    FlightData,
    FlightProduct,
    cell_id,
    flight_density,
)
from optimizer.flights.solution import DesignedRoute, Menu, MenuOffer

MAX_EXACT_VIEWPOINTS = 20  # subset DP memory: 2^20 x 20 float64 = 168 MB
_EPS = 1e-9
_BLOCK = 1 << 15  # masks per kernel call between deadline checks

__all__ = ["MAX_EXACT_VIEWPOINTS", "design_menu", "design_route", "solve_orienteering"]


# ----------------------------------------------------------------------------------------------- exact OP solver
@njit(cache=True)
def _op_dp_block(dp, out_t, back_t, tt, view, score, limit, lo, hi, best):  # pragma: no cover (numba)
    """Relax masks lo..hi-1 of the subset DP; update ``best`` = [score, minutes, mask, last] in place."""
    n = out_t.shape[0]
    for m in range(lo, hi):
        msc = 0.0
        for j in range(n):
            if (m >> j) & 1:
                msc += score[j]
        for j in range(n):
            if not (m >> j) & 1:
                continue
            d = dp[m, j]
            if d == np.inf:
                continue
            tot = d + back_t[j]
            if msc > best[0] + _EPS or (abs(msc - best[0]) <= _EPS and tot < best[1] - _EPS):
                best[0] = msc
                best[1] = tot
                best[2] = m
                best[3] = j
            for k in range(n):
                if (m >> k) & 1:
                    continue
                c = d + tt[j, k] + view[k]
                if c + back_t[k] <= limit + _EPS and c < dp[m | (1 << k), k]:
                    dp[m | (1 << k), k] = c


def solve_orienteering(t_min: np.ndarray, view_min: np.ndarray, score: np.ndarray, limit_min: float,
                       deadline: Deadline | None = None) -> tuple[list[int], float, float, bool]:
    """Exact orienteering tour from node 0 over nodes 1..n (subset DP, see the module docstring).

    Parameters
    ----------
    t_min : (n+1, n+1) array of travel minutes (inf: no path); node 0 is the depot.
    view_min, score : (n+1,) arrays; entry 0 (the depot) is ignored.
    limit_min : largest tour minutes (travel + viewing).
    deadline : the search stops once it has expired (the result is then maybe not optimal).

    Returns ``(order, score, minutes, optimal)``: node indices 1..n in visiting order (empty: no node fits).
    Raises ``InvalidInput`` if more than ``MAX_EXACT_VIEWPOINTS`` nodes can be reached at all.
    """
    t = np.asarray(t_min, dtype=np.float64)
    n_all = t.shape[0] - 1
    view = np.asarray(view_min, dtype=np.float64)
    sc = np.asarray(score, dtype=np.float64)
    cand = [k for k in range(1, n_all + 1) if t[0, k] + view[k] + t[k, 0] <= limit_min + _EPS]
    n = len(cand)
    if n == 0:
        return [], 0.0, 0.0, True
    if n > MAX_EXACT_VIEWPOINTS:
        raise InvalidInput("viewpoints", n, f"at most {MAX_EXACT_VIEWPOINTS} viewpoints in reach of one flight "
                                            "for the exact solver; shorten the duration or drop viewpoints")
    c = np.array(cand)
    out_t, back_t = t[0, c].copy(), t[c, 0].copy()
    tt, vw, s = t[np.ix_(c, c)].copy(), view[c].copy(), sc[c].copy()
    dp = np.full((1 << n, n), np.inf)
    for j in range(n):
        dp[1 << j, j] = out_t[j] + vw[j]
    best = np.array([-1.0, np.inf, 0.0, 0.0])
    optimal = True
    for lo in range(1, 1 << n, _BLOCK):
        if deadline is not None and deadline.expired():
            optimal = False
            break
        _op_dp_block(dp, out_t, back_t, tt, vw, s, float(limit_min), lo, min(lo + _BLOCK, 1 << n), best)
    if best[0] < 0:
        return [], 0.0, 0.0, optimal
    m, j = int(best[2]), int(best[3])
    order = [j]
    while m != (1 << j):
        pm = m ^ (1 << j)
        target = dp[m, j] - tt[:, j] - vw[j]
        prev = next(i for i in range(n) if (pm >> i) & 1 and abs(dp[pm, i] - target[i]) <= 1e-9)
        m, j = pm, prev
        order.append(j)
    return [int(c[k]) for k in reversed(order)], float(best[0]), float(best[1]), optimal


def ensure_dp_compiled() -> None:
    """Compile (or load from Numba's cache) the DP kernel on a 1-node instance, before a design's
    clock starts: loading or compiling takes Numba's process-wide compiler lock, which a background
    warm-up of another family (``serve``) may hold for seconds; that wait must not eat the
    design's time limit (the flight kernels, like the tour kernels, are compiled outside the
    limit). Cheap after the first call."""
    global _DP_READY
    if _DP_READY:
        return
    dp = np.full((2, 1), np.inf)
    z = np.zeros(1)
    _op_dp_block(dp, z, z, np.zeros((1, 1)), z, z, 1.0, 1, 2, np.array([-1.0, np.inf, 0.0, 0.0]))
    _DP_READY = True


_DP_READY = False


# ----------------------------------------------------------------------------------------------- products
def design_route(data: FlightData, vertiport_id: str, aircraft_id: str, class_min: int,
                 temperature_c: float | None = 15.0, deadline: Deadline | None = None,
                 product_id: str | None = None) -> DesignedRoute | Unserved:
    """Best route of at most ``class_min`` block minutes (and within the usable endurance), or an
    ``Unserved`` for the cell (reason ``ceiling``, ``out_of_reach`` or ``time_limit``) when no viewpoint
    can be reached. Raises ``InvalidInput`` for an unknown vertiport or aircraft type."""
    if vertiport_id not in data.vertiports:
        raise InvalidInput("vertiport_id", vertiport_id, f"unknown vertiport (known: {sorted(data.vertiports)})")
    if aircraft_id not in data.aircraft:
        raise InvalidInput("aircraft_type_id", aircraft_id, f"unknown aircraft type (known: {sorted(data.aircraft)})")
    vp, ac = data.vertiports[vertiport_id], data.aircraft[aircraft_id]
    cell = cell_id(vertiport_id, aircraft_id, class_min)
    base = vp.elevation_m + TRANSIT_AGL_M
    if base > ac.ceiling_m:
        return Unserved(cell, "ceiling",
                        f"vertiport transit altitude {base:.0f} m is above the {ac.id} ceiling {ac.ceiling_m:.0f} m")
    vps = [v for v in data.viewpoints.values() if v.flight_alt_m <= ac.ceiling_m]
    levels = sorted({max(base, v.flight_alt_m) for v in vps} | {base})
    limits = [min(float(class_min), ac.usable_min(flight_density(vp, h, temperature_c))) for h in levels]
    best: tuple | None = None
    optimal = True
    for li, (h, lim) in enumerate(zip(levels, limits)):
        if li + 1 < len(levels) and limits[li + 1] >= lim - _EPS:
            continue  # a higher level allows as many minutes and more viewpoints
        avail = lim - ac.takeoff_landing_min
        if avail <= 0:
            continue
        sub = [v for v in vps if v.flight_alt_m <= h]
        ids = [vertiport_id] + [v.id for v in sub]
        km = data.dist.matrix[np.ix_([data.index[k] for k in ids], [data.index[k] for k in ids])]
        tmin = km / ac.cruise_kmh * 60.0
        view = np.array([0.0] + [v.view_min for v in sub])
        score = np.array([0.0] + [v.score for v in sub])
        order, sc, minutes, opt = solve_orienteering(tmin, view, score, avail, deadline)
        optimal = optimal and opt
        if order and (best is None or sc > best[0] + _EPS or (abs(sc - best[0]) <= _EPS and minutes < best[1] - _EPS)):
            best = (sc, minutes, [sub[k - 1] for k in order])
    if best is None:
        usable = ac.usable_min(flight_density(vp, base, temperature_c))
        if not optimal:
            return Unserved(cell, "time_limit", "time limit reached before any route was found")
        return Unserved(cell, "out_of_reach", f"no viewpoint reachable and back within {min(class_min, usable):.1f} min "
                        f"(class {class_min} min, usable endurance {usable:.1f} min at {base:.0f} m)")
    seq = [vertiport_id] + [v.id for v in best[2]] + [vertiport_id]
    dist_km = sum(data.km(a, b) for a, b in itertools.pairwise(seq))
    path: list[tuple[float, float]] = []
    for a, b in itertools.pairwise(seq):
        leg = [(float(x), float(y)) for x, y in data.path(a, b)]
        path += leg if not path else leg[1:]
    max_alt = max([base] + [v.flight_alt_m for v in best[2]])
    rho = flight_density(vp, max_alt, temperature_c)
    flying, viewing = ac.leg_min(dist_km), sum(v.view_min for v in best[2])
    total = flying + viewing + ac.takeoff_landing_min
    pid = product_id or f"{vertiport_id}_{aircraft_id}_{class_min}"
    prod = FlightProduct(pid, vertiport_id, aircraft_id, max(1, math.ceil(total - 1e-6)),
                         float(sum(v.score for v in best[2])), tuple(v.id for v in best[2]), round(dist_km, 3))
    return DesignedRoute(prod, int(class_min), flying, viewing, ac.takeoff_landing_min, max_alt, rho,
                         ac.usable_min(rho), tuple(path), optimal)


def design_menu(problem: DesignProblem, stop: StoppingCriterion, seed: int = 0) -> Menu:
    """The product menu: for each vertiport x aircraft type x duration class of ``problem`` the best route (exact).

    Products are deduplicated per vertiport and aircraft type (a longer class whose best route is the
    same as a shorter one's points to that product); cells without a route are ``unserved`` with the
    reason. ``stop.max_runtime_s`` bounds the whole design (``DEFAULT_TIME_LIMIT_S`` without one);
    routes found after the limit are marked ``optimal=False``. ``seed`` is recorded only (the DP is
    deterministic).
    """
    limit = stop.max_runtime_s if stop.max_runtime_s is not None else DEFAULT_TIME_LIMIT_S
    ensure_dp_compiled()
    deadline = Deadline(limit)
    data, temperature_c = problem.data, problem.temperature_c
    routes: list[DesignedRoute] = []
    offers: list[MenuOffer] = []
    unserved: list[Unserved] = []
    for v in problem.vertiport_ids:
        for a in problem.aircraft_type_ids:
            prev: DesignedRoute | None = None
            for d in problem.durations_min:
                r = design_route(data, v, a, d, temperature_c, deadline)
                if isinstance(r, Unserved):
                    unserved.append(r)
                elif prev is not None and r.product.viewpoints == prev.product.viewpoints:
                    why = "endurance-limited" if r.usable_min < d else "no better route"
                    offers.append(MenuOffer(v, a, d, prev.product.id, prev.product.score, prev.product.block_min,
                                            f"same route as {prev.product.id} ({why})"))
                else:
                    routes.append(r)
                    prev = r
                    note = "" if r.optimal else "time limit: best found, not proven optimal. "
                    if r.usable_min < d:
                        note += f"endurance-limited: {r.usable_min:.1f} usable min at {r.max_alt_m:.0f} m"
                    offers.append(MenuOffer(v, a, d, r.product.id, r.product.score, r.product.block_min, note.strip()))
    timed_out = any(u.reason == "time_limit" for u in unserved) or not all(r.optimal for r in routes)
    objective = float(sum(o.score for o in offers))
    if not timed_out:
        status, bound, gap, stopped = OPTIMAL, objective, 0.0, "solved"
    else:
        status = FEASIBLE if offers else NO_SOLUTION_IN_TIME
        bound, gap, stopped = None, None, "max_runtime_s"
    if status == NO_SOLUTION_IN_TIME:
        objective = None
    stats = SolveStats(status, objective, bound, gap, deadline.elapsed_s(), 0, stopped, int(seed))
    return Menu(tuple(routes), tuple(offers), tuple(unserved), stats)

"""Hotel-sequence start for OPHS-like problems (Divsalar, Vansteenwegen & Cattrysse 2013, IJPE
145(1): their VNS first builds and ranks feasible *sequences of hotels*, then solves the
orienteering part for the promising ones).

With the hotel of every night fixed, an OPHS is a team orienteering problem whose route ``d``
starts at night ``d-1``'s hotel (the arrival place on the first day), ends at night ``d``'s hotel
(the departure place on the last day) and has its own length limit: exactly the model of the shared
ILS engine (:mod:`optimizer.core.engine`, per-route start, end and deadline). ``best_hotel_plan``
enumerates the hotel sequences whose empty trips fit, ranks them by the engine's greedy
construction and then a short engine ILS, runs the engine's ILS on the best few and returns the best plan; the itinerary ILS
then starts from it (and may still change hotels).

Used only when the problem is *OPHS-like*: one group, no lunch, budget, type limits, quotas,
altitude rules or fixed hotels, room limits not binding, every site open all the time on every day
(time-independent), so that a trip is only a length.
"""

from __future__ import annotations

import time

import numpy as np

from optimizer.core.engine.ils import ILSParams, run_ils
from optimizer.core.engine.kernels import NODE, KernelProblem, new_state
from optimizer.core.stop import StoppingCriterion
from optimizer.itineraries.problem import ItineraryProblem

__all__ = ["best_hotel_plan", "is_ophs_like"]


def is_ophs_like(pb: ItineraryProblem) -> bool:
    """True when the giant-tour start applies (see the module docstring)."""
    if len(pb.groups) != 1 or pb.acclimatization is not None:
        return False
    g = pb.groups[0]
    if (g.lunch is not None or g.budget is not None or g.max_per_type_day or g.max_per_type_trip
            or any(h is not None for h in g.hotels) or g.must_visits or g.n_nights < 1
            or g.allowed_hotels is not None):
        return False
    if any(h.rooms is not None and h.rooms < g.rooms for h in pb.hotels):
        return False
    horizon = max(g.day_window(d)[1] for d in g.days)
    for s in pb.sites:
        if s.daily_quota is not None or s.slot_quota is not None:
            return False
        for d in range(pb.n_days):
            ws = s.windows_on(d)
            if len(ws) != 1 or ws[0][0] > 0.0 or ws[0][1] < horizon:
                return False
    return True


def _engine_problem(pb: ItineraryProblem, places: list[int], lengths: np.ndarray):
    g = pb.groups[0]
    value = pb.group_score(g)
    cust = np.array([j for j in range(pb.n_sites) if value[j] > 0], dtype=np.int64)
    c, D = len(cust), len(lengths)
    st = np.array(places[:-1], dtype=np.int64)
    en = np.array(places[1:], dtype=np.int64)
    t = np.ascontiguousarray(pb.travel_min[np.ix_(cust, cust)], dtype=np.float64)
    P = KernelProblem(
        travel=t, travel_t=np.ascontiguousarray(t.T),
        t_from=np.ascontiguousarray(pb.travel_min[np.ix_(st, cust)]),
        t_to=np.ascontiguousarray(pb.travel_min[np.ix_(cust, en)].T),
        t_direct=np.array([float(pb.travel_min[a, b]) for a, b in zip(st, en)]),
        service=np.array([pb.sites[j].visit_min for j in cust], dtype=np.float64),
        open_=np.zeros(c), close=np.full(c, float(lengths.max())), day_start=np.zeros(D),
        day_end=np.asarray(lengths, dtype=np.float64).copy(),
        value=np.ascontiguousarray(np.tile(value[cust], (D, 1))), protect=np.zeros((D, c), dtype=np.bool_),
        size=np.ones(D, dtype=np.int64), cand=np.ascontiguousarray(np.tile(np.arange(c, dtype=np.int32), (D, 1))),
        n_cand=np.full(D, c, dtype=np.int32), slot_quota=np.full(c, -1, dtype=np.int64), slot_len=np.array([1440.0]),
    )
    return P, cust


def _run(pb, places, lengths, stop, seed):
    P, cust = _engine_problem(pb, places, lengths)
    c = len(cust)
    S = new_state(P, np.ones(c, dtype=np.int64), 1, c + 1)
    res = run_ils(P, S, stop, seed=seed, params=ILSParams(), t0=time.perf_counter())
    B = res.state
    routes = [[int(cust[B.ri[NODE, r, p]]) for p in range(int(B.length[r]))] for r in range(len(lengths))]
    return float(B.rvalue.sum()), routes


def best_hotel_plan(pb: ItineraryProblem, lengths: np.ndarray, stop: StoppingCriterion, seed: int,
                    max_sequences: int = 4000, top: int = 3, short_top: int = 16,
                    short_iterations: int = 150) -> tuple[float, list[int], list[list[int]]] | None:
    """Best plan over the feasible hotel sequences: ``(score, hotel index per night, site indices
    per day)``, or None if no sequence fits. Ranking: a greedy construction for every sequence (at
    most ``max_sequences``, in lexicographic order), then ``short_iterations`` engine iterations
    for the ``short_top`` best; ``stop.max_runtime_s`` (or ``max_iterations``) is shared by the
    ``top`` best of those."""
    g = pb.groups[0]
    n, H, D = pb.n_sites, pb.n_hotels, len(lengths)
    s, e = pb.place_index(g.arrival_place), pb.place_index(g.departure_place)
    t = pb.travel_min
    value = pb.group_score(g)
    if not (value > 0).any():
        return None
    seqs: list[tuple[int, ...]] = []

    def rec(prefix: list[int], place: int) -> None:
        if len(seqs) >= max_sequences:
            return
        d = len(prefix)
        if d == D - 1:
            if t[place, e] <= lengths[d] + 1e-9:
                seqs.append(tuple(prefix))
            return
        for h in range(H):
            if t[place, n + h] <= lengths[d] + 1e-9:
                rec(prefix + [h], n + h)

    rec([], s)
    if not seqs:
        return None
    greedy = StoppingCriterion(max_iterations=0)
    places = {q: [s, *(n + h for h in q), e] for q in seqs}
    ranked = sorted(((_run(pb, places[q], lengths, greedy, seed)[0], q) for q in seqs), key=lambda x: -x[0])
    # second stage: a short engine ILS on the best greedy sequences, then the long runs
    short = StoppingCriterion(max_iterations=short_iterations)
    ranked = sorted(((_run(pb, places[q], lengths, short, seed)[0], q) for _, q in ranked[:short_top]),
                    key=lambda x: -x[0])[:top]
    best = None
    for _, q in ranked:
        if stop.max_runtime_s is not None:
            sub = StoppingCriterion(max_runtime_s=max(0.01, stop.max_runtime_s / len(ranked)))
        else:
            sub = StoppingCriterion(max_iterations=max(1, (stop.max_iterations or 1000) // len(ranked)))
        v, routes = _run(pb, places[q], lengths, sub, seed)
        if best is None or v > best[0] + 1e-9:
            best = (v, list(q), routes)
    return best

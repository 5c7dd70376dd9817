"""Hotel-sequence start for OPHS-like problems (Divsalar, Vansteenwegen & Cattrysse 2013, IJPE
145(1): their VNS first builds and ranks feasible *sequences of hotels*, then solves the
orienteering part for the promising ones).

With the hotel of every night fixed, an OPHS is a team orienteering problem whose route ``d``
starts at night ``d-1``'s hotel (the arrival place on the first day), ends at night ``d``'s hotel
(the departure place on the last day) and has its own length limit: exactly the model of the shared
ILS engine (:mod:`optimizer.core.engine`), written as *one* route with the night hotels as
must-visit nodes with point windows (:func:`_engine_problem`). ``best_hotel_plan`` enumerates the
hotel sequences whose empty trips fit, ranks them by the engine's greedy construction, races them
(successive halving with engine ILS runs of growing length and fresh seeds) and returns the best
plan; the itinerary ILS then starts from it (and may still change hotels).

How the settings were chosen (issue 16): on the worst cases of the 10 s OPHS run before this
change (bench/results/itineraries_ophs.csv, both halves of ``bench.itineraries.halves``: e.g.
T1-70-1-2, 102-50-3-4, 64-45-1-2 in half A; T1-65-2-3, kroc100-H6-T4-S3 in half B), comparing
variants at fixed engine iterations over several seeds; not on one half only, so neither half is
held out. The section ``itineraries_ophs`` of bench/RESULTS.md reports both halves.

Used only when the problem is *OPHS-like*: one group, no lunch, budget, type limits, quotas,
altitude rules or fixed hotels, room limits not binding, every site open all the time on every day
(time-independent), so that a trip is only a length.
"""

from __future__ import annotations

import time

import numpy as np

from optimizer.core.engine.ils import ILSParams, run_ils
from optimizer.core.engine.kernels import NODE, KernelProblem, new_state, travel_is_metric
from optimizer.core.engine.kernels import _try_sequence as seed_chain  # places the hotel nodes in order
from optimizer.core.stop import StoppingCriterion
from optimizer.itineraries.problem import ItineraryProblem

__all__ = ["RACE_PARAMS", "best_hotel_plan", "hotel_sequences", "is_ophs_like"]

# engine settings of the race rounds, used in turn (round r: RACE_PARAMS[r % 2]): the engine's
# defaults, and the same without simulated-annealing acceptance (the original ILS). On 64-45-1-2
# (hotel fixed) the defaults stay at 798 for every seed tried, sa_t0 = 0 finds the optimum 816; on
# kroc100-H6-T4-S3 the defaults do better (4040 vs 4010 at 500 iterations): alternating keeps both.
RACE_PARAMS = (ILSParams(), ILSParams(sa_t0=0.0))


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
    """The fixed-hotel OPHS as a one-route orienteering problem with time windows.

    ``places`` = arrival place, the hotel place of each night, departure place; trip ``d`` may last
    ``lengths[d]`` (minutes, float[D]). With ``C_d = lengths[0] + ... + lengths[d]``, one route
    runs from the arrival place to the departure place by ``C_{D-1}``; night ``d``'s hotel is a
    protected (must-visit) node of value 0 with the point window ``[C_d, C_d]``: the route reaches
    it by ``C_d`` (trip ``d`` fits in ``lengths[d]``), waits, and leaves at ``C_d``, so trip
    ``d+1`` gets its whole length. The two models have the same plans; this one lets the engine's
    shakes, 2-opt and insertions cross a night (the one-route-per-trip model left 245 of 260 on
    ``T1-70-1-2`` for every seed and setting tried, this one finds 260).

    Returns ``(KernelProblem, node place indices int64[c])``: customers (sites with value > 0)
    first, then the ``D - 1`` hotel nodes in night order."""
    g = pb.groups[0]
    value = pb.group_score(g)
    D = len(lengths)
    sites = [j for j in range(pb.n_sites) if value[j] > 0]
    nodes = np.array(sites + list(places[1:-1]), dtype=np.int64)
    c, k = len(nodes), len(sites)
    cum = np.cumsum(np.asarray(lengths, dtype=np.float64))
    s, e = places[0], places[-1]
    t = np.ascontiguousarray(pb.travel_min[np.ix_(nodes, nodes)], dtype=np.float64)
    open_ = np.zeros(c)
    close = np.full(c, float(cum[-1]))
    open_[k:] = cum[: D - 1]
    close[k:] = cum[: D - 1]
    val = np.zeros((1, c))
    val[0, :k] = value[sites]
    protect = np.zeros((1, c), dtype=np.bool_)
    protect[0, k:] = True
    t_from = np.ascontiguousarray(pb.travel_min[np.ix_([s], nodes)], dtype=np.float64)
    t_to = np.ascontiguousarray(pb.travel_min[np.ix_(nodes, [e])].T, dtype=np.float64)
    t_direct = np.array([float(pb.travel_min[s, e])])
    service = np.array([pb.sites[j].visit_min for j in sites] + [0.0] * (D - 1), dtype=np.float64)
    cand, n_cand = np.arange(c, dtype=np.int32).reshape(1, c), np.array([c], dtype=np.int32)
    P = KernelProblem(
        travel=t, travel_t=np.ascontiguousarray(t.T), t_from=t_from, t_to=t_to, t_direct=t_direct,
        service=service, open_=open_, close=close, day_start=np.zeros(1), day_end=np.array([float(cum[-1])]),
        value=val, protect=protect, size=np.ones(1, dtype=np.int64), cand=cand, n_cand=n_cand,
        slot_quota=np.full(c, -1, dtype=np.int64), slot_len=np.array([1440.0]),
        metric=travel_is_metric(t, t_from, t_to, t_direct, service, cand, n_cand),
    )
    return P, nodes, k


def _run(pb, places, lengths, stop, seed, params: ILSParams | None = None):
    """Engine ILS on one hotel sequence: ``(score, site indices per day)``; ``(-inf, [])`` if the
    hotels cannot be placed (cannot happen for a sequence from :func:`hotel_sequences`)."""
    P, nodes, k = _engine_problem(pb, places, lengths)
    c, D = len(nodes), len(lengths)
    S = new_state(P, np.ones(c, dtype=np.int64), 1, c + 1)
    if D > 1 and not np.isfinite(seed_chain(P, S, 0, np.arange(k, c, dtype=np.int64), D - 1)):
        return -np.inf, []
    res = run_ils(P, S, stop, seed=seed, params=params or RACE_PARAMS[0], t0=time.perf_counter())
    B = res.state
    days: list[list[int]] = [[]]
    for p in range(int(B.length[0])):
        j = int(B.ri[NODE, 0, p])
        if j >= k:
            days.append([])
        else:
            days[-1].append(int(nodes[j]))
    if len(days) != D:
        return -np.inf, []
    return float(B.rvalue.sum()), days


def hotel_sequences(pb: ItineraryProblem, lengths: np.ndarray, max_sequences: int = 4000) -> list[tuple[int, ...]]:
    """Hotel sequences (hotel index per night) whose *empty* trips fit the trip lengths, in
    lexicographic order, at most ``max_sequences``; hotels at the same place (equal travel rows and
    columns, e.g. an extra hotel on the start hotel) are merged into the lowest index, so no two
    sequences returned describe the same trips."""
    g = pb.groups[0]
    n, H, D = pb.n_sites, pb.n_hotels, len(lengths)
    s, e = pb.place_index(g.arrival_place), pb.place_index(g.departure_place)
    t = pb.travel_min
    canon = []
    for h in range(H):
        same = [h2 for h2 in canon if np.array_equal(t[n + h], t[n + h2]) and np.array_equal(t[:, n + h], t[:, n + h2])]
        if not same:
            canon.append(h)
    seqs: list[tuple[int, ...]] = []

    def rec(prefix: list[int], place: int) -> None:
        if len(seqs) >= max_sequences:
            return
        d = len(prefix)
        if d == D - 1:
            if t[place, e] <= lengths[d] + 1e-9:
                seqs.append(tuple(prefix))
            return
        for h in canon:
            if t[place, n + h] <= lengths[d] + 1e-9:
                rec(prefix + [h], n + h)

    rec([], s)
    return seqs


def best_hotel_plan(pb: ItineraryProblem, lengths: np.ndarray, stop: StoppingCriterion, seed: int,
                    max_sequences: int = 4000, max_race: int = 512, first_iterations: int = 100,
                    restart_iterations: int = 2000, keep: int = 2) -> tuple[float, list[int], list[list[int]]] | None:
    """Best plan over the feasible hotel sequences: ``(score, hotel index per night, site indices
    per day)``, or None if no sequence fits.

    Sequences: :func:`hotel_sequences` (at most ``max_sequences``), ranked by the engine's greedy
    construction; the ``max_race`` best enter a race (successive halving, as in the hotel-sequence
    ranking of Divsalar et al. 2013, with the per-sequence orienteering search done by the shared
    engine ILS): each round runs a fresh engine ILS of ``b`` iterations (``b = first_iterations``,
    doubling each round up to ``restart_iterations``) with a new seed and the settings
    ``RACE_PARAMS[round % 2]`` on every sequence still in,
    then keeps the better half (by the best plan found for it so far, ties by greedy rank) down to
    ``keep``; the last ``keep`` get restarts of ``restart_iterations`` with new seeds (independent
    restarts: one long engine run on a fixed sequence tends to stay in one local optimum) until the
    stop. ``stop.max_runtime_s`` bounds the whole (checked between runs and passed to each run);
    without one, ``stop.max_iterations`` (default 1,000) is the total of engine iterations, so the
    answer is a function of the seed. With a runtime limit the race takes only as many sequences
    ``N`` as the time left allows (``N * cost * (log2(N / keep) + 2)`` seconds, ``cost`` = the wall
    time of a first ``first_iterations`` run), and each round's runs are made longer (up to
    ``restart_iterations``) when the measured time per iteration leaves time to spare."""
    g = pb.groups[0]
    n = pb.n_sites
    s, e = pb.place_index(g.arrival_place), pb.place_index(g.departure_place)
    if not (pb.group_score(g) > 0).any():
        return None
    t0 = time.perf_counter()
    deadline = None if stop.max_runtime_s is None else t0 + stop.max_runtime_s
    budget = np.inf if deadline is not None else float(stop.max_iterations if stop.max_iterations is not None else 1000)
    seqs = hotel_sequences(pb, lengths, max_sequences)
    if not seqs:
        return None
    places = {q: [s, *(n + h for h in q), e] for q in seqs}
    greedy = StoppingCriterion(max_iterations=0)
    best: dict[tuple[int, ...], tuple[float, list[list[int]]]] = {}
    for q in seqs:
        best[q] = _run(pb, places[q], lengths, greedy, seed)
        if deadline is not None and time.perf_counter() >= deadline:
            break
    order = {q: i for i, q in enumerate(sorted(best, key=lambda q: -best[q][0]))}
    alive = sorted(best, key=order.__getitem__)[:max_race]
    used = 0.0
    b = max(1, int(first_iterations))
    rnd = 0
    per_it = 0.0  # wall seconds per engine iteration, measured (runtime limit only)
    if deadline is not None and len(alive) > keep:
        # size the race to the time left: a first run (b iterations on the greedy-best sequence,
        # taken twice: the first call pays one-off costs) gives the cost of a run; rounds cost
        # about the same (half the sequences, twice the iterations), so N sequences need about
        # N * cost * (log2(N / keep) + 2) seconds
        q0 = alive[0]
        for _ in range(2):
            tc = time.perf_counter()
            v, routes = _run(pb, places[q0], lengths, StoppingCriterion(max_iterations=b, max_runtime_s=max(
                1e-3, deadline - tc)), seed + 1)
            cost = max(time.perf_counter() - tc, 1e-6)
            if v > best[q0][0] + 1e-9:
                best[q0] = (v, routes)
        per_it = cost / b
        left = max(0.0, deadline - time.perf_counter())
        N = len(alive)
        while N > keep and N * cost * (np.log2(N / keep) + 2.0) > left:
            N -= 1
        alive = alive[:N]
    while True:
        if per_it > 0.0:
            # time to spare (few or small sequences): longer runs, so that a halving does not drop a
            # sequence on the score of a short run; the rounds left and a final phase share the time
            rounds = (np.ceil(np.log2(len(alive) / keep)) if len(alive) > keep else 0.0) + 2.0
            fit = max(0.0, deadline - time.perf_counter()) / (len(alive) * per_it * rounds)
            b = int(max(b, min(max(b, restart_iterations), fit)))
        t_round, it_round = time.perf_counter(), 0
        for q in alive:
            left = budget - used
            if left < 1 or (deadline is not None and time.perf_counter() >= deadline):
                alive = []
                break
            it = int(min(b, left))
            sub = StoppingCriterion(max_iterations=it, max_runtime_s=None if deadline is None
                                    else max(1e-3, deadline - time.perf_counter()))
            v, routes = _run(pb, places[q], lengths, sub, seed + 1 + rnd, RACE_PARAMS[rnd % 2])
            used += it
            it_round += it
            if v > best[q][0] + 1e-9:
                best[q] = (v, routes)
        if not alive:
            break
        if per_it > 0.0 and it_round > 0:
            per_it = (time.perf_counter() - t_round) / it_round
        alive.sort(key=lambda q: (-best[q][0], order[q]))
        if len(alive) > keep:
            alive = alive[: max(keep, len(alive) // 2)]
        b = min(2 * b, max(b, int(restart_iterations)))
        rnd += 1
    q = min(best, key=lambda q: (-best[q][0], order[q]))
    if not np.isfinite(best[q][0]):
        return None
    return best[q][0], list(q), best[q][1]

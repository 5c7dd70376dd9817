"""Iterated local search (ILS) over the orienteering kernels, with stopping criteria.

The algorithm is the ILS of Vansteenwegen, Souffriau, Vanden Berghe & Van Oudheusden (2009),
Computers & OR 36(12):3281-3290: a greedy *insertion* step (best ratio value^2 / shift, O(1)
feasibility by Wait/MaxShift) alternates with a *shake* that removes ``S`` consecutive visits
from position ``R`` of each route; ``S`` and ``R`` grow each iteration and ``S`` resets to 1 on a
new best. Extensions here: on large instances (many routes) a shake touches a seeded random
subset of routes; the search restarts after ``restore_every`` non-improving iterations, from the
best solution or from a random member of an elite pool; must-visits are protected from the shake.
Issue 15 added neighbourhoods that help where windows do not pin the routes (the TOP):
``replace`` (a visit out, a higher-valued node in) and inter-route ``relocate`` from
:mod:`optimizer.core.engine.moves`, run on repaired solutions close to the best, and an adaptive
repair noise that grows while the search stalls. Which of them are on by default was chosen by
the split protocol of ``bench/split.py`` (settings chosen on half A of the shared instances,
reported on the held-out half B).

Long runs (issue 15 at 10 s): on about a dozen Cordeau cases the 10 s score equalled the 1 s
score, the search trapped around its best. With ``ILSParams.kick_after`` > 0 ``run_ils`` runs
*episodes*: when an episode has gone ``kick_after`` iterations without a new best, the driver keeps
the run's best apart and starts the next episode from a *kick* of it (``kick``: a random fraction of
the visits out, a noisy greedy refill; fraction 1 is a fresh randomised construction). The
episode's own best is what the ``restore_every`` restarts return to. Kicks fall on exact iteration
counts (the driver ends a kernel chunk there), so the answer for a seed does not depend on timing.

City scale (issue 15): an iteration copies between the working, current and best states only the
routes it changed (``kernels.assign_routes``; ``diff_best`` remembers where the working state may
differ from the best), so its cost is a few O(R) scans plus its own moves, not O(R x L) copies.

The kernel runs in chunks of iterations so the Python driver can honour a wall-clock limit;
A stop with only ``max_iterations`` gives a deterministic answer for a seed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numba import njit

from optimizer.core.engine.kernels import (
    KernelProblem,
    RouteState,
    assign_routes,
    assign_state,
    copy_state,
    greedy_fill,
    or_opt_route,
    remove_positions,
    total_time,
    two_opt_route,
)
from optimizer.core.engine.moves import (
    pool_load,
    pool_store,
    relocate_routes,
    replace_route,
    swap_routes,
    tails_routes,
)
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion

# ctrl int64 slots
C_S, C_R, C_NOIMP, C_ITERS, C_RNG = 0, 1, 2, 3, 4
# fctrl float64 slots
F_BEST, F_BEST_TIME, F_CUR, F_TEMP = 0, 1, 2, 3
# prm float64 slots
P_SHAKE_ROUTES, P_RESTORE, P_MAX_SHAKE, P_NOISE, P_T0, P_ALPHA, P_OR_OPT, P_TWO_OPT = 0, 1, 2, 3, 4, 5, 6, 7
P_REPLACE, P_RELOCATE, P_ELITE, P_GATE, P_NOISE_MAX = 8, 9, 10, 11, 12
P_SHAKE_FRAC, P_SHAKE_RANDOM, P_SHAKE_TABU = 13, 14, 15
# P_OR_OPT, P_RELOCATE and P_ELITE are not read by the kernel: those neighbourhoods are switched by
# arguments that are None when off (see ``ils_iterations``)
N_PRM = 16


@dataclass(frozen=True, slots=True)
class ILSParams:
    """Tuning of the search. The defaults of ``replace``, ``relocate``, ``elite``, ``noise_max`` and
    ``moves_gate`` are the candidate of ``bench.split.VARIANTS`` chosen on half A of the split
    (Cordeau pr01/03/05/07/09, m = 1..4) and reported on the held-out half B
    (``bench/RESULTS.md``): round 1 (``split_pr_1s``, ``split_chao_1s``, 1 s) chose ``ils+replace``
    on both halves; round 2 (``split_round2_2000it``: Cordeau + every shared Chao file, 2,000
    iterations) chose ``ils+replace+adaptive`` (``noise_max = 2``) on half A and ``ils+replace`` on
    half B, 0.04-0.09 points apart: the defaults follow half A. ``relocate`` and ``elite`` are there
    as options but were not chosen. ``kick_after`` is off here; the classic TOPTW turns it on
    (``optimizer.toptw.solve.TOPTW_ILS``, round ``split_pr_10s_it``), the tours and itineraries keep it off;
    likewise ``shake_frac`` (0.5 in ``TOPTW_ILS``, rounds ``split_trap_pr_1s_it_seed0..2``). The older fields were tuned on pr01-pr10 and Solomon TOPTW
    before issue 15.

    Attributes
    ----------
    shake_routes : int
        Routes shaken per iteration, drawn at random (all of them if there are fewer routes).
    restore_every : int
        Go back to the best solution after this many iterations without a new best.
    max_shake_size : int
        Largest string removed per route by a shake; 0 means n / (3 m) as in Vansteenwegen et
        al. (2009), at least 2.
    noise : float
        Each repair multiplies every node's insertion ratio by a weight drawn uniformly from
        [1 - noise/2, 1 + noise/2]; diversifies the greedy repair.
    noise_max : float
        Adaptive perturbation: while no new best is found, the noise grows linearly from ``noise``
        to ``noise_max`` over each ``restore_every`` iterations (back to ``noise`` on a new best and
        at each restart), so a stalled search diversifies its repairs more; ``<= noise``: fixed.
    sa_t0 : float
        Start temperature of the simulated-annealing acceptance as a fraction of the mean visit
        value; 0 accepts every repaired solution (the original ILS).
    sa_alpha : float
        Cooling factor per iteration; the temperature reheats to the start below 1/1000 of it.
    or_opt : int
        Longest string the or-opt route search moves (0: off).
    two_opt : bool
        2-opt (string reversal) route search after each repair.
    replace : bool
        Replace moves (``moves.replace_route``: a visit out, a higher-valued node in) on the
        shaken routes after each repair.
    relocate : bool
        Inter-route relocate (``moves.relocate_routes``: a visit to another route when that lowers
        the total route time) on the shaken routes after each repair.
    moves_gate : float
        Replace/relocate run only on a repaired solution worth at least ``(1 - moves_gate)`` times
        the best value so far (1: always; 0: only on ties with or improvements of the best), so
        their cost is spent on promising solutions.
    swap : bool
        Inter-route 1-1 swap (``moves.swap_routes``: two visits of two routes change places when that
        shortens both together) on the shaken routes after each repair, gated like replace/relocate.
    elite : int
        Size of the elite pool (``moves.pool_store``); a restart (``restore_every``) starts from a
        member drawn at random instead of the best; 0 restarts from the best (the former rule).
    tails : bool
        Inter-route tail exchange (``moves.tails_routes``, 2-opt*: two routes trade their tails when
        that shortens both together) on the shaken routes after each repair, gated like replace.
    shake_frac : float
        Shake size relative to the routes (issue 15, the early basin of pr06/pr10): the shake size
        ``S`` goes back to 1 once it exceeds ``max(2, shake_frac x`` the mean length of the
        non-empty routes ``)`` (and ``max_shake_size`` in any case); 0: off (only ``max_shake_size``).
        On pr06 m = 2 the n / (3 m) = 48 cap let ``S`` reach and pass the routes' ~28 visits, so
        four iterations in ten emptied both routes (a noisy reconstruction, practically never
        accepted: 0.1 %); every new best came from ``S`` < 20.
    shake_random : bool
        The shake removes ``S`` visits drawn at random positions of the route (protected visits
        kept) instead of ``S`` consecutive ones from position ``R``.
    shake_tabu : bool
        The repair after a shake inserts the customers the shake removed only after every other
        insertion that fits (their ratio weight times 1/1000), so the repair tries a different set
        first (issue 15: on pr06 m = 2, 56 % of the repairs after a shake of 1-4 visits gave back the
        identical set).
    kick_after : int
        Episodes for long runs (issue 15, 10 s): after this many iterations without a new best of
        the current episode, ``run_ils`` ends the episode with a *kick*: it keeps the run's best,
        removes a random fraction of the visits of the best solution (``kick``, every route) and
        refills it with a noisy greedy repair; the result starts a new episode (its own best, to
        which the ``restore_every`` restarts return). 0: off (one episode, the former search).
        The ILS with restarts of Lourenco, Martin & Stuetzle (2003, "Iterated Local Search",
        Handbook of Metaheuristics, sec. 3.3-3.4: restart from the best with a stronger
        perturbation when the search stagnates).
    kick_frac, kick_frac_max : float
        Fraction of visits a kick removes: ``kick_frac`` after a new best of the run, then one
        ``kick_frac`` step more per kick that found no new best, up to ``kick_frac_max``, then
        back to ``kick_frac`` (escalating strength, cycled so that it never stays maximal).
    """

    shake_routes: int = 2
    restore_every: int = 500
    max_shake_size: int = 0
    noise: float = 1.0
    noise_max: float = 2.0
    sa_t0: float = 1.5
    sa_alpha: float = 0.998
    or_opt: int = 0
    two_opt: bool = True
    replace: bool = True
    relocate: bool = False
    elite: int = 0
    moves_gate: float = 0.02
    swap: bool = False
    tails: bool = False
    shake_frac: float = 0.0
    shake_random: bool = False
    shake_tabu: bool = False
    kick_after: int = 0
    kick_frac: float = 0.1
    kick_frac_max: float = 0.4

    def __post_init__(self) -> None:
        if isinstance(self.elite, bool) or not isinstance(self.elite, int) or self.elite < 0:
            raise InvalidInput("params.elite", self.elite, "must be an integer >= 0")
        if isinstance(self.kick_after, bool) or not isinstance(self.kick_after, int) or self.kick_after < 0:
            raise InvalidInput("params.kick_after", self.kick_after, "must be an integer >= 0")
        for name in ("kick_frac", "kick_frac_max"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 < v <= 1.0:
                raise InvalidInput(f"params.{name}", v, "must be a fraction in (0, 1]")
        if isinstance(self.shake_frac, bool) or not isinstance(self.shake_frac, (int, float)) or not (
                0.0 <= self.shake_frac <= 1.0):
            raise InvalidInput("params.shake_frac", self.shake_frac, "must be a fraction in [0, 1]")
        if self.kick_frac_max < self.kick_frac:
            raise InvalidInput("params.kick_frac_max", self.kick_frac_max, f"must be >= kick_frac ({self.kick_frac})")


@njit(cache=True, nogil=True)
def _rand(ctrl):
    """xorshift64 step on ctrl[C_RNG]; returns a non-negative int64."""
    x = np.uint64(ctrl[C_RNG])
    x ^= x << np.uint64(13)
    x ^= x >> np.uint64(7)
    x ^= x << np.uint64(17)
    ctrl[C_RNG] = np.int64(x & np.uint64(0x7FFFFFFFFFFFFFFF))
    return ctrl[C_RNG]


@njit(cache=True, nogil=True)
def _better(v, t, best_v, best_t):
    if v > best_v + 1e-9:
        return True
    return v > best_v - 1e-9 and t < best_t - 1e-9


@njit(cache=True, nogil=True)
def kick(P, S, ctrl, frac, noise):
    """Perturb ``S`` in place: remove every unprotected visit with probability ``frac`` (all routes),
    then refill all routes by the greedy insertion with noisy ratios (weights uniform in
    ``[1 - noise/2, 1 + noise/2]``, as in ``ils_iterations``). Random numbers come from
    ``ctrl[C_RNG]``. Returns the number of visits removed."""
    R = S.length.shape[0]
    Lmax = S.rt.shape[2]
    n = S.in_route.shape[1]
    rm = np.zeros(Lmax, dtype=np.bool_)
    removed = np.int64(0)
    for r in range(R):
        L = S.length[r]
        cnt = 0
        for p in range(L):
            rm[p] = False
            j = S.ri[0, r, p]
            if not P.protect[r, j] and (_rand(ctrl) % 1000003) / 1000003.0 < frac:
                rm[p] = True
                cnt += 1
        if cnt > 0:
            remove_positions(P, S, r, rm)
            removed += cnt
    w = np.ones(n)
    for j in range(n):
        w[j] = 1.0 + noise * ((_rand(ctrl) % 1000001) / 1000000.0 - 0.5)
    greedy_fill(P, S, np.ones(R, dtype=np.bool_), np.empty(0, dtype=np.int32), np.int64(0), w)
    return removed


@njit(cache=True, nogil=True)
def ils_iterations(P, S, C, B, ctrl, fctrl, prm, n_iter, max_noimp, diff_best, pool, or_opt, relocate,
                   swap=None, tails=None):
    """Run up to ``n_iter`` iterations on the working state ``S``.

    ``C`` is the current (accepted) solution and ``B`` the best. Each iteration shakes ``S``,
    repairs it with the greedy fill, then accepts it as current by the simulated-annealing rule
    (always if not worse, else with probability exp(delta / T), as in SAILS, Gunawan, Lau,
    Vansteenwegen & Lu 2017, JORS 68(8)) or reverts it to ``C``.
    ``ctrl`` int64[8] and ``fctrl`` float64[8] carry the search's position between calls;
    ``prm`` float64[N_PRM] holds the parameters (see ``ILSParams``). ``diff_best`` bool[R] marks the
    routes in which ``S`` may differ from ``B`` (kept between calls; all False when ``S`` equals
    ``B``), so that states are copied route by route.

    The optional neighbourhoods are arguments that are ``None`` when off: ``pool`` the elite pool
    ``(pool_ri, pool_len, pool_val, pool_time, n_pool)`` (see ``moves.pool_store``), ``or_opt`` the
    longest string or-opt moves (int64 > 0), ``relocate`` ``True`` for inter-route relocate, ``swap``
    ``True`` for the inter-route 1-1 swap, ``tails`` ``True`` for the inter-route tail exchange (2-opt*,
    ``moves.tails_routes``). Numba
    prunes the branches of a ``None`` argument before typing them, so a solve compiles only the moves
    its params use (issue 15 item 3: or-opt, relocate and the pool were a quarter of the first run's
    compilation, though off by default). Returns iterations run.
    """
    R = S.length.shape[0]
    Lmax = S.rt.shape[2]
    n = S.in_route.shape[1]
    shake_routes = int(prm[P_SHAKE_ROUTES])
    restore_every = int(prm[P_RESTORE])
    max_shake = int(prm[P_MAX_SHAKE])
    noise = prm[P_NOISE]
    t0 = prm[P_T0]
    alpha = prm[P_ALPHA]
    two_opt = prm[P_TWO_OPT] > 0
    do_replace = prm[P_REPLACE] > 0
    do_relocate = False
    if relocate is not None:
        do_relocate = R > 1
    do_swap = False
    if swap is not None:
        do_swap = R > 1
    do_tails = False
    if tails is not None:
        do_tails = R > 1
    route_search = two_opt
    if or_opt is not None:
        route_search = True
    gate = prm[P_GATE]
    noise_max = prm[P_NOISE_MAX]
    shake_frac = prm[P_SHAKE_FRAC]
    shake_random = prm[P_SHAKE_RANDOM] > 0
    shake_tabu = prm[P_SHAKE_TABU] > 0
    rm = np.zeros(Lmax, dtype=np.bool_)
    chosen = np.zeros(R, dtype=np.bool_)
    ones = np.ones(n)
    freed = np.empty(n, dtype=np.int32)
    is_freed = np.zeros(n, dtype=np.bool_)
    w = np.ones(n)
    # ``diff_best``: routes where the working state S may differ from the best B (S equals the
    # current C at the start of every iteration when SA is on). Copies between S, C and B touch
    # only these and the routes an iteration changes (``dirty``), so an iteration costs a few
    # O(R) scans beyond its own work (issue 15: full copies made each iteration O(R * L)).
    dirty = np.zeros(R, dtype=np.bool_)
    len0 = np.empty(R, dtype=np.int32)
    done = 0
    for _ in range(n_iter):
        if max_noimp >= 0 and ctrl[C_NOIMP] >= max_noimp:
            break
        s_size = ctrl[C_S]
        r_pos = ctrl[C_R]
        chosen[:] = False
        n_freed = np.int64(0)
        if R <= shake_routes:
            chosen[:] = True
        else:
            for _k in range(shake_routes):
                chosen[_rand(ctrl) % R] = True
        for r in range(R):
            dirty[r] = chosen[r]
            len0[r] = S.length[r]
        for r in range(R):
            if not chosen[r]:
                continue
            L = S.length[r]
            if L == 0:
                continue
            rm[:L] = False
            st = (r_pos + _rand(ctrl)) % L if noise > 0 else r_pos % L
            cnt = 0
            for q in range(s_size):
                if q >= L:
                    break
                p = _rand(ctrl) % L if shake_random else (st + q) % L
                j = S.ri[0, r, p]
                if not rm[p] and not P.protect[r, j]:
                    rm[p] = True
                    cnt += 1
                    if not is_freed[j]:
                        is_freed[j] = True
                        freed[n_freed] = j
                        n_freed += 1
            if cnt > 0:
                remove_positions(P, S, r, rm)
        if noise > 0:
            nz = noise
            if noise_max > noise:
                period = restore_every if restore_every > 0 else 500
                nz = noise + (noise_max - noise) * ((ctrl[C_NOIMP] % period) / period)
            for j in range(n):
                w[j] = 1.0 + nz * ((_rand(ctrl) % 1000001) / 1000000.0 - 0.5)
        if shake_tabu:
            if noise <= 0:
                for j in range(n):
                    w[j] = 1.0
            for c in range(n_freed):
                w[freed[c]] *= 1e-3
        greedy_fill(P, S, chosen, freed, n_freed, w)
        for c in range(n_freed):
            is_freed[freed[c]] = False
        if (do_relocate or do_replace or do_swap or do_tails) and S.rvalue.sum() >= fctrl[F_BEST] * (1.0 - gate) - 1e-9:
            changed = False
            if tails is not None:  # noqa: SIM102 - a branch of its own, which Numba prunes when None
                if do_tails and tails_routes(P, S, chosen) > 0:
                    changed = True
                    for r in range(R):
                        if chosen[r]:
                            dirty[r] = True
            if swap is not None:  # noqa: SIM102 - a branch of its own, which Numba prunes when None
                if do_swap and swap_routes(P, S, chosen) > 0:
                    changed = True
                    for r in range(R):
                        if chosen[r]:
                            dirty[r] = True
            if relocate is not None:  # noqa: SIM102 - a branch of its own, which Numba prunes when None
                if do_relocate and relocate_routes(P, S, chosen) > 0:
                    changed = True
                    for r in range(R):
                        if chosen[r]:
                            dirty[r] = True
            if do_replace:
                for r in range(R):
                    if chosen[r] and replace_route(P, S, r, ones) > 0:
                        changed = True
            if changed:
                greedy_fill(P, S, chosen, freed, np.int64(0), w)
        if route_search:
            any_moved = False
            for r in range(R):
                moved = 0
                if chosen[r]:
                    if two_opt:
                        moved += two_opt_route(P, S, r)
                    if or_opt is not None:
                        moved += or_opt_route(P, S, r, or_opt)
                if moved > 0:
                    any_moved = True
                else:
                    chosen[r] = False
            if any_moved:
                greedy_fill(P, S, chosen, freed, np.int64(0), w)
        for r in range(R):
            if S.length[r] != len0[r]:
                dirty[r] = True  # a route the fill inserted into
        v = S.rvalue.sum()
        t = total_time(P, S)
        improved = _better(v, t, fctrl[F_BEST], fctrl[F_BEST_TIME])
        if improved:
            for r in range(R):
                if dirty[r]:
                    diff_best[r] = True
            assign_routes(B, S, diff_best)
            for r in range(R):
                diff_best[r] = False
            fctrl[F_BEST] = v
            fctrl[F_BEST_TIME] = t
            ctrl[C_S] = 1
            ctrl[C_NOIMP] = 0
        else:
            ctrl[C_NOIMP] += 1
            ctrl[C_S] += 1
        # acceptance
        temp = fctrl[F_TEMP]
        delta = v - fctrl[F_CUR]
        if t0 <= 0.0 or delta >= 0.0:
            accept = True
        else:
            u = (_rand(ctrl) % 1000003) / 1000003.0
            accept = temp > 0.0 and u < np.exp(delta / temp)
        if accept:
            if t0 > 0.0:
                assign_routes(C, S, dirty)
            fctrl[F_CUR] = v
            if pool is not None:
                pool_store(S, pool[0], pool[1], pool[2], pool[3], pool[4], v, t)
            if not improved:
                for r in range(R):
                    if dirty[r]:
                        diff_best[r] = True
        else:
            assign_routes(S, C, dirty)
            for r in range(R):
                if dirty[r]:
                    diff_best[r] = True
        if t0 > 0.0:
            fctrl[F_TEMP] = temp * alpha
            if fctrl[F_TEMP] < t0 * 1e-3:
                fctrl[F_TEMP] = t0
        ctrl[C_R] += s_size
        min_len = Lmax
        for r in range(R):
            if S.length[r] > 0 and S.length[r] < min_len:
                min_len = S.length[r]
        if min_len > 0:
            ctrl[C_R] = ctrl[C_R] % min_len
        cap = max_shake
        if shake_frac > 0.0:
            n_vis = 0
            n_used = 0
            for r in range(R):
                if S.length[r] > 0:
                    n_vis += S.length[r]
                    n_used += 1
            if n_used > 0:
                cap = min(cap, max(2, int(shake_frac * n_vis / n_used + 0.5)))
        if ctrl[C_S] > cap:
            ctrl[C_S] = 1
        if restore_every > 0 and ctrl[C_NOIMP] > 0 and ctrl[C_NOIMP] % restore_every == 0:
            from_pool = False
            if pool is not None:  # noqa: SIM102 - a branch of its own, which Numba prunes when None
                if pool[4][0] > 1:
                    i = _rand(ctrl) % pool[4][0]
                    pool_load(P, S, pool[0], pool[1], i)
                    fctrl[F_CUR] = pool[2][i]
                    from_pool = True
                    if t0 > 0.0:
                        assign_state(C, S)
                    for r in range(R):
                        diff_best[r] = True
            if not from_pool:
                assign_routes(S, B, diff_best)
                fctrl[F_CUR] = fctrl[F_BEST]
                if t0 > 0.0:
                    assign_routes(C, S, diff_best)
                for r in range(R):
                    diff_best[r] = False
        ctrl[C_ITERS] += 1
        done += 1
    return done


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Best state found, with the iterations run, the runtime (s), and why the search stopped
    (``max_iterations``, ``max_runtime_s`` or ``max_no_improvement``: the ``SolveStats`` words)."""

    state: RouteState
    iterations: int
    runtime_s: float
    stopped_by: str


def run_ils(P: KernelProblem, S: RouteState, stop: StoppingCriterion, seed: int = 0,
            params: ILSParams = ILSParams(), t0: float | None = None) -> SearchResult:
    """Greedy construction on ``S`` (modified in place) followed by ILS until ``stop``.

    ``t0`` is the wall-clock start (``time.perf_counter()``) the runtime limit counts from;
    construction is counted. Same seed + iteration budget => same result. With
    ``params.kick_after > 0`` the search runs in episodes (see ``ILSParams.kick_after``): the state
    returned is the best of the whole run, and ``max_no_improvement`` counts iterations since it.
    """
    t0 = time.perf_counter() if t0 is None else t0
    R = S.length.shape[0]
    greedy_fill(P, S, np.ones(R, dtype=np.bool_), np.empty(0, dtype=np.int32), 0, np.ones(P.value.shape[1]))
    B = copy_state(S)
    C = copy_state(S)
    n = P.value.shape[1]
    max_shake = params.max_shake_size or max(2, n // (3 * max(R, 1)))
    ctrl = np.zeros(8, dtype=np.int64)
    ctrl[C_S] = 1
    ctrl[C_RNG] = (int(seed) * 0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D) & 0x7FFFFFFFFFFFFFFF or 1
    fctrl = np.zeros(8, dtype=np.float64)
    fctrl[F_BEST] = float(S.rvalue.sum())
    fctrl[F_CUR] = fctrl[F_BEST]
    positive = P.value[P.value > 0]
    t_start = params.sa_t0 * (float(positive.mean()) if positive.size else 0.0)
    fctrl[F_TEMP] = t_start
    prm = np.zeros(N_PRM, dtype=np.float64)
    prm[P_SHAKE_ROUTES] = params.shake_routes
    prm[P_RESTORE] = params.restore_every
    prm[P_MAX_SHAKE] = max_shake
    prm[P_NOISE] = params.noise
    prm[P_T0] = t_start
    prm[P_ALPHA] = params.sa_alpha
    prm[P_TWO_OPT] = 1.0 if params.two_opt else 0.0
    prm[P_REPLACE] = 1.0 if params.replace else 0.0
    prm[P_GATE] = params.moves_gate
    prm[P_NOISE_MAX] = params.noise_max
    prm[P_SHAKE_FRAC] = params.shake_frac
    prm[P_SHAKE_RANDOM] = 1.0 if params.shake_random else 0.0
    prm[P_SHAKE_TABU] = 1.0 if params.shake_tabu else 0.0
    K = max(int(params.elite), 0)
    Lmax = S.rt.shape[2]
    pool = None  # off: None, so that the kernel compiles without it (see ils_iterations)
    if K > 0:
        pool = (np.full((K, 2, R, Lmax), -1, dtype=np.int32), np.zeros((K, R), dtype=np.int32), np.full(K, -np.inf),
                np.zeros(K), np.zeros(1, dtype=np.int64))
    or_opt = int(params.or_opt) if params.or_opt > 0 else None
    relocate = True if params.relocate else None
    swap = True if params.swap else None
    tails = True if params.tails else None
    diff_best = np.zeros(R, dtype=np.bool_)
    fctrl[F_BEST_TIME] = float(total_time(P, S))
    max_iter = stop.max_iterations if stop.max_iterations is not None else np.iinfo(np.int64).max
    max_noimp = stop.max_no_improvement if stop.max_no_improvement is not None else -1
    kick_after = int(params.kick_after)
    # episodes (``kick_after`` > 0): ``B`` is the episode's best, ``G`` the run's; ``g_noimp`` counts
    # iterations since the run's last new best (for ``max_no_improvement``), ``kicks`` the kicks since
    # that best (the kick's strength)
    G = copy_state(B) if kick_after > 0 else None
    g_val, g_time = float(fctrl[F_BEST]), float(fctrl[F_BEST_TIME])
    g_noimp = 0
    kicks = 0
    n_levels = max(1, round(params.kick_frac_max / params.kick_frac)) if kick_after > 0 else 1
    kick_noise = max(params.noise, params.noise_max)
    chunk = 1
    stopped_by = "max_iterations"
    while True:
        if stop.max_runtime_s is not None and time.perf_counter() - t0 >= stop.max_runtime_s:
            stopped_by = "max_runtime_s"
            break
        left = max_iter - int(ctrl[C_ITERS])
        if left <= 0:
            stopped_by = "max_iterations"
            break
        if max_noimp >= 0 and (g_noimp if G is not None else ctrl[C_NOIMP]) >= max_noimp:
            stopped_by = "max_no_improvement"
            break
        n_run = min(chunk, left)
        if G is not None:
            # stop the chunk exactly where a kick or the no-improvement limit falls, so the
            # iteration at which they happen does not depend on the chunk sizes (same seed, same answer)
            n_run = min(n_run, kick_after - int(ctrl[C_NOIMP]))
            if max_noimp >= 0:
                n_run = min(n_run, max_noimp - g_noimp)
            n_run = max(n_run, 1)
        tc = time.perf_counter()
        ran = ils_iterations(P, S, C, B, ctrl, fctrl, prm, n_run, max_noimp if G is None else -1, diff_best,
                             pool, or_opt, relocate, swap, tails)
        dt = time.perf_counter() - tc
        if ran == 0:
            stopped_by = "max_no_improvement"
            break
        if G is not None:
            if _better(fctrl[F_BEST], fctrl[F_BEST_TIME], g_val, g_time):
                assign_state(G, B)
                g_val, g_time = float(fctrl[F_BEST]), float(fctrl[F_BEST_TIME])
                g_noimp = int(ctrl[C_NOIMP])
                kicks = 0
            else:
                g_noimp += ran
            if ctrl[C_NOIMP] >= kick_after:
                frac = min(params.kick_frac_max, params.kick_frac * (1 + kicks % n_levels))
                assign_state(S, G)
                kick(P, S, ctrl, frac, kick_noise)
                kicks += 1
                assign_state(B, S)
                assign_state(C, S)
                diff_best[:] = False
                fctrl[F_BEST] = float(S.rvalue.sum())
                fctrl[F_BEST_TIME] = float(total_time(P, S))
                fctrl[F_CUR] = fctrl[F_BEST]
                fctrl[F_TEMP] = t_start
                ctrl[C_NOIMP] = 0
                ctrl[C_S] = 1
                if _better(fctrl[F_BEST], fctrl[F_BEST_TIME], g_val, g_time):
                    assign_state(G, S)
                    g_val, g_time = float(fctrl[F_BEST]), float(fctrl[F_BEST_TIME])
                    g_noimp = 0
                    kicks = 0
        # aim for chunks of ~20 ms (or 1/20 of the time limit) so the limit is honoured closely
        target = 0.02 if stop.max_runtime_s is None else min(0.02, stop.max_runtime_s / 20)
        per_iter = max(dt / ran, 1e-7)
        chunk = int(max(1, min(chunk * 4, target / per_iter)))
    if G is not None:
        B = G
    return SearchResult(state=B, iterations=int(ctrl[C_ITERS]), runtime_s=time.perf_counter() - t0,
                        stopped_by=stopped_by)

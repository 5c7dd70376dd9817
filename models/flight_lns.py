"""Rolling-window large-neighbourhood search (LNS) on the flight-schedule model (:mod:`models.flight_schedule`).

Why: on a fine take-off grid (5 min) the time-indexed model of the bundled day has a tight LP bound
but HiGHS's and CP-SAT's (1 worker) primal search find good schedules slowly: the default 20 s left
aircraft idle for an hour and more next to bookings turned away. The LNS fills them: it keeps an
incumbent schedule (first the greedy one) and re-solves, exactly and with CP-SAT, one *window* at a
time: the departures of one group of aircraft (a vertiport's aircraft of one type) taking off within
``[T0, T0 + H)``, every booking flown on them and every booking not flown at all are freed, all else
stays fixed. The window's sub-model is the full model restricted to the free variables (same rows,
with the aircraft-clique and vertiport-slot capacities lowered by the fixed departures in them), so
any answer of it, with the fixed part, is a schedule of the full model; it is accepted when its J is
larger (CP-SAT starts from the incumbent as a complete hint, so it never returns a worse one). This
is the fix-and-optimise / relaxation-induced neighbourhood idea of LNS (Shaw 1998, CP'98 LNCS 1520:
417-431; Pisinger & Ropke 2010, Handbook of Metaheuristics ch. 13) with time windows as
neighbourhoods, the rolling-horizon decomposition of time-indexed scheduling models.

Neighbourhoods, per group of aircraft, in an order drawn from ``seed``:

* *windows*: the group's departures taking off in ``[T0, T0 + H)``, ``T0`` every ``H / 2`` minutes
  over the day, for the whole group and for each of its tails alone; over a group of several tails
  only up to ``GROUP_WINDOW_MAX_MIN``, longer windows one tail at a time;
* *shifts* (from the second length on): one tail's whole day, restricted to take-offs within
  ``SHIFTS_MIN`` minutes of the flights it flies now, so that a chain of flights can slide to make room
  for one more (windows cannot move a flight far from the window).

A group starts at ``H = WINDOWS_MIN[0]``; after a pass over its neighbourhoods without a gain it goes on
to the next length, and after the whole day (``H`` spanning every take-off) it is converged (a gain at
the same vertiport, whose groups share the slot rows, reopens it). Windows are skipped when solved
already with the same schedule at their vertiport. Measured on the bundled day (``bench/RESULTS.md``):
120-minute windows take the greedy schedule from 150 to about 168 passengers within a few CPU seconds;
the single-tail groups then need long windows or shifts.
A group whose passengers reach the LP bound of its part of the model (:func:`group_pax_bounds`) is left
alone: only its deviation could still improve, which HiGHS's block may bring.

Working with HiGHS (``backend='auto'``, :func:`models.flight_schedule.solve_model`): HiGHS solves the
model's independent blocks one after the other in another thread and posts each (``inbox``); a block
better than the LNS's schedule there replaces it (:func:`merge_block`: exact, blocks share no row), and
a block HiGHS proves optimal is frozen (its departures leave every neighbourhood). HiGHS proves the
single-tail blocks quickly where CP-SAT windows stall; the LNS fills the several-tail blocks where
HiGHS's primal search is slow. The search stops once the incumbent meets HiGHS's day bound (or is
within ``rel_gap`` of it).

Determinism: each sub-model gets ``max_deterministic_time`` (CP-SAT work units) and one worker, and the
neighbourhoods come in a fixed order for a seed, so with no ``inbox`` the search is the same on any
machine when the budget that ends it is the deterministic one (``work_limit``); a wall-clock deadline
that ends it first, or HiGHS's blocks (wall-clock limits), make the answer depend on the machine's speed
(``LnsResult.stopped_by_work`` says which).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from models._backend import cpsat_solver, cpsat_status
from optimizer.core.results import FEASIBLE, OPTIMAL
from optimizer.flights.problem import ScheduleProblem

__all__ = ["WINDOWS_MIN", "LnsResult", "group_pax_bounds", "index", "lns", "merge_block", "settled_departures"]

WINDOWS_MIN = (120, 180, 240, 360, 480)
"""Window lengths, minutes, tried in turn (the next after a pass without a gain; then the whole day)."""
SUB_WORK = 0.5
"""CP-SAT deterministic time per window sub-model (work units, roughly seconds on one core); the
improving windows of the bundled day were proven within 0.05-0.75."""
SHIFT_WORK = 2.0
"""CP-SAT deterministic time of a shift sub-model (a whole day of one tail)."""
SHIFTS_MIN = (15, 20, 30)
"""Shift neighbourhood: one tail's whole day, take-offs within this many minutes of its flights now."""
GROUP_WINDOW_MAX_MIN = 180
"""Longest window over all tails of a group of several; longer ones free one tail at a time."""
_TRACE = False  # print every sub-model (development)


@dataclass
class LnsResult:
    """The best schedule the LNS found: booking index -> departure index, its J, and how it ended."""

    assign: dict[int, int]
    objective: int
    windows: int  # sub-models solved
    improved: int  # of which improved the incumbent
    work: float  # CP-SAT deterministic time spent
    wall_s: float
    stopped_by_work: bool  # ended by the work limit or by proving every group (not by the clock / a stop)
    converged: bool  # every group went through every window length without a gain
    blocks_taken: int = 0  # blocks of another engine (inbox) that replaced the LNS's schedule there
    ended_by: str = "converged"  # converged, work, bound (within rel_gap of bound_box), clock, stop


class _Index:
    """Per-departure look-ups of the model's rows, built once per LNS."""

    def __init__(self, P: ScheduleProblem, M) -> None:
        nd = len(M.deps)
        self.t = np.asarray([t for _a, _p, t in M.deps], dtype=np.int64)
        self.seats = [P.aircraft[a].seats for a, _p, _t in M.deps]
        self.party = [b.party_size for b in P.bookings]
        grp: dict[tuple[str, str], int] = {}
        self.group = np.asarray([grp.setdefault((P.products[p].vertiport_id, P.aircraft[a].type_id), len(grp))
                                 for a, p, _t in M.deps], dtype=np.int64)
        self.n_groups = len(grp)
        port: dict[str, int] = {}
        self.port_of_group = [port.setdefault(v, len(port)) for v, _ty in grp]
        self.n_ports = len(port)
        self.deps_of_group = [np.flatnonzero(self.group == g) for g in range(self.n_groups)]
        # neighbourhood units: each group, and each tail of a group of several tails (smaller sub-models)
        tail = np.asarray([a for a, _p, _t in M.deps], dtype=np.int64)
        self.unit_tail = tail if not M.order else np.asarray(self.group) + len(P.aircraft)  # pooled: the group
        self.units: list[tuple[int, np.ndarray, int]] = [
            (g, ds, int(self.unit_tail[ds[0]]) if len(set(self.unit_tail[ds].tolist())) == 1 else -1)
            for g, ds in enumerate(self.deps_of_group)]
        for g, ds in enumerate(self.deps_of_group):
            tails = sorted(set(self.unit_tail[ds].tolist()))
            if len(tails) > 1:
                self.units += [(g, ds[self.unit_tail[ds] == a], a) for a in tails]
        self.rows: list[tuple[int, list[int]]] = list(M.cliques) + list(M.slots)
        self.rows_of: list[list[int]] = [[] for _ in range(nd)]
        for r, (_cap, ds) in enumerate(self.rows):
            for d in ds:
                self.rows_of[d].append(r)
        self.on_dep: list[list[int]] = [[] for _ in range(nd)]
        for k, (_bi, d) in enumerate(M.xs):
            self.on_dep[d].append(k)
        self.pack = {d: (ks, g) for d, ks, g in M.pack_rows}
        self.prev = {d: prev for d, prev in M.order}


def _objective(M, assign: dict[int, int], coef_of: dict[tuple[int, int], int]) -> int:
    return sum(coef_of[(bi, d)] for bi, d in assign.items())


def _solve_window(P: ScheduleProblem, M, ix: _Index, free: np.ndarray, assign: dict[int, int],
                  used: set[int], coef_of: dict, limit_s: float, work: float, seed: int
                  ) -> tuple[dict[int, int] | None, int, float, bool]:
    """Re-solve the departures ``free`` (with their bookings and every unflown booking) exactly.

    Returns (new booking -> departure for the freed bookings or None if nothing was found, its J, the
    deterministic time used, proven optimal)."""

    free_set = {int(d) for d in free}
    # capacity left in each row touching the window: cap minus the fixed departures flown in it
    resid: dict[int, int] = {}
    for d in free_set:
        for r in ix.rows_of[d]:
            if r not in resid:
                cap, ds = ix.rows[r]
                resid[r] = cap - sum(1 for e in ds if e in used and e not in free_set)
    open_d = [d for d in sorted(free_set) if all(resid[r] > 0 for r in ix.rows_of[d])]
    ks = [k for d in open_d for k in ix.on_dep[d]
          if (bi := M.xs[k][0]) not in assign or assign[bi] in free_set]
    if not ks:
        return None, 0, 0.0, True
    m = cp_model.CpModel()
    y = {d: m.new_bool_var("") for d in open_d}
    x = {k: m.new_bool_var("") for k in ks}
    by_b: dict[int, list[int]] = defaultdict(list)
    by_d: dict[int, list[int]] = defaultdict(list)
    for k in ks:
        bi, d = M.xs[k]
        by_b[bi].append(k)
        by_d[d].append(k)
        m.add_implication(x[k], y[d])
    for kk in by_b.values():
        if len(kk) > 1:
            m.add_at_most_one([x[k] for k in kk])
    for d, kk in by_d.items():
        if sum(ix.party[M.xs[k][0]] for k in kk) > ix.seats[d]:
            m.add(sum(ix.party[M.xs[k][0]] * x[k] for k in kk) <= ix.seats[d] * y[d])
            if d in ix.pack:
                pk, pg = ix.pack[d]
                terms = [(x[k], g) for k, g in zip(pk, pg, strict=True) if k in x]
                if sum(g for _v, g in terms) > 2:
                    m.add(sum(g * v for v, g in terms) <= 2 * y[d])
    rows_seen: set[int] = set()
    for d in open_d:
        for r in ix.rows_of[d]:
            if r in rows_seen:
                continue
            rows_seen.add(r)
            inside = [y[e] for e in ix.rows[r][1] if e in y]
            if len(inside) > resid[r]:
                m.add(sum(inside) <= resid[r])
        p = ix.prev.get(d)
        if p is not None:
            if p in y:
                m.add_implication(y[d], y[p])
            elif p not in used or p in free_set:
                m.add(y[d] == 0)
    m.maximize(cp_model.LinearExpr.weighted_sum([x[k] for k in ks], [M.coef[k] for k in ks]))
    flown = set()
    for k in ks:  # the incumbent as a complete hint (feasible: it satisfies the rows with the residuals)
        bi, d = M.xs[k]
        on = assign.get(bi) == d
        m.add_hint(x[k], on)
        if on:
            flown.add(d)
    for d in open_d:
        m.add_hint(y[d], d in flown)
    solver = cpsat_solver(max(0.01, limit_s), 1, seed, 0.0)
    solver.parameters.max_deterministic_time = float(work)
    st = cpsat_status(solver.solve(m))
    if st not in (OPTIMAL, FEASIBLE):
        return None, 0, solver.deterministic_time, False
    new = {M.xs[k][0]: M.xs[k][1] for k in ks if solver.boolean_value(x[k])}
    return new, _objective(M, new, coef_of), solver.deterministic_time, st == OPTIMAL


def group_pax_bounds(P: ScheduleProblem, M, ix: _Index, limit_s: float = 5.0) -> list[int | None]:
    """Most passengers each group can fly, from the LP relaxation of its part of the model (HiGHS).

    The group's columns with every row restricted to them (slot rows at full capacity: the other
    groups' take-offs dropped) form a relaxation of the group's part of any schedule, so its LP optimum
    bounds the group's J; with ``J = W P - D`` and ``D < W``, ``P <= floor((bound + W - 1) / W)``.
    None for a group whose LP did not solve within ``limit_s`` (shared by all groups)."""

    W = P.weight_per_passenger
    t0 = time.perf_counter()
    out: list[int | None] = []
    for g in range(ix.n_groups):
        ds = ix.deps_of_group[g]
        col = {int(d): c for c, d in enumerate(ds)}
        ks = [k for d in ds for k in ix.on_dep[int(d)]]
        for k in ks:
            col[("x", k)] = len(col)
        rows, cols, vals, ub = [], [], [], []

        def row(entries, rhs, rows=rows, cols=cols, vals=vals, ub=ub) -> None:
            for c, v in entries:
                rows.append(len(ub))
                cols.append(c)
                vals.append(v)
            ub.append(rhs)

        by_b: dict[int, list[int]] = defaultdict(list)
        for k in ks:
            bi, d = M.xs[k]
            by_b[bi].append(k)
            row([(col[("x", k)], 1.0), (col[d], -1.0)], 0.0)
        for kk in by_b.values():
            if len(kk) > 1:
                row([(col[("x", k)], 1.0) for k in kk], 1.0)
        for d in ds:
            d = int(d)
            kk = ix.on_dep[d]
            if sum(ix.party[M.xs[k][0]] for k in kk) > ix.seats[d]:
                row([(col[("x", k)], float(ix.party[M.xs[k][0]])) for k in kk] + [(col[d], -float(ix.seats[d]))], 0.0)
            if d in ix.pack:
                pk, pg = ix.pack[d]
                row([(col[("x", k)], float(w)) for k, w in zip(pk, pg, strict=True)] + [(col[d], -2.0)], 0.0)
            p = ix.prev.get(d)
            if p is not None and p in col:
                row([(col[d], 1.0), (col[p], -1.0)], 0.0)
        mine = set(col)
        for cap, rds in ix.rows:
            inside = [col[e] for e in rds if e in mine]
            if len(inside) > cap:
                row([(c, 1.0) for c in inside], float(cap))
        n = len(col)
        c = np.zeros(n)
        for k in ks:
            c[col[("x", k)]] = -float(M.coef[k])
        left = limit_s - (time.perf_counter() - t0)
        if left <= 0 or not ks:
            out.append(None if ks else 0)
            continue
        A = coo_matrix((vals, (rows, cols)), shape=(len(ub), n)).tocsr() if ub else None
        res = linprog(c, A_ub=A, b_ub=np.asarray(ub) if ub else None, bounds=(0, 1), method="highs",
                      options={"time_limit": left})
        if res.status != 0:
            out.append(None)
            continue
        bound = int(np.floor(-res.fun + 1e-9 * abs(res.fun) + 1e-6))
        out.append((bound + W - 1) // W)
    return out


def index(P: ScheduleProblem, M) -> _Index:
    """The look-ups the LNS builds (groups, units, rows per departure), for :func:`group_pax_bounds`."""
    return _Index(P, M)


def settled_departures(P: ScheduleProblem, M, ix: _Index, assign: dict[int, int],
                       bounds: list[int | None]) -> set[int]:
    """Departures of the groups whose passengers in ``assign`` already meet their LP bound (``bounds``)."""
    flown = [0] * ix.n_groups
    for bi, d in assign.items():
        flown[int(ix.group[d])] += ix.party[bi]
    return {int(d) for g in range(ix.n_groups) if bounds[g] is not None and flown[g] >= bounds[g]
            for d in ix.deps_of_group[g]}


def merge_block(M, assign: dict[int, int], ks: list[int], picked: list[int], j: int, bound: int) -> bool:
    """Put another engine's schedule of one independent block (its assignment variables ``ks``, those
    chosen ``picked`` with J ``j``) into ``assign`` when it is better there; True if taken.

    Exact: no row links two blocks, so the day's J is the sum of the blocks' J."""
    coef = {M.xs[k]: M.coef[k] for k in ks}
    books = {M.xs[k][0] for k in ks}
    cur = sum(coef.get((bi, d), 0) for bi, d in assign.items() if bi in books)
    if j <= cur:
        return False
    for bi in books:
        assign.pop(bi, None)
    assign.update(M.xs[k] for k in picked)
    return True


def lns(P: ScheduleProblem, M, start: dict[int, int], deadline_s: float, seed: int = 0,
        work_limit: float | None = None, stop=None, sub_work: float = SUB_WORK, inbox: list | None = None,
        bound_box: list | None = None, rel_gap: float = 0.0, pax_bounds: bool = True,
        group_bounds: list[int | None] | None = None, best_box: list | None = None) -> LnsResult:
    """Improve the schedule ``start`` (booking index -> departure index of ``M``) by rolling windows.

    ``deadline_s``: ``time.perf_counter()`` value at which to stop; ``work_limit``: total CP-SAT
    deterministic time (None: none); ``stop``: a ``threading.Event`` that ends the search early.
    ``inbox``: a list another thread appends blocks to, ``(ks, picked, j, bound)`` as in
    :func:`merge_block` (HiGHS's blocks): taken when better, and a block proven optimal (bound <= j)
    is left alone from then on. ``bound_box``: a list whose item 0 is the day's bound on J so far (it may shrink); the search
    stops once the incumbent is within ``rel_gap`` of it (or equal). ``pax_bounds``: stop working on
    a group once it flies as many passengers as its LP relaxation allows (:func:`group_pax_bounds`;
    only its deviation could still improve); ``group_bounds``: those bounds when already computed.
    ``best_box``: a list whose item 0 is kept at the incumbent's J (for the other engine's gap test).
    ``start`` must satisfy the model's rows (the greedy schedule does). Returns the best schedule found
    (never worse than ``start``), see :class:`LnsResult`."""
    t0 = time.perf_counter()
    ix = _Index(P, M)
    coef_of = {(bi, d): c for (bi, d), c in zip(M.xs, M.coef, strict=True)}
    assign = dict(start)
    best = _objective(M, assign, coef_of)
    if best_box is not None:
        best_box[:] = [best]
    rng = np.random.default_rng(seed)
    spent = 0.0
    windows = improved = 0
    lo = int(ix.t.min()) if len(ix.t) else 0
    hi = int(ix.t.max()) + 1 if len(ix.t) else 0
    span = hi - lo
    sizes = [h for h in WINDOWS_MIN if h < span] + [span]
    level = [0] * ix.n_groups  # each group's window length: sizes[level]; past the end: converged
    version = [0] * ix.n_ports  # changes of the schedule at each vertiport (its groups share slot rows)
    seen: dict[tuple[int, int, int], int] = {}  # window -> version of its vertiport when last solved
    units_of = [[u for u, (g2, _ds, _a) in enumerate(ix.units) if g2 == g] for g in range(ix.n_groups)]
    if not pax_bounds:
        pax_bound: list[int | None] = [None] * ix.n_groups
    else:
        # the LP bounds take at most a tenth of the time left (scipy's HiGHS runs are bounded by it)
        pax_bound = group_bounds if group_bounds is not None else group_pax_bounds(
            P, M, ix, limit_s=max(0.0, 0.1 * (deadline_s - time.perf_counter())))
    group_of_b = {bi: int(ix.group[d]) for bi, d in M.xs}

    def pax_done(g: int) -> bool:
        """The group flies as many passengers as its LP allows: only the deviation could improve."""
        if pax_bound[g] is None:
            return False
        return sum(ix.party[bi] for bi in assign if group_of_b[bi] == g) >= pax_bound[g]

    frozen = np.zeros(len(M.deps), dtype=bool)  # departures of blocks proven optimal elsewhere
    blocks_taken = 0
    ended_by = "converged"
    out = False

    def read_inbox() -> None:
        nonlocal best, blocks_taken
        while inbox:
            ks, picked, j, bound = inbox.pop(0)
            if merge_block(M, assign, ks, picked, j, bound):
                blocks_taken += 1
                best = _objective(M, assign, coef_of)
                if best_box is not None:
                    best_box[:] = [best]
                for v in {ix.port_of_group[ix.group[M.xs[k][1]]] for k in ks}:
                    version[v] += 1
            if bound <= j:
                ds = np.asarray(sorted({M.xs[k][1] for k in ks}), dtype=np.int64)
                frozen[ds] = True
                for g in set(ix.group[ds].tolist()):
                    if frozen[ix.deps_of_group[g]].all():
                        level[g] = len(sizes)

    while not out:
        active = [g for g in range(ix.n_groups) if level[g] < len(sizes)]
        if not active:
            break
        for g in (active[int(k)] for k in rng.permutation(len(active))):
            if level[g] < len(sizes) and pax_done(g):
                level[g] = len(sizes)  # passengers at the LP bound: leave the deviation to HiGHS
            if level[g] >= len(sizes):
                continue  # proven by the other engine since the round began, or at its LP bound
            H = sizes[level[g]]
            whole = H >= span
            jobs = []
            tails = units_of[g][1:] if len(units_of[g]) > 1 else units_of[g]
            for u in units_of[g]:
                if u == units_of[g][0] and len(units_of[g]) > 1 and H > GROUP_WINDOW_MAX_MIN:
                    continue  # a group of several tails: long windows one tail at a time
                if whole:
                    jobs.append((u, lo, hi))
                else:
                    jobs += [(u, s, s + H) for s in range(lo - H // 2, hi, max(1, H // 2))]
            if level[g] >= 1:  # the whole day of one tail, each flight free to move a little
                jobs += [(u, -1, SHIFTS_MIN[min(level[g], len(SHIFTS_MIN)) - 1]) for u in tails]
            gain = False
            v = ix.port_of_group[g]
            for j in rng.permutation(len(jobs)):
                u, a, b = jobs[int(j)]
                now = time.perf_counter()
                if inbox:
                    read_inbox()
                if bound_box and (bound_box[0] <= best or (rel_gap > 0 and bound_box[0] - best
                                                            <= rel_gap * max(abs(best), 1))):
                    ended_by, out = "bound", True
                    break
                if level[g] >= len(sizes):
                    break  # proven by the other engine
                if now >= deadline_s or (stop is not None and stop.is_set()):
                    ended_by = "stop" if (stop is not None and stop.is_set()) else "clock"
                    out = True
                    break
                if work_limit is not None and spent >= work_limit:
                    ended_by, out = "work", True
                    break
                if seen.get((u, a, b)) == version[v]:
                    continue  # solved already with the same schedule around it
                seen[(u, a, b)] = version[v]
                gd = ix.units[u][1]
                if a < 0:  # shift: departures within b minutes of one the tail flies now
                    now_t = np.unique(ix.t[[d for d in set(assign.values()) if ix.unit_tail[d] == ix.units[u][2]]])
                    if not len(now_t):
                        continue
                    free = gd[np.min(np.abs(ix.t[gd][:, None] - now_t[None, :]), axis=1) <= b]
                else:
                    free = gd[(ix.t[gd] >= a) & (ix.t[gd] < b)]
                free = free[~frozen[free]]
                if not len(free):
                    continue
                used = set(assign.values())
                free_set = {int(d) for d in free}
                old = {bi: d for bi, d in assign.items() if d in free_set}
                old_j = _objective(M, old, coef_of)
                w = sub_work if a >= 0 else SHIFT_WORK
                w = w if work_limit is None else min(w, max(0.01, work_limit - spent))
                new, new_j, used_work, opt = _solve_window(P, M, ix, free, assign, used, coef_of,
                                                           deadline_s - now, w, int(rng.integers(1 << 30)))
                spent += used_work
                windows += 1
                if _TRACE:
                    print(f"  H={H} unit={u} g={g} [{a},{b}) free={len(free)} work={used_work:.2f} opt={opt} "
                          f"gain={(new_j - old_j) if new is not None else None}")
                if new is not None and new_j > old_j:
                    for bi in old:
                        del assign[bi]
                    assign.update(new)
                    best += new_j - old_j
                    if best_box is not None:
                        best_box[:] = [best]
                    improved += 1
                    gain = True
                    version[v] += 1
                    seen[(u, a, b)] = version[v]
                    for g2 in range(ix.n_groups):  # the other groups at this vertiport may gain again
                        if (g2 != g and ix.port_of_group[g2] == v and level[g2] >= len(sizes)
                                and not frozen[ix.deps_of_group[g2]].all() and not pax_done(g2)):
                            level[g2] = len(sizes) - 1
            if out:
                break
            if not gain and level[g] < len(sizes):
                level[g] += 1
            if level[g] < len(sizes) and pax_done(g):
                level[g] = len(sizes)  # passengers at the LP bound: leave the deviation to HiGHS
            if _TRACE:
                print(f"group {g} H={H} best={best} windows={windows} work={spent:.2f} t={time.perf_counter() - t0:.2f}")
    if inbox:
        read_inbox()
    return LnsResult(assign, best, windows, improved, spent, time.perf_counter() - t0,
                     ended_by in ("work", "converged", "bound"), ended_by == "converged", blocks_taken, ended_by)

"""HiGHS's three passes on the flight-schedule model (models.flight_schedule._solve_highs): the LP bound of
each block is a valid bound (never below the proven optimum), the LP-support MIP returns schedules that pass
the rows and the verifier, and a run stopped at a gap reports a bound that still holds (issue 15 item 2)."""

from __future__ import annotations

import pytest
from flights_helpers import flight_day

import models.flight_schedule as F
from optimizer.core.stop import MaxRuntime
from optimizer.flights import (
    FlightParams,
    FlightProduct,
    ScheduleProblem,
    solve,
    verify,
)
from optimizer.flights.schedule import unservable_reasons


def _day(n: int, seed: int, step: int = 5) -> ScheduleProblem:
    """Two vertiports; at ``ga`` two identical eVTOLs and a helicopter (one slot row can bind), at ``dx`` one eVTOL."""
    prods = (FlightProduct("g15", "ga", "ev", 15, 1.0), FlightProduct("g30", "ga", "ev", 30, 2.0),
             FlightProduct("h30", "ga", "hel", 30, 2.0), FlightProduct("d20", "dx", "ev", 20, 1.0))
    return flight_day(n, seed, step=step, close=900, products=prods)


def _optimum(p: ScheduleProblem) -> int:
    s = solve(p, MaxRuntime(120), params=FlightParams(backend="highs"))
    assert s.stats.status == "optimal" and verify(p, s) == []
    return s.stats.objective


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_lp_bounds_hold_and_support_schedules_pass_the_rows(seed):
    """rel_gap 1 stops HiGHS after the LP bounds and the LP-support MIPs: the bound they give is >= the
    proven optimum (found by the full MIP on the same day), and the schedule passes the model's rows."""
    p = _day(36, seed)
    m = F.build_model(p, unservable_reasons(p))
    box: list = []
    run = F._solve_highs(p, m, 60.0, 1.0, bound_box=box)
    assert run.lp_bounds >= 1 and run.mip_blocks == 0
    assert box == [run.bound]
    opt = _optimum(p)
    j = sum(m.coef[k] for k in run.chosen)
    assert F.check_answer(p, m, run.chosen)
    assert j <= opt <= run.bound


@pytest.mark.parametrize("seed", [5, 6])
def test_full_passes_prove_the_optimum_and_post_every_block(seed):
    """rel_gap 0: every block goes through the full MIP; the day's J and bound equal the optimum, and each
    block posted to ``on_block`` passes the rows with its J at most its bound."""
    p = _day(30, seed)
    m = F.build_model(p, unservable_reasons(p))
    posted = []
    run = F._solve_highs(p, m, 60.0, 0.0, on_block=lambda *a: posted.append(a))
    opt = _optimum(p)
    assert sum(m.coef[k] for k in run.chosen) == opt == run.bound
    assert posted and all(F.check_answer(p, m, picked) and j <= b for _ks, picked, j, b in posted)


@pytest.mark.parametrize("backend", ["auto", "highs"])
def test_a_day_stopped_at_a_gap_reports_a_bound_above_the_optimum(backend):
    """solve with rel_gap 5 %: the schedule passes the verifier, the reported gap is at most 5 % and its
    bound is >= the proven optimum (so the gap is a true one); 'optimal' only with bound == J."""
    p = _day(48, 8)
    s = solve(p, MaxRuntime(60), params=FlightParams(backend=backend, rel_gap=0.05))
    assert verify(p, s) == []
    assert s.stats.bound is not None and s.stats.gap is not None and s.stats.gap <= 0.05 + 1e-12
    opt = _optimum(p)
    assert s.stats.objective <= opt <= s.stats.bound
    assert (s.stats.status == "optimal") == (s.stats.bound == s.stats.objective)


def test_a_highs_thread_unfinished_at_the_limit_leaves_the_bound_it_proved(monkeypatch):
    """auto with HiGHS still busy at the time limit (held back here after its LP and LP-support passes): the
    answer keeps the bound HiGHS had published, which is >= the proven optimum, and says HiGHS was unfinished."""
    import time

    from optimizer.flights.schedule import greedy_schedule

    p = _day(36, 9)
    opt = _optimum(p)
    m = F.build_model(p, unservable_reasons(p))
    real = F._solve_highs

    def slow_highs(P, M, limit_s, rel_gap, **kw):
        kw.pop("stop", None)
        real(P, M, 30.0, 1.0, bound_box=kw["bound_box"])  # LP bounds and LP-support MIPs only
        time.sleep(limit_s + 1.0)

    monkeypatch.setattr(F, "_solve_highs", slow_highs)
    runs, stats = F.solve_model(p, m, 3.0, FlightParams(), 0, greedy_schedule(p, m))
    assert "highs_unfinished" in stats
    highs = [r for r in runs if r.backend == "highs"]
    assert len(highs) == 1 and highs[0].chosen is None and highs[0].bound is not None
    lns = next(r for r in runs if r.backend == "lns")
    assert F.check_answer(p, m, lns.chosen)
    assert sum(m.coef[k] for k in lns.chosen) <= opt <= highs[0].bound


@pytest.mark.parametrize("seed", range(5))
def test_lp_bound_holds_for_any_duals_and_is_the_lp_optimum_for_the_lps(seed):
    """_lp_bound is weak duality with the 0-1 box: for random 8-variable packing problems it is >= the best
    0-1 point (enumerated) with the LP's duals and with any random nonnegative duals, and with the LP's
    duals it is the LP optimum rounded down."""
    import itertools
    import math

    import numpy as np
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix

    rng = np.random.default_rng(seed)
    A = csr_matrix(rng.integers(0, 4, size=(5, 8)).astype(float))
    b = rng.integers(2, 8, size=5).astype(float)
    profit = rng.integers(1, 50, size=8).astype(float)
    best = max(profit @ np.asarray(x) for x in itertools.product((0, 1), repeat=8) if np.all(A @ np.asarray(x) <= b))
    res = linprog(-profit, A_ub=A, b_ub=b, bounds=(0, 1), method="highs")
    assert res.status == 0
    assert F._lp_bound(profit, A, b, res.ineqlin.marginals) == math.floor(-res.fun + 1e-6) >= best
    for _ in range(20):
        assert F._lp_bound(profit, A, b, -rng.exponential(5.0, size=5)) >= best

"""Episodes and kicks of the ILS driver (``ILSParams.kick_after``, issue 15 at 10 s): after a stalled
episode ``run_ils`` restarts from a perturbed copy of the run's best and keeps that best apart.
Protected here: plans stay valid through kicks (TOPTW and tour verifiers, must-visits kept), the
answer for a seed does not depend on how the driver cuts the run into kernel chunks, the run's best
is never lost to a worse episode, ``max_no_improvement`` counts from the run's best, and bad settings
are refused with ``InvalidInput``."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from instances.benchmarks import benchmarks_root, instance_path, read_toptw
from optimizer.core.engine import ils
from optimizer.core.engine.ils import ILSParams
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import MaxIterations, StoppingCriterion
from optimizer.toptw import ToptwParams, check_toptw_routes, toptw_score
from optimizer.toptw import solve as toptw_solve
from optimizer.toptw import verify as toptw_verify
from optimizer.tours import TourProblem
from optimizer.tours import solve as tours_solve
from optimizer.tours import verify as tours_verify

needs_benchmarks = pytest.mark.skipif(not (benchmarks_root() / "toptw").is_dir(),
                                      reason=f"benchmarks not found at {benchmarks_root()}")

KICKS = ILSParams(kick_after=40, kick_frac=0.25, kick_frac_max=1.0)


def pr01(m: int = 2):
    return read_toptw(instance_path("cordeau_pr", "pr01"), n_routes=m)


def engine_routes(inst, stop, seed, params):
    """The routes ``run_ils`` returns, as customer indices, before ``toptw.solve``'s float re-check and
    repair (which would hide a bad state)."""
    from optimizer.core.engine.kernels import NODE, new_state
    from optimizer.toptw.solve import compile_toptw

    P, daily, cust = compile_toptw(inst)
    S = new_state(P, daily, 1, len(cust) + 1)
    res = ils.run_ils(P, S, stop, seed=seed, params=params)
    B = res.state
    return [[int(cust[B.ri[NODE, r, p]]) for p in range(int(B.length[r]))] for r in range(inst.n_routes)], res


@needs_benchmarks
@pytest.mark.parametrize("params", [KICKS, replace(KICKS, elite=4, relocate=True, restore_every=30)],
                         ids=["kicks", "kicks+elite+relocate"])
def test_toptw_plans_through_many_kicks_are_feasible(params):
    """Cordeau pr01, m = 3, 1,500 iterations with a kick every 40 stalled iterations (about thirty
    episodes, kicks of 25% to 100% of the visits): the plan passes the independent verifier and its
    score is the score of its routes."""
    inst = pr01(3)
    routes, res = engine_routes(inst, MaxIterations(1_500), 1, params)
    assert check_toptw_routes(inst, routes) == []
    assert res.iterations == 1_500 and res.stopped_by == "max_iterations"
    sol = toptw_solve(inst, MaxIterations(1_500), seed=1, params=ToptwParams(ils=params))
    assert toptw_verify(inst, sol) == []
    assert [list(r) for r in sol.routes] == routes
    assert toptw_score(inst, sol.routes) == sol.score > 0


def test_tour_kicks_keep_must_visits_and_quotas(lhasa_network, demo_groups):
    """80 groups of the peak day (must-visits, Potala slot quotas shared by all groups), a kick every
    30 stalled iterations: the tour verifier finds no violation (must-visits and quotas kept)."""
    problem = TourProblem(network=lhasa_network, groups=tuple(demo_groups[:80]))
    plan = tours_solve(problem, MaxIterations(400), seed=2, params=replace(KICKS, kick_after=30))
    assert tours_verify(problem, plan) == []
    assert plan.stats.iterations == 400


@needs_benchmarks
def test_same_answer_whatever_the_chunking(monkeypatch):
    """The driver sizes its kernel chunks from the clock; a kick must fall on the same iteration
    whatever the sizes. A fake clock that makes every chunk one iteration long and one that makes
    them grow fourfold give the same routes as the real clock, for the same seed."""
    inst = pr01(2)
    stop = MaxIterations(1_200)
    prm = ToptwParams(ils=KICKS)
    real = toptw_solve(inst, stop, seed=4, params=prm)
    answers = []
    for step in (1.0, 1e-9):  # 1 s per call: chunk of 1; 1 ns per call: chunks grow x4
        ticks = itertools.count()
        monkeypatch.setattr(ils.time, "perf_counter", lambda s=step, t=ticks: next(t) * s)
        answers.append(toptw_solve(inst, stop, seed=4, params=prm))
        monkeypatch.undo()
    for sol in answers:
        assert sol.routes == real.routes and sol.score == real.score


@needs_benchmarks
def test_run_best_is_kept_across_episodes(monkeypatch):
    """Every episode's best is recorded as the kernel leaves it (a spy on ``ils_iterations``); the
    returned plan scores the maximum over all episodes, not the last episode's best, and at least
    one episode after a kick ended below the run's best (so the test can tell the two apart)."""
    inst = pr01(3)
    seen: list[float] = []
    kernel = ils.ils_iterations

    def spy(P, S, C, B, ctrl, fctrl, *rest):
        ran = kernel(P, S, C, B, ctrl, fctrl, *rest)
        seen.append(float(fctrl[ils.F_BEST]))
        return ran

    monkeypatch.setattr(ils, "ils_iterations", spy)
    prm = ToptwParams(ils=ILSParams(kick_after=25, kick_frac=1.0, kick_frac_max=1.0))
    sol = toptw_solve(inst, MaxIterations(800), seed=0, params=prm)
    assert toptw_verify(inst, sol) == []
    assert sol.score == pytest.approx(max(seen))
    assert seen[-1] < max(seen) or min(seen[len(seen) // 2:]) < max(seen)


@needs_benchmarks
def test_max_no_improvement_counts_from_the_run_best():
    """With kicks every 20 stalled iterations (each resets the episode's counter), the stop
    ``max_no_improvement = 300`` still ends the run: 300 iterations after the run's last new best."""
    inst = pr01(2)
    prm = ToptwParams(ils=replace(KICKS, kick_after=20))
    sol = toptw_solve(inst, StoppingCriterion(max_no_improvement=300, max_iterations=200_000), seed=3, params=prm)
    assert sol.stats.stopped_by == "max_no_improvement"
    assert 300 <= sol.stats.iterations < 200_000
    assert toptw_verify(inst, sol) == []


def test_kicks_off_by_zero_and_bad_settings_refused():
    """``kick_after`` must be an integer >= 0, the fractions in (0, 1] with max >= start."""
    for kw in ({"kick_after": -1}, {"kick_after": 2.5}, {"kick_after": True}, {"kick_frac": 0.0},
               {"kick_frac": 1.5}, {"kick_frac_max": float("nan")}, {"kick_frac": 0.5, "kick_frac_max": 0.2}):
        with pytest.raises(InvalidInput) as e:
            ILSParams(**kw)
        assert e.value.field.startswith("params.kick")
    assert ILSParams(kick_after=0).kick_after == 0


def test_kick_removes_a_fraction_and_refills():
    """``kick`` on a hand-made state: frac = 1 empties every route before the refill (the refill is
    then the noisy greedy from scratch, feasible by construction); the count of removed visits is
    the number of unprotected visits."""
    from optimizer.core.engine.kernels import NODE, greedy_fill, new_state
    from optimizer.toptw.solve import compile_toptw

    if not (benchmarks_root() / "toptw").is_dir():
        pytest.skip("benchmarks not found")
    inst = pr01(2)
    P, daily, cust = compile_toptw(inst)
    S = new_state(P, daily, 1, len(cust) + 1)
    R = S.length.shape[0]
    greedy_fill(P, S, np.ones(R, dtype=np.bool_), np.empty(0, dtype=np.int32), 0, np.ones(P.value.shape[1]))
    before = int(S.length.sum())
    ctrl = np.zeros(8, dtype=np.int64)
    ctrl[ils.C_RNG] = 12345
    assert ils.kick(P, S, ctrl, 1.0, 1.0) == before
    assert int(S.length.sum()) > 0
    routes = [[int(cust[S.ri[NODE, r, p]]) for p in range(int(S.length[r]))] for r in range(R)]
    assert check_toptw_routes(inst, routes) == []

"""Time limits cover model building (issue 14 build 5): a siting or charging model that the clock
stops while it is being built answers ``no_solution_in_time`` (never a crash, never an overrun by
the build), the marginal-curve points left when the time is up are not built, and the answers
still pass the independent verifiers."""

from __future__ import annotations

import dataclasses

import numpy as np

from models import charging as charging_model
from models import siting as siting_model
from optimizer.core.clock import Deadline
from optimizer.core.stop import StoppingCriterion
from optimizer.stations.charging import ChargingParams, solve_charging, synthetic_charging
from optimizer.stations.siting import CoverageProblem, PMedianProblem, SitingParams, solve_siting
from optimizer.stations.verify_ops import verify_charging
from optimizer.stations.verify_siting import verify_siting

TINY_S = 1e-6  # a limit that is over before the first look at the clock


def big_mclp(n: int = 600, m: int = 30, p: int = 5) -> CoverageProblem:
    rng = np.random.default_rng(0)
    dist = rng.uniform(0, 60, size=(n, m))
    return CoverageProblem(rng.uniform(1, 10, size=n).tolist(), tuple(f"s{j}" for j in range(m)), p,
                           distance=dist, threshold=15.0, demand_ids=tuple(f"d{i}" for i in range(n)))


def test_siting_points_after_the_deadline_are_not_built():
    problem = big_mclp()
    sol = solve_siting(problem, StoppingCriterion(max_runtime_s=TINY_S), seed=0,
                       params=SitingParams(backend="cpsat", p_max=12))
    assert sol.stats.status == "no_solution_in_time"
    curve = {pt.p: pt for pt in sol.marginal}
    assert sorted(curve) == list(range(1, 13))
    skipped = [pt for k, pt in curve.items() if k != problem.p]
    assert all(pt.status == "no_solution_in_time" and pt.runtime_s == 0.0 and pt.objective is None
               for pt in skipped)
    assert verify_siting(problem, sol) == []


def test_siting_with_time_solves_the_requested_p_first():
    problem = big_mclp(n=80, m=8, p=3)
    sol = solve_siting(problem, StoppingCriterion(max_runtime_s=20.0), seed=0,
                       params=SitingParams(backend="cpsat", p_max=4))
    assert sol.stats.status == "optimal" and len(sol.chosen) == 3
    assert all(pt.status == "optimal" for pt in sol.marginal)
    assert verify_siting(problem, sol) == []


def test_model_builders_check_the_clock():
    mclp = big_mclp()
    raw = siting_model.solve_mclp(mclp, "pulp", time_limit_s=TINY_S)
    assert raw.status == "no_solution_in_time" and raw.objective is None
    rng = np.random.default_rng(1)
    pmed = PMedianProblem(rng.uniform(1, 5, size=400).tolist(), tuple(f"s{j}" for j in range(40)), 4,
                          distance=rng.uniform(1, 50, size=(400, 40)))
    for backend in ("pulp", "cpsat", "mathopt"):
        raw = siting_model.solve_pmedian(pmed, backend, time_limit_s=TINY_S)
        assert raw.status == "no_solution_in_time" and raw.chosen == ()


def test_charging_model_build_stops_at_the_limit():
    p = synthetic_charging(n_vehicles=60, n_stations=4, seed=3)
    stop = StoppingCriterion(max_runtime_s=TINY_S)
    raw = charging_model.solve(p, stop, Deadline(TINY_S))
    assert raw.outcome.status == "no_solution_in_time" and raw.info["stopped"]
    sched = solve_charging(p, stop, seed=0, params=ChargingParams())
    assert sched.stats.status == "no_solution_in_time" and not sched.has_schedule
    assert len(sched.unserved) == len(p.vehicles)  # every coach named, with the reason
    assert verify_charging(p, sched) == []


def test_charging_with_time_still_solves():
    p = dataclasses.replace(synthetic_charging(n_vehicles=6, n_stations=2, seed=1), max_delay_min=0)
    sched = solve_charging(p, StoppingCriterion(max_runtime_s=20.0), seed=0, params=ChargingParams())
    assert sched.has_schedule and verify_charging(p, sched) == []

"""models._backend: one status vocabulary, time limits from the stop, integer scaling with overflow checks."""

from __future__ import annotations

import math

import pytest
from ortools.sat.python import cp_model

from models._backend import (
    DEFAULT_TIME_LIMIT_S,
    cpsat_outcome,
    cpsat_solver,
    time_left_s,
    to_int,
)
from optimizer.core import InvalidInput, MaxIterations, MaxRuntime


def test_cpsat_optimal_and_infeasible_use_the_shared_words():
    m = cp_model.CpModel()
    x = m.new_int_var(0, 10, "x")
    m.add(2 * x <= 7)
    m.maximize(x)
    s = cpsat_solver(5.0, workers=1, seed=0)
    out = cpsat_outcome(s, s.solve(m), 0.0, scale=2.0)
    assert (out.status, out.objective, out.bound, out.gap) == ("optimal", 1.5, 1.5, 0.0)
    m.add(x >= 5)
    s = cpsat_solver(5.0)
    out = cpsat_outcome(s, s.solve(m), 0.0)
    assert out.status == "infeasible" and out.objective is None and not out.has_solution


def test_time_limit_comes_from_the_stop():
    stop = MaxRuntime(3.0)
    assert 2.9 < time_left_s(stop, stop.deadline()) <= 3.0
    it = MaxIterations(10)
    assert time_left_s(it, it.deadline()) == DEFAULT_TIME_LIMIT_S


def test_to_int_scales_and_rejects_overflow():
    assert to_int(1.23456, 1e4, "price") == 12346
    for bad in (math.inf, math.nan, 1e20):
        with pytest.raises(InvalidInput) as e:
            to_int(bad, 1e4, "grid_kw")
        assert e.value.field == "grid_kw"

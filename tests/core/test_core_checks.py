"""optimizer.core: input checks, stopping criterion, result types and the clock."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from optimizer.core import (
    FEASIBLE,
    NO_SOLUTION_IN_TIME,
    OPTIMAL,
    InvalidInput,
    MaxIterations,
    MaxRuntime,
    NoImprovement,
    SolveStats,
    StoppingCriterion,
    Unserved,
    Violation,
    check_count,
    check_finite,
    check_time_limit_s,
    check_window,
    fmt_clock,
    parse_clock,
    relative_gap,
)
from optimizer.core.clock import Deadline


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "x", None, [1]])
def test_check_finite_names_field_and_value(bad):
    """A non-finite or non-numeric value raises InvalidInput carrying the field and the value given."""
    with pytest.raises(InvalidInput) as e:
        check_finite("a.b", bad)
    assert e.value.field == "a.b"
    assert e.value.value is bad or (isinstance(bad, float) and math.isnan(bad))


def test_check_finite_keeps_the_float_exactly():
    """No rounding: 0.1 + 0.2 stays 0.30000000000000004."""
    assert check_finite("x", 0.1 + 0.2) == 0.1 + 0.2


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, True, "x"])
def test_time_limit_rejects_non_positive_nonfinite_and_bools(bad):
    with pytest.raises(InvalidInput) as e:
        check_time_limit_s(bad)
    assert e.value.field == "time_limit_s"


def test_time_limit_accepts_positive_numbers():
    assert check_time_limit_s(0.5) == 0.5
    assert check_time_limit_s(np.float64(2)) == 2.0


@pytest.mark.parametrize("bad", [True, 1.0, "3", 0, 10_001])
def test_check_count_rejects_bools_floats_and_out_of_range(bad):
    with pytest.raises(InvalidInput):
        check_count("n", bad)


def test_check_count_accepts_numpy_ints():
    assert check_count("n", np.int32(7)) == 7


def test_check_window():
    assert check_window("w", (60, 120)) == (60.0, 120.0)
    with pytest.raises(InvalidInput, match="closes at 60.0 before it opens at 120.0"):
        check_window("w", (120, 60))
    with pytest.raises(InvalidInput) as e:
        check_window("w", (-1, 60))
    assert e.value.field == "w.open"


def test_clock_round_trip_and_errors():
    assert parse_clock("08:30") == 510.0
    assert parse_clock("24:00") == 1440.0
    assert fmt_clock(510.0) == "08:30"
    assert fmt_clock(509.9999999999) == "08:30"  # float noise does not drop a minute
    for bad in ("8h30", "25:00", "24:01", "12:60"):
        with pytest.raises(InvalidInput):
            parse_clock(bad, "day_start")


def test_stopping_criterion_validates_its_limits():
    for kwargs in ({}, {"max_runtime_s": 0}, {"max_runtime_s": math.nan}, {"max_runtime_s": True},
                   {"max_iterations": -1}, {"max_iterations": 1.5}, {"max_no_improvement": True}):
        with pytest.raises(InvalidInput):
            StoppingCriterion(**kwargs)
    assert MaxIterations(5).max_iterations == 5
    assert MaxRuntime(2.0).max_runtime_s == 2.0
    assert NoImprovement(3).max_no_improvement == 3


def test_time_left_is_floored_and_infinite_without_a_runtime_limit():
    """Exact models read their limit from the stop: what is left, never <= 0; inf with no runtime limit."""
    stop = MaxRuntime(0.05)
    dl = stop.deadline()
    assert 0 < stop.time_left_s(dl) <= 0.05
    time.sleep(0.06)
    assert dl.expired()
    assert stop.time_left_s(dl) == 0.01
    assert math.isinf(MaxIterations(3).time_left_s(MaxIterations(3).deadline()))
    assert not Deadline(None).expired()


def test_solve_stats_accepts_only_the_shared_status_words():
    assert SolveStats(OPTIMAL).has_plan and SolveStats(FEASIBLE).has_plan
    assert not SolveStats(NO_SOLUTION_IN_TIME).has_plan
    with pytest.raises(ValueError, match="status='time_limit_no_incumbent'"):
        SolveStats("time_limit_no_incumbent")


def test_relative_gap():
    assert relative_gap(100.0, 110.0) == pytest.approx(0.1)
    assert relative_gap(0.0, 0.5) == 0.5  # divided by max(1, |objective|)
    assert relative_gap(None, 1.0) is None
    assert relative_gap(1.0, math.inf) is None


def test_unserved_and_violation_are_frozen_values():
    u = Unserved("g1", "quota", "Potala 09:00 full")
    v = Violation("g1", "time_window", "arrives 17:10 after closing 17:00")
    assert str(v) == "g1: time_window: arrives 17:10 after closing 17:00"
    with pytest.raises(AttributeError):
        u.reason = "x"  # type: ignore[misc]

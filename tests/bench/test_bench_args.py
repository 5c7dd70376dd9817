"""bench.results_md.count_arg / seconds_arg: a bench script's bad --iterations, --seed or
--time-limit exits 2 with its usage, naming the option and the value (trial finding:
``python -m bench.demo_day --iterations -5`` ended in a traceback of ``StoppingCriterion``)."""

from __future__ import annotations

import argparse

import pytest

from bench import demo_day
from bench.results_md import count_arg, seconds_arg


@pytest.mark.parametrize("text", ["-5", "x", "1.5", ""])
def test_count_arg_rejects_what_is_not_a_count(text):
    with pytest.raises(argparse.ArgumentTypeError, match=repr(text)):
        count_arg(text)


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "soon"])
def test_seconds_arg_rejects_what_is_not_a_time_limit(text):
    with pytest.raises(argparse.ArgumentTypeError, match=repr(text)):
        seconds_arg(text)


def test_good_values_pass_through():
    assert count_arg("0") == 0 and count_arg("5000") == 5000 and seconds_arg("0.5") == 0.5


def test_demo_day_bad_iterations_exit_2_naming_option_and_value(capsys):
    with pytest.raises(SystemExit) as e:
        demo_day.main(["--iterations", "-5"])
    assert e.value.code == 2
    assert "argument --iterations: '-5': must be an integer >= 0" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-1", "0", "nan"])
def test_quality_bad_time_limit_exits_2_naming_it(value, capsys):
    from bench import quality

    with pytest.raises(SystemExit) as e:
        quality.main(["--time-limit", value, "--sets", "cordeau_pr"])
    assert e.value.code == 2
    assert "--time-limit" in capsys.readouterr().err

"""Issue 14 case 8: the flight schedule with a fixed seed and 1 worker gave two different answers when
the clock stopped it. ``FlightParams.deterministic_time`` (CP-SAT's ``max_deterministic_time``) makes
the same seed give the same schedule; a wall-clock stop is reported as not reproducible."""

from __future__ import annotations

import pytest

from api.cli.flight_schedule import DEFAULT_BOOKINGS
from api.services import flights as service
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import MaxRuntime
from optimizer.flights import FlightParams, solve
from optimizer.flights.report import to_dict


@pytest.fixture(scope="module")
def problem():
    return service.schedule_problem_from_files(DEFAULT_BOOKINGS, None, None, 5)


def _key(s):
    return [(d.aircraft_id, d.product_id, d.start_min, d.booking_ids) for d in s.departures]


def test_deterministic_time_gives_the_same_schedule_twice(problem):
    prm = FlightParams(backend="cpsat", workers=1, deterministic_time=0.3)
    a = solve(problem, MaxRuntime(60), seed=3, params=prm)
    b = solve(problem, MaxRuntime(60), seed=3, params=prm)
    assert _key(a) == _key(b) and a.stats.objective == b.stats.objective and a.stats.bound == b.stats.bound
    assert a.model_stats["reproducible"] is True and a.model_stats["stopped_by_work"] is True
    assert a.stats.status == "feasible"  # stopped by the deterministic limit, not a proof: the case that mattered
    doc = to_dict(problem, a)
    assert doc["reproducible"] is True and "deterministic limit" in doc["reproducible_note"]
    auto = solve(problem, MaxRuntime(60), seed=3, params=FlightParams(deterministic_time=0.3))  # auto: CP-SAT alone
    assert _key(auto) == _key(a) and "highs_skipped" in auto.model_stats


def test_wall_clock_stop_is_reported_as_not_reproducible(problem):
    s = solve(problem, MaxRuntime(0.3), seed=0, params=FlightParams(backend="cpsat", workers=1))
    doc = to_dict(problem, s)
    if s.stats.status != "optimal":
        assert doc["reproducible"] is False and "may differ between runs" in doc["reproducible_note"]
    else:
        assert doc["reproducible"] is True


@pytest.mark.parametrize("kw, field", [({"deterministic_time": 0.0}, "deterministic_time"),
                                       ({"deterministic_time": 1.0, "workers": 2}, "workers"),
                                       ({"deterministic_time": 1.0, "backend": "highs"}, "backend"),
                                       ({"deterministic_time": 1.0, "rel_gap": 0.1}, "rel_gap")])
def test_deterministic_time_needs_cpsat_one_worker(kw, field):
    with pytest.raises(InvalidInput) as e:
        FlightParams(**kw)
    assert e.value.field == field


def test_cli_says_whether_the_answer_is_reproducible(tmp_path):
    from typer.testing import CliRunner

    from api.cli.main import app

    args = ["flights", "schedule", "--time-limit", "30", "--seed", "1", "--deterministic-time", "0.3"]
    outs = [CliRunner().invoke(app, [*args, "--out", str(tmp_path / k)]) for k in "ab"]
    assert all(r.exit_code == 0 for r in outs), outs[0].output
    assert "Reproducible     yes" in outs[0].output
    assert (tmp_path / "a" / "departures.csv").read_text() == (tmp_path / "b" / "departures.csv").read_text()

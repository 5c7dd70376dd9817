"""The flights family's contract: ``solve`` dispatches on the problem type, every answer carries
``unserved`` and ``stats`` with the shared status words, ``verify`` returns ``Violation`` objects and
catches a tampered menu, reports are JSON-safe and plots draw on the caller's ``Axes`` only."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from instances.flights import load_flight_data
from optimizer.core.errors import InvalidInput
from optimizer.core.results import STATUSES, SolveStats, Unserved, Violation
from optimizer.core.stop import MaxIterations, MaxRuntime
from optimizer.flights import (
    Aircraft,
    Booking,
    DesignProblem,
    FlightParams,
    FlightProduct,
    Menu,
    MenuOffer,
    Schedule,
    ScheduleProblem,
    VertiportCapacity,
    solve,
    verify,
)
from optimizer.flights.report import (
    departures_table,
    plot_gantt,
    plot_menu,
    products_table,
    to_dict,
    unserved_table,
)

DATA = load_flight_data()


def tiny_design() -> DesignProblem:
    return DesignProblem(DATA, (15, 30), 15.0, ("city_pad",), ("evtol",))


def tiny_schedule() -> ScheduleProblem:
    prod = FlightProduct("p30", "vp", "ev", 30, 1.0)
    fleet = (Aircraft("a1", "ev", "vp", 4, (600, 720), turnaround_min=20),)
    books = (Booking("A", "p30", 3, (600, 620), 610), Booking("B", "p30", 2, (600, 620), 600),
             Booking("D", "p30", 5, (600, 700), 650))
    return ScheduleProblem((prod,), fleet, books, (VertiportCapacity("vp", 1),), slot_min=10, start_step_min=10)


@pytest.mark.parametrize("make", [tiny_design, tiny_schedule])
def test_solve_returns_unserved_and_stats_and_verify_returns_violations(make):
    """Both problem kinds: a frozen solution with ``unserved`` (core Unserved) and ``stats`` (SolveStats,
    shared status word, runtime), proven optimal on the tiny case, and an empty verifier list."""
    problem = make()
    sol = solve(problem, MaxRuntime(10.0), seed=0)
    assert isinstance(sol, Menu if isinstance(problem, DesignProblem) else Schedule)
    assert isinstance(sol.stats, SolveStats) and sol.stats.status in STATUSES and sol.stats.runtime_s >= 0
    assert sol.stats.status == "optimal" and sol.stats.seed == 0
    assert all(isinstance(u, Unserved) for u in sol.unserved)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sol.stats = None  # type: ignore[misc]
    assert verify(problem, sol) == []
    json.dumps(to_dict(problem, sol), allow_nan=False)


def test_schedule_unserved_reasons_and_stopping_criterion_without_runtime():
    """A stop with only an iteration limit still ends (the back ends get the default time limit); the
    party of 5 on a 4-seat aircraft is unserved as party_too_large, B as capacity."""
    problem = tiny_schedule()
    s = solve(problem, MaxIterations(10), seed=0, params=FlightParams(backend="highs"))
    assert {(u.item_id, u.reason) for u in s.unserved} == {("B", "capacity"), ("D", "party_too_large")}
    assert s.stats.status == "optimal" and s.stats.stopped_by == "solved" and verify(problem, s) == []


def test_solve_rejects_wrong_inputs_naming_the_field():
    """Another problem type, a bad stop, bad params: InvalidInput naming the field."""
    for args, field in (((object(), MaxRuntime(1.0)), "problem"), ((tiny_design(), 5.0), "stop"),
                        ((tiny_schedule(), MaxRuntime(1.0), 0, {"backend": "highs"}), "params")):
        with pytest.raises(InvalidInput) as e:
            solve(*args)
        assert e.value.field == field
    for kw, field in (({"backend": "gurobi"}, "backend"), ({"workers": 0}, "workers"), ({"rel_gap": -0.1}, "rel_gap")):
        with pytest.raises(InvalidInput) as e:
            FlightParams(**kw)
        assert e.value.field == field
    with pytest.raises(InvalidInput) as e:
        verify(tiny_design(), solve(tiny_schedule(), MaxRuntime(5.0)))
    assert e.value.field == "solution"


def test_design_out_of_time_is_no_solution_in_time_with_every_cell_unserved():
    """A design whose time limit runs out before the first route: status no_solution_in_time, no offer,
    every cell unserved as time_limit; the verifier accepts the (empty) answer."""
    problem = tiny_design()
    m = solve(problem, MaxRuntime(1e-9))
    assert m.stats.status == "no_solution_in_time" and m.stats.objective is None and not m.offers
    assert [(u.item_id, u.reason) for u in m.unserved] == [("city_pad/evtol/15", "time_limit"),
                                                           ("city_pad/evtol/30", "time_limit")]
    assert verify(problem, m) == []


def test_menu_verifier_catches_cell_tampering():
    """A dropped cell, an offer of a product too long for its class, a wrong offer score, an unknown
    reason and an 'optimal' claim over an unproven route are each reported."""
    problem = tiny_design()
    m = solve(problem, MaxRuntime(10.0))
    r15 = next(r for r in m.routes if r.class_min == 15)
    r30 = next(r for r in m.routes if r.class_min == 30)
    kinds = {
        "cell": dataclasses.replace(m, offers=m.offers[:1]),
        "duration_class": dataclasses.replace(m, offers=(MenuOffer("city_pad", "evtol", 15, r30.product.id,
                                                                   r30.product.score, r30.product.block_min),
                                                         m.offers[1])),
        "offer": dataclasses.replace(m, offers=(dataclasses.replace(m.offers[0], score=m.offers[0].score + 1),
                                                m.offers[1])),
        "reason": dataclasses.replace(m, offers=m.offers[1:],
                                      unserved=(Unserved("city_pad/evtol/15", "bad_weather", ""),)),
        "status": dataclasses.replace(m, routes=(dataclasses.replace(r15, optimal=False), r30)),
    }
    for kind, bad in kinds.items():
        found = verify(problem, bad)
        assert all(isinstance(v, Violation) for v in found)
        assert kind in {v.kind for v in found}, (kind, found)


def test_schedule_verifier_rejects_departures_without_a_plan_status():
    """A schedule that says no_solution_in_time must not fly anything."""
    problem = tiny_schedule()
    s = solve(problem, MaxRuntime(5.0))
    bad = dataclasses.replace(s, stats=SolveStats("no_solution_in_time"))
    assert any(v.kind == "status" for v in verify(problem, bad))


def test_tables_and_plots_draw_on_the_given_axes_and_write_nothing(tmp_path, monkeypatch):
    """Polars tables have one row per product / departure / unserved booking; the plots draw on the
    caller's Axes and create no file."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    dp, sp = tiny_design(), tiny_schedule()
    m, s = solve(dp, MaxRuntime(10.0)), solve(sp, MaxRuntime(5.0))
    assert products_table(dp, m).height == len(m.routes) and "optimal" in products_table(dp, m).columns
    assert departures_table(sp, s).height == len(s.departures) and unserved_table(sp, s).height == len(s.unserved)
    fig, (a1, a2) = plt.subplots(1, 2)
    assert plot_menu(dp, m, a1) is a1 and len(a1.lines) >= len(m.routes)
    assert plot_gantt(sp, s, a2) is a2 and len(a2.patches) >= len(s.departures)
    plt.close(fig)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("module", ["models.flight_schedule", "optimizer.flights.problem", "optimizer.flights.verify",
                                    "instances.flights", "api.services.flights"])
def test_each_module_imports_first_in_a_fresh_interpreter(module):
    """The model imports the family's nouns and the family dispatches to the model: importing the model
    first must not hit a partially initialised module."""
    res = subprocess.run([sys.executable, "-c", f"import {module}"], check=False, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]

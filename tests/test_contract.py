"""One contract for every family (shared/DESIGN.md): ``solve(problem, stop, seed)`` returns a Solution
with ``unserved: tuple[Unserved, ...]`` and ``stats: SolveStats`` in the shared status words, and
``verify(problem, solution)`` returns ``list[Violation]`` — empty for what the solver returned — on a
tiny case of every problem kind; ``report.to_dict`` gives strict JSON.

A new family adds its tiny cases to ``CASES``.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from optimizer.core import STATUSES, SolveStats, StoppingCriterion, Unserved, Violation

FAMILIES = ("tours", "toptw", "scenarios", "stations", "drones", "flights", "days")


def _tours() -> tuple[Any, StoppingCriterion]:
    from api.services.tours import lhasa_network
    from optimizer.tours import Location, TourGroup, TourProblem

    g = TourGroup(id="A", size=20, start=Location("potala"), end=Location("potala"), day_window=(480.0, 1140.0),
                  must_visit=("jokhang",))
    # group B can never enter: its day ends before any site opens (an unserved item with a reason)
    b = TourGroup(id="B", size=5, start=Location("potala"), end=Location("potala"), day_window=(0.0, 30.0),
                  must_visit=("jokhang",))
    return TourProblem(network=lhasa_network(), groups=(g, b)), StoppingCriterion(max_iterations=20)


def _toptw() -> tuple[Any, StoppingCriterion]:
    from optimizer.toptw import TOPTWInstance

    x = np.array([0.0, 1.0, 2.0, 3.0])
    inst = TOPTWInstance("tiny", x, np.zeros(4), np.ones(4), np.array([0.0, 3, 2, 1]), np.zeros(4),
                         np.full(4, 100.0), np.abs(np.subtract.outer(x, x)), 1, 100.0)
    return inst, StoppingCriterion(max_iterations=50)


def _scenarios() -> tuple[Any, StoppingCriterion]:
    from api.services.scenarios import make_problem, parse_document

    doc = {"base": {"iterations": 20, "demand": {"groups": 6, "seed": 1}},
           "scenario": [{"name": "potala closed", "closed_sites": ["potala"]}]}
    return make_problem(parse_document(doc).scenarios), StoppingCriterion(max_iterations=20)


def _siting(kind: str) -> Callable[[], tuple[Any, StoppingCriterion]]:
    def build() -> tuple[Any, StoppingCriterion]:
        from optimizer.stations import CoverageProblem, FlowPath, FlowProblem, PMedianProblem

        dist = [[5.0, 12.0, 30.0], [8.0, 9.0, 25.0], [20.0, 7.0, 11.0]]
        if kind == "mclp":
            p: Any = CoverageProblem([3.0, 1.0, 4.0], ("s1", "s2", "s3"), 1, distance=dist, threshold=10.0)
        elif kind == "pmedian":
            p = PMedianProblem([3.0, 1.0, 4.0], ("s1", "s2", "s3"), 2, distance=dist)
        else:
            paths = (FlowPath(("A", "B", "C"), (1.0, 1.0), 3.0), FlowPath(("C", "D"), (1.0,), 2.0))
            p = FlowProblem(paths, ("A", "B", "C", "D"), range_km=4.0, p=1)
        return p, StoppingCriterion(max_runtime_s=10.0)
    return build


def _charging() -> tuple[Any, StoppingCriterion]:
    from optimizer.stations import ChargingProblem, EVStation, EVVehicle

    p = ChargingProblem((EVVehicle("v1", 60.0, 0.5, 0.2, (0.0, 0.0, 27.0, 0.0), (0, 0, -1, -1)),
                         EVVehicle("v2", 60.0, 0.9, 0.2, (0.0, 30.0, 30.0, 0.0), (-1, -1, -1, -1))),
                        (EVStation("A", 1, 40.0, 40.0),), (1.0, 2.0, 1.0, 1.0), max_delay_min=0)
    return p, StoppingCriterion(max_runtime_s=10.0)


def _oxygen() -> tuple[Any, StoppingCriterion]:
    from optimizer.stations import OxygenProblem

    m = ((0.0, 10.0, 10.0), (10.0, 0.0, 20.0), (10.0, 20.0, 0.0))
    p = OxygenProblem(("s0", "s1"), (10, 10), (2, 2), ((2, 2, 2), (1, 3, 1)), m, m, trucks=1, truck_capacity=10,
                      service_min=0.0, safety=(1, 1))
    return p, StoppingCriterion(max_runtime_s=10.0)


def _drones() -> tuple[Any, StoppingCriterion]:
    from instances.drones import lhasa_airspace, load_drone_types, random_deliveries
    from optimizer.core.airspace import Airspace, Hub
    from optimizer.drones import DroneProblem

    hub = Hub("niangre", "n", 91.112, 29.712, 3750, (("parcel", 2), ("flycart30", 1)))
    deliveries = random_deliveries(6, seed=1, center=(91.11, 29.69), spread_km=5, day=(480, 720))
    airspace = Airspace(lhasa_airspace().zones, (hub,))
    return (DroneProblem(airspace, load_drone_types(), tuple(deliveries), temperature_c=10, day=(480, 720)),
            StoppingCriterion(max_iterations=50))


def _flight_design() -> tuple[Any, StoppingCriterion]:
    from instances.flights import load_flight_data
    from optimizer.flights import DesignProblem

    return DesignProblem(load_flight_data(), (15, 30), 15.0, ("city_pad",), ("evtol",)), \
        StoppingCriterion(max_runtime_s=10.0)


def _flight_schedule() -> tuple[Any, StoppingCriterion]:
    from optimizer.flights import Aircraft, Booking, FlightProduct, ScheduleProblem, VertiportCapacity

    p = ScheduleProblem((FlightProduct("p30", "vp", "ev", 30, 1.0),),
                        (Aircraft("a1", "ev", "vp", 4, (600, 720), turnaround_min=20),),
                        (Booking("A", "p30", 3, (600, 620), 610), Booking("B", "p30", 2, (600, 620), 600)),
                        (VertiportCapacity("vp", 1),), slot_min=10, start_step_min=10)
    return p, StoppingCriterion(max_runtime_s=10.0)


def _days() -> tuple[Any, StoppingCriterion]:
    from api.services.tours import lhasa_network
    from optimizer.days import DayEvent, DayProblem, LogEntry
    from optimizer.tours import Location, TourGroup

    def g(gid: str, window: tuple[float, float]) -> TourGroup:
        return TourGroup(id=gid, size=20, start=Location("potala"), end=Location("potala"), day_window=window,
                         must_visit=("jokhang",))

    log = (LogEntry("booking", group=g("A", (480.0, 1140.0))), LogEntry("booking", group=g("B", (0.0, 30.0))),
           LogEntry("booking", group=g("C", (540.0, 1100.0))),
           LogEntry("event", event=DayEvent("quota_cut", 600.0, site_id="potala", quota=30)),
           LogEntry("event", event=DayEvent("group_delayed", 620.0, group_id="A", delay_min=30.0)))
    return DayProblem(network=lhasa_network(), log=log), StoppingCriterion(max_iterations=20)


CASES: dict[str, tuple[str, Callable[[], tuple[Any, StoppingCriterion]]]] = {
    "tours": ("tours", _tours),
    "toptw": ("toptw", _toptw),
    "scenarios": ("scenarios", _scenarios),
    "stations-mclp": ("stations", _siting("mclp")),
    "stations-pmedian": ("stations", _siting("pmedian")),
    "stations-frlm": ("stations", _siting("frlm")),
    "stations-charging": ("stations", _charging),
    "stations-oxygen": ("stations", _oxygen),
    "drones": ("drones", _drones),
    "flights-design": ("flights", _flight_design),
    "flights-schedule": ("flights", _flight_schedule),
    "days": ("days", _days),
}


def test_every_family_has_a_case_and_the_same_modules():
    """Each family package has problem, solution, solve, verify and report modules, exports solve and
    verify, and both have the contract's signature."""
    assert {family for family, _ in CASES.values()} == set(FAMILIES)
    for family in FAMILIES:
        pkg = importlib.import_module(f"optimizer.{family}")
        for module in ("problem", "solution", "solve", "verify", "report"):
            importlib.import_module(f"optimizer.{family}.{module}")
        assert list(inspect.signature(pkg.solve).parameters)[:4] == ["problem", "stop", "seed", "params"], family
        assert inspect.signature(pkg.solve).parameters["seed"].default == 0, family
        params = list(inspect.signature(pkg.verify).parameters.values())
        assert params[0].name == "problem" and len(params) >= 2, family
        assert all(q.default is not inspect.Parameter.empty for q in params[2:]), family


@pytest.mark.parametrize("case", sorted(CASES))
def test_solve_then_verify(case):
    """solve -> Solution(unserved, stats); verify -> []; to_dict -> strict JSON; same seed, same answer."""
    family, build = CASES[case]
    pkg = importlib.import_module(f"optimizer.{family}")
    report = importlib.import_module(f"optimizer.{family}.report")
    problem, stop = build()
    solution = pkg.solve(problem, stop, seed=0)
    assert isinstance(solution.stats, SolveStats)
    assert solution.stats.status in STATUSES and solution.stats.has_plan, solution.stats
    assert solution.stats.seed == 0
    assert isinstance(solution.unserved, tuple)
    assert all(isinstance(u, Unserved) and u.item_id and u.reason for u in solution.unserved)
    violations = pkg.verify(problem, solution)
    assert isinstance(violations, list) and violations == [], violations[:3]
    doc = report.to_dict(problem, solution)
    json.dumps(doc, allow_nan=False)
    if stop.max_runtime_s is None:  # iteration limits: the same seed gives the same answer
        again = pkg.solve(problem, stop, seed=0)
        assert report.to_dict(problem, again) == report.to_dict(problem, solution) or _same_but_times(
            report.to_dict(problem, again), doc)


def _same_but_times(a: Any, b: Any) -> bool:
    """Equal except for wall-clock fields (``runtime_s``, ``*_s`` timings)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        return all(k.endswith("_s") or k in ("runtime", "wall") or _same_but_times(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_but_times(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_a_tampered_solution_is_caught_in_every_family():
    """The verifier is not a rubber stamp: the tours plan with a visit moved outside the day fails."""
    import dataclasses

    problem, stop = _tours()
    from optimizer.tours import solve, verify

    plan = solve(problem, stop, seed=0)
    route = plan.routes[0]
    late = dataclasses.replace(route.visits[0], start=route.visits[0].start + 2000.0)
    bad = dataclasses.replace(plan, routes=(dataclasses.replace(route, visits=(late, *route.visits[1:])),
                                            *plan.routes[1:]))
    found = verify(problem, bad)
    assert found and all(isinstance(v, Violation) for v in found)

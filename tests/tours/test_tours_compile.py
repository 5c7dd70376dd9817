"""A cold first ``solve`` compiles the kernels before its clock starts (issue 14 build 5 item 2):
``ensure_compiled`` runs the warm-up once per process (threads wait for it), ``solve`` calls it first,
and the compile time is kept apart (``compile_seconds``), never in ``plan.stats.runtime_s``."""

from __future__ import annotations

import importlib
import threading
import time

import pytest

from api.services import tours
from optimizer.core.stop import StoppingCriterion
from optimizer.core.warmup import KernelWarmUp
from optimizer.tours import TourProblem, verify
from optimizer.tours.problem import Location, TourGroup

tsolve = importlib.import_module("optimizer.tours.solve")  # the module; optimizer.tours.solve is the function

COMPILE_S = 0.4  # the stand-in warm-up's duration


@pytest.fixture()
def cold(monkeypatch):
    """A process state as before the first solve: not compiled, a stand-in warm-up that takes
    COMPILE_S and counts its calls (the real kernels are loaded already, so solves still run)."""
    tsolve.warm_up()  # the real kernels, loaded before the stand-in takes over
    calls = []

    def fake_warm_up() -> None:
        calls.append(threading.current_thread().name)
        time.sleep(COMPILE_S)

    monkeypatch.setattr(tsolve, "KERNELS", KernelWarmUp("tours", fake_warm_up))
    return calls


def small_problem() -> TourProblem:
    net = tours.lhasa_network()
    groups = tuple(TourGroup(id=f"g{k}", size=10, start=Location("potala"), end=Location("potala"),
                             day_window=(480.0, 1080.0)) for k in range(5))
    return TourProblem(network=net, groups=groups)


def test_solve_compiles_first_and_keeps_compile_time_out_of_runtime(cold):
    assert not tsolve.is_compiled() and tsolve.compile_seconds() == 0.0
    problem = small_problem()
    plan = tsolve.solve(problem, StoppingCriterion(max_runtime_s=0.3, max_iterations=50), seed=0)
    assert cold == [threading.current_thread().name]  # the warm-up ran once, in the caller, first
    assert tsolve.is_compiled() and COMPILE_S <= tsolve.compile_seconds() < COMPILE_S + 5  # measured, not slept
    # the search's clock started after the compile step: its runtime does not contain the 0.4 s
    assert plan.stats.runtime_s < COMPILE_S
    assert verify(problem, plan) == []
    tsolve.solve(problem, StoppingCriterion(max_iterations=5), seed=0)
    assert len(cold) == 1  # compiled once per process


def test_threads_wait_for_one_compilation(cold):
    waited = []

    def run() -> None:
        waited.append(tsolve.ensure_compiled())

    threads = [threading.Thread(target=run, name=f"t{k}") for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cold) == 1  # one warm-up for four callers
    assert len(waited) == 4 and all(w >= 0.0 for w in waited)
    assert tsolve.ensure_compiled() == 0.0  # nothing left to wait for


def test_warm_up_marks_the_kernels_compiled():
    """The real warm-up (kernels already loaded in this test process) sets the flag and returns seconds."""
    dt = tsolve.warm_up()
    assert dt >= 0.0 and tsolve.is_compiled() and tsolve.ensure_compiled() == 0.0

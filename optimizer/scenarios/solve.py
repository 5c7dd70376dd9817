"""The scenarios family's one entry: ``solve(problem, stop, seed=0, params=None) -> ScenarioRun``.

Runs every scenario of a ``ScenarioProblem`` through ``optimizer.scenarios.run.run`` on the
executor that ``params`` names: the caller's (``params.executor``: a Dask
``Client.get_executor(pure=False)``, a pool it manages ...), else an ``InlineExecutor`` for
``jobs=1``, else a ``ProcessPoolExecutor`` of ``jobs`` spawned processes (default
``os.cpu_count()``, at most one per scenario), shut down before ``solve`` returns. ``stop``: see
``optimizer.scenarios.run`` (a cap on every scenario's own limits; ``max_runtime_s`` is a deadline
for the batch).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion
from optimizer.scenarios.problem import ScenarioProblem
from optimizer.scenarios.run import InlineExecutor, Progress, run
from optimizer.scenarios.solution import ScenarioResult, ScenarioRun


@dataclass(frozen=True)
class ScenarioParams:
    """How a batch runs (not what it computes: the KPIs do not depend on these).

    Attributes
    ----------
    jobs : int | None
        Local worker processes (default ``os.cpu_count()``, capped at the number of scenarios);
        1 runs in this process. Ignored when ``executor`` is given.
    executor : Executor | None
        Run on this executor instead (the caller owns it and shuts it down).
    progress : Callable[[int, int, str], None] | None
        ``progress(done, total, scenario_name)`` after every scenario.
    on_result : Callable[[ScenarioResult], None] | None
        Called with each result as it finishes (in completion order).
    should_stop : Callable[[], bool] | None
        Asked between scenarios; True leaves the scenarios not started unserved (``stopped``).

    Raises ``InvalidInput("jobs", ...)`` for ``jobs`` that is not an integer >= 1.
    """

    jobs: int | None = None
    executor: Executor | None = None
    progress: Progress | None = None
    on_result: Callable[[ScenarioResult], None] | None = None
    should_stop: Callable[[], bool] | None = None

    def __post_init__(self) -> None:
        w = self.jobs
        if w is not None and (isinstance(w, bool) or not isinstance(w, int) or w < 1):
            raise InvalidInput("jobs", w, "must be an integer >= 1")


def solve(problem: ScenarioProblem, stop: StoppingCriterion, seed: int = 0,
          params: ScenarioParams | None = None) -> ScenarioRun:
    """Run every scenario of ``problem`` (see the module docstring); never raises for a scenario
    that fails (it is in ``unserved`` with reason ``failed``)."""
    p = params or ScenarioParams()
    kwargs = {"seed": seed, "progress": p.progress, "on_result": p.on_result, "should_stop": p.should_stop}
    if p.executor is not None:
        return run(problem, p.executor, stop, **kwargs)
    workers = min(p.jobs or os.cpu_count() or 1, len(problem.scenarios))
    if workers == 1:
        return run(problem, InlineExecutor(), stop, **kwargs)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        return run(problem, pool, stop, **kwargs)


__all__ = ["ScenarioParams", "solve"]

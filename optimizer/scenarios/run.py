"""Running scenarios: one code path, any ``concurrent.futures.Executor``.

``run(problem, executor, stop)`` submits every scenario of a ``ScenarioProblem`` to ``executor``
and gathers the results as they finish:

* ``InlineExecutor()``: in this process, one scenario after the other (the job runner of the
  HTTP API, ``jobs=1``);
* ``ProcessPoolExecutor`` (spawned workers): local processes;
* ``distributed.Client(address).get_executor(pure=False)``: a Dask.distributed cluster. The
  workers need ``lhasa-ops`` importable (same version); they read and write no file, since the
  problem carries the network and the base groups.

The task a worker runs is ``run_scenario`` (module level, so it pickles): apply the scenario
(``optimizer.scenarios.apply``), solve the day with ``optimizer.tours.solve``, check the plan
with the independent tours verifier, and build the KPIs and tables
(``optimizer.scenarios.report``). A scenario's result depends only on its own settings
(iteration budget, seed) when no time limit applies, so the executor does not change the KPIs.

Stopping: a scenario's solve stops at the first of its own ``iterations`` / ``time_limit_s`` (from
the file; neither given: ``DEFAULT_ITERATIONS``) and the batch's ``stop``: ``max_iterations`` and
``max_no_improvement`` cap every scenario, ``max_runtime_s`` is a deadline for the whole batch (a
scenario gets at most what is left of it when it starts; one that has not started by then is
unserved with reason ``time``). ``should_stop()`` (e.g. a server shutdown) is asked between
scenarios: what has not started is unserved with reason ``stopped``. A scenario whose solve raises
is unserved with reason ``failed`` and the error; the others go on.

Progress is the caller's: ``progress(done, total, scenario_name)`` after every scenario, and
``on_result(result)`` for each one that ran (e.g. to commit it), in completion order.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Executor, Future, as_completed
from dataclasses import dataclass
from typing import Any

from optimizer.core.network import Network
from optimizer.core.results import FEASIBLE, NO_SOLUTION_IN_TIME, SolveStats, Unserved
from optimizer.core.stop import StoppingCriterion
from optimizer.scenarios.apply import apply
from optimizer.scenarios.problem import ScenarioProblem
from optimizer.scenarios.report import scenario_kpis, scenario_tables
from optimizer.scenarios.solution import ScenarioResult, ScenarioRun
from optimizer.scenarios.spec import DEFAULT_ITERATIONS, Scenario
from optimizer.tours import TourGroup, TourProblem, TourUnserved, location_vector, road_nodes, solve, verify

Progress = Callable[[int, int, str], None]


class InlineExecutor(Executor):
    """An ``Executor`` that runs each task in the calling thread when it is submitted."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        fut.set_running_or_notify_cancel()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as e:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(e)
        return fut


@dataclass(frozen=True, slots=True)
class ScenarioLimits:
    """The batch's caps on one scenario's solve (see the module docstring).

    ``deadline_epoch``: the batch deadline as ``time.time()`` seconds (wall clock, so that it means
    the same on another machine of a cluster), or None.
    """

    deadline_epoch: float | None = None
    max_iterations: int | None = None
    max_no_improvement: int | None = None


def scenario_stop(s: Scenario, limits: ScenarioLimits, now_epoch: float) -> StoppingCriterion:
    """The stopping criterion of one scenario's solve: its own limits, capped by the batch's."""
    iterations = s.iterations
    if iterations is None and s.time_limit_s is None:
        iterations = DEFAULT_ITERATIONS
    if limits.max_iterations is not None:
        iterations = limits.max_iterations if iterations is None else min(iterations, limits.max_iterations)
    runtime = s.time_limit_s
    if limits.deadline_epoch is not None:
        left = max(0.01, limits.deadline_epoch - now_epoch)
        runtime = left if runtime is None else min(runtime, left)
    return StoppingCriterion(max_runtime_s=runtime, max_iterations=iterations,
                             max_no_improvement=limits.max_no_improvement)


def relabel_unreachable(problem: TourProblem, unserved: Sequence[TourUnserved]) -> list[TourUnserved]:
    """The solver's unserved entries, with ``window`` must-visits that no road reaches from the
    group's start, or back to its end, relabelled ``unreachable`` (e.g. behind a closed road)."""
    net = problem.network
    nodes = road_nodes(net)
    groups = {g.id: g for g in problem.groups}
    out = []
    for u in unserved:
        if u.site_id is not None and u.reason == "window":
            g = groups[u.group_id]
            j = net.index(u.site_id)
            t_from = location_vector(problem, g.start, nodes)[0][j]
            t_to = location_vector(problem, g.end, nodes)[0][j]  # roads are undirected
            if not (math.isfinite(t_from) and math.isfinite(t_to)):
                u = dataclasses.replace(u, reason="unreachable", detail="no open road reaches the site from the "
                                        "group's start or back to its end")
        out.append(u)
    return out


def run_scenario(scenario: Scenario, network: Network, base_groups: tuple[TourGroup, ...],
                 limits: ScenarioLimits = ScenarioLimits()) -> ScenarioResult | Unserved:
    """The worker's task: apply, solve, verify one scenario and build its KPIs and tables.

    Returns an ``Unserved`` (reason ``time``) instead when the batch deadline has passed before
    it starts. Reads and writes no file.
    """
    now = time.time()
    if limits.deadline_epoch is not None and now >= limits.deadline_epoch:
        return Unserved(scenario.name, "time", "the batch's max_runtime_s ran out before it started")
    t0 = time.perf_counter()
    applied = apply(scenario, network, base_groups)
    problem = applied.problem
    plan = solve(problem, scenario_stop(scenario, limits, now), seed=scenario.seed)
    violations = tuple(verify(problem, plan))
    unserved = tuple(relabel_unreachable(problem, plan.unserved)) + applied.dropped
    tables = scenario_tables(scenario, problem, plan, unserved, applied.original_must)
    kpis = scenario_kpis(scenario, problem, plan, unserved, applied.original_must, tables, len(violations),
                         runtime_s=time.perf_counter() - t0)
    return ScenarioResult(scenario=scenario, problem=problem, plan=plan, unserved=unserved,
                          original_must=applied.original_must, violations=violations, kpis=kpis, tables=tables)


def run(problem: ScenarioProblem, executor: Executor, stop: StoppingCriterion, *, seed: int = 0,
        progress: Progress | None = None, on_result: Callable[[ScenarioResult], None] | None = None,
        should_stop: Callable[[], bool] | None = None) -> ScenarioRun:
    """Run every scenario of ``problem`` on ``executor``; see the module docstring.

    ``seed`` is recorded in ``stats`` only: every scenario solves with its own seed from the file.
    Returns a ``ScenarioRun`` with results in the problem's order. Exceptions of ``on_result`` and
    ``progress`` propagate (they are the caller's); the executor is not shut down.
    """
    t0 = time.perf_counter()
    limits = ScenarioLimits(
        deadline_epoch=None if stop.max_runtime_s is None else time.time() + stop.max_runtime_s,
        max_iterations=stop.max_iterations, max_no_improvement=stop.max_no_improvement)
    total = len(problem.scenarios)
    results: dict[str, ScenarioResult] = {}
    unserved: dict[str, Unserved] = {}
    pending: dict[Future, Scenario] = {}
    done = 0

    def handle(fut: Future, s: Scenario) -> None:
        nonlocal done
        try:
            out = fut.result()
        except CancelledError:
            out = Unserved(s.name, "stopped", "the run was stopped before this scenario started")
        except Exception as e:  # noqa: BLE001 - a failing scenario is reported, the others go on
            out = Unserved(s.name, "failed", f"{type(e).__name__}: {e}")
        if isinstance(out, ScenarioResult):
            results[s.name] = out
            if on_result is not None:
                on_result(out)
        else:
            unserved[s.name] = out
        done += 1
        if progress is not None:
            progress(done, total, s.name)

    def stop_requested() -> bool:
        return should_stop is not None and should_stop()

    for k, s in enumerate(problem.scenarios):
        if stop_requested():
            reason, detail = "stopped", "the run was stopped before this scenario started"
        elif limits.deadline_epoch is not None and time.time() >= limits.deadline_epoch:
            reason, detail = "time", "the batch's max_runtime_s ran out before it started"
        else:
            fut = executor.submit(run_scenario, s, problem.network, problem.groups_of(s), limits)
            pending[fut] = s
            for f in [f for f in pending if f.done()]:  # an inline executor has finished it already
                handle(f, pending.pop(f))
            continue
        for rest in problem.scenarios[k:]:
            unserved[rest.name] = Unserved(rest.name, reason, detail)
        break
    for f in as_completed(list(pending)):
        if stop_requested():
            for other in pending:
                other.cancel()
        handle(f, pending[f])

    order = {s.name: k for k, s in enumerate(problem.scenarios)}
    ran = tuple(sorted(results.values(), key=lambda r: order[r.scenario.name]))
    left = tuple(sorted(unserved.values(), key=lambda u: order[u.item_id]))
    reasons = {u.reason for u in left}
    stats = SolveStats(
        status=FEASIBLE if ran else NO_SOLUTION_IN_TIME, objective=float(len(ran)),
        runtime_s=time.perf_counter() - t0, iterations=sum(r.plan.stats.iterations for r in ran),
        stopped_by="max_runtime_s" if "time" in reasons else "stopped" if "stopped" in reasons else "",
        seed=seed)
    return ScenarioRun(results=ran, unserved=left, stats=stats)


__all__ = ["InlineExecutor", "Progress", "ScenarioLimits", "relabel_unreachable", "run", "run_scenario",
           "scenario_stop"]

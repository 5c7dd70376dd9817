"""Run a ``ScenarioSet`` on an existing Dask.distributed cluster (``--cluster ADDRESS``).

``run_scenarios_dask(scenario_set, out_dir, address)`` connects a ``distributed.Client`` to the
scheduler at ``address`` (``tcp://host:8786``; an existing ``Client`` is accepted too), submits
one task per scenario - the same ``optimizer.scenario_runner.run_one`` the local runner calls -
gathers the ``ScenarioResult``s as they finish and writes, *on the client*, exactly the files of
the local runner (``write_scenario`` per scenario, then ``finish_run``: ``kpis.parquet`` ...).
The workers write nothing, so they need no shared file system with the client; they do need
``lhasa-ops`` importable (same version) and, for a scenario whose demand is a file, that file
at the same path. Results depend only on each scenario's settings (iteration budget, seed), so
the KPIs equal those of ``run_scenarios(..., jobs=1)`` except ``runtime_s``.

Why Dask.distributed and not Ray: the unit of work is a coarse, independent task (seconds to
minutes per scenario) whose result is a few small polars tables, so a plain task API
(``submit`` / ``as_completed``) is all that is needed. ``distributed`` is pure Python wheels on
PyPI (tornado, msgpack, cloudpickle), about 10 MB installed, with no compiled core, no
dashboard/GCS processes and no platform-specific wheels; it runs where numba/polars run. Its
``LocalCluster`` starts in a couple of seconds inside a test, and a real cluster is one
``dask scheduler`` plus ``dask worker ADDRESS`` per machine. Ray would bring a ~100 MB native
wheel, a raylet/GCS runtime and slower start-up, for actor and object-store features this
workload does not use.

Scenarios get pure=False keys unique to the call, so re-running the same set re-computes
instead of returning a cached result of another run. A failing scenario raises its exception
here (after the other tasks are cancelled) and nothing overall is written.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import polars as pl

from optimizer.domain import InvalidInput
from optimizer.scenario import ScenarioSet
from optimizer.scenario_runner import ScenarioResult, _progress, finish_run, run_one, write_scenario


def _remote(scenario: Any) -> ScenarioResult:
    """Worker side: solve and verify one scenario; nothing is written on the worker."""
    return run_one(scenario, None, None)


def run_scenarios_dask(scenario_set: ScenarioSet, out_dir: Path | str, address: Any,
                       progress: bool = True, report: bool = False) -> pl.DataFrame:
    """Run every scenario on the Dask.distributed cluster at ``address``; same outputs and return
    value as ``optimizer.scenario_runner.run_scenarios`` (KPI table, rows in file order)."""
    try:
        from distributed import Client, as_completed
    except ImportError as e:  # pragma: no cover - dask[distributed] is a dependency
        raise InvalidInput("cluster", address, "the Dask back end needs dask[distributed] installed") from e
    if not isinstance(address, (str, Client)) or (isinstance(address, str) and not address.strip()):
        raise InvalidInput("cluster", address, "expected a scheduler address such as tcp://host:8786")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scenarios = list(scenario_set.scenarios)
    own = isinstance(address, str)
    try:
        client = Client(address.strip(), timeout="30s") if own else address
    except OSError as e:
        raise InvalidInput("cluster", address, f"cannot reach the Dask scheduler: {e}") from None
    results: dict[str, ScenarioResult] = {}
    run_id = uuid.uuid4().hex[:8]
    try:
        futs = [client.submit(_remote, s, key=f"lhasa-scenario-{run_id}-{k}", pure=False)
                for k, s in enumerate(scenarios)]
        with _progress(progress) as bar:
            task = bar.add_task("", total=len(scenarios))
            try:
                for fut in as_completed(futs):
                    r: ScenarioResult = fut.result()
                    write_scenario(r, out)
                    results[r.scenario.name] = r
                    bar.update(task, advance=1, description=r.scenario.name)
            except BaseException:
                client.cancel(futs)
                raise
    finally:
        if own:
            client.close()
    return finish_run(scenarios, results, out, report)


__all__ = ["run_scenarios_dask"]

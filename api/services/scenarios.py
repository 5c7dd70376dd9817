"""Scenario use cases shared by the CLI (``lhasa-ops scenarios run``), the HTTP API (scenario jobs)
and the bench: read a scenario file or document -> load the network and the demand -> solve on an
executor -> verify -> write the outputs.

The network is the embedded Lhasa instance (``api.services.tours.lhasa_network``); a scenario's
base groups are generated (``instances.demand_generator.generate_demand``) or read from its
demand file (``instances.demand.read_demand``) here, once per demand spec, and handed to the
workers inside the ``ScenarioProblem``: workers read and write no file.

Executors (``executor_for``): ``cluster`` (a Dask.distributed scheduler address such as
``tcp://host:8786``, or a ``distributed.Client``) -> ``client.get_executor(pure=False)`` (every
run computes afresh, never a cached result of another run); else ``jobs`` local processes
(``jobs=1``: in this process). The results do not depend on the executor (``runtime_s`` aside).
Dask.distributed rather than Ray: a scenario is a coarse, independent task (seconds to minutes)
whose result is a few small tables, so the plain ``concurrent.futures`` interface is all a run
needs; ``distributed`` is pure-Python wheels (tornado, msgpack, cloudpickle) with no native
runtime, and a cluster is one ``dask scheduler`` plus ``dask worker ADDRESS`` per machine.

Outputs (``write_outputs``)::

    <out>/<slug>/kpis.json                 the scenario's KPIs and its changes
    <out>/<slug>/site_slot_usage.parquet   persons per (site, entry slot) vs the slot quota
    <out>/<slug>/site_slot_usage.csv
    <out>/<slug>/unserved.csv              every unserved group / must-visit with its reason
    <out>/kpis.parquet, <out>/kpis.csv     one row per scenario (KPI_COLUMNS + peak_util_<site>)
    <out>/site_peaks.csv                   per scenario and site: persons, peak slot utilisation
    <out>/site_slot_usage_all.parquet      every scenario's usage table
    <out>/unserved_by_site.csv             per scenario, site and reason: must-visits and persons
    <out>/max_scale_95.csv                 per family and must-visit site: the largest demand scale
                                           with >= 95 % of its groups served
    <out>/legs.csv, <out>/sites.csv        persons per site-to-site leg; every site (for the map)
    <out>/scenarios.json                   name, slug and changes of every scenario that ran
    <out>/heatmap_<slug>.png, <out>/unserved_by_site.png, <out>/report.html
    <out>/<slug>/stations.json             the station tools' documents, when the file asks for them

Station tools on a scenario's plan (the file's ``stations`` table, ``optimizer.scenarios.spec``):
after the scenarios ran, ``station_tools`` sites stations (``api.services.stations.site_stations``
on the scenario's network and plan) and/or schedules EV charging
(``api.services.station_ops.schedule_charging``) for each scenario that asks, in this process,
and adds their figures to the scenario's KPIs as ``stations_*`` columns (``STATION_KPIS``).

Errors: a bad file or document raises ``InvalidInput`` naming the key before anything runs; an
unreachable cluster is ``InvalidInput("cluster", ...)``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from api.services.tours import MAX_CITY_PARTIES, lhasa_network, read_groups
from instances.demand_generator import PROFILES, generate_demand
from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network
from optimizer.core.results import Violation
from optimizer.core.serialize import json_safe
from optimizer.core.stop import StoppingCriterion
from optimizer.scenarios import (
    DemandSpec,
    ScenarioParams,
    ScenarioProblem,
    ScenarioResult,
    ScenarioRun,
    ScenarioSet,
    StationsSpec,
    load_scenarios,
    parse_scenarios,
    report,
    solve,
    verify,
)
from optimizer.scenarios.spec import DEFAULT_ITERATIONS, DEFAULT_SITING_P, Scenario
from optimizer.tours import TourGroup

MAX_SCENARIOS = 64
"""Scenarios per HTTP run (after sweep expansion)."""
MAX_SCENARIO_GROUPS = 20_000
"""Groups per scenario of an HTTP run (groups x demand_scale)."""
MAX_RUN_GROUPS = MAX_CITY_PARTIES
"""Groups per scenario of a CLI/Python run (groups x demand_scale): the cap of ``lhasa-ops plan
--city`` (200,000, set by memory); ``demand_scale = 1e9`` ran out of memory instead of stopping
with an error."""
STATION_KPIS = ("stations_siting_kind", "stations_siting_p", "stations_siting_chosen", "stations_siting_covered_pct",
                "stations_siting_status", "stations_charging_status", "stations_charging_energy_cost_cny",
                "stations_charging_unserved", "stations_charging_delays")
"""KPI keys the station tools add (siting: kind, p, chosen station ids separated by spaces, % of
the demand covered, solver status; charging: status, energy cost CNY, coaches unserved, delays)."""
CHARGING_TIME_LIMIT_S = 30.0
"""Time limit of a scenario's charging schedule when its ``charging`` table gives none (s)."""


# ---------------------------------------------------------------------------------------------
# input


def load_file(path: Path | str, network: Network | None = None) -> ScenarioSet:
    """Read and validate a scenario TOML file on the embedded network (``InvalidInput`` naming the key)."""
    return load_scenarios(path, network if network is not None else lhasa_network(), tuple(PROFILES))


def parse_document(doc: Mapping[str, Any], network: Network | None = None) -> ScenarioSet:
    """Validate a scenario document (the TOML schema as a dict, e.g. a JSON body)."""
    return parse_scenarios(doc, network if network is not None else lhasa_network(), tuple(PROFILES))


def base_groups(spec: DemandSpec, network: Network) -> tuple[TourGroup, ...]:
    """The groups of a demand spec on ``network``: read from its file, or generated (profile, groups, seed)."""
    if spec.file is not None:
        return tuple(read_groups(spec.file, network))
    return tuple(generate_demand(network, n_groups=spec.groups, seed=spec.seed, profile=spec.profile))


def make_problem(scenarios: Sequence[Scenario], network: Network | None = None,
                 cache: dict[DemandSpec, tuple[TourGroup, ...]] | None = None) -> ScenarioProblem:
    """The ``ScenarioProblem`` of ``scenarios``: the network plus the base groups of every demand
    spec they use (built once per spec; ``cache`` keeps them across calls)."""
    net = network if network is not None else lhasa_network()
    demand = cache if cache is not None else {}
    for s in scenarios:
        if s.demand not in demand:
            demand[s.demand] = base_groups(s.demand, net)
    return ScenarioProblem(network=net, scenarios=tuple(scenarios),
                           demand={s.demand: demand[s.demand] for s in scenarios})


def batch_stop(scenarios: Sequence[Scenario], max_runtime_s: float | None = None) -> StoppingCriterion:
    """The batch's stopping criterion: every scenario keeps its own limits from the file; with
    ``max_runtime_s`` the whole batch also ends then (scenarios not started are unserved, ``time``)."""
    cap = max((s.iterations if s.iterations is not None else DEFAULT_ITERATIONS) for s in scenarios)
    return StoppingCriterion(max_runtime_s=max_runtime_s, max_iterations=cap)


@contextmanager
def executor_for(jobs: int | None = None, cluster: Any = None) -> Iterator[Executor | None]:
    """The executor of a run: a Dask cluster's (``cluster``: an address or a ``distributed.Client``;
    a client made here is closed at the end, a caller's is left open), else None (``solve`` then
    uses ``jobs`` local processes). Raises ``InvalidInput("cluster", ...)`` for a bad address or an
    unreachable scheduler."""
    if cluster is None:
        yield None
        return
    try:
        from distributed import Client
    except ImportError as e:  # pragma: no cover - dask[distributed] is a dependency
        raise InvalidInput("cluster", cluster, "the Dask back end needs dask[distributed] installed") from e
    if not isinstance(cluster, (str, Client)) or (isinstance(cluster, str) and not cluster.strip()):
        raise InvalidInput("cluster", cluster, "expected a scheduler address such as tcp://host:8786")
    own = isinstance(cluster, str)
    try:
        client = Client(cluster.strip(), timeout="30s") if own else cluster
    except (OSError, ValueError) as e:  # ValueError: an address Dask cannot parse ('nonsense': no port)
        raise InvalidInput("cluster", cluster, f"cannot reach the Dask scheduler: {e}") from None
    executor = client.get_executor(pure=False)
    try:
        yield executor
    finally:
        executor.shutdown(wait=False)
        if own:
            client.close()


# ---------------------------------------------------------------------------------------------
# running a file


@dataclass(frozen=True)
class ScenariosOutcome:
    """What ``run_set`` / ``run_file`` return: the problem, the run, the verifier's verdict, the KPI
    table (one row per scenario that ran) and the output folder."""

    problem: ScenarioProblem
    run: ScenarioRun
    violations: tuple[Violation, ...]
    kpis: pl.DataFrame
    out: Path


def run_set(sset: ScenarioSet, out: Path | str, jobs: int | None = None, cluster: Any = None,
            progress: Callable[[int, int, str], None] | None = None,
            max_runtime_s: float | None = None) -> ScenariosOutcome:
    """Run every scenario of ``sset`` (locally on ``jobs`` processes, or on ``cluster``), verify the
    run and write the outputs (module docstring) into ``out``. ``InvalidInput`` (before any work)
    for a scenario of more than ``MAX_RUN_GROUPS`` groups."""
    params = ScenarioParams(jobs=jobs, progress=progress)  # checks jobs before any work
    check_size(sset, MAX_RUN_GROUPS, lambda d: d.groups if d.file is None else None)  # before generating
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    problem = make_problem(sset.scenarios)
    check_size(sset, MAX_RUN_GROUPS, lambda d: len(problem.demand[d]))
    stop = batch_stop(sset.scenarios, max_runtime_s)
    with executor_for(jobs, cluster) as executor:
        if executor is not None:
            params = ScenarioParams(executor=executor, progress=progress)
        run = solve(problem, stop, seed=0, params=params)
    violations = tuple(verify(problem, run))
    run = with_station_tools(run)
    write_outputs(problem, run, out_dir)
    return ScenariosOutcome(problem=problem, run=run, violations=violations,
                            kpis=report.kpi_table(run.results), out=out_dir)


def run_file(file: Path | str, out: Path | str, jobs: int | None = None, cluster: Any = None,
             progress: Callable[[int, int, str], None] | None = None) -> ScenariosOutcome:
    """``lhasa-ops scenarios run FILE --out DIR [--jobs N] [--cluster ADDRESS]``: load, run, verify,
    write. Raises ``InvalidInput`` (naming the key) for a bad file, before anything runs."""
    return run_set(load_file(file), out, jobs=jobs, cluster=cluster, progress=progress)


# ---------------------------------------------------------------------------------------------
# station tools on a scenario's plan


def station_tools(result: ScenarioResult, spec: StationsSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the station tools ``spec`` asks for on ``result``'s network and plan (seed: the
    scenario's); returns (``STATION_KPIS`` figures, documents ``{"siting": ..., "charging": ...}``).

    Raises ``InvalidInput`` for options the tools reject and ``RuntimeError`` when a tool's
    verifier rejects its answer.
    """
    seed = result.scenario.seed
    kpis: dict[str, Any] = {}
    docs: dict[str, Any] = {}
    if spec.siting is not None:
        from api.services.stations import SitingInput, site_stations
        from api.services.tours import plan_document

        opts = dict(spec.siting)
        inp = SitingInput(p=opts.pop("p", DEFAULT_SITING_P), seed=seed, **opts)
        out = site_stations(inp, network=result.problem.network,
                            plan=plan_document(result.problem, result.plan))
        d = out.document
        kpis.update({"stations_siting_kind": inp.kind, "stations_siting_p": inp.p,
                     "stations_siting_chosen": " ".join(d["chosen"]),
                     "stations_siting_covered_pct": d["covered_pct"], "stations_siting_status": d["status"]})
        docs["siting"] = d
    if spec.charging is not None:
        from api.services.station_ops import ChargingOptions, schedule_charging

        opts = dict(spec.charging)
        limit = opts.pop("time_limit_s", CHARGING_TIME_LIMIT_S)
        ran = schedule_charging(result.problem, result.plan, ChargingOptions(**opts),
                                StoppingCriterion(max_runtime_s=limit), seed=seed)
        if ran.violations:
            raise RuntimeError(f"scenario {result.scenario.name!r}: the charging schedule has "
                               f"{len(ran.violations)} violations, first: {ran.violations[0]}")
        d = ran.document(include_sessions=False)
        kpis.update({"stations_charging_status": d["status"], "stations_charging_energy_cost_cny": d["energy_cost_cny"],
                     "stations_charging_unserved": len(d["unserved"]), "stations_charging_delays": len(d["delays"])})
        docs["charging"] = d
    return kpis, docs


def with_station_tools(run: ScenarioRun) -> ScenarioRun:
    """``run`` with the station tools' KPIs (and, under ``kpis["stations"]``, their documents)
    added to every scenario whose ``stations`` table asks for them; unchanged otherwise."""
    if not any(r.scenario.stations is not None for r in run.results):
        return run
    results = []
    for r in run.results:
        if r.scenario.stations is not None:
            kpis, docs = station_tools(r, r.scenario.stations)
            r = dataclasses.replace(r, kpis={**r.kpis, **kpis, "stations": docs})
        results.append(r)
    return dataclasses.replace(run, results=tuple(results))


# ---------------------------------------------------------------------------------------------
# outputs


def _dump(obj: Any) -> str:
    return json.dumps(json_safe(obj, nonfinite="null"), indent=2, ensure_ascii=False)


def write_scenario(result: ScenarioResult, out: Path) -> Path:
    """Write ``<out>/<slug>/kpis.json``, ``site_slot_usage.{parquet,csv}``, ``unserved.csv`` (and
    ``stations.json`` when the station tools ran)."""
    d = out / result.scenario.slug
    d.mkdir(parents=True, exist_ok=True)
    kpis = dict(result.kpis)
    stations = kpis.pop("stations", None)
    (d / "kpis.json").write_text(_dump(kpis), encoding="utf-8")
    if stations is not None:
        (d / "stations.json").write_text(_dump(stations), encoding="utf-8")
    result.tables.usage.write_parquet(d / "site_slot_usage.parquet")
    result.tables.usage.write_csv(d / "site_slot_usage.csv")
    result.tables.unserved.write_csv(d / "unserved.csv")
    return d


def render_figures(problem: ScenarioProblem, run: ScenarioRun) -> dict[str, bytes]:
    """PNG bytes of the report's figures: ``heatmap_<slug>`` per scenario (slot utilisation above
    entries per hour) and ``unserved_by_site``, drawn by the report's plot functions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def png(fig: Any) -> bytes:
        buf = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        return buf.getvalue()

    images: dict[str, bytes] = {}
    for r in run.results:
        name = r.scenario.name
        top, bottom, _ = report.heatmap_rows(run, name)
        heights = [max(1, len(top)), max(1, len(bottom))]
        fig, axes = plt.subplots(2, 1, figsize=(10, 1.2 + 0.32 * (sum(heights) + 4)),
                                 gridspec_kw={"height_ratios": heights})
        report.plot_slot_utilisation(problem, run, axes[0], name)
        report.plot_entries_per_hour(problem, run, axes[1], name)
        images[f"heatmap_{r.scenario.slug}"] = png(fig)
    sites = {sid for r in run.results for sid in r.tables.unserved["site_id"].drop_nulls().to_list()}
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(sites) + 3), 4.5))
    report.plot_unserved_by_site(problem, run, ax)
    images["unserved_by_site"] = png(fig)
    return images


def write_outputs(problem: ScenarioProblem, run: ScenarioRun, out: Path | str) -> dict[str, Path]:
    """Write every output file (module docstring) of the scenarios that ran; returns name -> path."""
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for r in run.results:
        paths[r.scenario.slug] = write_scenario(r, out_dir)
    t = report.run_tables(run.results)
    files = {"kpis.parquet": lambda p: t["kpis"].write_parquet(p), "kpis.csv": lambda p: t["kpis"].write_csv(p),
             "site_peaks.csv": lambda p: t["site_peaks"].write_csv(p),
             "site_slot_usage_all.parquet": lambda p: t["usage"].write_parquet(p),
             "unserved_by_site.csv": lambda p: t["unserved_by_site"].write_csv(p),
             "max_scale_95.csv": lambda p: t["max_scale_95"].write_csv(p),
             "legs.csv": lambda p: t["legs"].write_csv(p), "sites.csv": lambda p: t["sites"].write_csv(p),
             "scenarios.json": lambda p: p.write_text(_dump(report.scenario_list(run.results)), encoding="utf-8")}
    for name, write in files.items():
        paths[name] = out_dir / name
        write(paths[name])
    images = render_figures(problem, run)
    for name, data in images.items():
        paths[f"{name}.png"] = out_dir / f"{name}.png"
        paths[f"{name}.png"].write_bytes(data)
    paths["report.html"] = out_dir / "report.html"
    paths["report.html"].write_text(report.html_report(problem, run, images), encoding="utf-8")
    return paths


# ---------------------------------------------------------------------------------------------
# HTTP: a scenario document as a job


def _no_files(doc: Mapping[str, Any]) -> None:
    base = doc.get("base")
    if isinstance(base, Mapping) and isinstance(base.get("demand"), Mapping) and "file" in base["demand"]:
        raise InvalidInput("base.demand.file", base["demand"]["file"], "demand files are not accepted over HTTP; "
                           "give profile/groups/seed")
    scen = doc.get("scenario")
    for k, s in enumerate(scen if isinstance(scen, list) else [scen] if isinstance(scen, Mapping) else []):
        if isinstance(s, Mapping) and isinstance(s.get("demand"), Mapping) and "file" in s["demand"]:
            name = s.get("name") if isinstance(s.get("name"), str) else f"#{k + 1}"
            raise InvalidInput(f"scenario[{name}].demand.file", s["demand"]["file"],
                               "demand files are not accepted over HTTP; give profile/groups/seed")


def check_request(doc: Mapping[str, Any], max_time_limit_s: float) -> ScenarioSet:
    """Validate a posted scenario document: the schema, no demand ``file``, at most
    ``MAX_SCENARIOS`` scenarios of at most ``MAX_SCENARIO_GROUPS`` groups, names without control
    characters (they name the job's steps in the store), and every
    ``time_limit_s`` <= ``max_time_limit_s`` (the server maximum). ``InvalidInput`` naming the key."""
    _no_files(doc)
    sset = parse_document(doc)
    if len(sset.scenarios) > MAX_SCENARIOS:
        raise InvalidInput("scenario", len(sset.scenarios), f"at most {MAX_SCENARIOS} scenarios per run "
                           "(after sweep expansion)")
    for s in sset.scenarios:
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in s.name):  # a step name in the job store
            raise InvalidInput(f"scenario[{s.family}].name", s.name, "must not contain control characters")
        if s.time_limit_s is not None and s.time_limit_s > max_time_limit_s:
            where = "base.time_limit_s" if s.name == "base" else f"scenario[{s.family}].time_limit_s"
            raise InvalidInput(where, s.time_limit_s, f"must be <= {max_time_limit_s:g} seconds (server maximum "
                               "LHASA_OPS_MAX_JOB_TIME_LIMIT_S)")
    check_size(sset, MAX_SCENARIO_GROUPS, lambda d: d.groups)
    return sset


def check_size(sset: ScenarioSet, limit: int, count: Callable[[DemandSpec], int | None]) -> None:
    """``InvalidInput`` for the first scenario with more than ``limit`` groups (``count`` of its
    demand spec x ``demand_scale``; a count of None is not checked), naming the key at fault:
    ``base.demand.groups``, ``scenario[NAME].demand.groups`` or ``scenario[NAME].demand_scale``."""
    for s in sset.scenarios:
        groups = count(s.demand)
        if groups is None or groups * s.demand_scale <= limit:
            continue
        key = "groups" if s.demand.file is None else "file"
        if s.name == "base" or (s.demand == sset.base.demand and groups > limit):
            where = f"base.demand.{key}"
        elif groups > limit:
            where = f"scenario[{s.family}].demand.{key}"
        else:
            where = f"scenario[{s.family}].demand_scale"
        raise InvalidInput(where, math.ceil(groups * s.demand_scale),
                           f"a scenario may have at most {limit:,} groups (groups x demand_scale)")


def scenario_names(doc: Mapping[str, Any]) -> list[str] | None:
    """Names of a stored document's scenarios, in order (None if it no longer validates)."""
    try:
        return [s.name for s in parse_document(doc).scenarios]
    except InvalidInput:
        return None


def run_job(doc: Mapping[str, Any], done: frozenset[str] | set[str], commit: Callable[[int, str, dict], None],
            stopping: Callable[[], bool], max_time_limit_s: float) -> None:
    """Run a posted scenario document one scenario at a time, skipping those in ``done``, and
    ``commit(idx, name, kpis)`` each one as it finishes; return early when ``stopping()``.

    Each scenario is solved alone (``solve`` on a one-scenario problem, in this thread) with at
    most ``max_time_limit_s`` (also the limit of a scenario that gives none) and verified
    (``optimizer.scenarios.verify``). Raises ``RuntimeError`` when a scenario fails or its result
    does not pass the verifier, which fails the job.
    """
    sset = parse_document(doc)
    cache: dict[DemandSpec, tuple[TourGroup, ...]] = {}
    for idx, s in enumerate(sset.scenarios):
        if stopping():
            return
        if s.name in done:
            continue
        problem = make_problem([s], cache=cache)
        run = solve(problem, StoppingCriterion(max_runtime_s=max_time_limit_s), params=ScenarioParams(jobs=1))
        if run.unserved:
            u = run.unserved[0]
            raise RuntimeError(f"scenario {s.name!r} did not run ({u.reason}): {u.detail}")
        violations = verify(problem, run)
        if violations:
            raise RuntimeError(f"scenario {s.name!r}: {len(violations)} verifier violations, first: {violations[0]}")
        kpis = dict(with_station_tools(run).results[0].kpis)
        kpis.pop("stations", None)
        commit(idx, s.name, json_safe(kpis, nonfinite="null"))


__all__ = ["CHARGING_TIME_LIMIT_S", "MAX_RUN_GROUPS", "MAX_SCENARIOS", "MAX_SCENARIO_GROUPS", "STATION_KPIS", "ScenariosOutcome", "base_groups", "batch_stop", "check_request", "check_size",
           "executor_for", "load_file", "make_problem", "parse_document", "render_figures", "run_file", "run_job",
           "run_set", "scenario_names", "station_tools", "with_station_tools", "write_outputs", "write_scenario"]

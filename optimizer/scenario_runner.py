"""Run a ``ScenarioSet`` with the tour solver, in parallel, and write the KPIs and tables.

``run_scenarios(scenario_set, out_dir, jobs=None, progress=True)`` solves every scenario
(``optimizer.tours.solve``), checks each plan with the independent verifier
(``optimizer.verify.verify``; the count is the KPI ``violations`` and must be 0) and writes::

    <out>/<slug>/kpis.json                 the scenario's KPIs and its changes
    <out>/<slug>/site_slot_usage.parquet   persons per (site, entry slot) vs the slot quota
    <out>/<slug>/site_slot_usage.csv
    <out>/<slug>/unserved.csv              every unserved group / must-visit with its reason
    <out>/kpis.parquet, <out>/kpis.csv     one row per scenario (``KPI_COLUMNS`` + peak_util_<site>)
    <out>/site_peaks.csv                   per scenario and site: persons, peak slot utilisation
    <out>/unserved_by_site.csv             per scenario, site and reason: must-visits and persons
    <out>/max_scale_95.csv                 per scenario family and must-visit site: the largest
                                           demand scale at which >= 95 % of the groups that must
                                           see the site get it
    <out>/legs.csv                         persons per site-to-site leg (for the report's map)

Scenarios run in a ``ProcessPoolExecutor`` (spawned workers) with ``jobs`` processes, default
``os.cpu_count()``; ``jobs=1`` runs in-process. With an iteration budget and no time limit a
scenario's result depends only on its own settings, so ``jobs`` does not change the KPIs.
With ``address=`` (CLI ``--cluster``) they run on an existing Dask.distributed cluster
instead (``optimizer.scenario_dask``); the outputs are the same files, with the same KPIs.

Unserved reasons: the solver's (``window``, ``quota``, ``time``, ``nothing_fits``) plus
``closed`` (a must-visit at a site the scenario closes), ``unreachable`` (a ``window``
must-visit that no open road reaches, e.g. behind a closed road) and ``zone`` (a must-visit outside the
group's edited zone). A group is *served* when it has a route and every one of its original
must-visits is visited.

``max_scale_95`` is only meaningful across a sweep: within a family (the scenarios a
``demand_scale = [...]`` list expanded into, or a single scenario) it is the largest scale tested
at which the share holds; empty when it holds at none of them. It says nothing about scales
between or beyond those tested.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import polars as pl

from optimizer.domain import InvalidInput, Location, Network, TourPlan, TourProblem, Unserved
from optimizer.scenario import Scenario, ScenarioSet, apply, base_groups, describe, load_scenarios

SERVED_SHARE = 0.95
REASONS = ("closed", "unreachable", "window", "quota", "time", "zone", "nothing_fits")

KPI_COLUMNS: tuple[str, ...] = (
    "scenario", "slug", "family", "demand_scale", "changes", "groups", "groups_served", "served_pct",
    "visitors", "visitors_served", "groups_unserved", "groups_partial", "must_visits", "must_visits_unserved",
    *(f"unserved_{r}" for r in REASONS),
    "mean_score_per_visitor", "mean_wait_min", "peak_slot_util_max", "visits", "total_travel_min",
    "violations", "iterations", "runtime_s", "seed",
)
"""KPI columns in order (``peak_util_<site>`` columns for sites with a slot quota follow)."""


@dataclass(frozen=True)
class ScenarioResult:
    """What one worker returns: KPIs and the tables the overall files and the report need."""

    scenario: Scenario
    kpis: dict[str, Any]
    usage: pl.DataFrame
    unserved: pl.DataFrame
    site_peaks: pl.DataFrame
    must_served: pl.DataFrame
    legs: pl.DataFrame
    sites: pl.DataFrame


# ---------------------------------------------------------------------------------------------
# one scenario


def _stop(s: Scenario):
    from optimizer.ils import StoppingCriterion
    if s.iterations is None and s.time_limit_s is None:
        return StoppingCriterion(max_iterations=2000)
    return StoppingCriterion(max_runtime_s=s.time_limit_s, max_iterations=s.iterations)


def _endpoint(loc: Location) -> str | None:
    return loc.site_id


def _legs(problem: TourProblem, plan: TourPlan) -> Counter[tuple[str, str]]:
    """Persons per undirected site-to-site leg (start/end sites included; lat/lon ends skipped)."""
    groups = {g.id: g for g in problem.groups}
    legs: Counter[tuple[str, str]] = Counter()
    for r in plan.routes:
        g = groups[r.group_id]
        seq = [_endpoint(g.start)] + [v.site_id for v in r.visits] + [_endpoint(g.end)]
        for a, b in itertools.pairwise(seq):
            if a is not None and b is not None and a != b:
                legs[tuple(sorted((a, b)))] += g.size  # type: ignore[index]
    return legs


def relabel_unreachable(problem: TourProblem, unserved: Sequence[Unserved]) -> list[Unserved]:
    """The solver's unserved entries, with ``window`` must-visits that no road reaches from the
    group's start, or back to its end, relabelled ``unreachable`` (e.g. behind a closed road)."""
    from optimizer.tours import location_vector, road_nodes

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
                u = Unserved(u.group_id, u.site_id, "unreachable", "no open road reaches the site from the "
                             "group's start or back to its end")
        out.append(u)
    return out


def run_one(scenario: Scenario, network: Network | None = None, out_dir: Path | str | None = None) -> ScenarioResult:
    """Solve and verify one scenario; write its folder under ``out_dir`` if given."""
    from instances.loader import load_lhasa
    from optimizer.report import site_slot_usage
    from optimizer.tours import solve
    from optimizer.verify import verify

    t0 = time.perf_counter()
    net0 = network if network is not None else load_lhasa()
    groups0 = base_groups(scenario.demand, net0)
    applied = apply(scenario, net0, groups0)
    problem = applied.problem
    net = problem.network
    plan = solve(problem, _stop(scenario), seed=scenario.seed)
    violations = verify(problem, plan)
    unserved: list[Unserved] = relabel_unreachable(problem, plan.unserved) + list(applied.dropped)
    size = {g.id: g.size for g in problem.groups}
    routed = {r.group_id: {v.site_id for v in r.visits} for r in plan.routes if r.visits}
    served = [gid for gid in size
              if gid in routed and all(s in routed[gid] for s in applied.original_must[gid])]
    n = len(size)
    persons_routed = sum(size[g] for g in routed)
    waits = [v.wait for r in plan.routes for v in r.visits]

    usage = site_slot_usage(problem, plan)
    # peak slot utilisation per site: slot quota if any, else daily quota (persons/day / quota)
    daily = usage.group_by("site_id").agg(pl.col("persons").sum().alias("daily_persons"),
                                          pl.col("persons").max().alias("peak_slot_persons"),
                                          pl.col("utilisation").max().alias("peak_slot_util"))
    dmap = {r["site_id"]: r for r in daily.iter_rows(named=True)}
    peak_rows = []
    for site in net.sites:
        if not site.is_poi and site.id not in dmap and site.id not in scenario.closed_sites:
            continue
        d = dmap.get(site.id, {})
        dp = int(d.get("daily_persons") or 0)
        peak_rows.append({
            "scenario": scenario.name, "site_id": site.id, "site_name": site.name_en,
            "daily_persons": dp, "peak_slot_persons": int(d.get("peak_slot_persons") or 0),
            "slot_quota": site.slot_quota, "daily_quota": site.daily_quota,
            "peak_slot_util": (d.get("peak_slot_util") or 0.0) if site.slot_quota is not None else None,
            "daily_util": (dp / site.daily_quota if site.daily_quota else None),
            "closed": site.id in scenario.closed_sites,
        })
    site_peaks = pl.DataFrame(peak_rows, schema={
        "scenario": pl.String, "site_id": pl.String, "site_name": pl.String, "daily_persons": pl.Int64,
        "peak_slot_persons": pl.Int64, "slot_quota": pl.Int64, "daily_quota": pl.Int64,
        "peak_slot_util": pl.Float64, "daily_util": pl.Float64, "closed": pl.Boolean})

    reasons = Counter(u.reason for u in unserved)
    kpis: dict[str, Any] = {
        "scenario": scenario.name, "slug": scenario.slug, "family": scenario.family,
        "demand_scale": scenario.demand_scale, "changes": describe(scenario),
        "groups": n, "groups_served": len(served), "served_pct": 100.0 * len(served) / n if n else 100.0,
        "visitors": sum(size.values()), "visitors_served": sum(size[g] for g in served),
        "groups_unserved": n - len(routed), "groups_partial": len(routed) - len(served),
        "must_visits": sum(len(m) for m in applied.original_must.values()),
        "must_visits_unserved": sum(1 for u in unserved if u.site_id is not None),
        **{f"unserved_{r}": reasons.get(r, 0) for r in REASONS},
        "mean_score_per_visitor": (sum(r.score for r in plan.routes) / persons_routed) if persons_routed else 0.0,
        "mean_wait_min": sum(waits) / len(waits) if waits else 0.0,
        "peak_slot_util_max": max((x for x in site_peaks["peak_slot_util"].to_list() if x is not None), default=0.0),
        "visits": sum(len(r.visits) for r in plan.routes),
        "total_travel_min": sum(r.travel_min for r in plan.routes),
        "violations": len(violations), "iterations": plan.iterations, "runtime_s": time.perf_counter() - t0,
        "seed": scenario.seed,
    }
    for row in site_peaks.iter_rows(named=True):
        if row["slot_quota"] is not None:
            kpis[f"peak_util_{row['site_id']}"] = row["peak_slot_util"]

    un_rows = [{"scenario": scenario.name, "group_id": u.group_id, "size": size.get(u.group_id, 0),
                "site_id": u.site_id, "reason": u.reason, "detail": u.detail} for u in unserved]
    unserved_df = pl.DataFrame(un_rows, schema={"scenario": pl.String, "group_id": pl.String, "size": pl.Int64,
                                                "site_id": pl.String, "reason": pl.String, "detail": pl.String})
    # per must-visit site: groups that must see it, and how many got it
    must_rows: Counter[str] = Counter()
    got_rows: Counter[str] = Counter()
    for gid, must in applied.original_must.items():
        for sid in must:
            must_rows[sid] += 1
            if sid in routed.get(gid, set()):
                got_rows[sid] += 1
    must_served = pl.DataFrame(
        [{"scenario": scenario.name, "family": scenario.family, "demand_scale": scenario.demand_scale,
          "site_id": sid, "groups_must": c, "groups_got": got_rows[sid]} for sid, c in sorted(must_rows.items())],
        schema={"scenario": pl.String, "family": pl.String, "demand_scale": pl.Float64, "site_id": pl.String,
                "groups_must": pl.Int64, "groups_got": pl.Int64})
    legs = pl.DataFrame([{"scenario": scenario.name, "a": a, "b": b, "persons": p}
                         for (a, b), p in _legs(problem, plan).most_common()],
                        schema={"scenario": pl.String, "a": pl.String, "b": pl.String, "persons": pl.Int64})
    sites = pl.DataFrame([{"site_id": s.id, "name_en": s.name_en, "lat": s.lat, "lon": s.lon, "is_poi": s.is_poi}
                          for s in net.sites])
    usage = usage.with_columns(pl.lit(scenario.name).alias("scenario"))
    res = ScenarioResult(scenario=scenario, kpis=kpis, usage=usage, unserved=unserved_df, site_peaks=site_peaks,
                         must_served=must_served, legs=legs, sites=sites)
    if out_dir is not None:
        write_scenario(res, Path(out_dir))
    return res


def write_scenario(res: ScenarioResult, out_dir: Path) -> Path:
    """Write ``<out>/<slug>/kpis.json``, ``site_slot_usage.{parquet,csv}`` and ``unserved.csv``."""
    d = out_dir / res.scenario.slug
    d.mkdir(parents=True, exist_ok=True)
    (d / "kpis.json").write_text(json.dumps(_jsonable(res.kpis), indent=2, ensure_ascii=False), encoding="utf-8")
    res.usage.write_parquet(d / "site_slot_usage.parquet")
    res.usage.write_csv(d / "site_slot_usage.csv")
    res.unserved.write_csv(d / "unserved.csv")
    return d


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def _worker(scenario: Scenario, out_dir: str | None) -> ScenarioResult:
    return run_one(scenario, None, out_dir)


# ---------------------------------------------------------------------------------------------
# all scenarios


def max_scale_95(must_served: pl.DataFrame, share: float = SERVED_SHARE) -> pl.DataFrame:
    """Per family and site: the largest tested demand scale with >= ``share`` of must-groups served."""
    if must_served.is_empty():
        return pl.DataFrame(schema={"family": pl.String, "site_id": pl.String, "max_scale_95": pl.Float64,
                                    "scales_tested": pl.String, "served_share_at_max": pl.Float64})
    df = must_served.with_columns((pl.col("groups_got") / pl.col("groups_must")).alias("share"))
    rows = []
    for (fam, sid), g in sorted(df.group_by(["family", "site_id"]), key=lambda t: t[0]):
        ok = g.filter(pl.col("share") >= share - 1e-12)
        best = ok["demand_scale"].max() if not ok.is_empty() else None
        rows.append({"family": fam, "site_id": sid, "max_scale_95": best,
                     "scales_tested": ";".join(f"{x:g}" for x in sorted(g["demand_scale"].to_list())),
                     "served_share_at_max": (ok.filter(pl.col("demand_scale") == best)["share"][0]
                                             if best is not None else None)})
    return pl.DataFrame(rows, schema={"family": pl.String, "site_id": pl.String, "max_scale_95": pl.Float64,
                                      "scales_tested": pl.String, "served_share_at_max": pl.Float64})


def _progress(enabled: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    return Progress(TextColumn("[bold]scenarios"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.description}"), disable=not enabled, transient=False)


def run_scenarios(scenario_set: ScenarioSet, out_dir: Path | str, jobs: int | None = None,
                  progress: bool = True, report: bool = False, address: str | None = None) -> pl.DataFrame:
    """Run every scenario, write the files listed in the module docstring, return the KPI table.

    ``jobs``: worker processes (default ``os.cpu_count()``, capped at the number of scenarios);
    1 runs in this process. ``report=True`` also writes the PNGs and ``report.html``
    (``optimizer.scenario_report.write_report``). Rows come in scenario-file order.
    ``address``: a Dask.distributed scheduler (``tcp://host:8786``); when given, the scenarios
    run on that cluster instead (``optimizer.scenario_dask.run_scenarios_dask``; ``jobs`` is
    ignored) and the same files are written here.
    """
    if address is not None:
        from optimizer.scenario_dask import run_scenarios_dask
        return run_scenarios_dask(scenario_set, out_dir, address, progress=progress, report=report)
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise InvalidInput("jobs", jobs, "must be an integer >= 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scenarios = list(scenario_set.scenarios)
    jobs = min(jobs or os.cpu_count() or 1, max(1, len(scenarios)))
    results: dict[str, ScenarioResult] = {}
    with _progress(progress) as bar:
        task = bar.add_task("", total=len(scenarios))
        if jobs == 1:
            from instances.loader import load_lhasa
            net = load_lhasa()
            for s in scenarios:
                bar.update(task, description=s.name)
                results[s.name] = run_one(s, net, out)
                bar.advance(task)
        else:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
                futs = {pool.submit(_worker, s, str(out)): s for s in scenarios}
                for f in as_completed(futs):
                    r = f.result()
                    results[r.scenario.name] = r
                    bar.update(task, advance=1, description=r.scenario.name)
    return finish_run(scenarios, results, out, report)


def finish_run(scenarios: Sequence[Scenario], results: dict[str, ScenarioResult], out: Path,
               report: bool = False) -> pl.DataFrame:
    """Write the overall tables (and the report) from per-scenario results keyed by name, in
    scenario-file order; returns the KPI table. Shared by the local and the Dask runners."""
    ordered = [results[s.name] for s in scenarios]
    kpis = write_overall(ordered, out)
    if report:
        from optimizer.scenario_report import write_report
        write_report(out)
    return kpis


def write_overall(results: Sequence[ScenarioResult], out: Path) -> pl.DataFrame:
    """Write the overall tables from per-scenario results; returns the KPI table."""
    extra = sorted({k for r in results for k in r.kpis if k.startswith("peak_util_")})
    rows = [{**{c: r.kpis.get(c) for c in KPI_COLUMNS}, **{c: r.kpis.get(c) for c in extra}} for r in results]
    schema = {c: (pl.String if c in ("scenario", "slug", "family", "changes") else
                  pl.Int64 if c in ("groups", "groups_served", "visitors", "visitors_served", "groups_unserved",
                                    "groups_partial", "must_visits", "must_visits_unserved", "visits",
                                    "violations", "iterations", "seed") or c.startswith("unserved_")
                  else pl.Float64) for c in (*KPI_COLUMNS, *extra)}
    kpis = pl.DataFrame(rows, schema=schema)
    kpis.write_parquet(out / "kpis.parquet")
    kpis.write_csv(out / "kpis.csv")
    pl.concat([r.site_peaks for r in results]).write_csv(out / "site_peaks.csv")
    pl.concat([r.usage for r in results]).write_parquet(out / "site_slot_usage_all.parquet")
    un = pl.concat([r.unserved for r in results])
    by_site = (un.filter(pl.col("site_id").is_not_null())
               .group_by(["scenario", "site_id", "reason"])
               .agg(pl.len().cast(pl.Int64).alias("must_visits"), pl.col("size").sum().alias("persons"))
               .sort(["scenario", "site_id", "reason"]))
    order = {r.scenario.name: k for k, r in enumerate(results)}
    by_site = by_site.with_columns(pl.col("scenario").replace_strict(order, return_dtype=pl.Int64).alias("_o")) \
        .sort(["_o", "site_id", "reason"]).drop("_o")
    by_site.write_csv(out / "unserved_by_site.csv")
    max_scale_95(pl.concat([r.must_served for r in results])).write_csv(out / "max_scale_95.csv")
    pl.concat([r.legs for r in results]).write_csv(out / "legs.csv")
    # all sites of all scenarios (added sites included) for the map
    allsites = pl.concat([r.sites for r in results]).unique("site_id", keep="first", maintain_order=True)
    allsites.write_csv(out / "sites.csv")
    meta = [{"name": r.scenario.name, "slug": r.scenario.slug, "changes": describe(r.scenario)} for r in results]
    (out / "scenarios.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    return kpis


def scenarios_cli(file: Path, out: Path, jobs: int | None = None, progress: bool = True,
                  address: str | None = None) -> pl.DataFrame:
    """``lhasa-ops scenarios run FILE --out DIR [--cluster ADDRESS]``: load, run, write tables,
    figures and report.html (on a Dask.distributed cluster when ``address`` is given).

    Raises ``InvalidInput`` (naming the key) for a bad scenario file, before anything runs.
    """
    sset = load_scenarios(file)
    return run_scenarios(sset, out, jobs=jobs, progress=progress, report=True, address=address)

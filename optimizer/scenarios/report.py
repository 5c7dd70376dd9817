"""Outputs of a scenario run: KPIs, tables (polars), plots on a given ``Axes`` and an HTML report.

Pure functions; nothing here solves, and nothing writes a file (``api.services.scenarios`` does).

Per scenario (built by the worker, ``scenario_tables`` / ``scenario_kpis``): the KPIs
(``KPI_COLUMNS`` plus ``peak_util_<site>`` for sites with a slot quota) and the tables of
``ScenarioTables``. Over the run (``run_tables``): ``kpis`` (one row per scenario), ``site_peaks``,
``usage`` (every scenario's site x slot usage), ``unserved_by_site`` (per scenario, site and
reason: must-visits and persons), ``max_scale_95``, ``legs`` and ``sites``.

``max_scale_95``: per scenario family (the scenarios a ``demand_scale = [...]`` list expanded
into, or a single scenario) and must-visit site, the largest demand scale tested at which at least
``SERVED_SHARE`` (95 %) of the groups that must see the site get it; empty when it holds at none
of them. It says nothing about scales between or beyond those tested.

Plots (``plot_slot_utilisation``, ``plot_entries_per_hour``, ``plot_unserved_by_site``) draw on an
``Axes`` the caller passes. ``html_report(problem, solution, images)`` is one self-contained HTML
page (no external JS/CSS): one headline per scenario family (``headlines``: "the Potala Palace
quota is the first limit: ..."), the KPIs side by side with readable headers (``KPI_LABELS``),
``max_scale_95`` per site, and per scenario an inline SVG map (sites placed by lon/lat; sites with a
quota coloured by peak utilisation - slot quota if any, else daily; other sites grey, sized by
persons; the road network in grey and the scenario's closed roads in red dashes; lines for the
``N_LEGS`` busiest site-to-site legs, width by persons; names placed without collisions and inside
the picture; a whole-region map and an old-town close-up) and the PNGs the caller rendered from
the plots, embedded as base64.

Units: persons, minutes (``mean_wait_min``, ``total_travel_min``), fractions of a quota
(utilisation), seconds (``runtime_s``).
"""

from __future__ import annotations

import base64
import html
import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from optimizer.core.serialize import json_safe
from optimizer.scenarios.solution import SCENARIO_REASONS, ScenarioResult, ScenarioRun, ScenarioTables
from optimizer.scenarios.spec import Scenario, describe
from optimizer.tours import TourPlan, TourProblem, TourUnserved, tour_kpis
from optimizer.tours.report import site_slot_usage

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from optimizer.scenarios.problem import ScenarioProblem

SERVED_SHARE = 0.95
REASONS = SCENARIO_REASONS
N_BUSIEST_OTHERS = 15
N_LEGS = 20
HOURS = tuple(range(6, 23))
CITY_BBOX = (91.035, 91.165, 29.615, 29.712)  # lon_min, lon_max, lat_min, lat_max: the old town

KPI_COLUMNS: tuple[str, ...] = (
    "scenario", "slug", "family", "demand_scale", "changes", "groups", "groups_served", "served_pct",
    "visitors", "visitors_served", "groups_unserved", "groups_partial", "must_visits", "must_visits_unserved",
    *(f"unserved_{r}" for r in REASONS),
    "mean_score_per_visitor", "mean_wait_min", "peak_slot_util_max", "visits", "total_travel_min",
    "violations", "iterations", "runtime_s", "seed",
)
"""KPI columns in order (``peak_util_<site>`` columns for sites with a slot quota follow)."""

INT_KPIS = ("groups", "groups_served", "visitors", "visitors_served", "groups_unserved", "groups_partial",
            "must_visits", "must_visits_unserved", "visits", "violations", "iterations", "seed",
            *(f"unserved_{r}" for r in REASONS))
TEXT_KPIS = ("scenario", "slug", "family", "changes")

KPI_SHOWN = ("scenario", "groups", "served_pct", "visitors", "visitors_served", "must_visits_unserved",
             "unserved_closed", "unserved_unreachable", "unserved_window", "unserved_quota", "unserved_time",
             "unserved_zone", "mean_score_per_visitor", "mean_wait_min", "peak_slot_util_max", "violations",
             "runtime_s")
"""KPI columns of the HTML report's table (``peak_util_<site>`` follow)."""

KPI_LABELS: dict[str, str] = {
    "scenario": "Scenario", "groups": "Groups", "served_pct": "Groups served, %", "visitors": "Visitors, persons",
    "visitors_served": "Visitors served, persons", "must_visits_unserved": "Must-see visits missed",
    "unserved_closed": "Missed: site closed", "unserved_unreachable": "Missed: no open road",
    "unserved_window": "Missed: opening hours", "unserved_quota": "Missed: entry quota full",
    "unserved_time": "Missed: no time left in the day", "unserved_zone": "Missed: outside the group's zone",
    "mean_score_per_visitor": "Score per visitor", "mean_wait_min": "Mean wait, min per visit",
    "peak_slot_util_max": "Busiest quota slot, % of quota", "violations": "Rules broken (verifier; must be 0)",
    "runtime_s": "Planning time, s",
}
"""Readable headers (with units) of the report's KPI table; ``peak_util_<site>`` reads "Busiest slot at
<site name>, % of quota" (``kpi_label``)."""
PERCENT_KPIS = ("peak_slot_util_max",)
"""Fractions shown as percentages in the report (``peak_util_<site>`` too)."""


def kpi_label(column: str, names: Mapping[str, str] | None = None) -> str:
    """The readable header of a KPI column (``KPI_LABELS``; ``peak_util_<site>`` with the site's name)."""
    if column.startswith("peak_util_"):
        sid = column[len("peak_util_"):]
        return f"Busiest slot at {(names or {}).get(sid, sid)}, % of quota"
    return KPI_LABELS.get(column, column.replace("_", " "))


HEADLINE_REASONS: dict[str, tuple[str, str]] = {
    "closed": ("the site closure", "景点关闭"), "unreachable": ("the road closure (no open road)", "道路关闭（无路可达）"),
    "window": ("opening hours", "开放时间"), "quota": ("entry quotas", "入场限额"), "time": ("the length of the day", "一天的时长"),
    "zone": ("the groups' zones", "团队区域限制"), "nothing_fits": ("the day's timetable", "日程安排"),
    "no_interest": ("the groups' interests", "团队兴趣")}
"""What a headline names as the limit when most missed must-see visits have this reason (English, Chinese)."""


def _pct(x: float) -> str:
    return f"{x:.0f}%"


def headlines(rows: Sequence[Mapping[str, Any]], names: Mapping[str, tuple[str, str]],
              share: float = 100 * SERVED_SHARE) -> list[dict[str, Any]]:
    """One line per scenario family of KPI rows (``scenario_kpis``), English and Chinese.

    A family is a ``demand_scale`` sweep (or one scenario), read in increasing scale. When its served
    share (``served_pct``) first drops below ``share`` %, the quota site with the highest peak slot
    utilisation there (``peak_util_<site>`` >= 0.95) is named as the first limit: "peak: the Potala
    Palace quota is the first limit: 100% of groups served at x1 demand, 95% at x1.5, 83% at x2") when
    most must-see visits missed there were refused for a full quota; otherwise the most frequent
    reason is named (``HEADLINE_REASONS``: "the road closure (no open road) is the first limit (22
    must-see visits missed)"); a family that stays at or above ``share`` says "no limit reached". ``names``: site id -> (English, Chinese) name. Returns
    ``[{"family", "scenarios", "en", "zh"}]`` in the order the families first appear.
    """
    families: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        families.setdefault(str(r.get("family") or r.get("scenario")), []).append(r)
    out = []
    for fam, members in families.items():
        members = sorted(members, key=lambda r: float(r.get("demand_scale") or 1.0))
        served = [(float(r.get("demand_scale") or 1.0), float(r.get("served_pct") or 0.0)) for r in members]
        if len(members) > 1:
            en_body = ", ".join(f"{_pct(p)} of groups served at x{s:g} demand" if i == 0 else f"{_pct(p)} at x{s:g}"
                                for i, (s, p) in enumerate(served))
            zh_body = "，".join(f"x{s:g} 需求时 {_pct(p)} 的团队成行" for s, p in served)
        else:
            en_body, zh_body = f"{_pct(served[0][1])} of groups served", f"{_pct(served[0][1])} 的团队成行"
        short = next((r for r in members if float(r.get("served_pct") or 0.0) < share), None)
        if short is None:
            en, zh = f"{fam}: no limit reached: {en_body}", f"{fam}：未触及瓶颈：{zh_body}"
        else:
            missed = {r: int(short.get(f"unserved_{r}") or 0) for r in REASONS}
            reason = max(REASONS, key=lambda r: missed[r])
            peaks = [(float(v), k[len("peak_util_"):]) for k, v in short.items()
                     if k.startswith("peak_util_") and isinstance(v, (int, float)) and not isinstance(v, bool)]
            util, site = max(peaks, default=(0.0, ""))
            if reason == "quota" and missed[reason] > 0 and site and util >= SERVED_SHARE:
                en_name, zh_name = names.get(site, (site, site))
                en = f"{fam}: the {en_name} quota is the first limit: {en_body}"
                zh = f"{fam}：{zh_name}的限额最先成为瓶颈：{zh_body}"
            elif missed[reason] > 0:
                what_en, what_zh = HEADLINE_REASONS.get(reason, (reason, reason))
                en = f"{fam}: {what_en} is the first limit ({missed[reason]} must-see visits missed): {en_body}"
                zh = f"{fam}：{what_zh}最先成为瓶颈（{missed[reason]} 个必游景点未能安排）：{zh_body}"
            else:
                en = f"{fam}: below {share:.0f}% of groups served: {en_body}"
                zh = f"{fam}：成行率低于 {share:.0f}%：{zh_body}"
        out.append({"family": fam, "scenarios": [r.get("scenario") for r in members], "en": en, "zh": zh})
    return out

PEAKS_SCHEMA: dict[str, Any] = {
    "scenario": pl.String, "site_id": pl.String, "site_name": pl.String, "daily_persons": pl.Int64,
    "peak_slot_persons": pl.Int64, "slot_quota": pl.Int64, "daily_quota": pl.Int64,
    "peak_slot_util": pl.Float64, "daily_util": pl.Float64, "closed": pl.Boolean}
UNSERVED_SCHEMA: dict[str, Any] = {"scenario": pl.String, "group_id": pl.String, "size": pl.Int64,
                                   "site_id": pl.String, "reason": pl.String, "detail": pl.String}
MUST_SCHEMA: dict[str, Any] = {"scenario": pl.String, "family": pl.String, "demand_scale": pl.Float64,
                               "site_id": pl.String, "groups_must": pl.Int64, "groups_got": pl.Int64}
LEGS_SCHEMA: dict[str, Any] = {"scenario": pl.String, "a": pl.String, "b": pl.String, "persons": pl.Int64}
MAX95_SCHEMA: dict[str, Any] = {"family": pl.String, "site_id": pl.String, "max_scale_95": pl.Float64,
                                "scales_tested": pl.String, "served_share_at_max": pl.Float64}


# ---------------------------------------------------------------------------------------------
# one scenario


def legs(problem: TourProblem, plan: TourPlan) -> Counter[tuple[str, str]]:
    """Persons per undirected site-to-site leg (start/end sites included; lat/lon ends skipped)."""
    groups = {g.id: g for g in problem.groups}
    out: Counter[tuple[str, str]] = Counter()
    for r in plan.routes:
        g = groups[r.group_id]
        seq = [g.start.site_id] + [v.site_id for v in r.visits] + [g.end.site_id]
        for a, b in itertools.pairwise(seq):
            if a is not None and b is not None and a != b:
                out[tuple(sorted((a, b)))] += g.size  # type: ignore[index]
    return out


def scenario_tables(scenario: Scenario, problem: TourProblem, plan: TourPlan, unserved: Sequence[TourUnserved],
                    original_must: Mapping[str, tuple[str, ...]]) -> ScenarioTables:
    """The tables of one scenario's plan (see ``ScenarioTables``)."""
    net = problem.network
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
    size = {g.id: g.size for g in problem.groups}
    unserved_df = pl.DataFrame(
        [{"scenario": scenario.name, "group_id": u.group_id, "size": size.get(u.group_id, 0),
          "site_id": u.site_id, "reason": u.reason, "detail": u.detail} for u in unserved], schema=UNSERVED_SCHEMA)
    routed = {r.group_id: {v.site_id for v in r.visits} for r in plan.routes if r.visits}
    must: Counter[str] = Counter()
    got: Counter[str] = Counter()
    for gid, sites in original_must.items():
        for sid in sites:
            must[sid] += 1
            if sid in routed.get(gid, set()):
                got[sid] += 1
    must_served = pl.DataFrame(
        [{"scenario": scenario.name, "family": scenario.family, "demand_scale": scenario.demand_scale,
          "site_id": sid, "groups_must": c, "groups_got": got[sid]} for sid, c in sorted(must.items())],
        schema=MUST_SCHEMA)
    legs_df = pl.DataFrame([{"scenario": scenario.name, "a": a, "b": b, "persons": p}
                            for (a, b), p in legs(problem, plan).most_common()], schema=LEGS_SCHEMA)
    sites = pl.DataFrame([{"site_id": s.id, "name_en": s.name_en, "lat": s.lat, "lon": s.lon, "is_poi": s.is_poi}
                          for s in net.sites])
    return ScenarioTables(usage=usage.with_columns(pl.lit(scenario.name).alias("scenario")),
                          unserved=unserved_df, site_peaks=pl.DataFrame(peak_rows, schema=PEAKS_SCHEMA),
                          must_served=must_served, legs=legs_df, sites=sites)


def scenario_kpis(scenario: Scenario, problem: TourProblem, plan: TourPlan, unserved: Sequence[TourUnserved],
                  original_must: Mapping[str, tuple[str, ...]], tables: ScenarioTables, violations: int,
                  runtime_s: float) -> dict[str, Any]:
    """One scenario's KPIs (``KPI_COLUMNS`` + ``peak_util_<site>``).

    The tour figures come from ``optimizer.tours.tour_kpis`` on the scenario's unserved entries
    (so a group that lost a must-visit to the change is not served); ``must_visits`` counts the
    groups' must-visits before the change.
    """
    k = tour_kpis(problem, plan.routes, unserved)
    reasons = Counter(u.reason for u in unserved)
    peaks = tables.site_peaks
    kpis: dict[str, Any] = {
        "scenario": scenario.name, "slug": scenario.slug, "family": scenario.family,
        "demand_scale": scenario.demand_scale, "changes": describe(scenario),
        "groups": int(k["groups"]), "groups_served": int(k["groups_served"]), "served_pct": k["served_pct"],
        "visitors": int(k["visitors"]), "visitors_served": int(k["visitors_served"]),
        "groups_unserved": int(k["groups_unserved"]), "groups_partial": int(k["groups_partial"]),
        "must_visits": sum(len(m) for m in original_must.values()),
        "must_visits_unserved": int(k["must_visits_unserved"]),
        **{f"unserved_{r}": reasons.get(r, 0) for r in REASONS},
        "mean_score_per_visitor": k["mean_score_per_visitor"], "mean_wait_min": k["mean_wait_min"],
        "peak_slot_util_max": max((x for x in peaks["peak_slot_util"].to_list() if x is not None), default=0.0),
        "visits": int(k["visits"]), "total_travel_min": k["total_travel_min"],
        "violations": violations, "iterations": plan.stats.iterations, "runtime_s": runtime_s,
        "seed": scenario.seed,
    }
    for row in peaks.iter_rows(named=True):
        if row["slot_quota"] is not None:
            kpis[f"peak_util_{row['site_id']}"] = row["peak_slot_util"]
    return kpis


# ---------------------------------------------------------------------------------------------
# the run


def kpi_table(results: Sequence[ScenarioResult]) -> pl.DataFrame:
    """One row per scenario: ``KPI_COLUMNS``, the ``peak_util_<site>`` columns (sorted), then any
    ``stations_*`` columns the station tools added (sorted)."""
    extra = sorted({k for r in results for k in r.kpis if k.startswith("peak_util_")})
    extra += sorted({k for r in results for k in r.kpis if k.startswith("stations_")})
    rows = [{**{c: r.kpis.get(c) for c in KPI_COLUMNS}, **{c: r.kpis.get(c) for c in extra}} for r in results]
    schema = {c: (pl.String if c in TEXT_KPIS or c.endswith(("_kind", "_chosen", "_status"))
                  else pl.Int64 if c in INT_KPIS or c.endswith(("_p", "_unserved", "_delays")) else pl.Float64)
              for c in (*KPI_COLUMNS, *extra)}
    return pl.DataFrame(rows, schema=schema)


def max_scale_95(must_served: pl.DataFrame, share: float = SERVED_SHARE) -> pl.DataFrame:
    """Per family and site: the largest tested demand scale with >= ``share`` of must-groups served."""
    if must_served.is_empty():
        return pl.DataFrame(schema=MAX95_SCHEMA)
    df = must_served.with_columns((pl.col("groups_got") / pl.col("groups_must")).alias("share"))
    rows = []
    for (fam, sid), g in sorted(df.group_by(["family", "site_id"]), key=lambda t: t[0]):
        ok = g.filter(pl.col("share") >= share - 1e-12)
        best = ok["demand_scale"].max() if not ok.is_empty() else None
        rows.append({"family": fam, "site_id": sid, "max_scale_95": best,
                     "scales_tested": ";".join(f"{x:g}" for x in sorted(g["demand_scale"].to_list())),
                     "served_share_at_max": (ok.filter(pl.col("demand_scale") == best)["share"][0]
                                             if best is not None else None)})
    return pl.DataFrame(rows, schema=MAX95_SCHEMA)


def _concat(frames: Sequence[pl.DataFrame], schema: Mapping[str, Any] | None = None) -> pl.DataFrame:
    if not frames:
        return pl.DataFrame(schema=dict(schema or {}))
    return pl.concat(list(frames))


def run_tables(results: Sequence[ScenarioResult]) -> dict[str, pl.DataFrame]:
    """The tables over a run (keys ``kpis``, ``site_peaks``, ``usage``, ``unserved_by_site``,
    ``max_scale_95``, ``legs``, ``sites``), rows in the results' order; see the module docstring."""
    un = _concat([r.tables.unserved for r in results], UNSERVED_SCHEMA)
    by_site = (un.filter(pl.col("site_id").is_not_null())
               .group_by(["scenario", "site_id", "reason"])
               .agg(pl.len().cast(pl.Int64).alias("must_visits"), pl.col("size").sum().alias("persons")))
    order = {r.scenario.name: k for k, r in enumerate(results)}
    by_site = by_site.with_columns(pl.col("scenario").replace_strict(order, return_dtype=pl.Int64).alias("_o")) \
        .sort(["_o", "site_id", "reason"]).drop("_o")
    # all sites of all scenarios (added sites included) for the map
    sites = _concat([r.tables.sites for r in results])
    if not sites.is_empty():
        sites = sites.unique("site_id", keep="first", maintain_order=True)
    return {
        "kpis": kpi_table(results),
        "site_peaks": _concat([r.tables.site_peaks for r in results], PEAKS_SCHEMA),
        "usage": _concat([r.tables.usage for r in results]),
        "unserved_by_site": by_site,
        "max_scale_95": max_scale_95(_concat([r.tables.must_served for r in results], MUST_SCHEMA)),
        "legs": _concat([r.tables.legs for r in results], LEGS_SCHEMA),
        "sites": sites,
    }


def scenario_list(results: Sequence[ScenarioResult]) -> list[dict[str, str]]:
    """``[{"name", "slug", "changes"}]`` per scenario that ran (``scenarios.json``)."""
    return [{"name": r.scenario.name, "slug": r.scenario.slug, "changes": describe(r.scenario)} for r in results]


def to_dict(problem: ScenarioProblem, solution: ScenarioRun) -> dict[str, Any]:
    """JSON-safe document of a run: ``scenarios`` (names in order), ``results`` (one KPI dict per
    scenario that ran), ``unserved`` (scenarios that did not: name, reason, detail), ``stats``.
    Non-finite numbers become null."""
    return json_safe({
        "scenarios": [s.name for s in problem.scenarios],
        "results": [dict(r.kpis) for r in solution.results],
        "unserved": [{"scenario": u.item_id, "reason": u.reason, "detail": u.detail} for u in solution.unserved],
        "stats": solution.stats,
    }, nonfinite="null")


# ---------------------------------------------------------------------------------------------
# plots on a given Axes


def _result(solution: ScenarioRun, scenario: str) -> ScenarioResult:
    r = solution.result(scenario)
    if r is None:
        from optimizer.core.errors import InvalidInput
        raise InvalidInput("scenario", scenario, "no result for this scenario (it did not run)")
    return r


def _hourly(r: ScenarioResult) -> dict[tuple[str, int], int]:
    u = r.tables.usage.with_columns(pl.col("slot_start").str.slice(0, 2).cast(pl.Int64).alias("hour"))
    by = u.group_by(["site_id", "hour"]).agg(pl.col("persons").sum())
    return {(row["site_id"], row["hour"]): row["persons"] for row in by.iter_rows(named=True)}


def heatmap_rows(solution: ScenarioRun, scenario: str) -> tuple[list[str], list[str], set[str]]:
    """Rows of the two heatmaps of ``scenario``: sites with a slot quota (sorted by id); sites with
    only a daily quota, then the ``N_BUSIEST_OTHERS`` busiest other sites; the daily-quota ids."""
    peaks = _result(solution, scenario).tables.site_peaks
    slotted = peaks.filter(pl.col("slot_quota").is_not_null()).sort("site_id")["site_id"].to_list()
    others = (peaks.filter(pl.col("slot_quota").is_null() & (pl.col("daily_persons") > 0))
              .sort(["daily_quota", "daily_persons"], descending=[False, True], nulls_last=True))
    daily_q = others.filter(pl.col("daily_quota").is_not_null())["site_id"].to_list()
    busiest = others.filter(pl.col("daily_quota").is_null()).head(N_BUSIEST_OTHERS)["site_id"].to_list()
    return slotted, daily_q + busiest, set(daily_q)


def _draw_grid(ax: Axes, M: np.ndarray, rows: list[str], names: Mapping[str, str], marked: set[str], label: str,
               cmap: str, vmax: float, fmt: str) -> None:
    if not rows:
        ax.axis("off")
        ax.set_title(f"{label}: no sites")
        return
    im = ax.imshow(M, aspect="auto", cmap=cmap, vmin=0, vmax=vmax)
    ax.set_yticks(range(len(rows)), [f"{names.get(s, s)[:34]}{' *' if s in marked else ''}" for s in rows],
                  fontsize=8)
    ax.set_xticks(range(len(HOURS)), [f"{h:02d}" for h in HOURS], fontsize=8)
    for i in range(M.shape[0]):
        for j in range(M.shape[1]):
            v = M[i, j]
            if np.isfinite(v) and v > 0:
                ax.text(j, i, f"{v:.2f}" if fmt == "ratio" else f"{int(v)}", ha="center", va="center", fontsize=6,
                        color="white" if v > 0.6 * vmax else "black")
    ax.figure.colorbar(im, ax=ax, label=label, fraction=0.03)
    ax.set_xlabel("hour of entry")


def plot_slot_utilisation(problem: ScenarioProblem, solution: ScenarioRun, ax: Axes, scenario: str) -> Axes:
    """Site x hour heatmap of ``scenario``: persons entering in the hour / slot quota, for the sites
    with a slot quota. Draws on ``ax`` (and its colour bar on ``ax.figure``); writes no file."""
    r = _result(solution, scenario)
    top, _, daily_q = heatmap_rows(solution, scenario)
    cell = _hourly(r)
    quota = {row["site_id"]: row["slot_quota"] for row in r.tables.site_peaks.iter_rows(named=True)}
    names = {row["site_id"]: row["site_name"] for row in r.tables.site_peaks.iter_rows(named=True)}
    M = (np.array([[cell.get((s, h), 0) / quota[s] if quota[s] else np.nan for h in HOURS] for s in top])
         if top else np.zeros((0, len(HOURS))))
    _draw_grid(ax, M, top, names, daily_q, "slot-quota utilisation", "magma_r",
               max(1.0, float(np.nanmax(M)) if M.size else 1.0), "ratio")
    ax.set_title(f"{scenario}: site x hour (* = daily quota only)")
    return ax


def plot_entries_per_hour(problem: ScenarioProblem, solution: ScenarioRun, ax: Axes, scenario: str) -> Axes:
    """Site x hour heatmap of ``scenario``: persons entering per hour at the sites with only a daily
    quota (marked *) and the ``N_BUSIEST_OTHERS`` busiest other sites. Draws on ``ax``; writes no file."""
    r = _result(solution, scenario)
    _, bottom, daily_q = heatmap_rows(solution, scenario)
    cell = _hourly(r)
    names = {row["site_id"]: row["site_name"] for row in r.tables.site_peaks.iter_rows(named=True)}
    M = (np.array([[cell.get((s, h), 0) for h in HOURS] for s in bottom], dtype=float)
         if bottom else np.zeros((0, len(HOURS))))
    _draw_grid(ax, M, bottom, names, daily_q, "persons entering per hour", "Blues",
               float(M.max()) if M.size and M.max() > 0 else 1.0, "count")
    return ax


def plot_unserved_by_site(problem: ScenarioProblem, solution: ScenarioRun, ax: Axes) -> Axes:
    """Grouped bars: unserved must-visits per site, one bar colour per scenario. Draws on ``ax``."""
    unserved = run_tables(solution.results)["unserved_by_site"]
    scenarios = [r.scenario.name for r in solution.results]
    sites = sorted(set(unserved["site_id"].to_list())) if not unserved.is_empty() else []
    if not sites:
        ax.text(0.5, 0.5, "every must-visit served in every scenario", ha="center", va="center")
        ax.axis("off")
    else:
        agg = unserved.group_by(["scenario", "site_id"]).agg(pl.col("must_visits").sum())
        val = {(r["scenario"], r["site_id"]): r["must_visits"] for r in agg.iter_rows(named=True)}
        width = 0.8 / max(1, len(scenarios))
        for k, sc in enumerate(scenarios):
            ax.bar([i + k * width for i in range(len(sites))], [val.get((sc, s), 0) for s in sites], width,
                   label=sc)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(sites))], sites, rotation=30, ha="right")
        ax.set_ylabel("unserved must-visits (groups)")
        ax.legend(fontsize=7, ncol=2)
    ax.set_title("Unserved must-visits by site across scenarios")
    return ax


# ---------------------------------------------------------------------------------------------
# SVG map


def _colour(u: float) -> str:
    import matplotlib
    cm = matplotlib.colormaps["RdYlGn_r"]
    r, g, b, _ = cm(min(1.0, max(0.0, u)))
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


LABEL_FONT_PX = 10
LABEL_CHAR_PX = 0.6 * LABEL_FONT_PX
"""Estimated width of one label character (sans-serif, px) for placing labels without collisions."""


def _place_labels(items: Sequence[tuple[float, float, float, str]], width: int, height: int,
                  taken: list[tuple[float, float, float, float]]) -> list[tuple[float, float, str, str]]:
    """Greedy label placement: for each (x, y, radius, text) in priority order, the first of right,
    left, above, below and the four diagonals whose box stays inside the picture and overlaps no placed label or circle in
    ``taken`` (boxes x0, y0, x1, y1); a label with no free place is left out. Returns (x, y, anchor, text)."""
    placed = []
    for x, y, rad, text in items:
        w, h = LABEL_CHAR_PX * len(text), LABEL_FONT_PX + 2
        d = 0.7 * rad + 2
        for (bx, by, anchor) in ((x + rad + 2, y - h / 2, "start"), (x - rad - 2 - w, y - h / 2, "end"),
                                 (x - w / 2, y - rad - 2 - h, "middle"), (x - w / 2, y + rad + 2, "middle"),
                                 (x + d, y - d - h, "start"), (x + d, y + d, "start"),
                                 (x - d - w, y - d - h, "end"), (x - d - w, y + d, "end")):
            box = (bx, by, bx + w, by + h)
            if box[0] < 1 or box[1] < 18 or box[2] > width - 1 or box[3] > height - 1:
                continue
            if any(not (box[2] < o[0] or box[0] > o[2] or box[3] < o[1] or box[1] > o[3]) for o in taken):
                continue
            taken.append(box)
            tx = {"start": bx, "end": bx + w, "middle": bx + w / 2}[anchor]
            placed.append((tx, by + h - 3, anchor, text))
            break
    return placed


def map_svg(sites: pl.DataFrame, peaks: pl.DataFrame, legs: pl.DataFrame, bbox: tuple[float, float, float, float]
            | None = None, width: int = 520, title: str = "", roads: Sequence[tuple[str, str]] = (),
            closed_roads: Sequence[tuple[str, str]] = ()) -> str:
    """An inline SVG of sites inside ``bbox`` (all sites if None) coloured by utilisation, the road
    network (``roads``: site-id pairs, thin grey straight lines), the ``closed_roads`` (thick red
    dashes) and the ``N_LEGS`` busiest legs with both ends inside. Site names are placed so that they
    neither overlap each other nor leave the picture (a name with no free place is left out; the
    circle's tooltip still names it)."""
    present = set(peaks["site_id"].to_list())
    # a POI missing from this scenario's peaks is a site another scenario added: not drawn here
    pos = {r["site_id"]: (r["lon"], r["lat"], r["name_en"]) for r in sites.iter_rows(named=True)
           if not r["is_poi"] or r["site_id"] in present}
    full_region = bbox is None
    if bbox is None:
        lons = [p[0] for p in pos.values()]
        lats = [p[1] for p in pos.values()]
        pad_lon, pad_lat = 0.05 * (max(lons) - min(lons) or 1), 0.05 * (max(lats) - min(lats) or 1)
        bbox = (min(lons) - pad_lon, max(lons) + pad_lon, min(lats) - pad_lat, max(lats) + pad_lat)
    x0, x1, y0, y1 = bbox
    kx = math.cos(math.radians((y0 + y1) / 2))
    height = int(width * (y1 - y0) / ((x1 - x0) * kx))

    def xy(sid: str) -> tuple[float, float]:
        lon, lat, _ = pos[sid]
        return (lon - x0) / (x1 - x0) * width, (y1 - lat) / (y1 - y0) * height

    inside = {s for s, (lon, lat, _) in pos.items() if x0 <= lon <= x1 and y0 <= lat <= y1}
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" style="background:#f7f7f2;border:1px solid #ccc" '
             f'font-family="sans-serif">'),
             f'<text x="6" y="14" font-size="12" font-weight="bold">{html.escape(title)}</text>']
    closed = {tuple(sorted(r)) for r in closed_roads}
    for a, b in sorted({tuple(sorted(r)) for r in roads} - closed):
        if a in pos and b in pos and (a in inside or b in inside):
            (ax_, ay), (bx, by) = xy(a), xy(b)
            parts.append(f'<line x1="{ax_:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" stroke="#b5b5b5" '
                         f'stroke-width="0.8"/>')
    top = legs.filter(pl.col("a").is_in(list(inside)) & pl.col("b").is_in(list(inside))) \
        .sort("persons", descending=True).head(N_LEGS)
    pmax = max(top["persons"].to_list(), default=1) or 1
    for r in top.iter_rows(named=True):
        (ax_, ay), (bx, by) = xy(r["a"]), xy(r["b"])
        w = 0.8 + 7.0 * r["persons"] / pmax
        parts.append(f'<line x1="{ax_:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" stroke="#3366aa" '
                     f'stroke-opacity="0.55" stroke-width="{w:.1f}"><title>{html.escape(r["a"])} - '
                     f'{html.escape(r["b"])}: {r["persons"]} persons</title></line>')
    for a, b in sorted(closed):
        if a in pos and b in pos:
            (ax_, ay), (bx, by) = xy(a), xy(b)
            parts.append(f'<line x1="{ax_:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" stroke="#d00000" '
                         f'stroke-width="3.5" stroke-dasharray="7 4" class="closed-road"><title>closed road: '
                         f'{html.escape(pos[a][2])} - {html.escape(pos[b][2])}</title></line>')
    pk = {r["site_id"]: r for r in peaks.iter_rows(named=True)}
    dmax = max([r["daily_persons"] for r in pk.values()] + [1])
    circles: list[tuple[float, float, float, str, float]] = []  # x, y, radius, label, priority
    for sid in sorted(inside):
        x, y = xy(sid)
        name = pos[sid][2]
        r = pk.get(sid)
        if r is None:  # hub
            parts.append(f'<rect x="{x - 2:.1f}" y="{y - 2:.1f}" width="4" height="4" fill="#888">'
                         f'<title>{html.escape(name)} (hub)</title></rect>')
            continue
        util = r["peak_slot_util"] if r["peak_slot_util"] is not None else r["daily_util"]
        rad = 4 + 10 * math.sqrt(r["daily_persons"] / dmax)
        tip = f"{name}: {r['daily_persons']} persons/day"
        if r.get("closed"):
            fill, tip = "#000000", tip + " (closed)"
        elif util is not None:
            fill, tip = _colour(util), tip + f", peak utilisation {util:.0%}"
        else:
            fill = "#bbbbbb"
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{rad:.1f}" fill="{fill}" fill-opacity="0.85" '
                     f'stroke="#333" stroke-width="0.6"><title>{html.escape(tip)}</title></circle>')
        in_city = CITY_BBOX[0] <= pos[sid][0] <= CITY_BBOX[1] and CITY_BBOX[2] <= pos[sid][1] <= CITY_BBOX[3]
        if full_region and in_city:
            continue  # the old-town close-up labels these
        # every scenic site gets a label where there is room (_place_labels): quota and closed sites first
        prio = (2.0 if util is not None or r.get("closed") else 1.0) + r["daily_persons"] / dmax
        circles.append((x, y, rad, name, prio))
    taken = [(x - rad, y - rad, x + rad, y + rad) for x, y, rad, _, _ in circles]
    order = [(x, y, rad, name) for x, y, rad, name, _ in sorted(circles, key=lambda c: -c[4])]
    for tx, ty, anchor, text in _place_labels(order, width, height, taken):
        parts.append(f'<text x="{tx:.1f}" y="{ty:.1f}" font-size="{LABEL_FONT_PX}" text-anchor="{anchor}" '
                     f'paint-order="stroke" stroke="#f7f7f2" stroke-width="2.5">{html.escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# HTML


def _png(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _table(df: pl.DataFrame) -> str:
    def fmt(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:,.3g}" if abs(v) < 10 else f"{v:,.1f}"
        return html.escape(str(v))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{fmt(v)}</td>" for v in row) + "</tr>" for row in df.iter_rows())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CSS = """body{font-family:"Noto Sans","Noto Sans CJK SC",sans-serif;margin:20px;color:#222;max-width:1500px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#eee;font-weight:600}td:first-child,th:first-child{text-align:left}thead th{white-space:normal;
vertical-align:bottom;min-width:5em}tbody th{text-align:left;white-space:nowrap}.scroll{overflow-x:auto;max-width:100%}
h2{margin-top:28px;border-bottom:1px solid #ccc}.maps{display:flex;gap:12px;flex-wrap:wrap}img{max-width:100%}
.note{color:#555;font-size:12px}.headlines li{margin:4px 0;font-size:15px}"""


def _kpi_value(column: str, v: Any) -> str:
    if v is None:
        return ""
    if column in PERCENT_KPIS or column.startswith("peak_util_"):
        return f"{100 * float(v):.0f}"
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return html.escape(str(v))


def kpi_html_table(kpis: pl.DataFrame, names: Mapping[str, str]) -> str:
    """The KPI table side by side: one column per scenario, one row per KPI with a readable header
    (``kpi_label``); fractions of a quota as percentages."""
    scen = kpis["scenario"].to_list()
    head = "<th></th>" + "".join(f"<th scope='col'>{html.escape(str(n))}</th>" for n in scen)
    body = []
    for c in kpis.columns:
        if c == "scenario":
            continue
        vals = kpis[c].to_list()
        body.append(f"<tr><th scope='row'>{html.escape(kpi_label(c, names))}</th>"
                    + "".join(f"<td>{_kpi_value(c, v)}</td>" for v in vals) + "</tr>")
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def html_report(problem: ScenarioProblem, solution: ScenarioRun, images: Mapping[str, bytes]) -> str:
    """One self-contained HTML page of the run (see the module docstring).

    Opens with one headline per scenario family (``headlines``), then the KPIs side by side with
    readable headers (``kpi_html_table``), and per scenario the maps with the road network, its
    closed roads in red and site names that do not collide (``map_svg``).

    ``images``: PNG bytes the caller rendered from the plots: ``"unserved_by_site"``
    (``plot_unserved_by_site``) and ``"heatmap_<slug>"`` per scenario (``plot_slot_utilisation``
    above ``plot_entries_per_hour``); a missing image is left out.
    """
    t = run_tables(solution.results)
    meta = scenario_list(solution.results)
    kpis = t["kpis"].select([c for c in KPI_SHOWN if c in t["kpis"].columns]
                            + [c for c in t["kpis"].columns if c.startswith("peak_util_")])
    net = problem.network
    names_en = {s.id: s.name_en for s in net.sites}
    for r in t["sites"].iter_rows(named=True):
        names_en.setdefault(r["site_id"], r["name_en"])
    lines = headlines([r.kpis for r in solution.results],
                      {s.id: (s.name_en, s.name_zh) for s in net.sites})
    roads = [(r.a, r.b) for r in net.roads]
    scenarios = {r.scenario.name: r.scenario for r in solution.results}
    max95 = t["max_scale_95"]
    if not max95.is_empty():
        max95 = max95.pivot(on="family", index="site_id", values="max_scale_95").sort("site_id")
        max95 = max95.with_columns(pl.Series("site_id", [names_en.get(x, x) for x in max95["site_id"].to_list()]))
        max95 = max95.rename({"site_id": "Must-see site (columns: scenario family, largest scale)"})
    un_img = images.get("unserved_by_site")
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Lhasa scenario report</title>",
             f"<style>{CSS}</style></head><body><h1>Lhasa tour scenarios</h1>",
             "<h2>In one line</h2><ul class='headlines'>"
             + "".join(f"<li>{html.escape(h['en'])}<br><span class='note'>{html.escape(h['zh'])}</span></li>"
                       for h in lines) + "</ul>",
             ("<p class='note'>Served = a route with every original must-visit visited. Missed must-visits by "
             "reason: site closed by the scenario, no open road, opening hours, entry quota full (every reachable "
             "slot), no time left in the day, outside the group's zone. Busiest slot = persons entering in the "
             "busiest entry slot / the slot quota. Rules broken must be 0 (independent verifier).</p>"),
             "<h2>Key figures, side by side</h2>", kpi_html_table(kpis, names_en),
             "<h2>Scenarios</h2><ul>" + "".join(f"<li><b>{html.escape(m['name'])}</b>: {html.escape(m['changes'])}"
                                                  "</li>" for m in meta) + "</ul>"]
    if solution.unserved:
        parts += ["<h2>Scenarios that did not run</h2><ul>"
                  + "".join(f"<li><b>{html.escape(u.item_id)}</b>: {html.escape(u.reason)} "
                            f"({html.escape(u.detail)})</li>" for u in solution.unserved) + "</ul>"]
    parts += ["<h2>Unserved must-visits by site</h2>",
              f"<img src='{_png(un_img)}' alt='unserved by site'>" if un_img is not None else "",
              "<h2>Largest demand scale with &ge; 95 % of must-visit groups served</h2>",
              ("<p class='note'>Per scenario family (a demand_scale sweep, or one scenario): the largest scale "
              "tested at which at least 95 % of the groups that must see the site get it; empty = at none of "
              "the scales tested. Only meaningful across a sweep.</p>"), _table(max95)]
    for m in meta:
        peaks = t["site_peaks"].filter(pl.col("scenario") == m["name"])
        legs_m = t["legs"].filter(pl.col("scenario") == m["name"])
        img = images.get(f"heatmap_{m['slug']}")
        sc = scenarios.get(m["name"])
        closed = sc.closed_roads if sc is not None else ()
        parts += [f"<h2>{html.escape(m['name'])}</h2><p class='note'>{html.escape(m['changes'])}</p>",
                  "<div class='maps'>", map_svg(t["sites"], peaks, legs_m, None, 620, "Lhasa region", roads, closed),
                  map_svg(t["sites"], peaks, legs_m, CITY_BBOX, 620, "Old town", roads, closed), "</div>",
                  ("<p class='note'>Circles: green to red = peak utilisation of a quota (0 to 100 %), grey = no "
                  "quota, black = closed; size = persons/day. Blue lines: the 20 busiest site-to-site legs, width "
                  "= persons. Thin grey lines: roads; red dashes: roads closed by the scenario. Squares: hubs. "
                  "Hover a circle for its name when there was no room for a label.</p>"),
                  f"<img src='{_png(img)}' alt='heatmap {html.escape(m['name'])}'>" if img is not None else ""]
    parts.append("</body></html>")
    return "\n".join(parts)


__all__ = ["CITY_BBOX", "KPI_COLUMNS", "KPI_LABELS", "KPI_SHOWN", "N_BUSIEST_OTHERS", "N_LEGS", "REASONS",
           "SERVED_SHARE", "headlines", "heatmap_rows", "html_report", "kpi_html_table", "kpi_label", "kpi_table",
           "legs", "map_svg", "max_scale_95", "plot_entries_per_hour", "plot_slot_utilisation", "plot_unserved_by_site", "run_tables", "scenario_kpis", "scenario_list",
           "scenario_tables", "to_dict"]

"""Siting reports: ``siting_to_dict`` (the ``siting.json`` document and the API answer), tables
(polars) and plots drawn on a matplotlib ``Axes`` the caller passes (nothing is written here).

``siting_to_dict(problem, solution)`` keys: ``kind`` (``oxygen`` | ``charger``, else the model
``mclp`` | ``pmedian`` | ``frlm`` | ``cfrlm``), ``model``, ``p``, ``chosen``, ``existing_chosen``,
``covered`` (demand covered / flow refuelled, in ``unit``; p-median: demand assigned),
``total``, ``covered_pct``, ``unit``, ``status``, ``objective``, ``bound``, ``gap``, ``backend``,
``wall_s`` (seconds of the whole solve, curve included), ``marginal`` (p, objective, bound,
covered_pct, gain over p - 1, status, chosen, wall_s), ``params``, ``stations`` (one per chosen
station: ``site_id``, ``existing``, and for MCLP the ``demand_sites`` it serves - each covered
demand point counted once, at its nearest chosen station - with their ``demand`` summed; for
FRLM the ``paths`` through it that are refuelled), ``detail`` (per demand site or path),
``unserved`` (item_id, reason, detail) and ``stats``. Non-finite numbers become text
(``json_safe``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from optimizer.core.network import Network
from optimizer.core.serialize import json_safe
from optimizer.stations.siting import CoverageProblem, FlowProblem, PMedianProblem, SitingSolution

__all__ = [
    "detail_table",
    "marginal_table",
    "plot_marginal",
    "plot_siting_map",
    "siting_to_dict",
    "station_weights",
]


def _kind(problem: Any, solution: SitingSolution) -> str:
    return problem.station_kind or solution.model


def _covered_amount(problem: Any, solution: SitingSolution) -> float:
    if not solution.has_solution:
        return 0.0
    if isinstance(problem, PMedianProblem):
        return float(sum(problem.demand[i] for i, j in enumerate(solution.assignment) if j >= 0))
    return float(solution.stats.objective or 0.0)


def _pct(x: float | None, total: float) -> float | None:
    if x is None:
        return None
    return 100.0 * x / total if total > 0 else 0.0


def marginal_table(problem: Any, solution: SitingSolution) -> pl.DataFrame:
    """One row per p of the marginal curve: p, objective, bound, covered_pct, gain, status,
    stations (space-separated), wall_s. Empty without a curve."""
    rows: dict[str, list] = {k: [] for k in ("p", "objective", "bound", "covered_pct", "gain", "status",
                                             "stations", "wall_s")}
    prev = 0.0
    for pt in solution.marginal:
        obj = pt.objective
        rows["p"].append(pt.p)
        rows["objective"].append(obj)
        rows["bound"].append(pt.bound)
        rows["covered_pct"].append(_pct(obj, problem.total) if not isinstance(problem, PMedianProblem) else None)
        rows["gain"].append(None if obj is None else obj - prev)
        rows["status"].append(pt.status)
        rows["stations"].append(" ".join(map(str, pt.chosen)))
        rows["wall_s"].append(pt.runtime_s)
        prev = obj if obj is not None else math.nan
    schema = {"p": pl.Int64, "objective": pl.Float64, "bound": pl.Float64, "covered_pct": pl.Float64,
              "gain": pl.Float64, "status": pl.String, "stations": pl.String, "wall_s": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def detail_table(problem: Any, solution: SitingSolution) -> pl.DataFrame:
    """Per demand point (MCLP, p-median): site_id, demand, covered, nearest_station, minutes
    (distance to it, problem units); per path (FRLM): origin, destination, km, flow, refuelled
    (share). Empty without a solution."""
    if isinstance(problem, FlowProblem):
        cov = solution.covered or (0.0,) * len(problem.paths)
        return pl.DataFrame({
            "origin": [str(q.nodes[0]) for q in problem.paths],
            "destination": [str(q.nodes[-1]) for q in problem.paths],
            "km": [q.length_km for q in problem.paths], "flow": [q.flow for q in problem.paths],
            "refuelled": [float(c) for c in cov]},
            schema={"origin": pl.String, "destination": pl.String, "km": pl.Float64, "flow": pl.Float64,
                    "refuelled": pl.Float64})
    schema = {"site_id": pl.String, "demand": pl.Float64, "covered": pl.Boolean, "nearest_station": pl.String,
              "minutes": pl.Float64}
    if not solution.has_solution or problem.distance is None:
        return pl.DataFrame({k: [] for k in schema}, schema=schema)
    js = [problem.candidates.index(c) for c in solution.chosen]
    rows: dict[str, list] = {k: [] for k in schema}
    for i, sid in enumerate(problem.demand_ids):
        tt = problem.distance[i, js]
        j = int(np.argmin(tt))
        covered = (solution.covered[i] > 0.5) if solution.covered else solution.assignment[i] >= 0
        for k, v in (("site_id", sid), ("demand", float(problem.demand[i])), ("covered", bool(covered)),
                     ("nearest_station", str(solution.chosen[j])), ("minutes", float(tt[j]))):
            rows[k].append(v)
    return pl.DataFrame(rows, schema=schema)


def _stations(problem: Any, solution: SitingSolution) -> list[dict[str, Any]]:
    if not solution.has_solution:
        return []
    out = [{"site_id": c, "existing": c in problem.existing} for c in solution.chosen]
    by_id = {c: d for c, d in zip(solution.chosen, out)}
    if isinstance(problem, FlowProblem):
        for d in out:
            d["paths"] = []
        for q, pth in enumerate(problem.paths):
            if solution.covered[q] > 1e-9:
                for v in pth.nodes:
                    if v in by_id:
                        by_id[v]["paths"].append(pth.id)
        return out
    for d in out:
        d["demand_sites"], d["demand"] = [], 0.0
    js = [problem.candidates.index(c) for c in solution.chosen]
    for i, sid in enumerate(problem.demand_ids):
        if isinstance(problem, PMedianProblem):
            j = solution.assignment[i]
            if j < 0:
                continue
            station = problem.candidates[j]
        else:
            if solution.covered[i] <= 0.5:
                continue
            if problem.distance is not None:
                station = solution.chosen[int(np.argmin(problem.distance[i, js]))]
            else:
                station = next(c for c, j in zip(solution.chosen, js) if problem.coverage_matrix()[i, j])
        by_id[station]["demand_sites"].append(sid)
        by_id[station]["demand"] += float(problem.demand[i])
    return out


def _params(problem: Any, solution: SitingSolution) -> dict[str, Any]:
    p_max = max((pt.p for pt in solution.marginal), default=problem.p)
    if isinstance(problem, FlowProblem):
        return {"range_km": problem.nominal_range_km if problem.nominal_range_km is not None else problem.range_km,
                "temperature_c": problem.temperature_c, "elevation_m": problem.elevation_m,
                "effective_range_km": problem.range_km, "candidates": len(problem.candidates),
                "paths": len(problem.paths), "p_max": p_max}
    return {"threshold_min": getattr(problem, "threshold", None), "candidates": len(problem.candidates),
            "demand_sites": int(problem.demand.size), "p_max": p_max}


def siting_to_dict(problem: CoverageProblem | PMedianProblem | FlowProblem, solution: SitingSolution) -> dict[str, Any]:
    """The siting as a JSON-safe dict (keys in the module docstring)."""
    total = problem.total
    covered = _covered_amount(problem, solution)
    st = solution.stats
    marginal = marginal_table(problem, solution)
    detail = detail_table(problem, solution)
    doc = {
        "kind": _kind(problem, solution), "model": solution.model, "p": problem.p,
        "chosen": list(solution.chosen),
        "existing_chosen": [c for c in solution.chosen if c in problem.existing],
        "covered": covered, "total": total, "covered_pct": _pct(covered, total), "unit": problem.unit,
        "status": st.status, "objective": st.objective, "bound": st.bound, "gap": st.gap,
        "backend": solution.backend, "wall_s": st.runtime_s,
        "marginal": [{"p": r["p"], "objective": r["objective"], "bound": r["bound"],
                      "covered_pct": r["covered_pct"], "gain": r["gain"], "status": r["status"],
                      "chosen": r["stations"].split(), "wall_s": r["wall_s"]} for r in marginal.iter_rows(named=True)],
        "params": _params(problem, solution),
        "stations": _stations(problem, solution),
        "detail": _detail_records(problem, solution, detail),
        "unserved": [{"item_id": u.item_id, "reason": u.reason, "detail": u.detail} for u in solution.unserved],
        "stats": st,
    }
    return json_safe(doc)


def _detail_records(problem: Any, solution: SitingSolution, detail: pl.DataFrame) -> list[dict[str, Any]]:
    if isinstance(problem, FlowProblem):
        if solution.model == "frlm":
            detail = detail.with_columns(pl.col("refuelled") > 0.5)
        return detail.to_dicts()
    if problem.unit == "L/day":
        detail = detail.rename({"demand": "litres_day"})
    return detail.to_dicts()


# --------------------------------------------------------------------------------------------------
# plots


def station_weights(problem: Any) -> dict[str, float]:
    """Demand per site (MCLP, p-median) or EV round trips through each node (FRLM), for map sizes."""
    if isinstance(problem, FlowProblem):
        w: dict[str, float] = {}
        for q in problem.paths:
            for v in q.nodes:
                w[v] = w.get(v, 0.0) + q.flow
        return w
    return {sid: float(problem.demand[i]) for i, sid in enumerate(problem.demand_ids)}


def plot_marginal(problem: Any, solution: SitingSolution, ax: Any) -> Any:
    """Coverage (% of the total) against the number of stations p on ``ax``; the chosen p dotted.
    Returns ``ax``."""
    ps = [pt.p for pt in solution.marginal if pt.objective is not None]
    pct = [_pct(pt.objective, problem.total) for pt in solution.marginal if pt.objective is not None]
    ax.plot(ps, pct, marker="o")
    ax.axvline(problem.p, color="grey", ls=":", lw=1)
    ax.set_xlabel("stations p")
    ax.set_ylabel(f"covered, % of {problem.unit or 'demand'}")
    ax.set_title(f"{_kind(problem, solution)}: coverage vs number of stations (each p optimal)")
    ax.set_ylim(0, 101)
    ax.grid(alpha=0.3)
    return ax


def plot_siting_map(problem: Any, solution: SitingSolution, ax: Any, network: Network) -> Any:
    """Roads of ``network`` (grey), demand per site (blue, area ~ demand or flow) and the chosen
    stations (red stars, labelled) on ``ax`` (lon/lat). Returns ``ax``."""
    for r in network.roads:
        a, b = network.site(r.a), network.site(r.b)
        ax.plot([a.lon, b.lon], [a.lat, b.lat], color="lightgrey", lw=0.8, zorder=1)
    weights = station_weights(problem)
    wmax = max(weights.values(), default=0.0) or 1.0
    size = [10 + 300 * weights.get(s.id, 0.0) / wmax for s in network.sites]
    ax.scatter([s.lon for s in network.sites], [s.lat for s in network.sites], s=size, c="tab:blue", alpha=0.5,
               zorder=2, label="demand (size)")
    ch = [network.site(c) for c in solution.chosen if network.has_site(c)]
    ax.scatter([s.lon for s in ch], [s.lat for s in ch], s=120, marker="*", c="tab:red", zorder=3,
               label="chosen station")
    for s in ch:
        ax.annotate(s.id, (s.lon, s.lat), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    pct = _pct(_covered_amount(problem, solution), problem.total) or 0.0
    ax.set_title(f"{_kind(problem, solution)} stations, p = {problem.p}: {pct:.1f}% covered")
    ax.legend(loc="lower right", fontsize=8)
    return ax

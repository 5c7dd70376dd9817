"""``lhasa-ops stations site``: site oxygen stations or EV chargers for the demo day.

    lhasa-ops stations site --kind oxygen|charger --p N [--threshold-min 30] [--range-km 300]
        [--temperature-c -5] [--ev-share 0.2] [--min-path-km 0] [--backend cpsat|pulp]
        [--iterations 2000] [--out DIR]

Plans the embedded demo day (``instances/lhasa/demand_peak_day.csv``, ILS with
``max_iterations`` and seed 0), derives the oxygen demand or the EV flows from the plan
(``optimizer.stations``), solves the MCLP or FRLM for p = 1..p_max, prints the chosen sites and
the coverage and writes ``siting.json``, ``marginal.png`` (coverage vs p) and ``map.png``.
Exit codes: 0 success; 2 bad input (``error: <message>`` on stderr).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from api.cli.common import fail as _fail
from instances.loader import LHASA_DIR, load_lhasa
from optimizer.domain import InvalidInput, Network, TourProblem

DEFAULT_DEMAND = LHASA_DIR / "demand_peak_day.csv"

stations_app = typer.Typer(help="Site oxygen-supply stations (MCLP) and EV chargers (FRLM).",
                           no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)


def run_siting(kind: str, p: int, threshold_min: float = 30.0, range_km: float = 300.0,
               temperature_c: float = -5.0, ev_share: float = 0.2, min_path_km: float = 0.0,
               backend: str = "cpsat", iterations: int = 2000, p_max: int | None = None,
               network: Network | None = None, demand: Path | None = None) -> tuple[Any, Any, TourProblem]:
    """Plan the demo day and site ``kind``: (StationSiting, demand DataFrame or flows, problem).

    Raises ``InvalidInput`` naming the field for bad options.
    """
    from instances.demand import read_demand
    from optimizer.ils import StoppingCriterion
    from optimizer.stations.demand import ev_flows, oxygen_demand, site_chargers, site_oxygen
    from optimizer.tours import solve

    if kind not in ("oxygen", "charger"):
        raise InvalidInput("kind", kind, "must be 'oxygen' or 'charger'")
    if backend not in ("cpsat", "pulp", "mathopt"):
        raise InvalidInput("backend", backend, "must be 'cpsat', 'pulp' or 'mathopt'")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise InvalidInput("iterations", iterations, "must be an integer >= 0")
    net = network if network is not None else load_lhasa()
    groups = read_demand(demand or DEFAULT_DEMAND, net)
    problem = TourProblem(network=net, groups=groups)
    plan = solve(problem, StoppingCriterion(max_iterations=iterations), seed=0)
    if kind == "oxygen":
        df = oxygen_demand(problem, plan)
        return site_oxygen(net, df, p, threshold_min=threshold_min, backend=backend, p_max=p_max), df, problem
    flows = ev_flows(problem, plan, ev_share=ev_share, min_path_km=min_path_km)
    return (site_chargers(net, flows, p, range_km=range_km, temperature_c=temperature_c, backend=backend,
                          p_max=p_max), flows, problem)


def plot_marginal(res: Any, path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ps = [m["p"] for m in res.marginal]
    pct = [m["covered_pct"] for m in res.marginal]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(ps, pct, marker="o")
    ax.axvline(res.p, color="grey", ls=":", lw=1)
    ax.set_xlabel("stations p")
    ax.set_ylabel(f"covered, % of {res.unit}")
    ax.set_title(f"{res.kind}: coverage vs number of stations (each p optimal)")
    ax.set_ylim(0, 101)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_map(network: Network, res: Any, weights: dict[str, float], path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 6), dpi=100)
    for r in network.roads:
        a, b = network.site(r.a), network.site(r.b)
        ax.plot([a.lon, b.lon], [a.lat, b.lat], color="lightgrey", lw=0.8, zorder=1)
    wmax = max(weights.values(), default=0.0) or 1.0
    lon = [s.lon for s in network.sites]
    lat = [s.lat for s in network.sites]
    size = [10 + 300 * weights.get(s.id, 0.0) / wmax for s in network.sites]
    ax.scatter(lon, lat, s=size, c="tab:blue", alpha=0.5, zorder=2, label="demand (size)")
    ch = [network.site(c) for c in res.chosen]
    ax.scatter([s.lon for s in ch], [s.lat for s in ch], s=120, marker="*", c="tab:red", zorder=3,
               label="chosen station")
    for s in ch:
        ax.annotate(s.id, (s.lon, s.lat), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(f"{res.kind} stations, p = {res.p}: {res.covered_pct:.1f}% covered")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _weights(kind: str, data: Any) -> dict[str, float]:
    if kind == "oxygen":
        return dict(zip(data["site_id"].to_list(), data["litres_day"].to_list()))
    w: dict[str, float] = {}
    for q in data:
        for v in q.nodes:
            w[v] = w.get(v, 0.0) + q.flow
    return w


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


@stations_app.command("site")
def site(
    kind: str = typer.Option(..., "--kind", help="oxygen | charger"),
    p: int = typer.Option(..., "--p", help="number of stations"),
    threshold_min: float = typer.Option(30.0, "--threshold-min", help="oxygen: coverage threshold, road minutes"),
    range_km: float = typer.Option(300.0, "--range-km", help="charger: nominal EV range, km"),
    temperature_c: float = typer.Option(-5.0, "--temperature-c", help="charger: ambient temperature for derating"),
    ev_share: float = typer.Option(0.2, "--ev-share", help="charger: share of tour vehicles that are EVs"),
    min_path_km: float = typer.Option(0.0, "--min-path-km", help="charger: drop O-D legs shorter than this"),
    backend: str = typer.Option("cpsat", "--backend", help="cpsat | pulp"),
    iterations: int = typer.Option(2000, "--iterations", help="ILS iterations for the demo-day plan"),
    p_max: int | None = typer.Option(None, "--p-max", help="marginal curve up to this p (default max(p, 10))"),
    out: Path = typer.Option(Path("out/stations"), "--out", help="output directory"),
) -> None:
    """Plan the demo day, derive demand, site stations; write siting.json, marginal.png, map.png."""
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} exists and is not a directory")
    console = Console(highlight=False, soft_wrap=True)
    try:
        net = load_lhasa()
        res, data, _ = run_siting(kind, p, threshold_min, range_km, temperature_c, ev_share, min_path_km,
                                  backend, iterations, p_max, network=net)
    except InvalidInput as e:
        _fail(str(e))
        return
    out.mkdir(parents=True, exist_ok=True)
    doc = res.to_dict()
    (out / "siting.json").write_text(json.dumps(_json_safe(doc), ensure_ascii=False, indent=2) + "\n",
                                     encoding="utf-8")
    plot_marginal(res, out / "marginal.png")
    plot_map(net, res, _weights(kind, data), out / "map.png")
    tag = {c: " (existing)" for c in res.existing_chosen}
    console.print(f"Kind             {res.kind}  ({res.backend}, {res.status}, {res.wall_s:.2f} s incl. curve)")
    if kind == "charger":
        console.print(f"Range            {res.params['range_km']:g} km nominal -> "
                      f"{res.params['effective_range_km']:.1f} km at {res.params['temperature_c']:g} degC, "
                      f"{res.params['elevation_m']:g} m; {res.params['paths']} O-D paths")
    else:
        console.print(f"Threshold        {res.params['threshold_min']:g} road minutes; "
                      f"{res.params['demand_sites']} demand sites")
    console.print(f"Chosen (p={res.p})     " + ", ".join(f"{c}{tag.get(c, '')}" for c in res.chosen))
    console.print(f"Covered          {res.covered:,.1f} / {res.total:,.1f} {res.unit} ({res.covered_pct:.1f}%)")
    curve = "  ".join(f"{m['p']}:{m['covered_pct']:.1f}%" for m in res.marginal)
    console.print(f"Marginal curve   {curve}")
    console.print(f"Outputs          {out}/ (siting.json, marginal.png, map.png)")

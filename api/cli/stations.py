"""``lhasa-ops stations``: ``site`` (oxygen stations, EV chargers) on any tour plan; ``charge`` and
``oxygen`` come from ``api.cli.station_ops`` and are registered here.

    lhasa-ops stations site --kind oxygen|charger --p N [--demand FILE | --plan plan.json]
        [--threshold-min 30] [--range-km 300] [--temperature-c -5] [--ev-share 0.2]
        [--min-path-km 0] [--backend cpsat|mathopt|pulp] [--iterations 2000] [--p-max N]
        [--seed 0] [--time-limit 120] [--out out/stations]

The demand comes from a tour plan: ``--plan`` (a ``plan.json`` of ``lhasa-ops plan``), ``--demand``
(a demand file, planned here with ``--iterations`` ILS iterations) or, with neither, the embedded
demo day. The use case is ``api.services.stations.site_stations`` (MCLP or FRLM for p and the
curve p = 1..p_max, checked by the independent verifier). Prints the chosen sites, the coverage
and the verifier's verdict; writes ``siting.json`` (``optimizer.stations.report_siting``:
stations with the demand sites each serves, coverage, objective, bound, gap, status, unserved),
``marginal.png`` (coverage vs p) and ``map.png``.
Exit codes: 0 success; 2 bad input (``error: <message>`` on stderr); 1 a verifier violation.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from api.cli import station_ops
from api.cli.common import fail as _fail
from api.services import stations as service
from optimizer.core.errors import InvalidInput
from optimizer.core.serialize import json_safe

stations_app = typer.Typer(help="Site oxygen-supply stations (MCLP) and EV chargers (FRLM); charging and oxygen "
                                "replenishment plans.",
                           no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)

SITING_FILES = ("siting.json", "marginal.png", "map.png")


def _save_plots(outcome: service.SitingOutcome, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from optimizer.stations.report_siting import plot_marginal, plot_siting_map

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    plot_marginal(outcome.problem, outcome.solution, ax)
    fig.tight_layout()
    fig.savefig(out / "marginal.png")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 6), dpi=100)
    plot_siting_map(outcome.problem, outcome.solution, ax, outcome.tour_problem.network)
    fig.tight_layout()
    fig.savefig(out / "map.png")
    plt.close(fig)


@stations_app.command("site")
def site(
    kind: str = typer.Option(..., "--kind", help="oxygen (MCLP, L/day covered) | charger (FRLM, EV round trips)"),
    p: int = typer.Option(..., "--p", help="number of stations to open"),
    demand: Path | None = typer.Option(None, "--demand", help="demand file (.csv, .parquet, .json) to plan and "
                                                               "site for; default: the embedded demo day"),
    plan: Path | None = typer.Option(None, "--plan", help="a plan.json written by 'lhasa-ops plan' (instead of "
                                                           "--demand)"),
    threshold_min: float = typer.Option(30.0, "--threshold-min", help="oxygen: coverage threshold, road minutes"),
    range_km: float = typer.Option(300.0, "--range-km", help="charger: nominal EV range, km"),
    temperature_c: float = typer.Option(-5.0, "--temperature-c", help="charger: ambient temperature for derating, degC"),
    ev_share: float = typer.Option(0.2, "--ev-share", help="charger: share of tour vehicles that are EVs, 0..1"),
    min_path_km: float = typer.Option(0.0, "--min-path-km", help="charger: drop O-D legs shorter than this, km"),
    backend: str = typer.Option("cpsat", "--backend", help="cpsat | mathopt | pulp"),
    iterations: int = typer.Option(service.DEFAULT_ITERATIONS, "--iterations",
                                   help="ILS iterations of the tour plan (demo day or --demand)"),
    p_max: int | None = typer.Option(None, "--p-max", help="marginal curve up to this p (default max(p, 10))"),
    seed: int = typer.Option(0, "--seed", help="seed of the tour plan and the solvers"),
    time_limit: float = typer.Option(120.0, "--time-limit", help="wall-clock limit of plan + siting, seconds"),
    out: Path = typer.Option(Path("out/stations"), "--out", help="output directory"),
) -> None:
    """Derive demand from a tour plan, site stations; write siting.json, marginal.png, map.png."""
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} exists and is not a directory")
    console = Console(highlight=False, soft_wrap=True)
    try:
        inp = service.SitingInput(kind=kind, p=p, threshold_min=threshold_min, range_km=range_km,
                                  temperature_c=temperature_c, ev_share=ev_share, min_path_km=min_path_km,
                                  backend=backend, p_max=p_max, iterations=iterations, seed=seed,
                                  time_limit_s=time_limit)
        outcome = service.site_stations(inp, demand=demand, plan=plan)
    except InvalidInput as e:
        _fail(str(e))
    except RuntimeError as e:  # the verifier rejected the siting (a solver bug): no outputs
        _fail(f"verifier: {e}", code=1)
    doc = outcome.document
    out.mkdir(parents=True, exist_ok=True)
    (out / "siting.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n",
                                     encoding="utf-8")
    _save_plots(outcome, out)
    prm = doc["params"]
    tag = {c: " (existing)" for c in doc["existing_chosen"]}
    console.print(f"Source           {doc['source']}")
    console.print(f"Kind             {doc['kind']}  ({doc['backend']}, {doc['status']}, {doc['wall_s']:.2f} s incl. "
                  f"curve)")
    if doc["kind"] == "charger":
        console.print(f"Range            {prm['range_km']:g} km nominal -> {prm['effective_range_km']:.1f} km at "
                      f"{prm['temperature_c']:g} degC, {prm['elevation_m']:g} m; {prm['paths']} O-D paths")
    else:
        console.print(f"Threshold        {prm['threshold_min']:g} road minutes; {prm['demand_sites']} demand sites")
    console.print(f"Chosen (p={doc['p']})     " + ", ".join(f"{c}{tag.get(c, '')}" for c in doc["chosen"]))
    console.print(f"Covered          {doc['covered']:,.1f} / {doc['total']:,.1f} {doc['unit']} "
                  f"({doc['covered_pct']:.1f}%)")
    gap = doc["gap"]
    console.print(f"Objective        {doc['objective']:,.1f}, bound {doc['bound']:,.1f}"
                  + (f", gap {100 * gap:.4f}%" if isinstance(gap, float) else ""))
    curve = "  ".join(f"{m['p']}:{m['covered_pct']:.1f}%" if m["covered_pct"] is not None else f"{m['p']}:-"
                      for m in doc["marginal"])
    console.print(f"Marginal curve   {curve}")
    reasons = Counter(u["reason"] for u in doc["unserved"])
    n_left = len(doc["unserved"])
    what = ("path" if doc["kind"] == "charger" else "demand site") + ("" if n_left == 1 else "s")
    console.print(f"Unserved         {n_left} {what}"
                  + (" (" + ", ".join(f"{r}: {n}" for r, n in sorted(reasons.items())) + ")" if reasons else ""))
    console.print(f"Verifier         {doc['verifier']} ({len(outcome.violations)} violations)")
    console.print(f"Outputs          {out}/ ({', '.join(SITING_FILES)})")


# ``charge`` and ``oxygen`` live in api.cli.station_ops; registered here, explicitly.
stations_app.command("charge")(station_ops.charge)
stations_app.command("oxygen")(station_ops.oxygen)

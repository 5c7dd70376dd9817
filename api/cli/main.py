"""Command line of lhasa-ops (typer + rich).

    lhasa-ops plan  [--demand FILE] [--time-limit S] [--iterations N] [--seed N] [--out DIR]
    lhasa-ops sites
    lhasa-ops serve [--host 127.0.0.1] [--port 8000]

``plan`` loads the embedded Lhasa network, reads a demand file (default: the embedded
``instances/lhasa/demand_peak_day.csv``), solves, checks the plan with the independent verifier,
prints a short summary and writes ``plan.json`` (the plan and the groups it was made for:
``api.services.tours.plan_document``, readable by ``load_plan`` and ``stations ... --plan``),
``visits.csv``, ``site_slot_usage.csv`` and ``routes.geojson``. Exit codes: 0 success; 1 the verifier
found violations (printed; the outputs are still written, for inspection); 2 bad input (demand file, option values), reported on stderr
as ``error: <message>``.
"""

from __future__ import annotations

import math
import sys
import threading
from collections import Counter
from pathlib import Path

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from api.cli import first_run
from api.cli.common import fail
from api.cli.lazy import LazyGroup
from api.services.tours import (
    DEFAULT_DEMAND,
    city_groups,
    lhasa_network,
    read_groups,
    solve_and_verify,
    write_outputs,
)
from optimizer.core.clock import fmt_clock
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion
from optimizer.core.warmup import spawned
from optimizer.tours import KERNELS as TOUR_KERNELS
from optimizer.tours import TourPlan, TourProblem, warm_up
from optimizer.tours.report import busiest_slots

BUSIEST_K = 5

app = typer.Typer(
    cls=LazyGroup,
    name="lhasa-ops",
    help="Tour-group routing for Lhasa: plan a day of routes under shared entry-slot quotas.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _out() -> Console:
    return Console(highlight=False, soft_wrap=False)


def _check_options(time_limit: float, iterations: int | None, seed: int) -> None:
    if not math.isfinite(time_limit) or time_limit <= 0:
        fail(f"--time-limit must be a positive number of seconds, got {time_limit:g}")
    if iterations is not None and iterations < 0:
        fail(f"--iterations must be an integer >= 0, got {iterations}")
    if seed < 0:
        fail(f"--seed must be an integer >= 0, got {seed}")


def _fmt_int(x: float) -> str:
    return f"{int(round(x)):,}"


def summary_lines(problem: TourProblem, plan: TourPlan) -> list[tuple[str, str]]:
    """The headline figures of a plan as (label, text) pairs."""
    k = plan.kpis
    groups = int(k.get("groups", len(problem.groups)))
    served = int(k.get("groups_served", 0))
    pct = 100.0 * served / groups if groups else 100.0
    partial = int(k.get("groups_partial", 0))
    unrouted = int(k.get("groups_unserved", 0))
    lines = [
        ("Groups served", f"{served} / {groups} ({pct:.1f}%)  partial {partial}, no route {unrouted}"),
        ("Visitors served",
         f"{_fmt_int(k.get('visitors_served', 0))} / {_fmt_int(k.get('visitors', 0))} persons"),
        ("Visits", f"{_fmt_int(k.get('visits', 0))}  travel {_fmt_int(k.get('total_travel_min', 0))} min, "
                   f"{_fmt_int(k.get('total_distance_km', 0))} km"),
        ("Score", f"{_fmt_int(k.get('total_score', 0))} total, "
                  f"{k.get('mean_score_per_visitor', 0.0):.1f} per visitor routed"),
        ("Mean wait", f"{k.get('mean_wait_min', 0.0):.1f} min per visit"),
    ]
    return lines


def unserved_lines(plan: TourPlan) -> list[tuple[str, str]]:
    """Unserved entries counted by reason, for must-visits and whole groups, and by site."""
    if not plan.unserved:
        return [("Unserved", "none")]
    must = Counter(u.reason for u in plan.unserved if u.site_id is not None)
    whole = Counter(u.reason for u in plan.unserved if u.site_id is None)
    sites = Counter(u.site_id for u in plan.unserved if u.site_id is not None)

    def counts(c: Counter) -> str:
        return ", ".join(f"{key} {n}" for key, n in sorted(c.items(), key=lambda kv: (-kv[1], str(kv[0]))))

    out = []
    if must:
        out.append(("Unserved must-visits", f"{sum(must.values())}: {counts(must)}"))
        top = sorted(sites.items(), key=lambda kv: (-kv[1], kv[0]))
        more = f", +{len(top) - 6} more" if len(top) > 6 else ""
        out.append(("  by site", counts(Counter(dict(top[:6]))) + more))
    if whole:
        out.append(("Unserved groups", f"{sum(whole.values())}: {counts(whole)}"))
    return out


DEFAULT_ITERATIONS = 5000


COMPILE_NOTE_AFTER_S = 1.0


def _warm_up_telling(console: Console) -> float:
    """``warm_up()``; when the output is not a terminal (no spinner shows), a line on stderr says what is
    happening if compilation takes longer than ``COMPILE_NOTE_AFTER_S``, so a piped first run is not silent.
    Nothing more when ``lhasa-ops`` said so already (``api.cli.launch``); a slow load from a filled cache
    (a busy machine) says "loading", not "compiling"."""
    if console.is_terminal or first_run.NOTE_SHOWN[0]:
        return warm_up()
    text = ("lhasa-ops: loading the compiled solver kernels from the Numba cache..." if first_run.kernels_cached() else
            "lhasa-ops: compiling the solver kernels (first run after an install: about 10 s on 2 cores; "
            "cached after)...")
    note = threading.Timer(COMPILE_NOTE_AFTER_S, lambda: print(text, file=sys.stderr, flush=True))
    note.daemon = True
    note.start()
    try:
        return warm_up()
    finally:
        note.cancel()


@app.command()
def plan(
    demand: Path | None = typer.Option(None, "--demand", help="Demand file (.csv, .parquet or .json); "
                                          "default: the embedded peak-day demo.", show_default=False),
    time_limit: float = typer.Option(30.0, "--time-limit", help="Wall-clock limit of the search, seconds "
                                     "(construction included)."),
    iterations: int | None = typer.Option(DEFAULT_ITERATIONS, "--iterations", help="Iteration budget (the "
                                             "time limit still applies); within it, a seed gives the same plan."),
    seed: int = typer.Option(0, "--seed", help="Random seed (integer >= 0)."),
    out: Path = typer.Option(Path("out"), "--out", help="Directory for the output files."),
    city: int | None = typer.Option(None, "--city", help="Plan a seeded city-scale day of this many parties "
                                    "(independent travellers and tour groups, ~4 visitors each; demand seed "
                                    "= --seed) instead of a demand file.", show_default=False),
) -> None:
    """Plan one day of tour-group routes; write plan.json, visits.csv, site_slot_usage.csv, routes.geojson."""
    _check_options(time_limit, iterations, seed)
    if city is not None and demand is not None:
        fail("give --demand or --city, not both")
    path = demand if demand is not None else DEFAULT_DEMAND
    if city is not None:
        path = Path(f"city_{city}_seed{seed}")
    if out.exists() and not out.is_dir():
        fail(f"--out {out} exists and is not a directory")
    console = _out()
    TOUR_KERNELS.start_workers()  # a cold cache: compile in worker processes while this one reads (if not yet)
    try:
        network = lhasa_network()
        groups = city_groups(network, city, seed=seed) if city is not None else read_groups(path, network)
        problem = TourProblem(network=network, groups=groups)
        stop = StoppingCriterion(max_runtime_s=time_limit, max_iterations=iterations)
    except InvalidInput as e:  # DemandError included; its message names file, row, field, value
        fail(str(e))
    except OSError as e:
        fail(f"{path}: {e.strerror or e}")

    with console.status("Compiling the solver kernels (first run after an install only)...", spinner="dots"):
        compile_s = _warm_up_telling(console)
    with console.status(f"Solving {len(groups)} groups (limit {time_limit:g} s)...", spinner="dots"):
        result, violations = solve_and_verify(problem, stop, seed=seed)
    try:
        paths = write_outputs(problem, result, out)
    except OSError as e:
        fail(f"cannot write outputs to {out}: {e.strerror or e}")

    rows = summary_lines(problem, result)
    busy = busiest_slots(problem, result, k=BUSIEST_K)
    pad = max([len(sid) for sid in busy["site_id"].to_list()] + [0])
    for i, row in enumerate(busy.iter_rows(named=True)):
        if row["slot_quota"] is not None:
            load = f"{row['persons']:,}/{row['slot_quota']:,} ({100 * row['utilisation']:.0f}%)"
        else:
            load = f"{row['persons']:,} (no slot quota)"
        rows.append(("Busiest slots" if i == 0 else "", f"{row['site_id']:<{pad}}  {row['slot_start']}  {load}"))
    rows += unserved_lines(result)
    rows.append(("Verifier", f"{len(violations)} violations" if violations else "0 violations (feasible)"))
    st = result.stats
    rows.append(("Solve", f"{st.runtime_s:.1f} s, {st.iterations:,} iterations, seed {st.seed}"))
    if compile_s >= 1.0:
        workers = spawned(TOUR_KERNELS.workers) if TOUR_KERNELS.workers else None
        how = f" waited for {workers.n} compile worker processes" if workers is not None else ""
        rows.append(("JIT compile", f"{compile_s:.1f} s{how} (first run after an install; cached after)"))
    rows.append(("Outputs", f"{out}/ ({', '.join(p.name for p in paths.values())})"))

    console.print(Text.assemble(("lhasa-ops plan", "bold"), f"  {path.name}: {len(groups)} groups, "
                                f"{network.n} sites, {problem.slot_min:g}-min entry slots"))
    width = max(len(label) for label, _ in rows) + 2
    for label, text in rows:
        console.print(Text.assemble((label.ljust(width), "bold"), text), soft_wrap=True)
    if violations:
        for v in violations[:50]:
            where = f" group={v.group_id} site={v.site_id}: "
            console.print(Text.assemble("  ", (v.kind, "red"), where, v.message))
        if len(violations) > 50:
            console.print(f"  ... {len(violations) - 50} more")
        raise typer.Exit(1)


@app.command()
def sites() -> None:
    """Print the sites of the embedded Lhasa network."""
    try:
        network = lhasa_network()
    except InvalidInput as e:
        fail(str(e))
    table = Table(title=f"Lhasa network: {network.n} sites", title_justify="left", box=box.SIMPLE_HEAD)
    for name, justify in (("id", "left"), ("name", "left"), ("kind", "left"), ("score", "right"),
                          ("visit", "right"), ("hours", "left"), ("quota day/slot", "right")):
        table.add_column(name, justify=justify, no_wrap=True,  # type: ignore[arg-type]
                         max_width=34 if name == "name" else None, overflow="ellipsis")
    for s in network.sites:
        quota = f"{'-' if s.daily_quota is None else f'{s.daily_quota:,}'}/" \
                f"{'-' if s.slot_quota is None else f'{s.slot_quota:,}'}"
        table.add_row(Text(s.id), Text(s.name_en), Text(s.kind), f"{s.score:g}", f"{s.visit_min:g} min",
                      f"{fmt_clock(s.window[0])}-{fmt_clock(s.window[1])}", quota)
    console = _out()
    console.width = max(console.width, 140)  # a listing: no wrapping in a narrow or piped terminal
    console.print(table)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
) -> None:
    """Run the HTTP API (uvicorn) on the embedded Lhasa network.

    The environment (LHASA_OPS_MAX_BODY_BYTES, LHASA_OPS_MAX_TIME_LIMIT_S,
    LHASA_OPS_MAX_JOB_TIME_LIMIT_S, LHASA_OPS_DB, LHASA_OPS_API_KEYS_FILE) is checked before the
    server listens: a bad value exits with code 2 and names the variable and its value.
    """
    if not 0 < port < 65536:
        fail(f"--port must be in 1..65535, got {port}")
    import uvicorn

    try:
        uvicorn.run("api.http.app:app", host=host, port=port)  # creating the app checks the environment
    except InvalidInput as e:  # api.http.app.ConfigError
        fail(f"{e} (server not started)")


# Subcommands (scenarios, stations, drones, flights, day, itineraries) are registered in
# ``api.cli.lazy.SUBCOMMANDS`` and imported only when named, so ``plan`` loads none of them.


if __name__ == "__main__":
    app()

"""``lhasa-ops scenarios run FILE``: capacity what-ifs of the tour planner (``api.services.scenarios``).

Prints a KPI table and the verifier's verdict; writes the tables, PNGs and ``report.html`` into
``--out``. Bad input (a bad key in FILE, a bad option, an unreachable cluster) exits 2 with
``error: <message>`` naming it; a scenario that fails, or a verifier violation, exits 1 after the
outputs of the others are written.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.common import fail
from api.services.scenarios import run_file
from optimizer.core.errors import InvalidInput

scenarios_app = typer.Typer(help="Capacity scenarios: what-if runs of the tour planner.", no_args_is_help=True)

SHOWN = ("scenario", "groups", "served_pct", "must_visits_unserved", "mean_wait_min", "violations")


@scenarios_app.command("run")
def scenarios_run(
    file: Path = typer.Argument(..., help="Scenario file (TOML); see scenarios/peak_season.toml."),
    out: Path = typer.Option(Path("scenarios_out"), "--out", help="Directory for tables, figures and report.html."),
    jobs: int | None = typer.Option(None, "--jobs", help="Parallel processes (default: all cores)."),
    cluster: str | None = typer.Option(None, "--cluster", help="Run on this Dask.distributed scheduler "
                                       "(e.g. tcp://host:8786) instead of local processes; --jobs is ignored."),
) -> None:
    """Run every scenario of FILE (sweeps expanded) and write KPIs, utilisation tables, PNGs and report.html."""
    from optimizer.tours import warm_up

    if jobs is not None and jobs < 1:
        fail(f"--jobs must be an integer >= 1, got {jobs}")
    if out.exists() and not out.is_dir():
        fail(f"--out {out} exists and is not a directory")
    console = Console(highlight=False, soft_wrap=False)
    try:
        with console.status("Compiling the solver kernels (first run after an install only)...", spinner="dots"):
            warm_up()
        with Progress(TextColumn("[bold]scenarios"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}"), console=console, transient=False) as bar:
            task = bar.add_task("", total=None)

            def progress(done: int, total: int, name: str) -> None:
                bar.update(task, completed=done, total=total, description=name)

            outcome = run_file(file, out, jobs=jobs, cluster=cluster, progress=progress)
    except InvalidInput as e:
        fail(str(e))
    except OSError as e:
        fail(f"{file}: {e.strerror or e}")
    kpis = outcome.kpis
    cols = [c for c in SHOWN if c in kpis.columns]
    table = Table(box=None, pad_edge=False)
    for c in cols:
        table.add_column(c)
    for row in kpis.select(cols).iter_rows():
        table.add_row(*[f"{v:.1f}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)
    for u in outcome.run.unserved:
        console.print(f"not run: {u.item_id}: {u.reason}: {u.detail}", markup=False)
    n = len(outcome.violations)
    console.print(f"Verifier         {'ok (0 violations)' if n == 0 else f'{n} violations'}")
    for v in outcome.violations[:10]:
        console.print(f"  {v}", markup=False)
    console.print(f"Outputs          {out}/ (kpis.csv, max_scale_95.csv, unserved_by_site.csv, report.html, PNGs)")
    if n or outcome.run.unserved:
        raise typer.Exit(1)


__all__ = ["scenarios_app", "scenarios_run"]

"""``lhasa-ops flights schedule``: the day's sightseeing-flight schedule, with a Gantt chart.

    lhasa-ops flights schedule [--bookings CSV] [--products CSV] [--aircraft CSV] [--time-limit 20]
        [--workers 1] [--backend auto|cpsat|highs] [--step 5] [--seed 0] [--out out/flights]

Inputs (``#`` lines in CSVs are comments; readers in :mod:`instances.flights`):

* bookings: ``id,product_id,party_size,open,close,desired`` (HH:MM); default
  ``instances/lhasa/flight_bookings_example.csv`` (synthetic, ``optimizer.flights.random_bookings``, seed 2026);
* products: ``id,vertiport_id,aircraft_type_id,block_min,score,viewpoints,distance_km`` (viewpoints
  ``;``-separated); default: the Lhasa menu (``api.services.flights.lhasa_menu``: 15/30/60 min classes at
  ``dagze_ga`` and ``damxung``, 15 degC);
* aircraft: ``id,type_id,vertiport_id,seats,open,close,turnaround_min,recharge_per_block_min``; default
  ``instances.flights.lhasa_fleet`` (assumption, see there);
* vertiports: take-offs per slot, slot length and hours from ``instances/lhasa/vertiports.csv``.

Solves and verifies through :mod:`api.services.flights`, prints the KPIs and the departures, and
writes ``schedule.json``, ``departures.csv``, ``unassigned.csv`` and ``gantt.png`` in ``--out``.
Exit codes: 0 success; 1 the verifier found violations (outputs still written); 2 bad input, reported
as ``error: <file>: row <k> (line <n>): <field>=<value>: <why>``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import fail as _fail
from api.services import flights as service
from instances.flights import AIRCRAFT_CSV_COLUMNS, PRODUCT_CSV_COLUMNS
from optimizer.core.clock import fmt_clock
from optimizer.core.errors import InvalidInput
from optimizer.flights import FlightParams
from optimizer.flights.report import (
    departures_table,
    gantt_figsize,
    plot_gantt,
    schedule_dict,
    unserved_table,
)

DEFAULT_BOOKINGS = service.DEFAULT_BOOKINGS


def kpi_lines(result: service.ScheduleResult) -> list[tuple[str, str]]:
    """Headline figures as (label, text) pairs."""
    problem, schedule = result.problem, result.schedule
    k = schedule_dict(problem, schedule)["kpis"]
    nb = len(problem.bookings)
    st = schedule.stats
    gap = "n/a" if st.gap is None else f"{st.gap:.3%} (passengers {schedule.passengers_gap:.2%})"
    return [
        ("Bookings served", f"{k['bookings_served']} / {nb} ({100 * k['bookings_served'] / max(nb, 1):.1f}%)"),
        ("Passengers flown", f"{k['passengers']} / {k['passengers_requested']} requested"),
        ("Departures", f"{k['departures']}, seat load factor {100 * k['seat_load_factor']:.1f}%"),
        ("Mean |deviation|", f"{k['mean_abs_deviation_min']:.1f} min from the desired take-off"),
        ("Status", f"{st.status}, gap {gap}, {st.runtime_s:.1f} s"),
    ]


def write_outputs(result: service.ScheduleResult, out: Path) -> None:
    """schedule.json, departures.csv, unassigned.csv and gantt.png in ``out``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problem, schedule = result.problem, result.schedule
    out.mkdir(parents=True, exist_ok=True)
    doc = service.schedule_document(result)
    (out / "schedule.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    departures_table(problem, schedule).write_csv(out / "departures.csv")
    unserved_table(problem, schedule).write_csv(out / "unassigned.csv")
    fig, ax = plt.subplots(figsize=gantt_figsize(problem, schedule))
    plot_gantt(problem, schedule, ax)
    fig.tight_layout()
    fig.savefig(out / "gantt.png", dpi=110)
    plt.close(fig)


def schedule(
    bookings: Path = typer.Option(DEFAULT_BOOKINGS, "--bookings", help="bookings CSV: id,product_id,party_size,open,close,desired"),  # noqa: B008
    products: Path | None = typer.Option(None, "--products", help="products CSV: " + ",".join(PRODUCT_CSV_COLUMNS) + " (default: the Lhasa menu, design_menu)"),  # noqa: B008
    aircraft: Path | None = typer.Option(None, "--aircraft", help="aircraft CSV: " + ",".join(AIRCRAFT_CSV_COLUMNS) + " (default: 4 eVTOL + 2 H125, lhasa_fleet)"),  # noqa: B008
    time_limit: float = typer.Option(20.0, "--time-limit", help="wall-clock limit of the solve (CP-SAT and/or HiGHS), seconds"),
    workers: int = typer.Option(1, "--workers", help="CP-SAT threads of the whole-model run (backend cpsat); the LNS windows use 1"),
    backend: str = typer.Option("auto", "--backend", help="auto (HiGHS for the bound alongside the CP-SAT window LNS) | cpsat (LNS, then CP-SAT) | highs"),
    step: int = typer.Option(5, "--step", help="grid of candidate take-off times, minutes"),
    seed: int = typer.Option(0, "--seed", help="CP-SAT random seed"),
    deterministic_time: float | None = typer.Option(
        None, "--deterministic-time",
        help="stop CP-SAT after this deterministic time (work units ~ s) instead of the clock: same seed, same "
             "schedule (CP-SAT alone, 1 worker; --time-limit stays a safety stop)"),
    out: Path = typer.Option(Path("out/flights"), "--out", help="output directory"),  # noqa: B008
) -> None:
    """Schedule the day's sightseeing-flight bookings on the fleet; write schedule.json, CSVs and gantt.png."""
    if not math.isfinite(time_limit) or time_limit <= 0:
        _fail(f"--time-limit must be a positive number of seconds, got {time_limit:g}")
    if workers < 1:
        _fail(f"--workers must be >= 1, got {workers}")
    if backend not in ("auto", "cpsat", "highs"):
        _fail(f"--backend must be auto, cpsat or highs, got {backend!r}")
    if not 1 <= step <= 120:
        _fail(f"--step must be within 1..120 minutes, got {step}")
    try:
        problem = service.schedule_problem_from_files(bookings, products, aircraft, step)
        result = service.schedule_day(problem, time_limit, seed, FlightParams(backend=backend, workers=workers,
                                                                               deterministic_time=deterministic_time))
    except InvalidInput as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"{e}")
    violations = result.violations
    sched = result.schedule
    write_outputs(result, out)
    console = Console(highlight=False, width=150)
    for label, text in kpi_lines(result):
        console.print(f"{label:<18}{text}", markup=False)
    books = {b.id: b for b in problem.bookings}
    table = Table(title="Departures", title_justify="left")
    for col in ("aircraft", "vertiport", "product", "take-off", "landing", "ready", "pax", "bookings (|deviation| min)"):
        table.add_column(col, no_wrap=col != "bookings (|deviation| min)")
    for d in sched.departures:
        table.add_row(d.aircraft_id, d.vertiport_id, d.product_id.removeprefix(d.vertiport_id + "_"), fmt_clock(d.start_min), fmt_clock(d.land_min),
                      fmt_clock(d.ready_min), f"{d.passengers}/{d.seats}",
                      ", ".join(f"{b} ({abs(d.start_min - books[b].desired_min)})" for b in d.booking_ids))
    console.print(table)
    reasons: dict[str, int] = {}
    for u in sched.unserved:
        reasons[u.reason] = reasons.get(u.reason, 0) + 1
    console.print("Unassigned       " + (", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) or "none"),
                  markup=False)
    console.print(f"Solved by        {sched.model_stats.get('source')} (backend {backend})", markup=False)
    repro = sched.model_stats.get("reproducible")
    console.print(f"Reproducible     {'yes' if repro else 'NO'}: {sched.model_stats.get('reproducible_note')}",
                  markup=False)
    console.print("Verifier         " + ("OK" if not violations else f"{len(violations)} violation(s)"), markup=False)
    console.print(f"Outputs          {out}/ (schedule.json, departures.csv, unassigned.csv, gantt.png)", markup=False)
    if violations:
        for v in violations:
            console.print(f"violation: {v}", markup=False)
        raise typer.Exit(1)

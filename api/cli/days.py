"""``lhasa-ops day ...``: day-of operations from the command line (issue 17).

    lhasa-ops day demo-log OUT.csv [--seed N]        the demo day's log (320 bookings + 3 disruptions)
    lhasa-ops day replay LOG.csv [--db PATH] [--time-limit S] [--iterations N] [--offline-iterations N]

``replay`` runs every row through ``api.services.days.DayService`` (the HTTP API's service), checks
every version with the verifier, and prints the online plan's score against planning the whole day
at once. Exit codes: 0 success; 1 a version had violations; 2 bad input (``error: <message>``).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import fail
from api.services.day_store import DayStore
from api.services.days import DEFAULT_EVENT_TIME_LIMIT_S, demo_log, replay
from optimizer.core.errors import InvalidInput

day_app = typer.Typer(
    help="Day-of operations: bookings against a live plan, disruptions, replay.", no_args_is_help=True
)


@day_app.command("demo-log")
def demo_log_cmd(
    out: Path = typer.Argument(..., help="CSV file to write."),
    seed: int = typer.Option(0, help="Seed of the booking order."),
) -> None:
    """Write the demo day's log: 320 bookings in a seeded order, a quota cut, a road closure, a late coach."""
    if seed < 0:
        fail(f"--seed must be an integer >= 0, got {seed}")
    try:
        path = demo_log(out, seed=seed)
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror or e}")
    Console(highlight=False).print(f"wrote {path}")


@day_app.command("replay")
def replay_cmd(
    log: Path = typer.Argument(..., help="Day log CSV (see `day demo-log`)."),
    date: str = typer.Option("2026-08-01", help="Date of the day, YYYY-MM-DD."),
    db: str = typer.Option("", help="Day store: a file or URL (default: a temporary file, deleted afterwards)."),
    time_limit: float = typer.Option(DEFAULT_EVENT_TIME_LIMIT_S, help="Re-plan time limit per event, s."),
    iterations: int = typer.Option(0, help="ILS iterations per re-plan (0: no iteration limit)."),
    offline_iterations: int = typer.Option(5000, help="ILS iterations of the whole-day plan."),
    seed: int = typer.Option(0, help="Seed."),
) -> None:
    """Replay a day of bookings and events; verify every version; online vs whole-day score."""
    if not time_limit > 0:
        fail(f"--time-limit must be > 0 seconds, got {time_limit:g}")
    if iterations < 0 or offline_iterations < 1 or seed < 0:
        fail("--iterations must be >= 0, --offline-iterations >= 1 and --seed >= 0")
    try:
        store = DayStore(db) if db else DayStore.scratch()
        rep = replay(
            log,
            date=date,
            store=store,
            time_limit_s=time_limit,
            iterations=iterations or None,
            offline_iterations=offline_iterations,
            seed=seed,
        )
    except InvalidInput as e:
        fail(str(e))
    out = Console(highlight=False)
    out.print(
        f"lhasa-ops day replay  {log}: {rep.bookings} bookings, {len(rep.events)} events, "
        f"{rep.versions} versions"
    )
    out.print(
        f"Bookings         {rep.booked} booked, {rep.refused} refused (full or unservable); "
        f"p50 {rep.booking_ms_p50:.1f} ms, p95 {rep.booking_ms_p95:.1f} ms"
    )
    t = Table(title="Events")
    for c in ("at", "event", "groups changed", "re-planned", "visits lost", "re-plan s", "score after"):
        t.add_column(c)
    for e in rep.events:
        t.add_row(
            str(e["at"]),
            e["kind"],
            str(e["groups_changed"]),
            str(e["replanned"]),
            str(e["lost_visits"]),
            f"{e['runtime_s']:.2f}",
            f"{e['total_score']:,.0f}",
        )
    out.print(t)
    out.print(
        f"Online score     {rep.online_score_before_events:,.0f} after the bookings "
        f"({rep.online_groups_served_before_events} groups served), {rep.online_score:,.0f} at the end"
    )
    out.print(
        f"Whole day        {rep.offline_score:,.0f} ({rep.offline_groups_served} groups served) "
        "planned at once"
    )
    out.print(f"Online/offline   {rep.ratio:.3f}  (the price of first come, first served)")
    out.print(f"Verifier         {rep.violations} violations over {rep.versions} versions")
    out.print(f"Replay           {rep.seconds:.1f} s")
    if rep.violations:
        raise typer.Exit(1)

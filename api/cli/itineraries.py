"""``lhasa-ops itineraries``: multi-day itineraries for groups staying several days in Lhasa (issue 16).

    lhasa-ops itineraries plan [--demand FILE] [--rules TOML] [--time-limit 50] [--iterations N]
        [--seed 0] [--out DIR]
    lhasa-ops itineraries demo-week --out FILE.csv|json [--groups 1500] [--seed 2026]

``plan`` reads the demand (CSV or JSON, ``instances.lhasa_itineraries.DEMAND_COLUMNS``; default: the
embedded demo week, 1,500 groups), plans and verifies it (``api.services.itineraries``), prints
groups served, nights per hotel against rooms, entries per day at the Potala against its quota,
the acclimatization check and the verifier's verdict, and writes to ``--out``: ``itineraries.json``
(per group: nights and days with visits; summary; unserved with reasons), ``itineraries.csv`` (one
row per visit and night), ``hotel_usage.csv`` and ``site_usage.csv`` (per day), ``day_<date>.geojson``
(one per day) and ``calendar.png`` (rooms per hotel and night; Potala entries per day).
Exit codes: 0 success; 1 the verifier rejected the plan; 2 bad input.
"""

from __future__ import annotations

import csv
import json
import sys
import threading
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import fail
from api.services import itineraries as service
from optimizer.core.errors import InvalidInput
from optimizer.core.warmup import spawned

itineraries_app = typer.Typer(help="Multi-day itineraries: hotels per night, visits per day, acclimatization.",
                              no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)

__all__ = ["draw_calendar", "itineraries_app", "write_outputs"]


#: Seconds of warm-up after which the command says it is compiling (a first run after an install
#: compiles the itinerary kernels once: 84 s on the 2-core machine before issue 15 item 3; now one
#: specialisation per kernel, about 27 % less CPU, in two worker processes started at launch
#: (``api.services.itineraries_compile_plan``): about 40 s expected on a quiet 2-core machine, to be
#: re-measured by ``python -m bench.first_run``; cached after).
COMPILE_NOTE_AFTER_S = 1.0
COMPILE_NOTE = ("lhasa-ops: loading or compiling the itinerary kernels{how} (compiling: first run after an "
                "install, about 40 s on 2 cores, once; cached after)...")


def _warm_up_telling() -> float:
    """``service.warm_up()``; if it takes longer than ``COMPILE_NOTE_AFTER_S`` (a cold Numba cache), a
    line on stderr says what is happening, so the first run is not silent. Returns its seconds."""
    workers = spawned(service.KERNELS.workers) if service.KERNELS.workers else None
    how = f" in {workers.n} worker processes" if workers is not None else ""
    note = threading.Timer(COMPILE_NOTE_AFTER_S,
                           lambda: print(COMPILE_NOTE.format(how=how), file=sys.stderr, flush=True))
    note.daemon = True
    note.start()
    try:
        return service.warm_up()
    finally:
        note.cancel()


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        if not rows:
            return
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def draw_calendar(run: service.ItineraryRun, path: Path, site_id: str = "potala") -> None:
    """PNG: the hotel calendar (rooms used per night) over the quota site's entries per day."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(13, 9), gridspec_kw={"height_ratios": [2, 1]})
    service.plot_hotel_calendar(run, axes[0])
    service.plot_quota_calendar(run, axes[1], site_id)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(run: service.ItineraryRun, out: Path) -> list[str]:
    """Write every output file of ``plan`` to ``out``; returns the names written."""
    out.mkdir(parents=True, exist_ok=True)
    doc = service.to_dict(run, with_groups=True)
    (out / "itineraries.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    _write_csv(out / "itineraries.csv", service.itinerary_rows(run))
    _write_csv(out / "hotel_usage.csv", service.hotel_usage_rows(run))
    _write_csv(out / "site_usage.csv", service.site_usage_rows(run))
    names = ["itineraries.json", "itineraries.csv", "hotel_usage.csv", "site_usage.csv"]
    for day in range(run.problem.n_days):
        name = f"day_{run.instance.date_of(day).isoformat()}.geojson"
        (out / name).write_text(json.dumps(service.day_geojson(run, day), ensure_ascii=False), encoding="utf-8")
    names.append(f"day_<date>.geojson x {run.problem.n_days}")
    draw_calendar(run, out / "calendar.png")
    names.append("calendar.png")
    return names


@itineraries_app.command("plan")
def plan(
    demand: Path = typer.Option(None, "--demand", help="groups CSV or JSON (default: the embedded demo week)"),  # noqa: B008
    rules: Path = typer.Option(None, "--rules", help="acclimatization rule set TOML (default: the embedded one)"),  # noqa: B008
    time_limit: float = typer.Option(50.0, "--time-limit", help="seconds for the whole plan, building included "
                                     "(default 50: with start-up and writing the outputs the demo week ends within 60 s)"),
    iterations: int = typer.Option(None, "--iterations", help="search iterations (default: time only)"),
    seed: int = typer.Option(0, "--seed"),
    out: Path = typer.Option(Path("out/itineraries"), "--out", help="output directory"),  # noqa: B008
) -> None:
    """Plan multi-day itineraries (hotel per night, visits per day) and write the outputs."""
    console = Console(highlight=False)
    service.KERNELS.start_workers()  # a cold cache: a worker process compiles while this one reads (if not yet)
    try:
        groups = service.read_demand(demand) if demand is not None else None
        rule_set = service.rules_from(rules)  # a bad rule file fails before the kernels warm up
        compile_s = _warm_up_telling()
        run = service.plan_itineraries(groups, rules=rule_set, time_limit_s=time_limit, iterations=iterations, seed=seed)
    except InvalidInput as e:
        fail(str(e))
    try:
        names = write_outputs(run, out)
    except OSError as e:
        fail(f"--out {out}: {e.strerror or e}")
    s = service.summary(run)
    src = demand.name if demand is not None else "demo week"
    console.print(f"lhasa-ops itineraries plan  {src}: {s['groups']:,} groups, {s['persons']:,} persons, "
                  f"{s['start']} .. {s['end']} ({s['days']} days)")
    console.print(f"Groups served    {s['groups_served']:,} / {s['groups']:,} "
                  f"({100.0 * s['groups_served'] / max(1, s['groups']):.1f}%)  planned {s['groups_planned']:,}, "
                  f"persons served {s['persons_served']:,}")
    table = Table(box=None, pad_edge=False, title="Nights per hotel against rooms")
    for c in ("hotel", "room-nights", "peak rooms", "rooms/night", "nights over"):
        table.add_column(c, justify="right" if c != "hotel" else "left")
    for h, v in s["hotels"].items():
        table.add_row(h, f"{v['room_nights']:,}", f"{v['peak_rooms']:,}", "-" if v["rooms"] is None else f"{v['rooms']:,}",
                      str(v["over"]))
    console.print(table)
    for sid, rows in s["quota_sites"].items():
        if not rows:
            continue
        quota = rows[0]["daily_quota"]
        line = "  ".join(f"{r['date'][5:]} {r['persons']:,}" for r in rows)
        console.print(f"{sid} entries/day (quota {quota if quota is not None else '-'}): {line}")
    acc = s["acclimatization"]
    verdict = "respected" if acc["respected"] else f"{acc['n_breaks']} breaks"
    console.print(f"Acclimatization  {verdict} "
                  f"(max gain {acc['rules']['max_sleep_gain_m']:g} m/night, sleep caps {acc['rules']['max_sleep_altitude_m']}, "
                  f"visit caps {acc['rules']['max_visit_altitude_m']})")
    for b in acc["breaks"][:5]:
        console.print(f"  {b}", markup=False)
    unserved = ", ".join(f"{k} {v}" for k, v in s["unserved_by_reason"].items()) or "none"
    console.print(f"Unserved         {unserved}")
    for v in run.violations[:10]:
        console.print(f"violation {v}", markup=False)
    console.print(f"Verifier         {len(run.violations)} violations" + (" (feasible)" if not run.violations else ""))
    if compile_s > 1.0:
        console.print(f"JIT compile      {compile_s:.1f} s (once per machine: Numba caches the kernels on disk)")
    rt = s["runtime_s"]
    console.print(f"Solve            {rt['total']:.1f} s (build {rt['build']:.1f}, search {rt['solve']:.1f}, "
                  f"verify {rt['verify']:.1f}), status {s['status']}, seed {s['seed']}")
    console.print(f"Outputs          {out}/ ({', '.join(names)})")
    if run.violations:
        raise typer.Exit(1)


@itineraries_app.command("demo-week")
def demo_week_cmd(
    out: Path = typer.Option(..., "--out", help="output file (.csv or .json)"),  # noqa: B008
    groups: int = typer.Option(1500, "--groups", help="number of groups"),
    seed: int = typer.Option(2026, "--seed"),
) -> None:
    """Write the seeded demo week (the default demand of ``plan``) as CSV or JSON."""
    try:
        gs = service.demo_week(groups, seed)
        if out.suffix.lower() not in (".csv", ".json"):
            raise InvalidInput("--out", str(out), "expected a .csv or .json file")
        service.write_demand(gs, out)
    except InvalidInput as e:
        fail(str(e))
    except OSError as e:
        fail(f"--out {out}: {e.strerror or e}")
    Console(highlight=False).print(f"{out}: {len(gs):,} groups, {sum(g.size for g in gs):,} persons")

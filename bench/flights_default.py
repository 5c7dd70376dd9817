"""Flight schedule at its default time (issue 15 item 2): the bundled 100 bookings at the default 20 s
against the best schedule found with 300 s, and the 500 x 6 x 2 day to a 1 % proven gap within 30 s.

Run ``python -m bench.flights_default`` (``--quick``: one 20 s row and one 500-booking row, no RESULTS.md).

* Bundled day: ``instances/lhasa/flight_bookings_example.csv`` (100 synthetic bookings, 241 passengers),
  the Lhasa menu and fleet, 5-minute take-off grid: exactly ``lhasa-ops flights schedule`` with its
  defaults (``FlightParams()``: backend ``auto``, 1 CP-SAT worker, time limit 20 s), seeds 0, 1, 2; then
  the same with 300 s (seed 0): the best schedule found, the reference of the target (>= 98 % of its
  passengers at the default time); and ``deterministic_time`` 5 (the reproducible option).
* 500 x 6 x 2: ``bench.flights.problem(500, seed, 15)`` (the Lhasa menu and fleet, 500 synthetic bookings,
  15-minute grid), backend ``auto``, ``rel_gap`` 1 %, 30 s, seeds 0, 1, 2. Target: proven gap <= 1 %.

Every schedule is checked by ``optimizer.flights.verify``. ``CPU s`` is the process's CPU time during the
solve (both threads), to be read against ``wall s`` on a shared machine; ``HiGHS thread CPU s`` the CPU time of
HiGHS's thread alone (``model_stats["highs_cpu_s"]``).
"""

from __future__ import annotations

import sys
import time

from api.services.flights import DEFAULT_BOOKINGS, schedule_day, schedule_problem_from_files
from bench.flights import problem as day_problem
from bench.results_md import parse_quick, table, write_section
from optimizer.flights import FlightParams

DEFAULT_TIME_S = 20.0  # lhasa-ops flights schedule --time-limit default
LONG_TIME_S = 300.0


def run(p, time_s: float, seed: int, params: FlightParams) -> tuple:
    c0, t0 = time.process_time(), time.perf_counter()
    r = schedule_day(p, time_s, seed=seed, params=params)
    return r, time.process_time() - c0, time.perf_counter() - t0


def cells(label: str, r, cpu: float, wall: float, time_s: float, seed: int, best: int | None) -> list[object]:
    s, st = r.schedule, r.schedule.stats
    ms = s.model_stats
    gap = "-" if st.gap is None else f"{100 * st.gap:.2f}%"
    share = "-" if not best else f"{100 * s.passengers / best:.1f}%"
    return [label, f"{time_s:g}", seed, f"{s.passengers} / {s.passengers_requested}", share,
            s.passengers_bound if s.passengers_bound is not None else "-", gap, st.status, ms.get("source"),
            ms.get("lns_windows", "-"), ms.get("lns_blocks_from_highs", "-"), "yes" if ms.get("reproducible") else "no",
            f"{wall:.1f}", f"{cpu:.1f}", f"{ms['highs_cpu_s']:.1f}" if "highs_cpu_s" in ms else "-",
            "OK" if not r.violations else f"{len(r.violations)} violations"]


def _blocks(r) -> str:
    """How HiGHS ended on each block of a 500-booking run: 'full MIP / blocks' (the others kept their LP bound)."""
    hb = r.schedule.model_stats.get("highs_blocks")
    return "-" if hb is None else f"{hb['full_mip']}/{hb['lp_bound']}"


def reading(results, rows, best: int, big_results=()) -> str:
    """The measured figures in words (computed from this run)."""
    dflt = [r.schedule.passengers for label, r, *_ in results if label.endswith("(default)")]
    cpu = [c for label, _r, c, *_ in results if label.endswith("(default)")]
    big = [row for row in rows if row[0].startswith("500")]
    return (
        f"Reading: at the default 20 s the bundled day flies {min(dflt)}-{max(dflt)} passengers over the seeds, "
        f"{100 * min(dflt) / best:.1f}-{100 * max(dflt) / best:.1f} % of the best found ({best}); the process got "
        f"{min(cpu):.1f}-{max(cpu):.1f} s of CPU for its two threads in those runs (compare 'wall s': the 2-core machine "
        "was shared with other jobs, so the default run had far less than two cores). Before this change (HiGHS "
        "alongside CP-SAT on the whole model) the default run flew 152-153 passengers (issue 15) and 174 after 300 s "
        "(measured once on this machine under load, 2026-12-05, gap 0.55 %). The schedule now comes from the "
        "rolling-window LNS (`models.flight_lns`: CP-SAT re-solves windows of one vertiport's aircraft of one type, "
        "and whole days of one tail with every flight free to move 15-30 min) from the greedy schedule, with HiGHS in "
        "the other thread for the bound; HiGHS's blocks replace the LNS's schedule where better. The 500 x 6 x 2 rows "
        f"end at proven gaps {', '.join(str(r[6]) for r in big)} after {', '.join(str(r[12]) for r in big)} s wall, "
        f"{', '.join(str(r[13]) for r in big)} s CPU (process, both threads; HiGHS's thread "
        f"{', '.join(str(r[14]) for r in big)} s). HiGHS first bounds each block by its LP relaxation, then solves "
        "the MIP restricted to the departures that LP uses (the schedule of the 3-eVTOL block, in about a second), "
        "proves the single-tail blocks, and stops as soon as the day is within 1 %, keeping the LP bound of the blocks "
        f"it did not branch on (blocks through the full MIP / blocks: {', '.join(_blocks(r) for r in big_results)}; "
        "unfinished at the limit: "
        f"{sum('highs_unfinished' in r.schedule.model_stats for r in big_results)} of {len(big_results)}) (before this change HiGHS's branch and bound needed about "
        "9 s of CPU to reach 1 %, and 11-12 s of CPU in 30 s wall on the loaded machine were not enough: 3.19 %, "
        "1.98 %, 4.58 %). On a quiet 2-core machine a run ends within its process CPU seconds (one of its two threads "
        "always works), so well within the 30 s. Times and passengers under a wall-clock limit vary with the "
        "machine's load."
    )


HEADER = ["day", "limit s", "seed", "passengers / requested", "of best found", "passenger bound", "gap (J)",
          "status", "schedule from", "LNS windows", "HiGHS blocks taken", "reproducible", "wall s", "CPU s",
          "HiGHS thread CPU s", "verifier"]


def main(argv: list[str]) -> None:
    quick = parse_quick(argv, __doc__)
    bundled = schedule_problem_from_files(DEFAULT_BOOKINGS, None, None, 5)
    rows: list[list[object]] = []
    results = []
    for seed in (0,) if quick else (0, 1, 2):
        r, cpu, wall = run(bundled, DEFAULT_TIME_S, seed, FlightParams())
        results.append(("bundled 100 (default)", r, cpu, wall, DEFAULT_TIME_S, seed))
        print(f"default seed {seed}: {r.schedule.passengers} passengers, {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    best = None
    if not quick:
        r, cpu, wall = run(bundled, LONG_TIME_S, 0, FlightParams())
        results.append(("bundled 100 (300 s)", r, cpu, wall, LONG_TIME_S, 0))
        best = max(x[1].schedule.passengers for x in results)
        print(f"300 s: {r.schedule.passengers} passengers (bound {r.schedule.passengers_bound})", flush=True)
        r, cpu, wall = run(bundled, 120.0, 0, FlightParams(deterministic_time=5.0))
        results.append(("bundled 100 (deterministic_time 5)", r, cpu, wall, 120.0, 0))
    for label, r, cpu, wall, ts, seed in results:
        rows.append(cells(label, r, cpu, wall, ts, seed, best))
    big_results = []
    for seed in (0,) if quick else (0, 1, 2):
        p = day_problem(500, seed, 15)
        r, cpu, wall = run(p, 30.0, 0, FlightParams(rel_gap=0.01))
        big_results.append(r)
        rows.append(cells(f"500 x 6 x 2, bookings seed {seed}, 15-min grid, stop at 1 %", r, cpu, wall, 30.0, 0, None))
        print(" | ".join(str(c) for c in rows[-1]), flush=True)
    for row in rows:
        print(" | ".join(str(c) for c in row))
    if quick:
        return
    body = (
        "`lhasa-ops flights schedule` on the bundled 100 bookings (5-minute grid, Lhasa menu and fleet) with its "
        "defaults, against the best schedule this script finds with 300 s; and the 500 x 6 x 2 day of "
        "`bench.flights` stopped at a proven 1 % gap. 'of best found': passengers / the most passengers of any "
        "bundled row here. Target: >= 98 % at the default time; the 500-booking day at <= 1 % within 30 s.\n\n"
        + table(HEADER, rows)
        + "\n\n" + reading(results, rows, best, big_results)
    )
    path = write_section("flights_default", "Flight schedule at its default time (issue 15 item 2)",
                         "python -m bench.flights_default", body)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])

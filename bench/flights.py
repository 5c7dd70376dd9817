"""Sightseeing-flight daily schedule: 500 bookings x 6 aircraft x 2 vertiports, and smaller days.

Run ``python -m bench.flights`` (``--quick``: seed 0 only, no RESULTS.md). Fixed instances: the Lhasa product
menu (``api.services.flights.lhasa_menu``: the design at ``dagze_ga`` and ``damxung``, 15/30/60 min classes,
15 degC: 12 products), the assumed fleet ``instances.flights.lhasa_fleet`` (4 eVTOL with 4 seats, 2 H125 with 6
seats), vertiport capacities and hours from ``instances/lhasa/vertiports.csv`` (15 min slots) and bookings from
``optimizer.flights.random_bookings(menu, n, seed, day=(09:00, 19:00))``. Target: 500 bookings scheduled
in <= 30 s with a proven gap <= 1 %. Each row: time limit 30 s, CP-SAT with 1 worker (+ HiGHS alongside for
``auto``), i.e. 2 threads; every schedule is checked by ``optimizer.flights.verify``.
Gap: (bound - J) / J on J = W * passengers - deviation minutes; passengers gap: (passenger bound - P) / bound.
"""

from __future__ import annotations

import sys

from api.services.flights import lhasa_menu, schedule_day
from bench.results_md import parse_quick, table, write_section
from instances.flights import lhasa_fleet, lhasa_vertiport_capacities
from optimizer.flights import FlightParams, ScheduleProblem, random_bookings
from optimizer.flights.report import schedule_dict

DAY = (540, 1140)
TIME_LIMIT_S = 30.0


def problem(n: int, seed: int, step: int) -> ScheduleProblem:
    """The Lhasa day with ``n`` synthetic bookings (seed) on a ``step``-minute take-off grid."""
    menu = lhasa_menu()
    ports, slot = lhasa_vertiport_capacities()
    return ScheduleProblem(menu, lhasa_fleet(), random_bookings(menu, n, seed=seed, day=DAY), ports,
                                 slot_min=slot, start_step_min=step)


def row(n: int, seed: int, step: int, backend: str, rel_gap: float = 0.0) -> list[object]:
    """One table row: solve with ``rel_gap`` as the stop-at-proven-gap rule (0: run to the time limit)."""
    p = problem(n, seed, step)
    r = schedule_day(p, TIME_LIMIT_S, seed=0, params=FlightParams(backend=backend, workers=1, rel_gap=rel_gap))
    s, viol = r.schedule, r.violations
    k = schedule_dict(p, s)["kpis"]
    ports = len({a.vertiport_id for a in p.aircraft})
    gap = "-" if s.stats.gap is None else f"{100 * s.stats.gap:.2f}%"
    pgap = "-" if s.passengers_gap is None else f"{100 * s.passengers_gap:.2f}%"
    return [f"{n} x {len(p.aircraft)} x {ports}", len(p.products), seed, step, backend,
            f"{100 * rel_gap:g}%" if rel_gap > 0 else "time limit", s.stats.status,
            f"{s.passengers} / {s.passengers_requested}", f"{k['bookings_served']}",
            f"{100 * k['seat_load_factor']:.0f}%", f"{k['mean_abs_deviation_min']:.1f}",
            s.passengers_bound if s.passengers_bound is not None else "-", gap, pgap, f"{s.stats.runtime_s:.1f}",
            s.model_stats.get("source"), "OK" if not viol else f"{len(viol)} violations"]


HEADER = ["bookings x aircraft x vertiports", "products", "seed", "grid min", "backend", "stop at gap", "status",
          "passengers flown / requested", "bookings served", "seat load", "mean abs dev min", "passenger bound",
          "gap (J)", "gap (passengers)", "wall s", "schedule from", "verifier"]


def main(argv: list[str]) -> None:
    quick = parse_quick(argv, __doc__)
    runs = [(500, s, 15, "auto", 0.01) for s in ((0,) if quick else (0, 1, 2))]
    if not quick:
        runs += [(500, s, 15, "auto", 0.0) for s in (0, 1, 2)]
        runs += [(500, 0, 10, "auto", 0.0), (500, 0, 15, "cpsat", 0.0), (250, 0, 15, "auto", 0.0),
                 (100, 0, 15, "auto", 0.0), (100, 0, 5, "auto", 0.0)]
    rows = []
    for n, seed, step, backend, rel_gap in runs:
        r = row(n, seed, step, backend, rel_gap)
        print(" | ".join(str(c) for c in r), flush=True)
        rows.append(r)
    if quick:
        return
    body = (
        "Lhasa product menu (`design_menu`, dagze_ga + damxung, 15/30/60 min classes: 12 products), fleet of 4 eVTOL "
        "(4 seats) + 2 H125 (6 seats) (assumption, `lhasa_fleet`), vertiport take-offs per 15-min slot and hours from "
        "`instances/lhasa/vertiports.csv`, synthetic bookings (`random_bookings`, party 1-5, morning/afternoon peaks, "
        "windows +-30-120 min) over 09:00-19:00. Time limit 30 s per row, 2 threads (CP-SAT 1 worker + HiGHS for "
        "`auto`). Target: 500 bookings in <= 30 s with proven gap <= 1 %.\n\n"
        + table(HEADER, rows)
        + "\n\nReading: demand (about 1,200 passengers) is several times the fleet's seats, so most bookings go "
        "unserved for 'capacity'. The gap is proven (bound from HiGHS's branch and cut or CP-SAT, the smaller). The "
        "500-booking day meets the target with room: the 1 % rows stop at a proven 0.4-0.7 % after 8-11 s (this run 9.3-10.5 s) (before "
        "this change 29.5-30.1 s: the CP-SAT thread ran on to the time limit after HiGHS had stopped at the gap). The "
        "gain comes from stopping both engines at the day's proven gap, from HiGHS solving the independent blocks "
        "(here one per vertiport and aircraft type, as no slot row can bind) one after the other, the last one to "
        "the day's gap, and from packing rows on the seats (a party of 3-4 leaves no room for a party of 2 on a "
        "4-seat eVTOL) that lower the root bound of the hard block, the 3 eVTOLs at dagze_ga. With the whole 30 s "
        "the gaps are 0.60 / 0.12 / 0.43 % (before 0.84 / 0.19 / 0.43 %); the 10-min grid flies more passengers and "
        "ends at 0.64-1.17 % over runs (before 1.45 %), so not reliably within the target; the 250- and 100-booking rows close further or "
        "sooner. Pooling the identical eVTOLs (`pool_identical=True`, exact) was measured and is not faster with "
        "HiGHS, so the per-tail model stays the default. CP-SAT alone proves a far weaker bound on this model (its "
        "LP bound after 30 s is well above the LP relaxation's), which is why the default back end runs HiGHS "
        "alongside. 'stop at gap 1%' rows stop as soon as the proven gap on the combined objective is <= 1 % (their "
        "wall time is the time to a proven 1 %); 'time limit' rows search the whole 30 s. Times and gaps under a "
        "time limit or gap stop vary a little with machine load."
    )
    path = write_section("flights", "Sightseeing-flight daily schedule (issue 8)", "python -m bench.flights", body)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])

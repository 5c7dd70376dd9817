"""Demo-week benchmark (issue 16): 1,500 groups arriving over 7 days, stays of 2-7 days, planned end to end.

``python -m bench.demo_week [--groups 1500] [--time-limit 60] [--iterations N] [--seeds 0,1]`` plans
the seeded demo week (``instances.demo_week``, seed 2026) through ``api.services.itineraries.
plan_itineraries`` (problem building + search + the independent verifier) for each solver seed and
measures: the one-off JIT compilation (``warm_up``), the wall time of the whole plan (building
included; target <= 60 s on the 2-core machine), groups and persons served, must-visits unserved
by reason, verifier violations (target 0), the acclimatization re-check, the busiest night of the
busiest hotel against its rooms, the Potala's busiest day against its quota, and the process's
peak resident memory. Then every group with something unserved (no plan, or a must-visit left
out) is planned alone (``--alone-iterations`` search iterations, outside the time limit): the
groups still not fully served alone could not be served by any plan of the week (their reasons
are listed). Writes the ``demo_week`` section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
from collections import Counter

from bench.results_md import count_arg, seconds_arg, table, write_section


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--groups", type=int, default=1500)
    ap.add_argument("--time-limit", type=seconds_arg, default=60.0, help="seconds for the whole plan, building included")
    ap.add_argument("--iterations", type=count_arg, default=None, help="search iterations (default: time only)")
    ap.add_argument("--seeds", default="0", help="solver seeds, comma-separated")
    ap.add_argument("--alone-iterations", type=int, default=300,
                    help="search iterations when a group with something unserved is planned alone")
    ap.add_argument("--no-write", action="store_true", help="print only; do not write bench/RESULTS.md")
    args = ap.parse_args(argv)

    from api.services import itineraries as service
    from optimizer.core.stop import StoppingCriterion
    from optimizer.itineraries.solve import solve
    from optimizer.itineraries.verify import verify

    t0 = time.perf_counter()
    compile_s = service.warm_up()
    t_warm = time.perf_counter() - t0
    groups = service.demo_week(args.groups)
    rows = []
    breaks: list[str] = []
    alone_notes: list[str] = []
    for seed in (int(s) for s in args.seeds.split(",")):
        t1 = time.perf_counter()
        run = service.plan_itineraries(groups, time_limit_s=args.time_limit, iterations=args.iterations, seed=seed)
        wall = time.perf_counter() - t1
        s = service.summary(run)
        hotel = max(s["hotels"].items(), key=lambda kv: kv[1]["peak_rooms"] / max(1, kv[1]["rooms"] or 1))
        potala = max(s["quota_sites"].get("potala", []), key=lambda r: r["persons"], default=None)
        unserved = ", ".join(f"{k} {v}" for k, v in s["unserved_by_reason"].items()) or "none"
        rows.append([seed, f"{s['groups_served']:,} / {s['groups']:,}", f"{s['persons_served']:,} / {s['persons']:,}",
                     unserved, len(run.violations), "yes" if s["acclimatization"]["respected"] else
                     f"no ({s['acclimatization']['n_breaks']})",
                     f"{hotel[0]} {hotel[1]['peak_rooms']:,}/{hotel[1]['rooms']:,}",
                     "-" if potala is None else f"{potala['date'][5:]} {potala['persons']:,}/{potala['daily_quota']:,}",
                     f"{s['runtime_s']['build']:.1f}", f"{s['runtime_s']['solve']:.1f}", f"{s['runtime_s']['verify']:.1f}",
                     f"{wall:.1f}", s["iterations"]])
        for b in s["acclimatization"]["breaks"][:3]:
            breaks.append(f"seed {seed}: {b}")
        by_group: dict[str, list] = {}
        for u in run.solution.unserved:
            by_group.setdefault(u.item_id.split("/")[0], []).append(u)
        week = {g.id: g for g in run.problem.groups}
        still: Counter = Counter()
        n_still = 0
        for gid in sorted(by_group):
            # the week's problem (same windows, prices, rules) with this group only
            pb = dataclasses.replace(run.problem, groups=(week[gid],))
            alone = solve(pb, StoppingCriterion(max_runtime_s=30.0, max_iterations=args.alone_iterations), seed=seed)
            assert not verify(pb, alone), f"{gid} alone: the verifier rejects the plan"
            if alone.unserved:
                n_still += 1
                still.update(u.reason for u in alone.unserved)
        rows[-1].insert(4, f"{len(by_group)} ({n_still})")
        alone_notes.append(f"seed {seed}: {len(by_group)} groups with something unserved, {n_still} of them also "
                           f"when planned alone ({', '.join(f'{k} {v}' for k, v in sorted(still.items())) or '-'})")
        print(rows[-1], flush=True)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    header = ["seed", "groups served", "persons served", "unserved (groups and must-visits) by reason",
              "groups not fully served (also alone)", "violations", "acclimatization",
              "busiest hotel night (rooms)", "Potala busiest day", "build s", "search s", "verify s", "wall s",
              "iterations"]
    body = (f"Demo week: {args.groups:,} groups (seed 2026), {sum(g.size for g in groups):,} persons, "
            f"time limit {args.time_limit:g} s for the whole plan (building included), iterations "
            f"{args.iterations if args.iterations is not None else 'time only'}. JIT compile/cache load "
            f"{compile_s:.1f} s ({t_warm:.1f} s with data loading), once per process, outside the limit. "
            f"Peak resident memory {rss_mib:,.0f} MiB.\n\n" + table(header, rows) +
            ("\n\nAcclimatization re-check (``acclimatization_breaks``: the Lhasa rules as written, incl. the WMS "
             "rest day, now also a rule of the optimizer): " + ("; ".join(breaks) if breaks else "no break") + ".") +
            ("\n\nPlanned alone (" + f"{args.alone_iterations} iterations each, outside the time limit; reasons of "
             "what stays unserved alone: no plan of the week can serve it): " + "; ".join(alone_notes) + ".") +
            "\n\nTimes measured on a shared machine (other work running): treat them as upper bounds.")
    cmd = f"python -m bench.demo_week --groups {args.groups} --time-limit {args.time_limit:g} --seeds {args.seeds}"
    if args.iterations is not None:
        cmd += f" --iterations {args.iterations}"
    if args.alone_iterations != 300:
        cmd += f" --alone-iterations {args.alone_iterations}"
    if not args.no_write:
        write_section("demo_week", "Demo week (multi-day itineraries, issue 16)", cmd, body)
    print(body)


if __name__ == "__main__":
    main()

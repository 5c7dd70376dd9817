"""Demo-day benchmark: plan the embedded peak day, fixed seed and iteration budget.

``python -m bench.demo_day [--iterations N] [--seed S]`` measures, in one fresh process:
the first solve (JIT compilation or cache load included), a second solve (warm), the verifier's
violations, the headline KPIs, and the peak resident memory of the process (``ru_maxrss``, target
<= 1 GiB resident). Plans through ``api.services.tours.plan_groups`` (solve, then the verifier).
Writes the ``demo_day`` section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import resource
import time

from bench.results_md import count_arg, table, write_section


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--iterations", type=count_arg, default=5000)
    ap.add_argument("--seed", type=count_arg, default=0)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    from api.services.tours import DEFAULT_DEMAND, lhasa_network, plan_groups, read_groups
    from optimizer.core.stop import MaxIterations
    from optimizer.tours import verify

    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    net = lhasa_network()
    groups = read_groups(DEFAULT_DEMAND, net)
    t_load = time.perf_counter() - t1
    t2 = time.perf_counter()
    problem, plan = plan_groups(net, groups, MaxIterations(args.iterations), seed=args.seed)
    t_first = time.perf_counter() - t2
    t3 = time.perf_counter()
    _, plan2 = plan_groups(net, groups, MaxIterations(args.iterations), seed=args.seed)
    t_warm = time.perf_counter() - t3
    violations = verify(problem, plan)
    same = plan.routes == plan2.routes
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    k = plan.kpis
    rows = [
        ["groups / visitors", f"{int(k['groups'])} / {int(k['visitors']):,}"],
        ["groups served (all must-visits)", f"{int(k['groups_served'])} ({k['served_pct']:.1f}%)"],
        ["visitors served", f"{int(k['visitors_served']):,}"],
        ["total score", f"{k['total_score']:,.0f}"],
        ["must-visits unserved", f"{int(k['must_visits_unserved'])} of {int(k['must_visits'])}"],
        ["mean wait per visit", f"{k['mean_wait_min']:.2f} min"],
        ["verifier violations", str(len(violations))],
        ["iterations / seed", f"{plan.stats.iterations} / {args.seed}"],
        ["import time", f"{t_import:.2f} s"],
        ["load network + matrices + demand", f"{t_load:.3f} s"],
        ["first solve + verify (JIT compile or cache load included)", f"{t_first:.2f} s"],
        ["warm solve + verify", f"{t_warm:.2f} s"],
        ["same seed, same plan", str(same)],
        ["peak resident memory", f"{rss_mib:,.0f} MiB (target <= 1,024 MiB)"],
    ]
    body = table(["measure", "value"], rows)
    path = write_section("demo_day", "Demo day (embedded Lhasa peak day)",
                         f"python -m bench.demo_day --iterations {args.iterations} --seed {args.seed}", body)
    print(body)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

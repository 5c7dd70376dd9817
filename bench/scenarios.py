"""Scenario benchmarks: one big peak day, and a sweep on local processes vs Dask.

``python -m bench.scenarios [--groups 5000] [--iterations 2000] [--sweep 8] [--sweep-groups 1000]
[--sweep-iterations 1000] [--workers 2]`` measures, in one fresh process:

(a) one peak day of ``--groups`` groups from ``generate_demand(network, n_groups, seed=1)`` on the
    whole embedded Lhasa instance, solved with ``StoppingCriterion(max_iterations, max_runtime_s=120)``
    and seed 1: wall time (demand generation, solve, verify), peak resident memory of the process
    (``ru_maxrss``, measured before anything else runs), verifier violations, groups served.
    Targets: <= 120 s on 2 cores, <= 4 GiB peak resident memory, 0 violations.
(b) a sweep of ``--sweep`` scenarios of ``--sweep-groups`` groups each (demand seeds 1..N, solver
    seeds 1..N, ``--sweep-iterations`` ILS iterations, no time limit) through
    ``api.services.scenarios.run_set`` on local processes (``jobs=workers``) and on a Dask
    ``LocalCluster(workers, 1 thread each)`` (``cluster=address``: the same code path, another
    executor): wall times (outputs and report included) and whether the KPI tables are identical
    (all columns but ``runtime_s``). Target: <= 5 min on 2 cores; same results on both back ends.

Writes the ``scenarios`` section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.results_md import count_arg, seconds_arg, table, write_section


def big_day(n_groups: int, iterations: int, time_limit_s: float) -> dict[str, object]:
    from instances.demand_generator import generate_demand
    from instances.loader import load_lhasa
    from optimizer.core.stop import StoppingCriterion
    from optimizer.tours import TourProblem, solve, verify, warm_up

    compile_s = warm_up()
    t0 = time.perf_counter()
    net = load_lhasa()
    groups = generate_demand(net, n_groups=n_groups, seed=1)
    t_gen = time.perf_counter() - t0
    problem = TourProblem(network=net, groups=groups)
    t1 = time.perf_counter()
    plan = solve(problem, StoppingCriterion(max_iterations=iterations, max_runtime_s=time_limit_s), seed=1)
    t_solve = time.perf_counter() - t1
    t2 = time.perf_counter()
    violations = verify(problem, plan)
    t_verify = time.perf_counter() - t2
    wall = time.perf_counter() - t0
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    k = plan.kpis
    return {"groups": len(groups), "visitors": sum(g.size for g in groups), "sites": net.n,
            "compile_s": compile_s, "gen_s": t_gen, "solve_s": t_solve, "verify_s": t_verify, "wall_s": wall,
            "iterations": plan.stats.iterations, "violations": len(violations), "rss_mib": rss_mib,
            "served": int(k.get("groups_served", 0)), "served_pct": float(k.get("served_pct", 0.0)),
            "visitors_served": int(k.get("visitors_served", 0)),
            "must_unserved": int(k.get("must_visits_unserved", 0)), "must": int(k.get("must_visits", 0))}


def sweep_doc(n: int, groups: int, iterations: int) -> dict[str, object]:
    return {"base": {"seed": 1, "iterations": iterations, "demand": {"profile": "peak", "groups": groups}},
            "scenario": [{"name": f"seed {k}", "seed": k, "demand": {"groups": groups, "seed": k}}
                         for k in range(1, n + 1)]}


def sweep(n: int, groups: int, iterations: int, workers: int, dask: bool) -> dict[str, object]:
    from api.services.scenarios import parse_document, run_set

    sset = parse_document(sweep_doc(n, groups, iterations))
    out: dict[str, object] = {"n": len(sset.scenarios)}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        local = run_set(sset, Path(tmp) / "local", jobs=workers).kpis
        out["local_s"] = time.perf_counter() - t0
        out["local_violations"] = int(local["violations"].sum())
        out["local_served_pct"] = float(local["served_pct"].mean())
        out["local_scenario_s"] = float(local["runtime_s"].sum())
        if dask:
            from distributed import LocalCluster
            t1 = time.perf_counter()
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                              silence_logs=40) as cluster:
                out["cluster_start_s"] = time.perf_counter() - t1
                t2 = time.perf_counter()
                dk = run_set(sset, Path(tmp) / "dask", cluster=cluster.scheduler_address).kpis
                out["dask_s"] = time.perf_counter() - t2
            out["dask_violations"] = int(dk["violations"].sum())
            out["identical"] = dk.drop("runtime_s").equals(local.drop("runtime_s"))
            out["dask_scenario_s"] = float(dk["runtime_s"].sum())
    return out


def ok(x: bool) -> str:
    return "yes" if x else "**no**"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--groups", type=int, default=5000)
    ap.add_argument("--iterations", type=count_arg, default=2000)
    ap.add_argument("--time-limit", type=seconds_arg, default=120.0)
    ap.add_argument("--sweep", type=int, default=8)
    ap.add_argument("--sweep-groups", type=int, default=1000)
    ap.add_argument("--sweep-iterations", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--no-write", action="store_true", help="print only; do not touch bench/RESULTS.md")
    args = ap.parse_args(argv)

    a = big_day(args.groups, args.iterations, args.time_limit)
    print(a, flush=True)
    b = sweep(args.sweep, args.sweep_groups, args.sweep_iterations, args.workers, not args.no_dask)
    print(b, flush=True)

    rows_a = [
        ["groups / visitors / sites", f"{a['groups']:,} / {a['visitors']:,} / {a['sites']}"],
        ["stop", f"{args.iterations} iterations or {args.time_limit:g} s; ran {a['iterations']} iterations, seed 1"],
        ["demand generation", f"{a['gen_s']:.2f} s"],
        ["solve", f"{a['solve_s']:.1f} s"],
        ["verify", f"{a['verify_s']:.2f} s"],
        ["wall (generate + solve + verify)", f"{a['wall_s']:.1f} s (target <= 120 s: {ok(a['wall_s'] <= 120)})"],
        ["peak resident memory", f"{a['rss_mib']:,.0f} MiB (target <= 4,096 MiB: {ok(a['rss_mib'] <= 4096)})"],
        ["verifier violations", f"{a['violations']} (target 0: {ok(a['violations'] == 0)})"],
        ["groups served (all must-visits)", f"{a['served']:,} ({a['served_pct']:.1f}%)"],
        ["visitors served", f"{a['visitors_served']:,}"],
        ["must-visits unserved", f"{a['must_unserved']:,} of {a['must']:,}"],
        ["JIT warm-up (cache load)", f"{a['compile_s']:.2f} s"],
    ]
    rows_b = [
        ["scenarios", (f"{b['n']} x {args.sweep_groups:,} groups, {args.sweep_iterations} iterations each "
                       "(demand and solver seeds 1..N)")],
        [f"local runner (jobs={args.workers}) wall",
         (f"{b['local_s']:.1f} s (target <= 300 s: {ok(b['local_s'] <= 300)}); sum of scenario times "
          f"{b['local_scenario_s']:.1f} s")],
        ["local: violations / mean served", f"{b['local_violations']} / {b['local_served_pct']:.1f}%"],
    ]
    if "dask_s" in b:
        rows_b += [
            [f"Dask LocalCluster ({args.workers} workers x 1 thread) start", f"{b['cluster_start_s']:.1f} s"],
            ["Dask wall (cluster running)", (f"{b['dask_s']:.1f} s (target <= 300 s: {ok(b['dask_s'] <= 300)}); "
                                             f"sum of scenario times {b['dask_scenario_s']:.1f} s")],
            ["Dask: violations", str(b["dask_violations"])],
            ["KPI tables identical (all columns but runtime_s)", ok(b["identical"])],
        ]
    body = (f"### (a) One peak day, {a['groups']:,} groups\n\n{table(['measure', 'value'], rows_a)}\n\n"
            f"### (b) Sweep, local processes vs Dask.distributed\n\n{table(['measure', 'value'], rows_b)}\n\n"
            f"Cores available: {len(os.sched_getaffinity(0))}.")
    print(body)
    if not args.no_write:
        given = sys.argv[1:] if argv is None else argv
        cmd = " ".join(["python -m bench.scenarios", *given])
        path = write_section("scenarios", "Scenarios: big day and sweep, local vs Dask", cmd, body)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

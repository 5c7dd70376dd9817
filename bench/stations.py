"""Lhasa station siting: oxygen (MCLP) and EV chargers (FRLM), CP-SAT vs CBC, solve times.

Run ``python -m bench.stations`` (``--quick``: p in (2, 5), no RESULTS.md). Fixed instance: the
embedded demo day (``demand_peak_day.csv``) planned with ``max_iterations=2000``, seed 0; oxygen
demand with the defaults of ``optimizer.stations.demand`` (threshold 30 and 15 road minutes); EV flows
with ev_share 0.2, 4 persons per vehicle, all legs and legs >= 20 km, range 300 km at -5 degC
(derated at 3650 m). Each row is one siting run for p (the marginal curve p = 1..p is included
in the time, as the CLI does), 60 s limit per solve. Target: <= 10 s to optimality. Every
answer is checked by the independent verifier (``optimizer.stations.verify_siting``).
"""

from __future__ import annotations

import sys
import time

from api.services import tours
from bench.results_md import parse_quick, table, write_section
from instances.stations import read_candidate_sites
from models.siting import OPT_TOL
from optimizer.core.stop import MaxIterations, MaxRuntime
from optimizer.stations.demand import ev_flows, oxygen_demand
from optimizer.stations.siting import (
    SitingParams,
    charger_siting_problem,
    oxygen_siting_problem,
    solve_siting,
)
from optimizer.stations.verify_siting import verify_siting

PS = (1, 2, 3, 5, 8, 10)
TARGET_S = 10.0
TIME_LIMIT_S = 60.0


def _run(problem, backend: str) -> tuple[float, float, str, tuple, float]:
    """Solve p with the curve 1..p (as the CLI does), verified: (covered, covered %, status, chosen, s)."""
    sol = solve_siting(problem, MaxRuntime(TIME_LIMIT_S * problem.p), params=SitingParams(backend=backend,
                                                                                          p_max=problem.p))
    violations = verify_siting(problem, sol)
    if violations:
        raise RuntimeError(f"{backend}: the verifier rejects the answer: {violations[:3]}")
    cov = sol.objective or 0.0
    return cov, 100.0 * cov / problem.total, sol.status, sol.chosen, sol.stats.runtime_s


def main(argv: list[str]) -> None:
    quick = parse_quick(argv, __doc__)
    ps = (2, 5) if quick else PS
    net = tours.lhasa_network()
    t0 = time.perf_counter()
    problem, plan = tours.demo_day(MaxIterations(2000), seed=0)
    t_plan = time.perf_counter() - t0
    df = oxygen_demand(problem, plan)
    o2, o2_existing = read_candidate_sites("oxygen", net)
    ch, ch_existing = read_candidate_sites("charger", net)
    sites, litres = df["site_id"].to_list(), df["litres_day"].to_list()
    cases = [("oxygen", f"T = {thr} min",
              lambda p, thr=thr: oxygen_siting_problem(net, sites, litres, p, o2, o2_existing, thr))
             for thr in (30.0, 15.0)]
    for mk in (0.0, 20.0):
        fl = ev_flows(problem, plan, ev_share=0.2, min_path_km=mk)
        cases.append(("charger", f"legs >= {mk:g} km ({len(fl)} paths)",
                      lambda p, fl=fl: charger_siting_problem(net, fl, p, ch, ch_existing, range_km=300.0,
                                                              temperature_c=-5.0)))
    rows, worst, n_opt, n_agree, n = [], 0.0, 0, 0, 0
    for kind, label, make in cases:
        for p in ps:
            prob = make(p)
            a, b = _run(prob, "cpsat"), _run(prob, "pulp")
            agree = abs(a[0] - b[0]) <= OPT_TOL * max(abs(a[0]), 1.0)
            n += 1
            n_opt += a[2] == "optimal" and b[2] == "optimal"
            n_agree += agree
            worst = max(worst, a[4], b[4])
            row = [kind, label, p, a[2], f"{a[1]:.1f}", f"{a[4]:.2f}", b[2],
                   f"{b[1]:.1f}", f"{b[4]:.2f}", "yes" if agree else "**NO**", " ".join(a[3])]
            rows.append(row)
            print(*row, flush=True)
    summary = (f"{n} runs: both back ends optimal in {n_opt}, agree in {n_agree}; slowest run {worst:.2f} s "
               f"(target {TARGET_S:g} s, each run includes the p = 1..p curve). Demo-day plan: {t_plan:.2f} s.")
    print(summary)
    if quick:
        return
    body = "\n".join([
        ("Oxygen stations: MCLP over the 23 oxygen candidates (3 existing) of `instances/lhasa/stations.csv`, demand = litres/day "
        "per visited site (visitors x AMS share by elevation x 0.3 x 2 L/min x 15 min, `optimizer/stations/demand.py`). "
        "EV chargers: FRLM (AC-PC) over the 22 charger candidates (5 existing), flows = planned route legs on road shortest "
        "paths, 0.2 EV share, 4 persons/vehicle; 300 km nominal range derated to 183.8 km (-5 degC, 3650 m). "
        "Demo day = `demand_peak_day.csv` planned with 2000 ILS iterations, seed 0."),
        "",
        f"**{summary}**",
        "",
        table(["kind", "case", "p", "CP-SAT status", "CP-SAT cov %", "CP-SAT s", "CBC status", "CBC cov %", "CBC s",
               "agree", "stations (CP-SAT)"], rows),
    ])
    path = write_section("stations", "Lhasa station siting: oxygen (MCLP) and chargers (FRLM)",
                         "python -m bench.stations", body)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])

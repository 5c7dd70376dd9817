"""Lhasa station siting: oxygen (MCLP) and EV chargers (FRLM), CP-SAT vs CBC, solve times.

Run ``python -m bench.stations`` (``--quick``: p in (2, 5), no RESULTS.md). Fixed instance: the
embedded demo day (``demand_peak_day.csv``) planned with ``max_iterations=2000``, seed 0; oxygen
demand with the defaults of ``optimizer.stations`` (threshold 30 and 15 road minutes); EV flows
with ev_share 0.2, 4 persons per vehicle, all legs and legs >= 20 km, range 300 km at -5 degC
(derated at 3650 m). Each row is one siting run for p (the marginal curve p = 1..p is included
in the time, as the CLI does), 60 s limit per solve. Target: <= 10 s to optimality.
"""

from __future__ import annotations

import sys
import time

from bench.results_md import table, write_section
from instances.demand import read_demand
from instances.loader import LHASA_DIR, load_lhasa
from models.siting import OPT_TOL
from optimizer.domain import TourProblem
from optimizer.ils import StoppingCriterion
from optimizer.stations.demand import ev_flows, oxygen_demand, site_chargers, site_oxygen
from optimizer.tours import solve

PS = (1, 2, 3, 5, 8, 10)
TARGET_S = 10.0


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    ps = (2, 5) if quick else PS
    net = load_lhasa()
    problem = TourProblem(network=net, groups=read_demand(LHASA_DIR / "demand_peak_day.csv", net))
    t0 = time.perf_counter()
    plan = solve(problem, StoppingCriterion(max_iterations=2000), seed=0)
    t_plan = time.perf_counter() - t0
    df = oxygen_demand(problem, plan)
    cases = [("oxygen", f"T = {thr} min", lambda p, b, thr=thr: site_oxygen(net, df, p, threshold_min=thr,
                                                                            backend=b, p_max=p))
             for thr in (30.0, 15.0)]
    for mk in (0.0, 20.0):
        fl = ev_flows(problem, plan, ev_share=0.2, min_path_km=mk)
        cases.append(("charger", f"legs >= {mk:g} km ({len(fl)} paths)",
                      lambda p, b, fl=fl: site_chargers(net, fl, p, range_km=300.0, temperature_c=-5.0, backend=b,
                                                         p_max=p)))
    rows, worst, n_opt, n_agree, n = [], 0.0, 0, 0, 0
    for kind, label, run in cases:
        for p in ps:
            a, b = run(p, "cpsat"), run(p, "pulp")
            agree = abs(a.covered - b.covered) <= OPT_TOL * max(abs(a.covered), 1.0)
            n += 1
            n_opt += a.status == "optimal" and b.status == "optimal"
            n_agree += agree
            worst = max(worst, a.wall_s, b.wall_s)
            row = [kind, label, p, a.status, f"{a.covered_pct:.1f}", f"{a.wall_s:.2f}", b.status,
                   f"{b.covered_pct:.1f}", f"{b.wall_s:.2f}", "yes" if agree else "**NO**", " ".join(a.chosen)]
            rows.append(row)
            print(*row, flush=True)
    summary = (f"{n} runs: both back ends optimal in {n_opt}, agree in {n_agree}; slowest run {worst:.2f} s "
               f"(target {TARGET_S:g} s, each run includes the p = 1..p curve). Demo-day plan: {t_plan:.2f} s.")
    print(summary)
    if quick:
        return
    body = "\n".join([
        ("Oxygen stations: MCLP over the 23 oxygen candidates (3 existing) of `instances/lhasa/stations.csv`, demand = litres/day "
        "per visited site (visitors x AMS share by elevation x 0.3 x 2 L/min x 15 min, `optimizer/stations.py`). "
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

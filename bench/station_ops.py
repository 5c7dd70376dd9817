"""Station-operations benchmark (issue 6): EV charging 50 vehicles x 10 stations x 96 slots
(target <= 30 s, proven gap <= 1 %) and oxygen replenishment 20 stations x 7 days (target <= 60 s).

    python -m bench.station_ops [--quick]

Writes ``bench/results/station_ops.md`` via ``write_section`` (rebuilds ``bench/RESULTS.md``).
Instances are reproducible (``optimizer.station_ops.synthetic_charging`` / ``synthetic_oxygen``,
fixed seeds) plus the Lhasa demo day (ILS 2000 iterations, seed 0). Every plan is re-checked
with ``optimizer.station_ops_verify``; the table says 'ok' only when the verifier is empty.
"""

from __future__ import annotations

import sys
import time

from bench.results_md import table, write_section
from models.charging import solve_charging
from models.oxygen_irp import solve_exact, solve_policy
from optimizer.station_ops import synthetic_charging, synthetic_oxygen
from optimizer.station_ops_verify import verify_charging, verify_oxygen


def charging_rows(seeds: list[int]) -> list[list[object]]:
    rows = []
    for seed in seeds:
        p = synthetic_charging(50, 10, 15.0, seed=seed)
        t0 = time.perf_counter()
        r = solve_charging(p, time_limit_s=30.0)
        wall = time.perf_counter() - t0
        v = verify_charging(p, r)
        rows.append([f"synthetic seed {seed}", "50 x 10 x 96", r.status, f"{wall:.2f}",
                     f"{100 * r.gap:.3f}%" if r.gap is not None else "n/a",
                     f"{r.energy_cost_cny:,.2f}" if r.energy_cost_cny is not None else "n/a",
                     len(r.unserved), "ok" if not v else f"{len(v)} violations"])
    return rows


def lhasa_rows() -> tuple[list[list[object]], list[list[object]]]:
    from api.station_ops_cli import plan_demo_day, run_charging, run_oxygen

    problem, plan = plan_demo_day(2000)
    ch = run_charging(problem, plan)
    d = ch["doc"]
    cp = ch["problem"]
    crow = [["Lhasa demo day", f"{len(cp.vehicles)} x {len(cp.stations)} x {cp.n_slots}", d["status"],
             f"{d['wall_s']:.2f}", f"{100 * d['gap']:.3f}%" if d["gap"] is not None else "n/a",
             f"{d['energy_cost_cny']:,.2f}", len(d["unserved"]), "ok" if not d["verifier"] else "violations"]]
    ox = run_oxygen(problem, plan)
    o = ox["doc"]
    irp = ox["problem"]
    orow = [["Lhasa demo day", f"{irp.n} x {irp.days}", o["method"], o["status"], f"{o['wall_s']:.3f}",
             f"{o['total_cost_cny']:,.2f}", "n/a", o["min_margin_cylinders"], o["stockout_cylinders"],
             "ok" if not o["verifier"] else "violations"]]
    return crow, orow


def oxygen_rows(seeds: list[int], small_seeds: list[int]) -> list[list[object]]:
    rows = []
    for seed in seeds:
        p = synthetic_oxygen(20, 7, seed=seed)
        r = solve_policy(p)
        v = verify_oxygen(p, r)
        rows.append([f"synthetic seed {seed}", "20 x 7", "policy", r.status, f"{r.wall_s:.3f}",
                     f"{r.total_cost_cny:,.2f}", "n/a", r.min_margin, r.stockout_cylinders,
                     "ok" if not v else f"{len(v)} violations"])
    for seed in small_seeds:
        p = synthetic_oxygen(6, 5, seed=seed, trucks=2)
        ex = solve_exact(p, time_limit_s=60.0)
        pol = solve_policy(p)
        gap = (pol.total_cost_cny - ex.total_cost_cny) / ex.total_cost_cny if ex.total_cost_cny else 0.0
        for r in (ex, pol):
            v = verify_oxygen(p, r)
            rows.append([f"small seed {seed}", "6 x 5", r.method, r.status, f"{r.wall_s:.3f}",
                         f"{r.total_cost_cny:,.2f}", "0 (optimum)" if r is ex else f"{100 * gap:+.1f}%",
                         r.min_margin, r.stockout_cylinders, "ok" if not v else f"{len(v)} violations"])
    return rows


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    quick = "--quick" in argv
    crows = charging_rows([0] if quick else [0, 1, 2])
    orows = oxygen_rows([0] if quick else [0, 1, 2], [0] if quick else [0, 1, 2])
    lc, lo = lhasa_rows()
    body = (
        "### EV charging schedule (CP-SAT, 15-min slots over 24 h; target <= 30 s, proven gap <= 1 %)\n\n"
        + table(["instance", "vehicles x stations x slots", "status", "wall s", "proven gap", "energy cost CNY",
                 "unserved vehicles", "verifier"], crows + lc)
        + "\n\nGap = (objective - CP-SAT bound) / objective, objective incl. the shortfall penalty. Lhasa: "
          "unserved coaches are routes (e.g. Reting, Namtso round trips) whose energy exceeds the usable "
          "battery with no charger stop long enough on the way; each is named with its reason.\n\n"
        "### Oxygen replenishment (20 stations x 7 days target <= 60 s)\n\n"
        + table(["instance", "stations x days", "method", "status", "wall s", "cost CNY", "vs exact optimum",
                 "min stock margin", "stock-outs (cyl)", "verifier"], orows + lo)
        + "\n\nThe 20 x 7 plans use the documented order-up-to policy with savings routes (no optimality "
          "claim: the exact route-enumeration model does not certify 20 x 7 within 60 s). The 6 x 5 rows "
          "give the policy's cost excess over the proven optimum of the exact CP-SAT model on the same data "
          "(costs exclude stock-out penalties; stock-outs are listed separately).\n"
    )
    path = write_section("station_ops", "Station operations: EV charging and oxygen replenishment",
                         "python -m bench.station_ops", body)
    print(body)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

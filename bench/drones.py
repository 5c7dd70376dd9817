"""Drone deliveries: scale (200 deliveries x 3 hubs x 20 drones), heuristic vs exact, altitude effect.

Run ``python -m bench.drones`` (``--quick``: one seed each, no RESULTS.md). Fixed instances:
``instances.drones.random_deliveries`` (seeds listed) on the Lhasa airspace (instances/lhasa/airspace.geojson);
scale: hubs niangre (3 FlyCart + 4 parcel), dagze_park (3 + 4), quxu_hub (2 + 4) = 20 drones, 200
deliveries (150 around the city within 12 km, 25 near Dagze, 25 near Quxu), 15 degC, limit 25 s
(2000 iterations max), seed 0. Small: 10-12 deliveries, one hub (2 parcel + 1 FlyCart), CP-SAT exact
vs the heuristic at 300 iterations (both through ``optimizer.drones.solve``; the exact one with
``DroneParams(method="exact")``, 60 s). Altitude: the same hub and demand at 0 m, 3650 m and 4718 m (ISA).
Every plan is checked by ``optimizer.drones.verify``. "air matrix s" times ``build_instance`` on its own;
"total s" is the solve's own runtime, which builds the instance again.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench.results_md import table, write_section
from instances.drones import lhasa_airspace, load_drone_types, random_deliveries
from optimizer.core.airspace import Airspace, Hub
from optimizer.core.results import OPTIMAL
from optimizer.core.stop import StoppingCriterion
from optimizer.drones import Delivery, DroneParams, DroneProblem, solve, verify
from optimizer.drones.instance import build_instance

TYPES = load_drone_types()
LHASA = lhasa_airspace()


def scale_problem(seed: int) -> DroneProblem:
    fleets = {"niangre": (("flycart30", 3), ("parcel", 4)), "dagze_park": (("flycart30", 3), ("parcel", 4)),
              "quxu_hub": (("flycart30", 2), ("parcel", 4))}
    hubs = tuple(Hub(h.id, h.name, h.lon, h.lat, h.elevation_m, fleets[h.id]) for h in LHASA.hubs if h.id in fleets)
    dl = random_deliveries(150, seed=seed, center=(91.12, 29.665), spread_km=12)
    dl += [Delivery(f"dz{d.id}", d.lon, d.lat, d.weight_kg, d.window, d.priority)
           for d in random_deliveries(25, seed=seed + 100, center=(91.32, 29.68), spread_km=7)]
    dl += [Delivery(f"qx{d.id}", d.lon, d.lat, d.weight_kg, d.window, d.priority)
           for d in random_deliveries(25, seed=seed + 200, center=(90.80, 29.39), spread_km=7)]
    return DroneProblem(Airspace(LHASA.zones, hubs, LHASA.buffer_km), TYPES, tuple(dl), temperature_c=15)


def small_problem(seed: int, n: int) -> DroneProblem:
    hub = Hub("niangre", "n", 91.112, 29.712, 3750, (("parcel", 2), ("flycart30", 1)))
    dl = random_deliveries(n, seed=seed, center=(91.11, 29.69), spread_km=5, day=(480, 720))
    return DroneProblem(Airspace(LHASA.zones, (hub,)), TYPES, tuple(dl), temperature_c=10, day=(480, 720))


def altitude_problem(elev: float) -> DroneProblem:
    hub = Hub("h", "h", 91.0, 30.0, elev, (("parcel", 2), ("flycart30", 1)))
    dl = random_deliveries(40, seed=7, center=(91.0, 30.0), spread_km=9)
    return DroneProblem(Airspace((), (hub,)), TYPES, tuple(dl), temperature_c=None)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.drones", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one seed of the scale case, two small cases; no RESULTS.md")
    quick = ap.parse_args(argv).quick
    seeds = (0,) if quick else (0, 1, 2)
    rows = []
    for s in seeds:
        p = scale_problem(s)
        t0 = time.perf_counter()
        inst = build_instance(p)
        t_build = time.perf_counter() - t0
        plan = solve(p, StoppingCriterion(max_iterations=2000, max_runtime_s=25), seed=0)
        wall = plan.stats.runtime_s
        v = verify(p, plan)
        rows.append([s, len(p.deliveries), len(p.airspace.hubs), len(p.drones()), f"{t_build:.2f}", plan.stats.iterations,
                     f"{wall:.1f}", f"{plan.served}", len(inst.excluded),
                     f"{plan.served_priority}/{sum(d.priority for d in p.deliveries)}", len(plan.trips),
                     f"{plan.total_energy_wh / 1000:.2f}", "OK" if not v else len(v)])
        print(rows[-1], flush=True)
    body = "### Scale: 200 deliveries x 3 hubs x 20 drones (target <= 30 s)\n\n" + table(
        ["seed", "deliveries", "hubs", "drones", "air matrix s", "iterations", "total s", "served", "excluded (no-fly/range)",
         "priority served", "trips", "energy kWh", "verifier"], rows)
    rows = []
    for s in ((0, 1) if quick else range(10)):
        n = 12 if s % 2 == 0 else 10
        p = small_problem(s, n)
        ex = solve(p, StoppingCriterion(max_runtime_s=60), seed=0, params=DroneParams(method="exact"))
        h = solve(p, StoppingCriterion(max_iterations=300), seed=0)
        ok = not verify(p, ex) and not verify(p, h)
        gap = 100 * (h.total_energy_wh - ex.total_energy_wh) / ex.total_energy_wh if ex.total_energy_wh else 0.0
        rows.append([s, n, f"{ex.served_priority}", f"{ex.total_energy_wh:.1f}", "yes" if ex.stats.status == OPTIMAL else "no",
                     f"{ex.stats.runtime_s:.2f}", f"{h.served_priority}", f"{h.total_energy_wh:.1f}", f"{gap:.2f}",
                     f"{h.stats.runtime_s:.3f}", "OK" if ok else "FAIL"])
        print(rows[-1], flush=True)
    body += "\n\n### Small cases: heuristic vs exact CP-SAT (target gap <= 1 %)\n\n" + table(
        ["seed", "deliveries", "exact priority", "exact Wh", "proved optimal", "exact s", "heur. priority", "heur. Wh",
         "gap %", "heur. s", "verifier"], rows)
    rows = []
    for elev, name in ((0.0, "sea level"), (3650.0, "Lhasa"), (4718.0, "Namtso")):
        p = altitude_problem(elev)
        plan = solve(p, StoppingCriterion(max_iterations=500), seed=0)
        served = plan.served
        rows.append([name, int(elev), f"{p.rho(0):.3f}", f"{served}/{len(p.deliveries)}", len(plan.trips),
                     f"{plan.total_energy_wh / 1000:.2f}", f"{plan.total_energy_wh / max(served, 1):.0f}",
                     "OK" if not verify(p, plan) else "FAIL"])
        print(rows[-1], flush=True)
    body += ("\n\n### Altitude: the same 3 drones (2 parcel + 1 FlyCart) and 40 deliveries, ISA density\n\n"
             + table(["site", "elevation m", "rho kg/m3", "served", "trips", "energy kWh", "Wh per delivery", "verifier"], rows))
    body += ("\n\nPublic truck-and-drone sets in `shared/benchmarks/drones`: their drone-only part (mFSTSP, UAVs "
             "from the depot, no truck) is read and solved by `python -m bench.drones_public` (section below); "
             "FSTSP and TSP-D give drone flight times or speed factors rather than payloads and batteries, and "
             "their objectives need the truck, so they are not solved.")
    if not quick:
        write_section("drones", "Drone deliveries at altitude", "python -m bench.drones", body)
    print(body)


if __name__ == "__main__":
    main(sys.argv[1:])

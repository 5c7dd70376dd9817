"""Public drone instances: the drone-only part of the mFSTSP set (Murray & Raj 2019), read, solved, verified.

Run ``python -m bench.drones_public [--time-limit S] [--iterations N] [--vehicles 101] [--uavs 1,4] [--quick]``
(``--quick``: the first two problems of each size, no RESULTS.md). Every problem in
``shared/benchmarks/drones/mfstsp_murray_raj_2019`` (100 problems: 8, 10, 25, 50, 100 customers, Seattle
and Buffalo) is read by ``instances.drone_benchmarks.read_mfstsp`` with one UAV file and each fleet size:
one hub at the depot, ``num_uavs`` UAVs, whole-day windows, priority 1, no no-fly zones. Each is solved by
``optimizer.drones.solve`` (seed 0, stop at the time limit or the iteration cap, whichever first; the
limit covers the air-distance matrix too) and every plan is checked by ``optimizer.drones.verify``
(any violation raises).

The mFSTSP objective (truck + UAV makespan, ``bks.csv``) is a different problem and is not compared.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict

from bench.results_md import count_arg, seconds_arg, table, write_section
from instances.drone_benchmarks import list_mfstsp_problems, mfstsp_root, read_mfstsp, vehicles_csv
from optimizer.core.stop import StoppingCriterion
from optimizer.drones import CAPACITY, PAYLOAD, RANGE, solve, verify

REASONS = ("overweight", "out of range", "no fleet capacity", "other")
_CLASS = {PAYLOAD: "overweight", RANGE: "out of range", CAPACITY: "no fleet capacity"}


def reason_class(reason: str) -> str:
    """Group the model's unserved reason words: payload, battery range, fleet capacity, other."""
    return _CLASS.get(reason, "other")


def _cities() -> dict[str, str]:
    path = mfstsp_root() / "problems_info.csv"
    out = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            f = [x.strip() for x in line.split(",")]
            if len(f) > 2 and not line.startswith("%"):
                out[f[0]] = f[2]
    return out


def run_one(problem_dir, veh, uavs: int, stop: StoppingCriterion) -> dict:
    t0 = time.perf_counter()
    p = read_mfstsp(problem_dir, veh, uavs)
    plan = solve(p, stop, seed=0)
    wall = time.perf_counter() - t0
    v = verify(p, plan)
    if v:
        raise RuntimeError(f"{problem_dir.name} uavs={uavs}: verifier found {len(v)} violations: {[str(x) for x in v[:5]]}")
    un = defaultdict(int)
    for u in plan.unserved:
        un[reason_class(u.reason)] += 1
    return {"problem": problem_dir.name, "n": len(p.deliveries), "uavs": uavs,
            "served": plan.served, "unserved": dict(un), "trips": len(plan.trips),
            "wh": plan.total_energy_wh, "flight_min": plan.total_flight_min,
            "last_return": max((t.return_min for t in plan.trips), default=0.0),
            "iterations": plan.stats.iterations, "s": wall}


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.drones_public", description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=seconds_arg, default=1.0, help="seconds per solve (default 1)")
    ap.add_argument("--iterations", type=count_arg, default=500, help="ruin-and-recreate iteration cap (default 500)")
    ap.add_argument("--vehicles", type=int, default=101, help="tbl_vehicles_<id>.csv (101..104, default 101)")
    ap.add_argument("--uavs", default="1,4", help="fleet sizes, comma-separated (default 1,4)")
    ap.add_argument("--quick", action="store_true", help="two problems per size, no RESULTS.md")
    a = ap.parse_args(argv)
    uav_counts = [int(x) for x in a.uavs.split(",")]
    probs = list_mfstsp_problems()
    if not probs:
        raise SystemExit(f"mFSTSP benchmarks not found under {mfstsp_root()}")
    veh = vehicles_csv(a.vehicles)
    rp = read_mfstsp(probs[0], veh, 1)
    ty = next(iter(rp.types.values()))
    if a.quick:
        seen: dict[int, int] = defaultdict(int)
        keep = []
        for pd in probs:
            n = len(read_mfstsp(pd, veh, 1).deliveries)
            if seen[n] < 2:
                keep.append(pd)
                seen[n] += 1
        probs = keep
    stop = StoppingCriterion(max_runtime_s=a.time_limit, max_iterations=a.iterations)
    cities = _cities()
    t_all = time.perf_counter()
    res = []
    for pd in probs:
        for u in uav_counts:
            r = run_one(pd, veh, u, stop)
            r["city"] = cities.get(pd.name, "")
            res.append(r)
            print(f"{r['problem']} n={r['n']} uavs={u} served={r['served']} unserved={r['unserved']} "
                  f"trips={r['trips']} kWh={r['wh'] / 1000:.3f} it={r['iterations']} {r['s']:.2f}s", flush=True)
    total_s = time.perf_counter() - t_all

    groups: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for r in res:
        groups[(r["n"], r["uavs"])].append(r)
    rows = []
    for (n, u), rs in sorted(groups.items()):
        nd = sum(r["n"] for r in rs)
        served = sum(r["served"] for r in rs)
        rows.append([n, u, len(rs), nd, served, f"{100 * served / nd:.1f}",
                     *[sum(r["unserved"].get(k, 0) for r in rs) for k in REASONS],
                     sum(r["trips"] for r in rs), f"{sum(r['wh'] for r in rs) / 1000:.2f}",
                     f"{sum(r['last_return'] for r in rs) / len(rs):.0f}",
                     f"{sum(r['s'] for r in rs) / len(rs):.2f}", f"{max(r['s'] for r in rs):.2f}", "OK"])
    body = (
        f"Drone-only part of the 100 mFSTSP problems (Murray & Raj 2019, github.com/optimatorlab/mFSTSP @53c0771; "
        f"`shared/benchmarks/drones/mfstsp_murray_raj_2019`), read by `instances.drone_benchmarks.read_mfstsp`: "
        f"one hub at the depot (altitude 0 m, ISA air) with 1 or 4 UAVs of `tbl_vehicles_{a.vehicles}.csv`, every "
        "customer a delivery of its parcel weight (lbs x 0.45359237), no time windows (day 0-1440 min), priority 1, "
        "no no-fly zones. Solved by `optimizer.drones.solve` (seed 0, "
        f"{a.time_limit:g} s or {a.iterations} iterations, whichever first); every plan passed "
        "`optimizer.drones.verify` (the run raises on any violation).\n\n"
        f"UAV mapping (`mfstsp_drone_type`): battery {ty.battery_wh:.1f} Wh (J / 3600), reserve 0 (mFSTSP sorties may "
        f"use the whole battery), payload {ty.payload_kg:.3f} kg (capacity lbs), cruise {ty.speed_mps:.2f} m/s at "
        f"{ty.cruise_agl_m:g} m, climb {ty.climb_mps:.2f} m/s (harmonic mean of take-off and landing speeds, so "
        f"climb + descent time matches), service {ty.service_s:g} s, {ty.swap_min:g} min on the ground between "
        "sorties (launch + recovery time). Frame/battery mass (4.2 + 1.6 kg), 6 rotors of 0.196 m2, efficiency 0.6 "
        "and the 14 kg thrust limit are **assumptions** taken from our `parcel` type (`instances/lhasa/drone_types.csv`, "
        "nearest in payload); energy follows our Dorling et al. (2017) power model, not mFSTSP's endurance model.\n\n"
        "**Not comparable to the mFSTSP best-known values** (`bks.csv`, truck + UAV makespan in seconds): "
        "there the truck carries the UAVs and every customer is served (heavy parcels by the truck); here there is "
        "no truck, so parcels over the 5 lb UAV capacity (100 lb parcels, about 18 % of customers) and customers "
        "beyond the battery's out-and-back radius from the depot stay unserved, by design.\n\n"
        "Unserved reasons: *overweight* = parcel above the UAV payload; *out of range* = no UAV can reach it and "
        "return within the battery; *no fleet capacity* = feasible alone but not fitted into the day. "
        "Last return = completion time of the last sortie (min after the start), mean over instances. With whole-day "
        "windows and the energy objective, the fleet size changes neither the served set nor the energy (one UAV can "
        "fly every feasible sortie within the day); more UAVs only shorten the last return a little, since the "
        "objective does not reward finishing early.\n\n"
        + table(["customers", "UAVs", "instances", "deliveries", "served", "served %", *REASONS, "trips",
                 "energy kWh", "last return min (mean)", "time s (mean)", "time s (max)", "verifier"], rows))
    first = []
    for n in sorted({r["n"] for r in res}):
        for r in [r for r in res if r["n"] == n][: 2 * len(uav_counts)]:
            first.append([r["problem"], r["city"], r["n"], r["uavs"], r["served"],
                          *[r["unserved"].get(k, 0) for k in REASONS[:3]], r["trips"], f"{r['wh']:.1f}",
                          f"{r['flight_min']:.1f}", f"{r['last_return']:.1f}", r["iterations"], f"{r['s']:.2f}"])
    body += ("\n\n### First two problems of each size\n\n"
             + table(["problem", "city", "customers", "UAVs", "served", "overweight", "out of range", "no fleet capacity",
                      "trips", "energy Wh", "flight min", "last return min", "iterations", "time s"], first))
    body += f"\n\n{len(res)} solves, {total_s:.0f} s in all."
    cmd = "python -m bench.drones_public" + (f" --time-limit {a.time_limit:g}" if a.time_limit != 1.0 else "")
    if a.iterations != 500:
        cmd += f" --iterations {a.iterations}"
    if a.vehicles != 101:
        cmd += f" --vehicles {a.vehicles}"
    if a.uavs != "1,4":
        cmd += f" --uavs {a.uavs}"
    if not a.quick:
        write_section("drones_public", "Public drone instances (mFSTSP, drone-only part)", cmd, body)
    print(body)


if __name__ == "__main__":
    main(sys.argv[1:])

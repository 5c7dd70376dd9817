"""OPHS and MCTOPMTW benchmarks for the multi-day itinerary solver (issue 16).

    python -m bench.itineraries --format ophs|mctopmtw --instances DIR --values CSV \
        --time-limit S --out FILE.csv [--limit N] [--every K] [--seed 0] [--trip-tolerance 0.003] \
        [--section NAME] [--half A|B]

Every ``*.ophs`` / ``MCTOPMTW-*.txt`` file under ``DIR`` (sorted by path; ``--every K`` keeps every
K-th file, ``--limit N`` the first N after that; files with no value in ``--values`` are skipped and
named unless ``--all``) is read (:mod:`instances.ophs`,
:mod:`instances.mctopmtw`), solved by :func:`optimizer.itineraries.solve.solve` with a wall-clock
limit of ``S`` seconds (construction included) and a fixed seed, and the plan is re-checked by the
independent verifier :func:`optimizer.itineraries.verify.verify` (``valid`` = 1 when it reports
nothing, else 0 and the score does not count as a result). Columns of the CSV:
``instance, m, value, score, gap_pct, valid, wall_s, iterations, new_best`` where ``m`` is the number
of days (trips / tours), ``value`` the reference value from ``--values`` (OPHS: optimal;
MCTOPMTW: 2013 best-known), ``gap_pct = 100 (value - score) / value`` (negative: better than the
reference, listed as ``new_best``). OPHS trip lengths get a tolerance (``--trip-tolerance``,
default 0.003, the rounding of ``T_d`` in the files; see ``instances/ophs.py``). With ``--section``
the summary and table go to ``bench/RESULTS.md`` through :mod:`bench.results_md`.
The numba kernels are loaded on a tiny problem before the first timed solve. Timings are wall-clock
on a shared machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

from instances.mctopmtw import read_mctopmtw, read_mctopmtw_values
from instances.ophs import read_ophs, read_ophs_values
from optimizer.core.stop import StoppingCriterion
from optimizer.itineraries.solve import solve
from optimizer.itineraries.verify import verify

#: How the search settings that matter for each format were chosen (said in the section).
SETTINGS_NOTE = {
    "ophs": ("Settings of the OPHS start (optimizer.itineraries.giant: race of hotel sequences, giant_share) "
             "were chosen on hard cases of both halves, so neither half is held out for them; the itinerary "
             "ILS defaults predate the split."),
    "mctopmtw": ("The `tours` profile (optimizer.itineraries.solve.TOURS_PROFILE) was chosen on half A only "
                 "(8 half-A files, 1,500 iterations); half B is held out."),
}

COLUMNS = ["instance", "m", "value", "score", "gap_pct", "valid", "wall_s", "iterations", "new_best"]


def list_files(fmt: str, folder: Path) -> list[Path]:
    pattern = "*.ophs" if fmt == "ophs" else "MCTOPMTW-*.txt"
    return sorted(folder.rglob(pattern))


def half_of(fmt: str, folder: Path) -> dict[str, str]:
    """The fixed split used to choose search settings (as :func:`bench.split.split_of`):
    :func:`halves` of every ``fmt`` file under ``folder``. MCTOPMTW (one folder, sorted m, then
    c/r/rc, then number): each half holds every m and every set. Settings are chosen on ``A``;
    ``B`` is the held-out half."""
    return halves(list_files(fmt, folder))


def run_one(fmt: str, path: Path, values: dict[str, float], time_limit: float, seed: int,
            trip_tolerance: float) -> dict[str, object]:
    """Solve and verify one instance; one CSV row."""
    pb = read_ophs(path, trip_tolerance) if fmt == "ophs" else read_mctopmtw(path)
    t0 = time.perf_counter()
    sol = solve(pb, StoppingCriterion(max_runtime_s=time_limit), seed=seed)
    wall = time.perf_counter() - t0
    viol = verify(pb, sol)
    value = values.get(pb.name)
    score = sol.score
    gap = None if value is None or value == 0 else 100.0 * (value - score) / value
    return {"instance": pb.name, "m": pb.n_days, "value": "" if value is None else value, "score": score,
            "gap_pct": "" if gap is None else round(gap, 3), "valid": 0 if viol else 1, "wall_s": round(wall, 2),
            "iterations": sol.stats.iterations, "new_best": int(gap is not None and gap < -1e-9 and not viol)}


def warm_up() -> float:
    """Load (or compile) the numba kernels on a tiny problem before any timed solve; seconds taken."""
    import numpy as np

    from optimizer.itineraries.problem import Group, Hotel, ItineraryProblem, Site

    t0 = time.perf_counter()
    pb = ItineraryProblem("warm", 2, (Site("a", 1.0, 1.0, (((0.0, 100.0), (200.0, 300.0)),)),), (Hotel("h"),),
                          (Group("g", 0, 0.0, "h", 1, 300.0, "h", budget=10.0, day_windows=((0.0, 300.0),)),),
                          np.ones((2, 2)))
    solve(pb, StoppingCriterion(max_iterations=3), seed=0)
    # an OPHS-like case too: the hotel-sequence start runs the routing engine's kernels
    sites = tuple(Site(f"s{i}", 1.0, 0.0) for i in range(3))
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [2.0, 1.0], [1.0, 1.0]])
    travel = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2))
    pb = ItineraryProblem("warm-ophs", 2, sites, (Hotel("H0"), Hotel("H1"), Hotel("H2")),
                          (Group("g", 0, 0.0, "H0", 1, 3.0, "H1", size=1, rooms=0,
                                 day_windows=((0.0, 3.0), (0.0, 3.0))),), travel)
    solve(pb, StoppingCriterion(max_iterations=3), seed=0)
    solve(pb, StoppingCriterion(max_runtime_s=0.05), seed=0)
    return time.perf_counter() - t0


def halves(files: list[Path]) -> dict[str, str]:
    """``instance -> 'A' | 'B'``: within each folder (benchmark set) files sorted by name alternate
    A, B, A, ... (the split of :func:`bench.split.split_of`); search settings are to be chosen on
    one half and reported on both."""
    out: dict[str, str] = {}
    for folder in sorted({p.parent for p in files}):
        for k, p in enumerate(sorted(q for q in files if q.parent == folder)):
            out[p.stem] = "A" if k % 2 == 0 else "B"
    return out


def summary(rows: list[dict[str, object]]) -> dict[str, float]:
    gaps = [float(r["gap_pct"]) if r["valid"] else 100.0 for r in rows if r["gap_pct"] != ""]
    return {"n": len(rows), "valid": sum(int(r["valid"]) for r in rows),
            "mean_gap_pct": sum(gaps) / len(gaps) if gaps else float("nan"),
            "max_gap_pct": max(gaps) if gaps else float("nan"),
            "at_value": sum(1 for g in gaps if abs(g) < 1e-9), "new_best": sum(int(r["new_best"]) for r in rows),
            "mean_wall_s": sum(float(r["wall_s"]) for r in rows) / max(1, len(rows))}


def run_all(args: argparse.Namespace, files: list[Path], values: dict[str, float]) -> list[dict[str, object]]:
    """Solve every file (kernels warmed up first, not timed), writing each row to ``args.out`` as it
    comes (a stopped run keeps the rows so far)."""
    print(f"warm-up (numba kernels loaded or compiled, not timed): {warm_up():.1f} s", file=sys.stderr)
    rows: list[dict[str, object]] = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for p in files:
            row = run_one(args.format, p, values, args.time_limit, args.seed, args.trip_tolerance)
            rows.append(row)
            w.writerow(row)
            fh.flush()
            print(" ".join(f"{k}={row[k]}" for k in COLUMNS), file=sys.stderr)
    return rows


def read_rows(path: Path) -> list[dict[str, object]]:
    """The rows of a finished run's CSV (``COLUMNS``), typed as :func:`run_one` returns them.

    Raises ``SystemExit`` naming the file when it is missing or lacks a column."""
    if not path.is_file():
        raise SystemExit(f"--out {path}: no such file to rebuild from")
    types = {"instance": str, "m": int, "value": float, "score": float, "gap_pct": float, "valid": int,
             "wall_s": float, "iterations": int, "new_best": int}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"--out {path}: missing column(s) {', '.join(missing)}")
        return [{c: "" if r[c] == "" and c in ("value", "gap_pct") else types[c](r[c]) for c in COLUMNS}
                for r in reader]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.itineraries", description=__doc__.split("\n\n")[0])
    ap.add_argument("--format", choices=("ophs", "mctopmtw"), required=True)
    ap.add_argument("--instances", type=Path, required=True, metavar="DIR")
    ap.add_argument("--values", type=Path, required=True, metavar="CSV")
    ap.add_argument("--time-limit", type=float, default=10.0, metavar="S")
    ap.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None, help="at most N instances")
    ap.add_argument("--every", type=int, default=1, help="keep every K-th instance (sorted by path)")
    ap.add_argument("--trip-tolerance", type=float, default=0.003, help="OPHS only (default 0.003)")
    ap.add_argument("--section", default=None, help="write this section of bench/RESULTS.md")
    ap.add_argument("--all", action="store_true", help="also run files that have no value in --values")
    ap.add_argument("--note", default=None, help="a sentence added to the section (how the run was made)")
    ap.add_argument("--rebuild", action="store_true",
                    help="solve nothing: read the rows of a finished run from --out and write --section again")
    ap.add_argument("--half", choices=("A", "B"), default=None, help="only that half of the split (half_of)")
    args = ap.parse_args(argv)
    if not args.instances.is_dir():
        ap.error(f"--instances {args.instances}: not a folder")
    if not args.values.is_file():
        ap.error(f"--values {args.values}: no such file")
    if args.time_limit <= 0:
        ap.error(f"--time-limit {args.time_limit}: must be > 0")
    values = read_ophs_values(args.values) if args.format == "ophs" else read_mctopmtw_values(args.values)
    halves = half_of(args.format, args.instances)
    files = list_files(args.format, args.instances)
    if args.half:
        files = [p for p in files if halves[p.stem] == args.half]
    files = files[:: max(1, args.every)]
    if args.limit is not None:
        files = files[: args.limit]
    stems = {p.stem for p in files}
    skipped = sorted(stems - set(values))
    if skipped and not args.all:
        print(f"skipped {len(skipped)} file(s) with no value in {args.values}: {', '.join(skipped)}", file=sys.stderr)
        files = [p for p in files if p.stem in values]
    if not files:
        ap.error(f"no {args.format} instance files under {args.instances}")
    if args.rebuild:
        rows = read_rows(args.out)
    else:
        rows = run_all(args, files, values)
    s = summary(rows)
    print(f"{args.format}: {s['n']} instances, {s['valid']} valid, mean gap {s['mean_gap_pct']:.3f}%, "
          f"max {s['max_gap_pct']:.3f}%, at value {s['at_value']}, new best {s['new_best']}, "
          f"mean wall {s['mean_wall_s']:.2f} s")
    by_half = {h: summary([r for r in rows if halves[str(r["instance"])] == h]) for h in "AB"}
    half_line = "; ".join(f"half {h} ({v['n']} files): mean gap {v['mean_gap_pct']:.3f}%, max {v['max_gap_pct']:.3f}%"
                          for h, v in by_half.items() if v["n"])
    print(half_line)
    if args.section:
        from bench.results_md import table, write_section

        given = list(argv if argv is not None else sys.argv[1:])
        if "--note" in given:
            k = given.index("--note")
            del given[k:k + 2]
        cmd = "python -m bench.itineraries " + " ".join(a for a in given if a != "--rebuild")
        title = {"ophs": "OPHS (Divsalar et al. 2013 sets; optimal values)",
                 "mctopmtw": "MCTOPMTW (Souffriau et al. 2013; 2013 best-known values)"}[args.format]
        lines = [f"{s['n']} instances at {args.time_limit:g} s each, seed {args.seed}"
                 + (f", trip-length tolerance {args.trip_tolerance:g}" if args.format == "ophs" else "")
                 + f": **{s['valid']} verified**, mean gap **{s['mean_gap_pct']:.3f}%**, max "
                 f"{s['max_gap_pct']:.3f}%, {s['at_value']} at the reference value, {s['new_best']} new best.",
                 (f"Split (:func:`bench.itineraries.halves`: within each set folder, files sorted by name "
                  f"alternate A, B, A, ...): {half_line}."),
                 (f"Load average (1 min) when the section was written: {os.getloadavg()[0]:.1f} on "
                  f"{os.cpu_count()} cores (wall-clock limits: a loaded machine gives fewer iterations)."),
                 SETTINGS_NOTE[args.format] + (" " + args.note if args.note else ""),
                 "", table(COLUMNS, [[r[c] for c in COLUMNS] for r in rows])]
        if s["new_best"]:
            lines += ["", "New best values: " + ", ".join(f"{r['instance']} {r['score']:g} (was {r['value']:g})"
                                                            for r in rows if r["new_best"])]
        write_section(args.section, title, cmd, "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

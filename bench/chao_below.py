"""Our ILS at 10 s on the Chao cases that were below Chao et al.'s (1996) score in a short run (issue 15).

``python -m bench.chao_below [--time-limit 10] [--jobs 2] [--seed 0] [--cases p5.3.e,p1.3.h,...]``

Why: the whole Chao set at 10 s is 267 cases (about 23 min with two jobs on a quiet machine; the
command is in the README). The cases that can miss issue 15's target ("no case more than 1% below
Chao's score at 10 s") are the ones below that score at 1 s or at 2,000 iterations: :data:`CASES`,
fixed from ``bench/results/quality_1s.csv`` (every Chao case below the reference at 1 s) and
``bench/results/split_round3_chao_2000it.csv`` (the default settings' cases more than 1% below at
2,000 iterations). This script runs ours on exactly those, with the protocol of
:mod:`bench.quality` (``run_case``: one solver, wall-clock limit, the plan checked by the verifier),
and writes the section ``chao_below_<S>s`` of ``bench/RESULTS.md`` with the target lines of
:func:`bench.quality.chao_ref_lines` (cases whose reference is above the proven optimum,
:mod:`bench.chao_proofs`, are counted apart) and the per-case table.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor

from bench.quality import Case, chao_ref_lines, instance_table, references, run_case
from instances.benchmarks import instance_path

__all__ = ["CASES", "main"]

CASES: tuple[str, ...] = (
    # below Chao's score at 1 s (quality_1s.csv, old code), worst first
    "p5.3.e", "p1.3.h", "p6.3.g", "p6.4.j", "p1.3.o", "p1.2.m", "p6.4.k", "p2.3.h", "p5.4.s", "p3.4.o",
    "p5.2.j", "p3.3.t", "p5.3.o", "p5.2.o", "p5.4.m", "p5.4.x", "p5.4.p", "p5.3.q", "p5.2.q", "p5.4.w",
    "p5.3.w", "p5.3.x", "p5.3.y",
    # more than 1% below at 2,000 iterations only (split_round3_chao_2000it.csv)
    "p5.4.t", "p3.3.p", "p1.2.l", "p3.3.o",
)
"""Chao instance names (``pS.M.L``); the set comes from ``S``, ``m`` from ``M``."""

_SET_OF = {"1": "Set_32_234", "2": "Set_21_234", "3": "Set_33_234", "4": "Set_100_234", "5": "Set_66_234",
           "6": "Set_64_234", "7": "Set_102_234"}


def _case(name: str) -> Case:
    set_name = _SET_OF[name.split(".")[0][1:]]
    return Case("chao", set_name, name, int(name.split(".")[1]), str(instance_path(set_name, name)))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.chao_below", description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per case (default 10)")
    ap.add_argument("--jobs", type=int, default=2, help="cases run in parallel processes (default 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cases", default=None, help="comma-separated Chao names (default: CASES)")
    args = ap.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    names = [c.strip() for c in args.cases.split(",")] if args.cases else list(CASES)
    bad = [c for c in names if c.count(".") != 2 or c.split(".")[0][1:] not in _SET_OF]
    if bad:
        ap.error(f"--cases: not a Chao name pS.M.L: {bad}")
    cases = [_case(c) for c in names]
    missing = [c.instance for c in cases if not instance_path(c.set, c.instance).is_file()]
    if missing:
        ap.error(f"--cases: not in this copy of the benchmarks: {missing}")
    refs = references()
    rows = []
    with ProcessPoolExecutor(max_workers=max(args.jobs, 1)) as ex:
        futs = [ex.submit(run_case, c, ["ours"], args.time_limit, args.seed, refs.get(c.key)) for c in cases]
        for c, f in zip(cases, futs, strict=True):
            r = f.result()
            rows += r
            print(f"{c.instance}: ref {r[0].ref:g}  ours {r[0].score:g}  ({r[0].status})", flush=True)
    lines = chao_ref_lines(rows)
    print("\n".join(lines))
    from bench.results_md import write_section

    body = (f"{len(cases)} Chao cases (`bench.chao_below.CASES`: below Chao's score at 1 s or more than 1% below "
            f"at 2,000 iterations), ours only, {args.time_limit:g} s per case, seed {args.seed}, {args.jobs} "
            "cases at a time; every plan checked by the verifier. Gap % = 100 (ref - score) / ref, ref = "
            "Chao et al. (1996).\n\nTargets:\n\n" + "\n".join(lines) + "\n\n" + instance_table(rows, ["ours"]))
    label = f"{args.time_limit:g}s"
    path = write_section(f"chao_below_{label}", f"Chao cases below the 1996 score in short runs, at {label} "
                         "(issue 15)", ("python -m bench.chao_below " + " ".join(argv)).strip(), body)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

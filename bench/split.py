"""Generalisation protocol for the routing engine's search settings (issue 15 item 1).

``python -m bench.split --time-limit S [--iterations N] [--iterations-from CSV] [--sets cordeau_pr ...]
[--subset] [--split A|B|both] [--variants NAME,...] [--generated K] [--seed 0] [--label L] [--rebuild]``

Why
---
The ILS defaults were once tuned on the same Cordeau pr01-pr10 files the benchmark reports, and the
gaps did not carry over to unseen instances. This protocol separates choosing from reporting:

1. **The split** (fixed, documented, no tuning of its own): within each benchmark set, files are
   sorted by name and alternate between the halves: the 1st, 3rd, 5th ... file is half **A**, the
   2nd, 4th, ... half **B** (:func:`split_of`). For Cordeau: A = pr01, pr03, pr05, pr07, pr09 and
   B = pr02, pr04, pr06, pr08, pr10, each with m = 1..4 (20 cases per half). A Chao file of set
   ``Set_k`` alternates the same way in its set (``--subset``: the fixed ``SUBSET_CHAO`` files).
2. **The candidates** (:data:`VARIANTS`): a short fixed list of ILS settings, written before the run.
   Every candidate runs on every case of both halves with the same stop and seed.
3. **The choice**: on half A, the candidate with the lowest mean gap (ties: the earlier in the list)
   is *chosen on A*; likewise *chosen on B*. ``--split A`` (or ``B``) reports only that direction;
   ``both`` (default) reports both, so one can see whether the gap depends on which half was used.
4. **The report**: a table of every candidate's mean gap on A, on B (and on the generated unseen
   instances); for each direction, the chosen candidate's gap on the half it was chosen on and on
   the other (held-out) half. The engine's defaults (``ILSParams()``; for the TOPTW
   ``optimizer.toptw.solve.TOPTW_ILS``, which adds the restarts of round ``pr_10s_it`` and the shake cap
   of rounds ``trap_pr_1s_it_seed0..2``) are the
   candidate chosen on half A; the held-out half B is the honest number for them.

Gap % = 100 (ref - score) / ref with ref = the BKS of ``toptw/bks.csv`` (Cordeau, Solomon m = 1) or
Chao et al.'s (1996) reported score (``reference_scores_chao1996.csv``; a 1996 heuristic, negative
gap = better). ``--generated K`` adds K unseen Cordeau-like instances with doubled windows
(:mod:`instances.toptw_generator`, seed ``--seed``, m = 1..4, set ``generated``); they have no
published value, so their ref is the best score any candidate found in this run (a relative gap:
0 for the best candidate on each case). They are used for reporting only, never for the choice.

``--iterations-from CSV`` gives each case its own iteration budget: the iterations the engine's
defaults ran on that case in a ``bench.quality`` run (its ``ours`` rows, ``status`` "...; N it"), e.g.
``bench/results/quality_pr_10s.csv`` for "what 10 s buys on a quiet machine" without the load of a
shared machine distorting a time limit (issue 15 at 10 s). ``--rebuild`` renders the section again
from the rows CSV a finished run wrote (same options), without running.

Every plan is re-checked by :func:`optimizer.toptw.verify`; a violation is a hard error.
Output: ``bench/results/split_<label>.csv`` (one row per candidate x case) and the section
``split_<label>`` of ``bench/RESULTS.md``; ``<label>`` defaults to ``<S>s`` or ``<N>it``.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bench.quality import Case, references, select_cases, split_half
from optimizer.core.engine.ils import ILSParams

__all__ = ["VARIANTS", "Row", "choose", "main", "render", "run_cases", "split_of"]

BASE = ILSParams(replace=False, relocate=False, elite=0, noise_max=0.0, moves_gate=1.0)
VARIANTS: dict[str, ILSParams] = {
    "ils": BASE,
    "ils+replace": replace(BASE, replace=True, moves_gate=0.02),
    "ils+replace+adaptive": replace(BASE, replace=True, moves_gate=0.02, noise_max=2.0),
    "ils+replace+elite+adaptive": replace(BASE, replace=True, moves_gate=0.02, elite=8, noise_max=2.0),
    "ils+replace+relocate+elite+adaptive": replace(BASE, replace=True, relocate=True, moves_gate=0.02, elite=8,
                                                   noise_max=2.0),
    "ils+replace+adaptive+swap": replace(BASE, replace=True, moves_gate=0.02, noise_max=2.0, swap=True),
    "ils+replace+adaptive+restarts2000": replace(BASE, replace=True, moves_gate=0.02, noise_max=2.0,
                                                 kick_after=2000, kick_frac=1.0, kick_frac_max=1.0),
    "ils+replace+adaptive+restarts1000": replace(BASE, replace=True, moves_gate=0.02, noise_max=2.0,
                                                 kick_after=1000, kick_frac=1.0, kick_frac_max=1.0),
    "restarts1000+shakecap25": replace(BASE, replace=True, moves_gate=0.02, noise_max=2.0, kick_after=1000,
                                       kick_frac=1.0, kick_frac_max=1.0, shake_frac=0.25),
    "restarts1000+shakecap50": replace(BASE, replace=True, moves_gate=0.02, noise_max=2.0, kick_after=1000,
                                       kick_frac=1.0, kick_frac_max=1.0, shake_frac=0.5),
    "restarts1000+shakecap75": replace(BASE, replace=True, moves_gate=0.02, noise_max=2.0, kick_after=1000,
                                       kick_frac=1.0, kick_frac_max=1.0, shake_frac=0.75),
    "restarts1000+shakecap50+tails": replace(BASE, replace=True, moves_gate=0.02, noise_max=2.0, kick_after=1000,
                                             kick_frac=1.0, kick_frac_max=1.0, shake_frac=0.5, tails=True),
    "restarts1000+shakecap50+tabu": replace(BASE, replace=True, moves_gate=0.02, noise_max=2.0, kick_after=1000,
                                            kick_frac=1.0, kick_frac_max=1.0, shake_frac=0.5, shake_tabu=True),
}
"""The candidates, fixed before the protocol run: ``ils`` is the search before issue 15 (insertion +
shake + 2-opt + SA acceptance, restarts from the best, fixed noise); ``+replace`` adds the replace
neighbourhood (:func:`optimizer.core.engine.moves.replace_route`) on repaired solutions within 2% of
the best; ``+elite`` restarts from a random member of an 8-solution elite pool; ``+adaptive`` lets
the repair noise grow from 1 to 2 while the search stalls; ``+relocate`` adds the inter-route
relocate (:func:`optimizer.core.engine.moves.relocate_routes`).

Round 1 (``split_pr_1s``, ``split_chao_1s``) ran every candidate but ``ils+replace+adaptive``, which
was added for round 2 (``split_round2_*``: ``ils+replace`` vs ``ils+replace+adaptive`` at a fixed
iteration budget, fair here since the adaptive noise costs nothing per iteration) after round 1 showed
Chao set-6 cases where every round-1 candidate stalls. ``+swap`` (the inter-route 1-1 swap,
:func:`optimizer.core.engine.moves.swap_routes`) was added for round 3 (``split_round3_chao_2000it``).

``+restartsN`` (issue 15 at 10 s, round ``pr_10s_it``): episodes of the ILS driver; after N iterations
without a new best of the episode, restart from a noisy greedy construction from scratch (``kick_frac =
1``), keeping the run's best (``ILSParams.kick_after``). Added after the 10 s run showed ~12 of 40
Cordeau cases with the same score at 1 s and 10 s.

``+shakecapF`` (issue 15, the early basin of pr06/pr10 at 1 s, round ``trap_*``): the shake size goes
back to 1 once it exceeds F (0.25, 0.5, 0.75) times the mean route length (``ILSParams.shake_frac``),
not only at n / (3 m). Added after an instrumented run of pr06 m = 2 showed ``S`` passing the routes'
~28 visits in four iterations of ten (both routes emptied, 0.1 % accepted, no new best from ``S`` >= 20).
Chosen on half A in each of seeds 0, 1, 2: ``restarts1000+shakecap50``, now ``TOPTW_ILS``.
``+tails`` adds the inter-route tail exchange (2-opt*, ``moves.tails_routes``) to it (round ``trap_tails``),
``+tabu`` the repair that reinserts the shaken-out customers last (``ILSParams.shake_tabu``, round ``trap_tabu``)."""


def split_of(case: Case, names_in_set: Sequence[str]) -> str:
    """``'A'`` or ``'B'``: the case's file alternates by sorted name within its set (1st -> A)."""
    return split_half(case.instance, names_in_set)


@dataclass
class Row:
    """One candidate on one case."""

    variant: str
    half: str  # "A", "B" or "generated"
    set: str
    instance: str
    m: int
    ref: float | None
    score: float
    iterations: int
    time_s: float

    @property
    def gap(self) -> float | None:
        if self.ref is None or not self.ref > 0:
            return None
        return 100.0 * (self.ref - self.score) / self.ref


def run_cases(cases: Sequence[tuple[Case, str]], variants: dict[str, ILSParams], stop, seed: int,
              refs: dict, log=print, budgets: dict | None = None) -> list[Row]:
    """Run every variant on every ``(case, half)``; every plan is verified (RuntimeError if not).

    ``budgets`` ``{(set, instance, m): iterations}`` (``--iterations-from``) replaces ``stop`` by that
    many iterations for each case it names. The protocol compares single searches (``threads=1``):
    the default's parallel threads are independent copies of the search chosen here."""
    from optimizer.core.stop import StoppingCriterion
    from optimizer.toptw import ToptwParams, solve, verify

    rows: list[Row] = []
    for i, (case, half) in enumerate(cases, 1):
        inst = case.load()
        ref = refs.get(case.key)
        case_stop = StoppingCriterion(max_iterations=budgets[case.key]) if budgets and case.key in budgets else stop
        for name, prm in variants.items():
            sol = solve(inst, case_stop, seed=seed, params=ToptwParams(ils=prm, threads=1))
            bad = verify(inst, sol)
            if bad:
                raise RuntimeError(f"{case.key} {name}: plan with violations: {bad[0]}")
            rows.append(Row(name, half, case.set, case.instance, case.m, ref[0] if ref else None,
                            float(sol.score), int(sol.stats.iterations), float(sol.stats.runtime_s)))
        line = "  ".join(f"{r.variant} {r.score:g}" for r in rows[-len(variants):])
        log(f"[{i}/{len(cases)}] {half} {case.set} {case.instance} m={case.m} ref "
            f"{ref[0] if ref else '-'}  {line}")
    return rows


def _fill_generated_refs(rows: list[Row]) -> None:
    best: dict[tuple[str, str, int], float] = {}
    for r in rows:
        if r.half == "generated":
            k = (r.set, r.instance, r.m)
            best[k] = max(best.get(k, -math.inf), r.score)
    for r in rows:
        if r.half == "generated":
            r.ref = best[(r.set, r.instance, r.m)]


def mean_gap(rows: Sequence[Row], variant: str, half: str) -> float | None:
    g = [r.gap for r in rows if r.variant == variant and r.half == half and r.gap is not None]
    return float(np.mean(g)) if g else None


def choose(rows: Sequence[Row], variants: Sequence[str], half: str) -> str | None:
    """The variant with the lowest mean gap on ``half`` (ties: the earliest in ``variants``)."""
    best, best_g = None, math.inf
    for v in variants:
        g = mean_gap(rows, v, half)
        if g is not None and g < best_g - 1e-12:
            best, best_g = v, g
    return best


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def render(rows: Sequence[Row], variants: Sequence[str], directions: Sequence[str], stop_text: str,
           seed: int, sets: Sequence[str]) -> str:
    from bench.results_md import table

    halves = [h for h in ("A", "B", "generated") if any(r.half == h for r in rows)]
    n = {h: len({(r.set, r.instance, r.m) for r in rows if r.half == h}) for h in halves}
    parts = [
        f"Sets {', '.join(sets)}; {stop_text} per case, seed {seed}, one core. Split: within each set, "
        "files sorted by name alternate, 1st, 3rd, ... -> half A, 2nd, 4th, ... -> half B "
        "(Cordeau: A = pr01/03/05/07/09, B = pr02/04/06/08/10, m = 1..4). Candidates fixed before the "
        "run (`bench.split.VARIANTS`); each half chooses the candidate with its lowest mean gap; the "
        "other half is held out. "
        + ("Generated: unseen Cordeau-like instances with doubled windows "
           "(`instances.toptw_generator`), ref = best score of any candidate in this run (relative gap), "
           "report only. " if "generated" in halves else "")
        + "Every plan re-checked by `optimizer.toptw.verify`. Timings taken on a shared, loaded machine.",
    ]
    lines = []
    for d in directions:
        c = choose(rows, variants, d)
        other = "B" if d == "A" else "A"
        if c is None:
            continue
        txt = (f"- chosen on half {d}: **{c}**: mean gap {_f(mean_gap(rows, c, d))}% on {d} (tuning), "
               f"**{_f(mean_gap(rows, c, other))}%** on {other} (held out)")
        if "generated" in halves:
            txt += f", {_f(mean_gap(rows, c, 'generated'))}% on generated"
        lines.append(txt)
    if len(directions) == 2:
        ca, cb = choose(rows, variants, "A"), choose(rows, variants, "B")
        if ca and cb:
            for h in ("A", "B"):
                ga, gb = mean_gap(rows, ca, h), mean_gap(rows, cb, h)
                if ga is not None and gb is not None:
                    lines.append(f"- on half {h}: chosen-on-A {ga:.2f}% vs chosen-on-B {gb:.2f}% "
                                 f"(difference {abs(ga - gb):.2f} points)")
    parts.append("Choice:\n\n" + "\n".join(lines))
    header = ["candidate"] + [f"mean gap % {h} ({n[h]} cases)" for h in halves] + ["mean iterations"]
    body = []
    for v in variants:
        its = [r.iterations for r in rows if r.variant == v]
        body.append([v] + [_f(mean_gap(rows, v, h)) for h in halves] + [f"{np.mean(its):,.0f}" if its else "-"])
    parts.append("### Candidates\n\n" + table(header, body))
    cases = sorted({(r.half, r.set, r.instance, r.m) for r in rows})
    body = []
    for h, s, inst, m in cases:
        rr = {r.variant: r for r in rows if (r.half, r.set, r.instance, r.m) == (h, s, inst, m)}
        ref = next(iter(rr.values())).ref
        body.append([h, s, inst, m, "-" if ref is None else f"{ref:g}"]
                    + [f"{rr[v].score:g}" if v in rr else "-" for v in variants])
    parts.append("### Per case (score)\n\n" + table(["half", "set", "instance", "m", "ref"] + list(variants), body))
    return "\n\n".join(parts)


def iteration_budgets(path: str | Path) -> dict[tuple[str, str, int], int]:
    """``{(set, instance, m): iterations}`` of the ``ours`` rows of a ``bench.quality`` CSV (its
    ``status`` column reads ``"<stopped_by>; <N> it"``, or ``"<stopped_by>; <K> threads; <N> it"``
    where N is the sum over K threads: the budget is then N // K, one thread's share). Raises
    ValueError naming the file if none."""
    import csv

    out: dict[tuple[str, str, int], int] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            status = r.get("status", "")
            if r.get("solver") == "ours" and status.endswith(" it"):
                parts = [p.strip() for p in status.split(";")]
                threads = next((int(p.split()[0]) for p in parts if p.endswith(" threads")), 1)
                out[(r["set"], r["instance"], int(r["m"]))] = int(parts[-1].split()[0]) // threads
    if not out:
        raise ValueError(f"{path}: no 'ours' rows with an iteration count")
    return out


def _regenerate_command(argv: Sequence[str]) -> str:
    """The command line that regenerates a section: ``argv`` without ``--rebuild`` and ``--note``."""
    given = list(argv)
    if "--note" in given:
        i = given.index("--note")
        del given[i:i + 2]
    return "python -m bench.split " + " ".join(a for a in given if a != "--rebuild" and not a.startswith("--note="))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.split", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=None, help="seconds per run")
    ap.add_argument("--iterations", type=int, default=None, help="ILS iterations per run (deterministic)")
    ap.add_argument("--iterations-from", default=None, metavar="CSV",
                    help="per-case iterations: those of the defaults in a bench.quality CSV (deterministic)")
    ap.add_argument("--rebuild", action="store_true", help="write the section from this label's rows CSV, no run")
    ap.add_argument("--note", default="", help="a paragraph added to the section (how the run was made)")
    ap.add_argument("--sets", nargs="*", default=["cordeau_pr"], help="benchmark sets (see bench.quality)")
    ap.add_argument("--subset", action="store_true", help="the fixed subset of bench.quality for these sets")
    ap.add_argument("--split", choices=("A", "B", "both"), default="both", help="half (halves) that choose")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names of VARIANTS")
    ap.add_argument("--generated", type=int, default=0, help="unseen generated instances (report only)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--label", default=None)
    ap.add_argument("--no-write", action="store_true", help="print the report, write nothing")
    args = ap.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    if args.time_limit is None and args.iterations is None and args.iterations_from is None:
        ap.error("give --time-limit, --iterations and/or --iterations-from")
    budgets = None
    if args.iterations_from is not None:
        try:
            budgets = iteration_budgets(args.iterations_from)
        except (OSError, ValueError) as e:
            ap.error(f"--iterations-from: {e}")
    if args.time_limit is not None and not (args.time_limit > 0 and math.isfinite(args.time_limit)):
        ap.error("--time-limit must be a positive number of seconds")
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown or not names:
        ap.error(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    variants = {v: VARIANTS[v] for v in names}

    from optimizer.core.stop import StoppingCriterion

    stop = (StoppingCriterion(max_runtime_s=args.time_limit, max_iterations=args.iterations)
            if args.time_limit is not None or args.iterations is not None else None)
    stop_text = " and ".join(x for x in (f"{args.time_limit:g} s" if args.time_limit else "",
                                         f"{args.iterations:,} iterations" if args.iterations else "") if x)
    if args.iterations_from:
        stop_text = (f"the iterations the defaults ran in `{args.iterations_from}` (deterministic)"
                     + (f"; generated cases {stop_text}" if stop_text else ""))
    label = args.label or (f"{args.time_limit:g}s" if args.time_limit else
                           f"{args.iterations}it" if args.iterations else f"{Path(args.iterations_from).stem}_it")
    directions = ["A", "B"] if args.split == "both" else [args.split]
    sets = args.sets + (["--subset"] if args.subset else [])
    if args.rebuild:
        from bench.results_md import SECTIONS, write_section

        path = SECTIONS / f"split_{label}.csv"
        if not path.is_file():
            ap.error(f"--rebuild: {path} not found (run without --rebuild first)")
        import polars as pl

        rows = [Row(d["variant"], d["half"], d["set"], d["instance"], int(d["m"]), d["ref"], float(d["score"]),
                    int(d["iterations"]), float(d["time_s"])) for d in pl.read_csv(path).iter_rows(named=True)]
        body = render(rows, [v for v in variants if any(r.variant == v for r in rows)], directions, stop_text,
                      args.seed, sets)
        if args.note:
            body = body.replace("\n\nChoice:", f"\n\n{args.note}\n\nChoice:", 1)
        print(body.split("### Per case")[0])
        if not args.no_write:
            cmd = _regenerate_command(argv)
            print("wrote", write_section(f"split_{label}", "Generalisation: search settings chosen on one half, "
                                         f"reported on the other ({label})", cmd, body))
        return
    all_cases, _ = select_cases(args.sets, args.subset)
    by_set: dict[str, list[str]] = {}
    for c in all_cases:
        by_set.setdefault(c.set, []).append(c.instance)
    cases = [(c, split_of(c, by_set[c.set])) for c in all_cases]
    if args.generated > 0:
        from instances.toptw_generator import write_cordeau_like

        gen_dir = Path(tempfile.mkdtemp(prefix="lhasa_split_gen_"))
        for p in write_cordeau_like(gen_dir, args.generated, args.seed, 2.0):
            cases += [(Case("toptw", "generated", p.stem, m, str(p)), "generated") for m in (1, 2, 3, 4)]
    refs = references()
    # warm the kernels up (compile or cache load) outside the timed runs
    if cases:
        from optimizer.toptw import ToptwParams, solve

        inst = cases[0][0].load().subset(10)
        for prm in variants.values():
            solve(inst, StoppingCriterion(max_iterations=5), params=ToptwParams(ils=prm))
    if budgets is not None:
        missing = [f"{c.instance} m={c.m}" for c, h in cases if h != "generated" and c.key not in budgets]
        if missing:
            ap.error(f"--iterations-from {args.iterations_from}: no iteration count for {', '.join(missing[:5])}")
        if stop is None and args.generated > 0:
            ap.error("--generated with --iterations-from: give --iterations (or --time-limit) for the generated cases")
    t0 = time.time()
    rows = run_cases(cases, variants, stop, args.seed, refs, budgets=budgets)
    _fill_generated_refs(rows)
    body = render(rows, list(variants), directions, stop_text, args.seed, sets)
    if args.note:
        body = body.replace("\n\nChoice:", f"\n\n{args.note}\n\nChoice:", 1)
    print(body.split("### Per case")[0])
    print(f"({time.time() - t0:.0f} s)")
    if args.no_write:
        return
    import polars as pl

    from bench.results_md import SECTIONS, write_section

    SECTIONS.mkdir(parents=True, exist_ok=True)
    pl.DataFrame([{**r.__dict__, "gap": r.gap} for r in rows]).write_csv(SECTIONS / f"split_{label}.csv")
    path = write_section(f"split_{label}", f"Generalisation: search settings chosen on one half, reported on the other ({label})",
                         _regenerate_command(argv), body)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

"""Solution-quality benchmark: our TOPTW heuristic vs BKS, OR-Tools and PyVRP at the same time limit.

``python -m bench.quality --time-limit S [--sets SET ...] [--subset] [--solvers ours,ortools,pyvrp]
[--jobs 1] [--threads 0] [--seed 0] [--resume]``

``python -m bench.quality --instances DIR --values CSV [--time-limit S] [--solvers ...] [--out FILE]``
(your own instances; see "Any folder" below)

What is run
-----------
* Every KU Leuven TOPTW file in ``shared/benchmarks/toptw`` (sets ``TOPTW_SETS``: Solomon 100,
  Cordeau ``pr``, Solomon 50 when present) with ``m = 1..4`` routes, and every Chao, Golden & Wasil
  (1996) TOP file in ``shared/benchmarks/top_chao`` (sets ``CHAO_SETS``; ``m`` from the file).
  A set whose folder is absent is skipped.
* ``--subset``: the fixed representative subset ``SUBSET_TOPTW`` (21 (instance, m) pairs over
  c1/c2/r1/r2/rc1/rc2/pr and m = 1..4, 13 of them with a BKS) + ``SUBSET_CHAO`` (4 instances of
  each Chao set, m = 2, 3, 4, short and long ``tmax``; entries whose file is absent are listed as
  skipped). Meant for the 10 s runs: 41 cases x 3 solvers x 10 s ~ 21 min. Every instance is meant
  to be run at 1 s (264 TOPTW pairs + 267 Chao files in this copy, x 3 solvers ~ 27 min).
* ``--sets`` restricts to the named sets (keys of ``TOPTW_SETS`` / ``CHAO_SETS``, or the aliases
  ``toptw`` / ``chao``).

Solvers (run one after the other on a case; ``--jobs 2`` runs two cases in parallel processes, the
default 1 keeps the timing honest). The peers are single-threaded; ours runs ``--threads`` searches
in parallel threads (``ToptwParams.threads``; default: the solver's default, 2, but at most the
cores available divided by ``--jobs``, so that ours never takes more cores than the machine has; the status column then reads
``"K threads; N it"`` with N the sum over the threads). ``--threads 1`` measures the single search.

* ``ours``: `optimizer.toptw.solve` (the ILS) with ``StoppingCriterion(max_runtime_s=S)``, seed
  ``--seed``. Its routes are checked with :func:`optimizer.toptw.check_toptw_routes`; a
  violation is a hard error (``RuntimeError``). The numba kernels are warmed up (compile or cache
  load) on a 10-customer instance before the first timed run.
* ``ortools``: :func:`models.toptw_routing.solve_routing` (prize-collecting routing model, GLS),
  time limit ``S``.
* ``pyvrp``: PyVRP 0.14 (:func:`solve_pyvrp`), ``MaxRuntime(S)``; see ``pyvrp_data`` for the model.

Each peer's routes are re-checked by the verifier; a peer plan with violations (or a peer crash)
counts as score 0 in the tables and is flagged. ``time`` is the wall-clock time of the whole call
(model building included).

Gap % = ``100 * (ref - score) / ref``. TOPTW: ``ref`` = BKS from ``toptw/bks.csv`` (cordeau_pr
m = 1..4; Solomon m = 1 for 30 instances; elsewhere no gap). Chao: ``ref`` = the scores *reported by
Chao et al. (1996)* (``load_chao_reference_scores``), a 1996 heuristic, NOT best-known values: a
negative gap means we beat that reference. Cases with ``ref <= 0`` (e.g. p1.2.a, where no customer is
reachable) have no gap. Where Chao's score is above the proven optimum (:mod:`bench.chao_proofs`, each
entry re-proven by a test with the exact bound of :mod:`models.top_bound`) the per-case table says
"above proven optimum" next to the ref, and the target lines (:func:`chao_ref_lines`) count such a case
apart from those more than 1% below a reachable reference; they also count the cases above the ref. Mean gaps are taken over the cases with a reference on which every selected
solver produced a row, so the solvers are compared on the same cases.

Output (``--label L`` puts ``L`` in place of ``<S>s`` in both names): ``bench/results/quality_<S>s.csv``
(one row per solver x case, written after each case so
that ``--resume`` can skip the (solver, set, instance, m, limit) rows already there) and the section
``quality_<S>s`` of ``bench/RESULTS.md`` (per-set summary, then one row per case).

Any folder (``--instances DIR --values CSV``)
---------------------------------------------
Same protocol (solvers one at a time, same wall limit, default ``--time-limit 1``, every plan
re-checked by the verifier) on every file of ``DIR`` (not recursive, hidden files ignored). The
format is detected from the content (:func:`instances.benchmarks.detect_format`): a first line
``n <value>`` is Chao TOP (``m`` from the file), anything else KU Leuven TOPTW (run with m = 1..4;
travel decimals 2 for ``pr*`` file names, else 1, as for the shared sets). A file that neither
reader accepts is reported by name on stderr, listed under the tables, and skipped; no readable file
at all is an error. The set of every case is the folder's name.

``CSV`` has the columns of ``toptw/bks.csv`` (``set,instance,m,bks``: gap vs a best-known value) or of
``reference_scores_chao1996.csv`` (``set,instance,m,score``: gap vs a reported score); ``instance`` is
the file name without extension. A case takes the row with its (folder name, instance, m), else the
only row with its (instance, m) whatever the set; with no row (or an empty value) its gap is empty.
The report (method note, per-set summary, per-case table) goes to stdout, or to ``--out FILE``;
neither ``bench/RESULTS.md`` nor ``bench/results/`` is written. Exit status 2, naming the path or the
column, for a missing or empty folder, a folder with no readable instance, a missing CSV, or a CSV
without one of its columns.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from bench.chao_proofs import CHAO_REF_ABOVE_OPTIMUM
from instances.benchmarks import (
    CHAO_SETS,
    TOPTW_SETS,
    instance_path,
    list_instance_files,
    list_instances,
    load_bks_toptw,
    load_chao_reference_scores,
    read_chao_top,
    read_instance_file,
    read_toptw,
)
from optimizer.toptw import TOPTWInstance, check_toptw_routes, toptw_score

__all__ = [
    "SOLVERS",
    "SUBSET_CHAO",
    "SUBSET_TOPTW",
    "Case",
    "PeerResult",
    "RunRow",
    "chao_ref_lines",
    "folder_cases",
    "folder_reference",
    "main",
    "pyvrp_data",
    "render_markdown",
    "run_case",
    "select_cases",
    "solve_ortools",
    "solve_pyvrp",
    "summarize",
]

SOLVERS = ("ours", "ortools", "pyvrp")
SOLVER_LABEL = {"ours": "ours", "ortools": "OR-Tools", "pyvrp": "PyVRP"}
TOPTW_M = (1, 2, 3, 4)
_TOL = 1e-6

SUBSET_TOPTW: tuple[tuple[str, str, int], ...] = (
    # (set, instance, m). Every Solomon family and pr, every m; BKS known for the m = 1 Solomon
    # entries and all pr entries (13 of 21).
    ("solomon_100", "c101", 1),
    ("solomon_100", "c109", 2),
    ("solomon_100", "c106", 3),
    ("solomon_100", "c201", 1),
    ("solomon_100", "c205", 2),
    ("solomon_100", "c208", 4),
    ("solomon_100", "r101", 1),
    ("solomon_100", "r112", 1),
    ("solomon_100", "r105", 4),
    ("solomon_100", "r201", 1),
    ("solomon_100", "r207", 3),
    ("solomon_100", "rc101", 1),
    ("solomon_100", "rc105", 2),
    ("solomon_100", "rc201", 1),
    ("solomon_100", "rc206", 4),
    ("cordeau_pr", "pr01", 1),
    ("cordeau_pr", "pr02", 2),
    ("cordeau_pr", "pr10", 2),
    ("cordeau_pr", "pr03", 3),
    ("cordeau_pr", "pr05", 3),
    ("cordeau_pr", "pr08", 4),
)
"""Fixed TOPTW part of ``--subset``: 21 (set, instance, m) over c1/c2/r1/r2/rc1/rc2/pr and m = 1..4."""

SUBSET_CHAO: tuple[tuple[str, str], ...] = (
    # (set, instance); m comes from the file (pS.M.L). Per set: m = 2, 3, 4 and a short-tmax case.
    ("Set_32_234", "p1.2.h"), ("Set_32_234", "p1.2.r"), ("Set_32_234", "p1.3.k"), ("Set_32_234", "p1.4.o"),
    ("Set_21_234", "p2.2.c"), ("Set_21_234", "p2.2.k"), ("Set_21_234", "p2.3.f"), ("Set_21_234", "p2.4.h"),
    ("Set_33_234", "p3.2.e"), ("Set_33_234", "p3.2.t"), ("Set_33_234", "p3.3.l"), ("Set_33_234", "p3.4.p"),
    ("Set_100_234", "p4.2.j"), ("Set_100_234", "p4.3.o"), ("Set_100_234", "p4.4.t"),
    ("Set_66_234", "p5.2.h"), ("Set_66_234", "p5.2.z"), ("Set_66_234", "p5.3.m"), ("Set_66_234", "p5.4.t"),
    ("Set_64_234", "p6.2.d"), ("Set_64_234", "p6.2.n"), ("Set_64_234", "p6.3.h"), ("Set_64_234", "p6.4.k"),
    ("Set_102_234", "p7.2.j"), ("Set_102_234", "p7.3.o"), ("Set_102_234", "p7.4.t"),
)
"""Fixed Chao part of ``--subset``: 4 instances of each Chao set present here (20), plus 3 each of
sets 4 and 7 (``Set_100_234``, ``Set_102_234``), which are not in this copy of the benchmarks and are
then reported as skipped."""


# ------------------------------------------------------------------------------------------ cases
@dataclass(frozen=True)
class Case:
    """One benchmark case: a file and a number of routes."""

    family: str  # "toptw" or "chao"
    set: str
    instance: str
    m: int
    path: str

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.set, self.instance, self.m)

    def load(self) -> TOPTWInstance:
        if self.family == "toptw":
            return read_toptw(self.path, n_routes=self.m)
        return read_chao_top(self.path, n_routes=self.m)


def _chao_m(instance: str) -> int:
    """``m`` of a Chao file name ``pS.M.L``."""
    return int(instance.split(".")[1])


def _resolve_sets(sets: Sequence[str] | None) -> list[str]:
    known = list(TOPTW_SETS) + list(CHAO_SETS)
    if not sets:
        return known
    out: list[str] = []
    for s in sets:
        for name in s.split(","):
            name = name.strip()
            if not name:
                continue
            if name == "toptw":
                out += list(TOPTW_SETS)
            elif name == "chao":
                out += list(CHAO_SETS)
            elif name in known:
                out.append(name)
            else:
                raise SystemExit(f"unknown set {name!r}; known: {known} (or 'toptw', 'chao')")
    return list(dict.fromkeys(out))


def select_cases(sets: Sequence[str] | None = None, subset: bool = False) -> tuple[list[Case], list[str]]:
    """The cases to run, in a fixed order, and the subset entries skipped because their file is absent."""
    chosen = _resolve_sets(sets)
    cases: list[Case] = []
    skipped: list[str] = []
    if subset:
        for s, inst, m in SUBSET_TOPTW:
            if s in chosen:
                p = instance_path(s, inst)
                if p.is_file():
                    cases.append(Case("toptw", s, inst, m, str(p)))
                else:
                    skipped.append(f"{s}/{inst} m={m}")
        for s, inst in SUBSET_CHAO:
            if s in chosen:
                p = instance_path(s, inst)
                if p.is_file():
                    cases.append(Case("chao", s, inst, _chao_m(inst), str(p)))
                else:
                    skipped.append(f"{s}/{inst}")
        return cases, skipped
    for s in chosen:
        if s in TOPTW_SETS:
            for p in list_instances(s):
                cases += [Case("toptw", s, p.stem, m, str(p)) for m in TOPTW_M]
        else:
            for p in list_instances(s):
                cases.append(Case("chao", s, p.stem, _chao_m(p.stem), str(p)))
    return cases, skipped


def folder_cases(folder: str | Path) -> tuple[list[Case], list[str]]:
    """Cases of every instance file of ``folder`` (set = the folder's name; TOPTW m = 1..4, Chao m
    from the file) and ``"<file name>: <reason>"`` for each file neither reader accepts (skipped).

    ``FileNotFoundError`` / ``NotADirectoryError`` when ``folder`` is not a folder."""
    folder = Path(folder)
    files = list_instance_files(folder)
    set_name = folder.resolve().name
    stems = [p.stem for p in files]
    cases: list[Case] = []
    bad: list[str] = []
    for p in files:
        name = p.stem if stems.count(p.stem) == 1 else p.name
        try:
            fmt, inst = read_instance_file(p)
        except (ValueError, OSError) as exc:
            msg = str(exc)
            bad.append(f"{p.name}: {msg[len(str(p)) + 2:] if msg.startswith(str(p)) else msg}")
            continue
        ms = TOPTW_M if fmt == "toptw" else (inst.n_routes,)
        cases += [Case(fmt, set_name, name, m, str(p)) for m in ms]
    return cases, bad


def folder_reference(refs: dict[tuple[str, str, int], float], kind: str,
                     case: Case) -> tuple[float, str] | None:
    """Reference of ``case`` in a user value file: the row with its (set, instance, m), else the only
    row with its (instance, m) whatever the set; None when there is none."""
    if case.key in refs:
        return refs[case.key], kind
    hits = [v for (_, inst, m), v in refs.items() if inst == case.instance and m == case.m]
    return (hits[0], kind) if len(hits) == 1 else None


def references() -> dict[tuple[str, str, int], tuple[float, str]]:
    """``{(set, instance, m): (value, kind)}`` with kind ``'bks'`` (TOPTW) or ``'ref'`` (Chao 1996)."""
    out: dict[tuple[str, str, int], tuple[float, str]] = {}
    for k, v in load_bks_toptw().items():
        out[k] = (v, "bks")
    try:
        for k, v in load_chao_reference_scores().items():
            out[k] = (v, "ref")
    except FileNotFoundError:
        pass
    return out


# ------------------------------------------------------------------------------------------ rows
@dataclass
class RunRow:
    """One solver run on one case (one CSV row)."""

    solver: str
    family: str
    set: str
    instance: str
    m: int
    limit_s: float
    seed: int
    ref: float | None
    ref_kind: str  # "bks", "ref" or ""
    score: float  # score counted in the tables: 0 when the plan has violations or the solver failed
    raw_score: float  # score of the returned routes (before the violation rule)
    violations: int
    first_violation: str
    time_s: float
    status: str

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.set, self.instance, self.m)

    @property
    def gap(self) -> float | None:
        if self.ref is None or not self.ref > 0:
            return None
        return 100.0 * (self.ref - self.score) / self.ref


_SCHEMA = {f.name: f.type for f in fields(RunRow)}


def _polars_schema():
    import polars as pl

    types = {"str": pl.Utf8, "int": pl.Int64, "float": pl.Float64, "float | None": pl.Float64}
    return {name: types[str(t)] for name, t in _SCHEMA.items()}


def write_csv(rows: Sequence[RunRow], path: Path) -> None:
    import polars as pl

    path.parent.mkdir(parents=True, exist_ok=True)
    df = pl.DataFrame([asdict(r) for r in rows], schema=_polars_schema(), orient="row") if rows else \
        pl.DataFrame(schema=_polars_schema())
    tmp = path.with_suffix(".csv.tmp")
    df.write_csv(tmp)
    tmp.replace(path)


def read_csv(path: Path) -> list[RunRow]:
    import polars as pl

    if not path.is_file():
        return []
    df = pl.read_csv(path, schema=_polars_schema())
    out = []
    for d in df.iter_rows(named=True):
        d["ref_kind"] = d["ref_kind"] or ""
        d["first_violation"] = d["first_violation"] or ""
        d["status"] = d["status"] or ""
        out.append(RunRow(**d))
    return out


# ------------------------------------------------------------------------------------------ peers
@dataclass
class PeerResult:
    """A peer solver's answer: routes of instance node indices (customers only) and a status line."""

    routes: list[list[int]]
    status: str
    wall_s: float


def solve_ortools(inst: TOPTWInstance, time_limit_s: float, seed: int = 0) -> PeerResult:
    """OR-Tools routing baseline (:func:`models.toptw_routing.solve_routing`)."""
    from models.toptw_routing import solve_routing
    from optimizer.core.stop import StoppingCriterion

    t0 = time.perf_counter()
    res = solve_routing(inst, StoppingCriterion(max_runtime_s=time_limit_s), seed=seed)
    return PeerResult([list(r) for r in res.routes], res.stats.status, time.perf_counter() - t0)


PYVRP_TIME_SCALE = {"toptw": 100, "chao": 1000}
"""Integer time units per minute given to PyVRP: 100 for the KU Leuven files (travel truncated to 1-2
decimals, service/windows <= 2 decimals: exact) and 1000 for Chao (real Euclidean travel: rounded up,
so an integer-feasible plan is feasible in floats; may cut off a float-feasible plan by < 0.001 per
leg)."""


@dataclass(frozen=True)
class PyVRPModel:
    data: object  # pyvrp.ProblemData
    client_nodes: tuple[int, ...]  # PyVRP client index -> instance node
    time_scale: int
    exact_times: bool
    score_scale: int  # integer score units per score unit (1 for every benchmark)
    prize_per_score: int  # K: prize of one integer score unit
    max_penalty: float


def _time_scale_for(inst: TOPTWInstance) -> int:
    """100 when the scaled times are exact integers, else 1000 (Chao-style real travel times)."""
    from models.toptw_cpsat import scale_times

    return 100 if scale_times(inst, 100)[1] else 1000


def pyvrp_data(inst: TOPTWInstance, time_scale: int | None = None) -> PyVRPModel:
    """PyVRP 0.14 model of the TOPTW ``inst``.

    * One location per instance node (location index = node index); a depot at ``start`` and, when
      different (Chao), a second depot at ``end``; one vehicle type with ``num_available = m``,
      ``start_depot``/``end_depot`` accordingly, vehicle and depot windows ``[0, Tmax]``.
    * Every customer is an optional client (``required=False``) with ``service_duration``, window
      ``[open, close]`` on the start of service (PyVRP semantics, waiting allowed) and
      ``prize = score * K``.
    * Edge ``i -> j``: duration = travel time; distance = the same travel time, as a tie-break
      (PyVRP's granular neighbourhoods are built from distances, with zero distances they ignore
      geography). ``unit_distance_cost = 1``, no duration cost.
    * Times are integers in ``1/time_scale`` minute (:data:`PYVRP_TIME_SCALE`; durations rounded
      up, deadlines down by :func:`models.toptw_cpsat.scale_times`). Scores are integers (or x100
      and rounded, via ``scale_scores``).
    * ``K = m * Tmax_scaled + 1``: a feasible plan's total distance is at most ``m * Tmax_scaled``
      (a route's travel <= its duration <= Tmax), so one score unit outweighs any distance
      difference and PyVRP's cost (distance + uncollected prizes) ranks plans by score first, then
      by travel.
    * Penalty cap ``max_penalty = 2 * K * max_score + 1`` per unit of time warp (PyVRP's default cap
      1e5 is below one prize unit, so buying a client with lateness would always pay): at the cap,
      one time unit of lateness costs more than any single client's prize, so the adaptive penalty
      can always drive the search back to feasible plans (PyVRP returns the best *feasible* plan it
      found, if any; the adapter reports ``INFEASIBLE`` otherwise and the runner flags it).
    """
    from pyvrp import Client, Depot, Location, ProblemData, VehicleType

    from models.toptw_cpsat import scale_scores, scale_times

    scale = time_scale or _time_scale_for(inst)
    t, exact = scale_times(inst, scale)
    scores, score_scale, _ = scale_scores(inst)
    tr, sv, op, cl = t["travel"], t["service"], t["open"], t["close"]
    tmax = max(int(t["t_max"]), 0)
    m = inst.n_routes
    K = m * tmax + 1
    cust = inst.customers
    max_score = int(max((int(scores[i]) for i in cust), default=0))
    max_penalty = float(2 * K * max(max_score, 1) + 1)

    # Locations: one per node, location index = node index. ProblemData is built directly from the
    # matrices (the Model API's one Python object per edge costs ~0.2-0.6 s on the 289-node pr10).
    locations = [Location(float(inst.x[i]), float(inst.y[i])) for i in range(inst.n)]
    depots = [Depot(inst.start, tw_early=0, tw_late=tmax)]
    if inst.end != inst.start:
        depots.append(Depot(inst.end, tw_early=0, tw_late=tmax))
    clients = []
    for i in cust:
        lo, hi = int(op[i]), int(cl[i])
        if lo > hi:  # empty after conservative rounding: unreachable (never happens on the benchmarks)
            lo, hi = tmax + 1, tmax + 1
        clients.append(Client(i, service_duration=int(sv[i]), tw_early=lo, tw_late=hi,
                              prize=int(scores[i]) * K, required=False))
    vehicle = VehicleType(num_available=m, start_depot=0, end_depot=len(depots) - 1, tw_early=0, tw_late=tmax)
    mat = np.ascontiguousarray(tr, dtype=np.int64).copy()
    np.fill_diagonal(mat, 0)
    data = ProblemData(locations, clients, depots, [vehicle], [mat], [mat.copy()])
    client_nodes = list(cust)
    return PyVRPModel(data, tuple(client_nodes), scale, exact, score_scale, K, max_penalty)


def solve_pyvrp(inst: TOPTWInstance, time_limit_s: float, seed: int = 0) -> PeerResult:
    """Solve ``inst`` with PyVRP 0.14 (model: :func:`pyvrp_data`), ``MaxRuntime(time_limit_s)``.

    PyVRP's ``MaxRuntime(time_limit_s)`` covers its initial local search and its ILS; building the
    data (a few ms) is not counted against it, as for OR-Tools (whose limit covers its search only).
    ``wall_s`` is the whole call.
    """
    from pyvrp import PenaltyParams, SolveParams, solve
    from pyvrp.stop import MaxRuntime

    t0 = time.perf_counter()
    pm = pyvrp_data(inst)
    params = SolveParams(penalty=PenaltyParams(max_penalty=pm.max_penalty))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = solve(pm.data, stop=MaxRuntime(time_limit_s), seed=seed, collect_stats=False, display=False,
                    params=params)
    best = res.best
    routes: list[list[int]] = []
    for r in best.routes():
        routes.append([pm.client_nodes[a.idx] for a in r if a.is_client()])
    routes += [[] for _ in range(inst.n_routes - len(routes))]
    status = "feasible" if res.is_feasible() else f"INFEASIBLE (time warp {best.time_warp()})"
    prizes = best.prizes() / (pm.prize_per_score * pm.score_scale)
    if abs(prizes - toptw_score(inst, routes)) > 1e-6:
        status += f"; prize {prizes:g} != score"
    status += f"; {res.num_iterations} it; x{pm.time_scale}{'' if pm.exact_times else ' rounded'}"
    if caught:
        status += "; warnings: " + " | ".join(sorted({w.category.__name__ for w in caught}))
    return PeerResult(routes, status, time.perf_counter() - t0)


# ------------------------------------------------------------------------------------------ running
_WARM = False


def warm_up() -> None:
    """Import the peer solvers and compile (or load from the numba cache) our solver's kernels on a
    tiny instance, once, so that no timed run pays for imports or JIT compilation."""
    global _WARM
    if _WARM:
        return
    import models.toptw_routing  # noqa: F401  (OR-Tools)

    try:
        import pyvrp  # noqa: F401
    except ImportError:
        pass
    from optimizer.core.stop import StoppingCriterion
    from optimizer.toptw import solve

    n = 11
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 10, n), rng.uniform(0, 10, n)
    d = np.sqrt((x[:, None] - x[None, :]) ** 2 + (y[:, None] - y[None, :]) ** 2)
    inst = TOPTWInstance("warmup", x, y, np.ones(n), np.r_[0.0, np.ones(n - 1)], np.zeros(n),
                         np.full(n, 100.0), d, 2, 100.0)
    solve(inst, StoppingCriterion(max_iterations=3), seed=0)
    # the restarts of long runs (``ILSParams.kick_after``) compile ``ils.kick`` on their first kick
    from dataclasses import replace

    from optimizer.toptw import ToptwParams

    solve(inst, StoppingCriterion(max_iterations=5), seed=0,
          params=ToptwParams(ils=replace(ToptwParams().ils, kick_after=2)))
    _WARM = True


def _run_solver(solver: str, inst: TOPTWInstance, limit: float, seed: int,
                threads: int = 1) -> tuple[list[list[int]], str, float]:
    if solver == "ours":
        from optimizer.core.stop import StoppingCriterion
        from optimizer.toptw import ToptwParams, solve

        t0 = time.perf_counter()
        sol = solve(inst, StoppingCriterion(max_runtime_s=limit), seed=seed, params=ToptwParams(threads=threads))
        wall = time.perf_counter() - t0
        status = f"{sol.stats.stopped_by}; {sol.stats.iterations} it"
        if sol.stats.threads > 1:
            status = f"{sol.stats.stopped_by}; {sol.stats.threads} threads; {sol.stats.iterations} it"
        return [list(r) for r in sol.routes], status, wall
    fn = {"ortools": solve_ortools, "pyvrp": solve_pyvrp}[solver]
    t0 = time.perf_counter()
    res = fn(inst, limit, seed)
    return res.routes, res.status, time.perf_counter() - t0


def run_case(case: Case, solvers: Sequence[str], limit: float, seed: int,
             ref: tuple[float, str] | None, threads: int = 1) -> list[RunRow]:
    """Run ``solvers`` one after the other on ``case`` (ours with ``threads`` search threads); check
    every plan (ours: raise on violation)."""
    warm_up()
    inst = case.load()
    rows = []
    for solver in solvers:
        try:
            routes, status, wall = _run_solver(solver, inst, limit, seed, threads)
        except Exception as exc:  # a peer crash is recorded, ours is not tolerated
            if solver == "ours":
                raise
            rows.append(RunRow(solver, case.family, case.set, case.instance, case.m, limit, seed,
                               ref[0] if ref else None, ref[1] if ref else "", 0.0, 0.0, 1,
                               f"{type(exc).__name__}: {exc}"[:300], float("nan"), "ERROR"))
            continue
        viol = check_toptw_routes(inst, routes)
        raw = toptw_score(inst, routes)
        if viol and solver == "ours":
            raise RuntimeError(f"{case.set}/{case.instance} m={case.m}: our plan has {len(viol)} violations: "
                               f"{viol[:5]}")
        rows.append(RunRow(solver, case.family, case.set, case.instance, case.m, limit, seed,
                           ref[0] if ref else None, ref[1] if ref else "", 0.0 if viol else raw, raw,
                           len(viol), viol[0][:300] if viol else "", wall, status))
    return rows


def _worker_init() -> None:
    warnings.simplefilter("ignore")


# ------------------------------------------------------------------------------------------ tables
def _fmt(v: float | None, nd: int = 2) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.{nd}f}"


def _fmt_score(v: float) -> str:
    return f"{v:.0f}" if abs(v - round(v)) < 1e-9 else f"{v:.2f}"


def _group_names(key_set: str, instance: str) -> list[str]:
    """Summary groups of a case: its set, and for Solomon its family (c1, c2, r1, r2, rc1, rc2)."""
    groups = [key_set]
    if key_set.startswith("solomon"):
        fam = instance.split("_")[-1].rstrip("0123456789")
        digit = instance.split("_")[-1][len(fam):][:1]
        groups.append(f"{key_set} {fam}{digit}")
    return groups


def _pivot(rows: Iterable[RunRow]) -> dict[tuple[str, str, int], dict[str, RunRow]]:
    out: dict[tuple[str, str, int], dict[str, RunRow]] = {}
    for r in rows:
        out.setdefault(r.key, {})[r.solver] = r
    return out


def summarize(rows: Sequence[RunRow], solvers: Sequence[str] = SOLVERS) -> list[dict]:
    """Per-group summary dicts: one per set (and Solomon family), then ``all TOPTW`` and ``all Chao``.

    Keys: ``group``, ``limit_s``, ``instances`` (cases with at least one row), ``with_ref`` (cases with
    a reference > 0 and a row from every solver; the gap means are over these), ``ref_kind``,
    ``gap`` {solver: mean gap % or None}, ``ge`` {peer: (cases ours >= peer, cases with both)},
    ``violations`` {solver: plans with violations or errors}, ``time`` {solver: mean wall s}.
    """
    piv = _pivot(rows)
    groups: dict[str, list[tuple[str, str, int]]] = {}
    for key, by_solver in piv.items():
        any_row = next(iter(by_solver.values()))
        for g in _group_names(any_row.set, any_row.instance):
            groups.setdefault(g, []).append(key)
        groups.setdefault("all TOPTW" if any_row.family == "toptw" else "all Chao", []).append(key)
    order = sorted(k for k in groups if not k.startswith("all ")) + [k for k in ("all TOPTW", "all Chao")
                                                                       if k in groups]
    out = []
    for g in order:
        keys = groups[g]
        cases = [piv[k] for k in keys]
        limits = sorted({r.limit_s for c in cases for r in c.values()})
        common = [c for c in cases if all(s in c for s in solvers)
                  and (next(iter(c.values())).gap is not None)]
        kinds = sorted({next(iter(c.values())).ref_kind for c in common})
        gap = {s: (float(np.mean([c[s].gap for c in common])) if common else None) for s in solvers}
        ge = {}
        if "ours" in solvers:
            for p in solvers:
                if p == "ours":
                    continue
                both = [c for c in cases if "ours" in c and p in c]
                ge[p] = (sum(c["ours"].score >= c[p].score - _TOL for c in both), len(both))
        viol = {s: sum(1 for c in cases if s in c and (c[s].violations > 0 or c[s].status == "ERROR"))
                for s in solvers}
        tm = {}
        for s in solvers:
            ts = [c[s].time_s for c in cases if s in c and not math.isnan(c[s].time_s)]
            tm[s] = float(np.mean(ts)) if ts else None
        out.append(dict(group=g, limit_s=limits, instances=len(cases), with_ref=len(common),
                        ref_kind="/".join(kinds), gap=gap, ge=ge, violations=viol, time=tm))
    return out


def _peer_cell(r: RunRow | None) -> str:
    if r is None:
        return "-"
    if r.status == "ERROR":
        return "0 **ERROR**"
    if r.violations:
        return f"0 **INFEASIBLE** ({_fmt_score(r.raw_score)}, {r.violations} viol.)"
    return _fmt_score(r.score)


def summary_table(summ: Sequence[dict], solvers: Sequence[str]) -> str:
    from bench.results_md import table

    peers = [s for s in solvers if s != "ours"]
    header = ["set", "limit s", "instances", "with BKS/ref"]
    header += [f"mean gap % {SOLVER_LABEL[s]}" for s in solvers]
    if "ours" in solvers:
        header += [f"ours >= {SOLVER_LABEL[p]}" for p in peers]
    header += [f"infeasible/error {SOLVER_LABEL[s]}" for s in peers]
    header += ["mean time s (" + " / ".join(SOLVER_LABEL[s] for s in solvers) + ")"]
    rows = []
    for d in summ:
        kind = f" ({d['ref_kind']})" if d["ref_kind"] else ""
        row = [f"**{d['group']}**" if d["group"].startswith("all ") else d["group"],
               ", ".join(f"{v:g}" for v in d["limit_s"]), d["instances"], f"{d['with_ref']}{kind}"]
        row += [_fmt(d["gap"][s]) for s in solvers]
        if "ours" in solvers:
            row += [f"{d['ge'][p][0]}/{d['ge'][p][1]}" for p in peers]
        row += [d["violations"][s] for s in peers]
        row += [" / ".join(_fmt(d["time"][s]) for s in solvers)]
        rows.append(row)
    return table(header, rows)


def instance_table(rows: Sequence[RunRow], solvers: Sequence[str]) -> str:
    from bench.results_md import table

    piv = _pivot(rows)
    header = ["set", "instance", "m", "BKS/ref"]
    if "ours" in solvers:
        header += ["ours", "gap %", "time s"]
    header += [SOLVER_LABEL[s] for s in solvers if s != "ours"]
    out = []
    for key in sorted(piv, key=lambda k: (next(iter(piv[k].values())).family != "toptw", k)):
        c = piv[key]
        any_row = next(iter(c.values()))
        ref = "-" if any_row.ref is None else _fmt_score(any_row.ref) + (" (ref)" if any_row.ref_kind == "ref" else "")
        proof = CHAO_REF_ABOVE_OPTIMUM.get(key) if any_row.ref_kind == "ref" else None
        if proof is not None and any_row.ref is not None and abs(proof.ref - any_row.ref) < _TOL:
            ref += (" **above proven optimum" + (f" {_fmt_score(proof.optimum)}" if proof.optimum is not None else "")
                    + "**")
        row: list[object] = [any_row.set, any_row.instance, any_row.m, ref]
        if "ours" in solvers:
            o = c.get("ours")
            row += [_fmt_score(o.score), _fmt(o.gap), _fmt(o.time_s)] if o else ["-", "-", "-"]
        row += [_peer_cell(c.get(s)) for s in solvers if s != "ours"]
        out.append(row)
    return table(header, out)


def chao_ref_lines(rows: Sequence[RunRow]) -> list[str]:
    """Issue 15's Chao target read off our rows: no case more than 1% below Chao's (1996) score, except
    where that score is above the proven optimum (:data:`bench.chao_proofs.CHAO_REF_ABOVE_OPTIMUM`,
    each re-proven by a test), and the count of cases above the reference."""
    ours = [r for r in rows if r.solver == "ours" and r.ref_kind == "ref" and r.gap is not None]
    if not ours:
        return []
    above = [r for r in ours if r.score > r.ref + _TOL]
    equal = [r for r in ours if abs(r.score - r.ref) <= _TOL]
    below = sorted((r for r in ours if r.gap > 1.0), key=lambda r: (-r.gap, r.key))
    proven = [r for r in below if r.key in CHAO_REF_ABOVE_OPTIMUM
              and abs(CHAO_REF_ABOVE_OPTIMUM[r.key].ref - r.ref) < _TOL]
    open_ = [r for r in below if r not in proven]

    def names(rs: Sequence[RunRow]) -> str:
        return ", ".join(f"{r.instance} {_fmt_score(r.score)}/{_fmt_score(r.ref)}" for r in rs) or "none"

    n_flag = sum(1 for r in ours if r.key in CHAO_REF_ABOVE_OPTIMUM)
    first = (f"- Chao ({len(ours)} cases with a ref): ours above the ref on **{len(above)}**, equal on "
             f"{len(equal)}, below on {len(ours) - len(above) - len(equal)}; ref above the proven optimum on "
             f"{n_flag} (`bench.chao_proofs`, each re-proven by a test)")
    second = (f"- Chao, more than 1% below the ref: **{len(open_)}** ({names(open_)}) + {len(proven)} whose ref is "
              f"above the proven optimum ({names(proven)}) (target: none but those: "
              f"{'met' if not open_ else 'NOT met'})")
    return [first, second]


def targets_lines(summ: Sequence[dict], solvers: Sequence[str], limit: float) -> list[str]:
    """The targets of issue 15 read off the summary: TOPTW mean gap to BKS <= 1.0% at 1 s and
    <= 0.3% at 10 s; ours >= OR-Tools and ours >= PyVRP on >= 95% of the cases; mean gap below PyVRP's."""
    by = {d["group"]: d for d in summ}
    lines = []
    tw = by.get("all TOPTW")
    target = 0.3 if limit >= 10 else 1.0
    if tw and "ours" in solvers and tw["gap"]["ours"] is not None:
        g = tw["gap"]["ours"]
        lines.append(f"- mean gap to BKS, TOPTW ({tw['with_ref']} cases with a BKS): **{g:.2f}%** "
                     f"(target <= {target:g}% at {limit:g} s: {'met' if g <= target else 'NOT met'})")
    for peer, name in (("ortools", "OR-Tools"), ("pyvrp", "PyVRP")):
        if "ours" not in solvers or peer not in solvers:
            continue
        k = sum(d["ge"][peer][0] for d in summ if d["group"].startswith("all "))
        n = sum(d["ge"][peer][1] for d in summ if d["group"].startswith("all "))
        if n:
            lines.append(f"- ours >= {name} on **{k}/{n} = {100 * k / n:.1f}%** of the cases "
                         f"(target >= 95%: {'met' if k >= 0.95 * n else 'NOT met'})")
    if "ours" in solvers and "pyvrp" in solvers:
        for g in ("all TOPTW", "all Chao"):
            d = by.get(g)
            if d and d["gap"]["ours"] is not None and d["gap"]["pyvrp"] is not None:
                a, b = d["gap"]["ours"], d["gap"]["pyvrp"]
                lines.append(f"- {g}: mean gap ours {a:.2f}% vs PyVRP {b:.2f}% ({d['ref_kind']}, "
                             f"{d['with_ref']} cases; target ours < PyVRP: {'met' if a < b else 'NOT met'})")
    return lines


def split_half(instance: str, names_in_set: Sequence[str]) -> str:
    """``'A'`` or ``'B'``, the half of the split protocol (``bench.split``): files sorted by name
    alternate within their set, the 1st in A (Cordeau: A = pr01/03/05/07/09)."""
    order = sorted(set(names_in_set))
    return "A" if order.index(instance) % 2 == 0 else "B"


def halves_lines(rows: Sequence[RunRow], solvers: Sequence[str]) -> list[str]:
    """Per set with a reference on every case: each solver's mean gap on half A and on half B of the
    split (so a table shows whether the gap depends on the half settings were chosen on)."""
    out = []
    piv = _pivot(rows)
    for set_name in sorted({k[0] for k in piv}):
        keys = [k for k in piv if k[0] == set_name]
        names = [k[1] for k in keys]
        if len(set(names)) < 2:
            continue
        cells = []
        for s in solvers:
            by_half: dict[str, list[float]] = {"A": [], "B": []}
            for k in keys:
                r = piv[k].get(s)
                if r is not None and r.gap is not None:
                    by_half[split_half(k[1], names)].append(r.gap)
            if by_half["A"] and by_half["B"]:
                cells.append(f"{s} A {np.mean(by_half['A']):.2f}% ({len(by_half['A'])} cases), "
                             f"B {np.mean(by_half['B']):.2f}% ({len(by_half['B'])})")
        if cells:
            out.append(f"- {set_name}, mean gap by half of the split (A = 1st, 3rd, ... file by name): "
                       + "; ".join(cells))
    return out


def _threads_note(rows: Sequence[RunRow]) -> str:
    """How many cores each solver used, from the status of our rows (``"K threads; N it"``)."""
    ks = sorted({int(p.split()[0]) for r in rows if r.solver == "ours"
                 for p in (x.strip() for x in r.status.split(";")) if p.endswith(" threads")})
    if not ks:
        return "every solver on one core"
    return (f"ours with {'/'.join(map(str, ks))} search threads in parallel (`ToptwParams.threads`, "
            "the default: one per core), the peers on one core each (they are single-threaded)")


def render_markdown(rows: Sequence[RunRow], solvers: Sequence[str], limit: float, subset: bool,
                    seed: int = 0, skipped: Sequence[str] = (), intro: str | None = None) -> str:
    """Body of the ``quality_<S>s`` section: method notes, targets, per-set summary, per-case table.

    ``intro`` (user-folder runs) replaces the method note on the shared sets and drops the targets and
    the subset line; ``skipped`` is then the list of unreadable files."""
    summ = summarize(rows, solvers)
    n_cases = len(_pivot(rows))
    if intro is not None:
        parts = [intro]
        if skipped:
            parts.append("Files not read (skipped): " + "; ".join(skipped) + ".")
        parts.append("### Summary per set\n\n" + summary_table(summ, solvers))
        parts.append("### Per case\n\n" + instance_table(rows, solvers))
        return "\n\n".join(parts)
    parts = [
        (f"{'Representative subset (`--subset`)' if subset else 'Full run'}: {n_cases} cases, "
        f"{limit:g} s per solver per case, seed {seed}, solvers run one at a time; {_threads_note(rows)}. "
        "TOPTW: KU Leuven files with m = 1..4, gap vs BKS (`toptw/bks.csv`). Chao TOP: m from the file, "
        "gap vs the scores reported by Chao et al. (1996) ('ref': a 1996 heuristic, not best-known; "
        "negative = better than that). Gap % = 100 (ref - score) / ref; means over the cases with a "
        "reference on which every solver ran. Every peer plan is re-checked by "
        "`optimizer.toptw.verify`; an infeasible plan or a crash counts as score 0 and is flagged. "
        "PyVRP 0.14: optional clients, prize = score x (m Tmax + 1), distance = duration = travel "
        "(x100, exact, for TOPTW; x1000 rounded up for Chao), penalty cap 2 x max prize + 1. "
        "Time = wall clock of the whole call."),
    ]
    if skipped:
        parts.append("Subset entries not in this copy of the benchmarks (skipped): " + ", ".join(skipped) + ".")
    tl = targets_lines(summ, solvers, limit) + halves_lines(rows, solvers) + chao_ref_lines(rows)
    if tl:
        parts.append("Targets:\n\n" + "\n".join(tl))
    parts.append("### Summary per set\n\n" + summary_table(summ, solvers))
    parts.append("### Per case\n\n" + instance_table(rows, solvers))
    return "\n\n".join(parts)


# ------------------------------------------------------------------------------------------ main
def _limit_label(limit: float) -> str:
    return f"{limit:g}"


def _progress_line(case: Case, rows: Sequence[RunRow], i: int, n: int) -> str:
    by = {r.solver: r for r in rows}
    ref = rows[0].ref if rows else None
    parts = [f"[{i}/{n}] {case.set} {case.instance} m={case.m}",
             f"{'ref' if rows and rows[0].ref_kind == 'ref' else 'bks'} {_fmt_score(ref) if ref is not None else '-'}"]
    for s, r in by.items():
        flag = " [red]INFEASIBLE[/red]" if r.violations else (" [red]ERROR[/red]" if r.status == "ERROR" else "")
        parts.append(f"{s} {_fmt_score(r.score)} ({_fmt(r.time_s)} s){flag}")
    return "  ".join(parts)


def main(argv: list[str] | None = None) -> None:
    from bench.results_md import seconds_arg

    ap = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=seconds_arg, default=None,
                    help="seconds per solver per case (required, except with --instances: default 1)")
    ap.add_argument("--sets", nargs="*", default=None,
                    help="sets to run (TOPTW_SETS / CHAO_SETS keys, or 'toptw' / 'chao'); default all")
    ap.add_argument("--subset", action="store_true", help="the fixed representative subset (SUBSET_*)")
    ap.add_argument("--solvers", default=",".join(SOLVERS), help="comma-separated: ours,ortools,pyvrp")
    ap.add_argument("--jobs", type=int, default=1, help="cases run in parallel processes (default 1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0,
                    help="search threads of ours per case (ToptwParams.threads); default 0: the solver's "
                         "default (2), at most the cores available divided by --jobs, at least 1")
    ap.add_argument("--resume", action="store_true",
                    help="keep the rows of bench/results/quality_<S>s.csv and skip those already run")
    ap.add_argument("--label", default=None,
                    help="name of the CSV and RESULTS.md section: quality_<LABEL> (default <S>s); a partial "
                         "run (--sets) with its own label leaves the full-run section alone")
    ap.add_argument("--instances", type=Path, default=None, metavar="DIR",
                    help="run on every instance file of DIR instead of the shared sets (with --values)")
    ap.add_argument("--values", type=Path, default=None, metavar="CSV",
                    help="reference values for --instances: columns set,instance,m and bks or score")
    ap.add_argument("--out", type=Path, default=None, metavar="FILE",
                    help="with --instances: write the report to FILE instead of stdout")
    args = ap.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    folder_mode = args.instances is not None or args.values is not None or args.out is not None
    if folder_mode:
        if args.instances is None or args.values is None:
            ap.error("--instances DIR and --values CSV go together (--out needs them too)")
        for flag, used in (("--sets", args.sets is not None), ("--subset", args.subset),
                           ("--resume", args.resume), ("--label", args.label is not None)):
            if used:
                ap.error(f"{flag} does not apply to --instances")
        if args.time_limit is None:
            args.time_limit = 1.0
    elif args.time_limit is None:
        ap.error("the following arguments are required: --time-limit")
    if args.jobs < 1:
        ap.error(f"--jobs {args.jobs}: must be >= 1")
    if not 0 <= args.threads <= 64:
        ap.error(f"--threads {args.threads}: must be in [0, 64]")
    from optimizer.core.engine.portfolio import available_cores
    from optimizer.toptw import ToptwParams

    args.threads = args.threads or max(1, min(ToptwParams().threads, available_cores() // args.jobs))

    from rich.console import Console

    from bench.results_md import SECTIONS, write_section

    console = Console(soft_wrap=True)
    limit = float(args.time_limit)
    if not (limit > 0 and math.isfinite(limit)):
        raise SystemExit("--time-limit must be a positive number of seconds")
    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    bad = [s for s in solvers if s not in SOLVERS]
    if bad or not solvers:
        raise SystemExit(f"unknown solver(s) {bad}; choose from {list(SOLVERS)}")
    solvers = [s for s in SOLVERS if s in solvers]  # canonical order
    if "pyvrp" in solvers:
        try:
            import pyvrp  # noqa: F401
        except ImportError:
            raise SystemExit("pyvrp is not installed: pip install 'pyvrp==0.14.*' (extra 'bench')") from None
    if folder_mode:
        _main_folder(ap, args, solvers, limit, console, argv)
        return

    cases, skipped = select_cases(args.sets, args.subset)
    if not cases:
        raise SystemExit("no benchmark case found (check --sets and the benchmark folder)")
    refs = references()
    label = args.label or f"{_limit_label(limit)}s"
    csv_path = SECTIONS / f"quality_{label}.csv"

    kept: list[RunRow] = read_csv(csv_path) if args.resume else []
    done = {(r.solver, r.set, r.instance, r.m, r.limit_s) for r in kept}
    todo: list[tuple[Case, list[str]]] = []
    for c in cases:
        need = [s for s in solvers if (s, c.set, c.instance, c.m, limit) not in done]
        if need:
            todo.append((c, need))
    console.print(f"quality: {len(cases)} cases x {len(solvers)} solvers at {limit:g} s"
                  f" ({len(cases) - len(todo)} already in {csv_path.name})" if args.resume else
                  f"quality: {len(cases)} cases x {len(solvers)} solvers at {limit:g} s; "
                  f"estimated {len(cases) * len(solvers) * limit / 60 / max(args.jobs, 1):.0f} min")

    all_rows = list(kept)
    n = len(todo)
    if args.jobs <= 1:
        for i, (case, need) in enumerate(todo, 1):
            rows = run_case(case, need, limit, args.seed, refs.get(case.key), args.threads)
            all_rows += rows
            write_csv(all_rows, csv_path)
            console.print(_progress_line(case, rows, i, n), highlight=False)
    else:
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=mp.get_context("spawn"),
                                 initializer=_worker_init) as ex:
            futs = {ex.submit(run_case, case, need, limit, args.seed, refs.get(case.key), args.threads): case
                    for case, need in todo}
            for i, f in enumerate(as_completed(futs), 1):
                rows = f.result()
                all_rows += rows
                write_csv(all_rows, csv_path)
                console.print(_progress_line(futs[f], rows, i, n), highlight=False)

    selected = {c.key for c in cases}
    report_rows = [r for r in all_rows if r.key in selected and r.solver in solvers and r.limit_s == limit]
    body = render_markdown(report_rows, solvers, limit, args.subset, args.seed, skipped)
    title = (f"Solution quality at {limit:g} s per case "
             f"({'representative subset' if args.subset else 'full run'}"
             f"{'' if not args.sets else ' of ' + ', '.join(args.sets)}"
             f"{'' if not args.label else ', ' + args.label}; ours vs BKS, OR-Tools, PyVRP)")
    path = write_section(f"quality_{label}", title,
                         "python -m bench.quality " + " ".join(a for a in argv if a != "--resume"), body)
    summ = summarize(report_rows, solvers)
    print(summary_table(summ, solvers))
    print("\n".join(targets_lines(summ, solvers, limit) + chao_ref_lines(report_rows)))
    console.print(f"wrote {csv_path} and {path}")


def _main_folder(ap: argparse.ArgumentParser, args: argparse.Namespace, solvers: list[str], limit: float,
                 console, argv: Sequence[str]) -> None:
    """``--instances DIR --values CSV``: run, then print the report or write it to ``--out``."""
    from instances.benchmarks import read_reference_values

    folder: Path = args.instances
    try:
        cases, bad = folder_cases(folder)
    except OSError as exc:
        ap.error(f"--instances: {exc}")
    for b in bad:
        print(f"skipped (not a KU Leuven TOPTW or Chao TOP file): {b}", file=sys.stderr)
    if not cases:
        ap.error(f"--instances: {folder}: no readable instance file"
                 + (f" ({len(bad)} file(s) skipped)" if bad else " (empty folder)"))
    try:
        refs, kind = read_reference_values(args.values)
    except (OSError, ValueError) as exc:
        ap.error(f"--values: {exc}")
    if args.out is not None and args.out.is_dir():
        ap.error(f"--out: {args.out}: is a folder")

    console.print(f"quality: {len(cases)} cases from {folder} x {len(solvers)} solvers at {limit:g} s; "
                  f"estimated {len(cases) * len(solvers) * limit / 60 / max(args.jobs, 1):.1f} min",
                  highlight=False)
    todo = [(c, folder_reference(refs, kind, c)) for c in cases]
    all_rows: list[RunRow] = []
    if args.jobs <= 1:
        for i, (case, ref) in enumerate(todo, 1):
            rows = run_case(case, solvers, limit, args.seed, ref, args.threads)
            all_rows += rows
            console.print(_progress_line(case, rows, i, len(todo)), highlight=False)
    else:
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=mp.get_context("spawn"),
                                 initializer=_worker_init) as ex:
            futs = {ex.submit(run_case, case, solvers, limit, args.seed, ref): case for case, ref in todo}
            for i, f in enumerate(as_completed(futs), 1):
                rows = f.result()
                all_rows += rows
                console.print(_progress_line(futs[f], rows, i, len(todo)), highlight=False)

    n_ref = sum(1 for _, r in todo if r is not None)
    intro = (f"Instances: every file of `{folder}` ({len(cases)} cases; KU Leuven TOPTW files with "
             f"m = 1..4, Chao TOP files with m from the file), {limit:g} s per solver per case, seed "
             f"{args.seed}, solvers run one at a time. Reference values: `{args.values}` "
             f"({'best-known, column bks' if kind == 'bks' else 'reported scores, column score'}; "
             f"{n_ref} of {len(cases)} cases have one, the others have no gap). "
             "Gap % = 100 (ref - score) / ref; means over the cases with a reference on which every "
             "solver ran. Every plan is re-checked by `optimizer.toptw.verify`; an infeasible peer plan "
             "or a crash counts as score 0 and is flagged. Time = wall clock of the whole call.")
    body = render_markdown(all_rows, solvers, limit, False, args.seed, bad, intro=intro)
    if args.out is None:
        print(body)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"# Solution quality at {limit:g} s per case\n\nRegenerate: "
                            f"`python -m bench.quality {' '.join(argv)}`\n\n{body}\n",
                            encoding="utf-8")
        print(summary_table(summarize(all_rows, solvers), solvers))
        console.print(f"wrote {args.out}", highlight=False)


if __name__ == "__main__":
    main()

"""Independent check of a siting: ``verify_siting(problem, solution) -> list[Violation]``.

Written apart from the solver (``models.siting``): everything is recomputed from the problem's
data by other means. MCLP coverage from ``coverage``/``distance <= threshold``; FRLM
refuelability by driving each round trip O -> D -> O with the half-tank rule (start full at a
station at O, else with half a tank; fill up at every station; never run dry; back at O without
a station at least half a tank left; at least one station on the path; Kuby & Lim 2005);
capacitated FRLM with ``K`` sets recomputed from cyclic distances along the round trip; p-median
from the distance matrix.

Checks (Violation ``kind`` in brackets): status word and empty plan without a point
[``status``]; p distinct chosen candidates [``chosen``]; coverage / refuelling flags equal to the
recomputed ones (capacitated: shares, station loads and arc cover) [``coverage``, ``refuel``,
``capacity``]; p-median assignment to open reachable sites [``assignment``]; objective equal to
the recomputed one and the bound on the right side of it, equal to it when ``optimal``
[``objective``, ``bound``]; ``unserved`` naming exactly the demand left out, with the right
reason [``unserved``]; every marginal-curve point with its ``p`` stations and its objective
recomputed [``marginal``].

Tolerance ``TOL = 1e-6`` relative to max(|objective|, 1 % of the objective magnitude: total
demand, total flow, or sum_i a_i max_j d_ij for p-median), the solver's optimality tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from optimizer.core.results import FEASIBLE, OPTIMAL, STATUSES, Violation
from optimizer.stations.siting import CoverageProblem, FlowPath, FlowProblem, PMedianProblem, SitingSolution

__all__ = ["TOL", "refuelable", "verify_siting"]

TOL = 1e-6
_FEAS = 1e-6


def _tol(obj: float, magnitude: float) -> float:
    return TOL * max(abs(obj), 1e-2 * magnitude)


def _cycle(path: FlowPath) -> tuple[list, list[float]]:
    """Nodes left and arc lengths driven, in order, on the round trip O -> D -> O."""
    fwd_nodes, fwd_km = list(path.nodes), list(path.arc_km)
    return fwd_nodes[:-1] + fwd_nodes[:0:-1], fwd_km + fwd_km[::-1]


def refuelable(path: FlowPath, stations: set, range_km: float) -> bool:
    """Whether a vehicle with ``range_km`` can drive ``path``'s round trip forever with
    ``stations`` open (the drive of the module docstring)."""
    if not any(v in stations for v in path.nodes):
        return False
    leaves, km = _cycle(path)
    fuel = range_km if leaves[0] in stations else range_km / 2.0
    for node, d in zip(leaves, km):
        if node in stations:
            fuel = range_km
        fuel -= d
        if fuel < -1e-9:
            return False
    return leaves[0] in stations or fuel >= range_km / 2.0 - 1e-9


def _k_sets_by_distance(path: FlowPath, range_km: float, stations: Sequence) -> list[set]:
    """Per arc of the round trip: the stations from which a full tank reaches the arc's head."""
    leaves, km = _cycle(path)
    n_arcs = len(km)
    cum = np.concatenate([[0.0], np.cumsum(km)])
    total = cum[-1]
    station_set = set(stations)
    out = []
    for a in range(n_arcs):
        head = cum[a + 1]
        out.append({leaves[t] for t in range(n_arcs)
                    if leaves[t] in station_set
                    and (head - cum[t] if t <= a else head + total - cum[t]) <= range_km + 1e-9})
    return out


def _magnitude(problem) -> float:
    if isinstance(problem, FlowProblem):
        return max(sum(p.flow for p in problem.paths), 1e-300)
    if isinstance(problem, PMedianProblem):
        d = problem.distance
        return max(float(sum(problem.demand[i] * np.max(d[i][np.isfinite(d[i])], initial=0.0)
                             for i in range(d.shape[0]))), 1e-300)
    return max(float(problem.demand.sum()), 1e-300)


def _coverage(problem: CoverageProblem) -> np.ndarray:
    if problem.coverage is not None:
        return np.asarray(problem.coverage, dtype=bool)
    return np.asarray(problem.distance) <= problem.threshold


def _chosen_checks(problem, chosen: Sequence, p: int, where: str, kind: str) -> list[Violation]:
    out = []
    cands = set(problem.candidates)
    if len(set(chosen)) != len(chosen):
        out.append(Violation(where, kind, f"chosen stations repeat: {list(chosen)}"))
    bad = [c for c in chosen if c not in cands]
    if bad:
        out.append(Violation(where, kind, f"chosen sites are not candidates: {bad}"))
    if len(chosen) != p:
        out.append(Violation(where, kind, f"{len(chosen)} stations chosen, p = {p}"))
    return out


def _objective_of(problem, chosen: Sequence) -> float:
    """Best objective the stations ``chosen`` give (uncapacitated models)."""
    open_ = set(chosen)
    if isinstance(problem, CoverageProblem):
        cov = _coverage(problem)
        js = [k for k, c in enumerate(problem.candidates) if c in open_]
        return float(sum(problem.demand[i] for i in range(problem.demand.size) if cov[i, js].any()))
    if isinstance(problem, PMedianProblem):
        js = [k for k, c in enumerate(problem.candidates) if c in open_]
        d = problem.distance
        return float(sum(problem.demand[i] * (d[i, js].min() if js else math.inf)
                         for i in range(problem.demand.size) if problem.demand[i] > 0))
    return float(sum(p.flow for p in problem.paths if refuelable(p, open_, problem.range_km)))


def verify_siting(problem: CoverageProblem | PMedianProblem | FlowProblem,
                  solution: SitingSolution) -> list[Violation]:
    """Violations of ``solution`` against ``problem`` (empty: the siting holds). See the module
    docstring for the checks."""
    out: list[Violation] = []
    st = solution.stats
    if st.status not in STATUSES:
        return [Violation("plan", "status", f"unknown status {st.status!r}")]
    capacitated = isinstance(problem, FlowProblem) and solution.model == "cfrlm"
    magnitude = _magnitude(problem)
    is_flow = isinstance(problem, FlowProblem)
    items = ([(p.id, p.flow) for p in problem.paths] if is_flow
             else [(problem.demand_ids[i], float(problem.demand[i])) for i in range(problem.demand.size)])
    has = st.status in (OPTIMAL, FEASIBLE)
    if not has:
        if solution.chosen or solution.covered:
            out.append(Violation("plan", "status", f"status {st.status} but stations or coverage are given"))
        if st.objective is not None:
            out.append(Violation("plan", "status", f"status {st.status} but an objective {st.objective} is given"))
        left = {u.item_id for u in solution.unserved}
        for item, w in items:
            if w > 0 and item not in left:
                out.append(Violation(item, "unserved", f"no stations, but {item} is not reported unserved"))
        out.extend(_marginal_checks(problem, solution, magnitude, capacitated))
        return out

    chosen = list(solution.chosen)
    open_ = set(chosen)
    out.extend(_chosen_checks(problem, chosen, problem.p, "plan", "chosen"))
    obj = st.objective if st.objective is not None else math.nan
    served: dict[str, float] = {}  # item -> share served

    if isinstance(problem, CoverageProblem):
        cov = _coverage(problem)
        js = [k for k, c in enumerate(problem.candidates) if c in open_]
        if len(solution.covered) != problem.demand.size:
            out.append(Violation("plan", "coverage", f"{len(solution.covered)} coverage flags for "
                                                     f"{problem.demand.size} demand points"))
            return out
        for i, flag in enumerate(solution.covered):
            truth = bool(cov[i, js].any())
            if (flag > 0.5) != truth:
                out.append(Violation(problem.demand_ids[i], "coverage",
                                     f"marked {'covered' if flag > 0.5 else 'not covered'} but a chosen station "
                                     f"{'does not reach' if not truth else 'reaches'} it"))
            served[problem.demand_ids[i]] = 1.0 if truth else 0.0
        true_obj = float(sum(problem.demand[i] for i in range(problem.demand.size) if cov[i, js].any()))
        sense = "max"
    elif isinstance(problem, PMedianProblem):
        d = problem.distance
        assign = solution.assignment
        true_obj = 0.0
        if len(assign) != problem.demand.size:
            out.append(Violation("plan", "assignment", f"{len(assign)} assignments for {problem.demand.size} points"))
            return out
        for i, j in enumerate(assign):
            pid = problem.demand_ids[i]
            if problem.demand[i] > 0 and j < 0:
                out.append(Violation(pid, "assignment", "demand point not assigned"))
                continue
            if j < 0:
                continue
            if not 0 <= j < len(problem.candidates):
                out.append(Violation(pid, "assignment", f"assigned to candidate index {j}, out of range"))
                continue
            if problem.candidates[j] not in open_:
                out.append(Violation(pid, "assignment", f"assigned to unopened site {problem.candidates[j]!r}"))
            if not math.isfinite(d[i, j]):
                out.append(Violation(pid, "assignment", f"assigned to unreachable site {problem.candidates[j]!r}"))
            true_obj += float(problem.demand[i] * d[i, j])
            served[pid] = 1.0
        sense = "min"
    else:
        paths = problem.paths
        if len(solution.covered) != len(paths):
            out.append(Violation("plan", "refuel", f"{len(solution.covered)} refuel flags for {len(paths)} paths"))
            return out
        if not capacitated:
            for q, flag in enumerate(solution.covered):
                truth = refuelable(paths[q], open_, problem.range_km)
                if (flag > 0.5) != truth:
                    out.append(Violation(paths[q].id, "refuel",
                                         f"marked {'refuelled' if flag > 0.5 else 'not refuelled'} but the round trip "
                                         f"{'runs dry' if not truth else 'can be driven'} with stations "
                                         f"{sorted(map(str, open_))} and range {problem.range_km:.1f}"))
                served[paths[q].id] = 1.0 if truth else 0.0
        else:
            out.extend(_capacity_checks(problem, solution, open_))
            for q, share in enumerate(solution.covered):
                served[paths[q].id] = float(share)
        true_obj = float(sum(paths[q].flow * served[paths[q].id] for q in range(len(paths))))
        sense = "max"

    tol = _tol(true_obj, magnitude)
    if not abs(obj - true_obj) <= tol:
        out.append(Violation("plan", "objective", f"objective {obj} differs from the recomputed {true_obj}"))
    if st.bound is not None:
        slack = (st.bound - obj) if sense == "max" else (obj - st.bound)
        if slack < -tol:
            out.append(Violation("plan", "bound", f"bound {st.bound} is on the wrong side of the objective {obj}"))
        if st.status == OPTIMAL and abs(slack) > tol:
            out.append(Violation("plan", "bound", f"status optimal but bound {st.bound} != objective {obj}"))
    elif st.status == OPTIMAL:
        out.append(Violation("plan", "bound", "status optimal without a bound"))
    out.extend(_unserved_checks(problem, solution, items, served))
    out.extend(_marginal_checks(problem, solution, magnitude, capacitated))
    return out


def _capacity_checks(problem: FlowProblem, solution: SitingSolution, open_: set) -> list[Violation]:
    out = []
    paths, cands = problem.paths, problem.candidates
    caps = problem.capacities
    if caps is None:
        out.append(Violation("plan", "capacity", "flow shares given but the problem has no capacities"))
        caps = (math.inf,) * len(cands)
    cidx = {c: k for k, c in enumerate(cands)}
    load = [0.0] * len(cands)
    for (q, k), g in solution.flow_share.items():
        if g > solution.covered[q] + _FEAS:
            out.append(Violation(paths[q].id, "capacity", f"share g[{q},{k}] = {g} exceeds y = {solution.covered[q]}"))
        if g > _FEAS and cands[k] not in open_:
            out.append(Violation(str(cands[k]), "capacity", f"share g[{q},{k}] > 0 at an unopened site"))
        passes = sum(1 for v in _cycle(paths[q])[0] if v == cands[k])
        if passes == 0 and g > _FEAS:
            out.append(Violation(paths[q].id, "capacity", f"share at {cands[k]!r}, a site not on the path"))
        load[k] += passes * paths[q].flow * g
    for k, ld in enumerate(load):
        if ld > caps[k] + _FEAS * max(1.0, caps[k]):
            out.append(Violation(str(cands[k]), "capacity", f"serves {ld:.6g} refuels > capacity {caps[k]}"))
    for q, yq in enumerate(solution.covered):
        if yq <= _FEAS:
            continue
        for a, ks in enumerate(_k_sets_by_distance(paths[q], problem.range_km, cands)):
            got = sum(solution.flow_share.get((q, cidx[c]), 0.0) for c in ks)
            if got < yq - 1e-5:
                out.append(Violation(paths[q].id, "refuel", f"arc {a}: refuelled share {got:.6g} < y = {yq:.6g}"))
                break
    return out


def _unserved_checks(problem, solution: SitingSolution, items: list[tuple[str, float]],
                     served: dict[str, float]) -> list[Violation]:
    out = []
    reasons = {}
    for u in solution.unserved:
        if u.item_id in reasons:
            out.append(Violation(u.item_id, "unserved", "reported unserved twice"))
        reasons[u.item_id] = u.reason
    weight = dict(items)
    for item, w in items:
        left_out = w > 0 and served.get(item, 0.0) < 1.0 - 1e-9
        if left_out and item not in reasons:
            out.append(Violation(item, "unserved", f"demand {w:g} left out but not reported unserved"))
        if not left_out and item in reasons:
            out.append(Violation(item, "unserved", f"reported unserved ({reasons[item]}) but it is served"))
    for item, reason in reasons.items():
        if item not in weight:
            out.append(Violation(item, "unserved", "reported unserved but not a demand point or path of the problem"))
            continue
        if isinstance(problem, CoverageProblem):
            i = problem.demand_ids.index(item)
            reachable = bool(_coverage(problem)[i].any())
            want = "not_covered" if reachable else "out_of_reach"
        elif isinstance(problem, FlowProblem):
            q = next(k for k, p in enumerate(problem.paths) if p.id == item)
            if not refuelable(problem.paths[q], set(problem.candidates), problem.range_km):
                want = "out_of_range"
            else:
                want = "capacity" if served.get(item, 0.0) > 1e-9 else "not_refuelled"
        else:
            want = None
        if want is not None and reason != want:
            out.append(Violation(item, "unserved", f"reason {reason!r}, expected {want!r}"))
    return out


def _marginal_checks(problem, solution: SitingSolution, magnitude: float, capacitated: bool) -> list[Violation]:
    out = []
    seen = set()
    for pt in solution.marginal:
        where = f"marginal p={pt.p}"
        if pt.p in seen:
            out.append(Violation(where, "marginal", "p appears twice in the curve"))
        seen.add(pt.p)
        if pt.status not in STATUSES:
            out.append(Violation(where, "marginal", f"unknown status {pt.status!r}"))
            continue
        if pt.status not in (OPTIMAL, FEASIBLE):
            if pt.objective is not None or pt.chosen:
                out.append(Violation(where, "marginal", f"status {pt.status} with an answer"))
            continue
        out.extend(Violation(where, "marginal", v.message)
                   for v in _chosen_checks(problem, list(pt.chosen), pt.p, where, "marginal"))
        if pt.objective is None:
            out.append(Violation(where, "marginal", "a point without an objective"))
            continue
        tol = _tol(pt.objective, magnitude)
        if capacitated:
            if pt.objective > magnitude + tol:
                out.append(Violation(where, "marginal", f"objective {pt.objective} above the total flow"))
            continue
        true_obj = _objective_of(problem, pt.chosen)
        if isinstance(problem, PMedianProblem):
            if pt.objective < true_obj - tol:
                out.append(Violation(where, "marginal", f"objective {pt.objective} below the recomputed "
                                                        f"nearest-site cost {true_obj}"))
        elif not abs(pt.objective - true_obj) <= tol:
            out.append(Violation(where, "marginal", f"objective {pt.objective} differs from the recomputed {true_obj}"))
        if pt.bound is not None:
            slack = (pt.objective - pt.bound) if isinstance(problem, PMedianProblem) else (pt.bound - pt.objective)
            if slack < -tol or (pt.status == OPTIMAL and abs(slack) > tol):
                out.append(Violation(where, "marginal", f"bound {pt.bound} inconsistent with the objective "
                                                        f"{pt.objective} ({pt.status})"))
    if solution.marginal and solution.stats.has_plan:
        main = next((pt for pt in solution.marginal if pt.p == problem.p), None)
        if main is None:
            out.append(Violation("marginal", "marginal", f"the curve has no point for p = {problem.p}"))
        elif main.objective != solution.stats.objective:
            out.append(Violation("marginal", "marginal", f"the curve's p = {problem.p} objective {main.objective} "
                                                         f"differs from the answer's {solution.stats.objective}"))
    return out

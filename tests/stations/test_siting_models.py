"""Siting models (``models/siting.py`` through ``optimizer.stations.siting.solve_siting``), their
independent verifier and the FRLM network readers (``instances/frlm_networks.py``)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from instances.frlm_networks import (
    all_pairs_shortest_paths,
    flow_problem,
    frlm_root,
    gravity_flows,
    load_25node,
    load_texas,
    read_frlm_network,
)
from models import siting
from models.siting import refuel_sets
from optimizer.core.errors import InvalidInput
from optimizer.core.physics import derated_range_km
from optimizer.core.results import NO_SOLUTION_IN_TIME, OPTIMAL, SolveStats
from optimizer.core.stop import MaxRuntime
from optimizer.stations import siting as family
from optimizer.stations.siting import (
    CoverageProblem,
    FlowPath,
    FlowProblem,
    PMedianProblem,
    SitingParams,
    SitingSolution,
    solve_siting,
)
from optimizer.stations.verify_siting import refuelable, verify_siting

needs_frlm = pytest.mark.skipif(not (frlm_root() / "25node_simpson_hodgson" / "NODES.txt").is_file(),
                                reason="shared/benchmarks/frlm_ev not present")

EXACT = ("cpsat", "pulp")
BACKENDS_ALL = ("cpsat", "mathopt", "pulp")
STOP = MaxRuntime(60.0)


def solved(problem, backend: str = "cpsat", capacitated: bool = False, workers: int = 8, stop=STOP) -> SitingSolution:
    """``solve_siting`` on ``backend``; every answer is checked by the independent verifier."""
    sol = solve_siting(problem, stop, seed=0, params=SitingParams(backend=backend, capacitated=capacitated,
                                                                  workers=workers))
    assert verify_siting(problem, sol) == []
    return sol


def line_paths() -> list[FlowPath]:
    """Line A-B-C-D with unit arcs: A->D (flow 1), A->B (flow 5), C->D (flow 2)."""
    return [
        FlowPath(("A", "B", "C", "D"), (1.0, 1.0, 1.0), 1.0),
        FlowPath(("A", "B"), (1.0,), 5.0),
        FlowPath(("C", "D"), (1.0,), 2.0),
    ]


# ------------------------------------------------------------------------------------------ FRLM


@pytest.mark.parametrize("backend", BACKENDS_ALL)
def test_frlm_line_by_hand(backend):
    """Range 4 on the A-B-C-D line: B alone refuels A->D (round trip 6: B->D->B = 4, B->A->B = 2)
    and A->B, so p=1 gives 6 at B; with p=2 all 8 is refuelled (e.g. {B, C} or {A, C})."""
    prob = FlowProblem(line_paths(), ("A", "B", "C", "D"), range_km=4.0, p=1)
    r1 = solved(prob, backend)
    assert r1.status == "optimal" and r1.objective == pytest.approx(6.0) and r1.chosen == ("B",)
    assert r1.covered == (1.0, 1.0, 0.0)
    r2 = solved(FlowProblem(line_paths(), ("A", "B", "C", "D"), range_km=4.0, p=2), backend)
    assert r2.status == "optimal" and r2.objective == pytest.approx(8.0)
    assert verify_siting(prob, r1) == []
    assert [(u.item_id, u.reason) for u in r1.unserved] == [("C->D", "not_refuelled")]


@pytest.mark.parametrize("backend", EXACT)
def test_frlm_half_tank_rule(backend):
    """Range 2, path A-B-C (unit arcs): a station at A alone fails (round trip 4 > 2), C alone fails
    (half a tank does not reach C), B alone works, and the pair {A, C} works."""
    path = [FlowPath(("A", "B", "C"), (1.0, 1.0), 3.0)]
    for cands, p, expect in [(("A",), 1, 0.0), (("C",), 1, 0.0), (("B",), 1, 3.0), (("A", "C"), 2, 3.0),
                             (("A", "C"), 1, 0.0)]:
        r = solved(FlowProblem(path, cands, 2.0, p, nodes=("A", "B", "C")), backend)
        assert r.status == "optimal" and r.objective == pytest.approx(expect), (cands, p)


def test_refuel_sets_agree_with_drive_simulation():
    """For random paths and every station subset, 'each K_a meets the stations' equals the
    independent drive simulation of the verifier (half tank out, half tank back)."""
    rng = random.Random(7)
    for _ in range(150):
        n = rng.randint(2, 6)
        nodes = tuple(range(n))
        arcs = tuple(float(rng.randint(1, 5)) for _ in range(n - 1))
        path = FlowPath(nodes, arcs, 1.0)
        rng_km = float(rng.randint(2, 14))
        ks = refuel_sets(path, rng_km, nodes)
        for size in range(n + 1):
            for stations in itertools.combinations(nodes, size):
                s = set(stations)
                by_sets = all(k & s for k in ks)
                assert by_sets == refuelable(path, s, rng_km), (arcs, rng_km, s)


def claim(chosen, covered, objective, unserved=(), model="frlm", status=OPTIMAL, marginal=()):
    """A hand-made answer (what a solver might claim) for the verifier."""
    from optimizer.core.results import Unserved

    return SitingSolution(model=model, chosen=chosen, covered=covered, assignment=(), flow_share={},
                          marginal=marginal, backend="test",
                          unserved=tuple(Unserved(i, r) for i, r in unserved),
                          stats=SolveStats(status, objective, objective if objective is not None else None))


def test_verify_siting_catches_false_claims():
    """A result that claims a path refuelled by a station that cannot do it, or a wrong objective,
    is reported."""
    prob = FlowProblem(line_paths(), ("A", "B", "C", "D"), range_km=4.0, p=1)
    left = (("A->D", "not_refuelled"), ("A->B", "not_refuelled"))
    bogus = claim(("D",), (0.0, 0.0, 1.0), 2.0, left)
    assert verify_siting(prob, bogus) == []  # D refuels C->D
    bogus2 = claim(("D",), (1.0, 0.0, 1.0), 3.0, left[1:])
    assert any(v.item_id == "A->D" and v.kind == "refuel" for v in verify_siting(prob, bogus2))
    bogus3 = claim(("D",), (0.0, 0.0, 1.0), 9.0, left)
    assert any(v.kind == "objective" for v in verify_siting(prob, bogus3))


def test_verify_siting_checks_unserved_and_the_curve():
    """Left-out demand must be reported with the right reason, and every curve point must hold."""
    prob = FlowProblem(line_paths(), ("A", "B", "C", "D"), range_km=4.0, p=1)
    silent = claim(("D",), (0.0, 0.0, 1.0), 2.0, (("A->D", "not_refuelled"),))
    assert [(v.item_id, v.kind) for v in verify_siting(prob, silent)] == [("A->B", "unserved")]
    wrong = claim(("D",), (0.0, 0.0, 1.0), 2.0, (("A->D", "out_of_range"), ("A->B", "not_refuelled")))
    assert [(v.item_id, v.kind) for v in verify_siting(prob, wrong)] == [("A->D", "unserved")]
    from optimizer.stations.siting import MarginalPoint

    curve = (MarginalPoint(1, 2.0, 2.0, OPTIMAL, ("D",)), MarginalPoint(2, 8.0, 8.0, OPTIMAL, ("A", "B")))
    bad_curve = claim(("D",), (0.0, 0.0, 1.0), 2.0, (("A->D", "not_refuelled"), ("A->B", "not_refuelled")),
                      marginal=curve)
    assert [v.item_id for v in verify_siting(prob, bad_curve)] == ["marginal p=2"]  # {A, B} refuels 6, not 8
    none = claim((), (), None, (("A->D", NO_SOLUTION_IN_TIME), ("A->B", NO_SOLUTION_IN_TIME)),
                 status=NO_SOLUTION_IN_TIME)
    assert [v.item_id for v in verify_siting(prob, none)] == ["C->D"]


def test_time_limit_without_incumbent_is_not_optimal():
    """A solve that ends without a point is reported as such, with no objective, no stations and
    every demand unserved with that reason."""
    prob = FlowProblem(line_paths(), ("A", "B"), range_km=4.0, p=1)
    raw = siting._finish(prob, siting._Raw(NO_SOLUTION_IN_TIME, None, None), "cpsat", 0.0, "max",
                         lambda v: None, "frlm")
    assert raw.status == NO_SOLUTION_IN_TIME and raw.objective is None and not raw.has_solution
    left = family._unserved(prob, "frlm", raw)
    assert {u.reason for u in left} == {NO_SOLUTION_IN_TIME} and len(left) == 3


@pytest.mark.parametrize("backend", ("mathopt", "pulp"))
def test_capacitated_frlm_splits_flow(backend):
    """Line A-B-C, flows A->B = 5 and B->C = 5, one station at B of capacity 6: only 6 of the 10
    round trips can be refuelled (each passes B once)."""
    paths = [FlowPath(("A", "B"), (1.0,), 5.0), FlowPath(("B", "C"), (1.0,), 5.0)]
    prob = FlowProblem(paths, ("B",), 10.0, 1, capacities=(6.0,), nodes=("A", "B", "C"))
    r = solved(prob, backend, capacitated=True)
    assert r.status == "optimal" and r.objective == pytest.approx(6.0, abs=1e-6)
    assert verify_siting(prob, r) == []
    assert {u.reason for u in r.unserved} == {"capacity"}
    assert solved(prob, backend).objective == pytest.approx(10.0)
    with pytest.raises(InvalidInput) as e:
        solve_siting(prob, STOP, params=SitingParams(backend="cpsat", capacitated=True))
    assert e.value.field == "backend"


@needs_frlm
def test_25node_frlm_backends_agree():
    """25-node network, gravity flows, range 8: CP-SAT and CBC reach the same proven optimum for
    p = 1..4, and coverage does not fall as p grows."""
    net = load_25node()
    prev = 0.0
    for p in range(1, 5):
        prob = flow_problem(net, 8.0, p)
        a, b = solved(prob, "cpsat", workers=2), solved(prob, "pulp", workers=1)
        assert a.status == b.status == "optimal"
        assert a.objective == pytest.approx(b.objective, rel=1e-6)
        assert a.objective >= prev - 1e-9
        prev = a.objective
    assert len(prob.paths) == 300


@needs_frlm
def test_texas_p20_proven_fast():
    """Texas network (124 nodes), p = 20, range 10: proven optimal by both back ends, well under 60 s."""
    prob = flow_problem(load_texas(), 10.0, 20)
    a, b = solved(prob, "cpsat"), solved(prob, "pulp")
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective, rel=1e-6)
    assert a.stats.runtime_s < 60 and b.stats.runtime_s < 60


# ------------------------------------------------------------------------------------------ MCLP / p-median


TINY_DIST = np.array([[5, 12, 30], [8, 9, 25], [20, 7, 11], [40, 15, 4], [9, 30, 10]], dtype=float)
TINY_DEMAND = np.array([3.0, 1.0, 4.0, 1.5, 2.0])


def tiny_coverage(p: int, threshold: float = 10.0) -> CoverageProblem:
    return CoverageProblem(TINY_DEMAND, ("s1", "s2", "s3"), p, distance=TINY_DIST, threshold=threshold)


def tiny_pmedian(p: int) -> PMedianProblem:
    return PMedianProblem(TINY_DEMAND, ("s1", "s2", "s3"), p, distance=TINY_DIST)


@pytest.mark.parametrize("backend", BACKENDS_ALL)
@pytest.mark.parametrize("p", [1, 2, 3])
def test_mclp_matches_enumeration(backend, p):
    """Tiny MCLP (5 points, 3 sites, T = 10): the optimum equals brute force over all site sets."""
    prob = tiny_coverage(p)
    cov = prob.coverage_matrix()
    best = max(sum(prob.demand[i] for i in range(5) if cov[i, list(s)].any())
               for s in itertools.combinations(range(3), p))
    r = solved(prob, backend)
    assert r.status == "optimal" and r.objective == pytest.approx(best)
    assert verify_siting(prob, r) == []


@pytest.mark.parametrize("backend", BACKENDS_ALL)
@pytest.mark.parametrize("p", [1, 2])
def test_pmedian_matches_enumeration(backend, p):
    """Tiny p-median: the optimum equals brute force; every point goes to its nearest open site."""
    prob = tiny_pmedian(p)
    d = prob.distance
    best = min(sum(prob.demand[i] * d[i, list(s)].min() for i in range(5))
               for s in itertools.combinations(range(3), p))
    r = solved(prob, backend)
    assert r.status == "optimal" and r.objective == pytest.approx(best)
    assert verify_siting(prob, r) == []


@pytest.mark.parametrize("backend", BACKENDS_ALL)
def test_pmedian_unreachable_is_infeasible(backend):
    """Two points each reachable from a different site only: with p = 1 no plan serves both."""
    d = np.array([[1.0, np.inf], [np.inf, 2.0]])
    r = solved(PMedianProblem([1.0, 1.0], ("a", "b"), 1, distance=d), backend)
    assert r.status == "infeasible" and r.objective is None
    assert [(u.item_id, u.reason) for u in r.unserved] == [("0", "infeasible"), ("1", "infeasible")]
    r2 = solved(PMedianProblem([1.0, 1.0], ("a", "b"), 2, distance=d), backend)
    assert r2.status == "optimal" and r2.objective == pytest.approx(3.0) and r2.assignment == (0, 1)


def test_mclp_with_coverage_matrix():
    """A boolean coverage matrix works without distances; p = 2 picks the two disjoint covers."""
    cov = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=bool)
    prob = CoverageProblem([5.0, 1.0, 5.0, 2.0], ("a", "b", "c"), 2, coverage=cov)
    for be in EXACT:
        r = solved(prob, be)
        assert r.objective == pytest.approx(11.0) and set(r.chosen) == {"a", "b"}


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("make, field", [
    (lambda: tiny_coverage(4), "p"),
    (lambda: CoverageProblem([1.0, -2.0], ("a",), 1, distance=[[1.0], [2.0]], threshold=3.0), "demand[1]"),
    (lambda: CoverageProblem([1.0], ("a", "a"), 1, distance=[[1.0, 1.0]], threshold=3.0), "candidates[1]"),
    (lambda: CoverageProblem([1.0], ("a",), 1, distance=[[1.0]], threshold=0.0), "threshold"),
    (lambda: CoverageProblem([1.0], ("a",), 1), "coverage"),
    (lambda: FlowProblem(line_paths(), ("A", "B"), range_km=0.0, p=1), "range_km"),
    (lambda: FlowProblem(line_paths(), ("A", "B"), range_km=-3.0, p=1), "range_km"),
    (lambda: FlowProblem(line_paths(), ("A", "Z"), range_km=4.0, p=1), "candidates[1]"),
    (lambda: FlowProblem(line_paths(), ("A", "B"), range_km=4.0, p=3), "p"),
    (lambda: FlowProblem(line_paths(), ("A",), range_km=4.0, p=1, capacities=(1.0, 2.0)), "capacities"),
    (lambda: FlowPath(("A", "B"), (-1.0,), 1.0), "arc_km[0]"),
    (lambda: FlowPath(("A", "B"), (1.0,), -1.0), "flow"),
    (lambda: FlowPath(("A",), (), 1.0), "nodes"),
    (lambda: derated_range_km(0.0, 3650, 0), "nominal_km"),
    (lambda: derated_range_km(300.0, 12000, 0), "elevation_m"),
])
def test_bad_input_names_the_field(make, field):
    """Bad input raises InvalidInput naming the offending field."""
    with pytest.raises(InvalidInput) as e:
        make()
    assert e.value.field == field


def test_bad_backend_and_pmedian_without_distance():
    """An unknown back end and a p-median without distances are refused by name."""
    with pytest.raises(InvalidInput) as e:
        solve_siting(tiny_coverage(1), STOP, params=SitingParams(backend="gurobi"))
    assert e.value.field == "backend"
    with pytest.raises(InvalidInput) as e:
        PMedianProblem([1.0], ("a",), 1, distance=None)
    assert e.value.field == "distance"


# ------------------------------------------------------------------------------------------ range, readers


def test_derated_range_factors():
    """Documented AAA points: 24 degC -> x1.00; -6.7 degC -> x0.59 with heating, x0.88 without;
    35 degC -> x0.83; colder than -6.7 degC holds the -6.7 value; altitude credit only with aero_share."""
    assert derated_range_km(300, 0, 24) == pytest.approx(300)
    assert derated_range_km(300, 3650, -6.7) == pytest.approx(0.59 * 300)
    assert derated_range_km(300, 3650, -6.7, cabin_heating=False) == pytest.approx(0.88 * 300)
    assert derated_range_km(300, 0, 35) == pytest.approx(0.83 * 300)
    assert derated_range_km(300, 0, -20) == pytest.approx(0.59 * 300)
    assert derated_range_km(300, 3650, 24, aero_share=0.4) > 300


def test_reader_names_file_and_line(tmp_path):
    """A malformed line raises ValueError naming the file and the line number."""
    (tmp_path / "NODES.txt").write_text("1\t10\t0\t0\n2\tten\t1\t1\n")
    (tmp_path / "ARCS.txt").write_text("1\t3\t1\t2")
    with pytest.raises(ValueError, match=r"NODES.txt:2: column 'weight'"):
        read_frlm_network(tmp_path)
    (tmp_path / "NODES.txt").write_text("1\t10\t0\t0\n2\t5\t1\t1")
    (tmp_path / "ARCS.txt").write_text("1\t3\t1\t2\n2\t4\t1\t9")
    with pytest.raises(ValueError, match=r"ARCS.txt:2: to_node 9"):
        read_frlm_network(tmp_path)
    (tmp_path / "ARCS.txt").write_text("1\t3\t1\t2")
    net = read_frlm_network(tmp_path)
    assert net.n == 2 and net.length.tolist() == [3.0]


@needs_frlm
def test_25node_network_and_gravity_flows():
    """25 nodes, 43 arcs, weights sum 1018, connected; 300 gravity pairs scaled to 100."""
    net = load_25node()
    assert net.n == 25 and len(net.length) == 43 and net.weight.sum() == 1018
    dist, _ = all_pairs_shortest_paths(net)
    assert np.isfinite(dist).all()
    flows = gravity_flows(net, dist)
    assert len(flows) == 300 and sum(flows.values()) == pytest.approx(100.0)
    raw = gravity_flows(net, dist, total=None)
    i, j = 0, 1
    assert raw[(i, j)] == pytest.approx(net.weight[i] * net.weight[j] / dist[i, j] ** 1.5)

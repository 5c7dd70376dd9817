"""The ILS on public instances (when the shared benchmarks are present): the OPHS hotel-sequence
start reaches the published optimum of a small SET1 case; an MCTOPMTW plan passes the verifier
(windows per tour, budget, type limits; the 2013 values are best-known, not bounds, so only
validity is asserted)."""

from __future__ import annotations

import pytest

from instances.mctopmtw import read_mctopmtw, read_mctopmtw_values
from instances.ophs import read_ophs, read_ophs_values
from instances.paths import benchmarks_root
from optimizer.core.stop import MaxIterations
from optimizer.itineraries.giant import is_ophs_like
from optimizer.itineraries.solve import solve
from optimizer.itineraries.verify import verify

ROOT = benchmarks_root()
needs_data = pytest.mark.skipif(not (ROOT / "ophs" / "instances").is_dir() or not (ROOT / "mctopmtw" / "instances").is_dir(),
                                reason="shared benchmarks not present")


@needs_data
def test_ophs_small_case_reaches_the_optimum():
    pb = read_ophs(ROOT / "ophs" / "instances" / "SET_1-2" / "66-40-1-2.ophs", trip_tolerance=0.003)
    assert is_ophs_like(pb)
    sol = solve(pb, MaxIterations(50), seed=0)
    assert verify(pb, sol) == []
    assert sol.score == pytest.approx(read_ophs_values()["66-40-1-2"])


@needs_data
def test_mctopmtw_plan_is_valid():
    pb = read_mctopmtw(ROOT / "mctopmtw" / "instances" / "Solomon" / "MCTOPMTW-2-c101.txt")
    assert not is_ophs_like(pb)
    sol = solve(pb, MaxIterations(30), seed=0)
    assert verify(pb, sol) == []
    assert 0 < sol.score <= sum(s.score for s in pb.sites)
    assert "MCTOPMTW-2-c101" in read_mctopmtw_values()

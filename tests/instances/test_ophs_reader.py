"""The OPHS reader: header, hotels, trip lengths, Euclidean travel, tolerance, malformed files."""

from __future__ import annotations

import math

import pytest

from instances.ophs import read_ophs, read_ophs_values
from instances.paths import benchmarks_root

OPHS = benchmarks_root() / "ophs"
needs_data = pytest.mark.skipif(not (OPHS / "instances").is_dir(), reason="shared OPHS benchmarks not present")

SMALL = "4\t1\t2\r\n10\r\n5\t5.5\r\n\r\n0\t0\t0\r\n3\t4\t0\r\n1\t0\t0\r\n2\t0\t7\r\n0\t4\t9\r\n-----\r\n"


def test_small_file(tmp_path):
    p = tmp_path / "tiny-1-2.ophs"
    p.write_text(SMALL)
    pb = read_ophs(p, trip_tolerance=0.003)
    assert pb.n_days == 2 and pb.n_sites == 2 and pb.n_hotels == 3
    assert [s.score for s in pb.sites] == [7.0, 9.0]
    g = pb.groups[0]
    assert g.arrival_place == "H0" and g.departure_place == "H1"
    assert g.day_windows == ((0.0, 5.003), (0.0, 5.503))
    # travel from H0 (0,0) to H1 (3,4) is 5; v1 (2,0) to v2 (0,4) is sqrt(20)
    assert pb.travel_min[pb.place_index("H0"), pb.place_index("H1")] == pytest.approx(5.0)
    assert pb.travel_min[pb.place_index("v1"), pb.place_index("v2")] == pytest.approx(math.sqrt(20))


def test_malformed(tmp_path):
    p = tmp_path / "bad.ophs"
    p.write_text("4 1 2\n10\n5 5\n\n0 0 0\n3 4 x\n")
    with pytest.raises(ValueError, match="bad.ophs"):
        read_ophs(p)
    p.write_text("4 1\n")
    with pytest.raises(ValueError, match="line 1-3"):
        read_ophs(p)


@needs_data
def test_shared_instances_and_values():
    vals = read_ophs_values()
    assert len(vals) == 123 and vals["100-30-1-2"] == 173.0
    pb = read_ophs(OPHS / "instances" / "SET_3-4" / "64-75-3-4.ophs")
    assert pb.n_days == 4 and pb.n_hotels == 5 and pb.n_sites == 62

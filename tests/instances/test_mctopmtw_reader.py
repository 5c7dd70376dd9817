"""The MCTOPMTW reader: windows per tour (E flag), budget and type limits over the trip, truncated
distances, malformed files."""

from __future__ import annotations

import pytest

from instances.mctopmtw import read_mctopmtw, read_mctopmtw_values
from instances.paths import benchmarks_root

MC = benchmarks_root() / "mctopmtw"
needs_data = pytest.mark.skipif(not (MC / "instances").is_dir(), reason="shared MCTOPMTW benchmarks not present")

SMALL = """2 2 50 1 0 0 0 0 0 0 0 0 2
0 0.0 0.0 0.0 0.0 0 100
2 1.0 1.0 5.0 10.0 0 10 20 30 40 1 20 1 0 0 0 0 0 0 0 0 1
3 3.0 4.0 5.0 20.0 0 10 20 30 40 0 35 0 0 0 0 0 0 0 0 0 0
"""


def test_small_file(tmp_path):
    p = tmp_path / "MCTOPMTW-2-tiny.txt"
    p.write_text(SMALL)
    pb = read_mctopmtw(p)
    assert pb.n_days == 2 and pb.n_sites == 2
    s2, s3 = pb.sites
    # E = 1: tour 1 uses windows 1 and 3, tour 2 windows 2 and 4; E = 0 the other way round
    assert s2.windows_on(0) == ((0.0, 10.0), (20.0, 30.0)) and s2.windows_on(1) == ((10.0, 20.0), (30.0, 40.0))
    assert s3.windows_on(0) == ((10.0, 20.0), (30.0, 40.0))
    assert s2.types == ("z1", "z10") and s3.ticket_price == 35.0
    g = pb.groups[0]
    assert g.budget == 50.0 and dict(g.max_per_type_trip)["z10"] == 2 and g.hotels == ("depot",)
    # sqrt(2) = 1.414 -> 1.4 (truncated to one decimal); (3,4) -> 5.0 exactly
    assert pb.travel_min[0, pb.place_index("depot")] == pytest.approx(1.4)
    assert pb.travel_min[1, pb.place_index("depot")] == pytest.approx(5.0)


def test_malformed(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("2 2 50\n")
    with pytest.raises(ValueError, match="bad.txt"):
        read_mctopmtw(p)


@needs_data
def test_shared_instance_and_values():
    vals = read_mctopmtw_values()
    assert len(vals) == 116 and vals["MCTOPMTW-2-c101"] == 590.0
    pb = read_mctopmtw(MC / "instances" / "Solomon" / "MCTOPMTW-2-c101.txt")
    assert pb.n_days == 2 and pb.n_sites == 100 and pb.groups[0].budget == 873.0

"""Reader of the public mFSTSP drone instances (drone-only part) and a verified solve of one of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from instances.drone_benchmarks import (
    LBS_TO_KG,
    list_mfstsp_problems,
    mfstsp_num_customers,
    mfstsp_root,
    read_mfstsp,
    vehicles_csv,
)
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion
from optimizer.drones import solve, verify

ROOT = mfstsp_root()
pytestmark = pytest.mark.skipif(not (ROOT / "Problems").is_dir(), reason=f"mFSTSP benchmarks not found at {ROOT}")
SMALL = "20170608T121355407419"   # 8 customers, Seattle; weights 4, 100, 4, 4, 1, 3, 1, 1 lbs


def _small() -> Path:
    return ROOT / "Problems" / SMALL


def test_list_problems_sorted_by_size():
    probs = list_mfstsp_problems()
    assert len(probs) == 100
    n = mfstsp_num_customers()
    sizes = [n[p.name] for p in probs]
    assert sizes == sorted(sizes) and sizes[0] == 8 and sizes[-1] == 100
    assert sorted(set(sizes)) == [8, 10, 25, 50, 100]


def test_read_small_counts_weights_and_fleet():
    p = read_mfstsp(_small(), vehicles_csv(101), num_uavs=4)
    assert len(p.deliveries) == 8
    assert [d.id for d in p.deliveries] == [f"c{k}" for k in range(1, 9)]
    lbs = [4, 100, 4, 4, 1, 3, 1, 1]
    assert [d.weight_kg for d in p.deliveries] == pytest.approx([w * LBS_TO_KG for w in lbs])
    assert all(d.window == (0.0, 1440.0) and d.priority == 1 for d in p.deliveries)
    (hub,) = p.airspace.hubs
    assert hub.fleet == (("mfstsp101", 4),) and hub.elevation_m == 0.0 and not p.airspace.zones
    ty = p.types["mfstsp101"]
    assert ty.battery_wh == pytest.approx(457503 / 3600) and ty.reserve_frac == 0.0
    assert ty.payload_kg == pytest.approx(5 * LBS_TO_KG) and ty.speed_mps == pytest.approx(31.2928)
    # climb + descent time equals mFSTSP's takeoff + landing time over the 50 m cruise altitude
    assert 2 * 50 / ty.climb_mps == pytest.approx(50 / 15.6464 + 50 / 7.8232)
    assert ty.service_s == 60 and ty.swap_min == pytest.approx(1.5)
    assert len(read_mfstsp(_small(), vehicles_csv(101), num_uavs=1).drones()) == 1


def _copy(tmp_path: Path, node: int, field: int | None, value: str) -> tuple[Path, int]:
    """Copy of the small problem with one field of node ``node`` replaced (field None: drop the last field)."""
    d = tmp_path / SMALL
    d.mkdir()
    lines = (_small() / "tbl_locations.csv").read_text(encoding="utf-8").splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.split(",")[0].strip() == str(node))
    f = [x.strip() for x in lines[k].split(",")]
    if field is None:
        f = f[:-1]
    else:
        f[field] = value
    lines[k] = ", ".join(f)
    (d / "tbl_locations.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return d, k + 1


@pytest.mark.parametrize(("node", "field", "value", "msg"), [
    (3, 2, "47.61x", "latDeg='47.61x': expected a number"),
    (3, None, "", "fields=5: expected 6 fields"),
    (5, 5, "0.0", "parcelWtLbs='0.0': customer 5: must be > 0"),
    (5, 1, "7", "nodeType=7: neither 0"),
    (6, 0, "4", "nodeID=4: appears twice"),
])
def test_malformed_locations_name_the_line(tmp_path, node, field, value, msg):
    """Errors read ``<file>: row k (line n): field=value: message`` (instances._csv.RecordError, a ValueError)."""
    d, line = _copy(tmp_path, node, field, value)
    with pytest.raises(ValueError, match=rf"tbl_locations\.csv: row \d+ \(line {line}\): {msg}"):
        read_mfstsp(d, vehicles_csv(101), 1)


def test_malformed_vehicles_and_num_uavs(tmp_path):
    text = vehicles_csv(101).read_text(encoding="utf-8")
    bad = tmp_path / "tbl_vehicles_999.csv"
    bad.write_text(text.replace("457503", "lots", 1), encoding="utf-8")
    with pytest.raises(ValueError, match=r"tbl_vehicles_999\.csv: row 2 \(line 4\): batteryPower='lots'"):
        read_mfstsp(_small(), bad, 1)
    with pytest.raises(InvalidInput, match="num_uavs"):
        read_mfstsp(_small(), vehicles_csv(101), 5)


def test_solve_small_passes_verifier():
    p = read_mfstsp(_small(), vehicles_csv(101), num_uavs=2)
    plan = solve(p, StoppingCriterion(max_iterations=100), seed=0)
    assert verify(p, plan) == []
    # the 100 lb parcel is above the 5 lb capacity; the rest are light and within range of the depot
    why = plan.unserved_by_id()
    assert set(why) == {"c2"} and "exceeds" in why["c2"].detail and why["c2"].reason == "payload"
    assert sum(len(t.stops) for t in plan.trips) == 7 and plan.total_energy_wh > 0

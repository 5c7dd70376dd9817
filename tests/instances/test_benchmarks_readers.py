"""Readers of the public TOPTW (KU Leuven) and TOP (Chao) benchmark files, and the instance class."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from instances import benchmarks as bm
from instances.benchmarks import (
    instance_path,
    list_instances,
    load_bks_toptw,
    load_chao_reference_scores,
    read_chao_top,
    read_toptw,
)
from optimizer.toptw import check_toptw_routes, toptw_score
from optimizer.toptw import TOPTWInstance

ROOT = bm.benchmarks_root()
pytestmark = pytest.mark.skipif(not (ROOT / "toptw").is_dir(), reason=f"benchmarks not found at {ROOT}")

C101 = instance_path("solomon_100", "c101")
PR01 = instance_path("cordeau_pr", "pr01")
P2_2_A = instance_path("Set_21_234", "p2.2.a")


# ----------------------------------------------------------------------------- KU Leuven TOPTW
def test_c101_shape_depot_and_first_customer():
    inst = read_toptw(C101)
    assert inst.name == "c101"
    assert inst.n == 101 and inst.n_customers == 100
    assert inst.start == inst.end == 0 and inst.n_routes == 1
    # depot line "0 40.00 50.00 0.00 0.00 0 0 0 1236"
    assert (inst.x[0], inst.y[0], inst.open_min[0], inst.close_min[0]) == (40.0, 50.0, 0.0, 1236.0)
    assert inst.t_max == 1236.0 and inst.score[0] == 0 and inst.service_min[0] == 0
    # customer line "1 45.00 68.00 90.00 10.00 1 1 1 912 967"
    assert (inst.x[1], inst.y[1], inst.service_min[1], inst.score[1]) == (45.0, 68.0, 90.0, 10.0)
    assert (inst.open_min[1], inst.close_min[1]) == (912.0, 967.0)
    # last line "100 55.00 85.00 90.00 20.00 1 1 1 647 726"
    assert (inst.score[100], inst.open_min[100], inst.close_min[100]) == (20.0, 647.0, 726.0)


def test_c101_travel_truncated_to_one_decimal():
    inst = read_toptw(C101)
    # depot (40,50) -> customer 1 (45,68): sqrt(25 + 324) = 18.6815... -> 18.6 (rounding would give 18.7)
    assert inst.travel_min[0, 1] == pytest.approx(18.6, abs=1e-12)
    assert inst.travel_min[1, 0] == inst.travel_min[0, 1]
    d = np.hypot(inst.x[:, None] - inst.x[None, :], inst.y[:, None] - inst.y[None, :])
    assert np.all(inst.travel_min <= d + 1e-9) and np.all(d - inst.travel_min < 0.1 + 1e-9)
    assert np.allclose(inst.travel_min * 10, np.round(inst.travel_min * 10), atol=1e-9)
    assert np.all(np.diag(inst.travel_min) == 0)


def test_exact_distance_is_not_cut_one_step_down():
    # 3-4-5 triangle: the distance is exactly 5.0 and must stay 5.0
    t = bm.truncated_euclidean(np.array([0.0, 0.3]), np.array([0.0, 0.4]), 1)
    assert t[0, 1] == 0.5
    t = bm.truncated_euclidean(np.array([0.0, 0.03]), np.array([0.0, 0.04]), 2)
    assert t[0, 1] == 0.05


def test_pr01_two_decimals_crlf():
    inst = read_toptw(PR01)
    assert inst.n == 49 and inst.t_max == 1000.0  # header "5 3 48 4": 48 customers
    # (-10.442, 19.999) -> (-29.730, 64.136): 48.1674... -> 48.16
    assert math.hypot(-29.730 + 10.442, 64.136 - 19.999) == pytest.approx(48.1674, abs=1e-4)
    assert inst.travel_min[0, 1] == pytest.approx(48.16, abs=1e-12)
    assert (inst.service_min[1], inst.score[1]) == (2.0, 12.0)
    assert (inst.open_min[1], inst.close_min[1]) == (354.0, 509.0)
    assert bm.default_decimals(PR01) == 2 and bm.default_decimals(C101) == 1
    one = read_toptw(PR01, decimals=1)
    assert one.travel_min[0, 1] == pytest.approx(48.1, abs=1e-12)


def test_n_routes_and_with_routes():
    inst = read_toptw(C101, n_routes=3)
    assert inst.n_routes == 3
    assert inst.with_routes(1).n_routes == 1 and inst.n_routes == 3
    with pytest.raises(ValueError, match="n_routes"):
        inst.with_routes(0)


def test_c204_split_header_variant_reads_identically():
    variant = ROOT / "toptw" / "variants" / "c204_KULeuven_c_r_rc_200_100_zip_original.txt"
    a, b = read_toptw(variant), read_toptw(instance_path("solomon_100", "c204"))
    for f in ("x", "y", "service_min", "score", "open_min", "close_min", "travel_min"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    assert a.t_max == b.t_max == 3390.0


def test_all_toptw_files_read():
    paths = list_instances("solomon_100") + list_instances("cordeau_pr")
    assert len(list_instances("solomon_100")) == 56 and len(paths) >= 66
    for p in paths:
        inst = read_toptw(p)
        assert inst.n_customers >= 48
        assert inst.t_max == inst.close_min[0]


# ----------------------------------------------------------------------------- malformed files
GOOD = """4 10 3 1
0 200
  0 40.00 50.00 0.00 0.00 0 0 0 1236
  1 45.00 68.00 90.00 10.00 1 1 1 912 967
  2 45.00 70.00 90.00 30.00 1 1 1 825 870
  3 42.00 66.00 90.00 10.00 1 1 1 65 146
"""


def _write(tmp_path: Path, text: str, name: str = "c999.txt") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_tiny_file_reads(tmp_path):
    inst = read_toptw(_write(tmp_path, GOOD))
    assert inst.n == 4 and inst.score.tolist() == [0, 10, 30, 10]


L2 = "  2 45.00 70.00 90.00 30.00 1 1 1 825 870"
L1 = "  1 45.00 68.00 90.00 10.00 1 1 1 912 967"


@pytest.mark.parametrize(
    "old,new,line,msg",
    [
        (L2, L2[: -len(" 870")], 5, "tokens"),  # missing token
        (L2, L2.replace("70.00", "7O.00"), 5, "not a number"),
        (L1, L1.replace("967", "nan"), 4, "not finite"),
        (L1, L1.replace("  1 ", "  7 ", 1), 4, "node index"),
        (L1, L1.replace("912 967", "967 912"), 4, "closes"),
        ("  3 42.00 66.00 90.00 10.00 1 1 1 65 146\n", "", 5, "expected 4 node lines"),  # customer missing
        ("4 10 3 1", "4 10 x 1", 1, "not a number"),
        ("4 10 3 1", "4 10 3.5 1", 1, "must be an integer"),
    ],
)
def test_malformed_toptw_names_the_line(tmp_path, old, new, line, msg):
    assert old in GOOD
    p = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ValueError, match=rf"line {line}:.*{msg}") as exc:
        read_toptw(p)
    assert str(p) in str(exc.value)


def test_extra_node_line_is_rejected(tmp_path):
    p = _write(tmp_path, GOOD + "  4 42.00 66.00 90.00 10.00 1 1 1 65 146\n")
    with pytest.raises(ValueError, match="line 7: expected 4 node lines"):
        read_toptw(p)


def test_empty_file_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="line 1: header"):
        read_toptw(_write(tmp_path, "\n"))


def test_crlf_and_blank_lines_are_fine(tmp_path):
    p = _write(tmp_path, GOOD.replace("\n", "\r\n").replace("0 200\r\n", "0 200\r\n\r\n"))
    assert read_toptw(p).n == 4


# ----------------------------------------------------------------------------- Chao TOP
def test_chao_reads_with_distinct_start_and_end():
    inst = read_chao_top(P2_2_A)
    assert inst.name == "p2.2.a" and inst.n == 21 and inst.n_customers == 19
    assert inst.start == 0 and inst.end == 20 and inst.n_routes == 2 and inst.t_max == 7.5
    assert (inst.x[0], inst.y[0], inst.x[20], inst.y[20]) == (4.6, 7.1, 5.0, 5.6)
    assert inst.score[0] == inst.score[20] == 0 and inst.score[1] == 20
    # real (untruncated) Euclidean travel
    assert inst.travel_min[0, 20] == pytest.approx(math.hypot(0.4, 1.5), abs=1e-12)
    assert np.all(inst.open_min == 0) and np.all(inst.close_min == 7.5) and np.all(inst.service_min == 0)
    assert read_chao_top(P2_2_A, n_routes=4).n_routes == 4


def test_all_chao_files_read():
    total = 0
    for s in bm.CHAO_SETS:
        for p in list_instances(s):
            inst = read_chao_top(p)
            assert inst.end == inst.n - 1 != inst.start
            assert inst.n_routes == int(p.stem.split(".")[1])
            total += 1
    assert total >= 267


def test_malformed_chao(tmp_path):
    text = "n 3\nm 2\ntmax 7.5\n0\t0\t0\n1\t1\t5\n2\t2\t0\n"
    assert read_chao_top(_write(tmp_path, text, "p9.2.a.txt")).n == 3
    with pytest.raises(ValueError, match="line 5: point line has 2 tokens"):
        read_chao_top(_write(tmp_path, text.replace("1\t1\t5", "1\t1"), "p9.2.a.txt"))
    with pytest.raises(ValueError, match="line 4: x 'a' is not a number"):
        read_chao_top(_write(tmp_path, text.replace("0\t0\t0", "a\t0\t0"), "p9.2.a.txt"))
    with pytest.raises(ValueError, match="line 2: expected 'm <value>'"):
        read_chao_top(_write(tmp_path, text.replace("m 2", "k 2"), "p9.2.a.txt"))
    with pytest.raises(ValueError, match="line 5: expected 3 point lines, found 2"):
        read_chao_top(_write(tmp_path, text.replace("2\t2\t0\n", ""), "p9.2.a.txt"))


# ----------------------------------------------------------------------------- reference values
def test_bks_and_reference_scores():
    bks = load_bks_toptw()
    assert len(bks) == 70
    assert bks[("solomon_100", "c101", 1)] == 320.0
    assert bks[("cordeau_pr", "pr01", 2)] == 502.0
    ref = load_chao_reference_scores()
    assert len(ref) == 387
    assert ref[("Set_32_234", "p1.2.b", 2)] == 15.0


def test_env_override_and_unknown_set(tmp_path, monkeypatch):
    monkeypatch.setenv("LHASA_BENCHMARKS", str(tmp_path))
    assert bm.benchmarks_root() == tmp_path
    assert list_instances("solomon_100") == []
    monkeypatch.delenv("LHASA_BENCHMARKS")
    assert bm.benchmarks_root() == Path(bm.__file__).resolve().parents[1].parent / "shared" / "benchmarks"
    with pytest.raises(ValueError, match="unknown benchmark set"):
        list_instances("nope")


# ----------------------------------------------------------------------------- instance + checker
def _tiny(**kw) -> TOPTWInstance:
    n = 3
    base = dict(
        name="t", x=np.zeros(n), y=np.zeros(n), service_min=np.zeros(n), score=np.array([0.0, 1, 2]),
        open_min=np.zeros(n), close_min=np.full(n, 10.0), travel_min=np.ones((n, n)) - np.eye(n),
        n_routes=1, t_max=10.0,
    )
    base.update(kw)
    return TOPTWInstance(**base)


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"y": np.zeros(4)}, "y"),
        ({"travel_min": np.ones((3, 2))}, "travel_min"),
        ({"score": np.array([0.0, np.nan, 1])}, r"score\[1\]"),
        ({"service_min": np.array([0.0, -1, 1])}, r"service_min\[1\]"),
        ({"close_min": np.array([10.0, -1, 10])}, r"close_min\[1\]"),
        ({"n_routes": 0}, "n_routes"),
        ({"end": 3}, "end"),
        ({"t_max": float("inf")}, "t_max"),
    ],
)
def test_instance_validation_names_the_field(kw, field):
    with pytest.raises(ValueError, match=field):
        _tiny(**kw)


def test_instance_arrays_are_read_only():
    inst = _tiny()
    with pytest.raises(ValueError):
        inst.score[1] = 5.0


def test_subset_keeps_depots():
    inst = read_toptw(C101).subset(10)
    assert inst.n == 11 and inst.start == inst.end == 0 and inst.name == "c101[:10]"
    assert inst.travel_min[0, 1] == pytest.approx(18.6)
    chao = read_chao_top(P2_2_A).subset(5)
    assert chao.n == 7 and chao.start == 0 and chao.end == 6
    assert chao.x[6] == 5.0 and chao.travel_min[0, 6] == pytest.approx(math.hypot(0.4, 1.5))


def test_checker_flags_each_violation():
    inst = _tiny(close_min=np.array([10.0, 10, 0.5]))
    assert check_toptw_routes(inst, [[1]]) == []
    assert check_toptw_routes(inst, [[]]) == []
    assert any("window closes" in v for v in check_toptw_routes(inst, [[2]]))
    assert any("already visited" in v for v in check_toptw_routes(inst.with_routes(2), [[1], [1]]))
    assert any("routes used" in v for v in check_toptw_routes(inst, [[1], []]))
    assert any("depot" in v for v in check_toptw_routes(inst, [[0, 1]]))
    assert any("out of range" in v for v in check_toptw_routes(inst, [[7]]))
    late = _tiny(t_max=1.5)
    assert any("t_max" in v for v in check_toptw_routes(late, [[1]]))
    assert toptw_score(inst, [[1, 2]]) == 3.0

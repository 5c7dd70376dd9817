"""The seeded Cordeau-like TOPTW generator (issue 15 item 1): repeatable, readable by the KU Leuven
reader, shaped like the pr files, with windows widened by the factor asked for."""

from __future__ import annotations

import numpy as np
import pytest

from instances.benchmarks import read_toptw
from instances.toptw_generator import SIZES, cordeau_like_text, write_cordeau_like


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    """A seed fixes the files; another seed gives other customers."""
    a = write_cordeau_like(tmp_path / "a", count=2, seed=3)
    b = write_cordeau_like(tmp_path / "b", count=2, seed=3)
    c = write_cordeau_like(tmp_path / "c", count=2, seed=4)
    assert [p.read_text() for p in a] == [p.read_text() for p in b]
    assert a[0].read_text() != c[0].read_text()


def test_files_read_back_with_the_cordeau_shape(tmp_path):
    """Sizes cycle through the pr sizes; coordinates, service, score and horizon as in pr01-pr10;
    travel truncated to 2 decimals (file names start with 'pr')."""
    paths = write_cordeau_like(tmp_path, count=len(SIZES) + 1, seed=0)
    for k, p in enumerate(paths):
        inst = read_toptw(p, n_routes=2)
        c = np.array(inst.customers)
        assert len(c) == SIZES[k % len(SIZES)]
        assert inst.t_max == 1000.0
        assert np.all(np.abs(inst.x[c]) <= 100) and np.all(np.abs(inst.y[c]) <= 100)
        assert inst.service_min[c].min() >= 1 and inst.service_min[c].max() <= 25
        assert inst.score[c].min() >= 1 and inst.score[c].max() <= 25
        assert np.all(inst.open_min[c] >= 0) and np.all(inst.close_min[c] <= 1000)
        d = np.hypot(inst.x[1] - inst.x[2], inst.y[1] - inst.y[2])
        assert inst.travel_min[1, 2] == pytest.approx(np.floor(d * 100) / 100)


def test_window_factor_widens_the_windows():
    """Factor 2 doubles every window not cut by the horizon (width 90..179 before widening)."""
    one = read_toptw_text(cordeau_like_text(96, 7, window_factor=1.0))
    two = read_toptw_text(cordeau_like_text(96, 7, window_factor=2.0))
    w1 = one[:, 1] - one[:, 0]
    w2 = two[:, 1] - two[:, 0]
    assert w1.min() >= 90 and w1.max() <= 181
    inside = (two[:, 0] > 0) & (two[:, 1] < 1000)
    assert inside.sum() > 48
    assert np.all(w2[inside] >= 2 * w1[inside] - 2)


def read_toptw_text(text):
    """(open, close) of the customers of a generated file's text."""
    rows = [line.split() for line in text.splitlines()[3:]]
    return np.array([[float(r[-2]), float(r[-1])] for r in rows])


@pytest.mark.parametrize("kw,msg", [({"n_customers": 0}, "n_customers"), ({"window_factor": 0.5}, "window_factor"),
                                    ({"t_max": 0}, "t_max")])
def test_bad_arguments_are_named(kw, msg):
    """Bad sizes, factors or horizons raise ValueError naming the argument."""
    args = {"n_customers": 10, "seed": 0, **kw}
    with pytest.raises(ValueError, match=msg):
        cordeau_like_text(**args)


@pytest.mark.parametrize("args, named", [(["--count", "-1"], "--count"), (["--seed", "-2"], "--seed"),
                                         (["--window-factor", "nan"], "--window-factor"),
                                         (["--window-factor", "0"], "--window-factor")])
def test_generator_bad_option_exits_2_naming_it(args, named, tmp_path, capsys):
    from instances.toptw_generator import main

    with pytest.raises(SystemExit) as e:
        main(["--out", str(tmp_path / "g"), *args])
    assert e.value.code == 2
    assert named in capsys.readouterr().err
    assert not (tmp_path / "g").exists()


def test_generator_unwritable_out_exits_2_naming_it(tmp_path, capsys):
    from instances.toptw_generator import main

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(SystemExit) as e:
        main(["--out", str(blocker / "sub")])
    assert e.value.code == 2
    assert "--out" in capsys.readouterr().err

"""bench.quality --instances DIR --values CSV: a user's own folder, same protocol, no RESULTS.md."""

from __future__ import annotations

import shutil

import pytest

from bench.quality import main
from bench.results_md import RESULTS, SECTIONS
from instances.benchmarks import detect_format, instance_path, read_reference_values

PR01 = instance_path("cordeau_pr", "pr01")
P12B = instance_path("Set_32_234", "p1.2.b")
needs_files = pytest.mark.skipif(not (PR01.is_file() and P12B.is_file()),
                                 reason="benchmark files pr01 / p1.2.b not present")


def _snapshot():
    res = RESULTS.read_bytes() if RESULTS.is_file() else None
    sec = sorted((p.name, p.stat().st_mtime_ns) for p in SECTIONS.glob("*")) if SECTIONS.is_dir() else []
    return res, sec


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    shutil.copy(PR01, d / PR01.name)
    shutil.copy(P12B, d / P12B.name)
    values = tmp_path / "values.csv"
    # the bks.csv columns; pr01 m=1 from bks.csv (another set name: matched on instance and m), m=2 empty
    values.write_text("set,instance,m,bks,source\ncordeau_pr,pr01,1,308,bks.csv\ncordeau_pr,pr01,2,,none\n")
    return d, values


@needs_files
def test_folder_run_to_out_file(folder, tmp_path, capsys):
    d, values = folder
    (d / "README.md").write_text("my instances\n")  # unreadable: reported by name and skipped
    out = tmp_path / "report.md"
    before = _snapshot()
    main(["--instances", str(d), "--values", str(values), "--solvers", "ours", "--time-limit", "0.2",
          "--out", str(out)])
    assert _snapshot() == before  # neither RESULTS.md nor bench/results/ touched
    cap = capsys.readouterr()
    assert "README.md" in cap.err and "skipped" in cap.err
    text = out.read_text()
    assert "Files not read (skipped): README.md" in text
    assert "| mine | pr01 | 1 | 308 |" in text  # reference matched, gap computed
    row = next(line for line in text.splitlines() if line.startswith("| mine | pr01 | 1 |"))
    gap = float(row.split("|")[6])
    assert 0.0 <= gap < 100.0
    for m in (2, 3, 4):  # no reference (empty value / no row): empty gap, no crash
        row = next(line for line in text.splitlines() if line.startswith(f"| mine | pr01 | {m} |"))
        assert row.split("|")[4].strip() == "-" and row.split("|")[6].strip() == "-"
    assert "| mine | p1.2.b | 2 | - |" in text  # Chao file detected by content, m from the file
    assert "**all TOPTW**" in text and "**all Chao**" in text
    assert "mean gap % ours" in cap.out  # summary echoed on stdout


@needs_files
def test_folder_run_to_stdout(folder, capsys):
    d, values = folder
    (d / P12B.name).unlink()
    before = _snapshot()
    main(["--instances", str(d), "--values", str(values), "--solvers", "ours", "--time-limit", "0.2"])
    assert _snapshot() == before
    out = capsys.readouterr().out
    assert "### Per case" in out and "| mine | pr01 | 1 | 308 |" in out and "| mine | pr01 | 4 | - |" in out


def _exit2(argv, capsys) -> str:
    with pytest.raises(SystemExit) as ei:
        main(argv)
    assert ei.value.code == 2
    return capsys.readouterr().err


def test_bad_input_exits_2(tmp_path, capsys):
    values = tmp_path / "v.csv"
    values.write_text("set,instance,m,bks\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    nofolder = tmp_path / "nope"
    err = _exit2(["--instances", str(nofolder), "--values", str(values), "--solvers", "ours"], capsys)
    assert str(nofolder) in err
    err = _exit2(["--instances", str(empty), "--values", str(values), "--solvers", "ours"], capsys)
    assert str(empty) in err and "empty folder" in err
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.txt").write_text("hello\n")
    err = _exit2(["--instances", str(junk), "--values", str(values), "--solvers", "ours"], capsys)
    assert "no readable instance" in err and "a.txt" in err
    err = _exit2(["--instances", str(empty)], capsys)
    assert "--values" in err
    err = _exit2(["--instances", str(empty), "--values", str(values), "--subset"], capsys)
    assert "--subset" in err


@needs_files
def test_values_csv_errors_exit_2(folder, tmp_path, capsys):
    d, _ = folder
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("set,instance,bks\ncordeau_pr,pr01,308\n")
    err = _exit2(["--instances", str(d), "--values", str(nocol), "--solvers", "ours"], capsys)
    assert str(nocol) in err and "'m'" in err
    noval = tmp_path / "noval.csv"
    noval.write_text("set,instance,m\ncordeau_pr,pr01,1\n")
    err = _exit2(["--instances", str(d), "--values", str(noval), "--solvers", "ours"], capsys)
    assert "'bks or score'" in err
    missing = tmp_path / "missing.csv"
    err = _exit2(["--instances", str(d), "--values", str(missing), "--solvers", "ours"], capsys)
    assert str(missing) in err


def test_read_reference_values(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("set,instance,m,score,source\nS,p1.2.b,2,15,x\nS,p1.2.c,2,-,x\nS,p1.2.d,2,,x\n")
    refs, kind = read_reference_values(p)
    assert kind == "ref" and refs == {("S", "p1.2.b", 2): 15.0}
    p.write_text("set,instance,m,bks\nA,pr01,1,308\nA,pr01,1,309\n")
    with pytest.raises(ValueError, match="duplicate"):
        read_reference_values(p)


@needs_files
def test_detect_format():
    assert detect_format(PR01) == "toptw" and detect_format(P12B) == "chao"


@needs_files
def test_label_names_the_csv_and_the_section(tmp_path, monkeypatch, capsys):
    """``--label L`` writes quality_L.csv and the section quality_L (a partial run leaves the
    full-run section quality_<S>s alone); with --instances it is a usage error."""
    import bench.quality as q
    import bench.results_md as rmd

    written = []
    monkeypatch.setattr(rmd, "SECTIONS", tmp_path)
    monkeypatch.setattr(rmd, "write_section", lambda name, *a: written.append(name) or tmp_path / "R.md")
    case = q.Case("toptw", "cordeau_pr", "pr01", 1, str(instance_path("cordeau_pr", "pr01")))
    monkeypatch.setattr(q, "select_cases", lambda sets, subset: ([case], []))
    main(["--time-limit", "0.2", "--sets", "cordeau_pr", "--solvers", "ours", "--label", "pr_part"])
    assert written == ["quality_pr_part"]
    assert (tmp_path / "quality_pr_part.csv").is_file() and not (tmp_path / "quality_0.2s.csv").exists()
    with pytest.raises(SystemExit):
        main(["--instances", str(tmp_path), "--values", str(tmp_path / "v.csv"), "--label", "x"])
    assert "--label" in capsys.readouterr().err

"""bench.split, the generalisation protocol (issue 15 item 1): the documented split, the choice rule,
the report showing both halves, and a tiny real run whose plans are verified."""

from __future__ import annotations

import pytest

from bench.quality import Case
from bench.split import VARIANTS, Row, choose, main, render, run_cases, split_of
from instances.benchmarks import benchmarks_root, instance_path
from optimizer.core.stop import MaxIterations

PR = [f"pr{k:02d}" for k in range(1, 11)]


def test_split_alternates_by_sorted_name_within_a_set():
    """Cordeau: odd-numbered files are half A, even-numbered half B, whatever the listing order."""
    halves = {name: split_of(Case("toptw", "cordeau_pr", name, 1, ""), list(reversed(PR))) for name in PR}
    assert [n for n in PR if halves[n] == "A"] == ["pr01", "pr03", "pr05", "pr07", "pr09"]
    assert [n for n in PR if halves[n] == "B"] == ["pr02", "pr04", "pr06", "pr08", "pr10"]


def _rows(gaps):
    """Rows with ref 100 and score 100 - gap for {(variant, half): [gaps]}."""
    out = []
    for (v, h), gs in gaps.items():
        for i, g in enumerate(gs):
            out.append(Row(v, h, "s", f"i{i}", 1, 100.0, 100.0 - g, 10, 0.1))
    return out


def test_choice_is_the_lowest_mean_gap_on_the_half_ties_to_the_earlier():
    """Each half chooses by its own cases only; a tie goes to the earlier candidate."""
    rows = _rows({("a", "A"): [1, 1], ("b", "A"): [0, 1], ("a", "B"): [0, 0], ("b", "B"): [2, 2]})
    assert choose(rows, ["a", "b"], "A") == "b"
    assert choose(rows, ["a", "b"], "B") == "a"
    tie = _rows({("a", "A"): [1], ("b", "A"): [1]})
    assert choose(tie, ["a", "b"], "A") == "a"
    assert choose(tie, ["a", "b"], "B") is None


def test_report_shows_both_halves_and_the_held_out_gap():
    """The report gives each direction's held-out gap and the candidates' gaps on both halves."""
    rows = _rows({("a", "A"): [1, 1], ("b", "A"): [0, 1], ("a", "B"): [0, 0], ("b", "B"): [2, 2]})
    text = render(rows, ["a", "b"], ["A", "B"], "1 s", 0, ["s"])
    assert "chosen on half A: **b**: mean gap 0.50% on A (tuning), **2.00%** on B (held out)" in text
    assert "chosen on half B: **a**: mean gap 0.00% on B (tuning), **1.00%** on A (held out)" in text
    assert "| a | 1.00 | 0.00 | 10 |" in text


def test_bad_arguments_exit_with_a_message(capsys):
    """No stop, a bad limit or an unknown candidate is a usage error naming it."""
    for argv, msg in ((["--no-write"], "--time-limit"), (["--time-limit", "-1"], "--time-limit"),
                      (["--iterations", "5", "--variants", "nope"], "nope")):
        with pytest.raises(SystemExit):
            main(argv)
        assert msg in capsys.readouterr().err


@pytest.mark.skipif(not (benchmarks_root() / "toptw").is_dir(), reason="benchmarks not found")
def test_tiny_run_verifies_every_plan():
    """Two candidates on one small case: a row per candidate, each score positive and verified."""
    case = Case("toptw", "cordeau_pr", "pr01", 2, str(instance_path("cordeau_pr", "pr01")))
    rows = run_cases([(case, "A")], {k: VARIANTS[k] for k in ("ils", "ils+replace")}, MaxIterations(20), 0,
                     {}, log=lambda *_: None)
    assert [r.variant for r in rows] == ["ils", "ils+replace"]
    assert all(r.score > 0 and r.iterations == 20 and r.gap is None for r in rows)


def test_iteration_budgets_read_the_defaults_rows_of_a_quality_csv(tmp_path, capsys):
    """``--iterations-from``: each case gets the iterations ``ours`` ran in a bench.quality CSV (the
    peers' rows and rows without a count are ignored); a file without any is a usage error naming it."""
    from bench.split import iteration_budgets

    p = tmp_path / "q.csv"
    p.write_text("solver,set,instance,m,status\nours,cordeau_pr,pr01,2,max_runtime_s; 135262 it\n"
                 "pyvrp,cordeau_pr,pr01,2,feasible\nours,cordeau_pr,pr02,4,max_iterations; 90937 it\n"
                 "ours,cordeau_pr,pr03,1,error\n", encoding="utf-8")
    assert iteration_budgets(p) == {("cordeau_pr", "pr01", 2): 135262, ("cordeau_pr", "pr02", 4): 90937}
    empty = tmp_path / "e.csv"
    empty.write_text("solver,set,instance,m,status\npyvrp,cordeau_pr,pr01,2,feasible\n", encoding="utf-8")
    with pytest.raises(ValueError, match="e.csv"):
        iteration_budgets(empty)
    with pytest.raises(SystemExit):
        main(["--iterations-from", str(empty), "--no-write"])
    assert "--iterations-from" in capsys.readouterr().err


@pytest.mark.skipif(not (benchmarks_root() / "toptw").is_dir(), reason="benchmarks not found")
def test_per_case_budgets_replace_the_stop():
    """With ``budgets`` a case runs exactly its own iteration count; a case not named keeps ``stop``."""
    a = Case("toptw", "cordeau_pr", "pr01", 2, str(instance_path("cordeau_pr", "pr01")))
    b = Case("toptw", "cordeau_pr", "pr01", 3, str(instance_path("cordeau_pr", "pr01")))
    rows = run_cases([(a, "A"), (b, "A")], {"ils": VARIANTS["ils"]}, MaxIterations(20), 0, {},
                     log=lambda *_: None, budgets={a.key: 35})
    assert [r.iterations for r in rows] == [35, 20]

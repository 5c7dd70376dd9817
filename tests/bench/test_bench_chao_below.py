"""bench.chao_below: its fixed case list names real Chao files with a reference, and bad --cases exit 2."""

from __future__ import annotations

import pytest

from bench.chao_below import CASES, _case, main
from instances.benchmarks import benchmarks_root, load_chao_reference_scores

needs_chao = pytest.mark.skipif(not (benchmarks_root() / "top_chao").is_dir(), reason="Chao benchmarks not found")


@needs_chao
def test_every_case_is_a_chao_file_with_a_reference():
    refs = load_chao_reference_scores()
    assert len(set(CASES)) == len(CASES) == 27
    for name in CASES:
        c = _case(name)
        assert c.key in refs and refs[c.key] > 0, name


@pytest.mark.parametrize("arg", ["p9.2.a", "pr01", "p5.3"])
def test_bad_case_names_exit_2(arg, capsys):
    with pytest.raises(SystemExit) as ei:
        main(["--cases", arg])
    assert ei.value.code == 2 and "--cases" in capsys.readouterr().err

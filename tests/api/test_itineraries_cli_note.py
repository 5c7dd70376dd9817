"""The first ``lhasa-ops itineraries plan`` after an install is not silent: a warm-up slower than
``COMPILE_NOTE_AFTER_S`` says on stderr that the kernels are compiling; a fast one says nothing."""

from __future__ import annotations

import time

from api.cli import itineraries as cli


def test_slow_warm_up_says_it_is_compiling(monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMPILE_NOTE_AFTER_S", 0.05)
    monkeypatch.setattr(cli.service, "warm_up", lambda: (time.sleep(0.3), 0.3)[1])
    assert cli._warm_up_telling() == 0.3
    assert "compiling the itinerary kernels" in capsys.readouterr().err


def test_fast_warm_up_says_nothing(monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMPILE_NOTE_AFTER_S", 0.5)
    monkeypatch.setattr(cli.service, "warm_up", lambda: 0.0)
    assert cli._warm_up_telling() == 0.0
    time.sleep(0.6)
    assert capsys.readouterr().err == ""


def test_a_bad_rule_file_fails_before_the_kernels_warm_up(monkeypatch, tmp_path):
    """Trial finding: ``--rules missing.toml`` (or an unknown key) waited for the kernels' warm-up
    (up to 1.5 min on a first run, 'compiling ...' on stderr) before exiting 2; now it fails first."""
    import typer
    from typer.testing import CliRunner

    def no_warm_up() -> float:
        raise AssertionError("warmed up the kernels before reading the rules")

    monkeypatch.setattr(cli.service, "warm_up", no_warm_up)
    app = typer.Typer()
    app.add_typer(cli.itineraries_app, name="itineraries")
    bad = tmp_path / "r.toml"
    bad.write_text("[acclimatization]\nmax_gain_m = 500\n", encoding="utf-8")
    for rules, said in ((tmp_path / "missing.toml", "file not found"), (bad, "unknown key")):
        res = CliRunner().invoke(app, ["itineraries", "plan", "--rules", str(rules), "--out", str(tmp_path / "o")])
        assert res.exit_code == 2 and said in res.output, res.output

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

"""The Lhasa flight menu (``api.services.flights.lhasa_menu``) is never cached cut short by its time limit."""

from __future__ import annotations

import pytest

from api.services import flights as service


def test_a_menu_cut_short_by_the_clock_is_not_cached(monkeypatch):
    """With a limit no design can meet, ``lhasa_menu`` raises (naming the cells left unproven) and caches
    nothing, so the next call, with the normal limit, returns the whole menu (every 15/30/60 cell)."""
    service.lhasa_menu.cache_clear()
    monkeypatch.setattr(service, "LHASA_MENU_TIME_LIMIT_S", 1e-9)
    with pytest.raises(RuntimeError, match="hit its 1e-09 s limit"):
        service.lhasa_menu(15.0)
    monkeypatch.undo()
    products = service.lhasa_menu(15.0)
    ids = {p.id for p in products}
    assert {"dagze_ga_evtol_15", "dagze_ga_evtol_30", "dagze_ga_evtol_60"} <= ids
    assert service.lhasa_menu(15.0) is products  # cached now

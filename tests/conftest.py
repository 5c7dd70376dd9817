"""Shared fixtures: the embedded Lhasa network and the embedded demo demand (loaded once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from instances.demand import read_demand
from instances.loader import LHASA_DIR, load_lhasa


@pytest.fixture(scope="session")
def lhasa_network():
    return load_lhasa()


@pytest.fixture(scope="session")
def demo_groups(lhasa_network):
    return read_demand(Path(LHASA_DIR) / "demand_peak_day.csv", lhasa_network)

"""Shared fixtures: the embedded Lhasa network, the embedded demo demand and the embedded Lhasa
multi-day (itinerary) data (each loaded once)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pg_helpers import job_db_fixture

from instances.demand import read_demand
from instances.lhasa_itineraries import load_itinerary_data
from instances.loader import LHASA_DIR, load_lhasa

os.environ.setdefault("LHASA_OPS_COMPILE_WORKERS", "0")
"""Tests compile kernels in their own process (a warm-up with compile workers would leave worker processes
compiling beside the next tests); ``tests/core/test_core_compile_workers.py`` turns them on in its
subprocesses."""

job_db = pytest.fixture(params=["sqlite", "postgresql"])(job_db_fixture)
"""A fresh store database on each back end (``pg_helpers``): SQLite file, then PostgreSQL (skips
without ``$LHASA_OPS_TEST_PG``; ``.ci/run`` sets it)."""


@pytest.fixture(scope="session")
def lhasa_network():
    return load_lhasa()


@pytest.fixture(scope="session")
def demo_groups(lhasa_network):
    return read_demand(Path(LHASA_DIR) / "demand_peak_day.csv", lhasa_network)


@pytest.fixture(scope="session")
def itinerary_data():
    """``load_itinerary_data()``: the embedded Lhasa hotels, tickets, windows, types and rules (read
    only; the instances tests of the demo week, the readers and the builder share it)."""
    return load_itinerary_data()


TINY_SCENARIOS = """
[base]
seed = 2
iterations = {iterations}
[base.demand]
profile = "peak"
groups = {groups}
seed = 11

[[scenario]]
name = "tiny"
demand_scale = [1, 2]

[[scenario]]
name = "potala small"
[scenario.quota.potala]
daily = 200
slot = 60
"""


@pytest.fixture
def tiny_scenario_file(tmp_path):
    """Factory: write a 3-run scenario file (a x1/x2 sweep and a small Potala quota) and return its path."""
    def make(iterations: int = 150, groups: int = 30) -> Path:
        f = tmp_path / "tiny.toml"
        f.write_text(TINY_SCENARIOS.format(iterations=iterations, groups=groups), encoding="utf-8")
        return f
    return make

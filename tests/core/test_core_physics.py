"""optimizer.core.physics and optimizer.core.serialize: one ISA density, one haversine, one JSON helper."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from optimizer.core import InvalidInput, json_safe
from optimizer.core.physics import RHO_SEA, G, air_density, derated_range_km, haversine_km


def test_isa_density_at_sea_level_and_lhasa():
    """ISA: 1.225 kg/m^3 at 0 m, 15 degC; 0.850 kg/m^3 at Lhasa (3,650 m, ISA temperature -8.6 degC; ICAO standard-atmosphere table)."""
    assert air_density(0.0) == pytest.approx(RHO_SEA, rel=1e-3)
    assert air_density(3650.0) == pytest.approx(0.8498, rel=1e-3)
    # a warm day at Lhasa: same pressure, lower density (rho ~ 1/T)
    assert air_density(3650.0, 20.0) < air_density(3650.0)
    assert G == 9.80665


@pytest.mark.parametrize("h,t", [(-600.0, None), (12000.0, None), (0.0, -100.0), (0.0, math.nan)])
def test_isa_density_outside_its_range_is_an_error(h, t):
    with pytest.raises(InvalidInput):
        air_density(h, t)


def test_haversine_known_distance_and_broadcast():
    """Potala to Jokhang is about 1.6 km; arrays broadcast; scalars give a float."""
    d = haversine_km(29.6578, 91.1169, 29.6530, 91.1331)
    assert isinstance(d, float) and 1.4 < d < 1.8
    arr = haversine_km(29.65, 91.1, np.array([29.65, 29.75]), np.array([91.1, 91.1]))
    assert arr.shape == (2,) and arr[0] == 0.0
    assert arr[1] == pytest.approx(0.1 * math.pi / 180 * 6371.0088, rel=1e-9)


def test_range_derating_sourced_points():
    """AAA 2019: -41 % at -6.7 degC with heating, -12 % without, -17 % at 35 degC; no altitude credit by default."""
    assert derated_range_km(300, 3650, 24.0) == pytest.approx(300.0)
    assert derated_range_km(300, 3650, -6.7) == pytest.approx(0.59 * 300)
    assert derated_range_km(300, 3650, -6.7, cabin_heating=False) == pytest.approx(0.88 * 300)
    assert derated_range_km(300, 3650, 35.0) == pytest.approx(0.83 * 300)
    assert derated_range_km(300, 3650, 24.0, aero_share=0.3) > 300.0
    with pytest.raises(InvalidInput):
        derated_range_km(0, 3650, 10)


@dataclass(frozen=True)
class _Row:
    a: float
    b: tuple


def test_json_safe_writes_strict_json_without_rounding():
    obj = {"x": math.nan, "y": [math.inf, np.float64(0.1 + 0.2), np.int64(3)], "z": _Row(-math.inf, (1, 2)),
           "p": Path("/tmp/a"), "flag": np.bool_(True)}
    text = json.dumps(json_safe(obj), allow_nan=False)
    back = json.loads(text)
    assert back == {"x": "nan", "y": ["inf", 0.1 + 0.2, 3], "z": {"a": "-inf", "b": [1, 2]}, "p": "/tmp/a",
                    "flag": True}
    assert json_safe(obj, nonfinite="null")["x"] is None
    with pytest.raises(ValueError):
        json_safe(1.0, nonfinite="zero")

"""Transitional re-export of ``optimizer.core.airspace`` (removed once every caller moved)."""

from pathlib import Path

from optimizer.core import airspace as _core
from optimizer.core.airspace import *  # noqa: F401,F403
from optimizer.core.airspace import AirDistances, Airspace, Hub, NoFlyZone  # noqa: F401

AIRSPACE_GEOJSON = Path(__file__).resolve().parent.parent / "instances" / "lhasa" / "airspace.geojson"


def airspace_from_geojson(data=AIRSPACE_GEOJSON, buffer_km: float = 0.2) -> Airspace:
    return _core.airspace_from_geojson(data, buffer_km)

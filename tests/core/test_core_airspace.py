"""Airspace GeoJSON and visibility-graph air distances around no-fly polygons."""

import copy
import itertools
import json
import math

import pytest

from instances.paths import AIRSPACE_GEOJSON
from optimizer.core.airspace import AirDistances, Airspace, Hub, NoFlyZone, airspace_from_geojson
from optimizer.core.errors import InvalidInput

SQUARE = ((91.10, 29.64), (91.14, 29.64), (91.14, 29.67), (91.10, 29.67), (91.10, 29.64))


def test_lhasa_geojson_loads_with_potala_inside_old_city():
    """The shipped airspace has the old-city and Gonggar zones and four hubs; the Potala is no-fly."""
    a = airspace_from_geojson(AIRSPACE_GEOJSON)
    ids = {z.id for z in a.zones}
    assert {"old_city", "gonggar_ctr"} <= ids
    assert {"dagze_park", "quxu_hub", "damxung"} <= {h.id for h in a.hubs}
    assert a.zone_containing(91.1169, 29.6578) == "old_city"
    assert a.zone_containing(90.9119, 29.2978) == "gonggar_ctr"


def test_unclosed_polygon_is_rejected():
    """A ring whose last position differs from the first gives a clear error."""
    data = json.loads(AIRSPACE_GEOJSON.read_text(encoding="utf-8"))
    bad = copy.deepcopy(data)
    bad["features"][0]["geometry"]["coordinates"][0].pop()
    with pytest.raises(InvalidInput, match="does not close"):
        airspace_from_geojson(bad)


def test_hub_inside_zone_rejected():
    with pytest.raises(InvalidInput, match="inside no-fly"):
        Airspace((NoFlyZone("z", "z", SQUARE),), (Hub("h", "h", 91.12, 29.65, 3650),))


def test_detour_is_shortest_around_the_box_and_clear():
    """Across a square zone the path goes around a corner pair: longer than straight, shorter than a big loop, clear."""
    a = Airspace((NoFlyZone("z", "z", SQUARE),), (), buffer_km=0.1)
    pts = [(91.09, 29.655), (91.15, 29.655), (91.09, 29.70)]
    d = AirDistances(a, pts)
    kx = 111.32 * math.cos(math.radians(29.65))
    straight = 0.06 * kx
    half_h = 0.015 * 111.32 + 0.1
    expect = 2 * math.hypot(0.01 * kx - 0.1, half_h) + (0.04 * kx + 0.2)  # to a corner, along the side, down
    assert d.matrix[0, 1] > straight
    assert d.matrix[0, 1] == pytest.approx(expect, rel=0.02)
    assert d.matrix[0, 2] == pytest.approx(math.hypot(0, 0.045 * 111.32), rel=1e-6)  # unobstructed: straight
    poly = d.path(0, 1)
    assert len(poly) == 4
    assert all(d.segment_clear(p, q) for p, q in itertools.pairwise(poly))
    assert (d.matrix == d.matrix.T).all()

"""optimizer.core.network: validated nouns and the one shortest-path / road-graph definition."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from optimizer.core import InvalidInput
from optimizer.core.network import Network, Road, Site, road_graph, shortest_path_matrices


def _site(i: str, lat: float, lon: float = 91.1) -> Site:
    return Site(id=i, name_en=i, name_zh="", lat=lat, lon=lon, elevation_m=3650.0, kind="palace",
                rating="5A", score=1.0, visit_min=30.0, window=(480.0, 1080.0))


def test_fastest_path_and_its_length():
    """a-b-c by two fast roads beats a slow direct road; distance is the fastest path's length."""
    sites = (_site("a", 29.60), _site("b", 29.61), _site("c", 29.62))
    roads = (Road("a", "b", "r1", 2.0, 60.0, 2.0), Road("b", "c", "r2", 3.0, 60.0, 3.0),
             Road("a", "c", "slow", 4.0, 10.0, 24.0))
    t, d = shortest_path_matrices(sites, roads)
    assert t[0, 2] == 5.0 and d[0, 2] == 5.0
    assert np.allclose(t, t.T)
    g = road_graph(Network(sites, roads, t, d))
    assert nx.shortest_path_length(g, "a", "c", weight="travel_min") == 5.0


def test_a_site_without_roads_gets_an_access_leg():
    sites = (_site("a", 29.60), _site("b", 29.61), _site("off", 29.70))
    t, d = shortest_path_matrices(sites, (Road("a", "b", "r", 1.0, 60.0, 1.0),))
    # "off" attaches to its nearest road node b, so a is reached through b
    assert math.isfinite(t[2, 0]) and d[2, 0] == pytest.approx(d[2, 1] + 1.0)
    assert d[2, 1] == pytest.approx(1.3 * 0.09 * 111.19, rel=1e-3)  # haversine (0.09 deg of latitude) x ACCESS_DETOUR


def test_bad_sites_and_networks_name_the_field():
    with pytest.raises(InvalidInput) as e:
        _site("x", 95.0)
    assert e.value.field == "site[x].lat"
    with pytest.raises(InvalidInput) as e:
        Road("a", "b", "r", -1.0, 60.0, 1.0)
    assert e.value.field == "road[a-b].length_km"
    s = (_site("a", 29.6), _site("a", 29.7))
    with pytest.raises(InvalidInput, match="duplicate site id"):
        Network(s, (), np.zeros((2, 2)), np.zeros((2, 2)))
    net = Network(s[:1], (), np.zeros((1, 1)), np.zeros((1, 1)))
    with pytest.raises(InvalidInput) as e:
        net.index("nowhere")
    assert e.value.value == "nowhere"

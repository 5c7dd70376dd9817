"""The itinerary problem rejects bad input with InvalidInput naming the field."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.core.errors import InvalidInput
from optimizer.itineraries.problem import Group, Hotel, ItineraryProblem, Lunch, MustVisit, Site


def _problem(**group_kw) -> ItineraryProblem:
    g = dict(id="g", arrival_day=0, arrival_min=600.0, arrival_place="h", departure_day=1, departure_min=900.0,
             departure_place="h")
    g.update(group_kw)
    return ItineraryProblem("t", 2, (Site("a", 1.0, 10.0),), (Hotel("h"),), (Group(**g),), np.zeros((2, 2)))


def test_valid_problem_builds():
    pb = _problem()
    assert pb.n_sites == 1 and pb.place_index("h") == 1


@pytest.mark.parametrize("kw, field", [
    (dict(departure_day=0, departure_min=500.0), "group[g].departure_day"),
    (dict(budget=-1.0), "group[g].budget"),
    (dict(size=0), "group[g].size"),
    (dict(arrival_place="nowhere"), "group[g].arrival_place"),
    (dict(hotels=("h", "h")), "group[g].hotels"),
    (dict(must_visits=(MustVisit("zz"),)), "group[g].must_visits"),
    (dict(must_visits=(MustVisit("a", day=5),)), "group[g].must_visits[a].day"),
    (dict(departure_day=3), "group[g].departure_day"),
])
def test_bad_group_is_invalid_input(kw, field):
    with pytest.raises(InvalidInput) as e:
        _problem(**kw)
    assert e.value.field == field


def test_bad_sites_hotels_matrix():
    with pytest.raises(InvalidInput, match="windows"):
        Site("a", 1.0, 10.0, (((600.0, 500.0),),))
    with pytest.raises(InvalidInput):
        Site("a", -1.0, 10.0)
    with pytest.raises(InvalidInput):
        Hotel("h", rooms=-2)
    with pytest.raises(InvalidInput):
        Lunch(700.0, 600.0, 30.0)
    g = Group("g", 0, 0.0, "h", 0, 900.0, "h")
    with pytest.raises(InvalidInput, match="shape"):
        ItineraryProblem("t", 1, (Site("a", 1.0, 1.0),), (Hotel("h"),), (g,), np.zeros((3, 3)))
    t = np.zeros((2, 2))
    t[0, 1] = np.nan
    with pytest.raises(InvalidInput) as e:
        ItineraryProblem("t", 1, (Site("a", 1.0, 1.0),), (Hotel("h"),), (g,), t)
    assert e.value.field == "travel_min[0,1]"
    with pytest.raises(InvalidInput, match="duplicate"):
        ItineraryProblem("t", 1, (Site("h", 1.0, 1.0),), (Hotel("h"),), (g,), t)

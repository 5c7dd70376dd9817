"""The exact itinerary model: proven optimum verified, hotel choice forced by altitude and rooms,
refusal of what it does not model."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion
from optimizer.itineraries.problem import AcclimatizationRules, Group, Hotel, ItineraryProblem, Lunch, Site
from optimizer.itineraries.solve import ItineraryParams, solve
from optimizer.itineraries.verify import verify

CPSAT = ItineraryParams(method="cpsat")
STOP = StoppingCriterion(max_runtime_s=30.0)


def _case(rooms_low: int | None, rules: AcclimatizationRules | None) -> ItineraryProblem:
    # a far site (x = 100) reachable in a day only from the high hotel (x = 80)
    sites = (Site("far", 10.0, 60.0), Site("near", 1.0, 30.0))
    x = [100.0, 5.0, 0.0, 80.0]
    t = np.abs(np.subtract.outer(x, x))
    hotels = (Hotel("low", 3650.0, rooms=rooms_low), Hotel("high", 4300.0))
    g = Group("g", 0, 480.0, "low", 1, 700.0, "low", rooms=1, day_windows=((480.0, 720.0),))
    return ItineraryProblem("hotel", 2, sites, hotels, (g,), t, acclimatization=rules)


def test_optimal_plan_uses_high_hotel_when_allowed():
    pb = _case(None, None)
    sol = solve(pb, STOP, params=CPSAT)
    assert sol.stats.status == "optimal" and verify(pb, sol) == []
    assert sol.score == pytest.approx(11.0) and sol.itineraries[0].nights == ("high",)


def test_altitude_rule_forbids_high_hotel():
    pb = _case(None, AcclimatizationRules(max_sleep_m_by_night=(3800.0,)))
    sol = solve(pb, STOP, params=CPSAT)
    assert sol.stats.status == "optimal" and verify(pb, sol) == []
    assert sol.itineraries[0].nights == ("low",) and sol.score == pytest.approx(1.0)
    heur = solve(pb, StoppingCriterion(max_iterations=50))
    assert verify(pb, heur) == [] and heur.score == pytest.approx(sol.score)


def test_refuses_lunch():
    pb = _case(None, None)
    from dataclasses import replace

    pb2 = replace(pb, groups=(replace(pb.groups[0], lunch=Lunch(700.0, 800.0, 30.0)),))
    with pytest.raises(InvalidInput):
        solve(pb2, STOP, params=CPSAT)

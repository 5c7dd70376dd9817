"""Small hand-made itinerary problems shared by the itineraries tests (no test in here)."""

from __future__ import annotations

import numpy as np

from optimizer.itineraries.problem import (
    AcclimatizationRules,
    Group,
    Hotel,
    ItineraryProblem,
    MustVisit,
    Site,
)


def random_problem(seed: int, n: int = 9, n_hotels: int = 3, n_days: int = 3, n_groups: int = 2) -> ItineraryProblem:
    """Random small case: two windows at odd sites, ticket prices, a type limit per day, a daily
    quota, hotels with rooms and elevations, a high site allowed from the third day, a budget."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 60, (n + n_hotels, 2))
    travel = np.floor(np.linalg.norm(xy[:, None] - xy[None], axis=2))
    sites = tuple(
        Site(f"s{i}", float(rng.integers(1, 10)), 30.0,
             (((480.0, 700.0), (800.0, 1000.0)),) if i % 2 else (((480.0, 1100.0),),),
             ticket_price=float(rng.integers(0, 50)), types=("temple",) if i % 3 == 0 else (),
             elevation_m=5150.0 if i == 0 else 3650.0, daily_quota=6)
        for i in range(n))
    hotels = tuple(Hotel(f"h{k}", 3650.0 + 100.0 * k, rooms=4, room_price=100.0) for k in range(n_hotels))
    groups = tuple(
        Group(f"g{k}", 0, 600.0, "h0", n_days - 1, 900.0, "h1", size=3 + k, rooms=2 + k, budget=150.0,
              max_per_type_day=(("temple", 1),), must_visits=(MustVisit("s0"),) if k == 0 else (),
              day_windows=((480.0, 800.0),), active_min=300.0)
        for k in range(n_groups))
    rules = AcclimatizationRules(max_visit_m_by_day=(4000.0, 4000.0, 5500.0), max_gain_per_night_m=150.0)
    return ItineraryProblem(f"random{seed}", n_days, sites, hotels, groups, travel, acclimatization=rules)


def line_travel(positions: list[float], speed: float = 1.0) -> np.ndarray:
    """Travel minutes between points on a line (|x_i - x_j| / speed)."""
    x = np.asarray(positions, dtype=float)
    return np.abs(x[:, None] - x[None, :]) / speed

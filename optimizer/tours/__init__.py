"""Daily tour-group routes: the TOPTW with shared per-slot entry quotas, solved by the ILS engine.

Public surface::

    from optimizer.tours import TourProblem, TourGroup, Location, solve, verify
    plan = solve(problem, StoppingCriterion(max_iterations=5000), seed=0)   # -> TourPlan
    assert verify(problem, plan) == []                                       # -> list[TourViolation]

``optimizer.tours.report`` turns a plan into tables, GeoJSON and a JSON document.
"""

from optimizer.core.engine.ils import ILSParams
from optimizer.tours.problem import MAX_GROUP_SIZE, Location, TourGroup, TourProblem
from optimizer.tours.solution import (
    UNSERVED_REASONS,
    Route,
    TourPlan,
    TourUnserved,
    Visit,
    served_group_ids,
    tour_kpis,
)
from optimizer.tours.solve import (
    KERNELS,
    TOUR_PARAMS,
    compile_problem,
    compile_seconds,
    ensure_compiled,
    is_compiled,
    location_vector,
    road_nodes,
    solve,
    warm_up,
)
from optimizer.tours.verify import TourViolation, verify

__all__ = [
    "KERNELS", "MAX_GROUP_SIZE", "TOUR_PARAMS", "UNSERVED_REASONS", "ILSParams", "Location", "Route", "TourGroup",
    "TourPlan", "TourProblem", "TourUnserved", "TourViolation", "Visit", "compile_problem",
    "compile_seconds", "ensure_compiled", "is_compiled", "location_vector", "road_nodes", "served_group_ids", "solve", "tour_kpis", "verify", "warm_up",
]

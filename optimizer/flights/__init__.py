"""Low-altitude sightseeing flights: the product menu (route design) and the day's schedule.

``solve(problem, stop, seed=0, params=None)`` takes a :class:`DesignProblem` (-> :class:`Menu`) or a
:class:`ScheduleProblem` (-> :class:`Schedule`); ``verify(problem, solution)`` re-checks either from
the data; ``optimizer.flights.report`` turns them into JSON, tables and plots.
"""

from optimizer.flights.demand import random_bookings
from optimizer.flights.problem import (
    Aircraft,
    AircraftType,
    Booking,
    DesignProblem,
    FlightData,
    FlightParams,
    FlightProduct,
    ScheduleProblem,
    Vertiport,
    VertiportCapacity,
    Viewpoint,
)
from optimizer.flights.solution import Departure, DesignedRoute, Menu, MenuOffer, Schedule
from optimizer.flights.solve import solve
from optimizer.flights.verify import verify

__all__ = ["Aircraft", "AircraftType", "Booking", "Departure", "DesignProblem", "DesignedRoute", "FlightData",
           "FlightParams", "FlightProduct", "Menu", "MenuOffer", "Schedule", "ScheduleProblem", "Vertiport",
           "VertiportCapacity", "Viewpoint", "random_bookings", "solve", "verify"]

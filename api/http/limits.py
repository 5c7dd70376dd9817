"""Time limits of the solve endpoints: the server maximum and a per-request budget.

``LHASA_OPS_MAX_TIME_LIMIT_S`` (seconds, default 60, at most 3600, read when the app is imported;
an invalid value stops the app at creation: ``check_environment``) bounds the
``time_limit_s`` of every solve endpoint (``/v1/tours/plan``, ``/v1/stations/siting``,
``/v1/stations/charging-schedule``, ``/v1/stations/oxygen-plan``, ``/v1/drones/delivery-plan``
and the oxygen-plan job). The bound is in the request schemas (so it is in the OpenAPI document)
and checked again at request time (``check_time_limit``), so a value over the maximum is an HTTP
422 ``invalid_input`` naming ``time_limit_s``.

A request's limit covers all of its work - construction included: ``Budget`` starts when the
request is parsed; the demo-day tour plan that the station endpoints build first, the problem
construction and the solver all draw on it (``Budget.left()``), and the solver gets what is left.
Work that cannot be interrupted (building a drone instance, one batch of 25 ruin-and-recreate
iterations) can overrun the limit by its own duration; the request-size bounds keep that to a
few seconds.

``demo_day(iterations, budget)`` is the embedded demo day (``api.services.tours.demo_day``: ILS
seed 0) planned within a share of the budget; plans that ran their whole iteration budget (not cut
by the time limit) are cached by the service, so repeated requests skip the work.
"""

from __future__ import annotations

import os
import time

from api.services import tours
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion
from optimizer.tours import TourPlan, TourProblem

MAX_TIME_LIMIT_ENV = "LHASA_OPS_MAX_TIME_LIMIT_S"
DEFAULT_MAX_TIME_LIMIT_S = 60.0
HARD_MAX_TIME_LIMIT_S = 3600.0
DEMO_DAY_SHARE = 0.5
"""Largest share of a request's time limit the demo-day tour plan may use."""
MIN_SOLVER_S = 0.05
"""Smallest time slice handed to a solver (CP-SAT needs a positive limit)."""


def parse_limit_env(name: str, raw: str | None, default: float) -> float:
    """A server maximum from the environment: ``default`` when unset or empty, else a number of
    seconds with 0 < x <= 3600; ``InvalidInput`` naming the variable otherwise."""
    if raw is None or raw.strip() == "":
        return default
    try:
        v = float(raw)
    except ValueError:
        raise InvalidInput(name, raw, f"must be a number of seconds, 0 < x <= {HARD_MAX_TIME_LIMIT_S:g}") from None
    if not (0 < v <= HARD_MAX_TIME_LIMIT_S):  # NaN fails too
        raise InvalidInput(name, raw, f"must be a number of seconds, 0 < x <= {HARD_MAX_TIME_LIMIT_S:g}")
    return v


def _lenient(name: str, default: float) -> float:
    """The variable's value, or ``default`` when it is invalid (``check_environment`` refuses to start
    the app with an invalid value; this fallback only keeps imports working)."""
    try:
        return parse_limit_env(name, os.environ.get(name), default)
    except InvalidInput:
        return default


def max_time_limit_s() -> float:
    """The server maximum of ``time_limit_s``: ``$LHASA_OPS_MAX_TIME_LIMIT_S`` or 60 s (at most 3600)."""
    return _lenient(MAX_TIME_LIMIT_ENV, DEFAULT_MAX_TIME_LIMIT_S)


MAX_TIME_LIMIT_S = max_time_limit_s()
"""The maximum when the schemas were built (the ``le`` bound in the OpenAPI document)."""

MAX_JOB_TIME_LIMIT_ENV = "LHASA_OPS_MAX_JOB_TIME_LIMIT_S"
DEFAULT_MAX_JOB_TIME_LIMIT_S = 600.0


def max_job_time_limit_s() -> float:
    """``$LHASA_OPS_MAX_JOB_TIME_LIMIT_S`` or 600 s (at most 3600): the longest time limit of one
    job unit (an oxygen-plan job, one scenario of a scenario run)."""
    return _lenient(MAX_JOB_TIME_LIMIT_ENV, DEFAULT_MAX_JOB_TIME_LIMIT_S)


def check_environment() -> list[InvalidInput]:
    """Problems of the time-limit settings (empty: fine)."""
    problems = []
    for name, default in ((MAX_TIME_LIMIT_ENV, DEFAULT_MAX_TIME_LIMIT_S),
                          (MAX_JOB_TIME_LIMIT_ENV, DEFAULT_MAX_JOB_TIME_LIMIT_S)):
        try:
            parse_limit_env(name, os.environ.get(name), default)
        except InvalidInput as e:
            problems.append(e)
    return problems


MAX_JOB_TIME_LIMIT_S = max_job_time_limit_s()


def default_time_limit(preferred: float) -> float:
    """A field default: ``preferred`` seconds, or the server maximum when that is lower."""
    return min(preferred, MAX_TIME_LIMIT_S)


def time_limit_field_doc(default: float) -> str:
    return (f"Wall-clock limit of the whole request, seconds (0 < x <= {MAX_TIME_LIMIT_S:g}, the server maximum "
            f"{MAX_TIME_LIMIT_ENV}); covers the demo-day plan, problem construction and the solver. Default {default:g}.")


def check_time_limit(value: float, field: str = "time_limit_s") -> float:
    """``value`` when 0 < value <= the current server maximum, else ``InvalidInput`` (HTTP 422)."""
    cap = max_time_limit_s()
    if not (value > 0) or value > cap:
        raise InvalidInput(field, value, f"must be > 0 and <= {cap:g} seconds (server maximum {MAX_TIME_LIMIT_ENV})")
    return value


class Budget:
    """The time left of one request's ``time_limit_s`` (started at construction)."""

    def __init__(self, limit_s: float) -> None:
        self.limit_s = float(limit_s)
        self.t0 = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def left(self) -> float:
        return self.limit_s - self.elapsed()

    def slice(self, share: float = 1.0, floor: float = MIN_SOLVER_S) -> float:
        """``share`` of the time left, at least ``floor`` seconds."""
        return max(floor, share * self.left())


network = tours.lhasa_network
"""The embedded Lhasa network, loaded once per process (``api.services.tours.lhasa_network``)."""


def demo_day(iterations: int, budget: Budget | None = None) -> tuple[TourProblem, TourPlan]:
    """(TourProblem, TourPlan) of the embedded demo day: ``iterations`` ILS iterations, seed 0,
    stopped early at ``DEMO_DAY_SHARE`` of the budget's time left."""
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise InvalidInput("iterations", iterations, "must be an integer >= 0")
    runtime = budget.slice(DEMO_DAY_SHARE) if budget is not None else None
    return tours.demo_day(StoppingCriterion(max_iterations=iterations, max_runtime_s=runtime), seed=0)


__all__ = [
    "MAX_JOB_TIME_LIMIT_ENV",
    "MAX_JOB_TIME_LIMIT_S",
    "MAX_TIME_LIMIT_ENV",
    "MAX_TIME_LIMIT_S",
    "Budget",
    "check_environment",
    "check_time_limit",
    "demo_day",
    "max_job_time_limit_s",
    "max_time_limit_s",
]

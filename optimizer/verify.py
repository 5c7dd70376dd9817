"""Transitional re-export: the tour-plan verifier lives in ``optimizer.tours.verify``."""

from optimizer.tours.verify import *  # noqa: F401,F403
from optimizer.tours.verify import TourViolation as Violation  # noqa: F401
from optimizer.tours.verify import verify  # noqa: F401

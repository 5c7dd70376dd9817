"""Transitional re-export (deleted at integration): import from ``optimizer.core`` (errors, clock,
network) and ``optimizer.tours`` (the tour nouns) instead.

``Unserved`` here keeps the old call shape ``Unserved(group_id, site_id, reason, detail="")`` and
returns the tours' ``TourUnserved`` (the core ``Unserved`` with ``item_id`` = group or group/site).
"""

from __future__ import annotations

from optimizer.core.clock import MINUTES_PER_DAY, fmt_clock, parse_clock  # noqa: F401
from optimizer.core.errors import (  # noqa: F401
    InvalidInput,
    check_finite,
    check_time_limit_s,
    check_window,
)
from optimizer.core.network import Network, Road, Site  # noqa: F401
from optimizer.tours.problem import MAX_GROUP_SIZE, Location, TourGroup, TourProblem  # noqa: F401
from optimizer.tours.solution import Route, TourPlan, TourUnserved, Visit  # noqa: F401


def Unserved(group_id: str, site_id: str | None, reason: str, detail: str = "") -> TourUnserved:  # noqa: N802
    """Transitional: ``TourUnserved.of(group_id, site_id, reason, detail)``."""
    return TourUnserved.of(group_id, site_id, reason, detail)

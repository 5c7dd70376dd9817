"""A multi-day itinerary plan: per group, a hotel per night and a route per day.

Unserved reasons (``Unserved.reason``; ``item_id`` = ``group`` or ``group/site``)
    ``acclimatization``: a must-visit that the altitude rules forbid on every allowed day;
    ``window``: a must-visit closed on every allowed day of the stay, or whose opening hours no day
    of the stay can reach even with nothing else planned (arrival/departure times, lunch);
    ``quota``: a must-visit whose daily quota or every entry slot is full on the days it could be
    visited;
    ``budget``: a must-visit whose tickets exceed what the rooms and the other must-visits leave,
    or a group whose cheapest hotel sequence exceeds its budget (no plan);
    ``no_hotel``: a group with no plan: rooms full on some night ("rooms full ..."), or no hotel
    sequence meets the altitude rules and day lengths even with every room free;
    ``not_selected``: a must-visit that fits a day of the stay on its own but was not fitted with
    the rest of the plan (time, type limits, entry slots taken, or out of time).
Only must-visits and groups are listed (optional sites not visited are not "unserved").
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.core.results import SolveStats, Unserved

UNSERVED_REASONS = ("acclimatization", "window", "quota", "budget", "no_hotel", "not_selected")


@dataclass(frozen=True, slots=True)
class Visit:
    """One visit: site id, arrival, start and end of the visit (minutes from midnight of its day)."""

    site_id: str
    arrival_min: float
    start_min: float
    end_min: float


@dataclass(frozen=True, slots=True)
class DayRoute:
    """A group's horizon day ``day``: leaves ``from_place`` at ``depart_min``, visits, lunch start
    (None: no lunch that day), reaches ``to_place`` at ``return_min``."""

    day: int
    from_place: str
    to_place: str
    depart_min: float
    visits: tuple[Visit, ...]
    return_min: float
    lunch_start_min: float | None = None


@dataclass(frozen=True, slots=True)
class GroupItinerary:
    """``nights[i]``: hotel id of night ``arrival_day + i``; ``days``: one ``DayRoute`` per day of
    the stay; ``score``: the group's value of its visits."""

    group_id: str
    nights: tuple[str, ...]
    days: tuple[DayRoute, ...]
    score: float


@dataclass(frozen=True, slots=True)
class ItinerarySolution:
    """Every planned group's itinerary (a group with no plan is in ``unserved``), the total score,
    what was left out and the solve stats (``objective`` = ``score``)."""

    itineraries: tuple[GroupItinerary, ...]
    score: float
    unserved: tuple[Unserved, ...]
    stats: SolveStats

    def itinerary(self, group_id: str) -> GroupItinerary | None:
        for it in self.itineraries:
            if it.group_id == group_id:
                return it
        return None

"""Request and response models of the HTTP API (pydantic 2).

These models describe the wire format and do the shape checks (types, ranges). The meaning of a
group record (known site ids, a day window that opens before it closes, interest kinds, zones) is
checked by the core, ``instances.demand.groups_from_records``, so that the API, the CLI and the
demand files share one set of rules. Units: times of day are ``HH:MM`` strings in requests and
minutes from midnight (with ``*_hhmm`` companions) in responses; durations in minutes; distances
in km; sizes and quotas in persons; runtimes in seconds.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.http.limits import MAX_TIME_LIMIT_S, default_time_limit, time_limit_field_doc

MAX_GROUPS = 1000
"""Largest number of groups accepted by one ``POST /v1/tours/plan``: the size at which a request
with ``time_limit_s = 1`` still answers within 1.5 s (reading the groups, building the problem, the
verifier and the report grow with the groups and cannot be cut short; ``bench/time_limits.py``,
issue 14 build 5). Larger days: the scenario jobs (``POST /v1/scenarios``) or the CLI."""
MAX_STATION_GROUPS = 500
"""Largest ``groups`` list of the station endpoints (siting, charging, oxygen): they plan the tours
first, within half of the time limit, then build and solve their own model
(``bench/time_limits.py``)."""
MAX_CANDIDATES = 500
"""Longest ``candidate_sites`` list."""

EXAMPLE_GROUP: dict[str, Any] = {
    "group_id": "G001",
    "size": 25,
    "start": "potala",
    "end": {"lat": 29.6503, "lon": 91.1300},
    "day_window": ["08:00", "19:00"],
    "must_visit": ["jokhang"],
    "interests": {"monastery": 1.5, "lake": 0.5},
    "zone": None,
}


SiteId = Annotated[str, Field(max_length=200)]


class LatLon(BaseModel):
    """A WGS84 point; attached to the nearest road node by an access leg."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [{"lat": 29.6503, "lon": 91.13}]})

    lat: float = Field(description="Latitude, WGS84 degrees (-90..90).")
    lon: float = Field(description="Longitude, WGS84 degrees (-180..180).")


class GroupIn(BaseModel):
    """One tour group's day, in the JSON layout of ``instances.demand``."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [EXAMPLE_GROUP]})

    group_id: str = Field(description="Group identifier, unique in the request.", min_length=1, max_length=200)
    size: StrictInt = Field(description="Group size, persons (integer >= 1). Each visit uses this many "
                                        "places of the site's entry quota.")
    start: SiteId | LatLon = Field(description="Where the day starts: a site id (see "
                                            "/v1/instances/lhasa/sites) or a {lat, lon} point.")
    end: SiteId | LatLon = Field(description="Where the day ends: a site id or a {lat, lon} point.")
    day_window: list[str] = Field(
        description='["HH:MM", "HH:MM"]: earliest departure from start and latest arrival at end, local '
                    'time of the planning day ("24:00" allowed).',
        min_length=2, max_length=2)
    must_visit: list[str] = Field(default_factory=list, max_length=100,
                                  description="Site ids the group must see; reported as unserved, with a "
                                              "reason, when impossible.")
    interests: dict[str, float] = Field(default_factory=dict,
                                        description="Site kind -> weight >= 0 multiplying the site score "
                                                    "(missing kinds weigh 1.0; 0 excludes the kind).")
    zone: SiteId | None = Field(default=None, description="Ring/circle id the group must stay within "
                                                       "(start and end excepted), or null.")


class PlanRequest(BaseModel):
    """Plan one day of tour-group routes on the embedded Lhasa network."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"groups": [EXAMPLE_GROUP], "time_limit_s": 5, "seed": 0, "iterations": None, "candidate_sites": None},
        {"groups": [EXAMPLE_GROUP], "time_limit_s": 2, "seed": 1, "iterations": 500,
         "candidate_sites": ["jokhang", "potala", "norbulingka", "sera", "drepung"]}]})

    groups: list[GroupIn] = Field(description=f"The tour groups (at most {MAX_GROUPS}); an empty list "
                                              "gives an empty plan.", max_length=MAX_GROUPS)
    time_limit_s: float = Field(default=default_time_limit(5.0), gt=0, le=MAX_TIME_LIMIT_S, allow_inf_nan=False,
                                description=time_limit_field_doc(default_time_limit(5.0)) + " The search also "
                                            "stops after 1000 iterations without improvement.")
    seed: StrictInt = Field(default=0, ge=0, le=2**63 - 1,
                            description="Random seed (integer 0..2^63-1). The same seed and "
                                                         "iteration budget give the same plan.")
    iterations: StrictInt | None = Field(default=None, ge=0, le=10_000_000,
                                         description="Iteration budget of the search, ILS iterations "
                                                     "(0..10^7; null: time limit only). The time limit still "
                                                     "applies.")
    candidate_sites: list[str] | None = Field(
        default=None, min_length=1, max_length=MAX_CANDIDATES,
        description="Scenic site ids that may be visited (null: every scenic site). Sites not listed are "
                    "not visited by any group; every must-visit has to be listed. Combine with interests "
                    "(kind weights) as usual.")


class SiteOut(BaseModel):
    """A site of the network (scenic site with score > 0, or a hub with score 0)."""

    id: str
    name_en: str
    name_zh: str
    lat: float = Field(description="WGS84 degrees.")
    lon: float = Field(description="WGS84 degrees.")
    elevation_m: float = Field(description="Elevation above sea level, m.")
    kind: str
    rating: str = Field(description="China A-level rating (5A..3A), 'unk' if unverified, 'n/a' for hubs.")
    score: float = Field(description="Score of one visit per visitor (0: hub, not visited).")
    visit_min: float = Field(description="Duration of a group visit, minutes.")
    open: str = Field(description="Opening time, HH:MM.")
    close: str = Field(description="Closing time, HH:MM; a visit must end by then.")
    daily_quota: int | None = Field(description="Persons admitted per day (null: unlimited).")
    slot_quota: int | None = Field(description="Persons admitted per entry slot (null: unlimited).")
    coord_conf: str = Field(description="Confidence in the coordinates.")


class VisitOut(BaseModel):
    site_id: str
    site_name: str
    arrival: float | None = Field(description="Arrival, minutes from midnight.")
    wait: float | None = Field(description="Wait before the visit starts, minutes.")
    start: float | None = Field(description="Start of the visit, minutes from midnight.")
    departure: float | None = Field(description="End of the visit, minutes from midnight.")
    arrival_hhmm: str | None
    start_hhmm: str | None
    departure_hhmm: str | None
    slot: int | None = Field(description="Entry slot index: floor(start / slot_min).")


class RouteOut(BaseModel):
    group_id: str
    size: int | None = Field(description="Persons.")
    depart: float | None = Field(description="Departure from the start, minutes from midnight.")
    arrive_end: float | None = Field(description="Arrival at the end, minutes from midnight.")
    depart_hhmm: str | None
    arrive_end_hhmm: str | None
    score: float | None = Field(description="Visitor-weighted score of the route.")
    travel_min: float | None = Field(description="Total travel time, minutes.")
    distance_km: float | None = Field(description="Total road distance, km.")
    visits: list[VisitOut]


class UnservedOut(BaseModel):
    group_id: str
    site_id: str | None = Field(description="The must-visit left out, or null for the whole group.")
    reason: str = Field(description="window, quota, time, zone, nothing_fits, no_interest (the group values no site it could visit) or unreachable.")
    detail: str


class ViolationOut(BaseModel):
    group_id: str | None
    site_id: str | None
    kind: str
    message: str


class PlanResponse(BaseModel):
    """The plan (``optimizer.tours.report.to_dict``) and the independent verifier's findings."""

    seed: int
    iterations: int = Field(description="Search iterations run.")
    stopped_by: str = Field(default="", description="Why the search stopped: max_iterations, max_runtime_s, "
                                                    "max_no_improvement or empty.")
    runtime_s: float | None = Field(description="Solve time, seconds.")
    slot_min: float | None = Field(description="Length of an entry slot, minutes.")
    kpis: dict[str, float | None] = Field(description="Headline figures (counts, persons, scores, minutes).")
    routes: list[RouteOut]
    unserved: list[UnservedOut]
    violations: list[ViolationOut] = Field(description="Broken rules found by optimizer.tours.verify (empty: "
                                                       "the plan is feasible).")


class ErrorOut(BaseModel):
    """A domain validation error (HTTP 422)."""

    code: str = Field(description="'invalid_input'.")
    message: str
    field: str | None = Field(description="Path of the offending field, e.g. 'groups[2].must_visit'.")

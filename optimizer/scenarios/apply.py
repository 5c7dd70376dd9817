"""How a scenario changes a day: the modified network, the scaled demand, and the tour problem.

``apply(scenario, network, base_groups)`` builds the scenario's ``TourProblem`` from the base
network and the base groups of its demand (both handed in by the caller: this module reads no
data), plus what the change itself leaves unserved (e.g. a must-visit at a closed site).

Semantics, in order: closed roads are removed and speed factors applied to the remaining roads
(``travel_min / factor``, ``speed_kmh * factor``); added sites and their roads join the network;
closed sites get score 0 (not visitable, still a road node, still a start or end); quota changes
are applied; zone edits replace member lists; travel matrices are recomputed with
``optimizer.core.network.shortest_path_matrices``. As in the loader, a site left with no road at
all is attached to its nearest road node by an access leg, so closing *every* road of a site does
not isolate it - close the site instead. A group's must-visit at a closed site is dropped from its
must-visits and reported with reason ``closed``; one outside the group's (edited) zone is dropped
and reported with reason ``zone``. Demand is scaled by replication (``scale_groups``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network, Road, Site, shortest_path_matrices
from optimizer.scenarios.spec import UNCHANGED, Scenario
from optimizer.tours import TourGroup, TourProblem, TourUnserved


@dataclass(frozen=True)
class AppliedScenario:
    """What ``apply`` builds: the problem to solve and the must-visits the change itself removed.

    ``dropped`` holds ``TourUnserved`` entries (reason ``closed`` or ``zone``) for must-visits taken
    out of groups; ``original_must`` maps group id -> its must-visits before the change.
    """

    problem: TourProblem
    dropped: tuple[TourUnserved, ...]
    original_must: Mapping[str, tuple[str, ...]]


def scale_groups(groups: Sequence[TourGroup], scale: float, seed: int) -> tuple[TourGroup, ...]:
    """``floor(scale)`` copies of every group plus a seeded ``round(frac * n)`` subset once more.

    Copy 1 keeps the group's id; copy k >= 2 is ``<id>#k``. Deterministic in ``seed``. Raises
    ``InvalidInput("demand_scale", ...)`` for a negative or non-finite scale.
    """
    if scale < 0 or not math.isfinite(scale):
        raise InvalidInput("demand_scale", scale, "must be a finite number >= 0")
    n = len(groups)
    whole = math.floor(scale + 1e-12)
    extra = round((scale - whole) * n)
    out: list[TourGroup] = []
    for k in range(1, whole + 1):
        out.extend(g if k == 1 else replace(g, id=f"{g.id}#{k}") for g in groups)
    if extra:
        rng = np.random.default_rng(seed)
        pick = sorted(int(i) for i in rng.choice(n, size=min(extra, n), replace=False))
        k = whole + 1
        out.extend(groups[i] if k == 1 else replace(groups[i], id=f"{groups[i].id}#{k}") for i in pick)
    return tuple(out)


def modified_network(s: Scenario, network: Network) -> Network:
    """The base ``network`` with the scenario's road, site, quota and zone changes (see the module docstring)."""
    closed = {frozenset(p) for p in s.closed_roads}
    factors = {frozenset(p): f for p, f in s.road_speed_factor.items()}
    roads: list[Road] = []
    for r in list(network.roads) + [r for a in s.added_sites for r in a.roads]:
        key = frozenset((r.a, r.b))
        if key in closed:
            continue
        if key in factors:
            f = factors[key]
            r = replace(r, speed_kmh=r.speed_kmh * f, travel_min=r.travel_min / f)
        roads.append(r)
    sites: list[Site] = list(network.sites) + [a.site for a in s.added_sites]
    closed_sites = set(s.closed_sites)
    new_sites = []
    for site in sites:
        if site.id in closed_sites:
            site = replace(site, score=0.0)
        q = s.quota_changes.get(site.id)
        if q is not None:
            if q.daily != UNCHANGED:
                site = replace(site, daily_quota=q.daily)
            if q.slot != UNCHANGED:
                site = replace(site, slot_quota=q.slot)
        new_sites.append(site)
    zones = dict(network.zones)
    names = dict(network.zone_names)
    for zid, members in s.zone_edits.items():
        zones[zid] = tuple(members)
        names.setdefault(zid, zid)
    travel, dist = shortest_path_matrices(tuple(new_sites), tuple(roads))
    return Network(sites=tuple(new_sites), roads=tuple(roads), travel_min=travel, distance_km=dist,
                   zones=zones, zone_names=names)


def apply(scenario: Scenario, network: Network, base_groups: Sequence[TourGroup]) -> AppliedScenario:
    """Build the scenario's ``TourProblem`` from the base network and groups; see the module docstring.

    Returns an ``AppliedScenario``: the problem, plus ``TourUnserved`` entries (reason ``closed`` or
    ``zone``) for must-visits the change removed, which the runner adds to the plan's unserved.
    """
    net = modified_network(scenario, network)
    groups = scale_groups(base_groups, scenario.demand_scale, scenario.seed)
    closed = set(scenario.closed_sites)
    dropped: list[TourUnserved] = []
    original: dict[str, tuple[str, ...]] = {}
    out: list[TourGroup] = []
    for g in groups:
        original[g.id] = g.must_visit
        keep = []
        for sid in g.must_visit:
            if sid in closed:
                dropped.append(TourUnserved.of(g.id, sid, "closed", "the site is closed in this scenario"))
            elif g.zone is not None and sid not in net.zones.get(g.zone, ()):
                dropped.append(TourUnserved.of(g.id, sid, "zone", f"outside the group's zone {g.zone} as edited"))
            else:
                keep.append(sid)
        if g.zone is not None and g.zone not in net.zones:
            g = replace(g, zone=None)
        if len(keep) != len(g.must_visit):
            g = replace(g, must_visit=tuple(keep))
        out.append(g)
    problem = TourProblem(network=net, groups=tuple(out), slot_min=scenario.slot_min)
    return AppliedScenario(problem=problem, dropped=tuple(dropped), original_must=original)


__all__ = ["AppliedScenario", "apply", "modified_network", "scale_groups"]

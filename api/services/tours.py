"""Tour-plan use cases shared by the HTTP API, the CLI and the benches.

One place for: the embedded Lhasa network (loaded once per process), the demand reader, planning
a set of groups (problem -> solve -> verify), THE demo-day plan (the embedded peak day,
``instances/lhasa/demand_peak_day.csv``, ILS seed 0), and the ``plan.json`` document with the
groups it was planned for, so that a written plan can be read back and checked on its own
(``load_plan``).

Errors: bad input raises ``InvalidInput`` (``DemandError`` for a demand file) naming the field and
the value; a plan that the independent verifier rejects right after solving is a solver bug and
raises ``RuntimeError``, never a result.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from instances._json import read_json_object
from instances.demand import groups_from_records, groups_to_records, read_demand
from instances.loader import load_lhasa
from instances.paths import DEMAND_PEAK_DAY_CSV
from optimizer.core.clock import fmt_clock
from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network
from optimizer.core.stop import StoppingCriterion
from optimizer.tours import TourGroup, TourPlan, TourProblem, TourViolation, solve, verify
from optimizer.tours.report import plan_from_dict, plan_to_dict, routes_geojson, site_slot_usage, visits_table

DEFAULT_DEMAND = DEMAND_PEAK_DAY_CSV
"""The embedded peak-day demand (320 groups)."""

DEMO_DAY_SEED = 0

OUTPUT_FILES: tuple[str, ...] = ("plan.json", "visits.csv", "site_slot_usage.csv", "routes.geojson")
"""The files ``write_outputs`` writes (``lhasa-ops plan --out DIR``)."""


@lru_cache(maxsize=1)
def lhasa_network() -> Network:
    """The embedded Lhasa network, loaded once per process (``InvalidInput`` for a broken data file)."""
    return load_lhasa()


def read_groups(path: Path | str, network: Network) -> tuple[TourGroup, ...]:
    """Read and validate a demand file (``.csv``, ``.parquet`` or ``.json``) against ``network``.

    Raises ``DemandError`` (an ``InvalidInput``) naming the file, row, field and value.
    """
    return read_demand(path, network)


VERIFY_S_PER_GROUP = 2.5e-4
"""Seconds per group kept back from a time-limited search for the verifier that runs after it
(measured ~0.1 ms per group at 1,000 groups on the 2-core machine under load,
``bench/time_limits.py``), so that a time limit covers the verifier too (issue 14 build 5)."""
MIN_SEARCH_S = 0.01
"""Shortest search a time-limited plan gets when the reserves eat its whole limit (the greedy
construction still runs: it is what the plan is made of)."""


def less_time(stop: StoppingCriterion, seconds: float) -> StoppingCriterion:
    """``stop`` with ``seconds`` taken off its ``max_runtime_s`` (at least ``MIN_SEARCH_S`` left);
    unchanged without a runtime limit. Used to keep time for work before and after a search."""
    if stop.max_runtime_s is None or seconds <= 0:
        return stop
    return dataclasses.replace(stop, max_runtime_s=max(MIN_SEARCH_S, stop.max_runtime_s - seconds))


def _first_violations(violations: list, n: int = 1) -> str:
    return "; ".join(str(v) for v in violations[:n])


def solve_and_verify(problem: TourProblem, stop: StoppingCriterion,
                     seed: int = 0) -> tuple[TourPlan, list[TourViolation]]:
    """Solve ``problem`` and check the plan with the independent verifier: (plan, violations)."""
    plan = solve(problem, stop, seed=seed)
    return plan, verify(problem, plan)


def plan_groups(network: Network, groups: tuple[TourGroup, ...] | list[TourGroup], stop: StoppingCriterion,
                seed: int = 0) -> tuple[TourProblem, TourPlan]:
    """Plan a day of routes for ``groups`` on ``network``; the plan is checked by the verifier.

    A runtime limit in ``stop`` covers the verifier: the search stops ``VERIFY_S_PER_GROUP`` per
    group earlier.

    Raises ``InvalidInput`` for bad groups or seed; ``RuntimeError`` if the verifier rejects the
    solver's plan (a solver bug, never returned as a result).
    """
    problem = TourProblem(network=network, groups=tuple(groups))
    plan, violations = solve_and_verify(problem, less_time(stop, VERIFY_S_PER_GROUP * len(problem.groups)),
                                        seed=seed)
    if violations:
        raise RuntimeError(f"the tour planner returned a plan with {len(violations)} violations, "
                           f"first: {_first_violations(violations)}")
    return problem, plan


_DEMO_CACHE: dict[tuple[Any, ...], tuple[TourProblem, TourPlan]] = {}
_DEMO_LOCK = threading.Lock()
_DEMO_CACHE_SIZE = 16


def demo_day(stop: StoppingCriterion, seed: int = DEMO_DAY_SEED,
             network: Network | None = None) -> tuple[TourProblem, TourPlan]:
    """(TourProblem, TourPlan) of the embedded demo day (peak-day demand) under ``stop``.

    A plan of the embedded network that ran to its iteration or no-improvement limit (not cut by
    the time limit) is cached per (limits, seed), so repeated requests skip the work; with only an
    iteration limit the same seed gives the same plan.
    """
    net = network if network is not None else lhasa_network()
    key = (stop.max_iterations, stop.max_no_improvement, int(seed))
    if network is None:
        hit = _DEMO_CACHE.get(key)
        if hit is not None:
            return hit
    problem, plan = plan_groups(net, read_groups(DEFAULT_DEMAND, net), stop, seed=seed)
    if network is None and plan.stats.stopped_by != "max_runtime_s":
        with _DEMO_LOCK:
            if len(_DEMO_CACHE) >= _DEMO_CACHE_SIZE:
                _DEMO_CACHE.pop(next(iter(_DEMO_CACHE)))
            _DEMO_CACHE[key] = (problem, plan)
    return problem, plan


def plan_document(problem: TourProblem, plan: TourPlan) -> dict[str, Any]:
    """The content of ``plan.json``: ``plan_to_dict`` plus ``groups`` (the demand records the plan
    was made for, ``instances.demand.groups_to_records``), so the file is self-contained."""
    doc = plan_to_dict(problem, plan)
    doc["groups"] = groups_to_records(problem.groups)
    return doc


def load_plan(source: Path | str | Mapping[str, Any], network: Network) -> tuple[TourProblem, TourPlan]:
    """Read a ``plan.json`` (a path, or the parsed document) back into (problem, plan) on ``network``.

    The problem is rebuilt from the document's ``groups``, the plan from its routes
    (``plan_from_dict``), and the plan is verified on ``network``.

    Raises ``InvalidInput`` naming ``plan`` (unreadable file or not a JSON object), ``groups`` (the
    key is missing: a plan written before plans carried their groups; or a bad group), a missing or
    non-numeric plan field, or ``plan`` with ``"<n> violations, first: ..."`` if the plan does not
    hold on this network.
    """
    doc, label = read_json_object(source, "plan", "the plan.json of lhasa-ops plan")
    if "groups" not in doc:
        raise InvalidInput("plan.groups", None, f"{label}: missing key; a plan.json written by lhasa-ops plan "
                                                "carries the groups it was planned for (re-plan with this version)")
    try:
        groups = groups_from_records(doc["groups"], network, source=f"{label}: groups")
    except InvalidInput as e:
        m = re.fullmatch(r"index (\d+)", getattr(e, "where", "") or "")
        field = re.sub(r"^group\[[^\]]*\]\.", "", str(e.field))
        path = f"plan.groups[{m.group(1)}].{field}" if m else "plan.groups"
        raise InvalidInput(path, e.value, f"{label}: {e.message}") from None
    problem = TourProblem(network=network, groups=groups)
    plan = plan_from_dict(doc, where="plan")
    _check_route_sizes(doc, problem)
    violations = verify(problem, plan)
    if violations:
        raise InvalidInput("plan.routes", f"{len(violations)} violations",
                           f"{label}: the plan does not hold on this network; first: {_first_violations(violations)}")
    return problem, plan


def _check_route_sizes(doc: Mapping[str, Any], problem: TourProblem) -> None:
    """A route's ``size`` (written for readers of plan.json) must be its group's size."""
    size = {g.id: g.size for g in problem.groups}
    for i, r in enumerate(doc["routes"]):
        given = r.get("size")
        if given is not None and given != size.get(r["group_id"]):
            raise InvalidInput(f"plan.routes[{i}].size", given,
                               f"group {r['group_id']!r} has {size.get(r['group_id'])} persons in plan.groups")


PRETTY_JSON_MAX_ROUTES = 5_000
"""``plan.json`` is indented for plans of at most this many routes; larger (city-scale) plans are
written compact: Python's indenting JSON encoder is pure Python and took most of the output time
at 20,000 parties (issue 15), the C encoder only writes compact JSON."""


def write_outputs(problem: TourProblem, plan: TourPlan, out_dir: Path | str) -> dict[str, Path]:
    """Write ``plan.json`` (``plan_document``), ``visits.csv``, ``site_slot_usage.csv`` and
    ``routes.geojson`` into ``out_dir`` (created if needed; existing files are replaced).
    ``plan.json`` is indented up to ``PRETTY_JSON_MAX_ROUTES`` routes, compact above.
    Returns file name -> path; ``OSError`` if the folder cannot be written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in OUTPUT_FILES}
    paths["plan.json"].write_text(
        json.dumps(plan_document(problem, plan), ensure_ascii=False, allow_nan=False,
                   indent=2 if len(plan.routes) <= PRETTY_JSON_MAX_ROUTES else None) + "\n",
        encoding="utf-8")
    visits_table(problem, plan).write_csv(paths["visits.csv"])
    site_slot_usage(problem, plan).write_csv(paths["site_slot_usage.csv"])
    geojson = json.dumps(routes_geojson(problem, plan), ensure_ascii=False, allow_nan=False)
    paths["routes.geojson"].write_text(geojson + "\n", encoding="utf-8")
    return paths


def site_rows(network: Network) -> list[dict[str, Any]]:
    """The sites as plain dicts (opening hours as HH:MM, quotas in persons): the sites listing."""
    return [
        {"id": s.id, "name_en": s.name_en, "name_zh": s.name_zh, "lat": s.lat, "lon": s.lon,
         "elevation_m": s.elevation_m, "kind": s.kind, "rating": s.rating, "score": s.score,
         "visit_min": s.visit_min, "open": fmt_clock(s.window[0]), "close": fmt_clock(s.window[1]),
         "daily_quota": s.daily_quota, "slot_quota": s.slot_quota, "coord_conf": s.coord_conf}
        for s in network.sites
    ]


_RESTRICTED: dict[tuple[int, frozenset[str]], tuple[Network, Network]] = {}


def _restricted(network: Network, candidates: frozenset[str]) -> Network:
    key = (id(network), candidates)
    hit = _RESTRICTED.get(key)
    if hit is not None and hit[0] is network:
        return hit[1]
    sites = tuple(s if s.score == 0 or s.id in candidates else dataclasses.replace(s, score=0.0)
                  for s in network.sites)
    out = dataclasses.replace(network, sites=sites)
    if len(_RESTRICTED) >= 32:
        _RESTRICTED.pop(next(iter(_RESTRICTED)))
    _RESTRICTED[key] = (network, out)
    return out


def candidate_network(network: Network, candidates: Sequence[str] | None,
                      records: Sequence[Mapping[str, Any]]) -> Network:
    """``network`` with every scenic site not in ``candidates`` turned into a hub (score 0: never
    visited); ``InvalidInput`` for an unknown or non-scenic candidate, a duplicate, or a must-visit
    that is not a candidate. ``candidates`` None: the network unchanged."""
    if candidates is None:
        return network
    seen: set[str] = set()
    for k, c in enumerate(candidates):
        if not network.has_site(c):
            raise InvalidInput(f"candidate_sites[{k}]", c, "is not a site of the network")
        if network.site(c).score <= 0:
            raise InvalidInput(f"candidate_sites[{k}]", c, "is a hub (score 0), not a scenic site")
        if c in seen:
            raise InvalidInput(f"candidate_sites[{k}]", c, "is listed twice")
        seen.add(c)
    for i, r in enumerate(records):
        for m in r.get("must_visit") or ():
            if m not in seen and network.has_site(m):
                raise InvalidInput(f"groups[{i}].must_visit", m, "is not in candidate_sites")
    return _restricted(network, frozenset(seen))


def plan_records(records: Sequence[Mapping[str, Any]], network: Network, stop: StoppingCriterion, seed: int = 0,
                 candidate_sites: Sequence[str] | None = None,
                 source: str = "request") -> tuple[TourProblem, TourPlan]:
    """Plan group records in the JSON layout of ``instances.demand`` (the HTTP body's ``groups``),
    optionally on the ``candidate_sites`` only. Errors name ``source`` and ``index k``
    (``DemandError``) or the candidate field (``InvalidInput``). A runtime limit in ``stop``
    covers reading the records and the verifier too."""
    t0 = time.perf_counter()
    network = candidate_network(network, candidate_sites, records)
    groups = groups_from_records(list(records), network, source=source)
    return plan_groups(network, groups, less_time(stop, time.perf_counter() - t0), seed=seed)


#: Most parties of a generated city day: 4x the benchmarked 50,000 (750 MiB there, memory grows
#: about linearly: ~3 GiB here); a larger count would be killed for memory on a small machine.
MAX_CITY_PARTIES = 200_000


def city_groups(network: Network, n_parties: int, seed: int = 15) -> tuple[TourGroup, ...]:
    """A seeded city-scale day of ``n_parties`` parties (``instances.city_demand``: independent
    travellers of 1-6 persons and tour groups, ~4 visitors per party). ``InvalidInput`` for a
    count that is not an integer in 1..``MAX_CITY_PARTIES``."""
    from instances.city_demand import generate_city_day

    if isinstance(n_parties, bool) or not isinstance(n_parties, int) or n_parties < 1:
        raise InvalidInput("city", n_parties, "must be an integer >= 1 parties")
    if n_parties > MAX_CITY_PARTIES:
        raise InvalidInput("city", n_parties, f"at most {MAX_CITY_PARTIES:,} parties (memory grows about "
                                              "linearly: ~750 MiB at 50,000)")
    return generate_city_day(network, n_parties=n_parties, seed=seed)


__all__ = [
    "DEFAULT_DEMAND",
    "city_groups",
    "OUTPUT_FILES",
    "candidate_network",
    "less_time",
    "plan_records",
    "site_rows",
    "solve_and_verify",
    "demo_day",
    "lhasa_network",
    "load_plan",
    "plan_document",
    "plan_groups",
    "read_groups",
    "write_outputs",
]

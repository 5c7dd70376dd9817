"""Multi-day itinerary use cases shared by the HTTP API, the CLI and the bench (issue 16).

``plan_itineraries(groups, ...)``: multi-day groups (``GroupRequest`` records; the embedded demo
week by default) + the Lhasa data (``instances.lhasa_itineraries``) -> ``ItineraryProblem``
(``build_lhasa_problem``) -> ``optimizer.itineraries.solve`` -> ``verify`` -> ``ItineraryRun``.
The time limit covers the whole use case: building the problem counts against it.

Reports of a run (calendar dates, HH:MM times; every figure recomputed from the run's problem and
plan, not from the solver):

* ``summary(run)``: groups and persons served, unserved by reason, nights per hotel against rooms,
  entries per day at quota sites (the Potala) against the quota, and the acclimatization check
  (``acclimatization_breaks``: sleeping caps, gain per night, consecutive nights of gain, highest
  altitude by day; all of them are rules of the optimizer too, so this is a re-check against the
  Lhasa rule set as written, which counts the first night against ``arrival_altitude_m``).
* ``to_dict(run)``: the answer of ``POST /v1/itineraries/plan`` and the CLI's ``itineraries.json``.
* ``itinerary_rows``, ``hotel_usage_rows``, ``site_usage_rows``: the CSV tables.
* ``day_geojson(run, day)``: a FeatureCollection of the day's routes (straight legs between places,
  lon/lat) and the places used.

Errors: bad input raises ``InvalidInput`` (``RecordError`` for a file) naming the field and value;
a must-visit no allowed day can reach under the acclimatization rules is ``unserved`` with reason
``acclimatization`` (the optimizer's reasons, ``optimizer.itineraries.solution``).
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instances.demo_week import generate_demo_week
from instances.lhasa_itineraries import (
    AcclimatizationRules,
    GroupRequest,
    ItineraryData,
    LhasaItineraryInstance,
    acclimatization_from_mapping,
    build_lhasa_problem,
    group_request_to_record,
    group_requests_from_records,
    load_itinerary_data,
    read_acclimatization,
    read_group_requests,
    write_group_requests,
)
from optimizer.core.clock import fmt_clock
from optimizer.core.errors import InvalidInput, check_time_limit_s
from optimizer.core.results import Violation
from optimizer.core.stop import StoppingCriterion
from optimizer.core.warmup import KernelWarmUp, kernel_cached
from optimizer.itineraries.problem import ItineraryProblem
from optimizer.itineraries.solution import ItinerarySolution

__all__ = ["ItineraryRun", "acclimatization_breaks", "check_input", "day_geojson", "demo_week",
           "groups_from_records", "hotel_usage_rows", "itinerary_rows", "lhasa_data", "plan_itineraries",
           "read_demand", "rules_from", "site_usage_rows", "summary", "to_dict", "warm_up", "write_demand"]

MIN_SOLVE_S = 0.5
"""The solver gets at least this many seconds after the problem is built."""
VERIFY_RESERVE_S = 2.0
VERIFY_RESERVE_SHARE = 0.05
"""Kept from the search for the verifier: ``min(VERIFY_RESERVE_S, VERIFY_RESERVE_SHARE x limit)``
seconds (the demo week verifies in ~0.2 s), so the whole plan stays within its time limit."""


@functools.lru_cache(maxsize=1)
def _embedded_data() -> ItineraryData:
    return load_itinerary_data()


def lhasa_data(rules: AcclimatizationRules | None = None) -> ItineraryData:
    """The embedded Lhasa multi-day data (loaded once), with ``rules`` in place of the embedded
    acclimatization rule set if given."""
    d = _embedded_data()
    if rules is None:
        return d
    return ItineraryData(network=d.network, hotels=d.hotels, tickets=d.tickets, windows=d.windows,
                         site_types=d.site_types, type_limits=d.type_limits, rules=rules,
                         reach_altitude_m=d.reach_altitude_m)


def rules_from(value: AcclimatizationRules | Mapping[str, Any] | Path | str | None) -> AcclimatizationRules | None:
    """An acclimatization rule set from a TOML path, a mapping (the keys of ``acclimatization.toml``)
    or a rule set; None stays None (the embedded rules)."""
    if value is None or isinstance(value, AcclimatizationRules):
        return value
    if isinstance(value, Mapping):
        return acclimatization_from_mapping(value, "rules")
    return read_acclimatization(value)


def read_demand(path: Path | str) -> tuple[GroupRequest, ...]:
    """A multi-day demand file (CSV or JSON, ``instances.lhasa_itineraries.read_group_requests``)."""
    d = lhasa_data()
    return read_group_requests(path, d.network, frozenset(d.type_limits))


def groups_from_records(records: Sequence[Mapping[str, Any]], source: str = "groups") -> tuple[GroupRequest, ...]:
    """Groups from JSON records (the keys of the demand file); errors name ``source[k]``."""
    d = lhasa_data()
    return group_requests_from_records(records, d.network, frozenset(d.type_limits), source,
                                       [f"index {k}" for k in range(len(records))])


def write_demand(groups: Sequence[GroupRequest], path: Path | str) -> Path:
    """Write groups as a demand file (``.csv`` or ``.json``) that ``read_demand`` reads back."""
    return write_group_requests(groups, path)


def demo_week(n_groups: int = 1500, seed: int = 2026) -> tuple[GroupRequest, ...]:
    """The embedded demo week (``instances.demo_week.generate_demo_week``)."""
    return generate_demo_week(n_groups, seed)


@dataclass(frozen=True)
class ItineraryRun:
    """One planned demand: the instance (problem + calendar), the plan, the verifier's findings
    (empty: valid) and the seconds spent building, solving and verifying."""

    instance: LhasaItineraryInstance
    solution: ItinerarySolution
    violations: tuple[Violation, ...]
    build_s: float
    solve_s: float
    verify_s: float

    @property
    def problem(self):
        return self.instance.problem


def check_input(groups: Sequence[GroupRequest], rules: Any = None, start: dt.date | None = None) -> None:
    """``InvalidInput`` for what ``plan_itineraries`` would refuse before its search (the rules,
    duplicate ids, the horizon: ``build_lhasa_problem``), without compiling or solving; the HTTP
    job form checks with it before queuing."""
    build_lhasa_problem(tuple(groups), lhasa_data(rules_from(rules)), start=start)


def plan_itineraries(groups: Sequence[GroupRequest] | None = None, *, rules: Any = None,
                     start: dt.date | None = None, time_limit_s: float = 60.0, iterations: int | None = None,
                     seed: int = 0, params: Mapping[str, Any] | None = None) -> ItineraryRun:
    """Plan, then verify, multi-day itineraries for ``groups`` (None: the demo week).

    ``rules``: an acclimatization rule set, a TOML path or a mapping (None: the embedded
    ``acclimatization.toml``); ``time_limit_s``: wall-clock seconds for the whole use case (data,
    problem building and search); ``iterations``: a search budget (None: time only); ``seed``:
    same seed, same plan (when iterations, not time, end the search). Raises ``InvalidInput``.
    """
    from optimizer.itineraries.solve import solve
    from optimizer.itineraries.verify import verify

    limit = check_time_limit_s(time_limit_s)
    t0 = time.perf_counter()
    if iterations is not None and (isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0):
        raise InvalidInput("iterations", iterations, "must be an integer >= 0 (null: time only)")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInput("seed", seed, "must be an integer >= 0")
    gs = demo_week() if groups is None else tuple(groups)
    data = lhasa_data(rules_from(rules))
    inst = build_lhasa_problem(gs, data, start=start)  # bad input fails here, before any compile wait
    t1 = time.perf_counter()
    warm_up()  # one-off JIT compilation per process, outside the time limit (like the other families)
    t0 += time.perf_counter() - t1
    t1 = time.perf_counter()
    left = max(MIN_SOLVE_S, limit - (t1 - t0) - min(VERIFY_RESERVE_S, VERIFY_RESERVE_SHARE * limit))
    stop = StoppingCriterion(max_runtime_s=left, max_iterations=iterations)
    sol = solve(inst.problem, stop, seed=seed, params=dict(params) if params else None)
    t2 = time.perf_counter()
    viol = tuple(verify(inst.problem, sol))
    t3 = time.perf_counter()
    return ItineraryRun(inst, sol, viol, t1 - t0, t2 - t1, t3 - t2)


# --------------------------------------------------------------------------------------------- reports

def _served(run: ItineraryRun) -> tuple[set[str], set[str]]:
    """(groups with an itinerary, groups with an itinerary and every must-visit)."""
    planned = {it.group_id for it in run.solution.itineraries}
    missing = {u.item_id.split("/")[0] for u in run.solution.unserved}
    return planned, planned - missing


def acclimatization_breaks(run: ItineraryRun) -> list[str]:
    """Every break of the Lhasa acclimatization rules (``ItineraryData.rules``) by the plan,
    recomputed from hotel elevations and the sites' unavoidable altitudes: sleeping cap and gain per
    night, consecutive nights of gain (WMS rest day), highest altitude by day since arrival."""
    inst, rules = run.instance, run.instance.data.rules
    p = inst.problem
    hotel_elev = {h.id: h.elevation_m for h in p.hotels}
    site_alt = {s.id: s.elevation_m for s in p.sites}
    groups = {g.id: g for g in p.groups}
    out: list[str] = []
    for it in run.solution.itineraries:
        g = groups[it.group_id]
        out += [f"{it.group_id}: {m}" for m in rules.check_sleeping([hotel_elev[h] for h in it.nights])]
        for route in it.days:
            k = route.day - g.arrival_day + 1
            for v in route.visits:
                if site_alt[v.site_id] > rules.max_visit_altitude(k) + 1e-9:
                    out.append(f"{it.group_id}: day {k}: {v.site_id} reaches {site_alt[v.site_id]:.0f} m above the "
                               f"cap {rules.max_visit_altitude(k):.0f} m")
    return out


def hotel_usage_rows(run: ItineraryRun) -> list[dict[str, Any]]:
    """One row per (night, hotel): ``date`` (the night after it), ``hotel``, ``rooms_used``,
    ``rooms`` (per night), ``persons``, ``groups``; nights with no guest are included."""
    p, inst = run.problem, run.instance
    groups = {g.id: g for g in p.groups}
    used: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for it in run.solution.itineraries:
        g = groups[it.group_id]
        for i, h in enumerate(it.nights):
            u = used[(g.arrival_day + i, h)]
            u[0] += g.rooms
            u[1] += g.size
            u[2] += 1
    rows = []
    for night in range(max(p.n_days - 1, 0)):
        for h in p.hotels:
            r, q, n = used.get((night, h.id), (0, 0, 0))
            rows.append({"date": inst.date_of(night).isoformat(), "night": night, "hotel": h.id, "rooms_used": r,
                         "rooms": h.rooms, "persons": q, "groups": n})
    return rows


def site_usage_rows(run: ItineraryRun) -> list[dict[str, Any]]:
    """One row per (day, site visited): ``date``, ``site``, ``persons``, ``groups``, ``daily_quota``
    (None: none) and the busiest entry slot's persons against ``slot_quota``."""
    p, inst = run.problem, run.instance
    groups = {g.id: g for g in p.groups}
    sites = {s.id: s for s in p.sites}
    per_day: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    per_slot: Counter = Counter()
    for it in run.solution.itineraries:
        size = groups[it.group_id].size
        for route in it.days:
            for v in route.visits:
                per_day[(route.day, v.site_id)][0] += size
                per_day[(route.day, v.site_id)][1] += 1
                per_slot[(route.day, v.site_id, int(v.start_min // p.slot_len_min))] += size
    rows = []
    for (day, sid), (q, n) in sorted(per_day.items()):
        s = sites[sid]
        slots = [c for (d, x, _), c in per_slot.items() if d == day and x == sid]
        rows.append({"date": inst.date_of(day).isoformat(), "day": day, "site": sid, "persons": q, "groups": n,
                     "daily_quota": s.daily_quota, "busiest_slot_persons": max(slots) if slots else 0,
                     "slot_quota": s.slot_quota})
    return rows


def itinerary_rows(run: ItineraryRun) -> list[dict[str, Any]]:
    """One row per visit and per night: ``group``, ``date``, ``day`` (since arrival, 1-based),
    ``kind`` (visit | night), ``place``, ``arrive``/``start``/``end`` (HH:MM; blank for a night)."""
    inst = run.instance
    groups = {g.id: g for g in run.problem.groups}
    rows: list[dict[str, Any]] = []
    for it in run.solution.itineraries:
        g = groups[it.group_id]
        for route in it.days:
            k = route.day - g.arrival_day + 1
            date = inst.date_of(route.day).isoformat()
            for v in route.visits:
                rows.append({"group": it.group_id, "date": date, "day": k, "kind": "visit", "place": v.site_id,
                             "arrive": fmt_clock(v.arrival_min), "start": fmt_clock(v.start_min),
                             "end": fmt_clock(v.end_min)})
            night = route.day - g.arrival_day
            if night < len(it.nights):
                rows.append({"group": it.group_id, "date": date, "day": k, "kind": "night", "place": it.nights[night],
                             "arrive": fmt_clock(route.return_min), "start": "", "end": ""})
    return rows


def _itinerary_dict(run: ItineraryRun, it) -> dict[str, Any]:
    inst = run.instance
    g = next(x for x in run.problem.groups if x.id == it.group_id)
    return {
        "group": it.group_id, "size": g.size, "score": round(it.score, 2),
        "nights": [{"date": inst.date_of(g.arrival_day + i).isoformat(), "hotel": h} for i, h in enumerate(it.nights)],
        "days": [{"date": inst.date_of(r.day).isoformat(), "day": r.day - g.arrival_day + 1, "from": r.from_place,
                  "to": r.to_place, "depart": fmt_clock(r.depart_min), "return": fmt_clock(r.return_min),
                  "lunch": None if r.lunch_start_min is None else fmt_clock(r.lunch_start_min),
                  "visits": [{"site": v.site_id, "arrive": fmt_clock(v.arrival_min), "start": fmt_clock(v.start_min),
                              "end": fmt_clock(v.end_min)} for v in r.visits]} for r in it.days],
    }


def summary(run: ItineraryRun) -> dict[str, Any]:
    """The headline figures (``to_dict`` without the itineraries and tables)."""
    p = run.problem
    planned, served = _served(run)
    persons = {g.id: g.size for g in p.groups}
    hotel_rows = hotel_usage_rows(run)
    nights_by_hotel: dict[str, dict[str, Any]] = {}
    for h in p.hotels:
        rs = [r for r in hotel_rows if r["hotel"] == h.id]
        nights_by_hotel[h.id] = {"room_nights": sum(r["rooms_used"] for r in rs),
                                 "peak_rooms": max((r["rooms_used"] for r in rs), default=0), "rooms": h.rooms,
                                 "over": sum(1 for r in rs if h.rooms is not None and r["rooms_used"] > h.rooms)}
    site_rows = site_usage_rows(run)
    quota_sites = [s for s in p.sites if s.daily_quota is not None or s.slot_quota is not None]
    entries = {s.id: [{"date": r["date"], "persons": r["persons"], "daily_quota": s.daily_quota,
                       "busiest_slot_persons": r["busiest_slot_persons"], "slot_quota": s.slot_quota}
                      for r in site_rows if r["site"] == s.id] for s in quota_sites}
    breaks = acclimatization_breaks(run)
    by_reason = Counter(u.reason for u in run.solution.unserved)
    st = run.solution.stats
    return {
        "status": st.status, "groups": len(p.groups), "groups_planned": len(planned), "groups_served": len(served),
        "persons": sum(persons.values()), "persons_served": sum(persons[g] for g in served),
        "days": p.n_days, "start": run.instance.start.isoformat(),
        "end": run.instance.date_of(p.n_days - 1).isoformat(), "score": round(run.solution.score, 2),
        "unserved_by_reason": dict(sorted(by_reason.items())), "hotels": nights_by_hotel, "quota_sites": entries,
        "acclimatization": {"respected": not breaks, "breaks": breaks[:50], "n_breaks": len(breaks),
                            "rules": run.instance.data.rules.to_dict()},
        "violations": [str(v) for v in run.violations], "notes": list(run.instance.notes),
        "runtime_s": {"build": round(run.build_s, 3), "solve": round(run.solve_s, 3), "verify": round(run.verify_s, 3),
                      "total": round(run.build_s + run.solve_s + run.verify_s, 3)},
        "iterations": st.iterations, "seed": st.seed, "stopped_by": st.stopped_by,
    }


def to_dict(run: ItineraryRun, with_groups: bool = False) -> dict[str, Any]:
    """``summary`` plus ``itineraries`` (per group: nights with dates and hotels, days with visits in
    HH:MM), ``unserved`` (item, reason, detail), ``hotel_usage`` and ``site_usage`` rows and, with
    ``with_groups``, the ``groups`` planned (the demand records, so the file can be re-read)."""
    out = summary(run)
    out["itineraries"] = [_itinerary_dict(run, it) for it in run.solution.itineraries]
    out["unserved"] = [{"item": u.item_id, "reason": u.reason, "detail": u.detail} for u in run.solution.unserved]
    out["hotel_usage"] = [r for r in hotel_usage_rows(run) if r["rooms_used"]]
    out["site_usage"] = site_usage_rows(run)
    if with_groups:
        out["groups_planned"] = len(_served(run)[0])
        out["demand"] = [group_request_to_record(g) for g in run.instance.requests.values()]
    return out


def day_geojson(run: ItineraryRun, day: int) -> dict[str, Any]:
    """GeoJSON FeatureCollection of horizon day ``day``: a LineString per group route (straight legs
    between the places, lon/lat degrees; properties group, date, visits) and a Point per place used
    (properties place, kind site|hotel|terminal, persons)."""
    inst, p = run.instance, run.problem
    net = inst.data.network
    sizes = {g.id: g.size for g in p.groups}
    kinds = {s.id: "site" for s in p.sites} | {h.id: "hotel" for h in p.hotels} | {t.id: "terminal" for t in p.terminals}

    def lonlat(place: str) -> list[float]:
        s = net.site(inst.place_site[place])
        return [s.lon, s.lat]

    feats: list[dict[str, Any]] = []
    persons: Counter = Counter()
    for it in run.solution.itineraries:
        for r in it.days:
            if r.day != day:
                continue
            stops = [r.from_place, *(v.site_id for v in r.visits), r.to_place]
            for s in stops:
                persons[s] += sizes[it.group_id]
            coords = [lonlat(s) for s in stops]
            if len(coords) == 1:
                coords = coords * 2
            feats.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
                          "properties": {"group": it.group_id, "date": inst.date_of(day).isoformat(),
                                         "visits": [v.site_id for v in r.visits], "persons": sizes[it.group_id]}})
    for place, q in sorted(persons.items()):
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": lonlat(place)},
                      "properties": {"place": place, "kind": kinds.get(place, "place"), "persons": q}})
    return {"type": "FeatureCollection", "properties": {"date": inst.date_of(day).isoformat(), "day": day},
            "features": feats}


# --------------------------------------------------------------------------------------------- plots

def plot_hotel_calendar(run: ItineraryRun, ax) -> None:
    """Draw on ``ax`` a calendar heatmap: hotels (rows) x nights (columns), the share of the
    night's rooms in use (0..1; a hotel without a room limit shows rooms used / peak), with the
    rooms used written in each cell. Writes nothing."""
    import numpy as np

    p, inst = run.problem, run.instance
    rows = hotel_usage_rows(run)
    nights = max(p.n_days - 1, 1)
    used = np.zeros((len(p.hotels), nights))
    idx = {h.id: i for i, h in enumerate(p.hotels)}
    for r in rows:
        used[idx[r["hotel"]], r["night"]] = r["rooms_used"]
    cap = np.array([[h.rooms if h.rooms else max(1.0, used[i].max()) for _ in range(nights)]
                    for i, h in enumerate(p.hotels)], dtype=float)
    share = np.divide(used, cap, out=np.zeros_like(used), where=cap > 0)
    im = ax.imshow(share, aspect="auto", cmap="YlOrRd", vmin=0.0, vmax=1.0)
    ax.set_yticks(range(len(p.hotels)), [h.id for h in p.hotels], fontsize=7)
    ax.set_xticks(range(nights), [inst.date_of(k).strftime("%m-%d") for k in range(nights)], fontsize=7, rotation=45)
    for i in range(len(p.hotels)):
        for k in range(nights):
            if used[i, k]:
                ax.text(k, i, f"{int(used[i, k])}", ha="center", va="center", fontsize=5)
    ax.set_title("Rooms used / rooms per night (night after the date)")
    ax.figure.colorbar(im, ax=ax, fraction=0.025, pad=0.01)


def plot_quota_calendar(run: ItineraryRun, ax, site_id: str = "potala") -> None:
    """Draw on ``ax`` the persons entering ``site_id`` per day (bars) against its daily quota (line).
    Writes nothing."""
    p, inst = run.problem, run.instance
    site = next((s for s in p.sites if s.id == site_id), None)
    per_day = Counter()
    for r in site_usage_rows(run):
        if r["site"] == site_id:
            per_day[r["day"]] = r["persons"]
    days = list(range(p.n_days))
    ax.bar(days, [per_day[d] for d in days], color="tab:blue", label=f"{site_id} entries")
    if site is not None and site.daily_quota is not None:
        ax.axhline(site.daily_quota, color="tab:red", linestyle="--", label=f"daily quota {site.daily_quota:,}")
    ax.set_xticks(days, [inst.date_of(d).strftime("%m-%d") for d in days], fontsize=7, rotation=45)
    ax.set_ylabel("persons")
    ax.set_title(f"{site_id}: entries per day")
    ax.legend(fontsize=7, loc="upper right")


# --------------------------------------------------------------------------------------------- warm-up

def warm_up_problem() -> ItineraryProblem:
    """The warm-up's problem: one group, two days (arrives and leaves by Gonggar airport, must visit the Potala)."""
    day = dt.date(2026, 7, 6)
    g = GroupRequest("warm", 2, day, day + dt.timedelta(days=1), arrival_min=600.0, departure_min=900.0,
                     arrive_at="gonggar_airport", depart_from="gonggar_airport", must_visit=("potala",))
    return build_lhasa_problem([g], lhasa_data()).problem


def _compile_kernels() -> None:
    """A one-group, two-day plan (``warm_up_problem``): compiles (or loads from Numba's disk cache) the
    itinerary kernels."""
    from optimizer.itineraries.solve import solve

    solve(warm_up_problem(), StoppingCriterion(max_iterations=2), seed=0)


def _kernels_cached() -> bool:
    """Whether the itinerary ILS kernel's Numba cache index is on disk and newer than its source."""
    from optimizer.itineraries import kernels

    return kernel_cached(kernels.__file__, "ils_iterations")


KERNELS = KernelWarmUp("itineraries", _compile_kernels, workers="api.services.itineraries_compile_plan",
                       cached=_kernels_cached)
"""The itinerary kernels' warm-up; a cold start may compile them in worker processes
(``api.services.itineraries_compile_plan``)."""


def warm_up() -> float:
    """Compile (or load from Numba's disk cache) the itinerary kernels once per process, so that a
    plan's time limit applies to its own work (``optimizer.core.warmup``: callers at the same time
    wait for the one compiling). Returns the seconds this call waited (0 when already warm)."""
    return KERNELS.ensure()

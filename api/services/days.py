"""Day-of operations use cases (issue 17), shared by ``api.http.routes.days`` and
``api.cli.days``: create a day plan, book and cancel groups against it, apply disruptions, read
versions, and replay a log of bookings and events.

``DayService`` keeps each date's live state (``optimizer.days.DayState`` plus its slot ledger)
in memory for speed; the store (``api.services.day_store``) is the source of truth. Every change
runs under the date's lock (one writer per date in this process) inside a store transaction that
holds the date's row (one writer per date across processes); if the stored version is not the
one in memory (another server wrote), the day is reloaded first. A change is applied in memory
only after its version has been committed, so a failed or refused change leaves the stored and
the in-memory plan as they were.

Every version made by an event is checked by the independent verifier (``optimizer.days.verify``
and ``verify_transition``) before it is stored; a violation is a solver bug and raises
``RuntimeError``. A booking is planned against the ledger, which cannot oversell a slot; the
replay and the tests check every booking version with the full verifier.

Errors: ``InvalidInput`` naming the field (bad date, unknown group/site/road, a time before the last
event, a group booked twice); ``DayNotFound`` for a date without a plan; ``DayExists`` for a second
``create``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from api.services.day_store import DayStore, VersionConflict
from api.services.tours import DEFAULT_DEMAND, lhasa_network, read_groups
from instances._csv import read_csv_records
from instances.demand import groups_from_records, groups_to_records
from optimizer.core.clock import fmt_clock, parse_clock
from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network
from optimizer.core.stop import StoppingCriterion
from optimizer.days import (
    DayEvent,
    DayState,
    apply_event,
    book,
    cancel_booking,
    commit_booking,
    create_day,
    day_kpis,
    ledger,
    verify_state,
    verify_transition,
)
from optimizer.days.report import (
    alternative_to_dict,
    change_to_dict,
    day_route_dict,
    event_to_dict,
    group_from_dict,
    group_to_dict,
    segment_from_dict,
    segment_to_dict,
    state_from_dict,
    state_to_dict,
    state_dict,
    unserved_to_dict,
)
from optimizer.tours.problem import TourProblem
from optimizer.tours.solution import TourUnserved
from optimizer.tours.solve import solve as tours_solve

DEFAULT_EVENT_TIME_LIMIT_S = 5.0
DEFAULT_NO_IMPROVEMENT = 300


class DayNotFound(LookupError):
    """No plan is stored for the date."""


class DayExists(RuntimeError):
    """A plan is already stored for the date (``create`` makes version 1 only)."""


def check_date(value: str) -> str:
    """``value`` as an ISO date ``YYYY-MM-DD``; ``InvalidInput("date", ...)`` otherwise."""
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise InvalidInput("date", value, "expected an ISO date YYYY-MM-DD") from None


def clock_value(value: Any, field: str) -> float:
    """Minutes from midnight of ``HH:MM`` (or a number of minutes)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 0 <= float(value) <= 2880:
            raise InvalidInput(field, value, "must be within 0..2880 minutes from midnight")
        return float(value)
    return parse_clock(str(value), field)


def event_from_record(rec: Mapping[str, Any]) -> DayEvent:
    """A ``DayEvent`` from a request/CSV record: ``kind``, ``at`` (HH:MM), ``site_id``, ``road``
    (two site ids, a list or ``a;b``), ``quota``, ``group_id``, ``delay_min``."""
    road = rec.get("road")
    if isinstance(road, str) and road:
        road = tuple(x.strip() for x in road.split(";"))
    elif road is not None and not isinstance(road, str):
        road = tuple(road)
    else:
        road = None
    quota = rec.get("quota")
    if isinstance(quota, str):
        quota = int(quota) if quota.strip().lstrip("-").isdigit() else (None if not quota.strip() else quota)
    delay = rec.get("delay_min")
    if isinstance(delay, str):
        try:
            delay = float(delay) if delay.strip() else None
        except ValueError:
            raise InvalidInput("event.delay_min", delay, "must be a number of minutes") from None
    return DayEvent(
        kind=str(rec.get("kind") or ""),
        at=clock_value(rec.get("at"), "event.at"),
        site_id=rec.get("site_id") or None,
        road=road,
        quota=quota,
        group_id=rec.get("group_id") or None,
        delay_min=delay,
    )


@dataclass
class _Day:
    state: DayState
    slot_left: np.ndarray
    day_left: np.ndarray


class DayService:
    """The use cases over one store (module docstring)."""

    def __init__(self, store: DayStore | None = None, network: Network | None = None) -> None:
        self.store = store if store is not None else DayStore()
        self.network = network if network is not None else lhasa_network()
        self._days: dict[str, _Day] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # ---------------------------------------------------------------- plumbing

    def _lock(self, date: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(date, threading.Lock())

    def _rebuild(self, date: str, conn=None) -> _Day:
        loaded = self.store.load(date, conn)
        if loaded is None:
            raise DayNotFound(date)
        snap, diffs = loaded
        state = state_from_dict(snap, self.network)
        sl, dl = ledger(state)
        day = _Day(state, sl, dl)
        for d in diffs:
            self._apply_diff(day, d)
            day.state.version = d["version"]
        return day

    def _apply_diff(self, day: _Day, d: dict[str, Any]) -> None:
        st = day.state
        if d["op"] == "book":
            for m in d.get("moved", []):
                gid, seg = m["group_id"], segment_from_dict(m["segment"])
                size = st.groups[gid].size
                old = st.live(gid)
                for v in old.route.visits if old is not None and old.route is not None else ():
                    j = st.base.index(v.site_id)
                    day.slot_left[j, int(np.floor(v.start / st.slot_min + 1e-9))] += size
                    day.day_left[j] += size
                st.segments[gid] = st.segments[gid][:-1] + [seg]
                st.unserved[gid] = [
                    TourUnserved.of(u["group_id"], u["site_id"], u["reason"], u["detail"])
                    for u in m.get("unserved", [])
                ]
                for v in seg.route.visits if seg.route is not None else ():
                    j = st.base.index(v.site_id)
                    day.slot_left[j, int(np.floor(v.start / st.slot_min + 1e-9))] -= size
                    day.day_left[j] -= size
            g = group_from_dict(d["group"])
            st.groups[g.id] = g
            seg = segment_from_dict(d["segment"])
            st.segments[g.id] = [seg]
            if d.get("wanted"):
                st.pinned[g.id] = {s: float(t) for s, t in d["wanted"].items()}
            st.unserved[g.id] = [
                TourUnserved.of(u["group_id"], u["site_id"], u["reason"], u["detail"])
                for u in d.get("unserved", [])
            ]
            for v in seg.route.visits if seg.route is not None else ():
                j = st.base.index(v.site_id)
                day.slot_left[j, int(np.floor(v.start / st.slot_min + 1e-9))] -= g.size
                day.day_left[j] -= g.size
        elif d["op"] == "cancel":
            cancel_booking(st, d["group_id"], day.slot_left, day.day_left)
        else:
            raise RuntimeError(f"unknown diff op {d['op']!r} in the day store")

    def _day(self, date: str, conn, stored: int | None) -> _Day:
        """The in-memory day, reloaded if the store is ahead (another server wrote)."""
        if stored is None:
            raise DayNotFound(date)
        day = self._days.get(date)
        if day is None or day.state.version != stored:
            day = self._rebuild(date, conn)
            self._days[date] = day
        return day

    # ---------------------------------------------------------------- use cases

    def create(
        self,
        date: str,
        records: Sequence[Mapping[str, Any]],
        stop: StoppingCriterion,
        seed: int = 0,
        source: str = "request",
    ) -> dict[str, Any]:
        """Plan the groups at once and store version 1; ``DayExists`` if the date has a plan."""
        date = check_date(date)
        groups = groups_from_records(list(records), self.network, source=source)
        return self.create_groups(date, groups, stop, seed)

    def create_groups(self, date: str, groups, stop: StoppingCriterion, seed: int = 0) -> dict[str, Any]:
        date = check_date(date)
        with self._lock(date):
            if self.store.current_version(date) is not None:
                raise DayExists(date)
            state, stats = create_day(date, self.network, tuple(groups), stop, seed=seed)
            violations = verify_state(state)
            if violations:
                raise RuntimeError(f"day plan with {len(violations)} violations, first: {violations[0]}")
            kpis = day_kpis(state)
            with self.store.write(date) as (conn, stored):
                if stored is not None:
                    raise DayExists(date)
                try:
                    self.store.add_version(
                        conn,
                        date,
                        1,
                        "first plan",
                        "create",
                        {"op": "create", "groups": len(groups)},
                        kpis,
                        state_to_dict(state),
                    )
                except VersionConflict:
                    raise DayExists(date) from None
            sl, dl = ledger(state)
            self._days[date] = _Day(state, sl, dl)
        return {
            "date": date,
            "version": 1,
            "reason": "first plan",
            "kpis": kpis,
            "violations": [],
            "solve": {
                "runtime_s": stats.runtime_s,
                "iterations": stats.iterations,
                "stopped_by": stats.stopped_by,
            },
        }

    def current(self, date: str, groups: bool = True) -> dict[str, Any]:
        """The current version with its KPIs (``optimizer.days.report.state_dict``)."""
        date = check_date(date)
        with self._lock(date):
            stored = self.store.current_version(date)
            day = self._day(date, None, stored)
            return state_dict(day.state, groups=groups)

    def state(self, date: str) -> DayState:
        """The current state (a copy) of ``date``."""
        date = check_date(date)
        with self._lock(date):
            day = self._day(date, None, self.store.current_version(date))
            return day.state.copy()

    def version(self, date: str, version: int) -> dict[str, Any]:
        date = check_date(date)
        out = self.store.version(date, int(version))
        if out is None:
            raise DayNotFound(f"{date} version {version}")
        return out

    def book(
        self,
        date: str,
        record: Mapping[str, Any],
        at: Any = None,
        wanted_slots: Mapping[str, Any] | None = None,
        alternatives: int = 3,
        seed: int = 0,
        group=None,
        allow_moves: bool = False,
    ) -> tuple[str, dict[str, Any]]:
        """Book one group (``record`` in the demand JSON layout). Returns (status, answer):
        ``booked`` with the new version and the route (and ``moved``: the confirmed groups moved to
        make room, only with ``allow_moves``); ``full`` with the alternatives; or ``unservable``
        with the reasons. The plan changes only for ``booked``."""
        date = check_date(date)
        if group is None:
            group = groups_from_records([dict(record)], self.network, source="group")[0]
        at_min = clock_value(at, "at") if at is not None else None
        wanted = {s: clock_value(t, f"wanted_slots.{s}") for s, t in (wanted_slots or {}).items()}
        with self._lock(date):
            with self.store.write(date) as (conn, stored):
                day = self._day(date, conn, stored)
                res = book(
                    day.state,
                    group,
                    day.slot_left,
                    day.day_left,
                    at=at_min,
                    wanted_slots=wanted,
                    k=alternatives,
                    seed=seed,
                    allow_moves=allow_moves,
                )
                if res.status != "booked":
                    return res.status, {
                        "status": res.status,
                        "date": date,
                        "version": day.state.version,
                        "group_id": group.id,
                        "unserved": [unserved_to_dict(u) for u in res.unserved],
                        "alternatives": [alternative_to_dict(a) for a in res.alternatives],
                    }
                version = day.state.version + 1
                moved = [
                    {
                        "group_id": g,
                        "segment": segment_to_dict(seg),
                        "unserved": [unserved_to_dict(u) for u in us],
                    }
                    for g, seg, us in res.moved
                ]
                before = {
                    g: [(v.site_id, v.start) for v in day.state.live(g).route.visits] for g, _, _ in res.moved
                }
                diff = {
                    "op": "book",
                    "group": group_to_dict(group),
                    "segment": segment_to_dict(res.segment),
                    "unserved": [unserved_to_dict(u) for u in res.unserved],
                    "moved": moved,
                    "wanted": dict(res.wanted),
                }
                self.store.add_version(conn, date, version, f"booking {group.id}", "booking", diff, {}, None)
            commit_booking(day.state, res, day.slot_left, day.day_left)
            day.state.version = version
            return "booked", {
                "status": "booked",
                "date": date,
                "version": version,
                "group_id": group.id,
                "route": day_route_dict(res.segment.route),
                "moved": [
                    {
                        "group_id": g,
                        "before": [{"site_id": x, "start_hhmm": fmt_clock(t)} for x, t in before[g]],
                        "after": day_route_dict(seg.route),
                    }
                    for g, seg, _ in res.moved
                ],
            }

    def cancel(self, date: str, group_id: str) -> dict[str, Any]:
        """Cancel a booking and free its slots (``optimizer.days.cancel_booking``)."""
        date = check_date(date)
        with self._lock(date):
            with self.store.write(date) as (conn, stored):
                day = self._day(date, conn, stored)
                trial = day.state.copy()
                outcome = cancel_booking(trial, group_id, day.slot_left.copy(), day.day_left.copy())
                version = day.state.version + 1
                self.store.add_version(
                    conn,
                    date,
                    version,
                    f"cancel {group_id}",
                    "cancel",
                    {"op": "cancel", "group_id": group_id},
                    {},
                    None,
                )
            cancel_booking(day.state, group_id, day.slot_left, day.day_left)
            day.state.version = version
            return {"date": date, "version": version, "group_id": group_id, "outcome": outcome}

    def event(
        self,
        date: str,
        record: Mapping[str, Any] | DayEvent,
        time_limit_s: float = DEFAULT_EVENT_TIME_LIMIT_S,
        iterations: int | None = None,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Apply a disruption and re-plan (``optimizer.days.apply_event``); the new version is
        verified (and its fixed prefix checked against the previous one) before it is stored."""
        date = check_date(date)
        ev = record if isinstance(record, DayEvent) else event_from_record(record)
        stop = StoppingCriterion(
            max_runtime_s=time_limit_s, max_iterations=iterations, max_no_improvement=DEFAULT_NO_IMPROVEMENT
        )
        with self._lock(date):
            with self.store.write(date) as (conn, stored):
                day = self._day(date, conn, stored)
                rep = apply_event(day.state, ev, stop, seed=seed)
                violations = verify_state(rep.state) + verify_transition(day.state, rep.state)
                if violations:
                    raise RuntimeError(f"re-plan with {len(violations)} violations, first: {violations[0]}")
                kpis = day_kpis(rep.state)
                changes = [change_to_dict(c) for c in rep.changes]
                diff = {
                    "op": "event",
                    "event": event_to_dict(ev),
                    "changed": changes,
                    "replanned": list(rep.replanned),
                }
                self.store.add_version(
                    conn,
                    date,
                    rep.state.version,
                    f"{ev.kind} at {fmt_clock(ev.at)}",
                    "event",
                    diff,
                    kpis,
                    state_to_dict(rep.state),
                )
            sl, dl = ledger(rep.state)
            self._days[date] = _Day(rep.state, sl, dl)
            lost = [{"group_id": c["group_id"], **x} for c in changes for x in c["lost"]]
            return {
                "date": date,
                "version": rep.state.version,
                "event": event_to_dict(ev),
                "kpis": kpis,
                "groups_changed": len(changes),
                "changed": changes,
                "lost_visits": lost,
                "replanned": list(rep.replanned),
                "violations": [],
                "solve": {
                    "runtime_s": rep.stats.runtime_s,
                    "iterations": rep.stats.iterations,
                    "stopped_by": rep.stats.stopped_by,
                },
            }


# -------------------------------------------------------------------------------- replay

LOG_COLUMNS = ("seq", "at", "kind", "group_id", "site_id", "road", "quota", "delay_min", "group")
"""Columns of a day log (CSV): ``kind`` is ``booking`` (``group``: the group record as JSON in the
demand layout), ``cancel`` (``group_id``) or an event kind (``optimizer.days.EVENT_KINDS``);
``at`` HH:MM (empty for a booking made before the day)."""


def demo_log(path: Path | str, seed: int = 0, network: Network | None = None) -> Path:
    """Write the demo day's log: its 320 groups as bookings in a seeded random order before the day,
    then a quota cut at the Potala (10:00, 400 per slot), a road closure (11:00, Lhasa railway
    station - Liuwu, a detour exists) and a late coach (12:00, the first group still on the road,
    45 min)."""
    net = network if network is not None else lhasa_network()
    groups = list(read_groups(DEFAULT_DEMAND, net))
    order = list(range(len(groups)))
    random.Random(seed).shuffle(order)
    rows = []
    for k, i in enumerate(order):
        rec = groups_to_records([groups[i]])[0]
        rows.append(
            {
                "seq": k + 1,
                "at": "",
                "kind": "booking",
                "group_id": groups[i].id,
                "group": json.dumps(rec, ensure_ascii=False),
            }
        )
    rows.append({"seq": len(rows) + 1, "at": "10:00", "kind": "quota_cut", "site_id": "potala", "quota": 400})
    rows.append({"seq": len(rows) + 1, "at": "11:00", "kind": "road_closed", "road": _demo_road(net)})
    rows.append(
        {
            "seq": len(rows) + 1,
            "at": "12:00",
            "kind": "group_delayed",
            "group_id": groups[order[0]].id,
            "delay_min": 45,
        }
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=LOG_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in LOG_COLUMNS})
    return out


def _demo_road(net: Network) -> str:
    """The demo's closed road: the first road whose closure keeps every site reachable."""
    from optimizer.days.state import network_after

    for r in net.roads:
        n2 = network_after(net, [DayEvent("road_closed", 0.0, road=(r.a, r.b))])
        ends_kept = all(sum(1 for x in net.roads if e in (x.a, x.b)) > 1 for e in (r.a, r.b))
        if ends_kept and np.isfinite(n2.travel_min).all() and "potala" not in (r.a, r.b):
            return f"{r.a};{r.b}"
    r = net.roads[0]
    return f"{r.a};{r.b}"


def read_log(path: Path | str) -> list[dict[str, str]]:
    """Rows of a day log (cells stripped; blank lines skipped). ``InvalidInput`` naming the file and
    the line for a file that is not UTF-8, a missing ``at``/``kind`` column, a column not in
    ``LOG_COLUMNS`` (a misspelt ``site`` was ignored) or a row with more or fewer cells than the
    header (extra cells were dropped); ``instances._csv.read_csv_records``."""
    _, records = read_csv_records(path, required=("at", "kind"), known=LOG_COLUMNS, comment="")
    return [dict(r.values) for r in records]


@dataclass
class ReplayReport:
    versions: int
    bookings: int
    booked: int
    refused: int
    events: list[dict[str, Any]]
    violations: int
    online_score: float
    online_score_before_events: float
    offline_score: float
    offline_groups_served: int
    online_groups_served_before_events: int
    kpis: dict[str, float]
    booking_ms_p50: float
    booking_ms_p95: float
    seconds: float

    @property
    def ratio(self) -> float:
        """Online score (all bookings, before any disruption) / offline score (every group that asked
        to book, planned at once)."""
        return self.online_score_before_events / self.offline_score if self.offline_score else 1.0


def replay(
    path: Path | str,
    date: str = "2026-08-01",
    store: DayStore | None = None,
    time_limit_s: float = DEFAULT_EVENT_TIME_LIMIT_S,
    iterations: int | None = None,
    offline_iterations: int = 5000,
    seed: int = 0,
    network: Network | None = None,
    progress=None,
) -> ReplayReport:
    """Replay a day log through ``DayService`` (an empty day, then every row in order), check every
    version with the verifier, and plan the booked groups at once (``optimizer.tours.solve``,
    ``offline_iterations``) for the price of first come, first served.

    Raises ``InvalidInput`` naming the row for a bad row (unknown group, time before the last event,
    unknown road, ...)."""
    rows = read_log(path)
    svc = DayService(store=store if store is not None else DayStore.scratch(), network=network)
    t0 = time.perf_counter()
    svc.create_groups(date, (), StoppingCriterion(max_iterations=1), seed=seed)
    prev = svc.state(date)
    booked_groups = []
    asked = []
    lat = []
    n_book = n_ok = n_bad = 0
    events = []
    before_events = None
    violations = 0
    for i, row in enumerate(rows, start=2):
        kind = (row.get("kind") or "").strip()
        try:
            if kind == "booking":
                rec = json.loads(row.get("group") or "{}")
                asked.append(rec)
                n_book += 1
                tb = time.perf_counter()
                status, _ = svc.book(date, rec, at=(row.get("at") or None), seed=seed)
                lat.append(time.perf_counter() - tb)
                if status == "booked":
                    n_ok += 1
                    booked_groups.append(rec)
                else:
                    n_bad += 1
            elif kind == "cancel":
                svc.cancel(date, row.get("group_id") or "")
            else:
                if before_events is None:
                    k0 = day_kpis(svc.state(date))
                    before_events, served_before = k0["total_score"], int(k0["groups_served"])
                ans = svc.event(date, row, time_limit_s=time_limit_s, iterations=iterations, seed=seed)
                events.append(
                    {
                        "row": i,
                        "kind": kind,
                        "at": row.get("at"),
                        "groups_changed": ans["groups_changed"],
                        "replanned": len(ans["replanned"]),
                        "lost_visits": len(ans["lost_visits"]),
                        "runtime_s": ans["solve"]["runtime_s"],
                        "total_score": ans["kpis"]["total_score"],
                    }
                )
        except json.JSONDecodeError as e:
            raise InvalidInput(f"log row {i}.group", row.get("group"), f"not JSON: {e.msg}") from None
        except InvalidInput as e:
            raise InvalidInput(f"log row {i}.{e.field}", e.value, e.message) from None
        cur = svc.state(date)
        v = verify_state(cur) + verify_transition(prev, cur)
        violations += len(v)
        if progress is not None:
            progress(i, kind, len(v))
        prev = cur
    final = svc.state(date)
    if before_events is None:
        k0 = day_kpis(final)
        before_events, served_before = k0["total_score"], int(k0["groups_served"])
    groups = groups_from_records(asked, svc.network, source="log") if asked else ()
    offline, offline_served = 0.0, 0
    if groups:
        problem = TourProblem(network=svc.network, groups=tuple(groups))
        plan = tours_solve(problem, StoppingCriterion(max_iterations=offline_iterations), seed=seed)
        offline, offline_served = plan.stats.objective, int(plan.kpis["groups_served"])
    lat_ms = np.array(lat) * 1000 if lat else np.zeros(1)
    return ReplayReport(
        versions=final.version,
        bookings=n_book,
        booked=n_ok,
        refused=n_bad,
        events=events,
        violations=violations,
        online_score=day_kpis(final)["total_score"],
        online_score_before_events=before_events,
        offline_score=float(offline or 0.0),
        offline_groups_served=offline_served,
        online_groups_served_before_events=served_before,
        kpis=day_kpis(final),
        booking_ms_p50=float(np.percentile(lat_ms, 50)),
        booking_ms_p95=float(np.percentile(lat_ms, 95)),
        seconds=time.perf_counter() - t0,
    )

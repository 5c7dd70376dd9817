"""Live day plans (issue 17): bookings never move confirmed groups and never oversell, refused
bookings get alternatives that do book, every event gives a verifier-clean version whose past did
not move, bad events are refused, and the day verifier catches broken versions."""

from __future__ import annotations

import dataclasses

import pytest

from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion
from optimizer.days import (
    DayEvent,
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
from optimizer.days.state import group_visits
from optimizer.tours.problem import Location, TourGroup
from optimizer.tours.solution import Route, Visit

STOP = StoppingCriterion(max_iterations=300)
EVENT_STOP = StoppingCriterion(max_iterations=200, max_no_improvement=100)


def group(gid: str, size: int = 30, must=("potala",), window=(480.0, 1140.0)) -> TourGroup:
    return TourGroup(
        id=gid,
        size=size,
        start=Location("lhasa_railway"),
        end=Location("lhasa_railway"),
        day_window=window,
        must_visit=tuple(must),
    )


@pytest.fixture(scope="module")
def day(lhasa_network, demo_groups):
    """The first 60 demo groups planned at once, then 40 more booked one by one."""
    state, _ = create_day("2026-08-01", lhasa_network, tuple(demo_groups[:60]), STOP)
    sl, dl = ledger(state)
    for g in demo_groups[60:100]:
        res = book(state, g, sl, dl)
        if res.status == "booked":
            commit_booking(state, res, sl, dl)
    return state


def _days(state):
    return {gid: tuple((v.site_id, v.start) for v in group_visits(state, gid)) for gid in state.groups}


def test_first_plan_and_bookings_are_verifier_clean(day):
    assert verify_state(day) == []
    k = day_kpis(day)
    assert k["groups"] >= 60 and k["groups_served"] > 0 and k["total_score"] > 0


def test_a_booking_moves_nobody_and_keeps_the_ledger_exact(day, lhasa_network):
    state = day.copy()
    sl, dl = ledger(state)
    before = _days(state)
    res = book(state, group("NEW1", must=("jokhang",)), sl, dl)
    assert res.status == "booked"
    commit_booking(state, res, sl, dl)
    after = _days(state)
    assert {g: after[g] for g in before} == before  # nobody else moved
    assert verify_state(state) == []
    sl2, dl2 = ledger(state)  # recomputed from scratch equals the incrementally kept ledger
    assert (sl2 == sl).all() and (dl2 == dl).all()


def test_a_full_slot_answers_alternatives_that_book(lhasa_network):
    state, _ = create_day("2026-08-02", lhasa_network, (), STOP)
    cut = apply_event(state, DayEvent("quota_cut", 0.0, site_id="potala", quota=60), EVENT_STOP).state
    sl, dl = ledger(cut)
    wanted = {"potala": 600.0}
    admitted = 0
    for k in range(4):
        res = book(cut, group(f"W{k}"), sl, dl, wanted_slots=wanted)
        if res.status == "booked":
            commit_booking(cut, res, sl, dl)
            admitted += 1
        else:
            assert res.status == "full"
            assert res.alternatives, "a full slot must come with alternatives"
            assert all(a.score > 0 and a.score_loss >= 0 for a in res.alternatives)
            alt = res.alternatives[0]
            retry = TourGroup(
                id=f"W{k}",
                size=30,
                start=Location("lhasa_railway"),
                end=Location("lhasa_railway"),
                day_window=(480.0, 1140.0),
                must_visit=alt.must_visit,
            )
            again = book(cut, retry, sl, dl, wanted_slots=dict(alt.wanted_slots))
            assert again.status == "booked"
            commit_booking(cut, again, sl, dl)
    assert admitted == 2  # exactly the quota: 2 x 30 persons in the 10:00 slot
    assert verify_state(cut) == []
    in_slot = sum(
        30
        for gid in cut.groups
        for v in group_visits(cut, gid)
        if v.site_id == "potala" and 600 <= v.start < 660
    )
    assert in_slot == 60


def test_unservable_group_is_told_why(lhasa_network):
    state, _ = create_day("2026-08-03", lhasa_network, (), STOP)
    sl, dl = ledger(state)
    res = book(state, group("LATE", window=(1300.0, 1320.0)), sl, dl)
    assert res.status == "unservable" and res.unserved


def test_cancel_frees_the_slots(day):
    state = day.copy()
    sl, dl = ledger(state)
    gid = next(g for g in state.groups if group_visits(state, g))
    cancel_booking(state, gid, sl, dl)
    assert gid not in state.groups
    sl2, dl2 = ledger(state)
    assert (sl2 == sl).all() and (dl2 == dl).all()
    assert verify_state(state) == []


@pytest.mark.parametrize(
    "event",
    [
        DayEvent("site_closed", 660.0, site_id="jokhang"),
        DayEvent("road_closed", 660.0, road=("potala", "jokhang")),
        DayEvent("quota_cut", 600.0, site_id="potala", quota=200),
        DayEvent("group_delayed", 620.0, group_id="G003", delay_min=60),
        DayEvent("group_cancelled", 620.0, group_id="G004"),
    ],
)
def test_every_event_gives_a_clean_version_with_the_past_fixed(day, event):
    rep = apply_event(day, event, EVENT_STOP)
    new = rep.state
    assert verify_state(new) == []
    assert verify_transition(day, new) == []
    assert new.version == day.version + 1 and new.clock == event.at
    old, cur = _days(day), _days(new)
    for gid, visits in old.items():  # visits started before t are unchanged
        assert [v for v in visits if v[1] < event.at] == [v for v in cur[gid] if v[1] < event.at]
    changed = {c.group_id for c in rep.changes}
    assert changed == {g for g in old if old[g] != cur[g]}
    if event.kind == "site_closed":
        assert not any(s == "jokhang" and t >= event.at for vs in cur.values() for s, t in vs)
    if event.kind == "group_cancelled":
        assert "G004" in new.cancelled and new.live("G004") is None
    if event.kind == "group_delayed" and "G003" in changed:
        assert (
            any(
                r == "group_delayed" or r == "replanned"
                for c in rep.changes
                if c.group_id == "G003"
                for _, r in c.lost
            )
            or cur["G003"] != old["G003"]
        )


def test_unaffected_groups_do_not_change(day):
    """A closure of a site nobody visits after t changes nobody (fewest groups changed)."""
    visited_late = {v.site_id for gid in day.groups for v in group_visits(day, gid) if v.start >= 700}
    site = next(s.id for s in day.base.sites if s.is_poi and s.id not in visited_late)
    rep = apply_event(day, DayEvent("site_closed", 700.0, site_id=site), EVENT_STOP)
    assert rep.changes == () and rep.replanned == ()
    assert verify_state(rep.state) == []


@pytest.mark.parametrize(
    "event, field",
    [
        (DayEvent("group_delayed", 700.0, group_id="NOPE", delay_min=5), "event.group_id"),
        (DayEvent("site_closed", 700.0, site_id="atlantis"), "event.site_id"),
        (DayEvent("road_closed", 700.0, road=("potala", "yamdrok")), "event.road"),
    ],
)
def test_bad_events_are_refused_and_change_nothing(day, event, field):
    before = _days(day)
    with pytest.raises(InvalidInput) as e:
        apply_event(day, event, EVENT_STOP)
    assert e.value.field == field
    assert _days(day) == before and day.version == day.version


def test_an_event_before_the_last_one_is_refused(day):
    later = apply_event(day, DayEvent("quota_cut", 720.0, site_id="potala", quota=500), EVENT_STOP).state
    with pytest.raises(InvalidInput) as e:
        apply_event(later, DayEvent("site_closed", 700.0, site_id="jokhang"), EVENT_STOP)
    assert e.value.field == "event.at"
    # trial finding: the message read "event.at=700.0: ... (720 min)" for an event sent as 11:40
    assert str(e.value) == "event.at='11:40': is before the last event of the day at 12:00"


def test_same_seed_same_replan(day):
    ev = DayEvent("quota_cut", 600.0, site_id="potala", quota=200)
    a = apply_event(day, ev, EVENT_STOP, seed=3)
    b = apply_event(day, ev, EVENT_STOP, seed=3)
    assert _days(a.state) == _days(b.state)


# ------------------------------------------------------------------ the verifier catches broken versions


def _first_routed(state):
    return next(
        g
        for g in state.groups
        if state.segments[g][-1].route is not None and len(state.segments[g][-1].route.visits) >= 2
    )


def test_verifier_catches_a_moved_fixed_visit(day):
    rep = apply_event(day, DayEvent("quota_cut", 720.0, site_id="potala", quota=500), EVENT_STOP)
    new = rep.state.copy()
    gid = next(
        g
        for g in new.groups
        if new.segments[g][0].fixed and new.segments[g][0].route and new.segments[g][0].route.visits
    )
    seg = new.segments[gid][0]
    r = seg.route
    v0 = r.visits[0]
    moved = dataclasses.replace(v0, start=v0.start + 1.0, wait=v0.wait + 1.0, departure=v0.departure + 1.0)
    new.segments[gid][0] = dataclasses.replace(
        seg, route=dataclasses.replace(r, visits=(moved,) + r.visits[1:])
    )
    kinds = {v.kind for v in verify_transition(rep.state, new)}
    assert "moved" in kinds


def test_verifier_catches_an_oversold_slot(day):
    state = day.copy()
    gid = _first_routed(state)
    seg = state.segments[gid][-1]
    v = seg.route.visits[0]
    state.events.append(DayEvent("quota_cut", 0.0, site_id=v.site_id, quota=1))
    kinds = {x.kind for x in verify_state(state)}
    assert "slot_quota" in kinds


def test_verifier_catches_a_visit_after_a_closure(day):
    state = day.copy()
    gid = _first_routed(state)
    v = state.segments[gid][-1].route.visits[-1]
    state.events.append(DayEvent("site_closed", v.start - 30.0, site_id=v.site_id))
    kinds = {x.kind for x in verify_state(state)}
    assert "closed" in kinds


def test_verifier_catches_a_broken_chain(day):
    state = day.copy()
    gid = _first_routed(state)
    seg = state.segments[gid][-1]
    state.segments[gid][-1] = dataclasses.replace(seg, must_visit=())
    g = state.groups[gid]
    if g.must_visit:
        assert "chain" in {x.kind for x in verify_state(state)}
    bad_route = Route(
        gid,
        seg.route.depart,
        seg.route.visits[:1] + (Visit("potala", 0, 0, 0, 0),),
        seg.route.arrive_end,
        seg.route.score,
        seg.route.travel_min,
        seg.route.distance_km,
    )
    state.segments[gid][-1] = dataclasses.replace(seg, route=bad_route)
    assert verify_state(state) != []


def test_verifier_catches_a_site_seen_twice_in_a_day(day):
    """Regression: a residual once re-visited a site its fixed prefix had seen (drepung, G001)."""
    rep = apply_event(day, DayEvent("quota_cut", 720.0, site_id="potala", quota=500), EVENT_STOP)
    new = rep.state.copy()
    gid = next(
        g
        for g in new.groups
        if len(new.segments[g]) == 2
        and new.segments[g][0].route
        and new.segments[g][0].route.visits
        and new.segments[g][1].route is not None
    )
    assert verify_state(new) == []
    seen = {v.site_id for v in new.segments[gid][0].route.visits}
    assert not seen & {v.site_id for v in new.segments[gid][1].route.visits}
    first = new.segments[gid][0].route.visits[0]
    live = new.segments[gid][1]
    dup = dataclasses.replace(live.route, visits=live.route.visits + (first,))
    new.segments[gid][1] = dataclasses.replace(live, route=dup)
    assert "duplicate" in {v.kind for v in verify_state(new)}


def test_allow_moves_makes_room_without_unserving_anyone(lhasa_network):
    """The 10:00 Potala slot holds 60 and is full with two flexible groups; a third group that can
    only come at 10:00 is refused as things are, and booked when moves are allowed: a confirmed
    group moves to another slot and keeps its must-visit."""
    state, _ = create_day("2026-08-06", lhasa_network, (), STOP)
    state = apply_event(state, DayEvent("quota_cut", 0.0, site_id="potala", quota=60), EVENT_STOP).state
    sl, dl = ledger(state)
    for k in range(2):  # flexible groups (no wanted slot) that the search puts at 10:00 (the only room)
        for kk in range(48):
            if kk != 10:
                sl[lhasa_network.index("potala"), kk] -= 10**6
        res = book(state, group(f"F{k}"), sl, dl)
        for kk in range(48):
            if kk != 10:
                sl[lhasa_network.index("potala"), kk] += 10**6
        assert res.status == "booked"
        commit_booking(state, res, sl, dl)
    t = float(lhasa_network.travel_min[lhasa_network.index("lhasa_railway"), lhasa_network.index("potala")])
    visit = lhasa_network.site("potala").visit_min
    tight = group("T", window=(601.0 - t, 631.0 + visit + t))  # can only enter the Potala at 10:01..10:31
    assert book(state, tight, sl, dl).status == "full"
    before = _days(state)
    res = book(state, tight, sl, dl, allow_moves=True)
    assert res.status == "booked" and res.moved
    commit_booking(state, res, sl, dl)
    assert verify_state(state) == []
    sl2, dl2 = ledger(state)
    assert (sl2 == sl).all() and (dl2 == dl).all()
    after = _days(state)
    for gid, _, _ in res.moved:
        assert after[gid] != before[gid] and "potala" in {s for s, _ in after[gid]}
    assert {g for g in before if after[g] != before[g]} == {g for g, _, _ in res.moved}


def test_solve_plays_a_log_and_verify_checks_it_is_the_logs_day(lhasa_network, demo_groups):
    """The family contract: ``solve(DayProblem)`` plays bookings, a cancellation and events; the
    verifier accepts it, and rejects a day that dropped a booking or lost an event."""
    from optimizer.days import DayProblem, LogEntry, solve, verify

    log = tuple(LogEntry("booking", group=g) for g in demo_groups[:30]) + (
        LogEntry("cancel", group_id=demo_groups[0].id),
        LogEntry("event", event=DayEvent("quota_cut", 600.0, site_id="potala", quota=300)),
        LogEntry("event", event=DayEvent("site_closed", 700.0, site_id="jokhang")),
    )
    problem = DayProblem(network=lhasa_network, log=log)
    plan = solve(problem, EVENT_STOP, seed=0)
    assert verify(problem, plan) == []
    assert plan.versions[-1].kind == "event" and plan.stats.objective == plan.kpis["total_score"]
    assert demo_groups[0].id not in plan.state.groups
    gone = plan.state.copy()
    victim = next(iter(gone.groups))
    del gone.groups[victim], gone.segments[victim], gone.unserved[victim]
    assert "log" in {v.kind for v in verify(problem, dataclasses.replace(plan, state=gone))}
    fewer = plan.state.copy()
    fewer.events = fewer.events[:1]
    assert "log" in {v.kind for v in verify(problem, dataclasses.replace(plan, state=fewer))}


def test_a_bad_log_entry_names_its_index(lhasa_network):
    from optimizer.days import DayProblem, LogEntry, solve

    log = (LogEntry("event", event=DayEvent("group_cancelled", 600.0, group_id="NOPE")),)
    with pytest.raises(InvalidInput) as e:
        solve(DayProblem(network=lhasa_network, log=log), EVENT_STOP)
    assert e.value.field == "log[0].event.group_id"


def test_a_group_pinned_to_its_wanted_slot_is_never_moved(lhasa_network):
    """Groups booked with a wanted entry slot keep it: a booking that allows moves is refused
    rather than move them (the slot is full of pinned groups)."""
    state, _ = create_day("2026-08-07", lhasa_network, (), STOP)
    state = apply_event(state, DayEvent("quota_cut", 0.0, site_id="potala", quota=60), EVENT_STOP).state
    sl, dl = ledger(state)
    for k in range(2):
        res = book(state, group(f"P{k}"), sl, dl, wanted_slots={"potala": 600.0})
        commit_booking(state, res, sl, dl)
    assert set(state.pinned) == {"P0", "P1"}
    t = float(lhasa_network.travel_min[lhasa_network.index("lhasa_railway"), lhasa_network.index("potala")])
    visit = lhasa_network.site("potala").visit_min
    tight = group("T", window=(601.0 - t, 631.0 + visit + t))
    assert book(state, tight, sl, dl, allow_moves=True).status == "full"

"""The day store and the service over it (issue 17): versions are stored with reasons and diffs,
a day rebuilt from the store equals the one in memory, a second server on the same database sees
the first one's changes, refused changes store nothing, and concurrent bookings of the last free
places of a slot admit exactly the quota (the rest are told "full" with alternatives)."""

from __future__ import annotations

import math
import threading

import pytest

from api.services.day_store import DayStore, VersionConflict, engine_url
from api.services.days import DayExists, DayNotFound, DayService
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion
from optimizer.days import verify_state
from optimizer.days.report import state_to_dict

STOP = StoppingCriterion(max_iterations=200)


def rec(gid: str, size: int = 30, must=("potala",)) -> dict:
    return {
        "group_id": gid,
        "size": size,
        "start": "lhasa_railway",
        "end": "lhasa_railway",
        "day_window": ["08:00", "19:00"],
        "must_visit": list(must),
    }


@pytest.fixture
def db(job_db):
    """The day store's database: a fresh SQLite file, then a fresh PostgreSQL database."""
    return job_db.url


def test_engine_urls():
    assert engine_url("/tmp/x.sqlite") == "sqlite:////tmp/x.sqlite"
    assert engine_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    with pytest.raises(InvalidInput, match="LHASA_OPS_DB"):
        engine_url("sqlite://")  # in memory: nothing another server could share


def test_versions_reasons_and_a_rebuilt_day_equal_the_live_one(db, lhasa_network, demo_groups):
    svc = DayService(DayStore(db), lhasa_network)
    from instances.demand import groups_to_records

    svc.create("2026-08-01", groups_to_records(demo_groups[:20]), STOP)
    status, ans = svc.book("2026-08-01", rec("B1", must=("jokhang",)))
    assert status == "booked" and ans["version"] == 2
    svc.cancel("2026-08-01", "G001")
    ev = svc.event(
        "2026-08-01",
        {"kind": "quota_cut", "at": "10:00", "site_id": "potala", "quota": 300},
        time_limit_s=5,
        iterations=100,
    )
    assert ev["version"] == 4 and ev["violations"] == []
    status, _ = svc.book("2026-08-01", rec("B2", must=("sera",)), at="10:30")
    assert status == "booked"
    v = [svc.version("2026-08-01", k) for k in range(1, 6)]
    assert [x["kind"] for x in v] == ["create", "booking", "cancel", "event", "booking"]
    assert v[3]["reason"] == "quota_cut at 10:00" and "changed" in v[3]["diff"]
    live = svc.state("2026-08-01")
    other = DayService(DayStore(db), lhasa_network)  # a second server: rebuilds from the store
    rebuilt = other.state("2026-08-01")
    assert state_to_dict(rebuilt) == state_to_dict(live)
    assert verify_state(rebuilt) == []


def test_a_second_server_sees_the_first_ones_bookings(db, lhasa_network):
    a = DayService(DayStore(db), lhasa_network)
    b = DayService(DayStore(db), lhasa_network)
    a.create("2026-08-02", [], STOP)
    assert b.book("2026-08-02", rec("X1"))[0] == "booked"
    assert a.book("2026-08-02", rec("X2"))[0] == "booked"  # a reloads (stored version 2 != its 1)
    assert b.book("2026-08-02", rec("X3"))[0] == "booked"
    assert set(a.state("2026-08-02").groups) == {"X1", "X2", "X3"}
    assert a.state("2026-08-02").version == 4


def test_refused_changes_store_nothing(db, lhasa_network):
    svc = DayService(DayStore(db), lhasa_network)
    svc.create("2026-08-03", [rec("A")], STOP)
    with pytest.raises(DayExists):
        svc.create("2026-08-03", [], STOP)
    with pytest.raises(DayNotFound):
        svc.current("2026-09-09")
    bad = [
        ({"kind": "group_delayed", "at": "10:00", "group_id": "NOPE", "delay_min": 10}, "event.group_id"),
        ({"kind": "road_closed", "at": "10:00", "road": ["potala", "nowhere"]}, "event.road"),
        ({"kind": "quota_cut", "at": "25:00", "site_id": "potala", "quota": 1}, "event.at"),
    ]
    for body, field in bad:
        with pytest.raises(InvalidInput) as e:
            svc.event("2026-08-03", body)
        assert e.value.field == field
    svc.event(
        "2026-08-03", {"kind": "quota_cut", "at": "12:00", "site_id": "potala", "quota": 300}, iterations=50
    )
    with pytest.raises(InvalidInput) as e:
        svc.event("2026-08-03", {"kind": "site_closed", "at": "11:00", "site_id": "sera"})
    assert e.value.field == "event.at"
    with pytest.raises(InvalidInput):
        svc.book("2026-08-03", rec("A"))  # booked twice
    with pytest.raises(InvalidInput):
        svc.book("2026-13-40", rec("Z"))
    assert DayStore(db).current_version("2026-08-03") == 2
    assert svc.state("2026-08-03").version == 2


def test_the_store_refuses_a_stale_version(db):
    store = DayStore(db)
    with store.write("d") as (conn, v):
        assert v is None
        store.add_version(conn, "d", 1, "first", "create", {}, {}, {"x": 1})
    with pytest.raises(VersionConflict), store.write("d") as (conn, v):
        store.add_version(conn, "d", 3, "skips 2", "booking", {}, {}, None)
    assert store.current_version("d") == 1


@pytest.mark.parametrize("servers", [1, 2])
def test_eight_clients_booking_the_last_places_of_a_slot(db, lhasa_network, servers):
    """8 concurrent bookings of 30 persons for the Potala's 10:00 slot with 100 places: exactly 3
    are admitted (90 <= 100 < 120), the other 5 are told full, each with alternatives; with two
    servers on one SQLite file as well."""
    svcs = [DayService(DayStore(db), lhasa_network) for _ in range(servers)]
    svcs[0].create("2026-08-04", [], STOP)
    svcs[0].event(
        "2026-08-04", {"kind": "quota_cut", "at": "00:00", "site_id": "potala", "quota": 100}, iterations=10
    )
    answers: list[tuple[str, dict]] = []
    barrier = threading.Barrier(8)

    def client(k: int) -> None:
        barrier.wait()
        answers.append(svcs[k % servers].book("2026-08-04", rec(f"C{k}"), wanted_slots={"potala": "10:00"}))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(s for s, _ in answers)
    assert statuses == ["booked"] * 3 + ["full"] * 5
    assert all(a["alternatives"] for s, a in answers if s == "full")
    state = DayService(DayStore(db), lhasa_network).state("2026-08-04")
    assert verify_state(state) == []
    persons = sum(
        state.groups[g].size
        for g in state.groups
        for seg in state.segments[g]
        if seg.route
        for v in seg.route.visits
        if v.site_id == "potala" and 600 <= v.start < 660
    )
    assert persons == 90
    assert state.version == 2 + 3


def test_a_booking_that_moves_others_is_stored_and_rebuilt(db, lhasa_network):
    svc = DayService(DayStore(db), lhasa_network)
    svc.create("2026-08-06", [], STOP)
    svc.event(
        "2026-08-06", {"kind": "quota_cut", "at": "00:00", "site_id": "potala", "quota": 60}, iterations=10
    )
    t = float(lhasa_network.travel_min[lhasa_network.index("lhasa_railway"), lhasa_network.index("potala")])
    o = math.ceil(601.0 - t)
    for k in range(2):  # flexible groups whose earliest Potala slot is 10:00 (they could come later)
        assert (
            svc.book("2026-08-06", rec(f"F{k}") | {"day_window": [f"{o // 60:02d}:{o % 60:02d}", "19:00"]})[0]
            == "booked"
        )
    assert (
        sum(
            1
            for g in ("F0", "F1")
            for v in svc.state("2026-08-06").segments[g][-1].route.visits
            if v.site_id == "potala" and 600 <= v.start < 660
        )
        == 2
    )
    visit = lhasa_network.site("potala").visit_min
    tight = rec("T") | {"day_window": [601.0 - t, 631.0 + visit + t]}
    tight["day_window"] = [
        f"{int(m) // 60:02d}:{int(m) % 60:02d}" for m in (601.0 - t, 631.0 + visit + t - 1)
    ]
    assert svc.book("2026-08-06", tight)[0] == "full"
    status, ans = svc.book("2026-08-06", tight, allow_moves=True)
    assert status == "booked" and ans["moved"]
    live = svc.state("2026-08-06")
    assert verify_state(live) == []
    rebuilt = DayService(DayStore(db), lhasa_network).state("2026-08-06")
    assert state_to_dict(rebuilt) == state_to_dict(live)

"""Reports of a multi-day plan (``api.services.itineraries``) on a hand-made plan: the tables, the
summary, the acclimatization check and the GeoJSON recompute everything from the problem and the
plan, so a plan that overbooks a hotel or climbs too fast on day 1 is reported as such."""

from __future__ import annotations

import datetime as dt

import pytest

from api.services import itineraries as service
from instances.lhasa_itineraries import GroupRequest, build_lhasa_problem
from optimizer.core.results import SolveStats
from optimizer.itineraries.solution import DayRoute, GroupItinerary, ItinerarySolution, Visit

MON = dt.date(2026, 7, 6)


def _run(itineraries, groups) -> service.ItineraryRun:
    inst = build_lhasa_problem(groups, service.lhasa_data())
    sol = ItinerarySolution(tuple(itineraries), sum(i.score for i in itineraries), (),
                            SolveStats("feasible", 0.0, None, None, 0.0, 0, "iterations", 0))
    return service.ItineraryRun(inst, sol, (), 0.0, 0.0, 0.0)


def _route(day, a, b, visits=()):
    return DayRoute(day, a, b, 480.0, tuple(Visit(s, t, t, t + 60) for s, t in visits), 1100.0)


@pytest.fixture(scope="module")
def two_groups():
    g1 = GroupRequest("A", 6, MON, MON + dt.timedelta(days=2))
    g2 = GroupRequest("B", 3, MON, MON + dt.timedelta(days=2))
    return g1, g2


def test_tables_and_summary_count_rooms_persons_and_entries(two_groups):
    it1 = GroupItinerary("A", ("lhasa_old_mid", "lhasa_old_mid"), (
        _route(0, "gonggar_airport", "lhasa_old_mid"),
        _route(1, "lhasa_old_mid", "lhasa_old_mid", [("potala", 600.0), ("jokhang", 800.0)]),
        _route(2, "lhasa_old_mid", "gonggar_airport", [("potala", 560.0)])), 300.0)
    it2 = GroupItinerary("B", ("lhasa_old_mid", "dagze_mid"), (
        _route(0, "gonggar_airport", "lhasa_old_mid"),
        _route(1, "lhasa_old_mid", "dagze_mid", [("potala", 610.0)]),
        _route(2, "dagze_mid", "gonggar_airport")), 100.0)
    run = _run([it1, it2], two_groups)
    hotels = {(r["night"], r["hotel"]): r for r in service.hotel_usage_rows(run)}
    assert hotels[(0, "lhasa_old_mid")]["rooms_used"] == 3 + 2 and hotels[(0, "lhasa_old_mid")]["persons"] == 9
    assert hotels[(1, "lhasa_old_mid")]["rooms_used"] == 3 and hotels[(1, "dagze_mid")]["rooms_used"] == 2
    sites = {(r["day"], r["site"]): r for r in service.site_usage_rows(run)}
    assert sites[(1, "potala")]["persons"] == 9 and sites[(1, "potala")]["busiest_slot_persons"] == 9
    assert sites[(2, "potala")]["persons"] == 6 and sites[(1, "potala")]["daily_quota"] == 5000
    s = service.summary(run)
    assert s["groups_served"] == 2 and s["persons_served"] == 9
    assert s["hotels"]["lhasa_old_mid"]["room_nights"] == 8 and s["hotels"]["lhasa_old_mid"]["over"] == 0
    assert [r["persons"] for r in s["quota_sites"]["potala"]] == [9, 6]
    assert s["acclimatization"]["respected"], s["acclimatization"]["breaks"]
    rows = service.itinerary_rows(run)
    assert sum(r["kind"] == "visit" for r in rows) == 4 and sum(r["kind"] == "night" for r in rows) == 4
    doc = service.to_dict(run, with_groups=True)
    assert len(doc["itineraries"]) == 2 and doc["itineraries"][0]["nights"][1]["date"] == "2026-07-07"
    assert {d["group_id"] for d in doc["demand"]} == {"A", "B"}


def test_acclimatization_breaks_are_found(two_groups):
    """Namtso on day 1 and a night in Damxung (4,200 m) straight after arrival break the rules."""
    it = GroupItinerary("A", ("damxung_budget", "lhasa_old_mid"), (
        _route(0, "gonggar_airport", "damxung_budget", [("namtso_tashi", 700.0)]),
        _route(1, "damxung_budget", "lhasa_old_mid"),
        _route(2, "lhasa_old_mid", "gonggar_airport")), 50.0)
    run = _run([it], two_groups)
    breaks = service.acclimatization_breaks(run)
    assert any("namtso_tashi" in b and "day 1" in b for b in breaks)
    assert any("night 1" in b and "gains" in b for b in breaks)
    assert any("night 1" in b and "above the cap" in b for b in breaks)
    assert not service.summary(run)["acclimatization"]["respected"]


def test_overbooked_hotel_is_reported(two_groups):
    """More rooms than the hotel has on a night shows in 'over'."""
    tiny = GroupRequest("T", 200, MON, MON + dt.timedelta(days=1))
    it = GroupItinerary("T", ("lhunzhub_budget",), (_route(0, "gonggar_airport", "lhunzhub_budget"),
                                                    _route(1, "lhunzhub_budget", "gonggar_airport")), 0.0)
    run = _run([it], [tiny])
    assert service.summary(run)["hotels"]["lhunzhub_budget"]["over"] == 1


def test_day_geojson(two_groups):
    it = GroupItinerary("A", ("lhasa_old_mid", "lhasa_old_mid"), (
        _route(0, "gonggar_airport", "lhasa_old_mid"),
        _route(1, "lhasa_old_mid", "lhasa_old_mid", [("potala", 600.0)]),
        _route(2, "lhasa_old_mid", "gonggar_airport")), 100.0)
    run = _run([it], two_groups)
    fc = service.day_geojson(run, 1)
    lines = [f for f in fc["features"] if f["geometry"]["type"] == "LineString"]
    assert len(lines) == 1 and len(lines[0]["geometry"]["coordinates"]) == 3
    net = run.instance.data.network
    assert lines[0]["geometry"]["coordinates"][1] == [net.site("potala").lon, net.site("potala").lat]
    points = {f["properties"]["place"]: f for f in fc["features"] if f["geometry"]["type"] == "Point"}
    assert points["potala"]["properties"]["persons"] == 6 and points["lhasa_old_mid"]["properties"]["kind"] == "hotel"


def test_calendar_plots_draw_on_given_axes(two_groups):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    it = GroupItinerary("A", ("lhasa_old_mid", "lhasa_old_mid"), (
        _route(0, "gonggar_airport", "lhasa_old_mid"),
        _route(1, "lhasa_old_mid", "lhasa_old_mid", [("potala", 600.0)]),
        _route(2, "lhasa_old_mid", "gonggar_airport")), 100.0)
    run = _run([it], two_groups)
    fig, (a, b) = plt.subplots(2, 1)
    service.plot_hotel_calendar(run, a)
    service.plot_quota_calendar(run, b)
    assert a.images and [p.get_height() for p in b.patches][1] == 6
    plt.close(fig)

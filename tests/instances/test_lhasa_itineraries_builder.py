"""The builder of the Lhasa itinerary problem (``build_lhasa_problem``) and the multi-day demand
readers: places, travel, windows per day, prices, altitudes and rules come from the data files;
bad demand (departure before arrival, a negative budget, a hub as must-visit) is a clear error."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from instances.demo_week import generate_demo_week
from instances.lhasa_itineraries import (
    GroupRequest,
    build_lhasa_problem,
    group_requests_from_records,
    read_group_requests,
    unavoidable_altitudes,
)
from optimizer.core.errors import InvalidInput

MONDAY = dt.date(2026, 7, 6)


@pytest.fixture(scope="module")
def inst(itinerary_data):
    return build_lhasa_problem(generate_demo_week(120, seed=3), itinerary_data)


def test_places_travel_and_quotas_come_from_the_data(inst, itinerary_data):
    p, net = inst.problem, itinerary_data.network
    assert [h.id for h in p.hotels] == [h.id for h in itinerary_data.hotels]
    assert {s.id for s in p.sites} == {s.id for s in net.sites if s.is_poi}
    assert {t.id for t in p.terminals} <= {"gonggar_airport", "lhasa_railway"}
    for h in itinerary_data.hotels:
        hp = next(x for x in p.hotels if x.id == h.id)
        assert (hp.rooms, hp.room_price, hp.elevation_m) == (h.rooms, h.price_cny, h.elevation_m)
    i, j = p.place_index("potala"), p.place_index("damxung_budget")
    assert p.travel_min[i, j] == net.travel_min[net.index("potala"), net.index("damxung_town")]
    potala = next(s for s in p.sites if s.id == "potala")
    assert (potala.daily_quota, potala.slot_quota) == (net.site("potala").daily_quota, net.site("potala").slot_quota)
    assert potala.ticket_price == itinerary_data.ticket_price("potala", inst.start) and potala.types


def test_windows_follow_weekdays_and_visit_length(inst, itinerary_data):
    """The Tibet Museum is closed on Mondays (site_windows.csv): no window on the horizon's Mondays and
    one start window (open .. close - visit) on other days."""
    p = inst.problem
    museum = next(s for s in p.sites if s.id == "tibet_museum")
    visit = itinerary_data.network.site("tibet_museum").visit_min
    row = next(w for w in itinerary_data.windows if w.site_id == "tibet_museum")
    for d in range(p.n_days):
        ws = museum.windows_on(d)
        if inst.date_of(d).weekday() == 0:
            assert ws == ()
        else:
            assert ws == ((row.open_min, row.close_min - visit),)


def test_altitudes_and_rules(inst, itinerary_data):
    """Namtso's elevation in the problem is its unavoidable altitude (over the pass), and the rules are
    the ones of acclimatization.toml."""
    p = inst.problem
    namtso = next(s for s in p.sites if s.id == "namtso_tashi")
    assert namtso.elevation_m == unavoidable_altitudes(itinerary_data)["namtso_tashi"] > itinerary_data.network.site("namtso_tashi").elevation_m
    r = p.acclimatization
    assert r.max_gain_per_night_m == itinerary_data.rules.max_sleep_gain_m
    assert r.max_visit_m(0) == itinerary_data.rules.max_visit_altitude(1) < namtso.elevation_m
    assert r.max_sleep_m(5) == itinerary_data.rules.max_sleep_altitude(6)


def test_groups_map_to_the_horizon(inst):
    p = inst.problem
    for g in p.groups:
        req = inst.requests[g.id]
        assert inst.date_of(g.arrival_day) == req.arrival and inst.date_of(g.departure_day) == req.departure
        assert g.rooms == -(-req.size // 2) and g.budget == pytest.approx(req.budget_cny * req.size)
        assert [m.site_id for m in g.must_visits] == list(req.must_visit)
    assert p.n_days == max(g.departure_day for g in p.groups) + 1


def test_interest_weights_scale_site_scores(itinerary_data):
    g = GroupRequest("g", 4, MONDAY, MONDAY + dt.timedelta(days=2), interests={"temple": 2.0, "park": 0.0})
    p = build_lhasa_problem([g], itinerary_data).problem
    scores = p.group_score(p.groups[0])
    base = {s.id: s.score for s in p.sites}
    assert scores[p.place_index("sera")] == pytest.approx(2 * base["sera"])
    assert scores[p.place_index("nanshan_park")] == 0.0
    assert scores[p.place_index("yamdrok")] == pytest.approx(base["yamdrok"])


def test_bad_groups_are_clear_errors(itinerary_data):
    with pytest.raises(InvalidInput, match="departure before arrival"):
        GroupRequest("g", 2, MONDAY, MONDAY - dt.timedelta(days=1))
    with pytest.raises(InvalidInput) as e:
        GroupRequest("g", 2, MONDAY, MONDAY, budget_cny=-5)
    assert e.value.field == "budget_cny"
    with pytest.raises(InvalidInput, match="not a visitable site"):
        build_lhasa_problem([GroupRequest("g", 2, MONDAY, MONDAY + dt.timedelta(days=1),
                                          must_visit=("damxung_town",))], itinerary_data)
    with pytest.raises(InvalidInput, match="at least one group"):
        build_lhasa_problem([], itinerary_data)


@pytest.mark.parametrize(("record", "field"), [
    ({"departure": "2026-07-05"}, "departure"),
    ({"budget_cny": "-100"}, "budget_cny"),
    ({"size": "2.5"}, "size"),
    ({"must_visit": "potala;atlantis"}, "must_visit"),
    ({"interests": "castle:1"}, "interests"),
    ({"arrival": "July 6"}, "arrival"),
    ({"price_band": "luxury"}, "price_band"),
    ({"day_end": "07:00"}, "day_end"),
    ({"colour": "red"}, "colour"),
])
def test_demand_records_name_the_field(itinerary_data, record, field):
    base = {"group_id": "g1", "size": "4", "arrival": "2026-07-06", "departure": "2026-07-09"}
    with pytest.raises(InvalidInput) as e:
        group_requests_from_records([{**base, **record}], itinerary_data.network, frozenset(itinerary_data.type_limits), "demand.csv",
                                    ["row 1 (line 2)"])
    assert e.value.field == field and "demand.csv: row 1 (line 2)" in str(e.value)


def test_demand_csv_reader_names_file_and_row(tmp_path, itinerary_data):
    p = tmp_path / "groups.csv"
    p.write_text("group_id,size,arrival,departure\ng1,4,2026-07-06,2026-07-08\ng2,4,2026-07-06,2026-07-01\n")
    with pytest.raises(InvalidInput, match=r"groups.csv: row 2 \(line 3\): departure='2026-07-01'"):
        read_group_requests(p, itinerary_data.network, frozenset(itinerary_data.type_limits))
    p.write_text("group_id,size,arrival,departure\n")
    with pytest.raises(InvalidInput, match="no groups"):
        read_group_requests(p, itinerary_data.network, frozenset(itinerary_data.type_limits))



@pytest.mark.parametrize(("cells", "message"), [
    ("10,1e308", r"row 1 \(line 2\): budget_cny=1e\+308: must be at most 1,000,000,000 CNY"),
    ("100000000000000000000000000000000000,100", r"row 1 \(line 2\): size=10+: must be at most 100,000 persons"),
])
def test_huge_size_or_budget_is_an_error_naming_row_and_value(tmp_path, itinerary_data, cells, message):
    """Trial findings: budget_cny=1e308 was accepted here and failed later as 'group[G1].budget=inf'
    (no file, no row, another field name); a size of 10^35 persons crashed with an OverflowError."""
    p = tmp_path / "groups.csv"
    p.write_text(f"group_id,size,budget_cny,arrival,departure\ng1,{cells},2026-07-06,2026-07-08\n")
    with pytest.raises(InvalidInput, match=message):
        read_group_requests(p, itinerary_data.network, frozenset(itinerary_data.type_limits))

def test_travel_is_finite(inst):
    assert np.isfinite(inst.problem.travel_min).all()


def test_price_band_limits_the_hotels(itinerary_data):
    """A budget group may sleep only in budget hotels, a mid group in budget and mid ones, an upscale
    group (or one without a band) anywhere."""
    from optimizer.itineraries.problem import Group

    if "allowed_hotels" not in Group.__dataclass_fields__:
        pytest.skip("optimizer without per-group hotels")
    day = dt.date(2026, 7, 6)
    gs = [GroupRequest(b or "none", 2, day, day + dt.timedelta(days=2), price_band=b)
          for b in ("budget", "mid", "upscale", None)]
    p = build_lhasa_problem(gs, itinerary_data).problem
    bands = {h.id: h.price_band for h in itinerary_data.hotels}
    allowed = {g.id: g.allowed_hotels for g in p.groups}
    assert {bands[h] for h in allowed["budget"]} == {"budget"}
    assert {bands[h] for h in allowed["mid"]} == {"budget", "mid"}
    assert allowed["upscale"] is None and allowed["none"] is None

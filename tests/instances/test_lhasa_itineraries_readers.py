"""Readers of the Lhasa multi-day data (``instances.lhasa_itineraries``): the embedded hotels, tickets,
windows, site types and acclimatization rules load and agree with the road network; every bad row or
key raises an ``InvalidInput`` naming the file, the row, the field and the value."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from flights_helpers import edit_csv_cell

from instances.lhasa_itineraries import (
    AcclimatizationRules,
    acclimatization_from_mapping,
    load_itinerary_data,
    parse_weekdays,
    reach_altitudes,
    read_acclimatization,
    read_hotels,
)
from instances.paths import LHASA_DIR
from optimizer.core.errors import InvalidInput

FILES = ("sites.csv", "roads.csv", "rings.csv", "circles.csv", "hotels.csv", "site_tickets.csv",
         "site_windows.csv", "site_types.csv", "site_type_limits.csv", "acclimatization.toml")


def _copy(tmp_path):
    for f in FILES:
        shutil.copy(LHASA_DIR / f, tmp_path / f)
    return tmp_path


def test_embedded_data_loads_and_names_known_sites(itinerary_data):
    """Every hotel, ticket, window and type names a site of the network; every visitable site has a
    type with a limit; hotels sleep where their network node is (within 100 m of its elevation)."""
    net = itinerary_data.network
    assert len(itinerary_data.hotels) >= 8
    assert {"barkhor", "damxung_town", "yangbajain_town"} <= {h.site_id for h in itinerary_data.hotels}
    for h in itinerary_data.hotels:
        assert abs(h.elevation_m - net.site(h.site_id).elevation_m) <= 100
        assert h.rooms > 0 and h.provenance
    for s in net.sites:
        if s.is_poi:
            assert itinerary_data.type_limits[itinerary_data.site_types[s.id]] >= 1
    for t in itinerary_data.tickets:
        assert net.has_site(t.site_id) and t.provenance


def test_every_site_has_exactly_one_price_per_day_of_the_year(itinerary_data):
    """The seasons of a site never overlap, so the price of a day is well defined (0 without a row)."""
    day = dt.date(2026, 1, 1)
    for _ in range(365):
        for sid in {t.site_id for t in itinerary_data.tickets}:
            assert sum(t.covers(day) for t in itinerary_data.tickets if t.site_id == sid) <= 1
        day += dt.timedelta(days=1)


def test_potala_peak_and_off_peak_prices(itinerary_data):
    """The Potala costs its peak price in July and its off-peak price in December (rows of the file)."""
    rows = {t.season: t.price_cny for t in itinerary_data.tickets if t.site_id == "potala"}
    assert rows["peak"] > rows["off_peak"] > 0
    assert itinerary_data.ticket_price("potala", dt.date(2026, 7, 15)) == rows["peak"]
    assert itinerary_data.ticket_price("potala", dt.date(2026, 12, 15)) == rows["off_peak"]
    assert itinerary_data.ticket_price("barkhor", dt.date(2026, 7, 15)) == 0.0


def test_jokhang_morning_pilgrim_window_is_closed_to_large_groups(itinerary_data):
    """Two windows for a small party; a group above the pilgrim window's max_group only gets the
    afternoon; Sera's debate window is open on a Saturday and closed on a Sunday."""
    day = dt.date(2026, 7, 6)
    pilgrim = [w for w in itinerary_data.windows if w.site_id == "jokhang" and w.max_group]
    assert pilgrim
    small = itinerary_data.windows_on("jokhang", day, 4)
    large = itinerary_data.windows_on("jokhang", day, pilgrim[0].max_group + 1)
    assert len(small) == 2 and len(large) == 1
    assert large[0][0] >= pilgrim[0].close_min
    sat, sun = dt.date(2026, 7, 4), dt.date(2026, 7, 5)
    assert len(itinerary_data.windows_on("sera", sat)) == len(itinerary_data.windows_on("sera", sun)) + 1
    # a site without rows keeps the one window of sites.csv
    assert itinerary_data.windows_on("barkhor", day) == (tuple(itinerary_data.network.site("barkhor").window),)


def test_reach_altitude_counts_the_pass_on_the_way(itinerary_data):
    """Namtso (4,718 m) is reached over the highest road on its fastest path from Lhasa, so its reach
    altitude is the max of that path's roads and both ends, not the lake's own elevation."""
    net = itinerary_data.network
    reach = itinerary_data.reach_altitude_m[("barkhor", "namtso_tashi")]
    into = max(r.max_elev_m for r in net.roads if "namtso_tashi" in (r.a, r.b))
    assert reach >= into > net.site("namtso_tashi").elevation_m
    assert reach_altitudes(net, ["barkhor"], ["barkhor"])[("barkhor", "barkhor")] == net.site("barkhor").elevation_m


def test_default_rules_follow_wms(itinerary_data):
    """500 m per night above 3,000 m; Namtso (over its pass) is not reachable on day 1; Lhasa ->
    Yangbajain (4,300 m) in one night breaks the gain rule, via Lhünzhub (3,900 m) it does not."""
    r = itinerary_data.rules
    assert r.max_sleep_gain_m == 500 and r.threshold_m == 3000 and r.arrival_altitude_m == 3650
    namtso = itinerary_data.reach_altitude_m[("barkhor", "namtso_tashi")]
    assert r.first_day_reaching(namtso) > 1
    assert r.max_visit_altitude(1) < namtso
    assert any("gains" in m for m in r.check_sleeping([3650, 3650, 4300]))
    assert r.check_sleeping([3650, 3650, 3900, 4300]) == []


def test_rules_rest_day_and_caps():
    """The consecutive-gain rule and the night caps are found; later nights use the last cap."""
    r = AcclimatizationRules(max_sleep_altitude_m=(3800, 5000), max_visit_altitude_m=(4000,),
                             max_consecutive_gain_nights=2, arrival_altitude_m=3000)
    assert r.check_sleeping([3100, 3200]) == []
    assert any("in a row" in m for m in r.check_sleeping([3100, 3200, 3300]))
    assert any("above the cap" in m for m in r.check_sleeping([3900]))
    assert r.max_sleep_altitude(9) == 5000 and r.max_visit_altitude(9) == 4000
    assert r.sleep_gain_m(2000, 3400) == 400  # only the part above 3,000 m counts


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"max_sleep_altitude_m": ()}, "max_sleep_altitude_m"),
    ({"max_visit_altitude_m": (4000, -1)}, "max_visit_altitude_m[1]"),
    ({"max_sleep_gain_m": -5}, "max_sleep_gain_m"),
    ({"max_consecutive_gain_nights": 1.5}, "max_consecutive_gain_nights"),
    ({"threshold_m": float("nan")}, "threshold_m"),
])
def test_bad_rules_name_the_field(kwargs, field):
    base = {"max_sleep_altitude_m": (3800,), "max_visit_altitude_m": (4000,)}
    with pytest.raises(InvalidInput) as e:
        AcclimatizationRules(**{**base, **kwargs})
    assert e.value.field == field


def test_rules_from_toml_and_mapping_errors(tmp_path):
    """A planner's TOML is read; an unknown key, a missing list or broken TOML name the file and key."""
    p = tmp_path / "rules.toml"
    p.write_text("max_sleep_altitude_m = [3700]\nmax_visit_altitude_m = [3700, 4000]\nmax_sleep_gain_m = 300\n")
    r = read_acclimatization(p)
    assert r.max_sleep_gain_m == 300 and r.max_visit_altitude(2) == 4000
    p.write_text("max_sleep_altitude_m = [3700]\nmax_visit_altitude_m = [3700]\nmax_gain = 300\n")
    with pytest.raises(InvalidInput, match=r"rules.toml: file: max_gain"):
        read_acclimatization(p)
    p.write_text("max_sleep_altitude_m = [3700\n")
    with pytest.raises(InvalidInput, match="cannot read TOML"):
        read_acclimatization(p)
    with pytest.raises(InvalidInput, match="max_visit_altitude_m"):
        acclimatization_from_mapping({"max_sleep_altitude_m": [3700]})
    with pytest.raises(InvalidInput, match="file not found"):
        read_acclimatization(tmp_path / "none.toml")


@pytest.mark.parametrize(("table", "row", "col", "value", "field"), [
    ("hotels.csv", 0, "rooms", "-3", "rooms"),
    ("hotels.csv", 1, "price_band", "luxury", "price_band"),
    ("hotels.csv", 2, "elevation_m", "high", "elevation_m"),
    ("hotels.csv", 3, "site_id", "atlantis", "site_id"),
    ("hotels.csv", 4, "id", "lhasa_old_upscale", "id"),
    ("site_tickets.csv", 0, "price_cny", "-200", "price_cny"),
    ("site_tickets.csv", 1, "from", "13-01", "from"),
    ("site_tickets.csv", 1, "from", "09-01", "from"),  # overlaps the peak season of the same site
    ("site_windows.csv", 0, "close", "07:00", "close"),
    ("site_windows.csv", 2, "days", "someday", "days"),
    ("site_windows.csv", 0, "max_group", "0", "max_group"),
    ("site_types.csv", 0, "type", "castle", "type"),
    ("site_type_limits.csv", 0, "max_per_day", "0", "max_per_day"),
])
def test_bad_rows_name_file_row_field_and_value(tmp_path, table, row, col, value, field):
    d = _copy(tmp_path)
    edit_csv_cell(d / table, row, col, value)
    with pytest.raises(InvalidInput) as e:
        load_itinerary_data(d)
    assert e.value.field == field
    assert table in str(e.value) and value in str(e.value) and "row " in str(e.value)


def test_weekday_lists():
    assert parse_weekdays("all") == frozenset(range(7))
    assert parse_weekdays("mon-sat") == frozenset(range(6))
    assert parse_weekdays("sat-mon") == frozenset({5, 6, 0})
    assert parse_weekdays("tue, thu") == frozenset({1, 3})
    with pytest.raises(InvalidInput):
        parse_weekdays("mon-")


def test_hotel_rooms_for_a_group():
    h = read_hotels()[0]
    assert h.rooms_for(1) == 1 and h.rooms_for(h.persons_per_room * 3 + 1) == 4


@pytest.mark.parametrize("table", ["hotels.csv", "site_tickets.csv", "site_windows.csv", "site_types.csv",
                                   "site_type_limits.csv"])
def test_every_row_has_a_source_or_is_marked_an_assumption(table):
    """Issue 16: every figure with a source or marked as an assumption: each row's provenance names a
    source (S), general knowledge (K), a derivation (D) or says A (assumption)."""
    import csv
    import re

    lines = [ln for ln in (LHASA_DIR / table).read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    rows = list(csv.DictReader(lines))
    assert rows
    for r in rows:
        assert re.search(r"(^|[^A-Za-z])(S|K|D|A)([^A-Za-z]|$)", r["provenance"]), (table, r)

"""Sightseeing-flight readers (``instances.flights``): the design CSVs, the schedule CSVs and the Lhasa
defaults. Every bad row raises an ``InvalidInput`` whose message names the file, the row, the column and
the value (``instances._csv``)."""

from __future__ import annotations

import pytest
from flights_helpers import copy_flight_data, edit_csv_cell

from instances.flights import (
    lhasa_fleet,
    lhasa_vertiport_capacities,
    load_flight_data,
    read_aircraft_csv,
    read_aircraft_types,
    read_bookings_csv,
    read_products_csv,
    read_vertiports,
    read_viewpoints,
    write_bookings_csv,
)
from instances.paths import AIRSPACE_GEOJSON
from optimizer.core.airspace import airspace_from_geojson
from optimizer.core.errors import InvalidInput
from optimizer.flights import Booking, FlightData, FlightProduct, Viewpoint, random_bookings

P30 = FlightProduct("p30", "vp", "ev", 30, 1.0)


@pytest.mark.parametrize(("table", "row", "col", "value"), [
    ("viewpoints.csv", 2, "lat", "north"),
    ("viewpoints.csv", 0, "flight_alt_m", "3000"),
    ("viewpoints.csv", 4, "score", "-1"),
    ("viewpoints.csv", 1, "id", "potala_skyline"),
    ("vertiports.csv", 1, "close", "08:00"),
    ("vertiports.csv", 0, "takeoffs_per_slot", "2.5"),
    ("aircraft_types.csv", 1, "kind", "airship"),
    ("aircraft_types.csv", 0, "cruise_kmh", ""),
])
def test_loaders_reject_bad_rows_naming_the_field(tmp_path, table, row, col, value):
    """Every loader raises InvalidInput naming file, row and column for a bad value (no silent defaults)."""
    d = copy_flight_data(tmp_path)
    edit_csv_cell(d / table, row, col, value)
    with pytest.raises(InvalidInput) as e:
        load_flight_data(d)
    assert e.value.field == col
    assert f"{table}: row {row + 1} (line " in str(e.value) and f"{col}={value!r}" in str(e.value)


def test_lhasa_data_loads_and_potala_viewpoint_is_outside_the_no_fly_zone():
    """The embedded data: >= 12 viewpoints, the 3 vertiports, evtol + helicopter; the Potala skyline orbit is
    outside the old-city polygon, and a viewpoint moved inside it is rejected naming the row."""
    vps, ports, types = read_viewpoints(), read_vertiports(), read_aircraft_types()
    assert len(vps) >= 12 and {"dagze_ga", "damxung", "city_pad"} <= set(ports)
    assert {t.kind for t in types.values()} == {"evtol", "helicopter"}
    asp = airspace_from_geojson(AIRSPACE_GEOJSON)
    assert asp.zone_containing(vps["potala_skyline"].lon, vps["potala_skyline"].lat) is None
    bad = dict(vps)
    bad["potala_skyline"] = Viewpoint("potala_skyline", "", "", 91.1169, 29.6578, 3700, 4000, 100, 5)
    with pytest.raises(InvalidInput, match="old_city") as e:
        FlightData(bad, ports, types, asp)
    assert e.value.field == "viewpoints[0]"


def test_bookings_csv_round_trip_and_row_errors(tmp_path):
    """Bookings written and read back are equal; a bad row names file, row and field."""
    books = random_bookings((P30,), 5, seed=1, day=(600, 720))
    path = tmp_path / "b.csv"
    write_bookings_csv(books, path, comment="test")
    assert read_bookings_csv(path) == books
    path.write_text("id,product_id,party_size,open,close,desired\nx,p30,two,10:00,11:00,10:30\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as e:
        read_bookings_csv(path)
    assert e.value.field == "party_size" and "b.csv: row 1 (line 2): party_size='two'" in str(e.value)


def test_bookings_csv_with_a_bom_is_read_and_blank_ids_are_rejected(tmp_path):
    """Found by a fresh-user trial: Excel's UTF-8 BOM made the 'id' column 'missing', and a blank booking id
    was accepted and scheduled."""
    f = tmp_path / "bom.csv"
    f.write_text("id,product_id,party_size,open,close,desired\nb1,dagze_ga_evtol_30,2,10:00,12:00,11:00\n",
                 encoding="utf-8-sig")
    (b,) = read_bookings_csv(f)
    assert (b.id, b.party_size, b.window, b.desired_min) == ("b1", 2, (600, 720), 660)
    with pytest.raises(InvalidInput) as e:
        Booking(" ", "dagze_ga_evtol_30", 2, (600, 720), 660)
    assert e.value.field == "bookings.id"
    f.write_text("id,product_id,party_size,open,close,desired\n ,dagze_ga_evtol_30,2,10:00,12:00,11:00\n",
                 encoding="utf-8")
    with pytest.raises(InvalidInput) as e:
        read_bookings_csv(f)
    assert e.value.field == "id" and "row 1" in str(e.value)


def test_products_and_aircraft_csvs_name_the_bad_cell(tmp_path):
    """The schedule's products and aircraft CSVs: a fractional block time and a closing time before the
    opening are reported with file, row and column; good rows read back as the domain nouns."""
    prods = tmp_path / "products.csv"
    prods.write_text("id,vertiport_id,aircraft_type_id,block_min,score,viewpoints,distance_km\n"
                     "p1,vp,ev,30,12,a;b,20.5\np2,vp,ev,30.5,1,,1\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as e:
        read_products_csv(prods)
    assert e.value.field == "block_min" and "products.csv: row 2 (line 3)" in str(e.value)
    prods.write_text("id,vertiport_id,aircraft_type_id,block_min,score,viewpoints,distance_km\np1,vp,ev,30,12,a;b,20.5\n",
                     encoding="utf-8")
    assert read_products_csv(prods) == (FlightProduct("p1", "vp", "ev", 30, 12.0, ("a", "b"), 20.5),)
    fleet = tmp_path / "aircraft.csv"
    fleet.write_text("id,type_id,vertiport_id,seats,open,close,turnaround_min,recharge_per_block_min\n"
                     "a1,ev,vp,4,12:00,09:00,10,1.0\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as e:
        read_aircraft_csv(fleet)
    assert "aircraft.csv: row 1 (line 2)" in str(e.value) and "closes before it opens" in str(e.value)


def test_lhasa_fleet_and_capacities_follow_the_csvs():
    """The assumed fleet: 4 eVTOL (4 seats) + 2 H125 (6 seats) at dagze_ga and damxung, available in the
    vertiports' hours; capacities on the common 15-min slot."""
    fleet = lhasa_fleet()
    assert sorted((a.type_id, a.seats) for a in fleet) == [("evtol", 4)] * 4 + [("h125", 6)] * 2
    ports = read_vertiports()
    assert all(a.available == (ports[a.vertiport_id].open_min, ports[a.vertiport_id].close_min) for a in fleet)
    caps, slot = lhasa_vertiport_capacities()
    assert slot == 15 and {c.id: c.takeoffs_per_slot for c in caps} == {v.id: v.takeoffs_per_slot for v in ports.values()}

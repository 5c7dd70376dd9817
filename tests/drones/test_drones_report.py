"""Reports of a drone plan (dict, polars tables, GeoJSON, plot on a given Axes) and the embedded-data readers."""

import json

import pytest

from instances.drones import lhasa_airspace, load_drone_types, read_drone_demand
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion
from optimizer.drones import DroneProblem, solve, verify
from optimizer.drones.report import plan_geojson, plot_plan, to_dict, trips_table, unserved_table


@pytest.fixture(scope="module")
def day():
    """The embedded example day (64 deliveries) planned with 20 iterations."""
    p = DroneProblem(lhasa_airspace(), load_drone_types(), read_drone_demand(), temperature_c=15.0)
    plan = solve(p, StoppingCriterion(max_iterations=20), seed=0)
    assert verify(p, plan) == []
    return p, plan


def test_to_dict_is_json_and_counts_match(day):
    p, plan = day
    d = to_dict(p, plan)
    json.dumps(d, allow_nan=False)
    assert d["served"] + len(d["unserved"]) == d["deliveries"] == len(p.deliveries)
    assert d["served_priority"] == plan.served_priority and d["status"] == plan.stats.status
    assert len(d["trips"]) == len(plan.trips)
    assert all(t["reserve_margin_wh"] >= 0 for t in d["trips"])


def test_tables_have_one_row_per_trip_and_per_unserved(day):
    p, plan = day
    tt, ut = trips_table(p, plan), unserved_table(p, plan)
    assert tt.height == len(plan.trips) and int(tt["n_stops"].sum()) == plan.served
    assert tt["energy_wh"].sum() == pytest.approx(plan.total_energy_wh)
    assert ut.height == len(plan.unserved)
    assert set(ut["reason"]) <= {"no_fly", "payload", "range", "capacity", "time_limit"}
    assert ut.filter(ut["delivery"] == "bad_heavy")["reason"].to_list() == ["payload"]


def test_geojson_trips_follow_the_flown_legs(day):
    p, plan = day
    gj = plan_geojson(p, plan)
    trips = [f for f in gj["features"] if f["properties"]["kind"] == "trip"]
    assert len(trips) == len(plan.trips)
    for f, t in zip(trips, plan.trips):
        hub = next(h for h in p.airspace.hubs if h.id == t.hub)
        assert f["geometry"]["coordinates"][0] == pytest.approx([hub.lon, hub.lat], abs=1e-7)
        assert f["geometry"]["coordinates"][-1] == pytest.approx([hub.lon, hub.lat], abs=1e-7)
        assert len(f["geometry"]["coordinates"]) == 1 + sum(len(leg) - 1 for leg in t.legs)
    assert sum(f["properties"]["kind"] == "delivery" for f in gj["features"]) == len(p.deliveries)


def test_plot_draws_on_the_given_axes_and_writes_nothing(day, tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p, plan = day
    monkeypatch.chdir(tmp_path)
    fig, ax = plt.subplots()
    assert plot_plan(p, plan, ax, xlim=(91.0, 91.25), ylim=(29.6, 29.74)) is ax
    assert len(ax.lines) >= len(plan.trips) and ax.get_xlim() == (91.0, 91.25)
    plt.close(fig)
    assert list(tmp_path.iterdir()) == []


def test_demand_reader_names_file_row_and_field(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("id,lon,lat,weight_kg,open,close\na,91.1,29.7,1.0,10:00,11:00\nb,91.1,29.7,heavy,10:00,11:00\n",
                 encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"d\.csv: row 2 \(line 3\): weight_kg='heavy'"):
        read_drone_demand(f)
    f.write_text("id,lon,lat,weight_kg,open,close\na,91.1,29.7,1.0,10:00,1100\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"row 1 \(line 2\): close='1100': expected HH:MM"):
        read_drone_demand(f)
    f.write_text("id,lon,lat,weight_kg,open\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="close"):
        read_drone_demand(f)
    (d,) = read_drone_demand(_one(tmp_path))
    assert d.priority == 1 and d.window == (600.0, 660.0)


def _one(tmp_path):
    f = tmp_path / "one.csv"
    f.write_text("# comment\nid,lon,lat,weight_kg,open,close,priority\na,91.1,29.7,1.0,10:00,11:00,\n", encoding="utf-8")
    return f

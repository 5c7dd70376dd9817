"""Energy model: ISA density, Dorling et al. (2017) power, the one trip-energy formula, battery reserve, altitude."""

import math

import pytest

from instances.drones import load_drone_types
from instances.paths import DRONE_TYPES_CSV
from optimizer.core.airspace import Airspace, Hub
from optimizer.core.errors import InvalidInput
from optimizer.core.physics import air_density
from optimizer.core.stop import StoppingCriterion
from optimizer.drones import Delivery, DroneProblem, DroneType, solve, verify

TYPES = load_drone_types()


def test_isa_density_matches_models_table():
    """Protects the ISA formula against MODELS.md section 0 (sea 1.225, Lhasa 0.850, Namtso 0.759, 6000 m 0.660)."""
    for h, rho in ((0, 1.225), (3650, 0.850), (4718, 0.759), (6000, 0.660)):
        assert air_density(h) == pytest.approx(rho, abs=0.002)
    assert air_density(3650, 20.0) == pytest.approx(0.767, abs=0.005)  # summer Lhasa (MODELS.md: ~0.77)
    with pytest.raises(InvalidInput):
        air_density(float("nan"))


def test_dorling_example_and_altitude_factor():
    """Dorling eq.: W=1.5, m=1 kg, zeta=0.2, n=6 gives 71 W at rho=1.204 (MODELS.md 5.1), x sqrt(rho0/rho) at altitude."""
    d = DroneType("paper", 1.5, 1.0, 100, 0.2, 1.0, 10, 10, 2, 50, 6000, 6, 0.2, 1.0, 0, 0)
    assert d.power_w(0.0, 1.204) == pytest.approx(71.0, abs=1.0)
    assert d.power_w(0.0, air_density(3650)) / d.power_w(0.0, 1.225) == pytest.approx(math.sqrt(1.225 / 0.850), rel=0.01)
    assert d.power_w(1.0, 1.0) > d.power_w(0.0, 1.0)


def test_trip_energy_is_power_times_time_per_leg():
    """The one formula: sum over legs of P(payload on board) x (flight + hover) time, empty on the way back."""
    ty, rho = TYPES["parcel"], 0.85
    legs, drops = [3.0, 2.0, 4.0], [1.0, 0.5]
    t = [ty.leg_minutes(km) for km in legs]
    expect = (ty.power_w(1.5, rho) * (t[0] + ty.service_min) + ty.power_w(0.5, rho) * (t[1] + ty.service_min)
              + ty.power_w(0.0, rho) * t[2]) / 60
    assert ty.trip_energy_wh(legs, drops, rho) == pytest.approx(expect, rel=1e-12)
    r = ty.range_km(1.0, rho)
    assert ty.trip_energy_wh([r, r], [1.0], rho) == pytest.approx(ty.usable_wh, rel=1e-9)
    with pytest.raises(InvalidInput, match="leg_km"):
        ty.trip_energy_wh([1.0], [1.0], rho)


def test_drone_types_as_data_and_reserve():
    """The CSV types load; the reserve is taken off the battery; thrust limit reproduces ~15 kg at 6000 m (Everest test)."""
    fc = TYPES["flycart30"]
    assert fc.usable_wh == pytest.approx(fc.battery_wh * 0.8)
    assert fc.max_payload_kg(air_density(6000)) == pytest.approx(15, abs=1.5)
    assert TYPES["parcel"].max_payload_kg(air_density(3650)) == pytest.approx(2.3)
    with pytest.raises(InvalidInput, match="reserve_frac"):
        DroneType("x", 1, 1, 100, 1.5, 1, 10, 10, 2, 50, 6000, 4, 0.1, 0.6, 0, 0)


def test_drone_types_csv_errors_name_row_and_field(tmp_path):
    bad = tmp_path / "types.csv"
    text = DRONE_TYPES_CSV.read_text(encoding="utf-8")
    bad.write_text(text.replace("parcel,Meituan-class parcel drone,4.2", "parcel,Meituan-class parcel drone,heavy"),
                   encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"types\.csv: row 2 \(line \d+\): frame_kg='heavy'"):
        load_drone_types(bad)


def _plan_at(elevation_m: float):
    hub = Hub("h", "h", 91.0, 30.0, elevation_m, (("parcel", 1),))
    kx = 111.32 * math.cos(math.radians(29.65))
    dels = tuple(Delivery(f"d{i}", 91.0 + r / kx * math.cos(i), 30.0 + r / 111.32 * math.sin(i), 1.5, (480, 1080), 1)
                 for i, r in enumerate([3.0, 4.0, 5.0, 6.0, 13.0, 3.5, 4.5, 2.0]))
    p = DroneProblem(Airspace((), (hub,)), TYPES, dels, temperature_c=None, day=(480, 1080))
    plan = solve(p, StoppingCriterion(max_iterations=100), seed=0)
    assert verify(p, plan) == []
    return plan


def test_same_drone_serves_less_at_namtso_than_at_sea_level():
    """At Namtso (4718 m) the same parcel drone serves fewer deliveries or uses more energy/trips."""
    sea, namtso = _plan_at(0.0), _plan_at(4718.0)
    sea_why, ns_why = sea.unserved_by_id(), namtso.unserved_by_id()
    assert "d4" not in sea_why               # 13 km out and back fits at sea level (range ~15 km)
    assert "d4" in ns_why                    # but not at Namtso (range ~11.5 km)
    assert ns_why["d4"].reason == "range"
    assert namtso.served_priority < sea.served_priority
    per_sea = sea.total_energy_wh / sea.served_priority
    served_ns = [s.delivery for t in namtso.trips for s in t.stops]
    assert len(served_ns) == namtso.served_priority
    assert len(namtso.trips) >= len(sea.trips) - 1
    # energy for the same set of deliveries is ~27 % higher at altitude
    same = [t for t in sea.trips if all(s.delivery != "d4" for s in t.stops)]
    assert namtso.total_energy_wh > sum(t.energy_wh for t in same) * 1.15
    assert per_sea > 0

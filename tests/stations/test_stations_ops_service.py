"""Station-operations use cases (api.services.station_ops): charging with delays on the demo day,
the demo day's oxygen plan with the default safety stock (never empty), oxygen for a siting, and
the siting reader's errors."""

from __future__ import annotations

import pytest

from api.services import station_ops as service
from api.services.tours import lhasa_network
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import MaxRuntime


@pytest.fixture(scope="module")
def demo100():
    return service.tour_plan(lhasa_network(), iterations=100)


def test_lhasa_run_charging_with_delays_is_verified(demo100):
    problem, plan = demo100
    with pytest.raises(InvalidInput) as e:
        service.schedule_charging(problem, plan, service.ChargingOptions(max_vehicles=10, max_delay_min=-1),
                                  MaxRuntime(5))
    assert e.value.field == "max_delay_min"
    run = service.schedule_charging(problem, plan, service.ChargingOptions(max_vehicles=20), MaxRuntime(20))
    d, res, cp = run.document(), run.schedule, run.problem
    assert res.has_schedule and d["verifier"] == [] and d["gap"] <= 1e-3
    assert d["lateness_min_total"] == pytest.approx(sum(x["delay_min"] for x in d["delays"]))
    assert d["lateness_cost_cny"] == pytest.approx(5.0 * d["lateness_min_total"])
    assert all(0 < x["delay_min"] <= 60 for x in d["delays"])
    assert {x["vehicle"] for x in d["delays"]} == {v.id for n, v in enumerate(cp.vehicles) if res.delay_min[n]}
    assert {u["vehicle"] for u in d["unserved"]} == {v.id for n, v in enumerate(cp.vehicles) if res.short_kwh[n] > 0}
    assert all(u["reason"] and u["detail"] for u in d["unserved"])
    fixed = service.schedule_charging(problem, plan, service.ChargingOptions(max_vehicles=20, max_delay_min=0),
                                      MaxRuntime(20)).document()
    assert fixed["delays"] == [] and fixed["verifier"] == []
    # delays can only help: no more unserved vehicles, objective no worse than on plan (within the gaps)
    assert len(d["unserved"]) <= len(fixed["unserved"])
    assert d["objective_cny"] <= fixed["objective_cny"] * (1 + 2e-3) + 1e-6


def test_demo_day_oxygen_never_empty_with_the_default_safety_stock():
    """Issue 13: with safety stock 0 the demo plan left the Potala station empty on days 3, 5 and 7.
    The default (one busiest day's demand, at least 1 cylinder) keeps every station above zero on
    every day (and above its safety stock), at a verified cost."""
    net = lhasa_network()
    tour = service.tour_plan(net, iterations=2000)
    run = service.plan_oxygen(net, service.OxygenOptions(), MaxRuntime(60), tour=tour)
    p, plan = run.problem, run.plan
    assert run.violations == [] and plan.stockout_cylinders == 0
    assert all(plan.stock[i][t] > 0 for i in range(p.n) for t in range(p.days))
    assert all(plan.stock[i][t] >= p.ss(i) for i in range(p.n) for t in range(p.days))
    assert run.document()["safety_breaches"] == []
    none = service.plan_oxygen(net, service.OxygenOptions(safety_days=0.0, safety_min_cylinders=0), MaxRuntime(60),
                               tour=tour)
    assert none.violations == [] and none.plan.min_margin == 0  # the old default runs stations dry
    potala = none.problem.station_ids.index("potala")
    assert 0 in none.plan.stock[potala]


def test_oxygen_for_a_siting_uses_exactly_its_stations():
    net = lhasa_network()
    siting = service.read_siting({"kind": "oxygen", "chosen": ["potala", "drepung", "sera"],
                                  "detail": [{"site_id": "potala", "litres_day": 20000.0},
                                             {"site_id": "barkhor", "litres_day": 5000.0},
                                             {"site_id": "drepung", "litres_day": 8000.0},
                                             {"site_id": "namtso_tashi", "litres_day": 700.0}],
                                  "params": {"threshold_min": 30.0}}, net)
    run = service.plan_oxygen(net, service.OxygenOptions(), MaxRuntime(30), siting=siting)
    assert run.violations == [] and run.plan.stats.status == "optimal"
    assert set(run.problem.station_ids) == {"potala", "drepung"}  # sera covers no demand: nothing to supply
    assert [u["site_id"] for u in run.uncovered] == ["namtso_tashi"]
    info = {r["station"]: r for r in run.stations}
    assert sorted(info["potala"]["sites"]) == ["barkhor", "potala"]
    # with a tour plan as well, the plan's demand is assigned to the siting's stations
    tour = service.tour_plan(net, iterations=50)
    both = service.plan_oxygen(net, service.OxygenOptions(), MaxRuntime(30), siting=siting, tour=tour)
    assert both.violations == [] and set(both.problem.station_ids) <= {"potala", "drepung", "sera"}
    assert all(u["minutes"] > 30.0 for u in both.uncovered)


@pytest.mark.parametrize("doc, field", [
    ([], "siting"),
    ({"kind": "charger", "chosen": ["potala"], "detail": []}, "siting.kind"),
    ({"kind": "oxygen", "chosen": [], "detail": []}, "siting.chosen"),
    ({"kind": "oxygen", "chosen": ["potala"]}, "siting.detail"),
    ({"kind": "oxygen", "chosen": ["potala"], "detail": [{"site_id": "potala", "litres_day": -1}]},
     "siting.detail[0].litres_day"),
    ({"kind": "oxygen", "chosen": ["potala"], "detail": [{"site_id": "nowhere", "litres_day": 1}]},
     "siting.detail[0].site_id"),
    ({"kind": "oxygen", "chosen": ["potala"], "detail": [], "params": {"threshold_min": "x"}},
     "siting.params.threshold_min"),
])
def test_bad_siting_documents_name_the_key(doc, field):
    with pytest.raises(InvalidInput) as e:
        service.read_siting(doc, lhasa_network())
    assert e.value.field == field


def test_siting_file_errors(tmp_path):
    with pytest.raises(InvalidInput) as e:
        service.read_siting(tmp_path / "missing.json", lhasa_network())
    assert e.value.field == "siting"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InvalidInput) as e:
        service.read_siting(bad, lhasa_network())
    assert e.value.field == "siting"
    with pytest.raises(InvalidInput) as e:
        service.plan_oxygen(lhasa_network(), service.OxygenOptions(), MaxRuntime(5))
    assert e.value.field == "plan"


def test_looser_safety_stock_no_longer_costs_a_third_more():
    """Fresh-user trial: on the demo plan ``--safety-days 0`` (safety stock 1 cylinder) cost 12,048.60
    CNY against 9,101.80 with the default: the heuristic improved only the start plan ranked best
    before the local search, and that start (lookahead 1, with insertion) ended in a poor local
    optimum. Every distinct start is now improved (shared evaluation budget) and the best local
    optimum kept; the local search may also add a visit. Both settings get cheaper; the looser one
    may still cost more (a local search promises no monotonicity)."""
    net = lhasa_network()
    tour = service.tour_plan(net, iterations=2000)
    costs = {}
    for sd in (1.0, 0.0):
        run = service.plan_oxygen(net, service.OxygenOptions(safety_days=sd), MaxRuntime(60), tour=tour)
        assert run.violations == [] and run.plan.stockout_cylinders == 0 and run.document()["safety_breaches"] == []
        costs[sd] = run.plan.total_cost_cny
    # The absolute costs follow the tour plan (9,101.80 / 12,048.60 CNY on the plan of the earlier search
    # defaults: +32 %); what must hold on any plan is that the looser stock no longer costs a third more.
    assert costs[0.0] <= 1.10 * costs[1.0], costs


@pytest.mark.parametrize("kw, field", [
    ({"trucks": 0}, "trucks"), ({"lookahead": 31}, "lookahead"), ({"lookahead": -1}, "lookahead"),
    ({"safety_days": 366.0}, "safety_days"), ({"shift_min": 2000.0}, "shift_min"),
])
def test_oxygen_options_fail_fast_with_the_shared_bounds(kw, field):
    """The options are checked on construction (before a tour is planned), with the HTTP bounds."""
    with pytest.raises(InvalidInput) as e:
        service.OxygenOptions(**kw)
    assert e.value.field == field


def test_charging_options_check_the_tariff_on_construction():
    with pytest.raises(InvalidInput) as e:
        service.ChargingOptions(tariff="0-8:0.35,10-24:0.7")
    assert e.value.field == "tariff" and e.value.value == "10-24:0.7"

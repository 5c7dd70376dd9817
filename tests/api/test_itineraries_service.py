"""The itineraries use case (``api.services.itineraries.plan_itineraries``) on small demands: the same
seed and iteration budget give the same plan, every plan passes the independent verifier and the
Lhasa acclimatization re-check, and a must-visit beyond a planner's rules is unserved for
``acclimatization``."""

from __future__ import annotations

import datetime as dt

import pytest

from api.services import itineraries as service
from instances.lhasa_itineraries import GroupRequest

MON = dt.date(2026, 7, 6)


@pytest.fixture(scope="module")
def small_week():
    return service.demo_week(12, seed=11)


def test_same_seed_same_plan_and_verified(small_week):
    a = service.plan_itineraries(small_week, time_limit_s=120, iterations=40, seed=3)
    b = service.plan_itineraries(small_week, time_limit_s=120, iterations=40, seed=3)
    assert a.violations == () and b.violations == ()
    assert a.solution.itineraries == b.solution.itineraries and a.solution.unserved == b.solution.unserved
    assert service.acclimatization_breaks(a) == []
    s = service.summary(a)
    assert s["groups"] == 12 and all(v["over"] == 0 for v in s["hotels"].values())


def test_namtso_waits_for_the_rules_day(small_week):
    """A group with a free week and Namtso as must-visit gets it, not before the first day the rules
    allow its pass (day 4 with the embedded rules)."""
    g = GroupRequest("N", 4, MON, MON + dt.timedelta(days=6), arrival_min=630, departure_min=780,
                     must_visit=("namtso_tashi",), day_start_min=420, day_end_min=1260, packed_lunch=True)
    run = service.plan_itineraries([g], time_limit_s=60, iterations=200, seed=0)
    assert run.violations == ()
    it = run.solution.itineraries[0]
    days = [r.day for r in it.days if any(v.site_id == "namtso_tashi" for v in r.visits)]
    if days:
        alt = run.problem.sites[run.problem.place_index("namtso_tashi")].elevation_m
        assert days[0] + 1 >= run.instance.data.rules.first_day_reaching(alt)
    else:
        assert [u.reason for u in run.solution.unserved] != []


def test_rules_that_forbid_a_must_visit_give_reason_acclimatization():
    g = GroupRequest("L", 4, MON, MON + dt.timedelta(days=4), must_visit=("yamdrok", "potala"))
    rules = {"max_sleep_altitude_m": [3800], "max_visit_altitude_m": [4000]}
    run = service.plan_itineraries([g], rules=rules, time_limit_s=60, iterations=50)
    assert run.violations == ()
    assert ("L/yamdrok", "acclimatization") in {(u.item_id, u.reason) for u in run.solution.unserved}
    assert service.summary(run)["acclimatization"]["rules"]["max_visit_altitude_m"] == [4000]

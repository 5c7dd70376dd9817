"""The city-scale demand generator (issue 15): seeded, sized and mixed as its docstring says,
every party's must-visits feasible on its own, and a city day planned by the tour solver passes
the independent verifier."""

from __future__ import annotations

import numpy as np
import pytest

from instances.city_demand import (
    INDEPENDENT_POTALA_P,
    LATLON_P,
    PARTY_SIZE_P,
    TOUR_GROUP_SHARE,
    city_summary,
    generate_city_day,
    hotel_start_sites,
)
from instances.demand_generator import must_visits_feasible
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion
from optimizer.tours import TourProblem, solve, verify

N = 2_000


@pytest.fixture(scope="module")
def city(lhasa_network):
    return generate_city_day(lhasa_network, n_parties=N, seed=7)


def test_same_seed_same_day_and_another_seed_another(lhasa_network, city):
    """Deterministic for (network, n, seed); a different seed draws a different day."""
    assert generate_city_day(lhasa_network, n_parties=N, seed=7) == city
    assert generate_city_day(lhasa_network, n_parties=N, seed=8) != city


def test_sizes_and_mix_are_as_documented(city):
    """n parties, tour groups round(6 %) of them, independent parties of 1-6 persons with the
    documented size shares, about 4 visitors per party."""
    s = city_summary(city)
    assert s["parties"] == N
    assert s["tour_groups"] == round(TOUR_GROUP_SHARE * N)
    ind = [g.size for g in city if g.id.startswith("I")]
    assert len(ind) == N - s["tour_groups"] and min(ind) >= 1 and max(ind) <= 6
    shares = np.bincount(ind, minlength=7)[1:] / len(ind)
    assert np.abs(shares - np.array(PARTY_SIZE_P)).max() < 0.03  # 1,880 draws: ~2.7 standard errors at p = 0.4
    assert 3.6 <= s["visitors"] / N <= 4.4
    tours = [g.size for g in city if g.id.startswith("T")]
    assert min(tours) >= 4 and max(tours) <= 50
    assert len({g.id for g in city}) == N


def test_starts_are_hotel_sites_or_points_near_them(lhasa_network, city):
    """Starts are hotel sites of hotels.csv (or lat/lon points, ~20 % of independent parties);
    every party ends where it started."""
    ids, share = hotel_start_sites(lhasa_network)
    assert share.sum() == pytest.approx(1.0)
    for g in city:
        assert g.end == g.start
        assert g.start.site_id is None or g.start.site_id in ids
    ind = [g for g in city if g.id.startswith("I")]
    latlon = sum(g.start.site_id is None for g in ind) / len(ind)
    assert abs(latlon - LATLON_P) < 0.04
    assert all(g.start.site_id is not None for g in city if g.id.startswith("T"))


def test_must_visits_fit_each_day_and_potala_share(lhasa_network, city):
    """Every party's must-visits fit its day on their own (checked here with the existing
    generator's one-at-a-time function, not the vectorised one); ~5 % of independent parties must
    see the Potala; at most 2 must-visits."""
    assert all(must_visits_feasible(lhasa_network, g) for g in city)
    assert all(len(g.must_visit) <= 2 for g in city)
    ind = [g for g in city if g.id.startswith("I")]
    potala = sum("potala" in g.must_visit for g in ind) / len(ind)
    assert abs(potala - INDEPENDENT_POTALA_P) < 0.025


def test_bad_party_count_is_invalid_input(lhasa_network):
    with pytest.raises(InvalidInput) as e:
        generate_city_day(lhasa_network, n_parties=-1)
    assert e.value.field == "n_parties"
    assert generate_city_day(lhasa_network, n_parties=0) == ()


def test_city_plan_passes_the_verifier(lhasa_network, city):
    """A city day solved with a small budget: 0 verifier violations, every party routed or listed
    as unserved, and the Potala's daily quota is what leaves must-visits out."""
    problem = TourProblem(network=lhasa_network, groups=city)
    plan = solve(problem, StoppingCriterion(max_iterations=200, max_runtime_s=60), seed=3)
    assert verify(problem, plan) == []
    routed = {r.group_id for r in plan.routes}
    whole = {u.group_id for u in plan.unserved if u.site_id is None}
    assert routed | whole == {g.id for g in city} and not routed & whole
    assert plan.kpis["groups_served"] > 0.5 * N
    size = {g.id: g.size for g in city}
    potala = sum(size[r.group_id] for r in plan.routes if any(v.site_id == "potala" for v in r.visits))
    assert 0 < potala <= lhasa_network.site("potala").daily_quota


def test_generator_cli_refuses_a_huge_day_and_an_unwritable_out(tmp_path, capsys):
    """Trial findings: ``python -m instances.city_demand --parties 999999999`` ran until killed, and
    ``--out`` in a missing folder was a FileNotFoundError traceback; both exit 2 naming the value."""
    from instances.city_demand import MAX_PARTIES, main

    assert MAX_PARTIES == 200_000
    for argv, said in ((["--parties", "999999999", "--out", str(tmp_path / "c.csv")], "must be at most 200,000"),
                       (["--parties", "3", "--out", str(tmp_path / "no" / "c.csv")], "--out")):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2 and said in capsys.readouterr().err

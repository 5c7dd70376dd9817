"""The tours use cases (``api.services.tours``): the demo day, the plan document and ``load_plan``."""

from __future__ import annotations

import json

import pytest

from api.services.tours import demo_day, lhasa_network, load_plan, plan_document, plan_groups, write_outputs
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion


@pytest.fixture(scope="module")
def small_day():
    """The embedded demo day after 30 ILS iterations (seed 0): a plan in well under a second."""
    return demo_day(StoppingCriterion(max_iterations=30), seed=0)


def _routes(plan):
    return [(r.group_id, [(v.site_id, v.start) for v in r.visits]) for r in plan.routes]


def test_demo_day_is_cached_and_deterministic(small_day):
    """The same limits and seed give the very same (cached) plan; the plan serves every group."""
    problem, plan = small_day
    again = demo_day(StoppingCriterion(max_iterations=30), seed=0)
    assert again[1] is plan
    assert len(problem.groups) == 320
    assert _routes(plan) == _routes(plan_groups(lhasa_network(), problem.groups,
                                                StoppingCriterion(max_iterations=30), seed=0)[1])


def test_load_plan_round_trip(small_day, tmp_path):
    """plan -> document -> JSON text -> load_plan gives the same groups and routes, 0 violations."""
    problem, plan = small_day
    doc = plan_document(problem, plan)
    assert len(doc["groups"]) == len(problem.groups)
    text = json.dumps(doc, allow_nan=False)
    p2, plan2 = load_plan(json.loads(text), lhasa_network())
    assert p2.groups == problem.groups
    assert _routes(plan2) == _routes(plan)
    path = tmp_path / "plan.json"
    path.write_text(text, encoding="utf-8")
    p3, plan3 = load_plan(path, lhasa_network())
    assert _routes(plan3) == _routes(plan)
    assert p3.groups == problem.groups


def test_written_plan_json_reads_back(small_day, tmp_path):
    """write_outputs writes plan.json through plan_document: load_plan reads it back."""
    problem, plan = small_day
    paths = write_outputs(problem, plan, tmp_path)
    _, plan2 = load_plan(paths["plan.json"], lhasa_network())
    assert _routes(plan2) == _routes(plan)


def test_tampered_plan_is_rejected(small_day):
    """A visit moved before its arrival is caught by the verifier and named as a plan error."""
    problem, plan = small_day
    doc = json.loads(json.dumps(plan_document(problem, plan)))
    doc["routes"][0]["visits"][0]["start"] -= 500.0
    with pytest.raises(InvalidInput) as e:
        load_plan(doc, lhasa_network())
    assert e.value.field == "plan.routes"
    assert e.value.value.endswith("violations") and "first:" in e.value.message


def test_plan_without_groups_is_rejected(small_day):
    """A plan.json without its groups (written before plans carried them) names the missing key."""
    problem, plan = small_day
    doc = json.loads(json.dumps(plan_document(problem, plan)))
    del doc["groups"]
    with pytest.raises(InvalidInput) as e:
        load_plan(doc, lhasa_network())
    assert e.value.field == "plan.groups"


def test_unreadable_plan_file_names_plan(tmp_path):
    """A missing file or a file that is not JSON is an InvalidInput naming ``plan``."""
    with pytest.raises(InvalidInput) as e:
        load_plan(tmp_path / "nope.json", lhasa_network())
    assert e.value.field == "plan"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput) as e:
        load_plan(bad, lhasa_network())
    assert e.value.field == "plan"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InvalidInput) as e:
        load_plan(bad, lhasa_network())
    assert e.value.field == "plan"


@pytest.mark.parametrize("edit,field", [
    (lambda d: d.update(routes=5), "plan.routes"),
    (lambda d: d.update(routes=None), "plan.routes"),
    (lambda d: d.update(routes="hello"), "plan.routes"),
    (lambda d: d["routes"][0].update(visits=7), "plan.routes[0].visits"),
    (lambda d: d["routes"][0]["visits"][0].update(arrival="09:00"), "plan.routes[0].visits[0].arrival"),
    (lambda d: d.update(unserved=7), "plan.unserved"),
    (lambda d: d.update(kpis="x"), "plan.kpis"),
    (lambda d: d.update(iterations="many"), "plan.iterations"),
    (lambda d: d["routes"][0].update(size=10**9), "plan.routes[0].size"),
    (lambda d: d["groups"][0].update(size="ten"), "plan.groups[0].size"),
    (lambda d: d.update(groups="x"), "plan.groups"),
])
def test_malformed_plan_fields_are_named(small_day, edit, field):
    """Found by a fresh-user trial: a plan.json field of the wrong type crashed the CLI (TypeError) and
    answered 500 over HTTP. Every such field is now an InvalidInput naming its path under ``plan``."""
    problem, plan = small_day
    doc = json.loads(json.dumps(plan_document(problem, plan)))
    edit(doc)
    with pytest.raises(InvalidInput) as e:
        load_plan(doc, lhasa_network())
    assert e.value.field == field


def test_plan_file_with_a_bom_is_read(small_day, tmp_path):
    """A plan.json saved with a UTF-8 BOM (some editors add one) reads like any other."""
    problem, plan = small_day
    path = tmp_path / "plan.json"
    path.write_text("\ufeff" + json.dumps(plan_document(problem, plan)), encoding="utf-8")
    _, plan2 = load_plan(path, lhasa_network())
    assert plan2.routes == plan.routes

"""Station use cases shared by the HTTP API, the CLI and the benches: the plan source of every
station tool, and station siting (oxygen MCLP, EV-charger FRLM) on any tour plan.

Plan source (``plan_source``), the same for ``stations site``, ``stations charge`` and
``stations oxygen``: a saved ``plan.json`` (``lhasa-ops plan``; read and verified by
``api.services.tours.load_plan``), a demand file or parsed group records (planned by
``api.services.tours.plan_groups``), or, with none of them, the embedded demo day
(``api.services.tours.demo_day``: ``instances/lhasa/demand_peak_day.csv``, ILS). Giving two
sources is an ``InvalidInput``.

Errors: bad input raises ``InvalidInput`` naming the field and the value; a siting that the
independent verifier (``optimizer.stations.verify_siting``) rejects is a solver bug and raises
``RuntimeError``, never a result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from api.services import tours
from instances.demand import groups_from_records
from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network
from optimizer.core.stop import StoppingCriterion

PlanSource = Path | str | Mapping[str, Any]


def plan_source(network: Network, *, demand: Path | str | None = None, plan: PlanSource | None = None,
                groups: Sequence[Mapping[str, Any]] | None = None, stop: StoppingCriterion,
                seed: int = 0) -> tuple[Any, Any]:
    """(TourProblem, TourPlan) that a station tool works on.

    ``plan``: a ``plan.json`` path or its parsed document (read back and verified, ``stop`` and
    ``seed`` unused); ``demand``: a demand file (``.csv``, ``.parquet``, ``.json``) planned under
    ``stop`` with ``seed``; ``groups``: group records in the JSON layout of ``instances.demand``
    (the records of ``POST /v1/tours/plan``), planned likewise; none: the embedded demo day under
    ``stop`` with ``seed``.

    Raises ``InvalidInput`` naming ``plan``/``demand``/``groups`` when more than one source is
    given, and the reader's ``InvalidInput`` for a bad file or record.
    """
    given = [name for name, v in (("plan", plan), ("demand", demand), ("groups", groups)) if v is not None]
    if len(given) > 1:
        shown = {"plan": plan if not isinstance(plan, Mapping) else "<plan object>", "demand": demand,
                 "groups": f"<{len(groups or ())} group records>"}[given[1]]
        raise InvalidInput(given[1], str(shown), f"give at most one plan source; {' and '.join(given)} were given")
    if plan is not None:
        return tours.load_plan(plan, network)
    if demand is not None:
        return tours.plan_groups(network, tours.read_groups(demand, network), stop, seed=seed)
    if groups is not None:
        return tours.plan_groups(network, groups_from_records(groups, network, source="groups"), stop, seed=seed)
    if network is tours.lhasa_network():
        return tours.demo_day(stop, seed=seed)
    return tours.demo_day(stop, seed=seed, network=network)


__all__ = ["plan_source"]

"""The scenarios family's problem: a batch of what-if scenarios on one base network and its demand.

A ``ScenarioProblem`` holds everything a worker needs, so that a scenario can run in another
process or on another machine without reading any file: the base ``Network``, the scenarios
(``optimizer.scenarios.spec``) and, for every demand spec the scenarios use, its base groups
(generated or read by the caller, e.g. ``api.services.scenarios``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network
from optimizer.scenarios.spec import DemandSpec, Scenario
from optimizer.tours import TourGroup


@dataclass(frozen=True)
class ScenarioProblem:
    """Scenarios to run on one base network.

    Attributes
    ----------
    network : Network
        The base network every scenario edits.
    scenarios : tuple[Scenario, ...]
        In file order (sweeps expanded); names and slugs unique.
    demand : Mapping[DemandSpec, tuple[TourGroup, ...]]
        The base groups of every demand spec a scenario uses (before ``demand_scale``).

    Raises ``InvalidInput`` for no scenario, a duplicate name or slug, or a scenario whose demand
    is missing from ``demand``.
    """

    network: Network
    scenarios: tuple[Scenario, ...]
    demand: Mapping[DemandSpec, tuple[TourGroup, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.scenarios:
            raise InvalidInput("scenarios", [], "give at least one scenario")
        names: set[str] = set()
        slugs: set[str] = set()
        for s in self.scenarios:
            if s.name in names:
                raise InvalidInput(f"scenario[{s.name}].name", s.name, "duplicate scenario name")
            if s.slug in slugs:
                raise InvalidInput(f"scenario[{s.name}].slug", s.slug, "duplicate slug")
            if s.demand not in self.demand:
                raise InvalidInput(f"scenario[{s.name}].demand", s.demand.label(), "no base groups given for it")
            names.add(s.name)
            slugs.add(s.slug)

    def groups_of(self, scenario: Scenario) -> tuple[TourGroup, ...]:
        """The base groups of ``scenario`` (before its ``demand_scale``)."""
        return self.demand[scenario.demand]

    def scenario(self, name: str) -> Scenario:
        """The scenario called ``name``; ``InvalidInput`` if there is none."""
        for s in self.scenarios:
            if s.name == name:
                return s
        raise InvalidInput("scenario", name, "no scenario of that name")


__all__ = ["ScenarioProblem"]

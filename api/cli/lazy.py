"""The sub-command groups of ``lhasa-ops``, imported only when a command line names them.

Each family's CLI module (``api.cli.flights``, ``api.cli.days``, ...) imports its services and their
libraries (SciPy's optimizers, OR-Tools, SQLAlchemy, matplotlib): about 1.5-3 s that ``lhasa-ops plan``
does not need. :class:`LazyGroup` is the click group of the top-level typer app: it lists every
sub-command (``lhasa-ops --help`` imports them all to show their help) but imports a family's module
only when that sub-command runs (the pattern of click's "lazily loading subcommands" documentation).
"""

from __future__ import annotations

import importlib

import click
import typer
from typer.core import TyperGroup

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "scenarios": ("api.cli.scenarios", "scenarios_app"),
    "stations": ("api.cli.stations", "stations_app"),
    "drones": ("api.cli.drones", "drones_app"),
    "flights": ("api.cli.flights", "flights_app"),
    "day": ("api.cli.days", "day_app"),
    "itineraries": ("api.cli.itineraries", "itineraries_app"),
}
"""Sub-command name -> (module, attribute of its ``typer.Typer``), in the order ``--help`` lists them."""


def load_subcommand(name: str) -> click.Command:
    """The click group of sub-command ``name`` (a key of :data:`SUBCOMMANDS`), named ``name``.
    Raises ``KeyError`` for another name."""
    module, attr = SUBCOMMANDS[name]
    group = typer.main.get_group(getattr(importlib.import_module(module), attr))
    group.name = name
    return group


class LazyGroup(TyperGroup):
    """A typer group whose sub-commands of :data:`SUBCOMMANDS` are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        eager = super().list_commands(ctx)
        return eager + [n for n in SUBCOMMANDS if n not in eager]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in SUBCOMMANDS and cmd_name not in self.commands:
            self.add_command(load_subcommand(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

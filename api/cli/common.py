"""How every ``lhasa-ops`` command reports bad input: ``error: <message>`` on stderr, exit code 2."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: <message>`` on stderr and exit with ``code`` (2: bad input)."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {message}", markup=False)
    raise typer.Exit(code)

"""The ``lhasa-ops`` entry point: says what is happening before the slow first start, then runs the CLI.

Importing the CLI (NumPy, Numba, polars, OR-Tools, FastAPI models, ...) takes 1-3 s, and the first
``plan`` after an install then compiles the solver kernels (cached on disk after). So that a fresh
install prints within a second and compiles while it imports (issue 15 item 3), this module imports
nothing heavy first: when the command solves (``plan``, ``scenarios``, ``serve``) and the tour
kernels' Numba cache looks empty, it writes one line on stderr, and for ``plan`` and ``serve`` starts
the tour kernels' compile workers (``optimizer.core.warmup``: 2 processes compile the kernels into
the cache at once while this one imports and reads the demand; the warm-up then loads them). Likewise
``itineraries plan`` starts the itinerary kernels' workers when their cache looks empty. Then it
imports and runs ``api.cli.main.app``.

The check is a file-name look-up, not a load (``api.cli.first_run.kernels_cached``).
"""

from __future__ import annotations

import sys

from api.cli import first_run
from api.cli.first_run import kernels_cached

SOLVING = frozenset({"plan", "scenarios", "serve"})
"""Commands that compile the tour kernels (the note is printed for them)."""
WORKERS_FOR = {("plan",): ("tours", "optimizer.tours.compile_plan", 2),
               ("serve",): ("tours", "optimizer.tours.compile_plan", 2),
               ("itineraries", "plan"): ("itineraries", "api.services.itineraries_compile_plan", 2)}
"""Command -> (kernel family, compile plan, its parts) whose workers start at once when that family's
cache is cold (the same plans as the families' ``KernelWarmUp``)."""
FIRST_RUN_NOTE = ("lhasa-ops: first run after an install: loading and compiling the solver kernels "
                  "(about 10 s on 2 cores, once; cached after)...")


def start_compile_workers(args: list[str]) -> str | None:
    """Start the compile workers of the family ``args`` need when its cache looks cold; returns the
    family (None: nothing started). Never raises (the warm-up compiles in-process instead)."""
    if any(a in ("--help", "-h") for a in args):
        return None
    for cmd, (family, module, parts) in WORKERS_FOR.items():
        if tuple(args[:len(cmd)]) == cmd and not kernels_cached(family):
            try:
                from optimizer.core.warmup import spawn_workers  # standard library only (and NumPy)

                return family if spawn_workers(module, parts) is not None else None
            except Exception:  # noqa: BLE001 - an optimisation: the warm-up compiles in this process
                return None
    return None


def main() -> None:
    """Print the first-run note when it applies, start the compile workers, then run the typer app."""
    args = sys.argv[1:]
    if args and args[0] in SOLVING and not any(a in ("--help", "-h") for a in args) and not kernels_cached():
        print(FIRST_RUN_NOTE, file=sys.stderr, flush=True)
        first_run.NOTE_SHOWN[0] = True  # the CLI then says nothing more about compiling
    start_compile_workers(args)
    from api.cli.main import app

    app()


if __name__ == "__main__":
    main()

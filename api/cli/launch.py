"""The ``lhasa-ops`` entry point: says what is happening before the slow first start, then runs the CLI.

Importing the CLI (NumPy, Numba, polars, OR-Tools, FastAPI models, ...) takes 1-3 s, and the first
``plan`` after an install then compiles the solver kernels (about 12 s on 2 cores; cached on disk
after). So that a fresh install prints within a second (issue 15 item 3), this module imports
nothing heavy: when the command solves (``plan``, ``scenarios``, ``serve``) and the kernels' Numba
cache looks empty, it writes one line on stderr first, then imports and runs ``api.cli.main.app``.

The check is a file-name look-up, not a load: a Numba index file of the ILS kernel
(``ils.ils_iterations-*.nbi``) under ``$NUMBA_CACHE_DIR`` when set, else in
``optimizer/core/engine/__pycache__`` (where Numba writes it when the install is writable).
"""

from __future__ import annotations

import sys

from api.cli import first_run
from api.cli.first_run import kernels_cached

SOLVING = frozenset({"plan", "scenarios", "serve"})
FIRST_RUN_NOTE = ("lhasa-ops: first run after an install: loading and compiling the solver kernels "
                  "(about 12 s on 2 cores, once; cached after)...")


def main() -> None:
    """Print the first-run note when it applies, then run the typer app."""
    args = sys.argv[1:]
    if args and args[0] in SOLVING and not any(a in ("--help", "-h") for a in args) and not kernels_cached():
        print(FIRST_RUN_NOTE, file=sys.stderr, flush=True)
        first_run.NOTE_SHOWN[0] = True  # the CLI then says nothing more about compiling
    from api.cli.main import app

    app()


if __name__ == "__main__":
    main()

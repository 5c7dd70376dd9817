"""Whether the solver kernels are in Numba's disk cache, and whether ``lhasa-ops`` said it is compiling.

Light on purpose (standard library only): ``api.cli.launch`` uses it before the heavy imports, and
``api.cli.main`` to say nothing twice. The check is a file-name look-up, not a load: a Numba index
file of the ILS kernel (``ils.ils_iterations-*.nbi``) under ``$NUMBA_CACHE_DIR`` when set, else in
``optimizer/core/engine/__pycache__`` (where Numba writes it when the install is writable).
"""

from __future__ import annotations

import os
from pathlib import Path

NOTE_SHOWN = [False]
"""``[True]`` once the entry point printed its first-run note in this process."""


def kernels_cached() -> bool:
    """Whether a Numba cache index of the tour ILS kernel exists (see the module docstring)."""
    pattern = "ils.ils_iterations-*.nbi"
    root = os.environ.get("NUMBA_CACHE_DIR")
    try:
        if root:
            return any(Path(root).glob(f"*/{pattern}"))
        engine = Path(__file__).resolve().parents[2] / "optimizer" / "core" / "engine" / "__pycache__"
        return any(engine.glob(pattern))
    except OSError:
        return True  # cannot tell: say nothing

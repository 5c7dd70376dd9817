"""Whether a kernel family is in Numba's disk cache, and whether ``lhasa-ops`` said it is compiling.

Light on purpose: ``api.cli.launch`` uses it before the heavy imports (it imports only
``optimizer.core.warmup``: the standard library and NumPy), and ``api.cli.main`` to say nothing
twice. The check is a file-name look-up, not a load: a Numba index file of the family's ILS kernel
(``ils.ils_iterations-*.nbi`` for the tours, ``kernels.ils_iterations-*.nbi`` for the itineraries),
newer than its source (``optimizer.core.warmup.kernel_cached``).
"""

from __future__ import annotations

from pathlib import Path

NOTE_SHOWN = [False]
"""``[True]`` once the entry point printed its first-run note in this process."""

_ROOT = Path(__file__).resolve().parents[2]
ILS_SOURCES = {"tours": (_ROOT / "optimizer" / "core" / "engine" / "ils.py", "ils_iterations"),
               "itineraries": (_ROOT / "optimizer" / "itineraries" / "kernels.py", "ils_iterations")}
"""Per family: the source file and name of the kernel whose cache index stands for the family."""


def kernels_cached(family: str = "tours") -> bool:
    """Whether a fresh Numba cache index of the family's ILS kernel exists (see the module docstring)."""
    from optimizer.core.warmup import kernel_cached

    return kernel_cached(*ILS_SOURCES[family])

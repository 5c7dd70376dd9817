"""Whether a kernel family is in Numba's disk cache, and whether ``lhasa-ops`` said it is compiling.

Light on purpose: ``api.cli.launch`` uses it before the heavy imports (it imports only
``optimizer.core.warmup``: the standard library and NumPy), and ``api.cli.main`` to say nothing
twice. The check is a file-name look-up, not a load: a Numba index file of a kernel of each of the
family's source files (e.g. ``ils.ils_iterations-*.nbi``), newer than its source
(``optimizer.core.warmup.kernel_cached``).
"""

from __future__ import annotations

from pathlib import Path

NOTE_SHOWN = [False]
"""``[True]`` once the entry point printed its first-run note in this process."""

_ROOT = Path(__file__).resolve().parents[2]
_ENGINE = _ROOT / "optimizer" / "core" / "engine"
KERNEL_SOURCES = {"tours": ((_ENGINE / "ils.py", "ils_iterations"), (_ENGINE / "kernels.py", "greedy_fill"),
                            (_ENGINE / "moves.py", "replace_route")),
                  "itineraries": ((_ROOT / "optimizer" / "itineraries" / "kernels.py", "ils_iterations"),)}
"""Per family: (source file, kernel) whose cache indexes stand for the family (one per source file)."""


def kernels_cached(family: str = "tours") -> bool:
    """Whether a fresh Numba cache index of each of the family's ``KERNEL_SOURCES`` exists (see the
    module docstring)."""
    from optimizer.core.warmup import kernel_cached

    return all(kernel_cached(src, name) for src, name in KERNEL_SOURCES[family])

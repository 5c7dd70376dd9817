"""Compile a family's Numba kernels once per process, before any solve's clock starts.

The first solve after an install pays the JIT compilation of its family's kernels (seconds; Numba
caches them on disk after, so later processes only load them). Every family with kernels keeps one
``KernelWarmUp``: ``ensure()`` runs the family's warm-up (a tiny solve that compiles or loads every
kernel the family uses) once per process; threads that call it at the same time wait for the one
compiling. Callers that promise a time limit (``solve``, the CLI, the HTTP routes, ``serve`` at
start-up) call ``ensure()`` first, so a cold first call honours its limit for its own work, and the
compile time is kept apart (``seconds``), never in a solve's ``runtime_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class KernelWarmUp:
    """One family's kernel warm-up, run once per process.

    Parameters
    ----------
    family : str
        Name in logs and in ``/readyz`` (``tours``, ``drones``, ...).
    run : Callable[[], object]
        Compiles (or loads from Numba's cache) every kernel of the family, e.g. a tiny solve; its return
        value is ignored. An exception propagates to the caller of ``ensure`` and the family stays
        not compiled (the next call tries again).
    """

    def __init__(self, family: str, run: Callable[[], object]) -> None:
        self.family = family
        self._run = run
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._started: float | None = None
        self.seconds = 0.0  # spent compiling (or loading) in this process

    def is_compiled(self) -> bool:
        """Whether the kernels are compiled (or loaded) in this process."""
        return self._done.is_set()

    def is_compiling(self) -> bool:
        """Whether a warm-up is running now."""
        return self._started is not None and not self._done.is_set()

    def compiling_for_s(self) -> float | None:
        """Seconds since the running warm-up started (None when none is running)."""
        started = self._started
        return None if started is None or self._done.is_set() else time.perf_counter() - started

    def ensure(self) -> float:
        """Run the warm-up unless done; returns the seconds this call waited (0.0 once compiled)."""
        if self._done.is_set():
            return 0.0
        t0 = time.perf_counter()
        with self._lock:
            if not self._done.is_set():
                self._started = time.perf_counter()
                try:
                    self._run()
                finally:
                    dt = time.perf_counter() - self._started
                    self._started = None
                self.seconds += dt
                self._done.set()
                log.info("%s kernels compiled (or loaded from the Numba cache) in %.1f s, before any solve clock",
                         self.family, dt)
        return time.perf_counter() - t0

"""Compile a family's Numba kernels once per process, before any solve's clock starts.

The first solve after an install pays the JIT compilation of its family's kernels (seconds; Numba
caches them on disk after, so later processes only load them). Every family with kernels keeps one
``KernelWarmUp``: ``ensure()`` runs the family's warm-up (a tiny solve that compiles or loads every
kernel the family uses) once per process; threads that call it at the same time wait for the one
compiling. Callers that promise a time limit (``solve``, the CLI, the HTTP routes, ``serve`` at
start-up) call ``ensure()`` first, so a cold first call honours its limit for its own work, and the
compile time is kept apart (``seconds``), never in a solve's ``runtime_s``.

Compile workers (issue 15 item 3)
---------------------------------
Numba compiles on one thread (a global compiler lock), so a cold warm-up uses one core. A family
may name a *compile plan* (``workers``: a module run as ``python -m <module> --worker K --of N
--markers DIR``; ``optimizer.core.compile_plan`` runs it): entry points that know a cold start is
coming (``lhasa-ops plan`` and ``serve``, ``api.cli.launch``; ``serve``'s background warm-up) call
``start_workers()``, which starts ``N`` worker processes (``LHASA_OPS_COMPILE_WORKERS``, default:
2, at most the cores) when the family's cache looks cold. Each worker compiles its part of the
kernels into Numba's disk cache (``cache=True``) while this process goes on (imports, reading the
demand); ``ensure()`` then waits for the workers to *exit* and runs the warm-up, which loads every
kernel from the now-filled cache. Waiting for the exit (not for files to appear) is what makes a
half-written cache unreadable here: Numba 0.68 writes a new entry's index before its data file (each
file by an atomic rename), so a reader between the two sees an entry without its data. A worker that
fails only costs time: the warm-up compiles what is missing, as without workers. A command that ends
before waiting (e.g. a bad demand file) leaves its workers to finish filling the cache; they are not
killed (a killed worker leaves no half-written file either: Numba renames each file into place).
``LHASA_OPS_COMPILE_WORKERS=0`` turns workers off (the warm-up compiles in this process).

This module imports only the standard library, so the entry point can start workers before its own
heavy imports.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

WORKERS_ENV = "LHASA_OPS_COMPILE_WORKERS"
"""Environment variable: the number of compile workers a cold start uses (0: none, compile here)."""
WORKER_TIMEOUT_S = 600.0
"""A worker still running after this many seconds is stopped (the warm-up compiles what is missing)."""
POLL_S = 0.02


def n_workers() -> int:
    """Compile workers a cold start uses: ``$LHASA_OPS_COMPILE_WORKERS`` when it is an integer >= 0
    (at most 8), else 2 on a machine with 2 or more cores and 1 on one core (a worker still overlaps
    the compilation with the caller's own imports)."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if raw:
        try:
            return max(0, min(8, int(raw)))
        except ValueError:
            log.warning("%s=%r is not an integer; using the default", WORKERS_ENV, raw)
    return 2 if (os.cpu_count() or 1) >= 2 else 1


class CompileWorkers:
    """Worker processes compiling one family's kernels into Numba's disk cache (see the module docstring).

    ``markers`` is a temporary folder shared with the workers: a worker writes ``<kernel>.done`` once a
    kernel of its part is compiled and saved, and ``w<K>.end`` when it stops, so that another worker
    waiting for that kernel loads it instead of compiling it again (``optimizer.core.compile_plan``),
    and ``w<K>.log`` with its output.
    """

    def __init__(self, module: str, n: int) -> None:
        self.module = module
        self.n = n
        self.markers = Path(tempfile.mkdtemp(prefix="lhasa_ops_compile_"))
        self.started = time.perf_counter()
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])  # the project root, for a source checkout
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.procs: list[subprocess.Popen] = []
        for k in range(n):
            with open(self.markers / f"w{k}.log", "wb") as out:
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-m", module, "--worker", str(k), "--of", str(n), "--markers", str(self.markers)],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env))
        self._codes: list[int | None] | None = None
        self.reports: list[dict] = []  # the workers' ``w<K>.json`` (kernels compiled and loaded, seconds)
        self._lock = threading.Lock()

    def running(self) -> bool:
        """Whether a worker is still running."""
        return any(p.poll() is None for p in self.procs)

    def wait(self, timeout_s: float = WORKER_TIMEOUT_S) -> list[int | None]:
        """Wait until every worker has exited (workers still running after ``timeout_s`` are killed: code
        None); logs a failed worker's output; keeps the workers' reports in ``reports``; returns the exit
        codes. Removes the marker folder after. A worker that ends without writing ``w<K>.end`` (killed)
        gets it written here, so that another worker waiting for one of its kernels stops waiting."""
        with self._lock:
            if self._codes is not None:
                return self._codes
            while True:
                codes = [p.poll() for p in self.procs]
                for k, code in enumerate(codes):
                    if code is not None:
                        (self.markers / f"w{k}.end").touch()
                if all(code is not None for code in codes):
                    break
                if time.perf_counter() - self.started > timeout_s:
                    for p in self.procs:
                        if p.poll() is None:
                            p.kill()
                            p.wait()
                    codes = [p.returncode if c is not None else None for p, c in zip(self.procs, codes, strict=True)]
                    break
                time.sleep(POLL_S)
            for k, code in enumerate(codes):
                try:
                    if code != 0:
                        text = (self.markers / f"w{k}.log").read_text(errors="replace")[-2000:]
                        log.warning("compile worker %d of %s ended with %s (the warm-up compiles what is missing): "
                                    "%s", k, self.module, code, text)
                    self.reports.append(json.loads((self.markers / f"w{k}.json").read_text()))
                except (OSError, ValueError):
                    pass
            shutil.rmtree(self.markers, ignore_errors=True)
            self._codes = codes
            return codes


_SPAWNED: dict[str, CompileWorkers] = {}
_SPAWN_LOCK = threading.Lock()


def spawn_workers(module: str, max_workers: int = 8) -> CompileWorkers | None:
    """Start the compile workers of ``module`` (once per process: a second call returns the first
    call's workers): ``n_workers()``, at most ``max_workers`` (the plan's parts). None when that is 0."""
    with _SPAWN_LOCK:
        if module in _SPAWNED:
            return _SPAWNED[module]
        n = min(n_workers(), max_workers)
        if n <= 0:
            return None
        workers = CompileWorkers(module, n)
        _SPAWNED[module] = workers
        log.info("compiling the kernels of %s in %d worker processes", module, n)
        return workers


def spawned(module: str) -> CompileWorkers | None:
    """The workers ``spawn_workers`` started for ``module`` in this process, if any."""
    return _SPAWNED.get(module)


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
    workers : str | None
        The family's compile plan, a module that ``python -m`` runs as a compile worker
        (``optimizer.core.compile_plan.main``); None: the family compiles in this process only.
    cached : Callable[[], bool] | None
        A cheap look-up (no compilation) of whether the family's kernels are in Numba's disk cache;
        ``start_workers`` starts nothing when it says so. None: always cold.
    max_workers : int
        Parts of the compile plan: more workers than that would have nothing to do.
    """

    def __init__(self, family: str, run: Callable[[], object], workers: str | None = None,
                 cached: Callable[[], bool] | None = None, max_workers: int = 2) -> None:
        self.family = family
        self._run = run
        self.workers = workers
        self.max_workers = max_workers
        self._cached = cached
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

    def workers_running_for_s(self) -> float | None:
        """Seconds since the family's compile workers started, while one still runs (None otherwise)."""
        workers = spawned(self.workers) if self.workers is not None else None
        if workers is None or self._done.is_set() or not workers.running():
            return None
        return time.perf_counter() - workers.started

    def start_workers(self) -> bool:
        """Start the family's compile workers when it has a plan, is not compiled here, and its cache looks
        cold (a worker costs a second of imports, so a warm cache starts none); returns whether workers
        are running for it now (started here or before, e.g. by ``api.cli.launch``). Never raises: a
        failure to start is logged, and ``ensure`` compiles here."""
        if self.workers is None or self._done.is_set():
            return False
        if spawned(self.workers) is not None:
            return True
        try:
            if self._cached is not None and self._cached():
                return False
            return spawn_workers(self.workers, self.max_workers) is not None
        except Exception:  # workers are an optimisation
            log.exception("%s compile workers not started", self.family)
            return False

    def ensure(self) -> float:
        """Run the warm-up unless done; returns the seconds this call waited (0.0 once compiled). When
        compile workers run for the family, waits for them to exit first, then loads from the cache."""
        if self._done.is_set():
            return 0.0
        t0 = time.perf_counter()
        with self._lock:
            if not self._done.is_set():
                self._started = time.perf_counter()
                try:
                    workers = spawned(self.workers) if self.workers is not None else None
                    if workers is not None:
                        workers.wait()
                    self._run()
                finally:
                    dt = time.perf_counter() - self._started
                    self._started = None
                self.seconds += dt
                self._done.set()
                log.info("%s kernels compiled (or loaded from the Numba cache) in %.1f s, before any solve clock",
                         self.family, dt)
        return time.perf_counter() - t0


def kernel_cached(source: str | os.PathLike[str], qualname: str) -> bool:
    """Whether Numba's disk cache holds an index of kernel ``qualname`` defined in ``source`` (a .py file)
    that is newer than the source: a file look-up, no import of Numba, no load.

    Where Numba 0.68 keeps it (``numba.core.caching``): under ``$NUMBA_CACHE_DIR`` when set, in a folder
    named after the source's folder and a hash of its path (``engine_<sha1>``); else in ``__pycache__``
    beside the source, or the user cache (``~/.cache/numba``) when that is not writable. The index is
    ``<file stem>.<qualname>-<line>.py<version>.nbi``. An index older than its source is stale (Numba
    recompiles), so it does not count. A failed look-up says True (cannot tell: start nothing).
    """
    src = Path(source)
    pattern = f"{src.stem}.{qualname}-*.nbi"
    folder = f"{src.parent.name}_*"
    try:
        root = os.environ.get("NUMBA_CACHE_DIR")
        if root:
            dirs = list(Path(root).glob(folder))
        else:
            user = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "numba"
            dirs = [src.parent / "__pycache__", *user.glob(folder)]
        src_mtime = src.stat().st_mtime
        return any(idx.stat().st_mtime >= src_mtime for d in dirs for idx in d.glob(pattern))
    except OSError:
        return True

"""One compile worker of a family's compile plan (issue 15 item 3; started by ``optimizer.core.warmup``).

A *compile plan* splits a family's Numba kernels into parts, one per worker process, each an ordered
list of ``Step(kernel, signature)``: the worker compiles its steps in order with
``kernel.compile(signature)``; ``cache=True`` saves each to Numba's disk cache. A kernel compiles its
callees first (Numba types a call by compiling the callee), so a callee that belongs to another
worker's part would be compiled twice; instead, this worker waits for it: a hook on that kernel's
cache look-up polls until the owner has written ``<kernel>.done`` in the shared markers folder (the
owner writes it after ``compile`` returned, i.e. after Numba saved both the index and the data file)
or has stopped (``w<K>.end``; then it loads the kernel if the owner saved it, else compiles it), then
loads it from the cache. Parts are ordered so that a worker rarely waits: callees before callers,
each worker's costly kernels early.

Signatures are written in the plan with the types of the family's own warm-up problem (``numba.typeof``
of its arrays), the same types its warm-up calls pass; a plan whose signature no longer matches what a
caller passes only costs a second compilation (the worker compiles the needed one), and the tests of
each plan (``tests/core/test_core_compile_workers.py``, ``tests/itineraries/test_itineraries_compile_workers.py``)
check that the workers together compile every kernel once and leave nothing to compile to the warm-up
that loads them.

With fewer workers than parts, a worker takes every ``n``-th part; one worker compiles them all (it
still runs beside the caller's own imports). A worker writes ``w<K>.json``: the kernels it compiled,
those it loaded (from another worker), wall and CPU seconds.

A part may also hold a ``Run(fn)`` step: the worker calls ``fn()`` (e.g. a family's whole warm-up),
which compiles whatever it calls; nothing waits for it (a one-part plan needs no signatures).

Run as ``python -m <plan module> --worker K --of N --markers DIR`` (``main(plan)``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WAIT_S = 300.0
"""Longest wait for another worker's kernel before compiling it here."""
POLL_S = 0.005


@dataclass(frozen=True)
class Step:
    """Compile ``kernel`` (a Numba dispatcher) for ``signature`` (a tuple of Numba types)."""

    kernel: Any
    signature: tuple


@dataclass(frozen=True)
class Run:
    """Call ``fn()`` (e.g. a family's whole warm-up): compiles whatever it calls. Nothing waits for it."""

    fn: Callable[[], object]


def array_types() -> tuple[Any, Any, Any, Any]:
    """Numba types of the 1-d C-contiguous arrays kernels take, for plan signatures: (int64, int32,
    float64, bool) arrays, as ``numba.typeof`` gives them for ``np.zeros(1, dtype)``."""
    import numpy as np
    from numba import typeof

    return (typeof(np.zeros(1, np.int64)), typeof(np.zeros(1, np.int32)), typeof(np.zeros(1)),
            typeof(np.zeros(1, np.bool_)))


def kernel_key(kernel: Any) -> str:
    """``module.qualname`` of a dispatcher's Python function: its marker's name."""
    f = kernel.py_func
    return f"{f.__module__}.{f.__qualname__}"


def parts_for(parts: Sequence[Sequence[Step | Run]], worker: int, n: int) -> list[list[Step | Run]]:
    """The parts worker ``worker`` of ``n`` compiles (every ``n``-th, in order)."""
    return [list(p) for i, p in enumerate(parts) if i % n == worker]


def _wait_for(kernel: Any, markers: Path, owner: int, seen: dict[str, list[str]]) -> None:
    """Make ``kernel``'s cache look-up wait for worker ``owner``'s marker (see the module docstring)."""
    cache = getattr(kernel, "_cache", None)
    original = getattr(cache, "load_overload", None)
    if original is None:  # not a cached CPU dispatcher: nothing to wait for
        return
    key = kernel_key(kernel)
    done, end = markers / f"{key}.done", markers / f"w{owner}.end"

    def load_overload(sig: Any, target_context: Any) -> Any:
        deadline = time.monotonic() + WAIT_S
        while not done.exists() and not end.exists() and time.monotonic() < deadline:
            time.sleep(POLL_S)
        result = original(sig, target_context)
        if result is not None:
            seen["loaded"].append(key)
        return result

    cache.load_overload = load_overload


def run_worker(parts: Sequence[Sequence[Step | Run]], worker: int, n: int, markers: Path) -> dict[str, Any]:
    """Compile this worker's parts of ``parts`` (see the module docstring); returns the report it writes
    to ``markers / f"w{worker}.json"``. ``w<worker>.end`` is written however it ends."""
    from numba.core import event

    t0, c0 = time.perf_counter(), time.process_time()
    seen: dict[str, list[str]] = {"compiled": [], "loaded": []}
    try:
        owner = {}
        for i, part in enumerate(parts):
            for step in part:
                if isinstance(step, Run):
                    continue
                owner.setdefault(kernel_key(step.kernel), (i % n, step.kernel))
        for k, kernel in owner.values():
            if k != worker:
                _wait_for(kernel, markers, k, seen)

        class _Compiled(event.Listener):
            def on_start(self, ev: Any) -> None:
                pass

            def on_end(self, ev: Any) -> None:
                seen["compiled"].append(kernel_key(ev.data["dispatcher"]))

        with event.install_listener("numba:compile", _Compiled()):
            for part in parts_for(parts, worker, n):
                for step in part:
                    if isinstance(step, Run):
                        step.fn()
                        continue
                    step.kernel.compile(step.signature)
                    (markers / f"{kernel_key(step.kernel)}.done").touch()
        report = {"worker": worker, "of": n, **seen, "wall_s": time.perf_counter() - t0,
                  "cpu_s": time.process_time() - c0}
        (markers / f"w{worker}.json").write_text(json.dumps(report))
        return report
    finally:
        (markers / f"w{worker}.end").touch()


def main(plan: Callable[[], Sequence[Sequence[Step | Run]]], argv: Sequence[str] | None = None) -> int:
    """Entry point of a plan module: ``--worker K --of N --markers DIR``; builds the plan (imports and
    the warm-up problem's types) and runs ``run_worker``. Exit code 0."""
    parser = argparse.ArgumentParser(description="One compile worker (optimizer.core.compile_plan).")
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--of", type=int, required=True)
    parser.add_argument("--markers", type=Path, required=True)
    args = parser.parse_args(argv)
    if not 0 <= args.worker < args.of:
        parser.error(f"--worker {args.worker} is not in 0..{args.of - 1}")
    try:
        parts = plan()
    except BaseException:
        (args.markers / f"w{args.worker}.end").touch()
        raise
    run_worker(parts, args.worker, args.of, args.markers)
    return 0

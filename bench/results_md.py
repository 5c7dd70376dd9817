"""Assemble ``bench/RESULTS.md`` from the section files that each bench runner writes.

Each runner writes ``bench/results/<name>.md`` (a heading, the command that regenerates it, the
machine, and a table). ``write_section`` saves one and rebuilds RESULTS.md from all of them, in
the order of ``ORDER`` (unknown names last, alphabetically).
"""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
SECTIONS = BENCH_DIR / "results"
RESULTS = BENCH_DIR / "RESULTS.md"
ORDER = ["demo_day", "kernels", "speedup", "quality_1s", "quality_10s", "scenarios", "siting", "stations",
         "station_ops", "drones", "drones_public", "flights", "api_load", "api_fuzz"]


def machine() -> str:
    """One line naming the machine: CPU model, cores, Python."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def table(header: list[str], rows: list[list[object]]) -> str:
    """A GitHub-flavoured markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def write_section(name: str, title: str, command: str, body: str) -> Path:
    """Save one section and rebuild RESULTS.md. Returns the RESULTS.md path."""
    SECTIONS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"## {title}\n\nRegenerate: `{command}`  \nRun {stamp} on {machine()}.\n\n{body.strip()}\n"
    (SECTIONS / f"{name}.md").write_text(text, encoding="utf-8")
    return rebuild()


def rebuild() -> Path:
    files = sorted(SECTIONS.glob("*.md"), key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else 99, p.stem))
    parts = ["# Benchmark results\n\nWritten by the scripts in `bench/` (fixed seeds, fixed instances); "
             "do not edit by hand. Each section names the command that regenerates it.\n"]
    parts += [p.read_text(encoding="utf-8") for p in files]
    RESULTS.write_text("\n".join(parts), encoding="utf-8")
    return RESULTS


def parse_quick(argv: list[str] | None, doc: str | None) -> bool:
    """The ``--quick`` flag of a benchmark script (argparse: ``--help`` prints ``doc`` and exits,
    an unknown option exits 2 naming it)."""
    import argparse

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smaller run for a smoke test")
    return parser.parse_args(argv).quick


def count_arg(text: str) -> int:
    """argparse ``type=`` of an iteration count or seed: an integer >= 0, else exit 2 with usage
    (``--iterations -5`` ended in a traceback of ``StoppingCriterion``)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer >= 0") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be an integer >= 0")
    return value


def seconds_arg(text: str) -> float:
    """argparse ``type=`` of a time limit: a finite number of seconds > 0, else exit 2 with usage."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a finite number of seconds > 0")
    return value

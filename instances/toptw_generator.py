"""Seeded generator of unseen Cordeau-like TOPTW instances (KU Leuven file format), for the
generalisation check of the routing engine (issue 15 item 1).

The shape follows what the Cordeau ``pr01-pr10`` files of ``shared/benchmarks/toptw`` show
(Cordeau, Gendreau & Laporte 1997 MDVRP instances with the windows of Righini & Salani 2009, as read
by :func:`instances.benchmarks.read_toptw`): customers uniform in the square ``[-100, 100]^2``, the
depot near the centre, integer service times and scores uniform in ``1..25``, horizon
``t_max = 1000``, windows of width 90-179 whose opening lies in ``60..650``. Measured on the shared
files (pr01, pr05, pr06, pr10): x in [-99.6, 98.4], service 1..25, score 1..25, width 90..179, open
>= 61, close <= 652. The generator draws the same and then **widens every window** by
``window_factor`` around its centre (clipped to ``[0, t_max]``): the "wider windows" case in which the
published gaps did not carry over. Travel is read back, as for the ``pr*`` files, as the Euclidean
distance truncated to 2 decimals (the file names start with ``pr``).

``python -m instances.toptw_generator --out DIR [--count 10] [--seed 0] [--window-factor 2]`` writes
``pr_g<seed>_<k>.txt`` files; the same seed writes the same files.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

__all__ = ["SIZES", "cordeau_like_text", "write_cordeau_like"]

SIZES = (48, 96, 144, 192, 240, 288)
"""Customer counts of the Cordeau ``pr`` files (pr01-pr05 and pr06-pr10 use these sizes)."""


def cordeau_like_text(n_customers: int, seed: int, window_factor: float = 2.0, t_max: float = 1000.0) -> str:
    """The text of one KU Leuven TOPTW file with ``n_customers`` customers (see the module docstring).

    Raises ``ValueError`` for ``n_customers < 1``, ``window_factor < 1`` or ``t_max <= 0``.
    """
    if n_customers < 1:
        raise ValueError(f"n_customers must be >= 1, got {n_customers}")
    if not window_factor >= 1.0:
        raise ValueError(f"window_factor must be >= 1, got {window_factor}")
    if not t_max > 0:
        raise ValueError(f"t_max must be > 0, got {t_max}")
    rng = np.random.default_rng(seed)
    depot = rng.uniform(-20.0, 20.0, size=2)
    xy = rng.uniform(-100.0, 100.0, size=(n_customers, 2))
    service = rng.integers(1, 26, size=n_customers)
    score = rng.integers(1, 26, size=n_customers)
    width = rng.integers(90, 180, size=n_customers).astype(float)
    open_ = rng.integers(60, 651, size=n_customers).astype(float)
    centre = open_ + width / 2
    half = width * window_factor / 2
    lo = np.clip(np.floor(centre - half), 0.0, t_max)
    hi = np.clip(np.ceil(centre + half), 0.0, t_max)
    lines = [f"5 {max(1, n_customers // 48)} {n_customers} 4", "500 200",
             f" 0 {depot[0]:.3f} {depot[1]:.3f} 0 0 0 0 0 {t_max:g}"]
    for i in range(n_customers):
        lines.append(f" {i + 1} {xy[i, 0]:.3f} {xy[i, 1]:.3f} {int(service[i])} {int(score[i])} 1 1 1 "
                     f"{lo[i]:g} {hi[i]:g}")
    return "\n".join(lines) + "\n"


def write_cordeau_like(out: str | Path, count: int = 10, seed: int = 0, window_factor: float = 2.0) -> list[Path]:
    """Write ``count`` instances to folder ``out`` (created); sizes cycle through :data:`SIZES`;
    instance ``k`` uses seed ``seed * 1000 + k``. Returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(count):
        n = SIZES[k % len(SIZES)]
        p = out / f"pr_g{seed}_{k:02d}.txt"
        p.write_text(cordeau_like_text(n, seed * 1000 + k, window_factor), encoding="utf-8")
        paths.append(p)
    return paths


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m instances.toptw_generator", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--window-factor", type=float, default=2.0)
    a = ap.parse_args(argv)
    if a.count < 0:
        ap.error(f"--count must be an integer >= 0, got {a.count}")
    if a.seed < 0:
        ap.error(f"--seed must be an integer >= 0, got {a.seed}")
    if not (math.isfinite(a.window_factor) and a.window_factor > 0):
        ap.error(f"--window-factor must be a finite number > 0, got {a.window_factor:g}")
    try:
        paths = write_cordeau_like(a.out, a.count, a.seed, a.window_factor)
    except OSError as e:
        ap.error(f"--out {str(a.out)!r}: cannot write there ({e.strerror or e})")
    for p in paths:
        print(p)


if __name__ == "__main__":
    main()

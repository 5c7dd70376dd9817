"""Reader for the OPHS benchmark files (Orienteering Problem with Hotel Selection).

Instances of Divsalar, Vansteenwegen & Cattrysse (2013), Int. J. Production Economics 145(1)
(SET1 on Chao TOP graphs) and the TSPLIB-based sets used by Roboredo et al. (branch-cut-and-price);
copies and the format text in ``shared/benchmarks/ophs`` (see its SOURCES.md).

Format: ``N H D`` / ``Tmax`` / ``T_1 .. T_D`` / blank / ``N + H`` lines ``x y score``: start hotel
``H0``, end hotel ``H1``, the ``H`` extra hotels, then the ``N - 2`` vertices. Travel = real
Euclidean distance (no rounding). A trip ``d`` leaves a hotel and reaches a hotel within ``T_d``.

Mapping onto :class:`optimizer.itineraries.problem.ItineraryProblem`: one group, ``n_days = D``;
all ``H + 2`` hotels are ``Hotel``s (unlimited rooms, price 0, usable on any night); the group
arrives at ``H0`` on day 0 at minute 0 and leaves from ``H1`` on day ``D - 1``; day ``d`` has the
window ``(0, T_d + trip_tolerance)``; vertices are sites with their score, no visit time, one
window covering every trip. ``trip_tolerance`` (default 0): the ``T_d`` in the files are rounded to
4-6 significant digits and some proven-optimal tours exceed them by up to 0.0029 (SOURCES.md), so
the benchmark runner uses 0.003 and says so.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from instances.paths import benchmarks_root
from optimizer.itineraries.problem import Group, Hotel, ItineraryProblem, Site

__all__ = ["OPHS_DIR", "read_ophs", "read_ophs_values"]

OPHS_DIR = "ophs"


def read_ophs(path: str | Path, trip_tolerance: float = 0.0) -> ItineraryProblem:
    """Read an ``.ophs`` file into an ``ItineraryProblem``; ``ValueError("<path>: line k: ...")``
    on a malformed file."""
    path = Path(path)
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    rows: list[tuple[int, list[str]]] = [(k + 1, ln.split()) for k, ln in enumerate(lines)
                                         if ln and not ln.startswith("-----")]
    try:
        (k1, head), _, (_, tds) = rows[0], rows[1], rows[2]
        n_nodes, n_extra, n_days = int(head[0]), int(head[1]), int(head[2])
        trip = [float(x) for x in tds[:n_days]]
    except (IndexError, ValueError) as e:
        raise ValueError(f"{path}: line 1-3: expected 'N H D', 'Tmax', 'T_1..T_D' ({e})") from None
    if n_nodes < 2 or n_extra < 0 or n_days < 1 or len(trip) != n_days:
        raise ValueError(f"{path}: line {k1}: bad header N={n_nodes} H={n_extra} D={n_days} or {len(trip)} trip lengths")
    body = rows[3:]
    want = n_nodes + n_extra
    if len(body) < want:
        raise ValueError(f"{path}: {len(body)} node lines, expected N + H = {want}")
    xy = np.zeros((want, 2))
    score = np.zeros(want)
    for i, (k, parts) in enumerate(body[:want]):
        try:
            xy[i] = float(parts[0]), float(parts[1])
            score[i] = float(parts[2])
        except (IndexError, ValueError):
            raise ValueError(f"{path}: line {k}: expected 'x y score', got {' '.join(parts)!r}") from None
    n_h = n_extra + 2
    hotel_idx = list(range(n_h))
    site_idx = list(range(n_h, want))
    order = site_idx + hotel_idx
    pts = xy[order]
    travel = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2))
    tol = float(trip_tolerance)
    close = max(trip) + tol
    sites = tuple(Site(f"v{i - n_h + 1}", float(score[i]), 0.0, (((0.0, close),),)) for i in site_idx)
    hotels = tuple(Hotel(f"H{i}") for i in hotel_idx)
    group = Group("tour", 0, 0.0, "H0", n_days - 1, trip[-1] + tol, "H1", size=1, rooms=0,
                  day_windows=tuple((0.0, t + tol) for t in trip))
    return ItineraryProblem(path.stem, n_days, sites, hotels, (group,), travel)


def read_ophs_values(path: str | Path | None = None) -> dict[str, float]:
    """``instance -> value`` from an OPHS value file (columns ``instance, value``; default the
    shared ``ophs/bks.csv``)."""
    path = Path(path) if path is not None else benchmarks_root() / OPHS_DIR / "bks.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["instance"]: float(r["value"]) for r in csv.DictReader(fh) if r.get("value")}

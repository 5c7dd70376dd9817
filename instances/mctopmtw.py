"""Reader for the MCTOPMTW benchmark files (multi-constraint TOP with multiple time windows).

Instances of Souffriau, Vansteenwegen, Vanden Berghe & Van Oudheusden (2013), "The multiconstraint
team orienteering problem with multiple time windows", Transportation Science 47(1) (GRILS);
copies and the format text in ``shared/benchmarks/mctopmtw`` (see its SOURCES.md).

Format: ``M N B E1..E10`` / depot ``0 x y d S O C`` / ``N`` lines ``i x y d S O1 O2 O3 O4 C4 E b
e1..e10``: ``M`` tours, budget ``B`` on entrance fees, at most ``E_z`` vertices of type ``z``; four
consecutive windows ``[O1,O2] [O2,O3] [O3,O4] [O4,C4]``; ``E = 1``: tours 1 and 3 use windows 1
and 3, tours 2 and 4 windows 2 and 4 (``E = 0`` the other way round); ``b`` the entrance fee;
``e_z = 1`` when the vertex is of type ``z``. Travel = Euclidean distance rounded down to 1 decimal
(Solomon-based files; format text).

Mapping onto :class:`optimizer.itineraries.problem.ItineraryProblem`: one group of size 1,
``n_days = M`` (tour ``t`` = day ``t - 1``), one hotel ``depot`` fixed every night, day window
``(O, C)``, sites with the two windows of their day, ticket price ``b``, types ``z1..z10``;
``budget = B`` and ``E_z`` as limits over the whole trip (``max_per_type_trip``): the budget and the
type limits of the files grow with ``M`` (e.g. c101: B = 471 for one tour, 1844 for four), i.e.
they bound the trip, not each tour.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from instances.paths import benchmarks_root
from optimizer.itineraries.problem import Group, Hotel, ItineraryProblem, Site

__all__ = ["MCTOPMTW_DIR", "read_mctopmtw", "read_mctopmtw_values"]

MCTOPMTW_DIR = "mctopmtw"
N_TYPES = 10


def _trunc1(x: np.ndarray) -> np.ndarray:
    """Round down to one decimal, robust to float noise (e.g. 5.0 stored as 4.99999...)."""
    return np.floor(x * 10.0 + 1e-7) / 10.0


def read_mctopmtw(path: str | Path) -> ItineraryProblem:
    """Read an MCTOPMTW file; ``ValueError("<path>: line k: ...")`` on a malformed file."""
    path = Path(path)
    lines = [(k + 1, ln.split()) for k, ln in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines())
             if ln.strip()]
    try:
        k1, head = lines[0]
        m, n, budget = int(head[0]), int(head[1]), float(head[2])
        limits = [int(float(x)) for x in head[3:3 + N_TYPES]]
        k2, dep = lines[1]
        dx, dy = float(dep[1]), float(dep[2])
        o, c = float(dep[5]), float(dep[6])
    except (IndexError, ValueError) as e:
        raise ValueError(f"{path}: line 1-2: expected 'M N B E1..E10' and the depot line ({e})") from None
    if len(limits) != N_TYPES or m < 1 or n < 0:
        raise ValueError(f"{path}: line {k1}: bad header")
    body = lines[2:2 + n]
    if len(body) < n:
        raise ValueError(f"{path}: {len(body)} vertex lines, expected N = {n}")
    xy = np.zeros((n + 1, 2))
    xy[n] = dx, dy
    sites = []
    for i, (k, p) in enumerate(body):
        try:
            x, y, d, s = (float(v) for v in p[1:5])
            w = [float(v) for v in p[5:10]]
            e = int(float(p[10]))
            fee = float(p[11])
            types = tuple(f"z{z + 1}" for z in range(N_TYPES) if int(float(p[12 + z])) == 1)
        except (IndexError, ValueError):
            raise ValueError(f"{path}: line {k}: expected 'i x y d S O1 O2 O3 O4 C4 E b e1..e10'") from None
        wins = [(w[0], w[1]), (w[1], w[2]), (w[2], w[3]), (w[3], w[4])]
        odd = (wins[0], wins[2]) if e == 1 else (wins[1], wins[3])   # tours 1 and 3
        even = (wins[1], wins[3]) if e == 1 else (wins[0], wins[2])  # tours 2 and 4
        per_day = tuple(odd if t % 2 == 0 else even for t in range(m))
        xy[i] = x, y
        sites.append(Site(p[0], s, d, per_day, ticket_price=fee, types=types))
    travel = _trunc1(np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)))
    group = Group("tourist", 0, o, "depot", m - 1, c, "depot", size=1, rooms=0,
                  hotels=("depot",) * (m - 1), budget=budget,
                  max_per_type_trip=tuple((f"z{z + 1}", limits[z]) for z in range(N_TYPES)),
                  day_windows=((o, c),))
    if not math.isfinite(c):
        raise ValueError(f"{path}: line {k2}: depot close time not finite")
    return ItineraryProblem(path.stem, m, tuple(sites), (Hotel("depot"),), (group,), travel)


def read_mctopmtw_values(path: str | Path | None = None) -> dict[str, float]:
    """``instance -> value`` (default the shared ``mctopmtw/bks.csv``, 2013 best-known values)."""
    path = Path(path) if path is not None else benchmarks_root() / MCTOPMTW_DIR / "bks.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["instance"]: float(r["value"]) for r in csv.DictReader(fh) if r.get("value")}

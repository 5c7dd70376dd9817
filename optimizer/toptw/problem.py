"""The classic (Team) Orienteering Problem with Time Windows instance.

A TOPTW instance (Vansteenwegen, Souffriau, Vanden Berghe & Van Oudheusden 2009, "Iterated local
search for the team orienteering problem with time windows", Computers & Operations Research
36(12):3281-3290) has ``n`` nodes: a start depot, an end depot (the same node in the KU Leuven
OPTW/TOPTW files, a different node in Chao, Golden & Wasil 1996, EJOR 88(3):464-474, TOP files) and
customers, each with a score, a service duration and a time window ``[open, close]`` on the *start*
of service. ``m`` routes leave the start depot and must reach the end depot by ``t_max``; waiting
before a window opens is allowed; each customer is scored at most once over all routes.

Depot times (one semantics for every solver and the checker; issue 14, case 6)
    A route leaves the start depot **no earlier than its opening time** ``open_min[start]`` (the
    earliest schedule leaves exactly then: leaving later never helps, as waiting is allowed
    anywhere) and reaches the end depot **by** ``return_by_min = min(t_max, close_min[end])``. So the
    horizon of every route is ``[depart_min, return_by_min]`` with ``depart_min = open_min[start]``.
    ``close_min[start]`` (when the depots differ) and ``open_min[end]`` do not constrain a route (a
    route may reach the end depot before it opens). The benchmark files open the depot at 0 and close
    it at ``t_max``, so there this is the usual "leave at 0, back by ``t_max``". The ILS
    (:mod:`optimizer.toptw.solve`), the exact model (:mod:`models.toptw_cpsat`), the routing baseline
    (:mod:`models.toptw_routing`) and the checker (:mod:`optimizer.toptw.verify`) all use it.

Travel times are not assumed metric: ``travel_min[i, k]`` may exceed ``travel_min[i, j] +
service_min[j] + travel_min[j, k]`` (issue 14, case 5), so a customer that the direct arc from the
depot reaches too late may still be reachable through other customers. Bounds that hold along paths
are in :mod:`optimizer.toptw.reach`.

Units: minutes for every time (the benchmark files use abstract time units; we read them as
minutes), the same unit for travel times, score unitless. This is the plain benchmark model used by
the readers in :mod:`instances.benchmarks`, the ILS (:mod:`optimizer.toptw.solve`), the exact model
:mod:`models.toptw_cpsat`, the routing baseline :mod:`models.toptw_routing` and the verifier
:mod:`optimizer.toptw.verify`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from optimizer.core.errors import InvalidInput

__all__ = ["TOPTWInstance"]


def _vector(name: str, value: object, n: int) -> np.ndarray:
    """Return ``value`` as a read-only float64 copy of shape ``(n,)`` with finite entries."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(name, value, "not a numeric array") from None
    if arr.shape != (n,):
        raise InvalidInput(name, arr.shape, f"shape must be ({n},)")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise InvalidInput(f"{name}[{int(bad[0])}]", float(arr[bad[0]]), "must be finite")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class TOPTWInstance:
    """A (T)OPTW / TOP instance with ``n`` nodes, validated and immutable.

    Attributes
    ----------
    name : str
        Instance name (``c101``, ``pr01``, ``p2.2.a``...).
    x, y : float64[n]
        Coordinates (only used for display and by readers to build ``travel_min``).
    service_min : float64[n]
        Service (visit) duration in minutes, >= 0 (0 at the depots in the benchmarks).
    score : float64[n]
        Profit collected when the node is visited, >= 0 (0 at the depots).
    open_min, close_min : float64[n]
        Time window on the start of service, minutes from the start of the day: service at node
        ``i`` starts in ``[open_min[i], close_min[i]]``. For the depots ``close_min`` is ``t_max``
        in the benchmarks.
    travel_min : float64[n, n]
        Travel time in minutes from row node to column node, >= 0. Not necessarily symmetric or
        metric (the KU Leuven files truncate distances, so the triangle inequality may fail).
    n_routes : int
        Number of routes ``m`` >= 1.
    t_max : float
        Route deadline in minutes from the start of the day: every route leaves ``start`` no earlier
        than ``open_min[start]`` and reaches ``end`` by ``min(t_max, close_min[end])`` (see "Depot
        times" in the module docstring; ``t_max`` is the close time of the depot for TOPTW, ``tmax``
        for TOP).
    start, end : int
        Start and end depot indices (equal for TOPTW files; 0 and ``n - 1`` for Chao TOP files).

    Raises
    ------
    optimizer.core.errors.InvalidInput (a ``ValueError``)
        On a wrong shape, a non-finite value, a negative service/score/travel time, a window that
        closes before it opens, ``n_routes < 1``, or depot indices out of range.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    service_min: np.ndarray
    score: np.ndarray
    open_min: np.ndarray
    close_min: np.ndarray
    travel_min: np.ndarray
    n_routes: int
    t_max: float
    start: int = 0
    end: int = 0

    def __post_init__(self) -> None:
        try:
            n = int(np.asarray(self.x).shape[0])
        except (IndexError, TypeError):
            raise InvalidInput("x", self.x, "must be a 1-d array of node coordinates") from None
        if n < 1:
            raise InvalidInput("x", n, "an instance needs at least one node")
        for name in ("x", "y", "service_min", "score", "open_min", "close_min"):
            object.__setattr__(self, name, _vector(name, getattr(self, name), n))
        try:
            travel = np.array(self.travel_min, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidInput("travel_min", self.travel_min, "not a numeric array") from None
        if travel.shape != (n, n):
            raise InvalidInput("travel_min", travel.shape, f"shape must be ({n}, {n})")
        bad = np.argwhere(~np.isfinite(travel) | (travel < 0))
        if bad.size:
            i, j = (int(v) for v in bad[0])
            raise InvalidInput(f"travel_min[{i},{j}]", float(travel[i, j]), "must be finite and >= 0")
        travel.setflags(write=False)
        object.__setattr__(self, "travel_min", travel)

        for name in ("service_min", "score"):
            arr = getattr(self, name)
            neg = np.flatnonzero(arr < 0)
            if neg.size:
                raise InvalidInput(f"{name}[{int(neg[0])}]", float(arr[neg[0]]), "must be >= 0")
        inv = np.flatnonzero(self.close_min < self.open_min)
        if inv.size:
            i = int(inv[0])
            raise InvalidInput(
                f"close_min[{i}]", float(self.close_min[i]), f"closes before it opens at {self.open_min[i]}"
            )
        if isinstance(self.n_routes, bool) or int(self.n_routes) != self.n_routes or self.n_routes < 1:
            raise InvalidInput("n_routes", self.n_routes, "must be an integer >= 1")
        object.__setattr__(self, "n_routes", int(self.n_routes))
        try:
            t_max = float(self.t_max)
        except (TypeError, ValueError):
            raise InvalidInput("t_max", self.t_max, "not a number") from None
        if not math.isfinite(t_max) or t_max < 0:
            raise InvalidInput("t_max", self.t_max, "must be finite and >= 0")
        object.__setattr__(self, "t_max", t_max)
        for name in ("start", "end"):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or not 0 <= int(v) < n:
                raise InvalidInput(name, v, f"must be a node index in 0..{n - 1}")
            object.__setattr__(self, name, int(v))
        object.__setattr__(self, "name", str(self.name))

    # ------------------------------------------------------------------ derived views
    @property
    def n(self) -> int:
        """Number of nodes, depots included."""
        return int(self.x.shape[0])

    @property
    def depart_min(self) -> float:
        """When routes leave the start depot: its opening time ``open_min[start]``."""
        return float(self.open_min[self.start])

    @property
    def return_by_min(self) -> float:
        """By when routes must reach the end depot: ``min(t_max, close_min[end])``."""
        return float(min(self.t_max, self.close_min[self.end]))

    @property
    def customers(self) -> tuple[int, ...]:
        """Customer node indices (every node but ``start`` and ``end``), ascending."""
        return tuple(i for i in range(self.n) if i != self.start and i != self.end)

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return len(self.customers)

    # ------------------------------------------------------------------ copies
    def with_routes(self, m: int) -> TOPTWInstance:
        """Return a copy of this instance with ``n_routes = m`` (validated: ``m >= 1``)."""
        return replace(self, n_routes=m)

    def subset(self, k: int) -> TOPTWInstance:
        """Return the instance restricted to the depot(s) and the first ``k`` customers.

        Customers keep their order; nodes are renumbered: the start depot stays at its position
        relative to the kept customers (index 0 in every benchmark file) and a distinct end depot
        goes last, as in the Chao files. ``k`` is clipped to ``[0, n_customers]``. The name gets a
        ``[:k]`` suffix. Used for small exact test cases.
        """
        if int(k) != k or k < 0:
            raise InvalidInput("k", k, "must be an integer >= 0")
        keep_customers = self.customers[: int(k)]
        keep = sorted({self.start, *keep_customers})
        if self.end != self.start:
            keep.append(self.end)
        idx = np.array(keep, dtype=np.int64)
        return TOPTWInstance(
            name=f"{self.name}[:{len(keep_customers)}]",
            x=self.x[idx],
            y=self.y[idx],
            service_min=self.service_min[idx],
            score=self.score[idx],
            open_min=self.open_min[idx],
            close_min=self.close_min[idx],
            travel_min=self.travel_min[np.ix_(idx, idx)],
            n_routes=self.n_routes,
            t_max=self.t_max,
            start=keep.index(self.start),
            end=len(keep) - 1 if self.end != self.start else keep.index(self.start),
        )

    def __repr__(self) -> str:
        return (
            f"TOPTWInstance(name={self.name!r}, n={self.n}, customers={self.n_customers}, "
            f"n_routes={self.n_routes}, t_max={self.t_max}, start={self.start}, end={self.end})"
        )

"""Readers for the public flow-refuelling (FRLM) test networks and gravity O-D flows.

Networks (``shared/benchmarks/frlm_ev``, see its ``SOURCES.md``; copied unchanged from
github.com/optboy/FRLMwCT commit f64065b):

* ``25node_simpson_hodgson`` -- the classic 25-node, 43-arc network (Simpson 1969 / Hodgson 1990),
  used by Kuby & Lim (2005) and most FRLM papers. Node weights sum to 1018; arc lengths are
  integer *network units* (2..9), not km.
* ``texas`` -- 124 nodes (38 with positive weight), 239 arcs, integer lengths 1..12 (units not
  documented).

File format (tab or space separated, no header, last line may lack a newline):
``NODES.txt``: ``node_id weight x y``; ``ARCS.txt``: ``arc_id length from_node to_node`` (undirected).

Gravity flows (Kuby & Lim 2005 build O-D flows with a gravity model from node weights and
shortest-path distances; SOURCES.md warns that exponent and scaling differ between papers)::

    f_ij = w_i * w_j / d_ij ** b      for every unordered pair i < j with w_i, w_j > 0

with ``b = GRAVITY_EXPONENT = 1.5``, the value used in the FRLM-family code the networks come from
(FRLMwCT ``make_demand``); Kuby & Lim's own exponent was not re-verified in this session (K).
Flows are for round trips, so one unordered pair carries both directions (the 25-node network
has 25*24/2 = 300 O-D pairs, as in Kuby & Lim). By default the flows are rescaled to sum to
``total = 100`` so that objectives read as "percent of all O-D flow refuelled".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

from instances.paths import benchmarks_root
from optimizer.stations.siting import FlowPath, FlowProblem

__all__ = [
    "GRAVITY_EXPONENT",
    "FRLMNetwork",
    "all_pairs_shortest_paths",
    "flow_problem",
    "frlm_root",
    "gravity_flows",
    "load_25node",
    "load_texas",
    "node_path",
    "read_frlm_network",
]

GRAVITY_EXPONENT = 1.5
"""Distance-decay exponent ``b`` of the gravity model ``w_i w_j / d_ij**b`` (see module docstring)."""


def frlm_root() -> Path:
    """``shared/benchmarks/frlm_ev`` next to the repository (``$LHASA_BENCHMARKS/frlm_ev`` if set)."""
    return benchmarks_root() / "frlm_ev"


@dataclass(frozen=True, eq=False)
class FRLMNetwork:
    """An undirected road network with node weights.

    Attributes
    ----------
    name : str
    node_ids : tuple[int, ...]
        Ids as in the file (1-based); index ``i`` of every array refers to ``node_ids[i]``.
    weight : float64[n]
        Node weight ("population"), >= 0.
    xy : float64[n, 2]
        Coordinates (drawing only).
    arcs : int64[m, 2]
        Arc end points as node *indices*.
    length : float64[m]
        Arc lengths in the file's units (> 0).
    """

    name: str
    node_ids: tuple[int, ...]
    weight: np.ndarray
    xy: np.ndarray
    arcs: np.ndarray
    length: np.ndarray

    @property
    def n(self) -> int:
        return len(self.node_ids)

    def index(self, node_id: int) -> int:
        return self.node_ids.index(node_id)


def _rows(path: Path, ncol: int) -> list[tuple[int, list[str]]]:
    if not path.is_file():
        raise ValueError(f"{path}: file not found")
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != ncol:
            raise ValueError(f"{path}:{lineno}: expected {ncol} columns, got {len(parts)}: {line!r}")
        out.append((lineno, parts))
    if not out:
        raise ValueError(f"{path}: no data lines")
    return out


def _num(path: Path, lineno: int, col: str, text: str, integer: bool = False) -> float:
    try:
        v = int(text) if integer else float(text)
    except ValueError:
        raise ValueError(f"{path}:{lineno}: column {col!r} is not {'an integer' if integer else 'a number'}: "
                         f"{text!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{path}:{lineno}: column {col!r} is not finite: {text!r}")
    return v


def read_frlm_network(folder: str | Path, name: str | None = None) -> FRLMNetwork:
    """Read ``NODES.txt`` and ``ARCS.txt`` from ``folder``.

    Raises ``ValueError`` naming the file and line on a malformed line, a negative weight, a
    non-positive length, a duplicate node id or an arc to an unknown node.
    """
    folder = Path(folder)
    nodes_path, arcs_path = folder / "NODES.txt", folder / "ARCS.txt"
    ids: list[int] = []
    w: list[float] = []
    xy: list[tuple[float, float]] = []
    for lineno, parts in _rows(nodes_path, 4):
        nid = int(_num(nodes_path, lineno, "node_id", parts[0], integer=True))
        if nid in ids:
            raise ValueError(f"{nodes_path}:{lineno}: duplicate node_id {nid}")
        wt = _num(nodes_path, lineno, "weight", parts[1])
        if wt < 0:
            raise ValueError(f"{nodes_path}:{lineno}: negative weight {wt}")
        ids.append(nid)
        w.append(wt)
        xy.append((_num(nodes_path, lineno, "x", parts[2]), _num(nodes_path, lineno, "y", parts[3])))
    pos = {nid: i for i, nid in enumerate(ids)}
    arcs: list[tuple[int, int]] = []
    lengths: list[float] = []
    for lineno, parts in _rows(arcs_path, 4):
        ln = _num(arcs_path, lineno, "length", parts[1])
        if ln <= 0:
            raise ValueError(f"{arcs_path}:{lineno}: length must be > 0, got {ln}")
        a = int(_num(arcs_path, lineno, "from_node", parts[2], integer=True))
        b = int(_num(arcs_path, lineno, "to_node", parts[3], integer=True))
        for col, v in (("from_node", a), ("to_node", b)):
            if v not in pos:
                raise ValueError(f"{arcs_path}:{lineno}: {col} {v} is not in {nodes_path.name}")
        if a == b:
            raise ValueError(f"{arcs_path}:{lineno}: self-loop at node {a}")
        arcs.append((pos[a], pos[b]))
        lengths.append(ln)
    return FRLMNetwork(
        name=name or folder.name,
        node_ids=tuple(ids),
        weight=np.asarray(w, dtype=np.float64),
        xy=np.asarray(xy, dtype=np.float64),
        arcs=np.asarray(arcs, dtype=np.int64),
        length=np.asarray(lengths, dtype=np.float64),
    )


def load_25node() -> FRLMNetwork:
    """The 25-node Simpson-Hodgson network."""
    return read_frlm_network(frlm_root() / "25node_simpson_hodgson", "25node")


def load_texas() -> FRLMNetwork:
    """The 124-node Texas highway network."""
    return read_frlm_network(frlm_root() / "texas", "texas")


def all_pairs_shortest_paths(net: FRLMNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Dijkstra from every node (scipy). Returns ``(dist float64[n,n], pred int32[n,n])``.

    Parallel arcs keep the shortest. ``pred[i, j]`` is the node before ``j`` on a shortest
    ``i -> j`` path (-9999 if none), as in ``scipy.sparse.csgraph.shortest_path``.
    """
    n = net.n
    best: dict[tuple[int, int], float] = {}
    for (a, b), ln in zip(net.arcs.tolist(), net.length.tolist(), strict=True):
        key = (min(a, b), max(a, b))
        best[key] = min(best.get(key, math.inf), ln)
    rows = [k[0] for k in best]
    cols = [k[1] for k in best]
    g = coo_matrix((list(best.values()), (rows, cols)), shape=(n, n)).tocsr()
    dist, pred = shortest_path(g, method="D", directed=False, return_predecessors=True)
    return dist, pred


def node_path(pred: np.ndarray, i: int, j: int) -> list[int]:
    """Node indices of the shortest path ``i -> j`` recovered from ``pred`` (empty if unreachable)."""
    if i == j:
        return [i]
    out = [j]
    k = j
    while k != i:
        k = int(pred[i, k])
        if k < 0:
            return []
        out.append(k)
    return out[::-1]


def gravity_flows(net: FRLMNetwork, dist: np.ndarray, exponent: float = GRAVITY_EXPONENT,
                  total: float | None = 100.0) -> dict[tuple[int, int], float]:
    """Round-trip O-D flows ``w_i w_j / d_ij**exponent`` for pairs ``i < j`` (indices) with positive
    weights and finite distance, rescaled to sum to ``total`` (``None``: raw values)."""
    if not (math.isfinite(exponent) and exponent >= 0):
        raise ValueError(f"exponent={exponent!r}: must be a finite number >= 0")
    flows: dict[tuple[int, int], float] = {}
    w = net.weight
    for i in range(net.n):
        if w[i] <= 0:
            continue
        for j in range(i + 1, net.n):
            if w[j] <= 0 or not math.isfinite(dist[i, j]) or dist[i, j] <= 0:
                continue
            flows[(i, j)] = float(w[i] * w[j] / dist[i, j] ** exponent)
    if total is not None:
        s = sum(flows.values())
        if s > 0:
            flows = {k: v * total / s for k, v in flows.items()}
    return flows


def flow_problem(net: FRLMNetwork, range_units: float, p: int, exponent: float = GRAVITY_EXPONENT,
                 candidates: list[int] | None = None, capacities: list[float] | None = None):
    """A :class:`optimizer.stations.siting.FlowProblem` on ``net``: one shortest path per gravity O-D pair.

    Node ids in the problem are the file's node ids; every node is a candidate unless
    ``candidates`` (file ids) is given. ``range_units`` is in the units of the arc lengths.
    """
    dist, pred = all_pairs_shortest_paths(net)
    paths = []
    for (i, j), f in sorted(gravity_flows(net, dist, exponent).items()):
        idx = node_path(pred, i, j)
        arc_len = tuple(float(dist[idx[t], idx[t + 1]]) for t in range(len(idx) - 1))
        paths.append(FlowPath(nodes=tuple(net.node_ids[k] for k in idx), arc_km=arc_len, flow=f))
    cands = tuple(candidates) if candidates is not None else net.node_ids
    return FlowProblem(paths=tuple(paths), candidates=cands, range_km=range_units, p=p,
                       capacities=None if capacities is None else tuple(capacities), nodes=net.node_ids)

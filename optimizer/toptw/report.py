"""JSON form of a (T)OPTW solution."""

from __future__ import annotations

from typing import Any

from optimizer.core.serialize import json_safe
from optimizer.toptw.problem import TOPTWInstance
from optimizer.toptw.solution import ToptwSolution
from optimizer.toptw.verify import earliest_schedule


def to_dict(problem: TOPTWInstance, solution: ToptwSolution) -> dict[str, Any]:
    """``instance``, ``n_routes``, ``score``, ``routes`` (each ``nodes`` and earliest ``start_min``,
    minutes), ``unserved`` (``item_id``, ``reason``, ``detail``) and ``stats`` (the ``SolveStats``
    fields); JSON-safe (``json_safe``)."""
    routes = []
    for r in solution.routes:
        starts = earliest_schedule(problem, r)[0] if r else []
        routes.append({"nodes": [int(j) for j in r], "start_min": [float(t) for t in starts]})
    st = solution.stats
    return json_safe({
        "instance": problem.name, "n_routes": problem.n_routes, "score": solution.score, "routes": routes,
        "unserved": [{"item_id": u.item_id, "reason": u.reason, "detail": u.detail} for u in solution.unserved],
        "stats": {"status": st.status, "objective": st.objective, "bound": st.bound, "gap": st.gap,
                  "runtime_s": st.runtime_s, "iterations": st.iterations, "stopped_by": st.stopped_by,
                  "seed": st.seed},
    })

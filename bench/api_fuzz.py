"""Property-based fuzzing of the HTTP API from its OpenAPI document (schemathesis + hypothesis).

``python -m bench.api_fuzz [--examples N]`` runs every operation of ``/openapi.json`` in-process
(ASGI, no network) with up to N generated requests each (derandomized: the same requests every
run), counts the answers by status and writes the ``api_fuzz`` section of ``bench/RESULTS.md``.
``tests/test_api_fuzz.py`` runs the same driver and asserts zero 5xx answers.

To keep a run short and side-effect free, solve effort in generated bodies is capped (time limits
to ``CAP_TIME_S``, iteration budgets to ``CAP_ITERATIONS``, drone deliveries and tour groups to a
few) - the values stay inside the schema, so this only shrinks the work - and scenario runs are
queued in a temporary database but never executed (the job runner is replaced by a stub).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

CAP_TIME_S = 0.2
CAP_ITERATIONS = 20
CAP_ITEMS = 5
DEFAULT_EXAMPLES = 80


@dataclass
class FuzzStats:
    requests: int = 0
    by_status: Counter = field(default_factory=Counter)
    by_operation: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


# Effort fields set when a generated body leaves them out (their defaults are full-size solves).
EFFORT_DEFAULTS = {
    "/v1/tours/plan": {"time_limit_s": CAP_TIME_S, "iterations": CAP_ITERATIONS},
    "/v1/stations/siting": {"iterations": CAP_ITERATIONS, "p_max": 2},
    "/v1/stations/charging-schedule": {"time_limit_s": CAP_TIME_S, "iterations": CAP_ITERATIONS, "max_vehicles": 5},
    "/v1/stations/oxygen-plan": {"time_limit_s": CAP_TIME_S, "iterations": CAP_ITERATIONS, "lookahead": 0},
    "/v1/drones/delivery-plan": {"iterations": CAP_ITERATIONS},
    "/v1/flights/products": {"time_limit_s": CAP_TIME_S},
}


def cap_body(body: Any, path: str = "") -> Any:
    """``body`` with time limits, iteration budgets and long lists shrunk (in place)."""
    if not isinstance(body, dict):
        return body
    for k, v in EFFORT_DEFAULTS.get(path, {}).items():
        if body.get(k) is None or (isinstance(body[k], (int, float)) and not isinstance(body[k], bool)
                                   and body[k] > v):
            body[k] = v
    for k, v in list(body.items()):
        if k == "time_limit_s" and isinstance(v, (int, float)) and not isinstance(v, bool) and v > CAP_TIME_S:
            body[k] = CAP_TIME_S
        elif k == "iterations" and isinstance(v, int) and not isinstance(v, bool) and v > CAP_ITERATIONS:
            body[k] = CAP_ITERATIONS
        elif k in ("groups", "deliveries") and isinstance(v, list) and len(v) > CAP_ITEMS:
            body[k] = v[:CAP_ITEMS]
    return body


class _StubRunner:
    def notify(self) -> None:
        pass

    def stop(self, timeout: float | None = None) -> None:
        pass


def run_fuzz(examples: int = DEFAULT_EXAMPLES, db_dir: str | None = None) -> FuzzStats:
    """Fuzz every operation with up to ``examples`` generated requests; the answer counts."""
    import schemathesis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from api.app import create_app
    from api.jobs import JobStore

    tmp = db_dir or tempfile.mkdtemp(prefix="lhasa-fuzz-")
    os.environ["LHASA_OPS_DB"] = os.path.join(tmp, "fuzz.sqlite")
    app = create_app()
    stats = FuzzStats()
    t0 = time.perf_counter()
    with TestClient(app):  # runs the lifespan: network loaded, kernels warmed
        app.state.job_store = JobStore(os.environ["LHASA_OPS_DB"])
        app.state.job_runner = _StubRunner()  # queued scenario runs are never executed
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        for result in schema.get_all_operations():
            _fuzz_operation(result.ok(), examples, stats)
    stats.seconds = time.perf_counter() - t0
    return stats


def _fuzz_operation(op: Any, examples: int, stats: FuzzStats) -> None:
    from hypothesis import HealthCheck, given, settings

    label = f"{op.method.upper()} {op.path}"

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy())
    def check(case) -> None:
        if case.body is not None:
            case.body = cap_body(case.body, op.path)
        try:
            status, why = case.call().status_code, ""
        except Exception as exc:  # noqa: BLE001 - the in-process client re-raises what a server answers 500
            status, why = 500, f"raised {type(exc).__name__}: {exc}"
        stats.requests += 1
        stats.by_operation[label] += 1
        stats.by_status[status] += 1
        if status >= 500:
            stats.server_errors.append(f"{label} -> {status} {why}; body {str(case.body)[:200]}")

    check()


def main(argv: list[str] | None = None) -> int:
    from bench.results_md import table, write_section

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES, help="max generated requests per operation")
    args = ap.parse_args(argv)
    s = run_fuzz(args.examples)
    rows = [[op, n] for op, n in sorted(s.by_operation.items())]
    body = (f"schemathesis (positive data from `api/openapi.json`), {args.examples} examples max per operation, "
            f"derandomized; solve effort capped (time limit {CAP_TIME_S} s, {CAP_ITERATIONS} iterations, "
            f"{CAP_ITEMS} groups/deliveries); scenario runs queued, not executed.\n\n"
            f"**{s.requests} requests in {s.seconds:.1f} s, {len(s.server_errors)} answers 5xx.** "
            f"Statuses: {', '.join(f'{k}: {v}' for k, v in sorted(s.by_status.items()))}.\n\n"
            + table(["operation", "requests"], rows))
    write_section("api_fuzz", "API fuzzing (schemathesis)", f"python -m bench.api_fuzz --examples {args.examples}", body)
    print(body)
    for e in s.server_errors[:20]:
        print("5xx:", e)
    return 1 if s.server_errors else 0


if __name__ == "__main__":
    raise SystemExit(main())

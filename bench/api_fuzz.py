"""Property-based fuzzing of the HTTP API from its OpenAPI document (schemathesis + hypothesis).

``python -m bench.api_fuzz [--examples N] [--negative-examples M]`` runs every operation of
``/openapi.json`` in-process (ASGI, no network) in two modes (derandomized: the same requests
every run): **positive** - up to N requests per operation with data valid for the schema - and
**negative** - up to M requests per operation with data that breaks the schema (schemathesis
``GenerationMode.NEGATIVE``: wrong types, out-of-range numbers, missing required fields, ...).
It counts the answers by mode and status and writes the ``api_fuzz`` section of
``bench/RESULTS.md``. ``tests/test_api_fuzz.py`` runs the same driver and asserts zero 5xx answers
in both modes and no 2xx answer to a negative request.

To keep a run short and side-effect free, solve effort in generated bodies is capped (time limits
to ``CAP_TIME_S``, iteration budgets to ``CAP_ITERATIONS``, drone deliveries and tour groups to a
few) - the values stay inside the schema, so this only shrinks the work - and scenario runs and
jobs are queued in a temporary database but never executed (the job runner is replaced by a stub).
In negative mode only values that are themselves valid are capped (an out-of-range or mistyped
effort value is left as generated, so capping never repairs a negative case).
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
DEFAULT_NEGATIVE_EXAMPLES = 40
MODES = ("positive", "negative")


@dataclass
class FuzzStats:
    requests: int = 0
    by_status: Counter = field(default_factory=Counter)
    by_operation: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    by_mode: dict[str, Counter] = field(default_factory=dict)
    """mode -> Counter of statuses."""
    negative_accepted: list[str] = field(default_factory=list)
    """Negative requests with a schema-invalid *body* answered 2xx (should be none)."""
    negative_header_only: Counter = field(default_factory=Counter)
    """Negative requests whose only invalid part is a header or the query (auth is off in the fuzz
    run, so a malformed API-key header or an unknown header is ignored): status -> count."""
    skipped: list[str] = field(default_factory=list)
    """(mode, operation) pairs schemathesis could not generate data for (e.g. no parameters to break)."""


# Effort fields set when a generated body leaves them out (their defaults are full-size solves).
EFFORT_DEFAULTS = {
    "/v1/tours/plan": {"time_limit_s": CAP_TIME_S, "iterations": CAP_ITERATIONS},
    "/v1/stations/siting": {"time_limit_s": CAP_TIME_S, "iterations": CAP_ITERATIONS, "p_max": 2},
    "/v1/stations/charging-schedule": {"time_limit_s": CAP_TIME_S, "iterations": CAP_ITERATIONS, "max_vehicles": 5},
    "/v1/stations/oxygen-plan": {"time_limit_s": CAP_TIME_S, "iterations": CAP_ITERATIONS, "lookahead": 0},
    "/v1/drones/delivery-plan": {"time_limit_s": CAP_TIME_S, "iterations": CAP_ITERATIONS},
    "/v1/flights/products": {"time_limit_s": CAP_TIME_S},
    "/v1/flights/schedule": {"time_limit_s": CAP_TIME_S, "workers": 1},
    "/v1/days": {"time_limit_s": CAP_TIME_S, "iterations": CAP_ITERATIONS},
    "/v1/days/{date}/events": {"time_limit_s": CAP_TIME_S, "iterations": CAP_ITERATIONS},
}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _valid_effort(k: str, v: Any) -> bool:
    """A value the schemas accept for effort field ``k`` (so capping it cannot repair a negative case)."""
    from api.http.limits import MAX_TIME_LIMIT_S

    if k == "time_limit_s":
        return _number(v) and 0 < v <= MAX_TIME_LIMIT_S
    if k == "iterations":
        return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100_000
    if k in ("p_max", "max_vehicles", "lookahead"):
        return isinstance(v, int) and not isinstance(v, bool) and v >= 1
    return False


def cap_body(body: Any, path: str = "", negative: bool = False) -> Any:
    """``body`` with time limits, iteration budgets and long lists shrunk (in place). With
    ``negative``, only absent or valid values are touched (see the module docstring)."""
    if not isinstance(body, dict):
        return body
    for k, v in EFFORT_DEFAULTS.get(path, {}).items():
        if negative:
            if k not in body or (_valid_effort(k, body[k]) and body[k] > v):
                body[k] = v
        elif body.get(k) is None or (_number(body[k]) and body[k] > v):
            body[k] = v
    for k, v in list(body.items()):
        if negative and k in ("time_limit_s", "iterations") and not _valid_effort(k, v):
            continue
        if k == "time_limit_s" and _number(v) and v > CAP_TIME_S:
            body[k] = CAP_TIME_S
        elif k == "iterations" and isinstance(v, int) and not isinstance(v, bool) and v > CAP_ITERATIONS:
            body[k] = CAP_ITERATIONS
        elif k in ("groups", "deliveries") and isinstance(v, list) and len(v) > CAP_ITEMS and not negative:
            body[k] = v[:CAP_ITEMS]
    return body


class _StubRunner:
    def notify(self) -> None:
        pass

    def stop(self, timeout: float | None = None) -> None:
        pass


def _json_or_empty(response) -> dict:
    """The response body as a JSON object, or {} when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def run_fuzz(examples: int = DEFAULT_EXAMPLES, db_dir: str | None = None,
             negative_examples: int = DEFAULT_NEGATIVE_EXAMPLES) -> FuzzStats:
    """Fuzz every operation with up to ``examples`` positive and ``negative_examples`` negative
    generated requests (0: skip that mode); the answer counts."""
    import schemathesis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from api.http.app import create_app
    from api.http.jobs import JobStore

    tmp = db_dir or tempfile.mkdtemp(prefix="lhasa-fuzz-")
    os.environ["LHASA_OPS_DB"] = os.path.join(tmp, "fuzz.sqlite")
    app = create_app()
    stats = FuzzStats()
    t0 = time.perf_counter()
    with TestClient(app):  # runs the lifespan: network loaded, kernels warmed
        app.state.job_store = JobStore(os.environ["LHASA_OPS_DB"])
        app.state.job_runner = _StubRunner()  # queued scenario runs are never executed
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        ops = [result.ok() for result in schema.get_all_operations()]
        for mode, n in (("positive", examples), ("negative", negative_examples)):
            stats.by_mode.setdefault(mode, Counter())
            if n > 0:
                for op in ops:
                    _fuzz_operation(op, n, stats, mode)
    stats.seconds = time.perf_counter() - t0
    return stats


def _fuzz_operation(op: Any, examples: int, stats: FuzzStats, mode: str = "positive") -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.generation import GenerationMode

    label = f"{op.method.upper()} {op.path}"
    negative = mode == "negative"

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(generation_mode=GenerationMode(mode)))
    def check(case) -> None:
        from schemathesis.core import NOT_SET

        has_body = case.body is not NOT_SET and case.body is not None
        if has_body:
            case.body = cap_body(case.body, op.path, negative=negative)
        not_ready = False
        try:
            response = case.call()
            status, why = response.status_code, ""
            # /readyz answers 503 by design while the kernels compile or the store is busy: that is its
            # documented JSON answer ({code, message, field}), not a server error.
            not_ready = op.path == "/readyz" and status == 503 and "code" in _json_or_empty(response)
        except Exception as exc:  # noqa: BLE001 - the in-process client re-raises what a server answers 500
            status, why = 500, f"raised {type(exc).__name__}: {exc}"
        stats.requests += 1
        stats.by_operation[f"{label} ({mode})"] += 1
        stats.by_status[status] += 1
        stats.by_mode[mode][status] += 1
        body_negative = negative and _negative_body(case)
        if negative and not body_negative:
            stats.negative_header_only[status] += 1
        if status >= 500 and not not_ready:
            stats.server_errors.append(f"[{mode}] {label} -> {status} {why}; body {str(case.body)[:200]}")
        elif body_negative and 200 <= status < 300:
            stats.negative_accepted.append(f"{label} -> {status}; {_describe(case)}")

    try:
        check()
    except Unsatisfiable:
        stats.skipped.append(f"{mode} {label}")


def _negative_body(case: Any) -> bool:
    """Whether schemathesis generated the body (rather than only headers/query) in negative mode."""
    from schemathesis.core.parameters import ParameterLocation

    meta = getattr(case, "meta", None)
    return bool(meta is not None and meta.is_negative_at(ParameterLocation.BODY))


def _describe(case: Any) -> str:
    parts = []
    for name in ("path_parameters", "query", "headers", "body"):
        v = getattr(case, name, None)
        if v:
            parts.append(f"{name} {str(v)[:160]}")
    return "; ".join(parts) or "no data"


def main(argv: list[str] | None = None) -> int:
    from bench.results_md import table, write_section

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES,
                    help="max positive (schema-valid) requests per operation")
    ap.add_argument("--negative-examples", type=int, default=DEFAULT_NEGATIVE_EXAMPLES,
                    help="max negative (schema-invalid) requests per operation")
    args = ap.parse_args(argv)
    s = run_fuzz(args.examples, negative_examples=args.negative_examples)

    def statuses(c: Counter) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(c.items())) or "-"

    mode_rows = [[m, sum(c.values()), sum(v for k, v in c.items() if k >= 500),
                  sum(v for k, v in c.items() if 200 <= k < 300), statuses(c)] for m, c in s.by_mode.items()]
    rows = [[op, n] for op, n in sorted(s.by_operation.items())]
    body = (f"schemathesis {_version()} on `api/openapi.json`, in-process, derandomized: positive (schema-valid) "
            f"data, at most {args.examples} requests per operation, and negative (schema-invalid) data, at most "
            f"{args.negative_examples} per operation; solve effort capped (time limit {CAP_TIME_S} s, "
            f"{CAP_ITERATIONS} iterations, {CAP_ITEMS} groups/deliveries); scenario runs and jobs queued, not "
            "executed.\n\n"
            f"**{s.requests} requests in {s.seconds:.1f} s, {len(s.server_errors)} answers 5xx, "
            f"{len(s.negative_accepted)} negative requests answered 2xx.**\n\n"
            + table(["mode", "requests", "5xx", "2xx", "statuses"], mode_rows) + "\n\n"
            + table(["operation (mode)", "requests"], rows)
            + (f"\n\nNo negative data could be generated for: {', '.join(s.skipped)}." if s.skipped else ""))
    write_section("api_fuzz", "API fuzzing (schemathesis)", f"python -m bench.api_fuzz --examples {args.examples} "
                  f"--negative-examples {args.negative_examples}", body)
    print(body)
    for e in s.server_errors[:20]:
        print("5xx:", e)
    for e in s.negative_accepted[:20]:
        print("negative 2xx:", e)
    return 1 if s.server_errors else 0


def _version() -> str:
    from importlib.metadata import version

    return version("schemathesis")


if __name__ == "__main__":
    raise SystemExit(main())

"""Property-based fuzzing of the HTTP API from its OpenAPI document (schemathesis): every
operation, derandomized, solve effort capped (see ``bench.api_fuzz``), in positive (schema-valid)
and negative (schema-invalid) mode; no answer may be 5xx and no schema-invalid body may be accepted."""

from __future__ import annotations

import pytest

pytest.importorskip("schemathesis")

from bench.api_fuzz import run_fuzz


def test_fuzzing_the_openapi_schema_gives_no_5xx(tmp_path, monkeypatch):
    monkeypatch.delenv("LHASA_OPS_API_KEYS", raising=False)
    monkeypatch.delenv("LHASA_OPS_API_KEYS_FILE", raising=False)
    monkeypatch.setenv("LHASA_OPS_DB", str(tmp_path / "fuzz.sqlite"))  # run_fuzz sets it; restored after
    stats = run_fuzz(examples=50, db_dir=str(tmp_path), negative_examples=30)
    pos, neg = stats.by_mode["positive"], stats.by_mode["negative"]
    print(f"fuzz: {stats.requests} requests in {stats.seconds:.0f} s; positive {dict(pos)}; negative {dict(neg)}; "
          f"negative bodies answered 2xx: {stats.negative_accepted}")
    assert stats.server_errors == []
    assert sum(pos.values()) >= 500
    assert sum(neg.values()) >= 200
    assert len({op.rsplit(" (", 1)[0] for op in stats.by_operation}) >= 12  # every operation was exercised
    assert stats.negative_accepted == []  # a schema-invalid body is never accepted

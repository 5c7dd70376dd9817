"""Property-based fuzzing of the HTTP API from its OpenAPI document (schemathesis): every
operation, derandomized, solve effort capped (see ``bench.api_fuzz``); no answer may be 5xx."""

from __future__ import annotations

import pytest

pytest.importorskip("schemathesis")

from bench.api_fuzz import run_fuzz


def test_fuzzing_the_openapi_schema_gives_no_5xx(tmp_path, monkeypatch):
    monkeypatch.delenv("LHASA_OPS_API_KEYS", raising=False)
    monkeypatch.delenv("LHASA_OPS_API_KEYS_FILE", raising=False)
    monkeypatch.setenv("LHASA_OPS_DB", str(tmp_path / "fuzz.sqlite"))  # run_fuzz sets it; restored after
    stats = run_fuzz(examples=75, db_dir=str(tmp_path))
    print(f"fuzz: {stats.requests} requests, statuses {dict(stats.by_status)}")
    assert stats.server_errors == []
    assert stats.requests >= 500
    assert len(stats.by_operation) >= 9  # every operation was exercised

"""API keys (401/403), open GETs, the body-size limit (413), the error shape of parse errors,
and the checked-in OpenAPI document (``api/openapi.json``)."""

from __future__ import annotations

import json
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.http.app import create_app
from api.http.openapi import OPENAPI_JSON, render

SMALL_PLAN = {"groups": [{"group_id": "G1", "size": 10, "start": "potala", "end": "potala",
                          "day_window": ["09:00", "17:00"]}], "time_limit_s": 1, "iterations": 5}
SHAPE = {"code", "message", "field"}


@pytest.fixture
def keyed(monkeypatch, tmp_path):
    monkeypatch.setenv("LHASA_OPS_DB", str(tmp_path / "jobs.sqlite"))
    monkeypatch.setenv("LHASA_OPS_API_KEYS", "alpha, beta")
    keyfile = tmp_path / "keys.txt"
    keyfile.write_text("# operators\ngamma\n\n", encoding="utf-8")
    monkeypatch.setenv("LHASA_OPS_API_KEYS_FILE", str(keyfile))
    with TestClient(create_app()) as c:
        yield c


@pytest.fixture
def open_client(monkeypatch, tmp_path):
    monkeypatch.setenv("LHASA_OPS_DB", str(tmp_path / "jobs.sqlite"))
    monkeypatch.delenv("LHASA_OPS_API_KEYS", raising=False)
    monkeypatch.delenv("LHASA_OPS_API_KEYS_FILE", raising=False)
    with TestClient(create_app()) as c:
        yield c


POSTS = sorted(p for p, ops in json.loads(OPENAPI_JSON.read_text(encoding="utf-8"))["paths"].items() if "post" in ops)


def test_the_key_check_covers_every_capability():
    """POSTS comes from the OpenAPI document: a new endpoint is covered by the key tests automatically."""
    for p in ("/v1/tours/plan", "/v1/scenarios", "/v1/stations/siting", "/v1/stations/charging-schedule",
              "/v1/stations/oxygen-plan", "/v1/jobs/oxygen-plan", "/v1/drones/delivery-plan",
              "/v1/flights/products", "/v1/flights/schedule"):
        assert p in POSTS


@pytest.mark.parametrize("path", POSTS)
def test_every_post_needs_a_key(keyed, path):
    r = keyed.post(path, json={})
    assert r.status_code == 401
    assert r.json() == {"code": "unauthorized", "message": r.json()["message"], "field": "X-API-Key"}
    r = keyed.post(path, json={}, headers={"X-API-Key": "wrong"})
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden" and r.json()["field"] == "X-API-Key"
    # a good key gets past auth (a non-object body is then a 422 in the same shape)
    r = keyed.post(path, json=[], headers={"X-API-Key": "beta"})
    assert r.status_code == 422 and SHAPE <= set(r.json())


def test_valid_keys_from_env_and_file_and_bearer(keyed):
    for headers in ({"X-API-Key": "alpha"}, {"X-API-Key": "gamma"}, {"Authorization": "Bearer beta"}):
        r = keyed.post("/v1/tours/plan", json=SMALL_PLAN, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["violations"] == []
    assert keyed.post("/v1/tours/plan", json=SMALL_PLAN,
                      headers={"Authorization": "Bearer nope"}).status_code == 403


def test_gets_stay_open(keyed):
    assert keyed.get("/healthz").status_code == 200
    assert keyed.get("/v1/instances/lhasa/sites").status_code == 200
    assert keyed.get("/openapi.json").status_code == 200
    r = keyed.get("/v1/scenarios/nope")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    for path in ("/v1/jobs/nope", "/v1/jobs/nope/result"):
        r = keyed.get(path)
        assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_no_keys_means_auth_off(open_client):
    assert open_client.post("/v1/tours/plan", json=SMALL_PLAN).status_code == 200


def test_oversized_body_is_413(monkeypatch, open_client):
    monkeypatch.setenv("LHASA_OPS_MAX_BODY_BYTES", "1000")
    body = {"groups": [SMALL_PLAN["groups"][0] | {"group_id": f"G{i}"} for i in range(50)], "time_limit_s": 1}
    r = open_client.post("/v1/tours/plan", json=body)
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large" and SHAPE <= set(r.json())
    assert open_client.post("/v1/tours/plan", json=SMALL_PLAN).status_code == 200  # small ones still pass


def test_streamed_oversized_body_is_413(monkeypatch, open_client):
    monkeypatch.setenv("LHASA_OPS_MAX_BODY_BYTES", "1000")

    def chunks():
        for _ in range(10):
            yield b" " * 500

    r = open_client.post("/v1/tours/plan", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_invalid_json_and_unknown_paths_use_the_error_shape(open_client):
    r = open_client.post("/v1/tours/plan", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_json" and SHAPE <= set(r.json())
    r = open_client.get("/v1/nothing-here")
    assert r.status_code == 404 and set(r.json()) == SHAPE
    r = open_client.get("/v1/tours/plan")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


def test_time_limits_are_bounded(open_client):
    r = open_client.post("/v1/tours/plan", json=SMALL_PLAN | {"time_limit_s": 61})
    assert r.status_code == 422 and r.json()["field"] == "time_limit_s"


def test_a_keyed_job_can_be_polled_without_a_key(keyed):
    r = keyed.post("/v1/jobs/oxygen-plan", json={"iterations": 10, "method": "policy"}, headers={"X-API-Key": "alpha"})
    assert r.status_code == 202, r.text
    assert keyed.get(r.json()["status_url"]).status_code == 200


def test_served_openapi_equals_the_checked_in_file(open_client):
    served = open_client.get("/openapi.json").json()
    assert render(served) == OPENAPI_JSON.read_text(encoding="utf-8"), "run: python -m api.http.openapi"
    paths = json.loads(OPENAPI_JSON.read_text(encoding="utf-8"))["paths"]
    assert all(p.startswith("/v1/") or p in ("/healthz", "/readyz") for p in paths)
    assert "APIKeyHeader" in json.dumps(served["components"]["securitySchemes"])


@pytest.mark.parametrize("value", [",", " , ,"])
def test_a_key_list_that_names_no_key_stops_the_server(monkeypatch, value):
    """Trial finding: ``LHASA_OPS_API_KEYS=","`` (keys meant, none given) started the server with
    auth silently off; like a key file that holds no key, it is a config error naming the variable."""
    from api.http import security
    from api.http.app import ConfigError, check_environment

    monkeypatch.delenv("LHASA_OPS_API_KEYS_FILE", raising=False)
    monkeypatch.setenv("LHASA_OPS_API_KEYS", value)
    assert [p.field for p in security.check_environment()] == ["LHASA_OPS_API_KEYS"]
    with pytest.raises(ConfigError, match="LHASA_OPS_API_KEYS=.*names no key"):
        check_environment()
    for fine in ("", "k1,", "k1, k2"):
        monkeypatch.setenv("LHASA_OPS_API_KEYS", fine)
        assert security.check_environment() == []

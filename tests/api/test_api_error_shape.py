"""Issue 14 build item 4: ``api/openapi.json`` declares the error shape the server sends
(``ErrorOut``: ``{"code", "message", "field"}`` plus ``errors`` for validation errors), not FastAPI's
default ``{"detail": [...]}``; and the bodies actually sent match it."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.http.errors import ErrorOut, declare_error_responses
from api.http.openapi import OPENAPI_JSON

REF = {"$ref": "#/components/schemas/ErrorOut"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("LHASA_OPS_DB", str(tmp_path_factory.mktemp("db") / "jobs.sqlite"))
    mp.setenv("LHASA_OPS_API_KEYS", "alpha")
    mp.delenv("LHASA_OPS_API_KEYS_FILE", raising=False)
    with TestClient(create_app()) as c:
        yield c
    mp.undo()


def _schema(resp: dict) -> dict:
    return resp["content"]["application/json"]["schema"]


def test_checked_in_document_declares_the_error_shape():
    doc = json.loads(OPENAPI_JSON.read_text(encoding="utf-8"))
    assert "HTTPValidationError" not in json.dumps(doc) and "ValidationError" not in doc["components"]["schemas"]
    err = doc["components"]["schemas"]["ErrorOut"]
    assert set(err["required"]) == {"code", "message", "field"} and "errors" in err["properties"]
    posts = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            r = op["responses"]
            if "422" in r:
                assert _schema(r["422"]) == REF, (method, path)
            if method == "post":
                posts += 1
                for code in ("401", "403", "413", "422"):
                    assert _schema(r[code]) == REF, (method, path, code)
            if "{" in path:
                assert _schema(r["404"]) == REF, (method, path)
    assert posts >= 8
    assert declare_error_responses(json.loads(json.dumps(doc))) == doc  # idempotent


def test_error_bodies_sent_match_the_declared_shape(client):
    key = {"X-API-Key": "alpha"}
    answers = [
        client.post("/v1/tours/plan", json={"groups": "nope"}, headers=key),  # pydantic: 422 with errors
        client.post("/v1/tours/plan", content=b"{not json", headers={**key, "content-type": "application/json"}),
        client.post("/v1/tours/plan", json={"groups": []}),  # no key: 401
        client.post("/v1/tours/plan", json={"groups": []}, headers={"X-API-Key": "wrong"}),  # 403
        client.get("/v1/scenarios/nope"),  # 404
    ]
    assert [a.status_code for a in answers] == [422, 422, 401, 403, 404]
    for a in answers:
        body = a.json()
        ErrorOut.model_validate(body)
        assert "detail" not in body and {"code", "message", "field"} <= set(body)
    assert answers[0].json()["errors"] and answers[1].json()["code"] == "invalid_json"


def test_a_shape_error_names_the_field_and_a_short_value(client):
    """Trial finding: pydantic's 422s said "Input should be greater than or equal to 1" without the
    value sent (the domain errors say ``field=value: message``); now the value is shown, short and
    as text, and a long or structured value never comes back whole."""
    c, key = client, {"X-API-Key": "alpha"}
    r = c.get("/v1/days/2026-07-06/versions/-1")
    assert r.status_code == 422 and r.json()["message"] == "path.version='-1': Input should be greater than or equal to 1"
    r = c.post("/v1/tours/plan", json={"groups": [], "seed": -1}, headers=key)
    assert r.json()["errors"][0]["message"] == "seed=-1: Input should be greater than or equal to 0"
    r = c.post("/v1/tours/plan", json={"groups": "y" * 5000}, headers=key)
    assert r.status_code == 422 and "y" * 61 not in r.text and "groups='yyy" in r.json()["message"]
    r = c.post("/v1/tours/plan", json={"groups": [{"size": 3}]}, headers=key)
    assert r.json()["message"] == "groups[0].group_id: Field required"
    r = c.post("/v1/tours/plan", content=b'{"groups": [{"group_id": "g", "size": {"a": [1, 2]}}]}',
               headers={"content-type": "application/json", **key})
    assert r.json()["errors"][0]["message"].startswith("groups[0].size: ")

"""One error shape for every HTTP error answer: ``{"code", "message", "field"}``.

Codes: ``invalid_input`` (HTTP 422: a domain validation error, ``InvalidInput``, or a shape/type
error caught by pydantic, which adds ``errors``: every field with its message), ``invalid_json``
(422: the body is not JSON), ``unauthorized``/``forbidden``/``payload_too_large`` (``ApiError`` of
``api.http.security``), ``bad_request``, ``not_found``, ``method_not_allowed``, ``http_<status>``.
``install_error_handlers(app)`` registers the handlers and makes the app's OpenAPI document
declare that shape (:class:`ErrorOut`) instead of FastAPI's default ``{"detail": [...]}``: 422 on
every operation that reads a body or parameters, 401/403/413 on every POST (API key, body limit),
404 on every operation with a path parameter (:func:`declare_error_responses`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.http.security import ApiError
from instances.demand import DemandError
from optimizer.core.errors import InvalidInput

_INDEX = re.compile(r"index (\d+)")


class FieldErrorOut(BaseModel):
    """One field a request body or parameter got wrong."""

    field: str = Field(description="Path of the field, e.g. 'groups[2].size' ('body' for the whole body).")
    message: str = Field(description="What is wrong with it.")


class ErrorOut(BaseModel):
    """Every error answer of the API (4xx and 5xx): ``{"code", "message", "field"}``; a body that
    pydantic rejects adds ``errors``."""

    code: str = Field(description="invalid_input, invalid_json, unauthorized, forbidden, payload_too_large, "
                                  "not_found, not_ready, job_failed, bad_request, method_not_allowed or "
                                  "http_<status>.")
    message: str = Field(description="What went wrong, for a person.")
    field: str | None = Field(description="Path of the offending field (e.g. 'groups[2].must_visit'), or null.")
    errors: list[FieldErrorOut] | None = Field(None, description="Shape/type errors only (422 invalid_input "
                                                                 "from validation): every field with its message, "
                                                                 "at most 20.")


ERROR_RESPONSES: dict[str, str] = {
    "401": "Unauthorized: an API key is configured and X-API-Key is missing (code unauthorized).",
    "403": "Forbidden: X-API-Key is not a configured key (code forbidden).",
    "404": "Not found (code not_found).",
    "413": "Payload too large: the body is over LHASA_OPS_MAX_BODY_BYTES (code payload_too_large).",
    "422": "Invalid input: a bad value (code invalid_input, the field named) or a body that is not JSON "
           "(invalid_json); shape and type errors list every field in errors.",
}


def loc_path(loc: tuple | list) -> str:
    """Dotted path of a pydantic error location, without the leading ``body``: ``groups[0].size``."""
    out = ""
    for part in loc:
        if part == "body" and not out:
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def error_field(exc: InvalidInput) -> str:
    """Path of the offending field: ``groups[k].<field>`` for a group record of the request."""
    where = getattr(exc, "where", "")
    m = _INDEX.fullmatch(where or "")
    if isinstance(exc, DemandError) and m:
        field = re.sub(r"^group\[[^\]]*\]\.", "", str(exc.field))
        return f"groups[{m.group(1)}].{field}"
    return str(exc.field)


MAX_SHOWN_CHARS = 60
"""Characters of a rejected text value shown in a 422 message (longer ones end in '...')."""


def shown_value(value: Any) -> str | None:
    """A short, JSON-safe text of a rejected scalar value for an error message (``-1``, ``nan``,
    ``'25:00'``, ``True``, ``None``), or None for a list/object (named by its field only): a large
    body never comes back whole, and NaN/Infinity come back as text, not as JSON numbers."""
    if isinstance(value, str):
        return repr(value if len(value) <= MAX_SHOWN_CHARS else value[:MAX_SHOWN_CHARS] + "...")
    if value is None or isinstance(value, (bool, int, float)):
        text = repr(value)
        return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "..."
    return None


def _error_message(e: Mapping[str, Any]) -> str:
    """``<field>=<value>: <pydantic's message>`` (``<field>: <message>`` for a missing field or a
    list/object value), so that a 422 names the field and the value as the domain errors do."""
    field, msg = loc_path(e.get("loc", ())), str(e.get("msg", ""))
    value = None if e.get("type") in ("missing", "json_invalid") else shown_value(e.get("input"))
    return f"{field}: {msg}" if value is None else f"{field}={value}: {msg}"


async def request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 for a body pydantic rejects: every field with ``<field>=<value>: <message>``; the value
    is shown short and as text (``shown_value``), the body is never echoed back whole."""
    raw = list(exc.errors())
    errors = [{"field": loc_path(e.get("loc", ())),
               "message": str(e.get("msg", "")) if e.get("type") == "json_invalid" else _error_message(e)}
              for e in raw]
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    code = "invalid_json" if raw and raw[0].get("type") == "json_invalid" else "invalid_input"
    if code == "invalid_json":
        first = {"field": "body", "message": f"{first['message']} (at {first['field']})"}
    body = {"code": code, "message": first["message"], "field": first["field"], "errors": errors[:20]}
    return JSONResponse(status_code=422, content=body)


async def invalid_input(request: Request, exc: InvalidInput) -> JSONResponse:
    body = {"code": "invalid_input", "message": str(exc), "field": error_field(exc)}
    return JSONResponse(status_code=422, content=body)


async def api_error(request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse(status_code=exc.status, content=exc.body(), headers=exc.headers)


HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """404 (no such path), 405, and FastAPI's 400 for an unreadable body, in the same shape."""
    body = {"code": HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}"), "message": str(exc.detail),
            "field": None}
    return JSONResponse(status_code=exc.status_code, content=body, headers=getattr(exc, "headers", None))


def declare_error_responses(doc: dict[str, Any]) -> dict[str, Any]:
    """Make an OpenAPI document declare the error shape actually sent (module docstring), in place;
    idempotent. FastAPI's ``HTTPValidationError``/``ValidationError`` schemas are dropped."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    defs = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(defs.pop("$defs", {}))
    schemas["ErrorOut"] = defs
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            responses = op.setdefault("responses", {})
            codes = {"422"} if "422" in responses else set()
            if method == "post":
                codes |= {"401", "403", "413", "422"}
            if "{" in path:
                codes.add("404")
            for code in codes:
                old = responses.get(code, {})
                desc = old.get("description") or ""
                if desc in ("", "Validation Error", "Not Found"):
                    desc = ERROR_RESPONSES[code]
                responses[code] = {"description": desc, **ref}
            op["responses"] = dict(sorted(responses.items()))
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    doc["components"]["schemas"] = dict(sorted(schemas.items()))
    return doc


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error answer the one shape, and declare that shape in
    the app's OpenAPI document (:func:`declare_error_responses`)."""
    app.add_exception_handler(RequestValidationError, request_invalid)  # type: ignore[arg-type]
    app.add_exception_handler(InvalidInput, invalid_input)  # type: ignore[arg-type]
    app.add_exception_handler(ApiError, api_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    base = app.openapi  # FastAPI's generator (it caches the document on the app)

    def openapi() -> dict[str, Any]:
        return declare_error_responses(base())

    app.openapi = openapi  # type: ignore[method-assign]

"""One error shape for every HTTP error answer: ``{"code", "message", "field"}``.

Codes: ``invalid_input`` (HTTP 422: a domain validation error, ``InvalidInput``, or a shape/type
error caught by pydantic, which adds ``errors``: every field with its message), ``invalid_json``
(422: the body is not JSON), ``unauthorized``/``forbidden``/``payload_too_large`` (``ApiError`` of
``api.http.security``), ``bad_request``, ``not_found``, ``method_not_allowed``, ``http_<status>``.
``install_error_handlers(app)`` registers the handlers.
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.http.security import ApiError
from instances.demand import DemandError
from optimizer.core.errors import InvalidInput

_INDEX = re.compile(r"index (\d+)")


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


async def request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 for a body pydantic rejects. The inputs are not echoed back (a large invalid body would
    come back whole, and NaN/Infinity cannot be written as JSON)."""
    raw = list(exc.errors())
    errors = [{"field": loc_path(e.get("loc", ())), "message": str(e.get("msg", ""))} for e in raw]
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


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error answer the one shape."""
    app.add_exception_handler(RequestValidationError, request_invalid)  # type: ignore[arg-type]
    app.add_exception_handler(InvalidInput, invalid_input)  # type: ignore[arg-type]
    app.add_exception_handler(ApiError, api_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]

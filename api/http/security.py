"""Access control and request limits of the HTTP API.

API keys
    ``LHASA_OPS_API_KEYS`` (comma-separated) and/or ``LHASA_OPS_API_KEYS_FILE`` (one key per line,
    blank lines and ``#`` comments ignored). Read on every request, so a rotated key file takes
    effect without a restart. A client sends ``X-API-Key: <key>`` or ``Authorization: Bearer <key>``.
    **When no key is configured, auth is off** (local use, tests). When keys are configured, every
    ``POST`` (solve/write) endpoint requires one: no key -> HTTP 401 ``{"code": "unauthorized"}``,
    an unknown key -> HTTP 403 ``{"code": "forbidden"}``, both with ``field: "X-API-Key"``.
    ``GET`` endpoints (health, sites, job status) stay open.
Body size
    ``LHASA_OPS_MAX_BODY_BYTES`` (default 2 MiB): a larger body is HTTP 413
    ``{"code": "payload_too_large", ...}``, checked on ``Content-Length`` and on the streamed body
    (chunked uploads without a length).
"""

from __future__ import annotations

import hmac
import json
import os
from pathlib import Path

from fastapi import Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
KEY_FIELD = "X-API-Key"

_api_key_header = APIKeyHeader(name=KEY_FIELD, auto_error=False,
                               description="API key (required on POST endpoints when the server has keys configured).")
_bearer = HTTPBearer(auto_error=False, description="Alternative to X-API-Key: 'Authorization: Bearer <key>'.")


class ApiError(Exception):
    """An error answered in the app's shape ``{"code", "message", "field"}``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.headers = status, code, message, field, headers

    def body(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "field": self.field}


def configured_keys() -> set[str]:
    """The accepted keys (empty: auth off)."""
    keys = {k.strip() for k in os.environ.get("LHASA_OPS_API_KEYS", "").split(",") if k.strip()}
    path = os.environ.get("LHASA_OPS_API_KEYS_FILE")
    if path:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                keys.add(line)
    return keys


def max_body_bytes() -> int:
    raw = os.environ.get("LHASA_OPS_MAX_BODY_BYTES")
    return int(raw) if raw else DEFAULT_MAX_BODY_BYTES


async def require_api_key(header_key: str | None = Security(_api_key_header),
                          cred: HTTPAuthorizationCredentials | None = Security(_bearer)) -> None:  # noqa: B008
    """FastAPI dependency of the write/solve endpoints (no-op when no key is configured)."""
    keys = configured_keys()
    if not keys:
        return
    key = header_key or (cred.credentials if cred is not None else None)
    if not key:
        raise ApiError(401, "unauthorized", "an API key is required (X-API-Key header or Authorization: Bearer)",
                       KEY_FIELD, headers={"WWW-Authenticate": "Bearer"})
    if not any(hmac.compare_digest(key.encode(), k.encode()) for k in keys):
        raise ApiError(403, "forbidden", "the API key is not valid", KEY_FIELD)


class BodyLimitMiddleware:
    """Pure-ASGI middleware answering 413 for bodies over ``max_body_bytes()``."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = max_body_bytes()
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    await _send_error(send, 400, "invalid_header", "Content-Length is not an integer", "Content-Length")
                    return
                if too_big:
                    await _send_error(send, 413, "payload_too_large",
                                      f"request body over {limit} bytes", "body")
                    return
        received = 0
        state = {"started": False, "exceeded": False, "answered": False}

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    state["exceeded"] = True
                    raise _TooLarge
            return message

        async def answer_413() -> None:
            if not state["answered"]:
                state["answered"] = True
                await _send_error(send, 413, "payload_too_large", f"request body over {limit} bytes", "body")

        async def guarded_send(message) -> None:
            # Once the streamed body went over the limit, whatever the app answers (FastAPI turns
            # the read error into a 400) is replaced by the 413.
            if state["exceeded"] and not state["started"]:
                await answer_413()
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            pass
        if state["exceeded"] and not state["started"]:
            await answer_413()


class _TooLarge(Exception):
    pass


async def _send_error(send, status: int, code: str, message: str, field: str | None) -> None:
    body = json.dumps({"code": code, "message": message, "field": field}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

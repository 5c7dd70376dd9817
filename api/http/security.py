"""Access control and request limits of the HTTP API.

API keys
    ``LHASA_OPS_API_KEYS`` (comma-separated) and/or ``LHASA_OPS_API_KEYS_FILE`` (one key per line,
    blank lines and ``#`` comments ignored). Read on every request, so a rotated key file takes
    effect without a restart. The file must exist, be readable and hold a key when the app is created
    (``check_environment``); a file that later disappears, becomes unreadable or is empty (a rotation
    half done) keeps the last keys read from it (a warning is logged); if it was never read, the
    request is refused with HTTP 503 ``{"code": "keys_unavailable"}`` (fail closed). A client sends ``X-API-Key: <key>`` or ``Authorization: Bearer <key>``.
    **When no key is configured, auth is off** (local use, tests). When keys are configured, every
    ``POST`` (solve/write) endpoint requires one: no key -> HTTP 401 ``{"code": "unauthorized"}``,
    an unknown key -> HTTP 403 ``{"code": "forbidden"}``, both with ``field: "X-API-Key"``.
    ``GET`` endpoints (health, sites, job status) stay open.
Body size
    ``LHASA_OPS_MAX_BODY_BYTES`` (default 2 MiB): a larger body is HTTP 413
    ``{"code": "payload_too_large", ...}``, checked on ``Content-Length`` and on the streamed body
    (chunked uploads without a length). A value that is not a positive integer stops the app at
    creation (``check_environment``).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import threading
from pathlib import Path

from fastapi import Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from optimizer.core.errors import InvalidInput

DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
KEY_FIELD = "X-API-Key"
KEYS_ENV = "LHASA_OPS_API_KEYS"
KEYS_FILE_ENV = "LHASA_OPS_API_KEYS_FILE"
MAX_BODY_ENV = "LHASA_OPS_MAX_BODY_BYTES"

log = logging.getLogger(__name__)

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


def _read_key_file(path: str) -> set[str]:
    """The keys of the file (raises ``OSError``/``UnicodeDecodeError`` when it cannot be read)."""
    keys = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keys.add(line)
    return keys


_KEY_FILE_LOCK = threading.Lock()
_LAST_GOOD_KEYS: dict[str, set[str]] = {}
"""The keys last read from each key file (kept when the file cannot be read while serving)."""
_KEY_FILE_FAILING: set[str] = set()


def _file_keys(path: str) -> set[str]:
    """The keys of the file, or the last good ones (with a warning) when it is gone, unreadable or
    empty; ``ApiError`` 503 ``keys_unavailable`` when it was never read (fail closed)."""
    try:
        keys = _read_key_file(path)
        problem = None if keys else "holds no key"
    except (OSError, UnicodeDecodeError) as e:
        keys, problem = set(), f"cannot be read ({type(e).__name__}: {e})"
    with _KEY_FILE_LOCK:
        if problem is None:
            if path in _KEY_FILE_FAILING:
                _KEY_FILE_FAILING.discard(path)
                log.warning("%s=%s: readable again, %d keys", KEYS_FILE_ENV, path, len(keys))
            _LAST_GOOD_KEYS[path] = keys
            return keys
        last = _LAST_GOOD_KEYS.get(path)
        if path not in _KEY_FILE_FAILING:  # warn once per failure, not on every request
            _KEY_FILE_FAILING.add(path)
            log.warning("%s=%s %s; %s", KEYS_FILE_ENV, path, problem,
                        "keeping the last good keys" if last else "refusing requests that need a key")
    if last:
        return set(last)
    raise ApiError(503, "keys_unavailable", f"the API key file {KEYS_FILE_ENV} {problem}", KEYS_FILE_ENV,
                   headers={"Retry-After": "10"})


def configured_keys() -> set[str]:
    """The accepted keys (empty: auth off)."""
    keys = {k.strip() for k in os.environ.get(KEYS_ENV, "").split(",") if k.strip()}
    path = os.environ.get(KEYS_FILE_ENV)
    if path:
        keys |= _file_keys(path)
    return keys


def parse_max_body_bytes(raw: str | None) -> int:
    """``LHASA_OPS_MAX_BODY_BYTES``: a positive integer (bytes), default 2 MiB; ``InvalidInput``
    naming the variable otherwise."""
    if raw is None or raw.strip() == "":
        return DEFAULT_MAX_BODY_BYTES
    try:
        v = int(raw.strip())
    except ValueError:
        raise InvalidInput(MAX_BODY_ENV, raw, "must be a whole number of bytes > 0") from None
    if v <= 0:
        raise InvalidInput(MAX_BODY_ENV, raw, "must be a whole number of bytes > 0")
    return v


def max_body_bytes() -> int:
    return parse_max_body_bytes(os.environ.get(MAX_BODY_ENV))


def check_environment() -> list[InvalidInput]:
    """Problems of the security settings (empty: fine): the body limit, a key list that names no key
    (``LHASA_OPS_API_KEYS=","``, which would turn auth off), and a key file that must exist, be
    readable and hold at least one key. A good key file is remembered as the last good keys."""
    problems: list[InvalidInput] = []
    try:
        parse_max_body_bytes(os.environ.get(MAX_BODY_ENV))
    except InvalidInput as e:
        problems.append(e)
    listed = os.environ.get(KEYS_ENV, "")
    if listed.strip() and not any(k.strip() for k in listed.split(",")):  # e.g. "," : auth off by mistake
        problems.append(InvalidInput(KEYS_ENV, listed, "names no key (comma-separated keys; unset it, or set it "
                                     "empty, to run without keys)"))
    path = os.environ.get(KEYS_FILE_ENV)
    if path is not None:
        if not path.strip():
            problems.append(InvalidInput(KEYS_FILE_ENV, path, "is empty; unset it to use no key file"))
        else:
            try:
                keys = _read_key_file(path)
            except FileNotFoundError:
                problems.append(InvalidInput(KEYS_FILE_ENV, path, "no such file"))
            except IsADirectoryError:
                problems.append(InvalidInput(KEYS_FILE_ENV, path, "is a directory, not a key file"))
            except (OSError, UnicodeDecodeError) as e:
                problems.append(InvalidInput(KEYS_FILE_ENV, path, f"cannot be read ({type(e).__name__}: {e})"))
            else:
                if not keys:
                    problems.append(InvalidInput(KEYS_FILE_ENV, path, "holds no key (one key per line; "
                                                 "unset the variable to run without a key file)"))
                else:
                    with _KEY_FILE_LOCK:
                        _LAST_GOOD_KEYS[path] = keys
                        _KEY_FILE_FAILING.discard(path)
    return problems


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

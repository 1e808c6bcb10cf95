"""Refuse malformed requests before any route sees them.

Bodies are read up to a limit (413 beyond, also for chunked bodies), JSON bodies are parsed once
here and refused when they nest deeper than a person's data ever does, contain NUL characters
(PostgreSQL cannot store them) or non-finite numbers (NaN is not JSON). Paths and query strings
with NUL are refused too. Each refusal is a 4xx that says what to fix, never a 500.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_DEPTH = 32


class RequestRefused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def _reject_constant(name: str) -> Any:
    raise RequestRefused(422, f"{name} is not a JSON number; send a finite number or null")


def check_json_value(value: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise RequestRefused(422, f"the JSON nests deeper than {MAX_DEPTH} levels; flatten the data")
    if isinstance(value, str):
        if "\x00" in value:
            raise RequestRefused(422, "text must not contain NUL (\\u0000) characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_json_value(key, depth + 1)
            check_json_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_json_value(item, depth + 1)


def check_json_body(body: bytes) -> None:
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise RequestRefused(422, f"the JSON nests deeper than {MAX_DEPTH} levels; flatten the data") from exc
    except (ValueError, UnicodeDecodeError):
        return  # not JSON at all: the route's own validation says so with a 422
    check_json_value(value)


class RequestGuard:
    def __init__(self, app: ASGIApp, default_limit: int, upload_limit: int) -> None:
        self.app, self.default_limit, self.upload_limit = app, default_limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(scope, receive)
        except RequestRefused as exc:
            await JSONResponse(status_code=exc.status, content={"detail": exc.detail})(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        raw_path = scope.get("raw_path") or scope["path"].encode()
        if b"\x00" in unquote_to_bytes(raw_path) or b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            raise RequestRefused(422, "the URL must not contain NUL (%00) characters")
        limit = self.upload_limit * 2 if scope["path"].startswith("/api/definitions") else self.default_limit
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise RequestRefused(413, f"the request body is larger than {limit} bytes")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise RequestRefused(413, f"the request body is larger than {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type == b"application/json" and body:
            check_json_body(body)
        elif content_type == b"application/x-www-form-urlencoded" and b"\x00" in unquote_to_bytes(body):
            raise RequestRefused(422, "form fields must not contain NUL (%00) characters")
        return body

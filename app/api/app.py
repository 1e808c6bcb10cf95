"""The FastAPI application: wiring of routers, errors and limits."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api import auth, communications, definitions, health, instances, processes, tasks
from app.clock import Clock, SystemClock
from app.config import Settings, get_settings
from app.db.session import make_engine, make_sessionmaker
from app.services.errors import ServiceError, Unauthorized

DESCRIPTION = """
Runs chapter 2-1 of the Rules (Decree No. 1037 as amended by Decree No. 786 of 25 January 2022):
communications from UN human-rights special procedures, as BPMN diagrams.

Log in with `POST /api/auth/token` (form fields `username`, `password`) and send the token as
`Authorization: Bearer <token>`. Errors are `{"detail": ...}`: a message, or a list of
`{"field" | "element_id", "message"}` entries that say what to fix.
"""


class BodySizeLimit:
    """Refuse request bodies over the limit with 413 before anything reads them into memory."""

    def __init__(self, app: ASGIApp, default_limit: int, upload_limit: int) -> None:
        self.app, self.default_limit, self.upload_limit = app, default_limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit * 2 if scope["path"].startswith("/api/definitions") else self.default_limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await _too_large(send, limit)


class _TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit


async def _too_large(send: Send, limit: int) -> None:
    body = JSONResponse(status_code=413, content={"detail": f"the request body is larger than {limit} bytes"})
    await body({"type": "http"}, _empty_receive, send)


async def _empty_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        out.append({"field": ".".join(loc) or "(body)", "message": err.get("msg", "invalid")})
    return out


def create_app(settings: Settings | None = None, clock: Clock | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Chapter 2-1 communications",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.engine = engine or make_engine(settings.database_url)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail}, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _validation_detail(exc)})

    for module in (health, auth, definitions, communications, processes, instances, tasks):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimit, default_limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes)
    return app

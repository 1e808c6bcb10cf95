"""The FastAPI application: wiring of routers, errors and limits."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from app.api import (
    audit,
    auth,
    calendar,
    communications,
    definitions,
    export,
    health,
    instances,
    organisations,
    processes,
    reports,
    tasks,
    traceability,
    treaty_bodies,
    visits,
)
from app.api.guard import RequestGuard
from app.clock import Clock, SystemClock
from app.config import Settings, get_settings
from app.db.session import make_engine, make_sessionmaker
from app.services.auth import PrincipalCache
from app.services.errors import ServiceError, Throttled, Unauthorized
from app.services.timers import run_worker
from app.web import routes as web

log = logging.getLogger(__name__)

DESCRIPTION = """
Runs chapter 2-1 of the Rules (Decree No. 1037 as amended by Decree No. 786 of 25 January 2022):
communications from UN human-rights special procedures, as BPMN diagrams.

Log in with `POST /api/auth/token` (form fields `username`, `password`) and send the token as
`Authorization: Bearer <token>`. Errors are `{"detail": ...}`: a message, or a list of
`{"field" | "element_id", "message"}` entries that say what to fix.
"""


def _validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        out.append({"field": ".".join(loc) or "(body)", "message": err.get("msg", "invalid")})
    return out


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the in-process timer worker when the settings ask for it; stop it on shutdown."""
    settings: Settings = app.state.settings
    if settings.timer_worker not in ("off", "in-process"):
        raise RuntimeError(f"TIMER_WORKER must be 'off' or 'in-process', not {settings.timer_worker!r}")
    stop = threading.Event()
    thread = None
    if settings.timer_worker == "in-process":
        thread = threading.Thread(
            target=run_worker,
            args=(app.state.sessionmaker, app.state.clock, settings.timer_poll_seconds, stop),
            name="timer-worker",
            daemon=True,
        )
        thread.start()
    yield
    stop.set()
    if thread is not None:
        thread.join(timeout=10)


def create_app(settings: Settings | None = None, clock: Clock | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        lifespan=_lifespan,
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
    app.state.principals = PrincipalCache(ttl_seconds=settings.auth_cache_seconds)

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        if isinstance(exc, Throttled) and exc.retry_after is not None:
            headers = {"Retry-After": str(max(1, int((exc.retry_after - app.state.clock.now()).total_seconds())))}
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail}, headers=headers)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return JSONResponse(
            status_code=503,
            headers={"Retry-After": "5"},
            content={"detail": "the database is busy or unreachable; try again in a few seconds"},
        )

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _validation_detail(exc)})

    for module in (
        health,
        auth,
        definitions,
        communications,
        processes,
        instances,
        tasks,
        calendar,
        organisations,
        traceability,
        visits,
        treaty_bodies,
        audit,
        export,
        reports,
    ):
        app.include_router(module.router)
    app.include_router(web.router)  # the pages (app/web), over the same services
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    app.add_middleware(RequestGuard, default_limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes)
    return app

"""Dependencies shared by the routers: database session, clock, settings, the caller, paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker

from app.clock import Clock
from app.config import Settings
from app.services.auth import authenticate
from app.services.errors import Unauthorized
from app.services.principal import Principal

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request. Creating and closing one does no I/O worth a thread-pool hop."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()


async def get_session_factory(request: Request) -> sessionmaker[Session]:
    """For work in a transaction of its own beside the request's session (recording an access)."""
    return request.app.state.sessionmaker


async def get_clock(request: Request) -> Clock:
    return request.app.state.clock


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def current_principal(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    """Who is asking: from the in-process cache, else from the database in a session of its own
    (so the use case's transaction starts clean)."""
    if not token:
        raise Unauthorized("log in first: POST /api/auth/token, then send 'Authorization: Bearer <token>'")
    state = request.app.state
    cached = state.principals.get(token, state.clock)
    if cached is not None:
        return cached
    return await run_in_threadpool(_authenticate, state, token)


def _authenticate(state: Any, token: str) -> Principal:
    with state.sessionmaker() as session:
        return authenticate(session, token, state.clock, state.principals)


@dataclass(frozen=True)
class Page:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


async def paging(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    page_size: Annotated[int, Query(ge=1, le=200, description="items per page (at most 200)")] = 50,
) -> Page:
    return Page(page, page_size)


SessionDep = Annotated[Session, Depends(get_session)]
SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_session_factory)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
PageDep = Annotated[Page, Depends(paging)]

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import ClockDep, SessionDep, SettingsDep
from app.api.schemas import TokenOut
from app.services import login_throttle

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenOut,
    responses={
        401: {"description": "wrong username or password"},
        429: {"description": "too many failed logins for this username: wait (see Retry-After)"},
    },
)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> TokenOut:
    """OAuth2 password flow: form fields `username` and `password`; answer a bearer token.

    After 5 failures for one username within 15 minutes, logins for it are refused (429) for 15 minutes."""
    value = login_throttle.login(
        session,
        form.username,
        form.password,
        clock,
        settings.token_ttl_minutes,
        remote_addr=request.client.host if request.client else None,
    )
    return TokenOut(access_token=value, expires_in=settings.token_ttl_minutes * 60)

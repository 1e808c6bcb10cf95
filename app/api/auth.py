from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import ClockDep, SessionDep, SettingsDep
from app.api.schemas import TokenOut
from app.services.auth import issue_token

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut, responses={401: {"description": "wrong username or password"}})
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> TokenOut:
    """OAuth2 password flow: form fields `username` and `password`; answer a bearer token."""
    value = issue_token(session, form.username, form.password, clock, settings.token_ttl_minutes)
    return TokenOut(access_token=value, expires_in=settings.token_ttl_minutes * 60)

"""The pages' session cookie and CSRF tokens.

The session is a bearer token of the api_token table (issued by services.auth, stored there only as
its SHA-256), carried in an HttpOnly, SameSite=Lax cookie, Secure when the request came over HTTPS.
Logout revokes it. A form's CSRF token is HMAC-SHA256 of a fixed label keyed with the session
token: only a page that could read the (HttpOnly) cookie's value could compute it, and the server
needs no secret of its own nor any stored state. The login form, which has no session yet, uses a
random `login_csrf` cookie echoed in the form (double submit), so a foreign site cannot log a
browser into an account of its choosing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from starlette.responses import Response

from app.config import Settings

SESSION_COOKIE = "session"
LOGIN_CSRF_COOKIE = "login_csrf"
LANG_COOKIE = "lang"  # the login page's language, before anyone is logged in
CSRF_FIELD = "csrf_token"
_LABEL = b"kz-hr-communications web form v1"


def csrf_token(secret: str) -> str:
    return hmac.new(secret.encode(), _LABEL, hashlib.sha256).hexdigest()


def csrf_ok(secret: str | None, sent: str | None) -> bool:
    if not secret or not sent:
        return False
    return hmac.compare_digest(csrf_token(secret), sent)


def new_login_secret() -> str:
    return secrets.token_urlsafe(24)


def is_https(request: Request, settings: Settings) -> bool:
    """Whether the browser talks HTTPS to us: directly, or through a proxy we were told to trust."""
    if request.url.scheme == "https":
        return True
    if settings.trust_forwarded_proto:
        return request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower() == "https"
    return False


def set_cookie(
    response: Response, request: Request, settings: Settings, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
    )


def clear_cookie(response: Response, request: Request, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=is_https(request, settings))


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a path on this site: never another host (an open redirect) nor a scheme-relative URL."""
    if not value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value

"""Login, logout and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.services import login_throttle, users
from app.services.auth import authenticate, revoke_token
from app.services.errors import Throttled, Unauthorized
from app.web.deps import DbDep, FormDep, LoginFormDep, PublicDep, Web, WebDep, WebRoute
from app.web.i18n import LOCALES, N_, Lang
from app.web.session import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    csrf_token,
    new_login_secret,
    safe_next,
    set_cookie,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
YEAR = 365 * 24 * 3600


def _login_form(
    web: Web,
    request: Request,
    *,
    next_url: str,
    username: str = "",
    error: str | None = None,
    status: int = 200,
    chosen: str = "",
) -> Response:
    secret = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_secret()
    response = web.render(
        "login.html",
        status,
        csrf_login=csrf_token(secret),
        next_url=next_url,
        username=username,
        error=error,
        chosen_lang=chosen,
    )
    set_cookie(response, request, web.settings, LOGIN_CSRF_COOKIE, secret, max_age=12 * 3600)
    return response


@router.get("/login")
def login_page(request: Request, web: PublicDep, next: str | None = None, lang: str | None = None) -> Response:
    """The login form; `?lang=en` switches the page (remembered in a cookie until someone logs in)."""
    if web.principal is not None:
        return web.redirect(safe_next(next))
    if lang in LOCALES:
        web.lang = Lang(lang)
    response = _login_form(web, request, next_url=safe_next(next, ""), chosen=lang if lang in LOCALES else "")
    if lang in LOCALES:
        set_cookie(response, request, web.settings, LANG_COOKIE, lang, max_age=YEAR)
    return response


@router.post("/login")
def login(request: Request, web: PublicDep, form: LoginFormDep, session: DbDep) -> Response:
    """Password check behind the throttle (services.login_throttle), then the session cookie."""
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    next_url = safe_next(str(form.get("next") or ""), "")
    chosen = str(form.get("lang") or "")  # set only when the login page was switched explicitly (?lang=)
    try:
        token = login_throttle.login(
            session,
            username,
            password,
            web.clock,
            web.settings.token_ttl_minutes,
            remote_addr=request.client.host if request.client else None,
        )
    except Throttled as exc:
        message = web.lang._(
            N_("Too many failed logins for this user. Wait and try again after {time}."),
            time=web.lang.datetime(exc.retry_after),
        )
        return _login_form(web, request, next_url=next_url, username=username, error=message, status=429, chosen=chosen)
    except Unauthorized:
        message = web.lang._(N_("Wrong username or password."))
        return _login_form(web, request, next_url=next_url, username=username, error=message, status=401, chosen=chosen)
    principal = authenticate(session, token, web.clock, request.app.state.principals)
    session.rollback()
    if chosen in LOCALES and users.get_locale(session, principal.user_id) is None:
        session.rollback()
        users.set_locale(session, principal.user_id, chosen)  # the language the login page was read in
    response = web.redirect(next_url or "/")
    set_cookie(response, request, web.settings, SESSION_COOKIE, token, max_age=web.settings.token_ttl_minutes * 60)
    clear_cookie(response, request, web.settings, LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, web: WebDep, form: FormDep, session: DbDep) -> Response:
    """Revoke the session's token (in the database and this process's cache) and drop the cookie."""
    assert web.token is not None
    revoke_token(session, web.token, web.clock, request.app.state.principals)
    response = web.redirect("/login")
    clear_cookie(response, request, web.settings, SESSION_COOKIE)
    set_cookie(response, request, web.settings, LANG_COOKIE, web.lang.locale, max_age=YEAR)
    return response


@router.post("/language")
def language(request: Request, web: WebDep, form: FormDep, session: DbDep) -> Response:
    """Switch the pages' language for this user, everywhere they log in (app_user.locale)."""
    assert web.principal is not None
    users.set_locale(session, web.principal.user_id, str(form.get("locale") or ""))
    response = web.redirect(safe_next(str(form.get("next") or ""), "/"))
    set_cookie(response, request, web.settings, LANG_COOKIE, str(form.get("locale")), max_age=YEAR)
    return response

"""What every page needs: who is asking (session cookie), in which language, CSRF checks, and
service refusals turned into pages (404, 403, 409, ...) instead of the API's JSON."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import FormData
from starlette.responses import JSONResponse, RedirectResponse, Response

from app.clock import Clock
from app.config import Settings
from app.services import cases, users
from app.services.auth import authenticate
from app.services.errors import ServiceError, Unauthorized
from app.services.principal import Principal
from app.web import messages
from app.web.i18n import DEFAULT_LOCALE, N_, Lang
from app.web.render import render
from app.web.session import CSRF_FIELD, LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, csrf_ok, csrf_token


class LoginRequired(Exception):
    """No valid session: pages redirect to the login page, JSON endpoints answer 401."""


class CsrfRejected(Exception):
    """A POST without the form's CSRF token (or with a wrong one)."""


@dataclass
class Web:
    """One request as a page sees it."""

    request: Request
    principal: Principal | None
    token: str | None
    lang: Lang
    clock: Clock
    settings: Settings

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def sessionmaker(self) -> sessionmaker[Session]:
        """For records written in their own transaction (services.auditing), as the API's SessionFactoryDep."""
        return self.request.app.state.sessionmaker  # type: ignore[no-any-return]

    @property
    def csrf(self) -> str:
        return csrf_token(self.token) if self.token else ""

    # What the navigation offers; the services decide what is allowed, this only hides dead ends.
    @property
    def has_inbox(self) -> bool:
        return bool(self.principal and self.principal.task_scopes())

    @property
    def can_register(self) -> bool:
        return bool(self.principal and self.principal.in_kind("mfa", "officer", "head"))

    @property
    def can_start_visit(self) -> bool:
        p = self.principal
        return bool(
            p and (p.is_admin or any(p.in_kind(k, "officer", "head") for k in ("mfa", "state_body", "ombudsman")))
        )

    @property
    def can_start_treaty(self) -> bool:
        p = self.principal
        return bool(
            p and (p.is_admin or p.in_kind("mfa", "officer", "head") or p.in_kind("state_body", "officer", "head"))
        )

    @property
    def can_report(self) -> bool:
        """The compliance report over every organisation: the MFA, auditors, admins (services.reports)."""
        return bool(self.principal and cases.sees_all_cases(self.principal))

    @property
    def organisations(self) -> list[str]:
        return sorted({m.organisation for m in self.principal.memberships}) if self.principal else []

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        return render(template, self.lang, status, web=self, **context)

    def redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)


def _resolve(request: Request) -> Web:
    """Who is asking and in which language; one short session of its own (the page's stays clean)."""
    state = request.app.state
    token = request.cookies.get(SESSION_COOKIE) or None
    principal: Principal | None = None
    locale = request.cookies.get(LANG_COOKIE) or DEFAULT_LOCALE
    if token:
        with state.sessionmaker() as session:
            try:
                principal = state.principals.get(token, state.clock) or authenticate(
                    session, token, state.clock, state.principals
                )
                locale = users.get_locale(session, principal.user_id) or DEFAULT_LOCALE
            except Unauthorized:
                principal, token = None, None
    web = Web(request, principal, token if principal else None, Lang(locale), state.clock, state.settings)
    request.state.web = web
    return web


def web_page(request: Request) -> Web:
    """A page for logged-in users (sync: FastAPI runs it in the thread pool, like the page)."""
    web = _resolve(request)
    if web.principal is None:
        raise LoginRequired()
    return web


def web_public(request: Request) -> Web:
    return _resolve(request)


def get_session(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not csrf_ok(request.cookies.get(SESSION_COOKIE), sent if isinstance(sent, str) else None):
        raise CsrfRejected()
    return form


async def checked_login_form(request: Request) -> FormData:
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), sent if isinstance(sent, str) else None):
        raise CsrfRejected()
    return form


WebDep = Annotated[Web, Depends(web_page)]
PublicDep = Annotated[Web, Depends(web_public)]
DbDep = Annotated[Session, Depends(get_session)]
FormDep = Annotated[FormData, Depends(checked_form)]
LoginFormDep = Annotated[FormData, Depends(checked_login_form)]

TITLES = {
    400: N_("The request is not valid"),
    401: N_("Please log in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    409: N_("Conflict"),
    413: N_("Too large"),
    422: N_("The data is not valid"),
    429: N_("Too many attempts"),
    503: N_("Try again later"),
}


def error_page(request: Request, status: int, detail: Any) -> Response:
    """A refusal as a page in the user's language (or JSON for the pages' JSON endpoints)."""
    web: Web | None = getattr(request.state, "web", None)
    lang = web.lang if web else Lang(request.cookies.get(LANG_COOKIE) or DEFAULT_LOCALE)
    items = detail if isinstance(detail, list) else [detail]
    shown = [
        i
        if isinstance(i, messages.Shown)
        else messages.translate(lang, i.get("message", "") if isinstance(i, dict) else str(i))
        for i in items
    ]
    if request.url.path.endswith((".json", ".xml")):
        return JSONResponse({"detail": [m.text for m in shown]}, status_code=status)
    return render(
        "error.html",
        lang,
        status,
        web=web,
        code=status,
        title=lang._(TITLES.get(status, N_("Something went wrong"))),
        messages=shown,
    )


class WebRoute(APIRoute):
    """Routes of the pages: service errors, missing logins and CSRF failures become pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                if request.url.path.endswith((".json", ".xml")):
                    return JSONResponse({"detail": "log in first"}, status_code=401)
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.method != "GET":
                    target = "/"
                return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            except CsrfRejected:
                web = getattr(request.state, "web", None) or await run_in_threadpool(_resolve, request)
                text = web.lang._(
                    N_("The form has expired or did not come from this site: reload the page and send it again.")
                )
                return error_page(request, 403, messages.Shown(text))
            except ServiceError as exc:
                return error_page(request, exc.status_code, exc.detail)
            except RequestValidationError:
                web = getattr(request.state, "web", None) or await run_in_threadpool(_resolve, request)
                status = 404 if request.method == "GET" else 400
                return error_page(request, status, messages.Shown(web.lang._(N_("This address is not valid."))))

        return guarded

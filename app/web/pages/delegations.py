"""Acting-head delegations of the user's organisations: list, grant, revoke (services.delegations)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.services import delegations, users
from app.services.errors import Conflict, Forbidden, Invalid
from app.web import forms
from app.web.deps import DbDep, FormDep, Web, WebDep, WebRoute
from app.web.i18n import N_
from app.web.messages import Shown

router = APIRouter(route_class=WebRoute, include_in_schema=False)
FIELDS = ("user", "from", "to", "reason")  # the grant form's fields


def _page(
    web: Web,
    session: Any,
    org: str | None,
    values: dict[str, str] | None = None,
    errors: dict[str, list[Shown]] | None = None,
    status: int = 200,
) -> Response:
    assert web.principal is not None
    organisations = web.organisations
    code = org if org else (organisations[0] if organisations else "")
    rows = delegations.list_for(session, web.principal, code) if code else []
    may_manage = web.principal.is_admin or web.principal.is_first_head_of(code)
    members = [m for m in users.members_of(session, code) if m[0] != web.principal.username] if may_manage else []
    general = [s for k, v in (errors or {}).items() if k not in FIELDS for s in v]
    return web.render(
        "delegations.html",
        status,
        code=code,
        organisations=organisations,
        rows=rows,
        may_manage=may_manage,
        members=members,
        values=values or {},
        errors=errors or {},
        general_errors=general,
        today=web.now,
    )


@router.get("/delegations")
def list_page(web: WebDep, session: DbDep, org: str | None = None) -> Response:
    return _page(web, session, org)


@router.post("/delegations/{code}/grant")
def grant(code: str, request: Request, web: WebDep, session: DbDep, form: FormDep) -> Response:
    """Name a member as acting first head for some days (the first head or an admin)."""
    assert web.principal is not None
    values = {k: str(form.get(k) or "").strip() for k in FIELDS}
    errors: dict[str, list[Shown]] = {}
    start = forms.as_date(values, "from", web.lang, errors)
    end = forms.as_date(values, "to", web.lang, errors)
    for name in FIELDS:
        if not values[name] and name not in errors:
            errors[name] = [Shown(web.lang._(N_("This field is required.")))]
    if errors or start is None or end is None:
        return _page(web, session, code, values, errors, status=422)
    try:
        delegations.grant(
            session, web.principal, code, delegations.Grant(values["user"], start, end, values["reason"]), web.clock
        )
    except (Invalid, Conflict, Forbidden) as exc:
        session.rollback()
        return _page(web, session, code, values, forms.refusal(exc, web.lang), status=exc.status_code)
    request.app.state.principals.clear()  # the delegate's inbox changes now, as with the API
    return web.redirect(f"/delegations?org={code}")


@router.post("/delegations/{code}/{delegation_id}/revoke")
def revoke(code: str, delegation_id: int, request: Request, web: WebDep, session: DbDep, form: FormDep) -> Response:
    assert web.principal is not None
    delegations.revoke(session, web.principal, code, delegation_id, str(form.get("reason") or "").strip(), web.clock)
    request.app.state.principals.clear()
    return web.redirect(f"/delegations?org={code}")

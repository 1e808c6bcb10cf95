from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response

from app.api.deps import ClockDep, PageDep, PrincipalDep, SessionDep
from app.api.schemas import AuditEventOut, InstanceOut, MessageIn, audit_out, case_out
from app.services import cases, messages

router = APIRouter(prefix="/api/instances", tags=["instances"])


@router.get("", response_model=list[InstanceOut])
def list_instances(
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    page: PageDep,
    business_key: str | None = None,
    status: Literal["running", "completed"] | None = None,
    key: str | None = None,
) -> list[InstanceOut]:
    """Cases you may see, newest first. The total is in the `X-Total-Count` header."""
    rows, total = cases.list_instances(
        session, principal, business_key=business_key, status=status, key=key, offset=page.offset, limit=page.page_size
    )
    response.headers["X-Total-Count"] = str(total)
    now = clock.now()
    return [case_out(v, now) for v in cases.views(session, principal, rows)]


@router.get("/{instance_id}", response_model=InstanceOut)
def get_instance(instance_id: str, session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> InstanceOut:
    instance = cases.get_visible(session, principal, instance_id)
    return case_out(cases.view(session, principal, instance), clock.now())


@router.get("/{instance_id}/history", response_model=list[AuditEventOut])
def history(instance_id: str, session: SessionDep, principal: PrincipalDep) -> list[AuditEventOut]:
    """The case's audit events in order, each with its place in the hash chain."""
    return [audit_out(e) for e in cases.history(session, principal, instance_id)]


@router.post(
    "/{instance_id}/messages/{name}",
    response_model=InstanceOut,
    responses={409: {"description": "the case is not waiting for that message"}},
)
def send_message(
    instance_id: str, name: str, body: MessageIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> InstanceOut:
    """Deliver a BPMN message to the case, e.g. `ohchr_published` (MFA officers record outside events).

    `deadline_extended` (`{"reply_deadline", "note"}`) is the same as
    POST /api/communications/{id}/deadline-extension: D2 moves and its timer is re-armed."""
    instance = messages.deliver(session, instance_id, name, body.data, principal, clock)
    return case_out(cases.view(session, principal, instance), clock.now())

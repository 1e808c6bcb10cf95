from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response

from app.api.deps import ClockDep, PageDep, PrincipalDep, SessionDep, SessionFactoryDep
from app.api.schemas import AuditEventOut, InstanceOut, MessageIn, audit_out, case_out
from app.services import auditing, cases, messages

router = APIRouter(prefix="/api/instances", tags=["instances"])


@router.get("", response_model=list[InstanceOut])
def list_instances(
    response: Response,
    session: SessionDep,
    factory: SessionFactoryDep,
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
    shown = [case_out(v, now) for v in cases.views(session, principal, rows)]
    filters = {"business_key": business_key, "status": status, "key": key, "page": page.page}
    auditing.auditor_viewed(factory, principal, clock, "instances", filters=filters, instance_ids=[c.id for c in shown])
    return shown


@router.get("/{instance_id}", response_model=InstanceOut)
def get_instance(
    instance_id: str, session: SessionDep, factory: SessionFactoryDep, clock: ClockDep, principal: PrincipalDep
) -> InstanceOut:
    instance = cases.get_visible(session, principal, instance_id)
    shown = case_out(cases.view(session, principal, instance), clock.now())
    auditing.auditor_viewed(
        factory, principal, clock, "instance", instance_id=instance_id, business_key=shown.business_key
    )
    return shown


@router.get("/{instance_id}/history", response_model=list[AuditEventOut])
def history(
    instance_id: str, session: SessionDep, factory: SessionFactoryDep, clock: ClockDep, principal: PrincipalDep
) -> list[AuditEventOut]:
    """The case's audit events in order, each with its place in the hash chain."""
    shown = [audit_out(e) for e in cases.history(session, principal, instance_id)]
    auditing.auditor_viewed(factory, principal, clock, "history", instance_id=instance_id, events=len(shown))
    return shown


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

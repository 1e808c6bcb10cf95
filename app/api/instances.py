from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import ValidationError

from app.api.deps import ClockDep, PageDep, PrincipalDep, SessionDep
from app.api.schemas import AuditEventOut, ExtensionIn, InstanceOut, MessageIn, audit_out, case_out
from app.services import cases, communications
from app.services.errors import Invalid

router = APIRouter(prefix="/api/instances", tags=["instances"])


@router.get("", response_model=list[InstanceOut])
def list_instances(
    response: Response,
    session: SessionDep,
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
    return [case_out(v) for v in cases.views(session, principal, rows)]


@router.get("/{instance_id}", response_model=InstanceOut)
def get_instance(instance_id: str, session: SessionDep, principal: PrincipalDep) -> InstanceOut:
    instance = cases.get_visible(session, principal, instance_id)
    return case_out(cases.view(session, principal, instance))


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
    if name == "deadline_extended":
        try:
            extension = ExtensionIn.model_validate(body.data)
        except ValidationError as exc:
            raise Invalid([{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]) from exc
        instance = communications.extend_deadline(
            session, instance_id, extension.reply_deadline, extension.note, principal, clock
        )
        return case_out(cases.view(session, principal, instance))
    instance = cases.send_message(session, instance_id, name, body.data, principal, clock)
    return case_out(cases.view(session, principal, instance))

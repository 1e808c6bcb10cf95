from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import ClockDep, PrincipalDep, SessionDep
from app.api.schemas import CommunicationIn, ExtensionIn, InstanceOut, case_out
from app.services import cases, communications

router = APIRouter(prefix="/api/communications", tags=["communications"])


@router.post(
    "",
    response_model=InstanceOut,
    status_code=201,
    responses={409: {"description": "reference already registered"}, 422: {"description": "invalid data"}},
)
def register(body: CommunicationIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> InstanceOut:
    """Register a communication received from UN special procedures and start its case (MFA officers)."""
    instance = communications.register(session, communications.Registration(**body.model_dump()), principal, clock)
    return case_out(cases.view(session, principal, instance), clock.now())


@router.post(
    "/{instance_id}/deadline-extension",
    response_model=InstanceOut,
    responses={409: {"description": "that is already the reply deadline"}},
)
def extend(
    instance_id: str, body: ExtensionIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> InstanceOut:
    """Special procedures granted more time: the reply deadline (D2) moves and its timer is re-armed."""
    instance = communications.extend_deadline(session, instance_id, body.reply_deadline, body.note, principal, clock)
    return case_out(cases.view(session, principal, instance), clock.now())

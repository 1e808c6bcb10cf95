from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import ClockDep, PrincipalDep, SessionDep
from app.api.schemas import CommunicationIn, InstanceOut, case_out
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
    return case_out(cases.view(session, principal, instance))

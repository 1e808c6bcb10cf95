from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import ClockDep, PrincipalDep, SessionDep
from app.api.schemas import InstanceOut, StartIn, case_out
from app.services import cases

router = APIRouter(prefix="/api/processes", tags=["processes"])


@router.post("/{key}/instances", response_model=InstanceOut, status_code=201)
def start(key: str, body: StartIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> InstanceOut:
    """Start a case of the latest version of `key` (officers of the start lane's organisation, or admins)."""
    instance = cases.start_generic(session, key, body.business_key, body.data, principal, clock)
    return case_out(cases.view(session, principal, instance), clock.now())

"""Acting-head delegations of an organisation (the "person acting in his stead" of 14-7, 14-8)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.api.deps import ClockDep, PrincipalDep, SessionDep, SessionFactoryDep
from app.api.schemas import DelegationIn, DelegationOut, RevokeIn, delegation_out
from app.services import auditing, delegations

router = APIRouter(prefix="/api/organisations", tags=["organisations"])


@router.get("/{code}/delegations", response_model=list[DelegationOut], response_model_by_alias=True)
def list_delegations(
    code: str, session: SessionDep, factory: SessionFactoryDep, clock: ClockDep, principal: PrincipalDep
) -> list[DelegationOut]:
    """All delegations of the organisation, revoked ones included (members, auditors, admins)."""
    shown = [delegation_out(d) for d in delegations.list_for(session, principal, code)]
    auditing.auditor_viewed(factory, principal, clock, "delegations", organisation=code, delegations=len(shown))
    return shown


@router.post(
    "/{code}/delegations",
    response_model=DelegationOut,
    response_model_by_alias=True,
    status_code=201,
    responses={403: {"description": "not the first head or an admin"}, 409: {"description": "another acting head"}},
)
def grant(
    code: str, body: DelegationIn, request: Request, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> DelegationOut:
    """Name a member as acting first head for a period (the organisation's first head, or an admin)."""
    wanted = delegations.Grant(body.user, body.from_, body.to, body.reason)
    delegation = delegations.grant(session, principal, code, wanted, clock)
    request.app.state.principals.clear()  # the delegate's inbox changes now, not at the cache's expiry
    return delegation_out(delegation)


@router.post(
    "/{code}/delegations/{delegation_id}/revoke",
    response_model=DelegationOut,
    response_model_by_alias=True,
    responses={409: {"description": "already revoked"}},
)
def revoke(
    code: str,
    delegation_id: int,
    body: RevokeIn,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> DelegationOut:
    """End a delegation now; signatures made under it stay valid (they were made while it held)."""
    delegation = delegations.revoke(session, principal, code, delegation_id, body.reason, clock)
    request.app.state.principals.clear()
    return delegation_out(delegation)

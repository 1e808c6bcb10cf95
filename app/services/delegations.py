"""Acting-head delegations: "the first head or the person acting in his stead" (14-7 ч.1, 14-8 ч.1).

A head of an organisation (or an admin) names a member of that organisation to act as first head
for a period of days (Asia/Almaty). While it is valid the delegate sees and does the head's steps;
each signature records whether it was the head's own or an acting one, with the delegation. A
delegation is revoked, never deleted, and every grant and revocation is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import events as audit
from app.clock import Clock, today
from app.db.models import Delegation, Membership, Organisation, User
from app.db.session import begin_write
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.principal import MembershipView, Principal

MAX_DAYS = 366  # a longer absence is an appointment, not an acting period


@dataclass(frozen=True)
class Grant:
    username: str
    valid_from: date
    valid_to: date
    reason: str


def acting_memberships(session: Session, user_id: int, day: date) -> tuple[MembershipView, ...]:
    """The user's delegations valid on `day`, as head memberships that name their delegation."""
    rows = session.scalars(
        select(Delegation).where(
            Delegation.user_id == user_id,
            Delegation.revoked_at.is_(None),
            Delegation.valid_from <= day,
            Delegation.valid_to >= day,
        )
    )
    return tuple(
        MembershipView(d.organisation.code, d.organisation.kind, "head", delegation_id=d.id)
        for d in sorted(rows, key=lambda d: d.id)
    )


def still_valid(session: Session, delegation_id: int, user_id: int, organisation: str, day: date) -> Delegation | None:
    """Re-read a delegation at the moment it is used: a revocation counts at once, in every process."""
    found = session.get(Delegation, delegation_id)
    if (
        found is None
        or found.user_id != user_id
        or found.organisation.code != organisation
        or found.revoked_at is not None
        or not found.valid_from <= day <= found.valid_to
    ):
        return None
    return found


def _organisation(session: Session, code: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFound(f"no organisation {code!r}")
    return org


def _require_manager(principal: Principal, code: str) -> None:
    """Only the organisation's own first head (not an acting one) or an admin delegates."""
    if not (principal.is_first_head_of(code) or principal.is_admin):
        raise Forbidden(f"only the first head of {code} or an administrator may manage its acting-head delegations")


def list_for(session: Session, principal: Principal, code: str) -> list[Delegation]:
    org = _organisation(session, code)
    if not (principal.member_of(code) or principal.is_admin or principal.is_auditor):
        raise NotFound(f"no organisation {code!r} whose delegations you may see")
    return list(
        session.scalars(
            select(Delegation)
            .where(Delegation.organisation_id == org.id)
            .order_by(Delegation.valid_from, Delegation.id)
        )
    )


def grant(session: Session, principal: Principal, code: str, wanted: Grant, clock: Clock) -> Delegation:
    begin_write(session)
    org = _organisation(session, code)
    _require_manager(principal, code)
    errors = []
    user = session.scalar(select(User).where(User.username == wanted.username))
    roles = set(
        session.scalars(
            select(Membership.role).where(Membership.user_id == user.id, Membership.organisation_id == org.id)
        )
        if user
        else []
    )
    if user is None or not user.is_active:
        errors.append({"field": "user", "message": f"no active user {wanted.username!r}"})
    elif not roles & {"officer", "head"}:
        errors.append(
            {"field": "user", "message": f"{wanted.username} is not an officer of {code}; delegate to a member"}
        )
    elif "head" in roles:
        errors.append({"field": "user", "message": f"{wanted.username} is already a head of {code}"})
    if wanted.valid_to < wanted.valid_from:
        errors.append({"field": "to", "message": "the last day is before the first day"})
    elif wanted.valid_to - wanted.valid_from >= timedelta(days=MAX_DAYS):
        errors.append({"field": "to", "message": f"a delegation lasts at most {MAX_DAYS} days"})
    if wanted.valid_to < today(clock):
        errors.append({"field": "to", "message": "the period has already ended; a delegation cannot act in the past"})
    if not wanted.reason.strip():
        errors.append({"field": "reason", "message": "say why (leave, illness, business trip, ...)"})
    if errors:
        raise Invalid(errors)
    assert user is not None
    overlapping = session.scalar(
        select(Delegation).where(
            Delegation.organisation_id == org.id,
            Delegation.revoked_at.is_(None),
            Delegation.user_id != user.id,
            Delegation.valid_from <= wanted.valid_to,
            Delegation.valid_to >= wanted.valid_from,
        )
    )
    if overlapping is not None:
        raise Conflict(
            f"{overlapping.user.username} already acts as head of {code} from {overlapping.valid_from} to "
            f"{overlapping.valid_to} (delegation {overlapping.id}); revoke it first: one acting head at a time"
        )
    delegation = Delegation(
        organisation_id=org.id,
        user_id=user.id,
        valid_from=wanted.valid_from,
        valid_to=wanted.valid_to,
        reason=wanted.reason.strip(),
        created_by=principal.username,
        created_at=clock.now(),
    )
    session.add(delegation)
    session.flush()
    _audit(session, principal, clock, "delegation_granted", delegation, code)
    session.commit()
    return delegation


def revoke(
    session: Session, principal: Principal, code: str, delegation_id: int, reason: str, clock: Clock
) -> Delegation:
    begin_write(session)
    org = _organisation(session, code)
    _require_manager(principal, code)
    delegation = session.get(Delegation, delegation_id)
    if delegation is None or delegation.organisation_id != org.id:
        raise NotFound(f"no delegation {delegation_id} of {code}")
    if delegation.revoked_at is not None:
        raise Conflict(f"delegation {delegation_id} was already revoked by {delegation.revoked_by}")
    delegation.revoked_at, delegation.revoked_by, delegation.revoke_reason = clock.now(), principal.username, reason
    _audit(session, principal, clock, "delegation_revoked", delegation, code)
    session.commit()
    return delegation


def _audit(session: Session, principal: Principal, clock: Clock, type: str, d: Delegation, code: str) -> None:
    audit.record(
        session,
        occurred_at=clock.now(),
        actor=principal.username,
        type=type,
        payload={
            "delegation": d.id,
            "organisation": code,
            "user": d.user.username,
            "from": d.valid_from.isoformat(),
            "to": d.valid_to.isoformat(),
            "reason": d.reason,
            **({"revoke_reason": d.revoke_reason} if d.revoked_at else {}),
        },
    )

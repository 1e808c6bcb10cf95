"""Organisations, users and memberships; the demo data set."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import events as audit
from app.clock import Clock
from app.db.models import Membership, Organisation, User
from app.db.session import begin_write
from app.services.auth import hash_password
from app.services.errors import Conflict, Invalid, NotFound
from app.services.principal import ROLES

ORGANISATION_KINDS = ("mfa", "state_body", "ombudsman", "presidential_administration")

DEMO_ORGANISATIONS = [
    ("MFA", "Ministry of Foreign Affairs", "mfa"),
    ("MVD", "Ministry of Internal Affairs", "state_body"),
    ("MINJUST", "Ministry of Justice", "state_body"),
    ("OMBUDSMAN", "Commissioner for Human Rights", "ombudsman"),
    ("PA", "Presidential Administration", "presidential_administration"),
]
# username, full name, organisation, roles
DEMO_USERS = [
    ("mfa.officer", "MFA officer", "MFA", ("officer",)),
    ("mfa.head", "MFA first head", "MFA", ("head",)),
    ("mfa.deputy", "MFA deputy minister (acts as first head when delegated)", "MFA", ("officer",)),
    ("mvd.officer", "MVD officer", "MVD", ("officer",)),
    ("mvd.head", "MVD first head", "MVD", ("head",)),
    ("mvd.deputy", "MVD deputy head (acts as first head when delegated)", "MVD", ("officer",)),
    ("minjust.officer", "Ministry of Justice officer", "MINJUST", ("officer",)),
    ("minjust.head", "Ministry of Justice first head", "MINJUST", ("head",)),
    ("ombudsman.officer", "Ombudsman's office officer", "OMBUDSMAN", ("officer",)),
    ("pa.officer", "Presidential Administration officer", "PA", ("officer",)),
    ("analyst", "Process analyst", "MFA", ("analyst",)),
    ("auditor", "Auditor", "MFA", ("auditor",)),
    ("admin", "Administrator", "MFA", ("admin",)),
]


@dataclass
class SeedResult:
    created_users: list[str]
    password: str | None  # set when it was generated here and must be shown once


def ensure_organisation(session: Session, code: str, name: str, kind: str) -> Organisation:
    if kind not in ORGANISATION_KINDS:
        raise Invalid(f"organisation kind {kind!r} is not one of {list(ORGANISATION_KINDS)}")
    org = session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        org = Organisation(code=code, name=name, kind=kind)
        session.add(org)
        session.flush()
    return org


def _add_user(
    session: Session, username: str, full_name: str, password: str, memberships: list[tuple[str, str]], clock: Clock
) -> User:
    for _org_code, role in memberships:
        if role not in ROLES:
            raise Invalid(f"role {role!r} is not one of {list(ROLES)}")
    user = User(
        username=username,
        full_name=full_name,
        password_hash=hash_password(password),
        is_active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    for org_code, role in memberships:
        org = session.scalar(select(Organisation).where(Organisation.code == org_code))
        if org is None:
            raise Invalid(f"no organisation {org_code!r}; create it first (seed-demo creates the demo ones)")
        session.add(Membership(user_id=user.id, organisation_id=org.id, role=role))
    session.flush()
    return user


def create_user(
    session: Session,
    username: str,
    full_name: str,
    password: str,
    memberships: list[tuple[str, str]],
    actor: str,
    clock: Clock,
) -> User:
    begin_write(session)
    if len(password) < 12:
        raise Invalid("passwords must have at least 12 characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} exists already")
    user = _add_user(session, username, full_name, password, memberships, clock)
    audit.record(
        session,
        occurred_at=clock.now(),
        actor=actor,
        type="user_created",
        payload={"username": username, "memberships": memberships},
    )
    session.commit()
    return user


def seed_demo(session: Session, password: str | None, clock: Clock) -> SeedResult:
    """Create the demo organisations and users that do not exist yet (idempotent)."""
    begin_write(session)
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    for code, name, kind in DEMO_ORGANISATIONS:
        ensure_organisation(session, code, name, kind)
    created = []
    for username, full_name, org, roles in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            _add_user(session, username, full_name, password, [(org, r) for r in roles], clock)
            created.append(username)
    if created:
        audit.record(
            session, occurred_at=clock.now(), actor="seed-demo", type="demo_seeded", payload={"users": created}
        )
    session.commit()
    return SeedResult(created, generated if created else None)


# Languages of the web pages; None in the column means the first one, Russian.
LOCALES = ("ru", "en")


def get_locale(session: Session, user_id: int) -> str | None:
    """The user's web language, None when they never chose one (the pages then speak Russian)."""
    value = session.scalar(select(User.locale).where(User.id == user_id))
    return value if value in LOCALES else None


def set_locale(session: Session, user_id: int, locale: str) -> str:
    """Remember the user's web language, for every browser and process they use."""
    if locale not in LOCALES:
        raise Invalid([{"field": "locale", "message": f"{locale!r} is not one of {list(LOCALES)}"}])
    begin_write(session)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    user.locale = locale
    session.commit()
    return locale


def members_of(session: Session, code: str, roles: tuple[str, ...] = ("officer", "head")) -> list[tuple[str, str]]:
    """(username, full name) of an organisation's active members with these roles, by username."""
    rows = session.execute(
        select(User.username, User.full_name)
        .join(Membership, Membership.user_id == User.id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Organisation.code == code, Membership.role.in_(roles), User.is_active.is_(True))
        .distinct()
        .order_by(User.username)
    )
    return [(r[0], r[1]) for r in rows]

"""The tables. Names follow the domain: organisations, cases (process instances), tasks, audit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.db.types import JSONType, UTCDateTime


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    # mfa | state_body | ombudsman | presidential_administration
    kind: Mapped[str] = mapped_column(String(40), index=True)


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)  # web pages' language; None: Russian

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", lazy="selectin", cascade="all, delete-orphan"
    )


class Membership(Base):
    """A user's role in one organisation: officer, head, analyst, auditor or admin."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class Delegation(Base):
    """An acting-head delegation: `user` acts for the first head of `organisation` on the days
    `valid_from`..`valid_to` (inclusive, Asia/Almaty dates) unless revoked. Rows are never deleted."""

    __tablename__ = "delegation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(Base):
    """A failed login, kept for a while so that repeated failures are throttled across processes."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    remote_addr: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """Bearer tokens, stored as SHA-256 of the secret so a database leak does not leak sessions."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ProcessDefinition(Base):
    """One deployed version of one BPMN file, with the forms it references frozen beside it."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str] = mapped_column(String(255))
    # Deferred: a case row joins its definition on every request, the file is needed only to parse it once.
    bpmn_xml: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    forms: Mapped[dict[str, Any]] = mapped_column(JSONType, deferred=True)
    # sha256 of the BPMN file's bytes, and of the whole bundle (file + forms) that makes a version
    sha256: Mapped[str] = mapped_column(String(64))
    bundle_sha256: Mapped[str] = mapped_column(String(64), index=True)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deployed_by: Mapped[str] = mapped_column(String(80))


class ProcessInstance(Base):
    """A case. `state` is the engine's serialised workflow without its spec (see app/engine)."""

    __tablename__ = "process_instance"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    business_key: Mapped[str | None] = mapped_column(String(255), index=True, nullable=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # running | completed
    state: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    id_counter: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    started_by: Mapped[str] = mapped_column(String(80))
    # Deadlines (D1..D5) that passed with their act not done, in the order they were breached.
    overdue: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default=text("'[]'"))

    definition: Mapped[ProcessDefinition] = relationship(lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}


class Communication(Base):
    """A communication from UN special procedures, registered by the MFA (14-5)."""

    __tablename__ = "communication"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(8))
    country: Mapped[str] = mapped_column(String(3))
    number: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(Integer)
    received_on: Mapped[date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(8))
    reply_deadline: Mapped[date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(Text)
    mandates: Mapped[list[str]] = mapped_column(JSONType)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_by: Mapped[str] = mapped_column(String(80))


class HumanTask(Base):
    """Projection of the engine's user tasks, kept in the case's transaction, so inboxes never read state."""

    __tablename__ = "human_task"
    __table_args__ = (
        # Inbox pages: deadline first, then age; see services/tasks.inbox.
        Index("ix_human_task_inbox", "state", "organisation", "candidate_role", "due_at", "created_at", "id"),
        Index("ix_human_task_instance", "instance_id", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the engine's task id
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"))
    task_spec: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(64), nullable=True)
    organisation: Mapped[str] = mapped_column(String(32))
    candidate_role: Mapped[str] = mapped_column(String(20))
    form_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    norm: Mapped[str | None] = mapped_column(String(128), nullable=True)
    state: Mapped[str] = mapped_column(String(20))  # ready | completed | cancelled
    assignee: Mapped[str | None] = mapped_column(String(80), index=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # The earliest statutory deadline governing the task (D1..D5) while it is open, and whether it passed.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deadline: Mapped[str | None] = mapped_column(String(16), nullable=True)
    deadline_norm: Mapped[str | None] = mapped_column(String(128), nullable=True)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Timer(Base):
    """An armed deadline: written with the case state, fired by `python -m app worker` when due."""

    __tablename__ = "timer"
    __table_args__ = (Index("ix_timer_due", "status", "due_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the engine's timer event task id
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(128))
    attached_to: Mapped[str | None] = mapped_column(String(36), nullable=True)  # the governed activity's task id
    deadline: Mapped[str | None] = mapped_column(String(16), nullable=True)  # D1..D5
    norm: Mapped[str | None] = mapped_column(String(128), nullable=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    calendar_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # armed | fired | disarmed | failed
    armed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditEvent(Base):
    """Append-only history. Case events are hash-chained per case (seq 1, 2, ...)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        UniqueConstraint("instance_id", "seq"),
        # NULLs are distinct in the constraint above: the case-less chain needs its own guard.
        Index(
            "ux_audit_event_global_seq",
            "seq",
            unique=True,
            sqlite_where=text("instance_id IS NULL"),
            postgresql_where=text("instance_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("process_instance.id"), index=True, nullable=True)
    seq: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(64), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    definition_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    definition_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

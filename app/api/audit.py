"""Auditors' routes: chain verification, anchors, and a case as it was at an instant (by replay)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Query
from pydantic import AwareDatetime, BaseModel, Field

from app.api.deps import ClockDep, PrincipalDep, SessionDep, SessionFactoryDep, SettingsDep
from app.services import auditing

router = APIRouter(tags=["audit"])


class BreakOut(BaseModel):
    chain: str = Field(description="the case id, or '(global)' for the chain of events without a case")
    seq: int
    kind: str = Field(description="payload_altered | link_broken | seq_gap")
    expected: str
    stored: str
    event_type: str | None
    message: str


class VerifyOut(BaseModel):
    ok: bool
    chains_checked: int
    events_checked: int
    breaks: list[BreakOut] = Field(description="the first broken link of each broken chain")


@router.get("/api/audit/verify", response_model=VerifyOut, responses={403: {"description": "not an auditor or admin"}})
def verify_chains(
    session: SessionDep,
    factory: SessionFactoryDep,
    clock: ClockDep,
    principal: PrincipalDep,
    case: str | None = Query(
        default=None, description="one case's chain; all chains (and the case-less one) if omitted"
    ),
) -> dict[str, Any]:
    """Recompute the hash chain(s) and report the first broken link of each (auditors, admins)."""
    report = auditing.verify_chains(session, principal, case)
    auditing.record_access(
        factory,
        principal.username,
        clock,
        auditing.VIEWED,
        {"view": "audit_verify", "instance_id": case, "ok": report.ok, "events_checked": report.events},
    )
    return report.as_dict()


@router.get("/api/audit/anchor", responses={403: {"description": "not an auditor or admin"}})
def anchor(
    session: SessionDep, factory: SessionFactoryDep, clock: ClockDep, principal: PrincipalDep, settings: SettingsDep
) -> dict[str, Any]:
    """A statement of every chain's head now, with one root hash (signed with HMAC-SHA256 when
    AUDIT_ANCHOR_KEY_FILE is configured). Store it outside the system; `python -m app audit verify
    --anchor FILE` or POST /api/audit/anchor/check later proves the database still extends it."""
    statement = auditing.make_anchor(session, principal, clock, auditing.anchor_key(settings))
    auditing.exported(
        factory,
        principal.username,
        clock,
        "anchor",
        root=statement["root"],
        chains=len(statement["chains"]),
        signed=statement["signature"] is not None,
    )
    return statement


@router.post("/api/audit/anchor/check", responses={403: {"description": "not an auditor or admin"}})
def check_anchor(
    session: SessionDep,
    factory: SessionFactoryDep,
    clock: ClockDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    statement: dict[str, Any] = Body(description="an anchor statement as GET /api/audit/anchor returned it"),
) -> dict[str, Any]:
    """Does the database still extend what this anchor saw? Anchored heads missing or changed are listed."""
    report = auditing.check_anchor(session, principal, statement, auditing.anchor_key(settings))
    auditing.record_access(
        factory,
        principal.username,
        clock,
        auditing.VIEWED,
        {"view": "anchor_check", "root": statement.get("root"), "ok": report.ok},
    )
    return report.as_dict()


class CaseAtOut(BaseModel):
    id: str
    business_key: str | None
    at: datetime
    status: str = Field(description="running | completed, at that instant")
    data: dict[str, Any]
    overdue: list[str] = Field(description="deadlines breached by then")
    # The service's own dataclasses: pydantic shapes them, so the fields are declared once.
    tasks: list[auditing.TaskAt] = Field(description="the tasks open at that instant")
    deadlines: list[auditing.DeadlineAt] = Field(description="deadlines armed at that instant")
    breached: list[auditing.DeadlineAt] = Field(description="deadlines breached by then")
    last_event_seq: int = Field(description="the last audit event at or before the instant")
    last_event_at: datetime | None
    state_sha256: str | None = Field(description="SHA-256 of the engine state's canonical JSON (whole views only)")
    notes: list[str]


@router.get(
    "/api/instances/{instance_id}/states",
    response_model=CaseAtOut,
    tags=["instances"],
    responses={404: {"description": "no such case you may see, or not yet started at that instant"}},
)
def case_at(
    instance_id: str,
    session: SessionDep,
    factory: SessionFactoryDep,
    clock: ClockDep,
    principal: PrincipalDep,
    at: AwareDatetime = Query(description="the instant, ISO 8601 with offset, e.g. 2024-04-22T10:00:00+05:00"),
) -> CaseAtOut:
    """The case as it was at `at`: status, data, open tasks and deadlines, computed by replaying its
    recorded events up to that instant (who may see what: as for GET /api/instances/{id})."""
    found = auditing.case_at(session, principal, instance_id, at)
    auditing.auditor_viewed(
        factory, principal, clock, "case_at", instance_id=instance_id, business_key=found.instance.business_key, at=at
    )
    return CaseAtOut(
        id=found.instance.id,
        business_key=found.instance.business_key,
        at=found.at,
        status=found.status,
        data=found.data,
        overdue=found.overdue,
        tasks=found.tasks,
        deadlines=found.deadlines,
        breached=found.breached,
        last_event_seq=found.last_event_seq,
        last_event_at=found.last_event_at,
        state_sha256=found.state_sha256,
        notes=found.notes,
    )

"""Auditors' use cases: verify the hash chains, issue and check anchors, replay cases, show a case
as it was at an instant, export a case's history, and record every such access.

Access records (`audit_viewed` for an auditor's read, `exported` for any export) go to the
case-less chain with the case id in their payload, never into a case's own chain: reading then never
takes a case's lock, a case's history stays the history of the case, and replay never sees them
(it would skip them anyway). Each record is its own transaction, written after the read succeeded
and before the answer leaves: an access that cannot be recorded is not served (503)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.audit import events as audit
from app.audit import replay, verify
from app.clock import Clock, last_day
from app.config import Settings
from app.db.models import AuditEvent, ProcessInstance
from app.db.session import begin_write
from app.services import cases, definitions
from app.services.errors import Forbidden, Invalid, NotFound
from app.services.principal import Principal
from app.services.timers import earliest_over

VIEWED = "audit_viewed"
EXPORTED = "exported"


# -- who may -------------------------------------------------------------------------------------
def require_auditor(principal: Principal) -> None:
    """Chain verification and anchors: auditors and admins."""
    if not (principal.is_auditor or principal.is_admin):
        raise Forbidden("this is for auditors and admins")


def require_whole_view(principal: Principal) -> None:
    """Exports and reports over many cases show every organisation's acts: for those who see cases
    whole already (the MFA, auditors, admins; see services.cases.sees_all_cases)."""
    if not cases.sees_all_cases(principal):
        raise Forbidden("exports and reports over all cases are for the MFA, auditors and admins")


# -- recording access ----------------------------------------------------------------------------
def record_access(factory: sessionmaker[Session], actor: str, clock: Clock, type: str, payload: dict[str, Any]) -> None:
    """Append one access record to the case-less chain, in its own transaction."""
    with factory() as session:
        begin_write(session)
        audit.record(session, occurred_at=clock.now(), actor=actor, type=type, payload=payload)
        session.commit()


def auditor_viewed(factory: sessionmaker[Session], principal: Principal, clock: Clock, view: str, **what: Any) -> None:
    """An auditor read something: record what (others' reads are not recorded)."""
    if principal.is_auditor:
        record_access(factory, principal.username, clock, VIEWED, {"view": view, **what})


def exported(factory: sessionmaker[Session], actor: str, clock: Clock, export: str, **what: Any) -> None:
    """Anyone (or the command line) exported something: record what."""
    record_access(factory, actor, clock, EXPORTED, {"export": export, **what})


# -- chains and anchors ----------------------------------------------------------------------------
def verify_chains(session: Session, principal: Principal, instance_id: str | None) -> verify.VerifyReport:
    require_auditor(principal)
    if instance_id is not None and session.get(ProcessInstance, instance_id) is None:
        raise NotFound(f"no case {instance_id}")
    return verify.verify(session, instance_id)


def anchor_key(settings: Settings) -> bytes | None:
    """The anchor-signing key: the file AUDIT_ANCHOR_KEY_FILE names, else AUDIT_ANCHOR_KEY; None
    (anchors unsigned, only hashed) when neither is set. Never kept in the repository."""
    path = settings.audit_anchor_key_file
    if path:
        try:
            key = Path(path).read_bytes().strip()
        except OSError as exc:
            raise RuntimeError(f"AUDIT_ANCHOR_KEY_FILE {path!r} cannot be read: {exc}") from exc
        if not key:
            raise RuntimeError(f"AUDIT_ANCHOR_KEY_FILE {path!r} is empty")
        return key
    value = os.environ.get("AUDIT_ANCHOR_KEY", "")
    return value.encode() if value else None


def make_anchor(session: Session, principal: Principal, clock: Clock, key: bytes | None) -> dict[str, Any]:
    require_auditor(principal)
    return verify.make_anchor(session, clock.now(), key)


def check_anchor(
    session: Session, principal: Principal, statement: dict[str, Any], key: bytes | None
) -> verify.AnchorReport:
    require_auditor(principal)
    return verify.check_anchor(session, statement, key)


# -- replay ----------------------------------------------------------------------------------------
def replay_database(
    factory: sessionmaker[Session],
    instance_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch: int = 50,
) -> list[replay.CaseReplay]:
    """Replay one case or every case, comparing each with its stored state. A session per batch
    keeps memory flat however many cases there are."""
    with factory() as session:
        query = select(ProcessInstance.id).order_by(ProcessInstance.created_at, ProcessInstance.id)
        if instance_id is not None:
            query = query.where(ProcessInstance.id == instance_id)
        ids = list(session.scalars(query))
    if instance_id is not None and not ids:
        raise NotFound(f"no case {instance_id}")
    results: list[replay.CaseReplay] = []
    if progress:
        progress(0, len(ids))
    for start in range(0, len(ids), batch):
        with factory() as session:
            chunk = ids[start : start + batch]
            instances = session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(chunk))).all()
            by_id = {i.id: i for i in instances}
            for case_id in chunk:
                instance = by_id[case_id]
                results.append(replay.replay_case(session, instance, definitions.loaded(instance.definition)))
                if progress:
                    progress(len(results), len(ids))
    return results


@dataclass
class TaskAt:
    id: str
    name: str
    task_spec: str
    organisation: str
    candidate_role: str
    norm: str | None
    created_at: datetime
    assignee: str | None
    due_at: datetime | None
    deadline: str | None
    deadline_norm: str | None
    overdue: bool


@dataclass
class DeadlineAt:
    timer_id: str
    element: str
    deadline: str | None
    norm: str | None
    due_at: datetime
    due_date: str
    governs: str | None  # the task id of the governed activity
    breached_at: datetime | None = None


@dataclass
class CaseAt:
    """A case as it was at an instant, computed by replaying its events up to then."""

    instance: ProcessInstance
    at: datetime
    status: str
    data: dict[str, Any]
    overdue: list[str]
    tasks: list[TaskAt]
    deadlines: list[DeadlineAt]
    breached: list[DeadlineAt]
    last_event_seq: int
    last_event_at: datetime | None
    state_sha256: str | None = None
    notes: list[str] = field(default_factory=list)


def case_at(session: Session, principal: Principal, instance_id: str, at: datetime) -> CaseAt:
    """GET /api/instances/{id}/states?at=: visibility as for the case itself (cases.get_visible);
    outside the MFA, auditors and admins only the registered data and one's own organisations'
    tasks and their deadlines, as services.cases.views shows the case today."""
    if at.tzinfo is None:
        raise Invalid([{"field": "at", "message": "give an instant with its offset, e.g. 2024-03-20T10:00:00+05:00"}])
    instance = cases.get_visible(session, principal, instance_id)
    if at < instance.created_at:
        raise NotFound(f"case {instance_id} did not exist yet at {at.isoformat()} (started {instance.created_at})")
    result = replay.replay_at(session, instance, at, definitions.loaded(instance.definition))
    if result.case is None:
        raise NotFound(f"case {instance_id} has no recorded start")
    whole = cases.sees_all_cases(principal)
    orgs = {m.organisation for m in principal.memberships}
    notes = []
    if result.divergence is not None:
        notes.append(f"replay stopped at a divergence: {result.divergence.reason} (seq {result.divergence.seq})")
    timers = list(result.timers.values())
    tasks = []
    for task_id, open_task in result.tasks.items():
        task = open_task.task
        if not whole and task.organisation not in orgs:
            continue
        first = earliest_over(task, timers)
        breach = earliest_over(task, result.breaches)
        due_at, deadline, deadline_norm = (first.due_at, first.deadline, first.norm) if first else (None, None, None)
        if breach is not None and (due_at is None or breach.due_at <= due_at):
            due_at, deadline, deadline_norm = breach.due_at, breach.deadline, breach.norm
        tasks.append(
            TaskAt(
                id=task_id,
                name=task.name,
                task_spec=task.bpmn_id,
                organisation=task.organisation,
                candidate_role=task.candidate_role,
                norm=task.norm,
                created_at=open_task.created_at,
                assignee=open_task.assignee,
                due_at=due_at,
                deadline=deadline,
                deadline_norm=deadline_norm,
                overdue=breach is not None or (due_at is not None and at >= due_at),
            )
        )
    visible_activities = {
        a for t in result.tasks.values() if whole or t.task.organisation in orgs for a in t.task.enclosing
    }

    def shown(attached_to: str | None) -> bool:
        return whole or attached_to in visible_activities

    deadlines = [
        DeadlineAt(
            t.id,
            t.bpmn_id,
            t.deadline,
            t.norm,
            t.due_at,
            last_day(t.due_at).isoformat(),
            t.attached_to,
        )
        for t in sorted(timers, key=lambda t: t.due_at)
        if shown(t.attached_to)
    ]
    breached_list = [
        DeadlineAt(
            b.timer_id,
            b.element,
            b.deadline,
            b.norm,
            b.due_at,
            last_day(b.due_at).isoformat(),
            b.attached_to,
            b.breached_at,
        )
        for b in result.breaches
        if shown(b.attached_to)
    ]
    overdue: list[str] = []
    for b in result.breaches:
        if b.deadline and b.deadline not in overdue:
            overdue.append(b.deadline)
    state_sha = None
    if whole:
        # the state replay stands on, as its last step stored it (after a divergence: as the engine left it)
        state = result.case.state() if result.divergence is not None or result.state is None else result.state
        state_sha = hashlib.sha256(
            json.dumps(json.loads(state), sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
    return CaseAt(
        instance=instance,
        at=at,
        status="completed" if result.completed else "running",
        data=result.case.data() if whole else dict(result.start_data),
        overdue=overdue,
        tasks=sorted(tasks, key=lambda t: (t.created_at, t.id)),
        deadlines=deadlines,
        breached=breached_list,
        last_event_seq=result.last_seq,
        last_event_at=result.last_at,
        state_sha256=state_sha,
        notes=notes,
    )


# -- a case's history as a file ------------------------------------------------------------------------
HISTORY_COLUMNS = (
    "seq",
    "occurred_at",
    "actor",
    "type",
    "task_id",
    "definition_key",
    "definition_version",
    "payload",
    "prev_hash",
    "hash",
)


def history_records(session: Session, principal: Principal, instance_id: str) -> list[dict[str, Any]]:
    """The case's events as the caller may see them (services.cases.history decides), as plain dicts."""
    return [_record(e) for e in cases.history(session, principal, instance_id)]


def _record(e: AuditEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "occurred_at": e.occurred_at.isoformat(),
        "actor": e.actor,
        "type": e.type,
        "task_id": e.task_id,
        "definition_key": e.definition_key,
        "definition_version": e.definition_version,
        "payload": e.payload,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def history_csv(records: list[dict[str, Any]]) -> str:
    """One row per event; the payload as canonical JSON in one column (what the hash covers)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HISTORY_COLUMNS)
    for r in records:
        writer.writerow(
            [
                audit.canonical(r[c]).decode() if c == "payload" else ("" if r[c] is None else r[c])
                for c in HISTORY_COLUMNS
            ]
        )
    return out.getvalue()

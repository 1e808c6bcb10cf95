"""Process-mining export: a definition's cases over a period as an XES (IEEE 1849) event log.

One trace per case (concept:name = the business key, e.g. the communication's reference), the
case's events in recorded order. Which audit events become XES events, and how:

| audit event | concept:name | lifecycle:transition |
|---|---|---|
| task_created | the task's name | start |
| task_claimed | the task's name | assign |
| task_completed | the task's name | complete |
| task_cancelled | the task's name | ate_abort |
| instance_started, message_received, deadline_extended, deadline_breached, | the event type | complete |
| timer_fired, instance_completed, instance_reopened | (`message_received: NAME`) | |

Timer bookkeeping (armed, re-armed, disarmed, recomputed, `case_woken`), the registration's copy of
the start data and access records are left out: they are not acts of the process. Every event has
`org:resource` (the user, or `system:timer`; none on `start`, which nobody performs: the user whose
act opened the task is in `caused_by`), `org:group` (the task's organisation; on a breach, the
organisation whose act the deadline governs; otherwise the actor's organisation when they have
exactly one) and, where the diagram gives one,
`norm` (the chapter 2-1 norm parts) and `deadline` (D1..D5, TB-*).

A case belongs to the period when it was started on a day (Asia/Almaty) from `from` to `to`
inclusive; its events are all exported, also those after `to`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import xes
from app.clock import ALMATY
from app.db.models import AuditEvent, Membership, Organisation, ProcessDefinition, ProcessInstance, User
from app.services.errors import Invalid, NotFound

TASK_TRANSITIONS = {
    "task_created": "start",
    "task_claimed": "assign",
    "task_completed": "complete",
    "task_cancelled": "ate_abort",
}
CASE_EVENTS = (
    "instance_started",
    "message_received",
    "deadline_extended",
    "deadline_breached",
    "timer_fired",
    "instance_completed",
    "instance_reopened",
)
TIMER_EVENTS = ("deadline_breached", "timer_fired")  # org:group: whose act the timer governs
MAX_DAYS = 3700  # about ten years: one request's worth


@dataclass
class XesExport:
    content: bytes
    cases: int
    events: int
    sha256: str


def day_start(day: date) -> datetime:
    """00:00 Asia/Almaty of a day, as an aware instant."""
    return datetime.combine(day, time(0), tzinfo=ALMATY)


def check_period(start: date, end: date) -> None:
    if end < start:
        raise Invalid([{"field": "to", "message": "the period must not end before it starts"}])
    if (end - start).days > MAX_DAYS:
        raise Invalid([{"field": "to", "message": f"a period of at most {MAX_DAYS} days"}])


def xes_log(session: Session, key: str, start: date, end: date, now: datetime, version: int | None = None) -> XesExport:
    """The XES document of the definition's cases started in the period (all versions unless one is named)."""
    check_period(start, end)
    definitions = select(ProcessDefinition.id).where(ProcessDefinition.key == key)
    if version is not None:
        definitions = definitions.where(ProcessDefinition.version == version)
    if not session.scalars(definitions).first():
        raise NotFound(f"no process definition {key!r}" + (f" version {version}" if version is not None else ""))
    instances = list(
        session.scalars(
            select(ProcessInstance)
            .where(
                ProcessInstance.definition_id.in_(definitions),
                ProcessInstance.created_at >= day_start(start),
                ProcessInstance.created_at < day_start(end + timedelta(days=1)),
            )
            .order_by(ProcessInstance.created_at, ProcessInstance.id)
        )
    )
    groups = _user_groups(session)
    counted = {"events": 0}

    def traces() -> Iterator[xes.XesTrace]:
        for instance, events in _events_by_case(session, instances):
            trace = _trace(instance, events, groups)
            counted["events"] += len(trace.events)
            yield trace

    content = xes.write(
        traces(),
        f"{key} cases started {start.isoformat()}..{end.isoformat()}",
        {
            "definition_key": key,
            "definition_version": version,
            "period_from": start.isoformat(),
            "period_to": end.isoformat(),
            "generated_at": now.isoformat(),
            "source": "chapter 2-1 communications: audit events",
        },
    )
    return XesExport(content, len(instances), counted["events"], hashlib.sha256(content).hexdigest())


def _events_by_case(
    session: Session, instances: list[ProcessInstance], batch: int = 200
) -> Iterator[tuple[ProcessInstance, list[AuditEvent]]]:
    for begin in range(0, len(instances), batch):
        chunk = instances[begin : begin + batch]
        found: dict[str, list[AuditEvent]] = defaultdict(list)
        for event in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.instance_id.in_([i.id for i in chunk]))
            .order_by(AuditEvent.instance_id, AuditEvent.seq)
        ):
            found[str(event.instance_id)].append(event)
        for instance in chunk:
            yield instance, found.get(instance.id, [])


def _user_groups(session: Session) -> dict[str, str]:
    """username -> organisation code, for users who belong to exactly one organisation."""
    orgs: dict[str, set[str]] = defaultdict(set)
    for username, code in session.execute(
        select(User.username, Organisation.code)
        .join(Membership, Membership.user_id == User.id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
    ):
        orgs[username].add(code)
    return {user: next(iter(codes)) for user, codes in orgs.items() if len(codes) == 1}


def _trace(instance: ProcessInstance, events: list[AuditEvent], groups: dict[str, str]) -> xes.XesTrace:
    tasks: dict[str, dict[str, Any]] = {}  # task id -> name, organisation, norm (from task_created)
    timer_orgs: dict[str, str | None] = {}  # timer id -> whose act it governs (from timer_armed)
    out = []
    for e in events:
        payload = e.payload or {}
        if e.type == "timer_armed":
            timer_orgs[str(e.task_id)] = payload.get("organisation")
        if e.type in TASK_TRANSITIONS:
            known = tasks.setdefault(str(e.task_id), {})
            if e.type == "task_created":
                known.update(
                    name=payload.get("name"), organisation=payload.get("organisation"), norm=payload.get("norm")
                )
            name = payload.get("name") or known.get("name") or payload.get("task") or e.type
            attributes: dict[str, Any] = {
                "norm": known.get("norm"),
                "task_id": e.task_id,
                "element": payload.get("task"),
            }
            if e.type == "task_completed":
                attributes.update(deadline=payload.get("deadline"), late=payload.get("late"))
                if payload.get("signature"):
                    attributes["signature_capacity"] = payload["signature"].get("capacity")
            if e.type == "task_created":  # nobody performs a task's becoming available: no resource
                attributes["caused_by"] = e.actor
            out.append(
                xes.XesEvent(
                    name=str(name),
                    transition=TASK_TRANSITIONS[e.type],
                    timestamp=e.occurred_at,
                    resource=None if e.type == "task_created" else e.actor,
                    group=payload.get("organisation") or known.get("organisation"),
                    attributes=attributes,
                )
            )
        elif e.type in CASE_EVENTS:
            name = f"message_received: {payload.get('name')}" if e.type == "message_received" else e.type
            out.append(
                xes.XesEvent(
                    name=name,
                    transition="complete",
                    timestamp=e.occurred_at,
                    resource=e.actor,
                    group=timer_orgs.get(str(e.task_id)) if e.type in TIMER_EVENTS else groups.get(e.actor),
                    attributes={
                        "norm": payload.get("norm"),
                        "deadline": payload.get("deadline"),
                        "element": payload.get("element"),
                    },
                )
            )
    return xes.XesTrace(
        name=instance.business_key or instance.id,
        events=out,
        attributes={
            "case_id": instance.id,
            "definition_key": instance.definition.key,
            "definition_version": instance.definition.version,
            "status": instance.status,
        },
    )

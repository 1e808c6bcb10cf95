"""Cases (process instances): start, load under lock, save with task projection and audit, read.

Every change to a case goes through `save()`: engine state, `human_task` rows and audit events
are written together in the caller's transaction, then committed once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, false, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.audit import events as audit
from app.clock import Clock, frozen
from app.db.models import AuditEvent, HumanTask, Organisation, ProcessDefinition, ProcessInstance, Timer
from app.db.session import begin_write
from app.engine import Case, EngineError, NotWaitingForMessage, ReadyTask, RuleViolation
from app.services import definitions as definition_service
from app.services import timers
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.forms import check_reserved
from app.services.principal import Principal

# Processes that have their own registration endpoint, which checks more than the generic start can.
DEDICATED_START = {
    "communication": "POST /api/communications",
    "visit_invitation": "POST /api/visit-invitations",
    "treaty_body": "POST /api/treaty-body-cases",
}


Event = audit.NewEvent


# -- visibility ------------------------------------------------------------------------------------
def sees_all_cases(principal: Principal) -> bool:
    return principal.is_admin or principal.is_auditor or principal.in_kind("mfa")


def visibility_clause(principal: Principal) -> ColumnElement[bool]:
    """Cases the principal may see: all for MFA, auditors and admins; else cases they started and
    cases where their organisation has or had a task."""
    if sees_all_cases(principal):
        return true()
    orgs = sorted({m.organisation for m in principal.memberships})
    if not orgs:
        return false()
    # The person who started a case (a body proposing a visit) follows it before it has a task for them.
    return or_(
        ProcessInstance.started_by == principal.username,
        exists().where(HumanTask.instance_id == ProcessInstance.id, HumanTask.organisation.in_(orgs)),
    )


def get_visible(session: Session, principal: Principal, instance_id: str, *, lock: bool = False) -> ProcessInstance:
    query = select(ProcessInstance).where(ProcessInstance.id == instance_id, visibility_clause(principal))
    if lock:
        query = query.with_for_update(of=ProcessInstance)
    instance = session.scalar(query)
    if instance is None:
        raise NotFound(f"no case {instance_id} that you may see")
    return instance


def lock(session: Session, instance_id: str) -> ProcessInstance:
    instance = session.scalar(
        select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update(of=ProcessInstance)
    )
    if instance is None:
        raise NotFound(f"no case {instance_id}")
    return instance


def restore(instance: ProcessInstance, clock: Clock) -> Case:
    try:
        return Case.restore(
            definition_service.loaded(instance.definition), instance.state, clock, instance.id, instance.id_counter
        )
    except EngineError as exc:
        raise Conflict(f"case {instance.id} cannot be continued: {exc}; an administrator must look at it") from exc


# -- writing ---------------------------------------------------------------------------------------
@dataclass
class CaseRows:
    """What save() reads about a case besides its state; the timer worker reads it for a whole
    batch of locked cases at once instead of case by case."""

    open_tasks: list[HumanTask]
    closed_task_ids: set[str]
    armed_timers: list[Timer]
    audit_head: audit.ChainHead


def read_rows(session: Session, instance_ids: list[str]) -> dict[str, CaseRows]:
    """CaseRows of cases the caller has locked."""
    found = {i: CaseRows([], set(), [], audit.EMPTY_CHAIN) for i in instance_ids}
    for task in session.scalars(
        select(HumanTask).where(HumanTask.instance_id.in_(instance_ids), HumanTask.state == "ready")
    ):
        found[task.instance_id].open_tasks.append(task)
    for task_id, instance_id in session.execute(
        select(HumanTask.id, HumanTask.instance_id).where(
            HumanTask.instance_id.in_(instance_ids), HumanTask.state != "ready"
        )
    ):
        found[instance_id].closed_task_ids.add(task_id)
    for timer in session.scalars(select(Timer).where(Timer.instance_id.in_(instance_ids), Timer.status == "armed")):
        found[timer.instance_id].armed_timers.append(timer)
    for instance_id, head in audit.case_heads(session, instance_ids).items():
        found[instance_id].audit_head = head
    return found


@dataclass
class Saved:
    created: list[HumanTask]  # tasks this change made ready
    open: list[HumanTask]  # all the case's ready tasks after it


def save(
    session: Session,
    instance: ProcessInstance,
    case: Case,
    *,
    actor: str,
    now: datetime,
    events: list[Event],
    completed_task_id: str | None = None,
    commit: bool = True,
    rows: CaseRows | None = None,
) -> Saved:
    """Write the case after an engine step and commit. Returns the task rows that became ready.

    `commit=False` leaves the commit to a caller that writes several cases in one transaction (the
    timer worker); each case's change is still all-or-nothing, because the batch is. `rows` are the
    case's rows when the caller read them already for a batch (`read_rows`)."""
    instance.state = case.state()
    instance.data = case.data()
    instance.id_counter = case.context.id_counter
    instance.updated_at = now
    reopened: list[Event] = []
    completed: list[Event] = []
    if case.is_completed and instance.status != "completed":
        instance.status, instance.completed_at = "completed", now
        completed.append(Event("instance_completed", {}))
    elif not case.is_completed and instance.status == "completed":
        instance.status, instance.completed_at = "running", None
        reopened.append(Event("instance_reopened", {}))

    with session.no_autoflush:  # everything is written in one flush, at commit
        if rows is None:
            rows = read_rows(session, [instance.id])[instance.id]
        try:
            ready = case.ready_tasks()
            derived, created, open_rows = _sync_tasks(
                session, instance, ready, rows, actor=actor, now=now, completed_task_id=completed_task_id
            )
        except EngineError as exc:
            session.rollback()
            raise Invalid([{"element_id": exc.element_id, "message": str(exc)}]) from exc
        derived += timers.sync(session, instance, case, ready, open_rows, now, rows.armed_timers)
    definition = instance.definition
    audit.record_many(
        session,
        occurred_at=now,
        actor=actor,
        events=[*events, *reopened, *derived, *completed],
        instance_id=instance.id,
        definition_key=definition.key,
        definition_version=definition.version,
        head=rows.audit_head,
    )
    saved = Saved(created, sorted(open_rows, key=lambda r: (r.created_at, r.id)))
    if not commit:
        return saved
    try:
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise Conflict("the case was changed by someone else at the same time; reload and try again") from exc
    return saved


def _sync_tasks(
    session: Session,
    instance: ProcessInstance,
    ready_tasks: list[ReadyTask],
    known: CaseRows,
    *,
    actor: str,
    now: datetime,
    completed_task_id: str | None,
) -> tuple[list[Event], list[HumanTask], list[HumanTask]]:
    ready = {t.id: t for t in ready_tasks}
    rows = {r.id: r for r in known.open_tasks}
    events: list[Event] = []
    for row_id, row in rows.items():
        if row_id in ready:
            continue
        row.completed_at = now
        if row_id == completed_task_id:
            row.state, row.completed_by = "completed", actor
        else:
            row.state = "cancelled"
            events.append(Event("task_cancelled", {"task": row.task_spec, "name": row.name}, row_id))
    _require_organisations(session, {t.organisation: t.bpmn_id for t in ready.values() if t.id not in rows})
    new_ids = [task_id for task_id in ready if task_id not in rows]
    # A task id seen before (a task that became ready again) keeps its row; usually there is none.
    look_up = [i for i in new_ids if i in known.closed_task_ids]
    earlier = {r.id: r for r in session.scalars(select(HumanTask).where(HumanTask.id.in_(look_up)))} if look_up else {}
    created = []
    for task_id in new_ids:
        task = ready[task_id]
        row = earlier.get(task_id)
        if row is None:
            row = HumanTask(id=task_id, instance_id=instance.id)
            session.add(row)
        row.task_spec, row.name, row.lane = task.bpmn_id, task.name, task.lane
        row.organisation, row.candidate_role, row.form_key = task.organisation, task.candidate_role, task.form_key
        row.norm = task.norm
        row.state, row.assignee, row.created_at, row.completed_at, row.completed_by = "ready", None, now, None, None
        created.append(row)
        events.append(
            Event(
                "task_created",
                {
                    "task": task.bpmn_id,
                    "name": task.name,
                    "organisation": task.organisation,
                    "candidate_role": task.candidate_role,
                    "norm": row.norm,
                },
                task_id,
            )
        )
    open_rows = [r for r in rows.values() if r.state == "ready"] + created
    return events, created, open_rows


def _require_organisations(session: Session, wanted: dict[str, str]) -> None:
    """Every new task must belong to an organisation that exists, or nobody could ever see it."""
    # Organisations are never deleted: what this transaction has seen exist still exists.
    seen: set[str] = session.info.setdefault("organisations_seen", set())
    wanted = {code: element for code, element in wanted.items() if code not in seen}
    if not wanted:
        return
    known = set(session.scalars(select(Organisation.code).where(Organisation.code.in_(list(wanted)))))
    seen |= known
    for code, element_id in wanted.items():
        if code not in known:
            raise EngineError(
                f"the diagram gives task {element_id!r} to organisation {code!r}, which does not "
                "exist; create the organisation or correct the diagram",
                element_id,
            )


def start(
    session: Session,
    definition: ProcessDefinition,
    business_key: str | None,
    data: dict[str, Any],
    principal: Principal,
    clock: Clock,
    extra_events: list[Event] | None = None,
    before_save: Any = None,
) -> ProcessInstance:
    """Start a case in the caller's write transaction (begin_write already called) and commit."""
    check_reserved(data)
    clock = frozen(clock)  # one instant for the engine and the events (replay), as in every use case
    now = clock.now()
    instance_id = str(uuid.uuid4())
    try:
        case = Case.start(definition_service.loaded(definition), data, clock, instance_id)
    except EngineError as exc:
        session.rollback()
        raise Invalid([{"element_id": exc.element_id, "message": str(exc)}]) from exc
    instance = ProcessInstance(
        id=instance_id,
        definition_id=definition.id,
        business_key=business_key,
        status="running",
        state="",
        data={},
        id_counter=0,
        created_at=now,
        updated_at=now,
        started_by=principal.username,
    )
    instance.definition = definition
    session.add(instance)
    session.flush()
    if before_save is not None:
        before_save(instance)
    events = [*(extra_events or []), Event("instance_started", {"business_key": business_key, "data": data})]
    save(session, instance, case, actor=principal.username, now=now, events=events)
    return instance


def start_generic(
    session: Session, key: str, business_key: str | None, data: dict[str, Any], principal: Principal, clock: Clock
) -> ProcessInstance:
    begin_write(session)
    if key in DEDICATED_START:
        raise Invalid(f"cases of {key!r} are started with {DEDICATED_START[key]}, which checks their registration data")
    definition = definition_service.get_definition(session, key)
    info = definition_service.loaded(definition).info
    allowed = principal.is_admin or any(principal.can_act(lane, "officer") for lane in info.start_lanes)
    if not allowed:
        raise Forbidden(
            f"starting {key!r} needs an officer of {sorted(info.start_lanes) or 'the start lane'} or an admin"
        )
    return start(session, definition, business_key, data, principal, clock)


def send_message(
    session: Session, instance_id: str, name: str, data: dict[str, Any], principal: Principal, clock: Clock
) -> ProcessInstance:
    begin_write(session)
    instance = get_visible(session, principal, instance_id, lock=True)
    clock = frozen(clock)  # one instant, taken under the lock, for the engine and the event (replay)
    if not (principal.is_admin or principal.in_kind("mfa", "officer", "head")):
        raise Forbidden("messages from outside (OHCHR, special procedures) are recorded by MFA officers or admins")
    known = definition_service.loaded(instance.definition).info.messages
    if name not in known:
        raise NotFound(f"this case's diagram has no message {name!r}; it knows {sorted(known)}")
    check_reserved(data)
    case = restore(instance, clock)
    try:
        case.send_message(name, data)
    except NotWaitingForMessage as exc:
        raise Conflict(str(exc)) from exc
    except RuleViolation as exc:
        raise Invalid(exc.errors) from exc
    except EngineError as exc:
        raise Invalid([{"element_id": exc.element_id, "message": str(exc)}]) from exc
    save(
        session,
        instance,
        case,
        actor=principal.username,
        now=clock.now(),
        events=[Event("message_received", {"name": name, "data": data})],
    )
    return instance


def rearm(
    session: Session, instance: ProcessInstance, changes: dict[str, Any] | None, actor: str, clock: Clock, event: Event
) -> Saved:
    """Recompute the case's armed deadlines after a data change or a calendar change (locked case)."""
    clock = frozen(clock)
    case = restore(instance, clock)
    try:
        case.rearm(changes)
    except EngineError as exc:
        raise Invalid([{"element_id": exc.element_id, "message": str(exc)}]) from exc
    return save(session, instance, case, actor=actor, now=clock.now(), events=[event])


# -- reading ---------------------------------------------------------------------------------------
@dataclass
class CaseView:
    """A case as one principal may see it.

    The MFA, auditors and admins see everything. A body, the Ombudsman or the PA sees the data the
    case started with (the communication as registered), their own organisations' tasks and the
    history of those tasks: not what other organisations submitted, nor their task ids."""

    instance: ProcessInstance
    data: dict[str, Any]
    tasks: list[HumanTask]


def views(
    session: Session,
    principal: Principal,
    instances: list[ProcessInstance],
    known_open: dict[str, list[HumanTask]] | None = None,
) -> list[CaseView]:
    tasks = known_open or open_tasks(session, [i.id for i in instances])
    if sees_all_cases(principal):
        return [CaseView(i, i.data, tasks[i.id]) for i in instances]
    orgs = {m.organisation for m in principal.memberships}
    started = start_data(session, [i.id for i in instances])
    return [CaseView(i, started.get(i.id, {}), [t for t in tasks[i.id] if t.organisation in orgs]) for i in instances]


def view(
    session: Session, principal: Principal, instance: ProcessInstance, open_rows: list[HumanTask] | None = None
) -> CaseView:
    return views(session, principal, [instance], {instance.id: open_rows} if open_rows is not None else None)[0]


def start_data(session: Session, instance_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The data each case started with (the communication as registered), from its start event."""
    rows = session.execute(
        select(AuditEvent.instance_id, AuditEvent.payload).where(
            AuditEvent.instance_id.in_(instance_ids), AuditEvent.type == "instance_started"
        )
    )
    return {instance_id: payload.get("data", {}) for instance_id, payload in rows}


def list_instances(
    session: Session,
    principal: Principal,
    *,
    business_key: str | None,
    status: str | None,
    key: str | None,
    offset: int,
    limit: int,
) -> tuple[list[ProcessInstance], int]:
    query = select(ProcessInstance).where(visibility_clause(principal))
    if business_key:
        query = query.where(ProcessInstance.business_key == business_key)
    if status:
        query = query.where(ProcessInstance.status == status)
    if key:
        query = query.join(ProcessDefinition).where(ProcessDefinition.key == key)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(ProcessInstance.created_at.desc(), ProcessInstance.id).offset(offset).limit(limit)
    )
    return list(rows), total


def open_tasks(session: Session, instance_ids: list[str]) -> dict[str, list[HumanTask]]:
    found: dict[str, list[HumanTask]] = {i: [] for i in instance_ids}
    if not instance_ids:
        return found
    for row in session.scalars(
        select(HumanTask)
        .where(HumanTask.instance_id.in_(instance_ids), HumanTask.state == "ready")
        .order_by(HumanTask.created_at)
    ):
        found[row.instance_id].append(row)
    return found


def history(session: Session, principal: Principal, instance_id: str) -> list[AuditEvent]:
    """The case's events; outside the MFA, auditors and admins, only case-wide events and those
    of the caller's own organisations' tasks."""
    get_visible(session, principal, instance_id)
    events = list(
        session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq))
    )
    if sees_all_cases(principal):
        return events
    orgs = {m.organisation for m in principal.memberships}
    task_org = dict(
        session.execute(select(HumanTask.id, HumanTask.organisation).where(HumanTask.instance_id == instance_id)).all()
    )
    return [
        e
        for e in events
        if (e.task_id is None and e.type != "communication_registered") or task_org.get(e.task_id) in orgs
    ]

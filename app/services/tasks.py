"""Officers' tasks: inbox, detail with form, claim, unclaim, complete.

A task is visible to members (officer or head) of its organisation and to auditors; anyone else
gets "not found", so task ids leak nothing across organisations. Acting needs the task's
candidate role (a head may also do an officer's task)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.audit import events as audit
from app.clock import Clock, frozen, today
from app.db.models import HumanTask, ProcessInstance
from app.db.session import begin_write
from app.engine import EngineError, RuleViolation, TaskNotReady
from app.services import cases, delegations, forms
from app.services import definitions as definition_service
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.principal import Principal
from app.services.timers import TIMER_ACTOR, WOKEN


@dataclass
class TaskDetail:
    task: HumanTask
    instance: ProcessInstance
    form_schema: dict[str, Any] | None
    can_act: bool
    data: dict[str, Any]


def _visible(session: Session, principal: Principal, task_id: str) -> HumanTask:
    row = session.get(HumanTask, task_id)
    if row is None or not (principal.can_see_tasks_of(row.organisation) or principal.is_auditor):
        raise NotFound(f"no task {task_id} that you may see")
    return row


def _require_actor(principal: Principal, row: HumanTask) -> None:
    if principal.can_act(row.organisation, row.candidate_role):
        return
    roles = sorted(principal.roles_in(row.organisation)) or "not a member"
    if row.candidate_role == "head":
        raise Forbidden(
            f"this step needs the first head of {row.organisation} or a person acting in his stead (an "
            f"acting-head delegation valid today); you are {roles} there"
        )
    raise Forbidden(f"this step needs the role '{row.candidate_role}' in {row.organisation}; you are {roles} there")


def inbox(
    session: Session,
    principal: Principal,
    *,
    instance_id: str | None,
    assignee_me: bool,
    offset: int,
    limit: int,
    overdue: bool | None = None,
    due_before: datetime | None = None,
) -> tuple[list[tuple[HumanTask, str | None]], int]:
    """Ready tasks the principal may act on: their organisations' tasks for their roles, unclaimed or theirs."""
    scopes = principal.task_scopes()
    if not scopes:
        return [], 0
    scope = or_(
        *[
            and_(HumanTask.organisation == org, HumanTask.candidate_role.in_(roles))
            for org, roles in sorted(scopes.items())
        ]
    )
    conditions = [HumanTask.state == "ready", scope]
    if assignee_me:
        conditions.append(HumanTask.assignee == principal.username)
    else:
        conditions.append(or_(HumanTask.assignee.is_(None), HumanTask.assignee == principal.username))
    if instance_id:
        conditions.append(HumanTask.instance_id == instance_id)
    if overdue is not None:
        conditions.append(HumanTask.overdue.is_(overdue))
    if due_before is not None:
        conditions.append(HumanTask.due_at < due_before)
    with_deadline = [*conditions, HumanTask.due_at.is_not(None)]
    total, dated = session.execute(
        select(func.count(HumanTask.id), func.count(HumanTask.due_at)).where(*conditions)  # count(due_at): dated ones
    ).one()
    # Tasks with a deadline, earliest first, then the others, oldest first: read as two ranges that each
    # follow ix_human_task_inbox, because one ORDER BY "due_at IS NULL, ..." sorts every candidate row.
    rows = []
    if offset < dated:
        rows += _page(session, with_deadline, (HumanTask.due_at, HumanTask.created_at, HumanTask.id), offset, limit)
    if len(rows) < limit:
        rows += _page(
            session,
            [*conditions, HumanTask.due_at.is_(None)],
            (HumanTask.created_at, HumanTask.id),
            max(0, offset - dated),
            limit - len(rows),
        )
    return rows, total


def _page(
    session: Session, conditions: list[Any], order: tuple[Any, ...], offset: int, limit: int
) -> list[tuple[HumanTask, str | None]]:
    rows = session.execute(
        select(HumanTask, ProcessInstance.business_key)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(*conditions)
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    ).all()
    return [(r[0], r[1]) for r in rows]


def detail(session: Session, principal: Principal, task_id: str, clock: Clock) -> TaskDetail:
    """The task, its form and the data it was given (read from the case's state: only this task's view
    of the case, so a body never sees another body's submission through it)."""
    row = _visible(session, principal, task_id)
    instance = session.get(ProcessInstance, row.instance_id)
    assert instance is not None
    try:
        data = cases.restore(instance, clock).task_data(task_id)
    except TaskNotReady:
        data = {}
    schema = definition_service.form_schema(instance.definition, row.form_key)
    return TaskDetail(
        row,
        instance,
        forms.for_display(session, schema),
        row.state == "ready" and principal.can_act(row.organisation, row.candidate_role),
        data,
    )


def _lock_for_change(session: Session, principal: Principal, task_id: str) -> tuple[HumanTask, ProcessInstance]:
    """Lock the task's case, then re-read the task: whoever got the lock first has already committed."""
    begin_write(session)
    row = _visible(session, principal, task_id)
    _require_actor(principal, row)
    instance = cases.lock(session, row.instance_id)
    if session.get_bind().dialect.name != "sqlite":
        session.refresh(row)  # read before the lock; SQLite's writer lock was taken before the read
    if row.state != "ready":
        raise Conflict(f"task {task_id} is {row.state}; it can no longer be changed")
    return row, instance


def claim(session: Session, principal: Principal, task_id: str, clock: Clock) -> tuple[HumanTask, str | None]:
    row, instance = _lock_for_change(session, principal, task_id)
    if row.assignee == principal.username:
        session.commit()  # already theirs: nothing to write
        return row, instance.business_key
    if row.assignee is not None:
        raise Conflict(f"task {task_id} is claimed by {row.assignee}")
    row.assignee = principal.username
    _audit(session, instance, row, principal, clock, "task_claimed")
    session.commit()
    return row, instance.business_key


def unclaim(session: Session, principal: Principal, task_id: str, clock: Clock) -> tuple[HumanTask, str | None]:
    row, instance = _lock_for_change(session, principal, task_id)
    if row.assignee is None:
        session.commit()  # not claimed: nothing to write
        return row, instance.business_key
    if row.assignee != principal.username and "head" not in principal.roles_in(row.organisation):
        raise Forbidden(
            f"task {task_id} is claimed by {row.assignee}; only they or a head of {row.organisation} can release it"
        )
    previous = row.assignee
    row.assignee = None
    _audit(session, instance, row, principal, clock, "task_unclaimed", {"previous_assignee": previous})
    session.commit()
    return row, instance.business_key


def complete(
    session: Session, principal: Principal, task_id: str, data: dict[str, Any], clock: Clock
) -> tuple[ProcessInstance, cases.Saved]:
    row, instance = _lock_for_change(session, principal, task_id)
    clock = frozen(clock)  # one instant, taken under the lock, for the engine and the events (replay)
    if row.assignee is not None and row.assignee != principal.username:
        raise Conflict(f"task {task_id} is claimed by {row.assignee}; ask them to release it")
    schema = definition_service.form_schema(instance.definition, row.form_key)
    forms.validate(session, schema, data, instance.data)
    signed = _signature(session, principal, row, clock)
    spec = definition_service.loaded(instance.definition).info.human_tasks.get(row.task_spec)
    engine_data = {**data, spec.signature: signed} if signed and spec and spec.signature else data
    case = cases.restore(instance, clock)
    try:
        case.complete(task_id, engine_data)
    except RuleViolation as exc:
        raise Invalid(exc.errors) from exc
    except TaskNotReady as exc:
        # A timer fired while the officer was typing: keep what the engine did, then refuse the act.
        woken = cases.Event(WOKEN, {"reason": "a timer fired before the completion"})
        cases.save(session, instance, case, actor=TIMER_ACTOR, now=clock.now(), events=[woken])
        raise Conflict(f"{exc}: a deadline or another event ended it first") from exc
    except EngineError as exc:
        raise Invalid([{"element_id": exc.element_id, "message": str(exc)}]) from exc
    late = row.overdue or (row.due_at is not None and clock.now() >= row.due_at)
    event = cases.Event(
        "task_completed",
        {
            "task": row.task_spec,
            "name": row.name,
            "organisation": row.organisation,
            "role": sorted(principal.roles_in(row.organisation)),
            "data": data,
            **({"signature": signed} if signed else {}),
            **({"deadline": row.deadline, "due_at": row.due_at.isoformat(), "late": late} if row.due_at else {}),
        },
        task_id,
    )
    saved = cases.save(
        session, instance, case, actor=principal.username, now=clock.now(), events=[event], completed_task_id=task_id
    )
    return instance, saved


def _signature(session: Session, principal: Principal, row: HumanTask, clock: Clock) -> dict[str, Any] | None:
    """For a head's step: in what capacity the user acts, checked now against the database.

    The first head signs as such; otherwise the user's acting-head delegation must still be valid
    today (it may have been revoked since the user logged in)."""
    if row.candidate_role != "head":
        return None
    day = today(clock)
    signed: dict[str, Any] = {"by": principal.username, "name": principal.full_name, "on": day.isoformat()}
    if principal.is_first_head_of(row.organisation):
        return {**signed, "capacity": "first_head"}
    delegation_id = principal.delegation_for(row.organisation)
    found = (
        delegations.still_valid(session, delegation_id, principal.user_id, row.organisation, day)
        if delegation_id
        else None
    )
    if found is None:
        raise Forbidden(
            f"this step needs the first head of {row.organisation} or a person acting in his stead; "
            f"you hold no acting-head delegation of {row.organisation} valid on {day.isoformat()}"
        )
    return {
        **signed,
        "capacity": "acting_head",
        "delegation": found.id,
        "delegation_period": [found.valid_from.isoformat(), found.valid_to.isoformat()],
    }


def _audit(
    session: Session,
    instance: ProcessInstance,
    row: HumanTask,
    principal: Principal,
    clock: Clock,
    type: str,
    extra: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        occurred_at=clock.now(),
        actor=principal.username,
        type=type,
        payload={"task": row.task_spec, "name": row.name, **(extra or {})},
        instance_id=instance.id,
        task_id=row.id,
        definition_key=instance.definition.key,
        definition_version=instance.definition.version,
    )

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import AwareDatetime

from app.api.deps import ClockDep, PageDep, PrincipalDep, SessionDep, SessionFactoryDep
from app.api.schemas import CompleteIn, CompleteOut, TaskDetailOut, TaskOut, case_out, task_out
from app.services import auditing, cases, tasks

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


@router.get("", response_model=list[TaskOut])
def inbox(
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    page: PageDep,
    instance_id: str | None = None,
    assignee: Literal["me"] | None = None,
    overdue: bool | None = None,
    due_before: AwareDatetime | None = None,
) -> list[TaskOut]:
    """Your actionable tasks: your organisations' ready tasks for your role, unclaimed or claimed by you."""
    rows, total = tasks.inbox(
        session,
        principal,
        instance_id=instance_id,
        assignee_me=assignee == "me",
        overdue=overdue,
        due_before=due_before,
        offset=page.offset,
        limit=page.page_size,
    )
    response.headers["X-Total-Count"] = str(total)
    now = clock.now()
    return [task_out(t, key, now) for t, key in rows]


@router.get("/{task_id}", response_model=TaskDetailOut, responses={404: {"description": "no such task you may see"}})
def get_task(
    task_id: str, session: SessionDep, factory: SessionFactoryDep, clock: ClockDep, principal: PrincipalDep
) -> TaskDetailOut:
    """One task with its form's JSON Schema (organisation choices filled in) and the case's data."""
    d = tasks.detail(session, principal, task_id, clock)
    auditing.auditor_viewed(factory, principal, clock, "task", task_id=task_id, instance_id=d.instance.id)
    base = task_out(d.task, d.instance.business_key, clock.now()).model_dump()
    return TaskDetailOut(**base, form_schema=d.form_schema, can_act=d.can_act, data=d.data)


@router.post("/{task_id}/claim", response_model=TaskOut)
def claim(task_id: str, session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> TaskOut:
    row, business_key = tasks.claim(session, principal, task_id, clock)
    return task_out(row, business_key, clock.now())


@router.post("/{task_id}/unclaim", response_model=TaskOut)
def unclaim(task_id: str, session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> TaskOut:
    row, business_key = tasks.unclaim(session, principal, task_id, clock)
    return task_out(row, business_key, clock.now())


@router.post(
    "/{task_id}/complete",
    response_model=CompleteOut,
    responses={
        409: {"description": "no longer ready, or claimed by someone else"},
        422: {"description": "the data does not match the form; one entry per field"},
    },
)
def complete(
    task_id: str, body: CompleteIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> CompleteOut:
    instance, saved = tasks.complete(session, principal, task_id, body.data, clock)
    view = cases.view(session, principal, instance, saved.open)
    shown = {t.id for t in view.tasks}
    return CompleteOut(
        instance=case_out(view, clock.now()),
        next_tasks=[task_out(t, instance.business_key, clock.now()) for t in saved.created if t.id in shown],
    )

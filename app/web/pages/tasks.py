"""The inbox and the task page with its form."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from app.services import auditing, calendar, case_overview, tasks
from app.services.errors import Conflict, Forbidden, Invalid
from app.web import forms
from app.web.deps import DbDep, FormDep, Web, WebDep, WebRoute
from app.web.i18n import N_
from app.web.messages import Shown, translate
from app.web.pages.common import PAGE_SIZE, data_labels, page_count, page_offset, shown_data
from app.web.session import safe_next

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/")
def home(web: WebDep) -> Response:
    return web.redirect("/inbox" if web.has_inbox else "/cases")


@router.get("/inbox")
def inbox(
    web: WebDep,
    session: DbDep,
    overdue: str | None = None,
    due_before: str | None = None,
    page: int = 1,
    completed: str | None = None,
) -> Response:
    """My actionable tasks and my organisations' unclaimed ones, earliest deadline first."""
    assert web.principal is not None
    page, offset = page_offset(page)
    filter_error = None
    due_day: date | None = None
    if due_before:
        try:
            due_day = date.fromisoformat(due_before)
        except ValueError:
            filter_error = web.lang._(N_("Enter a date as year-month-day, e.g. 2024-03-19."))
    rows, total = tasks.inbox(
        session,
        web.principal,
        instance_id=None,
        assignee_me=False,
        offset=offset,
        limit=PAGE_SIZE,
        overdue=True if overdue else None,
        # due on or before that day: deadlines end at its 24:00, and the service compares with '<'
        due_before=calendar.end_of(due_day) + timedelta(microseconds=1) if due_day else None,
    )
    now = web.now
    items = [{"task": t, "business_key": key, "due": calendar.due_view(t.due_at, now)} for t, key in rows]
    return web.render(
        "inbox.html",
        items=items,
        total=total,
        page=page,
        pages=page_count(total),
        overdue=bool(overdue),
        due_before=due_before or "",
        filter_error=filter_error,
        completed=bool(completed),
    )


def _task_page(
    web: Web,
    session: Any,
    task_id: str,
    *,
    detail: tasks.TaskDetail | None = None,
    values: forms.Values | None = None,
    errors: dict[str, list[Shown]] | None = None,
    rows: dict[str, int] | None = None,
    banner: Shown | None = None,
    status: int = 200,
    viewed: bool = False,
) -> Response:
    """The task page; `detail` when the handler has just read it (tasks.detail restores the case)."""
    assert web.principal is not None
    if detail is None:
        detail = tasks.detail(session, web.principal, task_id, web.clock)
    if viewed:  # the GET: an auditor's read is recorded as GET /api/tasks/{id} records it
        auditing.auditor_viewed(
            web.sessionmaker, web.principal, web.clock, "task", task_id=task_id, instance_id=detail.instance.id
        )
    registered = case_overview.registered_data(session, detail.instance.id)
    fields = forms.build(detail.form_schema, web.lang, values, {}, rows)
    general = forms.attach(fields, errors or {})
    explanation = case_overview.explain_deadline(session, detail.task, detail.instance, detail.data)
    return web.render(
        "task.html",
        status,
        detail=detail,
        task=detail.task,
        instance=detail.instance,
        registered=shown_data(registered),
        earlier=shown_data(detail.data, besides=registered),
        fields=fields,
        general_errors=general,
        banner=banner,
        due=calendar.due_view(detail.task.due_at, web.now),
        explanation=explanation,
        form_title=web.lang.name((detail.form_schema or {}).get("title")),
        form_help=web.lang.name((detail.form_schema or {}).get("description")),
        field_labels=data_labels(detail.instance, web.lang),
    )


@router.get("/tasks/{task_id}")
def task_page(task_id: str, web: WebDep, session: DbDep, rows: int | None = None) -> Response:
    """The task, its form, the case as registered, what earlier steps produced, its deadline."""
    assert web.principal is not None
    detail = tasks.detail(session, web.principal, task_id, web.clock)
    wanted = None
    if rows:
        props = (detail.form_schema or {}).get("properties", {})
        count = min(max(rows, 1), forms.MAX_ROWS)
        wanted = {name: count for name, p in props.items() if forms.kind_of(name, p) == "rows"}
    return _task_page(web, session, task_id, detail=detail, rows=wanted, viewed=True)


@router.post("/tasks/{task_id}/complete")
def complete(task_id: str, web: WebDep, session: DbDep, form: FormDep) -> Response:
    """Typed JSON from the posted strings, then services.tasks.complete; its field errors come
    back next to the fields, with everything typed kept."""
    assert web.principal is not None
    detail = tasks.detail(session, web.principal, task_id, web.clock)
    schema = detail.form_schema
    parsed = forms.parse(schema, form, web.lang)
    add_row = form.get("_add_row")
    rows = forms.shown_rows(form, schema, parsed, add_row if isinstance(add_row, str) else None)
    if add_row:  # nothing was sent to the service: the page as just read, with one more row
        return _task_page(web, session, task_id, detail=detail, values=parsed.values, rows=rows)
    if parsed.errors:
        return _task_page(
            web, session, task_id, detail=detail, values=parsed.values, errors=parsed.errors, rows=rows, status=422
        )
    session.rollback()  # the completion is a write transaction of its own
    try:
        tasks.complete(session, web.principal, task_id, parsed.data, web.clock)
    except Invalid as exc:
        session.rollback()
        errors = forms.errors_from(exc.detail, web.lang)
        return _task_page(web, session, task_id, values=parsed.values, errors=errors, rows=rows, status=422)
    except (Conflict, Forbidden) as exc:
        session.rollback()
        banner = translate(web.lang, str(exc.detail))
        return _task_page(web, session, task_id, values=parsed.values, rows=rows, banner=banner, status=exc.status_code)
    return web.redirect("/inbox?completed=1" if web.has_inbox else "/cases")


@router.post("/tasks/{task_id}/claim")
def claim(task_id: str, web: WebDep, session: DbDep, form: FormDep) -> Response:
    assert web.principal is not None
    tasks.claim(session, web.principal, task_id, web.clock)
    return web.redirect(safe_next(str(form.get("next") or ""), f"/tasks/{task_id}"))


@router.post("/tasks/{task_id}/unclaim")
def unclaim(task_id: str, web: WebDep, session: DbDep, form: FormDep) -> Response:
    assert web.principal is not None
    tasks.unclaim(session, web.principal, task_id, web.clock)
    return web.redirect(safe_next(str(form.get("next") or ""), f"/tasks/{task_id}"))

"""Cases: search, the case page (deadlines, tasks, diagram), its history with a step slider, and
the two documents the diagram script reads (the diagram's XML and its state)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import JSONResponse, Response

from app.services import auditing, calendar, case_overview, cases
from app.web.deps import DbDep, WebDep, WebRoute
from app.web.labels import EVENT_TYPES, PROCESS_NAMES, STATUSES
from app.web.pages.common import PAGE_SIZE, choices, data_labels, page_count, page_offset, shown_data
from app.web.render import diagram_bundle_built

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/cases")
def search(
    web: WebDep,
    session: DbDep,
    business_key: str | None = None,
    status: str | None = None,
    key: str | None = None,
    page: int = 1,
) -> Response:
    """Cases the user may see (services.cases.list_instances), newest first, with filters."""
    assert web.principal is not None
    page, offset = page_offset(page)
    rows, total = cases.list_instances(
        session,
        web.principal,
        business_key=(business_key or "").strip() or None,
        status=status if status in STATUSES else None,
        key=key or None,
        offset=offset,
        limit=PAGE_SIZE,
    )
    views = cases.views(session, web.principal, rows)
    return web.render(
        "cases.html",
        views=views,
        total=total,
        page=page,
        pages=page_count(total),
        business_key=business_key or "",
        status_filter=status or "",
        key=key or "",
        status_choices=choices(web.lang, STATUSES),
        process_choices=choices(web.lang, PROCESS_NAMES),
    )


def _diagram(instance_id: str, *, with_state: bool) -> dict[str, Any]:
    return {
        "bundle": diagram_bundle_built(),
        "xml_url": f"/cases/{instance_id}/diagram.xml",
        "state_url": f"/cases/{instance_id}/diagram-state.json" if with_state else "",
        "step_url_template": f"/cases/{instance_id}/diagram-state.json?step={{step}}",
    }


@router.get("/cases/{instance_id}")
def case_page(instance_id: str, web: WebDep, session: DbDep) -> Response:
    """Summary, deadlines, every task with who did it and when, and the diagram with the case's state."""
    assert web.principal is not None
    instance = cases.get_visible(session, web.principal, instance_id)
    registered = case_overview.registered_data(session, instance.id)
    shape = case_overview.shape(instance.definition)
    now = web.now
    visible_tasks = case_overview.tasks_of(session, web.principal, instance)
    task_rows = [
        {"task": t, "due": calendar.due_view(t.due_at, now) if t.state == "ready" else None} for t in visible_tasks
    ]
    # The data this user may see (services.cases.view); its open tasks are among those just read.
    view = cases.view(session, web.principal, instance, [t for t in visible_tasks if t.state == "ready"])
    timers = [
        {"timer": t, "name": shape.names.get(t.element_id, t.element_id), "passed": t.due_at <= now}
        for t in case_overview.deadlines(session, web.principal, instance)
    ]
    # An auditor's read is recorded as GET /api/instances/{id} records it (own transaction; 503 if it cannot be).
    auditing.auditor_viewed(
        web.sessionmaker,
        web.principal,
        web.clock,
        "instance",
        instance_id=instance.id,
        business_key=instance.business_key,
    )
    return web.render(
        "case.html",
        instance=instance,
        registered=shown_data(registered),
        more=shown_data(view.data, besides=registered),
        tasks=task_rows,
        timers=timers,
        sees_all=cases.sees_all_cases(web.principal),
        field_labels=data_labels(instance, web.lang),
        diagram=_diagram(instance.id, with_state=True),
    )


@router.get("/cases/{instance_id}/diagram.xml")
def diagram_xml(instance_id: str, web: WebDep, session: DbDep) -> Response:
    """The BPMN of the case's own diagram version, for bpmn-js (same visibility as the case)."""
    assert web.principal is not None
    instance = cases.get_visible(session, web.principal, instance_id)
    return Response(instance.definition.bpmn_xml, media_type="application/xml")


@router.get("/cases/{instance_id}/diagram-state.json")
def diagram_state(instance_id: str, web: WebDep, session: DbDep, step: int | None = None) -> JSONResponse:
    """`{"completed", "active", "overdue", "step", "steps"}`: BPMN element ids (see
    services.case_overview.diagram_state and docs/web.md). `step=N`: after the first N events of
    the history the user may see; none: now."""
    assert web.principal is not None
    state = case_overview.diagram_state(session, web.principal, instance_id, step)
    return JSONResponse(state, headers={"Cache-Control": "no-store"})


@router.get("/cases/{instance_id}/history")
def history(instance_id: str, web: WebDep, session: DbDep, step: int | None = None) -> Response:
    """Every event of the case in order, with a step slider showing the state after each one
    (no-JS: `?step=N` with the form's button)."""
    assert web.principal is not None
    instance = cases.get_visible(session, web.principal, instance_id)
    events = cases.history(session, web.principal, instance_id)
    # As GET /api/instances/{id}/history records it.
    auditing.auditor_viewed(
        web.sessionmaker, web.principal, web.clock, "history", instance_id=instance_id, events=len(events)
    )
    shape = case_overview.shape(instance.definition)
    upto = len(events) if step is None else max(0, min(step, len(events)))
    state = case_overview.state_after(events[:upto], shape)
    names = {eid: web.lang.name(name) for eid, name in shape.names.items()}
    return web.render(
        "history.html",
        instance=instance,
        events=events,
        step=upto,
        state=state,
        names=names,
        event_types=EVENT_TYPES,
        diagram=_diagram(instance.id, with_state=False),
    )

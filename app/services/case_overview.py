"""What the case pages show besides the case itself: every task with who did it, the deadlines,
the diagram's state (now, or after any step of the history), and how a task's deadline was counted.

Reads only. Visibility is services.cases' (get_visible, history, sees_all_cases), so a page never
shows more than the JSON API would: outside the MFA, auditors and admins a user sees only their own
organisations' tasks, and the diagram state is computed from the history events they may see."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import last_day, local_date
from app.db.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, Timer
from app.engine import read_bpmn
from app.services import calendar, cases
from app.services.principal import Principal

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_CONTAINERS = {f"{BPMN}subProcess", f"{BPMN}transaction", f"{BPMN}adHocSubProcess"}
_WORKING_DAYS = re.compile(r"^add_working_days\((?P<var>.+?),\s*(?P<n>\d+)\)$")
_END_OF_DAY = re.compile(r"^end_of_day\((?P<var>.+?)\)$")
_PATH = re.compile(r"^(?P<name>[A-Za-z_]\w*)(?:\[\s*[\"'](?P<key>[^\"']+)[\"']\s*\])?$")


# -- the diagram's structure -----------------------------------------------------------------------
@dataclass(frozen=True)
class DiagramShape:
    """What a definition's XML says about containment, read once per version.

    `enclosing`: element id -> the activities it runs inside (sub-processes, and for an element of a
    called process the call activities that call it, with theirs), innermost first.
    `attached_to`: boundary event id -> the activity it sits on. `timers`: timer event id -> its
    timeDate expression. `names`: element id -> its name in the diagram."""

    enclosing: dict[str, tuple[str, ...]]
    attached_to: dict[str, str]
    timers: dict[str, str]
    names: dict[str, str]


_SHAPES: dict[str, DiagramShape] = {}
_SHAPES_LOCK = threading.Lock()


def shape(definition: ProcessDefinition) -> DiagramShape:
    with _SHAPES_LOCK:
        found = _SHAPES.get(definition.bundle_sha256)
    if found is None:
        found = parse_shape(definition.bpmn_xml)
        with _SHAPES_LOCK:
            if len(_SHAPES) > 256:
                _SHAPES.clear()
            _SHAPES[definition.bundle_sha256] = found
    return found


def parse_shape(xml: bytes) -> DiagramShape:
    root = read_bpmn(xml).root  # the deployed bytes, parsed as safely as at deploy
    local: dict[str, tuple[str, ...]] = {}
    process_of: dict[str, str] = {}
    callers: dict[str, list[str]] = {}
    attached: dict[str, str] = {}
    timers: dict[str, str] = {}
    names: dict[str, str] = {}
    for process in root.iter(f"{BPMN}process"):
        pid = process.get("id", "")
        for element in process.iter():
            eid = element.get("id")
            if not eid or element is process or not isinstance(element.tag, str):
                continue
            if element.get("name"):
                names[eid] = element.get("name", "")
            process_of[eid] = pid
            chain, parent = [], element.getparent()
            while parent is not None and parent is not process:
                if parent.tag in _CONTAINERS and parent.get("id"):
                    chain.append(parent.get("id"))
                parent = parent.getparent()
            local[eid] = tuple(chain)
            if element.tag == f"{BPMN}callActivity" and element.get("calledElement"):
                callers.setdefault(element.get("calledElement", ""), []).append(eid)
            if element.tag == f"{BPMN}boundaryEvent" and element.get("attachedToRef"):
                attached[eid] = element.get("attachedToRef", "")
            expression = element.findtext(f"{BPMN}timerEventDefinition/{BPMN}timeDate")
            if expression:
                timers[eid] = " ".join(expression.split())

    def full(eid: str, seen: frozenset[str]) -> tuple[str, ...]:
        out = list(local.get(eid, ()))
        for caller in callers.get(process_of.get(eid, ""), []):
            if caller not in seen:
                out += [caller, *full(caller, seen | {caller})]
        return tuple(dict.fromkeys(out))

    return DiagramShape({eid: full(eid, frozenset()) for eid in local}, attached, timers, names)


# -- tasks and deadlines ---------------------------------------------------------------------------
def registered_data(session: Session, instance_id: str) -> dict[str, Any]:
    """The data the case started with (the communication as registered): what every organisation
    that sees the case may read. The caller has checked the case is visible."""
    return dict(cases.start_data(session, [instance_id]).get(instance_id, {}))


def tasks_of(session: Session, principal: Principal, instance: ProcessInstance) -> list[HumanTask]:
    """Every task of the case the principal may see (open, done, cancelled), oldest first."""
    query = select(HumanTask).where(HumanTask.instance_id == instance.id)
    if not cases.sees_all_cases(principal):
        query = query.where(HumanTask.organisation.in_(sorted({m.organisation for m in principal.memberships})))
    return list(session.scalars(query.order_by(HumanTask.created_at, HumanTask.id)))


def deadlines(session: Session, principal: Principal, instance: ProcessInstance) -> list[Timer]:
    """The case's timers, armed or not. Only for those who see the case whole: a body sees the
    deadline on its own tasks, never whether another body met its own (as in cases.history)."""
    if not cases.sees_all_cases(principal):
        return []
    return list(
        session.scalars(select(Timer).where(Timer.instance_id == instance.id).order_by(Timer.armed_at, Timer.due_at))
    )


# -- the diagram's state ---------------------------------------------------------------------------
def state_after(events: list[AuditEvent], diagram: DiagramShape) -> dict[str, list[str]]:
    """The diagram state the events leave behind (pure; see diagram_state for the contract)."""
    tasks: dict[str, tuple[str, str]] = {}
    breached: list[str] = []
    for e in events:
        spec = (e.payload or {}).get("task")
        if e.task_id and spec and e.type in ("task_created", "task_completed", "task_cancelled"):
            tasks[e.task_id] = (
                spec,
                {"task_created": "active", "task_completed": "completed"}.get(e.type, "cancelled"),
            )
        elif e.type == "deadline_breached" and (e.payload or {}).get("element"):
            breached.append(e.payload["element"])
    active_tasks = {spec for spec, state in tasks.values() if state == "active"}
    done_tasks = {spec for spec, state in tasks.values() if state == "completed"} - active_tasks
    active = set(active_tasks)
    for spec in active_tasks:
        active.update(diagram.enclosing.get(spec, ()))
    completed = set(done_tasks)
    for spec in done_tasks:
        completed.update(diagram.enclosing.get(spec, ()))
    overdue: set[str] = set()
    for timer in breached:
        overdue.add(timer)
        governed = diagram.attached_to.get(timer)
        if governed in active:
            overdue.add(governed)
            for spec in active_tasks:
                inner = diagram.enclosing.get(spec, ())
                if spec == governed or governed in inner:
                    overdue.add(spec)
                    overdue.update(inner[: inner.index(governed)] if governed in inner else ())
    active -= overdue
    completed -= active | overdue
    return {"completed": sorted(completed), "active": sorted(active), "overdue": sorted(overdue)}


def diagram_state(session: Session, principal: Principal, instance_id: str, step: int | None = None) -> dict[str, Any]:
    """`{"completed", "active", "overdue", "step", "steps"}` for the case page's diagram.

    Each list holds BPMN element ids (a task's `task_spec`), elements of called processes included,
    sorted, disjoint. `active`: open user tasks and every sub-process / call activity they run in;
    `completed`: done user tasks and their containers, unless something in them is still open;
    `overdue`: timer events that fired on a breached deadline, and the open activity they govern
    with the open tasks inside it. Computed from the history events the principal may see, so
    `step=N` (0..steps) is the state after the first N of them; no step means all (the present).
    A multi-instance activity (one call per body) is one element: open if any instance is open."""
    instance = cases.get_visible(session, principal, instance_id)
    events = cases.history(session, principal, instance_id)
    steps = len(events)
    upto = steps if step is None else max(0, min(step, steps))
    return {**state_after(events[:upto], shape(instance.definition)), "step": upto, "steps": steps}


# -- how a deadline was counted --------------------------------------------------------------------
def _date_at(data: dict[str, Any], path: str) -> date | None:
    match = _PATH.match(path.strip())
    if not match:
        return None
    value: Any = data.get(match["name"])
    if match["key"] is not None:
        value = value.get(match["key"]) if isinstance(value, dict) else None
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def explain_deadline(
    session: Session, task: HumanTask, instance: ProcessInstance, data: dict[str, Any]
) -> dict[str, Any] | None:
    """The deadline over a task, day by day. The caller has checked the task is visible (tasks.detail).

    `rule`: "working_days" (N working days after a date in the case: the days counted, Civil Code
    style) or "date" (the end of a date someone set: the days from the task's start to it)."""
    if task.due_at is None:
        return None
    timer = session.scalar(
        select(Timer)
        .where(Timer.instance_id == instance.id, Timer.deadline == task.deadline, Timer.due_at == task.due_at)
        .order_by(Timer.armed_at.desc())
        .limit(1)
    )
    expression = shape(instance.definition).timers.get(timer.element_id, "") if timer else ""
    due_date = last_day(task.due_at)
    known = {**(instance.data or {}), **data}
    out: dict[str, Any] = {
        "deadline": task.deadline,
        "norm": task.deadline_norm,
        "element": timer.element_id if timer else None,
        "expression": expression or None,
        "due_date": due_date.isoformat(),
        "due_at": task.due_at,
    }
    match = _WORKING_DAYS.match(expression)
    start = _date_at(known, match["var"]) if match else None
    if match and start is not None:
        counted = calendar.deadline(start, int(match["n"]))
        return {
            **out,
            "rule": "working_days",
            "from": start.isoformat(),
            "working_days": int(match["n"]),
            "days": counted["days"],
        }
    match = _END_OF_DAY.match(expression)
    began = local_date(task.created_at)
    return {
        **out,
        "rule": "date",
        "from": began.isoformat(),
        "working_days": None,
        "date_field": match["var"] if match else None,
        "days": calendar.span(began, due_date) if due_date > began else [],
    }

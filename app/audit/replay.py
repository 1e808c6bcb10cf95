"""Replay: rebuild a case from its definition version and its recorded inputs, and compare.

Why it can be exact: every change of a case is one transaction whose audit events begin with the
input that caused it (`instance_started` with the start data, `task_completed` with the data and
signature, `message_received`, `deadline_extended`, `timers_recomputed`, `case_woken` for due
timers), the engine ran under one frozen instant equal to the events' `occurred_at`, and task ids
come from the case id and a counter. Running the same inputs at the same instants against the same
diagram version therefore gives the same engine state, which is compared as canonical JSON. Each
step's derived events (tasks created or cancelled, timers armed, re-armed, fired or disarmed,
deadlines breached, the case completed or reopened) are recomputed too and compared with the
recorded ones, so a divergence is reported at the first event that differs.

Events that record access or bookkeeping (`audit_viewed`, `exported`, claims, the registration's
copy of the communication) change no engine state and are skipped.

Limit: timer instants are recomputed with today's working-day calendar. A case whose timers were
armed under another version of `kz.toml` may diverge for that reason alone; the report says so.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import default_calendar
from app.clock import FixedClock
from app.db.models import AuditEvent, ProcessInstance
from app.engine import ArmedTimer, Case, EngineError, LoadedDefinition, ReadyTask

# Events that start a step: what the engine was asked to do.
INPUTS = frozenset(
    {"instance_started", "task_completed", "message_received", "deadline_extended", "timers_recomputed", "case_woken"}
)
# Events a step derives from the engine's result (services/cases.save and services/timers.sync).
DERIVED = frozenset(
    {
        "task_created",
        "task_cancelled",
        "timer_armed",
        "timer_rearmed",
        "timer_disarmed",
        "timer_fired",
        "deadline_breached",
        "instance_completed",
        "instance_reopened",
    }
)


@dataclass(frozen=True)
class Divergence:
    seq: int | None  # the first event that differs; None: only the final state differs
    event_type: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "event_type": self.event_type, "reason": self.reason}


@dataclass
class OpenTask:
    task: ReadyTask
    created_at: datetime
    assignee: str | None = None


@dataclass
class Breach:
    timer_id: str
    deadline: str | None
    norm: str | None
    element: str
    due_at: datetime
    attached_to: str | None
    breached_at: datetime


@dataclass
class Replayed:
    """A case rebuilt from its events (up to an instant, for as-of views)."""

    case: Case | None
    state: str | None = None  # the engine state as the last replayed step stored it
    tasks: dict[str, OpenTask] = field(default_factory=dict)
    timers: dict[str, ArmedTimer] = field(default_factory=dict)
    breaches: list[Breach] = field(default_factory=list)
    completed: bool = False
    events: int = 0  # events read
    steps: int = 0  # engine inputs applied
    last_seq: int = 0
    last_at: datetime | None = None
    start_data: dict[str, Any] = field(default_factory=dict)
    divergence: Divergence | None = None


@dataclass
class CaseReplay:
    instance_id: str
    business_key: str | None
    events: int
    steps: int
    seconds: float
    divergence: Divergence | None

    @property
    def identical(self) -> bool:
        return self.divergence is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "business_key": self.business_key,
            "events": self.events,
            "steps": self.steps,
            "identical": self.identical,
            "divergence": self.divergence.as_dict() if self.divergence else None,
            "seconds": round(self.seconds, 4),
        }


@dataclass
class _Step:
    input: Any | None  # the input event; None: derived events with no recorded input (older data)
    at: datetime
    actor: str
    derived: list[Any] = field(default_factory=list)


def replay_events(
    definition: LoadedDefinition, instance_id: str, events: Iterable[Any], *, until: datetime | None = None
) -> Replayed:
    """Apply the recorded inputs in order, each at its recorded instant, checking each step's
    derived events. `events` are AuditEvent rows (or objects with the same attributes) in seq order."""
    out = Replayed(case=None)
    clock = FixedClock(datetime(1970, 1, 1, tzinfo=UTC))  # set to each step's recorded instant
    step: _Step | None = None
    for event in events:
        if until is not None and event.occurred_at > until:
            break
        out.events += 1
        out.last_seq, out.last_at = event.seq, event.occurred_at
        if event.type in INPUTS:
            if step is not None and not _apply(definition, instance_id, step, clock, out):
                return out
            step = _Step(event, event.occurred_at, event.actor)
        elif event.type in DERIVED:
            if step is None or (step.at, step.actor) != (event.occurred_at, event.actor):
                # A change with no recorded input: before `case_woken` existed, a timer wake.
                if step is not None and not _apply(definition, instance_id, step, clock, out):
                    return out
                step = _Step(None, event.occurred_at, event.actor)
            step.derived.append(event)
        else:
            if step is not None and not _apply(definition, instance_id, step, clock, out):
                return out
            step = None
            _bookkeeping(event, out)
    if step is not None:
        _apply(definition, instance_id, step, clock, out)
    return out


def _bookkeeping(event: Any, out: Replayed) -> None:
    """Events that change who holds a task, not the engine."""
    open_task = out.tasks.get(event.task_id or "")
    if open_task is None:
        return
    if event.type == "task_claimed":
        open_task.assignee = event.actor
    elif event.type == "task_unclaimed":
        open_task.assignee = None


def _signature_data(definition: LoadedDefinition, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The data the service gave the engine: the form's data plus, on a signature step, the
    signature under the task's `signature` property (services/tasks.complete)."""
    data = dict(payload.get("data") or {})
    signed = payload.get("signature")
    spec = definition.info.human_tasks.get(str(payload.get("task")))
    if signed and spec is not None and spec.signature:
        data[spec.signature] = signed
    return data


def _apply(definition: LoadedDefinition, instance_id: str, step: _Step, clock: FixedClock, out: Replayed) -> bool:
    """Run one step on the engine and compare its derived events; False (and out.divergence) on a difference."""
    clock.set(step.at)
    if out.case is not None and out.state is not None:
        # The live system stores the state and restores it for the next change; so does replay, because
        # a restored workflow is not in every respect the object that was serialised (cached flags).
        out.case = Case.restore(definition, out.state, clock, instance_id, out.case.context.id_counter)
    event = step.input
    kind = event.type if event is not None else "case_woken"
    payload = (event.payload or {}) if event is not None else {}
    before_tasks = {k: v.task for k, v in out.tasks.items()}
    before_timers = dict(out.timers)
    before_completed = out.completed
    completed_task = None
    try:
        if kind == "instance_started":
            if out.case is not None:
                return _diverge(out, event, "the case was started twice")
            out.start_data = dict(payload.get("data") or {})
            out.case = Case.start(definition, out.start_data, clock, instance_id)
        elif out.case is None:
            return _diverge(out, event or step.derived[0], "an event before the case's start")
        elif kind == "task_completed":
            completed_task = event.task_id
            out.case.complete(str(event.task_id), _signature_data(definition, payload))
        elif kind == "message_received":
            out.case.send_message(str(payload.get("name")), dict(payload.get("data") or {}))
        elif kind == "deadline_extended":
            out.case.rearm({"reply_deadline": payload["reply_deadline"]})
        elif kind == "timers_recomputed":
            out.case.rearm(None)
        else:  # case_woken, or a timer wake recorded before that event existed
            out.case.refresh()
    except EngineError as exc:
        return _diverge(out, event or step.derived[0], f"the engine refused the recorded input: {exc}")
    except KeyError as exc:
        return _diverge(out, event or step.derived[0], f"the recorded input lacks {exc}")
    out.steps += 1
    case = out.case
    assert case is not None
    # Serialised first, as services/cases.save does: reading the case afterwards (is_completed)
    # sets SpiffWorkflow's cached `completed` flag, which the stored state was written without.
    state = case.state()
    ready = {t.id: t for t in case.ready_tasks()}
    armed = {t.id: t for t in case.armed_timers()}
    completed = case.is_completed
    expected = _derive(case, before_tasks, ready, before_timers, armed, before_completed, completed, completed_task)
    recorded = [_key(e.type, e.task_id, e.payload or {}) for e in step.derived]
    if Counter(expected) != Counter(recorded):
        missing = Counter(recorded) - Counter(expected)
        extra = Counter(expected) - Counter(recorded)
        first = next((e for e in step.derived if _key(e.type, e.task_id, e.payload or {}) in missing), None)
        reason = _describe_difference(list(missing.elements()), list(extra.elements()))
        return _diverge(out, first or event or (step.derived[0] if step.derived else None), reason)
    # The step matches: advance the projection as services/cases.save did.
    for task_id in list(out.tasks):
        if task_id not in ready:
            del out.tasks[task_id]
    for task_id, task in ready.items():
        if task_id not in out.tasks:
            out.tasks[task_id] = OpenTask(task, step.at)
        else:
            out.tasks[task_id].task = task
    for timer_id, timer in before_timers.items():
        if timer_id not in armed and timer.deadline and case.timer_outcome(timer_id) == "fired":
            out.breaches.append(
                Breach(
                    timer_id,
                    timer.deadline,
                    timer.norm,
                    timer.bpmn_id,
                    timer.due_at,
                    timer.attached_to,
                    step.at,
                )
            )
    out.timers = armed
    out.completed = completed
    out.state = state  # restored when the next step runs (after the last step, never)
    return True


Key = tuple[str, str | None, str]


def _key(type_: str, task_id: str | None, payload: Mapping[str, Any]) -> Key:
    """What must agree between a recorded and a recomputed derived event."""
    if type_ in ("timer_armed", "timer_rearmed", "deadline_breached"):
        detail = str(payload.get("due_at"))
    elif type_ in ("task_created", "task_cancelled"):
        detail = str(payload.get("task"))
    else:
        detail = ""
    return (type_, task_id, detail)


def _derive(
    case: Case,
    before_tasks: Mapping[str, ReadyTask],
    ready: Mapping[str, ReadyTask],
    before_timers: Mapping[str, ArmedTimer],
    armed: Mapping[str, ArmedTimer],
    was_completed: bool,
    completed: bool,
    completed_task: str | None,
) -> list[Key]:
    """The derived events services/cases.save would write for this change (as comparison keys)."""
    keys: list[Key] = []
    if completed and not was_completed:
        keys.append(("instance_completed", None, ""))
    elif was_completed and not completed:
        keys.append(("instance_reopened", None, ""))
    for task_id, task in before_tasks.items():
        if task_id not in ready and task_id != completed_task:
            keys.append(("task_cancelled", task_id, task.bpmn_id))
    for task_id, task in ready.items():
        if task_id not in before_tasks:
            keys.append(("task_created", task_id, task.bpmn_id))
    for timer_id, timer in before_timers.items():
        if timer_id in armed:
            if armed[timer_id].due_at != timer.due_at:
                keys.append(("timer_rearmed", timer_id, armed[timer_id].due_at.isoformat()))
            continue
        if case.timer_outcome(timer_id) == "fired":
            if timer.deadline:
                keys.append(("deadline_breached", timer_id, timer.due_at.isoformat()))
            else:
                keys.append(("timer_fired", timer_id, ""))
        else:
            keys.append(("timer_disarmed", timer_id, ""))
    for timer_id, timer in armed.items():
        if timer_id not in before_timers:
            keys.append(("timer_armed", timer_id, timer.due_at.isoformat()))
    return keys


def _describe_difference(missing: Sequence[Key], extra: Sequence[Key]) -> str:
    def show(keys: Sequence[Key]) -> str:
        return ", ".join(f"{t}({task or ''}{' ' + d if d else ''})" for t, task, d in keys[:5])

    parts = []
    if missing:
        parts.append(f"recorded but not reproduced: {show(missing)}")
    if extra:
        parts.append(f"reproduced but not recorded: {show(extra)}")
    return "; ".join(parts)


def _diverge(out: Replayed, event: Any, reason: str) -> bool:
    out.divergence = Divergence(getattr(event, "seq", None), getattr(event, "type", None), reason)
    return False


# -- comparing with the database -------------------------------------------------------------------
def case_events(session: Session, instance_id: str) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq))
    )


def first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    """The first JSON path where two decoded JSON documents differ (dict keys in sorted order)."""
    if type(a) is not type(b):
        return f"{path}: {_short(a)} != {_short(b)}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}: only in the {'replayed' if key in a else 'stored'} state"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {_short(a)} != {_short(b)}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def replay_case(session: Session, instance: ProcessInstance, definition: LoadedDefinition) -> CaseReplay:
    """Replay a stored case from its events on `definition` (the version it ran on, loaded) and
    compare the result with its stored state."""
    started = time.perf_counter()
    events = case_events(session, instance.id)
    result = replay_events(definition, instance.id, events)
    divergence = result.divergence
    if divergence is None:
        divergence = _compare_final(instance, result, events)
    if divergence is not None:
        divergence = _explain_calendar(divergence, events)
    return CaseReplay(
        instance.id, instance.business_key, result.events, result.steps, time.perf_counter() - started, divergence
    )


def _compare_final(instance: ProcessInstance, result: Replayed, events: Sequence[AuditEvent]) -> Divergence | None:
    last = events[-1] if events else None
    if result.case is None or result.state is None:
        return Divergence(None, None, "the case has no instance_started event")
    try:
        stored = json.loads(instance.state)
    except ValueError:
        return Divergence(None, None, "the stored state is not JSON")
    replayed = json.loads(result.state)
    where = first_difference(replayed, stored)
    if where is not None:
        return Divergence(
            last.seq if last else None,
            last.type if last else None,
            f"the replayed engine state differs from the stored one at {where}",
        )
    if result.case.context.id_counter != instance.id_counter:
        return Divergence(
            None, None, f"task id counter: replayed {result.case.context.id_counter}, stored {instance.id_counter}"
        )
    status = "completed" if result.completed else "running"
    if status != instance.status:
        return Divergence(None, None, f"status: replayed {status}, stored {instance.status}")
    return None


def _explain_calendar(divergence: Divergence, events: Sequence[AuditEvent]) -> Divergence:
    current = default_calendar().version
    versions = {
        (e.payload or {}).get("calendar_version")
        for e in events
        if e.type in ("timer_armed", "timer_rearmed") and (e.payload or {}).get("calendar_version")
    }
    others = sorted(v for v in versions if v != current)
    if not others:
        return divergence
    note = (
        f" (timers of this case were armed under calendar version {', '.join(v[:12] for v in others)}; "
        f"replay uses the current one, {current[:12]})"
    )
    return Divergence(divergence.seq, divergence.event_type, divergence.reason + note)


def replay_at(session: Session, instance: ProcessInstance, at: datetime, definition: LoadedDefinition) -> Replayed:
    """The case as it was at `at`: its events up to that instant, replayed on `definition`."""
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.instance_id == instance.id, AuditEvent.occurred_at <= at)
        .order_by(AuditEvent.seq)
    )
    return replay_events(definition, instance.id, events, until=at)

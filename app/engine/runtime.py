"""Running cases: start, complete a task, deliver a message, and list what waits for people.

A `Case` wraps one SpiffWorkflow workflow together with the `EngineContext` (clock, id seed and
counter) that every engine call runs under, so that SpiffWorkflow's "now" and task ids are ours.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from app.calendar import add_working_days_iso, as_date, default_calendar, working_days_before_iso
from app.clock import Clock
from app.engine.clock_bridge import EngineContext, engine_context
from app.engine.definitions import HumanTaskSpec, ParsedDefinition, Rule, inspect_bpmn
from app.engine.errors import EngineError, NotWaitingForMessage, RuleViolation, TaskNotReady
from app.engine.sandbox import RestrictedEnvironment, SandboxError
from app.engine.serializer import dump_state, load_state
from app.jsonvalues import normalise


def end_of_day(day: Any) -> str:
    """ISO instant of 24:00 Asia/Almaty of a date: for deadlines given as a date (D2, D5)."""
    calendar = default_calendar()
    return calendar.due_at(as_date(day)).isoformat()


# What diagram expressions may call besides the built-in whitelist.
_HELPERS: dict[str, Callable[..., Any]] = {
    "add_working_days": add_working_days_iso,
    "end_of_day": end_of_day,
    "working_days_before": working_days_before_iso,  # reminders N working days ahead of a date
}


_script_engine = PythonScriptEngine(environment=RestrictedEnvironment(dict(_HELPERS)))


def join_norms(norms: tuple[str, ...]) -> str | None:
    """Norm references as rows and events store them: "14-5 ч.1; 14-5 ч.2" (None for none)."""
    return "; ".join(norms) or None


@dataclass(frozen=True)
class ArmedTimer:
    """A timer event waiting in the case: its due instant and what it governs."""

    id: str  # the timer event's task id
    bpmn_id: str
    due_at: datetime
    attached_to: str | None  # task id of the activity a boundary timer sits on
    deadline: str | None  # "D1".."D5" from the `deadline:` documentation line
    norms: tuple[str, ...]

    @property
    def norm(self) -> str | None:
        return join_norms(self.norms)


@dataclass(frozen=True)
class ReadyTask:
    id: str
    bpmn_id: str
    name: str
    lane: str | None
    organisation: str
    candidate_role: str
    form_key: str | None
    norms: tuple[str, ...]
    enclosing: tuple[str, ...] = ()  # this task's id and the ids of the activities it runs inside

    @property
    def norm(self) -> str | None:
        return join_norms(self.norms)


def canonical_data(value: Any) -> Any:
    """Data handed to the engine: keys sorted and numbers as every database returns them.

    The engine's state depends on the order of keys (a task's data is stored as a delta whose
    `deletions` list follows its parent's key order, and scripts may iterate over keys) and on a
    number's type, while the audit log the data is recorded in cannot keep either on PostgreSQL
    (JSONB reorders keys and turns 1e308 into an integer). In this form the state is a function of
    what the log holds, so a replay from the log reproduces it exactly."""
    return normalise(value, sort_keys=True)


class LoadedDefinition:
    """A definition version parsed once: its specs and what deploy learned about its tasks."""

    def __init__(
        self, content: bytes, file_name: str, forms: Mapping[str, Any], parsed: ParsedDefinition | None = None
    ) -> None:
        """`parsed`: what deploy's validation already produced from the same content, if at hand."""
        self.forms: dict[str, Any] = dict(forms)
        self.info: ParsedDefinition = parsed or inspect_bpmn(content, file_name, forms)
        self.spec = self.info.spec
        self.subprocess_specs = self.info.subprocess_specs
        for spec in (self.spec, *self.subprocess_specs.values()):
            _make_shareable(spec)


def _make_shareable(spec: Any) -> None:
    """Do up front the wiring SpiffWorkflow 3.2.0 does to a spec lazily, at run time.

    A parsed spec is shared by every case of its definition version and rebuilt fresh in every
    process, so it must not depend on what ran before in this process:
    - Multi-instance tasks connect their child spec's `completed_event` to `merge_child` only when
      they first create a child. A case restored in a fresh process (after a restart, or in
      another worker) then never merges its children and hangs. The library's own spec
      deserialiser connects them eagerly; so do we.
    - The first time a message starts an event sub-process, `BpmnStartTask.trigger_wf` connects
      the start task to the sub-process for good: later cases built from that spec start the
      sub-process at once and never complete, and a case restored against a fresh spec fails
      with "No input task connected". Adding the input half of that wiring up front (without the
      output half that makes new cases start it) leaves `trigger_wf` nothing to change.
    """
    for task_spec in list(spec.task_specs.values()):
        if isinstance(task_spec, LoopTask):
            child = spec.task_specs[task_spec.task_spec]
            if not child.completed_event.is_connected(task_spec.merge_child):
                child.completed_event.connect(task_spec.merge_child)
    start = spec.start
    for name in getattr(start, "trigger_specs", []):
        task_spec = spec.task_specs[name]
        if start.name not in task_spec._inputs:
            task_spec._inputs.append(start.name)
            task_spec.connect(spec.end)


class DefinitionCache:
    """Parsed definitions, bounded, shared by the threads of one process.

    Keyed by the version's content hash, not its row id: the same content parses the same way,
    and a process that talks to another database (tests, tools) can never get a stale spec."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[str, LoadedDefinition] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, content_hash: str, load: Callable[[], tuple[bytes, str, Mapping[str, Any]]]) -> LoadedDefinition:
        with self._lock:
            found = self._items.get(content_hash)
            if found is not None:
                self._items.move_to_end(content_hash)
                return found
        content, file_name, forms = load()
        loaded = LoadedDefinition(content, file_name, forms)
        self.put(content_hash, loaded)
        return loaded

    def put(self, content_hash: str, loaded: LoadedDefinition) -> None:
        with self._lock:
            self._items[content_hash] = loaded
            self._items.move_to_end(content_hash)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every parsed definition, as a process restart would."""
        with self._lock:
            self._items.clear()


definitions = DefinitionCache()


class _Nudged:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def now(self) -> datetime:
        return self._clock.now() + timedelta(microseconds=1)


class Case:
    def __init__(self, definition: LoadedDefinition, workflow: BpmnWorkflow, context: EngineContext) -> None:
        self.definition = definition
        self.workflow = workflow
        self.context = context

    @classmethod
    def start(cls, definition: LoadedDefinition, data: Mapping[str, Any], clock: Clock, case_id: str) -> Case:
        context = EngineContext(clock=clock, id_seed=uuid.UUID(case_id), id_counter=0)
        with engine_context(context):
            workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=_script_engine)
            start = workflow.get_next_task(spec_name="Start") or workflow.task_tree
            start.data.update(canonical_data(data))
            case = cls(definition, workflow, context)
            case._run_engine()
        return case

    @classmethod
    def restore(cls, definition: LoadedDefinition, state: str, clock: Clock, case_id: str, id_counter: int) -> Case:
        context = EngineContext(clock=clock, id_seed=uuid.UUID(case_id), id_counter=id_counter)
        with engine_context(context):
            try:
                workflow = load_state(state, definition.spec, definition.subprocess_specs)
            except Exception as exc:  # a damaged or foreign state: say so rather than fail obscurely
                raise EngineError(
                    f"the case's stored state cannot be loaded ({exc.__class__.__name__}: {exc})"
                ) from exc
            workflow.script_engine = _script_engine
        return cls(definition, workflow, context)

    # -- reading -------------------------------------------------------------------------------
    @property
    def is_completed(self) -> bool:
        return self.workflow.is_completed()

    def state(self) -> str:
        return dump_state(self.workflow)

    def data(self) -> dict[str, Any]:
        """The case's data as a person would describe it: the latest top-level task's data."""
        wf = self.workflow
        source = wf.data if wf.is_completed() and wf.data else (wf.last_task.data if wf.last_task else {})
        if not source:
            source = wf.task_tree.data
        return json.loads(json.dumps(source, default=str))

    def ready_tasks(self) -> list[ReadyTask]:
        found: dict[str, ReadyTask] = {}
        for wf in self._workflows():
            for task in wf.get_tasks(state=TaskState.READY, manual=True):
                # An event sub-process's tree reaches into its parent's tasks: list each task once.
                if str(task.id) not in found:
                    found[str(task.id)] = self._describe(task, tuple(self._enclosing(task)))
        return list(found.values())

    def _workflows(self) -> list[Any]:
        return [self.workflow, *self.workflow.subprocesses.values()]

    def _enclosing(self, task: Any) -> list[str]:
        """The task and every activity (sub-process, call activity) it runs inside, innermost first."""
        ids = [str(task.id)]
        wf = task.workflow
        while getattr(wf, "parent_task_id", None) is not None:
            ids.append(str(wf.parent_task_id))
            wf = wf.parent_workflow
        return ids

    def armed_timers(self) -> list[ArmedTimer]:
        """Timer events waiting to fire, with the instant SpiffWorkflow will fire them."""
        found: dict[str, ArmedTimer] = {}
        for wf in self._workflows():
            for task in wf.get_tasks(state=TaskState.WAITING):
                definition = getattr(task.task_spec, "event_definition", None)
                if not isinstance(definition, TimerEventDefinition) or str(task.id) in found:
                    continue
                value = task.internal_data.get("event_value")
                if isinstance(value, dict):  # a cycle keeps its next instant
                    value = value.get("next")
                if not isinstance(value, str):
                    continue
                due = TimerEventDefinition.get_datetime(value)
                if due.tzinfo is None:
                    raise EngineError(
                        f"timer {task.task_spec.bpmn_id} gave a time without a zone: {value}", task.task_spec.bpmn_id
                    )
                attached = None
                if isinstance(task.task_spec, BoundaryEvent) and task.parent is not None:
                    siblings = [c for c in task.parent.children if not isinstance(c.task_spec, BoundaryEvent)]
                    attached = str(siblings[0].id) if siblings else None
                described = self.definition.info.timer_events.get(task.task_spec.bpmn_id)
                found[str(task.id)] = ArmedTimer(
                    id=str(task.id),
                    bpmn_id=task.task_spec.bpmn_id,
                    due_at=due.astimezone(UTC),
                    attached_to=attached,
                    deadline=described.deadline if described else None,
                    norms=described.norms if described else (),
                )
        return list(found.values())

    def timer_outcome(self, timer_id: str) -> str:
        """What became of a timer that is no longer armed: 'fired' or 'disarmed' (its activity ended)."""
        task = self._task_or_none(timer_id)
        return "fired" if task is not None and task.state in (TaskState.READY, TaskState.COMPLETED) else "disarmed"

    def finished_at(self, task_id: str) -> datetime | None:
        """When an activity (a task, sub-process or call activity) completed, by the engine's own
        record of its last state change; None while it runs, if it was cancelled, or if unknown.
        Compliance reports ask it when the act a breached deadline governs was finally done."""
        task = self._task_or_none(task_id)
        if task is None or task.state != TaskState.COMPLETED or not task.last_state_change:
            return None
        return datetime.fromtimestamp(task.last_state_change, UTC)

    def task_data(self, task_id: str) -> dict[str, Any]:
        task = self._find(task_id)
        return json.loads(json.dumps(task.data, default=str))

    def _describe(self, task: Any, enclosing: tuple[str, ...] = ()) -> ReadyTask:
        spec = task.task_spec
        info: HumanTaskSpec | None = self.definition.info.human_tasks.get(spec.bpmn_id)
        if info is None:
            raise EngineError(f"task {spec.bpmn_id!r} is not a known human task", spec.bpmn_id)
        organisation = info.lane or ""
        if info.organisation_expr:
            try:
                value = _script_engine.environment.evaluate(info.organisation_expr, dict(task.data))
            except (SandboxError, Exception) as exc:
                raise EngineError(f"property 'organisation' of {spec.bpmn_id}: {exc}", spec.bpmn_id) from exc
            if not isinstance(value, str):
                raise EngineError(f"property 'organisation' of {spec.bpmn_id} gave {value!r}, not a code", spec.bpmn_id)
            organisation = value
        return ReadyTask(
            id=str(task.id),
            bpmn_id=spec.bpmn_id,
            name=info.name,
            lane=info.lane,
            organisation=organisation,
            candidate_role=info.candidate_role,
            form_key=info.form_key,
            norms=info.norms,
            enclosing=enclosing,
        )

    def _task_or_none(self, task_id: str) -> Any:
        try:
            return self.workflow.get_task_from_id(uuid.UUID(task_id))
        except (ValueError, SpiffWorkflowException):
            return None

    def _find(self, task_id: str) -> Any:
        task = self._task_or_none(task_id)
        if task is None:
            raise TaskNotReady(f"task {task_id} is not part of this case")
        return task

    # -- acting --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Let due timers fire and the engine settle before anyone acts (see the field notes' race).

        SpiffWorkflow fires a timer only strictly after its instant; a deadline ends *at* 24:00, so
        the check runs a microsecond late to fire at the instant itself."""
        nudged = EngineContext(
            clock=_Nudged(self.context.clock), id_seed=self.context.id_seed, id_counter=self.context.id_counter
        )
        with engine_context(nudged):
            self.workflow.refresh_timers()
        self.context.id_counter = nudged.id_counter
        with engine_context(self.context):
            self._run_engine()

    def rearm(self, changes: Mapping[str, Any] | None = None) -> None:
        """Recompute every armed timer, after `changes` to the case's data (e.g. an extended reply
        deadline) or a change of the calendar. SpiffWorkflow evaluates a timer's expression once and
        caches the instant; this writes the changes into every unfinished task's data, drops the
        cached instants and lets the engine evaluate them again."""
        changes = canonical_data(changes) if changes else None
        with engine_context(self.context):
            for wf in self._workflows():
                if changes:
                    wf.data.update(dict(changes))
                for task in wf.get_tasks(state=TaskState.NOT_FINISHED_MASK):
                    if changes:
                        task.data.update(dict(changes))
                        if task.parent is not None:  # a waiting task re-inherits its parent's data on update
                            task.parent.data.update(dict(changes))
                    if task.state == TaskState.WAITING and isinstance(
                        getattr(task.task_spec, "event_definition", None), TimerEventDefinition
                    ):
                        task.internal_data.pop("event_value", None)
        self.refresh()

    def complete(self, task_id: str, data: Mapping[str, Any]) -> None:
        """Complete a ready task with the submitted data, once the task's rules accept it."""
        data = canonical_data(data)  # also what the rules see: as a replay from the log will
        self.refresh()
        task = self._find(task_id)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(f"task {task_id} is no longer waiting for completion")
        info = self.definition.info.human_tasks.get(task.task_spec.bpmn_id)
        if info is not None and info.rules:
            _check_rules(info.rules, {**task.data, **data}, {}, task.task_spec.bpmn_id)
        with engine_context(self.context):
            task.data.update(data)
            try:
                task.run()
            except SpiffWorkflowException as exc:
                raise EngineError(str(exc), task.task_spec.bpmn_id) from exc
            self._run_engine()

    def send_message(self, name: str, payload: Mapping[str, Any]) -> None:
        """Deliver a message. A completed case still listens to its event sub-processes (OHCHR
        publishes a reply long after the report step): such a message reopens the case."""
        payload = canonical_data(payload)
        self.refresh()
        rules = self.definition.info.message_rules.get(name, ())
        if rules:
            _check_rules(rules, dict(payload), {"case": self.data()}, None)
        with engine_context(self.context):
            event = BpmnEvent(MessageEventDefinition(name), payload=payload)
            try:
                self.workflow.send_event(event)
            except WorkflowException as exc:
                raise NotWaitingForMessage(f"the case is not waiting for a message {name!r}") from exc
            self.workflow.completed = False  # the library caches completion; let it look again
            self._run_engine()

    def _run_engine(self) -> None:
        try:
            self.workflow.do_engine_steps()
        except SpiffWorkflowException as exc:
            element = getattr(getattr(exc, "task_spec", None), "bpmn_id", None)
            raise EngineError(f"the diagram failed: {exc}", element) from exc


def _check_rules(
    rules: tuple[Rule, ...], data: Mapping[str, Any], extra: Mapping[str, Any], element_id: str | None
) -> None:
    """Evaluate the diagram's rules in the sandbox; every failed one becomes a field error.

    A rule that cannot be evaluated (a field missing, a wrong type) counts as failed: the law's
    condition was not shown to hold."""
    errors = []
    for rule in rules:
        try:
            ok = _script_engine.environment.evaluate(rule.expression, dict(data), extra)
        except Exception:
            ok = False
        if not ok:
            errors.append({"field": rule.field, "message": rule.message})
    if errors:
        raise RuleViolation(errors, element_id)

"""The engine's promises that the services rely on: restarts, shared specs, injected time and ids."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.clock import FixedClock
from app.engine import Case, LoadedDefinition
from tests.flow import FORMS, REGISTRATION, engine_data

ROOT = Path(__file__).resolve().parents[2]
FORMS_DIR = {p.name: json.loads(p.read_text()) for p in (ROOT / "bpmn" / "forms").glob("*.json")}
XML = (ROOT / "bpmn" / "communication.bpmn").read_bytes()
CLOCK = FixedClock(datetime(2024, 3, 19, 4, 0, tzinfo=UTC))


def _fresh() -> LoadedDefinition:
    return LoadedDefinition(XML, "communication.bpmn", FORMS_DIR)


def _drive(case_id: str, restore_from_fresh_spec: bool, message_at: int | None) -> Case:
    loaded = _fresh()
    case = Case.start(loaded, REGISTRATION, CLOCK, case_id)
    for step in range(60):
        if restore_from_fresh_spec:  # every step in a "new process"
            case = Case.restore(_fresh(), case.state(), CLOCK, case_id, case.context.id_counter)
        if step == message_at:
            case.send_message("ohchr_published", {"item": "communication", "published_on": "2024-04-01", "url": "https://u"})
        ready = case.ready_tasks()
        if not ready:
            return case
        task = ready[0]
        case.complete(task.id, engine_data(task.bpmn_id))
    raise AssertionError("the case did not end")


@pytest.mark.parametrize("message_at", [None, 1, 5])
def test_a_case_restored_on_a_freshly_parsed_spec_every_step_completes(message_at: int | None) -> None:
    case = _drive(str(uuid.uuid4()), restore_from_fresh_spec=True, message_at=message_at)
    assert case.is_completed
    assert [s["body"] for s in case.data()["body_submissions"]] == ["MVD", "MINJUST"]


def test_cases_sharing_one_spec_do_not_affect_each_other() -> None:
    loaded = _fresh()
    first = Case.start(loaded, REGISTRATION, CLOCK, str(uuid.uuid4()))
    first.send_message("ohchr_published", {"item": "communication", "published_on": "2024-04-01", "url": "https://u"})
    second = Case.start(loaded, REGISTRATION, CLOCK, str(uuid.uuid4()))
    assert [t.bpmn_id for t in second.ready_tasks()] == ["forward_communication"]


def test_same_inputs_same_clock_same_state() -> None:
    """Task ids and times come from the case's seed and the clock: a replay reproduces the state."""
    case_id = str(uuid.uuid4())
    a = json.loads(_drive(case_id, restore_from_fresh_spec=False, message_at=3).state())
    b = json.loads(_drive(case_id, restore_from_fresh_spec=True, message_at=3).state())
    assert a == b  # equal as data; key order may differ after a round trip
    other = json.loads(_drive(str(uuid.uuid4()), restore_from_fresh_spec=False, message_at=3).state())
    assert other != a


def test_the_engine_reads_time_from_the_injected_clock() -> None:
    clock = FixedClock(datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
    case = Case.start(_fresh(), REGISTRATION, clock, str(uuid.uuid4()))
    task = case.workflow.get_task_from_id(uuid.UUID(case.ready_tasks()[0].id))
    assert task.last_state_change == clock.now().timestamp()


def test_a_late_body_escalates_to_its_head_without_holding_up_the_mfa() -> None:
    """D5 passed: each body's head gets an escalation; once the bodies submit, the MFA goes on."""
    clock = FixedClock(datetime(2024, 3, 19, 4, 0, tzinfo=UTC))
    case = Case.start(_fresh(), REGISTRATION, clock, str(uuid.uuid4()))
    forward = case.ready_tasks()[0]
    case.complete(forward.id, FORMS["forward_communication"])  # information due on 2024-04-19
    due = {t.deadline: t.due_at for t in case.armed_timers()}
    assert due["D5"] == datetime(2024, 4, 19, 19, 0, tzinfo=UTC)  # 24:00 Almaty
    clock.set(datetime(2024, 4, 19, 19, 0, tzinfo=UTC))
    case.refresh()
    escalations = sorted((t.organisation, t.candidate_role) for t in case.ready_tasks() if t.bpmn_id == "escalate_d5")
    assert escalations == [("MINJUST", "head"), ("MVD", "head")]
    for body in ("MVD", "MINJUST"):
        for spec in ("prepare_information", "sign_information"):
            task = next(t for t in case.ready_tasks() if t.bpmn_id == spec and t.organisation == body)
            case.complete(task.id, engine_data(spec))
    ready = {t.bpmn_id for t in case.ready_tasks()}
    assert "hold_meeting" in ready and "escalate_d5" not in ready

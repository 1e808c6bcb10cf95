"""Treaty-body cases (14-11) over the JSON API: led by the responsible body, driven by the treaty body's dates."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from app.calendar import default_calendar, working_days_before_iso
from app.clock import FixedClock
from app.engine import Case, LoadedDefinition
from tests.api.test_deadlines import fire_due
from tests.flow import complete_as as complete
from tests.flow import open_task

CASE = {
    "treaty_body": "CAT",
    "lead_body": "MVD",
    "subject": "Fifth periodic report under the Convention against Torture",
    "reference": "CAT/C/KAZ/5",
}
SUBMIT = {"submitted_on": "2024-06-10", "document_reference": "CAT/C/KAZ/5", "summary": "Fifth periodic report"}


def start(api: Any, user: str, **body: Any) -> Any:
    return api.post(user, "/api/treaty-body-cases", json={**CASE, **body})


def started(api: Any, user: str, **body: Any) -> dict[str, Any]:
    r = start(api, user, **body)
    assert r.status_code == 201, r.text
    return r.json()


def inbox(api: Any, user: str) -> list[str]:
    return sorted(t["task_spec"] for t in api.get(user, "/api/tasks").json())


def case_of(api: Any, case_id: str) -> dict[str, Any]:
    return api.get("auditor", f"/api/instances/{case_id}").json()


def history(api: Any, case_id: str) -> list[dict[str, Any]]:
    return api.get("auditor", f"/api/instances/{case_id}/history").json()


@pytest.mark.norm("14-11")
def test_working_days_before_mirrors_add_working_days() -> None:
    calendar = default_calendar()
    # 5 working days after Tuesday 19 March 2024 is Friday 29 March (Nauryz: 21, 22, 25 March); and back.
    assert calendar.add_working_days(date(2024, 3, 19), 5) == date(2024, 3, 29)
    assert calendar.working_days_before(date(2024, 3, 29), 5) == date(2024, 3, 19)
    assert calendar.working_days_before(date(2024, 6, 17), 1) == date(2024, 6, 14)  # Monday -> Friday
    # The reminder fires as the day begins in Almaty: 00:00 on 7 June 2024 is 19:00Z on the 6th.
    assert working_days_before_iso("2024-06-14", 5) == "2024-06-06T19:00:00+00:00"
    with pytest.raises(ValueError):
        calendar.working_days_before(date(2024, 6, 14), 0)


@pytest.mark.norm("14-11")
def test_the_lead_body_gets_the_tasks_of_the_dates_given_and_the_mfa_does_not(api) -> None:  # type: ignore[no-untyped-def]
    case = started(api, "mvd.officer", report_due="2024-06-14", follow_up_due="2024-11-29")
    assert case["definition"]["key"] == "treaty_body" and case["business_key"] == "CAT: CAT/C/KAZ/5"
    case_id = case["id"]
    data = case_of(api, case_id)["data"]
    assert data["lead_body"] == "MVD" and data["treaty_body_name"] == "Committee against Torture"
    assert data["list_of_issues_reply_due"] is None and data["reminder_working_days"] == 10

    # Only the branches whose date was given run; every task is the lead body's.
    tasks = {t["task_spec"]: t for t in case["tasks"]}
    assert sorted(tasks) == ["submit_followup", "submit_report"]
    report = tasks["submit_report"]
    assert (report["organisation"], report["lane"], report["candidate_role"]) == ("MVD", "BODY", "officer")
    assert report["norm"] == "14-11" and report["deadline"] == "TB-REPORT" and report["deadline_norm"] == "14-11"
    assert report["due_at"] == "2024-06-14T19:00:00Z" and report["due_date"] == "2024-06-14"
    assert tasks["submit_followup"]["deadline"] == "TB-FOLLOWUP"
    assert inbox(api, "mvd.officer") == ["submit_followup", "submit_report"]
    assert inbox(api, "mvd.head") == ["submit_followup", "submit_report"]  # a head may do an officer's task
    for outsider in ("mfa.officer", "mfa.head", "minjust.officer", "ombudsman.officer"):
        assert inbox(api, outsider) == [], outsider
    assert api.post("mfa.officer", f"/api/tasks/{report['id']}/complete", json={"data": SUBMIT}).status_code in (
        403,
        404,
    )
    # The MFA coordinates: it sees the case, but acts on nothing in it.
    assert api.get("mfa.officer", f"/api/instances/{case_id}").status_code == 200
    assert api.get("minjust.officer", f"/api/instances/{case_id}").status_code == 404

    done = complete(api, "mvd.officer", report, SUBMIT)
    assert done["instance"]["status"] == "running"
    assert case_of(api, case_id)["data"]["report_submission"] == {
        "submitted_on": "2024-06-10",
        "document_reference": "CAT/C/KAZ/5",
    }
    follow_up = {**SUBMIT, "document_reference": "CAT/C/KAZ/CO/5/Add.1"}
    final = complete(api, "mvd.head", open_task(api, case_id, "submit_followup"), follow_up)["instance"]
    assert final["status"] == "completed" and final["overdue"] == []
    events = history(api, case_id)
    armed = sorted(e["payload"]["element"] for e in events if e["type"] == "timer_armed")
    assert armed == sorted(
        ["deadline_report_timer", "reminder_report_timer"] + ["deadline_followup_timer", "reminder_followup_timer"]
    )
    disarmed = sorted(e["payload"]["element"] for e in events if e["type"] == "timer_disarmed")
    assert disarmed == armed  # submitted in time: neither the reminders nor the deadlines ever fired
    assert not [e for e in events if e["type"] == "deadline_breached"]


@pytest.mark.norm("14-11")
def test_a_reminder_comes_n_working_days_before_and_a_breach_escalates_at_the_end_of_the_date(  # type: ignore[no-untyped-def]
    api, prepared_db, clock
) -> None:
    case_id = started(api, "mfa.officer", report_due="2024-06-14", reminder_working_days=5)["id"]
    assert [t["task_spec"] for t in case_of(api, case_id)["tasks"]] == ["submit_report"]

    # 5 working days before Friday 14 June is Friday 7 June: the reminder comes as that day begins.
    assert "woke 0 case" in fire_due(prepared_db, "2024-06-06T18:59:59Z")
    assert "woke 1 case" in fire_due(prepared_db, "2024-06-06T19:00:00Z")
    assert "woke 0 case" in fire_due(prepared_db, "2024-06-06T19:00:00Z")
    after = case_of(api, case_id)
    by_spec = {t["task_spec"]: t for t in after["tasks"]}
    assert sorted(by_spec) == ["remind_report", "submit_report"]
    remind = by_spec["remind_report"]
    assert (remind["organisation"], remind["candidate_role"], remind["norm"]) == ("MVD", "officer", "14-11")
    assert remind["due_at"] == "2024-06-14T19:00:00Z"  # the reminder shows the date it is about
    assert inbox(api, "mvd.officer") == ["remind_report", "submit_report"]
    assert inbox(api, "mfa.officer") == []
    # A reminder is not a breach: nothing is overdue yet.
    assert after["overdue"] == [] and by_spec["submit_report"]["overdue"] is False
    complete(api, "mvd.officer", remind, {"acknowledged": True, "planned_submission_on": "2024-06-13"})

    # The date ends (24:00 Almaty = 19:00Z) with no submission: the lead body's head gets an escalation.
    assert "woke 0 case" in fire_due(prepared_db, "2024-06-14T18:59:59Z")
    assert "woke 1 case" in fire_due(prepared_db, "2024-06-14T19:00:00Z")
    after = case_of(api, case_id)
    assert after["overdue"] == ["TB-REPORT"]
    by_spec = {t["task_spec"]: t for t in after["tasks"]}
    assert sorted(by_spec) == ["escalate_report", "submit_report"]
    assert by_spec["submit_report"]["overdue"] is True
    escalation = by_spec["escalate_report"]
    assert (escalation["organisation"], escalation["candidate_role"]) == ("MVD", "head")
    assert inbox(api, "mvd.head") == ["escalate_report", "submit_report"]
    assert inbox(api, "mvd.officer") == ["submit_report"]
    assert inbox(api, "mfa.officer") == [] and inbox(api, "mfa.head") == []
    fired = [e["payload"]["element"] for e in history(api, case_id) if e["type"] == "timer_fired"]
    assert fired == ["reminder_report_timer"]  # a reminder is recorded as fired, never as a breach
    breach = [e for e in history(api, case_id) if e["type"] == "deadline_breached"]
    assert [(b["payload"]["deadline"], b["payload"]["norm"], b["payload"]["due_at"]) for b in breach] == [
        ("TB-REPORT", "14-11", "2024-06-14T19:00:00+00:00")
    ]

    # The report can still be submitted; it is recorded as late, and the head answers the escalation.
    clock.set(datetime(2024, 6, 17, 5, 0, tzinfo=UTC))
    api._tokens.clear()  # the morning tokens have expired by then
    complete(api, "mvd.officer", by_spec["submit_report"], {**SUBMIT, "submitted_on": "2024-06-17"})
    done = [
        e for e in history(api, case_id) if e["type"] == "task_completed" and e["payload"]["task"] == "submit_report"
    ]
    assert done[0]["payload"]["late"] is True and done[0]["payload"]["deadline"] == "TB-REPORT"
    assert case_of(api, case_id)["status"] == "running"  # the head's answer is part of the record
    final = complete(api, "mvd.head", escalation, {"action_taken": "Report sent on 17 June; officer reprimanded"})
    assert final["instance"]["status"] == "completed"


@pytest.mark.norm("14-11")
def test_a_reminder_whose_day_has_begun_comes_at_once_and_submitting_withdraws_it(api, prepared_db) -> None:  # type: ignore[no-untyped-def]
    # 10 working days before 27 March 2024 fall before 19 March (Nauryz): the reminder is due already.
    case = started(api, "mvd.officer", list_of_issues_reply_due="2024-03-27", treaty_body="CCPR", reference=None)
    case_id = case["id"]
    assert case["business_key"] == "CCPR: " + CASE["subject"]
    assert sorted(t["task_spec"] for t in case["tasks"]) == ["remind_loi", "submit_loi"]  # no worker needed
    assert "woke 0 case" in fire_due(prepared_db, "2024-03-19T04:00:00Z")
    by_spec = {t["task_spec"]: t for t in case_of(api, case_id)["tasks"]}
    assert by_spec["submit_loi"]["deadline"] == "TB-LOI"
    final = complete(api, "mvd.officer", by_spec["submit_loi"], SUBMIT)["instance"]
    assert final["status"] == "completed" and final["tasks"] == []
    cancelled = [e for e in history(api, case_id) if e["type"] == "task_cancelled"]
    assert [e["payload"]["task"] for e in cancelled] == ["remind_loi"]


@pytest.mark.norm("14-11")
def test_who_may_start_a_treaty_body_case(api) -> None:  # type: ignore[no-untyped-def]
    dates = {"individual_communication_observations_due": "2024-09-19"}
    for user in ("minjust.officer", "minjust.head", "ombudsman.officer", "pa.officer", "auditor", "analyst"):
        r = start(api, user, **dates)
        assert r.status_code == 403, (user, r.text)
        assert "MVD" in r.json()["detail"] or "lead state body" in r.json()["detail"], r.text
    for user in ("mvd.officer", "mvd.head", "mfa.officer", "mfa.head", "admin"):
        assert start(api, user, **dates).status_code == 201, user


@pytest.mark.norm("14-11")
def test_bad_registrations_are_422_with_the_field(api) -> None:  # type: ignore[no-untyped-def]
    def refused(body: dict[str, Any], field: str, needle: str = "") -> None:
        r = api.post("mfa.officer", "/api/treaty-body-cases", json=body)
        assert r.status_code == 422, (body, r.text)
        found = [d for d in r.json()["detail"] if d["field"] == field]
        assert found and needle in found[0]["message"], (body, r.json())

    due = {"report_due": "2024-06-14"}
    refused({**CASE, **due, "lead_body": "NOWHERE"}, "lead_body", "existing")
    refused({**CASE, **due, "lead_body": "MFA"}, "lead_body", "not a state_body")  # 14-11: not the MFA
    refused({**CASE, **due, "lead_body": "OMBUDSMAN"}, "lead_body", "not a state_body")
    refused(CASE, "(body)", "report_due")  # no date at all
    refused({**CASE, "report_due": None, "follow_up_due": None}, "(body)", "at least one")
    refused({**CASE, **due, "treaty_body": "SPT"}, "treaty_body")
    refused({**CASE, "report_due": "2024-02-30"}, "report_due")
    refused({**CASE, "follow_up_due": "2024-03-18"}, "follow_up_due", "already passed")
    refused({**CASE, **due, "reminder_working_days": 0}, "reminder_working_days")
    refused({**CASE, **due, "session": "80th"}, "session")
    refused({k: v for k, v in {**CASE, **due}.items() if k != "lead_body"}, "lead_body")
    refused({**CASE, **due, "subject": " "}, "subject")
    assert api.get("auditor", "/api/instances", params={"key": "treaty_body"}).json() == []


@pytest.mark.norm("14-11")
def test_the_generic_start_is_refused(api) -> None:  # type: ignore[no-untyped-def]
    r = api.post(
        "admin", "/api/processes/treaty_body/instances", json={"data": {"lead_body": "MVD", "report_due": "2024-06-14"}}
    )
    assert r.status_code == 422 and "POST /api/treaty-body-cases" in r.text, r.text


@pytest.mark.norm("14-11")
def test_a_case_restored_on_a_freshly_parsed_spec_at_every_step_ends_the_same() -> None:
    """Sub-processes with a terminate end and fired reminders survive a restart between any two steps."""
    root = Path(__file__).resolve().parents[2]
    forms = {p.name: json.loads(p.read_text()) for p in (root / "bpmn" / "forms").glob("*.json")}
    xml = (root / "bpmn" / "treaty_body.bpmn").read_bytes()
    clock = FixedClock(datetime(2024, 6, 10, 4, 0, tzinfo=UTC))  # both reminders' days have begun
    data = {**CASE, "treaty_body_name": "Committee against Torture", "reminder_working_days": 5}
    data |= {"report_due": "2024-06-14", "list_of_issues_reply_due": None, "follow_up_due": "2024-06-12"}
    data |= {"individual_communication_observations_due": None}
    answers = {"remind": {"acknowledged": True}, "submit": SUBMIT}
    case_id = str(uuid.uuid4())
    case = Case.start(LoadedDefinition(xml, "treaty_body.bpmn", forms), data, clock, case_id)
    seen = set()
    for _ in range(10):
        case = Case.restore(
            LoadedDefinition(xml, "treaty_body.bpmn", forms), case.state(), clock, case_id, case.context.id_counter
        )
        case.refresh()
        ready = sorted(case.ready_tasks(), key=lambda t: t.bpmn_id)
        if not ready:
            break
        seen |= {t.bpmn_id for t in ready}
        case.complete(ready[0].id, answers[ready[0].bpmn_id.split("_")[0]])
    assert case.is_completed
    assert seen == {"remind_report", "remind_followup", "submit_report", "submit_followup"}
    assert set(case.data()) >= {"report_submission", "followup_submission"}

"""The five statutory deadlines of chapter 2-1 on the real diagram: armed, shown, breached at the instant, late.

Each case is driven over HTTP by the demo users up to the step a deadline governs; the worker command
`timers fire-due` then runs one second before the deadline's instant (nothing happens) and at it (the case
is woken once, the task turns overdue, the head of the responsible organisation gets an escalation task).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.test_deadlines import fire_due
from tests.flow import complete, open_task, register

PUBLISHED = {"item": "communication", "published_on": "2024-04-30", "url": "https://spcommreports.ohchr.org/1"}
BODIES = ("MVD", "MINJUST")


def _done(api: Any, case_id: str, spec: str, organisation: str | None = None) -> None:
    r = complete(api, open_task(api, case_id, spec, organisation))
    assert r.status_code == 200, (spec, organisation, r.text)


def _forward(api: Any, case_id: str) -> None:
    _done(api, case_id, "forward_communication")


def _bodies(api: Any, case_id: str) -> None:
    for body in BODIES:
        _done(api, case_id, "prepare_information", body)
        _done(api, case_id, "sign_information", body)


def _publication(api: Any, case_id: str) -> None:
    r = api.post("mfa.officer", f"/api/instances/{case_id}/messages/ohchr_published", json={"data": PUBLISHED})
    assert r.status_code == 200, r.text


def _reply(api: Any, case_id: str) -> None:
    for spec in ("draft_reply", "sign_reply", "send_reply"):
        _done(api, case_id, spec)


def _history(api: Any, case_id: str) -> list[dict[str, Any]]:
    r = api.get("auditor", f"/api/instances/{case_id}/history")
    assert r.status_code == 200, r.text
    return r.json()


def _iso(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def _breach(
    api: Any,
    prepared_db: str,
    clock: Any,
    case_id: str,
    deadline: str,
    due: datetime,
    governed: list[tuple[str, str | None]],
    escalated_to: list[str],
) -> None:
    """From armed to breached to completed late, asserting every step on the way."""
    for spec, organisation in governed:
        task = open_task(api, case_id, spec, organisation)
        assert (task["deadline"], task["due_at"], task["due_date"]) == (
            deadline,
            _iso(due),
            due.date().isoformat(),  # 24:00 in Almaty is 19:00 UTC on the same last day
        ), task
        assert task["overdue"] is False and task["state"] == "ready"
    assert api.get("auditor", f"/api/instances/{case_id}").json()["overdue"] == []

    assert "woke 0 case" in fire_due(prepared_db, _iso(due - timedelta(seconds=1)))
    assert [e for e in _history(api, case_id) if e["type"] == "deadline_breached"] == []
    assert "woke 1 case" in fire_due(prepared_db, _iso(due))

    case = api.get("auditor", f"/api/instances/{case_id}").json()
    assert case["overdue"] == [deadline]
    for spec, organisation in governed:
        task = open_task(api, case_id, spec, organisation)
        assert task["overdue"] is True and task["state"] == "ready", task
    escalations = [t for t in case["tasks"] if t["task_spec"] == f"escalate_{deadline.lower()}"]
    assert sorted(t["organisation"] for t in escalations) == sorted(escalated_to), case["tasks"]
    assert all(t["candidate_role"] == "head" for t in escalations)
    breaches = [e["payload"] for e in _history(api, case_id) if e["type"] == "deadline_breached"]
    assert [b["deadline"] for b in breaches] == [deadline] * len(governed)  # one per armed timer
    assert {b["due_at"] for b in breaches} == {due.isoformat()}

    # The act can still be done after the instant; it is recorded as late.
    clock.set(due + timedelta(hours=14))  # the next morning in Almaty
    api._tokens.clear()  # the morning tokens have expired by then
    for spec, organisation in governed:
        task = open_task(api, case_id, spec, organisation)
        r = complete(api, task)
        assert r.status_code == 200, r.text
        done = [
            e["payload"] for e in _history(api, case_id) if e["type"] == "task_completed" and e["task_id"] == task["id"]
        ]
        assert len(done) == 1 and done[0]["late"] is True and done[0]["deadline"] == deadline, done


def test_d1_forwarding_within_five_working_days(api, prepared_db, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    due = datetime(2024, 3, 29, 19, 0, tzinfo=UTC)
    _breach(api, prepared_db, clock, case_id, "D1", due, [("forward_communication", None)], ["MFA"])


def test_d5_information_from_each_body_by_the_date_set(api, prepared_db, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    _forward(api, case_id)
    due = datetime(2024, 4, 19, 19, 0, tzinfo=UTC)
    governed: list[tuple[str, str | None]] = [("prepare_information", body) for body in BODIES]
    _breach(api, prepared_db, clock, case_id, "D5", due, governed, list(BODIES))


def test_d2_reply_by_the_deadline_in_the_communication(api, prepared_db, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    _forward(api, case_id)
    _bodies(api, case_id)
    _done(api, case_id, "hold_meeting")
    due = datetime(2024, 5, 18, 19, 0, tzinfo=UTC)
    _breach(api, prepared_db, clock, case_id, "D2", due, [("draft_reply", None)], ["MFA"])


def test_d3_publication_within_ten_working_days(api, prepared_db, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    _forward(api, case_id)
    _bodies(api, case_id)
    _publication(api, case_id)  # OHCHR published on 30 April: 10 working days end on Friday 17 May
    due = datetime(2024, 5, 17, 19, 0, tzinfo=UTC)
    _breach(api, prepared_db, clock, case_id, "D3", due, [("publish_on_website", None)], ["MFA"])


def test_d4_report_within_ten_working_days_of_sending(api, prepared_db, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    _forward(api, case_id)
    _bodies(api, case_id)
    _done(api, case_id, "hold_meeting")
    _reply(api, case_id)  # sent on 10 May
    due = datetime(2024, 5, 24, 19, 0, tzinfo=UTC)
    _breach(api, prepared_db, clock, case_id, "D4", due, [("report_results", None)], ["MFA"])


def test_every_step_in_time_leaves_no_breach(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    _forward(api, case_id)
    _done(api, case_id, "ombudsman_acknowledge_communication")
    _bodies(api, case_id)
    _done(api, case_id, "hold_meeting")
    _publication(api, case_id)
    _done(api, case_id, "publish_on_website")
    _reply(api, case_id)
    for spec in ("report_results", "pa_acknowledge_report", "ombudsman_acknowledge_report"):
        _done(api, case_id, spec)

    case = api.get("auditor", f"/api/instances/{case_id}").json()
    assert case["status"] == "completed" and case["overdue"] == [] and case["tasks"] == []
    history = _history(api, case_id)
    assert [e for e in history if e["type"] == "deadline_breached"] == []
    governed = [e["payload"] for e in history if e["type"] == "task_completed" and "deadline" in e["payload"]]
    assert {p["deadline"] for p in governed} == {"D1", "D2", "D3", "D4", "D5"}
    assert all(p["late"] is False for p in governed), governed

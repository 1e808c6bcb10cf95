"""Chapter 2-1 norm by norm, through the HTTP API with the demo users, refusals included.

Each test carries the norm parts it proves (`@pytest.mark.norm`); the traceability matrix
(`python -m app traceability`) reads those marks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.test_deadlines import fire_due
from tests.api.test_statutory_deadlines import PUBLISHED, _bodies, _done, _forward, _history, _iso, _reply
from tests.flow import FORMS, complete, open_task, register


def _case(api: Any, case_id: str) -> dict[str, Any]:
    r = api.get("auditor", f"/api/instances/{case_id}")
    assert r.status_code == 200, r.text
    return r.json()


def _publish(api: Any, case_id: str, **changes: Any) -> Any:
    return api.post(
        "mfa.officer",
        f"/api/instances/{case_id}/messages/ohchr_published",
        json={"data": {**PUBLISHED, **changes}},
    )


def _delegate(api: Any, org: str, head: str, user: str, start: str, end: str) -> Any:
    return api.post(
        head,
        f"/api/organisations/{org}/delegations",
        json={"user": user, "from": start, "to": end, "reason": "Annual leave of the first head"},
    )


def _completed_payloads(api: Any, case_id: str, spec: str) -> list[dict[str, Any]]:
    return [
        e["payload"] for e in _history(api, case_id) if e["type"] == "task_completed" and e["payload"]["task"] == spec
    ]


@pytest.mark.norm("14-5 ч.1", "14-5 ч.2")
def test_forwarding_to_every_selected_body_and_to_the_ombudsman_for_information(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    forward = open_task(api, case_id, "forward_communication")
    assert forward["deadline"] == "D1" and forward["due_date"] == "2024-03-29"
    # At least one competent body, and only existing state bodies.
    for bodies in ([], ["OMBUDSMAN"], ["NOPE"]):
        r = complete(api, forward, {**FORMS["forward_communication"], "bodies": bodies})
        assert r.status_code == 422, (bodies, r.text)
    r = complete(api, forward)
    assert r.status_code == 200, r.text
    created = sorted((t["task_spec"], t["organisation"]) for t in r.json()["next_tasks"])
    assert created == [
        ("ombudsman_acknowledge_communication", "OMBUDSMAN"),  # in the same step, so within D1 too
        ("prepare_information", "MINJUST"),
        ("prepare_information", "MVD"),
    ]
    # The Ombudsman's information inbox has the communication as registered, to acknowledge.
    inbox = api.get("ombudsman.officer", "/api/tasks").json()
    assert [t["task_spec"] for t in inbox] == ["ombudsman_acknowledge_communication"]
    seen = api.get("ombudsman.officer", f"/api/instances/{case_id}").json()
    assert seen["data"]["reference"] == "AL KAZ 1/2024" and "bodies" not in seen["data"]
    # Not blocked on: the bodies and the MFA go on while the Ombudsman has not acknowledged yet.
    _bodies(api, case_id)
    _done(api, case_id, "hold_meeting")
    assert open_task(api, case_id, "draft_reply")["state"] == "ready"
    _done(api, case_id, "ombudsman_acknowledge_communication")
    assert [t["task_spec"] for t in _case(api, case_id)["tasks"]] == ["draft_reply"]


@pytest.mark.norm("14-6")
def test_the_draft_reply_step_shows_every_bodys_signed_information(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    _forward(api, case_id)
    _done(api, case_id, "prepare_information", "MVD")
    _done(api, case_id, "sign_information", "MVD")
    r = complete(
        api,
        open_task(api, case_id, "prepare_information", "MINJUST"),
        {"information": "No complaint was filed.", "contact_person": "D. Officer"},
    )
    assert r.status_code == 200, r.text
    _done(api, case_id, "sign_information", "MINJUST")
    _done(api, case_id, "hold_meeting")
    draft = open_task(api, case_id, "draft_reply")
    detail = api.get("mfa.officer", f"/api/tasks/{draft['id']}").json()
    submissions = detail["data"]["body_submissions"]
    assert [(s["body"], s["information"]) for s in submissions] == [
        ("MVD", FORMS["prepare_information"]["information"]),
        ("MINJUST", "No complaint was filed."),
    ]
    assert [(s["signature"]["by"], s["signature"]["capacity"]) for s in submissions] == [
        ("mvd.head", "first_head"),
        ("minjust.head", "first_head"),
    ]


@pytest.mark.norm("14-7 ч.1")
def test_body_information_is_accepted_only_with_the_first_heads_or_an_acting_heads_signature(api, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    _forward(api, case_id)
    _done(api, case_id, "prepare_information", "MVD")
    sign = open_task(api, case_id, "sign_information", "MVD")
    # A body's officer cannot sign; neither can another body's head (it is not even visible to them).
    assert complete(api, sign, user="mvd.officer").status_code == 403
    assert complete(api, sign, user="minjust.head").status_code == 404
    assert complete(api, sign, user="mvd.deputy").status_code == 403
    # Delegations: only the first head (or an admin) grants them, to a member of the organisation.
    assert _delegate(api, "MVD", "mvd.officer", "mvd.deputy", "2024-03-18", "2024-03-22").status_code == 403
    assert _delegate(api, "MVD", "minjust.head", "mvd.deputy", "2024-03-18", "2024-03-22").status_code == 403
    r = _delegate(api, "MVD", "mvd.head", "mfa.officer", "2024-03-18", "2024-03-22")
    assert r.status_code == 422 and "not an officer of MVD" in r.text
    r = _delegate(api, "MVD", "mvd.head", "mvd.deputy", "2024-03-22", "2024-03-18")
    assert r.status_code == 422 and "before the first day" in r.text
    r = _delegate(api, "MVD", "mvd.head", "mvd.deputy", "2024-03-18", "2024-03-20")
    assert r.status_code == 201, r.text
    delegation = r.json()
    assert (delegation["user"], delegation["from"], delegation["to"]) == ("mvd.deputy", "2024-03-18", "2024-03-20")
    assert _delegate(api, "MVD", "admin", "mvd.officer", "2024-03-19", "2024-03-25").status_code == 409  # one at a time
    assert [d["id"] for d in api.get("mvd.officer", "/api/organisations/MVD/delegations").json()] == [delegation["id"]]
    assert api.get("minjust.officer", "/api/organisations/MVD/delegations").status_code == 404

    # While valid, the delegate sees the head's step and signs as acting head.
    assert [t["id"] for t in api.get("mvd.deputy", "/api/tasks").json()] == [sign["id"]]
    # After its last day it no longer counts (the clock moves to Thursday 21 March in Almaty).
    clock.set(datetime(2024, 3, 20, 19, 30, tzinfo=UTC))
    api._tokens.clear()
    r = complete(api, sign, user="mvd.deputy")
    assert r.status_code == 403 and "acting-head delegation valid today" in r.text
    clock.set(datetime(2024, 3, 20, 4, 0, tzinfo=UTC))
    api._tokens.clear()
    r = complete(api, sign, user="mvd.deputy")
    assert r.status_code == 200, r.text
    signed = _completed_payloads(api, case_id, "sign_information")[0]["signature"]
    assert signed["capacity"] == "acting_head" and signed["delegation"] == delegation["id"]
    assert signed["by"] == "mvd.deputy" and signed["on"] == "2024-03-20"

    # A revoked delegation stops at once; the head's own signature is recorded as such.
    r = api.post("mvd.head", f"/api/organisations/MVD/delegations/{delegation['id']}/revoke", json={"reason": "back"})
    assert r.status_code == 200 and r.json()["revoked_by"] == "mvd.head"
    assert (
        api.post("mvd.head", f"/api/organisations/MVD/delegations/{delegation['id']}/revoke", json={}).status_code
        == 409
    )
    _done(api, case_id, "prepare_information", "MINJUST")
    minjust_sign = open_task(api, case_id, "sign_information", "MINJUST")
    assert complete(api, minjust_sign).status_code == 200
    assert _completed_payloads(api, case_id, "sign_information")[1]["signature"]["capacity"] == "first_head"
    assert api.get("mvd.deputy", "/api/tasks").json() == []


@pytest.mark.norm("14-7 ч.2")
def test_the_meeting_needs_every_interested_body_at_head_of_subdivision_level_or_higher(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    _forward(api, case_id)
    _bodies(api, case_id)
    meeting = open_task(api, case_id, "hold_meeting")
    participants = FORMS["hold_meeting"]["participants"]
    below = [participants[0], {**participants[1], "level": "deputy_head_of_structural_subdivision"}]
    for refused in (below, participants[:1]):  # MINJUST too junior, or absent
        r = complete(api, meeting, {**FORMS["hold_meeting"], "participants": refused})
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["field"] == "participants" and "14-7 ч.2" in r.json()["detail"][0]["message"]
    above = [participants[0], {**participants[1], "level": "deputy_head"}]
    r = complete(api, meeting, {**FORMS["hold_meeting"], "participants": above})
    assert r.status_code == 200, r.text
    recorded = _completed_payloads(api, case_id, "hold_meeting")[0]["data"]
    assert recorded["meeting_date"] == "2024-04-25" and len(recorded["participants"]) == 2


@pytest.mark.norm("14-8 ч.1")
def test_the_reply_in_the_communications_language_signed_by_the_mfa_head_and_sent_before_d2(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api, language="fr")["id"]
    _forward(api, case_id)
    _bodies(api, case_id)
    _done(api, case_id, "hold_meeting")
    draft = open_task(api, case_id, "draft_reply")
    r = complete(api, draft, {**FORMS["draft_reply"], "reply_language": "en"})
    assert r.status_code == 422 and r.json()["detail"] == [
        {"field": "reply_language", "message": "14-8 ч.1: the reply must be in the language of the communication"}
    ]
    assert complete(api, draft, {**FORMS["draft_reply"], "reply_language": "fr"}).status_code == 200
    sign = open_task(api, case_id, "sign_reply")
    assert complete(api, sign, user="mfa.officer").status_code == 403
    assert complete(api, sign, user="mfa.deputy").status_code == 403
    assert _delegate(api, "MFA", "mfa.head", "mfa.deputy", "2024-03-19", "2024-03-19").status_code == 201
    assert complete(api, sign, user="mfa.deputy").status_code == 200  # acting head, for that day
    assert _completed_payloads(api, case_id, "sign_reply")[0]["signature"]["capacity"] == "acting_head"
    send = open_task(api, case_id, "send_reply")
    assert (send["deadline"], send["due_date"]) == ("D2", "2024-05-18")
    r = complete(api, send, {"note_verbale_number": "NV-13-1/123"})
    assert r.status_code == 422  # the sending date is required
    assert complete(api, send).status_code == 200
    sent = _completed_payloads(api, case_id, "send_reply")[0]
    assert sent["data"] == FORMS["send_reply"] and sent["late"] is False and sent["deadline"] == "D2"


@pytest.mark.norm("14-8 ч.2")
def test_each_ohchr_publication_opens_its_own_publication_with_d3(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    _forward(api, case_id)
    # OHCHR cannot have published a reply the MFA has not sent.
    r = _publish(api, case_id, item="reply")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "item"
    for bad in ({"item": "draft"}, {"url": "ftp://x"}, {"published_on": "2024-03-01"}):
        assert _publish(api, case_id, **bad).status_code == 422, bad
    assert _publish(api, case_id).status_code == 200
    task = open_task(api, case_id, "publish_on_website")
    # 10 working days after 30 April 2024: 1, 7, 8 (transferred) and 9 May are days off, Saturday 4 May works.
    assert (task["deadline"], task["due_date"]) == ("D3", "2024-05-17")
    # The MFA publishes the item OHCHR published, not another one.
    r = complete(api, task, {**FORMS["publish_on_website"], "item": "reply"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "item"
    r = complete(api, task, {**FORMS["publish_on_website"], "published_on": "2024-04-29"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "published_on"
    assert complete(api, task).status_code == 200
    recorded = _completed_payloads(api, case_id, "publish_on_website")[0]
    assert recorded["data"]["mfa_url"] == FORMS["publish_on_website"]["mfa_url"] and recorded["late"] is False


@pytest.mark.norm("14-9 ч.1", "14-9 ч.2")
def test_report_to_the_presidential_administration_and_to_the_ombudsman(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    _forward(api, case_id)
    _done(api, case_id, "ombudsman_acknowledge_communication")
    _bodies(api, case_id)
    _done(api, case_id, "hold_meeting")
    _reply(api, case_id)
    report = open_task(api, case_id, "report_results")
    assert (report["deadline"], report["due_date"]) == ("D4", "2024-05-24")
    r = complete(api, report)
    assert sorted((t["task_spec"], t["organisation"]) for t in r.json()["next_tasks"]) == [
        ("ombudsman_acknowledge_report", "OMBUDSMAN"),
        ("pa_acknowledge_report", "PA"),
    ]
    pa = api.get("pa.officer", f"/api/instances/{case_id}").json()
    assert pa["data"]["reference"] == "AL KAZ 1/2024"
    _done(api, case_id, "pa_acknowledge_report")
    _done(api, case_id, "ombudsman_acknowledge_report")
    assert _case(api, case_id)["status"] == "completed"


@pytest.mark.norm("14-5 ч.1", "14-6", "14-7 ч.1", "14-7 ч.2", "14-8 ч.1", "14-8 ч.2", "14-9 ч.1", "14-9 ч.2")
def test_a_complete_case_with_two_bodies_an_extension_two_publications_and_every_deadline_met(api, clock) -> None:  # type: ignore[no-untyped-def]
    def at(day: str) -> None:  # 10:00 in Almaty on that day
        clock.set(datetime.fromisoformat(f"{day}T05:00:00+00:00"))
        api._tokens.clear()

    case_id = register(api)["id"]
    at("2024-03-26")
    _forward(api, case_id)
    _done(api, case_id, "ombudsman_acknowledge_communication")
    at("2024-04-15")
    _bodies(api, case_id)
    _publish(api, case_id, published_on="2024-04-16")
    at("2024-04-25")
    _done(api, case_id, "hold_meeting")
    r = complete(
        api,
        open_task(api, case_id, "publish_on_website"),
        {**FORMS["publish_on_website"], "published_on": "2024-04-25"},
    )
    assert r.status_code == 200, r.text
    # Special procedures grant a month more: D2 moves and is re-armed.
    r = api.post(
        "mfa.officer",
        f"/api/instances/{case_id}/messages/deadline_extended",
        json={"data": {"reply_deadline": "2024-06-18", "note": "Letter of 2 May"}},
    )
    assert r.status_code == 200, r.text
    at("2024-06-10")
    _done(api, case_id, "draft_reply")
    _done(api, case_id, "sign_reply")
    r = complete(api, open_task(api, case_id, "send_reply"), {"note_verbale_number": "NV-1/7", "sent_on": "2024-06-10"})
    assert r.status_code == 200, r.text
    assert _publish(api, case_id, item="reply", published_on="2024-06-12").status_code == 200
    at("2024-06-20")
    _done(api, case_id, "report_results")
    published = {**FORMS["publish_on_website"], "item": "reply", "published_on": "2024-06-20"}
    assert complete(api, open_task(api, case_id, "publish_on_website"), published).status_code == 200
    _done(api, case_id, "pa_acknowledge_report")
    _done(api, case_id, "ombudsman_acknowledge_report")

    case = _case(api, case_id)
    assert case["status"] == "completed" and case["overdue"] == [] and case["tasks"] == []
    history = _history(api, case_id)
    assert [e for e in history if e["type"] == "deadline_breached"] == []
    rearmed = [e["payload"] for e in history if e["type"] == "timer_rearmed"]
    assert [(p["deadline"], p["due_at"]) for p in rearmed] == [("D2", "2024-06-18T19:00:00+00:00")]
    governed = [e["payload"] for e in history if e["type"] == "task_completed" and "deadline" in e["payload"]]
    assert sorted({p["deadline"] for p in governed}) == ["D1", "D2", "D3", "D4", "D5"]
    assert all(p["late"] is False for p in governed), governed
    assert len([p for p in governed if p["deadline"] == "D3"]) == 2


@pytest.mark.norm("14-5 ч.1", "14-9 ч.1")
def test_a_case_with_d1_and_d4_breached_escalates_and_records_the_late_acts(api, prepared_db, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    d1 = datetime(2024, 3, 29, 19, 0, tzinfo=UTC)
    assert "woke 1 case" in fire_due(prepared_db, _iso(d1))
    clock.set(d1 + timedelta(days=3))
    api._tokens.clear()
    _forward(api, case_id)  # late
    _bodies(api, case_id)
    _done(api, case_id, "hold_meeting")
    _reply(api, case_id)  # sent on 10 May: D4 ends on 24 May
    d4 = datetime(2024, 5, 24, 19, 0, tzinfo=UTC)
    assert "woke 1 case" in fire_due(prepared_db, _iso(d4))
    clock.set(d4 + timedelta(days=4))
    api._tokens.clear()
    _done(api, case_id, "report_results")  # late

    case = _case(api, case_id)
    assert case["overdue"] == ["D1", "D4"]
    assert sorted(t["task_spec"] for t in case["tasks"] if t["task_spec"].startswith("escalate")) == [
        "escalate_d1",
        "escalate_d4",
    ]
    history = _history(api, case_id)
    assert [e["payload"]["deadline"] for e in history if e["type"] == "deadline_breached"] == ["D1", "D4"]
    late = {e["payload"]["deadline"]: e["payload"]["late"] for e in history if "late" in e["payload"]}
    assert late["D1"] is True and late["D4"] is True and late["D2"] is False

"""The whole communication procedure over the JSON API, each step by the right demo user."""

from __future__ import annotations

from tests.flow import FORMS, complete, open_task, register


def test_full_case_from_registration_to_completion(api) -> None:  # type: ignore[no-untyped-def]
    case = register(api)
    assert case["business_key"] == "AL KAZ 1/2024"
    assert case["definition"]["key"] == "communication"
    assert case["status"] == "running"
    assert [t["task_spec"] for t in case["tasks"]] == ["forward_communication"]
    case_id = case["id"]

    # The MFA officer sees the forwarding task in the inbox; other organisations do not.
    inbox = api.get("mfa.officer", "/api/tasks").json()
    assert [t["task_spec"] for t in inbox] == ["forward_communication"]
    assert inbox[0]["business_key"] == "AL KAZ 1/2024" and inbox[0]["norm"] == "14-5 ч.1; 14-5 ч.2"
    assert api.get("mvd.officer", "/api/tasks").json() == []

    # The forwarding form offers exactly the state bodies.
    detail = api.get("mfa.officer", f"/api/tasks/{inbox[0]['id']}").json()
    assert detail["form_schema"]["properties"]["bodies"]["items"]["enum"] == ["MINJUST", "MVD"]
    assert detail["can_act"] is True

    r = complete(api, inbox[0])
    assert r.status_code == 200, r.text
    next_specs = sorted((t["task_spec"], t["organisation"]) for t in r.json()["next_tasks"])
    assert next_specs == [
        ("ombudsman_acknowledge_communication", "OMBUDSMAN"),
        ("prepare_information", "MINJUST"),
        ("prepare_information", "MVD"),
    ]

    # Each body's officer sees only their own body's task.
    mvd_inbox = api.get("mvd.officer", "/api/tasks").json()
    assert [(t["task_spec"], t["organisation"]) for t in mvd_inbox] == [("prepare_information", "MVD")]
    assert [t["organisation"] for t in api.get("minjust.officer", "/api/tasks").json()] == ["MINJUST"]
    assert [t["task_spec"] for t in api.get("ombudsman.officer", "/api/tasks").json()] == [
        "ombudsman_acknowledge_communication"
    ]

    assert complete(api, open_task(api, case_id, "ombudsman_acknowledge_communication")).status_code == 200
    for body in ("MVD", "MINJUST"):
        assert complete(api, open_task(api, case_id, "prepare_information", body)).status_code == 200
        sign = open_task(api, case_id, "sign_information", body)
        assert sign["candidate_role"] == "head"
        # The head's inbox has it; the officer's does not.
        head = "mvd.head" if body == "MVD" else "minjust.head"
        officer = "mvd.officer" if body == "MVD" else "minjust.officer"
        assert [t["id"] for t in api.get(head, "/api/tasks").json()] == [sign["id"]]
        assert api.get(officer, "/api/tasks").json() == []
        assert complete(api, sign).status_code == 200

    meeting = open_task(api, case_id, "hold_meeting")
    r = complete(api, meeting)
    assert r.status_code == 200, r.text
    submissions = r.json()["instance"]["data"]["body_submissions"]
    assert [s["body"] for s in submissions] == ["MVD", "MINJUST"]
    assert submissions[0]["information"] == FORMS["prepare_information"]["information"]

    # An OHCHR publication can arrive mid-case; it opens a publication task for the MFA.
    r = api.post(
        "mfa.officer",
        f"/api/instances/{case_id}/messages/ohchr_published",
        json={
            "data": {"item": "communication", "published_on": "2024-04-30", "url": "https://spcommreports.ohchr.org/1"}
        },
    )
    assert r.status_code == 200, r.text
    assert complete(api, open_task(api, case_id, "publish_on_website")).status_code == 200

    # The head sends the draft back once; the officer redrafts; the head signs.
    assert complete(api, open_task(api, case_id, "draft_reply")).status_code == 200
    r = complete(api, open_task(api, case_id, "sign_reply"), {"approved": False, "comment": "Shorten it"})
    assert r.status_code == 200
    assert [t["task_spec"] for t in r.json()["next_tasks"]] == ["draft_reply"]
    assert complete(api, open_task(api, case_id, "draft_reply")).status_code == 200
    assert complete(api, open_task(api, case_id, "sign_reply")).status_code == 200

    for spec in ("send_reply", "report_results", "pa_acknowledge_report"):
        assert complete(api, open_task(api, case_id, spec)).status_code == 200, spec
    r = complete(api, open_task(api, case_id, "ombudsman_acknowledge_report"))
    assert r.status_code == 200
    final = r.json()["instance"]
    assert final["status"] == "completed" and final["tasks"] == [] and final["completed_at"]

    # The history records every step with who did it and what they submitted.
    history = api.get("auditor", f"/api/instances/{case_id}/history").json()
    assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
    assert history[0]["type"] == "communication_registered"
    completed = [e for e in history if e["type"] == "task_completed"]
    assert len(completed) == 16
    assert {e["actor"] for e in completed} == {
        "mfa.officer",
        "mfa.head",
        "mvd.officer",
        "mvd.head",
        "minjust.officer",
        "minjust.head",
        "ombudsman.officer",
        "pa.officer",
    }
    sign_events = [e for e in completed if e["payload"]["task"] == "sign_information"]
    assert {e["actor"] for e in sign_events} == {"mvd.head", "minjust.head"}
    assert all(e["definition"] == {"key": "communication", "version": 1} for e in history)
    assert history[-1]["type"] == "instance_completed"
    for prev, event in zip(history, history[1:], strict=False):
        assert event["prev_hash"] == prev["hash"]

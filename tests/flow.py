"""Shared steps of the communication case, as the demo users perform them over HTTP."""

from __future__ import annotations

from typing import Any

REGISTRATION = {
    "reference": "AL KAZ 1/2024",
    "type": "AL",
    "received_on": "2024-03-19",
    "language": "en",
    "reply_deadline": "2024-05-18",
    "subject": "Alleged arbitrary detention of a human rights defender",
    "mandates": ["Special Rapporteur on the situation of human rights defenders"],
}

FORMS: dict[str, dict[str, Any]] = {
    "forward_communication": {
        "bodies": ["MVD", "MINJUST"],
        "information_due_on": "2024-04-19",
        "cover_note": "Please provide information",
    },
    "ombudsman_acknowledge_communication": {"acknowledged": True},
    "prepare_information": {"information": "The person was released on 20 March.", "contact_person": "A. Officer"},
    "sign_information": {"approved": True},
    "hold_meeting": {
        "meeting_date": "2024-04-25",
        "minutes": "Agreed the draft.",
        "participants": [
            {
                "full_name": "B. Head",
                "organisation": "MVD",
                "position": "Head of department",
                "level": "head_of_structural_subdivision",
            },
            {
                "full_name": "C. Head",
                "organisation": "MINJUST",
                "position": "Head of department",
                "level": "head_of_structural_subdivision",
            },
        ],
    },
    "draft_reply": {"reply_language": "en", "reply_text": "The Government of Kazakhstan has the honour ..."},
    "sign_reply": {"approved": True},
    "send_reply": {"note_verbale_number": "NV-13-1/123", "sent_on": "2024-05-10"},
    "report_results": {"report_summary": "Reply sent on 10 May.", "reported_on": "2024-05-15"},
    "pa_acknowledge_report": {"acknowledged": True},
    "ombudsman_acknowledge_report": {"acknowledged": True},
    "publish_on_website": {
        "item": "communication",
        "mfa_url": "https://www.gov.kz/memleket/entities/mfa/press/1",
        "published_on": "2024-06-03",
    },
}

# What the service adds to a signature step's data (tasks._signature); engine-level tests add it themselves.
SIGNED = {"by": "mvd.head", "name": "MVD first head", "on": "2024-04-10", "capacity": "first_head"}
ENGINE_EXTRA = {"sign_information": {"information_signature": SIGNED}, "sign_reply": {"reply_signature": SIGNED}}


def engine_data(spec: str) -> dict[str, Any]:
    """A step's form data as the service hands it to the engine."""
    return {**FORMS[spec], **ENGINE_EXTRA.get(spec, {})}


# Who does each step: (organisation's officer, or head for signatures).
ACTOR = {
    "forward_communication": "mfa.officer",
    "ombudsman_acknowledge_communication": "ombudsman.officer",
    "hold_meeting": "mfa.officer",
    "draft_reply": "mfa.officer",
    "sign_reply": "mfa.head",
    "send_reply": "mfa.officer",
    "report_results": "mfa.officer",
    "pa_acknowledge_report": "pa.officer",
    "ombudsman_acknowledge_report": "ombudsman.officer",
    "publish_on_website": "mfa.officer",
}
BODY_ACTOR = {
    ("MVD", "prepare_information"): "mvd.officer",
    ("MVD", "sign_information"): "mvd.head",
    ("MINJUST", "prepare_information"): "minjust.officer",
    ("MINJUST", "sign_information"): "minjust.head",
}


def actor_for(task: dict[str, Any]) -> str:
    return BODY_ACTOR.get((task["organisation"], task["task_spec"])) or ACTOR[task["task_spec"]]


def register(api: Any, **changes: Any) -> dict[str, Any]:
    r = api.post("mfa.officer", "/api/communications", json={**REGISTRATION, **changes})
    assert r.status_code == 201, r.text
    return r.json()


def open_task(api: Any, case_id: str, spec: str, organisation: str | None = None) -> dict[str, Any]:
    r = api.get("auditor", f"/api/instances/{case_id}")
    assert r.status_code == 200, r.text
    found = [
        t
        for t in r.json()["tasks"]
        if t["task_spec"] == spec and (organisation is None or t["organisation"] == organisation)
    ]
    assert len(found) == 1, (spec, organisation, r.json()["tasks"])
    return found[0]


def complete(api: Any, task: dict[str, Any], data: dict[str, Any] | None = None, user: str | None = None) -> Any:
    return api.post(
        user or actor_for(task),
        f"/api/tasks/{task['id']}/complete",
        json={"data": FORMS[task["task_spec"]] if data is None else data},
    )


def complete_as(api: Any, user: str, task: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Complete a task as `user` and insist it worked: the answer (instance, next tasks)."""
    r = api.post(user, f"/api/tasks/{task['id']}/complete", json={"data": data})
    assert r.status_code == 200, (task["task_spec"], user, r.text)
    return r.json()

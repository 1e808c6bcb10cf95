"""Bad input gets a 4xx that says what to fix, and nothing is written."""

from __future__ import annotations

import pytest

from tests.flow import REGISTRATION, complete, open_task, register


def _no_cases(api) -> None:  # type: ignore[no-untyped-def]
    r = api.get("auditor", "/api/instances")
    assert r.json() == [] and r.headers["X-Total-Count"] == "0"


@pytest.mark.parametrize(
    "reference",
    [
        "AL-KAZ-1/2024",
        "AL KAZ 1",
        "AL KAZ 0/2024",
        "XX KAZ 1/2024",
        "AL RUS 1/2024",
        "AL KAZ 1/1999",
        "al kaz 1/2024",
        "",
    ],
)
def test_malformed_references_are_refused(api, reference: str) -> None:  # type: ignore[no-untyped-def]
    r = api.post("mfa.officer", "/api/communications", json={**REGISTRATION, "reference": reference})
    assert r.status_code == 422, r.text
    assert any(e["field"] == "reference" for e in r.json()["detail"])
    _no_cases(api)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "UA"}, "type"),
        ({"received_on": "2024-03-20"}, "received_on"),  # the test clock says today is 19 March 2024
        ({"reply_deadline": "2024-03-19"}, "reply_deadline"),
        ({"language": "kk"}, "language"),
        ({"subject": "   "}, "subject"),
        ({"mandates": []}, "mandates"),
        ({"received_on": "yesterday"}, "received_on"),
        ({"mandates": "Special Rapporteur"}, "mandates"),
        ({"reference": 12}, "reference"),
        ({"unexpected": "field"}, "unexpected"),
    ],
)
def test_invalid_registration_data(api, change: dict, field: str) -> None:  # type: ignore[no-untyped-def, type-arg]
    r = api.post("mfa.officer", "/api/communications", json={**REGISTRATION, **change})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert any(e["field"] == field for e in detail), detail
    assert all(e["message"] for e in detail)
    _no_cases(api)


def test_missing_fields_and_non_json(api) -> None:  # type: ignore[no-untyped-def]
    r = api.post("mfa.officer", "/api/communications", json={"reference": "AL KAZ 1/2024"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["detail"]} >= {"type", "received_on", "language", "reply_deadline"}
    r = api.post(
        "mfa.officer", "/api/communications", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    _no_cases(api)


def test_duplicate_reference_is_409(api) -> None:  # type: ignore[no-untyped-def]
    register(api)
    r = api.post("mfa.officer", "/api/communications", json=REGISTRATION)
    assert r.status_code == 409 and "already registered" in r.json()["detail"]
    assert api.get("auditor", "/api/instances").headers["X-Total-Count"] == "1"


def test_oversized_body_is_413(api) -> None:  # type: ignore[no-untyped-def]
    big = {**REGISTRATION, "subject": "x" * (2 * 1024 * 1024)}
    r = api.post("mfa.officer", "/api/communications", json=big)
    assert r.status_code == 413 and "larger than" in r.json()["detail"]
    _no_cases(api)


def test_task_data_is_checked_against_the_form(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    task = open_task(api, case_id, "forward_communication")
    cases = [
        ({"information_due_on": "2024-04-19"}, "(form)"),  # bodies missing
        ({"bodies": [], "information_due_on": "2024-04-19"}, "bodies"),  # at least one body
        ({"bodies": ["MVD"], "information_due_on": "19.04.2024"}, "information_due_on"),
        ({"bodies": ["NOPE"], "information_due_on": "2024-04-19"}, "bodies/0"),  # not a state body
        ({"bodies": ["MFA"], "information_due_on": "2024-04-19"}, "bodies/0"),  # an organisation, not a body
        ({"bodies": ["MVD"], "information_due_on": "2024-05-19"}, "information_due_on"),  # after the reply deadline
        ({"bodies": ["MVD"], "information_due_on": "2024-04-19", "extra": 1}, "(form)"),
        ({"bodies": "MVD", "information_due_on": "2024-04-19"}, "bodies"),
        ({"bodies": ["MVD"], "information_due_on": "2024-04-19", "typename": "x"}, "typename"),
        ({"bodies": ["MVD"], "information_due_on": "2024-04-19", "_x": 1}, "_x"),
    ]
    for data, field in cases:
        r = complete(api, task, data)
        assert r.status_code == 422, (data, r.text)
        assert any(e["field"] == field for e in r.json()["detail"]), (data, r.json())
    r = api.post("mfa.officer", f"/api/tasks/{task['id']}/complete", json={"data": {}, "other": 1})
    assert r.status_code == 422
    # Nothing moved: the task is still open and the history has no completion.
    assert open_task(api, case_id, "forward_communication")["state"] == "ready"
    history = api.get("auditor", f"/api/instances/{case_id}/history").json()
    assert "task_completed" not in [e["type"] for e in history]


def test_completing_twice_is_409(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    task = open_task(api, case_id, "forward_communication")
    assert complete(api, task).status_code == 200
    r = complete(api, task)
    assert r.status_code == 409 and "completed" in r.json()["detail"]


def test_unknown_ids_are_404(api) -> None:  # type: ignore[no-untyped-def]
    assert api.get("mfa.officer", "/api/tasks/nope").status_code == 404
    assert api.get("mfa.officer", "/api/instances/nope").status_code == 404
    assert api.get("mfa.officer", "/api/definitions/nope").status_code == 404
    r = api.post("mfa.officer", "/api/processes/nope/instances", json={})
    assert r.status_code == 404

"""Messages from outside (OHCHR publications) and server restarts in the middle of cases."""

from __future__ import annotations

from app.engine import definitions_cache
from tests.flow import FORMS, complete, open_task, register

PUBLISHED = {"item": "communication", "published_on": "2024-04-30", "url": "https://spcommreports.ohchr.org/1"}


def _run_to_end(api, case_id: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """Complete whatever is open until the case ends (every step by its right user)."""
    for _ in range(40):
        case = api.get("auditor", f"/api/instances/{case_id}").json()
        if case["status"] == "completed":
            return case
        task = case["tasks"][0]
        r = complete(api, task)
        assert r.status_code == 200, (task["task_spec"], r.text)
    raise AssertionError("case did not end")


def _message(api, case_id: str, user: str = "mfa.officer", data: dict | None = None):  # type: ignore[no-untyped-def, type-arg]
    return api.post(user, f"/api/instances/{case_id}/messages/ohchr_published", json={"data": data or PUBLISHED})


def test_messages_in_one_case_do_not_leak_into_the_next(api) -> None:  # type: ignore[no-untyped-def]
    first = register(api)["id"]
    assert _message(api, first).status_code == 200
    # OHCHR republished the communication (a corrected page): each publication is its own task.
    assert _message(api, first, data={**PUBLISHED, "published_on": "2024-05-02"}).status_code == 200
    publish = [
        t
        for t in api.get("auditor", f"/api/instances/{first}").json()["tasks"]
        if t["task_spec"] == "publish_on_website"
    ]
    assert len(publish) == 2
    # A case started after the message has no publication task of its own and completes normally.
    second = register(api, reference="UA KAZ 2/2024", type="UA")
    assert [t["task_spec"] for t in second["tasks"]] == ["forward_communication"]
    assert _run_to_end(api, second["id"])["status"] == "completed"
    assert _run_to_end(api, first)["status"] == "completed"


def test_a_publication_after_completion_reopens_the_case(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    assert _run_to_end(api, case_id)["status"] == "completed"
    r = _message(api, case_id, data={**PUBLISHED, "item": "reply"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "running" and r.json()["completed_at"] is None
    task = open_task(api, case_id, "publish_on_website")
    r = complete(api, task, {**FORMS["publish_on_website"], "item": "reply"})
    assert r.json()["instance"]["status"] == "completed"
    types = [e["type"] for e in api.get("auditor", f"/api/instances/{case_id}/history").json()]
    # The publication task carries its own D3 deadline, armed with it and disarmed when it is done.
    assert types[-7:] == [
        "message_received",
        "instance_reopened",
        "task_created",
        "timer_armed",
        "task_completed",
        "timer_disarmed",
        "instance_completed",
    ]


def test_message_errors(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    r = api.post("mfa.officer", f"/api/instances/{case_id}/messages/no_such_message", json={"data": {}})
    assert r.status_code == 404 and "ohchr_published" in r.json()["detail"]
    assert _message(api, case_id, user="mvd.officer").status_code == 404  # cannot see the case
    assert _message(api, case_id, user="auditor").status_code == 403
    r = _message(api, case_id, data={"typename": "x"})
    assert r.status_code == 422
    assert (
        api.post(
            "mfa.officer", f"/api/instances/{case_id}/messages/ohchr_published", json={"data": {}, "extra": 1}
        ).status_code
        == 422
    )
    assert (
        api.post(
            "mfa.officer",
            "/api/instances/00000000-0000-0000-0000-000000000000/messages/ohchr_published",
            json={"data": {}},
        ).status_code
        == 404
    )


def test_restart_in_the_middle_changes_nothing(app_factory) -> None:  # type: ignore[no-untyped-def]
    api = app_factory()
    case_id = register(api)["id"]
    complete(api, open_task(api, case_id, "forward_communication"))
    complete(api, open_task(api, case_id, "prepare_information", "MVD"))
    assert _message(api, case_id).status_code == 200
    before = api.get("auditor", f"/api/instances/{case_id}").json()
    token = api.headers("mvd.head")

    # A new process: nothing in memory, same database file.
    definitions_cache.clear()
    api2 = app_factory()
    api2._tokens["mvd.head"] = token["Authorization"].split()[1]  # tokens survive restarts
    after = api2.get("auditor", f"/api/instances/{case_id}").json()
    assert after == before
    assert [t["task_spec"] for t in api2.get("mvd.head", "/api/tasks").json()] == ["sign_information"]
    assert complete(api2, open_task(api2, case_id, "publish_on_website")).status_code == 200
    final = _run_to_end(api2, case_id)
    assert [s["body"] for s in final["data"]["body_submissions"]] == ["MVD", "MINJUST"]
    assert final["data"]["body_submissions"][0]["information"] == FORMS["prepare_information"]["information"]

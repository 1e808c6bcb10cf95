"""Claiming, releasing and filtering tasks."""

from __future__ import annotations

from tests.flow import complete, open_task, register


def test_claim_unclaim_and_inbox_filters(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    other_id = register(api, reference="UA KAZ 2/2024", type="UA")["id"]
    task = open_task(api, case_id, "forward_communication")

    r = api.post("mfa.officer", f"/api/tasks/{task['id']}/claim")
    assert r.status_code == 200 and r.json()["assignee"] == "mfa.officer"
    assert api.post("mfa.officer", f"/api/tasks/{task['id']}/claim").status_code == 200  # idempotent
    # The head no longer sees it in the inbox and cannot take or complete it.
    assert task["id"] not in [t["id"] for t in api.get("mfa.head", "/api/tasks").json()]
    r = api.post("mfa.head", f"/api/tasks/{task['id']}/claim")
    assert r.status_code == 409 and "mfa.officer" in r.json()["detail"]
    assert complete(api, task, user="mfa.head").status_code == 409

    mine = api.get("mfa.officer", "/api/tasks", params={"assignee": "me"}).json()
    assert [t["id"] for t in mine] == [task["id"]]
    only_other = api.get("mfa.officer", "/api/tasks", params={"instance_id": other_id}).json()
    assert [t["instance_id"] for t in only_other] == [other_id]
    page = api.get("mfa.officer", "/api/tasks", params={"page": 2, "page_size": 1})
    assert len(page.json()) == 1 and page.headers["X-Total-Count"] == "2"
    assert api.get("mfa.officer", "/api/tasks", params={"page": 0}).status_code == 422

    # A head may release a claim; an officer of another organisation cannot even see it.
    assert api.post("mvd.officer", f"/api/tasks/{task['id']}/unclaim").status_code == 404
    r = api.post("mfa.head", f"/api/tasks/{task['id']}/unclaim")
    assert r.status_code == 200 and r.json()["assignee"] is None
    assert complete(api, task, user="mfa.head").status_code == 200
    assert api.post("mfa.officer", f"/api/tasks/{task['id']}/claim").status_code == 409

    types = [e["type"] for e in api.get("auditor", f"/api/instances/{case_id}/history").json()]
    assert types.count("task_claimed") == 1 and types.count("task_unclaimed") == 1


def test_generic_start_and_minimal_process(api) -> None:  # type: ignore[no-untyped-def]
    r = api.post("mfa.officer", "/api/processes/communication/instances", json={"data": {}})
    assert r.status_code == 422 and "POST /api/communications" in r.json()["detail"]
    assert api.post("mvd.officer", "/api/processes/minimal/instances", json={}).status_code == 403
    r = api.post("mfa.officer", "/api/processes/minimal/instances", json={"business_key": "M-1", "data": {"x": 1}})
    assert r.status_code == 201
    case = r.json()
    assert case["business_key"] == "M-1" and case["data"] == {"x": 1}
    r = complete(api, case["tasks"][0], {"go": False}, user="mfa.officer")
    assert r.status_code == 200 and r.json()["instance"]["status"] == "completed"
    listed = api.get("auditor", "/api/instances", params={"business_key": "M-1", "status": "completed"}).json()
    assert [c["id"] for c in listed] == [case["id"]]
    assert api.get("auditor", "/api/instances", params={"status": "nonsense"}).status_code == 422

"""The auditor reads everything, changes nothing, and every one of their reads is itself recorded
(in the case-less chain, so that a case's own chain and its replay are untouched)."""

from __future__ import annotations

from tests.audit.test_replay import _case_less
from tests.flow import FORMS, open_task, register


def test_an_auditor_reads_every_case_and_is_recorded_doing_so(api, prepared_db) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    task = open_task(api, case_id, "forward_communication")  # read as the auditor (tests.flow does)
    history_before = api.get("mfa.officer", f"/api/instances/{case_id}/history").json()

    assert api.get("auditor", "/api/instances").status_code == 200
    assert api.get("auditor", f"/api/instances/{case_id}/history").status_code == 200
    assert api.get("auditor", f"/api/tasks/{task['id']}").status_code == 200
    assert api.get("auditor", "/api/organisations/MVD/delegations").status_code == 200

    viewed = _case_less(prepared_db, "audit_viewed")
    views = [(p["view"], p.get("instance_id")) for p in viewed]
    assert ("instance", case_id) in views and ("history", case_id) in views and ("task", case_id) in views
    assert ("instances", None) in views and ("delegations", None) in views
    listed = next(p for p in viewed if p["view"] == "instances")
    assert case_id in listed["instance_ids"]
    # Other users' reads are not recorded; the case's own chain did not grow by any of these reads.
    count = len(viewed)
    api.get("mfa.officer", f"/api/instances/{case_id}")
    assert len(_case_less(prepared_db, "audit_viewed")) == count
    assert api.get("mfa.officer", f"/api/instances/{case_id}/history").json() == history_before


def test_an_auditor_changes_nothing(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    task = open_task(api, case_id, "forward_communication")
    refused = [
        api.post("auditor", f"/api/tasks/{task['id']}/claim"),
        api.post("auditor", f"/api/tasks/{task['id']}/complete", json={"data": FORMS["forward_communication"]}),
        api.post("auditor", f"/api/instances/{case_id}/messages/ohchr_published", json={"data": {}}),
        api.post(
            "auditor",
            f"/api/communications/{case_id}/deadline-extension",
            json={"reply_deadline": "2024-06-18", "note": ""},
        ),
        api.post("auditor", "/api/processes/minimal/instances", json={"data": {}}),
        api.post("auditor", "/api/communications", json={}),
    ]
    assert all(r.status_code in (403, 404, 422) for r in refused), [(r.status_code, r.text) for r in refused]
    assert [r.status_code for r in refused[:4]] == [403, 403, 403, 403]
    assert open_task(api, case_id, "forward_communication")["assignee"] is None


def test_the_audit_routes_are_described(api) -> None:  # type: ignore[no-untyped-def]
    paths = api.client.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/api/audit/verify", "get"),
        ("/api/audit/anchor", "get"),
        ("/api/audit/anchor/check", "post"),
        ("/api/instances/{instance_id}/states", "get"),
        ("/api/instances/{instance_id}/history.json", "get"),
        ("/api/instances/{instance_id}/history.csv", "get"),
        ("/api/export/xes", "get"),
        ("/api/reports/compliance", "get"),
    ]:
        assert method in paths.get(path, {}), (path, method)

"""Who may see and do what: organisations, roles, tokens."""

from __future__ import annotations

from datetime import timedelta

from tests.flow import complete, open_task, register


def _forwarded(api) -> str:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    assert complete(api, open_task(api, case_id, "forward_communication")).status_code == 200
    return case_id


def test_requests_without_a_valid_token_get_401(api) -> None:  # type: ignore[no-untyped-def]
    for url in ("/api/tasks", "/api/instances", "/api/definitions"):
        r = api.client.get(url)
        assert r.status_code == 401 and "log in" in r.json()["detail"]
        assert r.headers["WWW-Authenticate"] == "Bearer"
    r = api.client.get("/api/tasks", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    r = api.client.post("/api/auth/token", data={"username": "mfa.officer", "password": "wrong-password"})
    assert r.status_code == 401 and r.json()["detail"] == "wrong username or password"
    r = api.client.post("/api/auth/token", data={"username": "nobody", "password": "wrong-password"})
    assert r.status_code == 401 and r.json()["detail"] == "wrong username or password"


def test_tokens_expire(api, clock) -> None:  # type: ignore[no-untyped-def]
    headers = api.headers("mfa.officer")
    assert api.client.get("/api/tasks", headers=headers).status_code == 200
    clock.advance(timedelta(hours=8, seconds=1))
    r = api.client.get("/api/tasks", headers=headers)
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_other_organisations_get_404_for_a_task(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    task = open_task(api, case_id, "forward_communication")
    for user in ("mvd.officer", "mvd.head", "ombudsman.officer", "pa.officer", "analyst"):
        assert api.get(user, f"/api/tasks/{task['id']}").status_code == 404, user
        assert complete(api, task, user=user).status_code == 404, user
        assert api.post(user, f"/api/tasks/{task['id']}/claim").status_code == 404, user
    # MVD's task is invisible to MINJUST even in the same case.
    complete(api, task)
    mvd_task = open_task(api, case_id, "prepare_information", "MVD")
    assert api.get("minjust.officer", f"/api/tasks/{mvd_task['id']}").status_code == 404
    assert complete(api, mvd_task, user="minjust.officer").status_code == 404
    assert open_task(api, case_id, "prepare_information", "MVD")["state"] == "ready"


def test_signature_steps_refuse_officers_with_403(api) -> None:  # type: ignore[no-untyped-def]
    case_id = _forwarded(api)
    assert complete(api, open_task(api, case_id, "prepare_information", "MVD")).status_code == 200
    sign = open_task(api, case_id, "sign_information", "MVD")
    r = complete(api, sign, user="mvd.officer")
    assert r.status_code == 403
    assert "head" in r.json()["detail"] and "MVD" in r.json()["detail"]
    detail = api.get("mvd.officer", f"/api/tasks/{sign['id']}").json()
    assert detail["can_act"] is False and detail["state"] == "ready"
    # Auditors may look, never act.
    assert api.get("auditor", f"/api/tasks/{sign['id']}").status_code == 200
    assert complete(api, sign, user="auditor").status_code == 403
    assert complete(api, sign, user="mvd.head").status_code == 200


def test_mfa_reply_signature_needs_the_mfa_head(api) -> None:  # type: ignore[no-untyped-def]
    case_id = _forwarded(api)
    for body in ("MVD", "MINJUST"):
        complete(api, open_task(api, case_id, "prepare_information", body))
        complete(api, open_task(api, case_id, "sign_information", body))
    complete(api, open_task(api, case_id, "hold_meeting"))
    complete(api, open_task(api, case_id, "draft_reply"))
    sign = open_task(api, case_id, "sign_reply")
    assert complete(api, sign, user="mfa.officer").status_code == 403
    assert complete(api, sign, user="mvd.head").status_code == 404
    assert complete(api, sign, user="mfa.head").status_code == 200


def test_a_head_may_do_an_officers_task(api) -> None:  # type: ignore[no-untyped-def]
    case_id = _forwarded(api)
    task = open_task(api, case_id, "prepare_information", "MVD")
    assert task["id"] in [t["id"] for t in api.get("mvd.head", "/api/tasks").json()]
    assert complete(api, task, user="mvd.head").status_code == 200


def test_case_visibility_follows_tasks(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    register(api, reference="UA KAZ 2/2024", type="UA")
    for user in ("mfa.officer", "mfa.head", "auditor", "admin"):
        assert api.get(user, f"/api/instances/{case_id}").status_code == 200, user
    for user in ("mvd.officer", "ombudsman.officer", "pa.officer"):
        assert api.get(user, f"/api/instances/{case_id}").status_code == 404, user
        assert api.get(user, f"/api/instances/{case_id}/history").status_code == 404, user
    assert api.get("mvd.officer", "/api/instances").json() == []
    complete(api, open_task(api, case_id, "forward_communication"))
    # Now MVD, MINJUST and the Ombudsman have tasks in the case, so they see it; PA does not yet.
    assert api.get("mvd.officer", f"/api/instances/{case_id}").status_code == 200
    assert api.get("ombudsman.officer", f"/api/instances/{case_id}").status_code == 200
    assert api.get("pa.officer", f"/api/instances/{case_id}").status_code == 404
    listed = api.get("mvd.officer", "/api/instances")
    assert [c["id"] for c in listed.json()] == [case_id] and listed.headers["X-Total-Count"] == "1"
    assert api.get("mfa.officer", "/api/instances").headers["X-Total-Count"] == "2"


def test_only_mfa_officers_register_communications(api) -> None:  # type: ignore[no-untyped-def]
    from tests.flow import REGISTRATION

    for user in ("mvd.officer", "analyst", "auditor", "ombudsman.officer"):
        r = api.post(user, "/api/communications", json=REGISTRATION)
        assert r.status_code == 403, user
    assert api.get("auditor", "/api/instances").json() == []


def test_a_body_does_not_see_what_other_organisations_submit(api) -> None:  # type: ignore[no-untyped-def]
    case_id = _forwarded(api)
    secret = {"information": "CONFIDENTIAL MINJUST information", "contact_person": "M. Secret, +7 700 000"}
    assert complete(api, open_task(api, case_id, "prepare_information", "MINJUST"), secret).status_code == 200
    complete(api, open_task(api, case_id, "sign_information", "MINJUST"))

    case = api.get("mvd.officer", f"/api/instances/{case_id}").json()
    assert {t["organisation"] for t in case["tasks"]} == {"MVD"}
    assert case["data"]["reference"] == "AL KAZ 1/2024" and "bodies" not in case["data"]
    listed = api.get("mvd.officer", "/api/instances").json()
    assert {t["organisation"] for t in listed[0]["tasks"]} == {"MVD"}
    history = api.get("mvd.officer", f"/api/instances/{case_id}/history").json()
    leaked = [e for e in history if "CONFIDENTIAL" in str(e) or "M. Secret" in str(e)]
    assert leaked == []
    assert all(e["payload"].get("organisation", "MVD") == "MVD" for e in history)
    mvd_task = open_task(api, case_id, "prepare_information", "MVD")
    detail = api.get("mvd.officer", f"/api/tasks/{mvd_task['id']}").json()
    assert detail["data"]["body"] == "MVD" and "CONFIDENTIAL" not in str(detail)
    r = complete(api, mvd_task)
    assert "CONFIDENTIAL" not in r.text
    assert {t["organisation"] for t in r.json()["next_tasks"]} == {"MVD"}

    # The MFA, which prepares the reply from all bodies' information, and auditors see it all.
    assert "CONFIDENTIAL" in str(api.get("mfa.officer", f"/api/instances/{case_id}/history").json())
    assert "CONFIDENTIAL" in str(api.get("auditor", f"/api/instances/{case_id}/history").json())

"""Hostile or careless input: each refusal is a 4xx with a message, never a 500, nothing half-written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.bpmn_builder import diagram, script_task, user_task
from tests.flow import REGISTRATION, complete, open_task, register


def _deploy(api, content: bytes, forms: dict[str, bytes] | None = None):  # type: ignore[no-untyped-def]
    files = [("file", ("test.bpmn", content, "application/xml"))]
    files += [("forms", (n, c, "application/json")) for n, c in (forms or {}).items()]
    return api.post("analyst", "/api/definitions", files=files)


def _cases(api) -> int:  # type: ignore[no-untyped-def]
    return int(api.get("auditor", "/api/instances").headers["X-Total-Count"])


@pytest.mark.parametrize(
    "url",
    [
        "/api/tasks/%00",
        "/api/instances/%00/history",
        "/api/definitions/%00",
        "/api/instances?business_key=%00",
        "/api/tasks?instance_id=a%00b",
    ],
)
def test_nul_in_urls_is_refused(api, url: str) -> None:  # type: ignore[no-untyped-def]
    r = api.get("mfa.officer", url)
    assert r.status_code == 422 and "NUL" in r.json()["detail"]


def test_nul_nan_and_deep_nesting_in_bodies_are_refused(api) -> None:  # type: ignore[no-untyped-def]
    r = api.client.post("/api/auth/token", data={"username": "a\x00b", "password": "x"})
    assert r.status_code == 422
    r = api.post("mfa.officer", "/api/communications", json={**REGISTRATION, "subject": "a\x00b"})
    assert r.status_code == 422 and "NUL" in r.json()["detail"]
    r = api.post(
        "mfa.officer",
        "/api/processes/minimal/instances",
        content=b'{"data": {"x": NaN}}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422 and "NaN" in r.json()["detail"]
    deep: object = 1
    for _ in range(40):
        deep = [deep]
    r = api.post("mfa.officer", "/api/processes/minimal/instances", json={"data": {"x": deep}})
    assert r.status_code == 422 and "nests deeper" in r.json()["detail"]
    very_deep = b'{"data": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    r = api.post(
        "mfa.officer",
        "/api/processes/minimal/instances",
        content=very_deep,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert _cases(api) == 0


def test_chunked_body_over_the_limit_is_413(api) -> None:  # type: ignore[no-untyped-def]
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b" " * 64 * 1024

    r = api.post(
        "mfa.officer",
        "/api/processes/minimal/instances",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_huge_numbers_in_query_parameters(api) -> None:  # type: ignore[no-untyped-def]
    assert api.get("mfa.officer", "/api/definitions/communication?version=18446744073709551616").status_code == 422
    assert api.get("mfa.officer", f"/api/tasks?page={10**18}").status_code == 422
    assert api.get("mfa.officer", f"/api/instances?page={10**18}").status_code == 422


def test_forms_cannot_reach_outside(api) -> None:  # type: ignore[no-untyped-def]
    xml = diagram("reach", [("a", user_task("a", {"formJsonSchemaFilename": "f.json"}))])
    for form in (
        b'{"type": "object", "properties": {"x": {"$ref": "http://127.0.0.1:9/secret"}}}',
        b'{"type": "object", "properties": {"x": {"$ref": "file:///etc/passwd"}}}',
        b'{"type": "object", "properties": {"x": true}}',
        b'{"type": "object", "properties": {"x": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
        b'{"type": "object", "maxLength": 1' + b"0" * 5000 + b"}",
    ):
        r = _deploy(api, xml, {"f.json": form})
        assert r.status_code == 422, (form[:60], r.text)


def test_dangerous_scripts_are_refused_at_deploy(api) -> None:  # type: ignore[no-untyped-def]
    pre = user_task("a").replace(
        "</bpmn:extensionElements>",
        "<spiffworkflow:preScript>import os</spiffworkflow:preScript></bpmn:extensionElements>",
    )
    r = _deploy(api, diagram("pre", [("a", pre)]))
    assert r.status_code == 422 and any(
        "pre-script" in p["message"] and p["element_id"] == "a" for p in r.json()["detail"]
    )
    r = _deploy(api, diagram("fmt", [("s", script_task("s", "n = 10**6\ns = f\"{'a':>{n}}\""))]))
    assert r.status_code == 422


def test_runaway_and_reserved_scripts_fail_cleanly(api) -> None:  # type: ignore[no-untyped-def]
    for key, script in (("loop", "x = 0\nwhile True:\n    x += 1"), ("tn", 'meta = {"typename": "note"}')):
        assert _deploy(api, diagram(key, [("s", script_task("s", script)), ("a", user_task("a"))])).status_code == 201
        r = api.post("mfa.officer", f"/api/processes/{key}/instances", json={})
        assert r.status_code == 422, r.text
        assert ("longer than" if key == "loop" else "typename") in str(r.json()["detail"])
    assert _cases(api) == 0
    assert api.client.get("/api/health").status_code == 200


def test_bad_organisation_properties_fail_cleanly(api) -> None:  # type: ignore[no-untyped-def]
    for key, expr in (("org1", "nosuchvar"), ("org2", "'X' * 40")):
        xml = diagram(key, [("a", user_task("a", {"organisation": expr}))], lane="BODY")
        assert _deploy(api, xml).status_code == 201
        r = api.post("admin", f"/api/processes/{key}/instances", json={})
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["element_id"] == "a"
    # A lane naming an organisation that does not exist deploys with a warning; a case cannot reach it.
    r = _deploy(api, diagram("ghost", [("a", user_task("a"))], lane="GHOST"))
    assert r.status_code == 201 and r.json()["warnings"][0]["element_id"] == "a"
    r = api.post("admin", "/api/processes/ghost/instances", json={})
    assert r.status_code == 422 and "GHOST" in str(r.json()["detail"])
    assert _cases(api) == 0


def test_a_timer_that_fired_first_wins_and_is_kept(api, clock) -> None:  # type: ignore[no-untyped-def]
    xml = diagram("race", [("a", user_task("a", boundary_timer='"PT1H"'))])
    assert _deploy(api, xml).status_code == 201
    case = api.post("mfa.officer", "/api/processes/race/instances", json={}).json()
    task = case["tasks"][0]
    clock.advance(timedelta(hours=2))
    r = complete(api, task, {}, user="mfa.officer")
    assert r.status_code == 409 and "deadline" in r.json()["detail"]
    after = api.get("auditor", f"/api/instances/{case['id']}").json()
    assert [t["task_spec"] for t in after["tasks"]] == ["a_late"]
    assert complete(api, after["tasks"][0], {}, user="mfa.officer").status_code == 200


def test_overlong_names_are_refused_at_deploy(api) -> None:  # type: ignore[no-untyped-def]
    long_task = user_task("a").replace('name="a"', f'name="{"n" * 300}"')
    r = _deploy(api, diagram("long", [("a", long_task)]))
    assert r.status_code == 422 and "longer than 255" in str(r.json()["detail"])
    files = [("file", ("x" * 300 + ".bpmn", diagram("long2", [("a", user_task("a"))]), "application/xml"))]
    assert api.post("analyst", "/api/definitions", files=files).status_code == 422


def test_health_says_when_the_database_is_not_migrated(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from app.api.app import create_app
    from app.config import Settings

    r = TestClient(create_app(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}"))).get("/api/health")
    assert r.status_code == 503 and "not migrated" in r.json()["database"]


def test_history_and_case_survive_weird_but_valid_data(api) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api, subject="Ünïcødé ✓ — «тема» " + "x" * 1900)["id"]
    r = api.post(
        "mfa.officer",
        f"/api/instances/{case_id}/messages/ohchr_published",
        json={
            "data": {
                "item": "communication",
                "published_on": "2024-04-30",
                "url": "https://spcommreports.ohchr.org/1",
                "n": 10**30,
                "f": 1e308,
                "nested": [[[[{"a": None}]]]],
            }
        },
    )
    assert r.status_code == 200, r.text
    assert api.get("mfa.officer", f"/api/instances/{case_id}/history").status_code == 200
    assert api.get("mfa.officer", "/api/instances").status_code == 200
    assert open_task(api, case_id, "publish_on_website")["state"] == "ready"

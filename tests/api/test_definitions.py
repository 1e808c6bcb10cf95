"""Deploying diagram versions over HTTP: new, unchanged, invalid; running cases keep their version."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn"
MINIMAL = (FIXTURES / "minimal.bpmn").read_bytes()


def _upload(
    api,
    content: bytes,
    name: str = "minimal.bpmn",
    user: str = "analyst",  # type: ignore[no-untyped-def]
    forms: dict[str, bytes] | None = None,
):
    files = [("file", (name, content, "application/xml"))]
    files += [("forms", (n, c, "application/json")) for n, c in (forms or {}).items()]
    return api.post(user, "/api/definitions", files=files)


def _count(api) -> int:  # type: ignore[no-untyped-def]
    return len(api.get("analyst", "/api/definitions").json())


def test_list_and_read_definitions(api) -> None:  # type: ignore[no-untyped-def]
    listed = {(d["key"], d["version"]) for d in api.get("mfa.officer", "/api/definitions").json()}
    assert listed == {("communication", 1), ("minimal", 1), ("visit_invitation", 1), ("treaty_body", 1)}
    d = api.get("mfa.officer", "/api/definitions/communication").json()
    assert "forward.json" in d["forms"] and len(d["sha256"]) == 64
    xml = api.get("mfa.officer", "/api/definitions/communication/xml")
    assert xml.status_code == 200 and xml.content == (FIXTURES.parents[2] / "bpmn" / "communication.bpmn").read_bytes()


def test_deploy_unchanged_then_changed(api) -> None:  # type: ignore[no-untyped-def]
    r = _upload(api, MINIMAL)
    assert r.status_code == 200 and r.json()["version"] == 1
    changed = MINIMAL.replace(b'name="Task A"', b'name="Task A (reviewed)"')
    assert changed != MINIMAL
    r = _upload(api, changed)
    assert r.status_code == 201, r.text
    assert r.json()["key"] == "minimal" and r.json()["version"] == 2
    assert r.json()["forms"] == ["minimal_a.json", "minimal_b.json"]  # taken from version 1
    assert _upload(api, changed).status_code == 200


def test_a_changed_form_makes_a_new_version(api) -> None:  # type: ignore[no-untyped-def]
    form = (FIXTURES / "forms" / "minimal_b.json").read_bytes().replace(b'"Note"', b'"Remark"')
    r = _upload(api, MINIMAL, forms={"minimal_b.json": form})
    assert r.status_code == 201 and r.json()["version"] == 2


def test_running_cases_keep_their_version(api) -> None:  # type: ignore[no-untyped-def]
    old = api.post("mfa.officer", "/api/processes/minimal/instances", json={"business_key": "old"}).json()
    _upload(api, MINIMAL.replace(b'name="Task B"', b'name="Task B2"'))
    new = api.post("mfa.officer", "/api/processes/minimal/instances", json={"business_key": "new"}).json()
    assert old["definition"]["version"] == 1 and new["definition"]["version"] == 2
    task = old["tasks"][0]
    r = api.post("mfa.officer", f"/api/tasks/{task['id']}/complete", json={"data": {"go": True}})
    assert r.status_code == 200
    assert r.json()["instance"]["definition"]["version"] == 1
    assert [t["name"] for t in r.json()["next_tasks"]] == ["Task B"]


@pytest.mark.parametrize(
    ("name", "needle", "element", "line"),
    [
        ("invalid_missing_target.bpmn", "no_such_element", "flow_task_a_to_nowhere", 27),
        ("invalid_task_outside_lane.bpmn", "not in a lane", "task_b", 27),
        ("invalid_not_well_formed.bpmn", "not well-formed", None, 7),
        ("invalid_entity_expansion.bpmn", "DOCTYPE", None, None),
    ],
)
def test_invalid_diagrams_are_refused_with_element_and_line(api, name, needle, element, line) -> None:  # type: ignore[no-untyped-def]
    before = _count(api)
    r = _upload(api, (FIXTURES / name).read_bytes(), name)
    assert r.status_code == 422, r.text
    problems = r.json()["detail"]
    assert any(needle in p["message"] and p["element_id"] == element and p["line"] == line for p in problems), problems
    assert _count(api) == before


def test_dangerous_expressions_are_refused_at_deploy(api) -> None:  # type: ignore[no-untyped-def]
    bad = MINIMAL.replace(b"go == True", b"().__class__.__base__.__subclasses__()")
    assert bad != MINIMAL
    r = _upload(api, bad)
    assert r.status_code == 422
    assert any("condition" in p["message"] and p["element_id"] and p["line"] for p in r.json()["detail"])


def test_missing_form_and_bad_form(api) -> None:  # type: ignore[no-untyped-def]
    renamed = MINIMAL.replace(b"minimal_b.json", b"minimal_c.json")
    r = _upload(api, renamed.replace(b'id="minimal"', b'id="minimal2"').replace(b'"#minimal"', b'"#minimal2"'))
    assert r.status_code == 422
    assert any("minimal_c.json" in p["message"] and p["element_id"] == "task_b" for p in r.json()["detail"])
    r = _upload(api, MINIMAL, forms={"minimal_b.json": b"{not json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"][0]["message"]
    r = _upload(api, MINIMAL, forms={"minimal_b.json": b'{"type": "object", "properties": {"typename": {}}}'})
    assert r.status_code == 422 and "reserved" in r.json()["detail"][0]["message"]


def test_only_analysts_and_admins_deploy(api) -> None:  # type: ignore[no-untyped-def]
    changed = MINIMAL.replace(b'name="Task A"', b'name="Task A1"')
    for user in ("mfa.officer", "mfa.head", "auditor"):
        assert _upload(api, changed, user=user).status_code == 403
    assert _upload(api, changed, user="admin").status_code == 201


def test_upload_size_limit(api) -> None:  # type: ignore[no-untyped-def]
    huge = MINIMAL.replace(b"</bpmn:definitions>", b"<!--" + b"x" * (3 * 1024 * 1024) + b"--></bpmn:definitions>")
    r = _upload(api, huge)
    assert r.status_code in (413, 422)
    assert "larger than" in str(r.json()["detail"])


def test_concurrent_deploys_keep_one_unbroken_chain(app_factory, prepared_db) -> None:  # type: ignore[no-untyped-def]
    import threading

    from sqlalchemy import select

    from app.audit.events import GENESIS, chain_hash, event_body
    from app.db.models import AuditEvent
    from app.db.session import make_engine, make_sessionmaker
    from tests.bpmn_builder import diagram, user_task

    apis = [app_factory() for _ in range(4)]
    barrier, results = threading.Barrier(4), [0] * 4

    def deploy(i: int) -> None:
        content = diagram(f"parallel{i}", [("a", user_task("a"))])
        headers = apis[i].headers("analyst")
        barrier.wait()
        r = apis[i].client.post(
            "/api/definitions", headers=headers, files=[("file", (f"p{i}.bpmn", content, "application/xml"))]
        )
        results[i] = r.status_code

    threads = [threading.Thread(target=deploy, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [201] * 4

    engine = make_engine(prepared_db)
    with make_sessionmaker(engine)() as session:
        events = list(
            session.scalars(select(AuditEvent).where(AuditEvent.instance_id.is_(None)).order_by(AuditEvent.seq))
        )
    engine.dispose()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    prev = GENESIS
    for e in events:
        assert e.prev_hash == prev and e.hash == chain_hash(prev, event_body(e))
        prev = e.hash


def test_rules_and_signature_properties_are_checked_at_deploy(api) -> None:  # type: ignore[no-untyped-def]
    """`rule:<field>` needs its `message:<field>`, a form field and a safe expression; `signature` a head."""
    from tests.bpmn_builder import diagram, user_task

    form = b'{"type": "object", "additionalProperties": false, "properties": {"x": {"type": "string", "title": "X"}}}'

    def deploy(properties: dict[str, str]) -> list[str]:
        xml = diagram("rules", [("t", user_task("t", {"formJsonSchemaFilename": "f.json", **properties}))])
        r = _upload(api, xml, "rules.bpmn", forms={"f.json": form})
        return [] if r.status_code == 201 else [p["message"] for p in r.json()["detail"]]

    assert any("needs a 'message:x'" in m for m in deploy({"rule:x": "x == 'a'"}))
    assert any("no matching 'rule:y'" in m for m in deploy({"message:y": "text"}))
    assert any("the form has no field 'y'" in m for m in deploy({"rule:y": "y == 1", "message:y": "text"}))
    assert any("rule:x" in m for m in deploy({"rule:x": "x.__class__", "message:x": "text"}))
    assert any("needs candidate_role 'head'" in m for m in deploy({"signature": "signed"}))
    assert any("must be a variable name" in m for m in deploy({"signature": "a b", "candidate_role": "head"}))
    assert deploy({"rule:x": "x == 'a'", "message:x": "say a", "signature": "signed", "candidate_role": "head"}) == []

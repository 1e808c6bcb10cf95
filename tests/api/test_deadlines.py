"""Durable deadlines: armed with the case, shown on the task, fired at the instant by the worker command."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.bpmn_builder import diagram, user_task

ROOT = Path(__file__).resolve().parents[2]


def fire_due(database_url: str, at: str) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "app", "timers", "fire-due", "--at", at],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": database_url},
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def deploy_d1(api, key: str) -> None:  # type: ignore[no-untyped-def]
    """A one-task diagram whose task carries D1: 5 working days after `received_on`, non-interrupting."""
    task = user_task(
        "forward", boundary_timer="add_working_days(received_on, 5)", interrupting=False, time_date=True, deadline="D1"
    )
    files = [("file", (f"{key}.bpmn", diagram(key, [("forward", task)]), "application/xml"))]
    assert api.post("analyst", "/api/definitions", files=files).status_code == 201


def test_d1_armed_shown_breached_at_the_instant_and_late(api, prepared_db, clock) -> None:  # type: ignore[no-untyped-def]
    deploy_d1(api, "d1")
    case = api.post("mfa.officer", "/api/processes/d1/instances", json={"data": {"received_on": "2024-03-19"}}).json()
    shown = case["tasks"][0]
    # 5 working days after Tuesday 19 March 2024, skipping Nauryz (21-22, 25 March): Friday 29 March,
    # until 24:00 in Almaty = 19:00 UTC.
    assert shown["due_at"] == "2024-03-29T19:00:00Z" and shown["due_date"] == "2024-03-29"
    assert shown["deadline"] == "D1" and shown["overdue"] is False
    assert shown["working_days_left"] == 6  # 19, 20, 26, 27, 28, 29 March
    assert (
        api.get("mfa.officer", "/api/tasks", params={"due_before": "2024-03-30T00:00:00Z"}).json()[0]["id"]
        == shown["id"]
    )
    assert api.get("mfa.officer", "/api/tasks", params={"due_before": "2024-03-29T00:00"}).status_code == 422

    assert "woke 0 case" in fire_due(prepared_db, "2024-03-29T18:59:59Z")
    assert api.get("mfa.officer", f"/api/instances/{case['id']}").json()["overdue"] == []
    assert "woke 1 case" in fire_due(prepared_db, "2024-03-29T19:00:00Z")
    assert "woke 0 case" in fire_due(prepared_db, "2024-03-29T19:00:00Z")  # exactly once

    after = api.get("auditor", f"/api/instances/{case['id']}").json()
    assert after["overdue"] == ["D1"]
    by_spec = {t["task_spec"]: t for t in after["tasks"]}
    assert by_spec["forward"]["overdue"] is True and by_spec["forward"]["state"] == "ready"
    assert "forward_late" in by_spec  # the escalation path of the non-interrupting timer
    assert api.get("mfa.officer", "/api/tasks", params={"overdue": "true"}).json()[0]["task_spec"] == "forward"
    history = api.get("auditor", f"/api/instances/{case['id']}/history").json()
    breach = [e for e in history if e["type"] == "deadline_breached"]
    assert len(breach) == 1 and breach[0]["payload"]["deadline"] == "D1"
    assert breach[0]["payload"]["due_at"] == "2024-03-29T19:00:00+00:00"
    armed = [e for e in history if e["type"] == "timer_armed"][0]["payload"]
    assert len(armed["calendar_version"]) == 64

    # The act can still be done; it is recorded as late.
    clock.set(datetime(2024, 4, 1, 5, 0, tzinfo=UTC))
    api._tokens.clear()  # the morning tokens have expired by then
    detail = api.get("mfa.officer", f"/api/tasks/{by_spec['forward']['id']}")
    assert detail.json()["working_days_left"] == 0, detail.text
    r = api.post("mfa.officer", f"/api/tasks/{by_spec['forward']['id']}/complete", json={"data": {}})
    assert r.status_code == 200
    done = [
        e for e in api.get("auditor", f"/api/instances/{case['id']}/history").json() if e["type"] == "task_completed"
    ][0]["payload"]
    assert done["late"] is True and done["deadline"] == "D1"


def test_completion_before_the_deadline_disarms_it(api, prepared_db) -> None:  # type: ignore[no-untyped-def]
    deploy_d1(api, "d1b")
    case = api.post("mfa.officer", "/api/processes/d1b/instances", json={"data": {"received_on": "2024-03-19"}}).json()
    r = api.post("mfa.officer", f"/api/tasks/{case['tasks'][0]['id']}/complete", json={"data": {}})
    assert r.status_code == 200 and r.json()["instance"]["status"] == "completed"
    assert "woke 0 case" in fire_due(prepared_db, "2024-04-30T00:00:00Z")
    history = api.get("auditor", f"/api/instances/{case['id']}/history").json()
    assert [e["type"] for e in history if e["type"].startswith("timer")] == ["timer_armed", "timer_disarmed"]
    done = [e for e in history if e["type"] == "task_completed"][0]["payload"]
    assert done["late"] is False


def test_the_api_process_fires_deadlines_itself_when_asked(prepared_db, clock) -> None:  # type: ignore[no-untyped-def]
    import time

    from fastapi.testclient import TestClient

    from app.api.app import create_app
    from app.config import Settings
    from tests.conftest import Api

    settings = Settings(database_url=prepared_db, timer_worker="in-process", timer_poll_seconds=0.05)
    with TestClient(create_app(settings, clock=clock)) as client:
        api = Api(client)
        deploy_d1(api, "d1w")
        case = api.post("mfa.officer", "/api/processes/d1w/instances", json={"data": {"received_on": "2024-03-19"}})
        case_id = case.json()["id"]
        clock.set(datetime(2024, 3, 29, 19, 0, tzinfo=UTC))  # the deadline's instant
        headers = api.headers("auditor")
        deadline = time.monotonic() + 20
        overdue: list[str] = []
        while time.monotonic() < deadline and not overdue:  # waits for the worker thread, not for the deadline
            r = client.get(f"/api/instances/{case_id}", headers=headers)
            overdue = r.json().get("overdue", []) if r.status_code == 200 else []
            time.sleep(0.05)
        assert overdue == ["D1"]


def test_an_extension_moves_the_reply_deadline_d2(api) -> None:  # type: ignore[no-untyped-def]
    from tests.flow import complete, open_task, register

    case_id = register(api)["id"]
    complete(api, open_task(api, case_id, "forward_communication"))
    for body in ("MVD", "MINJUST"):
        complete(api, open_task(api, case_id, "prepare_information", body))
        complete(api, open_task(api, case_id, "sign_information", body))
    complete(api, open_task(api, case_id, "hold_meeting"))
    draft = open_task(api, case_id, "draft_reply")
    # The reply is due before the date the communication states: until 24:00 Almaty of 18 May 2024.
    assert (draft["deadline"], draft["due_at"], draft["due_date"]) == ("D2", "2024-05-18T19:00:00Z", "2024-05-18")

    r = api.post(
        "mvd.officer", f"/api/communications/{case_id}/deadline-extension", json={"reply_deadline": "2024-06-18"}
    )
    assert r.status_code == 403
    r = api.post(
        "mfa.officer",
        f"/api/communications/{case_id}/deadline-extension",
        json={"reply_deadline": "2024-06-18", "note": "Extension granted on 10 May"},
    )
    assert r.status_code == 200, r.text
    assert open_task(api, case_id, "draft_reply")["due_at"] == "2024-06-18T19:00:00Z"
    history = api.get("auditor", f"/api/instances/{case_id}/history").json()
    extended = [e for e in history if e["type"] == "deadline_extended"][0]["payload"]
    assert extended["previous_reply_deadline"] == "2024-05-18" and extended["reply_deadline"] == "2024-06-18"
    rearmed = [e for e in history if e["type"] == "timer_rearmed"]
    assert [e["payload"]["deadline"] for e in rearmed] == ["D2"]
    assert rearmed[0]["payload"]["previous_due_at"] == "2024-05-18T19:00:00+00:00"
    r = api.post(
        "mfa.officer", f"/api/communications/{case_id}/deadline-extension", json={"reply_deadline": "2024-06-18"}
    )
    assert r.status_code == 409
    r = api.post(
        "mfa.officer", f"/api/communications/{case_id}/deadline-extension", json={"reply_deadline": "2024-01-01"}
    )
    assert r.status_code == 422
    # The same as a BPMN-style message, as special procedures' letters are recorded.
    r = api.post(
        "mfa.officer",
        f"/api/instances/{case_id}/messages/deadline_extended",
        json={"data": {"reply_deadline": "2024-07-01", "note": "second extension"}},
    )
    assert r.status_code == 200, r.text
    assert open_task(api, case_id, "draft_reply")["due_at"] == "2024-07-01T19:00:00Z"
    r = api.post("mfa.officer", f"/api/instances/{case_id}/messages/deadline_extended", json={"data": {"when": "soon"}})
    assert r.status_code == 422


def test_rearm_after_a_calendar_change_is_audited(api, prepared_db) -> None:  # type: ignore[no-untyped-def]
    from tests.flow import register

    case_id = register(api)["id"]
    r = subprocess.run(
        [sys.executable, "-m", "app", "timers", "rearm", "--reason", "kz.toml 2024 corrected"],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": prepared_db},
    )
    assert r.returncode == 0 and "of 1 case(s)" in r.stdout, r.stderr
    history = api.get("auditor", f"/api/instances/{case_id}/history").json()
    recomputed = [e for e in history if e["type"] == "timers_recomputed"]
    assert recomputed[0]["payload"]["reason"] == "kz.toml 2024 corrected"
    assert [e for e in history if e["type"] == "timer_rearmed"] == []  # same calendar: same instants
    assert api.get("auditor", f"/api/instances/{case_id}").json()["tasks"][0]["due_at"] == "2024-03-29T19:00:00Z"


def test_a_worker_recomputes_timers_of_an_older_calendar_on_start(api, prepared_db, clock) -> None:  # type: ignore[no-untyped-def]
    import time

    from fastapi.testclient import TestClient
    from sqlalchemy import update

    from app.api.app import create_app
    from app.config import Settings
    from app.db.models import Timer
    from app.db.session import make_engine, make_sessionmaker
    from tests.flow import register

    case_id = register(api)["id"]
    engine = make_engine(prepared_db)
    with make_sessionmaker(engine)() as session:  # as if armed under last year's kz.toml
        session.execute(update(Timer).values(calendar_version="0" * 64))
        session.commit()
    engine.dispose()
    settings = Settings(database_url=prepared_db, timer_worker="in-process", timer_poll_seconds=0.05)
    with TestClient(create_app(settings, clock=clock)):
        deadline = time.monotonic() + 20
        types: list[str] = []
        while time.monotonic() < deadline and "timers_recomputed" not in types:  # waits for the worker thread
            types = [e["type"] for e in api.get("auditor", f"/api/instances/{case_id}/history").json()]
            time.sleep(0.05)
    assert "timers_recomputed" in types


def _race_once(api, factory, clock) -> None:  # type: ignore[no-untyped-def]
    """An officer completes the governed task while a worker fires its deadline, at the same instant."""
    import threading

    from app.services.timers import fire_due

    clock.set(datetime(2024, 3, 19, 4, 0, tzinfo=UTC))
    api._tokens.clear()
    case = api.post("mfa.officer", "/api/processes/race1/instances", json={"data": {"received_on": "2024-03-19"}})
    case_id, task_id = case.json()["id"], case.json()["tasks"][0]["id"]
    clock.set(datetime(2024, 3, 29, 19, 0, tzinfo=UTC))  # the instant: both may act now
    api._tokens.clear()
    headers = api.headers("mfa.officer")
    barrier, results = threading.Barrier(2), {}

    def officer() -> None:
        barrier.wait()
        results["complete"] = api.client.post(
            f"/api/tasks/{task_id}/complete", headers=headers, json={"data": {}}
        ).status_code

    def worker() -> None:
        barrier.wait()
        results["woke"] = fire_due(factory, clock).cases_woken

    threads = [threading.Thread(target=officer), threading.Thread(target=worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results["complete"] == 200  # a non-interrupting deadline never takes the act away
    history = api.get("auditor", f"/api/instances/{case_id}/history").json()
    completed = [e for e in history if e["type"] == "task_completed"]
    breached = [e for e in history if e["type"] == "deadline_breached"]
    assert len(completed) == 1 and len(breached) == 1  # at the instant the deadline has passed, once
    assert completed[0]["payload"]["late"] is True
    assert [e["seq"] for e in history] == list(range(1, len(history) + 1))


def test_a_deadline_firing_while_the_officer_completes_has_one_consistent_outcome(api, prepared_db, clock) -> None:  # type: ignore[no-untyped-def]
    from app.db.session import make_engine, make_sessionmaker

    deploy_d1(api, "race1")
    engine = make_engine(prepared_db)
    try:
        for _ in range(4):
            _race_once(api, make_sessionmaker(engine), clock)
    finally:
        engine.dispose()


def test_inbox_lists_deadlines_first_then_by_age_across_pages(api, clock) -> None:  # type: ignore[no-untyped-def]
    def start(key: str, data: dict) -> str:  # type: ignore[type-arg]
        clock.advance(timedelta(minutes=1))  # distinct creation times: "by age" is then well defined
        return api.post("mfa.officer", f"/api/processes/{key}/instances", json={"data": data}).json()["tasks"][0]["id"]

    deploy_d1(api, "d1p")
    oldest = start("minimal", {})
    later = start("d1p", {"received_on": "2024-03-20"})
    sooner = start("d1p", {"received_on": "2024-03-19"})
    newest = start("minimal", {})
    expected = [sooner, later, oldest, newest]

    whole = api.get("mfa.officer", "/api/tasks")
    assert [t["id"] for t in whole.json()] == expected and whole.headers["X-Total-Count"] == "4"
    pages = [api.get("mfa.officer", "/api/tasks", params={"page": n, "page_size": 3}).json() for n in (1, 2)]
    assert [t["id"] for t in pages[0] + pages[1]] == expected
    assert api.get("mfa.officer", "/api/tasks", params={"page": 3, "page_size": 3}).json() == []


def _run_fire_due(database_url: str, at: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "timers", "fire-due", "--at", at],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": database_url},
    )


@pytest.mark.replay_diverges("the test damages a stored case state on purpose")
def test_a_broken_case_does_not_stop_the_others_and_is_given_up_after_five_attempts(api, prepared_db) -> None:  # type: ignore[no-untyped-def]
    """Cases are fired in batches; a case that cannot be continued rolls its batch back, the others
    are then fired one by one, and the broken one is counted and finally marked failed."""
    from sqlalchemy import create_engine, text

    deploy_d1(api, "d1batch")
    start = {"data": {"received_on": "2024-03-19"}}
    ids = [api.post("mfa.officer", "/api/processes/d1batch/instances", json=start).json()["id"] for _ in range(3)]
    broken = ids[1]
    engine = create_engine(prepared_db)
    with engine.begin() as conn:  # a damaged stored state: restoring it fails
        conn.execute(text("UPDATE process_instance SET state = '{\"damaged\": true}' WHERE id = :id"), {"id": broken})

    def timer_of_broken() -> tuple[str, int, str | None]:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT status, attempts, last_error FROM timer WHERE instance_id = :id"), {"id": broken}
            ).one()
        return row[0], row[1], row[2]

    first = _run_fire_due(prepared_db, "2024-03-29T19:00:00Z")
    assert first.returncode == 1 and "woke 2 case" in first.stdout
    assert f"failed: {broken}" in first.stderr
    status, attempts, error = timer_of_broken()
    assert (status, attempts) == ("armed", 1) and error
    for case_id in (ids[0], ids[2]):
        assert api.get("auditor", f"/api/instances/{case_id}").json()["overdue"] == ["D1"]

    for attempt in range(2, 6):
        assert _run_fire_due(prepared_db, "2024-03-29T19:00:00Z").returncode == 1
        assert timer_of_broken()[:2] == ("armed" if attempt < 5 else "failed", attempt)
    last = _run_fire_due(prepared_db, "2024-03-29T19:00:00Z")
    assert last.returncode == 0 and "woke 0 case" in last.stdout  # given up: left to an administrator
    engine.dispose()

"""Replay: cases rebuilt from their recorded inputs come out identical (also in another process), a
divergence is reported at its first event, and the as-of view shows a case as it was at an instant.

The suite-wide check (every case every test creates replays identically) is the teardown of the
`database_url` fixture in tests/conftest.py; the second test here proves that it fails on a divergence."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from app.db.session import make_engine, make_sessionmaker
from app.services.auditing import replay_database
from tests.audit.scenario import (
    D5_DUE,
    ENDED,
    FORWARDED,
    MINJUST_DONE,
    REGISTERED,
    build,
    tamper,
)
from tests.audit.test_tamper_evidence import run_cli
from tests.conftest import _replays_identically
from tests.flow import register


def _replay(database_url: str, case_id: str | None = None) -> list:  # type: ignore[type-arg]
    engine = make_engine(database_url)
    try:
        return replay_database(make_sessionmaker(engine), case_id)
    finally:
        engine.dispose()


def test_a_full_case_replays_identically_in_another_process(api, clock, prepared_db) -> None:  # type: ignore[no-untyped-def]
    scenario = build(api, clock, prepared_db)
    results = {r.instance_id: r for r in _replay(prepared_db)}
    assert all(r.identical for r in results.values()), [r.divergence for r in results.values()]
    # start, 13 completions, the extension, the message, and two timer wakes: each an engine step
    assert results[scenario.full].steps >= 17 and results[scenario.open_case].steps == 2

    done = run_cli(prepared_db, "replay", "--all")  # a fresh interpreter: other hash seeds, a cold cache
    assert done.returncode == 0, done.stdout + done.stderr
    assert "] 0/2" in done.stdout and "] 2/2" in done.stdout  # the progress bar (\r-separated)
    assert "replayed 2 case(s): 2 identical, 0 diverged" in done.stdout
    done = run_cli(prepared_db, "replay", "--case", scenario.full, "--quiet")
    assert done.returncode == 0 and "replayed 1 case(s): 1 identical" in done.stdout
    assert run_cli(prepared_db, "replay").returncode == 2  # --case or --all
    assert run_cli(prepared_db, "replay", "--case", "no-such-case").returncode == 2


@pytest.mark.replay_diverges("the test damages a stored state to see the suite-wide check fail")
def test_the_suite_wide_check_fails_when_a_case_does_not_replay(api, prepared_db) -> None:  # type: ignore[no-untyped-def]
    case_id = register(api)["id"]
    unmarked = SimpleNamespace(node=SimpleNamespace(get_closest_marker=lambda name: None))
    _replays_identically(unmarked, prepared_db)  # type: ignore[arg-type]  # an intact case passes
    engine = make_engine(prepared_db)
    try:
        with engine.begin() as conn:  # the stored state, not the events: as if the engine had been bypassed
            conn.execute(
                text(
                    "UPDATE process_instance SET state = replace(state, 'AL KAZ 1/2024', 'AL KAZ 9/2024') WHERE id = :i"
                ),
                {"i": case_id},
            )
    finally:
        engine.dispose()
    with pytest.raises(pytest.fail.Exception, match="do not replay identically"):
        _replays_identically(unmarked, prepared_db)  # type: ignore[arg-type]
    (result,) = _replay(prepared_db)
    assert result.divergence is not None and "AL KAZ 9/2024" in result.divergence.reason


def test_timer_wakes_recorded_before_case_woken_existed_still_replay(api, clock, prepared_db) -> None:  # type: ignore[no-untyped-def]
    """Older data has no `case_woken`: a timer wake is then a run of derived events by system:timer."""
    build(api, clock, prepared_db)
    tamper(prepared_db, "DELETE FROM audit_event WHERE type = 'case_woken'", {})
    results = _replay(prepared_db)
    assert len(results) == 2 and all(r.identical for r in results), [r.divergence for r in results]


def test_the_case_as_it_was_at_an_instant(api, clock, prepared_db) -> None:  # type: ignore[no-untyped-def]
    scenario = build(api, clock, prepared_db)
    url = f"/api/instances/{scenario.full}/states"

    def state(user: str, instant) -> dict:  # type: ignore[no-untyped-def, type-arg]
        r = api.get(user, url, params={"at": instant.isoformat()})
        assert r.status_code == 200, r.text
        return r.json()

    first = state("auditor", REGISTERED + timedelta(hours=1))
    assert first["status"] == "running" and first["overdue"] == []
    assert [t["task_spec"] for t in first["tasks"]] == ["forward_communication"]
    (d1,) = first["deadlines"]
    assert (d1["deadline"], d1["due_date"], d1["due_at"]) == ("D1", "2024-03-29", "2024-03-29T19:00:00Z")
    assert first["tasks"][0]["due_at"] == d1["due_at"] and first["tasks"][0]["overdue"] is False

    forwarded = state("auditor", FORWARDED)
    specs = sorted((t["task_spec"], t["organisation"]) for t in forwarded["tasks"])
    assert specs == [
        ("ombudsman_acknowledge_communication", "OMBUDSMAN"),
        ("prepare_information", "MINJUST"),
        ("prepare_information", "MVD"),
    ] or specs == [("prepare_information", "MINJUST"), ("prepare_information", "MVD")]
    assert {d["deadline"] for d in forwarded["deadlines"]} == {"D5"}

    breached = state("auditor", D5_DUE)  # the breach happened at this very instant
    assert breached["overdue"] == ["D5"]
    minjust = next(t for t in breached["tasks"] if t["task_spec"] == "prepare_information")
    assert minjust["organisation"] == "MINJUST" and minjust["overdue"] is True and minjust["deadline"] == "D5"
    assert [b["deadline"] for b in breached["breached"]] == ["D5"]
    assert any(t["task_spec"] == "escalate_d5" for t in breached["tasks"])
    before = state("auditor", D5_DUE - timedelta(microseconds=1))
    assert before["overdue"] == [] and before["last_event_seq"] < breached["last_event_seq"]

    # A body sees the communication as registered and its own tasks only, as on the case itself.
    mvd = state("mvd.officer", D5_DUE)
    assert {t["organisation"] for t in mvd["tasks"]} <= {"MVD"} and "bodies" not in mvd["data"]
    assert mvd["state_sha256"] is None
    minjust_view = state("minjust.officer", MINJUST_DONE - timedelta(hours=1))
    assert [t["task_spec"] for t in minjust_view["tasks"]] == ["prepare_information", "escalate_d5"]
    # Who may see the case is decided as today (the PA acts later in it), what they saw then by replay.
    assert state("pa.officer", D5_DUE)["tasks"] == []
    other = f"/api/instances/{scenario.open_case}/states"
    assert api.get("pa.officer", other, params={"at": D5_DUE.isoformat()}).status_code == 404  # never a PA task

    end = state("auditor", ENDED + timedelta(days=1))
    assert end["status"] == "completed" and end["tasks"] == [] and end["overdue"] == ["D5"]
    assert end["data"]["reply_deadline"] == "2024-06-18"  # as extended
    assert api.get("auditor", url, params={"at": (REGISTERED - timedelta(days=1)).isoformat()}).status_code == 404
    assert api.get("auditor", url, params={"at": "2024-04-01T10:00:00"}).status_code == 422  # no offset

    viewed = _case_less(prepared_db, "audit_viewed")
    assert any(p.get("view") == "case_at" and p.get("instance_id") == scenario.full for p in viewed)


def _case_less(database_url: str, type_: str) -> list[dict]:  # type: ignore[type-arg]
    import json

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT payload FROM audit_event WHERE instance_id IS NULL AND type = :t ORDER BY seq"),
                {"t": type_},
            ).scalars()
            return [r if isinstance(r, dict) else json.loads(r) for r in rows]
    finally:
        engine.dispose()

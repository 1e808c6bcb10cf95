"""Cases the auditors' tests look at: one communication run to its end with a late body, a breached
and fired deadline, an extension of D2 and a publication; one left with its D1 breached and open.

Every act is done over HTTP by the demo users at a set instant; due timers are fired in-process by
services.timers.fire_due (the worker's code) at their instant. The instants (UTC; Almaty is +5):
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from app.clock import FixedClock
from app.db.session import make_engine, make_sessionmaker
from app.services.timers import fire_due
from tests.flow import complete, open_task, register

REGISTERED = datetime(2024, 3, 19, 4, 0, tzinfo=UTC)
FORWARDED = datetime(2024, 3, 21, 5, 0, tzinfo=UTC)  # D1 (due 29 March) met
MVD_DONE = datetime(2024, 4, 10, 5, 0, tzinfo=UTC)  # D5 (due 19 April) met by MVD
D5_DUE = datetime(2024, 4, 19, 19, 0, tzinfo=UTC)  # MINJUST breaches D5 here
MINJUST_DONE = datetime(2024, 4, 23, 6, 0, tzinfo=UTC)  # two working days late (22, 23 April)
EXTENDED = datetime(2024, 4, 24, 5, 0, tzinfo=UTC)  # D2 moves from 18 May to 18 June
MEETING = datetime(2024, 4, 25, 5, 0, tzinfo=UTC)
PUBLISHED_AT = datetime(2024, 5, 2, 5, 0, tzinfo=UTC)  # OHCHR published on 30 April: D3 armed
REPLY_SENT = datetime(2024, 5, 10, 5, 0, tzinfo=UTC)
REPORTED = datetime(2024, 5, 15, 5, 0, tzinfo=UTC)
ENDED = datetime(2024, 5, 16, 5, 0, tzinfo=UTC)
SECOND_D1_DUE = datetime(2024, 3, 29, 19, 0, tzinfo=UTC)  # the second case's D1, never met

PUBLISHED = {"item": "communication", "published_on": "2024-04-30", "url": "https://spcommreports.ohchr.org/1"}


@dataclass
class Scenario:
    full: str  # case id of the communication run to its end
    open_case: str  # case id of the one left with D1 breached


def at(api: Any, clock: FixedClock, instant: datetime) -> None:
    """Move the shared clock; tokens issued at an earlier instant may have expired by then."""
    clock.set(instant)
    api._tokens.clear()


def _done(
    api: Any, case_id: str, spec: str, organisation: str | None = None, data: dict[str, Any] | None = None
) -> None:
    r = complete(api, open_task(api, case_id, spec, organisation), data)
    assert r.status_code == 200, (spec, organisation, r.text)


def fire(database_url: str, instant: datetime) -> int:
    engine = make_engine(database_url)
    try:
        return fire_due(make_sessionmaker(engine), FixedClock(instant)).cases_woken
    finally:
        engine.dispose()


def build(api: Any, clock: FixedClock, database_url: str) -> Scenario:
    at(api, clock, REGISTERED)
    full = register(api)["id"]
    open_case = register(api, reference="UA KAZ 2/2024", type="UA")["id"]
    at(api, clock, FORWARDED)
    _done(api, full, "forward_communication")
    _done(api, full, "ombudsman_acknowledge_communication")
    assert fire(database_url, SECOND_D1_DUE) == 1  # the second case's D1 is breached
    at(api, clock, MVD_DONE)
    _done(api, full, "prepare_information", "MVD")
    _done(api, full, "sign_information", "MVD")
    assert fire(database_url, D5_DUE) == 1  # MINJUST's D5 is breached
    at(api, clock, MINJUST_DONE)
    _done(api, full, "prepare_information", "MINJUST")
    _done(api, full, "sign_information", "MINJUST")
    at(api, clock, EXTENDED)
    r = api.post(
        "mfa.officer",
        f"/api/communications/{full}/deadline-extension",
        json={"reply_deadline": "2024-06-18", "note": "granted by letter"},
    )
    assert r.status_code == 200, r.text
    at(api, clock, MEETING)
    _done(api, full, "hold_meeting")
    at(api, clock, PUBLISHED_AT)
    r = api.post("mfa.officer", f"/api/instances/{full}/messages/ohchr_published", json={"data": PUBLISHED})
    assert r.status_code == 200, r.text
    _done(api, full, "publish_on_website")
    at(api, clock, REPLY_SENT)
    for spec in ("draft_reply", "sign_reply", "send_reply"):
        _done(api, full, spec)
    at(api, clock, REPORTED)
    _done(api, full, "report_results")
    at(api, clock, ENDED)
    _done(api, full, "pa_acknowledge_report")
    _done(api, full, "ombudsman_acknowledge_report")
    assert api.get("auditor", f"/api/instances/{full}").json()["status"] == "completed"
    return Scenario(full, open_case)


def tamper(database_url: str, sql: str, params: dict[str, Any]) -> None:
    """Change audit_event behind the application's back, past the append-only trigger, as a database
    owner could (PostgreSQL: the table owner disables the trigger in the same transaction)."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
                conn.execute(text(sql), params)
                conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))
            else:
                triggers = conn.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")
                ).all()
                for name, _ in triggers:
                    conn.execute(text(f'DROP TRIGGER "{name}"'))
                conn.execute(text(sql), params)
                for _, create in triggers:
                    conn.execute(text(create))
    finally:
        engine.dispose()

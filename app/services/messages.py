"""Messages from outside the system, delivered to a case by name.

Most are BPMN messages the diagram catches (`ohchr_published`). `deadline_extended` changes the
case's own data instead (special procedures granted more time), so it goes to the use case that
records the extension and re-arms D2."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.clock import Clock
from app.db.models import ProcessInstance
from app.services import cases, communications
from app.services.errors import Invalid
from app.services.principal import Principal

DEADLINE_EXTENDED = "deadline_extended"


def deliver(
    session: Session, instance_id: str, name: str, data: dict[str, Any], principal: Principal, clock: Clock
) -> ProcessInstance:
    if name == DEADLINE_EXTENDED:
        new_deadline, note = _extension(data)
        return communications.extend_deadline(session, instance_id, new_deadline, note, principal, clock)
    return cases.send_message(session, instance_id, name, data, principal, clock)


def _extension(data: dict[str, Any]) -> tuple[date, str]:
    unknown = sorted(set(data) - {"reply_deadline", "note"})
    errors = [{"field": f, "message": "not a field of deadline_extended (reply_deadline, note)"} for f in unknown]
    try:
        new_deadline = date.fromisoformat(str(data.get("reply_deadline")))
    except ValueError:
        errors.append({"field": "reply_deadline", "message": "give the new reply deadline as a date, e.g. 2024-06-18"})
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > 2000:
        errors.append({"field": "note", "message": "the note is text of at most 2000 characters"})
    if errors:
        raise Invalid(errors)
    return new_deadline, note

"""Registering a communication from UN special procedures (14-5): the case's starting act."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import Clock, today
from app.db.models import Communication, ProcessInstance
from app.db.session import begin_write
from app.services import cases
from app.services import definitions as definition_service
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.principal import Principal

# Special procedures' letter types: allegation letter, urgent appeal, other letter, and joint ones.
TYPES = ("AL", "UA", "OL", "JAL", "JUA", "JOL")
# KAZ for letters to Kazakhstan; OTH is what OHCHR uses for letters sent to several states at once.
COUNTRIES = ("KAZ", "OTH")
# The six official UN languages: a reply must be in the communication's language (14-8 ч.1).
LANGUAGES = ("ar", "zh", "en", "fr", "ru", "es")
REFERENCE = re.compile(r"^(?P<type>[A-Z]{2,3}) (?P<country>[A-Z]{3}) (?P<number>[1-9]\d{0,3})/(?P<year>\d{4})$")
PROCESS_KEY = "communication"


@dataclass(frozen=True)
class Registration:
    reference: str
    type: str
    received_on: date
    language: str
    reply_deadline: date
    subject: str
    mandates: list[str]


@dataclass(frozen=True)
class Reference:
    type: str
    country: str
    number: int
    year: int


def parse_reference(text: str) -> Reference:
    """`AL KAZ 1/2024` -> its parts; a message that says what a valid reference looks like otherwise."""
    match = REFERENCE.match(text.strip())
    if not match:
        raise Invalid(
            [
                {
                    "field": "reference",
                    "message": f"{text!r} is not a special-procedures reference; "
                    "write it as TYPE COUNTRY NUMBER/YEAR, e.g. 'AL KAZ 1/2024'",
                }
            ]
        )
    ref = Reference(match["type"], match["country"], int(match["number"]), int(match["year"]))
    errors = []
    if ref.type not in TYPES:
        errors.append({"field": "reference", "message": f"type {ref.type!r} is not one of {list(TYPES)}"})
    if ref.country not in COUNTRIES:
        errors.append(
            {
                "field": "reference",
                "message": f"country {ref.country!r} must be KAZ (or OTH for letters to several states)",
            }
        )
    if errors:
        raise Invalid(errors)
    return ref


def _check(reg: Registration, ref: Reference, today: date) -> None:
    errors = []
    if reg.type != ref.type:
        errors.append({"field": "type", "message": f"type {reg.type!r} does not match the reference's {ref.type!r}"})
    if reg.received_on > today:
        errors.append({"field": "received_on", "message": f"{reg.received_on} is in the future (today is {today})"})
    if not 2000 <= ref.year <= reg.received_on.year:
        errors.append(
            {
                "field": "reference",
                "message": f"year {ref.year} must be between 2000 and the year of receipt ({reg.received_on.year})",
            }
        )
    if reg.reply_deadline <= reg.received_on:
        errors.append({"field": "reply_deadline", "message": "the reply deadline must be after the day of receipt"})
    if reg.language not in LANGUAGES:
        errors.append(
            {
                "field": "language",
                "message": f"{reg.language!r} is not a UN language code; use one of {list(LANGUAGES)}",
            }
        )
    if not reg.subject.strip():
        errors.append({"field": "subject", "message": "the subject must not be empty"})
    if not reg.mandates or any(not m.strip() for m in reg.mandates):
        errors.append({"field": "mandates", "message": "name at least one mandate, none of them empty"})
    if errors:
        raise Invalid(errors)


def register(session: Session, reg: Registration, principal: Principal, clock: Clock) -> ProcessInstance:
    begin_write(session)
    if not principal.in_kind("mfa", "officer", "head"):
        raise Forbidden("communications are registered by MFA officers")
    ref = parse_reference(reg.reference)
    _check(reg, ref, today(clock))
    reference = f"{ref.type} {ref.country} {ref.number}/{ref.year}"
    if session.scalar(select(Communication.id).where(Communication.reference == reference)) is not None:
        raise Conflict(f"communication {reference} is already registered")
    definition = definition_service.get_definition(session, PROCESS_KEY)
    data = {
        "reference": reference,
        "type": reg.type,
        "received_on": reg.received_on.isoformat(),
        "language": reg.language,
        "reply_deadline": reg.reply_deadline.isoformat(),
        "subject": reg.subject,
        "mandates": list(reg.mandates),
        "ref_country": ref.country,
        "ref_number": ref.number,
        "ref_year": ref.year,
    }

    def add_communication(instance: ProcessInstance) -> None:
        session.add(
            Communication(
                instance_id=instance.id,
                reference=reference,
                type=reg.type,
                country=ref.country,
                number=ref.number,
                year=ref.year,
                received_on=reg.received_on,
                language=reg.language,
                reply_deadline=reg.reply_deadline,
                subject=reg.subject,
                mandates=list(reg.mandates),
                registered_at=clock.now(),
                registered_by=principal.username,
            )
        )
        session.flush()

    try:
        return cases.start(
            session,
            definition,
            reference,
            data,
            principal,
            clock,
            extra_events=[cases.Event("communication_registered", data)],
            before_save=add_communication,
        )
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"communication {reference} is already registered") from exc


def extend_deadline(
    session: Session, instance_id: str, new_deadline: date, note: str, principal: Principal, clock: Clock
) -> ProcessInstance:
    """Special procedures granted more time (D2): record the new date and move the armed deadline."""
    begin_write(session)
    instance = cases.get_visible(session, principal, instance_id, lock=True)
    if not principal.in_kind("mfa", "officer", "head"):
        raise Forbidden("extensions of the reply deadline are recorded by MFA officers")
    communication = session.scalar(select(Communication).where(Communication.instance_id == instance.id))
    if communication is None:
        raise NotFound(f"case {instance_id} is not a communication")
    if new_deadline <= communication.received_on:
        raise Invalid(
            [{"field": "reply_deadline", "message": "the new reply deadline must be after the day of receipt"}]
        )
    if new_deadline == communication.reply_deadline:
        raise Conflict(f"the reply deadline is already {new_deadline}")
    previous = communication.reply_deadline
    communication.reply_deadline = new_deadline
    event = cases.Event(
        "deadline_extended",
        {
            "deadline": "D2",
            "previous_reply_deadline": previous.isoformat(),
            "reply_deadline": new_deadline.isoformat(),
            "note": note,
        },
    )
    cases.rearm(session, instance, {"reply_deadline": new_deadline.isoformat()}, principal.username, clock, event)
    return instance

"""Interaction with UN human-rights treaty bodies (14-11): register the treaty body's dates, start the case.

Paragraph 14-11 gives the work to the responsible central executive body, not to the MFA, and sets
no deadline of its own: the deadlines are the treaty body's dates. So a case names its lead body
and carries the dates the treaty body set; the diagram follows each date that is present.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.clock import Clock, today
from app.db.models import ProcessInstance
from app.db.session import begin_write
from app.services import cases
from app.services import definitions as definition_service
from app.services.errors import Forbidden, Invalid
from app.services.organisation_codes import kind_errors
from app.services.principal import Principal

PROCESS_KEY = "treaty_body"
# The committees of the nine core international human-rights treaties.
TREATY_BODIES = {
    "CERD": "Committee on the Elimination of Racial Discrimination",
    "CESCR": "Committee on Economic, Social and Cultural Rights",
    "CCPR": "Human Rights Committee",
    "CEDAW": "Committee on the Elimination of Discrimination against Women",
    "CAT": "Committee against Torture",
    "CRC": "Committee on the Rights of the Child",
    "CMW": "Committee on Migrant Workers",
    "CRPD": "Committee on the Rights of Persons with Disabilities",
    "CED": "Committee on Enforced Disappearances",
}
# The treaty body's dates the diagram follows; each has its own branch, deadline label and reminder.
DATE_FIELDS = (
    "report_due",
    "list_of_issues_reply_due",
    "follow_up_due",
    "individual_communication_observations_due",
)
DEFAULT_REMINDER_WORKING_DAYS = 10
MAX_REMINDER_WORKING_DAYS = 60
STARTERS = ("officer", "head")


@dataclass(frozen=True)
class TreatyBodyCase:
    treaty_body: str
    lead_body: str
    subject: str
    reference: str | None = None
    report_due: date | None = None
    list_of_issues_reply_due: date | None = None
    follow_up_due: date | None = None
    individual_communication_observations_due: date | None = None
    reminder_working_days: int = DEFAULT_REMINDER_WORKING_DAYS


def _check(session: Session, case: TreatyBodyCase, today: date) -> None:
    errors: list[dict[str, str]] = []
    if case.treaty_body not in TREATY_BODIES:
        errors.append({"field": "treaty_body", "message": f"{case.treaty_body!r} is not one of {list(TREATY_BODIES)}"})
    if not case.subject.strip():
        errors.append({"field": "subject", "message": "the subject must not be empty"})
    errors += kind_errors(session, "lead_body", [case.lead_body])
    dates = {name: getattr(case, name) for name in DATE_FIELDS if getattr(case, name) is not None}
    if not dates:
        errors.append(
            {"field": "(body)", "message": f"give at least one of the treaty body's dates: {', '.join(DATE_FIELDS)}"}
        )
    for name, value in dates.items():
        if value < today:
            errors.append(
                {
                    "field": name,
                    "message": f"{value} has already passed (today is {today}); "
                    "register the treaty body's current date",
                }
            )
    if not 1 <= case.reminder_working_days <= MAX_REMINDER_WORKING_DAYS:
        errors.append(
            {"field": "reminder_working_days", "message": f"must be between 1 and {MAX_REMINDER_WORKING_DAYS}"}
        )
    if errors:
        raise Invalid(errors)


def register(session: Session, case: TreatyBodyCase, principal: Principal, clock: Clock) -> ProcessInstance:
    """Start a 14-11 case led by `lead_body`, following the treaty body's dates that are given."""
    begin_write(session)
    coordinator = principal.is_admin or principal.in_kind("mfa", *STARTERS)
    if not (coordinator or principal.in_kind("state_body", *STARTERS)):
        raise Forbidden(
            "treaty-body cases are started by officers or heads of the lead state body, MFA officers or heads "
            "(as coordinators), or admins"
        )
    _check(session, case, today(clock))
    lead = case.lead_body
    if not coordinator and not principal.can_act(lead, "officer"):
        raise Forbidden(
            f"a case led by {lead} is started by an officer or head of {lead}, "
            "an MFA officer (as coordinator) or an admin"
        )
    definition = definition_service.get_definition(session, PROCESS_KEY)
    data: dict[str, Any] = {
        "treaty_body": case.treaty_body,
        "treaty_body_name": TREATY_BODIES[case.treaty_body],
        "lead_body": lead,
        "subject": case.subject.strip(),
        "reference": case.reference.strip() if case.reference and case.reference.strip() else None,
        **{name: (getattr(case, name).isoformat() if getattr(case, name) else None) for name in DATE_FIELDS},
        "reminder_working_days": case.reminder_working_days,
    }
    business_key = f"{case.treaty_body}: {data['reference'] or data['subject']}"[:255]
    return cases.start(session, definition, business_key, data, principal, clock)

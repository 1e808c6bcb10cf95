"""Country-visit invitations to special procedures (14-10): check the ground and who invokes it, then start.

Paragraph 14-10 allows an invitation on three grounds only, and each ground names who proposes:
1) a competent state body (agreed with the MFA), 2) the MFA itself (agreed with the competent
bodies), 3) the Ombudsman. The diagram enforces the agreements; this module makes sure a case
starts only on a real ground, invoked by someone of the organisation that the ground names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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

PROCESS_KEY = "visit_invitation"
STARTERS = ("officer", "head")
# ground (14-10 пп.1-3) -> the organisation kind whose officers or heads invoke it, and what to say otherwise
INVOKED_BY = {
    "body_proposal": ("state_body", "a competent state body's proposal is started by an officer or head of that body"),
    "mfa_initiative": ("mfa", "the MFA's initiative is started by MFA officers or heads"),
    "ombudsman_proposal": ("ombudsman", "the Ombudsman's proposal is started by officers or heads of the Ombudsman"),
}
GROUNDS = tuple(INVOKED_BY)


@dataclass(frozen=True)
class VisitProposal:
    ground: str
    mandate: str
    subject: str
    proposed_dates: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    proposing_body: str | None = None
    bodies: list[str] = field(default_factory=list)


def _may_invoke_ground(principal: Principal, ground: str) -> None:
    """403 before looking at the details when the caller's organisations cannot invoke this ground at all."""
    kind, who = INVOKED_BY[ground]
    if not (principal.is_admin or principal.in_kind(kind, *STARTERS)):
        raise Forbidden(f"{who} (or an admin); ground {ground!r} (14-10) is not yours to invoke")


def _check(session: Session, proposal: VisitProposal, today: date) -> None:
    errors: list[dict[str, str]] = []
    if not proposal.mandate.strip():
        errors.append(
            {"field": "mandate", "message": "name the special procedure, e.g. 'Special Rapporteur on torture'"}
        )
    if not proposal.subject.strip():
        errors.append({"field": "subject", "message": "the subject must not be empty"})
    for name in ("period_start", "period_end"):
        value = getattr(proposal, name)
        if value is not None and value < today:
            errors.append({"field": name, "message": f"{value} is in the past (today is {today})"})
    if proposal.period_start and proposal.period_end and proposal.period_end < proposal.period_start:
        errors.append({"field": "period_end", "message": "the period must not end before it starts"})
    if proposal.ground == "body_proposal":
        if not proposal.proposing_body:
            errors.append(
                {
                    "field": "proposing_body",
                    "message": "a body's proposal (ground body_proposal) names the proposing body",
                }
            )
        else:
            errors += kind_errors(session, "proposing_body", [proposal.proposing_body])
    elif proposal.proposing_body is not None:
        errors.append({"field": "proposing_body", "message": "only a body's proposal (ground body_proposal) has one"})
    if proposal.ground == "mfa_initiative":
        if not proposal.bodies:
            errors.append(
                {
                    "field": "bodies",
                    "message": "the MFA's initiative (ground mfa_initiative) is agreed with the competent bodies: "
                    "name at least one",
                }
            )
        elif len(set(proposal.bodies)) != len(proposal.bodies):
            errors.append({"field": "bodies", "message": "name each body once"})
        else:
            errors += kind_errors(session, "bodies", list(proposal.bodies))
    elif proposal.bodies:
        errors.append(
            {
                "field": "bodies",
                "message": "competent bodies are named only on the MFA's initiative (ground mfa_initiative); "
                "a body's proposal names its body in proposing_body",
            }
        )
    if errors:
        raise Invalid(errors)


def propose(session: Session, proposal: VisitProposal, principal: Principal, clock: Clock) -> ProcessInstance:
    """Start a 14-10 case: validate, check the caller may invoke the ground, start the diagram."""
    begin_write(session)
    if proposal.ground not in GROUNDS:
        raise Invalid([{"field": "ground", "message": f"{proposal.ground!r} is not one of {list(GROUNDS)} (14-10)"}])
    _may_invoke_ground(principal, proposal.ground)
    _check(session, proposal, today(clock))
    body = proposal.proposing_body
    if (
        proposal.ground == "body_proposal"
        and body
        and not principal.is_admin
        and not principal.can_act(body, "officer")
    ):
        raise Forbidden(f"a proposal of {body} is started by an officer or head of {body} (or an admin)")
    definition = definition_service.get_definition(session, PROCESS_KEY)
    data: dict[str, Any] = {
        "ground": proposal.ground,
        "mandate": proposal.mandate.strip(),
        "subject": proposal.subject.strip(),
        "proposed_dates": proposal.proposed_dates,
        "period_start": proposal.period_start.isoformat() if proposal.period_start else None,
        "period_end": proposal.period_end.isoformat() if proposal.period_end else None,
        "proposing_body": body,
        "bodies": list(proposal.bodies),
    }
    business_key = f"Visit: {data['mandate']}"[:255]
    return cases.start(session, definition, business_key, data, principal, clock)

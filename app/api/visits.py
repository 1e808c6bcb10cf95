"""Country-visit invitations (14-10): the one way to start a `visit_invitation` case."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from app.api.deps import ClockDep, PrincipalDep, SessionDep
from app.api.schemas import InstanceOut, Strict, case_out
from app.services import cases, visits

router = APIRouter(prefix="/api/visit-invitations", tags=["visit invitations"])


class VisitInvitationIn(Strict):
    ground: Literal[visits.GROUNDS] = Field(  # type: ignore[valid-type]  (one list of grounds: the service's)
        description="14-10 пп.1: a competent body's proposal; пп.2: the MFA's initiative; "
        "пп.3: the Ombudsman's proposal"
    )
    mandate: str = Field(
        max_length=500, description="the special procedure invited, e.g. 'Special Rapporteur on torture'"
    )
    subject: str = Field(max_length=2000, description="purpose of the visit")
    proposed_dates: str | None = Field(default=None, max_length=500, description="free text, e.g. 'autumn 2024'")
    period_start: date | None = Field(default=None, description="first day of the proposed period, if known")
    period_end: date | None = Field(default=None, description="last day of the proposed period, if known")
    proposing_body: str | None = Field(
        default=None, max_length=32, description="ground body_proposal only: the proposing state body's code"
    )
    bodies: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="ground mfa_initiative only: the competent state bodies whose agreement is needed",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ground": "mfa_initiative",
                    "mandate": "Special Rapporteur on torture",
                    "subject": "Country visit on conditions of detention",
                    "proposed_dates": "second half of October 2024",
                    "bodies": ["MVD", "MINJUST"],
                },
                {
                    "ground": "body_proposal",
                    "mandate": "Special Rapporteur on the independence of judges and lawyers",
                    "subject": "Judicial reform",
                    "period_start": "2024-09-16",
                    "period_end": "2024-09-27",
                    "proposing_body": "MINJUST",
                },
            ]
        },
    )


@router.post(
    "",
    response_model=InstanceOut,
    status_code=201,
    responses={403: {"description": "the caller may not invoke this ground"}, 422: {"description": "invalid data"}},
)
def propose(body: VisitInvitationIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> InstanceOut:
    """Start a country-visit invitation case on one of the three grounds of 14-10.

    body_proposal: officers or heads of `proposing_body`; mfa_initiative: MFA officers or heads;
    ombudsman_proposal: officers or heads of the Ombudsman; admins on any ground."""
    instance = visits.propose(session, visits.VisitProposal(**body.model_dump()), principal, clock)
    return case_out(cases.view(session, principal, instance), clock.now())

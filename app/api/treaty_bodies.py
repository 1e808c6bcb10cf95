"""Treaty-body cases (14-11): the one way to start a `treaty_body` case."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from app.api.deps import ClockDep, PrincipalDep, SessionDep
from app.api.schemas import InstanceOut, Strict, case_out
from app.services import cases, treaty_bodies

router = APIRouter(prefix="/api/treaty-body-cases", tags=["treaty bodies"])


class TreatyBodyCaseIn(Strict):
    treaty_body: Literal[tuple(treaty_bodies.TREATY_BODIES)] = Field(  # type: ignore[valid-type]  (the service's list)
        description="the committee of one of the nine core UN human-rights treaties"
    )
    lead_body: str = Field(max_length=32, description="code of the responsible state body (kind state_body)")
    subject: str = Field(max_length=2000)
    reference: str | None = Field(default=None, max_length=200, description="e.g. the reporting cycle or CAT/C/KAZ/4")
    report_due: date | None = Field(default=None, description="state party report due")
    list_of_issues_reply_due: date | None = Field(default=None, description="reply to the list of issues due")
    follow_up_due: date | None = Field(default=None, description="follow-up to concluding observations due")
    individual_communication_observations_due: date | None = Field(
        default=None, description="the State's observations on an individual communication due"
    )
    reminder_working_days: int = Field(
        default=treaty_bodies.DEFAULT_REMINDER_WORKING_DAYS,
        ge=1,
        le=treaty_bodies.MAX_REMINDER_WORKING_DAYS,
        description="the lead body is reminded this many working days before each date",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "treaty_body": "CAT",
                    "lead_body": "MVD",
                    "subject": "Fifth periodic report under the Convention against Torture",
                    "reference": "CAT/C/KAZ/5",
                    "report_due": "2024-06-14",
                    "follow_up_due": "2024-11-29",
                    "reminder_working_days": 10,
                }
            ]
        },
    )


@router.post(
    "",
    response_model=InstanceOut,
    status_code=201,
    responses={403: {"description": "the caller may not start it"}, 422: {"description": "invalid data"}},
)
def register(body: TreatyBodyCaseIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> InstanceOut:
    """Start a treaty-body case led by `lead_body`, driven by the treaty body's dates (at least one).

    Officers or heads of the lead body, MFA officers or heads (as coordinators), or admins."""
    instance = treaty_bodies.register(session, treaty_bodies.TreatyBodyCase(**body.model_dump()), principal, clock)
    return case_out(cases.view(session, principal, instance), clock.now())

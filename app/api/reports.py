"""Compliance with the statutory deadlines per norm, organisation and period (JSON; the web page
with a chart reads services.reports.compliance_report too)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query

from app.api.deps import ClockDep, PrincipalDep, SessionDep, SessionFactoryDep
from app.services import auditing, reports

router = APIRouter(prefix="/api/reports", tags=["reports"])


@router.get("/compliance", responses={403: {"description": "not the MFA, an auditor, an admin or that organisation"}})
def compliance(
    session: SessionDep,
    factory: SessionFactoryDep,
    clock: ClockDep,
    principal: PrincipalDep,
    from_: date = Query(alias="from", description="first day (Asia/Almaty) of the period"),
    to: date = Query(description="last day of the period, inclusive"),
    organisation: str | None = Query(default=None, description="only this organisation's deadlines, e.g. MVD"),
    key: str | None = Query(default=None, description="only cases of this definition, e.g. communication"),
    details: bool = Query(default=False, description="also list every deadline occurrence"),
) -> dict[str, Any]:
    """Deadlines (D1–D5, TB-*) whose last day falls in the period: on time / late / open / breached
    per norm and organisation, with the median and worst lateness in working days."""
    report = reports.compliance_report(session, principal, from_, to, clock, organisation, key, details)
    auditing.exported(
        factory,
        principal.username,
        clock,
        "compliance_report",
        period=[from_.isoformat(), to.isoformat()],
        organisation=organisation,
        definition_key=key,
        details=details,
    )
    return report

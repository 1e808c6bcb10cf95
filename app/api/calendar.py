from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.api.deps import PrincipalDep
from app.services import calendar

router = APIRouter(prefix="/api/calendar", tags=["calendar"])


@router.get(
    "/deadline",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "from": "2024-03-19",
                        "working_days": 5,
                        "due_date": "2024-03-29",
                        "due_at": "2024-03-29T19:00:00Z",
                        "days": [
                            {"date": "2024-03-20", "working": True, "reason": "working day", "working_day_number": 1}
                        ],
                    }
                }
            }
        }
    },
)
def deadline(
    _: PrincipalDep,
    start: Annotated[date, Query(alias="from", description="the day of the event (receipt, sending, publication)")],
    working_days: Annotated[int, Query(ge=1, le=366, description="the period in working days")],
) -> dict[str, Any]:
    """A deadline counted in Kazakhstan working days, explained day by day (Civil Code counting)."""
    return calendar.deadline(start, working_days)


@router.get("/{year}")
def year(_: PrincipalDep, year: Annotated[int, Path(ge=1991, le=2100)]) -> dict[str, Any]:
    """A year's non-working weekdays and working weekend days, each with its reason and decree."""
    return calendar.year(year)

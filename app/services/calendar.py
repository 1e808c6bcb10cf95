"""The working-day calendar as users ask about it: a deadline explained day by day, a year's exceptions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from app.calendar import DayInfo, default_calendar
from app.clock import last_day, local_date
from app.services.errors import Invalid

FIRST_YEAR, LAST_YEAR = 1991, 2100  # the holidays library's Kazakhstan starts with independence


def _day(info: DayInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"date": info.date.isoformat(), "working": info.working, "reason": info.reason}
    if info.decree:
        out["decree"] = info.decree
    if info.ordinal is not None:
        out["working_day_number"] = info.ordinal
    return out


def _check_year(year: int, field: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Invalid([{"field": field, "message": f"the calendar covers {FIRST_YEAR}–{LAST_YEAR}"}])


def deadline(start: date, working_days: int) -> dict[str, Any]:
    """The end of the N-th working day after `start`, with every day in between and why it counts or not."""
    _check_year(start.year, "from")
    calendar = default_calendar()
    due = calendar.add_working_days(start, working_days)
    return {
        "from": start.isoformat(),
        "working_days": working_days,
        "due_date": due.isoformat(),
        "due_at": calendar.due_at(due),
        "time_zone": "Asia/Almaty",
        "count_event_day": calendar.count_event_day,
        "calendar_version": calendar.version,
        "days": [_day(d) for d in calendar.explain(start, working_days)],
    }


def due_view(due_at: datetime | None, now: datetime) -> dict[str, Any]:
    """How a deadline shows on a task: the local last day, working days left (counting today while
    it is a working day and before the deadline), and whether it has passed."""
    if due_at is None:
        return {"due_at": None, "due_date": None, "working_days_left": None, "overdue": False}
    calendar = default_calendar()
    last = last_day(due_at)
    left = calendar.working_days_between(local_date(now), last) if now < due_at else 0
    return {"due_at": due_at, "due_date": last.isoformat(), "working_days_left": left, "overdue": now >= due_at}


def year(value: int) -> dict[str, Any]:
    _check_year(value, "year")
    calendar = default_calendar()
    found = calendar.year(value)
    return {
        "year": value,
        "covered": found["covered"],
        "working_days": found["working_days"],
        "calendar_version": calendar.version,
        "non_working_weekdays": [_day(d) for d in found["non_working_weekdays"]],
        "working_weekend_days": [_day(d) for d in found["working_weekend_days"]],
    }


def span(after: date, last: date) -> list[dict[str, Any]]:
    """Every day from the day after `after` through `last`, numbering the working days: how a
    deadline set as a date (not as N working days) looks from the day a task began."""
    _check_year(after.year, "from")
    calendar = default_calendar()
    days: list[dict[str, Any]] = []
    day, counted = after + timedelta(days=1), 0
    while day <= last and len(days) < 3660:
        info = calendar.day_info(day)
        if info.working:
            counted += 1
            info = DayInfo(info.date, info.working, info.reason, info.decree, counted)
        days.append(_day(info))
        day += timedelta(days=1)
    return days


def year_days(value: int) -> list[dict[str, Any]]:
    """Every day of a year with whether it is worked and why: the calendar page's month grids."""
    _check_year(value, "year")
    calendar = default_calendar()
    day, days = date(value, 1, 1), []
    while day.year == value:
        days.append(_day(calendar.day_info(day)))
        day += timedelta(days=1)
    return days


def end_of(day: date) -> datetime:
    """24:00 Asia/Almaty at the end of `day`, as aware UTC (what "due on or before that day" means)."""
    return default_calendar().due_at(day)

"""Kazakhstan working-day calendar: pure dates in, dates out (no database, no engine).

Deadlines in chapter 2-1 are counted in working days (Civil Code: from the day after the event to
24:00 Asia/Almaty of the last day). The statutory holidays come from the `holidays` package; the
yearly transfer decrees live in `kz.toml`, which an operator extends without touching code.
"""

from app.calendar.data import CalendarData, CalendarError, Decree, load_data
from app.calendar.working_days import (
    DEFAULT_DATA_PATH,
    DayInfo,
    WorkingDayCalendar,
    add_working_days_iso,
    as_date,
    default_calendar,
    working_days_before_iso,
)

__all__ = [
    "DEFAULT_DATA_PATH",
    "CalendarData",
    "CalendarError",
    "DayInfo",
    "Decree",
    "WorkingDayCalendar",
    "add_working_days_iso",
    "as_date",
    "default_calendar",
    "load_data",
    "working_days_before_iso",
]

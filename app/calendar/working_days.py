"""The Kazakhstan working-day calendar: which days count, and when a period of N working days ends.

Layers, each needed because the one below is incomplete:

1. The statutory calendar from `holidays` (public holidays, the Labour Code's carry-over of a
   holiday that falls on a weekend to the next working day, the first day of Kurban Ait).
   The package's own decreed transfers are deliberately stripped (see `_StatutoryKazakhstan`):
2. every transfer comes from `kz.toml`, which names the decree or order that made it, so each
   computed deadline can cite the act; the package's transfers are only used to cross-check
   (`library_disagreements`).
3. `[[holiday]]` / `[[not_holiday]]` entries in `kz.toml` correct the package where it is wrong or late.

Counting follows the Civil Code: a period starts the day after the event and ends at 24:00
(Asia/Almaty) of its last day.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import holidays as holidays_pkg
from holidays.countries.kazakhstan import Kazakhstan

from app.calendar.data import CalendarData, CalendarError, Transfer, load_data
from app.clock import ALMATY

DEFAULT_DATA_PATH = Path(__file__).with_name("kz.toml")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_OBSERVED = " (observed)"
_MAX_SPAN_DAYS = 3660  # no real period is longer; guards against a calendar with no working days


class _StatutoryKazakhstan(Kazakhstan):
    """`Kazakhstan` without the package's decreed transfers ("special" holidays and weekend workdays).

    Transfers come only from kz.toml so that each one carries its decree and the operator's file
    is the single place to review them; keeping the package's as well would count them twice or
    hide a disagreement.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.weekend_workdays = set()

    def _add_special_holidays(self, mapping_names: Any, *, observed: bool = False) -> None:
        return None


@dataclass(frozen=True)
class DayInfo:
    """One calendar day and why it does or does not count; `ordinal` is its place in a period (explain only)."""

    date: date
    working: bool
    reason: str
    decree: str | None = None
    ordinal: int | None = None


class WorkingDayCalendar:
    """Working days in Kazakhstan (five-day week), from the statutory calendar plus `kz.toml`."""

    def __init__(self, data_path: Path | None = None, *, count_event_day: bool = False) -> None:
        self.data_path = Path(data_path) if data_path is not None else DEFAULT_DATA_PATH
        self.count_event_day = count_event_day
        self.data: CalendarData = load_data(self.data_path)
        self.version: str = self.data.version
        self.library_version: str = holidays_pkg.__version__
        self.covered_years: tuple[int, ...] = tuple(sorted(self.data.years))
        self._lock = threading.Lock()  # holidays objects fill years lazily on lookup; not thread-safe
        self._base = _StatutoryKazakhstan(years=self.covered_years, language="en_US")
        self._library = Kazakhstan(years=self.covered_years, language="en_US")
        self._check_semantics()

    # -- what a day is -------------------------------------------------------------------------

    def _base_name(self, d: date) -> str | None:
        with self._lock:
            return self._base.get(d)

    def holiday_name(self, d: date) -> str | None:
        """The holiday on `d` after kz.toml's corrections, or None; transfers are not holidays here."""
        if d in self.data.not_holidays:
            return None
        if d in self.data.holidays:
            return self.data.holidays[d].name
        return self._base_name(d)

    def is_working_day(self, d: date) -> bool:
        return self.day_info(d).working

    def working_days_between(self, first: date, last: date) -> int:
        """Working days from `first` to `last`, both included (0 when `last` is before `first`).

        Cached: task lists ask it for every open task, with the same few pairs of dates."""
        return self._working_days_between(first, last)

    @lru_cache(maxsize=8192)  # noqa: B019 - the calendar lives as long as the process, like its cache
    def _working_days_between(self, first: date, last: date) -> int:
        count, day = 0, first
        while day <= last:
            count += self.is_working_day(day)
            day += timedelta(days=1)
        return count

    def day_info(self, d: date) -> DayInfo:
        """Classify `d`, naming the holiday or the decree that decides it."""
        if isinstance(d, datetime):
            raise TypeError("day_info takes a date, not a datetime (convert to Almaty local date first)")
        if d in self.data.days_off:
            label = self.data.days_off[d].decree.label()
            info = DayInfo(d, False, f"day off (transfer): {label}", label)
        elif d in self.data.working_days:
            label = self.data.working_days[d].decree.label()
            info = DayInfo(d, True, f"working {_WEEKDAY_NAMES[d.weekday()]} (transfer): {label}", label)
        elif name := self.holiday_name(d):
            if name.endswith(_OBSERVED):  # the package's word for the Labour Code's weekend carry-over
                name = name[: -len(_OBSERVED)] + " (carried over from the weekend)"
            info = DayInfo(d, False, name)
        elif d.weekday() >= 5:
            info = DayInfo(d, False, "weekend")
        else:
            info = DayInfo(d, True, "working day")
        if d.year not in self.data.years:
            info = DayInfo(
                info.date,
                info.working,
                f"{info.reason} [year {d.year} not covered by {self.data_path.name}: decreed transfers unknown]",
                info.decree,
            )
        return info

    # -- counting ------------------------------------------------------------------------------

    def _first_counted(self, start: date) -> date:
        return start if self.count_event_day else start + timedelta(days=1)

    def add_working_days(self, start: date, n: int) -> date:
        """The date of the N-th working day after `start` (the event's day), per the Civil Code."""
        return self.explain(start, n)[-1].date

    def explain(self, start: date, n: int) -> list[DayInfo]:
        """Every calendar day from the first counted day through the due date, with why it counts or not."""
        if isinstance(start, datetime):
            raise TypeError("start must be a date (the event's local day in Almaty), not a datetime")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a positive number of working days, got {n!r}")
        days: list[DayInfo] = []
        d = self._first_counted(start)
        counted = 0
        while counted < n:
            if len(days) > _MAX_SPAN_DAYS:
                raise RuntimeError(f"no {n} working days within {_MAX_SPAN_DAYS} days of {start}")
            info = self.day_info(d)
            if info.working:
                counted += 1
                info = DayInfo(info.date, info.working, info.reason, info.decree, counted)
            days.append(info)
            d += timedelta(days=1)
        return days

    def due_at(self, due: date) -> datetime:
        """The instant the clock in Almaty first strikes 24:00 at the end of `due`, as aware UTC.

        Why not simply "next local midnight": on 1 March 2024 Kazakhstan set its clocks back from
        00:00 (UTC+6) to 23:00 (UTC+5), so 29 February 2024 had 25 hours and its wall-clock 24:00
        happened at 18:00Z, an hour before the second midnight. A deadline does not gain the
        repeated hour, so we take the offset in force just before the first 24:00 (fold=0).
        """
        if isinstance(due, datetime):
            raise TypeError("due_at takes a date, not a datetime")
        before_midnight = datetime.combine(due, time(23, 59, 59), tzinfo=ALMATY).replace(fold=0)
        offset = before_midnight.utcoffset()
        assert offset is not None
        end = datetime.combine(due + timedelta(days=1), time(0), tzinfo=timezone(offset))
        return end.astimezone(UTC)

    def deadline(self, start: date, n: int) -> datetime:
        """Shortcut: the aware UTC instant at which a period of `n` working days from `start` ends."""
        return self.due_at(self.add_working_days(start, n))

    def working_days_before(self, end: date, n: int) -> date:
        """The N-th working day before `end`, counting back from the day before it (the mirror of
        `add_working_days`): reminders ahead of a date that someone else set, e.g. a treaty body's."""
        if isinstance(end, datetime):
            raise TypeError("end must be a date, not a datetime")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a positive number of working days, got {n!r}")
        d = end if self.count_event_day else end - timedelta(days=1)
        counted = 0
        for _ in range(_MAX_SPAN_DAYS):
            if self.is_working_day(d):
                counted += 1
                if counted == n:
                    return d
            d -= timedelta(days=1)
        raise RuntimeError(f"no {n} working days within {_MAX_SPAN_DAYS} days before {end}")

    # -- reporting -----------------------------------------------------------------------------

    def year(self, year: int) -> dict[str, Any]:
        """A year's exceptions to Monday–Friday: weekdays that are off and weekend days that are worked."""
        d = date(year, 1, 1)
        non_working: list[DayInfo] = []
        working_weekend: list[DayInfo] = []
        working_count = 0
        while d.year == year:
            info = self.day_info(d)
            working_count += info.working
            if d.weekday() < 5 and not info.working:
                non_working.append(info)
            elif d.weekday() >= 5 and info.working:
                working_weekend.append(info)
            d += timedelta(days=1)
        return {
            "year": year,
            "covered": year in self.data.years,
            "non_working_weekdays": non_working,
            "working_weekend_days": working_weekend,
            "working_days": working_count,
        }

    def library_disagreements(self, years: Iterable[int] | None = None) -> list[str]:
        """Days where the effective calendar and the `holidays` package (with its own transfers) differ.

        Run it after upgrading the package or editing kz.toml: a difference means one of them is
        wrong or late, and someone should look at the decree.
        """
        out: list[str] = []
        for year in years if years is not None else self.covered_years:
            d = date(year, 1, 1)
            while d.year == year:
                ours = self.day_info(d)
                with self._lock:
                    theirs = self._library.is_working_day(d)
                if ours.working != theirs:
                    out.append(
                        f"{d.isoformat()} {_WEEKDAY_NAMES[d.weekday()]}: calendar says "
                        f"{'working' if ours.working else 'not working'} ({ours.reason}); holidays "
                        f"{self.library_version} says {'working' if theirs else 'not working'}"
                    )
                d += timedelta(days=1)
        return out

    # -- validation against the statutory calendar ---------------------------------------------

    def _check_semantics(self) -> None:
        """Reject transfers that cannot be right, naming the line, before any deadline uses them."""
        for day, transfer in self.data.days_off.items():
            self._check_day_off(day, transfer)
        for day, transfer in self.data.working_days.items():
            self._check_working_day(day, transfer)

    def _check_day_off(self, day: date, transfer: Transfer) -> None:
        weekday = _WEEKDAY_NAMES[day.weekday()]
        if day.weekday() >= 5:
            raise self.data.error(
                f"day_off {day.isoformat()} is a {weekday}, already a day off; a transferred "
                "day off must fall on a weekday (a weekend day that is worked is a "
                "[[working_day]])",
                transfer.line,
            )
        if name := self.holiday_name(day):
            raise self.data.error(
                f"day_off {day.isoformat()} ({weekday}) is already a holiday ({name}); no transfer is needed",
                transfer.line,
            )

    def _check_working_day(self, day: date, transfer: Transfer) -> None:
        weekday = _WEEKDAY_NAMES[day.weekday()]
        if day.weekday() < 5:
            status = f"a holiday ({name})" if (name := self.holiday_name(day)) else "already a working day"
            raise self.data.error(
                f"working_day {day.isoformat()} is a {weekday}, {status}; only a Saturday or "
                "Sunday can be declared a working day",
                transfer.line,
            )
        if name := self.holiday_name(day):
            raise self.data.error(
                f"working_day {day.isoformat()} ({weekday}) is a public holiday ({name}); a "
                "holiday cannot be worked by a transfer",
                transfer.line,
            )


@lru_cache(maxsize=1)
def default_calendar() -> WorkingDayCalendar:
    """The calendar from the shipped kz.toml (or CALENDAR_FILE), loaded and validated once per process.

    CALENDAR_COUNT_EVENT_DAY=true makes the event's own day count (the Civil Code default does not)."""
    path = os.environ.get("CALENDAR_FILE")
    count_event_day = os.environ.get("CALENDAR_COUNT_EVENT_DAY", "false").strip().lower() in ("1", "true", "yes")
    return WorkingDayCalendar(Path(path) if path else None, count_event_day=count_event_day)


def as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.astimezone(ALMATY).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"not an ISO date or instant: {value!r}") from None
            return moment.astimezone(ALMATY).date() if moment.tzinfo else moment.date()
    raise TypeError(f"expected a date or ISO string, got {type(value).__name__}")


def add_working_days_iso(start: date | str, n: int, calendar: WorkingDayCalendar | None = None) -> str:
    """ISO instant (UTC) of the end of the N-th working day after `start`: for diagram timer expressions.

    `start` is a date, an ISO date, or an ISO instant (an aware instant is first turned into its
    Almaty local date, which is the day of the event).
    """
    cal = calendar or default_calendar()
    return cal.deadline(as_date(start), n).isoformat()


def working_days_before_iso(end: date | str, n: int, calendar: WorkingDayCalendar | None = None) -> str:
    """ISO instant (UTC) of the start (00:00 Asia/Almaty) of the N-th working day before `end`: for
    reminder timers, which must fire while N working days are still left (`add_working_days` only
    counts forward)."""
    cal = calendar or default_calendar()
    day = cal.working_days_before(as_date(end), n)
    return cal.due_at(day - timedelta(days=1)).isoformat()  # 24:00 of the day before = 00:00 of `day`


__all__ = [
    "DEFAULT_DATA_PATH",
    "CalendarError",
    "DayInfo",
    "WorkingDayCalendar",
    "add_working_days_iso",
    "default_calendar",
    "working_days_before_iso",
]

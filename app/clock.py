"""Time comes from a Clock so tests and replay can set it; stored instants are aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

ALMATY = ZoneInfo("Asia/Almaty")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: tests and replay drive it."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def as_utc(value: datetime) -> datetime:
    """Normalise a datetime read back from the database (SQLite drops tzinfo) to aware UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def frozen(clock: Clock) -> FixedClock:
    """One instant for a whole use case: the engine's own timestamps (task state changes, timer
    checks) then equal the time recorded on the audit events, so a replay at that recorded time
    reproduces the stored state exactly, whatever clock the process runs on."""
    return FixedClock(clock.now())


def local_date(moment: datetime) -> date:
    """The calendar day an instant falls on in Asia/Almaty."""
    return moment.astimezone(ALMATY).date()


def today(clock: Clock) -> date:
    """Today in Asia/Almaty: the day delegations, registrations and starts are judged by."""
    return local_date(clock.now())


def last_day(due_at: datetime) -> date:
    """The last day (Asia/Almaty) of a deadline that ends at `due_at` (24:00, i.e. the next day's 00:00)."""
    return local_date(due_at - timedelta(microseconds=1))

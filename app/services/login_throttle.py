"""Throttling of password logins: after repeated failures for one username, refuse for a while.

Failures are rows of `login_failure`, so every API process and web page sees the same count. The
key is the username, not the address: guessing one account's password from many addresses is the
attack that matters here; the price is that someone can lock an account for LOCKOUT by failing on
purpose, which the message and the audit-free, self-expiring lock keep cheap to live with.
A refused attempt never reaches the slow password check and is not recorded, so a lock ends
LOCKOUT after the failure that started it, however often it is hammered meanwhile."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.clock import Clock
from app.db.models import LoginFailure
from app.db.session import begin_write
from app.services.auth import issue_token
from app.services.errors import Throttled, Unauthorized

LIMIT = 5  # failures ...
WINDOW = timedelta(minutes=15)  # ... within this long lock the username ...
LOCKOUT = timedelta(minutes=15)  # ... for this long after the failure that reached the limit
_KEEP = WINDOW + LOCKOUT  # older failures can no longer matter


def _key(username: str) -> str:
    return username[:80]


def _recent_failures(session: Session, username: str, now: datetime) -> list[datetime]:
    """The username's failures that can still matter, oldest first."""
    rows = list(
        session.scalars(
            select(LoginFailure.at)
            .where(LoginFailure.username == _key(username), LoginFailure.at > now - _KEEP)
            .order_by(LoginFailure.at.desc())
            .limit(200)
        )
    )
    rows.reverse()
    return rows


def _locked_until(failures: list[datetime], now: datetime) -> datetime | None:
    """When the username may try again, or None when it may now."""
    until = None
    for i in range(LIMIT - 1, len(failures)):
        if failures[i] - failures[i - LIMIT + 1] <= WINDOW:
            until = failures[i] + LOCKOUT
    return until if until is not None and until > now else None


def record_failure(session: Session, username: str, remote_addr: str | None, now: datetime) -> None:
    """One short write transaction; also forgets this username's failures too old to matter."""
    begin_write(session)
    key = _key(username)
    session.execute(delete(LoginFailure).where(LoginFailure.username == key, LoginFailure.at <= now - _KEEP))
    session.add(LoginFailure(username=key, remote_addr=(remote_addr or None) and remote_addr[:64], at=now))
    session.commit()


def _clear(session: Session, username: str) -> None:
    begin_write(session)
    session.execute(delete(LoginFailure).where(LoginFailure.username == _key(username)))
    session.commit()


def login(
    session: Session, username: str, password: str, clock: Clock, ttl_minutes: int, remote_addr: str | None = None
) -> str:
    """issue_token behind the throttle: 429 (Throttled) while locked, else the token or 401.

    A success forgets the username's earlier failures, so a few typos never add up over a day."""
    now = clock.now()
    failures = _recent_failures(session, username, now)
    until = _locked_until(failures, now)
    session.rollback()  # end the read: issue_token and the failure record run their own transactions
    if until is not None:
        minutes = max(1, int((until - now).total_seconds() + 59) // 60)
        raise Throttled(
            f"too many failed logins for this user: try again in {minutes} minute(s), after {until.isoformat()}",
            retry_after=until,
        )
    try:
        token = issue_token(session, username, password, clock, ttl_minutes)
    except Unauthorized:
        session.rollback()
        record_failure(session, username, remote_addr, clock.now())
        raise
    if failures:
        _clear(session, username)
    return token

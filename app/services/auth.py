"""Passwords (argon2) and bearer tokens (random, stored as SHA-256, expiring)."""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import Clock, today
from app.db.models import ApiToken, User
from app.db.session import begin_write
from app.services.delegations import acting_memberships
from app.services.errors import Unauthorized
from app.services.principal import MembershipView, Principal

_hasher = PasswordHasher()
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def principal_of(user: User, acting: tuple[MembershipView, ...] = ()) -> Principal:
    """`acting`: head roles held today by acting-head delegations (services.delegations)."""
    return Principal(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        memberships=tuple(
            MembershipView(m.organisation.code, m.organisation.kind, m.role)
            for m in sorted(user.memberships, key=lambda m: (m.organisation.code, m.role))
        )
        + acting,
    )


def issue_token(session: Session, username: str, password: str, clock: Clock, ttl_minutes: int) -> str:
    """Check the password, then hand out a new bearer token.

    The slow password check runs in a read transaction: holding the write lock during it would let
    a flood of wrong logins stall every writer."""
    found = session.execute(
        select(User.id, User.password_hash, User.is_active).where(User.username == username)
    ).first()
    session.rollback()  # end the read before the deliberately slow hash check
    try:
        _hasher.verify(found.password_hash if found else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError) as exc:
        raise Unauthorized("wrong username or password") from exc
    if found is None or not found.is_active:
        raise Unauthorized("wrong username or password")
    token = secrets.token_urlsafe(32)
    now = clock.now()
    begin_write(session)
    session.add(
        ApiToken(
            token_hash=_token_hash(token),
            user_id=found.id,
            created_at=now,
            expires_at=now + timedelta(minutes=ttl_minutes),
        )
    )
    session.commit()
    return token


class PrincipalCache:
    """Recently resolved tokens, so most requests need no database round trip to know who is asking.

    An entry lives `ttl_seconds` (membership changes reach running servers within that time) and
    never beyond the token's own expiry."""

    def __init__(self, ttl_seconds: float = 30.0, size: int = 10_000) -> None:
        self.ttl = timedelta(seconds=ttl_seconds)
        self.size = size
        self._items: dict[str, tuple[Principal, datetime]] = {}
        self._lock = threading.Lock()

    def get(self, token: str, clock: Clock) -> Principal | None:
        key = _token_hash(token)
        with self._lock:
            found = self._items.get(key)
        if found is None or found[1] <= clock.now():
            return None
        return found[0]

    def put(self, token: str, principal: Principal, token_expires_at: datetime, clock: Clock) -> None:
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[_token_hash(token)] = (principal, min(token_expires_at, clock.now() + self.ttl))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def forget(self, token: str) -> None:
        """Drop one token at once (logout), so this process stops honouring it before the TTL."""
        with self._lock:
            self._items.pop(_token_hash(token), None)


def authenticate(session: Session, token: str, clock: Clock, cache: PrincipalCache | None = None) -> Principal:
    row = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == _token_hash(token))
    ).first()
    if row is None:
        raise Unauthorized("the token is not valid; log in again at POST /api/auth/token")
    api_token, user = row
    if api_token.revoked_at is not None or api_token.expires_at <= clock.now() or not user.is_active:
        raise Unauthorized("the token has expired or was revoked; log in again at POST /api/auth/token")
    principal = principal_of(user, acting_memberships(session, user.id, today(clock)))
    if cache is not None:
        cache.put(token, principal, api_token.expires_at, clock)
    return principal


def revoke_token(session: Session, token: str, clock: Clock, cache: PrincipalCache | None = None) -> None:
    """Logout: mark the token revoked (idempotent; an unknown token is no error)."""
    begin_write(session)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock.now()
    session.commit()
    if cache is not None:
        cache.forget(token)

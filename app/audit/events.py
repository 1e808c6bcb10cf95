"""Appending audit events. Each case's events form a hash chain (seq 1, 2, ...), so that any
later change to a stored event is detectable: hash = sha256(prev_hash || canonical JSON).
Events without a case (deployments, user administration) chain among themselves."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from app.db.models import AuditEvent
from app.jsonvalues import normalise

GENESIS = "0" * 64
BATCH_KEY = "audit_rows"  # session.info key of the rows `batched()` collects
GLOBAL_CHAIN_LOCK = 21_786_2022  # any constant; names the advisory lock of the case-less chain


def canonical(event: dict[str, Any]) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


# The fields the hash covers: everything but the id and the hashes themselves.
HASHED_FIELDS = (
    "instance_id",
    "seq",
    "occurred_at",
    "actor",
    "type",
    "task_id",
    "definition_key",
    "definition_version",
    "payload",
)


def event_body(event: AuditEvent | dict[str, Any]) -> dict[str, Any]:
    """What the hash of a stored event (or of a row about to be inserted) is computed over."""
    values = event if isinstance(event, dict) else {f: getattr(event, f) for f in HASHED_FIELDS}
    return {**{f: values[f] for f in HASHED_FIELDS}, "occurred_at": values["occurred_at"].isoformat()}


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(body)).hexdigest()


@dataclass(frozen=True)
class ChainHead:
    """The newest event of a chain (seq 0 and GENESIS for an empty one)."""

    seq: int
    hash: str


EMPTY_CHAIN = ChainHead(0, GENESIS)


def case_heads(session: Session, instance_ids: list[str]) -> dict[str, ChainHead]:
    """The chain heads of many cases in one query (the timer worker writes cases in batches)."""
    newest = (
        select(AuditEvent.instance_id, func.max(AuditEvent.seq).label("seq"))
        .where(AuditEvent.instance_id.in_(instance_ids))
        .group_by(AuditEvent.instance_id)
        .subquery()
    )
    rows = session.execute(
        select(AuditEvent.instance_id, AuditEvent.seq, AuditEvent.hash).join(
            newest, (AuditEvent.instance_id == newest.c.instance_id) & (AuditEvent.seq == newest.c.seq)
        )
    )
    heads = {instance_id: EMPTY_CHAIN for instance_id in instance_ids}
    heads.update({instance_id: ChainHead(seq, hash_) for instance_id, seq, hash_ in rows})
    return heads


@dataclass(frozen=True)
class NewEvent:
    type: str
    payload: dict[str, Any]
    task_id: str | None = None


def record(
    session: Session,
    *,
    occurred_at: datetime,
    actor: str,
    type: str,
    payload: dict[str, Any],
    instance_id: str | None = None,
    task_id: str | None = None,
    definition_key: str | None = None,
    definition_version: int | None = None,
) -> None:
    """Append one event in the caller's transaction (the case row is already locked by then)."""
    record_many(
        session,
        occurred_at=occurred_at,
        actor=actor,
        events=[NewEvent(type, payload, task_id)],
        instance_id=instance_id,
        definition_key=definition_key,
        definition_version=definition_version,
    )


def record_many(
    session: Session,
    *,
    occurred_at: datetime,
    actor: str,
    events: list[NewEvent],
    instance_id: str | None = None,
    definition_key: str | None = None,
    definition_version: int | None = None,
    head: ChainHead | None = None,
) -> None:
    """Append events of one state change, chained after the case's newest event.

    A case's chain is serialised by the lock on the case row. The chain of events without a case
    has no row to lock: on PostgreSQL a transaction-scoped advisory lock serialises it (SQLite's
    writers are serial anyway), and a partial unique index refuses a fork should that ever fail.
    `head` is the case's chain head when the caller read it already, under the same lock."""
    if instance_id is None and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": GLOBAL_CHAIN_LOCK})
    if head is None:
        with session.no_autoflush:  # the case's own changes are flushed once, at commit
            last = session.execute(
                select(AuditEvent.seq, AuditEvent.hash)
                .where(
                    AuditEvent.instance_id.is_(None) if instance_id is None else AuditEvent.instance_id == instance_id
                )
                .order_by(AuditEvent.seq.desc())
                .limit(1)
            ).first()
        head = ChainHead(last[0], last[1]) if last else EMPTY_CHAIN
    seq, prev_hash = head.seq, head.hash
    rows = []
    for new in events:
        seq += 1
        row = {
            "instance_id": instance_id,
            "seq": seq,
            "occurred_at": occurred_at,
            "actor": actor,
            "type": new.type,
            "task_id": new.task_id,
            "definition_key": definition_key,
            "definition_version": definition_version,
            # as the database will give it back (JSONB turns 1e308 into an integer): the hash covers that
            "payload": normalise(json.loads(json.dumps(new.payload, default=str))),
        }
        row["prev_hash"] = prev_hash
        row["hash"] = prev_hash = chain_hash(prev_hash, event_body(row))
        rows.append(row)
    batch = session.info.get(BATCH_KEY)
    if batch is not None:  # the caller writes several cases and inserts all their events at once
        batch.extend(rows)
    elif rows:
        # One executemany, now: the ORM would insert row by row to fetch ids nobody reads.
        _insert(session, rows)


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    """A Core executemany on the session's connection: the ORM's bulk path costs more than the rows."""
    session.connection().execute(insert(AuditEvent.__table__), rows)


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """Collect the events appended inside the block and insert them in one statement at its end
    (the timer worker wakes 50 cases per transaction: one round trip instead of 50)."""
    session.info[BATCH_KEY] = rows = []
    try:
        yield
    finally:
        session.info.pop(BATCH_KEY, None)
    if rows:
        _insert(session, rows)

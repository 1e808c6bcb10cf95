"""Appending audit events. Each case's events form a hash chain (seq 1, 2, ...), so that any
later change to a stored event is detectable: hash = sha256(prev_hash || canonical JSON).
Events without a case (deployments, user administration) chain among themselves."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import AuditEvent

GENESIS = "0" * 64


def canonical(event: dict[str, Any]) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def event_body(event: AuditEvent) -> dict[str, Any]:
    """The fields the hash covers; everything but id and the hashes themselves."""
    return {
        "instance_id": event.instance_id,
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor,
        "type": event.type,
        "task_id": event.task_id,
        "definition_key": event.definition_key,
        "definition_version": event.definition_version,
        "payload": event.payload,
    }


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(body)).hexdigest()


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
) -> AuditEvent:
    """Append one event in the caller's transaction (the case row is already locked by then)."""
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.instance_id.is_(None) if instance_id is None else AuditEvent.instance_id == instance_id)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    event = AuditEvent(
        instance_id=instance_id,
        seq=seq,
        occurred_at=occurred_at,
        actor=actor,
        type=type,
        task_id=task_id,
        definition_key=definition_key,
        definition_version=definition_version,
        payload=json.loads(json.dumps(payload, default=str)),
        prev_hash=prev_hash,
        hash="",
    )
    event.hash = chain_hash(prev_hash, event_body(event))
    session.add(event)
    session.flush()
    return event


def count_events(session: Session, instance_id: str) -> int:
    return session.scalar(select(func.count()).where(AuditEvent.instance_id == instance_id)) or 0

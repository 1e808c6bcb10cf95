"""Checking the hash chains, and anchors that let an auditor prove later that nothing was cut off.

A chain alone proves that no stored event was changed, removed from the middle or re-ordered; it
cannot show that the newest events were deleted (the shorter chain is still a valid chain). An
anchor is a statement of every chain's head at one instant, which an auditor keeps outside the
system; `check_anchor` then proves that today's database still extends what the anchor saw.

Anchor statement (format `kz-hr-audit-anchor/1`):
    {"format", "generated_at", "chains": {case id: {"seq", "hash"}}, "global": {"seq", "hash"},
     "root", "signature"}
    root = sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of the statement's
           "format", "generated_at", "chains" and "global" members;
    signature = HMAC-SHA256 over the root's hex digits with the operator's key (or null when no key
           is configured): {"algorithm": "hmac-sha256", "key_id": first 16 hex digits of
           sha256(key), "value": hex}.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import groupby
from operator import attrgetter
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from app.audit.events import GENESIS, canonical, chain_hash, event_body
from app.db.models import AuditEvent

ANCHOR_FORMAT = "kz-hr-audit-anchor/1"
GLOBAL_CHAIN = "(global)"  # how the case-less chain is named in reports

PAYLOAD_ALTERED = "payload_altered"  # the event's content no longer gives its stored hash
LINK_BROKEN = "link_broken"  # the event's prev_hash is not the hash of the event before it
SEQ_GAP = "seq_gap"  # an event is missing (or one was inserted out of order)


@dataclass(frozen=True)
class Break:
    """The first broken link of one chain."""

    chain: str  # case id, or GLOBAL_CHAIN
    seq: int
    kind: str  # PAYLOAD_ALTERED | LINK_BROKEN | SEQ_GAP
    expected: str  # the hash (or seq) the chain says should be there
    stored: str  # what is stored
    event_type: str | None = None

    def describe(self) -> str:
        what = {
            PAYLOAD_ALTERED: "the event's content was altered (its hash does not match it)",
            LINK_BROKEN: "the link to the previous event is broken (prev_hash differs)",
            SEQ_GAP: "an event is missing or out of order",
        }[self.kind]
        kind = f" ({self.event_type})" if self.event_type else ""
        return f"chain {self.chain}, seq {self.seq}{kind}: {what}; expected {self.expected}, stored {self.stored}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message": self.describe()}


@dataclass
class ChainReport:
    chain: str
    events: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    first_break: Break | None = None


@dataclass
class VerifyReport:
    chains: list[ChainReport] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(c.events for c in self.chains)

    @property
    def breaks(self) -> list[Break]:
        return [c.first_break for c in self.chains if c.first_break is not None]

    @property
    def ok(self) -> bool:
        return not self.breaks

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "chains_checked": len(self.chains),
            "events_checked": self.events,
            "breaks": [b.as_dict() for b in self.breaks],
        }


def _check(chain: str, events: Iterable[AuditEvent]) -> ChainReport:
    """Walk one chain in seq order; its first break is what is reported."""
    report = ChainReport(chain)
    expected_seq, prev = 1, GENESIS
    for event in events:
        report.events += 1
        report.head_seq, report.head_hash = event.seq, event.hash
        if report.first_break is not None:
            continue  # keep counting and finding the head; the first break is what is reported
        if event.seq != expected_seq:
            report.first_break = Break(chain, event.seq, SEQ_GAP, f"seq {expected_seq}", f"seq {event.seq}", event.type)
        elif event.prev_hash != prev:
            report.first_break = Break(chain, event.seq, LINK_BROKEN, prev, event.prev_hash, event.type)
        else:
            recomputed = chain_hash(event.prev_hash, event_body(event))
            if recomputed != event.hash:
                report.first_break = Break(chain, event.seq, PAYLOAD_ALTERED, recomputed, event.hash, event.type)
        expected_seq, prev = event.seq + 1, event.hash
    return report


def _streamed(where: ColumnElement[bool], *order: Any) -> Select[tuple[AuditEvent]]:
    """Events in chain order, read 2,000 rows at a time."""
    return select(AuditEvent).where(where).order_by(*order).execution_options(yield_per=2000)


def verify_case(session: Session, instance_id: str) -> ChainReport:
    return _check(instance_id, session.scalars(_streamed(AuditEvent.instance_id == instance_id, AuditEvent.seq)))


def verify_global(session: Session) -> ChainReport:
    return _check(GLOBAL_CHAIN, session.scalars(_streamed(AuditEvent.instance_id.is_(None), AuditEvent.seq)))


def verify_all(session: Session) -> VerifyReport:
    """Every case's chain and the case-less chain, in one pass over the table (streamed)."""
    rows = session.scalars(_streamed(AuditEvent.instance_id.is_not(None), AuditEvent.instance_id, AuditEvent.seq))
    cases = [_check(str(chain), events) for chain, events in groupby(rows, key=attrgetter("instance_id"))]
    return VerifyReport([verify_global(session), *cases])


def verify(session: Session, instance_id: str | None = None) -> VerifyReport:
    """One case's chain, or everything when `instance_id` is None."""
    if instance_id is None:
        return verify_all(session)
    return VerifyReport([verify_case(session, instance_id)])


# -- anchors ---------------------------------------------------------------------------------------
def heads(session: Session) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Every case chain's head and the case-less chain's head, as stored now."""
    newest = (
        select(AuditEvent.instance_id, func.max(AuditEvent.seq).label("seq"))
        .where(AuditEvent.instance_id.is_not(None))
        .group_by(AuditEvent.instance_id)
        .subquery()
    )
    rows = session.execute(
        select(AuditEvent.instance_id, AuditEvent.seq, AuditEvent.hash).join(
            newest, (AuditEvent.instance_id == newest.c.instance_id) & (AuditEvent.seq == newest.c.seq)
        )
    )
    chains = {str(i): {"seq": seq, "hash": h} for i, seq, h in rows}
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.instance_id.is_(None))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    global_head = {"seq": last[0], "hash": last[1]} if last else {"seq": 0, "hash": GENESIS}
    return dict(sorted(chains.items())), global_head


def root_hash(statement: dict[str, Any]) -> str:
    signed = {k: statement.get(k) for k in ("format", "generated_at", "chains", "global")}
    return hashlib.sha256(canonical(signed)).hexdigest()


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def sign(root: str, key: bytes) -> dict[str, str]:
    return {
        "algorithm": "hmac-sha256",
        "key_id": key_id(key),
        "value": hmac.new(key, root.encode(), hashlib.sha256).hexdigest(),
    }


def make_anchor(session: Session, now: datetime, key: bytes | None) -> dict[str, Any]:
    """The statement an auditor stores outside the system (see the module's docstring)."""
    chains, global_head = heads(session)
    statement: dict[str, Any] = {
        "format": ANCHOR_FORMAT,
        "generated_at": now.isoformat(),
        "chains": chains,
        "global": global_head,
    }
    statement["root"] = root_hash(statement)
    statement["signature"] = sign(statement["root"], key) if key else None
    return statement


@dataclass
class AnchorReport:
    """What became of the heads an anchor saw. `problems` are about the statement itself."""

    anchored_chains: int = 0
    missing: list[dict[str, Any]] = field(default_factory=list)  # head's seq no longer stored
    changed: list[dict[str, Any]] = field(default_factory=list)  # stored at that seq with another hash
    extended: int = 0  # chains with events after the anchored head (allowed)
    problems: list[str] = field(default_factory=list)
    signature: str = "absent"  # absent | valid | not_checked (no key) | invalid

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.problems)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "anchored_chains": self.anchored_chains,
            "extended_chains": self.extended,
            "missing": self.missing,
            "changed": self.changed,
            "problems": self.problems,
            "signature": self.signature,
        }


def check_anchor(session: Session, statement: dict[str, Any], key: bytes | None) -> AnchorReport:
    """Does the database still extend what the anchor saw? Every anchored head must still be stored
    at the same seq with the same hash; events after it are allowed. The statement's own root (and
    signature, when a key is at hand) is checked first, so an edited anchor file is not trusted."""
    report = AnchorReport()
    if statement.get("format") != ANCHOR_FORMAT:
        report.problems.append(f"not an anchor of format {ANCHOR_FORMAT!r}")
        return report
    if root_hash(statement) != statement.get("root"):
        report.problems.append("the anchor's root does not match its content: the file was altered")
    signature = statement.get("signature")
    if signature:
        if key is None:
            report.signature = "not_checked"
        elif signature.get("key_id") != key_id(key):
            report.signature = "not_checked"
            report.problems.append(f"the anchor was signed with key {signature.get('key_id')}, not the configured key")
        elif hmac.compare_digest(sign(str(statement.get("root")), key)["value"], str(signature.get("value"))):
            report.signature = "valid"
        else:
            report.signature = "invalid"
            report.problems.append("the anchor's signature is not valid for its root")
    chains: dict[str, dict[str, Any]] = dict(statement.get("chains") or {})
    report.anchored_chains = len(chains)
    now_chains, now_global = heads(session)
    wanted = {case: int(head["seq"]) for case, head in chains.items()}
    stored = _hashes_at(session, wanted)
    for case, head in chains.items():
        _compare(report, case, head, stored.get(case), now_chains.get(case, {"seq": 0})["seq"])
    anchored_global = statement.get("global") or {"seq": 0, "hash": GENESIS}
    global_stored = (
        session.scalar(
            select(AuditEvent.hash).where(AuditEvent.instance_id.is_(None), AuditEvent.seq == anchored_global["seq"])
        )
        if anchored_global["seq"]
        else GENESIS
    )
    _compare(report, GLOBAL_CHAIN, anchored_global, global_stored, now_global["seq"])
    return report


def _compare(report: AnchorReport, chain: str, head: dict[str, Any], stored: str | None, newest_seq: int) -> None:
    seq, expected = int(head["seq"]), str(head["hash"])
    if stored is None:
        report.missing.append({"chain": chain, "seq": seq, "hash": expected, "stored_head_seq": newest_seq})
    elif stored != expected:
        report.changed.append({"chain": chain, "seq": seq, "anchored_hash": expected, "stored_hash": stored})
    elif newest_seq > seq:
        report.extended += 1


def _hashes_at(session: Session, wanted: dict[str, int], batch: int = 500) -> dict[str, str]:
    """The stored hash at each case's anchored seq (None where gone), a few hundred cases a query."""
    found: dict[str, str] = {}
    cases = list(wanted)
    for start in range(0, len(cases), batch):
        chunk = cases[start : start + batch]
        rows = session.execute(
            select(AuditEvent.instance_id, AuditEvent.seq, AuditEvent.hash).where(
                AuditEvent.instance_id.in_(chunk), AuditEvent.seq.in_(sorted({wanted[c] for c in chunk}))
            )
        )
        for instance_id, seq, digest in rows:
            if wanted.get(str(instance_id)) == seq:
                found[str(instance_id)] = digest
    return found

"""Durable deadlines: timer rows kept with the case state, fired exactly once by workers.

The engine decides when a timer fires (its state is the truth); the `timer` table is the index a
worker reads to know which case to wake, so firing never scans case states. A case is always
woken under its row lock, and SpiffWorkflow fires a due timer once and records it in the state, so
a timer fires once however many workers wake the same case.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.audit import events as audit
from app.audit.events import NewEvent
from app.calendar import default_calendar
from app.clock import Clock, frozen
from app.db.models import HumanTask, ProcessInstance, Timer
from app.db.session import begin_write
from app.engine import ArmedTimer, Case, ReadyTask

log = logging.getLogger(__name__)
TIMER_ACTOR = "system:timer"
MAX_ATTEMPTS = 5
# Recorded whenever a case is woken to let due timers fire: the input that replay re-applies
# (Case.refresh at that instant), so it never has to guess where one change ends and the next begins.
WOKEN = "case_woken"


def sync(
    session: Session,
    instance: ProcessInstance,
    case: Case,
    ready: list[ReadyTask],
    open_rows: list[HumanTask],
    now: datetime,
    armed_rows: list[Timer],
) -> list[NewEvent]:
    """Bring the case's timer rows (`armed_rows`, read by the caller) and its tasks' deadline fields
    in line with the engine; in the caller's transaction. Returns the audit events: armed, re-armed,
    fired, disarmed, breached."""
    armed = {t.id: t for t in case.armed_timers()}
    rows = {r.id: r for r in armed_rows}
    events: list[NewEvent] = []
    breached: list[Timer] = []
    for timer_id, row in rows.items():
        if timer_id in armed:
            continue
        if case.timer_outcome(timer_id) == "fired":
            row.status, row.fired_at = "fired", now
            if row.deadline:
                breached.append(row)
            else:  # a timer that is no deadline (a reminder): nothing becomes overdue
                events.append(NewEvent("timer_fired", {"element": row.element_id, "norm": row.norm}, timer_id))
        else:
            row.status = "disarmed"
            events.append(NewEvent("timer_disarmed", {"deadline": row.deadline, "element": row.element_id}, timer_id))
    version = default_calendar().version
    for timer_id, timer in armed.items():
        row = rows.get(timer_id)
        if row is None:
            session.add(
                Timer(
                    id=timer_id,
                    instance_id=instance.id,
                    element_id=timer.bpmn_id,
                    attached_to=timer.attached_to,
                    deadline=timer.deadline,
                    norm=timer.norm,
                    due_at=timer.due_at,
                    calendar_version=version,
                    status="armed",
                    armed_at=now,
                    attempts=0,
                )
            )
            events.append(NewEvent("timer_armed", _describe(timer, version, ready), timer_id))
        elif row.due_at != timer.due_at:
            events.append(
                NewEvent(
                    "timer_rearmed",
                    {**_describe(timer, version, ready), "previous_due_at": row.due_at.isoformat()},
                    timer_id,
                )
            )
            row.due_at, row.calendar_version = timer.due_at, version
    _mark_tasks({r.id: r for r in open_rows}, ready, list(armed.values()), breached)
    for row in breached:
        if row.deadline not in (instance.overdue or []):
            instance.overdue = [*(instance.overdue or []), row.deadline]
        events.append(
            NewEvent(
                "deadline_breached",
                {
                    "deadline": row.deadline,
                    "norm": row.norm,
                    "due_at": row.due_at.isoformat(),
                    "element": row.element_id,
                },
                row.id,
            )
        )
    return events


def _describe(timer: ArmedTimer, calendar_version: str, ready: list[ReadyTask]) -> dict[str, object]:
    """`organisation`: whose act the timer governs (the organisations of the open tasks inside the
    governed activity), recorded so that compliance reports per organisation need no engine."""
    governed = sorted({t.organisation for t in ready if timer.attached_to and timer.attached_to in t.enclosing})
    return {
        "deadline": timer.deadline,
        "norm": timer.norm,
        "element": timer.bpmn_id,
        "due_at": timer.due_at.isoformat(),
        "calendar_version": calendar_version,
        "organisation": "; ".join(governed) or None,
    }


class Governing(Protocol):
    """A deadline as an armed timer, a timer row or a replayed breach all describe it."""

    attached_to: str | None
    due_at: datetime


G = TypeVar("G", bound=Governing)


def earliest_over(task: ReadyTask, deadlines: Iterable[G]) -> G | None:
    """The earliest of the deadlines on the activities the task runs in (itself included): the
    one a task shows, in the task list and in the as-of view alike."""
    inside = set(task.enclosing)
    return min((d for d in deadlines if d.attached_to in inside), key=lambda d: d.due_at, default=None)


def _mark_tasks(
    rows: dict[str, HumanTask], ready: list[ReadyTask], armed: list[ArmedTimer], breached: list[Timer]
) -> None:
    """Each open task shows the earliest armed deadline over it, and is overdue once one passed."""
    for task in ready:
        row = rows.get(task.id)
        if row is None:
            continue
        first = earliest_over(task, armed)
        if first is not None:
            row.due_at, row.deadline, row.deadline_norm = first.due_at, first.deadline, first.norm
        breach = earliest_over(task, breached)
        if breach is not None:
            row.overdue = True
            if row.due_at is None or breach.due_at <= row.due_at:
                row.due_at, row.deadline, row.deadline_norm = breach.due_at, breach.deadline, breach.norm


# -- firing ----------------------------------------------------------------------------------------
@dataclass
class FireReport:
    cases_woken: int = 0
    failures: list[str] = field(default_factory=list)


def due_cases(session: Session, now: datetime, limit: int) -> list[str]:
    rows = session.execute(
        select(Timer.instance_id, func.min(Timer.due_at).label("due"))
        .where(Timer.status == "armed", Timer.due_at <= now)
        .group_by(Timer.instance_id)
        .order_by("due")
        .limit(limit)
    ).all()
    return [r[0] for r in rows]


def wake_cases(factory: sessionmaker[Session], instance_ids: list[str], clock: Clock) -> list[str]:
    """Fire what is due in these cases, all in one transaction; returns the cases woken.

    Cases another transaction holds are skipped (PostgreSQL: `FOR UPDATE SKIP LOCKED` on the case
    rows, the same rows every other writer locks), so workers never wait on each other or on an
    officer; a skipped case is found again at the next poll. One commit for the batch is what makes
    10,000 deadlines due at once fire in seconds: on SQLite every commit is a WAL write. Any error
    rolls the whole batch back; the caller then retries its cases one by one."""
    from app.services import cases  # services call each other; imported here to keep the cycle lazy

    clock = frozen(clock)  # one instant for the engine and the audit events: replay reproduces it
    now = clock.now()
    due = exists().where(Timer.instance_id == ProcessInstance.id, Timer.status == "armed", Timer.due_at <= now)
    with factory() as session:
        begin_write(session)
        claim = select(ProcessInstance).where(ProcessInstance.id.in_(instance_ids), due).order_by(ProcessInstance.id)
        if session.get_bind().dialect.name == "postgresql":
            claim = claim.with_for_update(of=ProcessInstance, skip_locked=True)
        instances = list(session.scalars(claim))
        if not instances:
            return []
        with session.no_autoflush, audit.batched(session):  # one flush and one audit insert for the batch
            rows = cases.read_rows(session, [i.id for i in instances])
            for instance in instances:
                case = cases.restore(instance, clock)
                case.refresh()
                woken = NewEvent(WOKEN, {"reason": "timers due"})
                cases.save(
                    session,
                    instance,
                    case,
                    actor=TIMER_ACTOR,
                    now=now,
                    events=[woken],
                    commit=False,
                    rows=rows[instance.id],
                )
        session.commit()
        return [i.id for i in instances]


def fire_due(factory: sessionmaker[Session], clock: Clock, batch: int = 200, per_transaction: int = 50) -> FireReport:
    """Wake every case with a timer due at the clock's instant, `per_transaction` cases at a time."""
    report = FireReport()
    seen: set[str] = set()  # each case is woken at most once per call: no spinning on a stubborn timer
    stubborn = 0  # cases seen already that were still due at the last look (locked, failing, ...)
    while True:
        with factory() as session:
            due = due_cases(session, clock.now(), batch + stubborn)
        candidates = [c for c in due if c not in seen]
        stubborn = len(due) - len(candidates)
        if not candidates:
            return report
        # Workers that walk the same list in the same order keep skipping each other's claims.
        random.shuffle(candidates)
        seen.update(candidates)
        for start in range(0, len(candidates), per_transaction):
            chunk = candidates[start : start + per_transaction]
            try:
                report.cases_woken += len(wake_cases(factory, chunk, clock))
            except Exception as exc:
                if len(chunk) == 1:
                    _failed(factory, report, chunk[0], clock, exc)
                    continue
                log.info("a batch of %d cases failed (%s); firing them one by one", len(chunk), exc)
                for instance_id in chunk:  # one broken case must not stop the others
                    try:
                        report.cases_woken += len(wake_cases(factory, [instance_id], clock))
                    except Exception as one:
                        _failed(factory, report, instance_id, clock, one)


def _failed(factory: sessionmaker[Session], report: FireReport, instance_id: str, clock: Clock, exc: Exception) -> None:
    log.exception("firing timers of case %s failed", instance_id, exc_info=exc)
    report.failures.append(f"{instance_id}: {exc}")
    _record_failure(factory, instance_id, clock.now(), exc)


def _record_failure(factory: sessionmaker[Session], instance_id: str, now: datetime, exc: Exception) -> None:
    with factory() as session:
        begin_write(session)
        for row in session.scalars(
            select(Timer).where(Timer.instance_id == instance_id, Timer.status == "armed", Timer.due_at <= now)
        ):
            row.attempts += 1
            row.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
        session.commit()


def rearm_cases(
    factory: sessionmaker[Session], clock: Clock, reason: str, instance_id: str | None = None, stale_only: bool = False
) -> int:
    """Recompute armed timers (all, one case's, or those computed with another calendar version);
    each case in its own transaction, audited as `timers_recomputed` (+ `timer_rearmed` where moved)."""
    from app.services import cases

    version = default_calendar().version
    with factory() as session:
        query = select(Timer.instance_id).where(Timer.status == "armed").distinct()
        if instance_id:
            query = query.where(Timer.instance_id == instance_id)
        if stale_only:
            query = query.where(Timer.calendar_version != version)
        instance_ids = list(session.scalars(query))
    for case_id in instance_ids:
        with factory() as session:
            begin_write(session)
            instance = cases.lock(session, case_id)
            event = cases.Event("timers_recomputed", {"calendar_version": version, "reason": reason})
            cases.rearm(session, instance, None, TIMER_ACTOR, clock, event)
    return len(instance_ids)


def next_due(factory: sessionmaker[Session]) -> datetime | None:
    with factory() as session:
        return session.scalar(select(func.min(Timer.due_at)).where(Timer.status == "armed"))


def run_worker(
    factory: sessionmaker[Session], clock: Clock, poll_seconds: float = 1.0, stop: threading.Event | None = None
) -> None:
    """Fire due timers until stopped; sleep until the next due instant or the poll interval."""
    stop = stop or threading.Event()
    try:
        moved = rearm_cases(factory, clock, "the calendar file changed", stale_only=True)
        if moved:
            log.info("re-armed the timers of %d case(s) computed with an older calendar", moved)
    except Exception:
        log.exception("timer worker: re-arming timers of an older calendar failed; will fire as armed")
    while not stop.is_set():
        try:
            fire_due(factory, clock)
            upcoming = next_due(factory)
        except Exception:
            log.exception("timer worker: database unavailable; retrying")
            upcoming = None
        wait = poll_seconds
        if upcoming is not None:
            wait = max(0.0, min(poll_seconds, (upcoming - clock.now()) / timedelta(seconds=1)))
        stop.wait(wait)

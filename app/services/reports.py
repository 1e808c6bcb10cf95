"""Compliance with the statutory deadlines, per norm and per organisation, over a period.

The unit is one deadline occurrence: one armed deadline timer (D1..D5 on chapter 2-1's diagram,
TB-* on the treaty-body diagram) of one case, with its final due instant (after extensions). An
occurrence belongs to the period when its last day (Asia/Almaty) falls in it. Its outcome, as of
the report's instant:

- `on_time`: the governed act was done by the deadline (the timer was disarmed when it ended);
- `late`: the deadline passed (breached) and the act was done afterwards;
- `breached`: the deadline passed and the act is still not done;
- `open`: not done, not yet due.

Lateness is counted in working days (the Kazakhstan calendar): the working days from the day after
the last day up to the day the act was done (late) or up to today (breached). The median and the
worst are over the late and breached occurrences. An occurrence's organisation is whose tasks the
deadline governs, as recorded on its `timer_armed` event.

`compliance_report()` is what `GET /api/reports/compliance` returns; the web page's chart reads the
same dict (its `norms[*].organisations[*]` rows are one bar each).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import default_calendar
from app.clock import Clock, last_day, local_date
from app.db.models import AuditEvent, ProcessDefinition, ProcessInstance, Timer
from app.engine import Case, EngineError
from app.services import cases
from app.services.errors import Forbidden
from app.services.exports import check_period, day_start
from app.services.principal import Principal

STATUTORY = ("D1", "D2", "D3", "D4", "D5")  # always listed, also with no occurrence in the period
OUTCOMES = ("on_time", "late", "open", "breached")


@dataclass
class Occurrence:
    instance_id: str
    business_key: str | None
    definition_key: str
    timer_id: str
    deadline: str
    norm: str | None
    organisation: str | None
    due_at: datetime
    due_date: date
    outcome: str
    done_at: datetime | None
    lateness_working_days: int | None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["due_at"] = self.due_at.isoformat()
        out["due_date"] = self.due_date.isoformat()
        out["done_at"] = self.done_at.isoformat() if self.done_at else None
        return out


def occurrences(
    session: Session, start: date, end: date, now: datetime, clock: Clock, key: str | None = None
) -> list[Occurrence]:
    """Every deadline occurrence whose last day falls in the period, with its outcome at `now`."""
    check_period(start, end)
    query = (
        select(Timer, ProcessInstance)
        .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .where(
            Timer.deadline.is_not(None),
            Timer.due_at > day_start(start),
            Timer.due_at <= day_start(end + timedelta(days=1)),
        )
        .order_by(Timer.due_at, Timer.id)
    )
    if key:
        query = query.join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id).where(
            ProcessDefinition.key == key
        )
    rows = session.execute(query).all()
    organisation: dict[str, str | None] = {}
    disarmed_at: dict[str, datetime] = {}
    for batch in range(0, len(rows), 500):
        chunk = rows[batch : batch + 500]
        for task_id, type_, payload, at in session.execute(
            select(AuditEvent.task_id, AuditEvent.type, AuditEvent.payload, AuditEvent.occurred_at)
            .where(
                # by case first: audit_event is indexed on instance_id, not on task_id (the timer's id here)
                AuditEvent.instance_id.in_(sorted({t.instance_id for t, _ in chunk})),
                AuditEvent.task_id.in_([t.id for t, _ in chunk]),
                AuditEvent.type.in_(("timer_armed", "timer_disarmed")),
            )
            .order_by(AuditEvent.seq)
        ):
            if type_ == "timer_armed":
                organisation.setdefault(str(task_id), (payload or {}).get("organisation"))
            else:
                disarmed_at[str(task_id)] = at
    calendar = default_calendar()
    restored: dict[str, Case | None] = {}
    found = []
    for timer, instance in rows:
        due_date = last_day(timer.due_at)
        done_at: datetime | None = None
        if timer.status == "disarmed":
            outcome, done_at = "on_time", disarmed_at.get(timer.id)
        elif timer.status == "fired" or timer.due_at <= now:
            done_at = _act_done(restored, instance, timer, clock)
            outcome = "late" if done_at is not None else "breached"
        else:
            outcome = "open"
        lateness = None
        if outcome in ("late", "breached"):
            until = local_date(done_at or now)
            lateness = calendar.working_days_between(due_date + timedelta(days=1), until)
        found.append(
            Occurrence(
                instance_id=instance.id,
                business_key=instance.business_key,
                definition_key=instance.definition.key,
                timer_id=timer.id,
                deadline=str(timer.deadline),
                norm=timer.norm,
                organisation=organisation.get(timer.id),
                due_at=timer.due_at,
                due_date=due_date,
                outcome=outcome,
                done_at=done_at,
                lateness_working_days=lateness,
            )
        )
    return found


def _act_done(
    restored: dict[str, Case | None], instance: ProcessInstance, timer: Timer, clock: Clock
) -> datetime | None:
    """When the activity a breached deadline governs was completed (the engine's record), if it was."""
    if timer.attached_to is None:
        return None
    if instance.id not in restored:
        try:
            restored[instance.id] = cases.restore(instance, clock)
        except Exception:  # a case that cannot be restored is reported as not done, not as a failure
            restored[instance.id] = None
    case = restored[instance.id]
    if case is None:
        return None
    try:
        return case.finished_at(timer.attached_to)
    except EngineError:
        return None


def _summary(items: list[Occurrence]) -> dict[str, Any]:
    counts = {outcome: sum(1 for o in items if o.outcome == outcome) for outcome in OUTCOMES}
    lateness = [o.lateness_working_days for o in items if o.lateness_working_days is not None]
    return {
        **counts,
        "total": len(items),
        "median_lateness_working_days": statistics.median(lateness) if lateness else None,
        "worst_lateness_working_days": max(lateness) if lateness else None,
    }


def _per_organisation(items: list[Occurrence]) -> list[dict[str, Any]]:
    by_org: dict[str, list[Occurrence]] = defaultdict(list)
    for o in items:
        by_org[o.organisation or "(unknown)"].append(o)
    return [{"organisation": org, **_summary(rows)} for org, rows in sorted(by_org.items())]


def may_report(principal: Principal, organisation: str | None) -> None:
    """The MFA, auditors and admins see every organisation; a member (officer or head) of an
    organisation may see that organisation's own report."""
    if cases.sees_all_cases(principal):
        return
    if organisation and principal.can_see_tasks_of(organisation):
        return
    raise Forbidden(
        "compliance reports are for the MFA, auditors and admins; members of an organisation may ask for "
        "their own (organisation=CODE)"
    )


def compliance_report(
    session: Session,
    principal: Principal,
    start: date,
    end: date,
    clock: Clock,
    organisation: str | None = None,
    key: str | None = None,
    details: bool = False,
) -> dict[str, Any]:
    """Per norm (deadline label) and organisation: on time / late / open / breached, with the median
    and worst lateness in working days. See the module's docstring for the definitions."""
    may_report(principal, organisation)
    now = clock.now()
    items = occurrences(session, start, end, now, clock, key)
    if organisation:
        items = [o for o in items if organisation in (o.organisation or "").split("; ")]
    by_deadline: dict[str, list[Occurrence]] = defaultdict(list)
    for o in items:
        by_deadline[o.deadline].append(o)
    labels = [*STATUTORY, *sorted(d for d in by_deadline if d not in STATUTORY)]
    norms = []
    for label in labels:
        found = by_deadline.get(label, [])
        norms.append(
            {
                "deadline": label,
                "norm": next((o.norm for o in found if o.norm), None),
                **_summary(found),
                "organisations": _per_organisation(found),
            }
        )
    report: dict[str, Any] = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "organisation": organisation,
        "definition_key": key,
        "generated_at": now.isoformat(),
        "calendar_version": default_calendar().version,
        "totals": _summary(items),
        "norms": norms,
        "organisations": _per_organisation(items),
    }
    if details:
        report["occurrences"] = [o.as_dict() for o in items]
    return report

"""Exports: a definition's cases as an XES event log, and one case's history as CSV or JSON."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session, sessionmaker

from app.api.deps import ClockDep, PrincipalDep, SessionDep, SessionFactoryDep
from app.clock import Clock
from app.services import auditing, exports
from app.services.principal import Principal

router = APIRouter(tags=["export"])


def _file_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:120]


@router.get(
    "/api/export/xes",
    response_class=Response,
    responses={
        200: {"content": {"application/xml": {}}, "description": "an XES (IEEE 1849-2016) event log"},
        403: {"description": "not the MFA, an auditor or an admin"},
    },
)
def export_xes(
    session: SessionDep,
    factory: SessionFactoryDep,
    clock: ClockDep,
    principal: PrincipalDep,
    key: str = Query(description="the process definition's key, e.g. communication"),
    from_: date = Query(alias="from", description="first day (Asia/Almaty) a case may have started"),
    to: date = Query(description="last day, inclusive"),
    version: int | None = Query(default=None, ge=1, description="only cases of this version"),
) -> Response:
    """The definition's cases started in the period, one XES trace per case (concept:name = the
    business key), their events with lifecycle, time, resource, organisation and norm."""
    auditing.require_whole_view(principal)
    found = exports.xes_log(session, key, from_, to, clock.now(), version)
    auditing.exported(
        factory,
        principal.username,
        clock,
        "xes",
        definition_key=key,
        version=version,
        period=[from_.isoformat(), to.isoformat()],
        cases=found.cases,
        events=found.events,
        sha256=found.sha256,
    )
    name = _file_name(f"{key}_{from_.isoformat()}_{to.isoformat()}.xes")
    return Response(
        found.content,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-SHA256": found.sha256},
    )


def _history(
    session: Session,
    factory: sessionmaker[Session],
    clock: Clock,
    principal: Principal,
    instance_id: str,
    format: str,
) -> list[dict[str, Any]]:
    records = auditing.history_records(session, principal, instance_id)
    auditing.exported(
        factory, principal.username, clock, f"history.{format}", instance_id=instance_id, events=len(records)
    )
    return records


@router.get(
    "/api/instances/{instance_id}/history.json",
    tags=["instances"],
    responses={404: {"description": "no such case you may see"}},
)
def history_json(
    instance_id: str, session: SessionDep, factory: SessionFactoryDep, clock: ClockDep, principal: PrincipalDep
) -> Response:
    """The case's audit events (as GET .../history shows them to you) as a JSON file to keep."""
    records = _history(session, factory, clock, principal, instance_id, "json")
    body = json.dumps(records, ensure_ascii=False, indent=1)
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{_file_name(instance_id)}-history.json"'},
    )


@router.get(
    "/api/instances/{instance_id}/history.csv",
    response_class=Response,
    tags=["instances"],
    responses={200: {"content": {"text/csv": {}}}, 404: {"description": "no such case you may see"}},
)
def history_csv(
    instance_id: str, session: SessionDep, factory: SessionFactoryDep, clock: ClockDep, principal: PrincipalDep
) -> Response:
    """The case's audit events as CSV: seq, occurred_at, actor, type, task_id, definition, payload
    (canonical JSON, what the hash covers), prev_hash, hash."""
    records = _history(session, factory, clock, principal, instance_id, "csv")
    return Response(
        auditing.history_csv(records),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_file_name(instance_id)}-history.csv"'},
    )

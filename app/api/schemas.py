"""Request and response bodies, and the functions that shape stored rows into them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.db.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance
from app.services.calendar import due_view
from app.services.cases import CaseView


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the token expires")


class HealthOut(BaseModel):
    status: str
    database: str


class DefinitionOut(BaseModel):
    key: str
    version: int
    name: str
    file_name: str
    sha256: str = Field(description="SHA-256 of the BPMN file's bytes")
    bundle_sha256: str = Field(description="SHA-256 over the file and its forms: what makes a version")
    forms: list[str]
    deployed_at: datetime
    deployed_by: str
    warnings: list[dict[str, Any]] = Field(default_factory=list, description="deployable, but will not work yet")


class DefinitionRef(BaseModel):
    key: str
    version: int


class TaskOut(BaseModel):
    id: str
    name: str
    task_spec: str = Field(description="the BPMN element id of the task")
    instance_id: str
    business_key: str | None
    lane: str | None
    organisation: str
    candidate_role: str
    assignee: str | None
    form: str | None = Field(description="form file name; GET /api/tasks/{id} returns its JSON Schema")
    norm: str | None
    state: str
    created_at: datetime
    completed_at: datetime | None = None
    completed_by: str | None = None
    due_at: datetime | None = Field(default=None, description="end of the governing deadline, UTC")
    due_date: str | None = Field(default=None, description="its last day in Asia/Almaty")
    working_days_left: int | None = Field(default=None, description="working days from today to the last day")
    overdue: bool = Field(default=False, description="a deadline over this task has passed")
    deadline: str | None = Field(default=None, description="which deadline: D1..D5")
    deadline_norm: str | None = None


class TaskDetailOut(TaskOut):
    form_schema: dict[str, Any] | None
    can_act: bool = Field(description="whether the caller may claim and complete this task")
    data: dict[str, Any] = Field(description="what the task knows: the case's data as it reached this step")


class InstanceOut(BaseModel):
    id: str
    business_key: str | None
    definition: DefinitionRef
    status: str
    overdue: list[str] = Field(default_factory=list, description="deadlines breached in this case (D1..D5)")
    data: dict[str, Any]
    tasks: list[TaskOut] = Field(description="the case's open tasks")
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    started_by: str


class CompleteIn(Strict):
    data: dict[str, Any] = Field(default_factory=dict)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "data": {
                        "bodies": ["MVD", "MINJUST"],
                        "information_due_on": "2024-04-19",
                        "cover_note": "Please reply",
                    }
                }
            ]
        },
    )


class CompleteOut(BaseModel):
    instance: InstanceOut
    next_tasks: list[TaskOut]


class MessageIn(Strict):
    data: dict[str, Any] = Field(default_factory=dict)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "data": {
                        "item": "communication",
                        "published_on": "2024-06-01",
                        "url": "https://spcommreports.ohchr.org/TMResultsBase/DownLoadPublicCommunicationFile?gId=1",
                    }
                }
            ]
        },
    )


class StartIn(Strict):
    business_key: str | None = Field(default=None, max_length=255)
    data: dict[str, Any] = Field(default_factory=dict)


class CommunicationIn(Strict):
    reference: str = Field(max_length=64, description="e.g. 'AL KAZ 1/2024'")
    type: str = Field(max_length=8, description="AL, UA, OL, JAL, JUA or JOL; must match the reference")
    received_on: date
    language: str = Field(max_length=8, description="UN language code of the communication: en, fr, es, ru, ar, zh")
    reply_deadline: date
    subject: str = Field(max_length=2000)
    mandates: list[str] = Field(max_length=50)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reference": "AL KAZ 1/2024",
                    "type": "AL",
                    "received_on": "2024-03-19",
                    "language": "en",
                    "reply_deadline": "2024-05-18",
                    "subject": "Alleged arbitrary detention of a human rights defender",
                    "mandates": ["Special Rapporteur on the situation of human rights defenders"],
                }
            ]
        },
    )


class ExtensionIn(Strict):
    reply_deadline: date = Field(description="the new date by which the reply is due")
    note: str = Field(default="", max_length=2000, description="e.g. the note verbale granting the extension")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reply_deadline": "2024-06-18", "note": "Extension granted by letter of 10 May 2024"}]
        },
    )


class AuditEventOut(BaseModel):
    seq: int
    occurred_at: datetime
    actor: str
    type: str
    task_id: str | None
    definition: DefinitionRef | None
    payload: dict[str, Any]
    prev_hash: str
    hash: str


def definition_out(d: ProcessDefinition) -> DefinitionOut:
    return DefinitionOut(
        key=d.key,
        version=d.version,
        name=d.name,
        file_name=d.file_name,
        sha256=d.sha256,
        bundle_sha256=d.bundle_sha256,
        forms=sorted(d.forms),
        deployed_at=d.deployed_at,
        deployed_by=d.deployed_by,
    )


def task_out(t: HumanTask, business_key: str | None, now: datetime) -> TaskOut:
    """`now` (the request's clock) decides working days left and whether an open task is overdue."""
    shown = due_view(t.due_at, now)
    return TaskOut(
        due_at=t.due_at,
        due_date=shown["due_date"],
        working_days_left=shown["working_days_left"] if t.state == "ready" else None,
        overdue=t.overdue or (t.state == "ready" and shown["overdue"]),
        deadline=t.deadline,
        deadline_norm=t.deadline_norm,
        id=t.id,
        name=t.name,
        task_spec=t.task_spec,
        instance_id=t.instance_id,
        business_key=business_key,
        lane=t.lane,
        organisation=t.organisation,
        candidate_role=t.candidate_role,
        assignee=t.assignee,
        form=t.form_key,
        norm=t.norm,
        state=t.state,
        created_at=t.created_at,
        completed_at=t.completed_at,
        completed_by=t.completed_by,
    )


def case_out(view: CaseView, now: datetime) -> InstanceOut:
    return instance_out(view.instance, view.tasks, view.data, now)


def instance_out(i: ProcessInstance, tasks: list[HumanTask], data: dict[str, Any], now: datetime) -> InstanceOut:
    return InstanceOut(
        id=i.id,
        business_key=i.business_key,
        definition=DefinitionRef(key=i.definition.key, version=i.definition.version),
        status=i.status,
        overdue=list(i.overdue or []),
        data=data,
        tasks=[task_out(t, i.business_key, now) for t in tasks],
        created_at=i.created_at,
        updated_at=i.updated_at,
        completed_at=i.completed_at,
        started_by=i.started_by,
    )


def audit_out(e: AuditEvent) -> AuditEventOut:
    ref = DefinitionRef(key=e.definition_key, version=e.definition_version) if e.definition_key else None
    return AuditEventOut(
        seq=e.seq,
        occurred_at=e.occurred_at,
        actor=e.actor,
        type=e.type,
        task_id=e.task_id,
        definition=ref,
        payload=e.payload,
        prev_hash=e.prev_hash,
        hash=e.hash,
    )


class DelegationIn(Strict):
    user: str = Field(min_length=1, max_length=80, description="username of the member who will act as first head")
    from_: date = Field(alias="from", description="first day (Asia/Almaty) the delegation is valid")
    to: date = Field(description="last day it is valid, inclusive")
    reason: str = Field(min_length=1, max_length=2000, description="why: leave, illness, business trip, ...")

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [{"user": "mvd.deputy", "from": "2024-04-01", "to": "2024-04-14", "reason": "Annual leave"}]
        },
    )


class RevokeIn(Strict):
    reason: str = Field(default="", max_length=2000)


class DelegationOut(BaseModel):
    id: int
    organisation: str
    user: str
    user_name: str
    from_: date = Field(serialization_alias="from")
    to: date
    reason: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None


def delegation_out(d: Any) -> DelegationOut:
    return DelegationOut(
        id=d.id,
        organisation=d.organisation.code,
        user=d.user.username,
        user_name=d.user.full_name,
        from_=d.valid_from,
        to=d.valid_to,
        reason=d.reason,
        created_by=d.created_by,
        created_at=d.created_at,
        revoked_at=d.revoked_at,
        revoked_by=d.revoked_by,
        revoke_reason=d.revoke_reason,
    )

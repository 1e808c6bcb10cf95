"""Deploying diagram versions and reading them back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import events as audit
from app.clock import Clock
from app.db.models import Organisation, ProcessDefinition
from app.db.session import begin_write
from app.engine import (
    DefinitionError,
    LoadedDefinition,
    ParsedDefinition,
    definitions_cache,
    inspect_bpmn,
    read_bpmn,
)
from app.services.errors import Conflict, Invalid, NotFound


def _form_sha(schema: Any) -> str:
    return hashlib.sha256(json.dumps(schema, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def bundle_sha256(content: bytes, forms: Mapping[str, Any]) -> str:
    """What makes a version: the file's bytes and each referenced form's canonical JSON."""
    bundle = {"bpmn": hashlib.sha256(content).hexdigest(), "forms": {k: _form_sha(v) for k, v in sorted(forms.items())}}
    return hashlib.sha256(json.dumps(bundle, sort_keys=True).encode()).hexdigest()


def parse_form_files(files: Mapping[str, bytes]) -> dict[str, Any]:
    forms, errors = {}, []
    for name, raw in files.items():
        try:
            forms[Path(name).name] = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # bad UTF-8, bad JSON, absurd numbers or nesting
            errors.append(
                {
                    "element_id": None,
                    "line": getattr(exc, "lineno", None),
                    "message": f"form {name}: not valid JSON: {exc}",
                }
            )
    if errors:
        raise Invalid(errors)
    return forms


def latest(session: Session, key: str) -> ProcessDefinition | None:
    return session.scalar(
        select(ProcessDefinition)
        .where(ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )


def deploy(
    session: Session, content: bytes, file_name: str, forms: Mapping[str, Any], actor: str, clock: Clock
) -> tuple[ProcessDefinition, bool]:
    """Deploy one BPMN file with its forms. Returns (version, created); identical content is not new.

    Forms the diagram references but the caller did not send are taken from the latest deployed
    version of the same key, so an analyst can upload just a changed diagram."""
    if len(Path(file_name).name) > 255:
        raise Invalid([{"field": "file", "message": "the file name is longer than 255 characters; rename it"}])
    begin_write(session)
    try:
        document = read_bpmn(content)  # read once: key, form names, then the full check on the same tree
        previous = latest(session, document.key) if document.key else None
        bundle = {name: forms[name] for name in document.form_names if name in forms}
        if previous is not None:
            for name in document.form_names:
                if name not in bundle and name in previous.forms:
                    bundle[name] = previous.forms[name]
        info = inspect_bpmn(document, file_name, bundle)
    except DefinitionError as exc:
        session.rollback()
        raise Invalid([p.as_dict() for p in exc.problems]) from exc

    sha = bundle_sha256(content, bundle)
    if previous is not None and previous.bundle_sha256 == sha:
        session.commit()  # nothing written; ends the transaction without expiring `previous`
        return previous, False
    definition = ProcessDefinition(
        key=info.key,
        version=(previous.version + 1) if previous else 1,
        name=info.name[:255],
        file_name=Path(file_name).name,
        bpmn_xml=content,
        forms=bundle,
        sha256=hashlib.sha256(content).hexdigest(),
        bundle_sha256=sha,
        deployed_at=clock.now(),
        deployed_by=actor,
    )
    session.add(definition)
    # The validation just parsed this content: the first case and the deploy's warnings need not again.
    definitions_cache.put(sha, LoadedDefinition(content, file_name, bundle, parsed=info))
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"another deployment of {info.key!r} happened at the same time; deploy again") from exc
    audit.record(
        session,
        occurred_at=clock.now(),
        actor=actor,
        type="definition_deployed",
        definition_key=definition.key,
        definition_version=definition.version,
        payload={
            "file_name": definition.file_name,
            "sha256": definition.sha256,
            "bundle_sha256": sha,
            "forms": sorted(bundle),
        },
    )
    session.commit()
    return definition, True


def warnings(session: Session, definition: ProcessDefinition) -> list[dict[str, Any]]:
    """What is deployable but will not work yet: lanes naming organisations that do not exist (yet).

    Not an error, because `make run` deploys before any organisation is created; a case that
    reaches such a task is refused with 422 until the organisation exists."""
    return _unknown_lane_organisations(session, loaded(definition).info)


def _unknown_lane_organisations(session: Session, info: ParsedDefinition) -> list[dict[str, Any]]:
    lanes = {t.lane for t in info.human_tasks.values() if t.organisation_expr is None and t.lane}
    known = set(session.scalars(select(Organisation.code).where(Organisation.code.in_(lanes)))) if lanes else set()
    return [
        {
            "element_id": t.bpmn_id,
            "line": t.line,
            "message": f"lane {t.lane!r} is not the code of an existing organisation; name the lane by an organisation "
            "code, or give the task an 'organisation' property",
        }
        for t in info.human_tasks.values()
        if t.organisation_expr is None and t.lane and t.lane not in known
    ]


def deploy_file(session: Session, path: Path, actor: str, clock: Clock) -> tuple[ProcessDefinition, bool]:
    """Deploy a .bpmn file with the forms in the `forms/` folder beside it."""
    forms_dir = path.parent / "forms"
    files = {p.name: p.read_bytes() for p in sorted(forms_dir.glob("*.json"))} if forms_dir.is_dir() else {}
    return deploy(session, path.read_bytes(), path.name, parse_form_files(files), actor, clock)


def deploy_directory(
    session: Session, directory: Path, actor: str, clock: Clock
) -> list[tuple[ProcessDefinition, bool]]:
    return [deploy_file(session, path, actor, clock) for path in sorted(directory.glob("*.bpmn"))]


def list_definitions(session: Session, key: str | None = None, latest_only: bool = False) -> list[ProcessDefinition]:
    query = select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version)
    if key:
        query = query.where(ProcessDefinition.key == key)
    if latest_only:
        newest = (
            select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
            .group_by(ProcessDefinition.key)
            .subquery()
        )
        query = query.join(newest, (newest.c.key == ProcessDefinition.key) & (newest.c.v == ProcessDefinition.version))
    return list(session.scalars(query))


def get_definition(session: Session, key: str, version: int | None = None) -> ProcessDefinition:
    if version is None:
        found = latest(session, key)
    else:
        found = session.scalar(
            select(ProcessDefinition).where(ProcessDefinition.key == key, ProcessDefinition.version == version)
        )
    if found is None:
        raise NotFound(f"no process definition {key!r}" + (f" version {version}" if version else ""))
    return found


def loaded(definition: ProcessDefinition) -> LoadedDefinition:
    """The parsed, cached engine form of a stored version."""
    return definitions_cache.get(
        definition.bundle_sha256, lambda: (definition.bpmn_xml, definition.file_name, definition.forms)
    )


def form_schema(definition: ProcessDefinition, form_key: str | None) -> dict[str, Any] | None:
    """A task's form as frozen in its definition version (read from the parsed cache)."""
    return loaded(definition).forms.get(form_key) if form_key else None

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile

from app.api.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep
from app.api.schemas import DefinitionOut, definition_out
from app.services import definitions as service
from app.services.errors import Forbidden, Invalid

router = APIRouter(prefix="/api/definitions", tags=["definitions"])
VersionQuery = Annotated[int | None, Query(ge=1, le=1_000_000, description="default: the latest")]


@router.get("", response_model=list[DefinitionOut])
def list_definitions(
    session: SessionDep, _: PrincipalDep, key: str | None = None, latest: bool = False
) -> list[DefinitionOut]:
    """Every deployed version (or only the latest of each key with `latest=true`)."""
    return [definition_out(d) for d in service.list_definitions(session, key, latest)]


@router.get("/{key}", response_model=DefinitionOut)
def get_definition(key: str, session: SessionDep, _: PrincipalDep, version: VersionQuery = None) -> DefinitionOut:
    return definition_out(service.get_definition(session, key, version))


@router.get("/{key}/xml", response_class=Response, responses={200: {"content": {"application/xml": {}}}})
def get_definition_xml(key: str, session: SessionDep, _: PrincipalDep, version: VersionQuery = None) -> Response:
    """The BPMN file of a version, e.g. for bpmn-js or Camunda Modeler."""
    return Response(service.get_definition(session, key, version).bpmn_xml, media_type="application/xml")


def _read_limited(upload: UploadFile, limit: int) -> bytes:
    content = upload.file.read(limit + 1)
    if len(content) > limit:
        raise Invalid([{"field": upload.filename or "file", "message": f"the file is larger than {limit} bytes"}])
    return content


@router.post(
    "",
    response_model=DefinitionOut,
    status_code=201,
    responses={
        200: {"model": DefinitionOut, "description": "identical content: the existing version"},
        422: {"description": "problems, each with element_id and line"},
    },
)
def deploy(
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="the .bpmn file")],
    forms: Annotated[
        list[UploadFile] | None,
        File(description="JSON Schema forms the diagram references; missing ones come from the latest version"),
    ] = None,
) -> DefinitionOut:
    """Deploy a new version of a diagram (analysts and admins)."""
    if not principal.has_role("analyst", "admin"):
        raise Forbidden("deploying diagrams needs the analyst or admin role")
    content = _read_limited(file, settings.max_upload_bytes)
    form_files = {f.filename or "form.json": _read_limited(f, settings.max_upload_bytes) for f in forms or []}
    definition, created = service.deploy(
        session,
        content,
        file.filename or "upload.bpmn",
        service.parse_form_files(form_files),
        principal.username,
        clock,
    )
    response.status_code = 201 if created else 200
    out = definition_out(definition)
    out.warnings = service.warnings(session, definition)
    return out

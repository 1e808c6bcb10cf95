"""`GET /api/traceability`: which diagram element, rule and test stands behind each norm of chapter 2-1.

Read-only and built from files shipped with the service (the norm catalogue, the diagrams in
BPMN_DIR, the tests), never from the database, so any logged-in user may read it: the law, the
diagrams and the tests are not case data.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.api.deps import PrincipalDep, SettingsDep
from app.traceability import cached_matrix

router = APIRouter(prefix="/api/traceability", tags=["traceability"])


class ElementOut(BaseModel):
    file: str
    element_id: str
    element_type: str = Field(description="BPMN tag, e.g. userTask, boundaryEvent, parallelGateway")
    name: str | None
    process_id: str | None
    lane: str | None
    line: int | None
    norms: list[str] = Field(description="every norm the element's `norm:` line cites")


class RuleOut(BaseModel):
    kind: str = Field(description="`rule` (a rule:<field> property) or `signature` (candidate_role = head)")
    file: str
    element_id: str
    field: str | None
    expression: str
    message: str | None


class TestOut(BaseModel):
    id: str = Field(description="pytest node id, e.g. tests/api/test_x.py::test_name")
    file: str
    line: int


class NormOut(BaseModel):
    id: str = Field(description="e.g. `14-7 ч.1` (part) or `14-10 пп.1` (sub-paragraph)")
    text_ru: str = Field(description="the law's wording, verbatim")
    lead_ru: str | None = Field(description="for a sub-paragraph: the words it completes")
    gloss_en: str
    elements: list[ElementOut]
    rules: list[RuleOut]
    tests: list[TestOut]


class ProblemOut(BaseModel):
    kind: str = Field(
        description="norm_without_element, norm_without_test, element_without_norm, unknown_norm, "
        "test_unknown_norm, rule_without_message, message_without_rule, ..."
    )
    message: str
    norm: str | None
    file: str | None
    element_id: str | None
    test: str | None
    line: int | None


class TraceabilityOut(BaseModel):
    source: str
    norms: list[NormOut]
    elements: list[ElementOut] = Field(description="every flow node of every diagram, cited or not")
    problems: list[ProblemOut]


@router.get("", response_model=TraceabilityOut)
def traceability(_: PrincipalDep, settings: SettingsDep) -> dict[str, Any]:
    """The matrix norm → diagram elements → rules → tests, and the gaps in it (any logged-in user)."""
    return cached_matrix(bpmn_dir=settings.bpmn_dir).as_dict()

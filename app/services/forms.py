"""Task forms: JSON Schema validation of submitted data, and the schema as shown to a person."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from sqlalchemy.orm import Session

from app.services import organisation_codes
from app.services.errors import Invalid

ORG_KIND = "x-organisation-kind"
# A date field that must not be later than a date already in the case, e.g. D5 never after D2.
NOT_AFTER = "x-not-after"


def _reserved_keys(value: Any, path: str = "") -> list[dict[str, str]]:
    """`typename` anywhere breaks SpiffWorkflow's deserialisation; `_x` at the top reaches private names."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}/{key}" if path else str(key)
            if key == "typename" or (not path and str(key).startswith("_")):
                found.append({"field": here, "message": f"the field name {key!r} is reserved; rename it"})
            found.extend(_reserved_keys(item, here))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_reserved_keys(item, f"{path}/{i}"))
    return found


def check_reserved(data: dict[str, Any]) -> None:
    errors = _reserved_keys(data)
    if errors:
        raise Invalid(errors)


def _org_kind_fields(schema: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """field -> (organisation kind, is a list) for the fields that name organisations."""
    found = {}
    for name, prop in schema.get("properties", {}).items():
        if not isinstance(prop, dict):
            continue
        if ORG_KIND in prop:
            found[name] = (prop[ORG_KIND], False)
        elif isinstance(prop.get("items"), dict) and ORG_KIND in prop["items"]:
            found[name] = (prop["items"][ORG_KIND], True)
    return found


def _not_after_errors(schema: dict[str, Any], data: dict[str, Any], case_data: dict[str, Any]) -> list[dict[str, str]]:
    errors = []
    for field, prop in schema.get("properties", {}).items():
        limit_field = prop.get(NOT_AFTER) if isinstance(prop, dict) else None
        if not limit_field or not isinstance(data.get(field), str):
            continue
        limit = case_data.get(limit_field)
        try:
            too_late = date.fromisoformat(data[field]) > date.fromisoformat(str(limit))
        except ValueError:
            continue  # a malformed date is reported by the schema's format check
        if too_late:
            errors.append(
                {
                    "field": field,
                    "message": f"{data[field]} is after {limit_field} ({limit}); choose a date on or before {limit}",
                }
            )
    return errors


def validate(
    session: Session, schema: dict[str, Any] | None, data: dict[str, Any], case_data: dict[str, Any] | None = None
) -> None:
    """Raise Invalid with one entry per wrong field; nothing is written before this passes."""
    check_reserved(data)
    if schema is None:
        if data:
            raise Invalid([{"field": "(form)", "message": "this task has no form; submit empty data {}"}])
        return
    # An empty registry: a form can never make the server fetch a URL or read a file through $ref.
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER, registry=Registry())
    errors = [
        {"field": "/".join(str(p) for p in err.absolute_path) or "(form)", "message": err.message}
        for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    ]
    for field, (kind, is_list) in _org_kind_fields(schema).items():
        if field not in data:
            continue
        codes = set(organisation_codes.codes(session, kind))
        values = data[field] if is_list and isinstance(data[field], list) else [data[field]]
        for i, value in enumerate(values):
            if isinstance(value, str) and value not in codes:
                where = f"{field}/{i}" if is_list else field
                errors.append(
                    {
                        "field": where,
                        "message": f"{value!r} is not a known organisation of kind "
                        f"{kind!r}; choose one of {sorted(codes)}",
                    }
                )
    errors.extend(_not_after_errors(schema, data, case_data or {}))
    if errors:
        raise Invalid(errors)


def for_display(session: Session, schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """The schema with organisation choices filled in as enums, for a form renderer."""
    if schema is None:
        return None
    shown = copy.deepcopy(schema)
    for field, (kind, is_list) in _org_kind_fields(shown).items():
        target = shown["properties"][field]["items"] if is_list else shown["properties"][field]
        target["enum"] = organisation_codes.codes(session, kind)
    return shown

"""HTML forms from a task's JSON Schema, and posted forms back into the typed JSON the schema wants.

The page only shapes input: every rule is the service's (services.forms.validate and the diagram's
rules), whose field errors come back next to the fields with what the user typed kept.

Field names are the schema's property names (`bodies`, `meeting_date`); a row of an array of
objects is `participants.0.full_name`. Ids are `field-` + the name with dots as dashes. Rows of an
array of objects: a fixed number is shown (`?rows=N`, or the "add row" button, which re-renders the
form with one more, no JavaScript needed); rows left entirely empty are dropped."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.services.errors import Invalid, ServiceError
from app.web.i18n import N_, Lang
from app.web.messages import Shown, translate

DEFAULT_ROWS = 3
MAX_ROWS = 50
GENERAL = ""  # errors that belong to no field: shown above the form
# Free-text fields that deserve a text area: by name, since forms say nothing about length.
LONG_TEXT = re.compile(r"(text|information|minutes|summary|comment|note|action_taken|reason|subject|description)$")

Values = dict[str, Any]  # form field name -> str, or list[str] for multiple choices


@dataclass
class Field:
    name: str
    label: str
    kind: str  # text textarea date url email integer number select yesno checkbox checkboxes lines rows json
    required: bool = False
    help: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    errors: list[Shown] = field(default_factory=list)
    rows: list[list[Field]] = field(default_factory=list)
    row_count: int = 0

    @property
    def id(self) -> str:
        return "field-" + self.name.replace(".", "-")


def kind_of(name: str, prop: Mapping[str, Any]) -> str:
    kind = prop.get("type")
    if kind == "boolean":
        return "checkbox" if prop.get("const") is True else "yesno"
    if kind == "integer":
        return "integer"
    if kind == "number":
        return "number"
    if kind == "array":
        items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        if items.get("type") == "object":
            return "rows"
        return "checkboxes" if "enum" in items else "lines"
    if kind == "object":
        return "json"
    if "enum" in prop:
        return "select"
    fmt = prop.get("format")
    if fmt == "date":
        return "date"
    if fmt in ("uri", "url", "iri"):
        return "url"
    if fmt == "email":
        return "email"
    max_length = prop.get("maxLength")
    if (isinstance(max_length, int) and max_length > 255) or LONG_TEXT.search(name) or prop.get("x-multiline"):
        return "textarea"
    return "text"


def _label(lang: Lang, name: str, prop: Mapping[str, Any]) -> str:
    title = prop.get("title")
    return lang.name(title) if isinstance(title, str) and title else name.replace("_", " ").capitalize()


def _options(lang: Lang, prop: Mapping[str, Any]) -> list[tuple[str, str]]:
    source = prop.get("items", {}) if prop.get("type") == "array" else prop
    values = source.get("enum", []) if isinstance(source, Mapping) else []
    organisations = isinstance(source, Mapping) and "x-organisation-kind" in source
    return [(str(v), lang.org(str(v)) if organisations else lang.enum(v)) for v in values]


def row_indexes(values: Mapping[str, Any], name: str) -> list[int]:
    found = set()
    for key in values:
        if key.startswith(name + "."):
            head = key[len(name) + 1 :].split(".", 1)[0]
            if head.isdigit() and int(head) < MAX_ROWS:
                found.add(int(head))
    return sorted(found)


def build(
    schema: Mapping[str, Any] | None,
    lang: Lang,
    values: Values | None = None,
    errors: Mapping[str, list[Shown]] | None = None,
    rows: Mapping[str, int] | None = None,
    prefix: str = "",
) -> list[Field]:
    """The fields to render, with the values typed so far and the errors that belong to each."""
    values, errors, rows = values or {}, errors or {}, rows or {}
    fields = []
    required = set(schema.get("required", [])) if schema else set()
    for name, prop in (schema or {}).get("properties", {}).items():
        if not isinstance(prop, Mapping):
            continue
        full = prefix + name
        kind = kind_of(name, prop)
        f = Field(
            name=full,
            label=_label(lang, name, prop),
            kind=kind,
            required=name in required,
            help=lang.name(prop.get("description")) if isinstance(prop.get("description"), str) else "",
            options=_options(lang, prop),
            value=values.get(full, [] if kind == "checkboxes" else ""),
            errors=list(errors.get(full, [])),
        )
        if kind == "rows":
            item = prop["items"]
            shown = rows.get(full) or (0 if values else DEFAULT_ROWS)  # a fresh form: a few empty rows
            count = max(shown, len(row_indexes(values, full)), int(prop.get("minItems", 0)), 1)
            f.row_count = min(count, MAX_ROWS)
            f.rows = [build(item, lang, values, errors, rows, prefix=f"{full}.{i}.") for i in range(f.row_count)]
        fields.append(f)
    return fields


def attach(fields: list[Field], errors: Mapping[str, list[Shown]]) -> list[Shown]:
    """Errors no field took (an unknown path, a whole-form rule): they go above the form."""
    names: set[str] = set()

    def collect(items: list[Field]) -> None:
        for f in items:
            names.add(f.name)
            for row in f.rows:
                collect(row)

    collect(fields)
    general: list[Shown] = []
    by_field: dict[str, list[Shown]] = {}
    for key, shown in errors.items():
        target = key
        while target and target not in names:
            target = target.rsplit(".", 1)[0] if "." in target else ""
        if target:
            by_field.setdefault(target, []).extend(shown)
        else:
            general.extend(shown)

    def place(items: list[Field]) -> None:
        for f in items:
            f.errors = by_field.get(f.name, [])
            for row in f.rows:
                place(row)

    place(fields)
    return general


def errors_from(detail: Any, lang: Lang) -> dict[str, list[Shown]]:
    """A service's Invalid detail ([{field|element_id, message}] or a message) keyed by form name."""
    out: dict[str, list[Shown]] = {}
    for item in detail if isinstance(detail, list) else [detail]:
        message = item.get("message", "") if isinstance(item, dict) else str(item)
        path = item.get("field", "") if isinstance(item, dict) else ""
        path = "" if path in (None, "(form)", "(body)") else str(path)
        shown = translate(lang, message)
        if shown.field:  # "'x' is a required property" is reported on the object that lacks x
            path = f"{path}/{shown.field}" if path else shown.field
        out.setdefault(path.replace("/", "."), []).append(shown)
    return out


def refusal(exc: ServiceError, lang: Lang) -> dict[str, list[Shown]]:
    """A service's refusal of a posted form: Invalid's messages next to their fields, any other
    (Conflict, Forbidden) above the form."""
    if isinstance(exc, Invalid):
        return errors_from(exc.detail, lang)
    return {GENERAL: [translate(lang, str(exc.detail))]}


@dataclass
class Parsed:
    data: dict[str, Any]  # typed JSON for the service
    values: Values  # what to show again (rows renumbered as they were sent)
    errors: dict[str, list[Shown]]  # conversion errors (before any service sees the data)


def parse(schema: Mapping[str, Any] | None, form: Any, lang: Lang, prefix: str = "", out: str = "") -> Parsed:
    """Posted strings -> the schema's JSON types. Empty inputs are left out (the schema says what is
    required); rows with nothing typed are dropped and the rest renumbered from 0.

    `form` is a starlette FormData (or any mapping with getlist); `out` is the prefix of the
    renumbered names this level writes back into `values`."""
    data: dict[str, Any] = {}
    values: Values = {}
    errors: dict[str, list[Shown]] = {}
    for name, prop in (schema or {}).get("properties", {}).items():
        if not isinstance(prop, Mapping):
            continue
        key, shown_key = prefix + name, out + name
        kind = kind_of(name, prop)
        raw = form.get(key)
        text = raw.strip() if isinstance(raw, str) else ""
        if kind == "checkbox":
            data[name] = raw is not None
            values[shown_key] = "true" if raw is not None else ""
        elif kind == "yesno":
            values[shown_key] = text
            if text in ("yes", "no"):
                data[name] = text == "yes"
        elif kind in ("integer", "number"):
            values[shown_key] = text
            if text:
                try:
                    data[name] = int(text) if kind == "integer" else float(text.replace(",", "."))
                except ValueError:
                    message = N_("Enter a whole number.") if kind == "integer" else N_("Enter a number.")
                    errors.setdefault(shown_key, []).append(Shown(lang._(message)))
        elif kind == "checkboxes":
            chosen = [v for v in dict.fromkeys(form.getlist(key)) if isinstance(v, str) and v]
            values[shown_key] = chosen
            if chosen:
                data[name] = chosen
        elif kind == "lines":
            values[shown_key] = raw if isinstance(raw, str) else ""
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            if lines:
                data[name] = lines
        elif kind == "rows":
            items = []
            for index in row_indexes(form, key):
                row = parse(prop["items"], form, lang, prefix=f"{key}.{index}.", out=f"{shown_key}.{len(items)}.")
                if any(row.values.values()) or row.errors:
                    items.append(row.data)
                    values.update(row.values)
                    errors.update(row.errors)
            if items:
                data[name] = items
        elif kind == "json":
            values[shown_key] = raw if isinstance(raw, str) else ""
        else:
            values[shown_key] = raw if isinstance(raw, str) else ""
            if text:
                data[name] = raw.strip() if kind != "textarea" else raw.strip("\r\n ")  # type: ignore[union-attr]
    return Parsed(data, values, errors)


def shown_rows(
    form: Any, schema: Mapping[str, Any] | None, parsed: Parsed | None, add_row: str | None
) -> dict[str, int]:
    """How many rows each array of objects shows after a post: as many as were shown (hidden
    `_rows.<name>`), at least the rows kept, one more where "add row" was pressed."""
    counts: dict[str, int] = {}
    for name, prop in (schema or {}).get("properties", {}).items():
        if isinstance(prop, Mapping) and kind_of(name, prop) == "rows":
            try:
                before = int(form.get(f"_rows.{name}", "0"))
            except ValueError:
                before = 0
            kept = len(row_indexes(parsed.values, name)) if parsed else 0
            counts[name] = min(max(before, kept) + (1 if add_row == name else 0), MAX_ROWS)
    return counts


def as_date(data: dict[str, Any], name: str, lang: Lang, errors: dict[str, list[Shown]]) -> date | None:
    """A start form's date field as a date (the services take dates, not strings)."""
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.setdefault(name, []).append(Shown(lang._(N_("Enter a date as year-month-day, e.g. 2024-03-19."))))
        return None

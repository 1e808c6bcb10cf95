"""Small helpers several page groups share (presentation only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.db.models import ProcessInstance
from app.services import definitions as definition_service
from app.web.i18n import Lang
from app.web.labels import DATA_FIELDS

PAGE_SIZE = 50  # rows per page of the inbox and the case search
MAX_PAGE = 100_000
# Case data the pages never list: derived from the reference, shown through it.
HIDDEN_DATA = frozenset({"ref_country", "ref_number", "ref_year"})


def page_offset(page: int) -> tuple[int, int]:
    """The page number kept in range, and the offset of its first row."""
    page = max(1, min(page, MAX_PAGE))
    return page, (page - 1) * PAGE_SIZE


def page_count(total: int) -> int:
    return max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)


def shown_data(data: Mapping[str, Any], besides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Case data to list: without the derived keys, and without those already shown in `besides`."""
    return {k: v for k, v in data.items() if k not in HIDDEN_DATA and k not in (besides or {})}


def choices(lang: Lang, labels: Mapping[str, str]) -> list[tuple[str, str]]:
    """(code, label) pairs for a filter's <select> from a code -> msgid table (app.web.labels)."""
    return [(code, lang._(label)) for code, label in labels.items()]


def data_labels(instance: ProcessInstance, lang: Lang) -> dict[str, str]:
    """Labels for the keys of a case's data: the form titles of its diagram version, else ours."""
    labels = {k: lang._(v) for k, v in DATA_FIELDS.items()}
    for schema in definition_service.loaded(instance.definition).forms.values():
        _titles(schema, labels, lang)
    return labels


def _titles(schema: Any, labels: dict[str, str], lang: Lang) -> None:
    if not isinstance(schema, dict):
        return
    for key, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict):
            if isinstance(prop.get("title"), str) and key not in DATA_FIELDS:
                labels.setdefault(key, lang.name(prop["title"]))
            _titles(prop.get("items"), labels, lang)
            _titles(prop, labels, lang)

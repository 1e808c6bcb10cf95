"""Small helpers several page groups share (presentation only)."""

from __future__ import annotations

from typing import Any

from app.db.models import ProcessInstance
from app.services import definitions as definition_service
from app.web.i18n import Lang
from app.web.labels import DATA_FIELDS


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

"""The templates' environment: one jinja2 Environment, gettext from app.web.i18n (newstyle)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from app.web import i18n, labels

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
# Built by the frontend's npm build (app/web/frontend); absent when npm was not there at setup.
DIAGRAM_BUNDLE = STATIC_DIR / "build" / "case-diagram.js"

env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext, npgettext=i18n.npgettext
)
env.policies["ext.i18n.trimmed"] = True
env.globals["labels"] = labels
env.globals["LANGUAGE_NAMES"] = i18n.LANGUAGE_NAMES
env.filters["todate"] = lambda value: date.fromisoformat(str(value)[:10])
env.filters["todatetime"] = lambda value: datetime.fromisoformat(str(value)) if value else None
env.filters["pretty"] = lambda value: json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str)


def diagram_bundle_built() -> bool:
    """Checked at each render: the bundle may be built (or removed) while the server runs."""
    return DIAGRAM_BUNDLE.is_file()


def render(
    template: str, lang: i18n.Lang, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    with lang.active():
        html = env.get_template(template).render(lang=lang, **context)
    return HTMLResponse(html, status_code=status, headers=headers)

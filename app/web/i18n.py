"""The pages' languages: gettext catalogues (Babel), dates in Asia/Almaty in the local format, norm
labels and texts, and the services' English messages in the user's language.

Russian is the default; English is a per-user choice (app_user.locale, services.users.set_locale).
Catalogues are compiled .mo files committed under translations/ (docs/web.md: how to update them),
so nothing is compiled at run time. Source strings (msgids) are English; the English catalogue
maps them to themselves except where a code needs a readable label (enum values, organisations)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.support import NullTranslations, Translations

from app.clock import ALMATY
from app.traceability.norms import Catalogue, load_catalogue

LOCALES = ("ru", "en")
DEFAULT_LOCALE = "ru"
LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}  # each in its own language: never translated
TRANSLATIONS_DIR = Path(__file__).with_name("translations")
DATE_FORMAT = {"ru": "dd.MM.yyyy", "en": "d MMM yyyy"}
DATETIME_FORMAT = {"ru": "dd.MM.yyyy HH:mm", "en": "d MMM yyyy, HH:mm"}
_NORM = re.compile(r"^(?P<paragraph>14-\d{1,2})(?: (?P<kind>ч|пп)\.(?P<part>\d))?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


def pN_(context: str, message: str) -> str:
    """N_ with a context (extracted as pgettext)."""
    return message


@cache
def catalogue(locale: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")


@lru_cache(maxsize=1)
def norms() -> Catalogue:
    return load_catalogue()


_current: ContextVar[NullTranslations | None] = ContextVar("web_translations", default=None)


def _active() -> NullTranslations:
    return _current.get() or catalogue(DEFAULT_LOCALE)


# What the templates call (installed into jinja2 by app.web.render, newstyle: `_("... %(x)s", x=1)`).
def gettext(message: str) -> str:
    return _active().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _active().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return _active().pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return _active().npgettext(context, singular, plural, n)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(ALMATY).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value[:10]):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


class Lang:
    """One request's language: translate, format dates and norms, explain service messages."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self.tr = catalogue(self.locale)

    @contextmanager
    def active(self) -> Iterator[None]:
        """Make this language the one templates translate into while rendering."""
        token = _current.set(self.tr)
        try:
            yield
        finally:
            _current.reset(token)

    # -- words ---------------------------------------------------------------------------------
    def _(self, message: str, **values: Any) -> str:
        """Translate; `{name}` placeholders are filled after translation."""
        text = self.tr.gettext(message)
        return text.format(**values) if values else text

    def p(self, context: str, message: str) -> str:
        return self.tr.pgettext(context, message)

    def enum(self, value: Any) -> str:
        """A form's enum value (a code) as a label."""
        return self.p("enum", str(value))

    def org(self, code: str) -> str:
        return self.p("organisation", code)

    def month(self, number: int) -> str:
        return format_date(date(2000, number, 1), "LLLL", locale=self.locale).capitalize()

    def weekday(self, value: date) -> str:
        return format_date(value, "EEE", locale=self.locale)

    # -- dates -----------------------------------------------------------------------------------
    def date(self, value: Any) -> str:
        """A date (or the Almaty day of an instant) in the local format; '' for nothing."""
        found = _as_date(value)
        if found is None:
            return "" if value in (None, "") else str(value)
        return format_date(found, DATE_FORMAT[self.locale], locale=self.locale)

    def datetime(self, value: datetime | None) -> str:
        """An instant as Almaty wall-clock time in the local format."""
        if value is None:
            return ""
        return format_datetime(value.astimezone(ALMATY), DATETIME_FORMAT[self.locale], locale=self.locale)

    def value(self, value: Any) -> str:
        """A scalar of case data for display: ISO dates in the local format, known codes as labels."""
        if isinstance(value, bool):
            return self._(N_("yes")) if value else self._(N_("no"))
        if value is None:
            return "—"
        if isinstance(value, str):
            if _ISO_DATE.fullmatch(value):
                return self.date(value)
            if len(value) <= 40 and " " not in value:
                return self.enum(value)
        return str(value)

    def deadline(self, value: datetime | None) -> str:
        """A deadline's instant: '27.11.2026 24:00' for the end of a day (how the law counts), not
        '28.11.2026 00:00'; any other instant as Almaty time."""
        if value is None:
            return ""
        local = value.astimezone(ALMATY)
        if (local.hour, local.minute, local.second) == (0, 0, 0):
            return f"{self.date(local.date() - timedelta(days=1))} 24:00"
        return self.datetime(value)

    # -- norms -----------------------------------------------------------------------------------
    def norm(self, norm_id: str) -> str:
        """A norm part's id as this language writes it: '14-5 ч.1' is '14-5 part 1' in English."""
        match = _NORM.match(norm_id.strip())
        if not match or not match["kind"]:
            return norm_id.strip()
        template = N_("{paragraph} part {part}") if match["kind"] == "ч" else N_("{paragraph} subpara. {part}")
        return self._(template, paragraph=match["paragraph"], part=match["part"])

    def norm_text(self, norm_id: str) -> str:
        """The law's Russian wording, or the catalogue's English gloss."""
        found = norms().get(norm_id.strip())
        if found is None:
            return ""
        if self.locale == "ru":
            return f"{found.lead_ru} {found.text_ru}" if found.lead_ru else found.text_ru
        return found.gloss_en

    def norm_list(self, value: str | None) -> list[dict[str, str]]:
        """'14-6; 14-8 ч.1' -> [{id, label, text}] for display with the text on demand."""
        ids = [p.strip() for p in (value or "").split(";") if p.strip()]
        return [{"id": i, "label": self.norm(i), "text": self.norm_text(i)} for i in ids]

    # -- texts from diagrams, forms and the calendar -----------------------------------------------
    def name(self, text: str | None) -> str:
        """A task, element or form label from a diagram or a form file (msgid = its English text)."""
        return self.tr.gettext(text) if text else ""

    def day_reason(self, reason: str, decree: str | None = None, working: bool | None = None) -> str:
        """The calendar's reason for a day ('weekend', a holiday, a transfer by decree) translated."""
        note = ""
        match = re.search(r" \[year (?P<year>\d{4}) not covered by [^\]]+\]$", reason)
        if match:
            reason = reason[: match.start()]
            note = " " + self._(
                N_("(year {year} not checked in the calendar file: decreed transfers unknown)"), year=match["year"]
            )
        if decree:
            label = self.decree(decree)
            if reason.startswith("day off"):
                text = self._(N_("day off (transfer): {decree}"), decree=label)
            elif reason.startswith("working Sunday"):
                text = self._(N_("working Sunday (transfer): {decree}"), decree=label)
            else:
                text = self._(N_("working Saturday (transfer): {decree}"), decree=label)
            return text + note
        suffix = " (carried over from the weekend)"
        if reason.endswith(suffix):
            holiday = self.p("holiday", reason[: -len(suffix)])
            return self._(N_("{holiday} (carried over from the weekend)"), holiday=holiday) + note
        return self.p("holiday", reason) + note

    def decree(self, label: str) -> str:
        match = re.match(r"^(?P<kind>.+?) No\. (?P<number>\d+)(?: of (?P<date>\d\d\.\d\d\.\d{4}))?(?P<rest>.*)$", label)
        if not match:
            return label
        kind = self.p("decree", match["kind"])
        if match["date"]:
            return (
                self._(N_("{kind} No. {number} of {date}"), kind=kind, number=match["number"], date=match["date"])
                + match["rest"]
            )
        return self._(N_("{kind} No. {number}"), kind=kind, number=match["number"]) + match["rest"]

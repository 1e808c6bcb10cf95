"""The catalogues are complete and current: every message has a Russian and an English text, the
committed .mo files are the compiled .po files, the .pot holds what the code and templates say
today, and templates carry no text outside gettext."""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.support import Translations

from app.config import PROJECT_ROOT
from app.web.i18n import TRANSLATIONS_DIR, Lang

LOCALES = ("ru", "en")
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def _catalog(name: str, locale: str | None = None):  # type: ignore[no-untyped-def]
    with open(name, "rb") as f:
        return read_po(f, locale=locale)


def _ids(catalog) -> set[tuple[str | None, str]]:  # type: ignore[no-untyped-def]
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(locale: str) -> None:
    pot = _catalog(TRANSLATIONS_DIR / "messages.pot")
    po = _catalog(TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po", locale)
    assert _ids(po) == _ids(pot), "run pybabel update (docs/web.md, Translations)"
    for message in po:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), (locale, message.context, message.id)
        assert not message.fuzzy, (locale, message.id)
        source = message.id if isinstance(message.id, str) else message.id[0]
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(source)), (locale, source, text)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogues_are_current(locale: str) -> None:
    po = _catalog(TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po", locale)
    mo = Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")
    for message in po:
        if not message.id or isinstance(message.id, tuple):
            continue
        got = mo.pgettext(message.context, message.id) if message.context else mo.gettext(message.id)
        assert got == message.string, f"{locale}: run pybabel compile -d app/web/translations ({message.id!r})"


def test_the_template_catalogue_holds_what_the_sources_say() -> None:
    method_map, options_map = parse_mapping_cfg((PROJECT_ROOT / "babel.cfg").open())
    keywords = {**DEFAULT_KEYWORDS, "pN_": ((1, "c"), 2)}
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords=keywords
    ):
        found.add((context, message if isinstance(message, str) else message[0]))
    pot = _ids(_catalog(TRANSLATIONS_DIR / "messages.pot"))
    assert found - pot == set(), "new texts: run pybabel extract and update (docs/web.md, Translations)"
    assert pot - found == set(), "texts no longer used: run pybabel extract and update"


def test_templates_have_no_text_outside_gettext() -> None:
    allowed = {"English", "Русский", "#"}
    for path in sorted((PROJECT_ROOT / "app" / "web" / "templates").glob("*.html")):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\{#.*?#\}", " ", text, flags=re.S)
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", text, flags=re.S)
        text = re.sub(r"<script\b.*?</script>|<style\b.*?</style>", " ", text, flags=re.S)
        text = re.sub(r"<[^>]*>", " ", text, flags=re.S)
        text = re.sub(r"[\w-]+=\"[^\"]*\"", " ", text)  # attributes a macro emits outside a tag
        words = [w for w in re.findall(r"[^\W\d_][\w'-]*", text) if w not in allowed]
        assert not words, f"{path.name}: text outside gettext: {words[:10]}"


def test_norms_dates_and_service_messages_in_both_languages() -> None:
    from datetime import UTC, datetime

    from app.web.messages import translate

    ru, en = Lang("ru"), Lang("en")
    assert (ru.norm("14-7 ч.2"), en.norm("14-7 ч.2"), en.norm("14-10 пп.3"), en.norm("14-6")) == (
        "14-7 ч.2",
        "14-7 part 2",
        "14-10 subpara. 3",
        "14-6",
    )
    assert ru.norm_text("14-6").startswith("Подготовку и предоставление ответов")
    assert en.norm_text("14-6").startswith("The MFA prepares and provides the reply")
    assert (ru.date("2024-03-19"), en.date("2024-03-19")) == ("19.03.2024", "19 Mar 2024")
    # 19:00 UTC on 29 March 2024 is midnight in Almaty (UTC+5 since 1 March 2024).
    assert ru.datetime(datetime(2024, 3, 29, 18, 30, tzinfo=UTC)) == "29.03.2024 23:30"
    shown = translate(ru, "'reply_text' is a required property")
    assert (shown.text, shown.field, shown.translated) == ("Обязательное поле.", "reply_text", True)
    assert translate(ru, "2024-03-25 is in the future (today is 2024-03-19)").text == (
        "25.03.2024 — дата в будущем (сегодня 19.03.2024)."
    )
    assert translate(en, "14-8 ч.1: the reply must be in the language of the communication").text.startswith(
        "14-8 part 1:"
    )
    assert translate(ru, "something new the service says").translated is False
    assert ru.day_reason("Nowruz Holiday (carried over from the weekend)") == "Наурыз мейрамы (перенос с выходного дня)"
    assert ru.p("enum", "head_of_structural_subdivision") == "руководитель структурного подразделения"

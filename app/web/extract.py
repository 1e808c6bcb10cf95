"""Babel extractors for the texts the pages show from diagrams and forms (see babel.cfg).

Forms (bpmn/forms/*.json): every `title` and `description`, and `enum` values (context "enum").
Diagrams (bpmn/*.bpmn): the names of processes, pools, tasks, sub-processes, call activities and
timer events, and the rule messages (`message:<field>` properties) the engine reports."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import IO, Any

from lxml import etree

Extracted = tuple[int, str | None, Any, list[str]]
_NAMED = {
    "process",
    "participant",
    "userTask",
    "manualTask",
    "task",
    "callActivity",
    "subProcess",
    "boundaryEvent",
    "intermediateCatchEvent",
}
_SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _line(text: str, value: str) -> int:
    at = text.find(json.dumps(value, ensure_ascii=False)[1:-1])
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def extract_form_json(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Iterator[Extracted]:
    text = fileobj.read().decode("utf-8")

    def walk(node: Any) -> Iterator[Extracted]:
        if isinstance(node, Mapping):
            for key in ("title", "description"):
                if isinstance(node.get(key), str) and node[key].strip():
                    yield _line(text, node[key]), None, node[key], []
            for value in node.get("enum", []) if isinstance(node.get("enum"), list) else []:
                if isinstance(value, str):
                    yield _line(text, value), "pgettext", ("enum", value), []
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    yield from walk(json.loads(text))


def extract_bpmn(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Iterator[Extracted]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.parse(fileobj, parser).getroot()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        if local in _NAMED and element.get("name"):
            yield element.sourceline or 1, None, element.get("name"), []
        if element.tag == f"{{{_SPIFF}}}property" and (element.get("name") or "").startswith("message:"):
            yield element.sourceline or 1, None, element.get("value", ""), []

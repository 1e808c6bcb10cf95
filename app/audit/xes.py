"""Writing event logs in XES (IEEE 1849-2016), for process-mining tools (ProM, pm4py, Disco, Celonis).

The document follows the standard's XML schema: a `log` element without a namespace (the schema
has no target namespace), `xes.version="1849.2016"` (the schema types it as a decimal), the
Concept, Lifecycle, Organizational and Time extensions, global attributes for the classifier's
keys, then one `trace` per case with its `event`s in the order they were recorded.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

XES_VERSION = "1849.2016"
EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
)
UNKNOWN = "UNKNOWN"


@dataclass
class XesEvent:
    name: str  # concept:name: the task's name or the event's type
    transition: str  # lifecycle:transition: start | complete | ate_abort | assign | ...
    timestamp: datetime  # time:timestamp (aware)
    resource: str | None = None  # org:resource: who acted
    group: str | None = None  # org:group: their organisation
    attributes: Mapping[str, str | int | bool | None] = field(default_factory=dict)  # plain keys


@dataclass
class XesTrace:
    name: str  # concept:name: the case's business key (the communication's reference)
    events: list[XesEvent]
    attributes: Mapping[str, str | int | bool | None] = field(default_factory=dict)


def _attribute(parent: etree._Element, key: str, value: str | int | bool | datetime | None) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        etree.SubElement(parent, "boolean", key=key, value="true" if value else "false")
    elif isinstance(value, int):
        etree.SubElement(parent, "int", key=key, value=str(value))
    elif isinstance(value, datetime):
        etree.SubElement(parent, "date", key=key, value=value.isoformat())
    else:
        etree.SubElement(parent, "string", key=key, value=str(value))


def write(traces: Iterable[XesTrace], log_name: str, log_attributes: Mapping[str, str | int | None]) -> bytes:
    """The XES document for these traces (UTF-8)."""
    log = etree.Element("log", {"xes.version": XES_VERSION})
    for name, prefix, uri in EXTENSIONS:
        etree.SubElement(log, "extension", name=name, prefix=prefix, uri=uri)
    trace_globals = etree.SubElement(log, "global", scope="trace")
    _attribute(trace_globals, "concept:name", UNKNOWN)
    event_globals = etree.SubElement(log, "global", scope="event")
    _attribute(event_globals, "concept:name", UNKNOWN)
    _attribute(event_globals, "lifecycle:transition", "complete")
    _attribute(event_globals, "time:timestamp", datetime.fromisoformat("1970-01-01T00:00:00+00:00"))
    etree.SubElement(log, "classifier", name="Activity", keys="concept:name")
    etree.SubElement(log, "classifier", name="ActivityTransition", keys="concept:name lifecycle:transition")
    _attribute(log, "concept:name", log_name)
    _attribute(log, "lifecycle:model", "standard")
    for key, value in log_attributes.items():
        _attribute(log, key, value)
    for trace in traces:
        element = etree.SubElement(log, "trace")
        _attribute(element, "concept:name", trace.name)
        for key, value in trace.attributes.items():
            _attribute(element, key, value)
        for event in trace.events:
            item = etree.SubElement(element, "event")
            _attribute(item, "concept:name", event.name)
            _attribute(item, "lifecycle:transition", event.transition)
            _attribute(item, "time:timestamp", event.timestamp)
            _attribute(item, "org:resource", event.resource)
            _attribute(item, "org:group", event.group)
            for key, value in event.attributes.items():
                _attribute(item, key, value)
    out = io.BytesIO()
    etree.ElementTree(log).write(out, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return out.getvalue()

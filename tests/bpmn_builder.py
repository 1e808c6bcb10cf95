"""Small BPMN files for tests: one process, one lane, start -> steps -> end (no diagram layout)."""

from __future__ import annotations

from xml.sax.saxutils import escape

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="http://example.org">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="lane" name="{lane}">{refs}</bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
"""


def user_task(
    id: str,
    properties: dict[str, str] | None = None,
    boundary_timer: str | None = None,
    *,
    interrupting: bool = True,
    time_date: bool = False,
    deadline: str | None = None,
) -> str:
    props = "".join(f'<spiffworkflow:property name="{k}" value="{escape(v)}"/>' for k, v in (properties or {}).items())
    xml = (
        f'<bpmn:userTask id="{id}" name="{id}"><bpmn:extensionElements><spiffworkflow:properties>{props}'
        f"</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
    )
    if boundary_timer:
        cancel = "true" if interrupting else "false"
        kind = "bpmn:timeDate" if time_date else "bpmn:timeDuration"
        doc = f"<bpmn:documentation>norm: 14-5 ч.1\ndeadline: {deadline}</bpmn:documentation>" if deadline else ""
        xml += (
            f'<bpmn:boundaryEvent id="{id}_timer" attachedToRef="{id}" cancelActivity="{cancel}">'
            f"{doc}<bpmn:timerEventDefinition><{kind}>{escape(boundary_timer)}</{kind}>"
            f"</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
            f'<bpmn:userTask id="{id}_late" name="late"/>'
            f'<bpmn:sequenceFlow id="f_{id}_late" sourceRef="{id}_timer" targetRef="{id}_late"/>'
            f'<bpmn:endEvent id="{id}_late_end"/>'
            f'<bpmn:sequenceFlow id="f_{id}_late_end" sourceRef="{id}_late" targetRef="{id}_late_end"/>'
        )
    return xml


def script_task(id: str, script: str) -> str:
    return f'<bpmn:scriptTask id="{id}"><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>'


def diagram(key: str, steps: list[tuple[str, str]], lane: str = "MFA") -> bytes:
    """steps: (element id, element xml) in order; flows are drawn start -> each -> end."""
    ids = [sid for sid, _ in steps]
    late = [f"{sid}_late" for sid, xml in steps if "boundaryEvent" in xml]
    refs = "".join(f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in ["start", *ids, *late, "end"])
    body = "".join(xml for _, xml in steps)
    chain = ["start", *ids, "end"]
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(zip(chain, chain[1:], strict=False))
    )
    return (
        HEAD.format(key=key, lane=lane, refs=refs)
        + body
        + '<bpmn:endEvent id="end"/>'
        + flows
        + "</bpmn:process></bpmn:definitions>"
    ).encode()

"""Workflow state without its spec: the spec is rebuilt once per definition version and cached.

The library's default JSON carries the whole parsed spec in every case (about half the bytes and
most of the deserialisation time). We store only the task tree and data, and hand the cached
spec back in on restore.
"""

from __future__ import annotations

import json
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

STATE_FORMAT = "spec-ref/1"


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
        self,
        dct: dict[str, Any],
        spec: BpmnProcessSpec | None = None,
        subprocess_specs: dict[str, BpmnProcessSpec] | None = None,
        **_: Any,
    ) -> BpmnWorkflow:
        if spec is None:
            raise ValueError("restoring a case needs its definition's spec")
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value: str) -> Any:
    from uuid import UUID

    return UUID(value)


def _make_serializer() -> BpmnWorkflowSerializer:
    config = deepcopy(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_serializer = _make_serializer()


def dump_state(workflow: BpmnWorkflow) -> str:
    """JSON of the case. Never sort its keys: a task's data is stored as a delta to its parent's,
    and restoring a child before its parent silently loses that data."""
    dct = _serializer.to_dict(workflow)
    return json.dumps(
        {"format": STATE_FORMAT, "serializer": _serializer.VERSION, "workflow": dct},
        separators=(",", ":"),
        cls=_serializer._encoder_cls,
    )


def load_state(state: str, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> BpmnWorkflow:
    outer = json.loads(state)
    if outer.get("format") != STATE_FORMAT:
        raise ValueError(f"unknown case state format {outer.get('format')!r}")
    return _serializer.from_dict(outer["workflow"], spec=spec, subprocess_specs=subprocess_specs)

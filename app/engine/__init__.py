"""The only package that imports SpiffWorkflow. See docs/bpmn-conventions.md for what diagrams must say."""

from app.engine import clock_bridge as _clock_bridge  # noqa: F401  (routes the library's "now" to our clock)
from app.engine.definitions import (
    DefinitionError,
    HumanTaskSpec,
    ParsedDefinition,
    Problem,
    Rule,
    inspect_bpmn,
    read_bpmn,
)
from app.engine.errors import EngineError, NotWaitingForMessage, RuleViolation, TaskNotReady
from app.engine.runtime import ArmedTimer, Case, LoadedDefinition, ReadyTask
from app.engine.runtime import definitions as definitions_cache

__all__ = [
    "ArmedTimer",
    "Case",
    "DefinitionError",
    "EngineError",
    "HumanTaskSpec",
    "LoadedDefinition",
    "NotWaitingForMessage",
    "ParsedDefinition",
    "Problem",
    "ReadyTask",
    "Rule",
    "RuleViolation",
    "TaskNotReady",
    "definitions_cache",
    "inspect_bpmn",
    "read_bpmn",
]

"""Errors the engine raises for the service layer to translate into answers."""

from __future__ import annotations


class EngineError(Exception):
    """The diagram could not run this step (bad expression at run time, unexpected state)."""

    def __init__(self, message: str, element_id: str | None = None) -> None:
        super().__init__(message)
        self.element_id = element_id


class TaskNotReady(EngineError):
    """The task exists no more, or is no longer waiting for a person (done, cancelled, timed out)."""


class NotWaitingForMessage(EngineError):
    """No event in the case is waiting for a message of that name."""


class RuleViolation(EngineError):
    """A rule the diagram states (`rule:<field>`) refused the completion or the message."""

    def __init__(self, errors: list[dict[str, str]], element_id: str | None = None) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors), element_id)
        self.errors = errors

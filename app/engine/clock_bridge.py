"""Routes SpiffWorkflow's own notion of "now" and of new task ids through our context.

SpiffWorkflow hard-codes `datetime.now(timezone.utc)` (timers), `time.time()` (task state
changes) and `uuid4()` (task ids). We rebind those module globals once, at import, to functions
that read a context variable set for the duration of one engine operation. With a fixed clock
and a per-case id seed, running the same inputs again gives the same state byte for byte, which
is what replay needs. Outside an operation the real clock and random ids are used.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _spiff_timer
import SpiffWorkflow.task as _spiff_task

from app.clock import Clock, SystemClock


@dataclass
class EngineContext:
    clock: Clock
    id_seed: uuid.UUID | None = None
    id_counter: int = 0

    def next_id(self) -> uuid.UUID:
        if self.id_seed is None:
            return uuid.uuid4()
        self.id_counter += 1
        return uuid.uuid5(self.id_seed, str(self.id_counter))


_SYSTEM = EngineContext(clock=SystemClock())
_current: ContextVar[EngineContext] = ContextVar("engine_context", default=_SYSTEM)


@contextmanager
def engine_context(ctx: EngineContext) -> Iterator[EngineContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def current_now() -> datetime:
    return _current.get().clock.now()


class _ClockedDatetime(datetime):
    """`datetime` whose now() asks the context's clock; everything else is the real class."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        now = current_now()
        return now.astimezone(tz) if tz is not None else now.astimezone(UTC).replace(tzinfo=None)


class _ClockedTime:
    @staticmethod
    def time() -> float:
        return current_now().timestamp()


def _next_task_id() -> uuid.UUID:
    return _current.get().next_id()


def install() -> None:
    _spiff_timer.datetime = _ClockedDatetime  # type: ignore[misc]
    _spiff_task.time = _ClockedTime  # type: ignore[assignment]
    _spiff_task.uuid4 = _next_task_id  # type: ignore[assignment]


install()

"""What a use case can refuse with. The HTTP layer maps each to a status code."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status_code = 400

    def __init__(self, detail: Any) -> None:
        super().__init__(detail if isinstance(detail, str) else repr(detail))
        self.detail = detail


class NotFound(ServiceError):
    status_code = 404


class Forbidden(ServiceError):
    status_code = 403


class Conflict(ServiceError):
    status_code = 409


class Invalid(ServiceError):
    """Input that breaks a rule; `detail` is a message or a list of {field|element_id, message}."""

    status_code = 422


class Unauthorized(ServiceError):
    status_code = 401


class Throttled(ServiceError):
    """Too many failed attempts; `retry_after` is when the next attempt will be heard (aware UTC)."""

    status_code = 429

    def __init__(self, detail: Any, retry_after: Any = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

"""Errors every mock raises, and the envelope contract each protocol renders them with.

A view never builds an error response itself: it raises `ServiceError` (or lets a
`ProtocolError` escape) and the app's single error handler renders the service's envelope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from protocols.errors import ProtocolError


class ServiceError(Exception):
    """A request the service refuses, with the field at fault and an HTTP status."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str = "", status: int | None = None, code: str | None = None,
                 detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.detail = detail or {}

    @classmethod
    def from_protocol(cls, err: ProtocolError) -> ServiceError:
        return cls(err.message, field=err.field, code=err.code)


class BadRequest(ServiceError):
    status = 400
    code = "invalid"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"


class Unavailable(ServiceError):
    """A fault rule or an outage: the service pretends to be down."""

    status = 503
    code = "unavailable"


Envelope = Callable[[ServiceError], dict[str, Any]]
"""Turns an error into the JSON body of the protocol's error envelope."""


def core_envelope(err: ServiceError) -> dict[str, Any]:
    """The envelope of the admin API and of services without a protocol of their own."""
    body: dict[str, Any] = {"error": {"code": err.code, "message": err.message, "field": err.field}}
    if err.detail:
        body["error"]["detail"] = err.detail
    return body

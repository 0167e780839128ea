"""Errors of the document axis API and the one envelope they are rendered in.

The axis answers in the style of its client SDK (`status`, `ErrorCode`, `ErrorDesc`), plus the
field at fault so a vendor can see what to fix::

    {"status": "FAIL", "ErrorCode": "unknown_recipient", "ErrorDesc": "...", "field": "MessageHeader/To/OrganId"}

Success answers carry `{"status": "OK", "ErrorCode": "0", "ErrorDesc": ""}`. `ErrorCode` is a
short stable word (the class's `code`); the HTTP status follows the class (400, 401, 403, 404,
409, 413, 415, 503), never 200 for a failure, so clients that only look at the status line
still see it.
"""

from __future__ import annotations

from typing import Any

from mocks.core.errors import BadRequest, Conflict, Forbidden, NotFound, ServiceError, Unauthorized


class AxisError(ServiceError):
    """Base of the axis's own refusals."""


class InvalidField(AxisError, BadRequest):
    code = "invalid"


class BadCredentials(AxisError, Unauthorized):
    code = "unauthorized"


class NotYours(AxisError, Forbidden):
    """The system asks about, or speaks for, an agency code it does not own."""

    code = "forbidden"


class UnknownRecipient(AxisError, BadRequest):
    """No recipient of a package has a published code (nothing stored)."""

    code = "unknown_recipient"


class UnknownDocument(AxisError, NotFound):
    code = "not_found"


class CodeTaken(AxisError, Conflict):
    """Another system already published this agency code."""

    code = "code_taken"


class DuplicateDocument(AxisError, Conflict):
    code = "duplicate"


class OutOfOrder(AxisError, Conflict):
    """A status packet that the per-recipient lifecycle does not allow now."""

    code = "out_of_order"


def axis_envelope(err: ServiceError) -> dict[str, Any]:
    """The SDK-style failure body; `field` names the offending field or element path."""
    body: dict[str, Any] = {"status": "FAIL", "ErrorCode": err.code, "ErrorDesc": err.message, "field": err.field}
    if err.detail:
        body["detail"] = err.detail
    return body


def ok(**fields: Any) -> dict[str, Any]:
    """The SDK-style success body."""
    return {"status": "OK", "ErrorCode": "0", "ErrorDesc": "", **fields}

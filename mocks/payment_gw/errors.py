"""The payment platform's errors and its one error envelope.

Every refusal is `{"error_code": "<non-zero code>", "message": "...", "field": "..."}` with an
HTTP 4xx status, so a client that compares `error_code` with "0" (as the .NET client does)
never mistakes a refusal for success, and a person reading the journal sees the field at fault.
"""

from __future__ import annotations

from typing import Any

from mocks.core.errors import ServiceError

# ServiceError.code -> the platform's error_code (documented in docs/payment-test-banks.md).
ERROR_CODES: dict[str, str] = {
    "invalid": "01", "missing": "01", "unsupported_media_type": "01", "too_large": "01",
    "method_not_allowed": "01", "bad_hash": "02", "unknown_partner": "03", "reference_conflict": "04",
    "not_found": "05", "unknown_transaction": "05", "account": "06", "not_paid": "07",
    "already_settled": "08", "expired": "09", "unauthorized": "10", "forbidden": "10", "unavailable": "96",
    "internal": "99",
}


class BadHash(ServiceError):
    status = 401
    code = "bad_hash"


class UnknownPartner(ServiceError):
    status = 401
    code = "unknown_partner"


class ReferenceConflict(ServiceError):
    status = 409
    code = "reference_conflict"


class UnknownTransaction(ServiceError):
    status = 404
    code = "unknown_transaction"


class AccountError(ServiceError):
    """The beneficiary account is missing, foreign, the province's, or misspelt."""

    status = 422
    code = "account"


class NotPaid(ServiceError):
    status = 409
    code = "not_paid"


class AlreadySettled(ServiceError):
    status = 409
    code = "already_settled"


class Expired(ServiceError):
    status = 410
    code = "expired"


class InvalidField(ServiceError):
    status = 400
    code = "invalid"


def payment_envelope(err: ServiceError) -> dict[str, Any]:
    """The platform's error body; `error_code` is never "0"."""
    body: dict[str, Any] = {"error_code": ERROR_CODES.get(err.code, "99"), "message": err.message,
                            "field": err.field}
    if err.detail:
        body["detail"] = err.detail
    return body

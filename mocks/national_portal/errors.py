"""Errors of the portal's adapter API and their envelope.

The adapter answers `{"error_code": <int>, "message": "...", "field": "..."}`. Codes follow
what provincial clients key on: -3 with "đã tồn tại" for a dossier that already exists (the
.NET client then retries as an update). HTTP status follows the error class unless the
tenant's client dialect answers refusals with 200 (`protocols.dialects`; OpenCPS and the default),
or config `ADAPTER_ERRORS_AS_200` forces 200 for everything.
"""

from __future__ import annotations

from typing import Any

from mocks.core.errors import BadRequest, Conflict, Forbidden, NotFound, ServiceError, Unauthorized


class AdapterError(ServiceError):
    error_code = -1


class InvalidField(AdapterError, BadRequest):
    error_code = -1


class InvalidSession(AdapterError, Unauthorized):
    error_code = -2


class AlreadyExists(AdapterError, Conflict):
    error_code = -3


class DossierNotFound(AdapterError, NotFound):
    error_code = -4


class IllegalTransition(AdapterError, Conflict):
    error_code = -5
    code = "illegal_transition"


class WrongProvince(AdapterError, Forbidden):
    error_code = -6


ERROR_CODES_BY_STATUS = {400: -1, 401: -2, 403: -6, 404: -4, 405: -1, 409: -3, 413: -7, 415: -1, 503: -9}


def adapter_envelope(err: ServiceError) -> dict[str, Any]:
    code = getattr(err, "error_code", None)
    if code is None:
        code = ERROR_CODES_BY_STATUS.get(err.status, -99)
    body: dict[str, Any] = {"error_code": code, "message": err.message, "field": err.field}
    if err.detail:
        body["detail"] = err.detail
    return body

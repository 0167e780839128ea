"""Errors of the government CA mock.

Each names the field at fault so the CA's views (and the harness) can say which part of a
request was wrong; they subclass the core `ServiceError`, constructed as every error of the house
is (`message, field=...`), so the app's one error handler renders them without a special case.
"""

from __future__ import annotations

from mocks.core.errors import ServiceError


class CAError(ServiceError):
    """A request the CA refuses: bad CSR, weak key, unknown serial, bad argument."""

    status = 400
    code = "invalid"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class UnknownCertificate(CAError):
    """A serial this CA never issued."""

    status = 404
    code = "not_found"


class AlreadyRevoked(CAError):
    """Revoking twice is refused: the first revocation's date and reason stand."""

    status = 409
    code = "conflict"

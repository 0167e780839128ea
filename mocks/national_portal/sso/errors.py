"""OAuth 2.0 / OpenID Connect errors and their envelope (RFC 6749 §5.2).

Every refusal names the parameter at fault in ``error_description``, because a vendor debugging
a failed login has nothing else to go on. The description is kept to the characters RFC 6749
allows there (printable ASCII without ``"`` and ``\\``), so strict clients can parse it.
"""

from __future__ import annotations

from typing import Any

from mocks.core.errors import ServiceError

OAUTH_ERROR_CODES = frozenset({
    "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
    "invalid_scope", "invalid_token", "unsupported_response_type", "unsupported_token_type", "access_denied",
    "login_required", "request_not_supported", "request_uri_not_supported", "server_error",
    "temporarily_unavailable",
})


class OAuthError(ServiceError):
    """A refused OAuth request; `code` is the RFC error code, `field` the parameter at fault."""

    status = 400
    code = "invalid_request"


class InvalidRequest(OAuthError):
    code = "invalid_request"


class InvalidClient(OAuthError):
    status = 401
    code = "invalid_client"


class InvalidGrant(OAuthError):
    code = "invalid_grant"


class UnauthorizedClient(OAuthError):
    code = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    code = "unsupported_response_type"


class InvalidScope(OAuthError):
    code = "invalid_scope"


class InvalidToken(OAuthError):
    status = 401
    code = "invalid_token"


class LoginRequired(OAuthError):
    code = "login_required"


class RequestNotSupported(OAuthError):
    code = "request_not_supported"


class RequestUriNotSupported(OAuthError):
    code = "request_uri_not_supported"


class AuthorizeRedirect(Exception):
    """An authorization error that goes back to the (already verified) redirect_uri.

    Not an error of its own but the carrier of one: the `OAuthError` first, where every other
    class here takes its message, then keywords only, as `ServiceError` takes them.
    """

    def __init__(self, error: OAuthError, *, redirect_uri: str, state: str | None, issuer: str) -> None:
        super().__init__(error.message)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state
        self.issuer = issuer


def safe_description(text: str) -> str:
    """Fold text into the RFC 6749 error_description alphabet (%x20-21 / %x23-5B / %x5D-7E)."""
    text = text.replace('"', "'").replace("\\", "/")
    return "".join(c if 0x20 <= ord(c) <= 0x7E else "?" for c in text)


def describe(err: ServiceError) -> str:
    """``"<parameter>: <message>"``: the parameter first, so it is always named."""
    message = err.message
    if err.field and not message.startswith(f"{err.field}:"):
        message = f"{err.field}: {message}"
    return safe_description(message)


def oauth_code(err: ServiceError) -> str:
    """The RFC error code; generic core errors (faults, 413, crashes) are mapped onto one."""
    if err.code in OAUTH_ERROR_CODES:
        return err.code
    if err.status == 503:
        return "temporarily_unavailable"
    if err.status >= 500:
        return "server_error"
    return "invalid_request"


def oauth_envelope(err: ServiceError) -> dict[str, Any]:
    """The JSON body of every SSO error: ``{"error", "error_description"}``."""
    return {"error": oauth_code(err), "error_description": describe(err)}

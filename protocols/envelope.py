"""The national platforms' answer envelope: `{"error_code", "message", ...}`.

Clients compare `error_code` as `0` or as the strings `"0"` / `"00"` (OpenCPS reads `"00"`, the
.NET client `"0"`), so success is any of the three. A dossier the portal already holds is refused
with `error_code` -3 and a message containing "đã tồn tại" (the .NET client then retries as an
update). One definition of each rule, for the mocks, the clients and the harness.
"""

from __future__ import annotations

from typing import Any

SUCCESS_CODES = (0, "0", "00")
ALREADY_EXISTS_CODE = "-3"
ALREADY_EXISTS_TEXT = "đã tồn tại"
SESSION_EXPIRED_CODE = "-2"
"""The adapter session is unknown or expired: log in again (HTTP 401 in `strict`/`dotnet`, 200 in the others)."""
REFUSAL_CODES = frozenset({"-1", ALREADY_EXISTS_CODE, "-4", "-5", "-6", "-7"})
"""Error codes the portal repeats for the same call forever: invalid field, already exists, not found,
illegal transition, another province's, too large (docs/portal.openapi.yaml, `AdapterError`)."""


def error_code_is_zero(value: Any) -> bool:
    """`error_code` means success: 0, "0" or "00"."""
    return value in SUCCESS_CODES


def already_exists(body: Any) -> bool:
    """The portal's answer to creating a dossier it already holds (-3, "... đã tồn tại")."""
    if not isinstance(body, dict):
        return False
    return str(body.get("error_code")) == ALREADY_EXISTS_CODE or ALREADY_EXISTS_TEXT in str(body.get("message", ""))

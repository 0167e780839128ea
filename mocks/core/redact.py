"""Secrets never reach a journal or an evidence bundle."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

SECRET_KEYS = frozenset(k.lower() for k in ("x-axis-secret", "code_verifier", "id_token_hint",
    "password", "client_secret", "secret", "access_token", "refresh_token", "id_token", "code",
    "authorization", "cookie", "set-cookie", "x-admin-token", "session", "token", "private_key",
    "matkhau", "MaXacThuc", "private_key_pem", "forward_secret",
))
REDACTED = "***"
_FORM_SECRET = re.compile(r"(?i)\b(password|client_secret|code|code_verifier|refresh_token|access_token|token|id_token_hint)=([^&\s]+)")


def redact_value(key: str, value: Any) -> Any:
    if key.lower() in SECRET_KEYS and value not in (None, ""):
        return REDACTED
    return redact(value)


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    out = {}
    for k, v in headers.items():
        if k.lower() in SECRET_KEYS:
            scheme = v.split(" ", 1)[0] if " " in v else ""
            out[k] = f"{scheme} {REDACTED}".strip()
        else:
            out[k] = v
    return out


def redact_body(body: str | bytes | None, limit: int) -> str | None:
    """Redact a JSON or form body; anything else is kept as text, cut at `limit` characters."""
    if body is None:
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        with contextlib.suppress(ValueError):
            text = json.dumps(redact(json.loads(text)), ensure_ascii=False)
    else:
        text = _FORM_SECRET.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\\u0000")  # storable anywhere
    if len(text) > limit:
        text = text[:limit] + f"...[{len(text) - limit} more characters]"
    return text


def redact_url(url: str) -> str:
    """Query parameters that carry secrets (code, tokens, id_token_hint) are masked."""
    if "?" not in url:
        return url
    path, _, query = url.partition("?")
    return f"{path}?{_FORM_SECRET.sub(lambda m: f'{m.group(1)}={REDACTED}', query)}"

"""Secrets never reach a journal or an evidence bundle.

One list of secret names (`SECRET_KEYS`, compared without case) is applied the same way whatever
the form of what is stored: a JSON value at any depth, a form or query string, headers, and text
that is none of these (a body with a trailing comma, a byte-order mark, single quotes, two objects
back to back, trailing junk). Text that does not parse (or nests too deep to be written back) is
stored only in a redacted form: every `name: value` or `name=value` of a secret name is masked in
it. `redact` does not recurse, so a value nested a thousand levels deep is redacted like any other.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any
from urllib.parse import unquote_plus

SECRET_KEYS = frozenset(k.lower() for k in (
    "x-axis-secret", "code_verifier", "id_token_hint", "password", "client_secret", "secret", "access_token",
    "refresh_token", "id_token", "code", "authorization", "cookie", "set-cookie", "x-admin-token", "session",
    "token", "private_key", "matkhau", "MaXacThuc", "private_key_pem", "forward_secret", "client_assertion",
    "assertion", "api_key", "apikey", "x-api-key", "passwd", "pwd", "mat_khau", "x-dvcqg-signature",
    "x-maxacthuc", "signature", "sid", "csrf_token", "key_pem",
))
REDACTED = "***"

_NAMES = "|".join(sorted((re.escape(k) for k in SECRET_KEYS), key=len, reverse=True))
# name, optionally quoted, then ':' or '=', then a quoted value or a bare run up to a separator
_TEXT_SECRET = re.compile(
    r"""(?ix)(?P<name>["']?(?<![A-Za-z0-9_])(?:""" + _NAMES + r""")["']?\s*[:=]\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;&}\]"']+)""")


_KNOWN: dict[str, bool] = {}
"""`is_secret` of the key names met so far (a journal meets the same few hundred names again and again)."""
_KNOWN_MAX = 4096


def is_secret(key: Any) -> bool:
    if type(key) is str:
        found = _KNOWN.get(key)
        if found is None:
            found = key.lower() in SECRET_KEYS
            if len(_KNOWN) < _KNOWN_MAX:
                _KNOWN[key] = found
        return found
    return str(key).lower() in SECRET_KEYS


def redact(value: Any) -> Any:
    """A copy of `value` with every secret key's non-empty value masked, at any depth (iteratively)."""
    if not isinstance(value, (dict, list)):
        return value
    root: Any = {} if isinstance(value, dict) else []
    stack: list[tuple[Any, Any]] = [(value, root)]
    while stack:
        source, target = stack.pop()
        if isinstance(source, dict):
            for key, item in source.items():
                if item is not None and item != "" and is_secret(key):
                    target[key] = REDACTED
                elif isinstance(item, (dict, list)):
                    copied: Any = {} if isinstance(item, dict) else []
                    stack.append((item, copied))
                    target[key] = copied
                else:
                    target[key] = item
        else:
            for item in source:
                if isinstance(item, (dict, list)):
                    copied = {} if isinstance(item, dict) else []
                    stack.append((item, copied))
                    target.append(copied)
                else:
                    target.append(item)
    return root


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    out = {}
    for k, v in headers.items():
        if is_secret(k):
            scheme = v.split(" ", 1)[0] if " " in v else ""
            out[k] = f"{scheme} {REDACTED}".strip()
        else:
            out[k] = redact_text(v) if isinstance(v, str) else v
    return out


def redact_text(text: str) -> str:
    """Mask every `name: value` / `name=value` of a secret name in free text, quoted or not."""
    if ":" not in text and "=" not in text:  # what the pattern needs after a name: most header values have neither
        return text
    return _TEXT_SECRET.sub(lambda m: f"{m.group('name')}{_mask_like(m.group('value'))}", text)


def _mask_like(value: str) -> str:
    if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) >= 2:
        return f"{value[0]}{REDACTED}{value[0]}"
    return REDACTED


def _redacted_json(text: str) -> str | None:
    """The JSON object or array `text` with every secret key's non-empty value masked (masked as the
    parser builds each object: no second walk over a large answer), or None when `text` is not strict
    JSON or is too deep to write back. Text with no secret in it is kept exactly as it came."""
    masked = False

    def mask(obj: dict[str, Any]) -> dict[str, Any]:
        nonlocal masked
        if not SECRET_KEYS.isdisjoint(map(str.lower, obj)):
            for key, item in obj.items():
                if item is not None and item != "" and key.lower() in SECRET_KEYS:
                    obj[key], masked = REDACTED, True
        return obj

    try:
        value = json.loads(text, object_hook=mask)
        if not isinstance(value, (dict, list)):
            return None
        return json.dumps(value, ensure_ascii=False) if masked else text
    except (ValueError, RecursionError):
        return None


def _redact_pairs(text: str) -> str | None:
    """A form or query string with the value of every secret name masked, each pair kept as it was
    written otherwise; None when `text` is not one."""
    if "=" not in text or any(c in text for c in "{}[]\n\"'"):
        return None
    out = []
    for pair in text.split("&"):
        name, sep, value = pair.partition("=")
        if not sep and pair:
            return None
        out.append(f"{name}={REDACTED}" if is_secret(unquote_plus(name).strip()) and value else pair)
    return "&".join(out)


def redact_body(body: str | bytes | None, limit: int, *, redacted_json: Any = None) -> str | None:
    """A body as it may be stored: JSON redacted value by value, a form key by key, anything else as
    text with every secret masked; cut at `limit` characters.

    `redacted_json`: `redact()` of the JSON object or array that `body` is, when a reader already
    parsed it strictly (`mocks.core.bodies.json_body`): stored as is, instead of parsing again."""
    if body is None:
        return None
    if isinstance(redacted_json, (dict, list)):
        text = json.dumps(redacted_json, ensure_ascii=False)
    else:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        text = _redact_text_or_json(text)
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\\u0000")  # storable anywhere
    if len(text) > limit:
        text = text[:limit] + f"...[{len(text) - limit} more characters]"
    return text


LARGE_BODY = 4096
"""A body at least this long is redacted once per distinct text (`_redact_large`, the last 8): the same large answer
(a province's whole dossier listing read before and after every probe) came back again and again, and
parsing, masking and writing it back each time was a twelfth of a province's certification."""


def _redact_text_or_json(text: str) -> str:
    return _redact_large(text) if len(text) >= LARGE_BODY else _redact_small(text)


@functools.lru_cache(maxsize=8)
def _redact_large(text: str) -> str:
    return _redact_small(text)


def _redact_small(text: str) -> str:
    stripped = text.lstrip("\ufeff \t\r\n")
    value = _redacted_json(stripped) if stripped[:1] in "{[" else None
    if value is not None:
        text = value
    elif (form := _redact_pairs(stripped)) is not None:
        text = form
    else:
        text = redact_text(text)
    return text


def redact_url(url: str) -> str:
    """Query parameters of a secret name are masked, whatever the name's case."""
    if "?" not in url:
        return url
    path, _, query = url.partition("?")
    form = _redact_pairs(query)
    return f"{path}?{form if form is not None else redact_text(query)}"

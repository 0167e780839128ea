"""Reading request bodies the same strict way in every mock."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import g, request

from protocols.errors import ProtocolError
from protocols.json_text import loads

from .errors import BadRequest, UnsupportedMediaType
from .redact import redact


def json_body() -> Any:
    """The request's JSON body, or a clear error naming `body`; never a Werkzeug 400 page."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadRequest("the request body is empty; expected a JSON document", field="body")
    ctype = request.mimetype or ""
    if ctype and ctype not in ("application/json", "text/json") and not ctype.endswith("+json") \
            and ctype != "text/plain":
        raise UnsupportedMediaType(f"expected Content-Type application/json, got {ctype!r}", field="Content-Type")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8", field="body") from None
    try:
        body = loads(text, "body")
    except ProtocolError as err:
        words = err.message if "nested" in err.message else f"the request body is {err.message}"
        raise BadRequest(words, field=err.field) from None
    if _SURROGATE_ESCAPE.search(text):
        _refuse_unpaired_surrogates(body)
    # The journal stores this body redacted: a redacted copy taken now (before the view may change
    # the value it is given) spares it parsing the same text again.
    g.journal_request_json = redact(body) if isinstance(body, (dict, list)) else None
    return body


_SURROGATE_ESCAPE = re.compile(r"\\u([dD][89a-fA-F][0-9a-fA-F]{2}|0000)")


def _refuse_unpaired_surrogates(body: Any) -> None:
    """JSON may escape a lone UTF-16 surrogate or a NUL; such text cannot be stored or answered, so refuse it."""
    try:
        text = json.dumps(body, ensure_ascii=False)
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("the body contains an unpaired UTF-16 surrogate (for example \\ud800): "
                         "not valid Unicode text", field="body") from None
    if _has_nul(body):
        raise BadRequest("the body contains a NUL character (\\u0000), which no text field accepts", field="body")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def json_object() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest(f"expected a JSON object, got {type(body).__name__}", field="body")
    return body

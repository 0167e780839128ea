"""Reading JSON from the wire with limits every receiver shares: valid JSON, and no deeper than any
message of these protocols ever is (a body nested a thousand levels deep is refused naming where it
went too deep, instead of exhausting the reader's or a validator's recursion)."""

from __future__ import annotations

import json
import math
from typing import Any

from protocols.errors import ProtocolError

MAX_DEPTH = 32
"""No message of the portal, the payment platform, the axis or the driver nests deeper than a few levels."""


def too_deep(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """The path (``data[0].TaiLieuNop[0]...``) of the first container deeper than `limit`, or None."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if not isinstance(item, (dict, list)):
            continue
        if depth > limit:
            return path or "(root)"
        if isinstance(item, dict):
            stack.extend((v, f"{path}.{k}" if path else str(k), depth + 1) for k, v in item.items())
        else:
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(item))
    return None


def _shorten(path: str) -> str:
    return path if len(path) <= 80 else f"{path[:60]}…{path[-16:]}"


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:20]}{'…' if len(text) > 20 else ''} is too large for a double")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes, field: str = "body", *, limit: int = MAX_DEPTH) -> Any:
    """The JSON value of `text`, or ProtocolError naming `field` (or the too-deep path within it).

    Strict JSON (RFC 8259): NaN, Infinity and numbers too large for a double are refused, since no
    receiver can store or answer them."""
    try:
        value = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError:
        raise ProtocolError(field, f"nested deeper than {limit} levels") from None
    except ValueError as err:
        raise ProtocolError(field, f"not valid JSON: {err}") from None
    path = too_deep(value, limit)
    if path is not None:
        where = field if path == "(root)" else f"{field}.{_shorten(path)}" if field != "body" else _shorten(path)
        raise ProtocolError(where, f"nested deeper than {limit} levels")
    return value

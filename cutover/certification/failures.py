"""Failures grouped by cause, for the top of the report: the same requirement failing with a message
of the same shape (codes, numbers and quoted values aside) is one cause, counted, with every
commune it hit; messages that carry a JSON answer are shown pretty-printed, not escaped."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

_URL = re.compile(r"https?://\S+")
_OPENING = re.compile(r"[{\[]")
_VALUE = re.compile(r"'[^']*'|\"[^\"]*\"|\b[0-9A-Za-z]*\d[0-9A-Za-z.:_-]*\b")


def shape(message: str, names: tuple[str, ...] = ()) -> str:
    """The message's words with its particulars (URLs, codes, numbers, quoted values, any JSON answer,
    and `names`: the commune's and province's own) replaced by `…`: messages of one shape have one cause."""
    text = readable(message)["text"].split("\n", 1)[0]
    for name in sorted(filter(None, names), key=len, reverse=True):
        text = text.replace(name, "…")
    return _VALUE.sub("…", _URL.sub("…", text))[:200]


def _unpack(value: Any) -> Any:
    """JSON answers quoted inside JSON strings (an error that carries another system's answer), unpacked."""
    if isinstance(value, dict):
        return {k: _unpack(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack(v) for v in value]
    if isinstance(value, str) and "{" in value:
        found = readable(value)
        if found["json"]:
            return {"text": found["text"], "answer": json.loads(found["json"])}
    return value


def readable(message: str) -> dict[str, str]:
    """The message's text and, when it carries a JSON value, that value pretty-printed (the first
    bracket that opens one: a label such as `[PAY-1]` before it is text)."""
    starts = [m.start() for m in _OPENING.finditer(message)][:50]
    for start in starts:
        try:
            value, end = json.JSONDecoder().raw_decode(message[start:])
        except ValueError:
            continue
        if isinstance(value, (dict, list)) and value:
            text = (message[:start] + " " + message[start + end:]).strip()
            return {"text": text, "json": json.dumps(_unpack(value), ensure_ascii=False, indent=2)}
    return {"text": message, "json": ""}


def group_failures(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every failed or error outcome and every cell not judged, grouped by (requirement, status, shape)."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for pcode, province in data["provinces"].items():
        for check in province["checks"].values():
            for f in check["failures"]:
                names = (data.get("communes", {}).get(f["commune"] or "", {}).get("name", ""), province.get("name", ""))
                key = (f["scenario"], f["status"], shape(f["message"], names))
                groups[key].append({"province": pcode, "commune": f["commune"], **readable(f["message"])})
            for rid, commune in check.get("not_judged", []):
                groups[(rid, "not judged", "no outcome reached this cell")].append(
                    {"province": pcode, "commune": commune, "text": "not judged", "json": ""})
    out = []
    for (rid, status, what), items in groups.items():
        communes = {i["commune"] for i in items if i["commune"]}
        out.append({"requirement": rid, "check": rid.split("-", 1)[0], "status": status, "shape": what,
                    "count": len(items), "communes": len(communes),
                    "provinces": sorted({i["province"] for i in items}), "items": items[:500]})
    return sorted(out, key=lambda g: (-g["count"], g["requirement"]))

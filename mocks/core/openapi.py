"""A mock's published document: its OpenAPI template with the protocol's schemas put in.

Each mock keeps its contract as a YAML template beside its code. Where a message's shape is
already written in `protocols/` (the HoSo, a progress entry, a payment message), the template
names that schema instead of copying it: ``{x-cutover-schema: "protocols.hoso:HOSO_JSON_SCHEMA"}``.
`load_document` puts the schema in, so the document a vendor reads and the schema the tests hold
the protocol's validators to are one object, and cannot drift apart.
"""

from __future__ import annotations

import copy
import importlib
from functools import cache
from pathlib import Path
from typing import Any

import yaml

MARKER = "x-cutover-schema"
ALLOWED_PREFIX = "protocols."
DROPPED_KEYS = ("$schema", "$id")  # a schema inside an OpenAPI 3.1 document takes the document's dialect


def protocol_schema(reference: str) -> dict[str, Any]:
    """The schema `module:NAME` names, from `protocols/` only (the floor every mock stands on)."""
    module, _, name = reference.partition(":")
    if not module.startswith(ALLOWED_PREFIX) or not name:
        raise ValueError(f"{MARKER}: expected 'protocols.<module>:<NAME>', got {reference!r}")
    value = getattr(importlib.import_module(module), name)
    if not isinstance(value, dict):
        raise ValueError(f"{MARKER}: {reference} is not a JSON Schema object")
    return {k: v for k, v in copy.deepcopy(value).items() if k not in DROPPED_KEYS}


def resolve(node: Any) -> Any:
    """`node` with every ``{x-cutover-schema: ...}`` replaced by the schema it names (other keys kept)."""
    if isinstance(node, dict):
        if MARKER in node:
            extra = {k: resolve(v) for k, v in node.items() if k != MARKER}
            return {**protocol_schema(str(node[MARKER])), **extra}
        return {k: resolve(v) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v) for v in node]
    return node


@cache
def load_document(path: Path) -> dict[str, Any]:
    """The published document built from the template at `path` (cached: templates do not change at run time)."""
    template = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(template, dict):
        raise ValueError(f"{path}: expected an OpenAPI document (a mapping)")
    resolved: dict[str, Any] = resolve(template)
    return resolved


def document_yaml(path: Path) -> str:
    """The published document as YAML, keys in the template's order (what `docs/` keeps a copy of)."""
    return yaml.safe_dump(load_document(path), allow_unicode=True, sort_keys=False, width=110)


__all__ = ["MARKER", "document_yaml", "load_document", "protocol_schema", "resolve"]

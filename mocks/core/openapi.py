"""A mock's published document: its OpenAPI template with the protocol's schemas put in.

Each mock keeps its contract as a YAML template beside its code. Where a message's shape is
already written in `protocols/` (the HoSo, a progress entry, a payment message), the template
names that schema instead of copying it: ``{x-cutover-schema: "protocols.hoso:HOSO_JSON_SCHEMA"}``.
`load_document` puts the schema in, so the document a vendor reads and the schema the tests hold
the protocol's validators to are one object, and cannot drift apart.

Where the client dialects (`protocols.dialects`, DESIGN §4.8) make a message differ, the template
says so in terms of the dialect table, and the document names the dialects of each variant in
``x-cutover-dialects`` (a list of dialect names), worked out here from `DIALECTS`:

* ``x-cutover-when: {column: value, ...}`` on a schema, a response or a media type: the variant
  serves the dialects whose columns have those values (a list matches a tuple or a set);
* ``x-cutover-dialect-form: {column: NAME, each: {value: schema}}`` becomes one variant per value
  the column takes (``{const: value}`` without `each`; a tuple or set value joins its members'
  schemas with ``allOf``), and ``x-cutover-dialect-form: hoso`` the HoSo each dialect accepts;
* ``x-cutover-dialect-table: portal|payment`` (in `info`) becomes the dialect table itself.

Every variant also carries ``x-cutover-dialect-columns``: the columns it depends on, so a test can
tell that every column of the table is described somewhere.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from protocols.dialects import DEFAULT_DIALECT, DIALECTS, Dialect

MARKER = "x-cutover-schema"
ALLOWED_PREFIX = "protocols."
DROPPED_KEYS = ("$schema", "$id")  # a schema inside an OpenAPI 3.1 document takes the document's dialect
WHEN = "x-cutover-when"
FORM = "x-cutover-dialect-form"
TABLE = "x-cutover-dialect-table"
DIALECTS_KEY = "x-cutover-dialects"
COLUMNS_KEY = "x-cutover-dialect-columns"
GUIDE = "docs/vendor-guide.md#client-dialects"
COLUMNS = tuple(f.name for f in fields(Dialect) if f.name not in ("name", "client", "summary"))
"""The columns of the dialect table: each is one §4.8 difference a document must describe."""


def protocol_schema(reference: str) -> dict[str, Any]:
    """The schema `module:NAME` names, from `protocols/` only (the floor every mock stands on)."""
    module, _, name = reference.partition(":")
    if not module.startswith(ALLOWED_PREFIX) or not name:
        raise ValueError(f"{MARKER}: expected 'protocols.<module>:<NAME>', got {reference!r}")
    value = getattr(importlib.import_module(module), name)
    if not isinstance(value, dict):
        raise ValueError(f"{MARKER}: {reference} is not a JSON Schema object")
    return {k: v for k, v in copy.deepcopy(value).items() if k not in DROPPED_KEYS}


# -- dialects --------------------------------------------------------------------------------

def _column(name: Any, where: str) -> str:
    if name not in COLUMNS:
        raise ValueError(f"{where}: {name!r} is not a column of the dialect table; expected one of {list(COLUMNS)}")
    return str(name)


def _matches(value: Any, wanted: Any) -> bool:
    if isinstance(value, (tuple, frozenset)) and isinstance(wanted, list):
        return list(value) == wanted if isinstance(value, tuple) else value == frozenset(wanted)
    return type(value) is type(wanted) and value == wanted


def _names(dialects: list[Dialect]) -> str:
    return ", ".join(("the default " if d.name == DEFAULT_DIALECT else "") + d.name for d in dialects)


def _tagged(schema: dict[str, Any], dialects: list[Dialect], columns: list[str], note: bool) -> dict[str, Any]:
    out = {**schema, DIALECTS_KEY: [d.name for d in dialects], COLUMNS_KEY: columns}
    if note:
        text = f"In the dialect(s) {_names(dialects)}."
        out["description"] = f"{out['description']} {text}" if out.get("description") else text
    return out


def when(node: dict[str, Any], note: bool) -> dict[str, Any]:
    """A variant written by hand: `x-cutover-when` becomes the dialects it serves (the rest is resolved)."""
    condition = node[WHEN]
    if not isinstance(condition, dict) or not condition:
        raise ValueError(f"{WHEN}: expected {{column: value, ...}}, got {condition!r}")
    columns = [_column(c, WHEN) for c in condition]
    chosen = [d for d in DIALECTS.values() if all(_matches(getattr(d, c), v) for c, v in condition.items())]
    if not chosen:
        raise ValueError(f"{WHEN}: {condition} matches no dialect of the table: the variant is dead")
    rest = resolve({k: v for k, v in node.items() if k != WHEN})
    return _tagged(rest, chosen, columns, note)


def _by_column(spec: dict[str, Any]) -> tuple[list[str], Callable[[Dialect], dict[str, Any]]]:
    column = _column(spec.get("column"), FORM)
    each = spec.get("each")

    def one(value: Any) -> dict[str, Any]:
        if each is None:
            return {"const": value}
        if value not in each:
            raise ValueError(f"{FORM}: the column {column} takes {value!r} (a dialect's value), which `each` "
                             f"does not describe; it describes {list(each)}")
        return copy.deepcopy(each[value])

    def render(d: Dialect) -> dict[str, Any]:
        value = getattr(d, column)
        if isinstance(value, (tuple, frozenset)):
            parts = [one(v) for v in (value if isinstance(value, tuple) else sorted(value))]
            return parts[0] if len(parts) == 1 else {"allOf": parts}
        return one(value)

    return [column], render


def _hoso(d: Dialect) -> dict[str, Any]:
    """The HoSo as dialect `d` accepts it: its `hoso_may_omit` fields optional, `DonViXuLy` a name too."""
    schema = protocol_schema("protocols.hoso:HOSO_JSON_SCHEMA")
    if d.hoso_may_omit:
        schema["required"] = [f for f in schema["required"] if f not in d.hoso_may_omit]
        for name in sorted(d.hoso_may_omit):
            prop = schema["properties"][name]
            prop["description"] = f"{prop.get('description', '')}; may be omitted".lstrip("; ")
    if d.agency_by_name:
        schema["properties"]["DonViXuLy"] = {
            "type": "string", "minLength": 1, "examples": ["000.01.31.H31", "UBND phường Hồng Bàng"],
            "description": "the handling agency's identification code, or its name as the province declared it "
                           "(KhaiBaoCoQuan; compared without case or extra spaces): the portal stores the code "
                           "and keeps the name as TenDonViXuLy"}
        schema["properties"]["TenDonViXuLy"] = {"type": "string",
                                                "description": "the name DonViXuLy gave, as the portal keeps it"}
    return schema


FORMS: dict[str, tuple[list[str], Callable[[Dialect], dict[str, Any]]]] = {
    "hoso": (["hoso_may_omit", "agency_by_name"], _hoso),
}
"""Forms a template names by word: the columns each reads and how it renders one dialect."""


def dialect_form(node: dict[str, Any]) -> dict[str, Any]:
    """One variant per distinct rendering over the dialects, each naming its dialects."""
    spec = node[FORM]
    if isinstance(spec, str):
        if spec not in FORMS:
            raise ValueError(f"{FORM}: unknown form {spec!r}; expected a mapping {{column, each}} or one of "
                             f"{sorted(FORMS)}")
        columns, render = FORMS[spec]
    elif isinstance(spec, dict):
        columns, render = _by_column(spec)
    else:
        raise ValueError(f"{FORM}: expected a form's name or {{column, each}}, got {spec!r}")
    groups: list[tuple[dict[str, Any], list[Dialect]]] = []
    for d in DIALECTS.values():
        rendered = resolve(render(d))
        for schema, members in groups:
            if schema == rendered:
                members.append(d)
                break
        else:
            groups.append((rendered, [d]))
    rest = {k: resolve(v) for k, v in node.items() if k != FORM}
    variants = [_tagged(schema, members, columns, note=True) for schema, members in groups]
    if len(variants) == 1:
        return {**variants[0], **rest}
    return {**rest, "anyOf": variants, COLUMNS_KEY: columns}


def dialect_table(section: str) -> dict[str, Any]:
    """What `info.x-cutover-dialects` says: the default, the guide's table, and each dialect's columns."""
    if section not in ("portal", "payment"):
        raise ValueError(f"{TABLE}: expected portal or payment, got {section!r}")
    return {"default": DEFAULT_DIALECT, "guide": GUIDE, "chosen_by": f"the tenant's `dialect` ({section} section of "
            "the tenants file, or the admin API)",
            "dialects": {d.name: {"client": d.client, "summary": d.summary, **d.describe()[section]}
                         for d in DIALECTS.values()}}


# -- the template ------------------------------------------------------------------------------

def resolve(node: Any, in_schema_list: bool = False) -> Any:
    """`node` with every ``{x-cutover-schema: ...}`` replaced by the schema it names (other keys kept),
    and every dialect marker worked out from the dialect table."""
    if isinstance(node, dict):
        if FORM in node:
            return dialect_form(node)
        if WHEN in node:
            return when(node, note=in_schema_list or "description" in node)
        if TABLE in node:
            return dialect_table(str(node[TABLE]))
        if MARKER in node:
            extra = {k: resolve(v) for k, v in node.items() if k != MARKER}
            return {**protocol_schema(str(node[MARKER])), **extra}
        return {k: resolve(v, k in ("anyOf", "oneOf", "allOf")) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, in_schema_list) for v in node]
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


__all__ = ["COLUMNS", "DIALECTS_KEY", "MARKER", "document_yaml", "load_document", "protocol_schema", "resolve"]

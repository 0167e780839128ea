"""Shared XML plumbing for edXML: safe parsing, the schema, and schema errors as ProtocolError.

Kept apart from parser/builder so both (and the signature code) read untrusted bytes the same
hardened way and report schema errors in one shape: ``field`` is the element path below the
envelope's header or body (``MessageHeader/From/OrganId``), ``message`` starts ``line N:``.
"""

from __future__ import annotations

import copy
import re
import threading
from importlib import resources

from lxml import etree

from protocols.errors import ProtocolError

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
PREFIX = "edXML"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
ROOT = "edXMLEnvelope"

_local = threading.local()

# Friendlier words for facet errors, keyed by element local name.
_EXPECT: dict[str, str] = {
    "OrganId": "an agency code NNN.NN.NN.Xnn such as 000.00.00.H29",
    "PromulgationDate": "a date yyyy-MM-dd",
    "DueDate": "a date yyyy-MM-dd",
    "Timestamp": "a time yyyy-MM-ddTHH:mm:ss, optionally with Z or +hh:mm",
    "Priority": "a priority 0..4 (0 normal, 1 urgent, 2 very urgent, 3 flash, 4 flash with set time)",
    "StatusCode": "one of the status codes 01, 02, 03, 04, 05, 06, 13, 15, 16",
    "ContentType": "a MIME type such as application/pdf",
    "ContentId": "a content id of letters, digits and ._@-",
    "Email": "an e-mail address",
    "ContentTransferEncoded": "base64 text",
    "PromulgationAmount": "a whole number",
    "PageAmount": "a whole number",
    "SteeringType": "a number of one or two digits",
}


def q(name: str) -> str:
    """Clark name of an edXML element."""
    return f"{{{NS}}}{name}"


def local(tag: object) -> str:
    """Local part of a tag (``{ns}Name`` -> ``Name``)."""
    return etree.QName(tag).localname if isinstance(tag, str) else str(tag)


def _schema() -> etree.XMLSchema:
    # One schema per thread: lxml keeps the last error log on the validator object.
    schema = getattr(_local, "schema", None)
    if schema is None:
        xsd = resources.files("protocols.edxml").joinpath("edxml.xsd").read_bytes()
        schema = etree.XMLSchema(etree.fromstring(xsd))
        _local.schema = schema
    return schema


def _parser() -> etree.XMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_blank_text=False,
            remove_comments=False,
        )
        _local.parser = parser
    return parser


_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")


def safe_parse(data: bytes, *, max_bytes: int) -> etree._Element:
    """Parse untrusted bytes; refuse DTDs and entity declarations before libxml2 sees them."""
    if not isinstance(data, bytes | bytearray):
        raise ProtocolError(ROOT, f"expected the document as bytes, got {type(data).__name__}")
    if not data.strip():
        raise ProtocolError(ROOT, "empty document; expected an edXML envelope")
    if len(data) > max_bytes:
        raise ProtocolError(
            ROOT, f"expected at most {max_bytes} bytes; the document is {len(data)} bytes", code="too_large"
        )
    if any(marker in data for marker in _DTD_MARKERS):
        raise ProtocolError(
            "DOCTYPE",
            "a DOCTYPE or entity declaration is not accepted (external entities, entity expansion); "
            "expected a plain edXML document without a DTD",
            code="forbidden",
        )
    try:
        root = etree.fromstring(bytes(data), _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno is not None else 0
        raise ProtocolError(ROOT, f"line {line}: expected well-formed XML; {exc.msg}") from None
    tree = root.getroottree()
    # Another encoding (UTF-16...) could hide the markers from the byte scan above.
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise ProtocolError(
            "DOCTYPE", "a DOCTYPE is not accepted; expected a plain edXML document", code="forbidden"
        )
    for el in root.iter(etree.Entity):
        raise ProtocolError(
            "DOCTYPE", f"line {el.sourceline}: expected no entity references; found {el.text}"
        )
    return root


def element_path(el: etree._Element) -> str:
    """Path of an element below the envelope, header or body, with [n] only where siblings repeat."""
    steps: list[str] = []
    node: etree._Element | None = el
    while node is not None:
        name = local(node.tag)
        parent = node.getparent()
        if parent is None or (name in ("edXMLHeader", "edXMLBody") and parent.getparent() is None):
            if not steps:
                steps.append(name)
            break
        same = [s for s in parent if s.tag == node.tag]
        steps.append(f"{name}[{same.index(node) + 1}]" if len(same) > 1 else name)
        node = parent
    return "/".join(reversed(steps))


_EXPECTED = re.compile(r"Expected is (?:one of )?\( ([^)]*) \)")
_VALUE = re.compile(r"[Tt]he value '([^']*)'|: '([^']*)' is not a valid value")
_DUPLICATE = re.compile(r"Duplicate key-sequence \['([^']*)'\]")
_NON_EMPTY = r"[\s\S]*\S[\s\S]*"


def _clean(message: str) -> str:
    return message.replace(f"{{{NS}}}", f"{PREFIX}:").replace(f"{{{DS_NS}}}", "ds:").strip()


def _names(listing: str) -> list[str]:
    return [local(n.strip()) for n in listing.split(",") if n.strip()]


def validate(root: etree._Element) -> None:
    """Validate against the project's XSD; the first error becomes a ProtocolError."""
    if root.tag != q(ROOT):
        ns = etree.QName(root).namespace
        raise ProtocolError(
            ROOT,
            f"line {root.sourceline}: expected root element {PREFIX}:{ROOT} in namespace {NS}, "
            f"found {local(root.tag)} in namespace {ns or '(none)'}",
        )
    # Validate a copy whose elements carry their index as line number, so an error can be traced
    # back to its element whatever prefixes the document used (libxml2 paths do not survive a
    # default namespace).
    work = copy.deepcopy(root)
    originals = list(root.iter())
    copies = list(work.iter())
    numbered = len(copies) < 65000
    if numbered:
        for i, el in enumerate(copies, start=1):
            el.sourceline = i
    try:
        _schema().assertValid(work)
    except etree.DocumentInvalid as exc:
        entry = exc.error_log[0] if len(exc.error_log) else None
        if entry is None:
            raise ProtocolError(ROOT, "expected a document following the edXML schema") from None
        target = originals[entry.line - 1] if numbered and 0 < entry.line <= len(originals) else None
        raise _schema_error(entry, target) from None


def _schema_error(entry: etree._LogEntry, el: etree._Element | None) -> ProtocolError:
    text = entry.message
    line = el.sourceline if el is not None else entry.line
    path = element_path(el) if el is not None else ROOT
    name = local(el.tag) if el is not None else ROOT
    expected = _EXPECTED.search(text)
    # When several elements may come next, the earlier ones are optional or repeatable; the last
    # is the one that must come, so the field names it.
    if "Missing child element" in text and expected:
        wanted = _names(expected.group(1))
        return ProtocolError(
            f"{path}/{wanted[-1]}",
            f"line {line}: {name} is incomplete; expected {' or '.join(wanted)}",
        )
    if "This element is not expected" in text and el is not None:
        parent = el.getparent()
        parent_path = element_path(parent) if parent is not None else ROOT
        if expected:
            wanted = _names(expected.group(1))
            return ProtocolError(
                f"{parent_path}/{wanted[-1]}",
                f"line {line}: expected {' or '.join(wanted)}, found {name}",
            )
        return ProtocolError(path, f"line {line}: element {name} is not allowed here (nothing more expected)")
    duplicate = _DUPLICATE.search(text)
    if duplicate and el is not None:
        cid = el.find(q("ContentId"))
        return ProtocolError(
            element_path(cid) if cid is not None else path,
            f"line {line}: expected each ContentId once; '{duplicate.group(1)}' is repeated",
        )
    value = _VALUE.search(text)
    if "facet" in text or "is not a valid value" in text:
        if name in _EXPECT:
            what = _EXPECT[name]
        elif _NON_EMPTY in text or "minLength" in text:
            what = "non-empty text"
        elif "maxLength" in text:
            what = "shorter text"
        else:
            what = f"a valid value ({_clean(text)})"
        found = (
            f"'{value.group(1) if value.group(1) is not None else value.group(2)}'"
            if value
            else "another value"
        )
        return ProtocolError(path, f"line {line}: expected {what}; found {found}")
    return ProtocolError(path, f"line {line}: expected what the edXML schema says: {_clean(text)}")

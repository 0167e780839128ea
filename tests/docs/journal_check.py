"""Hold journal entries (what the mocks accepted and sent) against the published documents.

Each entry is matched to the document's operation (a path and method for what a mock received, a
webhook for what it sent), and its status, request body and answer body are validated with the
operation's schemas (JSON Schema 2020-12, as OpenAPI 3.1 writes them). A finding is a string that
names the entry and what disagrees; no findings means the documents describe the traffic.

Secrets are redacted in the journal (`***`): a schema error on a redacted secret is not a finding.

A document describes every client dialect at once, each variant naming its dialects in
`x-cutover-dialects`; held for one dialect (`PublishedDocument(..., dialect=name)`), the variants of
the other dialects are taken out first, so a message is held to exactly what its dialect promises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match
from lxml import etree

from mocks.core.openapi import DIALECTS_KEY
from mocks.core.redact import REDACTED, is_secret
from protocols.envelope import error_code_is_zero

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
TRUNCATED = re.compile(r"\.\.\.\[[0-9]+ more characters\]$")

# What a mock sends, by its outbox kind: the webhook of its document that describes it.
WEBHOOKS: dict[tuple[str, str], str] = {
    ("payment", "payment.callback"): "paymentCallback",
    ("docaxis", "notify_edoc"): "documentNotification",
    ("docaxis", "notify_status"): "documentNotification",
}


def _forward_webhook(body: Any) -> str:
    return "forwardedPromotion" if isinstance(body, dict) and body.get("LoaiHoSo") == "ThongBaoKhuyenMai" \
        else "forwardedDossier"


@dataclass
class Tally:
    entries: int = 0
    bodies: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    refused_invalid: int = 0
    """Requests the document does not admit, which the mock refused (as the document says it must)."""
    findings: list[str] = field(default_factory=list)
    faults: int = 0
    """Answers of a fault the harness injected: their requests are held, the answer is not the protocol's."""


def for_dialect(node: Any, dialect: str) -> Any:
    """`node` without the variants (schemas, answers, media types) that serve only other dialects."""
    def kept(value: Any) -> bool:
        return not (isinstance(value, dict) and DIALECTS_KEY in value and dialect not in value[DIALECTS_KEY])
    if isinstance(node, dict):
        return {k: for_dialect(v, dialect) for k, v in node.items() if kept(v)}
    if isinstance(node, list):
        return [for_dialect(v, dialect) for v in node if kept(v)]
    return node


class PublishedDocument:
    """One OpenAPI 3.1 document, ready to match requests and validate bodies (in one dialect, when given)."""

    def __init__(self, doc: Mapping[str, Any], *, xsd: bytes | None = None, dialect: str | None = None) -> None:
        self.dialect = dialect
        doc = for_dialect(doc, dialect) if dialect else doc
        self.doc = doc
        self.components = doc.get("components", {})
        self.routes: list[tuple[re.Pattern[str], str]] = []
        for template in doc.get("paths", {}):
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            self.routes.append((re.compile(pattern), template))
        # most specific first: fewer parameters win (/api/edocs/received before /api/edocs/{doc_id})
        self.routes.sort(key=lambda r: (r[1].count("{"), -len(r[1])))
        self.xsd = etree.XMLSchema(etree.fromstring(xsd)) if xsd else None
        self._validators: dict[str, Draft202012Validator] = {}

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        for pattern, template in self.routes:
            if pattern.match(path):
                op = self.doc["paths"][template].get(method.lower())
                if isinstance(op, dict):
                    return f"{method.upper()} {template}", op
        return None

    def webhook(self, name: str) -> tuple[str, dict[str, Any]] | None:
        item = self.doc.get("webhooks", {}).get(name)
        op = item.get("post") if isinstance(item, dict) else None
        return (f"webhook {name}", op) if isinstance(op, dict) else None

    def resolve(self, node: Any) -> Any:
        """The object a `$ref` names; None when it is not there (a variant of another dialect)."""
        while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/components/"):
            section, name = node["$ref"].split("/")[2:4]
            node = self.components.get(section, {}).get(name)
        return node

    def validator(self, schema: Mapping[str, Any]) -> Draft202012Validator:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            self._validators[key] = Draft202012Validator({**schema, "components": self.components})
        return self._validators[key]

    def schema_errors(self, schema: Mapping[str, Any], value: Any) -> list[str]:
        out = []
        for err in self.validator(schema).iter_errors(value):
            if _redacted_only(err):
                continue
            for leaf in _explain(err):
                where = list(leaf.absolute_path)
                out.append(f"{'/'.join(map(str, where)) or '(body)'}: {leaf.message[:300]}")
        return out


def _redacted_only(err: ValidationError) -> bool:
    """True when `err` is only a redacted secret failing its schema (in some branch of a oneOf/anyOf)."""
    where = list(err.absolute_path)
    if err.instance == REDACTED and where and is_secret(where[-1]):
        return True
    if err.validator in ("oneOf", "anyOf") and err.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in err.context:
            branches.setdefault(sub.schema_path[0], []).append(sub)
        return any(all(_redacted_only(sub) for sub in subs) for subs in branches.values())
    return False


def _explain(err: ValidationError) -> list[ValidationError]:
    """The errors that say why: for a oneOf/anyOf, those of the branch the value meant (the one whose
    discriminating const/enum it satisfies, with the fewest errors)."""
    if err.validator not in ("oneOf", "anyOf") or not err.context:
        return [err]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in err.context:
        branches.setdefault(sub.schema_path[0], []).append(sub)

    def score(subs: list[ValidationError]) -> tuple[bool, int]:
        wrong_kind = any(s.validator in ("const", "enum") and len(s.relative_path) <= 1 for s in subs)
        return wrong_kind, len(subs)

    chosen = min(branches.values(), key=score)
    return [leaf for sub in chosen for leaf in _explain(sub)] or [best_match(err.context)]


def _header(headers: Mapping[str, str] | None, name: str) -> str:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return ""


def _parse(text: str, mimetype: str) -> tuple[str, Any]:
    """('json', value) | ('form', dict) | ('xml', element) | ('pdf', text) | ('text', text)."""
    stripped = text.lstrip()
    if mimetype == "application/pdf" or text.startswith("%PDF-"):
        return "pdf", text
    if mimetype.endswith("json") or stripped[:1] in "{[":
        return "json", json.loads(text)
    if mimetype == "application/x-www-form-urlencoded":
        return "form", dict(parse_qsl(text, keep_blank_values=True))
    if "xml" in mimetype or stripped.startswith("<?xml") or stripped.startswith("<edXML"):
        return "xml", etree.fromstring(text.encode("utf-8"))
    return "text", text


def _media(content: Mapping[str, Any], kind: str, mimetype: str) -> Mapping[str, Any] | None:
    if mimetype in content:
        return content[mimetype]
    wanted = {"json": ("application/json",), "form": ("application/x-www-form-urlencoded",),
              "xml": ("application/xml", "text/xml"), "text": ("text/plain", "text/html", "text/csv"),
              "pdf": ("application/pdf",)}[kind]
    for name in wanted:
        if name in content:
            return content[name]
    return None


def check_body(doc: PublishedDocument, where: str, what: str, content: Mapping[str, Any] | None, text: str | None,
               mimetype: str, tally: Tally, extra: Iterable[Mapping[str, Any]] = ()) -> Any:
    """Validate one body against the `content` map of a request body or response; returns the parsed value."""
    if not text:
        return None
    if TRUNCATED.search(text):
        tally.findings.append(f"{where}: {what} was cut by the journal (raise CUTOVER_JOURNAL_MAX_BODY)")
        return None
    try:
        kind, value = _parse(text, mimetype)
    except (ValueError, etree.XMLSyntaxError) as err:
        tally.findings.append(f"{where}: {what} does not parse ({err})")
        return None
    media = _media(content or {}, kind, mimetype)
    if media is None:
        in_dialect = f" in the dialect {doc.dialect}" if doc.dialect else ""
        tally.findings.append(f"{where}: {what} is {kind} ({mimetype or 'no content type'}), which the document "
                              f"does not declare{in_dialect} (it declares {sorted(content or {}) or 'no body'})")
        return value
    tally.bodies += 1
    if kind in ("json", "form"):
        schemas = [media.get("schema", {}), *extra]
        for schema in schemas:
            for problem in doc.schema_errors(schema, value):
                tally.findings.append(f"{where}: {what}: {problem}")
    elif kind == "pdf" and not (value.startswith("%PDF-") and "%%EOF" in value[-1024:]):
        tally.findings.append(f"{where}: {what} is declared application/pdf but is not a whole PDF file")
    elif kind == "xml" and doc.xsd is not None and media.get("x-xsd") and not doc.xsd.validate(value):
        tally.findings.append(f"{where}: {what} is not valid against the published XSD: "
                              f"{doc.xsd.error_log.last_error}")
    return value


def check_entry(doc: PublishedDocument, service: str, entry: Mapping[str, Any], tally: Tally,
                adapter_answers: bool = False) -> None:
    """Hold one journal entry against `doc`; findings go to `tally`."""
    tally.entries += 1
    method, url, status = entry["method"], entry["url"], entry.get("status")
    where = f"{service} #{entry.get('id')} {entry['direction']} {method} {url[:120]} -> {status}"
    request_type = _header(entry.get("request_headers"), "Content-Type").split(";")[0].strip().lower()
    if entry["direction"] == "out":
        kind = str((entry.get("keys") or {}).get("kind") or "")
        body_text = entry.get("request_body") or ""
        if (service, kind) == ("portal", "forward"):
            name = _forward_webhook(json.loads(body_text) if body_text.startswith("{") else None)
        else:
            name = WEBHOOKS.get((service, kind), "")
        found = doc.webhook(name) if name else None
        if found is None:
            tally.findings.append(f"{where}: the mock sent a message (outbox kind {kind!r}) no webhook describes")
            return
    else:
        found = doc.operation(method, url.split("?", 1)[0])
        if found is None:
            tally.findings.append(f"{where}: no operation of the document matches")
            return
    label, op = found
    tally.by_operation[label] = tally.by_operation.get(label, 0) + 1
    body = doc.resolve(op.get("requestBody") or {})
    request_findings = len(tally.findings)
    sent = check_body(doc, where, "the request body", body.get("content"), entry.get("request_body"), request_type, tally)
    if entry["direction"] == "in" and len(tally.findings) > request_findings and _refused(status, entry):
        # What the document does not admit was refused: the document said so (it is the answer's turn now).
        tally.refused_invalid += 1
        del tally.findings[request_findings:]
    if status is None or (entry["direction"] == "out" and not 200 <= status < 300):
        return  # a province that refused or was away: its answer is not a message the mock accepted
    if (entry.get("keys") or {}).get("fault"):
        tally.faults += 1
        return  # the harness's injected fault answered (/_admin/faults), not the protocol: its request was held
    responses = op.get("responses", {})
    response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    response = doc.resolve(response)
    if response is None:
        documented = sorted(k for k, v in responses.items() if doc.resolve(v) is not None)
        in_dialect = f" in the dialect {doc.dialect}" if doc.dialect else ""
        tally.findings.append(f"{where}: status {status} is not among the documented answers{in_dialect} {documented}")
        return
    answer_text = entry.get("response_body")
    extra = []
    if adapter_answers and 200 <= status < 300 and isinstance(sent, dict) and isinstance(sent.get("service"), str) \
            and _succeeded(answer_text):
        answer = doc.components.get("schemas", {}).get(f"{sent['service']}Answer")
        if answer is None:
            tally.findings.append(f"{where}: no schema {sent['service']}Answer for the service's answer")
        else:
            extra.append({"$ref": f"#/components/schemas/{sent['service']}Answer"})
    # The journal keeps no answer's content type; an entry may carry it (`response_type`), else JSON is sniffed.
    answer_type = entry.get("response_type") or ("application/json" if (answer_text or "").lstrip()[:1] in "{[" else "")
    check_body(doc, where, "the answer", response.get("content"), answer_text, answer_type, tally, extra)


def _refused(status: int | None, entry: Mapping[str, Any]) -> bool:
    """The mock refused the request: a 4xx, or an envelope whose `error_code` is not a success."""
    if status is not None and 400 <= status < 500:
        return True
    try:
        body = json.loads(entry.get("response_body") or "null")
    except ValueError:
        return False
    return isinstance(body, dict) and "error_code" in body and not error_code_is_zero(body["error_code"])


def _succeeded(answer_text: str | None) -> bool:
    """A success envelope (a service's own answer schema applies), not a refusal answered with HTTP 200."""
    try:
        body = json.loads(answer_text or "null")
    except ValueError:
        return True
    return not isinstance(body, dict) or error_code_is_zero(body.get("error_code"))


def check_journal(doc: PublishedDocument, service: str, entries: Iterable[Mapping[str, Any]], *,
                  only: str = "", adapter_answers: bool = False) -> Tally:
    """Every entry (whose path starts with `only`, when given) held against `doc`."""
    tally = Tally()
    for entry in entries:
        if "id" not in entry or (only and not entry["url"].startswith(only)) or entry["url"].startswith("/_admin"):
            continue  # the admin API is the mock's own, not the protocol (its rare journal entries are evidence)
        check_entry(doc, service, entry, tally, adapter_answers=adapter_answers)
    return tally

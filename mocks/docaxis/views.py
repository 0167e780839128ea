"""The axis REST API, after the client SDK's operations. Thin: authenticate, parse, call the model.

Every call authenticates with the headers `X-Axis-System` (system id) and `secret` (the name the
SDK uses; the core journal redacts a header of that name, so it never lands in evidence). The SDK's JSON
header (`{"from", "servicetype": "eDoc", "messagetype": "edoc" | "status", "docId", ...}`)
travels in the `edxml-header` HTTP header, or as `header` in a JSON body; query parameters of
the same names override it. The admin routes (`/_admin/docaxis/...`) are in `admin`.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from mocks.core.bodies import json_body, json_object
from mocks.core.context import note
from mocks.core.docs import Published, PublishedFile, docs_blueprint
from protocols.edxml import XSD_PATH
from protocols.errors import ProtocolError
from protocols.json_text import loads

from .errors import InvalidField, ok
from .models import AxisBackend
from .systems import SYSTEM_ID

api = Blueprint("docaxis", __name__)

HEADER = "edxml-header"
JSON_TYPES = ("application/json", "text/json")


def backend() -> AxisBackend:
    """The one handle on the axis's model object, `app.extensions["docaxis"]` (set by `create_app`)."""
    b: AxisBackend = current_app.extensions["docaxis"]
    return b


def system_of_request() -> str | None:
    """Journal and fault rules key on the calling system (only a well-formed id is recorded)."""
    value = request.headers.get("X-Axis-System") or request.headers.get("X-Cutover-Tenant") or ""
    return value if SYSTEM_ID.fullmatch(value) else None


def authenticated() -> dict[str, Any]:
    tenant = backend().authenticate(request.headers.get("X-Axis-System"), request.headers.get("secret"))
    note(tenant=tenant["id"])
    return tenant


def sdk_header(body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The SDK's JSON header: `edxml-header`, then the body's `header`, then query parameters."""
    merged: dict[str, Any] = {}
    raw = request.headers.get(HEADER)
    if raw:
        try:
            value = loads(raw, HEADER)
        except ProtocolError as err:
            raise InvalidField(f"the {HEADER} header is {err.message}", field=err.field) from None
        if not isinstance(value, dict):
            raise InvalidField(f"the {HEADER} header must be a JSON object", field=HEADER)
        merged.update(value)
    if body is not None and "header" in body:
        if not isinstance(body["header"], dict):
            raise InvalidField("expected the SDK header as a JSON object", field="header")
        merged.update(body["header"])
    for key in ("from", "servicetype", "messagetype", "docId", "status"):
        if key in request.args:
            merged[key] = request.args[key]
    return merged


def int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidField(f"expected an integer, got {raw!r}", field=name) from None


def _package() -> tuple[dict[str, Any], bytes]:
    if (request.mimetype or "") in JSON_TYPES:
        body = json_object()
        data = body.get("data")
        if not isinstance(data, str) or not data:
            raise InvalidField("expected the edXML package as base64 text in \"data\"", field="data")
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidField("\"data\" is not base64 text", field="data") from None
        return sdk_header(body), raw
    header = sdk_header()
    if not header:
        raise InvalidField(f"expected the SDK header {{from, servicetype, messagetype}} in the {HEADER} "
                           "HTTP header", field=HEADER)
    return header, request.get_data(cache=True)


@api.post("/api/edocs")
def send_edoc() -> Any:
    """sendEdoc: a document package (messagetype edoc) or a status packet (messagetype status)."""
    tenant = authenticated()
    header, raw = _package()
    result = backend().send(tenant, header, raw)
    doc = result.get("DocID") or result.get("docId")
    communes = [r.get("unit_code") for r in result["recipients"] if r.get("unit_code")]
    note(doc_id=doc, commune=communes[0] if len(communes) == 1 else result.get("unit_code"),
         messagetype=header.get("messagetype"))
    return jsonify(ok(**{k: v for k, v in result.items() if k != "unit_code"}))


@api.get("/api/edocs/received")
def received() -> Any:
    """getReceivedEdocList: pending (or all) deliveries or status packets for this system, paged."""
    tenant = authenticated()
    header = sdk_header()
    result = backend().received(tenant, header.get("messagetype", "edoc"), to=request.args.get("to"),
                                state=request.args.get("state", "pending"), page=int_arg("page", 1),
                                size=int_arg("size", 50))
    return jsonify(ok(**result))


@api.get("/api/edocs/sent")
def sent() -> Any:
    """getSentEdocList: documents this system sent, or one document's status history (docId)."""
    tenant = authenticated()
    doc_id = sdk_header().get("docId")
    if doc_id is not None and not isinstance(doc_id, str):
        raise InvalidField("expected docId as a string", field="docId")
    note(doc_id=doc_id)
    return jsonify(ok(**backend().sent(tenant, doc_id, page=int_arg("page", 1), size=int_arg("size", 50))))


@api.get("/api/edocs/<doc_id>")
def get_edoc(doc_id: str) -> Any:
    """getEdoc: the package (base64 in `data`, or the XML itself with `?format=xml`)."""
    tenant = authenticated()
    found = backend().get(tenant, doc_id)
    note(doc_id=found["document"])
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "xml"):
        raise InvalidField(f"expected format json or xml, got {fmt!r}", field="format")
    if fmt == "xml":
        return Response(found["raw"], mimetype="application/xml")
    raw = found.pop("raw")
    return jsonify(ok(**found, data=base64.b64encode(raw).decode("ascii")))


def _ack(doc_id: str | None) -> Any:
    tenant = authenticated()
    body: dict[str, Any] = {}
    if request.get_data(cache=True).strip():
        parsed = json_body()
        if not isinstance(parsed, dict):
            raise InvalidField("expected a JSON object {\"status\": \"done\" | \"fail\"}", field="body")
        body = parsed
    header = {**sdk_header(), **{k: v for k, v in body.items() if k in ("docId", "docid", "status")}}
    doc_id = doc_id or header.get("docId") or header.get("docid")
    if not isinstance(doc_id, str) or not doc_id:
        raise InvalidField("expected the docId of the message to acknowledge", field="docId")
    note(doc_id=doc_id)
    return jsonify(ok(**backend().acknowledge(tenant, doc_id, header.get("status"))))


@api.post("/api/edocs/<doc_id>/status")
def update_status(doc_id: str) -> Any:
    """updateStatus: acknowledge a received message, `{"status": "done" | "fail"}`."""
    return _ack(doc_id)


@api.post("/api/edocs/status")
def update_status_sdk() -> Any:
    """updateStatus as the SDK calls it: `{"docId", "status"}` in the body or the header."""
    return _ack(None)


@api.get("/api/agencies")
def agencies() -> Any:
    """getAgenciesList: the directory of published agency codes."""
    authenticated()
    return jsonify(ok(agencies=backend().agencies(system=request.args.get("system"),
                                                  level1=request.args.get("level1"))))


@api.post("/api/agencies")
def publish() -> Any:
    """registerAgency: publish this system's codes; a list, `{"agencies": [...]}` or one object."""
    tenant = authenticated()
    body = json_body()
    items = body.get("agencies", [body]) if isinstance(body, dict) else body
    return jsonify(ok(**backend().publish(tenant, items)))


@api.delete("/api/agencies/<code>")
def unpublish(code: str) -> Any:
    """deleteAgency: withdraw one of this system's codes from the directory."""
    tenant = authenticated()
    backend().unpublish(tenant, code)
    return jsonify(ok(deleted=code))


@api.get("/api/webhook")
def get_webhook() -> Any:
    return jsonify(ok(**backend().webhook(authenticated())))


@api.put("/api/webhook")
def put_webhook() -> Any:
    """Register the URL the axis pushes notifications to (`{"url": null}` removes it)."""
    tenant = authenticated()
    body = json_object()
    if "url" not in body:
        raise InvalidField("expected {\"url\": \"https://...\" | null}", field="url")
    return jsonify(ok(**backend().set_webhook(tenant, body["url"])))


# -- what the mock publishes (landing page, /docs, /openapi.yaml|json; see mocks.core.docs) ----------

PUBLISHED = Published(
    title="National Document Interconnection Axis", openapi=Path(__file__).parent / "openapi.yaml",
    files=(PublishedFile("edxml.xsd", XSD_PATH, "application/xml",
                         "edXML XML Schema (QCVN 102:2016), what the axis validates every package with"),))
docs = docs_blueprint(PUBLISHED)

"""Hostile mode of the axis (admin only): deliver what a broken or malicious sender sent, unchecked.

`sendEdoc` validates every package and status packet, so nothing invalid or misaddressed can reach
an inbox through the API. A real axis is not that strict (and a real sender may be compromised), so
a receiving system must check for itself; certification proves it by injecting, through
`POST /_admin/docaxis/inject`, exactly what such a sender would have the axis deliver:

* **edoc**: any bytes (malformed XML, a package failing the schema, another namespace, a valid
  package naming other recipients), delivered to any agency code in the inbox of any system;
* **status**: any status packet (an unknown StatusCode, a document nobody sent, an author that
  was not a recipient), addressed to any agency code of any system.

The message is stored in the ordinary tables and listed, fetched, acknowledged and pushed exactly
like a genuine one, with what the axis could read of it (`peek`: the first text of each field, in
any namespace, without the schema). Nothing of the axis's own state moves besides the new message:
no delivery changes status because of an injected status packet. A status packet about a document
the axis never carried is attached to a placeholder document (sender system `injected`) that no
system lists among its sent documents.

`POST /_admin/docaxis/redeliver` delivers a message the axis already carried again (the receiving
system's acknowledgement lost): a receiving system must take the same document once.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import sqlalchemy as sa
from lxml import etree

from mocks.core.clock import iso
from mocks.core.errors import PayloadTooLarge
from protocols.agency_code import is_agency_code, parse_agency_code
from protocols.edxml import StatusCode, parse_edoc
from protocols.edxml._xml import safe_parse
from protocols.errors import ProtocolError

from .errors import DuplicateDocument, InvalidField, UnknownDocument
from .models import AxisBackend, _doc_id, _summary, new_id
from .systems import SYSTEM_ID
from .tables import agencies_table, deliveries_table, documents_table, statuses_table

PLACEHOLDER_SYSTEM = "injected"
"""The sender system of a placeholder document (a status packet about a document never carried)."""

_PEEK: dict[str, tuple[str, ...]] = {
    "Subject": ("MessageHeader", "Subject"),
    "DocumentId": ("MessageHeader", "DocumentId"),
    "CodeNumber": ("MessageHeader", "Code", "CodeNumber"),
    "CodeNotation": ("MessageHeader", "Code", "CodeNotation"),
    "PromulgationDate": ("MessageHeader", "PromulgationInfo", "PromulgationDate"),
    "FromName": ("MessageHeader", "From", "OrganName"),
    "ResponseFor/OrganId": ("Status", "ResponseFor", "OrganId"),
    "ResponseFor/Code": ("Status", "ResponseFor", "Code"),
    "ResponseFor/PromulgationDate": ("Status", "ResponseFor", "PromulgationDate"),
    "ResponseFor/DocumentId": ("Status", "ResponseFor", "DocumentId"),
    "StatusCode": ("Status", "StatusCode"),
    "Description": ("Status", "Description"),
    "Timestamp": ("Status", "Timestamp"),
}


def peek(raw: bytes, max_bytes: int) -> dict[str, str]:
    """What the axis can read of a package without validating it: the first text of each field of
    `_PEEK`, whatever the namespace; empty when the bytes are not XML at all."""
    try:
        root = safe_parse(raw, max_bytes=max_bytes)
    except ProtocolError:
        return {}
    found: dict[str, str] = {}
    for name, steps in _PEEK.items():
        path = ".//" + "/".join(f"*[local-name()='{s}']" for s in steps)
        hits = root.xpath(path)
        if hits and isinstance(hits[0], etree._Element) and hits[0].text and hits[0].text.strip():
            found[name] = hits[0].text.strip()[:255]
    return found


def _text(body: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidField(f"expected {name} as a non-empty string", field=name)
    return value


def parse_injection(body: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """The fields of an injection request, checked; each fault names its field."""
    messagetype = body.get("messagetype")
    if messagetype not in ("edoc", "status"):
        raise InvalidField(f"expected messagetype \"edoc\" or \"status\", got {messagetype!r}", field="messagetype")
    to, sender = _text(body, "to", required=True), _text(body, "from", required=True)
    parse_agency_code(to, "to")
    parse_agency_code(sender, "from")
    system = _text(body, "system", required=False)
    if system is not None and not SYSTEM_ID.fullmatch(system):
        raise InvalidField(f"expected a system id such as 31 or G03, got {system!r}", field="system")
    document = _text(body, "document", required=False)
    status_code = _text(body, "StatusCode", required=False)
    if messagetype == "edoc" and (document is not None or status_code is not None):
        field = "document" if document is not None else "StatusCode"
        raise InvalidField("only a status packet names a document and a StatusCode", field=field)
    if status_code is not None and len(status_code) != 2:
        raise InvalidField(f"expected a two-character StatusCode, got {status_code!r}", field="StatusCode")
    data = _text(body, "data", required=True)
    assert data is not None
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidField("\"data\" is not base64 text", field="data") from None
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"expected at most {max_bytes} bytes; the package is {len(raw)} bytes", field="data")
    return {"messagetype": messagetype, "to": to, "sender": sender, "system": system, "document": document,
            "status_code": status_code, "raw": raw}


class Injector:
    """Stores an injected message as the axis would have delivered it (see the module's docstring)."""

    def __init__(self, backend: AxisBackend) -> None:
        self.backend = backend

    def message(self, knob_id: str) -> dict[str, Any]:
        """What the receiving system did with one message (a delivery or a status packet): its
        acknowledgement (`pending` until the system acknowledges it `done` or `fail`) and when."""
        with self.backend.store.read() as conn:
            for messagetype, table, owner in (("edoc", deliveries_table, deliveries_table.c.system),
                                              ("status", statuses_table, statuses_table.c.audience_system)):
                row = conn.execute(sa.select(table.c.id, table.c.document, table.c.ack, table.c.ack_at, owner)
                                   .where(table.c.id == knob_id)).first()
                if row is not None:
                    return {"docId": row.id, "messagetype": messagetype, "document": row.document,
                            "system": row[4], "ack": row.ack, "ack_at": row.ack_at}
        raise UnknownDocument(f"the axis holds no delivery or status packet with docId {knob_id!r}", field="docId")

    def redeliver(self, knob_id: str) -> dict[str, Any]:
        """Deliver a message the axis already carried again, as a real axis does when the receiving system's
        acknowledgement was lost: the same delivery (or status packet), with the same docId and document, is
        pending again and pushed again to the system's webhook. Nothing else of the axis's state moves."""
        b = self.backend
        now = iso(b.clock.now())
        with b.store.begin() as conn:
            for messagetype, table, owner in (("edoc", deliveries_table, deliveries_table.c.system),
                                              ("status", statuses_table, statuses_table.c.audience_system)):
                row = conn.execute(sa.select(table, owner.label("owner")).where(table.c.id == knob_id)).first()
                if row is None:
                    continue
                conn.execute(table.update().where(table.c.id == knob_id).values(ack="pending", ack_at=None))
                payload: dict[str, Any] = {"docId": row.id, "messagetype": messagetype, "document": row.document}
                if messagetype == "edoc":
                    sender = conn.execute(sa.select(documents_table.c.sender_code).where(
                        documents_table.c.id == row.document)).scalar_one()
                    payload.update({"from": sender, "to": row.recipient_code})
                else:
                    payload.update({"from": row.author_code, "to": row.audience_code, "StatusCode": row.code})
                b._notify(conn, b.tenants.all(), [(row.owner, f"{messagetype}:{row.id}:again:{now}", payload)])
                return {"docId": row.id, "messagetype": messagetype, "document": row.document, "system": row.owner,
                        "ack": "pending", "redelivered_at": now}
        raise UnknownDocument(f"the axis holds no delivery or status packet with docId {knob_id!r}", field="docId")

    def inject(self, messagetype: str, to: str, sender: str, raw: bytes, *, system: str | None = None,
               document: str | None = None, status_code: str | None = None) -> dict[str, Any]:
        b = self.backend
        now = iso(b.clock.now())
        systems = b.tenants.all()
        seen = peek(raw, b.limits.max_package_bytes)
        with b.store.begin() as conn:
            directory = {r.code: r for r in conn.execute(
                sa.select(agencies_table).where(agencies_table.c.code.in_([to, sender])))}
            receiver = self._system(to, system, directory, systems, "system" if system else "to")
            author = self._system(sender, None, directory, systems, "from")
            if messagetype == "edoc":
                answer = self._edoc(conn, to, sender, raw, seen, receiver, author, directory, now)
            else:
                answer = self._status(conn, to, sender, raw, seen, receiver, author, directory, now,
                                      document, status_code)
            b._notify(conn, systems, answer.pop("notices"))
        return {"messagetype": messagetype, "to": to, "from": sender, "system": receiver, **answer}

    @staticmethod
    def _system(code: str, given: str | None, directory: dict[str, Any], systems: dict[str, dict[str, Any]],
                field: str) -> str:
        """The system `given`, else the one that published `code`, else the one owning its level-1 part."""
        if given is not None:
            if given not in systems:
                raise InvalidField(f"no system {given} is connected to the axis", field=field)
            return given
        if code in directory:
            return str(directory[code].system)
        level1 = parse_agency_code(code).level1
        owner = next((s for s, data in systems.items() if level1 in (data.get("owns") or [])), None)
        if owner is None:
            raise InvalidField(f"no system owns {code} ({level1}); name the receiving system", field=field)
        return owner

    def _edoc(self, conn: sa.Connection, to: str, sender: str, raw: bytes, seen: dict[str, str], receiver: str,
              author: str, directory: dict[str, Any], now: str) -> dict[str, Any]:
        b = self.backend
        try:
            pkg = parse_edoc(raw, max_bytes=b.limits.max_package_bytes,
                             max_attachment_bytes=b.limits.max_attachment_bytes,
                             allowed_content_types=b.limits.allowed_content_types)
        except ProtocolError:
            pkg = None
        document_id = pkg.document_id if pkg is not None else seen.get("DocumentId") or f"injected:{new_id()}"
        taken = conn.execute(sa.select(documents_table.c.id).where(
            documents_table.c.sender_code == sender, documents_table.c.document_id == document_id)).first()
        if taken is not None and pkg is not None:
            raise DuplicateDocument(f"{sender} already sent DocumentId {document_id!r} (docId {taken.id})",
                                    field="data")
        if taken is not None or len(document_id) > 255:
            document_id = f"injected:{new_id()}"
        code = f"{seen['CodeNumber']}/{seen['CodeNotation']}" if {"CodeNumber", "CodeNotation"} <= set(seen) else None
        summary = _summary(pkg) if pkg is not None else {
            "DocumentId": document_id, "Code": code, "Subject": seen.get("Subject"),
            "PromulgationDate": seen.get("PromulgationDate"), "DocumentType": None, "Priority": None,
            "From": sender, "FromName": seen.get("FromName"), "Attachments": [], "signed": False, "signer": None}
        doc_id, delivery_id = new_id(), new_id()
        entry = directory.get(to)
        name = entry.name if entry is not None else to
        unit = entry.unit_code if entry is not None and entry.kind == "commune" else None
        conn.execute(documents_table.insert().values(
            id=doc_id, sender_code=sender, sender_system=author, document_id=document_id, summary=summary,
            raw=bytes(raw), created_at=now))
        conn.execute(deliveries_table.insert().values(
            id=delivery_id, document=doc_id, recipient_code=to, recipient_name=name, system=receiver, unit_code=unit,
            status=StatusCode.ARRIVED.value, ack="pending", ack_at=None, delivered_at=now, updated_at=now))
        notices = [(receiver, f"edoc:{delivery_id}", {"docId": delivery_id, "messagetype": "edoc", "from": sender,
                                                      "to": to, "document": doc_id})]
        if pkg is not None:  # the axis's own 01 can be rebuilt only from a package it could read
            arrival = b._axis_arrival(delivery_id, doc_id, to, name, sender, author, now)
            conn.execute(statuses_table.insert().values(**arrival))
            notices.append((author, f"status:{arrival['id']}", {
                "docId": arrival["id"], "messagetype": "status", "from": to, "to": sender, "document": doc_id,
                "StatusCode": "01"}))
        return {"docId": delivery_id, "document": doc_id, "DocumentId": document_id, "valid": pkg is not None,
                "notices": notices}

    def _status(self, conn: sa.Connection, to: str, sender: str, raw: bytes, seen: dict[str, str], receiver: str,
                author: str, directory: dict[str, Any], now: str, document: str | None,
                status_code: str | None) -> dict[str, Any]:
        doc_id = self._document(conn, document, seen, now)
        code = status_code or seen.get("StatusCode", "")
        if len(code) != 2:
            raise InvalidField(f"the packet's StatusCode {code!r} is not two characters; give the StatusCode to "
                               "list", field="StatusCode")
        delivery = conn.execute(sa.select(deliveries_table.c.id).where(
            deliveries_table.c.document == doc_id, deliveries_table.c.recipient_code == sender)).first()
        entry = directory.get(sender)
        stamp = seen.get("Timestamp", now)
        row: dict[str, Any] = {
            "id": new_id(), "delivery": delivery.id if delivery is not None else "", "document": doc_id, "code": code,
            "author_code": sender, "author_name": entry.name if entry is not None else sender,
            "author_system": author, "audience_code": to, "audience_system": receiver,
            "description": seen.get("Description", ""), "event_at": stamp if len(stamp) <= 40 else now,
            "received_at": now, "raw": bytes(raw), "ack": "pending", "ack_at": None}
        conn.execute(statuses_table.insert().values(**row))
        notices = [(receiver, f"status:{row['id']}", {"docId": row["id"], "messagetype": "status", "from": sender,
                                                      "to": to, "document": doc_id, "StatusCode": code})]
        return {"docId": row["id"], "document": doc_id, "StatusCode": code, "notices": notices}

    @staticmethod
    def _document(conn: sa.Connection, document: str | None, seen: dict[str, str], now: str) -> str:
        """The document a status packet is about: the one named, the one its ResponseFor names, or a placeholder."""
        if document is not None:
            found = None if _doc_id(document) is None else conn.execute(
                sa.select(documents_table.c.id).where(documents_table.c.id == document)).first()
            if found is None:
                raise UnknownDocument(f"the axis carried no document with docId {document!r}", field="document")
            return document
        sender, document_id = seen.get("ResponseFor/OrganId"), seen.get("ResponseFor/DocumentId")
        if not sender or not is_agency_code(sender) or not document_id:
            raise InvalidField("the packet's ResponseFor names no document (OrganId and DocumentId); give the "
                               "docId of the document it is about", field="document")
        found = conn.execute(sa.select(documents_table.c.id).where(
            documents_table.c.sender_code == sender, documents_table.c.document_id == document_id)).first()
        if found is not None:
            return str(found.id)
        placeholder = new_id()
        conn.execute(documents_table.insert().values(
            id=placeholder, sender_code=sender, sender_system=PLACEHOLDER_SYSTEM, document_id=document_id,
            summary={"DocumentId": document_id, "Code": seen.get("ResponseFor/Code"), "Subject": None,
                     "PromulgationDate": seen.get("ResponseFor/PromulgationDate"), "From": sender},
            raw=b"", created_at=now))
        return placeholder

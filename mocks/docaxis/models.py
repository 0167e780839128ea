"""State and rules of the National Document Interconnection Axis mock (no Flask here).

Tables (prefix ``axis_``, in `tables`):

* ``axis_agencies``: the directory. A code is published by the system that owns its level-1
  part (``H31`` for Hải Phòng's system ``31``); a code published by one system cannot be
  taken by another. Ministries' codes are published at start; provinces publish their own.
* ``axis_documents``: one row per accepted package (``id`` is the axis's ``docId``; the
  package's own ``DocumentId`` is unique per sender code), with the raw edXML.
* ``axis_deliveries``: document × recipient code, with the receiving system, the current
  status of the per-recipient lifecycle and the transport acknowledgement (``pending``,
  ``done``, ``fail``) the recipient's system gives through ``updateStatus``.
* ``axis_statuses``: every status of every delivery, in order: the axis's own ``01`` on
  delivery, then the packets the parties send. Each row is also a message for one system
  (``audience_system``): statuses from a recipient go to the sender's system, a revocation
  (``13``) to each recipient's system; each has its own acknowledgement.

Rules: a package is parsed and checked whole (schema, dates, attachments, signature) before
anything is stored; an unknown recipient code is refused for that recipient only, and when no
recipient is known nothing is stored. Status packets must follow
``protocols.edxml.check_transition`` per delivery, come from the party allowed to send that code
(``SENT_BY``), and point (``ResponseFor``) at a document the axis carried. A retried packet
(same code and timestamp as the last one) is answered as a duplicate and not stored twice.
Every write of one request is one transaction; notifications for systems with a webhook are
enqueued in the same transaction through the core outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from mocks.core.clock import Clock, iso
from mocks.core.errors import PayloadTooLarge
from mocks.core.outbox import Outbox
from mocks.core.store import Store
from mocks.core.tenants import Tenants
from protocols.agency_code import parse_agency_code
from protocols.edxml import (
    DEFAULT_ALLOWED_CONTENT_TYPES,
    EdocPackage,
    Organization,
    ResponseFor,
    StatusCode,
    StatusPacket,
    build_status,
    check_transition,
    parse_edoc,
    parse_status,
)
from protocols.edxml.status import SENT_BY
from protocols.errors import ProtocolError
from refdata.units import UnknownCodeError, registry

from .errors import (
    BadCredentials,
    CodeTaken,
    DuplicateDocument,
    InvalidField,
    NotYours,
    OutOfOrder,
    UnknownDocument,
    UnknownRecipient,
)
from .systems import LEVEL1, SYSTEM_ID, default_systems
from .tables import (
    ADD_STATUS,
    DELIVERY_FOR_UPDATE,
    DELIVERY_STATUS,
    DOCUMENT_ANSWERED,
    agencies_table,
    deliveries_table,
    documents_table,
    metadata,
    statuses_table,
)

DEFAULTS: dict[str, Any] = {
    "AXIS_AUTO_SYSTEMS": True,  # provision every province and ministry with a derived secret
    "AXIS_SECRET_SEED": "cutover-test-mode",
    "AXIS_PREPUBLISH": "ministries",  # ministries | all | none: codes in the directory at start
    "AXIS_MAX_PACKAGE_BYTES": 10 * 1024 * 1024,
    "AXIS_MAX_ATTACHMENT_BYTES": 5 * 1024 * 1024,
    "AXIS_MAX_STATUS_BYTES": 256 * 1024,
    "AXIS_ALLOWED_CONTENT_TYPES": sorted(DEFAULT_ALLOWED_CONTENT_TYPES),
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,  # base64 in JSON bodies is a third larger than the package
}

MESSAGE_TYPES = ("edoc", "status")
ACK_STATES = ("done", "fail")
MAX_PUBLISH = 2000
MAX_PAGE_SIZE = 500
MAX_PAGE = 1_000_000
CONTACT_FIELDS = {"OrganAdd": ("OrganAdd", "address"), "Email": ("Email", "mail"),
                  "Telephone": ("Telephone", "mobile"), "Fax": ("Fax", "fax"), "Website": ("Website", "website")}


@dataclass(frozen=True)
class Limits:
    """What the axis accepts; from the app's config (`AXIS_*`, defaults in DEFAULTS)."""

    max_package_bytes: int
    max_attachment_bytes: int
    max_status_bytes: int
    allowed_content_types: Collection[str]

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Limits:
        return cls(max_package_bytes=int(cfg["AXIS_MAX_PACKAGE_BYTES"]),
                   max_attachment_bytes=int(cfg["AXIS_MAX_ATTACHMENT_BYTES"]),
                   max_status_bytes=int(cfg["AXIS_MAX_STATUS_BYTES"]),
                   allowed_content_types=frozenset(cfg["AXIS_ALLOWED_CONTENT_TYPES"]))


def new_id() -> str:
    return str(uuid.uuid4())


def sign_body(secret: str, body: str) -> str:
    """HMAC-SHA256 of a notification body with the receiving system's secret (hex)."""
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


@contextmanager
def _sized() -> Iterator[None]:
    """A package or attachment over the limit is a 413, like an oversized request body."""
    try:
        yield
    except ProtocolError as err:
        if err.code == "too_large":
            raise PayloadTooLarge(err.message, field=err.field) from None
        raise


def _doc_id(value: str) -> str | None:
    """An id the axis could have issued (a UUID), or None: other text never reaches the database."""
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) and len(value) == 36 else None
    except ValueError:
        return None


def _page_args(page: int, size: int) -> tuple[int, int]:
    if not 1 <= page <= MAX_PAGE:
        raise InvalidField(f"expected a page number 1..{MAX_PAGE}, got {page}", field="page")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidField(f"expected a page size 1..{MAX_PAGE_SIZE}, got {size}", field="size")
    return page, size


def _total(conn: sa.Connection, table: sa.Table, cond: list[Any], page: int, size: int, shown: int) -> int:
    """The listing's whole total. A page that is not full is the last one, so the total follows from
    it (an empty inbox, what a system's poll mostly finds, costs no count); a full page, or an empty
    one past the end, is counted."""
    if 0 < shown < size or (page == 1 and shown == 0):
        return (page - 1) * size + shown
    return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*cond)).scalar_one())


def _str_field(item: dict[str, Any], names: Iterable[str], field_path: str, *, required: bool,
               max_len: int = 255) -> str | None:
    for name in names:
        if name in item and item[name] is not None:
            value = item[name]
            if not isinstance(value, str) or (required and not value.strip()):
                raise InvalidField(f"expected a non-empty string, got {value!r}", field=field_path)
            if "\x00" in value:
                raise InvalidField("expected text without NUL characters", field=field_path)
            if len(value) > max_len:
                raise InvalidField(f"expected at most {max_len} characters", field=field_path)
            return value
    if required:
        raise InvalidField("this field is required", field=field_path)
    return None


def _summary(pkg: EdocPackage) -> dict[str, Any]:
    cert = None
    if pkg.signer_certificate_der is not None:
        from cryptography import x509
        cert = x509.load_der_x509_certificate(pkg.signer_certificate_der).subject.rfc4514_string()
    return {
        "DocumentId": pkg.document_id, "Code": str(pkg.code), "Subject": pkg.subject,
        "PromulgationDate": pkg.promulgation.promulgation_date.isoformat(),
        "DocumentType": pkg.document_type.type_name, "Priority": pkg.other_info.priority,
        "From": pkg.sender.organ_id, "FromName": pkg.sender.organ_name,
        "Attachments": [{"ContentId": a.content_id, "ContentType": a.content_type, "AttachmentName": a.name,
                         "size": len(a.data)} for a in pkg.attachments],
        "signed": pkg.signer_certificate_der is not None, "signer": cert,
    }


class AxisBackend:
    """The axis: directory, routing, per-recipient status lifecycle, inboxes and notifications."""

    def __init__(self, store: Store, clock: Clock, tenants: Tenants, outbox: Outbox,
                 config: Mapping[str, Any]) -> None:
        self.store = store
        self.clock = clock
        self.tenants = tenants
        self.outbox = outbox
        self.config = config
        self.limits = Limits.from_config(config)
        store.create_all(metadata)

    # -- lifecycle ------------------------------------------------------------------------

    def reset(self) -> None:
        with self.store.begin() as conn:
            for table in (statuses_table, deliveries_table, documents_table, agencies_table):
                conn.execute(table.delete())

    def provision(self) -> None:
        """Connect the default systems (`AXIS_AUTO_SYSTEMS`) and a tenants file's, and publish the codes
        `AXIS_PREPUBLISH` names: at start and after every reset, so a vendor can start at once."""
        cfg = self.config
        if cfg["AXIS_AUTO_SYSTEMS"]:
            existing = self.tenants.all()
            for system, data in default_systems(cfg["AXIS_SECRET_SEED"]).items():
                if system not in existing:
                    self.tenants.put(system, data)
        if cfg.get("TENANTS_FILE"):
            self.tenants.load_file(cfg["TENANTS_FILE"], "docaxis")
        self.prepublish(cfg["AXIS_PREPUBLISH"])

    def prepublish(self, scope: str) -> int:
        """Publish the ministries' codes (``ministries``), or every registry code (``all``)."""

        if scope == "none":
            return 0
        reg = registry()
        owners: list[tuple[str, Any]] = [(m.unit_code, m) for m in reg.ministries()]
        if scope == "all":
            owners += [(p.code, a) for p in reg.provinces() for a in reg.agencies(p.code)]
        now = iso(self.clock.now())
        with self.store.begin() as conn:
            have = {r.code for r in conn.execute(sa.select(agencies_table.c.code))}
            rows = [{"code": a.code, "system": system, "name": a.name, "parent_code": None, "kind": a.kind,
                     "unit_code": a.unit_code, "contact": {}, "published_at": now}
                    for system, a in owners if a.code not in have]
            if rows:
                conn.execute(agencies_table.insert(), rows)
        return len(rows)

    def counts(self) -> dict[str, int]:
        """Rows per table: what tests compare before and after a refused request."""
        with self.store.read() as conn:
            return {name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                    for name, t in (("agencies", agencies_table), ("documents", documents_table),
                                    ("deliveries", deliveries_table), ("statuses", statuses_table))}

    # -- systems --------------------------------------------------------------------------

    def authenticate(self, system: str | None, secret: str | None) -> dict[str, Any]:
        """The system's record when `secret` is its secret; compared in constant time."""
        if not system or not SYSTEM_ID.fullmatch(system):
            raise BadCredentials("the X-Axis-System header (the system id, such as 31 or G03) is missing or "
                                 "malformed", field="X-Axis-System")
        tenant = self.tenants.get(system)
        given = (secret or "").encode()
        expected = str((tenant or {}).get("secret", "\0" * 32)).encode()
        if tenant is None or not secret or not hmac.compare_digest(given, expected):
            raise BadCredentials("unknown system or wrong secret", field="secret")
        return {**tenant, "id": system}

    @staticmethod
    def owns(tenant: dict[str, Any], code: str) -> bool:
        return parse_agency_code(code).level1 in tenant["owns"]

    def webhook(self, tenant: dict[str, Any]) -> dict[str, Any]:
        return {"system": tenant["id"], "url": tenant.get("webhook_url") or None}

    def set_webhook(self, tenant: dict[str, Any], url: Any) -> dict[str, Any]:
        """Register (or with ``None`` remove) the URL the axis pushes notifications to."""
        data = {k: v for k, v in tenant.items() if k != "id"}
        try:
            data["webhook_url"] = url
            clean = self.tenants.put(tenant["id"], data)
        except ProtocolError as err:
            raise InvalidField(err.message, field="url") from None
        return {"system": tenant["id"], "url": clean["webhook_url"] or None}

    # -- directory ------------------------------------------------------------------------

    def publish(self, tenant: dict[str, Any], items: Any) -> dict[str, Any]:
        """Publish (or update) agency codes owned by `tenant`; all or nothing."""

        if not isinstance(items, list) or not items:
            raise InvalidField("expected a non-empty list of agencies {OrganId, OrganName, ...}", field="agencies")
        if len(items) > MAX_PUBLISH:
            raise InvalidField(f"expected at most {MAX_PUBLISH} agencies per call", field="agencies")
        now = iso(self.clock.now())
        reg = registry()
        rows: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            f = f"agencies[{i}]"
            if not isinstance(item, dict):
                raise InvalidField("expected an object {OrganId, OrganName, ...}", field=f)
            code_field = f"{f}.OrganId"
            code = _str_field(item, ("OrganId", "code"), code_field, required=True)
            assert code is not None
            parse_agency_code(code, code_field)
            if not self.owns(tenant, code):
                raise NotYours(f"{code} is not under {', '.join(tenant['owns'])}, the codes system "
                               f"{tenant['id']} may publish", field=code_field)
            if code in seen:
                raise InvalidField(f"{code} is listed twice (also at agencies[{seen[code]}])", field=code_field)
            seen[code] = i
            name = _str_field(item, ("OrganName", "name"), f"{f}.OrganName", required=True, max_len=500)
            parent = _str_field(item, ("ParentCode", "pcode"), f"{f}.ParentCode", required=False, max_len=32)
            contact = {key: value for key, names in CONTACT_FIELDS.items()
                       if (value := _str_field(item, names, f"{f}.{key}", required=False)) is not None}
            kind: str = "other"
            unit_code: str | None = None
            try:
                known = reg.agency(code)
                kind, unit_code = known.kind, known.unit_code
            except (UnknownCodeError, KeyError, ValueError):
                pass
            rows.append({"code": code, "system": tenant["id"], "name": name, "parent_code": parent or None,
                         "kind": kind, "unit_code": unit_code, "contact": contact, "published_at": now})
        try:
            with self.store.begin() as conn:
                existing = {r.code: r.system for r in conn.execute(
                    sa.select(agencies_table.c.code, agencies_table.c.system)
                    .where(agencies_table.c.code.in_(list(seen))))}
                for code, owner in existing.items():
                    if owner != tenant["id"]:
                        raise CodeTaken(f"{code} is already published by system {owner}",
                                        field=f"agencies[{seen[code]}].OrganId")
                if existing:
                    conn.execute(agencies_table.delete().where(agencies_table.c.code.in_(list(existing))))
                conn.execute(agencies_table.insert(), rows)
        except IntegrityError:
            raise CodeTaken("another system published one of these codes at the same moment; "
                            "list the directory and retry", field="agencies") from None
        return {"published": len(rows), "created": len(rows) - len(existing), "updated": len(existing)}

    def unpublish(self, tenant: dict[str, Any], code: str) -> None:
        parse_agency_code(code, "code")
        with self.store.begin() as conn:
            row = conn.execute(sa.select(agencies_table.c.system).where(agencies_table.c.code == code)).first()
            if row is None:
                raise UnknownDocument(f"{code} is not published", field="code")
            if row.system != tenant["id"]:
                raise NotYours(f"{code} is published by system {row.system}, not {tenant['id']}", field="code")
            conn.execute(agencies_table.delete().where(agencies_table.c.code == code))

    def agencies(self, *, system: str | None = None, level1: str | None = None) -> list[dict[str, Any]]:
        """The directory (`getAgenciesList`), by code."""
        stmt = sa.select(agencies_table).order_by(agencies_table.c.code)
        if system and not SYSTEM_ID.fullmatch(system):
            raise InvalidField(f"expected a system id such as 31 or G03, got {system!r}", field="system")
        if level1 and not LEVEL1.fullmatch(level1):
            raise InvalidField(f"expected a level-1 part such as H31, got {level1!r}", field="level1")
        if system:
            stmt = stmt.where(agencies_table.c.system == system)
        if level1:
            stmt = stmt.where(agencies_table.c.code.like(f"%.{level1}"))
        with self.store.read() as conn:
            return [{"OrganId": r.code, "OrganName": r.name, "ParentCode": r.parent_code, "System": r.system,
                     "Kind": r.kind, "UnitCode": r.unit_code, **(r.contact or {}), "PublishedAt": r.published_at}
                    for r in conn.execute(stmt)]

    # -- sending --------------------------------------------------------------------------

    def send(self, tenant: dict[str, Any], header: dict[str, Any], raw: bytes) -> dict[str, Any]:
        """`sendEdoc`: route a document package, or apply a status packet (by `messagetype`)."""
        servicetype = header.get("servicetype", "eDoc")
        if not isinstance(servicetype, str) or servicetype.lower() != "edoc":
            raise InvalidField(f"expected servicetype \"eDoc\", got {servicetype!r}", field="servicetype")
        messagetype = header.get("messagetype")
        if messagetype not in MESSAGE_TYPES:
            raise InvalidField(f"expected messagetype \"edoc\" or \"status\", got {messagetype!r}",
                               field="messagetype")
        sender = header.get("from")
        if not isinstance(sender, str) or not sender:
            raise InvalidField("expected the sending agency code in the header's \"from\"", field="from")
        parse_agency_code(sender, "from")
        if not self.owns(tenant, sender):
            raise NotYours(f"{sender} is not an agency code of system {tenant['id']}", field="from")
        if messagetype == "edoc":
            return self.send_edoc(tenant, sender, raw)
        to = header.get("to")
        if to is not None:
            if not isinstance(to, list) or not to:
                raise InvalidField("expected a non-empty list of recipient agency codes", field="to")
            for i, code in enumerate(to):
                parse_agency_code(code, f"to[{i}]")
        return self.send_status(tenant, sender, raw, to=to)

    def send_edoc(self, tenant: dict[str, Any], sender: str, raw: bytes) -> dict[str, Any]:
        lim = self.limits
        with _sized():
            pkg = parse_edoc(raw, max_bytes=lim.max_package_bytes, max_attachment_bytes=lim.max_attachment_bytes,
                             allowed_content_types=lim.allowed_content_types)
        if pkg.sender.organ_id != sender:
            raise InvalidField(f"the header says from {sender} but the package's From/OrganId is "
                               f"{pkg.sender.organ_id}", field="from")
        if len(pkg.document_id) > 255:
            raise InvalidField("expected a DocumentId of at most 255 characters", field="MessageHeader/DocumentId")
        now = iso(self.clock.now())
        systems = self.tenants.all()
        doc_id = new_id()
        summary = _summary(pkg)
        try:
            with self.store.begin() as conn:
                own = conn.execute(sa.select(agencies_table.c.system).where(agencies_table.c.code == sender)).first()
                if own is None or own.system != tenant["id"]:
                    raise NotYours(f"{sender} is not published by system {tenant['id']}; publish it first "
                                   "(POST /api/agencies)", field="from")
                dup = conn.execute(sa.select(documents_table.c.id).where(
                    documents_table.c.sender_code == sender,
                    documents_table.c.document_id == pkg.document_id)).first()
                if dup is not None:
                    raise DuplicateDocument(f"{sender} already sent DocumentId {pkg.document_id!r} (docId "
                                            f"{dup.id}); an update needs a new DocumentId",
                                            field="MessageHeader/DocumentId")
                codes = [r.organ_id for r in pkg.recipients]
                directory = {r.code: r for r in conn.execute(
                    sa.select(agencies_table).where(agencies_table.c.code.in_(codes)))}
                results: list[dict[str, Any]] = []
                deliveries: list[dict[str, Any]] = []
                statuses: list[dict[str, Any]] = []
                notices: list[tuple[str, str, dict[str, Any]]] = []
                done: set[str] = set()
                for org in pkg.recipients:
                    code = org.organ_id
                    entry = directory.get(code)
                    if code in done:
                        results.append({"OrganId": code, "status": "refused", "ErrorCode": "duplicate",
                                        "ErrorDesc": "this recipient is listed twice; delivered once"})
                        continue
                    if entry is None:
                        results.append({"OrganId": code, "status": "refused", "ErrorCode": "unknown_recipient",
                                        "ErrorDesc": f"no system has published {code}"})
                        continue
                    done.add(code)
                    delivery_id = new_id()
                    deliveries.append({"id": delivery_id, "document": doc_id, "recipient_code": code,
                                       "recipient_name": entry.name, "system": entry.system,
                                       "unit_code": entry.unit_code if entry.kind == "commune" else None,
                                       "status": StatusCode.ARRIVED.value, "ack": "pending", "ack_at": None,
                                       "delivered_at": now, "updated_at": now})
                    statuses.append(self._axis_arrival(delivery_id, doc_id, code, entry.name, sender,
                                                       tenant["id"], now))
                    results.append({"OrganId": code, "status": "delivered", "docId": delivery_id,
                                    "system": entry.system, "StatusCode": StatusCode.ARRIVED.value,
                                    "unit_code": entry.unit_code if entry.kind == "commune" else None})
                    notices.append((entry.system, f"edoc:{delivery_id}",
                                    {"docId": delivery_id, "messagetype": "edoc", "from": sender, "to": code,
                                     "document": doc_id}))
                    notices.append((tenant["id"], f"status:{statuses[-1]['id']}",
                                     {"docId": statuses[-1]["id"], "messagetype": "status", "from": code,
                                      "to": sender, "document": doc_id, "StatusCode": "01"}))
                if not deliveries:
                    raise UnknownRecipient(
                        "no recipient of this package has a published agency code; nothing was stored",
                        field="MessageHeader/To/OrganId", detail={"recipients": results})
                conn.execute(documents_table.insert().values(
                    id=doc_id, sender_code=sender, sender_system=tenant["id"], document_id=pkg.document_id,
                    summary=summary, raw=bytes(raw), created_at=now))
                conn.execute(deliveries_table.insert(), deliveries)
                conn.execute(statuses_table.insert(), statuses)
                self._notify(conn, systems, notices)
        except IntegrityError:
            raise DuplicateDocument(f"{sender} already sent DocumentId {pkg.document_id!r}",
                                    field="MessageHeader/DocumentId") from None
        return {"DocID": doc_id, "DocumentId": pkg.document_id, "delivered": len(deliveries),
                "refused": len(results) - len(deliveries), "recipients": results}

    @staticmethod
    def _axis_arrival(delivery_id: str, doc_id: str, code: str, name: str, sender: str, sender_system: str,
                      now: str) -> dict[str, Any]:
        return {"id": new_id(), "delivery": delivery_id, "document": doc_id, "code": StatusCode.ARRIVED.value,
                "author_code": code, "author_name": name, "author_system": "axis", "audience_code": sender,
                "audience_system": sender_system, "description": StatusCode.ARRIVED.description_vi,
                "event_at": now, "received_at": now, "raw": None, "ack": "pending", "ack_at": None}

    def _notify(self, conn: sa.Connection, systems: dict[str, dict[str, Any]],
                notices: list[tuple[str, str, dict[str, Any]]]) -> None:
        for system, key, payload in notices:
            data = systems.get(system) or {}
            url = data.get("webhook_url")
            if not url:
                continue
            body = json.dumps(payload, ensure_ascii=False, sort_keys=True)
            self.outbox.enqueue(kind=f"notify_{payload['messagetype']}", url=url, body=body, tenant=system,
                                headers={"X-Axis-System": system,
                                         "X-Axis-Signature": sign_body(str(data.get("secret", "")), body)},
                                correlation={"doc_id": payload["document"], "docId": payload["docId"]},
                                dedupe_key=key, conn=conn)

    # -- status packets -------------------------------------------------------------------

    def send_status(self, tenant: dict[str, Any], sender: str, raw: bytes,
                    to: list[str] | None = None) -> dict[str, Any]:
        with _sized():
            st = parse_status(raw, max_bytes=self.limits.max_status_bytes)
        author = st.sender.organ_id
        if author != sender:
            raise InvalidField(f"the header says from {sender} but the packet's From/OrganId is {author}",
                               field="from")
        code = st.status_code
        if SENT_BY[code] == "axis":
            raise NotYours(f"status {code.value} ({code.description_en}) is set by the axis on delivery; "
                           "a system may not send it", field="Status/StatusCode")
        rf = st.response_for
        now = iso(self.clock.now())
        systems = self.tenants.all()
        with self.store.begin() as conn:
            doc = conn.execute(DOCUMENT_ANSWERED, {"sender": rf.organ_id, "document": rf.document_id}).first()
            if doc is None:
                raise UnknownDocument(f"the axis carried no document {rf.document_id!r} from {rf.organ_id}",
                                      field="Status/ResponseFor/DocumentId")
            if rf.code != doc.summary["Code"]:
                raise InvalidField(f"expected the document's code {doc.summary['Code']!r}, got {rf.code!r}",
                                   field="Status/ResponseFor/Code")
            if rf.promulgation_date.isoformat() != doc.summary["PromulgationDate"]:
                raise InvalidField(f"expected the document's date {doc.summary['PromulgationDate']}",
                                   field="Status/ResponseFor/PromulgationDate")
            if code is StatusCode.REVOKED:
                return self._revoke(conn, tenant, st, doc, to, raw, now, systems)
            return self._answer(conn, tenant, st, doc, raw, now, systems)

    def _answer(self, conn: sa.Connection, tenant: dict[str, Any], st: StatusPacket, doc: Any, raw: bytes,
                now: str, systems: dict[str, dict[str, Any]]) -> dict[str, Any]:
        author = st.sender.organ_id
        delivery = conn.execute(DELIVERY_FOR_UPDATE, {"document": doc.id, "recipient": author}).first()
        if delivery is None:
            raise UnknownDocument(f"document {st.response_for.document_id!r} was not delivered to {author}",
                                  field="Status/From/OrganId")
        if delivery.system != tenant["id"]:
            raise NotYours(f"{author} receives through system {delivery.system}, not {tenant['id']}",
                           field="Status/From/OrganId")
        event_at = st.timestamp.isoformat()
        if delivery.status == st.status_code.value:
            last = conn.execute(sa.select(statuses_table.c.id, statuses_table.c.event_at).where(
                statuses_table.c.delivery == delivery.id).order_by(statuses_table.c.n.desc()).limit(1)).first()
            if last is not None and last.event_at == event_at:
                return {"docId": last.id, "duplicate": True, "StatusCode": st.status_code.value,
                        "recipients": [self._status_result(delivery, "duplicate", last.id)]}
        try:
            check_transition(delivery.status, st.status_code)
        except ProtocolError as err:
            raise OutOfOrder(f"{author}: {err.message}", field="Status/StatusCode") from None
        row = self._status_row(delivery, doc, st, raw, now, audience_code=doc.sender_code,
                               audience_system=doc.sender_system)
        conn.execute(ADD_STATUS, row)
        conn.execute(DELIVERY_STATUS, {"_id": delivery.id, "status": st.status_code.value, "updated_at": now})
        self._notify(conn, systems, [(doc.sender_system, f"status:{row['id']}", {
            "docId": row["id"], "messagetype": "status", "from": author, "to": doc.sender_code,
            "document": doc.id, "StatusCode": st.status_code.value})])
        return {"docId": row["id"], "duplicate": False, "StatusCode": st.status_code.value,
                "unit_code": delivery.unit_code, "recipients": [self._status_result(delivery, "applied", row["id"])]}

    def _revoke(self, conn: sa.Connection, tenant: dict[str, Any], st: StatusPacket, doc: Any,
                to: list[str] | None, raw: bytes, now: str, systems: dict[str, dict[str, Any]]) -> dict[str, Any]:
        if st.sender.organ_id != doc.sender_code or doc.sender_system != tenant["id"]:
            raise NotYours("only the document's sender may revoke it (status 13)", field="Status/From/OrganId")
        stmt = sa.select(deliveries_table).where(deliveries_table.c.document == doc.id)
        if to is not None:
            stmt = stmt.where(deliveries_table.c.recipient_code.in_(to))
        targets = list(conn.execute(stmt.order_by(deliveries_table.c.n).with_for_update()))
        if to is not None:
            missing = sorted(set(to) - {d.recipient_code for d in targets})
            if missing:
                raise UnknownDocument(f"the document was not delivered to {', '.join(missing)}", field="to")
        results: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        notices: list[tuple[str, str, dict[str, Any]]] = []
        for delivery in targets:
            try:
                check_transition(delivery.status, st.status_code)
            except ProtocolError as err:
                results.append({**self._status_result(delivery, "refused", None), "ErrorCode": "out_of_order",
                                "ErrorDesc": err.message})
                continue
            row = self._status_row(delivery, doc, st, raw, now, audience_code=delivery.recipient_code,
                                   audience_system=delivery.system)
            rows.append(row)
            results.append(self._status_result(delivery, "applied", row["id"]))
            notices.append((delivery.system, f"status:{row['id']}", {
                "docId": row["id"], "messagetype": "status", "from": doc.sender_code,
                "to": delivery.recipient_code, "document": doc.id, "StatusCode": st.status_code.value}))
        if not rows:
            raise OutOfOrder("no delivery of this document can be revoked now (refused, done or already "
                             "revoked everywhere)", field="Status/StatusCode", detail={"recipients": results})
        conn.execute(statuses_table.insert(), rows)
        conn.execute(deliveries_table.update().where(deliveries_table.c.id.in_([r["delivery"] for r in rows]))
                     .values(status=st.status_code.value, updated_at=now))
        self._notify(conn, systems, notices)
        return {"docId": doc.id, "duplicate": False, "StatusCode": st.status_code.value,
                "applied": len(rows), "refused": len(results) - len(rows), "recipients": results}

    @staticmethod
    def _status_result(delivery: Any, outcome: str, status_id: str | None) -> dict[str, Any]:
        return {"OrganId": delivery.recipient_code, "system": delivery.system, "status": outcome,
                "statusId": status_id}

    @staticmethod
    def _status_row(delivery: Any, doc: Any, st: StatusPacket, raw: bytes, now: str, *, audience_code: str,
                    audience_system: str) -> dict[str, Any]:
        return {"id": new_id(), "delivery": delivery.id, "document": doc.id, "code": st.status_code.value,
                "author_code": st.sender.organ_id, "author_name": st.sender.organ_name,
                "author_system": doc.sender_system if st.status_code is StatusCode.REVOKED else delivery.system,
                "audience_code": audience_code, "audience_system": audience_system,
                "description": st.description, "event_at": st.timestamp.isoformat(), "received_at": now,
                "raw": bytes(raw), "ack": "pending", "ack_at": None}

    # -- inboxes --------------------------------------------------------------------------

    def received(self, tenant: dict[str, Any], messagetype: str = "edoc", *, to: str | None = None,
                 state: str = "pending", page: int = 1, size: int = 50) -> dict[str, Any]:
        """`getReceivedEdocList`: the system's deliveries (edoc) or status packets addressed to it."""
        page, size = _page_args(page, size)
        if messagetype not in MESSAGE_TYPES:
            raise InvalidField(f"expected messagetype edoc or status, got {messagetype!r}", field="messagetype")
        if state not in ("pending", "all"):
            raise InvalidField(f"expected state pending or all, got {state!r}", field="state")
        if to is not None:
            parse_agency_code(to, "to")
        system = tenant["id"]
        if messagetype == "edoc":
            t = deliveries_table
            cond = [t.c.system == system]
            if to:
                cond.append(t.c.recipient_code == to)
        else:
            t = statuses_table
            cond = [t.c.audience_system == system]
            if to:
                cond.append(t.c.audience_code == to)
        if state == "pending":
            cond.append(t.c.ack != "done")
        with self.store.read() as conn:
            if messagetype == "edoc":
                rows = conn.execute(
                    sa.select(t, documents_table.c.sender_code, documents_table.c.summary)
                    .join(documents_table, documents_table.c.id == t.c.document)
                    .where(*cond).order_by(t.c.n).limit(size).offset((page - 1) * size)).all()
                items = [{"id": r.id, "messagetype": "edoc", "document": r.document, "from": r.sender_code,
                          "to": r.recipient_code, "DocumentId": r.summary["DocumentId"], "Code": r.summary["Code"],
                          "Subject": r.summary["Subject"], "StatusCode": r.status, "ack": r.ack,
                          "created": r.delivered_at} for r in rows]
            else:
                rows = conn.execute(
                    sa.select(t, documents_table.c.summary)
                    .join(documents_table, documents_table.c.id == t.c.document)
                    .where(*cond).order_by(t.c.n).limit(size).offset((page - 1) * size)).all()
                items = [{"id": r.id, "messagetype": "status", "document": r.document, "from": r.author_code,
                          "to": r.audience_code, "DocumentId": r.summary["DocumentId"], "StatusCode": r.code,
                          "Description": r.description, "Timestamp": r.event_at, "ack": r.ack,
                          "created": r.received_at} for r in rows]
            total = _total(conn, t, cond, page, size, len(rows))
        return {"knobsticks": items, "page": page, "size": size, "total": total,
                "hasMore": page * size < total}

    def sent(self, tenant: dict[str, Any], doc_id: str | None = None, *, page: int = 1,
             size: int = 50) -> dict[str, Any]:
        """`getSentEdocList`: the system's sent documents, or one document's status history."""
        page, size = _page_args(page, size)
        system = tenant["id"]
        with self.store.read() as conn:
            if doc_id is not None:
                doc = None if _doc_id(doc_id) is None else conn.execute(
                    sa.select(documents_table.c.id, documents_table.c.summary).where(
                        documents_table.c.id == doc_id, documents_table.c.sender_system == system)).first()
                if doc is None:
                    raise UnknownDocument(f"system {system} sent no document with docId {doc_id!r}", field="docId")
                cond = [statuses_table.c.document == doc_id]
                rows = conn.execute(sa.select(statuses_table).where(*cond).order_by(statuses_table.c.n)
                                    .limit(size).offset((page - 1) * size)).all()
                total = _total(conn, statuses_table, cond, page, size, len(rows))
                history = [{"id": r.id, "docId": doc_id, "fromCode": r.author_code, "toCode": r.audience_code,
                            "statusCode": r.code, "description": r.description, "timestamp": r.event_at,
                            "receivedAt": r.received_at} for r in rows]
                return {"docId": doc_id, "DocumentId": doc.summary["DocumentId"], "statusResult": history,
                        "recipients": self._recipients(conn, [doc_id])[doc_id], "page": page, "size": size,
                        "total": total, "hasMore": page * size < total}
            cond = [documents_table.c.sender_system == system]
            docs = list(conn.execute(sa.select(documents_table.c.id, documents_table.c.sender_code,
                                               documents_table.c.summary, documents_table.c.created_at)
                                     .where(*cond).order_by(documents_table.c.n)
                                     .limit(size).offset((page - 1) * size)))
            total = _total(conn, documents_table, cond, page, size, len(docs))
            recipients = self._recipients(conn, [d.id for d in docs])
            items = [{"docId": d.id, "from": d.sender_code, "DocumentId": d.summary["DocumentId"],
                      "Code": d.summary["Code"], "Subject": d.summary["Subject"], "created": d.created_at,
                      "recipients": recipients[d.id]} for d in docs]
        return {"documents": items, "page": page, "size": size, "total": total, "hasMore": page * size < total}

    @staticmethod
    def _recipients(conn: sa.Connection, doc_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {d: [] for d in doc_ids}
        if not doc_ids:
            return out
        for r in conn.execute(sa.select(deliveries_table).where(deliveries_table.c.document.in_(doc_ids))
                              .order_by(deliveries_table.c.n)):
            out[r.document].append({"OrganId": r.recipient_code, "system": r.system, "StatusCode": r.status,
                                    "ack": r.ack, "docId": r.id})
        return out

    def get(self, tenant: dict[str, Any], knob_id: str) -> dict[str, Any]:
        """`getEdoc`: the raw package of a delivery, a sent document or a status packet the system may see."""
        system = tenant["id"]
        if _doc_id(knob_id) is None:
            raise UnknownDocument(f"no document or status has docId {knob_id!r}", field="docId")
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(deliveries_table.c.id, deliveries_table.c.recipient_code, documents_table.c.raw,
                          documents_table.c.sender_code, documents_table.c.id.label("doc"))
                .join(documents_table, documents_table.c.id == deliveries_table.c.document)
                .where(deliveries_table.c.id == knob_id, deliveries_table.c.system == system)).first()
            if row is not None:
                return {"docId": row.id, "document": row.doc, "messagetype": "edoc", "from": row.sender_code,
                        "to": row.recipient_code, "raw": bytes(row.raw)}
            doc = conn.execute(sa.select(documents_table).where(documents_table.c.id == knob_id)).first()
            if doc is not None and (doc.sender_system == system or conn.execute(
                    sa.select(deliveries_table.c.id).where(deliveries_table.c.document == knob_id,
                                                           deliveries_table.c.system == system)).first()):
                return {"docId": doc.id, "document": doc.id, "messagetype": "edoc", "from": doc.sender_code,
                        "to": None, "raw": bytes(doc.raw)}
            st = conn.execute(
                sa.select(statuses_table, documents_table.c.summary, documents_table.c.sender_code)
                .join(documents_table, documents_table.c.id == statuses_table.c.document)
                .where(statuses_table.c.id == knob_id)).first()
            if st is not None and system in (st.audience_system, st.author_system):
                raw = bytes(st.raw) if st.raw is not None else self._arrival_packet(st)
                return {"docId": st.id, "document": st.document, "messagetype": "status", "from": st.author_code,
                        "to": st.audience_code, "raw": raw}
        raise UnknownDocument(f"system {system} has no document or status with docId {knob_id!r}", field="docId")

    @staticmethod
    def _arrival_packet(st: Any) -> bytes:
        """The axis's own 01 packet, rebuilt from its row (stored as fields, built when fetched)."""
        summary = st.summary
        return build_status(StatusPacket(
            response_for=ResponseFor(organ_id=st.sender_code, code=summary["Code"],
                                     promulgation_date=date.fromisoformat(summary["PromulgationDate"]),
                                     document_id=summary["DocumentId"]),
            sender=Organization(organ_id=st.author_code, organ_name=st.author_name),
            status_code=StatusCode(st.code), description=st.description,
            timestamp=datetime.fromisoformat(st.event_at)))

    def acknowledge(self, tenant: dict[str, Any], knob_id: str, status: Any) -> dict[str, Any]:
        """`updateStatus`: the system took a delivery or status packet (``done``) or could not (``fail``)."""
        if status not in ACK_STATES:
            raise InvalidField(f"expected status \"done\" or \"fail\", got {status!r}", field="status")
        now = iso(self.clock.now())
        system = tenant["id"]
        if _doc_id(knob_id) is None:
            raise UnknownDocument(f"no message has docId {knob_id!r}", field="docId")
        with self.store.begin() as conn:
            for table, owner in ((deliveries_table, deliveries_table.c.system),
                                 (statuses_table, statuses_table.c.audience_system)):
                row = conn.execute(sa.select(table.c.id, table.c.ack).where(table.c.id == knob_id, owner == system)
                                   ).first()
                if row is None:
                    continue
                if row.ack != "done":  # done is final: a late "fail" does not bring a message back
                    conn.execute(table.update().where(table.c.id == knob_id).values(ack=status, ack_at=now))
                    return {"docId": knob_id, "ack": status}
                return {"docId": knob_id, "ack": "done"}
        raise UnknownDocument(f"system {system} has no message with docId {knob_id!r} to acknowledge",
                              field="docId")

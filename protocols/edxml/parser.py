"""Parse untrusted edXML bytes into the model, refusing anything the contract does not allow.

Order of checks, each failing with a ProtocolError naming the element:
1. size and shape of the bytes (empty, too large, DOCTYPE/entity declarations, well-formedness);
2. the project's XSD (``edxml.xsd``);
3. semantics the schema cannot say: real dates, base64 attachments within the size limit,
   attachment <-> manifest Reference one-to-one with the same ContentType and name, content
   types from an allowed list;
4. the signature, when a ``ds:Signature`` is present.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection
from datetime import date, datetime

from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from protocols.edxml._xml import element_path, local, q, safe_parse, validate
from protocols.edxml.model import (
    Attachment,
    DocumentCode,
    DocumentType,
    EdocPackage,
    Organization,
    OtherInfo,
    PromulgationInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusPacket,
    TraceHeader,
)
from protocols.edxml.signature import find_signature, verify_edoc_signature
from protocols.edxml.status import parse_status_code
from protocols.errors import ProtocolError

__all__ = [
    "DEFAULT_ALLOWED_CONTENT_TYPES",
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "DEFAULT_MAX_BYTES",
    "parse_edoc",
    "parse_status",
]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_STATUS_BYTES = 256 * 1024

#: pdf, doc, docx, xls, xlsx, odt, ods, xml, txt, jpg, png, tiff, zip, rar, 7z and detached CMS signatures.
DEFAULT_ALLOWED_CONTENT_TYPES: frozenset[str] = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/xml",
        "text/xml",
        "text/plain",
        "image/jpeg",
        "image/png",
        "image/tiff",
        "application/zip",
        "application/x-rar-compressed",
        "application/x-7z-compressed",
        "application/pkcs7-signature",
    }
)


def _child(parent: etree._Element, name: str) -> etree._Element:
    el = parent.find(q(name))
    if el is None:  # the schema makes this unreachable; kept so a schema slip cannot pass silently
        raise ProtocolError(f"{element_path(parent)}/{name}", f"line {parent.sourceline}: expected {name}")
    return el


def _text(parent: etree._Element, name: str) -> str:
    return _child(parent, name).text or ""


def _opt(parent: etree._Element, name: str) -> str | None:
    el = parent.find(q(name))
    return None if el is None else (el.text or "")


def _date(parent: etree._Element, name: str) -> date:
    el = _child(parent, name)
    try:
        return date.fromisoformat((el.text or "").strip())
    except ValueError:
        raise ProtocolError(
            element_path(el), f"line {el.sourceline}: expected a real date yyyy-MM-dd; found {el.text!r}"
        ) from None


def _opt_date(parent: etree._Element, name: str) -> date | None:
    return None if parent.find(q(name)) is None else _date(parent, name)


def _timestamp(parent: etree._Element, name: str) -> datetime:
    el = _child(parent, name)
    try:
        return datetime.fromisoformat((el.text or "").strip())
    except ValueError:
        raise ProtocolError(
            element_path(el),
            f"line {el.sourceline}: expected a real time yyyy-MM-ddTHH:mm:ss; found {el.text!r}",
        ) from None


def _int(parent: etree._Element, name: str) -> int | None:
    value = _opt(parent, name)
    return None if value is None else int(value.strip())


def _organization(el: etree._Element) -> Organization:
    return Organization(
        organ_id=_text(el, "OrganId"),
        organ_name=_text(el, "OrganName"),
        organ_add=_opt(el, "OrganAdd"),
        email=_opt(el, "Email"),
        telephone=_opt(el, "Telephone"),
        fax=_opt(el, "Fax"),
        website=_opt(el, "Website"),
    )


def _response_for(el: etree._Element) -> ResponseFor:
    return ResponseFor(
        organ_id=_text(el, "OrganId"),
        code=_text(el, "Code"),
        promulgation_date=_date(el, "PromulgationDate"),
        document_id=_text(el, "DocumentId"),
    )


def _trace(header: etree._Element) -> tuple[TraceHeader, ...]:
    lst = header.find(q("TraceHeaderList"))
    if lst is None:
        return ()
    return tuple(
        TraceHeader(organ_id=_text(th, "OrganId"), timestamp=_timestamp(th, "Timestamp"))
        for th in lst.iterfind(q("TraceHeader"))
    )


def _other_info(el: etree._Element) -> OtherInfo:
    apps = el.find(q("Appendixes"))
    return OtherInfo(
        priority=int(_text(el, "Priority").strip()),
        sphere_of_promulgation=_opt(el, "SphereOfPromulgation"),
        typer_notation=_opt(el, "TyperNotation"),
        promulgation_amount=_int(el, "PromulgationAmount"),
        page_amount=_int(el, "PageAmount"),
        appendixes=() if apps is None else tuple(a.text or "" for a in apps.iterfind(q("Appendix"))),
    )


def _decode(el: etree._Element, limit: int) -> bytes:
    text = "".join((el.text or "").split())
    path = element_path(el)
    if len(text) // 4 * 3 > limit + 2:
        raise ProtocolError(
            path,
            f"line {el.sourceline}: expected an attachment of at most {limit} bytes; this one is larger",
            code="too_large",
        )
    if len(text) % 4:
        raise ProtocolError(
            path,
            f"line {el.sourceline}: expected base64 text (length a multiple of 4); found {len(text)} characters",
        )
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(path, f"line {el.sourceline}: expected base64 text; {exc}") from None
    if len(data) > limit:
        raise ProtocolError(
            path,
            f"line {el.sourceline}: expected an attachment of at most {limit} bytes; this one is {len(data)}",
            code="too_large",
        )
    return data


def _attachments(root: etree._Element, limit: int, allowed: Collection[str]) -> tuple[Attachment, ...]:
    body = root.find(q("edXMLBody"))
    if body is None:
        return ()
    refs = list(_child(body, "edXMLManifest").iterfind(q("Reference")))
    encoded = body.find(q("AttachmentEncoded"))
    parts = {} if encoded is None else {_text(a, "ContentId"): a for a in encoded.iterfind(q("Attachment"))}
    declared = {_text(r, "ContentId") for r in refs}
    for cid, part in parts.items():
        if cid not in declared:
            el = _child(part, "ContentId")
            raise ProtocolError(
                element_path(el),
                f"line {el.sourceline}: attachment '{cid}' has no Reference in edXMLManifest; expected every attachment declared",
            )
    out: list[Attachment] = []
    for ref in refs:
        cid = _text(ref, "ContentId")
        ctype = _text(ref, "ContentType")
        name = _text(ref, "AttachmentName")
        part = parts.get(cid)
        if part is None:
            el = _child(ref, "ContentId")
            raise ProtocolError(
                element_path(el),
                f"line {el.sourceline}: Reference '{cid}' has no Attachment in AttachmentEncoded; expected its content",
            )
        part_type = _child(part, "ContentType")
        if (part_type.text or "") != ctype:
            raise ProtocolError(
                element_path(part_type),
                f"line {part_type.sourceline}: content type {part_type.text!r} is not the one declared in the manifest; expected {ctype!r}",
            )
        if ctype not in allowed:
            el = _child(ref, "ContentType")
            raise ProtocolError(
                element_path(el),
                f"line {el.sourceline}: content type {ctype!r} is not accepted; expected one of {', '.join(sorted(allowed))}",
                code="unsupported_media_type",
            )
        part_name = _child(part, "AttachmentName")
        if (part_name.text or "") != name:
            raise ProtocolError(
                element_path(part_name),
                f"line {part_name.sourceline}: attachment name {part_name.text!r} differs from the manifest; expected {name!r}",
            )
        description = _opt(ref, "Description")
        if description is None:
            description = _opt(part, "Description")
        data = _decode(_child(part, "ContentTransferEncoded"), limit)
        out.append(
            Attachment(content_id=cid, content_type=ctype, name=name, data=data, description=description)
        )
    return tuple(out)


def _signature(root: etree._Element) -> bytes | None:
    if find_signature(root) is None:
        return None
    return verify_edoc_signature(root).public_bytes(Encoding.DER)


def parse_edoc(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    allowed_content_types: Collection[str] = DEFAULT_ALLOWED_CONTENT_TYPES,
) -> EdocPackage:
    """Parse and check an edXML document package (edoc); raises ProtocolError on any fault."""
    root = safe_parse(data, max_bytes=max_bytes)
    validate(root)
    header = _child(root, "edXMLHeader")
    mh = header.find(q("MessageHeader"))
    if mh is None:
        first = header[0] if len(header) else header
        raise ProtocolError(
            "edXMLHeader/MessageHeader",
            f"line {first.sourceline}: expected a document (MessageHeader), found {local(first.tag)}; use parse_status for status packets",
        )
    code = _child(mh, "Code")
    prom = _child(mh, "PromulgationInfo")
    dtype = _child(mh, "DocumentType")
    signer = _child(mh, "SignerInfo")
    attachments = _attachments(root, max_attachment_bytes, allowed_content_types)
    cert_der = _signature(root)
    return EdocPackage(
        sender=_organization(_child(mh, "From")),
        recipients=tuple(_organization(el) for el in mh.iterfind(q("To"))),
        code=DocumentCode(code_number=_text(code, "CodeNumber"), code_notation=_text(code, "CodeNotation")),
        promulgation=PromulgationInfo(
            place=_text(prom, "Place"), promulgation_date=_date(prom, "PromulgationDate")
        ),
        document_type=DocumentType(type=_text(dtype, "Type"), type_name=_text(dtype, "TypeName")),
        subject=_text(mh, "Subject"),
        signer=SignerInfo(
            position=_text(signer, "Position"),
            full_name=_text(signer, "FullName"),
            competence=_opt(signer, "Competence"),
        ),
        document_id=_text(mh, "DocumentId"),
        content=_opt(mh, "Content"),
        due_date=_opt_date(mh, "DueDate"),
        response_for=tuple(_response_for(el) for el in mh.iterfind(q("ResponseFor"))),
        other_info=_other_info(_child(mh, "OtherInfo")),
        steering_type=_opt(mh, "SteeringType"),
        trace=_trace(header),
        attachments=attachments,
        signer_certificate_der=cert_der,
    )


def parse_status(data: bytes, *, max_bytes: int = DEFAULT_MAX_STATUS_BYTES) -> StatusPacket:
    """Parse and check a status packet; raises ProtocolError on any fault."""
    root = safe_parse(data, max_bytes=max_bytes)
    validate(root)
    header = _child(root, "edXMLHeader")
    st = header.find(q("Status"))
    if st is None:
        first = header[0] if len(header) else header
        raise ProtocolError(
            "edXMLHeader/Status",
            f"line {first.sourceline}: expected a status packet (Status), found {local(first.tag)}; use parse_edoc for documents",
        )
    body = root.find(q("edXMLBody"))
    if body is not None:
        raise ProtocolError("edXMLBody", f"line {body.sourceline}: expected no edXMLBody in a status packet")
    staff = _child(st, "StaffInfo")
    cert_der = _signature(root)
    return StatusPacket(
        response_for=_response_for(_child(st, "ResponseFor")),
        sender=_organization(_child(st, "From")),
        status_code=parse_status_code(_text(st, "StatusCode")),
        description=_text(st, "Description"),
        timestamp=_timestamp(st, "Timestamp"),
        staff=StaffInfo(
            department=_opt(staff, "Department"),
            staff=_opt(staff, "Staff"),
            mobile=_opt(staff, "Mobile"),
            email=_opt(staff, "Email"),
        ),
        trace=_trace(header),
        signer_certificate_der=cert_der,
    )

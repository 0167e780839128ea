"""Build edXML documents and status packets from the model.

Output is UTF-8 with an XML declaration, prefix ``edXML``, and is validated against the
project's XSD before it is returned, so a bad model (a malformed OrganId, an empty Subject)
fails here with the same ProtocolError a receiver would raise, not at the far end.
"""

from __future__ import annotations

import base64
from datetime import date, datetime

from lxml import etree

from protocols.edxml._xml import NS, PREFIX, q, validate
from protocols.edxml.model import (
    Attachment,
    EdocPackage,
    Organization,
    OtherInfo,
    ResponseFor,
    StaffInfo,
    StatusPacket,
    TraceHeader,
)

__all__ = ["build_edoc", "build_status", "format_date", "format_timestamp"]

_NSMAP = {PREFIX: NS}


def format_date(value: date) -> str:
    """yyyy-MM-dd."""
    return value.isoformat()


def format_timestamp(value: datetime) -> str:
    """yyyy-MM-ddTHH:mm:ss, plus the offset when the time is aware."""
    return value.replace(microsecond=0).isoformat(timespec="seconds")


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, q(name))
    if text is not None:
        el.text = text
    return el


def _opt(parent: etree._Element, name: str, text: str | None) -> None:
    if text is not None:
        _add(parent, name, text)


def _organization(parent: etree._Element, name: str, org: Organization) -> None:
    el = _add(parent, name)
    _add(el, "OrganId", org.organ_id)
    _add(el, "OrganName", org.organ_name)
    _opt(el, "OrganAdd", org.organ_add)
    _opt(el, "Email", org.email)
    _opt(el, "Telephone", org.telephone)
    _opt(el, "Fax", org.fax)
    _opt(el, "Website", org.website)


def _response_for(parent: etree._Element, rf: ResponseFor) -> None:
    el = _add(parent, "ResponseFor")
    _add(el, "OrganId", rf.organ_id)
    _add(el, "Code", rf.code)
    _add(el, "PromulgationDate", format_date(rf.promulgation_date))
    _add(el, "DocumentId", rf.document_id)


def _other_info(parent: etree._Element, info: OtherInfo) -> None:
    el = _add(parent, "OtherInfo")
    _add(el, "Priority", str(info.priority))
    _opt(el, "SphereOfPromulgation", info.sphere_of_promulgation)
    _opt(el, "TyperNotation", info.typer_notation)
    _opt(
        el, "PromulgationAmount", None if info.promulgation_amount is None else str(info.promulgation_amount)
    )
    _opt(el, "PageAmount", None if info.page_amount is None else str(info.page_amount))
    if info.appendixes:
        apps = _add(el, "Appendixes")
        for text in info.appendixes:
            _add(apps, "Appendix", text)


def _trace(parent: etree._Element, trace: tuple[TraceHeader, ...]) -> None:
    el = _add(parent, "TraceHeaderList")
    for hop in trace:
        th = _add(el, "TraceHeader")
        _add(th, "OrganId", hop.organ_id)
        _add(th, "Timestamp", format_timestamp(hop.timestamp))


def _body(root: etree._Element, attachments: tuple[Attachment, ...]) -> None:
    body = _add(root, "edXMLBody")
    manifest = _add(body, "edXMLManifest")
    manifest.set("version", "1.0")
    for att in attachments:
        ref = _add(manifest, "Reference")
        _add(ref, "ContentId", att.content_id)
        _add(ref, "ContentType", att.content_type)
        _opt(ref, "Description", att.description)
        _add(ref, "AttachmentName", att.name)
    if attachments:
        encoded = _add(body, "AttachmentEncoded")
        for att in attachments:
            el = _add(encoded, "Attachment")
            _add(el, "ContentId", att.content_id)
            _add(el, "ContentType", att.content_type)
            _add(el, "AttachmentName", att.name)
            _opt(el, "Description", att.description)
            _add(el, "ContentTransferEncoded", base64.b64encode(att.data).decode("ascii"))


def _serialize(root: etree._Element) -> bytes:
    validate(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build_edoc(pkg: EdocPackage) -> bytes:
    """Serialise a document package; raises ProtocolError if the result would not validate."""
    root = etree.Element(q("edXMLEnvelope"), nsmap=_NSMAP)
    header = _add(root, "edXMLHeader")
    mh = _add(header, "MessageHeader")
    _organization(mh, "From", pkg.sender)
    for org in pkg.recipients:
        _organization(mh, "To", org)
    code = _add(mh, "Code")
    _add(code, "CodeNumber", pkg.code.code_number)
    _add(code, "CodeNotation", pkg.code.code_notation)
    prom = _add(mh, "PromulgationInfo")
    _add(prom, "Place", pkg.promulgation.place)
    _add(prom, "PromulgationDate", format_date(pkg.promulgation.promulgation_date))
    dt = _add(mh, "DocumentType")
    _add(dt, "Type", pkg.document_type.type)
    _add(dt, "TypeName", pkg.document_type.type_name)
    _add(mh, "Subject", pkg.subject)
    _opt(mh, "Content", pkg.content)
    signer = _add(mh, "SignerInfo")
    _opt(signer, "Competence", pkg.signer.competence)
    _add(signer, "Position", pkg.signer.position)
    _add(signer, "FullName", pkg.signer.full_name)
    _opt(mh, "DueDate", None if pkg.due_date is None else format_date(pkg.due_date))
    for rf in pkg.response_for:
        _response_for(mh, rf)
    _add(mh, "DocumentId", pkg.document_id)
    _other_info(mh, pkg.other_info)
    _opt(mh, "SteeringType", pkg.steering_type)
    _trace(header, pkg.trace)
    _body(root, pkg.attachments)
    return _serialize(root)


def _staff(parent: etree._Element, staff: StaffInfo) -> None:
    el = _add(parent, "StaffInfo")
    _opt(el, "Department", staff.department)
    _opt(el, "Staff", staff.staff)
    _opt(el, "Mobile", staff.mobile)
    _opt(el, "Email", staff.email)


def build_status(st: StatusPacket) -> bytes:
    """Serialise a status packet; the TraceHeaderList is written only when it has hops."""
    root = etree.Element(q("edXMLEnvelope"), nsmap=_NSMAP)
    header = _add(root, "edXMLHeader")
    status = _add(header, "Status")
    _response_for(status, st.response_for)
    _organization(status, "From", st.sender)
    _add(status, "StatusCode", st.status_code.value)
    _add(status, "Description", st.description)
    _add(status, "Timestamp", format_timestamp(st.timestamp))
    _staff(status, st.staff)
    if st.trace:
        _trace(header, st.trace)
    return _serialize(root)

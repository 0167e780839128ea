"""edXML packages for the document axis, after QCVN 102:2016/BTTTT.

Namespace ``http://www.mic.gov.vn/TBT/QCVN_102_2016``, prefix ``edXML``. The schema
(``edxml.xsd``) is this project's own text. Where the standard's structure is known it is kept
(``edXMLEnvelope/edXMLHeader/MessageHeader``, ``TraceHeaderList``, ``edXMLBody/edXMLManifest``,
the ``Status`` packet); where we had to choose:

* **Attachments.** The standard carries attachment bytes as MIME parts referenced from the
  manifest. We have no MIME layer, so the base64 content travels inside the envelope, in
  ``edXMLBody/AttachmentEncoded/Attachment{ContentId, ContentType, AttachmentName, Description?,
  ContentTransferEncoded}`` next to ``edXMLBody/edXMLManifest``. Every manifest Reference must have
  its Attachment and vice versa, with the same ContentType and AttachmentName.
* **Body.** ``edXMLBody`` is optional (a document without attachments may omit it; a status
  packet must omit it); when present it must hold ``edXMLManifest``.
* **Header.** ``edXMLHeader`` holds either ``MessageHeader`` + ``TraceHeaderList`` (a document;
  the list may be empty) or ``Status`` + optional ``TraceHeaderList`` (a status packet), then an
  optional ``ds:Signature``.
* **Element order** in MessageHeader: From, To+, Code, PromulgationInfo, DocumentType, Subject,
  Content?, SignerInfo, DueDate?, ResponseFor*, DocumentId, OtherInfo, SteeringType?.
* **Types.** OrganId follows ``NNN.NN.NN.Xnn`` (ASCII digits); dates are ``yyyy-MM-dd``; times
  ``yyyy-MM-ddTHH:mm:ss`` with optional ``Z``/``±hh:mm`` and no fractions; Priority is ``0``..``4``
  (normal, urgent, very urgent, flash, flash with set time); ``OtherInfo/Appendixes`` holds
  ``Appendix+`` strings; ``ResponseFor/Code`` is the printed number ("123/UBND-VP");
  ``DocumentType/Type`` and ``SteeringType`` are short codes kept as strings.
* **Signature**: see :mod:`protocols.edxml.signature`; **status lifecycle**: see
  :mod:`protocols.edxml.status`.
"""

from __future__ import annotations

from pathlib import Path

from protocols.edxml._xml import NS
from protocols.edxml.builder import build_edoc, build_status
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
from protocols.edxml.parser import DEFAULT_ALLOWED_CONTENT_TYPES, parse_edoc, parse_status
from protocols.edxml.signature import sign_edoc, verify_edoc_signature
from protocols.edxml.status import StatusCode, check_transition

XSD_PATH = Path(__file__).with_name("edxml.xsd")
"""The XML Schema every package is validated with; the axis publishes it at `/docs/edxml.xsd`."""

__all__ = [
    "DEFAULT_ALLOWED_CONTENT_TYPES",
    "XSD_PATH",
    "NS",
    "Attachment",
    "DocumentCode",
    "DocumentType",
    "EdocPackage",
    "Organization",
    "OtherInfo",
    "PromulgationInfo",
    "ResponseFor",
    "SignerInfo",
    "StaffInfo",
    "StatusCode",
    "StatusPacket",
    "TraceHeader",
    "build_edoc",
    "build_status",
    "check_transition",
    "parse_edoc",
    "parse_status",
    "sign_edoc",
    "verify_edoc_signature",
]

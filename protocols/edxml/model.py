"""Plain data for edXML documents and status packets.

The builder turns these into XML and the parser back, so ``parse(build(x)) == x``. Field names
are the edXML element names in snake case, except ``From``/``To`` (``sender``/``recipients``).
Sequences are stored as tuples (lists passed in are converted) so values compare and hash.
Timestamps are kept to whole seconds, as the wire carries them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from protocols.edxml.status import StatusCode, parse_status_code

__all__ = [
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
    "StatusPacket",
    "TraceHeader",
]


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class Organization:
    """An agency as it appears in From / To / Status.From."""

    organ_id: str
    organ_name: str
    organ_add: str | None = None
    email: str | None = None
    telephone: str | None = None
    fax: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class DocumentCode:
    """Số và ký hiệu: ``CodeNumber`` (123) and ``CodeNotation`` (UBND-VP)."""

    code_number: str
    code_notation: str

    def __str__(self) -> str:
        return f"{self.code_number}/{self.code_notation}"


@dataclass(frozen=True)
class PromulgationInfo:
    """Where and when the document was issued."""

    place: str
    promulgation_date: date


@dataclass(frozen=True)
class DocumentType:
    """``Type`` is the category code, ``TypeName`` the wording (Công văn, Quyết định...)."""

    type: str
    type_name: str


@dataclass(frozen=True)
class SignerInfo:
    """Who signed the paper: competence (TM./KT.), position, full name."""

    position: str
    full_name: str
    competence: str | None = None


@dataclass(frozen=True)
class ResponseFor:
    """Points at an earlier document: its sender, full code ("123/UBND-VP"), date and id."""

    organ_id: str
    code: str
    promulgation_date: date
    document_id: str


@dataclass(frozen=True)
class OtherInfo:
    """Priority (0 normal .. 4 flash with set time) and bookkeeping."""

    priority: int = 0
    sphere_of_promulgation: str | None = None
    typer_notation: str | None = None
    promulgation_amount: int | None = None
    page_amount: int | None = None
    appendixes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "appendixes", tuple(self.appendixes))


@dataclass(frozen=True)
class TraceHeader:
    """One hop on the axis: the agency that handled the package and when."""

    organ_id: str
    timestamp: datetime

    def __post_init__(self) -> None:
        _set(self, "timestamp", self.timestamp.replace(microsecond=0))


@dataclass(frozen=True)
class Attachment:
    """A manifest Reference together with its decoded content."""

    content_id: str
    content_type: str
    name: str
    data: bytes
    description: str | None = None


@dataclass(frozen=True)
class EdocPackage:
    """An official document (edoc) with its header, trace and attachments.

    ``signer_certificate_der`` is filled by the parser when the package carried a valid
    signature; it is not part of equality and the builder ignores it (sign the built bytes with
    ``protocols.edxml.signature.sign_edoc``).
    """

    sender: Organization
    recipients: tuple[Organization, ...]
    code: DocumentCode
    promulgation: PromulgationInfo
    document_type: DocumentType
    subject: str
    signer: SignerInfo
    document_id: str
    content: str | None = None
    due_date: date | None = None
    response_for: tuple[ResponseFor, ...] = ()
    other_info: OtherInfo = field(default_factory=OtherInfo)
    steering_type: str | None = None
    trace: tuple[TraceHeader, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    signer_certificate_der: bytes | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("recipients", "response_for", "trace", "attachments"):
            _set(self, name, tuple(getattr(self, name)))


@dataclass(frozen=True)
class StaffInfo:
    """The officer who set the status."""

    department: str | None = None
    staff: str | None = None
    mobile: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class StatusPacket:
    """A status report about one document, from one agency (``sender``)."""

    response_for: ResponseFor
    sender: Organization
    status_code: StatusCode
    description: str
    timestamp: datetime
    staff: StaffInfo = field(default_factory=StaffInfo)
    trace: tuple[TraceHeader, ...] = ()
    signer_certificate_der: bytes | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        _set(self, "status_code", parse_status_code(self.status_code))
        _set(self, "timestamp", self.timestamp.replace(microsecond=0))
        _set(self, "trace", tuple(self.trace))

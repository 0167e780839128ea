"""Invalid edXML packages: each must be refused with a ProtocolError naming the element.

Every case starts from a valid hand-written sample and changes one thing; ``_mutate`` insists the
text it replaces is there, so a case cannot pass by accident on an unchanged document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from protocols.edxml import check_transition, parse_edoc, parse_status
from protocols.errors import ProtocolError

SAMPLES = Path(__file__).parent / "edxml_samples"
NS = b"http://www.mic.gov.vn/TBT/QCVN_102_2016"


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _mutate(name: str, *pairs: tuple[str, str]) -> bytes:
    data = _sample(name)
    for old, new in pairs:
        raw = old.encode()
        assert raw in data, f"{old!r} not in {name}"
        data = data.replace(raw, new.encode(), 1)
    return data


CONG_VAN = "edoc_01_cong_van.xml"
TO_TRINH = "edoc_04_to_trinh_dinh_kem.xml"
KE_HOACH = "edoc_07_ke_hoach_prefix_khac.xml"
SIGNED = "edoc_08_to_trinh_ky_so.xml"
STATUS = "status_03_da_tiep_nhan.xml"

FROM_BLOCK = """      <edXML:From>
        <edXML:OrganId>000.00.00.H29</edXML:OrganId>
        <edXML:OrganName>Ủy ban nhân dân tỉnh Thanh Hóa</edXML:OrganName>
        <edXML:OrganAdd>35 Đại lộ Lê Lợi, phường Hạc Thành, tỉnh Thanh Hóa</edXML:OrganAdd>
        <edXML:Email>vanthu@thanhhoa.gov.vn</edXML:Email>
        <edXML:Telephone>0237 3852 000</edXML:Telephone>
        <edXML:Fax>0237 3852 001</edXML:Fax>
        <edXML:Website>https://thanhhoa.gov.vn</edXML:Website>
      </edXML:From>
"""

XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE edXMLEnvelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    + _sample(CONG_VAN).split(b"?>", 1)[1].replace("V/v triển khai".encode(), b"&xxe;")
)
LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b']>\n<edXMLEnvelope xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&lol9;</edXMLEnvelope>'
)


@dataclass(frozen=True)
class Case:
    id: str
    data: Callable[[], bytes]
    expect_field: str
    words: str
    parse: Callable[..., Any] = parse_edoc
    kwargs: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("missing-From", lambda: _mutate(CONG_VAN, (FROM_BLOCK, "")), "MessageHeader/From", "expected From"),
    Case(
        "malformed-OrganId",
        lambda: _mutate(CONG_VAN, ("<edXML:OrganId>000.00.00.H29", "<edXML:OrganId>00.00.H29")),
        "MessageHeader/From/OrganId",
        "NNN.NN.NN.Xnn",
    ),
    Case(
        "lowercase-OrganId-in-To",
        lambda: _mutate(CONG_VAN, ("<edXML:OrganId>000.01.00.H29", "<edXML:OrganId>000.01.00.h29")),
        "MessageHeader/To/OrganId",
        "NNN.NN.NN.Xnn",
    ),
    Case(
        "bad-OrganId-in-third-recipient",
        lambda: _mutate(
            "edoc_03_thong_bao_nhieu_noi_nhan.xml",
            ("<edXML:OrganId>000.03.00.H56", "<edXML:OrganId>000.03.00.HH6"),
        ),
        "MessageHeader/To[3]/OrganId",
        "NNN.NN.NN.Xnn",
    ),
    Case(
        "date-not-real",
        lambda: _mutate(
            CONG_VAN, ("<edXML:PromulgationDate>2025-07-02", "<edXML:PromulgationDate>2025-02-30")
        ),
        "MessageHeader/PromulgationInfo/PromulgationDate",
        "yyyy-MM-dd",
    ),
    Case(
        "date-wrong-format",
        lambda: _mutate(
            CONG_VAN, ("<edXML:PromulgationDate>2025-07-02", "<edXML:PromulgationDate>02/07/2025")
        ),
        "MessageHeader/PromulgationInfo/PromulgationDate",
        "yyyy-MM-dd",
    ),
    Case(
        "wrong-namespace",
        lambda: _sample(CONG_VAN).replace(NS, b"http://www.mic.gov.vn/TBT/QCVN_102_2015"),
        "edXMLEnvelope",
        "namespace http://www.mic.gov.vn/TBT/QCVN_102_2016",
    ),
    Case(
        "no-namespace",
        lambda: _mutate(CONG_VAN, (' xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016"', "")).replace(
            b"edXML:", b""
        ),
        "edXMLEnvelope",
        "namespace",
    ),
    Case(
        "oversized-attachment",
        lambda: _sample(TO_TRINH),
        "AttachmentEncoded/Attachment[2]/ContentTransferEncoded",
        "at most 16 bytes",
        kwargs={"max_attachment_bytes": 16},
    ),
    Case(
        "content-type-not-declared-in-manifest",
        lambda: _mutate(
            KE_HOACH,
            (
                "<ed:ContentType>image/png</ed:ContentType>\n        <ed:AttachmentName>so-do.png</ed:AttachmentName>\n        <ed:Description>",
                "<ed:ContentType>image/jpeg</ed:ContentType>\n        <ed:AttachmentName>so-do.png</ed:AttachmentName>\n        <ed:Description>",
            ),
        ),
        "AttachmentEncoded/Attachment[2]/ContentType",
        "declared in the manifest",
    ),
    Case(
        "content-type-not-allowed",
        lambda: _sample(KE_HOACH).replace(b"image/png", b"application/x-msdownload"),
        "edXMLManifest/Reference[2]/ContentType",
        "not accepted",
    ),
    Case(
        "content-type-outside-caller-list",
        lambda: _sample(TO_TRINH),
        "edXMLManifest/Reference[2]/ContentType",
        "expected one of application/pdf",
        kwargs={"allowed_content_types": {"application/pdf"}},
    ),
    Case(
        "base64-bad-characters",
        lambda: _mutate(KE_HOACH, ("UEsDBCB4bHN4IGtlIGhvYWNo", "UEsDBCB4bHN4IGtl!GhvYWNo")),
        "AttachmentEncoded/Attachment[1]/ContentTransferEncoded",
        "base64",
    ),
    Case(
        "base64-truncated",
        lambda: _mutate(KE_HOACH, ("UEsDBCB4bHN4IGtlIGhvYWNo", "UEsDBCB4bHN4IGtlIGhvYWN")),
        "AttachmentEncoded/Attachment[1]/ContentTransferEncoded",
        "base64",
    ),
    Case(
        "attachment-without-manifest-reference",
        lambda: _mutate(
            KE_HOACH,
            (
                """      <ed:Reference>
        <ed:ContentId>so-do</ed:ContentId>
        <ed:ContentType>image/png</ed:ContentType>
        <ed:Description>Sơ đồ kết nối</ed:Description>
        <ed:AttachmentName>so-do.png</ed:AttachmentName>
      </ed:Reference>
""",
                "",
            ),
        ),
        "AttachmentEncoded/Attachment[2]/ContentId",
        "no Reference",
    ),
    Case(
        "attachment-ContentId-renamed",
        lambda: _mutate(
            KE_HOACH,
            (
                """      <ed:Attachment>
        <ed:ContentId>so-do</ed:ContentId>""",
                """      <ed:Attachment>
        <ed:ContentId>so-do-khac</ed:ContentId>""",
            ),
        ),
        "AttachmentEncoded/Attachment[2]/ContentId",
        "no Reference",
    ),
    Case(
        "reference-without-attachment",
        lambda: _mutate(
            TO_TRINH,
            ("<edXML:AttachmentEncoded>", "<edXML:AttachmentEncoded>\n<!--"),
            ("</edXML:AttachmentEncoded>", "-->\n</edXML:AttachmentEncoded>"),
        ),
        "edXMLManifest/Reference[1]/ContentId",
        "no Attachment",
    ),
    Case(
        "duplicate-ContentId",
        lambda: _mutate(
            KE_HOACH, ("<ed:ContentId>so-do</ed:ContentId>", "<ed:ContentId>bieu-mau</ed:ContentId>")
        ),
        "edXMLManifest/Reference[2]/ContentId",
        "once",
    ),
    Case(
        "signature-broken-content-changed",
        lambda: _mutate(SIGNED, ("Tờ trình ban hành", "Tờ trình bàn hành")),
        "Signature",
        "changed after signing",
    ),
    Case(
        "signature-broken-attachment-byte",
        lambda: _mutate(SIGNED, ("IHNhbXBsZSB0byB0cmluaAol", "IHNhbXBsZSB0byB0cmluaBol")),
        "Signature",
        "changed after signing",
    ),
    Case(
        "signature-value-changed",
        lambda: _signature_value_flipped(),
        "Signature",
        "does not verify",
    ),
    Case(
        "external-entity-XXE",
        lambda: XXE,
        "DOCTYPE",
        "entity",
    ),
    Case("billion-laughs", lambda: LAUGHS, "DOCTYPE", "entity expansion"),
    Case(
        "DOCTYPE-external-DTD",
        lambda: _sample(CONG_VAN).replace(
            b"<edXML:edXMLEnvelope",
            b'<!DOCTYPE edXMLEnvelope SYSTEM "http://evil.example/edxml.dtd">\n<edXML:edXMLEnvelope',
            1,
        ),
        "DOCTYPE",
        "DOCTYPE",
    ),
    Case(
        "DOCTYPE-hidden-in-UTF-16",
        lambda: (
            XXE.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>')
            .decode()
            .encode("utf-16")
        ),
        "DOCTYPE",
        "DOCTYPE",
    ),
    Case("not-XML", lambda: b"%PDF-1.4 this is not an edXML package", "edXMLEnvelope", "well-formed"),
    Case("truncated-XML", lambda: _sample(CONG_VAN)[:-40], "edXMLEnvelope", "well-formed"),
    Case("empty-document", lambda: b"", "edXMLEnvelope", "empty"),
    Case("whitespace-document", lambda: b" \n\t ", "edXMLEnvelope", "empty"),
    Case(
        "empty-body",
        lambda: _mutate(
            CONG_VAN, ("  </edXML:edXMLHeader>\n", "  </edXML:edXMLHeader>\n  <edXML:edXMLBody/>\n")
        ),
        "edXMLBody/edXMLManifest",
        "expected edXMLManifest",
    ),
    Case(
        "too-large-document",
        lambda: _sample(TO_TRINH),
        "edXMLEnvelope",
        "at most 1024 bytes",
        kwargs={"max_bytes": 1024},
    ),
    Case(
        "missing-Subject",
        lambda: _mutate(
            CONG_VAN,
            (
                "<edXML:Subject>V/v triển khai tiếp nhận hồ sơ trực tuyến trên Cổng Dịch vụ công quốc gia</edXML:Subject>",
                "",
            ),
        ),
        "MessageHeader/Subject",
        "expected Subject",
    ),
    Case(
        "blank-Subject",
        lambda: _mutate(
            CONG_VAN,
            ("V/v triển khai tiếp nhận hồ sơ trực tuyến trên Cổng Dịch vụ công quốc gia", "   "),
        ),
        "MessageHeader/Subject",
        "non-empty",
    ),
    Case(
        "missing-Code",
        lambda: _mutate(
            CONG_VAN,
            (
                """      <edXML:Code>
        <edXML:CodeNumber>1234</edXML:CodeNumber>
        <edXML:CodeNotation>UBND-VX</edXML:CodeNotation>
      </edXML:Code>
""",
                "",
            ),
        ),
        "MessageHeader/Code",
        "expected To or Code, found PromulgationInfo",
    ),
    Case(
        "missing-CodeNotation",
        lambda: _mutate(CONG_VAN, ("<edXML:CodeNotation>UBND-VX</edXML:CodeNotation>", "")),
        "MessageHeader/Code/CodeNotation",
        "expected CodeNotation",
    ),
    Case(
        "bad-Priority",
        lambda: _mutate(CONG_VAN, ("<edXML:Priority>0", "<edXML:Priority>5")),
        "MessageHeader/OtherInfo/Priority",
        "0..4",
    ),
    Case(
        "bad-Email",
        lambda: _mutate(CONG_VAN, ("vanthu@thanhhoa.gov.vn", "vanthu.thanhhoa.gov.vn")),
        "MessageHeader/From/Email",
        "e-mail",
    ),
    Case(
        "unknown-element",
        lambda: _mutate(CONG_VAN, ("<edXML:Subject>", "<edXML:Urgent>yes</edXML:Urgent><edXML:Subject>")),
        "MessageHeader/Subject",
        "found Urgent",
    ),
    Case(
        "missing-TraceHeaderList",
        lambda: _mutate(CONG_VAN, ("<edXML:TraceHeaderList/>", "")),
        "edXMLHeader/TraceHeaderList",
        "expected TraceHeaderList",
    ),
    Case(
        "trace-timestamp-with-fraction",
        lambda: _mutate(
            "edoc_06_giay_moi.xml",
            ("2025-06-27T14:02:11+07:00", "2025-06-27T14:02:11.5+07:00"),
        ),
        "TraceHeaderList/TraceHeader[1]/Timestamp",
        "yyyy-MM-ddTHH:mm:ss",
    ),
    Case(
        "status-packet-given-as-document",
        lambda: _sample(STATUS),
        "edXMLHeader/MessageHeader",
        "parse_status",
    ),
    Case(
        "status-unknown-code",
        lambda: _mutate(STATUS, ("<edXML:StatusCode>03", "<edXML:StatusCode>07")),
        "Status/StatusCode",
        "01, 02, 03",
        parse=parse_status,
    ),
    Case(
        "status-bad-timestamp",
        lambda: _mutate(STATUS, ("2025-07-02T08:40:12", "2025-07-02 08:40")),
        "Status/Timestamp",
        "yyyy-MM-ddTHH:mm:ss",
        parse=parse_status,
    ),
    Case(
        "status-missing-StaffInfo",
        lambda: _mutate(
            "status_01_da_den.xml",
            ("<edXML:StaffInfo/>", ""),
        ),
        "Status/StaffInfo",
        "expected StaffInfo",
        parse=parse_status,
    ),
    Case(
        "status-with-body",
        lambda: _mutate(
            STATUS,
            (
                "  </edXML:edXMLHeader>\n",
                "  </edXML:edXMLHeader>\n  <edXML:edXMLBody><edXML:edXMLManifest/></edXML:edXMLBody>\n",
            ),
        ),
        "edXMLBody",
        "no edXMLBody",
        parse=parse_status,
    ),
    Case(
        "foreign-dsig-element",
        lambda: _mutate(
            CONG_VAN,
            (
                "<edXML:TraceHeaderList/>",
                '<edXML:TraceHeaderList/><ds:Object xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>',
            ),
        ),
        "Signature",
        "expected one ds:Signature",
    ),
]


def _signature_value_flipped() -> bytes:
    data = _sample(SIGNED)
    start = data.index(b"<ds:SignatureValue>") + len(b"<ds:SignatureValue>") + 10
    flipped = b"B" if data[start : start + 1] != b"B" else b"C"
    return data[:start] + flipped + data[start + 1 :]


def test_there_are_at_least_twenty_cases() -> None:
    assert len(CASES) >= 20
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_invalid_package_is_refused(case: Case) -> None:
    with pytest.raises(ProtocolError) as err:
        case.parse(case.data(), **case.kwargs)
    assert err.value.field == case.expect_field, err.value.message
    assert case.words in err.value.message
    assert "expected" in err.value.message


OUT_OF_ORDER = [
    ("done-then-processing", "06", "05"),
    ("revoke-after-refusal", "02", "13"),
    ("received-before-arrival", None, "03"),
    ("answer-without-revocation", "05", "15"),
]


@pytest.mark.parametrize(
    ("previous", "new"), [(p, n) for _, p, n in OUT_OF_ORDER], ids=[i for i, _, _ in OUT_OF_ORDER]
)
def test_status_code_out_of_order(previous: str | None, new: str) -> None:
    with pytest.raises(ProtocolError) as err:
        check_transition(previous, new)
    assert err.value.field == "StatusCode"
    assert "expected" in err.value.message


def test_entities_are_never_expanded() -> None:
    """Even a caller that skips the byte scan gets no file content: the parser resolves nothing."""
    with pytest.raises(ProtocolError) as err:
        parse_edoc(XXE)
    assert "root:" not in err.value.message

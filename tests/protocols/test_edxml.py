"""edXML: hand-written samples parse, round-trip through the builder, signatures and lifecycle."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from protocols.edxml import (
    NS,
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
    StatusCode,
    StatusPacket,
    TraceHeader,
    build_edoc,
    build_status,
    check_transition,
    parse_edoc,
    parse_status,
    sign_edoc,
    verify_edoc_signature,
)
from protocols.edxml.status import SENT_BY, TRANSITIONS, is_final
from protocols.errors import ProtocolError

SAMPLES = Path(__file__).parent / "edxml_samples"
EDOCS = sorted(SAMPLES.glob("edoc_*.xml"))
STATUSES = sorted(SAMPLES.glob("status_*.xml"))
ICT = dt.timezone(dt.timedelta(hours=7))


def _leaves(xml: bytes) -> list[tuple[str, str]]:
    """(path, text) of every edXML leaf element, attachments in ContentId order, for comparison."""
    root = etree.fromstring(xml)
    out: list[tuple[str, str]] = []
    for el in root.iter(f"{{{NS}}}*"):
        if len(el) == 0:
            path = "/".join(etree.QName(a).localname for a in reversed(list(el.iterancestors())))
            text = (
                "".join((el.text or "").split())
                if el.tag.endswith("ContentTransferEncoded")
                else el.text or ""
            )
            if text.endswith("Z") and el.tag.endswith("Timestamp"):
                text = text[:-1] + "+00:00"
            out.append((f"{path}/{etree.QName(el).localname}", text))
    return sorted(out)


def test_there_are_enough_hand_written_samples() -> None:
    assert len(EDOCS) + len(STATUSES) >= 10
    assert len(EDOCS) >= 7 and len(STATUSES) >= 4


@pytest.mark.parametrize("path", EDOCS, ids=lambda p: p.stem)
def test_edoc_sample_parses_and_round_trips(path: Path) -> None:
    data = path.read_bytes()
    pkg = parse_edoc(data)
    assert pkg.subject.strip() and pkg.recipients
    rebuilt = build_edoc(pkg)
    assert parse_edoc(rebuilt) == pkg

    # The rebuilt XML says the same thing leaf for leaf. Left out: the signature (the builder does
    # not sign), attachment Descriptions (the builder repeats one given on either side on both)
    # and an empty manifest (the builder always writes edXMLBody, the samples may omit it).
    def comparable(xml: bytes) -> list[tuple[str, str]]:
        return [
            (path, text)
            for path, text in _leaves(xml)
            if "Signature" not in path
            and (path, text) != ("edXMLEnvelope/edXMLBody/edXMLManifest", "")
            and not (path.startswith("edXMLEnvelope/edXMLBody") and path.endswith("/Description"))
        ]

    assert comparable(rebuilt) == comparable(data)


@pytest.mark.parametrize("path", STATUSES, ids=lambda p: p.stem)
def test_status_sample_parses_and_round_trips(path: Path) -> None:
    data = path.read_bytes()
    st = parse_status(data)
    rebuilt = build_status(st)
    assert parse_status(rebuilt) == st
    assert _leaves(rebuilt) == _leaves(data)


def test_sample_contents_are_read_field_by_field() -> None:
    pkg = parse_edoc((SAMPLES / "edoc_04_to_trinh_dinh_kem.xml").read_bytes())
    assert pkg.sender.organ_id == "000.05.00.H29"
    assert str(pkg.code) == "310/TTr-SNV"
    assert pkg.promulgation.promulgation_date == dt.date(2025, 6, 20)
    assert pkg.other_info.priority == 2
    assert [a.content_id for a in pkg.attachments] == ["totrinh-310.pdf", "duthao-qd"]
    assert pkg.attachments[0].data == b"%PDF-1.4\n% cutover sample to trinh\n%%EOF\n"
    assert pkg.attachments[1].description == "Dự thảo"

    many = parse_edoc((SAMPLES / "edoc_03_thong_bao_nhieu_noi_nhan.xml").read_bytes())
    assert [o.organ_id for o in many.recipients] == [
        "000.01.00.H56",
        "000.02.00.H56",
        "000.03.00.H56",
        "000.04.00.H56",
    ]
    assert many.attachments == ()

    reply = parse_edoc((SAMPLES / "edoc_05_bao_cao_phuc_dap.xml").read_bytes())
    assert [r.code for r in reply.response_for] == ["1234/UBND-VX", "88/SNV-CCHC"]
    assert reply.content is not None and "\n" in reply.content

    invite = parse_edoc((SAMPLES / "edoc_06_giay_moi.xml").read_bytes())
    assert invite.trace[0].timestamp == dt.datetime(2025, 6, 27, 14, 2, 11, tzinfo=ICT)
    assert invite.trace[1].timestamp == dt.datetime(2025, 6, 27, 7, 2, 13, tzinfo=dt.UTC)
    assert invite.due_date == dt.date(2025, 6, 28)

    decision = parse_edoc((SAMPLES / "edoc_02_quyet_dinh.xml").read_bytes())
    assert decision.other_info.appendixes == (
        "Phụ lục I: Danh mục thủ tục hành chính cấp xã",
        "Phụ lục II: Quy trình nội bộ",
    )
    assert decision.steering_type == "1"

    status = parse_status((SAMPLES / "status_03_da_tiep_nhan.xml").read_bytes())
    assert status.status_code is StatusCode.RECEIVED
    assert status.staff.staff == "Ngô Thị Mai"
    assert parse_status((SAMPLES / "status_15_dong_y_thu_hoi.xml").read_bytes()).description == ""


def test_signed_sample_verifies_and_names_its_signer() -> None:
    data = (SAMPLES / "edoc_08_to_trinh_ky_so.xml").read_bytes()
    pkg = parse_edoc(data)
    assert pkg.signer_certificate_der is not None
    cert = x509.load_der_x509_certificate(pkg.signer_certificate_der)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Nguyễn Thị Lan"
    # Same content as the unsigned hand-written original.
    assert pkg == parse_edoc((SAMPLES / "edoc_04_to_trinh_dinh_kem.xml").read_bytes())


# ----- builder ---------------------------------------------------------------------------------


def _org(organ_id: str = "000.00.00.H29", name: str = "Ủy ban nhân dân tỉnh Thanh Hóa") -> Organization:
    return Organization(organ_id, name)


def _full_package() -> EdocPackage:
    return EdocPackage(
        sender=Organization(
            "000.00.00.H29",
            "UBND tỉnh Thanh Hóa",
            organ_add="35 Lê Lợi",
            email="vp@thanhhoa.gov.vn",
            telephone="0237",
            fax="0238",
            website="https://thanhhoa.gov.vn",
        ),
        recipients=(
            _org("000.01.00.H29", "UBND phường Hạc Thành"),
            _org("000.02.00.H29", "UBND xã Quảng Xương"),
        ),
        code=DocumentCode("9", "UBND-KSTT"),
        promulgation=PromulgationInfo("Thanh Hóa", dt.date(2025, 7, 1)),
        document_type=DocumentType("1", "Công văn"),
        subject='Về việc <thử> & "kiểm tra" ký tự đặc biệt',
        signer=SignerInfo("Chủ tịch", "Đỗ Minh Tuấn", competence="TM. UBND"),
        document_id="000.00.00.H29,2025/07/01,9/UBND-KSTT",
        content="Dòng 1\nDòng 2",
        due_date=dt.date(2025, 7, 31),
        response_for=(ResponseFor("000.00.00.G22", "1/VPCP", dt.date(2025, 6, 1), "doc-1"),),
        other_info=OtherInfo(4, "Toàn tỉnh", "KSTT", 3, 7, ("PL1", "PL2")),
        steering_type="0",
        trace=(TraceHeader("000.00.00.H29", dt.datetime(2025, 7, 1, 8, 0, 0, 999_999, tzinfo=ICT)),),
        attachments=(
            Attachment("a-1", "application/pdf", "cong-van.pdf", bytes(range(256)), "Bản ký số"),
            Attachment("a-2", "application/zip", "ho-so.zip", b"", None),
        ),
    )


def test_build_then_parse_gives_the_same_package() -> None:
    pkg = _full_package()
    data = build_edoc(pkg)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    again = parse_edoc(data)
    assert again == pkg
    assert again.trace[0].timestamp.microsecond == 0  # the wire keeps whole seconds
    assert b"<edXML:edXMLEnvelope" in data


def test_minimal_package_has_no_body() -> None:
    pkg = EdocPackage(
        sender=_org(),
        recipients=(_org("000.01.00.H29"),),
        code=DocumentCode("1", "UBND"),
        promulgation=PromulgationInfo("Thanh Hóa", dt.date(2025, 7, 1)),
        document_type=DocumentType("1", "Công văn"),
        subject="S",
        signer=SignerInfo("Chủ tịch", "A"),
        document_id="d",
    )
    data = build_edoc(pkg)
    assert b"edXMLBody" in data and b"AttachmentEncoded" not in data
    assert parse_edoc(data) == pkg


def test_builder_refuses_a_model_that_would_not_validate() -> None:
    pkg = dataclasses.replace(_full_package(), sender=_org("12.34"))
    with pytest.raises(ProtocolError) as err:
        build_edoc(pkg)
    assert err.value.field == "MessageHeader/From/OrganId"
    assert "NNN.NN.NN.Xnn" in err.value.message
    with pytest.raises(ProtocolError) as err:
        build_edoc(dataclasses.replace(_full_package(), recipients=()))
    assert err.value.field == "MessageHeader/To"


def test_status_build_parse_round_trip_with_trace_and_staff() -> None:
    st = StatusPacket(
        response_for=ResponseFor("000.00.00.H29", "9/UBND-KSTT", dt.date(2025, 7, 1), "doc-9"),
        sender=_org("000.01.00.H29", "UBND phường Hạc Thành"),
        status_code="05",  # type: ignore[arg-type]  # the wire string is accepted and converted
        description="Đang xử lý",
        timestamp=dt.datetime(2025, 7, 1, 9, 30, 15, 123, tzinfo=ICT),
        staff=StaffInfo("Văn phòng", "Ngô Thị Mai", "0912", "mai@thanhhoa.gov.vn"),
        trace=(TraceHeader("000.00.00.G21", dt.datetime(2025, 7, 1, 2, 30, 16, tzinfo=dt.UTC)),),
    )
    assert st.status_code is StatusCode.PROCESSING
    assert parse_status(build_status(st)) == st


def test_edoc_and_status_parsers_do_not_take_each_others_packets() -> None:
    with pytest.raises(ProtocolError) as err:
        parse_edoc((SAMPLES / "status_03_da_tiep_nhan.xml").read_bytes())
    assert err.value.field == "edXMLHeader/MessageHeader"
    with pytest.raises(ProtocolError) as err:
        parse_status((SAMPLES / "edoc_01_cong_van.xml").read_bytes())
    assert err.value.field == "edXMLHeader/Status"


# ----- signature -------------------------------------------------------------------------------


def _cert(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, cn: str = "Cán bộ thử") -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
        .sign(key, hashes.SHA256())
    )


@pytest.mark.parametrize(
    "key",
    [
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP384R1()),
        rsa.generate_private_key(65537, 2048),
    ],
    ids=["p256", "p384", "rsa2048"],
)
def test_sign_then_verify(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    cert = _cert(key)
    signed = sign_edoc(build_edoc(_full_package()), key, cert)
    root = etree.fromstring(signed)
    assert verify_edoc_signature(root) == cert
    assert parse_edoc(signed) == _full_package()
    # The signature covers the attachments: change one byte of content, it breaks.
    tampered = signed.replace(b"<edXML:ContentType>application/zip", b"<edXML:ContentType>application/pdf", 1)
    assert tampered != signed
    with pytest.raises(ProtocolError) as err:
        verify_edoc_signature(etree.fromstring(tampered))
    assert err.value.field == "Signature"


def test_signature_survives_a_trace_hop_added_by_the_axis() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    signed = sign_edoc((SAMPLES / "edoc_01_cong_van.xml").read_bytes(), key, _cert(key))
    hop = (
        b"<edXML:TraceHeaderList><edXML:TraceHeader><edXML:OrganId>000.00.00.G21</edXML:OrganId>"
        b"<edXML:Timestamp>2025-07-02T09:00:00+07:00</edXML:Timestamp></edXML:TraceHeader></edXML:TraceHeaderList>"
    )
    relayed = signed.replace(b"<edXML:TraceHeaderList/>", hop)
    assert relayed != signed
    pkg = parse_edoc(relayed)
    assert [t.organ_id for t in pkg.trace] == ["000.00.00.G21"]
    assert pkg.signer_certificate_der is not None


def test_a_signed_status_packet_verifies_too() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    signed = sign_edoc((SAMPLES / "status_06_hoan_thanh.xml").read_bytes(), key, _cert(key))
    assert parse_status(signed).signer_certificate_der is not None
    with pytest.raises(ProtocolError) as err:
        parse_status(signed.replace("cử đại biểu".encode(), "không cử".encode()))
    assert err.value.field == "Signature"


def test_signing_twice_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(ProtocolError) as err:
        sign_edoc((SAMPLES / "edoc_08_to_trinh_ky_so.xml").read_bytes(), key, _cert(key))
    assert err.value.field == "Signature"


def test_unsigned_document_has_no_certificate_and_verify_says_so() -> None:
    data = (SAMPLES / "edoc_01_cong_van.xml").read_bytes()
    assert parse_edoc(data).signer_certificate_der is None
    with pytest.raises(ProtocolError) as err:
        verify_edoc_signature(etree.fromstring(data))
    assert err.value.field == "Signature" and "not signed" in err.value.message


# ----- status lifecycle ------------------------------------------------------------------------

LEGAL = [
    (None, "01"),
    ("01", "02"),
    ("01", "03"),
    ("03", "04"),
    ("03", "05"),
    ("03", "06"),
    ("04", "05"),
    ("04", "06"),
    ("05", "06"),
    ("01", "13"),
    ("03", "13"),
    ("04", "13"),
    ("05", "13"),
    ("13", "15"),
    ("13", "16"),
    ("16", "05"),
]
ILLEGAL = [
    (None, "03"),
    (None, "13"),
    ("01", "01"),
    ("01", "05"),
    ("01", "06"),
    ("02", "03"),
    ("02", "13"),
    ("03", "01"),
    ("03", "02"),
    ("04", "03"),
    ("05", "04"),
    ("05", "05"),
    ("06", "05"),
    ("06", "13"),
    ("13", "05"),
    ("13", "06"),
    ("15", "16"),
    ("15", "13"),
    ("01", "15"),
    ("05", "16"),
]


@pytest.mark.parametrize(("previous", "new"), LEGAL, ids=[f"{p}->{n}" for p, n in LEGAL])
def test_legal_transitions(previous: str | None, new: str) -> None:
    check_transition(previous, new)


@pytest.mark.parametrize(("previous", "new"), ILLEGAL, ids=[f"{p}->{n}" for p, n in ILLEGAL])
def test_illegal_transitions(previous: str | None, new: str) -> None:
    with pytest.raises(ProtocolError) as err:
        check_transition(previous, new)
    assert err.value.field == "StatusCode"
    assert "expected" in err.value.message and new in err.value.message


def test_unknown_codes_are_refused_on_either_side() -> None:
    for previous, new in [(None, "07"), ("99", "03"), ("01", "3")]:
        with pytest.raises(ProtocolError) as err:
            check_transition(previous, new)
        assert err.value.field == "StatusCode"


def test_status_codes_and_table_are_complete() -> None:
    assert [c.value for c in StatusCode] == ["01", "02", "03", "04", "05", "06", "13", "15", "16"]
    assert StatusCode.RECEIVED.description_vi == "Đã tiếp nhận"
    assert StatusCode.REVOKED.description_vi == "Thu hồi"
    assert StatusCode.DONE == "06"
    assert set(TRANSITIONS) == {None, *StatusCode}
    assert set(SENT_BY) == set(StatusCode)
    assert SENT_BY[StatusCode.ARRIVED] == "axis" and SENT_BY[StatusCode.REVOKED] == "sender"
    assert {c.value for c in StatusCode if is_final(c)} == {"02", "06", "15"}
    # Every code can be reached from the start.
    seen: set[StatusCode | None] = {None}
    frontier: list[StatusCode | None] = [None]
    while frontier:
        for nxt in TRANSITIONS[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == {None, *StatusCode}

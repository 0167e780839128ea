"""Signed results: render, sign (fast and pyHanko), verify (fast and pyHanko), each failure named.

The positive cases are checked by code that is not ours: pyHanko's validator, and a hand check
of the CMS (asn1crypto parse + `cryptography` signature check) written here in the test.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import asn1crypto.tsp  # noqa: F401  (registers signing-certificate-v2)
import pytest
from asn1crypto import cms as a_cms
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mocks.ca.models import CertificationAuthority, IssuedCertificate
from protocols.errors import ProtocolError
from protocols.signed_result import (
    VerificationResult,
    ascii_fold,
    render_result_pdf,
    sign_result_pdf,
    sign_result_pdf_pyhanko,
    verify_result_pdf,
)

NOW = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
CODE = "H01.22-250701-0001"
METHODS = ["fast", "pyhanko"]


@pytest.fixture(scope="module")
def ca() -> CertificationAuthority:
    return CertificationAuthority.create(NOW - timedelta(days=30))


@pytest.fixture(scope="module")
def officer(ca: CertificationAuthority) -> IssuedCertificate:
    return ca.issue_officer_certificate("01", "Nguyễn Văn An", "001085012345", now=NOW - timedelta(days=1))


def _render(code: str = CODE) -> bytes:
    return render_result_pdf(
        code, "Giấy chứng nhận đăng ký hộ kinh doanh", ["Tên hộ: Quán Phở Đức", "Địa chỉ: phường Ba Đình"],
        "UBND phường Ba Đình", issued_at=NOW,
    )


def _sign(officer: IssuedCertificate, pdf: bytes, code: str = CODE, *, slow: bool = False) -> bytes:
    key = officer.private_key()
    assert key is not None
    fn = sign_result_pdf_pyhanko if slow else sign_result_pdf
    return fn(
        pdf, key, officer.certificate(), officer.chain(), signer_name="Nguyễn Văn An",
        reason="Ký kết quả giải quyết", dossier_code=code, signing_time=NOW,
    )


@pytest.fixture(scope="module")
def signed(officer: IssuedCertificate) -> bytes:
    return _sign(officer, _render())


def _verify(pdf: bytes, ca: CertificationAuthority, method: str, *, expected: str | None = CODE,
            crl: bytes | None = None, now: datetime = NOW + timedelta(hours=1)) -> VerificationResult:
    return verify_result_pdf(
        pdf, trust_roots=[ca.root_certificate()], crl=crl if crl is not None else ca.crl_der(now),
        expected_dossier_code=expected, now=now, method=method,  # type: ignore[arg-type]
    )


def _pyhanko_status(pdf: bytes, ca: CertificationAuthority) -> tuple[Any, Any]:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    root = a_x509.Certificate.load(ca.root_certificate().public_bytes(serialization.Encoding.DER))
    reader = PdfFileReader(io.BytesIO(pdf))
    (sig,) = reader.embedded_signatures
    vc = ValidationContext(trust_roots=[root], allow_fetching=False, moment=NOW)
    return reader, validate_pdf_signature(sig, vc)


# -- rendering ----------------------------------------------------------------------------------


def test_rendered_pdf_carries_its_dossier_code() -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    pdf = _render()
    assert pdf.startswith(b"%PDF-")
    reader = PdfFileReader(io.BytesIO(pdf))
    info = reader.trailer_view["/Info"]
    assert str(info["/MaHoSo"]) == CODE
    assert CODE in str(info["/Subject"])
    assert int(reader.root["/Pages"]["/Count"]) == 1


def test_render_refuses_empty_code() -> None:
    with pytest.raises(ProtocolError) as exc:
        render_result_pdf("", "t", [], "x")
    assert exc.value.field == "dossier_code"


def test_ascii_fold_for_fonts_without_vietnamese() -> None:
    assert ascii_fold("Ủy ban nhân dân phường Đống Đa") == "Uy ban nhan dan phuong Dong Da"


# -- signing, checked independently -------------------------------------------------------------


def test_fast_signature_validates_in_pyhanko(ca: CertificationAuthority, signed: bytes) -> None:
    from pyhanko.sign.validation import SignatureCoverageLevel

    reader, status = _pyhanko_status(signed, ca)
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert str(reader.trailer_view["/Info"]["/MaHoSo"]) == CODE
    sig = reader.embedded_signatures[0]
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig.self_reported_timestamp == NOW


def test_fast_signature_cms_checked_by_hand(officer: IssuedCertificate, signed: bytes) -> None:
    m = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", signed)
    assert m is not None
    a0, a1, b0, b1 = map(int, m.groups())
    assert a0 == 0 and b0 + b1 == len(signed)
    hole = signed[a1:b0]
    assert hole.startswith(b"<") and hole.endswith(b">")
    content_info = a_cms.ContentInfo.load(bytes.fromhex(hole[1:-1].decode()), strict=False)
    signer_info = content_info["content"]["signer_infos"][0]
    attrs = {a["type"].native: a["values"][0] for a in signer_info["signed_attrs"]}
    assert set(attrs) == {"content_type", "message_digest", "signing_certificate_v2"}  # no signing_time (PAdES)
    digest = hashlib.sha256(signed[a0:a1] + signed[b0 : b0 + b1]).digest()
    assert attrs["message_digest"].native == digest
    cert_der = officer.certificate().public_bytes(serialization.Encoding.DER)
    assert attrs["signing_certificate_v2"]["certs"][0]["cert_hash"].native == hashlib.sha256(cert_der).digest()
    signed_attrs = signer_info["signed_attrs"].untag().dump(force=True)
    public_key = officer.certificate().public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signer_info["signature"].native, signed_attrs, ec.ECDSA(hashes.SHA256()))


def test_sign_refuses_another_dossiers_pdf(officer: IssuedCertificate) -> None:
    with pytest.raises(ProtocolError) as exc:
        _sign(officer, _render("H01.22-250701-0002"), CODE)
    assert exc.value.field == "dossier_code"


def test_sign_refuses_a_key_that_is_not_the_certificates(officer: IssuedCertificate) -> None:
    with pytest.raises(ProtocolError) as exc:
        sign_result_pdf(_render(), ec.generate_private_key(ec.SECP256R1()), officer.certificate(), officer.chain(),
                        signer_name="x", reason="x", dossier_code=CODE, signing_time=NOW)
    assert exc.value.field == "key"


# -- verification -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_signed_result_verifies(ca: CertificationAuthority, signed: bytes, method: str) -> None:
    result = _verify(signed, ca, method)
    assert result.ok, result.problems
    assert result.dossier_code == CODE
    assert result.signer == "Nguyễn Văn An"
    assert result.revocation_checked
    assert result.signing_time == NOW


@pytest.mark.parametrize("method", METHODS)
def test_pyhanko_signed_result_verifies(ca: CertificationAuthority, officer: IssuedCertificate, method: str) -> None:
    result = _verify(_sign(officer, _render(), slow=True), ca, method)
    assert result.ok, result.problems


@pytest.mark.parametrize("method", METHODS)
def test_flipped_byte_fails_integrity(ca: CertificationAuthority, signed: bytes, method: str) -> None:
    at = signed.index(b"stream") + 40  # inside the first (signed) revision's content
    tampered = signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1 :]
    result = _verify(tampered, ca, method)
    assert not result.ok
    assert "integrity" in result.categories


@pytest.mark.parametrize("method", METHODS)
def test_appended_bytes_fail_integrity(ca: CertificationAuthority, signed: bytes, method: str) -> None:
    result = _verify(signed + b"\n% appended after signing\n", ca, method)
    assert "integrity" in result.categories


@pytest.mark.parametrize("method", METHODS)
def test_revoked_certificate_fails(ca: CertificationAuthority, method: str) -> None:
    officer = ca.issue_officer_certificate("01", "Phạm Văn Dũng", "9", now=NOW - timedelta(days=1))
    pdf = _sign(officer, _render())
    ca.revoke(officer.serial, "key_compromise", NOW + timedelta(minutes=30))
    result = _verify(pdf, ca, method)
    assert not result.ok
    assert "revoked" in result.categories, result.problems


@pytest.mark.parametrize("method", METHODS)
def test_rogue_ca_fails_chain(ca: CertificationAuthority, method: str) -> None:
    rogue = CertificationAuthority.create(NOW - timedelta(days=30), common_name="Cutover Mock Government Root CA")
    impostor = rogue.issue_officer_certificate("01", "Nguyễn Văn An", "001085012345", now=NOW - timedelta(days=1))
    result = _verify(_sign(impostor, _render()), ca, method)
    assert not result.ok
    assert "chain" in result.categories, result.problems


@pytest.mark.parametrize("method", METHODS)
def test_another_dossiers_result_fails(ca: CertificationAuthority, officer: IssuedCertificate, method: str) -> None:
    other = _sign(officer, _render("H01.22-250701-0002"), "H01.22-250701-0002")
    result = _verify(other, ca, method, expected=CODE)
    assert not result.ok
    assert result.categories == {"dossier_code"}
    assert result.dossier_code == "H01.22-250701-0002"


@pytest.mark.parametrize("method", METHODS)
def test_unsigned_pdf_fails(ca: CertificationAuthority, method: str) -> None:
    result = _verify(_render(), ca, method)
    assert not result.ok
    assert result.categories == {"unsigned"}
    assert result.dossier_code == CODE


@pytest.mark.parametrize("method", METHODS)
def test_stale_crl_is_reported(ca: CertificationAuthority, signed: bytes, method: str) -> None:
    old_crl = ca.crl_der(NOW)
    result = _verify(signed, ca, method, crl=old_crl, now=NOW + timedelta(days=3))
    assert "crl" in result.categories


@pytest.mark.parametrize("method", METHODS)
def test_certificate_not_yet_valid_at_signing_time(ca: CertificationAuthority, method: str) -> None:
    late = ca.issue_officer_certificate("01", "A", "1", now=NOW + timedelta(days=1))
    key = late.private_key()
    assert key is not None
    pdf = sign_result_pdf(_render(), key, late.certificate(), late.chain(), signer_name="A", reason="r",
                          dossier_code=CODE, signing_time=NOW)
    result = _verify(pdf, ca, method, now=NOW + timedelta(days=1, hours=1))
    assert "chain" in result.categories, result.problems


def test_garbage_is_not_ok(ca: CertificationAuthority) -> None:
    for method in METHODS:
        result = _verify(b"%PDF-1.7\nnot really\n", ca, method)
        assert not result.ok


def test_verify_needs_a_trust_root(ca: CertificationAuthority, signed: bytes) -> None:
    with pytest.raises(ProtocolError):
        verify_result_pdf(signed, trust_roots=[], crl=None, expected_dossier_code=None, now=NOW)
    assert isinstance(ca.root_certificate(), x509.Certificate)


@pytest.mark.parametrize("method", METHODS)
def test_tampered_cms_signature_fails_integrity(ca: CertificationAuthority, signed: bytes, method: str) -> None:
    m = re.search(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)", signed)
    assert m is not None
    hole_start, hole_end = int(m.group(1)), int(m.group(2))
    der_len = len(bytes.fromhex(signed[hole_start + 1 : hole_end - 1].decode()).rstrip(b"\0"))
    at = hole_start + 1 + 2 * der_len - 20  # a hex digit inside the ECDSA signature, near its end
    flipped = b"1" if signed[at : at + 1] != b"1" else b"2"
    tampered = signed[:at] + flipped + signed[at + 1 :]
    result = _verify(tampered, ca, method)
    assert not result.ok
    assert "integrity" in result.categories, result.problems

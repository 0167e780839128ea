"""The government CA mock: issuing, CSR checks, revocation, CRL, persistence."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mocks.ca.errors import AlreadyRevoked, CAError, UnknownCertificate
from mocks.ca.models import DOCUMENT_SIGNING_EKU, CertificationAuthority

NOW = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca() -> CertificationAuthority:
    return CertificationAuthority.create(NOW - timedelta(days=30))


def _csr(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> x509.CertificateSigningRequest:
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Trần Thị Bình")]))
        .sign(key, hashes.SHA256())
    )


def _pem(csr: x509.CertificateSigningRequest) -> str:
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def test_root_is_a_self_signed_p256_ca(ca: CertificationAuthority) -> None:
    root = x509.load_pem_x509_certificate(ca.root_pem().encode())
    assert root.subject == root.issuer
    assert "Cutover Mock Government Root CA" in root.subject.rfc4514_string()
    root.verify_directly_issued_by(root)
    assert isinstance(root.public_key(), ec.EllipticCurvePublicKey)
    assert root.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert root.not_valid_after_utc - root.not_valid_before_utc > timedelta(days=3650)


def test_issue_with_generated_key(ca: CertificationAuthority) -> None:
    issued = ca.issue_officer_certificate("01", "Nguyễn Văn An", "001085012345", now=NOW)
    cert = issued.certificate()
    key = issued.private_key()
    assert key is not None
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]
    cert.verify_directly_issued_by(ca.root_certificate())
    assert cert.subject.get_attributes_for_oid(NameOID.STATE_OR_PROVINCE_NAME)[0].value == "01"
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Nguyễn Văn An"
    assert "01" in str(cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value)
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.content_commitment
    assert not ku.value.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert DOCUMENT_SIGNING_EKU in eku and ExtendedKeyUsageOID.SERVER_AUTH not in eku
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.not_valid_before_utc == NOW
    assert [c.subject for c in ca.chain_for(cert)] == [ca.root_certificate().subject]
    assert ca.get(issued.serial).private_key_pem is None


def test_issue_from_csr_takes_key_but_not_subject(ca: CertificationAuthority) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    issued = ca.issue_officer_certificate("79", "Lê Văn Cường", "079090000001", csr_pem=_pem(_csr(key)), now=NOW)
    cert = issued.certificate()
    assert issued.private_key_pem is None
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Lê Văn Cường"
    assert cert.subject.get_attributes_for_oid(NameOID.STATE_OR_PROVINCE_NAME)[0].value == "79"


def test_csr_with_bad_signature_is_refused(ca: CertificationAuthority) -> None:
    der = bytearray(_csr(ec.generate_private_key(ec.SECP256R1())).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # inside the ECDSA signature value
    bad = x509.load_der_x509_csr(bytes(der))
    with pytest.raises(CAError) as exc:
        ca.issue_officer_certificate("01", "A", "1", csr_pem=_pem(bad), now=NOW)
    assert exc.value.field == "csr_pem.signature"


def test_weak_rsa_key_is_refused_naming_the_field(ca: CertificationAuthority) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(CAError) as exc:
        ca.issue_officer_certificate("01", "A", "1", csr_pem=_pem(_csr(weak)), now=NOW)
    assert exc.value.field == "csr_pem.public_key"
    assert "1024" in exc.value.message


def test_rsa_2048_is_accepted(ca: CertificationAuthority) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issued = ca.issue_officer_certificate("01", "A", "1", csr_pem=_pem(_csr(key)), now=NOW)
    assert isinstance(issued.certificate().public_key(), rsa.RSAPublicKey)


def test_non_ec_rsa_key_is_refused(ca: CertificationAuthority) -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "A")]))
        .sign(ed25519.Ed25519PrivateKey.generate(), None)
    )
    with pytest.raises(CAError) as exc:
        ca.issue_officer_certificate("01", "A", "1", csr_pem=_pem(csr), now=NOW)
    assert exc.value.field == "csr_pem.public_key"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"province_code": ""}, "province_code"),
        ({"province_code": "0 1"}, "province_code"),
        ({"officer_name": "  "}, "officer_name"),
        ({"csr_pem": "not a csr"}, "csr_pem"),
    ],
)
def test_bad_arguments_name_their_field(ca: CertificationAuthority, kwargs: dict[str, str], field: str) -> None:
    args = {"province_code": "01", "officer_name": "A", "officer_id": "1"} | kwargs
    csr = args.pop("csr_pem", None)
    with pytest.raises(CAError) as exc:
        ca.issue_officer_certificate(args["province_code"], args["officer_name"], args["officer_id"], csr_pem=csr, now=NOW)
    assert exc.value.field == field


def test_crl_lists_revoked_serials_only() -> None:
    ca = CertificationAuthority.create(NOW)
    a = ca.issue_officer_certificate("01", "A", "1", now=NOW)
    b = ca.issue_officer_certificate("01", "B", "2", now=NOW)
    ca.revoke(a.serial, "key_compromise", NOW + timedelta(hours=1))
    crl = x509.load_der_x509_crl(ca.crl_der(NOW + timedelta(hours=2)))
    assert crl.is_signature_valid(ca.root_certificate().public_key())  # type: ignore[arg-type]
    assert crl.issuer == ca.root_certificate().subject
    entry = crl.get_revoked_certificate_by_serial_number(a.serial)
    assert entry is not None
    assert entry.revocation_date_utc == NOW + timedelta(hours=1)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    assert crl.get_revoked_certificate_by_serial_number(b.serial) is None
    assert crl.next_update_utc == NOW + timedelta(hours=2) + ca.crl_validity
    second = x509.load_der_x509_crl(ca.crl_der(NOW + timedelta(hours=3)))
    assert (
        second.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        > crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    )


def test_revoke_errors() -> None:
    ca = CertificationAuthority.create(NOW)
    a = ca.issue_officer_certificate("01", "A", "1", now=NOW)
    with pytest.raises(UnknownCertificate) as unknown:
        ca.revoke(12345, "key_compromise", NOW)
    assert unknown.value.field == "serial" and unknown.value.status == 404
    with pytest.raises(CAError) as bad_reason:
        ca.revoke(a.serial, "bored", NOW)
    assert bad_reason.value.field == "reason"
    ca.revoke(a.serial_hex, "keyCompromise", NOW)
    assert ca.is_revoked(a.serial)
    with pytest.raises(AlreadyRevoked):
        ca.revoke(a.serial, "superseded", NOW)


def test_chain_for_refuses_foreign_certificate(ca: CertificationAuthority) -> None:
    rogue = CertificationAuthority.create(NOW)
    other = rogue.issue_officer_certificate("01", "A", "1", now=NOW)
    with pytest.raises(CAError) as exc:
        ca.chain_for(other.certificate_pem)
    assert exc.value.field == "certificate"


def test_state_round_trips_through_json() -> None:
    ca = CertificationAuthority.create(NOW)
    a = ca.issue_officer_certificate("01", "Nguyễn Văn An", "1", now=NOW)
    ca.issue_officer_certificate("02", "B", "2", now=NOW)
    ca.revoke(a.serial, "superseded", NOW)
    state = json.loads(json.dumps(ca.to_state()))
    assert "PRIVATE KEY" not in json.dumps(state["issued"])
    again = CertificationAuthority.from_state(state)
    assert again.root_pem() == ca.root_pem()
    assert again.is_revoked(a.serial)
    assert again.get(a.serial).certificate_pem == a.certificate_pem
    assert len(again.issued()) == 2
    # The rebuilt CA signs with the same root key.
    again.crl_der(NOW)
    c = again.issue_officer_certificate("03", "C", "3", now=NOW)
    c.certificate().verify_directly_issued_by(ca.root_certificate())
    again.reset()
    assert again.issued() == [] and not again.is_revoked(a.serial)
    assert again.root_pem() == ca.root_pem()

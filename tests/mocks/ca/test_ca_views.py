"""The CA over HTTP: issue (generated and from a CSR), publish root and CRL, revoke; state persists."""

from __future__ import annotations

import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cutover.stack import Stack


@pytest.fixture
def stack(database_url, tmp_path):
    s = Stack(["ca"], database_url=database_url, workdir=str(tmp_path))
    yield s
    s.close()


def _post(stack, path, body, admin=True):
    headers = {"X-Admin-Token": stack.admin_token} if admin else {}
    return stack.session().post(f"{stack.urls['ca']}{path}", json=body, headers=headers)


def test_issue_generated_and_revoke_shows_in_crl(stack):
    r = _post(stack, "/api/certificates", {"province_code": "31", "officer_name": "Trần Thị Bình",
                                           "officer_id": "031095001234"})
    assert r.status_code == 201, r.text
    issued = r.json()
    cert = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
    root = x509.load_pem_x509_certificate(stack.session().get(f"{stack.urls['ca']}/ca/root.pem").content)
    cert.verify_directly_issued_by(root)
    assert "private_key_pem" in issued
    assert "PRIVATE KEY" not in json.dumps(stack.admin("ca").journal())  # redacted in the journal
    serial = issued["serial"]
    assert _post(stack, f"/api/certificates/{serial}/revoke", {"reason": "key_compromise"}).status_code == 200
    crl = x509.load_der_x509_crl(stack.session().get(f"{stack.urls['ca']}/ca/crl").content)
    assert crl.is_signature_valid(root.public_key())
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    r = _post(stack, f"/api/certificates/{serial}/revoke", {"reason": "key_compromise"})
    assert r.status_code == 409


def test_issue_from_csr_and_refusals(stack):
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Officer")]))
           .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
    r = _post(stack, "/api/certificates", {"province_code": "31", "officer_name": "A", "officer_id": "1",
                                           "csr_pem": csr})
    assert r.status_code == 201 and "private_key_pem" not in r.json()
    r = _post(stack, "/api/certificates", {"province_code": "31", "officer_name": "A", "officer_id": "1",
                                           "csr_pem": "garbage"})
    assert r.status_code == 400 and r.json()["error"]["field"].startswith("csr_pem")
    r = _post(stack, "/api/certificates", {"province_code": "31", "officer_name": "", "officer_id": "1"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "officer_name"
    r = _post(stack, "/api/certificates", {"province_code": "31", "officer_name": "A", "officer_id": "1"},
              admin=False)
    assert r.status_code == 401
    assert stack.session().get(f"{stack.urls['ca']}/api/certificates/ffff").status_code == 404


def test_state_survives_restart(database_url, tmp_path):
    first = Stack(["ca"], database_url=database_url, workdir=str(tmp_path))
    root1 = first.session().get(f"{first.urls['ca']}/ca/root.pem").content
    serial = _post(first, "/api/certificates", {"province_code": "01", "officer_name": "B",
                                                "officer_id": "2"}).json()["serial"]
    first.close()
    second = Stack(["ca"], database_url=database_url, workdir=str(tmp_path))
    try:
        assert second.session().get(f"{second.urls['ca']}/ca/root.pem").content == root1
        assert second.session().get(f"{second.urls['ca']}/api/certificates/{serial}").status_code == 200
    finally:
        second.close()

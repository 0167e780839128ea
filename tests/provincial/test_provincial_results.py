"""Signed results as the harness meets them: fetched from the URL the portal lists, checked by
code that is not the province's (pyHanko's validator, and a hand check with `cryptography`),
failing after one byte changes, and failing as revoked once the CA revokes the officer (SIGNED)."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import datetime
from typing import Any

import asn1crypto.tsp  # noqa: F401  (registers signing-certificate-v2 for asn1crypto)
import pytest
from asn1crypto import cms as a_cms
from asn1crypto import crl as a_crl
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from clients.driver import HttpSUT
from cutover.flows.sso import portal_citizen_login
from cutover.flows.submit import submit_dossier
from cutover.reference import PROVINCIAL_URL, reference_stack
from protocols.signed_result import verify_result_pdf
from refdata.units import registry

PROVINCE = "31"
UNIT = registry().units(PROVINCE)[7]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One dossier worked to its result; the result as the harness fetched it from the portal's link."""
    stack = reference_stack([PROVINCE], workdir=str(tmp_path_factory.mktemp("results")))
    http = stack.session()
    sut = HttpSUT(PROVINCIAL_URL, stack.sut_token, http)
    tokens = portal_citizen_login(http, stack.urls["portal"], stack.admin("portal").get("/portal/client"),
                                  f"citizen:{UNIT.code}:0")
    portal_code = submit_dossier(http, stack.urls["portal"], tokens.access_token, procedure="2.000815",
                                 ward=UNIT.code)
    stack.tick()
    [dossier] = sut.dossiers(portal_code=portal_code)
    code = dossier["code"]
    for action in ("receive", "process", "finish", "return"):
        sut.act(code, action)
    stack.tick()
    [portal] = [d for d in stack.backend("portal").dossiers(tenant=PROVINCE) if d["MaHoSo"] == code]
    [listed] = portal["DanhSachGiayToKetQua"]
    resp = http.get(listed["DuongDanTepTinKetQua"])
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/pdf"
    root = x509.load_pem_x509_certificate(http.get(f"{stack.urls['ca']}/ca/root.pem").content)
    yield {"stack": stack, "http": http, "code": code, "pdf": resp.content, "root": root, "sut": sut}
    stack.close()


def _crl(w: dict[str, Any]) -> bytes:
    resp = w["http"].get(f"{w['stack'].urls['ca']}/ca/crl")
    assert resp.status_code == 200
    return bytes(resp.content)


def _now(w: dict[str, Any]) -> datetime:
    now: datetime = w["stack"].apps["ca"].extensions["cutover"].clock.now()
    return now


def flip_one_byte(pdf: bytes) -> bytes:
    at = pdf.index(b"stream") + 40  # inside the first revision's page content, covered by the signature
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]


# -- the independent checks ---------------------------------------------------------------------


def pyhanko_status(pdf: bytes, root: x509.Certificate, crl: bytes, now: datetime) -> Any:
    """pyHanko's own validator, with revocation from the CA's CRL required."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    trust = a_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    reader = PdfFileReader(io.BytesIO(pdf))
    (sig,) = reader.embedded_signatures
    vc = ValidationContext(trust_roots=[trust], crls=[a_crl.CertificateList.load(crl)], allow_fetching=False,
                           revocation_mode="require", moment=now)
    return validate_pdf_signature(sig, vc)


def hand_check(pdf: bytes, root: x509.Certificate, crl_der: bytes) -> dict[str, Any]:
    """The signature checked step by step with `cryptography`: digest, signature, chain, CRL."""
    m = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert m is not None, "no /ByteRange: not signed"
    a0, a1, b0, b1 = map(int, m.groups())
    hole = pdf[a1:b0]
    info = a_cms.ContentInfo.load(bytes.fromhex(hole[1:-1].decode()), strict=False)
    signed_data = info["content"]
    signer = signed_data["signer_infos"][0]
    attrs = {a["type"].native: a["values"][0] for a in signer["signed_attrs"]}
    digest_ok = attrs["message_digest"].native == hashlib.sha256(pdf[a0:a1] + pdf[b0 : b0 + b1]).digest()
    covers_all = a0 == 0 and b0 + b1 == len(pdf)
    certs = [x509.load_der_x509_certificate(c.chosen.dump()) for c in signed_data["certificates"]]
    sid = signer["sid"].chosen
    officer = next(c for c in certs if c.serial_number == sid["serial_number"].native)
    public_key = officer.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    try:
        public_key.verify(signer["signature"].native, signer["signed_attrs"].untag().dump(force=True),
                          ec.ECDSA(hashes.SHA256()))
        signature_ok = True
    except Exception:  # noqa: BLE001 - InvalidSignature, or a malformed one: not valid either way
        signature_ok = False
    try:
        officer.verify_directly_issued_by(root)
        chain_ok = True
    except Exception:  # noqa: BLE001
        chain_ok = False
    crl = x509.load_der_x509_crl(crl_der)
    assert crl.is_signature_valid(root.public_key())  # type: ignore[arg-type]
    revoked = crl.get_revoked_certificate_by_serial_number(officer.serial_number) is not None
    code = re.search(rb"/MaHoSo\s*\(([^)]*)\)", pdf)
    return {"digest": digest_ok and covers_all, "signature": signature_ok, "chain": chain_ok, "revoked": revoked,
            "officer": officer, "dossier_code": code.group(1).decode() if code else None}


# -- the tests ----------------------------------------------------------------------------------


def test_listed_result_validates_independently(world: dict[str, Any]) -> None:
    pdf, root, crl = world["pdf"], world["root"], _crl(world)
    status = pyhanko_status(pdf, root, crl, _now(world))
    assert status.intact and status.valid and status.trusted and not status.revoked
    hand = hand_check(pdf, root, crl)
    assert hand["digest"] and hand["signature"] and hand["chain"] and not hand["revoked"]
    assert hand["dossier_code"] == world["code"]
    assert hashlib.sha256(pdf).hexdigest() == world["sut"].dossier(world["code"])["result"]["sha256"]
    # and the harness's own verifier agrees
    verdict = verify_result_pdf(pdf, trust_roots=[root], crl=crl, expected_dossier_code=world["code"], now=_now(world))
    assert verdict.ok, verdict.problems


def test_one_changed_byte_fails(world: dict[str, Any]) -> None:
    tampered = flip_one_byte(world["pdf"])
    assert len(tampered) == len(world["pdf"]) and tampered != world["pdf"]
    root, crl = world["root"], _crl(world)
    status = pyhanko_status(tampered, root, crl, _now(world))
    assert not status.intact and not status.bottom_line
    hand = hand_check(tampered, root, crl)
    assert not hand["digest"] and hand["signature"]  # the signature is fine; it just signs other bytes
    verdict = verify_result_pdf(tampered, trust_roots=[root], crl=crl, expected_dossier_code=world["code"],
                                now=_now(world))
    assert not verdict.ok and "integrity" in verdict.categories


def test_revoked_officer_certificate_fails(world: dict[str, Any]) -> None:
    """Runs last in this module: it revokes the province's officer certificate."""
    pdf, root = world["pdf"], world["root"]
    officer = hand_check(pdf, root, _crl(world))["officer"]
    ca = world["stack"].admin("ca")
    resp = world["http"].post(f"{world['stack'].urls['ca']}/api/certificates/{officer.serial_number:X}/revoke",
                              json={"reason": "key_compromise"}, headers={"X-Admin-Token": ca.token})
    assert resp.status_code == 200, resp.text
    world["stack"].admin("ca").advance(60)
    crl = _crl(world)
    hand = hand_check(pdf, root, crl)
    assert hand["revoked"] and hand["digest"] and hand["signature"] and hand["chain"]
    status = pyhanko_status(pdf, root, crl, _now(world))
    assert status.intact and status.revoked and not status.bottom_line
    verdict = verify_result_pdf(pdf, trust_roots=[root], crl=crl, expected_dossier_code=world["code"], now=_now(world))
    assert not verdict.ok and "revoked" in verdict.categories, verdict.problems

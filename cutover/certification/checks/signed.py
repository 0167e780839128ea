"""SIGNED: every result is digitally signed and belongs to its own dossier (features/signed.feature)."""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography import x509

from protocols.signed_result import verify_result_pdf

from ..journey import run_province_journeys
from ..registry import requirement
from ..session import CertSession
from .base import Verdicts, forget_portal_dossiers, portal_dossier, session_now


@requirement("SIGNED-1", scope="commune",
             title="each result on the portal is signed by a CA certificate issued to the province, intact, and "
                   "names its own dossier")
def results_signed(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SIGNED-1", province)
    http = session.http()
    root = x509.load_pem_x509_certificate(http.get(f"{session.urls['ca']}/ca/root.pem", timeout=30).content)
    crl = http.get(f"{session.urls['ca']}/ca/crl", timeout=30).content
    forget_portal_dossiers(session, province)
    for j in run_province_journeys(session, province).values():
        portal = portal_dossier(session, province, j.sut_code) if j.sut_code else None
        docs = (portal or {}).get("DanhSachGiayToKetQua") or []
        if not docs:
            v.judge(False, f"dossier {j.sut_code} has no result listed on the portal", commune=j.unit.code)
            continue
        url = docs[0]["DuongDanTepTinKetQua"]
        resp = http.get(url, timeout=30)
        verdict = verify_result_pdf(resp.content, trust_roots=[root], crl=crl, expected_dossier_code=j.sut_code,
                                    now=session_now(session), method="fast")
        problems = list(verdict.problems) + stated_result_problems(session.sut.dossier(j.sut_code), url, resp.content)
        problems += reissued_problems(j.issued, resp.content)
        problems += signer_province_problems(session, province, verdict.signer_serial)
        v.judge(not problems, f"result of {j.sut_code} at {url}: {'; '.join(problems)}", commune=j.unit.code,
                url=url)
    return v.failures


def stated_result_problems(dossier: dict[str, Any], url: str, served: bytes) -> list[str]:
    """Records, not statuses: the result the system states for the dossier (driver: `result` of
    `GET /cert/v1/dossiers/{code}`) is the one it serves at the URL the portal lists, and signed."""
    stated = dossier.get("result")
    if not isinstance(stated, dict):
        return [f"the system states no result for the dossier ({stated!r}), yet the portal lists {url}"]
    digest = hashlib.sha256(served).hexdigest()
    problems = []
    if stated.get("url") != url:
        problems.append(f"the system states its result at {stated.get('url')}, the portal lists {url}")
    if stated.get("sha256") != digest:
        problems.append(f"the system states the result's SHA-256 as {stated.get('sha256')}, the file served is {digest}")
    if stated.get("signed") is not True:
        problems.append(f"the system states the result as signed={stated.get('signed')!r}")
    return problems


def reissued_problems(issued: dict[str, Any] | None, served: bytes) -> list[str]:
    """A signed result is final once issued: the file served after the result was returned is the one the
    system stated when the officer finished the dossier (`result.sha256` of the `finish` action's answer),
    not one rendered and signed again later. Nothing to compare when that answer stated no result (the
    other problems say so)."""
    stated = (issued or {}).get("sha256")
    if not isinstance(stated, str):
        return []
    digest = hashlib.sha256(served).hexdigest()
    if digest == stated:
        return []
    return [f"the result served after it was returned (SHA-256 {digest}) is not the one the system issued when "
            f"the officer finished the dossier (SHA-256 {stated}): a signed result must not change once issued"]


def signer_province_problems(session: CertSession, province: str, serial: int | None) -> list[str]:
    """The certificate that signed the result is one the CA issued to an officer of `province` (the CA's
    own record of it, `GET /api/certificates/{serial}`), not another province's officer's."""
    if serial is None:
        return []  # no signer: the verification's own problems say so
    resp = session.http().get(f"{session.urls['ca']}/api/certificates/{serial:X}", timeout=30)
    if resp.status_code != 200:
        return [f"the CA has no record of the signing certificate {serial:X} (HTTP {resp.status_code})"]
    issued = resp.json()
    if not isinstance(issued, dict) or issued.get("province_code") != province:
        held = issued.get("province_code") if isinstance(issued, dict) else None
        return [f"the result is signed with certificate {serial:X}, which the CA issued to province {held!r} "
                f"(officer {issued.get('officer_name') if isinstance(issued, dict) else None!r}), not to "
                f"province {province}"]
    return []

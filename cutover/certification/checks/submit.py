"""SUBMIT: an online dossier submitted on the national portal for each commune reaches the
province and is acknowledged (features/submit.feature)."""

from __future__ import annotations

from ..journey import run_province_journeys
from ..registry import requirement
from ..session import CertSession
from .base import Verdicts


@requirement("SUBMIT-1", scope="commune",
             title="each commune's online dossier reaches the province and is acknowledged with its own code")
def submissions_acknowledged(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SUBMIT-1", province)
    subs = {s["MaHoSoQG"]: s for s in session.admins["portal"].get("/portal/submissions", tenant=province)["submissions"]}
    for j in run_province_journeys(session, province).values():
        if not j.portal_code:
            v.judge(False, f"the portal refused the submission: {j.errors.get('submit')}", commune=j.unit.code)
            continue
        sub = subs.get(j.portal_code, {})
        ok = sub.get("TrangThai") == "acknowledged" and bool(sub.get("MaHoSo")) and sub.get("MaHoSo") == j.sut_code
        v.judge(ok, f"dossier {j.portal_code}: forwarding {sub.get('TrangThai')}, province code {sub.get('MaHoSo')}, "
                    f"system under test shows {j.sut_code or j.errors.get('process')}",
                commune=j.unit.code, portal_code=j.portal_code, code=j.sut_code)
    return v.failures

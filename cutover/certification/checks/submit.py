"""SUBMIT: an online dossier submitted on the national portal for each commune reaches the
province and is acknowledged; the forward channel refuses every wrong forward
(features/submit.feature)."""

from __future__ import annotations

from ..journey import JOURNEY_PROCEDURE, run_province_journeys
from ..registry import requirement
from ..session import CertSession
from .base import Verdicts
from .forwards import Channel, forwards_of, hostile_matrix, record_problems

DOSSIERS = Channel("dossier", JOURNEY_PROCEDURE, hint=lambda unit: f"citizen:{unit.code}:5",
                   agency=lambda unit: unit.agency_code)


@requirement("SUBMIT-1", scope="commune",
             title="each commune's online dossier reaches the province and is acknowledged with its own code")
def submissions_acknowledged(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SUBMIT-1", province)
    subs = {s["MaHoSoQG"]: s for s in session.admins["portal"].get("/portal/submissions", tenant=province)["submissions"]}
    forwards = forwards_of(session, province)
    for j in run_province_journeys(session, province).values():
        if not j.portal_code:
            v.judge(False, f"the portal refused the submission: {j.errors.get('submit')}", commune=j.unit.code)
            continue
        sub = subs.get(j.portal_code, {})
        problems = []
        if not (sub.get("TrangThai") == "acknowledged" and sub.get("MaHoSo") and sub.get("MaHoSo") == j.sut_code):
            problems.append(f"dossier {j.portal_code}: forwarding {sub.get('TrangThai')}, province code "
                            f"{sub.get('MaHoSo')}, system under test shows {j.sut_code or j.errors.get('process')}")
        forward = forwards.get(j.portal_code)
        if j.sut_code:  # what the portal forwarded (its submission record, if the outbox no longer holds it)
            sent = forward.payload if forward is not None else sub
            problems += [f"the system's dossier {j.sut_code}: {p}" for p in
                         record_problems(session.sut.dossier(j.sut_code), sent, j.unit.agency_code, DOSSIERS.kind)]
        v.findings(problems, commune=j.unit.code, portal_code=j.portal_code, code=j.sut_code)
    return v.failures


@requirement("SUBMIT-2", scope="province",
             title="a forward that is unsigned, forged, altered, replayed, repeated or for another province "
                   "changes nothing")
def hostile_forwards_change_nothing(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SUBMIT-2", province)
    v.findings(hostile_matrix(session, province, DOSSIERS))
    return v.failures

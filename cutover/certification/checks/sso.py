"""SSO: citizens and officers log in through national SSO; broken tokens are refused
(features/sso.feature)."""

from __future__ import annotations

from cutover.flows.sso import login_at_relying_party

from ..journey import run_province_journeys
from ..registry import requirement
from ..session import CertSession
from .base import Verdicts

HOSTILE_MODES = ("bad_signature", "alg_none", "wrong_aud", "wrong_nonce", "missing_nonce", "expired",
                 "issued_in_future")


@requirement("SSO-1", scope="commune", title="a citizen and an officer of each commune log in through national SSO")
def sso_logins(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SSO-1", province)
    for j in run_province_journeys(session, province).values():
        c, o = j.citizen_login, j.officer_login
        ok = (c is not None and o is not None and c.get("role") == "citizen" and o.get("role") == "officer"
              and bool(c.get("user", {}).get("SoDinhDanh")))
        v.judge(ok, f"citizen login: {j.errors.get('citizen_login') or (c and c.get('role'))}; "
                    f"officer login: {j.errors.get('officer_login') or (o and o.get('role'))}", commune=j.unit.code)
    return v.failures


@requirement("SSO-2", scope="province", title="ID tokens broken in each known way are refused")
def hostile_tokens_refused(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SSO-2", province)
    info = session.describe_province(province)
    ward = session.units_of(province)[0].code
    portal = session.admins["portal"]
    problems = []
    try:
        for mode in HOSTILE_MODES:
            portal.post("/sso/hostile", {"tenant": province, "mode": mode, "count": 1})
            resp = login_at_relying_party(session.http(), info["login_url"], f"citizen:{ward}:1")
            accepted = False
            if resp.status_code == 200:
                try:
                    sid = resp.json().get("session")
                except ValueError:
                    sid = None
                accepted = bool(sid and session.sut.session(sid))
            if accepted:
                problems.append(f"an ID token with {mode} was accepted: the system logged the user in")
    finally:
        portal._call("DELETE", "/sso/hostile", params={"tenant": province})
    v.findings(problems, modes=list(HOSTILE_MODES))
    return v.failures

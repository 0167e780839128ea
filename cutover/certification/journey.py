"""The citizen's journey, for every selected commune of a province, done in phases.

Log in (citizen and officer) at the system under test through national SSO; submit online on
the portal; the officers receive, process and request the fee; the citizen pays on the hosted
page; the officers finish with a signed result and return it. Each phase runs for all communes
before the next, with one settling of background work in between, so a province of 168
communes costs three settlings, not five hundred. What happened to each commune is kept for the
checks to judge; the journey itself judges nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cutover.flows.pay import pay
from cutover.flows.sso import login_at_relying_party, portal_citizen_login
from cutover.flows.submit import submit_dossier
from cutover.units import Unit

from .session import CertSession

JOURNEY_PROCEDURE = "2.000815"  # chứng thực bản sao từ bản chính: a commune procedure with a national fee
PAY_BANK = "VCB"


@dataclass
class Journey:
    unit: Unit
    citizen_login: dict[str, Any] | None = None
    officer_login: dict[str, Any] | None = None
    portal_citizen: dict[str, Any] | None = None
    portal_code: str | None = None
    sut_code: str | None = None
    payment: dict[str, Any] | None = None
    steps: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def fail(self, stage: str, err: Exception | str) -> None:
        self.errors[stage] = str(err)[:500]

    def ok(self, stage: str) -> bool:
        return stage not in self.errors


def _login(session: CertSession, login_url: str, hint: str) -> dict[str, Any]:
    resp = login_at_relying_party(session.http(), login_url, hint)
    if resp.status_code != 200:
        raise RuntimeError(f"login at the system under test ended with HTTP {resp.status_code}: {resp.text[:200]}")
    try:
        body: dict[str, Any] = resp.json()
    except ValueError:
        raise RuntimeError("the system under test's login did not answer JSON after the callback") from None
    sid = body.get("session")
    seen = session.sut.session(sid) if sid else None
    if not seen:
        raise RuntimeError("the system under test does not confirm the session it created")
    return {"session": sid, "role": seen.get("role"), "user": seen.get("user", {})}


def run_province_journeys(session: CertSession, province: str) -> dict[str, Journey]:
    key = f"journeys:{province}"
    if key in session.cache:
        journeys: dict[str, Journey] = session.cache[key]
        return journeys
    info = session.describe_province(province)
    journeys = {u.code: Journey(u) for u in session.units_of(province)}
    portal_client = session.admins["portal"].get("/portal/client")
    http = session.http()
    for j in journeys.values():
        ward = j.unit.code
        try:
            j.citizen_login = _login(session, info["login_url"], f"citizen:{ward}:0")
        except Exception as err:  # noqa: BLE001 - every failure is evidence for the checks
            j.fail("citizen_login", err)
        try:
            j.officer_login = _login(session, info["login_url"], f"officer:{ward}:0")
        except Exception as err:  # noqa: BLE001
            j.fail("officer_login", err)
        try:
            tokens = portal_citizen_login(http, session.urls["portal"], portal_client, f"citizen:{ward}:0")
            j.portal_citizen = tokens.claims
            j.portal_code = submit_dossier(http, session.urls["portal"], tokens.access_token,
                                           procedure=JOURNEY_PROCEDURE, ward=ward,
                                           summary=f"Chứng thực bản sao - {j.unit.name}",
                                           form={"SoBanSao": 1, "GhiChu": "cutover certification"})
        except Exception as err:  # noqa: BLE001
            j.fail("submit", err)
    session.settle()
    for j in journeys.values():
        if not j.portal_code:
            continue
        try:
            found = session.sut.dossiers(portal_code=j.portal_code)
            if not found:
                raise RuntimeError(f"the system under test has no dossier for portal code {j.portal_code}")
            j.sut_code = found[0]["code"]
            for action in ("receive", "process"):
                session.sut.act(j.sut_code, action)
                j.steps.append(action)
        except Exception as err:  # noqa: BLE001
            j.fail("process", err)
            continue
        try:  # a payment that fails is PAY's to judge; the dossier still goes on to its result
            fee = session.sut.act(j.sut_code, "request_fee")
            j.steps.append("request_fee")
            j.payment = dict(fee.get("payment") or {})
            pay(http, j.payment["pay_url"], bank=PAY_BANK)
            j.steps.append("paid")
        except Exception as err:  # noqa: BLE001
            j.fail("payment", err)
    session.settle()
    for j in journeys.values():
        if not j.sut_code or not j.ok("process"):
            continue
        try:
            for action in ("finish", "return"):
                session.sut.act(j.sut_code, action)
                j.steps.append(action)
        except Exception as err:  # noqa: BLE001
            j.fail("finish", err)
    session.settle()
    session.cache[key] = journeys
    return journeys

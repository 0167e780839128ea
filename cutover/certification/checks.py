"""The checks of DESIGN §5. Each judges one province (and its selected communes), records an
outcome per province or per commune, and returns the failures for the Gherkin step to assert on.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from cryptography import x509

from cutover.flows.docaxis import AxisSession, document, send_document
from cutover.flows.pay import pay
from cutover.flows.sso import login_at_relying_party, portal_citizen_login
from cutover.flows.submit import submission_status, submit_dossier
from cutover.units import registry
from mocks.core.clock import VN_TZ
from mocks.core.outbox import error_code_is_zero
from protocols import payment as payproto
from protocols.edxml import Organization, parse_edoc
from protocols.errors import ProtocolError
from protocols.signed_result import verify_result_pdf

from .journey import JOURNEY_PROCEDURE, Journey, run_province_journeys
from .results import Outcome
from .session import CertSession

HOSTILE_MODES = ("bad_signature", "alg_none", "wrong_aud", "wrong_nonce", "missing_nonce", "expired",
                 "issued_in_future")
PROMOTION_PROCEDURE = "2.001474"


class Verdicts:
    """Collects one scenario's outcomes and records them in the run."""

    def __init__(self, session: CertSession, check: str, scenario: str, province: str) -> None:
        self.session, self.check, self.scenario, self.province = session, check, scenario, province
        self.failures: list[str] = []

    def judge(self, ok: bool, message: str, commune: str | None = None, **evidence: Any) -> bool:
        self.session.results.record(Outcome(self.check, self.scenario, self.province, commune,
                                            "passed" if ok else "failed", message if not ok else "", evidence))
        if not ok:
            self.failures.append(f"{commune or self.province}: {message}")
        return ok


def collapse(statuses: list[int]) -> list[int]:
    out: list[int] = []
    for s in statuses:
        if not out or out[-1] != s:
            out.append(s)
    return out


# --- UNITS ---------------------------------------------------------------------------------------

def units_declared(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "UNITS", "UNITS-1", province)
    declared = {a["MaCoQuan"]: a for a in session.admins["portal"].get("/portal/agencies", tenant=province)["agencies"]}
    missing, wrong = [], []
    for unit in registry().units(province):
        got = declared.get(unit.agency_code)
        if got is None:
            missing.append(unit)
        elif got.get("MaDonViHanhChinh") != unit.code:
            wrong.append((unit, got))
    for unit in missing:
        v.judge(False, f"{unit.name} ({unit.code}, agency {unit.agency_code}) is not declared in the national "
                       "catalogue", commune=unit.code)
    for unit, got in wrong:
        v.judge(False, f"{unit.agency_code} is declared for unit {got.get('MaDonViHanhChinh')}, not {unit.code} "
                       f"({unit.name})", commune=unit.code)
    selected = {u.code for u in session.units_of(province)}
    bad = {u.code for u in missing} | {u.code for u, _ in wrong}
    for code in sorted(selected - bad):
        v.judge(True, "", commune=code)
    v.judge(not bad, f"{len(bad)} of {len(registry().units(province))} units not declared correctly",
            declared=len(declared))
    return v.failures


# --- IFACE ---------------------------------------------------------------------------------------

def interface_closed(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "IFACE", "IFACE-1", province)
    info = session.describe_province(province)
    portal = session.urls["portal"]
    http = session.http()
    for url in info.get("citizen_urls", []):
        resp = http.get(url, allow_redirects=False, timeout=30)
        location = resp.headers.get("Location", "")
        closed = resp.status_code in (301, 302, 303, 307, 308) and location.startswith(portal)
        v.judge(closed, f"{url} answers HTTP {resp.status_code}" + (f" to {location}" if location else "")
                + "; it must redirect to the national portal", url=url, status=resp.status_code)
    if not info.get("citizen_urls"):
        v.judge(False, "the system lists no old citizen URLs to check (describe: citizen_urls)")
    return v.failures


# --- SSO -----------------------------------------------------------------------------------------

def sso_logins(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SSO", "SSO-1", province)
    for j in run_province_journeys(session, province).values():
        c, o = j.citizen_login, j.officer_login
        ok = (c is not None and o is not None and c.get("role") == "citizen" and o.get("role") == "officer"
              and bool(c.get("user", {}).get("SoDinhDanh")))
        v.judge(ok, f"citizen login: {j.errors.get('citizen_login') or (c and c.get('role'))}; "
                    f"officer login: {j.errors.get('officer_login') or (o and o.get('role'))}", commune=j.unit.code)
    return v.failures


def hostile_tokens_refused(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SSO", "SSO-2", province)
    info = session.describe_province(province)
    ward = session.units_of(province)[0].code
    portal = session.admins["portal"]
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
        v.judge(not accepted, f"an ID token with {mode} was accepted: the system logged the user in",
                mode=mode, status=resp.status_code)
    portal._call("DELETE", "/sso/hostile", params={"tenant": province})
    return v.failures


# --- SUBMIT --------------------------------------------------------------------------------------

def submissions_acknowledged(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SUBMIT", "SUBMIT-1", province)
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


# --- SYNC ----------------------------------------------------------------------------------------

def _portal_dossier(session: CertSession, province: str, code: str) -> dict[str, Any] | None:
    key = f"portal_dossiers:{province}"
    if key not in session.cache:
        found = session.admins["portal"].get("/portal/dossiers", tenant=province)["dossiers"]
        session.cache[key] = {d["MaHoSo"]: d for d in found}
    cached: dict[str, Any] | None = session.cache[key].get(code)
    return cached


def compare_histories(portal: dict[str, Any] | None, mine: dict[str, Any]) -> str | None:
    """None when the portal holds the dossier's whole history exactly as the province does."""
    if portal is None:
        return "the portal has no such dossier"
    ours = [h["status"] for h in mine["history"]]
    theirs = collapse([h["TrangThai"] for h in portal["LichSu"]])
    if portal["TrangThaiHoSo"] != mine["status"]:
        return f"status on the portal {portal['TrangThaiHoSo']}, in the province {mine['status']}"
    if theirs != ours:
        return f"transitions on the portal {theirs}, in the province {ours}"
    progress = [(h["TrangThai"], h["ThoiDiem"]) for h in portal["LichSu"] if h["DichVu"] == "CapNhatTienDoHoSoMC"]
    expected = [(h["status"], h["at"]) for h in mine["history"]]
    if progress != expected:
        return f"progress entries on the portal {progress} differ from the province's {expected}"
    return None


def histories_reconcile(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SYNC", "SYNC-1", province)
    session.cache.pop(f"portal_dossiers:{province}", None)
    for j in run_province_journeys(session, province).values():
        if not j.sut_code:
            v.judge(False, "no dossier reached the system under test to reconcile", commune=j.unit.code)
            continue
        problem = compare_histories(_portal_dossier(session, province, j.sut_code), session.sut.dossier(j.sut_code))
        v.judge(problem is None, f"dossier {j.sut_code}: {problem}", commune=j.unit.code, code=j.sut_code)
    return v.failures


def outage_loses_nothing(session: CertSession, province: str) -> list[str]:
    """Advance one dossier while the portal's adapter API is down; after it recovers, nothing is missing."""
    v = Verdicts(session, "SYNC", "SYNC-2", province)
    unit = session.units_of(province)[0]
    code = _fresh_dossier(session, province, unit.code, actions=("receive",))
    if code is None:
        v.judge(False, "could not get a dossier to the system under test for the outage test")
        return v.failures
    portal = session.admins["portal"]
    fault = portal.add_fault(action="error", path="/api/integration", status=503, message="portal maintenance")
    try:
        session.sut.act(code, "process")
        session.sut.act(code, "request_supplement")
        session.settle(rounds=3)
    finally:
        portal._call("DELETE", f"/faults/{fault}")
    session.sut.tick(retry_now=True)
    session.settle()
    session.cache.pop(f"portal_dossiers:{province}", None)
    problem = compare_histories(_portal_dossier(session, province, code), session.sut.dossier(code))
    v.judge(problem is None, f"after a portal outage, dossier {code}: {problem}", commune=unit.code, code=code)
    return v.failures


def _fresh_dossier(session: CertSession, province: str, ward: str, *, actions: tuple[str, ...] = (),
                   procedure: str = JOURNEY_PROCEDURE, hint: str | None = None) -> str | None:
    http = session.http()
    tokens = portal_citizen_login(http, session.urls["portal"], session.admins["portal"].get("/portal/client"),
                                  hint or f"citizen:{ward}:2")
    portal_code = submit_dossier(http, session.urls["portal"], tokens.access_token, procedure=procedure, ward=ward)
    session.settle()
    found = session.sut.dossiers(portal_code=portal_code)
    if not found:
        return None
    code: str = found[0]["code"]
    for action in actions:
        session.sut.act(code, action)
    return code


# --- PAY -----------------------------------------------------------------------------------------

def paid_into_commune_accounts(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "PAY", "PAY-1", province)
    pay_admin = session.admins["payment"]
    for j in run_province_journeys(session, province).values():
        if not j.payment or not j.ok("payment"):
            v.judge(False, "no payment was made: "
                    f"{j.errors.get('payment') or j.errors.get('process') or j.errors.get('submit')}",
                    commune=j.unit.code)
            continue
        account = pay_admin.get(f"/payment/accounts/{j.unit.code}")
        txs = pay_admin.get("/payment/transactions", MaThamChieu=j.payment["reference"])["transactions"]
        mine = session.sut.dossier(j.sut_code) if j.sut_code else {}
        paid = [p for p in mine.get("payments", []) if p["reference"] == j.payment["reference"]]
        problems = []
        if len(txs) != 1:
            problems.append(f"{len(txs)} transactions on the platform for reference {j.payment['reference']}")
        elif txs[0]["TKThuHuong"] != account["TKThuHuong"]:
            problems.append(f"paid into {txs[0]['TKThuHuong']}, the commune's account is {account['TKThuHuong']}")
        elif str(txs[0]["TrangThaiGD"]) != "1":
            problems.append(f"the platform says TrangThaiGD {txs[0]['TrangThaiGD']}")
        if not paid or paid[0]["status"] != "paid":
            problems.append(f"the system under test shows the payment as {paid[0]['status'] if paid else 'absent'}")
        if collapse([h["status"] for h in mine.get("history", [])]).count(6) != 1:
            problems.append("the dossier did not go through fees requested (6) exactly once")
        v.judge(not problems, "; ".join(problems), commune=j.unit.code, reference=j.payment["reference"])
    return v.failures


def _pending_payment(session: CertSession, province: str) -> tuple[str, dict[str, Any]] | None:
    unit = session.units_of(province)[0]
    code = _fresh_dossier(session, province, unit.code, actions=("receive", "process"), hint=f"citizen:{unit.code}:3")
    if code is None:
        return None
    fee = session.sut.act(code, "request_fee").get("payment") or {}
    return code, fee


def forged_and_repeated_callbacks_change_nothing(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "PAY", "PAY-2", province)
    info = session.describe_province(province)
    got = None
    try:
        got = _pending_payment(session, province)
    except Exception as err:  # noqa: BLE001
        v.judge(False, f"could not create a pending payment: {err}")
        return v.failures
    if got is None or not got[1].get("reference"):
        v.judge(False, "could not create a pending payment")
        return v.failures
    code, fee = got
    partner = session.admins["payment"].get(f"/payment/partners/{province}")
    http = session.http()
    forged = payproto.build_callback(ma_loi="00", partner=partner["MaDoiTac"], reference=fee["reference"],
                                     amount=int(fee["amount"]), transaction="FORGED000001", bank="VCB",
                                     when=session_now(session), info="forged", secret="not-the-partner-secret")
    before = session.sut.dossier(code)
    resp = http.post(info["payment_callback_url"], json=forged, timeout=30)
    after = session.sut.dossier(code)
    accepted = resp.status_code < 300 and _answer_ok(resp) and after != before
    v.judge(not accepted and after["status"] == 6,
            f"a callback with a wrong MaXacThuc was accepted (HTTP {resp.status_code}); the dossier went from "
            f"{before['status']} to {after['status']}", scenario_case="forged")
    pay(http, fee["pay_url"], bank="VCB")
    session.settle()
    settled = session.sut.dossier(code)
    genuine = [m for m in session.admins["payment"].outbox(kind="payment.callback", tenant=province, order="newest",
                                                           limit="50")
               if json.loads(m["body"]).get("MaThamChieu") == fee["reference"]]
    if not genuine:
        v.judge(False, "the platform sent no callback to replay")
        return v.failures
    resp = http.post(info["payment_callback_url"], data=genuine[0]["body"].encode(),
                     headers={"Content-Type": "application/json"}, timeout=30)
    session.settle()
    replayed = session.sut.dossier(code)
    same = replayed["history"] == settled["history"] and replayed["payments"] == settled["payments"]
    v.judge(_answer_ok(resp) and same, f"replaying the genuine callback: HTTP {resp.status_code}, "
            f"history {len(settled['history'])} -> {len(replayed['history'])} entries", scenario_case="duplicate")
    return v.failures


def _answer_ok(resp: Any) -> bool:
    try:
        return resp.status_code < 300 and error_code_is_zero(resp.json().get("error_code"))
    except ValueError:
        return False


def session_now(session: CertSession) -> datetime:
    return datetime.now(VN_TZ)


# --- PROMO ---------------------------------------------------------------------------------------

def promotions_processed(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "PROMO", "PROMO-1", province)
    unit = session.units_of(province)[0]
    http = session.http()
    tokens = portal_citizen_login(http, session.urls["portal"], session.admins["portal"].get("/portal/client"),
                                  f"business:{unit.code}:0")
    portal_code = submit_dossier(http, session.urls["portal"], tokens.access_token, procedure=PROMOTION_PROCEDURE,
                                 ward=unit.code, summary="Thông báo chương trình khuyến mại")
    session.settle()
    found = session.sut.dossiers(portal_code=portal_code)
    if not found:
        status = submission_status(http, session.urls["portal"], tokens.access_token, portal_code)
        v.judge(False, f"promotion notification {portal_code} was {status.get('TrangThai')} but the system under "
                       "test holds no dossier for it", portal_code=portal_code)
        return v.failures
    code = found[0]["code"]
    try:
        for action in ("receive", "process", "finish", "return"):
            session.sut.act(code, action)
    except Exception as err:  # noqa: BLE001
        v.judge(False, f"the promotion notification {code} could not be processed: {err}")
        return v.failures
    session.settle()
    mine = session.sut.dossier(code)
    status = submission_status(http, session.urls["portal"], tokens.access_token, portal_code)
    dept = registry().province(province).industry_and_trade.code
    ok = (mine["status"] == 10 and mine["agency"] == dept and status.get("TrangThai") == "acknowledged"
          and status.get("MaHoSo") == code)
    v.judge(ok, f"promotion notification {code}: handled by {mine['agency']} (expected the Department of Industry "
                f"and Trade {dept}), status {mine['status']}, forwarding {status.get('TrangThai')}",
            portal_code=portal_code, code=code)
    return v.failures


# --- DOCAXIS -------------------------------------------------------------------------------------

def _ministry_session(session: CertSession) -> tuple[AxisSession, Organization]:
    ministry = registry().ministries()[0]
    system = ministry.code.rsplit(".", 1)[-1]
    secret = session.admins["docaxis"].tenant(system)["secret"]
    return AxisSession(session.urls["docaxis"], system, secret, session.http()), Organization(ministry.code,
                                                                                            ministry.name or "")


def codes_published(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "DOCAXIS", "DOCAXIS-1", province)
    axis, _ = _ministry_session(session)
    published = {a.get("OrganId") for a in axis.agencies()}
    p = registry().province(province)
    wanted = [p.agency_code, *[d.code for d in p.departments]]
    missing = [c for c in wanted if c not in published]
    for unit in registry().units(province):
        if unit.agency_code not in published:
            missing.append(unit.agency_code)
            if unit in session.units_of(province):
                v.judge(False, f"{unit.agency_code} ({unit.name}) is not published on the axis", commune=unit.code)
    v.judge(not missing, f"{len(missing)} agency codes not published on the axis, e.g. {missing[:3]}")
    return v.failures


def documents_acknowledged(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "DOCAXIS", "DOCAXIS-2", province)
    axis, ministry = _ministry_session(session)
    units = session.units_of(province)
    pkg = document(ministry, [Organization(u.agency_code, u.committee_name) for u in units],
                   subject=f"V/v kiểm thử trục liên thông - tỉnh {province}", number=province, notation="VPCP-KSTT",
                   when=date(2025, 6, 28))
    try:
        sent = send_document(axis, pkg)
    except Exception as err:  # noqa: BLE001
        v.judge(False, f"the axis refused the ministry's document: {err}")
        return v.failures
    session.settle()
    history = axis.sent(sent["DocID"])["statusResult"]
    for unit in units:
        codes = [h["statusCode"] for h in history if h["fromCode"] == unit.agency_code]
        v.judge("03" in codes and "06" in codes, f"{unit.agency_code} answered with {codes or 'no status'}; "
                "expected 03 (received) then 06 (done)", commune=unit.code)
    return v.failures


def outgoing_edxml_valid(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "DOCAXIS", "DOCAXIS-3", province)
    axis, ministry = _ministry_session(session)
    sender = registry().province(province).agency_code
    try:
        answer = session.sut.send_document({"from": sender, "to": [ministry.organ_id],
                                            "subject": "Báo cáo kết quả vận hành chính quyền hai cấp"})
    except Exception as err:  # noqa: BLE001
        v.judge(False, f"the system could not send a document on the axis: {err}")
        return v.failures
    session.settle()
    received = [r for r in axis.received("edoc", state="all") if r.get("document") == answer.get("DocID")]
    if not received:
        v.judge(False, f"the ministry received nothing for docId {answer.get('DocID')}")
        return v.failures
    try:
        parse_edoc(axis.fetch(received[0]["id"]))
        v.judge(True, "")
    except ProtocolError as err:
        v.judge(False, f"the package is not valid edXML: {err}")
    return v.failures


# --- SIGNED --------------------------------------------------------------------------------------

def results_signed(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SIGNED", "SIGNED-1", province)
    http = session.http()
    root = x509.load_pem_x509_certificate(http.get(f"{session.urls['ca']}/ca/root.pem", timeout=30).content)
    crl = http.get(f"{session.urls['ca']}/ca/crl", timeout=30).content
    session.cache.pop(f"portal_dossiers:{province}", None)
    for j in run_province_journeys(session, province).values():
        portal = _portal_dossier(session, province, j.sut_code) if j.sut_code else None
        docs = (portal or {}).get("DanhSachGiayToKetQua") or []
        if not docs:
            v.judge(False, f"dossier {j.sut_code} has no result listed on the portal", commune=j.unit.code)
            continue
        url = docs[0]["DuongDanTepTinKetQua"]
        resp = http.get(url, timeout=30)
        verdict = verify_result_pdf(resp.content, trust_roots=[root], crl=crl, expected_dossier_code=j.sut_code,
                                    now=session_now(session), method="fast")
        v.judge(verdict.ok, f"result of {j.sut_code} at {url}: {'; '.join(verdict.problems)}", commune=j.unit.code,
                url=url)
    return v.failures


__all__ = ["Journey"]

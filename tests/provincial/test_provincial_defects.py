"""Every defect switch of the reference system, with and without: what changes on the wire.

Each scenario drives the in-process reference stack the way the certification suite would and
reads the outcome from the mocks' journals and state (the portal's, the payment platform's,
the axis's) or from the provincial system's own journal of inbound calls. The same scenario
runs twice: on a stack with the one switch on (it must show the vendor's mistake) and on a
clean stack shared by the module (it must show the correct behaviour).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from cryptography import x509

from clients.axis import AxisCallFailed, AxisSession, document, send_document, status_packet
from clients.driver import DriverError, HttpSUT
from cutover.certification.checks.forwards import encode, sign
from cutover.flows.pay import pay
from cutover.flows.sso import (
    AuthorizationResponse,
    authorization_response,
    authorize_code,
    deliver,
    login_at_relying_party,
    portal_citizen_login,
    start_login,
)
from cutover.flows.submit import submit_dossier
from cutover.reference import PROVINCIAL_URL, reference_stack
from cutover.stack import Stack
from protocols import payment as proto
from protocols.edxml import EdocPackage, Organization, build_edoc, parse_edoc
from protocols.signed_result import VerificationResult, verify_result_pdf
from provincial.defects import DEFECTS
from refdata.units import Unit, registry

PROVINCE = "31"
OTHER = "12"  # a second hosted province, for the defects that confuse one province's payments with another's
TWO_PROVINCES = {"payments_matched_by_reference_alone", "callback_secret_by_message_partner",
                 "state_any_province", "session_any_province"}
UNITS = registry().units(PROVINCE)
PROCEDURE = "2.000815"  # 2,000 VND
MAGIC_PROCEDURE = "2.000942"  # its fee is overridden to the platform's "duplicate callback" magic amount
DUPLICATE_CALLBACK_AMOUNT = 13000
PROMOTION_PROCEDURE = "2.001474"
CONFIG = {"provincial": {"FEE_OVERRIDES": {MAGIC_PROCEDURE: DUPLICATE_CALLBACK_AMOUNT}}}
FREE_PATH = ("receive", "process", "finish", "return")


class World:
    """One stack, and the harness's view of it."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.http = stack.session()
        self.sut = HttpSUT(PROVINCIAL_URL, stack.sut_token, self.http)
        self.province = next(p for p in self.sut.describe()["provinces"] if p["code"] == PROVINCE)

    def admin(self, name: str) -> Any:
        return self.stack.admin(name)

    def mark(self, service: str) -> int:
        """The id of `service`'s newest journal entry: later entries are this scenario's."""
        entries = self.admin(service).journal_all()
        return int(entries[-1]["id"]) if entries else 0

    def journal(self, service: str, after: int = 0, **query: Any) -> list[dict[str, Any]]:
        return [e for e in self.admin(service).journal_all(**query) if e["id"] > after]

    def submit(self, unit: Unit, procedure: str = PROCEDURE) -> str:
        """A citizen of `unit` submits on the portal; returns the portal's code (MaHoSoQG)."""
        tokens = portal_citizen_login(self.http, self.stack.urls["portal"], self.admin("portal").get("/portal/client"),
                                      f"citizen:{unit.code}:0")
        portal_code = submit_dossier(self.http, self.stack.urls["portal"], tokens.access_token,
                                     procedure=procedure, ward=unit.code)
        self.stack.tick()
        return portal_code

    def dossier(self, unit: Unit, procedure: str = PROCEDURE) -> str:
        """Submitted, forwarded and received: the province's dossier code."""
        [found] = self.sut.dossiers(portal_code=self.submit(unit, procedure))
        return str(found["code"])

    def act(self, code: str, *actions: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for action in actions:
            result = self.sut.act(code, action)
            self.stack.tick()
        return result

    def portal_dossier(self, code: str) -> dict[str, Any] | None:
        found = [d for d in self.stack.backend("portal").dossiers(tenant=PROVINCE) if d["MaHoSo"] == code]
        return found[0] if found else None

    def portal_calls(self, code: str, service: str, after: int = 0) -> list[tuple[dict[str, Any], Any, Any]]:
        """Adapter calls the portal received about dossier `code`: (entry, request JSON, response JSON)."""
        out = []
        for e in self.journal("portal", after, direction="in", path="/api/integration", ma_ho_so=code):
            body = json.loads(e["request_body"])
            if body.get("service") == service:
                out.append((e, body, json.loads(e["response_body"])))
        return out

    def login(self, unit: Unit, hostile: str | None = None) -> requests.Response:
        if hostile:
            self.admin("portal").post("/sso/hostile", {"tenant": PROVINCE, "mode": hostile, "count": 1})
        return login_at_relying_party(self.http, self.province["login_url"], f"citizen:{unit.code}:0")

    def verify_result(self, code: str) -> VerificationResult:
        """Fetch the result the portal lists for `code` and check it independently of the province."""
        portal = self.portal_dossier(code)
        assert portal is not None
        url = portal["DanhSachGiayToKetQua"][0]["DuongDanTepTinKetQua"]
        resp = self.http.get(url)
        assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/pdf"
        ca = self.stack.urls["ca"]
        root = x509.load_pem_x509_certificate(self.http.get(f"{ca}/ca/root.pem").content)
        return verify_result_pdf(resp.content, trust_roots=[root], crl=self.http.get(f"{ca}/ca/crl").content,
                                 expected_dossier_code=code,
                                 now=self.stack.apps["ca"].extensions["cutover"].clock.now())


# -- one scenario per defect: `on` says whether the switch is on --------------------------------

Scenario = Callable[[World, Unit, bool], None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        SCENARIOS[name] = fn
        return fn
    return register


@scenario("undeclared_commune")
def _undeclared_commune(w: World, unit: Unit, on: bool) -> None:
    last = UNITS[-1]
    declared: set[str] = set()
    for e in w.journal("portal", direction="in", path="/api/integration"):
        body = json.loads(e["request_body"])
        if body.get("service") == "KhaiBaoCoQuan":
            assert e["status"] == 200
            declared |= {a["MaCoQuan"] for a in body["data"]}
    assert UNITS[0].agency_code in declared
    assert (last.agency_code in declared) is not on
    published = {a["MaCoQuan"] for a in w.admin("portal").get("/portal/agencies", tenant=PROVINCE)["agencies"]}
    assert (last.agency_code in published) is not on


@scenario("citizen_interface_open")
def _citizen_interface_open(w: World, unit: Unit, on: bool) -> None:
    after = w.mark("provincial")
    url = w.province["citizen_urls"][1]
    resp = w.http.get(url, allow_redirects=False)
    [entry] = w.journal("provincial", after, direction="in", path="/dich-vu-cong/")
    if on:
        assert resp.status_code == 200 and "<form" in resp.text
        assert entry["status"] == 200
    else:
        assert resp.status_code == 301 and resp.headers["Location"].startswith(w.stack.urls["portal"])
        assert entry["status"] == 301


def _hostile_login(mode: str, field: str) -> Scenario:
    def run(w: World, unit: Unit, on: bool) -> None:
        after = {s: w.mark(s) for s in ("portal", "provincial")}
        resp = w.login(unit, hostile=mode)
        # the portal did issue a token: the exchange happened, with the broken ID token in it
        [token_call] = w.journal("portal", after["portal"], direction="in", path="/oauth2/token")
        assert token_call["status"] == 200 and (token_call["keys"] or {}).get("hostile") == mode
        [callback] = w.journal("provincial", after["provincial"], direction="in", path="/sso/callback")
        if on:
            assert resp.status_code == 200, resp.text
            assert callback["status"] == 200
            assert w.sut.session(resp.json()["session"]) is not None
        else:
            assert resp.status_code == 401, resp.text
            assert callback["status"] == 401
            assert field in resp.text
    return run


scenario("skip_signature_check")(_hostile_login("bad_signature", "id_token"))
scenario("ignore_nonce")(_hostile_login("wrong_nonce", "nonce"))
scenario("ignore_aud")(_hostile_login("wrong_aud", "aud"))
scenario("ignore_iss")(_hostile_login("wrong_iss", "iss"))
scenario("ignore_exp")(_hostile_login("expired", "exp"))
scenario("ignore_iat")(_hostile_login("issued_in_future", "iat"))
scenario("nonce_optional")(_hostile_login("missing_nonce", "nonce"))
scenario("alg_none_accepted")(_hostile_login("alg_none", "id_token"))
scenario("hs256_allowed")(_hostile_login("alg_confusion", "id_token"))


Tamper = Callable[[AuthorizationResponse], AuthorizationResponse]


def _start(w: World, unit: Unit, http: requests.Session) -> str:
    """A login started at the system: its authorization request to the portal."""
    return start_login(http, w.province["login_url"], f"citizen:{unit.code}:0",
                       f"{w.stack.urls['portal']}/oauth2/authorize")


def _callback(w: World, unit: Unit, tamper: Tamper) -> requests.Response:
    """A login started at the system and answered by the portal, tampered with, then delivered."""
    http = w.stack.session()
    return deliver(http, tamper(authorization_response(http, _start(w, unit, http))))


def _tampered_callback(tamper: Tamper, field: str, status_on: int = 200) -> Scenario:
    def run(w: World, unit: Unit, on: bool) -> None:
        resp = _callback(w, unit, tamper)
        if on and status_on == 200:
            assert resp.status_code == 200 and w.sut.session(resp.json()["session"]) is not None, resp.text
        else:
            assert resp.status_code == (status_on if on else 401), resp.text
            assert on or field in resp.text
    return run


def _with_params(change: Callable[[dict[str, str]], dict[str, str]]) -> Tamper:
    return lambda answer: AuthorizationResponse(answer.redirect_uri, change(dict(answer.params)))


scenario("ignore_state")(_tampered_callback(_with_params(lambda p: {**p, "state": "never-issued"}), "state"))
scenario("state_optional")(_tampered_callback(_with_params(lambda p: {k: v for k, v in p.items() if k != "state"}),
                                              "state"))
scenario("error_response_crashes")(_tampered_callback(
    _with_params(lambda p: {"error": "access_denied", "state": p["state"], "iss": p["iss"]}), "error", 500))


@scenario("state_reusable")
def _state_reusable(w: World, unit: Unit, on: bool) -> None:
    http = w.stack.session()
    url = _start(w, unit, http)
    assert deliver(http, authorization_response(http, url)).status_code == 200
    replay = deliver(http, authorization_response(http, url))  # a second code, the same state
    assert replay.status_code == (200 if on else 401), replay.text
    assert on or "state" in replay.text


@scenario("token_error_crashes")
def _token_error_crashes(w: World, unit: Unit, on: bool) -> None:
    after = w.mark("portal")
    client = w.admin("portal").get("/portal/client")
    foreign = authorize_code(w.stack.session(), f"{w.stack.urls['portal']}/oauth2/authorize",
                             client_id=client["client_id"], redirect_uri=client["redirect_uris"][0],
                             login_hint=f"citizen:{unit.code}:0", state="s", nonce="n")
    resp = _callback(w, unit, _with_params(lambda p: {**p, "code": foreign}))
    [exchange] = w.journal("portal", after, direction="in", path="/oauth2/token")
    assert exchange["status"] == 400 and "another client" in exchange["response_body"]
    assert resp.status_code == (500 if on else 401), resp.text


@scenario("wrong_token_auth_method")
def _wrong_token_auth_method(w: World, unit: Unit, on: bool) -> None:
    after = w.mark("portal")
    resp = w.login(unit)
    assert resp.status_code == 200 and w.sut.session(resp.json()["session"]) is not None
    exchanges = w.journal("portal", after, direction="in", path="/oauth2/token")
    assert [(e["status"], e["tenant"]) for e in exchanges] == ([(401, PROVINCE)] if on else []) + [(200, PROVINCE)]


@scenario("skip_status_10_sync")
def _skip_status_10_sync(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    w.act(code, *FREE_PATH)
    assert w.sut.dossier(code)["status"] == 10
    synced = [b["data"][0]["TrangThaiHoSo"] for _, b, _ in w.portal_calls(code, "DongBoHoSoMC")]
    progress = [b["data"][0]["TrangThai"] for _, b, _ in w.portal_calls(code, "CapNhatTienDoHoSoMC")]
    portal = w.portal_dossier(code)
    assert portal is not None
    if on:
        assert 10 not in synced and 10 not in progress
        assert portal["TrangThaiHoSo"] == 9
    else:
        assert synced[-1] == 10 and progress[-1] == 10
        assert portal["TrangThaiHoSo"] == 10


@scenario("timestamps_out_of_order")
def _timestamps_out_of_order(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    w.act(code, "receive")
    calls = w.portal_calls(code, "CapNhatTienDoHoSoMC")
    times = [b["data"][0]["ThoiDiemXuLy"] for _, b, _ in calls]
    assert [b["data"][0]["TrangThai"] for _, b, _ in calls] == [1, 2]
    (_, _, first_answer), (second, _, second_answer) = calls
    assert first_answer["error_code"] == 0
    if on:
        assert times[1] < times[0]
        assert second["status"] == 400 and second_answer["field"] == "data[0].ThoiDiemXuLy"
    else:
        assert times[1] >= times[0]
        assert second["status"] == 200 and second_answer["error_code"] == 0


@scenario("no_retry_on_portal_down")
def _no_retry_on_portal_down(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    after = w.mark("portal")
    provincial = w.admin("provincial")
    w.admin("portal").add_fault(action="error", path="/api/integration", status=503)
    try:
        w.act(code, "receive")
        provincial.advance(30)
        w.stack.tick()
    finally:
        w.admin("portal").clear_faults()
    provincial.advance(700)  # past any backoff
    w.stack.tick()
    refused = [e for e in w.journal("portal", after, direction="in", path="/api/integration") if e["status"] == 503]
    mine = [m for m in provincial.outbox(kind="portal_sync") if m["group_key"] == code]
    update = next(m for m in mine if '"isUpdating": "True"' in m["body"])
    portal = w.portal_dossier(code)
    assert portal is not None
    if on:
        assert len(refused) == 2  # the status-2 update and its progress entry, once each
        assert update["status"] == "dead" and update["attempts"] == 1
        assert [b for _, b, _ in w.portal_calls(code, "DongBoHoSoMC", after)] == []
        assert portal["TrangThaiHoSo"] == 1
    else:
        assert len(refused) >= 2  # the update, tried again during the outage
        assert update["status"] == "delivered" and update["attempts"] >= 3
        [(entry, body, _)] = w.portal_calls(code, "DongBoHoSoMC", after)
        assert entry["status"] == 200 and body["data"][0]["TrangThaiHoSo"] == 2
        assert portal["TrangThaiHoSo"] == 2



def _sync_refused_once(w: World, unit: Unit, status: int) -> str:
    """A dossier forwarded while the portal answers its first adapter call with `status` (once), then
    given time to retry: the province's code."""
    w.admin("portal").add_fault(action="error", path="/api/integration", status=status, count=1)
    try:
        code = w.dossier(unit)
        w.stack.tick()
    finally:
        w.admin("portal").clear_faults()
    w.sut.tick(retry_now=True)  # what waits out a backoff is tried again (the province's clock stays put)
    w.stack.tick()
    return code


@scenario("create_refusal_taken_as_delivered")
def _create_refusal_taken_as_delivered(w: World, unit: Unit, on: bool) -> None:
    code = _sync_refused_once(w, unit, 503)  # the one-dossier creation refused by an outage
    assert (w.portal_dossier(code) is None) is on  # taken as delivered: never retried, never created


@scenario("expired_session_is_final")
def _expired_session_is_final(w: World, unit: Unit, on: bool) -> None:
    code = _sync_refused_once(w, unit, 401)  # "log in again", not "never"
    assert (w.portal_dossier(code) is None) is on


@scenario("relogin_only_on_http_401")
def _relogin_only_on_http_401(w: World, unit: Unit, on: bool) -> None:
    # The province's portal answers in `compatible`: an unknown session is -2 in an HTTP 200, not a 401.
    portal = w.admin("portal")
    tenant = portal.tenant(PROVINCE)
    portal.put_tenant(PROVINCE, {**tenant, "dialect": "compatible"})
    try:
        w.dossier(unit)  # the system holds a session now
        portal.post("/portal/sessions/expire", {"tenant": PROVINCE})
        code = w.dossier(unit)
        w.sut.tick(retry_now=True)
        w.stack.tick()
        assert (w.portal_dossier(code) is None) is on  # "log in again" on -2, whatever the HTTP status
    finally:
        portal.put_tenant(PROVINCE, tenant)


@scenario("donvixuly_province_code")
def _donvixuly_province_code(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    [(entry, body, _)] = w.portal_calls(code, "DongBoHoSoMC")
    assert entry["status"] == 200  # the province's own agency is declared: the portal cannot tell
    expected = registry().province(PROVINCE).agency_code if on else unit.agency_code
    assert body["data"][0]["DonViXuLy"] == expected
    assert w.sut.dossier(code)["agency"] == unit.agency_code  # the system itself knows the commune


def _synced_records(w: World, code: str) -> list[tuple[dict[str, Any], dict[str, Any], Any]]:
    return [(e, b["data"][0], a) for e, b, a in w.portal_calls(code, "DongBoHoSoMC")]


@scenario("ngay_tra_missing")
def _ngay_tra_missing(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    w.act(code, *FREE_PATH)
    entry, hoso, answer = _synced_records(w, code)[-1]
    portal = w.portal_dossier(code)
    assert hoso["TrangThaiHoSo"] == 10 and portal is not None and portal["TrangThaiHoSo"] == 10
    if on:
        assert "NgayTra" not in hoso
        assert entry["status"] == 400 and answer["field"] == "data[0].NgayTra"
        assert "NgayTra" not in portal
    else:
        assert hoso["NgayTra"] == w.sut.dossier(code)["returned_at"] == portal["NgayTra"]
        assert entry["status"] == 200


@scenario("sync_dates_in_utc")
def _sync_dates_in_utc(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    w.act(code, "receive")
    mine = w.sut.dossier(code)
    sent = [b["data"][0]["ThoiDiemXuLy"] for _, b, _ in w.portal_calls(code, "CapNhatTienDoHoSoMC")]
    [(_, created, _), *_] = _synced_records(w, code)
    hours = 7 if on else 0
    assert sent == [_earlier(h["at"], hours) for h in mine["history"]]
    assert created["NgayTiepNhan"] == _earlier(mine["received_at"], hours)


def _earlier(stamp: str, hours: int) -> str:
    return (datetime.strptime(stamp, "%Y%m%d%H%M%S") - timedelta(hours=hours)).strftime("%Y%m%d%H%M%S")


@scenario("progress_sent_twice")
def _progress_sent_twice(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    w.act(code, "receive")
    calls = [(b["data"][0]["TrangThai"], a["result"][0].get("duplicate", False))
             for _, b, a in w.portal_calls(code, "CapNhatTienDoHoSoMC")]
    if on:
        assert calls == [(1, False), (1, True), (2, False), (2, True)]
    else:
        assert calls == [(1, False), (2, False)]
    portal = w.portal_dossier(code)
    assert portal is not None and [h["TrangThai"] for h in portal["LichSu"]
                                   if h["DichVu"] == "CapNhatTienDoHoSoMC"] == [1, 2]


@scenario("recreate_on_receive")
def _recreate_on_receive(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    w.act(code, "receive")
    calls = [(b["isUpdating"], e["status"], a["error_code"]) for e, b, a in w.portal_calls(code, "DongBoHoSoMC")]
    if on:
        assert calls == [("False", 200, 0), ("False", 409, -3)]
    else:
        assert calls == [("False", 200, 0), ("True", 200, 0)]


@scenario("return_date_not_resynced")
def _return_date_not_resynced(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    w.act(code, *FREE_PATH)
    returned = w.sut.dossier(code)["returned_at"]
    synced = [hoso["TrangThaiHoSo"] for _, hoso, _ in _synced_records(w, code)]
    portal = w.portal_dossier(code)
    assert returned and portal is not None and portal["TrangThaiHoSo"] == 10  # the progress entry went
    if on:
        assert 10 not in synced and "NgayTra" not in portal
    else:
        assert synced[-1] == 10 and portal["NgayTra"] == returned


def _fee_requested(w: World, unit: Unit, procedure: str = PROCEDURE) -> tuple[str, dict[str, Any]]:
    code = w.dossier(unit, procedure)
    w.act(code, "receive", "process")
    fee = w.act(code, "request_fee")["payment"]
    return code, fee


@scenario("skip_callback_hash")
def _skip_callback_hash(w: World, unit: Unit, on: bool) -> None:
    code, fee = _fee_requested(w, unit)
    settings = w.stack.apps["provincial"].extensions["provincial"].settings[PROVINCE]
    forged = proto.build_callback(ma_loi="00", partner=settings.payment_partner, reference=fee["reference"],
                                  amount=fee["amount"], transaction="FORGED0001", bank="VCB",
                                  when=w.stack.apps["payment"].extensions["cutover"].clock.now(),
                                  info="forged", secret="not-the-partner-secret")
    after = w.mark("provincial")
    resp = w.http.post(w.province["payment_callback_url"], json=forged)
    [entry] = w.journal("provincial", after, direction="in", path="/api/payment/callback")
    # the platform itself never saw a payment
    query = proto.build_query(settings.payment_partner, settings.payment_secret, fee["reference"],
                              w.stack.apps["payment"].extensions["cutover"].clock.now())
    assert str(w.http.post(f"{w.stack.urls['payment']}/api/payment", json=query).json()["TrangThaiGD"]) == "3"
    if on:
        assert resp.status_code == 200 and resp.json()["applied"] is True and entry["status"] == 200
        assert w.sut.dossier(code)["status"] == 4
    else:
        assert resp.status_code == 400 and resp.json()["error_code"] == "02" and entry["status"] == 400
        assert w.sut.dossier(code)["status"] == 6


@scenario("callback_refusal_acknowledged")
def _callback_refusal_acknowledged(w: World, unit: Unit, on: bool) -> None:
    """A correctly signed callback for a MaThamChieu never issued: refused in the platform's error
    envelope naming the field (a 4xx), or, with the defect, answered as applied (HTTP 200, error_code 0)."""
    code, fee = _fee_requested(w, unit)
    settings = w.stack.apps["provincial"].extensions["provincial"].settings[PROVINCE]
    unknown = proto.build_callback(ma_loi="00", partner=settings.payment_partner, reference=f"{code}.9",
                                   amount=fee["amount"], transaction="UNKNOWN0001", bank="VCB",
                                   when=w.stack.apps["payment"].extensions["cutover"].clock.now(),
                                   info="never issued", secret=settings.payment_secret)
    resp = w.http.post(w.province["payment_callback_url"], json=unknown)
    if on:
        assert resp.status_code == 200 and resp.json()["error_code"] == "0"
    else:
        assert resp.status_code == 404
        assert resp.json() == {"error_code": "04", "message": f"unknown MaThamChieu {code}.9", "field": "MaThamChieu"}
    assert w.sut.dossier(code)["status"] == 6 and [p["status"] for p in w.sut.dossier(code)["payments"]] == ["pending"]


@scenario("callbacks_not_idempotent")
def _callbacks_not_idempotent(w: World, unit: Unit, on: bool) -> None:
    code, fee = _fee_requested(w, unit, MAGIC_PROCEDURE)
    assert fee["amount"] == DUPLICATE_CALLBACK_AMOUNT
    after = w.mark("payment")
    pay(w.http, fee["pay_url"], bank="VCB")
    w.stack.tick()
    callbacks = [e for e in w.journal("payment", after, direction="out", path="/api/payment/callback")
                 if json.loads(e["request_body"])["MaThamChieu"] == fee["reference"]]
    assert len(callbacks) == 2 and all(e["status"] == 200 for e in callbacks)
    assert [json.loads(e["request_body"])["MaGiaoDich"] for e in callbacks].count(
        json.loads(callbacks[0]["request_body"])["MaGiaoDich"]) == 2  # the same settlement twice
    answers = [json.loads(e["response_body"])["applied"] for e in callbacks]
    statuses = [h["status"] for h in w.sut.dossier(code)["history"]]
    if on:
        assert answers == [True, True]
        assert statuses == [1, 2, 4, 6, 4, 4]
    else:
        assert answers == [True, False]
        assert statuses == [1, 2, 4, 6, 4]


@scenario("pay_into_province_account")
def _pay_into_province_account(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    w.act(code, "receive", "process")
    after = w.mark("payment")
    refused: DriverError | None = None
    try:
        w.act(code, "request_fee")
    except DriverError as err:
        refused = err
    [init] = [e for e in w.journal("payment", after, direction="in", path="/api/payment")
              if json.loads(e["request_body"]).get("LoaiBanTin") == "INIT"]
    receipt = json.loads(init["request_body"])["ThongTinBienLai"]
    answer = json.loads(init["response_body"])
    province_account = w.admin("payment").get(f"/payment/accounts/P{PROVINCE}")["TKThuHuong"]
    commune_account = w.admin("payment").get(f"/payment/accounts/{unit.code}")["TKThuHuong"]
    if on:
        assert receipt["TKThuHuong"] == province_account
        assert answer["error_code"] == "06" and init["status"] == 422
        assert refused is not None and refused.status == 409
        assert w.sut.dossier(code)["status"] == 4
    else:
        assert receipt["TKThuHuong"] == commune_account
        assert answer["error_code"] == "0" and init["status"] == 200
        assert refused is None and w.sut.dossier(code)["status"] == 6


def _settings(w: World, province: str = PROVINCE) -> Any:
    return w.stack.apps["provincial"].extensions["provincial"].settings[province]


def _signed(w: World, fee: dict[str, Any], *, province: str = PROVINCE, **changes: Any) -> dict[str, Any]:
    """A callback signed with `province`'s partner secret, as the platform signs it."""
    s = _settings(w, province)
    fields = {"ma_loi": "00", "reference": fee["reference"], "amount": fee["amount"], **changes}
    return proto.build_callback(partner=s.payment_partner, transaction="GD0000000001", bank="VCB",
                                when=w.stack.apps["payment"].extensions["cutover"].clock.now(), info="test",
                                secret=s.payment_secret, **fields)


def _callback_url(w: World, province: str) -> str:
    return str(next(p for p in w.sut.describe()["provinces"] if p["code"] == province)["payment_callback_url"])


def _payment_status(w: World, code: str) -> str:
    return str(w.sut.dossier(code)["payments"][-1]["status"])


def _hostile_callback_applied(w: World, code: str, resp: requests.Response, on: bool, refusal: str) -> None:
    if on:
        assert resp.status_code == 200 and resp.json()["applied"] is True
        assert w.sut.dossier(code)["status"] == 4
    else:
        assert resp.json()["error_code"] == refusal and resp.status_code in (400, 404)
        assert w.sut.dossier(code)["status"] == 6 and _payment_status(w, code) == "pending"


@scenario("callback_amount_not_checked")
def _callback_amount_not_checked(w: World, unit: Unit, on: bool) -> None:
    code, fee = _fee_requested(w, unit)
    resp = w.http.post(w.province["payment_callback_url"], json=_signed(w, fee, amount=1))
    _hostile_callback_applied(w, code, resp, on, "05")


@scenario("payment_matched_by_dossier_code")
def _payment_matched_by_dossier_code(w: World, unit: Unit, on: bool) -> None:
    code, fee = _fee_requested(w, unit)
    never_issued = f"{code}.9"
    resp = w.http.post(w.province["payment_callback_url"], json=_signed(w, fee, reference=never_issued))
    _hostile_callback_applied(w, code, resp, on, "04")


@scenario("payments_matched_by_reference_alone")
def _payments_matched_by_reference_alone(w: World, unit: Unit, on: bool) -> None:
    code, fee = _fee_requested(w, unit)  # a fee of province 31, signed and sent as province OTHER's
    resp = w.http.post(_callback_url(w, OTHER), json=_signed(w, fee, province=OTHER))
    _hostile_callback_applied(w, code, resp, on, "04")


@scenario("callback_secret_by_message_partner")
def _callback_secret_by_message_partner(w: World, unit: Unit, on: bool) -> None:
    code, fee = _fee_requested(w, unit)  # to province 31's URL, as partner OTHER with its secret
    resp = w.http.post(w.province["payment_callback_url"], json=_signed(w, fee, province=OTHER))
    _hostile_callback_applied(w, code, resp, on, "02")


@scenario("callback_errors_escape")
def _callback_errors_escape(w: World, unit: Unit, on: bool) -> None:
    code, fee = _fee_requested(w, unit)
    missing = {k: v for k, v in _signed(w, fee).items() if k != "SoTien"}
    for body, field in ((b"not a callback", "body"), (json.dumps(missing).encode(), "SoTien")):
        resp = w.http.post(w.province["payment_callback_url"], data=body,
                           headers={"Content-Type": "application/json"})
        assert 400 <= resp.status_code < 500, resp.text
        assert ("error_code" in resp.json()) is not on, resp.text  # the platform's envelope only when refused
        if not on:
            assert (resp.json()["error_code"], resp.json()["field"]) == ("01", field)
    assert w.sut.dossier(code)["status"] == 6 and _payment_status(w, code) == "pending"


def _paid_with(w: World, unit: Unit, bank: str) -> str:
    """A fee paid through a test bank; the platform's callbacks due at once delivered, then a tick."""
    code, fee = _fee_requested(w, unit)
    pay(w.http, fee["pay_url"], bank=bank)
    w.stack.tick()
    w.sut.tick()
    return code


@scenario("reconciled_failures_marked_paid")
def _reconciled_failures_marked_paid(w: World, unit: Unit, on: bool) -> None:
    code, _ = _fee_requested(w, unit)
    w.admin("payment").advance(901)  # nobody opens the pay page: it expires, and no callback comes
    w.stack.tick()
    w.sut.tick()
    w.stack.tick()
    assert _payment_status(w, code) == ("paid" if on else "failed")


@scenario("fee_reference_reused")
def _fee_reference_reused(w: World, unit: Unit, on: bool) -> None:
    code = _paid_with(w, unit, "NOFUNDS")  # the first payment fails
    first = w.sut.dossier(code)["payments"][-1]["reference"]
    w.act(code, "process")  # back to processing, and the fee asked for again
    try:
        reference = w.act(code, "request_fee")["payment"]["reference"]
    except DriverError as err:  # the failed payment's MaThamChieu, used again, collides with its record
        assert on and "answered 500" in str(err), err
        return
    assert (reference == first) is on


@scenario("fee_asked_at_receipt")
def _fee_asked_at_receipt(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    w.act(code, "receive", "process")
    reference = w.act(code, "request_fee")["payment"]["reference"]
    inits = w.admin("payment").get("/payment/transactions", MaHoSo=code)["transactions"]
    assert [t["MaThamChieu"] for t in inits][-1] == reference
    assert len(inits) == (2 if on else 1), inits
    assert len(w.sut.dossier(code)["payments"]) == len(inits)


@scenario("forward_body_errors_crash")
def _forward_body_errors_crash(w: World, unit: Unit, on: bool) -> None:
    url, _ = _forward(w, unit)
    raw = b"this is not JSON"
    resp = w.http.post(url, data=raw, headers={"Content-Type": "application/json",
                                               "X-DVCQG-Signature": sign(raw, _secret(w))})
    assert resp.status_code == (500 if on else 400), resp.text


@scenario("any_maloi_marks_paid")
def _any_maloi_marks_paid(w: World, unit: Unit, on: bool) -> None:
    code = _paid_with(w, unit, "NOFUNDS")  # MaLoi 51
    assert (_payment_status(w, code), w.sut.dossier(code)["status"]) == (("paid", 4) if on else ("failed", 6))


@scenario("failure_overrides_success")
def _failure_overrides_success(w: World, unit: Unit, on: bool) -> None:
    code = _paid_with(w, unit, "OUTOFORDER")  # 00, then a stale 99
    assert _payment_status(w, code) == ("failed" if on else "paid")
    assert [h["status"] for h in w.sut.dossier(code)["history"]][-2:] == [6, 4]


@scenario("flagged_payment_failed")
def _flagged_payment_failed(w: World, unit: Unit, on: bool) -> None:
    code = _paid_with(w, unit, "FLAGGED")  # 07 now, 00 when the review ends
    assert _payment_status(w, code) == ("failed" if on else "pending")
    w.admin("payment").advance(3601)
    w.stack.tick()
    w.sut.tick()
    assert (_payment_status(w, code), w.sut.dossier(code)["status"]) == (("failed", 6) if on else ("paid", 4))


@scenario("no_payment_reconciliation")
def _no_payment_reconciliation(w: World, unit: Unit, on: bool) -> None:
    after = w.mark("payment")
    code = _paid_with(w, unit, "DELAYED")  # paid at once; the callback only in 600 s
    queries = [e for e in w.journal("payment", after, direction="in", path="/api/payment", ma_ho_so=code)
               if json.loads(e["request_body"])["LoaiBanTin"] == "QUERY"]
    assert _payment_status(w, code) == ("pending" if on else "paid")
    assert (queries == []) is on


@scenario("receipt_fetched_before_paid")
def _receipt_fetched_before_paid(w: World, unit: Unit, on: bool) -> None:
    after = w.mark("payment")
    code = _paid_with(w, unit, "NOFUNDS")
    bills = [e for e in w.journal("payment", after, direction="in", path="/api/payment", ma_ho_so=code)
             if json.loads(e["request_body"])["LoaiBanTin"] == "GET_BILL"]
    assert _payment_status(w, code) == "failed"
    if on:
        assert bills and all(e["status"] == 409 and json.loads(e["response_body"])["error_code"] == "07" for e in bills)
    else:
        assert bills == []


@scenario("promotions_filed_as_dossiers")
def _promotions_filed_as_dossiers(w: World, unit: Unit, on: bool) -> None:
    [promotion] = w.sut.dossiers(portal_code=w.submit(unit, PROMOTION_PROCEDURE))
    [dossier] = w.sut.dossiers(portal_code=w.submit(unit))
    assert (promotion["kind"], dossier["kind"]) == ("dossier" if on else "promotion", "dossier")


@scenario("tick_counts_delivered_as_pending")
def _tick_counts_delivered_as_pending(w: World, unit: Unit, on: bool) -> None:
    w.act(w.dossier(unit), "receive")  # its syncs delivered by the ticks that follow
    w.sut.tick(retry_now=True)
    report = w.sut.tick()
    assert (report["pending"] > 0) is on and report["due"] == 0, report


@scenario("ignore_promotions")
def _ignore_promotions(w: World, unit: Unit, on: bool) -> None:
    after = w.mark("portal")
    portal_code = w.submit(unit, PROMOTION_PROCEDURE)
    [forward] = [e for e in w.journal("portal", after, direction="out", path="/api/receive")
                 if e["ma_ho_so_qg"] == portal_code]
    answer = json.loads(forward["response_body"])
    assert forward["status"] == 200 and answer["error_code"] == 0  # acknowledged either way
    found = w.sut.dossiers(portal_code=portal_code)
    if on:
        assert found == [] and answer["MaHoSo"].startswith("KM-")
        assert w.portal_dossier(answer["MaHoSo"]) is None
    else:
        [dossier] = found
        assert dossier["kind"] == "promotion" and dossier["code"] == answer["MaHoSo"]
        [(entry, body, _)] = w.portal_calls(dossier["code"], "DongBoHoSoMC")
        assert entry["status"] == 200 and body["data"][0]["TrangThaiHoSo"] == 1
        w.act(dossier["code"], "receive", "process")
        portal = w.portal_dossier(dossier["code"])
        assert portal is not None and portal["TrangThaiHoSo"] == 4


def _ministry_session(w: World) -> tuple[Any, AxisSession]:
    ministry = registry().ministries()[2]
    system = ministry.code.split(".")[-1]
    secret = w.admin("docaxis").tenant(system)["secret"]
    return ministry, AxisSession(w.stack.urls["docaxis"], system, secret, w.http)


@scenario("axis_codes_unpublished")
def _axis_codes_unpublished(w: World, unit: Unit, on: bool) -> None:
    province = registry().province(PROVINCE)
    published: set[str] = set()
    for e in w.journal("docaxis", direction="in", method="POST", path="/api/agencies"):
        if e["tenant"] == PROVINCE:
            assert e["status"] == 200
            published |= {a["OrganId"] for a in json.loads(e["request_body"])["agencies"]}
    assert province.agency_code in published
    assert (unit.agency_code in published) is not on
    ministry, axis = _ministry_session(w)
    assert (unit.agency_code in {a["OrganId"] for a in axis.agencies()}) is not on
    after = w.mark("docaxis")
    pkg = document(Organization(ministry.code, ministry.name), [Organization(unit.agency_code, unit.committee_name)],
                   subject="V/v kiểm tra mã định danh", number="8", notation="BCT-VP", when=date(2025, 7, 1))
    try:
        answer: dict[str, Any] | None = send_document(axis, pkg)
    except AxisCallFailed as err:
        assert err.body["ErrorCode"] == "unknown_recipient"
        answer = None
    [entry] = w.journal("docaxis", after, direction="in", method="POST", path="/api/edocs")
    if on:
        assert answer is None and entry["status"] == 400
    else:
        assert answer is not None and answer["delivered"] == 1 and entry["status"] in (200, 201)


@scenario("no_axis_ack")
def _no_axis_ack(w: World, unit: Unit, on: bool) -> None:
    ministry, axis = _ministry_session(w)
    pkg = document(Organization(ministry.code, ministry.name), [Organization(unit.agency_code, unit.committee_name)],
                   subject="V/v kiểm tra liên thông", number="7", notation="BCT-VP", when=date(2025, 7, 1))
    sent = send_document(axis, pkg)
    after = w.mark("docaxis")
    w.sut.tick()
    [got] = w.sut.received_documents(agency=unit.agency_code, doc_id=sent["DocID"])
    codes = [s["statusCode"] for s in axis.sent(sent["DocID"])["statusResult"]]
    province_calls = w.journal("docaxis", after, direction="in", method="POST")
    acks = [e for e in province_calls if e["url"].endswith("/status")]
    if on:
        assert got["status"] == "01"
        assert codes == ["01"]
        assert acks == []
    else:
        assert got["status"] == "06"
        assert codes == ["01", "03", "06"]
        assert acks and all(e["status"] == 200 for e in acks)


@scenario("invalid_edxml")
def _invalid_edxml(w: World, unit: Unit, on: bool) -> None:
    ministry = registry().ministries()[2]
    after = w.mark("docaxis")
    answer: dict[str, Any] | None = None
    refused: DriverError | None = None
    try:
        answer = w.sut.send_document({"from": unit.agency_code, "to": [ministry.code], "subject": "Báo cáo",
                                      "number": "3", "notation": "UBND-VP"})
    except DriverError as err:
        refused = err
    [entry] = w.journal("docaxis", after, direction="in", method="POST", path="/api/edocs")
    if on:
        assert refused is not None and refused.status == 502
        assert entry["status"] == 400
    else:
        assert answer is not None and answer["DocID"]
        assert entry["status"] in (200, 201)


def _inject(w: World, messagetype: str, sender: str, to: str, raw: bytes, **extra: Any) -> dict[str, Any]:
    """The axis's hostile mode: `raw` lands in the province's inbox unchecked."""
    body = {"messagetype": messagetype, "from": sender, "to": to, "system": PROVINCE,
            "data": base64.b64encode(raw).decode(), **extra}
    answer: dict[str, Any] = w.admin("docaxis").post("/docaxis/inject", body)
    w.sut.tick()
    return answer


def _delivered(w: World, unit: Unit, to: Organization, on: bool, *, raw: bytes | None = None,
               at: str | None = None) -> None:
    """A package for `to` delivered to `at` (the unit by default): taken in only with the switch on."""
    ministry, axis = _ministry_session(w)
    where = at or unit.agency_code
    after = w.mark("docaxis")
    pkg = document(Organization(ministry.code, ministry.name), [to], subject="V/v kiểm thử", number="12",
                   notation="BCT-VP", when=date(2025, 7, 1))
    answer = _inject(w, "edoc", ministry.code, where, raw if raw is not None else build_edoc(pkg))
    got = w.sut.received_documents(doc_id=answer["document"])
    [delivery] = axis.sent(answer["document"])["recipients"]
    assert [d["recipient"] for d in got] == ([where] if on else [])
    if not on:
        assert delivery["ack"] == "fail"
        assert all(e["status"] < 400 for e in w.journal("docaxis", after, direction="in", tenant=PROVINCE))


@scenario("axis_records_invalid_packages")
def _axis_records_invalid_packages(w: World, unit: Unit, on: bool) -> None:
    me = Organization(unit.agency_code, unit.committee_name)
    ministry = registry().ministries()[2]
    raw = build_edoc(document(Organization(ministry.code, ministry.name), [me], subject="V/v", number="13",
                              notation="BCT-VP", when=date(2025, 7, 1)))
    _delivered(w, unit, me, on, raw=raw[:200])


@scenario("axis_recipient_unchecked")
def _axis_recipient_unchecked(w: World, unit: Unit, on: bool) -> None:
    foreign = registry().units("01")[0]
    after = w.mark("docaxis")
    _delivered(w, unit, Organization(foreign.agency_code, foreign.committee_name), on, at=foreign.agency_code)
    refused = [e for e in w.journal("docaxis", after, direction="in", tenant=PROVINCE) if e["status"] >= 400]
    assert bool(refused) is on  # its answers 03/06 for an agency it does not own are refused by the axis


@scenario("axis_to_list_unchecked")
def _axis_to_list_unchecked(w: World, unit: Unit, on: bool) -> None:
    province = registry().province(PROVINCE)
    _delivered(w, unit, Organization(province.agency_code, "UBND"), on)


def _sent_to_ministry(w: World, unit: Unit) -> tuple[str, Any, AxisSession, EdocPackage]:
    ministry, axis = _ministry_session(w)
    answer = w.sut.send_document({"from": unit.agency_code, "to": [ministry.code], "number": "14"})
    w.sut.tick()
    pkg = parse_edoc(axis.fetch(answer["DocID"]))
    return str(answer["DocID"]), ministry, axis, pkg


def _statuses(w: World, doc_id: str) -> list[tuple[str, str]]:
    [doc] = w.sut.sent_documents(doc_id=doc_id)
    return [(s["from"], s["code"]) for s in doc["statuses"]]


def _packet(about: EdocPackage, author: Any, code: str = "06") -> bytes:
    return status_packet(about, Organization(author.code, author.name), code, datetime(2025, 7, 2, 9, 0),
                         "Hoàn thành")


@scenario("axis_status_matched_by_code")
def _axis_status_matched_by_code(w: World, unit: Unit, on: bool) -> None:
    doc_id, ministry, axis, pkg = _sent_to_ministry(w, unit)
    other = replace(pkg, document_id=pkg.document_id + "-khac")
    _inject(w, "status", ministry.code, unit.agency_code, _packet(other, ministry))
    assert _statuses(w, doc_id) == [(ministry.code, "01"), *([(ministry.code, "06")] if on else [])]


@scenario("axis_status_sender_unchecked")
def _axis_status_sender_unchecked(w: World, unit: Unit, on: bool) -> None:
    doc_id, ministry, axis, pkg = _sent_to_ministry(w, unit)
    outsider = registry().ministries()[3]
    _inject(w, "status", outsider.code, unit.agency_code, _packet(pkg, outsider), document=doc_id)
    assert _statuses(w, doc_id) == [(ministry.code, "01"), *([(outsider.code, "06")] if on else [])]


@scenario("axis_status_from_listing")
def _axis_status_from_listing(w: World, unit: Unit, on: bool) -> None:
    doc_id, ministry, axis, pkg = _sent_to_ministry(w, unit)
    raw = _packet(pkg, ministry).replace(b">06<", b">99<")
    _inject(w, "status", ministry.code, unit.agency_code, raw, document=doc_id, StatusCode="99")
    axis.send(_packet(pkg, ministry, "03"), ministry.code, messagetype="status")  # a genuine one: recorded either way
    w.sut.tick()
    assert _statuses(w, doc_id) == [(ministry.code, "01"), *([(ministry.code, "99")] if on else []),
                                    (ministry.code, "03")]


@scenario("axis_foreign_status_acknowledged")
def _axis_foreign_status_acknowledged(w: World, unit: Unit, on: bool) -> None:
    doc_id, ministry, axis, pkg = _sent_to_ministry(w, unit)
    foreign = registry().units("01")[0]  # a document of another province's agency, with the same number and date
    theirs = replace(pkg, sender=Organization(foreign.agency_code, foreign.committee_name),
                     document_id=pkg.document_id.replace(unit.agency_code, foreign.agency_code))
    answer = _inject(w, "status", ministry.code, unit.agency_code, _packet(theirs, ministry))
    state = w.admin("docaxis").get(f"/docaxis/messages/{answer['docId']}")
    assert state["ack"] == ("done" if on else "fail")
    assert _statuses(w, doc_id) == [(ministry.code, "01")]  # recorded nowhere either way


@scenario("axis_recipients_named_by_code")
def _axis_recipients_named_by_code(w: World, unit: Unit, on: bool) -> None:
    _, ministry, _, pkg = _sent_to_ministry(w, unit)
    assert [(o.organ_id, o.organ_name) for o in pkg.recipients] == [(ministry.code, ministry.code if on
                                                                      else ministry.name)]


@scenario("axis_sent_filters_ignored")
def _axis_sent_filters_ignored(w: World, unit: Unit, on: bool) -> None:
    doc_id, ministry, _, _ = _sent_to_ministry(w, unit)
    committee = registry().province(PROVINCE).agency_code
    other = w.sut.send_document({"from": committee, "to": [ministry.code], "number": "15"})["DocID"]
    mine = [d["doc_id"] for d in w.sut.sent_documents(agency=unit.agency_code)]
    one = [d["doc_id"] for d in w.sut.sent_documents(doc_id=doc_id)]
    assert (other in mine, other in one) == (on, on)
    assert doc_id in mine and doc_id in one


@scenario("unsigned_results")
def _unsigned_results(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    w.act(code, *FREE_PATH)
    verdict = w.verify_result(code)
    assert verdict.dossier_code == code
    assert w.sut.dossier(code)["result"]["signed"] is not on
    if on:
        assert not verdict.ok and verdict.categories == {"unsigned"}
    else:
        assert verdict.ok, verdict.problems


@scenario("wrong_result_attached")
def _wrong_result_attached(w: World, unit: Unit, on: bool) -> None:
    first = w.dossier(unit)
    w.act(first, "receive", "process", "finish")
    second = w.dossier(unit)
    w.act(second, "receive", "process", "finish")
    assert w.verify_result(first).ok
    verdict = w.verify_result(second)
    if on:
        assert not verdict.ok and verdict.categories == {"dossier_code"}
        assert verdict.dossier_code == first
    else:
        assert verdict.ok, verdict.problems
        assert verdict.dossier_code == second


# -- the forward channel (portal -> province) and the catalogue --------------------------------


def _forward(w: World, unit: Unit, procedure: str = PROCEDURE) -> tuple[str, dict[str, Any]]:
    """A genuine forward, captured from the portal's outbox after delivery: (receive URL, payload)."""
    portal_code = w.submit(unit, procedure)
    [msg] = w.admin("portal").outbox(kind="forward", tenant=PROVINCE, ma_ho_so_qg=portal_code)
    return msg["url"], json.loads(msg["body"])


def _send(w: World, url: str, payload: dict[str, Any], secret: str | None, **changes: Any) -> requests.Response:
    """`payload` with `changes` and a MaHoSoQG of its own, signed with `secret` (None: unsigned)."""
    raw = encode({**payload, "MaHoSoQG": f"QGTEST-{secrets.token_hex(4)}", **changes})
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-DVCQG-Signature"] = sign(raw, secret)
    return w.http.post(url, data=raw, headers=headers)


def _secret(w: World) -> str:
    return str(w.admin("portal").tenant(PROVINCE)["forward_secret"])


@scenario("forward_signature_optional")
def _forward_signature_optional(w: World, unit: Unit, on: bool) -> None:
    url, payload = _forward(w, unit)
    assert _send(w, url, payload, None).status_code == (200 if on else 401)
    assert _send(w, url, payload, "another secret").status_code == 401


@scenario("forward_signature_unchecked")
def _forward_signature_unchecked(w: World, unit: Unit, on: bool) -> None:
    for procedure in (PROCEDURE, PROMOTION_PROCEDURE):
        url, payload = _forward(w, unit, procedure)
        assert _send(w, url, payload, "another secret").status_code == (200 if on else 401)


@scenario("promo_signature_unchecked")
def _promo_signature_unchecked(w: World, unit: Unit, on: bool) -> None:
    url, promotion = _forward(w, unit, PROMOTION_PROCEDURE)
    _, dossier = _forward(w, unit)
    assert _send(w, url, promotion, None).status_code == (200 if on else 401)
    assert _send(w, url, dossier, None).status_code == 401


@scenario("forward_not_idempotent")
def _forward_not_idempotent(w: World, unit: Unit, on: bool) -> None:
    url, payload = _forward(w, unit)
    [first] = w.sut.dossiers(portal_code=payload["MaHoSoQG"])
    again = w.http.post(url, data=encode(payload), headers={"Content-Type": "application/json",
                                                            "X-DVCQG-Signature": sign(encode(payload), _secret(w))})
    assert again.status_code == 200 and (again.json()["MaHoSo"] != first["code"]) is on


@scenario("forward_replay_resets_dossier")
def _forward_replay_resets_dossier(w: World, unit: Unit, on: bool) -> None:
    url, payload = _forward(w, unit)
    [found] = w.sut.dossiers(portal_code=payload["MaHoSoQG"])
    w.act(found["code"], "receive", "process")
    raw = encode(payload)
    resp = w.http.post(url, data=raw, headers={"Content-Type": "application/json",
                                               "X-DVCQG-Signature": sign(raw, _secret(w))})
    w.stack.tick()
    assert resp.status_code == 200 and resp.json()["MaHoSo"] == found["code"]
    assert w.sut.dossier(found["code"])["status"] == (1 if on else 4)


@scenario("forward_any_province")
def _forward_any_province(w: World, unit: Unit, on: bool) -> None:
    url, payload = _forward(w, unit)
    other = registry().units("01")[0]
    resp = _send(w, url, payload, _secret(w), MaXa=other.code, TenXa=other.name, MaDonVi=other.agency_code)
    assert resp.status_code == (200 if on else 403)
    if not on:
        assert resp.json()["error"]["field"] == "MaXa"


@scenario("forward_filed_under_province")
def _forward_filed_under_province(w: World, unit: Unit, on: bool) -> None:
    dossier = w.sut.dossier(w.dossier(unit))
    assert dossier["agency"] == (registry().province(PROVINCE).agency_code if on else unit.agency_code)


@scenario("promotions_never_synced")
def _promotions_never_synced(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit, PROMOTION_PROCEDURE)
    w.act(code, "receive", "process")
    assert w.sut.dossier(code)["status"] == 4
    assert (w.portal_dossier(code) is None) is on


@scenario("commune_names_without_diacritics")
def _commune_names_without_diacritics(w: World, unit: Unit, on: bool) -> None:
    declared = {a["MaCoQuan"]: a["TenCoQuan"] for a in w.admin("portal").get("/portal/agencies", tenant=PROVINCE)[
        "agencies"]}
    assert (declared[unit.agency_code] == unit.committee_name) is not on
    assert declared[unit.agency_code].isascii() is on


@scenario("declares_abolished_districts")
def _declares_abolished_districts(w: World, unit: Unit, on: bool) -> None:
    calls = [e for e in w.journal("portal", direction="in", path="/api/integration")
             if json.loads(e["request_body"]).get("service") == "KhaiBaoCoQuan"]
    refused = [e for e in calls if e["status"] != 200]
    assert len(refused) == (1 if on else 0) and calls[0]["status"] == 200
    if on:
        assert "district" in refused[0]["response_body"]
    assert w.sut.describe()["provinces"][0]["bootstrap"]["portal_catalogue"]["error"] is None
@scenario("sync_gives_up_after_3_attempts")
def _sync_gives_up_after_3_attempts(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    w.sut.tick()
    portal = w.admin("portal")
    portal.add_fault(action="error", path="/api/integration", status=503)
    try:
        w.sut.act(code, "receive")
        for _ in range(6):  # six attempts of each waiting sync
            w.sut.tick(retry_now=True)
    finally:
        portal.clear_faults()
    w.sut.tick(retry_now=True)
    mine = [m for m in w.admin("provincial").outbox(kind="portal_sync") if m["group_key"] == code]
    update = next(m for m in mine if '"isUpdating": "True"' in m["body"])
    portal_copy = w.portal_dossier(code)
    assert portal_copy is not None
    if on:
        assert update["status"] == "dead" and update["attempts"] == 3
        assert portal_copy["TrangThaiHoSo"] == 1
    else:
        assert update["status"] == "delivered" and update["attempts"] >= 7
        assert portal_copy["TrangThaiHoSo"] == 2


@scenario("sync_queue_in_memory")
def _sync_queue_in_memory(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    w.sut.tick()
    portal = w.admin("portal")
    portal.add_fault(action="error", path="/api/integration", status=503)
    try:
        w.sut.act(code, "receive")
        w.sut.tick(retry_now=True)
        assert w.sut.tick()["pending"] >= 1  # the status-2 sync waits
        assert w.sut.restart() is not None
    finally:
        portal.clear_faults()
    w.sut.tick(retry_now=True)
    in_database = [m for m in w.admin("provincial").outbox(kind="portal_sync") if m["group_key"] == code]
    portal_copy = w.portal_dossier(code)
    assert portal_copy is not None
    if on:
        assert in_database == [] and portal_copy["TrangThaiHoSo"] == 1  # the restart lost the sync
    else:
        assert in_database and portal_copy["TrangThaiHoSo"] == 2


@scenario("listing_ignores_ward")
def _listing_ignores_ward(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    neighbour = next(u for u in UNITS if u.code != unit.code)
    listed = w.sut.dossiers(province=PROVINCE, ward=neighbour.code)
    assert (code in {d["code"] for d in listed}) is on  # another commune's listing holds this dossier
    assert code in {d["code"] for d in w.sut.dossiers(province=PROVINCE, ward=unit.code)}


@scenario("return_date_set_at_finish")
def _return_date_set_at_finish(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    w.act(code, "receive", "process", "finish")
    [*_, (entry, hoso, _)] = _synced_records(w, code)
    assert hoso["TrangThaiHoSo"] == 9 and entry["status"] == 200  # the portal takes it: SYNC-3 must not
    assert ("NgayTra" in hoso) is on
    w.act(code, "return")
    assert w.portal_dossier(code)["NgayTra"] == w.sut.dossier(code)["returned_at"]  # type: ignore[index]


@scenario("channel_in_person")
def _channel_in_person(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    [(entry, hoso, _)] = _synced_records(w, code)
    assert entry["status"] == 200 and hoso["KenhThucHien"] == (1 if on else 2)  # a valid code: the portal takes it
    assert w.sut.record(code)["hoso"]["KenhThucHien"] == hoso["KenhThucHien"]  # and the system states the same
scenario("userinfo_subject_unchecked")(_hostile_login("userinfo_other_subject", "sub"))


def _other_province(w: World) -> tuple[dict[str, Any], str]:
    """The second hosted province as describe lists it, and a login hint of one of its citizens."""
    other = next(p for p in w.sut.describe()["provinces"] if p["code"] == OTHER)
    return other, f"citizen:{registry().units(OTHER)[0].code}:0"


@scenario("state_any_province")
def _state_any_province(w: World, unit: Unit, on: bool) -> None:
    """A code of this province's client asked for with the state and nonce of a login begun at OTHER."""
    portal = w.stack.urls["portal"]
    other, hint = _other_province(w)
    http = w.stack.session()
    own = dict(parse_qsl(urlsplit(_start(w, unit, http)).query))
    foreign = dict(parse_qsl(urlsplit(start_login(http, other["login_url"], hint, f"{portal}/oauth2/authorize")).query))
    code = authorize_code(http, f"{portal}/oauth2/authorize", client_id=own["client_id"],
                          redirect_uri=own["redirect_uri"], login_hint=f"citizen:{unit.code}:0",
                          state=foreign["state"], nonce=foreign["nonce"])
    resp = deliver(http, AuthorizationResponse(own["redirect_uri"], {"code": code, "state": foreign["state"],
                                                                     "iss": portal}))
    if on:
        assert resp.status_code == 200, resp.text
        opened = w.sut.session(resp.json()["session"])
        assert opened is not None and opened["province"] == PROVINCE
    else:
        assert resp.status_code == 401 and "state" in resp.text, resp.text


@scenario("session_any_province")
def _session_any_province(w: World, unit: Unit, on: bool) -> None:
    """OTHER's session under this province's session cookie at this province's me_url."""
    other, hint = _other_province(w)
    own = login_at_relying_party(w.stack.session(), w.province["login_url"], f"citizen:{unit.code}:0")
    foreign = login_at_relying_party(w.stack.session(), other["login_url"], hint)
    assert own.status_code == foreign.status_code == 200, (own.text, foreign.text)
    me_url = w.province["me_url"]
    cookie = f"prov_sid_{PROVINCE}"
    shown = w.stack.session().get(me_url, headers={"Cookie": f"{cookie}={own.json()['session']}"})
    assert shown.status_code == 200 and shown.json()["province"] == PROVINCE, shown.text
    resp = w.stack.session().get(me_url, headers={"Cookie": f"{cookie}={foreign.json()['session']}"})
    if on:
        assert resp.status_code == 200 and resp.json()["province"] == OTHER, resp.text
    else:
        assert resp.status_code == 401 and "session" in resp.text, resp.text


# -- the tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Any:
    stack = reference_stack([PROVINCE, OTHER], workdir=str(tmp_path_factory.mktemp("clean")), config=CONFIG)
    yield World(stack)
    stack.close()


def test_every_defect_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(DEFECTS)


def _unit(defect: str) -> Unit:
    return UNITS[1 + sorted(DEFECTS).index(defect)]  # each scenario its own commune on the shared stack


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_without_the_switch_the_wire_is_right(defect: str, clean: World) -> None:
    SCENARIOS[defect](clean, _unit(defect), False)


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_the_switch_shows_on_the_wire(defect: str, tmp_path: Any) -> None:
    """Each row builds its own system with the switch on (no shared fixture): `make test` spreads these
    rows over the workers (conftest.SPREAD)."""
    unit = _unit(defect)
    provinces = [PROVINCE, OTHER] if defect in TWO_PROVINCES else [PROVINCE]
    stack = reference_stack(provinces, defects=defect, workdir=str(tmp_path), config=CONFIG)
    try:
        world = World(stack)
        assert world.sut.describe()["defects"] == [defect]
        SCENARIOS[defect](world, unit, True)
    finally:
        stack.close()


def test_a_login_state_expires(tmp_path: Any) -> None:
    """A state kept past its time to live is refused (and abandoned logins do not pile up). A stack of
    its own: moving the province's clock would age every token of the shared one."""
    from provincial.rp import STATE_TTL_SECONDS

    stack = reference_stack([PROVINCE], workdir=str(tmp_path), config=CONFIG)
    try:
        w = World(stack)
        unit = UNITS[0]
        http = stack.session()
        answer = authorization_response(http, _start(w, unit, http))
        w.admin("provincial").advance(STATE_TTL_SECONDS + 1)
        late = deliver(http, answer)
        assert late.status_code == 401 and "state expired" in late.text, late.text
    finally:
        stack.close()


@scenario("axis_received_once_per_document")
def _axis_received_once_per_document(w: World, unit: Unit, on: bool) -> None:
    ministry, axis = _ministry_session(w)
    province = registry().province(PROVINCE)
    pair = [Organization(province.agency_code, "UBND"), Organization(unit.agency_code, unit.committee_name)]
    answer = axis.send(build_edoc(document(Organization(ministry.code, ministry.name), pair, subject="V/v hai nơi",
                                           number="15", notation="BCT-VP", when=date(2025, 7, 1))), ministry.code)
    w.sut.tick()
    got = [d["recipient"] for d in w.sut.received_documents(doc_id=answer["DocID"])]
    assert got == ([pair[0].organ_id] if on else [o.organ_id for o in pair])


@scenario("axis_send_recipients_unchecked")
def _axis_send_recipients_unchecked(w: World, unit: Unit, on: bool) -> None:
    ministry, _ = _ministry_session(w)
    with pytest.raises(DriverError) as refused:
        w.sut.send_document({"from": unit.agency_code, "to": ministry.code})  # a string, not a list
    answered = (refused.value.status, json.loads(refused.value.body)["error"]["field"])
    assert (answered == (400, "to")) is not on  # on: refused by the edXML builder, naming MessageHeader/To[1]/OrganId


@scenario("axis_refusal_crashes")
def _axis_refusal_crashes(w: World, unit: Unit, on: bool) -> None:
    ministry, _ = _ministry_session(w)
    axis = w.admin("docaxis")
    fault = axis.add_fault(action="error", method="POST", path="/api/edocs", tenant=PROVINCE, count=1, status=503)
    try:
        with pytest.raises(DriverError) as refused:
            w.sut.send_document({"from": unit.agency_code, "to": [ministry.code], "number": "16"})
    finally:
        axis._call("DELETE", f"/faults/{fault}")
    assert refused.value.status == (500 if on else 502)
@scenario("query_error_stops_reconciliation")
def _query_error_stops_reconciliation(w: World, unit: Unit, on: bool) -> None:
    codes = []
    for _ in range(2):  # paid at once on the platform; their callbacks only in 600 s: QUERY must find them
        code, fee = _fee_requested(w, unit)
        pay(w.http, fee["pay_url"], bank="DELAYED")
        codes.append(code)
    w.stack.tick()
    rule = w.admin("payment").add_fault(action="drop", method="POST", path="/api/payment", tenant=PROVINCE, count=1)
    try:
        w.sut.tick()  # the first QUERY of the tick loses its connection
    finally:
        w.admin("payment")._call("DELETE", f"/faults/{rule}")
    statuses = [_payment_status(w, code) for code in codes]
    if on:
        assert statuses == ["pending", "pending"]
    else:
        assert statuses[1] == "paid" and statuses[0] in ("pending", "paid")
    w.sut.tick(retry_now=True)
    assert [_payment_status(w, code) for code in codes] == ["paid", "paid"]


@scenario("payment_reopens_ended_dossier")
def _payment_reopens_ended_dossier(w: World, unit: Unit, on: bool) -> None:
    code, fee = _fee_requested(w, unit)
    w.act(code, "withdraw")
    pay(w.http, fee["pay_url"], bank="VCB")
    w.stack.tick()
    assert _payment_status(w, code) == "paid"
    statuses = [h["status"] for h in w.sut.dossier(code)["history"]]
    assert statuses == ([1, 2, 4, 6, 7, 4] if on else [1, 2, 4, 6, 7])


@scenario("payer_not_named")
def _payer_not_named(w: World, unit: Unit, on: bool) -> None:
    code, fee = _fee_requested(w, unit)
    [tx] = w.admin("payment").get("/payment/transactions", MaThamChieu=fee["reference"])["transactions"]
    applicant = w.sut.dossier(code)["applicant"]
    assert applicant["HoVaTen"] and applicant["HoVaTen"] != "Không rõ"
    assert tx["HoTenNguoiNop"] == ("Không rõ" if on else applicant["HoVaTen"])
    assert tx["SoCMNDNguoiNop"] == applicant["SoDinhDanh"]


@scenario("withdrawal_only_before_receipt")
def _withdrawal_only_before_receipt(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    w.act(code, "receive")
    if on:
        with pytest.raises(DriverError, match="cannot be withdrawn"):
            w.sut.act(code, "withdraw")
        assert w.sut.dossier(code)["status"] == 2
    else:
        assert w.act(code, "withdraw")["status"] == 7


@scenario("callback_partner_not_checked")
def _callback_partner_not_checked(w: World, unit: Unit, on: bool) -> None:
    code, fee = _fee_requested(w, unit)
    own = _settings(w)
    other = f"P{OTHER}"  # another province's partner code; the message is signed with this province's secret
    assert own.payment_partner != other
    body = proto.build_callback(ma_loi="00", partner=other, reference=fee["reference"], amount=fee["amount"],
                                transaction="GD-CERT-PARTNER", bank="VCB",
                                when=w.stack.apps["payment"].extensions["cutover"].clock.now(), info="test",
                                secret=own.payment_secret)
    resp = w.http.post(_callback_url(w, PROVINCE), json=body)
    _hostile_callback_applied(w, code, resp, on, "03")
@scenario("consumed_state_clears_earlier")
def _consumed_state_clears_earlier(w: World, unit: Unit, on: bool) -> None:
    """Two logins in progress at once; the one whose state sorts higher finishes first, then the other."""
    started = []
    for _ in range(2):
        http = w.stack.session()
        url = _start(w, unit, http)
        started.append((dict(parse_qsl(urlsplit(url).query))["state"], http, authorization_response(http, url)))
    (_, http_low, low), (_, http_high, high) = sorted(started, key=lambda s: s[0])
    assert deliver(http_high, high).status_code == 200
    second = deliver(http_low, low)
    assert second.status_code == (401 if on else 200), second.text
    assert not on or "unknown or reused state" in second.text


@scenario("discovery_status_unchecked")
def _discovery_status_unchecked(w: World, unit: Unit, on: bool) -> None:
    """After a restart the portal's discovery answers 503 once: the login fails (502 from the system, or
    a crash with the error cached), and the next one works only when the error was not kept."""
    assert w.sut.restart() is not None
    portal = w.admin("portal")
    fault = portal.add_fault(action="error", method="GET", path="/.well-known/openid-configuration", status=503,
                             count=1)
    try:
        during = w.login(unit)
    finally:
        portal._call("DELETE", f"/faults/{fault}")
    after = login_at_relying_party(w.stack.session(), w.province["login_url"], f"citizen:{unit.code}:0")
    assert (during.status_code, after.status_code) == ((500, 500) if on else (502, 200)), (during.text, after.text)
    if on:
        assert w.sut.restart() is not None  # the cached error answer goes; the rest of the stack logs in again


TWO_PROVINCES = TWO_PROVINCES | {"signer_key_any_province"}


@scenario("signer_key_any_province")
def _signer_key_any_province(w: World, unit: Unit, on: bool) -> None:
    """A result is signed with the certificate the CA issued to its own province; with the switch, with
    the key of the province whose code sorts first, so the other hosted province's result is signed by a
    foreign officer."""
    from provincial import tables as t

    with w.stack.apps["provincial"].extensions["cutover"].store.read() as conn:
        first = conn.execute(t.keys.select().order_by(t.keys.c.province)).first().province
    province = next(p for p in (PROVINCE, OTHER) if p != first) if on else PROVINCE
    target = unit if province == PROVINCE else registry().units(province)[0]
    code = w.dossier(target)
    w.act(code, "receive", "process", "finish")
    [portal] = [d for d in w.stack.backend("portal").dossiers(tenant=province) if d["MaHoSo"] == code]
    pdf = w.http.get(portal["DanhSachGiayToKetQua"][0]["DuongDanTepTinKetQua"]).content
    ca = w.stack.urls["ca"]
    verdict = verify_result_pdf(pdf, trust_roots=[x509.load_pem_x509_certificate(w.http.get(f"{ca}/ca/root.pem").content)],
                                crl=w.http.get(f"{ca}/ca/crl").content, expected_dossier_code=code,
                                now=w.stack.apps["ca"].extensions["cutover"].clock.now())
    assert verdict.ok and verdict.signer_serial is not None, verdict.problems
    issued = w.http.get(f"{ca}/api/certificates/{verdict.signer_serial:X}").json()
    assert issued["province_code"] == (first if on else province) != (province if on else None), issued


@scenario("result_reissued_on_return")
def _result_reissued_on_return(w: World, unit: Unit, on: bool) -> None:
    code = w.dossier(unit)
    issued = w.act(code, "receive", "process", "finish")["result"]
    w.act(code, "return")
    served = w.http.get(issued["url"]).content
    assert w.verify_result(code).ok  # signed and intact either way: only the issued file was replaced
    assert (hashlib.sha256(served).hexdigest() != issued["sha256"]) is on


@scenario("forward_agency_any_of_province")
def _forward_agency_any_of_province(w: World, unit: Unit, on: bool) -> None:
    url, payload = _forward(w, unit)
    sibling = next(u for u in registry().units(PROVINCE) if u.agency_code != unit.agency_code)
    resp = _send(w, url, payload, _secret(w), MaDonVi=sibling.agency_code)  # the same province's other commune
    assert resp.status_code == (200 if on else 403)
    if not on:
        assert resp.json()["error"]["field"] == "MaDonVi"
    foreign = registry().units(OTHER)[0].agency_code  # another province's agency: refused either way
    assert _send(w, url, payload, _secret(w), MaDonVi=foreign).status_code == 403


@scenario("organisation_synced_as_citizen")
def _organisation_synced_as_citizen(w: World, unit: Unit, on: bool) -> None:
    tokens = portal_citizen_login(w.http, w.stack.urls["portal"], w.admin("portal").get("/portal/client"),
                                  f"business:{unit.code}:0")
    portal_code = submit_dossier(w.http, w.stack.urls["portal"], tokens.access_token, procedure=PROMOTION_PROCEDURE,
                                 ward=unit.code)
    w.stack.tick()
    [found] = w.sut.dossiers(portal_code=portal_code)
    assert found["applicant"]["LoaiTaiKhoan"] == 2
    [(entry, hoso, _)] = _synced_records(w, found["code"])
    assert entry["status"] == 200 and hoso["LoaiDoiTuong"] == (1 if on else 2)  # a valid code: the portal takes it
@scenario("jwks_fetched_every_login")
def _jwks_fetched_every_login(w: World, unit: Unit, on: bool) -> None:
    """Logins in a row: the portal's JWKS fetched at each one with the switch on, kept without it."""
    assert w.login(unit).status_code == 200  # the keys in hand (on the shared stack, maybe already)
    since = w.mark("portal")
    for _ in range(3):
        assert w.login(unit).status_code == 200
    assert len(w.journal("portal", since, path="/oauth2/jwks")) == (3 if on else 0)


@scenario("jwks_not_refetched_for_unknown_kid")
def _jwks_not_refetched_for_unknown_kid(w: World, unit: Unit, on: bool) -> None:
    """The portal rotates its signing key, so the next ID token names a kid the system's kept JWKS lacks:
    without the switch the system reads the JWKS again (once) and logs in; with it, it keeps the keys it
    holds and refuses the login. The key found restored, both log in again."""
    portal = w.admin("portal")
    assert w.login(unit).status_code == 200  # the keys in hand (on the shared stack, maybe already)
    found = portal.get("/sso/keys")["current"]
    since = w.mark("portal")
    try:
        rotated = portal.post("/sso/keys/rotate", {})["current"]
        assert rotated != found
        assert w.login(unit).status_code == (401 if on else 200)
        assert len(w.journal("portal", since, path="/oauth2/jwks")) == (0 if on else 1)
    finally:
        assert portal.post("/sso/keys/rotate", {"kid": found})["current"] == found
    assert w.login(unit).status_code == 200


@scenario("axis_redelivery_taken_as_new")
def _axis_redelivery_taken_as_new(w: World, unit: Unit, on: bool) -> None:
    """A document delivered again (its acknowledgement lost): recorded once and left at 06 without the switch;
    with it the record starts over at 01 and the 03 it answers again is refused by the axis."""
    ministry, _ = _ministry_session(w)
    to = Organization(unit.agency_code, unit.committee_name)
    raw = build_edoc(document(Organization(ministry.code, ministry.name), [to], subject="V/v gửi lại", number="18",
                              notation="BCT-VP", when=date(2025, 7, 2)))
    injected = _inject(w, "edoc", ministry.code, to.organ_id, raw)
    assert [d["status"] for d in w.sut.received_documents(doc_id=injected["document"])] == ["06"]
    after = w.mark("docaxis")
    w.admin("docaxis").post("/docaxis/redeliver", {"docId": injected["docId"]})
    w.sut.tick()
    assert w.admin("docaxis").get(f"/docaxis/messages/{injected['docId']}")["ack"] == "done"
    assert [d["status"] for d in w.sut.received_documents(doc_id=injected["document"])] == (["01"] if on else ["06"])
    refused = [e for e in w.journal("docaxis", after, path="/api/edocs") if e["status"] >= 400]
    assert bool(refused) is on, refused


@scenario("id_token_parts_unchecked")
def _id_token_parts_unchecked(w: World, unit: Unit, on: bool) -> None:
    """An ID token of one part: refused (401, naming id_token) without the switch, a crash with it."""
    resp = w.login(unit, "one_part")
    assert resp.status_code == (500 if on else 401), resp.text
    assert on or "id_token" in resp.text


@scenario("answered_before_revocations")
def _answered_before_revocations(w: World, unit: Unit, on: bool) -> None:
    """A document revoked (13) before the system polls: without the switch it ends at 15 and the axis refuses
    nothing; with it the 03 answered at once comes after the 13, and the axis refuses it."""
    ministry, axis = _ministry_session(w)
    sender, to = Organization(ministry.code, ministry.name), Organization(unit.agency_code, unit.committee_name)
    raw = build_edoc(document(sender, [to], subject="V/v thu hồi", number="19", notation="BCT-VP",
                              when=date(2025, 7, 2)))
    answer = axis.send(raw, ministry.code)
    after = w.mark("docaxis")
    axis.send(status_packet(parse_edoc(raw), sender, "13", datetime(2025, 7, 2, 10, 0), "Thu hồi văn bản"),
              ministry.code, messagetype="status")
    w.sut.tick()
    statuses = [d["status"] for d in w.sut.received_documents(doc_id=answer["DocID"])]
    assert on or statuses == ["15"], statuses
    refused = [e for e in w.journal("docaxis", after, path="/api/edocs") if e["status"] >= 400]
    assert bool(refused) is on, refused


@scenario("dossier_lookup_not_exact")
def _dossier_lookup_not_exact(w: World, unit: Unit, on: bool) -> None:
    """A code never issued, sorting before every real one: 404 without the switch, another dossier with it."""
    code = w.dossier(unit)
    if on:
        assert w.sut.dossier("0-never-issued")["code"] <= code
    else:
        with pytest.raises(DriverError) as missing:
            w.sut.dossier("0-never-issued")
        assert missing.value.status == 404


@scenario("batch_envelope_dropped")
def _batch_envelope_dropped(w: World, unit: Unit, on: bool) -> None:
    """Two dossiers waiting out an outage go in one call after it: whole (service, session, agency) without the
    switch; the data alone with it, which the portal refuses naming no province, before one call per dossier."""
    first, second = w.dossier(unit), w.dossier(unit)
    w.sut.tick()
    portal = w.admin("portal")
    after = w.mark("portal")
    portal.add_fault(action="error", path="/api/integration", status=503)
    try:
        w.sut.act(first, "receive")
        w.sut.act(second, "receive")
        w.sut.tick(retry_now=True)
    finally:
        portal.clear_faults()
    w.sut.tick(retry_now=True)
    calls = [e for e in w.journal("portal", after, path="/api/integration") if not (e.get("keys") or {}).get("fault")]
    batched = [json.loads(e["request_body"]) for e in calls if len(json.loads(e["request_body"]).get("data") or []) > 1]
    assert batched and all(("service" in b) is not on for b in batched), batched
    refused = [(e["tenant"], json.loads(e["response_body"])["error_code"]) for e in calls
               if "service" not in json.loads(e["request_body"])]  # refused in the portal's dialect (200 or 4xx)
    assert bool(refused) is on and all(tenant is None and code != 0 for tenant, code in refused), refused
    assert w.portal_dossier(first)["TrangThaiHoSo"] == w.portal_dossier(second)["TrangThaiHoSo"] == 2


@scenario("axis_status_order_unchecked")
def _axis_status_order_unchecked(w: World, unit: Unit, on: bool) -> None:
    """A 15 (revocation accepted) after the recipient's final 06, about a document never revoked: refused without
    the switch, recorded with it."""
    doc_id, ministry, axis, pkg = _sent_to_ministry(w, unit)
    axis.send(_packet(pkg, ministry, "03"), ministry.code, messagetype="status")
    axis.send(_packet(pkg, ministry, "06"), ministry.code, messagetype="status")
    w.sut.tick()
    _inject(w, "status", ministry.code, unit.agency_code, _packet(pkg, ministry, "15"), document=doc_id,
            StatusCode="15")
    codes = [code for who, code in _statuses(w, doc_id) if who == ministry.code and code != "01"]
    assert codes == ["03", "06", *(["15"] if on else [])], codes

"""Every defect switch of the reference system, with and without: what changes on the wire.

Each scenario drives the in-process reference stack the way the certification suite would and
reads the outcome from the mocks' journals and state (the portal's, the payment platform's,
the axis's) or from the provincial system's own journal of inbound calls. The same scenario
runs twice: on a stack with the one switch on (it must show the vendor's mistake) and on a
clean stack shared by the module (it must show the correct behaviour).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import requests
from cryptography import x509

from cutover.flows.docaxis import AxisCallFailed, AxisSession, document, send_document
from cutover.flows.pay import pay
from cutover.flows.sso import login_at_relying_party, portal_citizen_login
from cutover.flows.submit import submit_dossier
from cutover.reference import PROVINCIAL_URL, reference_stack
from cutover.stack import Stack
from cutover.sut import DriverError, HttpSUT
from cutover.units import Unit, registry
from protocols import payment as proto
from protocols.edxml import Organization
from protocols.signed_result import VerificationResult, verify_result_pdf
from provincial.defects import DEFECTS

PROVINCE = "31"
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
        self.sut = HttpSUT(PROVINCIAL_URL, stack.admin_token, self.http)
        self.province = self.sut.describe()["provinces"][0]

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


@scenario("ignore_promotions")
def _ignore_promotions(w: World, unit: Unit, on: bool) -> None:
    after = w.mark("portal")
    portal_code = w.submit(unit, PROMOTION_PROCEDURE)
    [forward] = [e for e in w.journal("portal", after, direction="out", path="/api/receive")
                 if e["ma_ho_so"] == portal_code]
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


# -- the tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Any:
    stack = reference_stack([PROVINCE], workdir=str(tmp_path_factory.mktemp("clean")), config=CONFIG)
    yield World(stack)
    stack.close()


def test_every_defect_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(DEFECTS)


@pytest.mark.parametrize("on", [True, False], ids=["with", "without"])
@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_defect_switch_shows_on_the_wire(defect: str, on: bool, clean: World, tmp_path: Any) -> None:
    unit = UNITS[1 + sorted(DEFECTS).index(defect)]  # each scenario its own commune on the shared stack
    if not on:
        SCENARIOS[defect](clean, unit, False)
        return
    stack = reference_stack([PROVINCE], defects=defect, workdir=str(tmp_path), config=CONFIG)
    try:
        world = World(stack)
        assert world.sut.describe()["defects"] == [defect]
        SCENARIOS[defect](world, unit, True)
    finally:
        stack.close()

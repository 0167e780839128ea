"""End to end, in one process: a commune's citizen logs in, submits, pays; the dossier is
processed to a signed result; the portal's history matches the province's exactly."""

from __future__ import annotations

import pytest
from cryptography import x509

from clients.driver import HttpSUT
from cutover.flows.pay import pay
from cutover.flows.sso import login_at_relying_party, portal_citizen_login
from cutover.flows.submit import submit_dossier
from cutover.reference import PROVINCIAL_URL, reference_stack
from protocols.signed_result import verify_result_pdf
from refdata.units import registry

PROVINCE = "31"
UNIT = registry().units(PROVINCE)[5]


@pytest.fixture
def stack(database_url, tmp_path):
    s = reference_stack([PROVINCE], database_url=database_url, workdir=str(tmp_path))
    yield s
    s.close()


def collapse(statuses):
    out = []
    for s in statuses:
        if not out or out[-1] != s:
            out.append(s)
    return out


def test_one_commune_end_to_end(stack):
    http = stack.session()
    sut = HttpSUT(PROVINCIAL_URL, stack.sut_token, http)
    province = sut.describe()["provinces"][0]
    assert province["bootstrap"]["portal_catalogue"]["error"] is None

    # a citizen of the commune logs in to the provincial system through national SSO
    resp = login_at_relying_party(http, province["login_url"], f"citizen:{UNIT.code}:0")
    assert resp.status_code == 200, resp.text
    assert sut.session(resp.json()["session"])["user"]["SoDinhDanh"] == resp.json()["user"]["SoDinhDanh"]

    # ... submits online on the portal; the portal forwards it to the province
    tokens = portal_citizen_login(http, stack.urls["portal"], stack.admin("portal").get("/portal/client"),
                                  f"citizen:{UNIT.code}:0")
    portal_code = submit_dossier(http, stack.urls["portal"], tokens.access_token, procedure="2.000815",
                                 ward=UNIT.code, form={"SoBanSao": 2})
    stack.tick()
    [dossier] = sut.dossiers(portal_code=portal_code)
    code = dossier["code"]
    assert dossier["ward"] == UNIT.code and dossier["status"] == 1

    # officers work it; the fee is paid into the commune's own account
    sut.act(code, "receive")
    sut.act(code, "process")
    fee = sut.act(code, "request_fee")["payment"]
    assert fee["account"] == stack.admin("payment").get(f"/payment/accounts/{UNIT.code}")["TKThuHuong"]
    pay(http, fee["pay_url"], bank="VCB")
    stack.tick()
    assert sut.dossier(code)["status"] == 4
    sut.act(code, "finish")
    sut.act(code, "return")
    stack.tick()

    mine = sut.dossier(code)
    assert mine["status"] == 10
    [portal] = stack.backend("portal").dossiers(tenant=PROVINCE, commune=UNIT.code)
    assert portal["MaHoSo"] == code and portal["TrangThaiHoSo"] == 10
    assert collapse([h["TrangThai"] for h in portal["LichSu"]]) == [h["status"] for h in mine["history"]]
    progress = [(h["TrangThai"], h["ThoiDiem"]) for h in portal["LichSu"] if h["DichVu"] == "CapNhatTienDoHoSoMC"]
    assert progress == [(h["status"], h["at"]) for h in mine["history"]]

    # the result is signed by the province's officer and carries its own dossier code
    url = portal["DanhSachGiayToKetQua"][0]["DuongDanTepTinKetQua"]
    pdf = http.get(url).content
    root = x509.load_pem_x509_certificate(http.get(f"{stack.urls['ca']}/ca/root.pem").content)
    crl = http.get(f"{stack.urls['ca']}/ca/crl").content
    verdict = verify_result_pdf(pdf, trust_roots=[root], crl=crl, expected_dossier_code=code,
                                now=stack.apps["ca"].extensions["cutover"].clock.now())
    assert verdict.ok, verdict.problems


def test_axis_document_to_a_commune_is_acknowledged_with_03_and_06(stack):
    from datetime import date

    from clients.axis import AxisSession, document, send_document
    from protocols.edxml import Organization

    http = stack.session()
    sut = HttpSUT(PROVINCIAL_URL, stack.sut_token, http)
    assert sut.describe()["provinces"][0]["bootstrap"]["axis_publish"]["error"] is None
    ministry = registry().ministries()[2]
    secret = stack.admin("docaxis").tenant(ministry.code.split(".")[-1])["secret"]
    axis = AxisSession(stack.urls["docaxis"], ministry.code.split(".")[-1], secret, http)
    pkg = document(Organization(ministry.code, ministry.name), [Organization(UNIT.agency_code, UNIT.committee_name)],
                   subject="V/v triển khai chính quyền hai cấp", number="15", notation="BCT-VP", when=date(2025, 7, 1))
    sent = send_document(axis, pkg)
    assert sent["delivered"] == 1
    sut.tick()
    [got] = sut.received_documents(agency=UNIT.agency_code)
    assert got["status"] == "06" and got["sender"] == ministry.code
    codes = [s["statusCode"] for s in axis.sent(sent["DocID"])["statusResult"]]
    assert codes == ["01", "03", "06"]


def test_in_process_driver_settles_the_whole_stack(stack):
    from cutover.sut import InProcessSUT

    sut = InProcessSUT(stack, PROVINCIAL_URL)
    http = stack.session()
    tokens = portal_citizen_login(http, stack.urls["portal"], stack.admin("portal").get("/portal/client"),
                                  f"citizen:{UNIT.code}:1")
    code = submit_dossier(http, stack.urls["portal"], tokens.access_token, procedure="1.001193", ward=UNIT.code)
    assert sut.dossiers(portal_code=code) == []  # still in the portal's outbox
    assert sut.tick()["stack_delivered"] >= 1
    assert [d["portal_code"] for d in sut.dossiers(portal_code=code)] == [code]

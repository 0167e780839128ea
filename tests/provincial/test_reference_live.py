"""The end-to-end test of tests/provincial/test_reference_e2e.py with every process on a real local port.

The mocks run under gunicorn as `cutover serve` starts them (the live supervisor's `start_mocks`);
the reference system runs as its own gunicorn process (`start_reference`: provisioned with the
running mocks by `cutover.reference.provision`, configured by the YAML file named by
`CUTOVER_PROVINCIAL_CONFIG`), all sharing one SQLite file. Background work runs in each process's outbox thread, so the test
waits for each outcome with a bounded poll (a deadline, not a timed assertion).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any, TypeVar

import pytest
import requests
from cryptography import x509

from clients.admin import AdminClient
from clients.axis import AxisSession, document, send_document
from clients.driver import HttpSUT
from cutover.flows.pay import pay
from cutover.flows.sso import login_at_relying_party, portal_citizen_login
from cutover.flows.submit import submit_dossier
from cutover.supervisor import REFERENCE_PORT_OFFSET, Supervisor, free_port_block
from protocols.edxml import Organization
from protocols.signed_result import verify_result_pdf
from refdata.units import registry

pytestmark = [pytest.mark.live]

PROVINCE = "31"
UNIT = registry().units(PROVINCE)[5]
SERVICES = ["portal", "payment", "docaxis", "ca"]
HOST = "127.0.0.1"
WAIT_SECONDS = 20.0
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], seconds: float = WAIT_SECONDS) -> T:
    """Poll `probe` until it returns something truthy, up to a deadline; fail naming `what`."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while True:
        try:
            last = probe()
        except (requests.RequestException, ValueError, KeyError, IndexError) as exc:
            last = exc
            value = None
        else:
            value = last
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds:.0f} s for {what}; last seen: {last!r}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("live")
    database_url = f"sqlite:///{workdir}/live.db"
    token = "live-admin-token"
    base = free_port_block(REFERENCE_PORT_OFFSET + 1, HOST)
    with Supervisor(host=HOST, workers=1, threads=4) as supervisor:
        urls = supervisor.start_mocks(SERVICES, port=base, database_url=database_url, admin_token=token)
        # the reference system: provisioned with the running mocks, configured by a YAML file, own gunicorn
        system_url, settings = supervisor.start_reference(urls, port=base + REFERENCE_PORT_OFFSET, admin_token=token,
                                                   provinces=[PROVINCE], database_url=database_url, workdir=workdir)
        http = requests.Session()
        admins = {name: AdminClient(urls[name], token, http) for name in SERVICES}
        yield {"urls": urls, "system_url": system_url, "token": token, "admins": admins, "http": http,
               "sut_token": settings["CERT_TOKEN"]}


def test_one_commune_end_to_end_live(live: dict[str, Any]) -> None:
    http: requests.Session = live["http"]
    urls, admins = live["urls"], live["admins"]
    sut = HttpSUT(live["system_url"], live["sut_token"], http)
    province = sut.describe()["provinces"][0]
    assert province["bootstrap"]["portal_catalogue"]["error"] is None
    assert province["bootstrap"]["officer_certificate"]["done_at"]

    # a citizen logs in to the provincial system through national SSO, over real HTTP
    resp = login_at_relying_party(http, province["login_url"], f"citizen:{UNIT.code}:0")
    assert resp.status_code == 200, resp.text
    session = sut.session(resp.json()["session"])
    assert session is not None and session["user"]["SoDinhDanh"] == resp.json()["user"]["SoDinhDanh"]

    # ... submits on the portal; the portal's outbox thread forwards it to the province
    tokens = portal_citizen_login(http, urls["portal"], admins["portal"].get("/portal/client"),
                                  f"citizen:{UNIT.code}:0")
    portal_code = submit_dossier(http, urls["portal"], tokens.access_token, procedure="2.000815",
                                 ward=UNIT.code, form={"SoBanSao": 2})
    [dossier] = wait_for("the forwarded dossier", lambda: sut.dossiers(portal_code=portal_code))
    code = dossier["code"]
    assert dossier["ward"] == UNIT.code and dossier["status"] == 1

    sut.act(code, "receive")
    sut.act(code, "process")
    fee = sut.act(code, "request_fee")["payment"]
    assert fee["account"] == admins["payment"].get(f"/payment/accounts/{UNIT.code}")["TKThuHuong"]
    pay(http, fee["pay_url"], bank="VCB")
    wait_for("the payment callback", lambda: sut.dossier(code)["status"] == 4)
    sut.act(code, "finish")
    sut.act(code, "return")

    mine = sut.dossier(code)
    assert mine["status"] == 10
    expected = [(h["status"], h["at"]) for h in mine["history"]]

    def synced() -> dict[str, Any] | None:
        found = [d for d in admins["portal"].get("/portal/dossiers", tenant=PROVINCE, commune=UNIT.code)["dossiers"]
                 if d["MaHoSo"] == code]
        if not found:
            return None
        progress = [(h["TrangThai"], h["ThoiDiem"]) for h in found[0]["LichSu"]
                    if h["DichVu"] == "CapNhatTienDoHoSoMC"]
        return found[0] if progress == expected else None

    portal = wait_for("the whole history on the portal", synced)
    assert portal["TrangThaiHoSo"] == 10
    statuses: list[int] = []
    for h in portal["LichSu"]:
        if not statuses or statuses[-1] != h["TrangThai"]:
            statuses.append(h["TrangThai"])
    assert statuses == [s for s, _ in expected]

    # the result the portal lists is signed by the province's officer, for this dossier
    pdf = http.get(portal["DanhSachGiayToKetQua"][0]["DuongDanTepTinKetQua"]).content
    root = x509.load_pem_x509_certificate(http.get(f"{urls['ca']}/ca/root.pem").content)
    crl = http.get(f"{urls['ca']}/ca/crl").content
    now = datetime.fromisoformat(admins["ca"].clock()["now"])
    verdict = verify_result_pdf(pdf, trust_roots=[root], crl=crl, expected_dossier_code=code, now=now)
    assert verdict.ok, verdict.problems


def test_axis_document_to_a_commune_is_acknowledged_live(live: dict[str, Any]) -> None:
    http: requests.Session = live["http"]
    urls, admins = live["urls"], live["admins"]
    sut = HttpSUT(live["system_url"], live["sut_token"], http)
    assert sut.describe()["provinces"][0]["bootstrap"]["axis_publish"]["error"] is None
    ministry = registry().ministries()[2]
    system = ministry.code.split(".")[-1]
    axis = AxisSession(urls["docaxis"], system, admins["docaxis"].tenant(system)["secret"], http)
    pkg = document(Organization(ministry.code, ministry.name), [Organization(UNIT.agency_code, UNIT.committee_name)],
                   subject="V/v triển khai chính quyền hai cấp", number="16", notation="BCT-VP",
                   when=date(2025, 7, 1))
    sent = send_document(axis, pkg)
    assert sent["delivered"] == 1
    sut.tick()  # the province polls the axis (the certification driver's "run due work now")
    [got] = wait_for("the document at the commune", lambda: sut.received_documents(agency=UNIT.agency_code,
                                                                                   doc_id=sent["DocID"]))
    assert got["status"] == "06" and got["sender"] == ministry.code
    codes = [s["statusCode"] for s in axis.sent(sent["DocID"])["statusResult"]]
    assert codes == ["01", "03", "06"]

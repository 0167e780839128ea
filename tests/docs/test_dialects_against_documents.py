"""The documents tell the truth in every client dialect: the §4.8 vectors (the requests OpenCPS and
the .NET client send, from tests/mocks/*/test_*_dialects.py) are played against an in-process portal
and payment platform once per dialect of `protocols.dialects`, and every exchange the mocks
journaled is held against the published documents *as they read for that dialect* (the variants of
the other dialects taken out), so an answer that only another dialect promises is a finding.

Why not a reference certification in the default dialect: the reference system reads a portal
refusal by its HTTP status (a 4xx is final, a 401 means "log in again"), which the default dialect
answers as HTTP 200; it registers `strict`, and its run is held to `strict` in
test_journals_against_documents.py. The last tests show this check failing on a document that
leaves a dialect's variant out.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from cutover.stack import Stack
from mocks.core.openapi import COLUMNS, COLUMNS_KEY, DIALECTS_KEY
from protocols import payment as proto
from protocols.dialects import DEFAULT_DIALECT, DIALECTS
from refdata.units import registry
from tests.mocks.national_portal.portal_support import PROVINCE, hoso, tien_do
from tests.mocks.national_portal.test_portal_dialects import opencps_hoso
from tests.mocks.payment_gw.payment_support import UNIT, Receiver, receipt
from tests.mocks.payment_gw.test_payment_dialects import dotnet_fee_line

from .journal_check import PublishedDocument, Tally, check_journal
from .published import MOCKS, document

CALLBACK_URL = "http://province.test/payment/callback"
BIG = {"JOURNAL_MAX_BODY": 4_000_000}  # a receipt's PDF is journaled whole

# What each dialect's run must have shown, so that a run that did little cannot pass by saying nothing.
MUST_SEE = {
    "portal": {"POST /api/auth", "POST /api/integration", "POST /api/share"},
    "payment": {"POST /api/payment", "POST /api/pay/{token}/confirm", "webhook paymentCallback"},
}


JOURNALED_TYPES = {"application/json", "text/plain", "application/xml", "text/xml"}  # mocks/core/app.py


def fill_answers(entries: list[dict[str, Any]], answers: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The journal's entries with the answers it keeps no body of (a PDF) put back, from the client's copy,
    in order: so that an answer the journal cannot show is held against the document too."""
    blank = [e for e in entries if e["direction"] == "in" and 200 <= (e["status"] or 0) < 300
             and not e.get("response_body")]
    assert len(blank) == len(answers), f"{len(blank)} journaled answers without a body, {len(answers)} received"
    for entry, (ctype, body) in zip(blank, answers, strict=True):
        entry.update(response_body=body, response_type=ctype)
    return entries


@dataclass
class Run:
    """The journal entries of one dialect's run, by service."""

    dialect: str
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class Province:
    """Province 31 speaking one dialect to the portal and the payment platform, with raw HTTP calls."""

    def __init__(self, stack: Stack, dialect: str, tag: str) -> None:
        self.stack, self.tag, self.http = stack, tag, stack.session()
        self.unjournaled: list[tuple[str, str]] = []
        """(content type, body) of the answers whose body the journal does not keep (binary: the receipt)."""
        self.http.hooks["response"].append(self._keep_binary)
        portal = stack.admin("portal")
        tenant = portal.tenant(PROVINCE)
        portal.put_tenant(PROVINCE, {**tenant, "dialect": dialect})
        self.adapter = tenant["adapter"]
        self.partner = stack.admin("payment")._call("PUT", f"/payment/partners/{PROVINCE}",
                                                    json={"callback_url": CALLBACK_URL, "dialect": dialect})
        self.madonvi = registry().province(PROVINCE).agency_code
        self.session = ""

    def _keep_binary(self, resp: Any, *args: Any, **kwargs: Any) -> None:
        ctype = resp.headers.get("Content-Type", "").split(";")[0]
        if resp.ok and resp.content and ctype not in JOURNALED_TYPES:
            self.unjournaled.append((ctype, resp.content.decode("latin-1")))

    # -- the portal's adapter API -----------------------------------------------------------

    def auth(self, password: str | None = None) -> Any:
        resp = self.http.post(f"{self.stack.urls['portal']}/api/auth", headers={"dstcode": PROVINCE},
                              json={"username": self.adapter["username"],
                                    "password": password or self.adapter["password"]})
        if password is None:
            self.session = resp.json()["session"]
        return resp

    def call(self, service: str, path: str = "/api/integration", session: str | None = None, **body: Any) -> Any:
        return self.http.post(f"{self.stack.urls['portal']}{path}", json={
            "session": self.session if session is None else session, "madonvi": self.madonvi, "service": service,
            **body})

    def portal_vectors(self) -> None:
        """§4.8 about the portal: refusals, success codes, LayThuTuc's keys, OpenCPS's HoSo."""
        code, lenient = f"DOC-{self.tag}-1", f"DOC-{self.tag}-2"
        self.auth("not-the-password")  # refused: 401, or 200 with -2
        self.auth()
        self.call("KhaiBaoCoQuan", data=[{"MaCoQuan": u.agency_code, "TenCoQuan": u.committee_name,
                                          "MaDonViHanhChinh": u.code, "LoaiCoQuan": "commune"}
                                         for u in registry().units(PROVINCE)])
        self.call("DongBoHoSoMC", isUpdating="False", data=[hoso(code, 2)])
        self.call("DongBoHoSoMC", isUpdating="False", data=[hoso(code, 2)])  # -3 đã tồn tại
        self.call("CapNhatTienDoHoSoMC", data=[tien_do(code, 4, "20250701090000")])
        self.call("DongBoHoSoMC", isUpdating="False", data=[opencps_hoso(lenient)])  # refused by strict only
        self.call("DongBoHoSoMC", isUpdating="False", data=[{**opencps_hoso(f"{lenient}x"),
                                                             "DonViXuLy": "UBND xã Không Có"}])  # unknown name
        for mahoso in (code, lenient, "DOC-NONE"):
            self.call("TraCuuHoSo", path="/api/share", mahoso=mahoso)
        self.call("LayThuTuc", path="/api/share", maTTHC="1.001193")
        self.call("LayThuTuc", path="/api/share")  # refused: no procedure code
        self.call("LayDanhMucCoQuan", path="/api/share")
        self.call("TraCuuHoSo", path="/api/share", session="expired", mahoso=code)  # -2 session

    # -- the payment platform -----------------------------------------------------------------

    def pay(self, msg: dict[str, Any]) -> Any:
        return self.http.post(f"{self.stack.urls['payment']}/api/payment", json=msg)

    def payment_vectors(self) -> None:
        """§4.8 about the platform: fee kinds as words, QUERY's fields, GET_BILL as PDF or JSON."""
        secret, partner = self.partner["secret"], self.partner["MaDoiTac"]
        now = self.stack.apps["payment"].extensions["cutover"].clock.now()
        refs = [f"DOC-{self.tag}-{i}" for i in range(3)]
        init = proto.build_init(partner, secret, refs[0], 50000, receipt(50000, UNIT), now)
        answer = self.pay(init)
        token = proto.init_payment_url(answer.json()).rsplit("/", 1)[1]
        self.pay(proto.build_init(partner, secret, refs[1], 50000,
                                  receipt(50000, UNIT, PhiLePhi=[dotnet_fee_line(50000)]), now))  # strict refuses
        self.pay({**proto.build_init(partner, secret, refs[2], 50000, receipt(50000, UNIT), now),
                  "MaXacThuc": "0" * 64})  # refused: bad hash
        self.pay(proto.build_query(partner, secret, refs[0], now, kind=proto.GET_BILL))  # not paid yet: refused
        confirmed = self.http.post(f"{self.stack.urls['payment']}/api/pay/{token}/confirm",
                                   json={"MaNganHang": "NCB"})
        assert confirmed.status_code == 200, confirmed.text
        self.stack.tick()  # the callback
        for kind in (proto.QUERY, proto.GET_BILL):
            got = self.pay(proto.build_query(partner, secret, refs[0], now, kind=kind))
            assert got.status_code == 200, got.text


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    stack = Stack(["portal", "payment"], workdir=str(tmp_path_factory.mktemp("dialects")),
                  config={"portal": BIG, "payment": BIG})
    receiver = Receiver("")
    stack.transport.mount_app("http://province.test", receiver.app())
    admins = {name: stack.admin(name) for name in MOCKS if name in stack.apps}
    out: dict[str, Run] = {}
    try:
        for i, name in enumerate(DIALECTS):
            marks = {service: admin.journal_mark() for service, admin in admins.items()}
            province = Province(stack, name, f"{i}{name[:3].upper()}")
            province.portal_vectors()
            province.payment_vectors()
            entries = {service: admin.journal_all(after_id=marks[service]) for service, admin in admins.items()}
            fill_answers(entries["payment"], province.unjournaled)
            out[name] = Run(name, entries)
        yield out
    finally:
        stack.close()


def check(run: Run, service: str, doc: dict[str, Any] | None = None) -> Tally:
    published = PublishedDocument(doc or document(service), dialect=run.dialect)
    return check_journal(published, service, run.entries[service], adapter_answers=service == "portal")


@pytest.mark.parametrize("service", list(MUST_SEE))
@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_every_exchange_of_each_dialect_validates_against_the_document(
        runs: dict[str, Run], dialect: str, service: str) -> None:
    tally = check(runs[dialect], service)
    assert tally.findings == [], f"{len(tally.findings)} finding(s):\n" + "\n".join(tally.findings[:30])
    assert set(tally.by_operation) >= MUST_SEE[service], sorted(tally.by_operation)
    assert tally.bodies >= tally.entries  # every exchange had a body that was validated


def test_the_runs_played_each_dialects_variants(runs: dict[str, Run]) -> None:
    """The vectors reached the variants (not only the paths they share): refusals answered 200 where the
    dialect says so and with their status elsewhere, GET_BILL as PDF bytes or JSON, "00" or 0."""
    for name, run in runs.items():
        d = DIALECTS[name]
        portal = [e for e in run.entries["portal"] if e["direction"] == "in"]
        codes = [(_answer(e).get("error_code", "none"), e["status"]) for e in portal]
        refused = [status for code, status in codes if code == -3]
        assert refused and set(refused) == ({200} if d.errors_as_http_200 else {409}), name
        assert any(code == d.success_code and type(code) is type(d.success_code) for code, _ in codes), name
        bills = [e for e in run.entries["payment"] if (e.get("response_body") or "").startswith("%PDF-")]
        assert bool(bills) == (d.receipt == "pdf"), name


def _answer(entry: dict[str, Any]) -> dict[str, Any]:
    """The journalled answer's JSON object ({} for any other body)."""
    try:
        body = json.loads(entry.get("response_body") or "")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def test_every_column_of_the_dialect_table_is_described() -> None:
    """A column added to protocols.dialects (a new §4.8 difference) fails here until a document describes it."""
    seen: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            seen.update(node.get(COLUMNS_KEY, ()))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    for name in ("portal", "payment"):
        walk(document(name))
        table = document(name)["info"]["x-cutover-dialects"]
        assert table["default"] == DEFAULT_DIALECT and set(table["dialects"]) == set(DIALECTS)
        assert table["guide"].startswith("docs/vendor-guide.md#")
    assert seen == set(COLUMNS), f"not described in any document: {sorted(set(COLUMNS) - seen)}"


# -- the check can fail --------------------------------------------------------------------------

def without_variant(name: str, dialect: str, path: list[str]) -> dict[str, Any]:
    """A copy of the document whose variant at `path` (an anyOf) no longer serves `dialect`."""
    doc = copy.deepcopy(document(name))
    node: Any = doc
    for key in path:
        node = node[key]
    kept = [v for v in node["anyOf"] if dialect not in v.get(DIALECTS_KEY, ())]
    assert len(kept) < len(node["anyOf"]), f"{path} has no variant for {dialect}"
    node["anyOf"] = kept
    return doc


def test_a_success_code_left_undocumented_fails(runs: dict[str, Run]) -> None:
    """The document forgets that the default dialect answers success as "00": its successes fail."""
    doc = without_variant("portal", DEFAULT_DIALECT, ["components", "schemas", "AdapterOk", "properties", "error_code"])
    findings = check(runs[DEFAULT_DIALECT], "portal", doc).findings
    assert findings and all("-> 200: the answer" in f for f in findings), findings[:3]
    assert any("error_code" in f for f in findings), findings[:3]
    assert check(runs["strict"], "portal", doc).findings == []  # strict's 0 is still documented


def test_a_refusal_answered_200_left_undocumented_fails(runs: dict[str, Run]) -> None:
    """Without the refusal-as-HTTP-200 variant, the default dialect's "-3 đã tồn tại" (HTTP 200) fails."""
    doc = copy.deepcopy(document("portal"))
    for path in ("/api/integration", "/api/share", "/api/auth"):
        schema = doc["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
        schema["anyOf"] = [v for v in schema["anyOf"] if DIALECTS_KEY not in v]
    findings = check(runs[DEFAULT_DIALECT], "portal", doc).findings
    assert any("POST /api/integration -> 200: the answer: (body): 'result' is a required property" in f
               for f in findings), findings[:3]
    assert check(runs["strict"], "portal", doc).findings == []


def test_a_4xx_promised_to_the_wrong_dialect_fails(runs: dict[str, Run]) -> None:
    """Strict keeps the refusal's status: a document whose 4xx answers serve only the default dialect fails."""
    doc = copy.deepcopy(document("portal"))
    doc["components"]["responses"]["AdapterRefusal"][DIALECTS_KEY] = [DEFAULT_DIALECT]
    findings = check(runs["strict"], "portal", doc).findings
    assert any("-> 409" in f and "status 409 is not among the documented answers in the dialect strict" in f
               for f in findings), findings[:3]


def test_a_pdf_receipt_left_undocumented_fails(runs: dict[str, Run]) -> None:
    doc = copy.deepcopy(document("payment"))
    del doc["paths"]["/api/payment"]["post"]["responses"]["200"]["content"]["application/pdf"]
    findings = check(runs[DEFAULT_DIALECT], "payment", doc).findings
    assert findings == [f for f in findings if "is pdf" in f and "does not declare in the dialect compatible" in f]
    assert len(findings) == 1
    assert check(runs["strict"], "payment", doc).findings == []  # strict's receipt is JSON


def test_upper_case_lay_thu_tuc_left_undocumented_fails(runs: dict[str, Run]) -> None:
    items: list[Any] = ["components", "schemas", "LayThuTucAnswer", "allOf", 1, "properties", "result", "items"]
    findings = check(runs["opencps"], "portal", without_variant("portal", "opencps", items)).findings
    assert findings and all("/api/share -> 200: the answer" in f for f in findings), findings[:3]
    assert any("TENTTHC" in f or "LINHVUCTHUCHIEN" in f for f in findings), findings[:3]


def test_an_opencps_hoso_left_undocumented_fails(runs: dict[str, Run]) -> None:
    """OpenCPS's HoSo (no KenhThucHien, DonViXuLy a name), accepted by the portal, is a finding without its variant."""
    doc = without_variant("portal", "opencps", ["components", "schemas", "HoSo"])
    findings = check(runs["opencps"], "portal", doc).findings
    assert any("POST /api/integration -> 200: the request body" in f and "KenhThucHien" in f for f in findings), \
        findings[:3]
    assert check(runs["strict"], "portal", doc).findings == []


def test_a_query_answer_documented_for_the_wrong_dialect_fails(runs: dict[str, Run]) -> None:
    """A document that says dotnet's QUERY answer carries MoTa (as the default's does) fails dotnet's answers."""
    doc = copy.deepcopy(document("payment"))
    for variant in doc["components"]["schemas"]["QueryAnswer"]["allOf"][0]["anyOf"]:
        names = variant[DIALECTS_KEY]
        variant[DIALECTS_KEY] = [*names, "dotnet"] if DEFAULT_DIALECT in names else [n for n in names if n != "dotnet"]
    findings = check(runs["dotnet"], "payment", doc).findings
    queries = [e["id"] for e in runs["dotnet"].entries["payment"] if '"LoaiBanTin": "QUERY"' in (e["request_body"] or "")]
    assert [f.split(" ")[1] for f in findings] == [f"#{i}" for i in queries], findings[:3]  # the QUERY answer only
    assert check(runs["dotnet"], "payment").findings == []

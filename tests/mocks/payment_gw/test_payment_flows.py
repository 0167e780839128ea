"""The platform end to end in-process: INIT, pay page API, callbacks, QUERY, GET_BILL, reconciliation."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zlib
from pathlib import Path

from mocks.payment_gw.models import TEST_OUTCOMES
from mocks.payment_gw.scenarios import MAGIC_AMOUNTS, TEST_BANKS
from protocols import payment as proto
from tests.mocks.payment_gw.payment_support import (
    ADMIN,
    PROVINCE,
    UNIT,
    Platform,
    make_platform,
    platform,
    receipt,
)

__all__ = ["platform"]  # the fixture, imported for pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "payment-test-banks.md"


def _paid_flow(p: Platform, amount: int = 50000, bank: str = "NCB") -> tuple[dict, dict]:
    msg, url = p.init(amount)
    outcome = p.confirm(url, bank)
    return msg, outcome


def test_success_callback_verified_and_query_paid(platform: Platform):
    msg, url = platform.init(50000)
    ref = msg["MaThamChieu"]
    assert url.startswith("http://localhost/pay/")
    assert platform.state(ref) == 3  # created, awaiting the payer
    outcome = platform.confirm(url, "NCB")
    assert outcome["TrangThaiGD"] == 1 and outcome["MaLoi"] == "00"
    assert platform.run_outbox()["delivered"] == 1
    [cb] = platform.receiver.by_reference(ref)
    assert cb["_valid"] and cb["MaLoi"] == "00" and cb["LoaiBanTin"] == "Confirm"
    assert cb["SoTien"] == 50000 and isinstance(cb["SoTien"], int) and cb["MaGiaoDich"] == outcome["MaGiaoDich"]
    q = platform.query(ref).json
    assert q["TrangThaiGD"] == 1 and q["error_code"] == "0" and q["MaGiaoDich"] == outcome["MaGiaoDich"]


def test_init_is_idempotent_per_reference(platform: Platform):
    msg, url = platform.init(30000)
    again = platform.client.post("/api/payment", json=msg)
    assert again.status_code == 200 and proto.init_payment_url(again.json) == url
    assert len(platform.transactions()) == 1


def test_second_confirm_is_refused_and_changes_nothing(platform: Platform):
    msg, url = platform.init(30000)
    platform.confirm(url, "NOFUNDS")
    token = url.rsplit("/", 1)[1]
    r = platform.client.post(f"/api/pay/{token}/confirm", json={"MaNganHang": "NCB", "action": "confirm"})
    assert r.status_code == 409 and r.json["field"] == "token" and r.json["error_code"] != "0"
    assert platform.state(msg["MaThamChieu"]) == 4


def test_bank_success_vcb(platform: Platform):
    msg, outcome = _paid_flow(platform, 20000, "VCB")
    platform.run_outbox()
    assert [c["MaLoi"] for c in platform.receiver.by_reference(msg["MaThamChieu"])] == ["00"]
    assert platform.state(msg["MaThamChieu"]) == 1


def test_bank_insufficient_funds(platform: Platform):
    msg, outcome = _paid_flow(platform, 20000, "NOFUNDS")
    assert outcome["TrangThaiGD"] == 4 and outcome["MaLoi"] == "51"
    platform.run_outbox()
    [cb] = platform.receiver.by_reference(msg["MaThamChieu"])
    assert cb["MaLoi"] == "51" and cb["_valid"]
    q = platform.query(msg["MaThamChieu"]).json
    assert q["TrangThaiGD"] == 4 and q["MaLoi"] == "51"


def test_cancelled_by_payer(platform: Platform):
    msg, url = platform.init(20000)
    outcome = platform.confirm(url, "NCB", action="cancel")
    assert outcome["TrangThaiGD"] == 4 and outcome["MaLoi"] == "24"
    platform.run_outbox()
    assert [c["MaLoi"] for c in platform.receiver.by_reference(msg["MaThamChieu"])] == ["24"]
    assert platform.state(msg["MaThamChieu"]) == 4


def test_magic_timeout_no_callback_until_deadline(platform: Platform):
    msg, url = platform.init(11000)
    ref = msg["MaThamChieu"]
    assert platform.confirm(url)["TrangThaiGD"] == 3
    assert platform.run_outbox()["attempted"] == 0
    platform.advance(899)
    assert platform.run_outbox()["attempted"] == 0 and platform.receiver.calls == []
    assert platform.state(ref) == 3
    platform.advance(1)
    assert platform.state(ref) == 4
    assert platform.run_outbox()["delivered"] == 1
    [cb] = platform.receiver.by_reference(ref)
    assert cb["MaLoi"] == "11" and cb["_valid"]


def test_magic_debited_but_flagged(platform: Platform):
    msg, url = platform.init(12000)
    ref = msg["MaThamChieu"]
    outcome = platform.confirm(url)
    assert outcome["TrangThaiGD"] == 3 and outcome["MaLoi"] == "07"
    platform.run_outbox()
    assert [c["MaLoi"] for c in platform.receiver.by_reference(ref)] == ["07"]
    q = platform.query(ref).json
    assert q["TrangThaiGD"] == 3 and "pending review" in q["MoTa"]
    assert platform.query(ref, proto.GET_BILL).status_code == 409  # no receipt while under review
    platform.advance(3600)
    assert platform.state(ref) == 1
    platform.run_outbox()
    assert [c["MaLoi"] for c in platform.receiver.by_reference(ref)] == ["07", "00"]


def test_magic_duplicated_callback(platform: Platform):
    msg, url = platform.init(13000)
    platform.confirm(url)
    assert platform.run_outbox()["delivered"] == 2
    calls = platform.receiver.by_reference(msg["MaThamChieu"])
    assert len(calls) == 2 and calls[0] == calls[1] and calls[0]["MaLoi"] == "00" and calls[0]["_valid"]
    assert platform.state(msg["MaThamChieu"]) == 1


def test_magic_delayed_callback(platform: Platform):
    msg, url = platform.init(14000)
    platform.confirm(url)
    assert platform.state(msg["MaThamChieu"]) == 1  # paid at once: QUERY knows before the callback
    assert platform.run_outbox()["attempted"] == 0
    platform.advance(599)
    assert platform.run_outbox()["attempted"] == 0
    platform.advance(1)
    assert platform.run_outbox()["delivered"] == 1
    assert [c["MaLoi"] for c in platform.receiver.by_reference(msg["MaThamChieu"])] == ["00"]


def test_magic_callbacks_out_of_order(platform: Platform):
    msg, url = platform.init(15000)
    platform.confirm(url)
    assert platform.run_outbox()["delivered"] == 2
    first, second = platform.receiver.by_reference(msg["MaThamChieu"])
    assert first["MaLoi"] == "00" and second["MaLoi"] == "99"
    assert first["MaGiaoDich"] == second["MaGiaoDich"] and first["_valid"] and second["_valid"]
    assert second["ThoiGianGD"] < first["ThoiGianGD"]  # the stale failure happened earlier
    assert platform.state(msg["MaThamChieu"]) == 1


def test_unconfirmed_payment_expires(platform: Platform):
    msg, url = platform.init(20000)
    platform.advance(900)
    assert platform.state(msg["MaThamChieu"]) == 4
    token = url.rsplit("/", 1)[1]
    r = platform.client.post(f"/api/pay/{token}/confirm", json={"MaNganHang": "NCB"})
    assert r.status_code == 410 and r.json["field"] == "token"


def test_callback_fails_three_times_then_delivered_once(platform: Platform):
    platform.receiver.script = [500, 503, 502]
    msg, url = platform.init(20000)
    platform.confirm(url)
    assert platform.run_outbox()["failed"] == 1
    for wait in (1, 2):  # backoff 1 s, 2 s, 4 s on the test clock
        platform.advance(wait)
        assert platform.run_outbox()["failed"] == 1
    platform.advance(4)
    assert platform.run_outbox()["delivered"] == 1
    assert platform.receiver.hits == 4 and len(platform.receiver.calls) == 1
    code = platform.query(msg["MaThamChieu"]).json["MaGiaoDich"]
    detail = platform.client.get(f"/_admin/payment/transactions/{code}", headers=ADMIN).json
    [cb] = detail["callbacks"]
    assert cb["status"] == "delivered" and cb["attempts"] == 4
    assert [a["acknowledged"] for a in cb["attempt_log"]] == [False, False, False, True]
    platform.advance(3600)
    assert platform.run_outbox()["attempted"] == 0


def test_callback_given_up_after_limit_and_reported(tmp_path):
    p = make_platform(tmp_path, OUTBOX_MAX_ATTEMPTS=3)
    p.receiver.script = [500] * 10
    msg, url = p.init(20000)
    p.confirm(url)
    outcomes = []
    for _ in range(3):
        outcomes.append(p.run_outbox())
        p.advance(60)
    assert outcomes[-1]["dead"] == 1
    dead = p.client.get("/_admin/outbox?status=dead", headers=ADMIN).json["messages"]
    assert len(dead) == 1 and dead[0]["correlation"]["MaThamChieu"] == msg["MaThamChieu"]
    assert p.receiver.hits == 3 and p.receiver.calls == []


def test_get_bill_returns_a_pdf_with_the_transaction_code(platform: Platform):
    msg, outcome = _paid_flow(platform, 50000)
    r = platform.query(msg["MaThamChieu"], proto.GET_BILL)
    # The default dialect answers the bytes, as the .NET client reads them (DESIGN §4.8).
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pdf = r.data
    assert pdf.startswith(b"%PDF")
    code = outcome["MaGiaoDich"].encode()
    inflated = b"".join(zlib.decompress(m) for m in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
                        if m[:1] == b"x")
    assert code in pdf or code in inflated  # the info dictionary carries /MaGiaoDich in clear
    assert b"/MaGiaoDich" in pdf


def test_get_bill_refused_when_not_paid(platform: Platform):
    msg, url = platform.init(20000)
    r = platform.query(msg["MaThamChieu"], proto.GET_BILL)
    assert r.status_code == 409 and r.json["field"] == "MaThamChieu"


def _recon(p: Platform, fmt: str, signature: str | None = None):
    day = "20250701"
    sig = signature if signature is not None else proto.ma_xac_thuc_reconciliation(f"P{PROVINCE}", day, p.secret)
    return p.client.get(f"/api/reconciliation/P{PROVINCE}/{day}.{fmt}?MaXacThuc={sig}")


def test_reconciliation_lists_every_transaction_with_final_state(platform: Platform):
    paid, _ = _paid_flow(platform, 50000)
    failed, _ = _paid_flow(platform, 20000, "NOFUNDS")
    pending, _ = platform.init(30000)
    r = _recon(platform, "csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    expected_sig = hashlib.sha256(r.data + b"|" + platform.secret.encode()).hexdigest()
    assert r.headers["X-MaXacThuc"] == expected_sig
    rows = {row["MaThamChieu"]: row for row in csv.DictReader(io.StringIO(r.get_data(as_text=True)))}
    assert {k: v["TrangThaiGD"] for k, v in rows.items()} == {
        paid["MaThamChieu"]: "1", failed["MaThamChieu"]: "4", pending["MaThamChieu"]: "3"}
    assert rows[paid["MaThamChieu"]]["TKThuHuong"] == receipt(50000)["TKThuHuong"]
    doc = json.loads(_recon(platform, "json").data)
    assert doc["SoGiaoDich"] == 3 and doc["TongSoTienDaThanhToan"] == 50000


def test_reconciliation_needs_the_partner_signature(platform: Platform):
    r = _recon(platform, "csv", signature="0" * 64)
    assert r.status_code == 401 and r.json["field"] == "MaXacThuc"
    r = _recon(platform, "csv", signature="")
    assert r.status_code == 401 and r.json["field"] == "MaXacThuc"
    r = platform.client.get("/api/reconciliation/P31/2025-07-01.csv")
    assert r.status_code == 400 and r.json["field"] == "file"


def test_removed_commune_account_fails_with_clear_error(platform: Platform):
    assert platform.client.delete(f"/_admin/payment/accounts/{UNIT}", headers=ADMIN).status_code == 200
    r = platform.client.post("/api/payment", json=platform.init_message(20000))
    assert r.status_code == 422 and r.json["field"] == "ThongTinBienLai.TKThuHuong"
    assert "no beneficiary account configured" in r.json["message"]
    assert platform.client.put(f"/_admin/payment/accounts/{UNIT}", headers=ADMIN).status_code == 200
    platform.init(20000)


def test_reset_restores_accounts_and_forgets_transactions(platform: Platform):
    platform.init(20000)
    platform.client.delete(f"/_admin/payment/accounts/{UNIT}", headers=ADMIN)
    assert platform.client.post("/_admin/reset", headers=ADMIN).status_code == 200
    assert platform.transactions() == []
    assert platform.client.get(f"/_admin/payment/accounts/{UNIT}", headers=ADMIN).status_code == 200
    partner = platform.client.get(f"/_admin/payment/partners/{PROVINCE}", headers=ADMIN).json
    assert partner["MaDoiTac"] == "P31" and partner["callback_url"] == ""


def test_every_commune_has_its_own_account(platform: Platform):
    from refdata.units import registry

    accounts = {platform.client.get(f"/_admin/payment/accounts/{u.code}", headers=ADMIN).json["TKThuHuong"]
                for u in registry().units(PROVINCE)}
    assert len(accounts) == len(registry().units(PROVINCE))
    assert len(platform.client.get("/_admin/payment/partners", headers=ADMIN).json["partners"]) == 34


def test_pay_page_vietnamese_and_english(platform: Platform):
    msg, url = platform.init(50000)
    path = url.replace("http://localhost", "")
    vi = platform.client.get(path).get_data(as_text=True)
    assert "Xác nhận thanh toán" in vi and "50.000 ₫" in vi and "Phường Hồng Bàng" in vi
    assert msg["ThongTinBienLai"]["MaHoSo"] in vi and "Lệ phí hộ tịch" in vi and "NOFUNDS" in vi
    en = platform.client.get(path + "?lang=en").get_data(as_text=True)
    assert "Confirm payment" in en and 'lang="en"' in en
    assert platform.client.get("/pay/nonexistent").status_code == 404
    assert platform.client.get("/static/payment/pay.js").status_code == 200


def test_pay_page_form_fallback_settles(platform: Platform):
    msg, url = platform.init(50000)
    path = url.replace("http://localhost", "")
    r = platform.client.post(path, data={"MaNganHang": "VCB", "action": "confirm"})
    assert r.status_code == 200 and 'data-state="1"' in r.get_data(as_text=True)
    assert platform.state(msg["MaThamChieu"]) == 1


def test_journal_redacts_hash_and_carries_dossier(platform: Platform):
    msg, _ = platform.init(50000)
    entries = platform.client.get(f"/_admin/journal?ma_ho_so={msg['ThongTinBienLai']['MaHoSo']}",
                                  headers=ADMIN).json["entries"]
    assert entries and entries[0]["tenant"] == PROVINCE and entries[0]["commune"] == UNIT
    assert msg["MaXacThuc"] not in entries[0]["request_body"]


def test_documented_table_matches_the_code():
    text = DOC.read_text(encoding="utf-8")
    for bank in TEST_BANKS:
        assert f"`{bank}`" in text
    for amount in MAGIC_AMOUNTS:
        assert f"{amount}" in text
    rows = {line.split("|")[1].strip().split()[0].strip("`"): line for line in text.splitlines()
            if line.startswith("| `")}
    for row in TEST_OUTCOMES:
        assert f"`{row['scenario']}`" in text
        line = rows[row["scenario"]]  # the documented row names every bank and magic amount of its scenario
        for bank in (b.code for b in TEST_BANKS.values() if b.behaviour == row["scenario"]):
            assert f"`{bank}`" in line and bank in row["trigger"], (bank, line)
        for amount in (a for a, name in MAGIC_AMOUNTS.items() if name == row["scenario"]):
            assert str(amount) in line and str(amount) in row["trigger"], (amount, line)
    scenarios = {row["scenario"] for row in TEST_OUTCOMES}
    assert {b.behaviour for b in TEST_BANKS.values()} <= scenarios
    assert {s for s in scenarios if s not in ("success", "cancelled")} <= {b.behaviour for b in TEST_BANKS.values()}


# The payer chooses every scenario with a test bank, whatever the fee (magic amounts stay on NCB and VCB).
BANK_PLAYS = {"TIMEOUT": ("timeout", 3, ""), "FLAGGED": ("flagged", 3, "07"), "DUPLICATE": ("duplicate", 1, "00"),
              "DELAYED": ("delayed", 1, "00"), "OUTOFORDER": ("out_of_order", 1, "00"),
              "NOFUNDS": ("insufficient_funds", 4, "51")}


def test_every_scenario_has_a_test_bank():
    assert {scenario for scenario, _, _ in BANK_PLAYS.values()} | {"success", "cancelled"} == {
        row["scenario"] for row in TEST_OUTCOMES}


def test_a_scenario_bank_plays_its_scenario_whatever_the_amount(platform: Platform):
    for bank, (scenario, state, ma_loi) in BANK_PLAYS.items():
        for amount in (2000, 50000, 12000):  # 12000 is flagged's magic amount: the bank wins
            msg, url = platform.init(amount)
            outcome = platform.confirm(url, bank)
            assert (outcome["scenario"], outcome["TrangThaiGD"], outcome["MaLoi"]) == (scenario, state, ma_loi), (
                bank, amount, outcome)
            assert platform.state(msg["MaThamChieu"]) == state


def test_scenario_banks_send_the_scenarios_callbacks(platform: Platform):
    refs = {bank: platform.init(2000) for bank in ("TIMEOUT", "FLAGGED", "DUPLICATE", "DELAYED", "OUTOFORDER")}
    for bank, (_, url) in refs.items():
        platform.confirm(url, bank)
    platform.run_outbox()

    def seen(bank: str) -> list[str]:
        return [c["MaLoi"] for c in platform.receiver.by_reference(refs[bank][0]["MaThamChieu"])]

    assert (seen("TIMEOUT"), seen("FLAGGED"), seen("DUPLICATE"), seen("DELAYED"), seen("OUTOFORDER")) == (
        [], ["07"], ["00", "00"], [], ["00", "99"])
    platform.advance(3600)
    platform.run_outbox()
    assert (seen("TIMEOUT"), seen("FLAGGED"), seen("DELAYED")) == (["11"], ["07", "00"], ["00"])
    assert all(c["_valid"] for c in platform.receiver.calls)
    assert [platform.state(msg["MaThamChieu"]) for msg, _ in refs.values()] == [4, 1, 1, 1, 1]


def test_cancelling_wins_over_a_scenario_bank(platform: Platform):
    _, url = platform.init(2000)
    assert platform.confirm(url, "FLAGGED", action="cancel")["scenario"] == "cancelled"


def test_magic_amounts_still_play_on_success_banks(platform: Platform):
    for amount, scenario in MAGIC_AMOUNTS.items():
        _, url = platform.init(amount)
        assert platform.confirm(url, "VCB")["scenario"] == scenario


def test_admin_lists_banks_outcomes_and_timings(tmp_path):
    p = make_platform(tmp_path, PAYMENT_REVIEW_SECONDS=120)
    data = p.client.get("/_admin/payment/test-banks", headers=ADMIN).json
    assert [b["code"] for b in data["banks"]] == list(TEST_BANKS)
    assert data["outcomes"] == list(TEST_OUTCOMES)
    assert data["timings"]["PAYMENT_REVIEW_SECONDS"] == 120.0
    assert set(data["timings"]) == {"PAYMENT_PAGE_TTL_SECONDS", "PAYMENT_TIMEOUT_SECONDS", "PAYMENT_REVIEW_SECONDS",
                                    "PAYMENT_CALLBACK_DELAY_SECONDS"}


def test_pay_page_offers_every_test_bank(platform: Platform):
    _, url = platform.init(2000)
    html = platform.client.get(url.replace("http://localhost", "")).get_data(as_text=True)
    assert all(f'value="{bank}"' in html for bank in TEST_BANKS)


def test_fault_for_one_province_uses_the_platform_envelope(platform: Platform):
    rule = {"action": "error", "path": "/api/payment", "tenant": PROVINCE, "status": 503, "count": 1}
    assert platform.client.post("/_admin/faults", json=rule, headers=ADMIN).status_code == 201
    r = platform.client.post("/api/payment", json=platform.init_message(20000))
    assert r.status_code == 503 and r.json["error_code"] == "96" and r.json["field"] == "fault"
    platform.init(20000)  # the rule fired once; the next INIT goes through

"""The payment platform in each client dialect: one test per DESIGN §4.8 fact about the platform.

Requests are built as the .NET client builds them; answers are read as it reads them, with the
hashes recomputed here with hashlib (not with protocols.payment), so a shared mistake cannot hide.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from protocols import payment as proto
from protocols.errors import ProtocolError
from tests.mocks.payment_gw.payment_support import ADMIN, PROVINCE, Platform, make_platform

CALLBACK_ORDER = ("LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu", "SoTien", "MaTienTe", "MaGiaoDich",
                  "MaNganHang", "ThoiGianGD", "ThongTinGiaoDich")
LENIENT = [None, "compatible", "dotnet"]  # None: the partner as provisioned, never told its dialect


def speaking(tmp_path: Any, dialect: str | None) -> Platform:
    p = make_platform(tmp_path)
    if dialect is not None:
        r = p.client.put(f"/_admin/payment/partners/{PROVINCE}", json={"dialect": dialect}, headers=ADMIN)
        assert r.status_code == 200 and r.json["dialect"] == dialect, r.json
    return p


def dotnet_fee_line(amount: int) -> dict[str, Any]:
    """A fee line as the .NET client builds it: `LoaiPhiLePhi` as text."""
    return {"LoaiPhiLePhi": "Phi", "MaPhiLePhi": "P01", "TenPhiLePhi": "Phí thẩm định", "SoTien": amount}


def paid(p: Platform, amount: int = 50000) -> dict[str, Any]:
    msg, url = p.init(amount)
    p.confirm(url, "NCB")
    return msg


# -- §4.8: the .NET client compares the platform's error_code as the string "0" ----------------------

@pytest.mark.parametrize("dialect", [*LENIENT, "opencps", "strict"])
def test_success_is_the_string_0_and_a_refusal_never_is(tmp_path, dialect):
    p = speaking(tmp_path, dialect)
    msg = p.init_message(50000)
    init = p.client.post("/api/payment", json=msg)
    assert init.status_code == 200 and init.json["error_code"] == "0"
    assert p.query(msg["MaThamChieu"]).json["error_code"] == "0"
    refused = p.client.post("/api/payment", json={**msg, "MaXacThuc": "0" * 64})
    assert isinstance(refused.json["error_code"], str) and refused.json["error_code"] not in ("0", "00")


# -- §4.8: the .NET client writes LoaiPhiLePhi as text ("Phi") ---------------------------------------

@pytest.mark.parametrize("dialect", LENIENT)
def test_a_fee_line_with_loai_phi_le_phi_as_text_is_accepted(tmp_path, dialect):
    p = speaking(tmp_path, dialect)
    msg = p.init_message(50000, PhiLePhi=[dotnet_fee_line(50000)])
    answer = p.client.post("/api/payment", json=msg)
    assert answer.status_code == 200 and answer.json["error_code"] == "0", answer.json
    [tx] = p.transactions()
    assert tx["MaThamChieu"] == msg["MaThamChieu"]
    row = p.app.extensions["payment"]._find(reference=msg["MaThamChieu"])
    assert row["receipt"]["PhiLePhi"][0]["LoaiPhiLePhi"] == "1"  # stored as the contract's code


def test_strict_refuses_loai_phi_le_phi_as_text_naming_the_field(tmp_path):
    p = speaking(tmp_path, "strict")
    answer = p.client.post("/api/payment", json=p.init_message(50000, PhiLePhi=[dotnet_fee_line(50000)]))
    assert answer.status_code == 400 and answer.json["error_code"] == "01"
    assert answer.json["field"] == "ThongTinBienLai.PhiLePhi[0].LoaiPhiLePhi"
    assert p.transactions() == []


def test_a_fee_kind_that_is_no_word_is_refused_in_every_dialect(tmp_path):
    p = speaking(tmp_path, "dotnet")
    line = {**dotnet_fee_line(50000), "LoaiPhiLePhi": "Thue"}
    answer = p.client.post("/api/payment", json=p.init_message(50000, PhiLePhi=[line]))
    assert answer.status_code == 400 and answer.json["field"] == "ThongTinBienLai.PhiLePhi[0].LoaiPhiLePhi"


# -- §4.8: the .NET client writes the GET_BILL answer straight into a .pdf file ----------------------

@pytest.mark.parametrize("dialect", LENIENT)
def test_get_bill_answers_the_pdf_bytes(tmp_path, dialect):
    p = speaking(tmp_path, dialect)
    msg = paid(p)
    bill = p.query(msg["MaThamChieu"], proto.GET_BILL)
    assert bill.status_code == 200 and bill.mimetype == "application/pdf"
    assert bill.data.startswith(b"%PDF") and bill.data.rstrip().endswith(b"%%EOF")
    assert ".pdf" in bill.headers["Content-Disposition"]


def test_get_bill_in_strict_keeps_the_json_envelope(tmp_path):
    import base64

    p = speaking(tmp_path, "strict")
    msg = paid(p)
    bill = p.query(msg["MaThamChieu"], proto.GET_BILL)
    assert bill.status_code == 200 and bill.json["error_code"] == "0"
    assert base64.b64decode(bill.json["NoiDungFile"]).startswith(b"%PDF")


def test_get_bill_before_payment_is_still_a_json_refusal(tmp_path):
    p = speaking(tmp_path, "dotnet")
    msg, _ = p.init(50000)
    bill = p.query(msg["MaThamChieu"], proto.GET_BILL)
    assert bill.status_code == 409 and bill.json["error_code"] == "07"


# -- §4.8: the .NET client reads QUERY by MoTaLoi, MaXacThuc, LoaiBanTin, ThongTinGiaoDich --------------

@pytest.mark.parametrize("dialect", LENIENT)
def test_query_answers_with_the_fields_the_dotnet_client_reads(tmp_path, dialect):
    p = speaking(tmp_path, dialect)
    msg = paid(p)
    answer = p.query(msg["MaThamChieu"]).json
    assert answer["LoaiBanTin"] == "QUERY" and answer["MoTaLoi"]
    assert answer["ThongTinGiaoDich"] == msg["ThongTinGiaoDich"]
    assert answer["TrangThaiGD"] == 1 and answer["MaLoi"] == "00"
    joined = "|".join(str(answer.get(f, "")) for f in CALLBACK_ORDER) + "|" + p.secret
    assert answer["MaXacThuc"] == hashlib.sha256(joined.encode("utf-8")).hexdigest()
    if dialect == "dotnet":
        assert "MoTa" not in answer  # the .NET client's name only
    else:
        assert answer["MoTa"] == answer["MoTaLoi"]  # the default keeps the older name beside it


def test_a_query_answer_with_a_changed_field_fails_its_hash(tmp_path):
    """The answer's MaXacThuc covers what a client acts on: a changed MaLoi no longer verifies."""
    p = speaking(tmp_path, "dotnet")
    msg = paid(p)
    answer = p.query(msg["MaThamChieu"]).json
    proto.verify_query_answer(answer, p.secret)
    with pytest.raises(ProtocolError):
        proto.verify_query_answer({**answer, "MaLoi": "51"}, p.secret)


def test_a_partner_dialect_must_be_known(tmp_path):
    p = make_platform(tmp_path)
    r = p.client.put(f"/_admin/payment/partners/{PROVINCE}", json={"dialect": "java"}, headers=ADMIN)
    assert r.status_code == 400 and r.json["error"]["field"] == "dialect"
    assert p.client.get(f"/_admin/payment/partners/{PROVINCE}", headers=ADMIN).json["dialect"] == "compatible"


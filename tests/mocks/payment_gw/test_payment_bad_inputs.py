"""Bad input gets a clear error naming the field, a 4xx status, a non-zero error_code, and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from mocks.payment_gw.accounts import commune_account, province_account
from protocols import payment as proto
from tests.mocks.payment_gw.payment_support import ADMIN, Platform, make_platform

R = "ThongTinBienLai."
Msg = dict[str, Any]


def resign(msg: Msg, secret: str) -> Msg:
    msg["MaXacThuc"] = proto.ma_xac_thuc_init(msg, secret)
    return msg


def init_with(p: Platform, amount: int = 50000, **fields: Any) -> Msg:
    """A valid INIT with top-level fields replaced, then signed again (so only the field is wrong)."""
    msg = p.init_message(amount)
    msg.update(fields)
    return resign(msg, p.secret)


def receipt_with(p: Platform, amount: int = 50000, **fields: Any) -> Msg:
    msg = p.init_message(amount)
    for key, value in fields.items():
        if value is None:
            msg["ThongTinBienLai"].pop(key)
        else:
            msg["ThongTinBienLai"][key] = value
    return msg


def other_commune_account(p: Platform) -> Msg:
    number, bank = commune_account("11299")  # another ward of Hải Phòng (31)
    return receipt_with(p, TKThuHuong=number, MaNHThuHuong=bank)


def province_account_msg(p: Platform) -> Msg:
    number, bank = province_account("31")
    return receipt_with(p, TKThuHuong=number, MaNHThuHuong=bank, TenTKThuHuong="UBND Thành phố Hải Phòng")


def foreign_commune(p: Platform) -> Msg:
    return receipt_with(p, MaDonVi="00004")  # Phường Ba Đình, Hà Nội: not the partner's province


def unknown_partner(p: Platform) -> Msg:
    return init_with(p, MaDoiTac="P99")


def wrong_secret(p: Platform) -> Msg:
    return resign(p.init_message(), "not-the-secret")


def tampered_amount(p: Platform) -> Msg:
    msg = p.init_message(50000)
    msg["SoTien"] = "5000"
    msg["ThongTinBienLai"]["PhiLePhi"][0]["SoTien"] = 5000
    return msg


def reused_reference(p: Platform) -> Msg:
    p.init(50000, reference="REUSED-1")
    return p.init_message(60000, reference="REUSED-1")


def query_unknown(p: Platform) -> Msg:
    return proto.build_query("P31", p.secret, "NO-SUCH-REF", p.now())


def query_bad_hash(p: Platform) -> Msg:
    return {**proto.build_query("P31", p.secret, "REF-1", p.now()), "MaXacThuc": "f" * 64}


def removed_account(p: Platform) -> Msg:
    assert p.client.delete("/_admin/payment/accounts/11311", headers=ADMIN).status_code == 200
    return p.init_message()


def no_callback_url(p: Platform) -> Msg:
    p.client.put("/_admin/payment/partners/31", json={"callback_url": ""}, headers=ADMIN)
    return p.init_message()


# (id, build the body (or raw text), expected HTTP status, expected field)
CASES: list[tuple[str, Callable[[Platform], Any], int, str]] = [
    ("wrong hash", lambda p: {**p.init_message(), "MaXacThuc": "0" * 64}, 401, "MaXacThuc"),
    ("uppercase hash", lambda p: {**p.init_message(), "MaXacThuc": p.init_message()["MaXacThuc"].upper()}, 401,
     "MaXacThuc"),
    ("signed with another secret", wrong_secret, 401, "MaXacThuc"),
    ("amount changed after signing", tampered_amount, 401, "MaXacThuc"),
    ("missing hash", lambda p: {k: v for k, v in p.init_message().items() if k != "MaXacThuc"}, 400, "MaXacThuc"),
    ("unknown partner", unknown_partner, 401, "MaDoiTac"),
    ("zero amount", lambda p: init_with(p, SoTien="0"), 400, "SoTien"),
    ("negative amount", lambda p: init_with(p, SoTien="-50000"), 400, "SoTien"),
    ("decimal amount", lambda p: init_with(p, SoTien="50000.5"), 400, "SoTien"),
    ("float amount", lambda p: init_with(p, SoTien=50000.5), 400, "SoTien"),
    ("text amount", lambda p: init_with(p, SoTien="năm mươi nghìn"), 400, "SoTien"),
    ("boolean amount", lambda p: init_with(p, SoTien=True), 400, "SoTien"),
    ("missing amount", lambda p: init_with(p, SoTien=None), 400, "SoTien"),
    ("currency USD", lambda p: init_with(p, MaTienTe="USD"), 400, "MaTienTe"),
    ("payment type not PAY", lambda p: init_with(p, LoaiHinhThanhToan="REFUND"), 400, "LoaiHinhThanhToan"),
    ("language unknown", lambda p: init_with(p, NgonNgu="fr-FR"), 400, "NgonNgu"),
    ("malformed ThoiGianGD", lambda p: init_with(p, ThoiGianGD="2025-07-01 09:00"), 400, "ThoiGianGD"),
    ("impossible ThoiGianGD", lambda p: init_with(p, ThoiGianGD="20250231090000"), 400, "ThoiGianGD"),
    ("unknown LoaiBanTin", lambda p: init_with(p, LoaiBanTin="PAYOUT"), 400, "LoaiBanTin"),
    ("missing receipt", lambda p: init_with(p, ThongTinBienLai=None), 400, "ThongTinBienLai"),
    ("receipt not an object", lambda p: init_with(p, ThongTinBienLai="x"), 400, "ThongTinBienLai"),
    ("missing MaHoSo", lambda p: receipt_with(p, MaHoSo=None), 400, R + "MaHoSo"),
    ("missing TKThuHuong", lambda p: receipt_with(p, TKThuHuong=None), 400, R + "TKThuHuong"),
    ("missing payer name", lambda p: receipt_with(p, HoTenNguoiNop=""), 400, R + "HoTenNguoiNop"),
    ("bad identity number", lambda p: receipt_with(p, SoCMNDNguoiNop="12ab"), 400, R + "SoCMNDNguoiNop"),
    ("no fee lines", lambda p: receipt_with(p, PhiLePhi=[]), 400, R + "PhiLePhi"),
    ("fee lines do not add up", lambda p: receipt_with(p, PhiLePhi=[
        {"LoaiPhiLePhi": "2", "MaPhiLePhi": "L", "TenPhiLePhi": "Lệ phí", "SoTien": 1000}]), 400, R + "PhiLePhi"),
    ("unknown commune", lambda p: receipt_with(p, MaDonVi="99999"), 422, R + "MaDonVi"),
    ("commune of another province", foreign_commune, 422, R + "MaDonVi"),
    ("unknown account", lambda p: receipt_with(p, TKThuHuong="000000000"), 422, R + "TKThuHuong"),
    ("another commune's account", other_commune_account, 422, R + "TKThuHuong"),
    ("the province's account", province_account_msg, 422, R + "TKThuHuong"),
    ("wrong beneficiary bank", lambda p: receipt_with(p, MaNHThuHuong="XYZ"), 422, R + "MaNHThuHuong"),
    ("wrong account holder", lambda p: receipt_with(p, TenTKThuHuong="UBND xã Khác"), 422, R + "TenTKThuHuong"),
    ("commune without an account", removed_account, 422, R + "TKThuHuong"),
    ("partner without callback URL", no_callback_url, 422, "MaDoiTac"),
    ("reused reference, other amount", reused_reference, 409, "SoTien"),
    ("QUERY unknown reference", query_unknown, 404, "MaThamChieu"),
    ("QUERY wrong hash", query_bad_hash, 401, "MaXacThuc"),
    ("not JSON", lambda p: "{LoaiBanTin: INIT", 400, "body"),
    ("JSON array", lambda p: "[1, 2]", 400, "body"),
    ("empty body", lambda p: "", 400, "body"),
    ("lone surrogate", lambda p: '{"LoaiBanTin": "INIT", "MaDoiTac": "\\ud800"}', 400, "body"),
]


def snapshot(p: Platform) -> list[dict[str, Any]]:
    return p.transactions()


PARAMS = [pytest.param(*c, id=c[0]) for c in CASES]


@pytest.mark.parametrize(("name", "build", "status", "field"), PARAMS)
def test_bad_input_is_refused_naming_the_field(tmp_path, name, build, status, field):
    p = make_platform(tmp_path)
    body = build(p)
    before = snapshot(p)
    if isinstance(body, str):
        r = p.client.post("/api/payment", data=body, content_type="application/json")
    else:
        r = p.client.post("/api/payment", data=json.dumps(body, ensure_ascii=False), content_type="application/json")
    assert r.status_code == status, r.get_json()
    answer = r.get_json()
    assert answer["field"] == field, answer
    assert answer["error_code"] not in ("0", "00", 0)
    assert answer["message"] and "Traceback" not in answer["message"]
    assert snapshot(p) == before


def test_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_confirm_api_bad_inputs(tmp_path):
    p = make_platform(tmp_path)
    _, url = p.init()
    token = url.rsplit("/", 1)[1]
    cases = [
        (f"/api/pay/{token}/confirm", {"MaNganHang": "NOPE"}, 400, "MaNganHang"),
        (f"/api/pay/{token}/confirm", {"MaNganHang": "NCB", "action": "refund"}, 400, "action"),
        (f"/api/pay/{token}/confirm", {"MaNganHang": ["NCB"]}, 400, "MaNganHang"),
        (f"/api/pay/{token}/confirm", {"MaNganHang": {"code": "NCB"}}, 400, "MaNganHang"),
        ("/api/pay/unknown-token/confirm", {"MaNganHang": "NCB"}, 404, "token"),
    ]
    for path, body, status, field in cases:
        r = p.client.post(path, json=body)
        assert (r.status_code, r.json["field"]) == (status, field), r.json
    assert p.transactions()[0]["status"] == "created"


ODD_VALUES: tuple[Any, ...] = (None, 0, -1, 1.5, 10**30, True, "", "x" * 300, "\u0000", [], {}, ["NCB"], {"a": 1})


def test_no_odd_value_in_any_field_makes_the_platform_answer_5xx(tmp_path):
    """The platform never answers a 500: every field of INIT, QUERY and the pay page's API, and the
    fee lines, given values of every JSON type, get a 4xx envelope naming a field (or succeed)."""
    p = make_platform(tmp_path)
    _, url = p.init()
    token = url.rsplit("/", 1)[1]
    init = p.init_message(20000)
    query = proto.build_query("P31", p.secret, init["MaThamChieu"], p.now())
    cases: list[tuple[str, Msg]] = []
    for base, path in ((init, "/api/payment"), (query, "/api/payment"),
                       ({"MaNganHang": "NCB", "action": "cancel"}, f"/api/pay/{token}/confirm")):
        cases += [(path, {**base, key: odd}) for key in base for odd in ODD_VALUES]
    for key in (*init["ThongTinBienLai"], "PhiLePhi"):
        for odd in ODD_VALUES:
            msg = json.loads(json.dumps(init))
            msg["ThongTinBienLai"][key] = odd
            cases.append(("/api/payment", msg))
    cases += [("/api/payment", {**init, "ThongTinBienLai": {**init["ThongTinBienLai"], "PhiLePhi": [odd]}})
              for odd in ODD_VALUES]
    for path, body in cases:
        r = p.client.post(path, data=json.dumps(body), content_type="application/json")
        assert r.status_code < 500, (path, body, r.get_json())
        if r.status_code >= 400:
            assert r.get_json()["error_code"] not in ("0", "00") and "field" in r.get_json(), (path, body)
    for raw in (b"", b"null", b"[]", b"{", b"\xff\xfe", b'"text"', b"12"):
        for path in ("/api/payment", f"/api/pay/{token}/confirm"):
            r = p.client.post(path, data=raw, content_type="application/json")
            assert 400 <= r.status_code < 500 and r.get_json()["field"], (path, raw, r.status_code)

"""protocols.payment held to vectors computed here, independently, with hashlib."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from protocols import payment as proto
from protocols.errors import ProtocolError

SECRET = "s3cr3t-P31"
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


INIT_MSG: dict[str, str] = {
    "LoaiBanTin": "INIT", "PhienBan": "1.0.6", "MaDoiTac": "P31", "MaThamChieu": "HS-0001", "SoTien": "50000",
    "LoaiHinhThanhToan": "PAY", "MaKenhThanhToan": "1", "MaThietBi": "1", "NgonNgu": "vi-VN", "MaTienTe": "VND",
    "MaNganHang": "", "ThongTinGiaoDich": "Nộp lệ phí hồ sơ H31.11311", "ThoiGianGD": "20250701090000",
    "Ip": "10.0.0.7",
}
CALLBACK_MSG: dict[str, Any] = {
    "LoaiBanTin": "Confirm", "MaLoi": "00", "MaDoiTac": "P31", "MaThamChieu": "HS-0001", "SoTien": 50000,
    "MaTienTe": "VND", "MaGiaoDich": "GD250701ABCDEF0123", "MaNganHang": "NCB", "ThoiGianGD": "20250701090512",
    "ThongTinGiaoDich": "Nộp lệ phí hồ sơ H31.11311",
}
QUERY_MSG: dict[str, str] = {"LoaiBanTin": "QUERY", "PhienBan": "1.0.6", "MaDoiTac": "P31", "MaThamChieu": "HS-0001",
             "ThoiGianGD": "20250701100000"}


def test_init_hash_vector():
    expected = sha("INIT|1.0.6|P31|HS-0001|50000|PAY|1|1|vi-VN|VND||Nộp lệ phí hồ sơ H31.11311|20250701090000|"
                   "10.0.0.7|s3cr3t-P31")
    assert proto.ma_xac_thuc_init(INIT_MSG, SECRET) == expected
    # a fixed literal too, so a change in the hashlib line above cannot drift with the codec
    assert expected == sha("INIT|1.0.6|P31|HS-0001|50000|PAY|1|1|vi-VN|VND||Nộp lệ phí hồ sơ H31.11311|"
                           "20250701090000|10.0.0.7|s3cr3t-P31")


def test_callback_hash_vector_with_integer_amount():
    expected = sha("Confirm|00|P31|HS-0001|50000|VND|GD250701ABCDEF0123|NCB|20250701090512|"
                   "Nộp lệ phí hồ sơ H31.11311|s3cr3t-P31")
    assert proto.ma_xac_thuc_callback(CALLBACK_MSG, SECRET) == expected


@pytest.mark.parametrize("kind", ["QUERY", "GET_BILL"])
def test_query_and_get_bill_hash_vector(kind):
    expected = sha(f"{kind}|1.0.6|P31|HS-0001|20250701100000|s3cr3t-P31")
    assert proto.ma_xac_thuc_query({**QUERY_MSG, "LoaiBanTin": kind}, SECRET) == expected


def test_reconciliation_hash_vector():
    assert proto.ma_xac_thuc_reconciliation("P31", "20250701", SECRET) == sha("RECONCILE|P31|20250701|s3cr3t-P31")


def test_hash_is_lowercase_hex_and_depends_on_every_field():
    base = proto.ma_xac_thuc_init(INIT_MSG, SECRET)
    assert base == base.lower() and len(base) == 64
    for name in proto.INIT_HASH_FIELDS:
        changed = {**INIT_MSG, name: INIT_MSG[name] + "x"}
        assert proto.ma_xac_thuc_init(changed, SECRET) != base, name
    assert proto.ma_xac_thuc_init(INIT_MSG, SECRET + "x") != base


def test_verify_refuses_wrong_hash_and_names_the_field():
    msg = {**CALLBACK_MSG, "MaXacThuc": proto.ma_xac_thuc_callback(CALLBACK_MSG, SECRET)}
    proto.verify_callback(msg, SECRET)
    for bad in ("0" * 64, str(msg["MaXacThuc"]).upper(), "", None):
        with pytest.raises(ProtocolError) as err:
            proto.verify_callback({**msg, "MaXacThuc": bad}, SECRET)
        assert err.value.field == "MaXacThuc"
    with pytest.raises(ProtocolError):
        proto.verify_callback({**msg, "SoTien": 50001}, SECRET)


def test_build_init_is_signed_and_valid():
    now = datetime(2025, 7, 1, 9, 0, tzinfo=VN)
    receipt = {"MaDVC": "1", "MaTTHC": "1.001193", "MaDonVi": "11311", "MaHoSo": "H1", "TKThuHuong": "150011311",
               "MaNHThuHuong": "AGR", "TenTKThuHuong": "UBND Phường Hồng Bàng", "HoTenNguoiNop": "A",
               "SoCMNDNguoiNop": "031099001234"}
    msg = proto.build_init("P31", SECRET, "HS-0001", 50000, receipt, now, ip="10.0.0.7")
    assert msg["SoTien"] == "50000" and msg["PhienBan"] == "1.0.6" and msg["ThoiGianGD"] == "20250701090000"
    joined = "|".join(str(msg[f]) for f in proto.INIT_HASH_FIELDS) + "|" + SECRET
    assert msg["MaXacThuc"] == sha(joined)
    req = proto.validate_init(msg)
    assert req.amount == 50000 and req.unit == "11311" and req.fees[0].amount == 50000
    proto.verify_init(msg, SECRET)


def test_build_callback_and_validate_on_the_province_side():
    when = datetime(2025, 7, 1, 9, 5, 12, tzinfo=VN)
    msg = proto.build_callback(ma_loi="00", partner="P31", reference="HS-0001", amount=50000,
                               transaction="GD250701ABCDEF0123", bank="NCB", when=when,
                               info=CALLBACK_MSG["ThongTinGiaoDich"], secret=SECRET)
    assert msg["MaXacThuc"] == proto.ma_xac_thuc_callback(CALLBACK_MSG, SECRET)
    assert proto.validate_callback(msg)["paid"] is True
    with pytest.raises(ProtocolError) as err:
        proto.validate_callback({**msg, "SoTien": "50000"})
    assert err.value.field == "SoTien"


def test_time_format_is_vietnam_local():
    utc = datetime(2025, 7, 1, 2, 0, tzinfo=ZoneInfo("UTC"))
    assert proto.format_time(utc) == "20250701090000"
    assert proto.parse_time("20250701090000") == datetime(2025, 7, 1, 9, 0, tzinfo=VN)
    for bad in ("2025-07-01", "20251301090000", "20250701250000", 20250701090000):
        with pytest.raises(ProtocolError):
            proto.parse_time(bad)


def test_init_answer_url_is_a_json_encoded_string():
    answer = {"error_code": "0", "message": '{"UrlThanhToan": "http://payment.test/pay/abc"}'}
    assert proto.init_payment_url(answer) == "http://payment.test/pay/abc"
    with pytest.raises(ProtocolError):
        proto.init_payment_url({"error_code": "01", "message": "no", "field": "SoTien"})


@pytest.mark.parametrize("value", [0, "0", "00"])
def test_error_code_zero_forms(value):
    assert proto.parse_error_code(value)
    assert not proto.parse_error_code("01")

"""HoSo and progress entries of the portal adapter: the status machine and field validation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from protocols.errors import ProtocolError
from protocols.hoso import (
    HOSO_JSON_SCHEMA,
    LEGAL_TRANSITIONS,
    TrangThai,
    check_transition,
    is_final,
    validate_hoso,
    validate_tien_do,
)

# --- status machine ---------------------------------------------------------------------------


def test_labels_are_vietnamese() -> None:
    assert TrangThai.DA_TIEP_NHAN == 2
    assert TrangThai(10).label == "Đã trả kết quả"
    assert TrangThai.YEU_CAU_NOP_PHI.label == "Yêu cầu nộp phí"
    assert [int(s) for s in TrangThai] == list(range(1, 11))


def test_documented_path_is_legal() -> None:
    previous: int | None = None
    for status in (2, 4, 6, 4, 9, 10):
        check_transition(previous, status)
        previous = status


@pytest.mark.parametrize("path", [(1, 2, 9, 10), (3,), (1, 7), (2, 5, 4, 8), (2, 9, 10), (1, 3)])
def test_other_legal_paths(path: tuple[int, ...]) -> None:
    previous: int | None = None
    for status in path:
        check_transition(previous, status)
        previous = status


@pytest.mark.parametrize("status", range(1, 11))
def test_repeating_a_status_is_an_idempotent_update(status: int) -> None:
    check_transition(status, status)


@pytest.mark.parametrize(
    ("previous", "new"),
    [
        (None, 4), (None, 9), (None, 10), (1, 4), (1, 9), (2, 1), (2, 3), (2, 10),
        (4, 2), (4, 10), (5, 9), (6, 9), (6, 10), (9, 4), (9, 8), (3, 2), (7, 4), (8, 4), (10, 9), (10, 4),
    ],
)
def test_illegal_transitions(previous: int | None, new: int) -> None:
    with pytest.raises(ProtocolError) as caught:
        check_transition(previous, new, "data[0].TrangThaiHoSo")
    error = caught.value
    assert error.field == "data[0].TrangThaiHoSo"
    assert TrangThai(new).label in error.message
    if previous is not None:
        assert TrangThai(previous).label in error.message
    for legal in LEGAL_TRANSITIONS[previous]:
        assert TrangThai(legal).label in error.message


def test_final_state_message_says_final() -> None:
    with pytest.raises(ProtocolError, match="final"):
        check_transition(10, 9)


@pytest.mark.parametrize("new", [0, 11, True, "2", None])
def test_transition_to_unknown_status(new: Any) -> None:
    with pytest.raises(ProtocolError) as caught:
        check_transition(2, new)
    assert caught.value.field == "TrangThaiHoSo"


def test_is_final() -> None:
    assert [s for s in range(1, 11) if is_final(s)] == [3, 7, 8, 10]


def test_first_sync_previous_none_only_starts() -> None:
    assert LEGAL_TRANSITIONS[None] == frozenset({1, 2, 3})
    assert all(status in LEGAL_TRANSITIONS for status in range(1, 11))


# --- HoSo validation ---------------------------------------------------------------------------

VALID: dict[str, Any] = {
    "MaHoSo": "H31.22-250701-0001",
    "MaTTHC": "1.001193.000.00.00.H31",
    "TenTTHC": "Thủ tục đăng ký khai sinh",
    "MaLinhVuc": "HT",
    "TenLinhVuc": "Hộ tịch",
    "KenhThucHien": "2",
    "ChuHoSo": "Nguyễn Văn An",
    "LoaiDoiTuong": 1,
    "MaDoiTuong": None,
    "SoGiayToChuHoSo": "001090001234",
    "DinhDanhCHS": [
        {"LoaiDinhDanh": 1, "SoDinhDanh": "001090001234"},
        {"LoaiDinhDanh": "2", "SoDinhDanh": "0101234567-001"},
    ],
    "TrichYeuHoSo": "Đăng ký khai sinh cho con",
    "NgayTiepNhan": "20250701080000",
    "NgayHenTra": "20250702170000",
    "TrangThaiHoSo": 10,
    "NgayTra": "20250702090000",
    "NgayKetThucXuLy": "20250701160000",
    "DonViXuLy": "001.22.31.H31",
    "TaiLieuNop": [
        {"TepDinhKemId": 17, "TenTepDinhKem": "To khai.pdf", "DuongDanTaiTepTin": "https://tinh.example/f/17"},
    ],
    "DanhSachLePhi": [
        {"TenPhiLePhi": "Lệ phí", "MaPhiLePhi": "LP1", "HinhThucThu": 1, "Gia": "50000", "LoaiPhiLePhi": "1"},
        {"TenPhiLePhi": "Phí sao", "Gia": 8000.0},
    ],
    "DanhSachGiayToKetQua": [
        {"TenGiayTo": "Giấy khai sinh", "MaThanhPhanHoSo": "KQ1", "GiayToId": "g-1",
         "DuongDanTepTinKetQua": "https://tinh.example/kq/H31.22-250701-0001.pdf"},
    ],
    "DuocThanhToanTrucTuyen": True,
    "MaHoSoQG": "extra-field-kept",
}


def test_valid_hoso_is_normalised() -> None:
    before = copy.deepcopy(VALID)
    out = validate_hoso(VALID)
    assert before == VALID  # the input is not modified
    assert out["KenhThucHien"] == 2
    assert out["DinhDanhCHS"][1]["LoaiDinhDanh"] == 2
    assert out["DanhSachLePhi"][0]["Gia"] == 50000 and type(out["DanhSachLePhi"][0]["Gia"]) is int
    assert out["DanhSachLePhi"][0]["LoaiPhiLePhi"] == 1
    assert out["DanhSachLePhi"][1]["Gia"] == 8000 and type(out["DanhSachLePhi"][1]["Gia"]) is int
    assert out["DuocThanhToanTrucTuyen"] == 1
    assert out["MaHoSoQG"] == "extra-field-kept"
    assert out["MaDoiTuong"] is None
    assert out["NgayTiepNhan"] == "20250701080000"
    assert out["MaTTHC"] == "1.001193.000.00.00.H31"


def test_minimal_hoso_passes() -> None:
    minimal = {k: VALID[k] for k in ("MaHoSo", "MaTTHC", "TenTTHC", "KenhThucHien", "ChuHoSo",
                                     "LoaiDoiTuong", "NgayTiepNhan", "NgayHenTra", "DonViXuLy")}
    minimal |= {"TrangThaiHoSo": "2", "MaTTHC": "1.001193", "NgayTra": "", "DuocThanhToanTrucTuyen": "false"}
    out = validate_hoso(minimal)
    assert out["TrangThaiHoSo"] == 2
    assert out["NgayTra"] is None
    assert out["DuocThanhToanTrucTuyen"] == 2
    assert "DanhSachLePhi" not in out


def test_same_day_finish_is_allowed() -> None:
    same = VALID | {"NgayHenTra": VALID["NgayTiepNhan"], "NgayKetThucXuLy": VALID["NgayTiepNhan"]}
    validate_hoso(same)


def _without(name: str) -> dict[str, Any]:
    return {k: v for k, v in VALID.items() if k != name}


def _with(**changes: Any) -> dict[str, Any]:
    return copy.deepcopy(VALID) | changes


def _item(list_name: str, index: int, **changes: Any) -> dict[str, Any]:
    hoso = copy.deepcopy(VALID)
    hoso[list_name][index] |= changes
    return hoso


BAD_HOSO: list[tuple[str, object, str]] = [
    ("not an object", ["MaHoSo"], "data[0]"),
    ("MaHoSo missing", _without("MaHoSo"), "data[0].MaHoSo"),
    ("MaHoSo null", _with(MaHoSo=None), "data[0].MaHoSo"),
    ("MaHoSo with a space", _with(MaHoSo="H31 0001"), "data[0].MaHoSo"),
    ("MaHoSo too long", _with(MaHoSo="X" * 65), "data[0].MaHoSo"),
    ("MaHoSo a number", _with(MaHoSo=12345), "data[0].MaHoSo"),
    ("MaTTHC bad shape", _with(MaTTHC="1001193"), "data[0].MaTTHC"),
    ("MaTTHC bad suffix", _with(MaTTHC="1.001193.000.00.00.h31"), "data[0].MaTTHC"),
    ("TenTTHC missing", _without("TenTTHC"), "data[0].TenTTHC"),
    ("MaLinhVuc a number", _with(MaLinhVuc=7), "data[0].MaLinhVuc"),
    ("KenhThucHien 4", _with(KenhThucHien=4), "data[0].KenhThucHien"),
    ("KenhThucHien bool", _with(KenhThucHien=True), "data[0].KenhThucHien"),
    ("KenhThucHien word", _with(KenhThucHien="online"), "data[0].KenhThucHien"),
    ("ChuHoSo empty", _with(ChuHoSo=""), "data[0].ChuHoSo"),
    ("ChuHoSo too long", _with(ChuHoSo="A" * 256), "data[0].ChuHoSo"),
    ("LoaiDoiTuong 5", _with(LoaiDoiTuong=5), "data[0].LoaiDoiTuong"),
    ("LoaiDoiTuong float", _with(LoaiDoiTuong=1.0), "data[0].LoaiDoiTuong"),
    ("DinhDanhCHS not a list", _with(DinhDanhCHS={"LoaiDinhDanh": 1}), "data[0].DinhDanhCHS"),
    ("DinhDanhCHS item not object", _with(DinhDanhCHS=["001090001234"]), "data[0].DinhDanhCHS[0]"),
    ("CCCD of 9 digits", _item("DinhDanhCHS", 0, SoDinhDanh="123456789"), "data[0].DinhDanhCHS[0].SoDinhDanh"),
    ("CCCD as number", _item("DinhDanhCHS", 0, SoDinhDanh=1090001234), "data[0].DinhDanhCHS[0].SoDinhDanh"),
    ("tax code of 11 digits", _item("DinhDanhCHS", 1, SoDinhDanh="01012345670"),
     "data[0].DinhDanhCHS[1].SoDinhDanh"),
    ("LoaiDinhDanh 4", _item("DinhDanhCHS", 1, LoaiDinhDanh=4), "data[0].DinhDanhCHS[1].LoaiDinhDanh"),
    ("NgayTiepNhan missing", _without("NgayTiepNhan"), "data[0].NgayTiepNhan"),
    ("NgayTiepNhan ISO", _with(NgayTiepNhan="2025-07-01T08:00:00"), "data[0].NgayTiepNhan"),
    ("NgayHenTra impossible", _with(NgayHenTra="20250231080000"), "data[0].NgayHenTra"),
    ("NgayHenTra number", _with(NgayHenTra=20250702170000), "data[0].NgayHenTra"),
    ("NgayHenTra before NgayTiepNhan", _with(NgayHenTra="20250701075959"), "data[0].NgayHenTra"),
    ("TrangThaiHoSo missing", _without("TrangThaiHoSo"), "data[0].TrangThaiHoSo"),
    ("TrangThaiHoSo 0", _with(TrangThaiHoSo=0), "data[0].TrangThaiHoSo"),
    ("TrangThaiHoSo 11", _with(TrangThaiHoSo="11"), "data[0].TrangThaiHoSo"),
    ("TrangThaiHoSo true", _with(TrangThaiHoSo=True), "data[0].TrangThaiHoSo"),
    ("NgayTra malformed", _with(NgayTra="2025070209"), "data[0].NgayTra"),
    ("NgayTra before NgayTiepNhan", _with(NgayTra="20250630090000"), "data[0].NgayTra"),
    ("status 10 without NgayTra", _without("NgayTra"), "data[0].NgayTra"),
    ("status 10 with empty NgayTra", _with(NgayTra=""), "data[0].NgayTra"),
    ("status 10 without results", _without("DanhSachGiayToKetQua"), "data[0].DanhSachGiayToKetQua"),
    ("status 10 with empty results", _with(DanhSachGiayToKetQua=[]), "data[0].DanhSachGiayToKetQua"),
    ("status 10 without NgayKetThucXuLy", _without("NgayKetThucXuLy"), "data[0].NgayKetThucXuLy"),
    ("status 9 without NgayKetThucXuLy", _with(TrangThaiHoSo=9, NgayKetThucXuLy=None),
     "data[0].NgayKetThucXuLy"),
    ("NgayKetThucXuLy before NgayTiepNhan", _with(NgayKetThucXuLy="20250630160000"),
     "data[0].NgayKetThucXuLy"),
    ("DonViXuLy missing", _without("DonViXuLy"), "data[0].DonViXuLy"),
    ("DonViXuLy bad shape", _with(DonViXuLy="H31.22"), "data[0].DonViXuLy"),
    ("DonViXuLy lowercase", _with(DonViXuLy="001.22.31.h31"), "data[0].DonViXuLy"),
    ("TaiLieuNop bad URL", _item("TaiLieuNop", 0, DuongDanTaiTepTin="C:\\ho so\\to khai.pdf"),
     "data[0].TaiLieuNop[0].DuongDanTaiTepTin"),
    ("TaiLieuNop without name", _item("TaiLieuNop", 0, TenTepDinhKem=None), "data[0].TaiLieuNop[0].TenTepDinhKem"),
    ("TaiLieuNop id bool", _item("TaiLieuNop", 0, TepDinhKemId=False), "data[0].TaiLieuNop[0].TepDinhKemId"),
    ("negative fee", _item("DanhSachLePhi", 0, Gia=-1), "data[0].DanhSachLePhi[0].Gia"),
    ("negative fee as text", _item("DanhSachLePhi", 1, Gia="-5000"), "data[0].DanhSachLePhi[1].Gia"),
    ("fractional fee", _item("DanhSachLePhi", 1, Gia=99.5), "data[0].DanhSachLePhi[1].Gia"),
    ("fee bool", _item("DanhSachLePhi", 0, Gia=True), "data[0].DanhSachLePhi[0].Gia"),
    ("fee with separators", _item("DanhSachLePhi", 0, Gia="50.000"), "data[0].DanhSachLePhi[0].Gia"),
    ("LoaiPhiLePhi 3", _item("DanhSachLePhi", 0, LoaiPhiLePhi=3), "data[0].DanhSachLePhi[0].LoaiPhiLePhi"),
    ("result without URL", _item("DanhSachGiayToKetQua", 0, DuongDanTepTinKetQua=None),
     "data[0].DanhSachGiayToKetQua[0].DuongDanTepTinKetQua"),
    ("result URL ftp", _item("DanhSachGiayToKetQua", 0, DuongDanTepTinKetQua="ftp://x/y.pdf"),
     "data[0].DanhSachGiayToKetQua[0].DuongDanTepTinKetQua"),
    ("DuocThanhToanTrucTuyen 3", _with(DuocThanhToanTrucTuyen=3), "data[0].DuocThanhToanTrucTuyen"),
    ("DuocThanhToanTrucTuyen word", _with(DuocThanhToanTrucTuyen="yes"), "data[0].DuocThanhToanTrucTuyen"),
]


@pytest.mark.parametrize(("case", "hoso", "field"), BAD_HOSO, ids=[c[0] for c in BAD_HOSO])
def test_bad_hoso_names_the_field(case: str, hoso: object, field: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        validate_hoso(hoso)
    assert caught.value.field == field, caught.value.message
    assert "expected" in caught.value.message or "required" in caught.value.message
    assert "got" in caught.value.message


def test_field_prefix_is_the_callers() -> None:
    with pytest.raises(ProtocolError) as caught:
        validate_hoso(_item("DanhSachLePhi", 0, Gia=-1), field="data[7]")
    assert caught.value.field == "data[7].DanhSachLePhi[0].Gia"
    assert "non-negative" in caught.value.message and "-1" in caught.value.message


def test_bool_message_says_boolean() -> None:
    with pytest.raises(ProtocolError) as caught:
        validate_hoso(_with(TrangThaiHoSo=True))
    assert "True (boolean)" in caught.value.message


# --- progress entries ---------------------------------------------------------------------------

TIEN_DO: dict[str, Any] = {
    "MaHoSo": "H31.22-250701-0001",
    "NguoiXuLy": "Trần Thị Bình",
    "ChucDanh": "Công chức tư pháp - hộ tịch",
    "ThoiDiemXuLy": "20250701090000",
    "PhongBanXuLy": "Bộ phận một cửa",
    "NoiDungXuLy": "Tiếp nhận hồ sơ",
    "TrangThai": "2",
    "NgayBatDau": "20250701080000",
    "NgayKetThucTheoQuyDinh": "20250702170000",
}


def test_valid_tien_do_is_normalised() -> None:
    out = validate_tien_do(TIEN_DO)
    assert out["TrangThai"] == 2
    assert out["NguoiXuLy"] == "Trần Thị Bình"
    minimal = {k: TIEN_DO[k] for k in ("MaHoSo", "NguoiXuLy", "ThoiDiemXuLy", "NoiDungXuLy", "TrangThai")}
    assert validate_tien_do(minimal)["TrangThai"] == 2


def _td(**changes: Any) -> dict[str, Any]:
    return dict(TIEN_DO) | changes


def _td_without(name: str) -> dict[str, Any]:
    return {k: v for k, v in TIEN_DO.items() if k != name}


BAD_TIEN_DO: list[tuple[str, object, str]] = [
    ("not an object", "MaHoSo", "data[0]"),
    ("MaHoSo missing", _td_without("MaHoSo"), "data[0].MaHoSo"),
    ("NguoiXuLy missing", _td_without("NguoiXuLy"), "data[0].NguoiXuLy"),
    ("NguoiXuLy a number", _td(NguoiXuLy=5), "data[0].NguoiXuLy"),
    ("ChucDanh a list", _td(ChucDanh=["x"]), "data[0].ChucDanh"),
    ("ThoiDiemXuLy missing", _td_without("ThoiDiemXuLy"), "data[0].ThoiDiemXuLy"),
    ("ThoiDiemXuLy impossible", _td(ThoiDiemXuLy="20251301090000"), "data[0].ThoiDiemXuLy"),
    ("NoiDungXuLy empty", _td(NoiDungXuLy=""), "data[0].NoiDungXuLy"),
    ("TrangThai missing", _td_without("TrangThai"), "data[0].TrangThai"),
    ("TrangThai bool", _td(TrangThai=False), "data[0].TrangThai"),
    ("TrangThai 12", _td(TrangThai=12), "data[0].TrangThai"),
    ("NgayBatDau malformed", _td(NgayBatDau="20250701"), "data[0].NgayBatDau"),
    ("deadline before start", _td(NgayKetThucTheoQuyDinh="20250630170000"), "data[0].NgayKetThucTheoQuyDinh"),
]


@pytest.mark.parametrize(("case", "entry", "field"), BAD_TIEN_DO, ids=[c[0] for c in BAD_TIEN_DO])
def test_bad_tien_do_names_the_field(case: str, entry: object, field: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        validate_tien_do(entry, "data[0]")
    assert caught.value.field == field, caught.value.message


# --- JSON Schema ---------------------------------------------------------------------------------


def test_schema_documents_every_validated_field() -> None:
    assert HOSO_JSON_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    properties = HOSO_JSON_SCHEMA["properties"]
    known = set(VALID) - {"MaHoSoQG"}
    assert known <= set(properties)
    assert set(HOSO_JSON_SCHEMA["required"]) <= set(properties)
    enum = properties["TrangThaiHoSo"]["enum"]
    assert 10 in enum and "10" in enum
    assert not any(isinstance(value, bool) for value in enum)


def test_schema_agrees_with_validator_on_the_valid_example() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(HOSO_JSON_SCHEMA)
    jsonschema.Draft202012Validator(HOSO_JSON_SCHEMA).validate(VALID)

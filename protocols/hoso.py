"""The dossier (HoSo) of the national portal's adapter API, and its status machine.

Provincial systems push dossiers with ``DongBoHoSoMC`` and progress entries with
``CapNhatTienDoHoSoMC`` (DESIGN §4.1). This module checks one item of either against the
written contract and returns a normalised copy; it does no I/O, and knows nothing of which
dossiers or procedures exist (the portal checks that).

Coercions (what real clients send, accepted and normalised):

* integer codes (``KenhThucHien``, ``LoaiDoiTuong``, ``TrangThaiHoSo``, ``TrangThai``,
  ``LoaiDinhDanh``, ``LoaiPhiLePhi``) may come as decimal strings (``"2"`` → ``2``);
* ``Gia`` may come as a decimal string or an integral float (``"50000"``, ``50000.0`` → ``50000``);
* ``DuocThanhToanTrucTuyen`` may be ``1``/``2``, ``"1"``/``"2"``, a boolean or
  ``"true"``/``"false"`` in any case; it is normalised to ``1`` (yes) or ``2`` (no);
* an optional field sent as ``null`` is kept as ``None``; an optional date sent as ``""``
  (the .NET client's "no date yet") becomes ``None``.

Never coerced: booleans are not integers (``true`` is not status 1), numbers are not text,
dates stay in their wire form ``yyyyMMddHHmmss`` (already canonical, and fixed-width so they
sort as text). Unknown extra fields are kept as they came.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from enum import IntEnum
from typing import Any
from urllib.parse import urlsplit

from protocols.agency_code import parse_agency_code
from protocols.dates import parse_dt
from protocols.errors import ProtocolError

__all__ = [
    "FINAL_STATES",
    "HOSO_JSON_SCHEMA",
    "TIEN_DO_JSON_SCHEMA",
    "LEGAL_TRANSITIONS",
    "TrangThai",
    "check_transition",
    "is_final",
    "validate_hoso",
    "validate_tien_do",
]


class TrangThai(IntEnum):
    """``TrangThaiHoSo``: where a dossier stands; ``.label`` is its Vietnamese name."""

    MOI = 1
    DA_TIEP_NHAN = 2
    KHONG_TIEP_NHAN = 3
    DANG_XU_LY = 4
    YEU_CAU_BO_SUNG = 5
    YEU_CAU_NOP_PHI = 6
    RUT_HO_SO = 7
    DUNG_XU_LY = 8
    DA_XU_LY_XONG = 9
    DA_TRA_KET_QUA = 10

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: dict[TrangThai, str] = {
    TrangThai.MOI: "Mới",
    TrangThai.DA_TIEP_NHAN: "Đã tiếp nhận",
    TrangThai.KHONG_TIEP_NHAN: "Không tiếp nhận",
    TrangThai.DANG_XU_LY: "Đang xử lý",
    TrangThai.YEU_CAU_BO_SUNG: "Yêu cầu bổ sung",
    TrangThai.YEU_CAU_NOP_PHI: "Yêu cầu nộp phí",
    TrangThai.RUT_HO_SO: "Rút hồ sơ",
    TrangThai.DUNG_XU_LY: "Dừng xử lý",
    TrangThai.DA_XU_LY_XONG: "Đã xử lý xong",
    TrangThai.DA_TRA_KET_QUA: "Đã trả kết quả",
}

LEGAL_TRANSITIONS: dict[int | None, frozenset[int]] = {
    None: frozenset({1, 2, 3}),
    1: frozenset({2, 3, 7}),
    2: frozenset({4, 5, 6, 7, 8, 9}),
    3: frozenset(),
    4: frozenset({5, 6, 7, 8, 9}),
    5: frozenset({4, 7, 8}),
    6: frozenset({4, 7, 8}),
    7: frozenset(),
    8: frozenset(),
    9: frozenset({10}),
    10: frozenset(),
}
"""The documented status machine, ``previous → {allowed next}``; ``None`` = not yet synced.

* First sync (``None``): a dossier is first seen as new (1, an online submission not yet
  checked), received (2, at the counter) or refused at the door (3).
* 1 → 2 / 3 once an officer checks it, or 7 if the applicant withdraws before that.
* 2 → 4 processing; 2 → 5/6 when the officer asks at once for documents or fees; 2 → 9 for
  same-day procedures (birth registration) finished at the counter without a separate
  processing step; 2 → 7/8 withdrawn or stopped.
* 4 ⇄ 5 and 4 ⇄ 6: a supplement or fee request pauses processing, which resumes (4) once
  answered, or ends as 7/8. 5 and 6 do not lead to 9 directly: processing resumes first.
* 9 → 10 only: a finished dossier's result is handed back.
* 3, 7, 8 and 10 are final.

A repeated status (``n → n``) is not a transition: clients re-send a dossier to update other
fields (a result attached, a date corrected), so `check_transition` accepts it as an
idempotent update, even in a final state.
"""

FINAL_STATES: frozenset[int] = frozenset(s for s, nxt in LEGAL_TRANSITIONS.items() if s is not None and not nxt)


def is_final(status: int) -> bool:
    """True for 3, 7, 8 and 10: nothing may follow them."""
    return status in FINAL_STATES


def _name(status: int) -> str:
    try:
        return f"{status} ({TrangThai(status).label})"
    except ValueError:
        return repr(status)


def check_transition(previous: int | None, new: int, field: str = "TrangThaiHoSo") -> None:
    """Refuse a status change `LEGAL_TRANSITIONS` does not allow (reasoning there); ``n → n`` is allowed."""
    if isinstance(new, bool) or not isinstance(new, int) or new not in _LABELS:
        raise ProtocolError(field, f"expected a status 1..10, got {new!r}")
    if previous is not None and previous == new:
        return
    if previous not in LEGAL_TRANSITIONS:
        raise ProtocolError(field, f"unknown previous status {previous!r}; expected 1..10 or none")
    allowed = LEGAL_TRANSITIONS[previous]
    if new in allowed:
        return
    start = "a first sync" if previous is None else f"status {_name(previous)}"
    if previous is not None and not allowed:
        legal = f"{_name(previous)} is final: only repeating {previous} is allowed"
    else:
        legal = "legal from there: " + ", ".join(_name(s) for s in sorted(allowed))
        if previous is not None:
            legal += f", or repeating {previous}"
    raise ProtocolError(
        field, f"illegal transition from {start} to {_name(new)}; {legal}", code="illegal_transition"
    )


# --- field checks -------------------------------------------------------------------------

_MISSING = object()
_JSON_TYPES: dict[type, str] = {
    bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object",
}

_MA_HO_SO = re.compile(r"[\x21-\x7e]{1,64}")
_MA_TTHC = re.compile(r"[0-9]\.[0-9]{6}(?:\.[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2})?")
_CCCD = re.compile(r"[0-9]{12}")
_MST = re.compile(r"[0-9]{10}(?:-?[0-9]{3})?")
_DIGITS = re.compile(r"-?[0-9]+")


def _got(value: object) -> str:
    if value is _MISSING:
        return "nothing"
    if value is None:
        return "null"
    kind = _JSON_TYPES.get(type(value), type(value).__name__)
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{shown} ({kind})"


def _fail(path: str, expected: str, value: object) -> ProtocolError:
    return ProtocolError(path, f"expected {expected}, got {_got(value)}")


def _object(obj: object, path: str, what: str) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise _fail(path, f"a JSON object ({what})", obj)
    return obj


def _text(
    value: object, path: str, *, max_len: int | None = None, pattern: re.Pattern[str] | None = None,
    shape: str = "", non_empty: bool = True,
) -> str:
    expected = "a non-empty string" if non_empty else "a string"
    if max_len is not None:
        expected += f" of at most {max_len} characters"
    if shape:
        expected += f" shaped {shape}"
    if not isinstance(value, str):
        raise _fail(path, expected, value)
    if (non_empty and not value) or (max_len is not None and len(value) > max_len):
        raise _fail(path, expected, value)
    if pattern is not None and not pattern.fullmatch(value):
        raise _fail(path, expected, value)
    return value


def _code(value: object, path: str, codes: Mapping[int, str]) -> int:
    """An integer code, also accepted as a decimal string; never a boolean."""
    listing = ", ".join(f"{k} {v}" for k, v in codes.items())
    expected = f"one of {listing} (integer or decimal string)"
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    if number is None or number not in codes:
        raise _fail(path, expected, value)
    return number


def _url(value: object, path: str) -> str:
    expected = "an http(s) URL"
    if not isinstance(value, str):
        raise _fail(path, expected, value)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise _fail(path, expected, value)
    return value


def _amount(value: object, path: str) -> int:
    """Non-negative whole VND: an integer, an integral float or a decimal string."""
    expected = "a non-negative whole amount in VND (integer or decimal string)"
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and _DIGITS.fullmatch(value)
    ):
        number = int(value)
    if number is None or number < 0:
        raise _fail(path, expected, value)
    return number


def _id(value: object, path: str) -> str | int:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _fail(path, "a string or integer identifier", value)


_YES_NO = {"1": 1, "2": 2, "true": 1, "false": 2}


def _yes_no(value: object, path: str) -> int:
    if isinstance(value, bool):
        return 1 if value else 2
    if isinstance(value, int) and value in (1, 2):
        return value
    if isinstance(value, str) and value.strip().lower() in _YES_NO:
        return _YES_NO[value.strip().lower()]
    raise _fail(path, "1 (yes) or 2 (no), or a boolean", value)


class _Item:
    """Reads the fields of one JSON object, writing normalised values into `out`."""

    def __init__(self, obj: Mapping[str, Any], path: str, may_omit: Collection[str] = ()) -> None:
        self.obj = obj
        self.path = path
        self.may_omit = may_omit  # required fields a client dialect leaves out (DESIGN §4.8)
        self.out: dict[str, Any] = dict(obj)  # unknown extra fields are kept as they came

    def at(self, name: str) -> str:
        return f"{self.path}.{name}"

    def required(self, name: str, check: Callable[[object, str], Any], *, keep: bool = False) -> Any:
        """Check a required field; `keep` stores the value as sent (dates) instead of the result."""
        value = self.obj.get(name, _MISSING)
        if value is _MISSING and name in self.may_omit:
            return None
        if value is _MISSING or value is None:
            raise ProtocolError(self.at(name), f"required; expected a value, got {_got(value)}",
                                code="missing")
        result = check(value, self.at(name))
        self.out[name] = value if keep else result
        return result

    def optional(self, name: str, check: Callable[[object, str], Any], *, keep: bool = False,
                 blank_is_none: bool = False) -> Any:
        value = self.obj.get(name, _MISSING)
        if value is _MISSING:
            return None
        if value is None or (blank_is_none and value == ""):
            self.out[name] = None
            return None
        result = check(value, self.at(name))
        self.out[name] = value if keep else result
        return result

    def required_date(self, name: str) -> datetime:
        """A required date: checked, kept in its (canonical) wire form, returned parsed."""
        result: datetime = self.required(name, parse_dt, keep=True)
        return result

    def optional_date(self, name: str) -> datetime | None:
        """An optional date; ``null`` or ``""`` means not yet known and is stored as None."""
        result: datetime | None = self.optional(name, parse_dt, keep=True, blank_is_none=True)
        return result

    def items(self, name: str, check: Callable[[object, str], dict[str, Any]]) -> list[dict[str, Any]]:
        value = self.obj.get(name, _MISSING)
        if value is _MISSING or value is None:
            return []
        if not isinstance(value, list):
            raise _fail(self.at(name), "an array", value)
        checked = [check(item, f"{self.at(name)}[{i}]") for i, item in enumerate(value)]
        self.out[name] = checked
        return checked

    def missing_when(self, name: str, reason: str) -> ProtocolError:
        return ProtocolError(self.at(name), f"required when {reason}; got {_got(self.obj.get(name, _MISSING))}",
                             code="missing")


def _text_check(**kwargs: Any) -> Callable[[object, str], str]:
    return lambda value, path: _text(value, path, **kwargs)


def _codes(codes: Mapping[int, str]) -> Callable[[object, str], int]:
    return lambda value, path: _code(value, path, codes)


def _not_before(later: datetime | None, earlier: datetime | None, path: str, earlier_name: str, raw: object) -> None:
    if later is not None and earlier is not None and later < earlier:
        raise ProtocolError(path, f"expected a time not before {earlier_name}, got {raw!r}")


def _agency(value: object, path: str) -> str:
    return str(parse_agency_code(value, path))


KENH_THUC_HIEN = {1: "in person", 2: "online", 3: "postal"}
LOAI_DOI_TUONG = {1: "citizen", 2: "business", 3: "agency", 4: "other"}
LOAI_DINH_DANH = {1: "personal id (CCCD)", 2: "tax code", 3: "other"}
LOAI_PHI_LE_PHI = {1: "fee", 2: "charge"}
TRANG_THAI_CODES = {int(s): s.label for s in TrangThai}

_ma_ho_so = _text_check(max_len=64, pattern=_MA_HO_SO, shape="as printable ASCII without spaces")
_required_text = _text_check()
_optional_text = _text_check(non_empty=False)


def _dinh_danh(obj: object, path: str) -> dict[str, Any]:
    item = _Item(_object(obj, path, "DinhDanhCHS"), path)
    kind = item.required("LoaiDinhDanh", _codes(LOAI_DINH_DANH))
    if kind == 1:
        item.required("SoDinhDanh", _text_check(pattern=_CCCD, shape="as 12 digits (CCCD)"))
    elif kind == 2:
        item.required("SoDinhDanh", _text_check(pattern=_MST, shape="as a tax code of 10 or 13 digits"))
    else:
        item.required("SoDinhDanh", _required_text)
    return item.out


def _tai_lieu(obj: object, path: str) -> dict[str, Any]:
    item = _Item(_object(obj, path, "TaiLieuNop"), path)
    item.optional("TepDinhKemId", _id)
    item.required("TenTepDinhKem", _required_text)
    item.required("DuongDanTaiTepTin", _url)
    return item.out


def _le_phi(obj: object, path: str) -> dict[str, Any]:
    item = _Item(_object(obj, path, "DanhSachLePhi"), path)
    item.required("TenPhiLePhi", _required_text)
    item.optional("MaPhiLePhi", _optional_text)
    item.optional("HinhThucThu", _id)
    item.required("Gia", _amount)
    item.optional("LoaiPhiLePhi", _codes(LOAI_PHI_LE_PHI))
    return item.out


def _giay_to(obj: object, path: str) -> dict[str, Any]:
    item = _Item(_object(obj, path, "DanhSachGiayToKetQua"), path)
    item.required("TenGiayTo", _required_text)
    item.optional("MaThanhPhanHoSo", _optional_text)
    item.optional("GiayToId", _id)
    item.required("DuongDanTepTinKetQua", _url)
    return item.out


def validate_hoso(obj: object, field: str = "data[0]", *, may_omit: Collection[str] = ()) -> dict[str, Any]:
    """Check one ``DongBoHoSoMC`` dossier; return it normalised (see the module docstring).

    `may_omit` names required fields a client dialect leaves out (OpenCPS omits ``KenhThucHien``):
    absent, they are not an error; sent, they are checked as usual.
    """
    item = _Item(_object(obj, field, "HoSo"), field, may_omit)
    item.required("MaHoSo", _ma_ho_so)
    item.required("MaTTHC", _text_check(pattern=_MA_TTHC, shape="d.dddddd or d.dddddd.000.00.00.Xnn"))
    item.required("TenTTHC", _required_text)
    item.optional("MaLinhVuc", _optional_text)
    item.optional("TenLinhVuc", _optional_text)
    item.required("KenhThucHien", _codes(KENH_THUC_HIEN))
    item.required("ChuHoSo", _text_check(max_len=255))
    item.required("LoaiDoiTuong", _codes(LOAI_DOI_TUONG))
    item.optional("MaDoiTuong", _optional_text)
    item.optional("SoGiayToChuHoSo", _optional_text)
    item.items("DinhDanhCHS", _dinh_danh)
    item.optional("TrichYeuHoSo", _optional_text)
    received = item.required_date("NgayTiepNhan")
    due = item.required_date("NgayHenTra")
    _not_before(due, received, item.at("NgayHenTra"), "NgayTiepNhan", item.obj["NgayHenTra"])
    status = item.required("TrangThaiHoSo", _codes(TRANG_THAI_CODES))
    returned = item.optional_date("NgayTra")
    finished = item.optional_date("NgayKetThucXuLy")
    _not_before(finished, received, item.at("NgayKetThucXuLy"), "NgayTiepNhan", item.obj.get("NgayKetThucXuLy"))
    _not_before(returned, received, item.at("NgayTra"), "NgayTiepNhan", item.obj.get("NgayTra"))
    item.required("DonViXuLy", _agency)
    item.items("TaiLieuNop", _tai_lieu)
    item.items("DanhSachLePhi", _le_phi)
    results = item.items("DanhSachGiayToKetQua", _giay_to)
    item.optional("DuocThanhToanTrucTuyen", _yes_no)

    if status in (9, 10) and finished is None:
        raise item.missing_when("NgayKetThucXuLy", f"TrangThaiHoSo is {_name(status)}")
    if status == 10:
        if returned is None:
            raise item.missing_when("NgayTra", f"TrangThaiHoSo is {_name(10)}")
        if not results:
            raise ProtocolError(
                item.at("DanhSachGiayToKetQua"),
                f"expected at least one result document when TrangThaiHoSo is {_name(10)}, "
                f"got {_got(item.obj.get('DanhSachGiayToKetQua', _MISSING))}",
                code="missing",
            )
    return item.out


def validate_tien_do(obj: object, field: str = "data[0]") -> dict[str, Any]:
    """Check one ``CapNhatTienDoHoSoMC`` progress entry; return it normalised."""
    item = _Item(_object(obj, field, "TienDoHoSo"), field)
    item.required("MaHoSo", _ma_ho_so)
    item.required("NguoiXuLy", _required_text)
    item.optional("ChucDanh", _optional_text)
    item.required_date("ThoiDiemXuLy")
    item.optional("PhongBanXuLy", _optional_text)
    item.required("NoiDungXuLy", _required_text)
    item.required("TrangThai", _codes(TRANG_THAI_CODES))
    start = item.optional_date("NgayBatDau")
    deadline = item.optional_date("NgayKetThucTheoQuyDinh")
    _not_before(deadline, start, item.at("NgayKetThucTheoQuyDinh"), "NgayBatDau",
                item.obj.get("NgayKetThucTheoQuyDinh"))
    return item.out


# --- JSON Schema (documentation for the OpenAPI document; `validate_hoso` is the validator) ---

_DT = {"type": "string", "pattern": "^[0-9]{14}$", "description": "yyyyMMddHHmmss, Asia/Ho_Chi_Minh"}
_OPT_DT = {"type": ["string", "null"], "pattern": "^([0-9]{14})?$",
           "description": "yyyyMMddHHmmss, Asia/Ho_Chi_Minh; empty or null when not yet known"}
_URL = {"type": "string", "format": "uri", "pattern": "^https?://"}
_OPT_STR = {"type": ["string", "null"]}
_ID = {"type": ["string", "integer", "null"]}


def _enum(codes: Mapping[int, str]) -> dict[str, Any]:
    values: list[int | str] = [*codes, *(str(k) for k in codes)]
    listing = ", ".join(f"{k} {v}" for k, v in codes.items())
    return {"type": ["integer", "string"], "enum": values, "description": f"{listing}; also as a decimal string"}


HOSO_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://cutover.invalid/schemas/hoso.json",
    "title": "HoSo",
    "description": "One dossier of DongBoHoSoMC. Unknown extra fields are allowed and kept.",
    "type": "object",
    "required": ["MaHoSo", "MaTTHC", "TenTTHC", "KenhThucHien", "ChuHoSo", "LoaiDoiTuong",
                 "NgayTiepNhan", "NgayHenTra", "TrangThaiHoSo", "DonViXuLy"],
    "additionalProperties": True,
    "properties": {
        "MaHoSo": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,64}$"},
        "MaTTHC": {"type": "string",
                   "pattern": "^[0-9]\\.[0-9]{6}(\\.[0-9]{3}\\.[0-9]{2}\\.[0-9]{2}\\.[A-Z][0-9]{2})?$"},
        "TenTTHC": {"type": "string", "minLength": 1},
        "MaLinhVuc": _OPT_STR,
        "TenLinhVuc": _OPT_STR,
        "KenhThucHien": _enum(KENH_THUC_HIEN),
        "ChuHoSo": {"type": "string", "minLength": 1, "maxLength": 255},
        "LoaiDoiTuong": _enum(LOAI_DOI_TUONG),
        "MaDoiTuong": _OPT_STR,
        "SoGiayToChuHoSo": _OPT_STR,
        "DinhDanhCHS": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "required": ["LoaiDinhDanh", "SoDinhDanh"],
                "properties": {
                    "LoaiDinhDanh": _enum(LOAI_DINH_DANH),
                    "SoDinhDanh": {"type": "string", "minLength": 1,
                                   "description": "12 digits for 1 (CCCD); 10 or 13 digits, optional '-', for 2"},
                },
            },
        },
        "TrichYeuHoSo": _OPT_STR,
        "NgayTiepNhan": _DT,
        "NgayHenTra": {**_DT, "description": "yyyyMMddHHmmss, not before NgayTiepNhan"},
        "TrangThaiHoSo": _enum(TRANG_THAI_CODES),
        "NgayTra": {**_OPT_DT, "description": "required when TrangThaiHoSo is 10"},
        "NgayKetThucXuLy": {**_OPT_DT, "description": "required when TrangThaiHoSo is 9 or 10"},
        "DonViXuLy": {"type": "string", "pattern": "^[0-9]{3}\\.[0-9]{2}\\.[0-9]{2}\\.[A-Z][0-9]{2}$",
                      "description": "agency identification code NNN.NN.NN.Xnn"},
        "TaiLieuNop": {
            "type": ["array", "null"],
            "items": {"type": "object", "required": ["TenTepDinhKem", "DuongDanTaiTepTin"],
                      "properties": {"TepDinhKemId": _ID, "TenTepDinhKem": {"type": "string", "minLength": 1},
                                     "DuongDanTaiTepTin": _URL}},
        },
        "DanhSachLePhi": {
            "type": ["array", "null"],
            "items": {"type": "object", "required": ["TenPhiLePhi", "Gia"],
                      "properties": {"TenPhiLePhi": {"type": "string", "minLength": 1}, "MaPhiLePhi": _OPT_STR,
                                     "HinhThucThu": _ID,
                                     "Gia": {"type": ["integer", "string"], "minimum": 0, "pattern": "^[0-9]+$",
                                             "description": "whole VND"},
                                     "LoaiPhiLePhi": _enum(LOAI_PHI_LE_PHI)}},
        },
        "DanhSachGiayToKetQua": {
            "type": ["array", "null"],
            "description": "at least one when TrangThaiHoSo is 10",
            "items": {"type": "object", "required": ["TenGiayTo", "DuongDanTepTinKetQua"],
                      "properties": {"TenGiayTo": {"type": "string", "minLength": 1},
                                     "MaThanhPhanHoSo": _OPT_STR, "GiayToId": _ID,
                                     "DuongDanTepTinKetQua": _URL}},
        },
        "DuocThanhToanTrucTuyen": {"type": ["integer", "string", "boolean", "null"],
                                   "description": "1 yes, 2 no; booleans and 'true'/'false' accepted"},
    },
}


TIEN_DO_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://cutover.invalid/schemas/tien-do.json",
    "title": "TienDoHoSo",
    "description": "One progress entry of CapNhatTienDoHoSoMC (`validate_tien_do`). Unknown extra fields are kept.",
    "type": "object",
    "required": ["MaHoSo", "NguoiXuLy", "ThoiDiemXuLy", "NoiDungXuLy", "TrangThai"],
    "additionalProperties": True,
    "properties": {
        "MaHoSo": HOSO_JSON_SCHEMA["properties"]["MaHoSo"],
        "NguoiXuLy": {"type": "string", "minLength": 1, "description": "the officer who acted"},
        "ChucDanh": _OPT_STR,
        "ThoiDiemXuLy": {**_DT, "description": "when the officer acted; never before the dossier's last event"},
        "PhongBanXuLy": _OPT_STR,
        "NoiDungXuLy": {"type": "string", "minLength": 1},
        "TrangThai": {**_enum(TRANG_THAI_CODES), "description": "the status this entry moves the dossier to (legal "
                      "transitions only); " + _enum(TRANG_THAI_CODES)["description"]},
        "NgayBatDau": _OPT_DT,
        "NgayKetThucTheoQuyDinh": {**_OPT_DT, "description": "yyyyMMddHHmmss, not before NgayBatDau"},
    },
}

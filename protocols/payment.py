"""The national payment platform's wire format: messages, `MaXacThuc` and validation. No I/O.

Modelled on what the .NET one-stop client sends (DESIGN §4.4). Both sides use this module:
the mock platform validates and verifies what it receives, the reference provincial system
builds INITs (`build_init`) and verifies callbacks (`verify_callback`). Tests hold the hash
functions to vectors computed independently with `hashlib`, so a shared mistake here cannot
hide.

`MaXacThuc` is the lowercase hex SHA-256 of the message's fields, in each message's own
documented order (`INIT_HASH_FIELDS`, `CALLBACK_HASH_FIELDS`, `QUERY_HASH_FIELDS`), joined
with ``|`` and with the partner's secret appended last. A missing field counts as ``""``;
integers are written in decimal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from protocols.dates import VN_TZ
from protocols.dialects import DIALECTS, Dialect, fee_kind
from protocols.errors import ProtocolError

TIME_FORMAT = "%Y%m%d%H%M%S"

# Values the .NET client sends.
PHIEN_BAN = "1.0.6"
LOAI_HINH_THANH_TOAN = "PAY"
MA_KENH_THANH_TOAN = "1"
MA_THIET_BI = "1"
NGON_NGU = "vi-VN"
NGON_NGU_ALLOWED = ("vi-VN", "en-US", "vi", "en")
MA_TIEN_TE = "VND"

INIT = "INIT"
QUERY = "QUERY"
GET_BILL = "GET_BILL"
CONFIRM = "Confirm"  # LoaiBanTin of the platform's callback to the province
RECONCILE = "RECONCILE"
REQUEST_TYPES = (INIT, QUERY, GET_BILL)

INIT_HASH_FIELDS = ("LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "SoTien", "LoaiHinhThanhToan",
                    "MaKenhThanhToan", "MaThietBi", "NgonNgu", "MaTienTe", "MaNganHang", "ThongTinGiaoDich",
                    "ThoiGianGD", "Ip")
CALLBACK_HASH_FIELDS = ("LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu", "SoTien", "MaTienTe", "MaGiaoDich",
                        "MaNganHang", "ThoiGianGD", "ThongTinGiaoDich")
QUERY_HASH_FIELDS = ("LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "ThoiGianGD")
QUERY_ANSWER_HASH_FIELDS = CALLBACK_HASH_FIELDS
"""A QUERY answer is signed like a callback (the .NET client checks both with one routine)."""
RECONCILE_HASH_FIELDS = ("LoaiBanTin", "MaDoiTac", "NgayDoiSoat")

INIT_FIELDS = (*INIT_HASH_FIELDS, "MaXacThuc", "ThongTinBienLai")
CALLBACK_FIELDS = (*CALLBACK_HASH_FIELDS, "MaXacThuc")
QUERY_FIELDS = (*QUERY_HASH_FIELDS, "MaXacThuc")

RECEIPT_REQUIRED = ("MaDVC", "MaTTHC", "MaDonVi", "MaHoSo", "TKThuHuong", "MaNHThuHuong", "TenTKThuHuong",
                    "HoTenNguoiNop", "SoCMNDNguoiNop", "PhiLePhi")
RECEIPT_OPTIONAL = ("TenTTHC", "TenDonVi", "DiaChiNguoiNop", "SoDienThoaiNguoiNop", "EmailNguoiNop", "GhiChu")
FEE_LINE_FIELDS = ("LoaiPhiLePhi", "MaPhiLePhi", "TenPhiLePhi", "SoTien")
FEE_KINDS = {"1": "phí", "2": "lệ phí"}

# TrangThaiGD in QUERY answers.
PAID, PENDING, FAILED = 1, 3, 4
MA_LOI_PAID = "00"

MAX_AMOUNT = 1_000_000_000_000  # VND; anything above is a typo, not a fee
MAX_TEXT = 255
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DIGITS = re.compile(r"[1-9][0-9]*")
_REFERENCE = re.compile(r"[A-Za-z0-9._:/-]{1,50}")
_PARTNER = re.compile(r"[A-Za-z0-9_-]{1,32}")
_DAY = re.compile(r"[0-9]{8}")


# --- hashing ---------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _digest(msg: Mapping[str, Any], fields: Iterable[str], secret: str) -> str:
    joined = "|".join([*(_text(msg.get(f)) for f in fields), secret])
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()


def ma_xac_thuc_init(msg: Mapping[str, Any], secret: str) -> str:
    """`MaXacThuc` of an INIT, over `INIT_HASH_FIELDS` then the secret."""
    return _digest(msg, INIT_HASH_FIELDS, secret)


def ma_xac_thuc_callback(msg: Mapping[str, Any], secret: str) -> str:
    """`MaXacThuc` of the platform's callback (`Confirm`), over `CALLBACK_HASH_FIELDS`."""
    return _digest(msg, CALLBACK_HASH_FIELDS, secret)


def ma_xac_thuc_query(msg: Mapping[str, Any], secret: str) -> str:
    """`MaXacThuc` of a QUERY or GET_BILL, over `QUERY_HASH_FIELDS`."""
    return _digest(msg, QUERY_HASH_FIELDS, secret)


def ma_xac_thuc_query_answer(msg: Mapping[str, Any], secret: str) -> str:
    """`MaXacThuc` of the platform's QUERY answer, over `QUERY_ANSWER_HASH_FIELDS` (the callback's order)."""
    return _digest(msg, QUERY_ANSWER_HASH_FIELDS, secret)


def verify_query_answer(msg: Mapping[str, Any], secret: str) -> None:
    """Raise ProtocolError(`MaXacThuc`) unless a QUERY answer's hash is right (the province's check)."""
    _check_hash(msg, ma_xac_thuc_query_answer(msg, secret))


def ma_xac_thuc_reconciliation(partner: str, day: str, secret: str) -> str:
    """`MaXacThuc` that unlocks a reconciliation file: ``RECONCILE|MaDoiTac|yyyyMMdd|secret``."""
    return _digest({"LoaiBanTin": RECONCILE, "MaDoiTac": partner, "NgayDoiSoat": day},
                   RECONCILE_HASH_FIELDS, secret)


def file_signature(body: bytes, secret: str) -> str:
    """Signature of a reconciliation file's bytes (header `X-MaXacThuc`): sha256(body | secret)."""
    return hashlib.sha256(body + b"|" + secret.encode("utf-8")).hexdigest()


def verify_reconciliation(partner: str, day: str, given: str, secret: str) -> None:
    """Raise ProtocolError(`MaXacThuc`) unless `given` unlocks the partner's file for `day`."""
    _check_hash({"MaXacThuc": given}, ma_xac_thuc_reconciliation(partner, day, secret))


def _check_hash(msg: Mapping[str, Any], expected: str) -> None:
    given = msg.get("MaXacThuc")
    if not isinstance(given, str) or not _HEX64.fullmatch(given):
        raise ProtocolError("MaXacThuc", "expected 64 lowercase hex characters (SHA-256)", code="bad_hash")
    if not hmac.compare_digest(given, expected):
        raise ProtocolError("MaXacThuc", "does not match the message and the partner's secret", code="bad_hash")


def verify_init(msg: Mapping[str, Any], secret: str) -> None:
    """Raise ProtocolError(`MaXacThuc`) unless the INIT's hash is right."""
    _check_hash(msg, ma_xac_thuc_init(msg, secret))


def verify_callback(msg: Mapping[str, Any], secret: str) -> None:
    """Raise ProtocolError(`MaXacThuc`) unless the callback's hash is right (the province's check)."""
    _check_hash(msg, ma_xac_thuc_callback(msg, secret))


def verify_query(msg: Mapping[str, Any], secret: str) -> None:
    """Raise ProtocolError(`MaXacThuc`) unless the QUERY/GET_BILL hash is right."""
    _check_hash(msg, ma_xac_thuc_query(msg, secret))


# --- times and small checks ------------------------------------------------------------------

def format_time(dt: datetime) -> str:
    """`yyyyMMddHHmmss` in Asia/Ho_Chi_Minh (naive datetimes are taken as already local)."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(VN_TZ)
    return dt.strftime(TIME_FORMAT)


def parse_time(value: Any, field: str = "ThoiGianGD") -> datetime:
    """An aware datetime from `yyyyMMddHHmmss` (Asia/Ho_Chi_Minh)."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{14}", value):
        raise ProtocolError(field, f"expected yyyyMMddHHmmss (14 digits, Asia/Ho_Chi_Minh), got {value!r}")
    try:
        return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=VN_TZ)
    except ValueError:
        raise ProtocolError(field, f"not a real date and time: {value!r}") from None


def parse_day(value: Any, field: str = "NgayDoiSoat") -> str:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ProtocolError(field, f"expected yyyyMMdd, got {value!r}")
    try:
        datetime.strptime(value, "%Y%m%d")
    except ValueError:
        raise ProtocolError(field, f"not a real date: {value!r}") from None
    return value


def check_text_tree(value: Any, field: str = "body") -> None:
    """Refuse strings that cannot be stored or hashed as UTF-8 (lone surrogates, NUL)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ProtocolError(field, "contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ProtocolError(field, "is not valid Unicode text (lone surrogate)") from None
    elif isinstance(value, dict):
        for k, v in value.items():
            check_text_tree(k, field)
            check_text_tree(v, f"{k}" if field == "body" else f"{field}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_text_tree(v, f"{field}[{i}]")


def _str(msg: Mapping[str, Any], name: str, *, required: bool = True, max_len: int = MAX_TEXT,
         prefix: str = "") -> str:
    value = msg.get(name)
    path = f"{prefix}{name}"
    if value is None or value == "":
        if required:
            raise ProtocolError(path, "required, a non-empty string", code="missing")
        return ""
    if not isinstance(value, str):
        raise ProtocolError(path, f"expected a string, got {type(value).__name__} {value!r}")
    if len(value) > max_len:
        raise ProtocolError(path, f"at most {max_len} characters, got {len(value)}")
    return value


def _exact(msg: Mapping[str, Any], name: str, allowed: Iterable[str]) -> str:
    options = tuple(allowed)
    value = _str(msg, name)
    if value not in options:
        raise ProtocolError(name, f"expected {' or '.join(repr(o) for o in options)}, got {value!r}")
    return value


def parse_amount(value: Any, field: str = "SoTien", *, as_string: bool = True) -> int:
    """A positive whole number of VND; `as_string` accepts the INIT form (a decimal string) too."""
    if value is None or value == "":
        raise ProtocolError(field, "required, a positive whole number of VND", code="missing")
    if isinstance(value, bool):
        raise ProtocolError(field, f"expected a whole number of VND, got {value!r}")
    if isinstance(value, int):
        amount = value
    elif isinstance(value, str) and as_string:
        if not _DIGITS.fullmatch(value):
            raise ProtocolError(field, f"expected a positive whole number of VND written in digits "
                                       f"(no sign, decimals or leading zeros), got {value!r}")
        if len(value) > 13:
            raise ProtocolError(field, f"at most {MAX_AMOUNT} VND, got {value}")
        amount = int(value)
    else:
        raise ProtocolError(field, f"expected a whole number of VND, got {type(value).__name__} {value!r}")
    if amount <= 0:
        raise ProtocolError(field, f"must be positive, got {amount}")
    if amount > MAX_AMOUNT:
        raise ProtocolError(field, f"at most {MAX_AMOUNT} VND, got {amount}")
    return amount


def parse_error_code(value: Any) -> bool:
    """True when an answer's `error_code` means success (0, "0" or "00", as the clients read it)."""
    return value in (0, "0", "00")


# --- messages --------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeeLine:
    kind: str  # LoaiPhiLePhi: "1" phí, "2" lệ phí
    code: str
    name: str
    amount: int


@dataclass(frozen=True)
class InitRequest:
    """A validated INIT (shape only: partner, hash and accounts are the platform's business)."""

    partner: str
    reference: str
    amount: int
    language: str
    bank: str
    info: str
    time: datetime
    ip: str
    receipt: dict[str, Any]
    fees: tuple[FeeLine, ...]

    @property
    def unit(self) -> str:
        return str(self.receipt["MaDonVi"])

    @property
    def dossier(self) -> str:
        return str(self.receipt["MaHoSo"])


@dataclass(frozen=True)
class QueryRequest:
    kind: str  # QUERY | GET_BILL
    partner: str
    reference: str
    time: datetime


def _object(msg: Any) -> Mapping[str, Any]:
    if not isinstance(msg, Mapping):
        raise ProtocolError("body", f"expected a JSON object, got {type(msg).__name__}")
    return msg


def message_type(msg: Any) -> str:
    """`LoaiBanTin` of a request to the platform: INIT, QUERY or GET_BILL."""
    body = _object(msg)
    kind = body.get("LoaiBanTin")
    if kind in (None, ""):
        raise ProtocolError("LoaiBanTin", f"required, one of {list(REQUEST_TYPES)}", code="missing")
    if kind not in REQUEST_TYPES:
        raise ProtocolError("LoaiBanTin", f"expected one of {list(REQUEST_TYPES)}, got {kind!r}")
    return str(kind)


def partner_of(msg: Any) -> str:
    value = _str(_object(msg), "MaDoiTac", max_len=32)
    if not _PARTNER.fullmatch(value):
        raise ProtocolError("MaDoiTac", f"expected letters, digits, '-' or '_', got {value!r}")
    return value


def _reference(msg: Mapping[str, Any]) -> str:
    value = _str(msg, "MaThamChieu", max_len=50)
    if not _REFERENCE.fullmatch(value):
        raise ProtocolError("MaThamChieu", "expected 1-50 characters from A-Z a-z 0-9 . _ : / -, "
                                           f"got {value!r}")
    return value


def _fee_lines(receipt: Mapping[str, Any], dialect: Dialect) -> tuple[FeeLine, ...]:
    raw = receipt.get("PhiLePhi")
    if raw is None or raw == []:
        raise ProtocolError("ThongTinBienLai.PhiLePhi", "required, a non-empty list of fee lines", code="missing")
    if not isinstance(raw, list):
        raise ProtocolError("ThongTinBienLai.PhiLePhi", f"expected a list, got {type(raw).__name__}")
    lines = []
    for i, item in enumerate(raw):
        prefix = f"ThongTinBienLai.PhiLePhi[{i}]."
        if not isinstance(item, Mapping):
            raise ProtocolError(prefix[:-1], f"expected an object with {list(FEE_LINE_FIELDS)}")
        kind = fee_kind(item.get("LoaiPhiLePhi"), dialect, prefix + "LoaiPhiLePhi")
        lines.append(FeeLine(kind, _str(item, "MaPhiLePhi", max_len=50, prefix=prefix),
                             _str(item, "TenPhiLePhi", prefix=prefix),
                             parse_amount(item.get("SoTien"), prefix + "SoTien")))
    return tuple(lines)


def _receipt(msg: Mapping[str, Any], amount: int, dialect: Dialect) -> tuple[dict[str, Any], tuple[FeeLine, ...]]:
    raw = msg.get("ThongTinBienLai")
    if raw is None:
        raise ProtocolError("ThongTinBienLai", "required: the receipt details (dossier, commune account, "
                                               "payer, fee lines)", code="missing")
    if not isinstance(raw, Mapping):
        raise ProtocolError("ThongTinBienLai", f"expected an object, got {type(raw).__name__}")
    p = "ThongTinBienLai."
    clean: dict[str, Any] = {}
    for name in RECEIPT_REQUIRED:
        if name != "PhiLePhi":
            clean[name] = _str(raw, name, prefix=p, max_len=MAX_TEXT)
    for name in RECEIPT_OPTIONAL:
        if raw.get(name) not in (None, ""):
            clean[name] = _str(raw, name, prefix=p, required=False)
    if not re.fullmatch(r"[0-9]{9}|[0-9]{12}", clean["SoCMNDNguoiNop"]):
        raise ProtocolError(p + "SoCMNDNguoiNop", "expected 9 or 12 digits (CMND or CCCD number), got "
                                                  f"{clean['SoCMNDNguoiNop']!r}")
    fees = _fee_lines(raw, dialect)
    total = sum(f.amount for f in fees)
    if total != amount:
        raise ProtocolError(p + "PhiLePhi", f"the fee lines add up to {total} VND but SoTien is {amount}")
    clean["PhiLePhi"] = [{"LoaiPhiLePhi": f.kind, "MaPhiLePhi": f.code, "TenPhiLePhi": f.name, "SoTien": f.amount}
                         for f in fees]
    return clean, fees


def validate_init(msg: Any, dialect: Dialect = DIALECTS["strict"]) -> InitRequest:
    """Check an INIT's shape field by field (not its hash); raise ProtocolError naming the field.

    The partner's `dialect` says which variants are accepted (fee kinds written as text); the
    receipt is stored with the contract's codes whatever came.
    """
    body = _object(msg)
    check_text_tree(dict(body))
    if body.get("LoaiBanTin") != INIT:
        raise ProtocolError("LoaiBanTin", f"expected {INIT!r}, got {body.get('LoaiBanTin')!r}")
    _str(body, "PhienBan", max_len=16)
    partner = partner_of(body)
    reference = _reference(body)
    amount = parse_amount(body.get("SoTien"))
    _exact(body, "LoaiHinhThanhToan", [LOAI_HINH_THANH_TOAN])
    _str(body, "MaKenhThanhToan", max_len=8)
    _str(body, "MaThietBi", max_len=8)
    language = _exact(body, "NgonNgu", NGON_NGU_ALLOWED)
    currency = _str(body, "MaTienTe", max_len=8)
    if currency != MA_TIEN_TE:
        raise ProtocolError("MaTienTe", f"only {MA_TIEN_TE!r} is accepted, got {currency!r}")
    bank = _str(body, "MaNganHang", required=False, max_len=32)
    info = _str(body, "ThongTinGiaoDich")
    when = parse_time(body.get("ThoiGianGD"))
    ip = _str(body, "Ip", required=False, max_len=64)
    if not isinstance(body.get("MaXacThuc"), str) or not body.get("MaXacThuc"):
        raise ProtocolError("MaXacThuc", "required, the SHA-256 of the INIT fields and the secret", code="missing")
    receipt, fees = _receipt(body, amount, dialect)
    return InitRequest(partner, reference, amount, language, bank, info, when, ip, receipt, fees)


def validate_query(msg: Any) -> QueryRequest:
    """Check a QUERY or GET_BILL's shape (not its hash)."""
    body = _object(msg)
    check_text_tree(dict(body))
    kind = body.get("LoaiBanTin")
    if kind not in (QUERY, GET_BILL):
        raise ProtocolError("LoaiBanTin", f"expected 'QUERY' or 'GET_BILL', got {kind!r}")
    _str(body, "PhienBan", max_len=16)
    partner = partner_of(body)
    reference = _reference(body)
    when = parse_time(body.get("ThoiGianGD"))
    if not isinstance(body.get("MaXacThuc"), str) or not body.get("MaXacThuc"):
        raise ProtocolError("MaXacThuc", "required, the SHA-256 of the fields and the secret", code="missing")
    return QueryRequest(str(kind), partner, reference, when)


def validate_callback(msg: Any) -> dict[str, Any]:
    """Check a callback's shape (the province's side); `SoTien` must be an integer here."""
    body = _object(msg)
    check_text_tree(dict(body))
    if body.get("LoaiBanTin") != CONFIRM:
        raise ProtocolError("LoaiBanTin", f"expected {CONFIRM!r}, got {body.get('LoaiBanTin')!r}")
    ma_loi = _str(body, "MaLoi", max_len=4)
    partner = partner_of(body)
    reference = _reference(body)
    amount = parse_amount(body.get("SoTien"), as_string=False)
    if body.get("MaTienTe") != MA_TIEN_TE:
        raise ProtocolError("MaTienTe", f"expected {MA_TIEN_TE!r}, got {body.get('MaTienTe')!r}")
    parse_time(body.get("ThoiGianGD"))
    return {"MaLoi": ma_loi, "MaDoiTac": partner, "MaThamChieu": reference, "SoTien": amount,
            "MaGiaoDich": _str(body, "MaGiaoDich", max_len=64), "MaNganHang": _str(body, "MaNganHang", required=False),
            "ThoiGianGD": body["ThoiGianGD"], "paid": ma_loi == MA_LOI_PAID}


# --- building messages -----------------------------------------------------------------------

def build_init(partner: str, secret: str, reference: str, amount: int, receipt: Mapping[str, Any],
               now: datetime, *, info: str = "", bank: str = "", ip: str = "127.0.0.1",
               language: str = NGON_NGU) -> dict[str, Any]:
    """A signed INIT as the .NET client sends it; `receipt` is `ThongTinBienLai`.

    If `receipt` has no `PhiLePhi`, one "lệ phí" line for the whole amount is added.
    """
    bien_lai = dict(receipt)
    bien_lai.setdefault("PhiLePhi", [{"LoaiPhiLePhi": "2", "MaPhiLePhi": "LP", "TenPhiLePhi": "Lệ phí",
                                      "SoTien": amount}])
    msg: dict[str, Any] = {
        "LoaiBanTin": INIT, "PhienBan": PHIEN_BAN, "MaDoiTac": partner, "MaThamChieu": reference,
        "SoTien": str(amount), "LoaiHinhThanhToan": LOAI_HINH_THANH_TOAN, "MaKenhThanhToan": MA_KENH_THANH_TOAN,
        "MaThietBi": MA_THIET_BI, "NgonNgu": language, "MaTienTe": MA_TIEN_TE, "MaNganHang": bank,
        "ThongTinGiaoDich": info or f"Thanh toan ho so {bien_lai.get('MaHoSo', reference)}",
        "ThoiGianGD": format_time(now), "Ip": ip,
    }
    msg["MaXacThuc"] = ma_xac_thuc_init(msg, secret)
    msg["ThongTinBienLai"] = bien_lai
    return msg


def build_query(partner: str, secret: str, reference: str, now: datetime, *, kind: str = QUERY) -> dict[str, Any]:
    """A signed QUERY (or GET_BILL with `kind=GET_BILL`)."""
    msg: dict[str, Any] = {"LoaiBanTin": kind, "PhienBan": PHIEN_BAN, "MaDoiTac": partner,
                           "MaThamChieu": reference, "ThoiGianGD": format_time(now)}
    msg["MaXacThuc"] = ma_xac_thuc_query(msg, secret)
    return msg


def build_callback(*, ma_loi: str, partner: str, reference: str, amount: int, transaction: str, bank: str,
                   when: datetime, info: str, secret: str) -> dict[str, Any]:
    """The platform's signed callback (`LoaiBanTin` "Confirm"); `SoTien` is an integer."""
    msg: dict[str, Any] = {"LoaiBanTin": CONFIRM, "MaLoi": ma_loi, "MaDoiTac": partner, "MaThamChieu": reference,
                           "SoTien": int(amount), "MaTienTe": MA_TIEN_TE, "MaGiaoDich": transaction,
                           "MaNganHang": bank, "ThoiGianGD": format_time(when), "ThongTinGiaoDich": info}
    msg["MaXacThuc"] = ma_xac_thuc_callback(msg, secret)
    return msg


def init_payment_url(answer: Mapping[str, Any]) -> str:
    """`UrlThanhToan` from an INIT answer, whose `message` is a JSON-encoded string."""
    if not parse_error_code(answer.get("error_code")):
        raise ProtocolError(answer.get("field") or "error_code",
                            f"INIT refused ({answer.get('error_code')!r}): {answer.get('message')}")
    message = answer.get("message")
    try:
        inner = json.loads(message) if isinstance(message, str) else message
    except ValueError:
        raise ProtocolError("message", f"expected a JSON-encoded string with UrlThanhToan, got {message!r}") from None
    if not isinstance(inner, Mapping) or not isinstance(inner.get("UrlThanhToan"), str):
        raise ProtocolError("message.UrlThanhToan", "missing from the INIT answer")
    return str(inner["UrlThanhToan"])



# --- JSON Schemas (the published documents name these; the validators above are the rule) ------

def hash_recipe(fields: Iterable[str]) -> str:
    """How `MaXacThuc` is computed over `fields`, written out for the documents."""
    return ("lowercase hex SHA-256 of the UTF-8 text " + "|".join(fields) + "|secret (each field's value, "
            "a missing one as empty text, integers in decimal; the partner's secret last)")


_TIME_SCHEMA = {"type": "string", "pattern": "^[0-9]{14}$", "description": "yyyyMMddHHmmss, Asia/Ho_Chi_Minh"}
_HEX_SCHEMA = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_PARTNER_SCHEMA = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$",
                   "description": "the partner code the platform gave the province (P + province code, e.g. P31)"}
_REFERENCE_SCHEMA = {"type": "string", "pattern": "^[A-Za-z0-9._:/-]{1,50}$",
                     "description": "the province's own reference of this payment, unique per partner"}
_AMOUNT_TEXT = {"type": "string", "pattern": "^[1-9][0-9]{0,12}$"}
_AMOUNT_INT = {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT}
_AMOUNT_EITHER = {"anyOf": [_AMOUNT_TEXT, _AMOUNT_INT],
                  "description": "whole VND: a decimal string as the .NET client sends it (an integer is accepted)"}


def _text_schema(max_len: int = MAX_TEXT, *, required: bool = True) -> dict[str, Any]:
    if required:
        return {"type": "string", "minLength": 1, "maxLength": max_len}
    return {"type": ["string", "null"], "maxLength": max_len}


FEE_LINE_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": list(FEE_LINE_FIELDS),
    "properties": {
        "LoaiPhiLePhi": {"type": ["string", "integer"],
                         "description": "; ".join(f'"{k}" {v}' for k, v in FEE_KINDS.items())
                         + ' (a number is accepted; the dialects with fee kinds as text also take the words '
                           '"Phi" / "LePhi", in any case and with or without diacritics)'},
        "MaPhiLePhi": _text_schema(50),
        "TenPhiLePhi": _text_schema(),
        "SoTien": _AMOUNT_EITHER,
    },
}

RECEIPT_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "ThongTinBienLai: the receipt's details; the fee lines add up to SoTien",
    "required": list(RECEIPT_REQUIRED),
    "properties": {
        **{name: _text_schema() for name in RECEIPT_REQUIRED if name != "PhiLePhi"},
        "MaDonVi": {**_text_schema(), "description": "the commune: its 5-digit official code or its agency code"},
        "TKThuHuong": {**_text_schema(), "description": "the commune's own beneficiary account"},
        "SoCMNDNguoiNop": {"type": "string", "pattern": "^([0-9]{9}|[0-9]{12})$",
                           "description": "the payer's CMND (9 digits) or CCCD (12 digits)"},
        **{name: _text_schema(required=False) for name in RECEIPT_OPTIONAL},
        "PhiLePhi": {"type": "array", "minItems": 1, "items": FEE_LINE_JSON_SCHEMA},
    },
}

INIT_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "INIT",
    "description": "A payment request (`validate_init`). MaXacThuc = " + hash_recipe(INIT_HASH_FIELDS) + ".",
    "type": "object",
    "required": [f for f in INIT_FIELDS if f not in ("MaNganHang", "Ip")],
    "properties": {
        "LoaiBanTin": {"const": INIT},
        "PhienBan": {**_text_schema(16), "examples": [PHIEN_BAN]},
        "MaDoiTac": _PARTNER_SCHEMA,
        "MaThamChieu": _REFERENCE_SCHEMA,
        "SoTien": _AMOUNT_EITHER,
        "LoaiHinhThanhToan": {"const": LOAI_HINH_THANH_TOAN},
        "MaKenhThanhToan": {**_text_schema(8), "examples": [MA_KENH_THANH_TOAN]},
        "MaThietBi": {**_text_schema(8), "examples": [MA_THIET_BI]},
        "NgonNgu": {"enum": list(NGON_NGU_ALLOWED)},
        "MaTienTe": {"const": MA_TIEN_TE},
        "MaNganHang": {**_text_schema(32, required=False), "description": "a bank chosen in advance; empty: the payer chooses"},
        "ThongTinGiaoDich": _text_schema(),
        "ThoiGianGD": _TIME_SCHEMA,
        "Ip": _text_schema(64, required=False),
        "MaXacThuc": {**_HEX_SCHEMA, "description": hash_recipe(INIT_HASH_FIELDS)},
        "ThongTinBienLai": RECEIPT_JSON_SCHEMA,
    },
}

QUERY_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "QUERY or GET_BILL",
    "description": "The state of a payment (QUERY) or its receipt (GET_BILL) (`validate_query`). MaXacThuc = "
                   + hash_recipe(QUERY_HASH_FIELDS) + ".",
    "type": "object",
    "required": list(QUERY_FIELDS),
    "properties": {
        "LoaiBanTin": {"enum": [QUERY, GET_BILL]},
        "PhienBan": _text_schema(16),
        "MaDoiTac": _PARTNER_SCHEMA,
        "MaThamChieu": _REFERENCE_SCHEMA,
        "ThoiGianGD": _TIME_SCHEMA,
        "MaXacThuc": {**_HEX_SCHEMA, "description": hash_recipe(QUERY_HASH_FIELDS)},
    },
}

CALLBACK_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Callback (Confirm)",
    "description": "What the platform POSTs to the province once a payment settles (`validate_callback`). "
                   "MaXacThuc = " + hash_recipe(CALLBACK_HASH_FIELDS) + ".",
    "type": "object",
    "required": [f for f in CALLBACK_FIELDS if f != "MaNganHang"],
    "properties": {
        "LoaiBanTin": {"const": CONFIRM},
        "MaLoi": {**_text_schema(4), "description": f'"{MA_LOI_PAID}" paid; anything else is not paid'},
        "MaDoiTac": _PARTNER_SCHEMA,
        "MaThamChieu": _REFERENCE_SCHEMA,
        "SoTien": {**_AMOUNT_INT, "description": "whole VND, an integer here (a string in INIT)"},
        "MaTienTe": {"const": MA_TIEN_TE},
        "MaGiaoDich": {**_text_schema(64), "description": "the platform's transaction code"},
        "MaNganHang": _text_schema(required=False),
        "ThoiGianGD": _TIME_SCHEMA,
        "ThongTinGiaoDich": {"type": ["string", "null"]},
        "MaXacThuc": {**_HEX_SCHEMA, "description": hash_recipe(CALLBACK_HASH_FIELDS)},
    },
}


__all__ = [
    "CALLBACK_JSON_SCHEMA", "FEE_LINE_JSON_SCHEMA", "INIT_JSON_SCHEMA", "QUERY_JSON_SCHEMA", "RECEIPT_JSON_SCHEMA",
    "hash_recipe", "CALLBACK_FIELDS", "CALLBACK_HASH_FIELDS", "CONFIRM", "FAILED", "GET_BILL", "INIT", "INIT_FIELDS",
    "INIT_HASH_FIELDS", "PAID", "PENDING", "QUERY", "QUERY_ANSWER_HASH_FIELDS", "QUERY_FIELDS", "QUERY_HASH_FIELDS",
    "FeeLine",
    "InitRequest", "QueryRequest", "build_callback", "build_init", "build_query", "file_signature",
    "format_time", "init_payment_url", "ma_xac_thuc_callback", "ma_xac_thuc_init", "ma_xac_thuc_query",
    "ma_xac_thuc_query_answer", "ma_xac_thuc_reconciliation", "message_type", "parse_amount", "parse_day", "parse_error_code",
    "parse_time", "validate_callback", "validate_init", "validate_query", "verify_callback", "verify_init",
    "verify_query", "verify_query_answer", "verify_reconciliation",
]

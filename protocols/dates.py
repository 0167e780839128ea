"""Date formats of the national portal's wire protocol.

The portal and the provincial systems exchange timestamps as ``yyyyMMddHHmmss`` with no zone
marker; the zone is always Asia/Ho_Chi_Minh. Dates without time (``NgayThangNamSinh`` in SSO
userinfo) are ``yyyyMMdd``. Everything that parses a wire value raises `ProtocolError` naming
the field, so a mock can answer with its own envelope instead of a stack trace.

The wire format cannot say which of two identical local times is meant when Viet Nam set its
clocks back (last in 1975), so parsing picks the earlier one (``fold=0``); since 1976 the
offset has been a constant +07:00 and every instant round-trips exactly.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from protocols.errors import ProtocolError

__all__ = ["DATE_FORMAT", "DATETIME_FORMAT", "VN_TZ", "format_date", "format_dt", "parse_date", "parse_dt"]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DATETIME_FORMAT = "yyyyMMddHHmmss"
DATE_FORMAT = "yyyyMMdd"

# [0-9], not \d: \d also accepts non-ASCII digits, which no real client sends.
_DATETIME = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})")
_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")


def format_dt(dt: datetime) -> str:
    """``yyyyMMddHHmmss`` in Viet Nam time; a naive `dt` is taken as already local."""
    local = dt.astimezone(VN_TZ) if dt.tzinfo is not None else dt
    return (
        f"{local.year:04d}{local.month:02d}{local.day:02d}"
        f"{local.hour:02d}{local.minute:02d}{local.second:02d}"
    )


def _show(text: object) -> str:
    shown = text if isinstance(text, str) else repr(text)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def parse_dt(text: object, field: str) -> datetime:
    """Parse ``yyyyMMddHHmmss`` (Asia/Ho_Chi_Minh) into an aware datetime, strictly."""
    message = f"expected {DATETIME_FORMAT} (Asia/Ho_Chi_Minh), got '{_show(text)}'"
    if not isinstance(text, str):
        raise ProtocolError(field, message)
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise ProtocolError(field, message)
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=VN_TZ)
    except ValueError as exc:  # 20250231..., hour 24, year 0000
        raise ProtocolError(field, f"{message} ({exc})") from None


def format_date(d: date) -> str:
    """``yyyyMMdd``; a datetime is first brought to Viet Nam time like `format_dt` does."""
    if isinstance(d, datetime):
        return format_dt(d)[:8]
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def parse_date(text: object, field: str) -> date:
    """Parse ``yyyyMMdd`` strictly (used for ``NgayThangNamSinh``)."""
    message = f"expected {DATE_FORMAT}, got '{_show(text)}'"
    if not isinstance(text, str):
        raise ProtocolError(field, message)
    match = _DATE.fullmatch(text)
    if match is None:
        raise ProtocolError(field, message)
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ProtocolError(field, f"{message} ({exc})") from None

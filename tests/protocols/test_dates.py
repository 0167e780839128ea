"""The portal's date formats: strict parsing, Viet Nam time, exact round trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from protocols.dates import VN_TZ, format_date, format_dt, parse_date, parse_dt
from protocols.errors import ProtocolError


def test_utc_datetime_formats_in_vietnam_time() -> None:
    assert format_dt(datetime(2025, 6, 30, 17, 30, 5, tzinfo=UTC)) == "20250701003005"


def test_other_offsets_are_converted() -> None:
    paris_summer = timezone(timedelta(hours=2))
    assert format_dt(datetime(2025, 7, 1, 8, 0, 0, tzinfo=paris_summer)) == "20250701130000"


def test_naive_datetime_is_taken_as_local() -> None:
    assert format_dt(datetime(2025, 7, 1, 8, 0, 0)) == "20250701080000"


def test_parse_gives_aware_vietnam_time() -> None:
    parsed = parse_dt("20250701080000", "NgayTiepNhan")
    assert parsed.tzinfo is VN_TZ
    assert parsed.utcoffset() == timedelta(hours=7)
    assert parsed == datetime(2025, 7, 1, 1, 0, 0, tzinfo=UTC)


def test_round_trip_text() -> None:
    assert format_dt(parse_dt("19991231235959", "x")) == "19991231235959"


@pytest.mark.parametrize(
    "text",
    [
        20250701080000,  # a number, not a string
        None,
        "2025070108000",  # 13 characters
        "202507010800000",  # 15
        "2025-07-01 08:00",
        "2025070108000a",
        "2025070108000٣",  # a non-ASCII digit
        " 20250701080000",
        "20250231080000",  # 31 February
        "20250701240000",  # hour 24
        "20250701086000",  # minute 60
        "00000101000000",  # year 0
        "",
    ],
)
def test_parse_dt_refuses(text: object) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_dt(text, "data[0].NgayHenTra")
    assert caught.value.field == "data[0].NgayHenTra"
    assert "expected yyyyMMddHHmmss (Asia/Ho_Chi_Minh), got '" in caught.value.message


def test_date_round_trip() -> None:
    assert parse_date("19900215", "NgayThangNamSinh") == date(1990, 2, 15)
    assert format_date(date(1990, 2, 15)) == "19900215"


def test_format_date_of_aware_datetime_uses_vietnam_day() -> None:
    assert format_date(datetime(2025, 6, 30, 18, 0, tzinfo=UTC)) == "20250701"


@pytest.mark.parametrize("text", ["19900230", "1990021", "199002150", 19900215, "1990-02-15", "abcdefgh"])
def test_parse_date_refuses(text: object) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_date(text, "NgayThangNamSinh")
    assert caught.value.field == "NgayThangNamSinh"
    assert "expected yyyyMMdd" in caught.value.message


_aware = st.datetimes(
    min_value=datetime(1900, 1, 2),
    max_value=datetime(2100, 12, 30, 23, 59, 59),
    timezones=st.one_of(st.timezones(), st.sampled_from([UTC, VN_TZ, timezone(timedelta(hours=-11, minutes=-30))])),
).map(lambda d: d.replace(microsecond=0))


def _ambiguous_in_vietnam(dt: datetime) -> bool:
    local = dt.astimezone(VN_TZ).replace(tzinfo=None)
    first, second = (local.replace(tzinfo=VN_TZ, fold=f) for f in (0, 1))
    return first.utcoffset() != second.utcoffset()


@given(_aware)
def test_format_parse_round_trip(dt: datetime) -> None:
    text = format_dt(dt)
    assert len(text) == 14 and text.isascii() and text.isdigit()
    parsed = parse_dt(text, "x")
    assert format_dt(parsed) == text
    # The wire format cannot tell apart the two readings of a local time repeated when the
    # clocks went back (last in 1975); every other instant comes back exactly.
    # Instants are compared as timestamps: `==` between zones is always False for a time
    # that is ambiguous in either zone (PEP 495).
    assume(not _ambiguous_in_vietnam(dt))
    assert parsed.timestamp() == dt.timestamp()


def test_repeated_local_time_reads_as_the_earlier_instant() -> None:
    # On 13 June 1975 the clocks went back from +08:00 to +07:00 at midnight: 23:00 came twice.
    parsed = parse_dt("19750612230000", "x")
    assert parsed.timestamp() == datetime(1975, 6, 12, 15, 0, tzinfo=UTC).timestamp()

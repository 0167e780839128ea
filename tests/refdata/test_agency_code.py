"""Agency identification codes: the wire shape (protocols) and the generated scheme / CSV override."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.agency_code import (
    AgencyCode,
    format_agency_code,
    is_agency_code,
    parse_agency_code,
    province_letter_code,
)
from protocols.errors import ProtocolError
from refdata import agency_codes
from refdata.agency_codes import (
    INDUSTRY_AND_TRADE,
    MINISTRIES,
    AgencyCodeError,
    generated_agency_codes,
    industry_and_trade_code,
    load_agency_codes,
)
from refdata.units import Registry, registry

# --- protocols.agency_code ---------------------------------------------------------------


def test_parse_splits_the_four_levels() -> None:
    code = parse_agency_code("012.34.56.H31")
    assert code == AgencyCode(level4="012", level3="34", level2="56", level1="H31")
    assert str(code) == "012.34.56.H31"
    assert code.letter == "H"
    assert code.province_part == "H31"
    assert code.is_province_level and not code.is_central
    assert not code.is_top_level
    assert code.belongs_to("H31") and not code.belongs_to("H01")


def test_ministry_code_is_central_and_top_level() -> None:
    code = parse_agency_code("000.00.00.G03")
    assert code.is_central and not code.is_province_level
    assert code.is_top_level


@pytest.mark.parametrize(
    "text",
    [
        "",
        "000.00.00.h31",  # lowercase letter
        "00.00.00.H31",  # level 4 too short
        "0000.00.00.H31",
        "000.0.00.H31",
        "000.00.00.H3",
        "000.00.00.H311",
        "000.00.00.31",  # no letter
        "000.00.00.HH1",
        " 000.00.00.H31",
        "000.00.00.H31\n",
        "000-00-00-H31",
        "\u0660\u0660\u0660.00.00.H31",  # Arabic-Indic digits are not ASCII digits
        "H31.00.00.000",  # reversed
    ],
)
def test_malformed_codes_are_refused_with_the_shape(text: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_agency_code(text)
    assert caught.value.field == "MaDonVi"
    assert "NNN.NN.NN.Xnn" in caught.value.message
    assert not is_agency_code(text)


@pytest.mark.parametrize("value", [None, 31, b"000.00.00.H31", ["000.00.00.H31"]])
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(ProtocolError):
        parse_agency_code(value)
    assert not is_agency_code(value)


def test_error_names_the_given_field() -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_agency_code("nonsense", field="To[0].OrganId")
    assert caught.value.field == "To[0].OrganId"
    assert caught.value.to_dict()["field"] == "To[0].OrganId"
    assert "nonsense" in caught.value.message


def test_province_letter_code() -> None:
    assert province_letter_code("31") == "H31"
    assert province_letter_code("1") == "H01"
    assert province_letter_code(1) == "H01"
    with pytest.raises(ValueError):
        province_letter_code(100)


def test_format_checks_widths() -> None:
    assert format_agency_code("H31") == "000.00.00.H31"
    assert format_agency_code("H31", level2=5) == "000.00.05.H31"
    assert format_agency_code("G01", level4=7, level3=2) == "007.02.00.G01"
    with pytest.raises(ValueError):
        format_agency_code("H31", level4=1000)
    with pytest.raises(ValueError):
        format_agency_code("h31")


@given(
    letter=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    top=st.integers(0, 99),
    l2=st.integers(0, 99),
    l3=st.integers(0, 99),
    l4=st.integers(0, 999),
)
def test_formatted_codes_parse_back(letter: str, top: int, l2: int, l3: int, l4: int) -> None:
    text = format_agency_code(f"{letter}{top:02d}", level2=l2, level3=l3, level4=l4)
    code = parse_agency_code(text)
    assert str(code) == text
    assert (int(code.level4), int(code.level3), int(code.level2)) == (l4, l3, l2)


# --- refdata.agency_codes: the generated scheme ------------------------------------------


def test_generated_scheme_for_hai_phong() -> None:
    table = load_agency_codes()
    reg = Registry(table)
    assert table.code_for("P31") == "000.00.00.H31"
    assert table.code_for("P31-D5") == "000.00.05.H31"
    assert INDUSTRY_AND_TRADE.name == "Sở Công Thương"
    assert industry_and_trade_code("31", table) == "000.00.05.H31"
    assert reg.province("31").industry_and_trade.code == "000.00.05.H31"
    first = min(reg.units("31"), key=lambda u: int(u.code))
    assert table.code_for(first.code) == "001.00.00.H31"
    assert table.unit_for("001.00.00.H31") == first.code


def test_ministries_have_unique_central_codes() -> None:
    codes = [m.code for m in MINISTRIES]
    assert len(set(codes)) == len(codes)
    assert MINISTRIES[0].name == "Văn phòng Chính phủ" and MINISTRIES[0].code == "000.00.00.G01"
    assert any(m.name == "Bộ Công Thương" for m in MINISTRIES)
    assert all(parse_agency_code(c).is_central for c in codes)


def test_the_scheme_is_documented_in_the_module() -> None:
    doc = agency_codes.__doc__ or ""
    for needle in ("000.00.00.H{pp}", "000.00.{k:02d}.H{pp}", "{i:03d}.00.00.H{pp}", "000.00.00.G{nn}",
                   "CUTOVER_AGENCY_CODES_CSV", "P{pp}-D{k}"):  # fmt: skip
        assert needle in doc


# --- the CSV override --------------------------------------------------------------------


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "codes.csv"
    path.write_text(body, encoding="utf-8")
    return path


def _hai_phong_units() -> list[str]:
    """Hải Phòng's ward codes in ascending order (the generated scheme numbers them 1, 2, ...)."""
    return [u.code for u in Registry(generated_agency_codes()).units("31")]


def test_csv_codes_replace_generated_ones_and_others_fall_back(tmp_path: Path) -> None:
    first, second = _hai_phong_units()[:2]
    path = _write(
        tmp_path,
        "unit_code,agency_code,name\n"
        f"{first},900.00.00.H31,first\n"
        f"{int(second)},901.00.00.H31,leading zeros optional\n"
        "P31-D05,000.00.55.H31,department\n"
        "\n",
    )
    table = load_agency_codes(path)
    assert table.source == str(path)
    assert table.code_for(first) == "900.00.00.H31"
    assert table.code_for(second) == "901.00.00.H31"
    assert table.code_for("P31-D5") == "000.00.55.H31"
    assert table.overridden == {first, second, "P31-D5"}
    third = _hai_phong_units()[2]
    assert table.code_for(third) == "003.00.00.H31"  # unlisted: generated
    reg = registry(path)
    assert reg.unit(first).agency_code == "900.00.00.H31"
    assert reg.unit_by_agency_code("900.00.00.H31").code == first
    assert reg.province("31").industry_and_trade.code == "000.00.55.H31"


def test_province_line_sets_the_province_part(tmp_path: Path) -> None:
    # Real codes need not follow H{pp}: the province's own line says which Xnn it has.
    first = _hai_phong_units()[0]
    path = _write(tmp_path, f"unit_code,agency_code\nP31,000.00.00.H77\n{first},123.00.00.H77\n")
    reg = Registry(load_agency_codes(path))
    assert reg.province("31").agency_code == "000.00.00.H77"
    assert reg.unit(first).agency_code == "123.00.00.H77"
    assert all(u.agency_code.endswith(".H77") for u in reg.units("31"))
    assert all(d.code.endswith(".H77") for d in reg.province("31").departments)


def test_environment_variable_names_the_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _hai_phong_units()[0]
    path = _write(tmp_path, f"unit_code,agency_code\n{first},777.00.00.H31\n")
    monkeypatch.setenv("CUTOVER_AGENCY_CODES_CSV", str(path))
    assert load_agency_codes().code_for(first) == "777.00.00.H31"
    assert registry().unit(first).agency_code == "777.00.00.H31"
    monkeypatch.delenv("CUTOVER_AGENCY_CODES_CSV")
    assert registry().unit(first).agency_code == "001.00.00.H31"


@pytest.mark.parametrize(
    ("rows", "line", "needle"),
    [
        ("{a},001.00.00.H31\n{b},12.00.00.H31\n", 3, "NNN.NN.NN.Xnn"),
        ("{a},001.00.00.h31\n", 2, "NNN.NN.NN.Xnn"),
        ("{a},900.00.00.H31\n{a},901.00.00.H31\n", 3, "listed twice"),
        ("{a},900.00.00.H31\n{b},900.00.00.H31\n", 3, "also the code of"),
        ("{b},001.00.00.H31\n", 2, "also the code of"),  # collides with {a}'s generated code
        ("{a},900.00.00.H01\n", 2, "does not belong to province 31"),
        ("{a},900.00.00.G01\n", 2, "does not belong to province 31"),
        ("P31-D5,000.00.05.H01\n", 2, "does not belong to province 31"),
        ("P31,001.00.00.H31\n", 2, "000.00.00.H"),
        ("99999,900.00.00.H31\n", 2, "unknown unit"),
        ("X31,900.00.00.H31\n", 2, "is not a ward code"),
    ],
)
def test_bad_csv_lines_are_named(tmp_path: Path, rows: str, line: int, needle: str) -> None:
    a, b = _hai_phong_units()[:2]
    path = _write(tmp_path, "unit_code,agency_code\n" + rows.format(a=a, b=b))
    with pytest.raises(AgencyCodeError) as caught:
        load_agency_codes(path)
    assert caught.value.line == line
    assert f"line {line}" in str(caught.value)
    assert str(path) in str(caught.value)
    assert needle in str(caught.value)


def test_csv_without_the_columns_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "ward,code\n00004,001.00.00.H01\n")
    with pytest.raises(AgencyCodeError, match="line 1.*agency_code|line 1.*unit_code"):
        load_agency_codes(path)


def test_missing_csv_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AgencyCodeError, match="cannot read"):
        load_agency_codes(tmp_path / "absent.csv")

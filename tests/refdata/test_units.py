"""The unit registry and ``cutover units``."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from cutover.commands.units import command
from protocols.agency_code import parse_agency_code
from refdata.agency_codes import DEPARTMENTS, generated_agency_codes
from refdata.units import (
    Registry,
    UnknownAgencyError,
    UnknownProvinceError,
    UnknownUnitError,
    registry,
)


@pytest.fixture(scope="module")
def reg() -> Registry:
    return Registry(generated_agency_codes())


def test_counts_match_the_reform(reg: Registry) -> None:
    assert len(reg.provinces()) == 34
    assert len(reg.units()) == 3321
    assert Counter(u.division_type for u in reg.units()) == {"xã": 2621, "phường": 687, "đặc khu": 13}
    assert reg.counts() == {"xã": 2621, "phường": 687, "đặc khu": 13}
    assert Counter(p.division_type for p in reg.provinces()) == {"tỉnh": 28, "thành phố trung ương": 6}
    assert sum(len(reg.units(p.code)) for p in reg.provinces()) == 3321


def test_codes_are_padded_strings(reg: Registry) -> None:
    assert all(len(p.code) == 2 and p.code.isdigit() for p in reg.provinces())
    assert all(len(u.code) == 5 and u.code.isdigit() for u in reg.units())
    assert len({u.code for u in reg.units()}) == 3321
    assert reg.province("31").name == "Thành phố Hải Phòng"


def test_every_unit_has_a_unique_agency_code_of_its_province(reg: Registry) -> None:
    codes = [u.agency_code for u in reg.units()]
    assert len(set(codes)) == len(codes)
    for unit in reg.units():
        code = parse_agency_code(unit.agency_code)
        assert code.is_province_level
        assert code.province_part == f"H{unit.province_code}", unit
        assert (code.level3, code.level2) == ("00", "00")


def test_units_are_numbered_in_ward_code_order_within_each_province(reg: Registry) -> None:
    for province in reg.provinces():
        units = sorted(reg.units(province.code), key=lambda u: int(u.code))
        numbers = [int(parse_agency_code(u.agency_code).level4) for u in units]
        assert numbers == list(range(1, len(units) + 1)), province.code


def test_all_agency_codes_are_unique(reg: Registry) -> None:
    agencies = reg.all_agencies()
    assert len(agencies) == 34 * (1 + len(DEPARTMENTS)) + 3321 + len(reg.ministries())
    assert len({a.code for a in agencies}) == len(agencies)
    for province in reg.provinces():
        assert province.agency_code == f"000.00.00.H{province.code}"
        assert [d.code for d in province.departments] == [
            f"000.00.{d.number:02d}.H{province.code}" for d in DEPARTMENTS
        ]


def test_agencies_of_a_province(reg: Registry) -> None:
    agencies = reg.agencies("31")
    kinds = Counter(a.kind for a in agencies)
    assert kinds == {"province": 1, "department": len(DEPARTMENTS), "commune": len(reg.units("31"))}
    assert all(a.province_code == "31" for a in agencies)
    assert reg.province("31").industry_and_trade.name == "Sở Công Thương thành phố Hải Phòng"
    assert reg.province("04").people_committee.name == "Ủy ban nhân dân tỉnh Cao Bằng"
    assert reg.agency("P31-D5") == reg.province("31").industry_and_trade
    assert reg.agency("000.00.05.H31") == reg.province("31").industry_and_trade
    assert reg.agency("G03").name == "Bộ Công Thương"
    with pytest.raises(UnknownAgencyError):
        reg.agency("000.00.99.H31")


def test_ministries(reg: Registry) -> None:
    ministries = reg.ministries()
    assert ministries[0].code == "000.00.00.G01" and ministries[0].name == "Văn phòng Chính phủ"
    assert all(m.kind == "ministry" and m.province_code is None for m in ministries)


@pytest.mark.parametrize("form", ["31", 31, "P31", " 31 ", "031", "hai_phong"])
def test_province_code_forms(reg: Registry, form: str | int) -> None:
    assert reg.province(form).code == "31"


def test_single_digit_province_forms(reg: Registry) -> None:
    assert reg.province("1") is reg.province("01") is reg.province(1)
    assert reg.province("1").name == "Thành phố Hà Nội"


@pytest.mark.parametrize("bad", ["99", "02", "abc", "", "3 1"])
def test_unknown_province_lists_what_exists(reg: Registry, bad: str) -> None:
    with pytest.raises(UnknownProvinceError) as caught:
        reg.province(bad)
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert "31 Thành phố Hải Phòng" in message and "01 Thành phố Hà Nội" in message
    assert "34 provinces" in message


def test_unit_lookup(reg: Registry) -> None:
    assert reg.unit("4") is reg.unit("00004") is reg.unit(4)
    assert reg.unit("00004").name == "Phường Ba Đình"
    with pytest.raises(UnknownUnitError, match="3321"):
        reg.unit("99999")
    with pytest.raises(ValueError):
        reg.unit("x")


def test_unit_by_agency_code_round_trips(reg: Registry) -> None:
    for unit in reg.units():
        assert reg.unit_by_agency_code(unit.agency_code) is unit
    with pytest.raises(UnknownAgencyError):
        reg.unit_by_agency_code("999.00.00.H31")
    with pytest.raises(UnknownAgencyError):
        reg.unit_by_agency_code("000.00.00.H31")  # the province, not a commune-level unit


def test_sample_is_deterministic_and_spread(reg: Registry) -> None:
    first = reg.sample_units(40, seed=7)
    assert first == reg.sample_units(40, seed=7)
    assert first != reg.sample_units(40, seed=8)
    assert len(first) == 40 and len(set(first)) == 40
    assert {u.province_code for u in reg.sample_units(34, seed=3)} == {p.code for p in reg.provinces()}
    assert len({u.province_code for u in reg.sample_units(10, seed=3)}) == 10
    assert reg.sample_units(0, seed=1) == []
    assert len(reg.sample_units(5000, seed=1)) == 3321
    with pytest.raises(ValueError):
        reg.sample_units(-1)


def test_select_units(reg: Registry) -> None:
    assert reg.select_units() == list(reg.units())
    hai_phong = reg.select_units(province="31")
    assert hai_phong == list(reg.units("31"))
    both = reg.select_units(province=["31", "1"])
    assert both == reg.select_units(province="31,01")
    assert {u.province_code for u in both} == {"01", "31"}
    one = reg.units("31")[3]
    assert reg.select_units(province="31", commune=one.code) == [one]
    assert reg.select_units(commune=[one.code, "4"]) == [reg.unit("00004"), one]
    sample = reg.select_units(province="31", communes="sample:5", seed=2)
    assert len(sample) == 5 and all(u.province_code == "31" for u in sample)
    assert sample == reg.select_units(province="31", communes="sample:5", seed=2)
    with pytest.raises(UnknownUnitError, match="not in the selected"):
        reg.select_units(province="01", commune=one.code)
    with pytest.raises(ValueError, match="sample:N"):
        reg.select_units(communes="some")
    with pytest.raises(UnknownProvinceError):
        reg.select_units(province="31,99")


def test_registry_is_cached() -> None:
    assert registry() is registry()


# --- the command -------------------------------------------------------------------------


def test_cli_json_for_one_province() -> None:
    result = CliRunner().invoke(command, ["--province", "31", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert [p["code"] for p in document["provinces"]] == ["31"]
    assert document["provinces"][0]["agency_code"] == "000.00.00.H31"
    units = document["units"]
    assert len(units) == len(registry().units("31")) > 0
    assert {u["province_code"] for u in units} == {"31"}
    assert all(parse_agency_code(u["agency_code"]).province_part == "H31" for u in units)
    assert {"code", "name", "division_type", "agency_code"} <= set(units[0])


def test_cli_json_for_the_country_has_every_unit() -> None:
    result = CliRunner().invoke(command, ["--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert len(document["provinces"]) == 34
    assert len(document["units"]) == 3321
    assert all(u["agency_code"] for u in document["units"])


def test_cli_table() -> None:
    result = CliRunner().invoke(command, ["--province", "1", "--communes", "sample:3"])
    assert result.exit_code == 0, result.output
    listed = registry().select_units(province="1", communes="sample:3")
    for unit in listed:
        assert unit.code in result.output
        assert unit.agency_code in result.output
    assert "3 unit(s)" in result.output


def test_cli_unknown_province_is_a_usage_error() -> None:
    result = CliRunner().invoke(command, ["--province", "99"])
    assert result.exit_code == 2
    assert "31 Thành phố Hải Phòng" in result.output

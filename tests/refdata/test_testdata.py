"""Deterministic test people."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

from protocols.errors import ProtocolError
from refdata.testdata import (
    FEMALE,
    MALE,
    Business,
    Citizen,
    business_for,
    citizen_for,
    claims,
    is_ma_so_thue,
    is_mobile_number,
    ma_so_thue_check_digit,
    officer_for,
    parse_so_dinh_danh,
    validate_so_dinh_danh,
)
from refdata.units import registry

HAI_PHONG_UNIT = registry().units("31")[0].code


def _expected_gender_digit(gender: int, year: int) -> str:
    """Written out from the rule, independently of the module: 0/1 for 19xx, 2/3 for 20xx."""
    table = {(MALE, 19): "0", (FEMALE, 19): "1", (MALE, 20): "2", (FEMALE, 20): "3"}
    return table[(gender, year // 100)]


def test_same_arguments_give_the_same_person_whatever_the_order() -> None:
    first = citizen_for(HAI_PHONG_UNIT, 3, seed=11)
    for index in range(5):
        citizen_for("00004", index, seed=99)
        business_for(HAI_PHONG_UNIT, index, seed=11)
    assert citizen_for(HAI_PHONG_UNIT, 3, seed=11) == first
    assert business_for(HAI_PHONG_UNIT, 1, seed=11) == business_for(HAI_PHONG_UNIT, 1, seed=11)
    assert officer_for(HAI_PHONG_UNIT, 0, seed=11) == officer_for(HAI_PHONG_UNIT, 0, seed=11)


def test_arguments_change_the_person() -> None:
    base = citizen_for(HAI_PHONG_UNIT, 0, seed=1)
    assert citizen_for(HAI_PHONG_UNIT, 1, seed=1) != base
    assert citizen_for(HAI_PHONG_UNIT, 0, seed=2) != base
    assert citizen_for("00004", 0, seed=1) != base
    assert citizen_for(int(HAI_PHONG_UNIT), 0, seed=1) == base  # unit code forms are equivalent


def test_citizens_of_every_unit_are_consistent() -> None:
    reg = registry()
    people = [citizen_for(unit.code) for unit in reg.units()]
    assert len({p.tech_id for p in people}) == len(people)
    for unit, person in zip(reg.units(), people, strict=True):
        number = person.so_dinh_danh
        assert re.fullmatch(r"[0-9]{12}", number)
        assert number[:3] == f"{int(unit.province_code):03d}"
        assert number[3] == _expected_gender_digit(person.gioi_tinh, person.ngay_sinh.year)
        assert number[4:6] == f"{person.ngay_sinh.year % 100:02d}"
        parts = validate_so_dinh_danh(number, person.ngay_sinh, person.gioi_tinh)
        assert parts.birth_year == person.ngay_sinh.year
        assert person.gioi_tinh in (MALE, FEMALE)
        assert is_mobile_number(person.so_dien_thoai), person.so_dien_thoai
        assert person.commune_code == unit.code and person.province_code == unit.province_code
        province = reg.province(unit.province_code)
        assert person.dia_chi.endswith(f", {unit.name}, {province.full_name}")
        assert person.thuong_tru == person.dia_chi
        assert re.fullmatch(r"[a-z0-9.]+@example\.org", person.thu_dien_tu)
        assert len(person.ho_va_ten.split()) >= 3
        assert str(uuid.UUID(person.tech_id)) == person.tech_id


def test_adults_born_in_both_centuries_exist() -> None:
    people = [citizen_for(u.code, i) for u in registry().units("01") for i in range(3)]
    years = {p.ngay_sinh.year for p in people}
    assert min(years) < 2000 <= max(years)
    assert {p.so_dinh_danh[3] for p in people} == {"0", "1", "2", "3"}


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("031085001234", ("031", MALE, 1900, 1985, "001234")),
        ("001305000001", ("001", FEMALE, 2000, 2005, "000001")),
        ("096199999999", ("096", FEMALE, 1900, 1999, "999999")),
    ],
)
def test_parse_known_numbers(number: str, expected: tuple[object, ...]) -> None:
    assert tuple(parse_so_dinh_danh(number)) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "03108500123",  # 11 digits
        "0310850012345",  # 13 digits
        "03108500123a",
        "000085001234",  # province 000
        "097085001234",  # no province 097
        " 31085001234",
        "０３１０８５００１２３４",  # full-width digits
        31085001234,
        None,
    ],
)
def test_malformed_numbers_are_rejected(bad: object) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_so_dinh_danh(bad)
    assert caught.value.field == "SoDinhDanh"


def test_numbers_inconsistent_with_the_person_are_rejected() -> None:
    with pytest.raises(ProtocolError, match="birth year"):
        validate_so_dinh_danh("031085001234", birth_date=date(1986, 1, 1))
    with pytest.raises(ProtocolError, match="birth year"):
        validate_so_dinh_danh("031285001234", birth_date=date(1985, 1, 1))  # 2085, not 1985
    with pytest.raises(ProtocolError, match="gender"):
        validate_so_dinh_danh("031185001234", birth_date=date(1985, 1, 1), gender=MALE)
    assert validate_so_dinh_danh("031185001234", birth_date=date(1985, 1, 1), gender=FEMALE).gender == FEMALE


@pytest.mark.parametrize(
    ("number", "ok"),
    [("0912345678", True), ("0321234567", True), ("0861234567", True), ("0211234567", False),
     ("091234567", False), ("+84912345678", False), ("0951234567", False)],
)  # fmt: skip
def test_mobile_numbers(number: str, ok: bool) -> None:
    assert is_mobile_number(number) is ok


def test_tax_code_check_digit_matches_published_codes() -> None:
    # Real, published enterprise codes (Vinamilk, FPT), checked by hand against the recipe.
    assert is_ma_so_thue("0300588569")
    assert is_ma_so_thue("0101248141")
    assert not is_ma_so_thue("0300588568")
    assert ma_so_thue_check_digit("010000000") == 3
    assert not is_ma_so_thue("010000000")


def test_businesses() -> None:
    unit = registry().unit(HAI_PHONG_UNIT)
    businesses = [business_for(unit.code, i) for i in range(20)]
    assert len({b.ma_so_thue for b in businesses}) == 20
    for business in businesses:
        assert isinstance(business, Business)
        assert is_ma_so_thue(business.ma_so_thue) and business.ma_so_thue.startswith("31")
        assert business.commune_code == unit.code
        assert unit.name in business.dia_chi
        assert business.ten.split()[0] in ("Công", "Hợp", "Doanh")
        rep = business.representative
        validate_so_dinh_danh(rep.so_dinh_danh, rep.ngay_sinh, rep.gioi_tinh)
    assert businesses[0].representative != citizen_for(unit.code, 0)


def test_officers() -> None:
    unit = registry().unit(HAI_PHONG_UNIT)
    receiver, leader, worker = (officer_for(unit.code, i) for i in range(3))
    assert receiver.role == "tiep_nhan" and leader.role == "lanh_dao" and worker.role == "xu_ly"
    assert leader.chuc_danh.startswith("Chủ tịch")
    assert receiver.agency_code == unit.agency_code and receiver.unit_code == unit.code
    assert len({receiver.username, leader.username, worker.username}) == 3
    assert officer_for(unit.code, 40).role == "xu_ly"
    department = officer_for("P31-D5")
    assert department.agency_code == registry().province("31").industry_and_trade.code
    assert department.province_code == "31"
    assert department.person.so_dinh_danh.startswith("031")
    with pytest.raises(ValueError, match="ministry"):
        officer_for("G03")


def test_claims_of_a_citizen() -> None:
    person = citizen_for(HAI_PHONG_UNIT)
    found = claims(person)
    assert set(found) == {
        "sub", "LoaiTaiKhoan", "SoDinhDanh", "HoVaTen", "NgayThangNamSinh", "GioiTinh",
        "ThuDienTu", "SoDienThoai", "DiaChi", "ThuongTru", "TechID",
    }  # fmt: skip
    assert found["LoaiTaiKhoan"] == 1
    assert found["SoDinhDanh"] == person.so_dinh_danh
    assert found["NgayThangNamSinh"] == f"{person.ngay_sinh.year:04d}{person.ngay_sinh.month:02d}{person.ngay_sinh.day:02d}"
    assert found["GioiTinh"] == person.gioi_tinh
    assert found["sub"] == found["TechID"] == person.tech_id


def test_claims_of_a_business_and_an_officer() -> None:
    business = business_for(HAI_PHONG_UNIT)
    found = claims(business)
    assert found["LoaiTaiKhoan"] == 2
    assert found["MaSoThue"] == business.ma_so_thue
    assert found["SoDinhDanh"] == business.representative.so_dinh_danh
    assert found["DiaChi"] == business.dia_chi
    assert found["TechID"] == business.tech_id != business.representative.tech_id
    officer = officer_for(HAI_PHONG_UNIT, 1)
    assert claims(officer) == claims(officer.person)
    assert isinstance(officer.person, Citizen) and "MaSoThue" not in claims(officer)

"""Deterministic test people: citizens, businesses and officers of any commune-level unit.

Every flow needs someone to log in, submit and pay, and the readiness board must be reproducible,
so each person is a pure function of ``(seed, kind, unit, index)``: a fresh seed is derived from a
SHA-256 of those four, and one Faker('vi_VN') per thread is re-seeded with it before each person.
Call order and process do not matter.

Conventions (what the SSO mock and the flows rely on):

* ``so_dinh_danh``: the 12-digit personal identification number,
  ``PPP`` (province of birth registration; we use the unit's province code, ``031`` for Hải
  Phòng) + ``G`` (gender and century: 0 male / 1 female born 1900-1999, 2 male / 3 female born
  2000-2099, and so on per century up to 2399) + ``YY`` (birth year) + 6 random digits.
* ``gioi_tinh``: 1 = nam (male), 0 = nữ (female).
* ``so_dien_thoai``: a 10-digit Vietnamese mobile number (``0`` + a mobile prefix + 7 digits).
* ``ma_so_thue``: 10 digits, the first two the province code (our convention), the tenth the
  check digit ``10 - (sum of the first nine times 31, 29, 23, 19, 17, 13, 7, 5, 3) mod 11``.
* e-mail addresses are under ``example.org`` (reserved for tests).
* ``thuong_tru`` (permanent residence) equals ``dia_chi``: everyone lives where registered.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from faker import Faker

from protocols.errors import ProtocolError
from refdata.units import Agency, Province, Unit, registry

__all__ = [
    "DEFAULT_SEED",
    "Business",
    "Citizen",
    "Officer",
    "SoDinhDanh",
    "business_for",
    "citizen_for",
    "claims",
    "is_ma_so_thue",
    "is_mobile_number",
    "ma_so_thue_check_digit",
    "officer_for",
    "parse_so_dinh_danh",
    "validate_so_dinh_danh",
]

DEFAULT_SEED = 2025
ACCOUNT_CITIZEN = 1
ACCOUNT_BUSINESS = 2
MALE = 1
FEMALE = 0

_BIRTH_FIRST = date(1955, 1, 1).toordinal()
_BIRTH_LAST = date(2006, 12, 31).toordinal()
_MOBILE_PREFIXES = tuple(
    f"{n}" for n in (*range(32, 40), 52, 56, 58, 59, 70, *range(76, 80), *range(81, 90), 90, 91, 92, 93, 94, 96, 97, 98, 99)
)
_MOBILE = re.compile(r"0(?:3[2-9]|5[2689]|7[06-9]|8[1-9]|9[0-46-9])[0-9]{7}")
_MST_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)

_LAST_NAMES = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
    "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trịnh", "Mai", "Lương",
)  # fmt: skip
_MIDDLE_MALE = ("Văn", "Đức", "Quang", "Hữu", "Minh", "Thế", "Công", "Xuân", "Tiến", "Ngọc")
_MIDDLE_FEMALE = ("Thị", "Ngọc", "Thu", "Thanh", "Minh", "Thùy", "Kim", "Phương", "Hồng", "Mai")
_HAMLET_WORDS = ("Đông", "Tây", "Nam", "Bắc", "Trung", "Thượng", "Hạ", "Tân", "An", "Phú", "Hòa", "Bình")
_BUSINESS_FORMS = ("Công ty TNHH", "Công ty Cổ phần", "Công ty TNHH MTV", "Hợp tác xã", "Doanh nghiệp tư nhân")
_BUSINESS_TRADES = ("Thương mại", "Dịch vụ", "Xây dựng", "Nông sản", "Vận tải", "Thực phẩm", "Du lịch", "Cơ khí")
_BUSINESS_BRANDS = (
    "Minh Phát", "Hưng Thịnh", "Thành Công", "An Khang", "Phúc Lộc", "Việt Tiến", "Hòa Bình",
    "Tân Phú", "Sao Mai", "Hoàng Long", "Đại Dương", "Kim Ngân", "Trường Sơn", "Bình Minh",
)  # fmt: skip
# (chuc_danh, phong_ban, role) by officer index; index 0 receives dossiers, 1 signs results.
_Role = tuple[str, str, str]
_COMMUNE_ROLES: tuple[_Role, ...] = (
    ("Công chức tiếp nhận hồ sơ", "Trung tâm Phục vụ hành chính công", "tiep_nhan"),
    ("Chủ tịch Ủy ban nhân dân", "Lãnh đạo Ủy ban nhân dân", "lanh_dao"),
    ("Công chức Văn phòng - Thống kê", "Văn phòng HĐND và UBND", "xu_ly"),
    ("Công chức Tư pháp - Hộ tịch", "Văn phòng HĐND và UBND", "xu_ly"),
    ("Công chức Địa chính - Xây dựng", "Phòng Kinh tế", "xu_ly"),
    ("Công chức Văn hóa - Xã hội", "Phòng Văn hóa - Xã hội", "xu_ly"),
)
_PROVINCE_ROLES: tuple[_Role, ...] = (
    ("Chuyên viên tiếp nhận hồ sơ", "Bộ phận Một cửa", "tiep_nhan"),
    ("Giám đốc", "Ban Giám đốc", "lanh_dao"),
    ("Chuyên viên", "Phòng Nghiệp vụ", "xu_ly"),
    ("Chuyên viên", "Văn phòng", "xu_ly"),
)


# --- the identification number ----------------------------------------------------------


class SoDinhDanh(NamedTuple):
    """The parts of a 12-digit personal identification number."""

    province: str
    gender: int
    century: int
    birth_year: int
    serial: str


def parse_so_dinh_danh(value: object, field: str = "SoDinhDanh") -> SoDinhDanh:
    """Split a personal identification number, refusing one that breaks the structure."""
    if not isinstance(value, str) or not (len(value) == 12 and value.isascii() and value.isdigit()):
        raise ProtocolError(field, f"expected 12 digits (PPP G YY NNNNNN), got {value!r}")
    province = value[:3]
    if not 1 <= int(province) <= 96:
        raise ProtocolError(field, f"province of birth registration must be 001..096, got {province}")
    digit = int(value[3])
    century = 1900 + (digit // 2) * 100
    return SoDinhDanh(province, FEMALE if digit % 2 else MALE, century, century + int(value[4:6]), value[6:])


def validate_so_dinh_danh(
    value: object, birth_date: date | None = None, gender: int | None = None, field: str = "SoDinhDanh"
) -> SoDinhDanh:
    """`parse_so_dinh_danh`, and also check the number agrees with a birth date and gender."""
    parts = parse_so_dinh_danh(value, field)
    if birth_date is not None and parts.birth_year != birth_date.year:
        raise ProtocolError(field, f"encodes birth year {parts.birth_year}, but the person was born {birth_date:%Y}")
    if gender is not None and parts.gender != gender:
        raise ProtocolError(field, f"encodes gender {parts.gender} (1 nam, 0 nữ), but the person's is {gender}")
    return parts


def _gender_century_digit(gender: int, year: int) -> int:
    return (year // 100 - 19) * 2 + (1 if gender == FEMALE else 0)


def is_mobile_number(value: object) -> bool:
    """A 10-digit Vietnamese mobile number (``0`` + a mobile-network prefix + 7 digits)."""
    return isinstance(value, str) and _MOBILE.fullmatch(value) is not None


def ma_so_thue_check_digit(first_nine: str) -> int | None:
    """The tenth digit of a tax code, or None when the first nine admit none."""
    check = 10 - sum(int(d) * w for d, w in zip(first_nine, _MST_WEIGHTS, strict=True)) % 11
    return None if check == 10 else check


def is_ma_so_thue(value: object) -> bool:
    """A 10-digit tax code whose last digit is its check digit."""
    if not isinstance(value, str) or len(value) != 10 or not (value.isascii() and value.isdigit()):
        return False
    return ma_so_thue_check_digit(value[:9]) == int(value[9])


# --- people ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Citizen:
    """A person with a national identity account."""

    so_dinh_danh: str
    ho_va_ten: str
    ngay_sinh: date
    gioi_tinh: int
    thu_dien_tu: str
    so_dien_thoai: str
    dia_chi: str
    thuong_tru: str
    commune_code: str
    province_code: str
    tech_id: str


@dataclass(frozen=True)
class Business:
    """A business registered in a commune, with its legal representative."""

    ma_so_thue: str
    ten: str
    dia_chi: str
    commune_code: str
    province_code: str
    thu_dien_tu: str
    so_dien_thoai: str
    tech_id: str
    representative: Citizen


@dataclass(frozen=True)
class Officer:
    """A public servant of an agency; `role` is ``tiep_nhan`` (receives), ``lanh_dao`` (signs) or ``xu_ly``."""

    person: Citizen
    chuc_danh: str
    phong_ban: str
    role: str
    unit_code: str
    agency_code: str
    agency_name: str
    province_code: str
    username: str

    @property
    def ho_va_ten(self) -> str:
        return self.person.ho_va_ten

    @property
    def so_dinh_danh(self) -> str:
        return self.person.so_dinh_danh


_local = threading.local()


def _faker(seed_material: str) -> Faker:
    """This thread's Faker, re-seeded from `seed_material` (creating one costs ~70 ms)."""
    fake = getattr(_local, "faker", None)
    if fake is None:
        fake = _local.faker = Faker("vi_VN")
    fake.seed_instance(int.from_bytes(hashlib.sha256(seed_material.encode()).digest()[:8], "big"))
    return fake


def _tech_id(seed_material: str) -> str:
    digest = hashlib.sha256(("tech-id|" + seed_material).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", ".", plain.lower()).strip(".")


def _address(fake: Faker, unit: Unit, province: Province) -> str:
    rng = fake.random
    house = rng.randint(1, 199)
    if unit.division_type == "phường":
        locality = rng.choice((f"Tổ dân phố {rng.randint(1, 30)}", f"Đường {fake.street_name()}"))
    else:
        locality = rng.choice((f"Thôn {rng.randint(1, 15)}", f"Thôn {rng.choice(_HAMLET_WORDS)}"))
    return f"Số {house}, {locality}, {unit.name}, {province.full_name}"


def _mobile(fake: Faker) -> str:
    rng = fake.random
    return f"0{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**7):07d}"


def _person(kind: str, unit_key: str, index: int, seed: int | str, where: Unit | None, province: Province) -> Citizen:
    material = f"{seed}|{kind}|{unit_key}|{index}"
    fake = _faker(material)
    rng = fake.random
    gender = MALE if rng.random() < 0.5 else FEMALE
    born = date.fromordinal(rng.randint(_BIRTH_FIRST, _BIRTH_LAST))
    middle = rng.choice(_MIDDLE_MALE if gender == MALE else _MIDDLE_FEMALE)
    first = fake.first_name_male() if gender == MALE else fake.first_name_female()
    last = rng.choice(_LAST_NAMES)
    name = f"{last} {middle} {first}"
    number = f"{int(province.code):03d}{_gender_century_digit(gender, born.year)}{born.year % 100:02d}{rng.randrange(10**6):06d}"
    email = f"{_ascii_slug(first + ' ' + last)}.{rng.randrange(10**4):04d}@example.org"
    home_unit = where if where is not None else rng.choice(registry().units(province.code))
    address = _address(fake, home_unit, province)
    return Citizen(
        so_dinh_danh=number,
        ho_va_ten=name,
        ngay_sinh=born,
        gioi_tinh=gender,
        thu_dien_tu=email,
        so_dien_thoai=_mobile(fake),
        dia_chi=address,
        thuong_tru=address,
        commune_code=home_unit.code,
        province_code=province.code,
        tech_id=_tech_id(material),
    )


def citizen_for(unit_code: str | int, index: int = 0, seed: int | str = DEFAULT_SEED) -> Citizen:
    """The `index`-th test citizen living in commune-level unit `unit_code`."""
    unit = registry().unit(unit_code)
    return _person("citizen", unit.code, index, seed, unit, registry().province(unit.province_code))


def business_for(unit_code: str | int, index: int = 0, seed: int | str = DEFAULT_SEED) -> Business:
    """The `index`-th test business registered in commune-level unit `unit_code`."""
    unit = registry().unit(unit_code)
    province = registry().province(unit.province_code)
    material = f"{seed}|business|{unit.code}|{index}"
    representative = _person("representative", unit.code, index, seed, unit, province)
    fake = _faker(material)
    rng = fake.random
    prefix = f"{int(province.code):02d}"
    while True:
        first_nine = prefix + f"{rng.randrange(10**7):07d}"
        check = ma_so_thue_check_digit(first_nine)
        if check is not None:
            break
    brand = rng.choice(_BUSINESS_BRANDS)
    name = f"{rng.choice(_BUSINESS_FORMS)} {rng.choice(_BUSINESS_TRADES)} {brand}"
    return Business(
        ma_so_thue=f"{first_nine}{check}",
        ten=name,
        dia_chi=_address(fake, unit, province),
        commune_code=unit.code,
        province_code=province.code,
        thu_dien_tu=f"lienhe.{_ascii_slug(brand)}.{first_nine[-4:]}@example.org",
        so_dien_thoai=_mobile(fake),
        tech_id=_tech_id(material),
        representative=representative,
    )


def officer_for(unit_code: str | int, index: int = 0, seed: int | str = DEFAULT_SEED) -> Officer:
    """The `index`-th officer of an agency: a commune-level unit (ward code) or ``P31`` / ``P31-D5``.

    Index 0 receives dossiers (``tiep_nhan``), index 1 leads and signs results (``lanh_dao``),
    the others process (``xu_ly``).
    """
    reg = registry()
    text = str(unit_code).strip()
    agency: Agency
    unit: Unit | None
    roles: tuple[_Role, ...]
    if text.isdigit():
        unit = reg.unit(text)
        agency = unit.as_agency()
        roles = _COMMUNE_ROLES
    else:
        unit = None
        agency = reg.agency(text)
        if agency.province_code is None:
            raise ValueError(f"officers belong to province-side agencies; {text!r} is a ministry")
        roles = _PROVINCE_ROLES
    province = reg.province(agency.province_code or "")
    person = _person("officer", agency.unit_code, index, seed, unit, province)
    # past the listed roles, cycle through the processing ones (index 2 onwards)
    chuc_danh, phong_ban, role = roles[index] if index < len(roles) else roles[2 + (index - 2) % (len(roles) - 2)]
    return Officer(
        person=person,
        chuc_danh=chuc_danh,
        phong_ban=phong_ban,
        role=role,
        unit_code=agency.unit_code,
        agency_code=agency.code,
        agency_name=agency.name,
        province_code=province.code,
        username=f"cb.{agency.unit_code.lower()}.{index}",
    )


# --- single sign-on claims ---------------------------------------------------------------


def _person_claims(person: Citizen) -> dict[str, Any]:
    return {
        "SoDinhDanh": person.so_dinh_danh,
        "HoVaTen": person.ho_va_ten,
        "NgayThangNamSinh": person.ngay_sinh.strftime("%Y%m%d"),
        "GioiTinh": person.gioi_tinh,
        "ThuDienTu": person.thu_dien_tu,
        "SoDienThoai": person.so_dien_thoai,
        "DiaChi": person.dia_chi,
        "ThuongTru": person.thuong_tru,
    }


def claims(subject: Citizen | Business | Officer) -> dict[str, Any]:
    """Userinfo claims as the national portal names them (DESIGN §4.2).

    ``sub`` and ``TechID`` are the account's tech id; ``LoaiTaiKhoan`` and ``GioiTinh`` are
    integers (1 citizen / 2 business; 1 nam / 0 nữ). An officer logs in with a personal (citizen)
    account. A business account carries its representative's identity, its own contact details,
    address and ``MaSoThue``.
    """
    if isinstance(subject, Officer):
        subject = subject.person
    if isinstance(subject, Citizen):
        return {"sub": subject.tech_id, "LoaiTaiKhoan": ACCOUNT_CITIZEN, **_person_claims(subject), "TechID": subject.tech_id}
    rep = _person_claims(subject.representative)
    rep.update(ThuDienTu=subject.thu_dien_tu, SoDienThoai=subject.so_dien_thoai, DiaChi=subject.dia_chi)
    return {
        "sub": subject.tech_id,
        "LoaiTaiKhoan": ACCOUNT_BUSINESS,
        **rep,
        "TechID": subject.tech_id,
        "MaSoThue": subject.ma_so_thue,
    }

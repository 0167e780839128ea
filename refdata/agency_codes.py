"""Which agency identification code each agency carries: the one place the scheme is written.

The real post-July-2025 codes (Decision 20/2020/QĐ-TTg shape ``NNN.NN.NN.Xnn``) are not public, so
cutover generates them with the scheme below; a CSV of real codes can replace any of them.

Generated scheme
================

``pp`` is the 2-digit province code from the ``vietnam-provinces`` package (Hải Phòng ``31``,
Hà Nội ``01``); the province's level-1 part is ``H{pp}`` (Hải Phòng -> ``H31``).

* Province People's Committee (Ủy ban nhân dân tỉnh/thành phố): ``000.00.00.H{pp}``.
* Province departments, numbered ``k`` from the fixed list `DEPARTMENTS`:
  ``000.00.{k:02d}.H{pp}``::

      k  department
      1  Văn phòng Ủy ban nhân dân
      2  Sở Nội vụ
      3  Sở Tư pháp
      4  Sở Tài chính
      5  Sở Công Thương         (receives forwarded promotion-notification dossiers)
      6  Sở Xây dựng
      7  Sở Nông nghiệp và Môi trường
      8  Sở Y tế
      9  Sở Giáo dục và Đào tạo
     10  Sở Khoa học và Công nghệ

* Commune-level People's Committee (xã, phường, đặc khu) number ``i``, 1-based, in ascending
  official ward-code order within its province: ``{i:03d}.00.00.H{pp}``. (Hải Phòng's first
  unit by ward code gets ``001.00.00.H31``.) No province has more than 999 units.
* Ministries and central bodies on the document axis, from the fixed list `MINISTRIES`:
  ``000.00.00.G{nn}``::

     nn  body
     01  Văn phòng Chính phủ
     02  Bộ Nội vụ
     03  Bộ Công Thương
     04  Bộ Tài chính
     05  Bộ Tư pháp
     06  Bộ Khoa học và Công nghệ
     07  Bộ Xây dựng
     08  Bộ Nông nghiệp và Môi trường
     09  Bộ Y tế

  These numbers are ours, not the G-numbers of the real decision.

Real codes from a CSV
=====================

``load_agency_codes(csv_path)`` (or the file named by the environment variable
``CUTOVER_AGENCY_CODES_CSV`` when no path is given) reads a UTF-8 CSV with a header and at least
the columns ``unit_code,agency_code`` (others, such as a name, are ignored). ``unit_code`` is:

* a ward code (``11311``; leading zeros optional) for a commune-level People's Committee;
* ``P{pp}`` (``P31``) for the province People's Committee;
* ``P{pp}-D{k}`` (``P31-D5``) for department ``k`` of province ``pp``.

Every unit the CSV does not list keeps its generated code (under its province's ``Xnn``,
see below). The loader refuses, naming the line:
a malformed code; an unknown unit; a unit listed twice; an agency code used twice (also against
generated codes of unlisted units); a province People's Committee code that is not
``000.00.00.H..``; and a code whose ``Xnn`` part is not its province's. The province's ``Xnn`` is
the one on its ``P{pp}`` line when the CSV has one (real codes need not follow ``H{pp}``), and
``H{pp}`` otherwise.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from protocols.agency_code import (
    CENTRAL_LETTER,
    PROVINCE_LETTER,
    AgencyCode,
    format_agency_code,
    parse_agency_code,
    province_letter_code,
)
from protocols.errors import ProtocolError

ENV_VAR = "CUTOVER_AGENCY_CODES_CSV"
CSV_COLUMNS = ("unit_code", "agency_code")


@dataclass(frozen=True)
class Department:
    """A province department in the generated scheme; `name` lacks the province suffix."""

    number: int
    name: str
    key: str


@dataclass(frozen=True)
class Ministry:
    """A ministry or central body on the document axis."""

    number: int
    name: str
    key: str

    @property
    def code(self) -> str:
        return format_agency_code(f"{CENTRAL_LETTER}{self.number:02d}")

    @property
    def unit_code(self) -> str:
        return f"G{self.number:02d}"


DEPARTMENTS: tuple[Department, ...] = (
    Department(1, "Văn phòng Ủy ban nhân dân", "van_phong_ubnd"),
    Department(2, "Sở Nội vụ", "noi_vu"),
    Department(3, "Sở Tư pháp", "tu_phap"),
    Department(4, "Sở Tài chính", "tai_chinh"),
    Department(5, "Sở Công Thương", "cong_thuong"),
    Department(6, "Sở Xây dựng", "xay_dung"),
    Department(7, "Sở Nông nghiệp và Môi trường", "nong_nghiep_moi_truong"),
    Department(8, "Sở Y tế", "y_te"),
    Department(9, "Sở Giáo dục và Đào tạo", "giao_duc_dao_tao"),
    Department(10, "Sở Khoa học và Công nghệ", "khoa_hoc_cong_nghe"),
)
#: Promotion-notification dossiers (a Ministry of Industry and Trade procedure) go here.
INDUSTRY_AND_TRADE: Department = DEPARTMENTS[4]

MINISTRIES: tuple[Ministry, ...] = (
    Ministry(1, "Văn phòng Chính phủ", "van_phong_chinh_phu"),
    Ministry(2, "Bộ Nội vụ", "bo_noi_vu"),
    Ministry(3, "Bộ Công Thương", "bo_cong_thuong"),
    Ministry(4, "Bộ Tài chính", "bo_tai_chinh"),
    Ministry(5, "Bộ Tư pháp", "bo_tu_phap"),
    Ministry(6, "Bộ Khoa học và Công nghệ", "bo_khoa_hoc_cong_nghe"),
    Ministry(7, "Bộ Xây dựng", "bo_xay_dung"),
    Ministry(8, "Bộ Nông nghiệp và Môi trường", "bo_nong_nghiep_moi_truong"),
    Ministry(9, "Bộ Y tế", "bo_y_te"),
)


class AgencyCodeError(ValueError):
    """A CSV of agency codes that cannot be used; the message names the file and line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}, line {line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


# --- keys and generated codes -------------------------------------------------------------


def province_key(province_code: str | int) -> str:
    """``31`` -> ``P31``: the unit_code of a province People's Committee."""
    return f"P{int(province_code):02d}"


def department_key(province_code: str | int, number: int) -> str:
    """(``31``, 5) -> ``P31-D5``: the unit_code of a province department."""
    return f"P{int(province_code):02d}-D{int(number)}"


def ward_key(ward_code: str | int) -> str:
    """A ward code as the registry spells it: 5 digits, zero-padded."""
    return f"{int(ward_code):05d}"


# --- the resolved table -----------------------------------------------------------------


@dataclass(frozen=True)
class AgencyCodeTable:
    """Agency code of every province-side agency, keyed by unit_code (ward code, P.., P..-D..)."""

    codes: Mapping[str, str]
    source: str | None = None
    overridden: frozenset[str] = field(default_factory=frozenset)
    _by_code: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def code_for(self, unit_code: str) -> str:
        """The agency code of a unit_code (``11311``, ``P31``, ``P31-D5``)."""
        try:
            return self.codes[_normalise_key(unit_code)]
        except (KeyError, ValueError):
            raise KeyError(f"no agency code for unit {unit_code!r}") from None

    def unit_for(self, agency_code: str) -> str | None:
        """The unit_code that carries `agency_code`, or None."""
        return self._by_code.get(agency_code)

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)


@lru_cache(maxsize=1)
def _divisions() -> Mapping[str, tuple[str, ...]]:
    """Province code -> its ward codes in ascending order, straight from vietnam-provinces."""
    from vietnam_provinces import Province, Ward

    wards: dict[str, list[int]] = {f"{int(p.code):02d}": [] for p in Province.iter_all()}
    for ward in Ward.iter_all():
        wards[f"{int(ward.province_code):02d}"].append(int(ward.code))
    return MappingProxyType({pp: tuple(ward_key(c) for c in sorted(codes)) for pp, codes in sorted(wards.items())})


def _generated(level1: Mapping[str, str] | None = None) -> dict[str, str]:
    """The generated scheme; `level1` overrides a province's ``Xnn`` part (from a CSV)."""
    level1 = level1 or {}
    codes: dict[str, str] = {}
    for pp, wards in _divisions().items():
        top = level1.get(pp) or province_letter_code(pp)
        codes[province_key(pp)] = format_agency_code(top)
        for dept in DEPARTMENTS:
            codes[department_key(pp, dept.number)] = format_agency_code(top, level2=dept.number)
        for index, ward in enumerate(wards, start=1):
            codes[ward] = format_agency_code(top, level4=index)
    return codes


_WARD_KEY = re.compile(r"[0-9]{1,5}")
_PROVINCE_KEY = re.compile(r"P([0-9]{1,2})")
_DEPARTMENT_KEY = re.compile(r"P([0-9]{1,2})-D([0-9]{1,2})")


def _normalise_key(text: str) -> str:
    """Canonical unit_code, or ValueError saying which forms exist."""
    text = text.strip().upper()
    if _WARD_KEY.fullmatch(text):
        return ward_key(text)
    if m := _PROVINCE_KEY.fullmatch(text):
        return province_key(m.group(1))
    if m := _DEPARTMENT_KEY.fullmatch(text):
        return department_key(m.group(1), int(m.group(2)))
    raise ValueError(
        f"unit_code {text!r} is not a ward code (e.g. 11311), P{{pp}} (e.g. P31) or P{{pp}}-D{{k}} (e.g. P31-D5)"
    )


def _province_of(key: str, ward_province: Mapping[str, str]) -> str:
    if key.startswith("P"):
        return key[1:3]
    return ward_province[key]


@dataclass
class _Row:
    line: int
    key: str
    code: AgencyCode


def _read_rows(path: Path, known: Mapping[str, str]) -> list[_Row]:
    label = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise AgencyCodeError(f"cannot read agency-code CSV: {exc.strerror or exc}", path=label) from exc
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in CSV_COLUMNS if c not in header]
        if missing:
            raise AgencyCodeError(
                f"header must name the columns {', '.join(CSV_COLUMNS)}; missing {', '.join(missing)}",
                path=label,
                line=1,
            )
        reader.fieldnames = header
        for record in reader:
            line = reader.line_num
            raw_key = (record.get("unit_code") or "").strip()
            raw_code = (record.get("agency_code") or "").strip()
            if not raw_key and not raw_code:
                continue
            try:
                key = _normalise_key(raw_key)
            except ValueError as exc:
                raise AgencyCodeError(str(exc), path=label, line=line) from None
            if key not in known:
                raise AgencyCodeError(f"unknown unit {raw_key!r}", path=label, line=line)
            if key in seen:
                raise AgencyCodeError(f"unit {key} is listed twice (first on line {seen[key]})", path=label, line=line)
            seen[key] = line
            try:
                code = parse_agency_code(raw_code, field="agency_code")
            except ProtocolError as exc:
                raise AgencyCodeError(f"unit {key}: {exc}", path=label, line=line) from None
            rows.append(_Row(line, key, code))
    return rows


def _apply(rows: list[_Row], label: str) -> dict[str, str]:
    """Generated codes (under each province's ``Xnn``) with the CSV rows on top, checked."""
    ward_province = {w: pp for pp, wards in _divisions().items() for w in wards}
    level1: dict[str, str] = {pp: province_letter_code(pp) for pp in _divisions()}
    for row in rows:
        if row.key.startswith("P") and "-" not in row.key:
            if not (row.code.is_top_level and row.code.letter == PROVINCE_LETTER):
                raise AgencyCodeError(
                    f"province People's Committee {row.key} must have a code 000.00.00.H.., got {row.code}",
                    path=label,
                    line=row.line,
                )
            level1[row.key[1:]] = row.code.level1
    codes = _generated(level1)
    for row in rows:
        pp = _province_of(row.key, ward_province)
        if not row.code.belongs_to(level1[pp]):
            raise AgencyCodeError(
                f"agency code {row.code} of unit {row.key} does not belong to province {pp} "
                f"(its codes end in .{level1[pp]})",
                path=label,
                line=row.line,
            )
        codes[row.key] = str(row.code)
    owner: dict[str, str] = {}
    lines = {row.key: row.line for row in rows}
    for key, code in codes.items():
        if code in owner:
            other = owner[code]
            blame = key if key in lines else other
            partner = other if blame == key else key
            how = f"line {lines[partner]}" if partner in lines else "its generated code"
            raise AgencyCodeError(
                f"agency code {code} of unit {blame} is also the code of unit {partner} ({how})",
                path=label,
                line=lines.get(blame),
            )
        owner[code] = key
    return codes


def load_agency_codes(csv_path: str | os.PathLike[str] | None = None) -> AgencyCodeTable:
    """Agency codes of every province-side agency: generated, with a CSV's real codes on top.

    With no `csv_path`, the file named by ``CUTOVER_AGENCY_CODES_CSV`` is used, if set.
    Raises `AgencyCodeError` (naming file and line) for a CSV that cannot be trusted.
    """
    if csv_path is None:
        csv_path = os.environ.get(ENV_VAR) or None
    if csv_path is None:
        return generated_agency_codes()
    path = Path(csv_path)
    rows = _read_rows(path, _generated())
    return _table(_apply(rows, str(path)), str(path), frozenset(row.key for row in rows))


def generated_agency_codes() -> AgencyCodeTable:
    """The generated scheme alone, whatever the environment says."""
    return _table(_generated(), None, frozenset())


def _table(codes: dict[str, str], source: str | None, overridden: frozenset[str]) -> AgencyCodeTable:
    by_code = {code: key for key, code in codes.items()}
    return AgencyCodeTable(
        codes=MappingProxyType(codes),
        source=source,
        overridden=overridden,
        _by_code=MappingProxyType(by_code),
    )


def industry_and_trade_code(province_code: str | int, table: AgencyCodeTable | None = None) -> str:
    """Agency code of a province's Sở Công Thương (where promotion-notification dossiers go)."""
    key = department_key(province_code, INDUSTRY_AND_TRADE.number)
    return (table if table is not None else load_agency_codes()).code_for(key)

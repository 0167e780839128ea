"""The registry of provinces, commune-level units and agencies, built from `vietnam-provinces`.

The list of 34 provinces and 3,321 commune-level units is never copied by hand: it comes from the
pinned ``vietnam-provinces`` package, so a data update is a version bump. Agency codes come from
`refdata.agency_codes` (generated, or real ones from a CSV). Everything here is immutable, so one
`Registry` per agency-code source is built and cached (`registry()`).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from refdata.agency_codes import (
    DEPARTMENTS,
    ENV_VAR,
    INDUSTRY_AND_TRADE,
    MINISTRIES,
    AgencyCodeTable,
    department_key,
    generated_agency_codes,
    load_agency_codes,
    province_key,
)

__all__ = [
    "Agency",
    "AgencyKind",
    "Province",
    "Registry",
    "Unit",
    "UnknownAgencyError",
    "UnknownCodeError",
    "UnknownProvinceError",
    "UnknownUnitError",
    "registry",
]

AgencyKind = Literal["province", "department", "commune", "ministry"]
DIVISION_TYPES = ("xã", "phường", "đặc khu")


class UnknownCodeError(KeyError, ValueError):
    """A code that names nothing in the registry; the message says what exists.

    Both a KeyError (it is a failed look-up) and a ValueError (it is bad user input).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UnknownProvinceError(UnknownCodeError):
    pass


class UnknownUnitError(UnknownCodeError):
    pass


class UnknownAgencyError(UnknownCodeError):
    pass


@dataclass(frozen=True)
class Agency:
    """An agency that has an identification code: a People's Committee, department or ministry.

    `province_code` is None for ministries; `unit_code` is the key used in the agency-code CSV
    (``11311``, ``P31``, ``P31-D5``) or ``G03`` for a ministry.
    """

    code: str
    name: str
    province_code: str | None
    kind: AgencyKind
    unit_code: str = ""


@dataclass(frozen=True)
class Unit:
    """A commune-level unit (xã, phường or đặc khu); `code` is the 5-digit ward code."""

    code: str
    name: str
    division_type: str
    province_code: str
    agency_code: str
    codename: str = ""

    @property
    def committee_name(self) -> str:
        """``Ủy ban nhân dân xã An Hải``: the People's Committee that receives dossiers."""
        return f"Ủy ban nhân dân {_lower_first(self.name)}"

    def as_agency(self) -> Agency:
        return Agency(self.agency_code, self.committee_name, self.province_code, "commune", self.code)


@dataclass(frozen=True)
class Province:
    """A province or centrally-governed city; `code` is 2 digits (``31``)."""

    code: str
    name: str
    division_type: str
    agency_code: str
    departments: tuple[Agency, ...]
    codename: str = ""

    @property
    def full_name(self) -> str:
        """``Tỉnh Cao Bằng`` / ``Thành phố Hải Phòng`` (the package omits ``Tỉnh``)."""
        return self.name if self.division_type != "tỉnh" else f"Tỉnh {self.name}"

    @property
    def locative(self) -> str:
        """``tỉnh Cao Bằng`` / ``thành phố Hải Phòng``, as used after an agency's name."""
        return _lower_first(self.full_name)

    @property
    def people_committee(self) -> Agency:
        return Agency(self.agency_code, f"Ủy ban nhân dân {self.locative}", self.code, "province", province_key(self.code))

    @property
    def industry_and_trade(self) -> Agency:
        """Sở Công Thương: where forwarded promotion-notification dossiers go."""
        return self.department(INDUSTRY_AND_TRADE.number)

    def department(self, number: int) -> Agency:
        key = department_key(self.code, number)
        for agency in self.departments:
            if agency.unit_code == key:
                return agency
        raise UnknownAgencyError(
            f"province {self.code} has no department {number}; departments are "
            + ", ".join(f"{d.number} {d.name}" for d in DEPARTMENTS)
        )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _parse_communes(communes: str) -> int | None:
    """``"all"`` -> None; ``"sample:N"`` -> N."""
    text = communes.strip().lower()
    if text == "all":
        return None
    if text.startswith("sample:"):
        count = text.partition(":")[2].strip()
        if count.isdigit() and int(count) > 0:
            return int(count)
    raise ValueError(f"communes must be 'all' or 'sample:N' with N a positive number, got {communes!r}")


def _as_list(value: str | int | Iterable[str | int] | None) -> list[str] | None:
    """None, one code, a comma-separated string or a list of codes -> a list of codes."""
    if value is None:
        return None
    if isinstance(value, int):
        return [str(value)]
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(v).strip() for v in value]


class Registry:
    """Provinces, commune-level units and agencies, with their agency identification codes."""

    def __init__(self, table: AgencyCodeTable | None = None) -> None:
        from vietnam_provinces import Province as VnProvince
        from vietnam_provinces import Ward as VnWard

        self.agency_codes = table if table is not None else load_agency_codes()
        provinces: list[Province] = []
        for p in sorted(VnProvince.iter_all(), key=lambda p: int(p.code)):
            pp = f"{int(p.code):02d}"
            base = Province(pp, p.name, p.division_type.value, self.agency_codes.code_for(province_key(pp)), (), p.codename)
            departments = tuple(
                Agency(
                    self.agency_codes.code_for(department_key(pp, d.number)),
                    f"{d.name} {base.locative}",
                    pp,
                    "department",
                    department_key(pp, d.number),
                )
                for d in DEPARTMENTS
            )
            provinces.append(
                Province(pp, p.name, p.division_type.value, base.agency_code, departments, p.codename)
            )
        units = [
            Unit(
                code=f"{int(w.code):05d}",
                name=w.name,
                division_type=w.division_type.value,
                province_code=f"{int(w.province_code):02d}",
                agency_code=self.agency_codes.code_for(f"{int(w.code):05d}"),
                codename=w.codename,
            )
            for w in sorted(VnWard.iter_all(), key=lambda w: int(w.code))
        ]
        self._provinces: tuple[Province, ...] = tuple(provinces)
        self._province_by_code = {p.code: p for p in provinces}
        self._province_by_codename = {p.codename: p for p in provinces}
        self._units: tuple[Unit, ...] = tuple(units)
        self._unit_by_code = {u.code: u for u in units}
        by_province: dict[str, list[Unit]] = {p.code: [] for p in provinces}
        for unit in units:
            by_province[unit.province_code].append(unit)
        self._units_by_province = {pp: tuple(us) for pp, us in by_province.items()}
        self._ministries = tuple(Agency(m.code, m.name, None, "ministry", m.unit_code) for m in MINISTRIES)

    @cached_property
    def _agency_by_code(self) -> dict[str, Agency]:
        found: dict[str, Agency] = {}
        for province in self._provinces:
            for agency in self.agencies(province.code):
                found[agency.code] = agency
        for agency in self._ministries:
            found[agency.code] = agency
        return found

    # --- provinces -----------------------------------------------------------------------

    def provinces(self) -> tuple[Province, ...]:
        """All provinces, by code."""
        return self._provinces

    def province(self, code: str | int) -> Province:
        """A province by code (``31``, ``1``, ``01``, ``P31``) or codename (``hai_phong``)."""
        text = str(code).strip()
        digits = text[1:] if text[:1] in ("P", "p") else text
        if digits.isascii() and digits.isdigit():
            found = self._province_by_code.get(f"{int(digits):02d}")
        else:
            found = self._province_by_codename.get(text.lower())
        if found is None:
            listing = ", ".join(f"{p.code} {p.name}" for p in self._provinces)
            raise UnknownProvinceError(f"unknown province {code!r}; the {len(self._provinces)} provinces are: {listing}")
        return found

    # --- units ---------------------------------------------------------------------------

    def units(self, province: str | int | None = None) -> tuple[Unit, ...]:
        """Commune-level units by ward code, of one province or of the whole country."""
        if province is None:
            return self._units
        return self._units_by_province[self.province(province).code]

    def unit(self, code: str | int) -> Unit:
        """A commune-level unit by ward code (``11311``; leading zeros optional)."""
        text = str(code).strip()
        found = self._unit_by_code.get(f"{int(text):05d}") if text.isascii() and text.isdigit() else None
        if found is None:
            raise UnknownUnitError(
                f"unknown commune-level unit {code!r}; units are {len(self._units)} ward codes from "
                f"{self._units[0].code} to {self._units[-1].code} (`cutover units --province CODE` lists them)"
            )
        return found

    def unit_by_agency_code(self, code: str) -> Unit:
        """The commune-level unit whose People's Committee carries agency code `code`."""
        key = self.agency_codes.unit_for(code)
        if key is None or key not in self._unit_by_code:
            raise UnknownAgencyError(
                f"no commune-level unit has agency code {code!r}; they look like "
                f"{self._units[0].agency_code} (`cutover units` lists them)"
            )
        return self._unit_by_code[key]

    def counts(self) -> dict[str, int]:
        """Units per division type (``xã``, ``phường``, ``đặc khu``)."""
        counter = Counter(u.division_type for u in self._units)
        return {kind: counter.get(kind, 0) for kind in DIVISION_TYPES}

    # --- agencies ------------------------------------------------------------------------

    def agencies(self, province: str | int) -> tuple[Agency, ...]:
        """A province's People's Committee, its departments and every commune-level committee."""
        p = self.province(province)
        return (p.people_committee, *p.departments, *(u.as_agency() for u in self.units(p.code)))

    def ministries(self) -> tuple[Agency, ...]:
        """Ministries and central bodies on the document axis."""
        return self._ministries

    def agency(self, ref: str) -> Agency:
        """An agency by agency code (``001.00.00.H31``) or unit_code (``11311``, ``P31``, ``P31-D5``, ``G03``)."""
        text = ref.strip()
        if text in self._agency_by_code:
            return self._agency_by_code[text]
        key = text.upper()
        for agency in self._ministries:
            if agency.unit_code == key:
                return agency
        try:
            code = self.agency_codes.code_for(text)
        except KeyError:
            code = None
        if code is not None and code in self._agency_by_code:
            return self._agency_by_code[code]
        raise UnknownAgencyError(
            f"unknown agency {ref!r}; give an agency code (NNN.NN.NN.Xnn) or a unit code "
            "(ward code 11311, P31, P31-D5, or G01..G{:02d})".format(len(self._ministries))
        )

    def all_agencies(self) -> tuple[Agency, ...]:
        """Every agency with a code: all provinces' agencies, then the ministries."""
        return tuple(self._agency_by_code.values())

    # --- selections ----------------------------------------------------------------------

    def sample_units(self, n: int, seed: int | str = 0) -> list[Unit]:
        """`n` units spread across provinces, the same for the same (n, seed); sorted by code."""
        return _spread_sample(self._units, n, seed)

    def select_units(
        self,
        province: str | int | Sequence[str | int] | None = None,
        commune: str | int | Sequence[str | int] | None = None,
        communes: str = "all",
        seed: int | str = 0,
    ) -> list[Unit]:
        """The units a run targets, sorted by code.

        `province` and `commune` take one code, a comma-separated string or a list; a commune
        outside the given provinces is an error. ``communes="sample:N"`` then keeps N of them,
        spread across provinces (deterministic for a `seed`).
        """
        sample = _parse_communes(communes)
        provinces = _as_list(province)
        chosen: list[Unit]
        if provinces is None:
            chosen = list(self._units)
            wanted = None
        else:
            wanted = {self.province(p).code for p in provinces}
            chosen = [u for u in self._units if u.province_code in wanted]
        names = _as_list(commune)
        if names is not None:
            picked = {}
            for name in names:
                unit = self.unit(name)
                if wanted is not None and unit.province_code not in wanted:
                    raise UnknownUnitError(
                        f"unit {unit.code} ({unit.name}) is in province {unit.province_code}, "
                        f"not in the selected province(s) {', '.join(sorted(wanted))}"
                    )
                picked[unit.code] = unit
            chosen = sorted(picked.values(), key=lambda u: u.code)
        if sample is not None:
            chosen = _spread_sample(chosen, sample, seed)
        return chosen


def _spread_sample(units: Sequence[Unit], n: int, seed: int | str) -> list[Unit]:
    """Round-robin over shuffled provinces, taking a shuffled unit from each in turn."""
    if n < 0:
        raise ValueError(f"sample size must not be negative, got {n}")
    rng = random.Random(f"cutover-sample|{seed}")
    pools: dict[str, list[Unit]] = {}
    for unit in units:
        pools.setdefault(unit.province_code, []).append(unit)
    order = sorted(pools)
    rng.shuffle(order)
    for code in order:
        rng.shuffle(pools[code])
    taken: list[Unit] = []
    while len(taken) < n and any(pools.values()):
        for code in order:
            if pools[code] and len(taken) < n:
                taken.append(pools[code].pop())
    return sorted(taken, key=lambda u: u.code)


@lru_cache(maxsize=8)
def _cached_registry(path: str | None, stamp: tuple[int, int] | None) -> Registry:
    """One registry per CSV version; `stamp` is only part of the cache key."""
    return Registry(load_agency_codes(path) if path is not None else generated_agency_codes())


def registry(csv_path: str | os.PathLike[str] | None = None) -> Registry:
    """The shared registry (cached); agency codes from `csv_path`, else ``CUTOVER_AGENCY_CODES_CSV``.

    The cache is keyed by the CSV's path, modification time and size, so editing the file or
    changing the environment variable gives a fresh registry.
    """
    chosen = csv_path if csv_path is not None else (os.environ.get(ENV_VAR) or None)
    if chosen is None:
        return _cached_registry(None, None)
    path = Path(chosen)
    try:
        st = path.stat()
        stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    return _cached_registry(str(path), stamp)

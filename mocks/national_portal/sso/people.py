"""Who can log in: the one adapter between the SSO mock and `refdata.testdata`.

A test login names a person by a ``login_hint`` (see `parse_hint`); the person is a pure
function of the hint and the seed, so every worker and every run agrees on who it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from refdata import testdata
from refdata.units import UnknownCodeError, registry

from .errors import InvalidRequest

_HINT = re.compile(r"(citizen|officer|business):([A-Za-z0-9-]+)(?::(\d{1,4}))?")
HINT_HELP = ("expected citizen:<commune_code>[:<index>], business:<commune_code>[:<index>], "
             "officer:<commune_code or agency ref like P31>[:<index>], or the SoDinhDanh (12 digits), "
             "MaSoThue (10 digits) or sub of a user who has logged in before")


@dataclass(frozen=True)
class Person:
    """A test account ready to log in: its claims as the portal's userinfo sends them."""

    kind: str
    hint: str
    claims: dict[str, Any]

    @property
    def sub(self) -> str:
        return str(self.claims["sub"])


@dataclass(frozen=True)
class Hint:
    kind: str
    unit: str
    index: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.unit}:{self.index}"


def parse_hint(text: str) -> Hint | None:
    """A generated-person hint, or None when `text` should be looked up among known users."""
    m = _HINT.fullmatch(text.strip())
    if m is None:
        return None
    return Hint(m.group(1), m.group(2), int(m.group(3) or 0))


def person_for(hint: Hint, seed: int | str = testdata.DEFAULT_SEED) -> Person:
    """The test person a hint names; officers are citizens (LoaiTaiKhoan 1) plus agency claims.

    Officer extras: ``MaDonVi`` (agency identification code), ``TenDonVi``, ``MaDonViHanhChinh``
    (ward code or agency ref), ``ChucDanh``, ``PhongBan``, ``VaiTro`` (tiep_nhan | lanh_dao | xu_ly).
    """
    try:
        if hint.kind == "citizen":
            claims = testdata.claims(testdata.citizen_for(hint.unit, hint.index, seed=seed))
        elif hint.kind == "business":
            claims = testdata.claims(testdata.business_for(hint.unit, hint.index, seed=seed))
        else:
            officer = testdata.officer_for(hint.unit, hint.index, seed=seed)
            claims = testdata.claims(officer)
            claims.update(MaDonVi=officer.agency_code, TenDonVi=officer.agency_name,
                          MaDonViHanhChinh=officer.unit_code, ChucDanh=officer.chuc_danh,
                          PhongBan=officer.phong_ban, VaiTro=officer.role)
    except (UnknownCodeError, ValueError) as err:
        raise InvalidRequest(f"{hint.unit!r} names no commune-level unit or agency ({err})",
                             field="login_hint") from None
    return Person(hint.kind, str(hint), claims)


def page_people(province: str, communes: list[str], seed: int | str = testdata.DEFAULT_SEED,
                per_commune: int = 3) -> list[dict[str, Any]]:
    """What the login page lists: for each commune a few citizens, two officers and a business."""
    out: list[dict[str, Any]] = []
    reg = registry()
    for code in communes:
        unit = reg.unit(code)
        people: list[Person] = []
        people += [person_for(Hint("citizen", unit.code, i), seed) for i in range(per_commune)]
        people += [person_for(Hint("officer", unit.code, i), seed) for i in range(2)]
        people.append(person_for(Hint("business", unit.code, 0), seed))
        out.append({"code": unit.code, "name": unit.name, "people": people})
    return out


def default_communes(province: str, count: int = 3) -> list[str]:
    """The first few units of a province, for the login page."""
    try:
        return [u.code for u in registry().units(province)[:count]]
    except (UnknownCodeError, ValueError):
        return []

"""UNITS: every commune-level unit is declared in the national catalogue with its official code
and name, and the portal refused none of the system's declarations (features/units.feature)."""

from __future__ import annotations

import unicodedata
from typing import Any

from refdata.units import Unit, registry

from ..registry import requirement
from ..session import CertSession
from .base import Verdicts
from .probes import refusals

DECLARATION = "KhaiBaoCoQuan"


def comparable(name: str) -> str:
    """A name as it is compared: Unicode NFC, case and spacing folded, the old tone placement
    `Uỷ` read as `Ủy`, and `Ủy ban nhân dân` read as its usual abbreviation `UBND`. Diacritics
    are kept: `xa Dong Hai` is not `xã Đông Hải`."""
    text = " ".join(unicodedata.normalize("NFC", name).casefold().split())
    return text.replace("uỷ", "ủy").replace("ủy ban nhân dân", "ubnd")


def name_problem(declared: Any, unit: Unit) -> str | None:
    """None when `declared` is the unit's official name or its People's Committee's."""
    if isinstance(declared, str) and comparable(declared) in {comparable(unit.committee_name), comparable(unit.name)}:
        return None
    return (f"{unit.agency_code} is declared as {declared!r}; the official name is {unit.committee_name!r} "
            f"(unit {unit.code} {unit.name})")


def _is_declaration(entry: dict[str, Any]) -> bool:
    if (entry.get("keys") or {}).get("service") == DECLARATION:
        return True
    return f'"{DECLARATION}"' in str(entry.get("request_body") or "")


def declaration_refusals(session: CertSession, province: str) -> list[str]:
    """Every declaration of the system the portal refused during the run, the portal's message quoted."""
    return [str(r) for r in refusals(session, province, "portal", paths=("/api/integration", "/api/share"),
                                      keep=_is_declaration)]


@requirement("UNITS-1", scope="commune",
             title="every unit is declared in the national catalogue with its official code and name")
def units_declared(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "UNITS-1", province)
    declared = {a["MaCoQuan"]: a for a in session.admins["portal"].get("/portal/agencies", tenant=province)["agencies"]}
    problems: dict[str, str] = {}
    for unit in registry().units(province):
        got = declared.get(unit.agency_code)
        if got is None:
            problems[unit.code] = (f"{unit.name} ({unit.code}, agency {unit.agency_code}) is not declared in the "
                                   "national catalogue")
        elif got.get("MaDonViHanhChinh") != unit.code:
            problems[unit.code] = (f"{unit.agency_code} is declared for unit {got.get('MaDonViHanhChinh')}, not "
                                   f"{unit.code} ({unit.name})")
        elif (wrong := name_problem(got.get("TenCoQuan"), unit)) is not None:
            problems[unit.code] = wrong
    for code, problem in problems.items():  # a unit outside the selection shows too: the catalogue is whole
        v.judge(False, problem, commune=code)
    for unit in session.units_of(province):
        if unit.code not in problems:
            v.judge(True, "", commune=unit.code)
    province_level = [f"{len(problems)} of {len(registry().units(province))} units not declared correctly, "
                      f"first {problems[min(problems)]}"] if problems else []
    province_level += declaration_refusals(session, province)
    v.findings(province_level, declared=len(declared))
    return v.failures

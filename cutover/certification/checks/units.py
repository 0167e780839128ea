"""UNITS: every commune-level unit is declared in the national catalogue with its official code
and name (features/units.feature)."""

from __future__ import annotations

from cutover.units import registry

from ..registry import requirement
from ..session import CertSession
from .base import Verdicts


@requirement("UNITS-1", scope="commune",
             title="every unit is declared in the national catalogue with its official code and name")
def units_declared(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "UNITS-1", province)
    declared = {a["MaCoQuan"]: a for a in session.admins["portal"].get("/portal/agencies", tenant=province)["agencies"]}
    missing, wrong = [], []
    for unit in registry().units(province):
        got = declared.get(unit.agency_code)
        if got is None:
            missing.append(unit)
        elif got.get("MaDonViHanhChinh") != unit.code:
            wrong.append((unit, got))
    for unit in missing:
        v.judge(False, f"{unit.name} ({unit.code}, agency {unit.agency_code}) is not declared in the national "
                       "catalogue", commune=unit.code)
    for unit, got in wrong:
        v.judge(False, f"{unit.agency_code} is declared for unit {got.get('MaDonViHanhChinh')}, not {unit.code} "
                       f"({unit.name})", commune=unit.code)
    selected = {u.code for u in session.units_of(province)}
    bad = {u.code for u in missing} | {u.code for u, _ in wrong}
    for code in sorted(selected - bad):
        v.judge(True, "", commune=code)
    v.judge(not bad, f"{len(bad)} of {len(registry().units(province))} units not declared correctly",
            declared=len(declared))
    return v.failures

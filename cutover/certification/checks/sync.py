"""SYNC: every dossier's history reaches the portal with legal transitions; an outage loses
nothing (features/sync.feature)."""

from __future__ import annotations

from typing import Any

from ..journey import run_province_journeys
from ..registry import requirement
from ..session import CertSession
from .base import Verdicts, collapse, forget_portal_dossiers, fresh_dossier, portal_dossier


def compare_histories(portal: dict[str, Any] | None, mine: dict[str, Any]) -> str | None:
    """None when the portal holds the dossier's whole history exactly as the province does."""
    if portal is None:
        return "the portal has no such dossier"
    ours = [h["status"] for h in mine["history"]]
    theirs = collapse([h["TrangThai"] for h in portal["LichSu"]])
    if portal["TrangThaiHoSo"] != mine["status"]:
        return f"status on the portal {portal['TrangThaiHoSo']}, in the province {mine['status']}"
    if theirs != ours:
        return f"transitions on the portal {theirs}, in the province {ours}"
    progress = [(h["TrangThai"], h["ThoiDiem"]) for h in portal["LichSu"] if h["DichVu"] == "CapNhatTienDoHoSoMC"]
    expected = [(h["status"], h["at"]) for h in mine["history"]]
    if progress != expected:
        return f"progress entries on the portal {progress} differ from the province's {expected}"
    return None


@requirement("SYNC-1", scope="commune", title="the portal holds each dossier's whole history as the province does")
def histories_reconcile(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SYNC-1", province)
    forget_portal_dossiers(session, province)
    for j in run_province_journeys(session, province).values():
        if not j.sut_code:
            v.judge(False, "no dossier reached the system under test to reconcile", commune=j.unit.code)
            continue
        problem = compare_histories(portal_dossier(session, province, j.sut_code), session.sut.dossier(j.sut_code))
        v.judge(problem is None, f"dossier {j.sut_code}: {problem}", commune=j.unit.code, code=j.sut_code)
    return v.failures


@requirement("SYNC-2", scope="province", title="a portal outage while a dossier is processed loses nothing")
def outage_loses_nothing(session: CertSession, province: str) -> list[str]:
    """Advance one dossier while the portal's adapter API is down; after it recovers, nothing is missing."""
    v = Verdicts(session, "SYNC-2", province)
    unit = session.units_of(province)[0]
    code = fresh_dossier(session, province, unit.code, actions=("receive",))
    if code is None:
        v.judge(False, "could not get a dossier to the system under test for the outage test")
        return v.failures
    portal = session.admins["portal"]
    fault = portal.add_fault(action="error", path="/api/integration", status=503, message="portal maintenance")
    try:
        session.sut.act(code, "process")
        session.sut.act(code, "request_supplement")
        session.settle(rounds=3)
    finally:
        portal._call("DELETE", f"/faults/{fault}")
    session.sut.tick(retry_now=True)
    session.settle()
    forget_portal_dossiers(session, province)
    problem = compare_histories(portal_dossier(session, province, code), session.sut.dossier(code))
    v.judge(problem is None, f"after a portal outage, dossier {code}: {problem}", code=code)
    return v.failures

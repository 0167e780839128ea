"""PROMO: forwarded promotion notification dossiers are received and processed, the portal holds
the province's record of each, and the forward channel refuses every wrong promotion
(features/promo.feature)."""

from __future__ import annotations

from typing import Any

from refdata.units import Unit, registry

from ..registry import requirement
from ..session import CertSession
from .base import Verdicts, collapse, forget_portal_dossiers, portal_dossier
from .forwards import (
    Channel,
    forwards_of,
    hostile_matrix,
    portal_ack,
    portal_submission,
    record_problems,
    submit_on_portal,
)

PROMOTION_PROCEDURE = "2.001474"


def _department(unit: Unit) -> str:
    """Promotions go to the Department of Industry and Trade of the commune's province."""
    return registry().province(unit.province_code).industry_and_trade.code


PROMOTIONS = Channel("promotion", PROMOTION_PROCEDURE, hint=lambda unit: f"business:{unit.code}:0",
                     agency=_department)
BUSINESS = 2
"""`LoaiDoiTuong` of a dossier a business filed (its portal account's `LoaiTaiKhoan` is 2; protocols.hoso)."""


def portal_record_problems(portal: dict[str, Any] | None, mine: dict[str, Any], department: str) -> list[str]:
    """The portal's own copy of a returned promotion dossier: status 10, the province's whole
    history, handled by the Department of Industry and Trade, filed by a business (the harness
    submits it from a business account)."""
    if portal is None:
        return [f"the portal holds no record of promotion dossier {mine['code']} (never synced)"]
    problems = []
    if portal.get("TrangThaiHoSo") != 10:
        problems.append(f"the portal shows status {portal.get('TrangThaiHoSo')}, not 10 (result returned)")
    theirs = collapse([h["TrangThai"] for h in portal.get("LichSu") or []])
    ours = [h["status"] for h in mine["history"]]
    if theirs != ours:
        problems.append(f"the portal's history {theirs} differs from the province's {ours}")
    if portal.get("DonViXuLy") != department:
        problems.append(f"the portal's DonViXuLy is {portal.get('DonViXuLy')!r}, not the Department of Industry "
                        f"and Trade {department}")
    if portal.get("LoaiDoiTuong") != BUSINESS:
        problems.append(f"the portal's LoaiDoiTuong is {portal.get('LoaiDoiTuong')!r}, not {BUSINESS} (business): "
                        f"a business account (LoaiTaiKhoan {BUSINESS}) filed it")
    return problems


@requirement("PROMO-1", scope="province",
             title="a promotion notification reaches the Department of Industry and Trade and is processed")
def promotions_processed(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "PROMO-1", province)
    unit = session.units_of(province)[0]
    portal_code = submit_on_portal(session, PROMOTIONS, unit, summary="Thông báo chương trình khuyến mại")
    session.settle()
    found = session.sut.dossiers(portal_code=portal_code)
    if not found:
        sub = portal_submission(session, province, portal_code)
        v.judge(False, f"promotion notification {portal_code} was {sub.get('TrangThai')} but the system under "
                       "test holds no dossier for it", portal_code=portal_code)
        return v.failures
    code = found[0]["code"]
    try:
        for action in ("receive", "process", "finish", "return"):
            session.sut.act(code, action)
    except Exception as err:  # noqa: BLE001 - the system refusing to process it is the finding
        v.judge(False, f"the promotion notification {code} could not be processed: {err}")
        return v.failures
    session.settle()
    mine = session.sut.dossier(code)
    dept = _department(unit)
    problems = [] if mine["status"] == 10 else [f"the system shows status {mine['status']}, not 10"]
    forward = forwards_of(session, province).get(portal_code)
    if forward is not None:
        problems += record_problems(mine, forward.payload, dept, PROMOTIONS.kind)
    acked = portal_ack(session, province, portal_code)
    if acked != code:
        problems.append(f"the portal recorded the acknowledgement {acked}, the system's dossier is {code}")
    forget_portal_dossiers(session, province)
    problems += portal_record_problems(portal_dossier(session, province, code), mine, dept)
    v.findings([f"promotion notification {code}: {p}" for p in problems], portal_code=portal_code, code=code)
    return v.failures


@requirement("PROMO-2", scope="province",
             title="a promotion that is unsigned, forged, altered, replayed, repeated or for another province "
                   "changes nothing")
def hostile_promotions_change_nothing(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "PROMO-2", province)
    v.findings(hostile_matrix(session, province, PROMOTIONS))
    return v.failures

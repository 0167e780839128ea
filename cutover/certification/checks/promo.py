"""PROMO: forwarded promotion notification dossiers are received and processed
(features/promo.feature)."""

from __future__ import annotations

from cutover.flows.sso import portal_citizen_login
from cutover.flows.submit import submission_status, submit_dossier
from cutover.units import registry

from ..registry import requirement
from ..session import CertSession
from .base import Verdicts

PROMOTION_PROCEDURE = "2.001474"


@requirement("PROMO-1", scope="province",
             title="a promotion notification reaches the Department of Industry and Trade and is processed")
def promotions_processed(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "PROMO-1", province)
    unit = session.units_of(province)[0]
    http = session.http()
    tokens = portal_citizen_login(http, session.urls["portal"], session.admins["portal"].get("/portal/client"),
                                  f"business:{unit.code}:0")
    portal_code = submit_dossier(http, session.urls["portal"], tokens.access_token, procedure=PROMOTION_PROCEDURE,
                                 ward=unit.code, summary="Thông báo chương trình khuyến mại")
    session.settle()
    found = session.sut.dossiers(portal_code=portal_code)
    if not found:
        status = submission_status(http, session.urls["portal"], tokens.access_token, portal_code)
        v.judge(False, f"promotion notification {portal_code} was {status.get('TrangThai')} but the system under "
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
    status = submission_status(http, session.urls["portal"], tokens.access_token, portal_code)
    dept = registry().province(province).industry_and_trade.code
    ok = (mine["status"] == 10 and mine["agency"] == dept and status.get("TrangThai") == "acknowledged"
          and status.get("MaHoSo") == code)
    v.judge(ok, f"promotion notification {code}: handled by {mine['agency']} (expected the Department of Industry "
                f"and Trade {dept}), status {mine['status']}, forwarding {status.get('TrangThai')}",
            portal_code=portal_code, code=code)
    return v.failures

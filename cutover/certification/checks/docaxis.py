"""DOCAXIS: agency codes are published; documents to each commune are acknowledged; outgoing
edXML is valid (features/docaxis.feature)."""

from __future__ import annotations

from datetime import date

from cutover.flows.docaxis import AxisSession, document, send_document
from cutover.units import registry
from protocols.edxml import Organization, parse_edoc
from protocols.errors import ProtocolError

from ..registry import requirement
from ..session import CertSession
from .base import Verdicts


def ministry_session(session: CertSession) -> tuple[AxisSession, Organization]:
    ministry = registry().ministries()[0]
    system = ministry.code.rsplit(".", 1)[-1]
    secret = session.admins["docaxis"].tenant(system)["secret"]
    return AxisSession(session.urls["docaxis"], system, secret, session.http()), Organization(ministry.code,
                                                                                            ministry.name or "")


@requirement("DOCAXIS-1", scope="commune",
             title="the axis directory lists the province's People's Committee, departments and every commune")
def codes_published(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "DOCAXIS-1", province)
    axis, _ = ministry_session(session)
    published = {a.get("OrganId") for a in axis.agencies()}
    p = registry().province(province)
    wanted = [p.agency_code, *[d.code for d in p.departments]]
    missing = [c for c in wanted if c not in published]
    selected = set(session.units_of(province))
    for unit in registry().units(province):
        ok = unit.agency_code in published
        if not ok:
            missing.append(unit.agency_code)
        if unit in selected:
            v.judge(ok, f"{unit.agency_code} ({unit.name}) is not published on the axis", commune=unit.code)
    v.judge(not missing, f"{len(missing)} agency codes not published on the axis, e.g. {missing[:3]}")
    return v.failures


@requirement("DOCAXIS-2", scope="commune",
             title="a ministry's document to each commune is acknowledged with status packets 03 and 06")
def documents_acknowledged(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "DOCAXIS-2", province)
    axis, ministry = ministry_session(session)
    units = session.units_of(province)
    pkg = document(ministry, [Organization(u.agency_code, u.committee_name) for u in units],
                   subject=f"V/v kiểm thử trục liên thông - tỉnh {province}", number=province, notation="VPCP-KSTT",
                   when=date(2025, 6, 28))
    sent = send_document(axis, pkg)
    session.settle()
    history = axis.sent(sent["DocID"])["statusResult"]
    for unit in units:
        codes = [h["statusCode"] for h in history if h["fromCode"] == unit.agency_code]
        v.judge("03" in codes and "06" in codes, f"{unit.agency_code} answered with {codes or 'no status'}; "
                "expected 03 (received) then 06 (done)", commune=unit.code)
    return v.failures


@requirement("DOCAXIS-3", scope="province", title="a document the province sends on the axis is valid edXML")
def outgoing_edxml_valid(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "DOCAXIS-3", province)
    axis, ministry = ministry_session(session)
    sender = registry().province(province).agency_code
    try:
        answer = session.sut.send_document({"from": sender, "to": [ministry.organ_id],
                                            "subject": "Báo cáo kết quả vận hành chính quyền hai cấp"})
    except Exception as err:  # noqa: BLE001 - the system failing to send is the finding
        v.judge(False, f"the system could not send a document on the axis: {err}")
        return v.failures
    session.settle()
    received = [r for r in axis.received("edoc", state="all") if r.get("document") == answer.get("DocID")]
    if not received:
        v.judge(False, f"the ministry received nothing for docId {answer.get('DocID')}")
        return v.failures
    try:
        parse_edoc(axis.fetch(received[0]["id"]))
        v.judge(True, "")
    except ProtocolError as err:
        v.judge(False, f"the package is not valid edXML: {err}")
    return v.failures

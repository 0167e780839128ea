"""DOCAXIS: agency codes are published; documents to each commune are acknowledged; outgoing
edXML is valid; what the axis delivers that is invalid or not addressed to the province is refused
and changes nothing; every request the axis refused is a finding (features/docaxis.feature).

The hostile matrices (DOCAXIS-4, DOCAXIS-5) go through the axis's hostile mode
(`POST /_admin/docaxis/inject`): the axis validates what senders send, so only an injection can
put a broken package or a forged status packet in an inbox, as a broken or malicious sender would.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from lxml import etree

from clients.axis import AxisCallFailed, AxisSession, document, send_document, status_packet
from clients.driver import DriverError
from cutover.flows.docaxis import send_to_communes
from protocols.edxml import NS, EdocPackage, Organization, build_edoc, parse_edoc
from protocols.errors import ProtocolError
from refdata.units import registry

from ..registry import requirement
from ..session import CertSession
from .base import Verdicts, session_now
from .probes import NEVER_ISSUED, Watch, refusals


def ministry_session(session: CertSession, index: int = 0) -> tuple[AxisSession, Organization]:
    """The axis session of the `index`-th ministry (its own connected system) and its official name."""
    ministry = registry().ministries()[index]
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


FILTERED_FIELD = {("received", "agency"): "recipient", ("sent", "agency"): "sender",
                  ("received", "doc_id"): "doc_id", ("sent", "doc_id"): "doc_id"}


def filter_problems(kind: str, listing: Callable[..., list[dict[str, Any]]], everything: list[dict[str, Any]],
                    **filters: str) -> list[str]:
    """Whether the driver's `GET /cert/v1/documents/{kind}` honours its filters: the filtered answer must
    be exactly the documents of the unfiltered one (`everything`) that match them, in the same order and
    holding the same (a received document's status, a sent one's status packets)."""
    def key(d: dict[str, Any]) -> tuple[Any, ...]:  # a document and what it holds: the same in either answer
        if kind == "sent":
            return str(d.get("doc_id")), tuple((s.get("from"), s.get("code")) for s in d.get("statuses") or [])
        return str(d.get("doc_id")), str(d.get("recipient")), str(d.get("status"))
    got = [key(d) for d in listing(**filters)]
    want = [key(d) for d in everything if all(d.get(FILTERED_FIELD[kind, f]) == value for f, value in filters.items())]
    if got == want:
        return []
    query = "&".join(f"{f}={value}" for f, value in filters.items())
    return [f"GET /cert/v1/documents/{kind}?{query} answered {got or 'nothing'}, but the documents of its unfiltered "
            f"answer that match the filter are {want or 'none'}: a driver that does not apply its filters makes the "
            "checks judge the wrong records"]


@requirement("DOCAXIS-2", scope="commune",
             title="a ministry's document to each commune is acknowledged with status packets 03 and 06")
def documents_acknowledged(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "DOCAXIS-2", province)
    axis, ministry = ministry_session(session)
    units = session.units_of(province)
    try:
        sent = send_to_communes(axis, ministry.organ_id, ministry.organ_name, units,
                                subject=f"V/v kiểm thử trục liên thông - tỉnh {province}", number=province,
                                notation="VPCP-KSTT", when=date(2025, 6, 28))
    except AxisCallFailed as err:  # e.g. none of the communes' codes is published: nothing to deliver
        for unit in units:
            v.judge(False, f"the axis could not deliver the ministry's document to {unit.agency_code}: "
                    f"{axis_words(json.dumps(err.body, ensure_ascii=False))}", commune=unit.code)
        return v.failures
    pair = two_recipients(province)
    both_orders = [send_document(axis, document(ministry, [pair[i], pair[1 - i]], subject=f"V/v hai nơi nhận - {i}",
                                                number=f"{province}{i}", notation="VPCP-KSTT",
                                                when=date(2025, 6, 28)))["DocID"] for i in (0, 1)]
    session.settle()
    v.judge(not (problems := pair_problems(session, axis, pair, both_orders)),
            f"a document to two of the province's agencies: {'; '.join(problems)}")
    history = axis.sent(sent["DocID"])["statusResult"]
    listed: list[dict[str, Any]] = []
    try:  # records, not statuses: the system's own record of each delivery says what it answered
        listed = session.sut.received_documents()
        held: dict[tuple[str, str], str] | None = {(d["doc_id"], d["recipient"]): d["status"] for d in listed}
    except DriverError as err:
        held, unlisted = None, f"; the system does not list the documents it received: {err}"
    for unit in units:
        try:  # the checks that follow ask for one agency's or one document's records: the filters must hold
            filtered = [] if held is None else (
                filter_problems("received", session.sut.received_documents, listed, agency=unit.agency_code)
                + filter_problems("received", session.sut.received_documents, listed, doc_id=str(sent["DocID"]))
                + [p for never in NEVER_ISSUED
                   for p in filter_problems("received", session.sut.received_documents, listed, doc_id=never)])
        except DriverError as err:
            filtered = [f"the system does not list the documents {unit.agency_code} received: {err}"]
        codes = [h["statusCode"] for h in history if h["fromCode"] == unit.agency_code]
        problems = [] if "03" in codes and "06" in codes else [
            f"{unit.agency_code} answered with {codes or 'no status'}; expected 03 (received) then 06 (done)"]
        mine = None if held is None else held.get((sent["DocID"], unit.agency_code))
        if held is None:
            problems.append(unlisted.lstrip("; "))
        elif codes and mine != codes[-1]:
            problems.append(f"the system's record of the document received by {unit.agency_code} says status "
                            f"{mine or '(none: not listed)'}, but it answered {codes[-1]} on the axis")
        problems += filtered
        v.judge(not problems, "; ".join(problems), commune=unit.code)
    return v.failures


def two_recipients(province: str) -> list[Organization]:
    """Two agencies of the province (its People's Committee and its first department), in code order."""
    p = registry().province(province)
    department = p.departments[0]
    return sorted([Organization(p.agency_code, f"UBND {p.full_name}"),
                   Organization(department.code, department.name or department.code)], key=lambda o: o.organ_id)


def pair_problems(session: CertSession, axis: AxisSession, pair: list[Organization], doc_ids: list[Any]) -> list[str]:
    """Each of `doc_ids` (one document to both agencies of `pair`, in either order of their codes) must be
    recorded by the system once per recipient, each record at the status that recipient answered on the axis."""
    try:
        listed = session.sut.received_documents()
    except DriverError as err:
        return [f"the system does not list the documents it received: {err}"]
    problems = []
    for doc_id in doc_ids:
        history = axis.sent(doc_id)["statusResult"]
        for org in pair:
            codes = [h["statusCode"] for h in history if h["fromCode"] == org.organ_id]
            records = [d.get("status") for d in listed if d.get("doc_id") == doc_id and d.get("recipient") == org.organ_id]
            if not ("03" in codes and "06" in codes) or records != codes[-1:]:
                problems.append(f"docId {doc_id} to {org.organ_id}: answered {codes or 'no status'} on the axis "
                                f"(expected 03 then 06), the system's records of it say {records or 'nothing'} "
                                f"(expected one, at the status answered last)")
    return problems


@requirement("DOCAXIS-3", scope="province", title="a document the province sends on the axis is valid edXML")
def outgoing_edxml_valid(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "DOCAXIS-3", province)
    axis, ministry = ministry_session(session)
    sender = registry().province(province).agency_code
    subject, number, notation = "Báo cáo kết quả vận hành chính quyền hai cấp", "27", "BC-UBND"
    v.judge(not (problems := refused_sends(session, province, sender, ministry)),
            f"sending a document: {'; '.join(problems)}")
    try:
        answer = session.sut.send_document({"from": sender, "to": [ministry.organ_id], "subject": subject,
                                            "number": number, "notation": notation})
    except Exception as err:  # noqa: BLE001 - the system failing to send is the finding
        v.judge(False, f"the system could not send a document on the axis: {err}")
        return v.failures
    session.settle()
    received = [r for r in axis.received("edoc", state="all") if r.get("document") == answer.get("DocID")]
    if not received:
        v.judge(False, f"the ministry received nothing for docId {answer.get('DocID')}")
        return v.failures
    try:
        pkg = parse_edoc(axis.fetch(received[0]["id"]))
    except ProtocolError as err:
        v.judge(False, f"the package is not valid edXML: {err}")
        return v.failures
    published = {a.get("OrganId"): a.get("OrganName") for a in axis.agencies()}
    v.judge(not (problems := package_problems(pkg, sender, published.get(sender), [ministry], subject,
                                              f"{number}/{notation}")),
            f"the package the ministry received (docId {answer.get('DocID')}) is valid edXML but not the document "
            f"asked for: {'; '.join(problems)}", docId=answer.get("DocID"))
    return v.failures


def error_of(err: DriverError) -> dict[str, Any]:
    """The driver's `{"error": {...}}` answer, or {} when it is not one."""
    try:
        body = json.loads(err.body)
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def error_field(err: DriverError) -> Any:
    return error_of(err).get("field")


def refused_sends(session: CertSession, province: str, sender: str, ministry: Organization) -> list[str]:
    """A document with no recipient, or its recipient not in a list, is refused 400 naming `to` (the driver
    contract's `to` is an array, minItems 1); one the axis refuses (a fault the harness injects once) is
    answered 502 with the axis's answer in `error.detail.axis` (the contract); none is recorded as sent."""
    problems = []
    before = len(session.sut.sent_documents(agency=sender))
    for to, what in (([], "no recipient (to: [])"), (ministry.organ_id, "its recipient as a string, not a list")):
        try:
            session.sut.send_document({"from": sender, "to": to})
            problems.append(f"a document with {what} was accepted; expected 400 naming the field to "
                            f"(an array of codes, minItems 1)")
        except DriverError as err:
            if (err.status, error_field(err)) != (400, "to"):
                problems.append(f"a document with {what} was answered {err.status} {err.body[:200].strip()}; "
                                f"expected 400 naming the field to (an array of codes, minItems 1)")
    axis_admin = session.admins["docaxis"]
    fault = axis_admin.add_fault(action="error", method="POST", path="/api/edocs", tenant=province, count=1,
                                 status=503, message="axis maintenance")
    try:
        session.sut.send_document({"from": sender, "to": [ministry.organ_id], "subject": "V/v trục bảo trì"})
        problems.append("a document the axis refused (503, once) was answered as sent; expected 502")
    except DriverError as err:
        detail = error_of(err).get("detail")
        if err.status != 502 or not isinstance(detail, dict) or not detail.get("axis"):
            problems.append(f"a document the axis refused (503, once) was answered {err.status} "
                            f"{err.body[:200].strip()}; expected 502 with the axis's answer in error.detail.axis")
    finally:
        axis_admin._call("DELETE", f"/faults/{fault}")
    after = len(session.sut.sent_documents(agency=sender))
    if after != before:
        problems.append(f"the system lists {after - before} more sent document(s) after three refused sends; "
                        f"expected none")
    return problems


def package_problems(pkg: EdocPackage, sender: str, sender_name: str | None, recipients: list[Organization],
                     subject: str, code: str) -> list[str]:
    """Field by field, a package the system sent against what it was asked to send: the sender (its code,
    and the name it published on the axis), the recipients with their official names (refdata), the
    subject, the number and notation (số/ký hiệu)."""
    problems = []
    if pkg.sender.organ_id != sender:
        problems.append(f"From names {pkg.sender.organ_id}, expected {sender}")
    if sender_name is not None and pkg.sender.organ_name != sender_name:
        problems.append(f"From's OrganName is {pkg.sender.organ_name!r}, but {sender} is published on the axis as "
                        f"{sender_name!r}")
    got = [(o.organ_id, o.organ_name) for o in pkg.recipients]
    want = [(o.organ_id, o.organ_name) for o in recipients]
    if got != want:
        problems.append(f"the To list is {got}, expected {want} (each recipient's code and official name)")
    if pkg.subject != subject:
        problems.append(f"the Subject is {pkg.subject!r}, expected {subject!r}")
    if str(pkg.code) != code:
        problems.append(f"the number/notation (CodeNumber/CodeNotation) is {str(pkg.code)!r}, expected {code!r}")
    return problems


# --- DOCAXIS-4: what the axis delivers that is invalid or not addressed to the province ------------

WHEN_SENT = date(2025, 6, 28)


@dataclass(frozen=True)
class Delivery:
    """One variant of the received-packages matrix: the bytes and the agency code they land on."""

    name: str
    what: str
    to: str
    raw: bytes
    genuine: bool = False


def _drop(raw: bytes, element: str) -> bytes:
    """The package without its first `element` (a mandatory one: the schema then refuses it)."""
    root = etree.fromstring(raw)
    found = root.find(f".//{{{NS}}}{element}")
    if found is not None:
        found.getparent().remove(found)
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def package_variants(province: str, units: list[Any], ministry: Organization) -> list[Delivery]:
    """The genuine package and each way a delivered package can be wrong, spread over the communes."""
    p = registry().province(province)
    level1 = p.agency_code.rsplit(".", 1)[-1]
    foreign = next(u for u in registry().units() if u.province_code != province)
    unknown = f"999.99.99.{level1}"
    committee = Organization(p.agency_code, f"UBND {p.full_name}")

    def org(i: int) -> Organization:
        unit = units[i % len(units)]
        return Organization(unit.agency_code, unit.committee_name)

    def raw(name: str, to: Organization) -> bytes:
        return build_edoc(document(ministry, [to], subject=f"V/v kiểm thử trục liên thông ({name})",
                                   number=province, notation="VPCP-KSTT", when=WHEN_SENT))

    genuine = raw("genuine", org(0))
    return [
        Delivery("genuine", "the genuine package", org(0).organ_id, genuine, genuine=True),
        Delivery("malformed_xml", "a package that is not well-formed XML (cut short)", org(1).organ_id,
                 raw("malformed_xml", org(1))[:len(genuine) // 2]),
        Delivery("schema_invalid", "a package that fails the edXML schema (no SignerInfo)", org(2).organ_id,
                 _drop(raw("schema_invalid", org(2)), "SignerInfo")),
        Delivery("wrong_namespace", "a package in another namespace than QCVN 102:2016's", org(3).organ_id,
                 raw("wrong_namespace", org(3)).replace(NS.encode(), b"http://www.mic.gov.vn/TBT/edXML")),
        Delivery("foreign_agency", f"a package for {foreign.agency_code}, an agency of province "
                 f"{foreign.province_code}, delivered to this province's inbox", foreign.agency_code,
                 raw("foreign_agency", Organization(foreign.agency_code, foreign.committee_name))),
        Delivery("unknown_agency", f"a package for {unknown}, a code under {level1} that is none of the "
                 "province's agencies", unknown, raw("unknown_agency", Organization(unknown, "Không tồn tại"))),
        Delivery("not_in_to_list", f"a package whose To list names only {committee.organ_id}, delivered to "
                 f"{org(4).organ_id}", org(4).organ_id, raw("not_in_to_list", committee)),
    ]


def inject(session: CertSession, messagetype: str, sender: str, to: str, raw: bytes, system: str,
           **extra: Any) -> dict[str, Any]:
    """Have the axis deliver `raw` unchecked to `to` in `system`'s inbox (its hostile mode)."""
    body = {"messagetype": messagetype, "from": sender, "to": to, "system": system,
            "data": base64.b64encode(raw).decode("ascii"), **extra}
    answer: dict[str, Any] = session.admins["docaxis"].post("/docaxis/inject", body)
    return answer


def axis_system(axis: AxisSession, province: str) -> str:
    """The axis system that receives the province's documents (the one that published its codes)."""
    code = registry().province(province).agency_code
    found = next((a.get("System") for a in axis.agencies() if a.get("OrganId") == code), None)
    return str(found or province)


def received_view(session: CertSession) -> set[tuple[str, str, str]]:
    return {(d["doc_id"], d["recipient"], d["status"]) for d in session.sut.received_documents()}


def sent_view(session: CertSession) -> dict[str, list[tuple[str, str]]]:
    return {d["doc_id"]: [(s["from"], s["code"]) for s in d["statuses"]] for d in session.sut.sent_documents()}


def sent_added(before: dict[str, list[tuple[str, str]]],
               after: dict[str, list[tuple[str, str]]]) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """Status packets the system recorded since `before`, per document, and any other change in words."""
    added: dict[str, list[tuple[str, str]]] = {}
    other: list[str] = []
    for doc in sorted(set(before) | set(after)):
        was, now = before.get(doc), after.get(doc)
        if was is None:
            other.append(f"the system lists a sent document {doc} it did not send during the probe")
        elif now is None:
            other.append(f"the system no longer lists its sent document {doc}")
        elif now[:len(was)] != was:
            other.append(f"the system rewrote the statuses of its sent document {doc}: {was} -> {now}")
        elif len(now) > len(was):
            added[doc] = now[len(was):]
    return added, other


def _words(added: dict[str, list[tuple[str, str]]]) -> list[str]:
    return [f"it recorded status {code} from {sender} on its sent document {doc}"
            for doc, items in added.items() for sender, code in items]


def _delivery_state(axis: AxisSession, document_id: str, to: str) -> tuple[str | None, list[str]]:
    """The axis's view of one delivery: the recipient system's acknowledgement and the codes it answered."""
    history = axis.sent(document_id)
    ack = next((r.get("ack") for r in history["recipients"] if r["OrganId"] == to), None)
    answered = [h["statusCode"] for h in history["statusResult"] if h["fromCode"] == to and h["statusCode"] != "01"]
    return ack, answered


def judge_delivery(v: Verdicts, session: CertSession, axis: AxisSession, variant: Delivery,
                   answer: dict[str, Any]) -> None:
    records = session.sut.received_documents(doc_id=answer["document"])
    ack, answered = _delivery_state(axis, answer["document"], variant.to)
    evidence: dict[str, Any] = {"variant": variant.name, "delivered_to": variant.to, "knobstick": answer["docId"],
                                "document": answer["document"], "recorded": records, "ack": ack,
                                "answered": answered}
    if variant.genuine:
        taken = any(r["recipient"] == variant.to for r in records)
        ok = taken and ack == "done" and {"03", "06"} <= set(answered)
        v.judge(ok, f"{variant.what}, delivered to {variant.to} the same way as the wrong ones (then delivered "
                f"again, as when an acknowledgement is lost), was not taken in (recorded: {bool(taken)}, "
                f"acknowledgement: {ack}, answered: {answered or 'nothing'}); until it is, the refusals of this "
                "matrix prove nothing", **evidence)
        if ok:  # records, not statuses: what the system holds of it, field by field
            pkg = parse_edoc(variant.raw)
            want = {"doc_id": answer["document"], "recipient": variant.to, "sender": pkg.sender.organ_id,
                    "subject": pkg.subject, "status": answered[-1]}
            got = [{k: r.get(k) for k in want} for r in records]
            v.judge(got == [want], f"{variant.what}, delivered twice (the axis redelivered it): the system's "
                    f"record of it is {got}, expected {[want]} (one record: the package's sender and subject, and "
                    "the last status it answered on the axis)", **evidence)
        return
    problems = [f"the system recorded it as received by {r['recipient']} (status {r['status']})" for r in records]
    if ack == "done":
        problems.append("it acknowledged the delivery as taken (done)")
    if answered:
        problems.append(f"it answered with status packet(s) {', '.join(answered)} as if it were genuine")
    v.judge(not problems, f"{variant.what}: {'; '.join(problems)}", **evidence)


@requirement("DOCAXIS-4", scope="province",
             title="packages the axis delivers that are invalid or not addressed to the agency are refused")
def received_packages_refused(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "DOCAXIS-4", province)
    axis, ministry = ministry_session(session)
    variants = package_variants(province, session.units_of(province), ministry)
    system = axis_system(axis, province)
    watch = Watch(session, province)
    received, sent = received_view(session), sent_view(session)
    injected = [(d, inject(session, "edoc", ministry.organ_id, d.to, d.raw, system)) for d in variants]
    session.settle()
    for variant, answer in injected:  # the axis delivers the genuine one again, as when its ack is lost
        if variant.genuine:
            session.admins["docaxis"].post("/docaxis/redeliver", {"docId": answer["docId"]})
    session.settle()
    for variant, answer in injected:
        judge_delivery(v, session, axis, variant, answer)
    ours = {a["document"] for _, a in injected}
    stray = sorted(r for r in received_view(session) - received if r[0] not in ours)
    added, other = sent_added(sent, sent_view(session))
    problems = [f"the system recorded {doc} as received by {to} (status {st})" for doc, to, st in stray]
    v.findings(watch.changes() + problems + _words(added) + other, variant="nothing else changed")
    revoked_before_taken(v, session, axis, ministry, province)
    return v.failures


def revoked_before_taken(v: Verdicts, session: CertSession, axis: AxisSession, ministry: Organization,
                         province: str) -> None:
    """A ministry sends a commune a genuine document and revokes it (13) before the system takes it in: the
    system records it, accepts the revocation (15), and answers nothing else (a 03 after 13 is out of order).
    Not judged when the system answered 06 before the revocation reached the axis (a live system may be that
    quick; the axis then refuses the 13)."""
    unit = session.units_of(province)[0]
    to = Organization(unit.agency_code, unit.committee_name)
    pkg = document(ministry, [to], subject="V/v kiểm thử thu hồi văn bản", number=f"{province}13",
                   notation="VPCP-KSTT", when=WHEN_SENT)
    sent = send_document(axis, pkg)
    try:
        axis.send(status_packet(pkg, ministry, "13", session_now(session), "Thu hồi văn bản"),
                  ministry.organ_id, messagetype="status")
    except AxisCallFailed as err:
        v.judge(True, "", variant="revoked_before_taken", not_judged=f"the axis refused the revocation: {err.body}")
        return
    session.settle()
    records = session.sut.received_documents(doc_id=sent["DocID"])
    ack, answered = _delivery_state(axis, sent["DocID"], to.organ_id)
    got = [(r["recipient"], r["status"]) for r in records]
    problems = []
    if got != [(to.organ_id, "15")]:
        problems.append(f"the system's record of it is {got}, expected [({to.organ_id!r}, '15')]")
    if ack != "done":
        problems.append(f"its delivery was acknowledged {ack!r}, not done")
    if answered != ["15"]:
        problems.append(f"{to.organ_id} answered {answered or 'nothing'} on the axis, expected 15 alone")
    v.findings([f"a document revoked (13) before the system took it in: {'; '.join(problems)}"] if problems else [],
               variant="revoked_before_taken", document=sent["DocID"], recorded=records, ack=ack, answered=answered)


# --- DOCAXIS-5: status packets about documents it never sent, from non-recipients, unknown codes -----

@dataclass(frozen=True)
class StatusVariant:
    """One status packet of the matrix: `expected` is what the system must then record (genuine ones:
    {doc: [(from, code)]}), None for a wrong one; `ack` whether its acknowledgement is judged."""

    name: str
    what: str
    send: Callable[[], dict[str, Any]]
    expected: dict[str, list[tuple[str, str]]] | None = None
    ack: bool = True


def status_variants(session: CertSession, axis: AxisSession, pkg: EdocPackage, doc_id: str,
                    recipients: list[tuple[AxisSession, Organization]], system: str,
                    province: str) -> list[StatusVariant]:
    """The genuine status packets (sent through the axis by the document's two recipients, with different
    codes) and each way one can be wrong."""
    (_, ministry), (second_axis, second) = recipients
    outsider = next(Organization(m.code, m.name or m.code) for m in registry().ministries()
                    if m.code not in {ministry.organ_id, second.organ_id})
    foreign = next(u for u in registry().units() if u.province_code != province)
    sender = pkg.sender.organ_id
    never = replace(pkg, document_id=f"{sender},{pkg.promulgation.promulgation_date:%Y/%m/%d},{pkg.code},"
                                     f"{uuid.uuid4().hex[:8]}")
    theirs_sender = Organization(foreign.agency_code, foreign.committee_name)
    # the province's own agencies that did not send it: one before and one after the sender in code order, so
    # that neither an `equals` nor an ordered comparison of the sender can pass for the match the packet needs
    ours = sorted({registry().province(province).agency_code, *(u.agency_code for u in registry().units(province))})
    claimed = [c for c in (ours[0], ours[-1]) if c != sender]
    theirs = replace(pkg, sender=theirs_sender, document_id=f"{foreign.agency_code},"
                     f"{pkg.promulgation.promulgation_date:%Y/%m/%d},{pkg.code},{uuid.uuid4().hex[:8]}")
    at = session_now(session).replace(microsecond=0)

    def packet(about: EdocPackage, author: Organization, code: str) -> bytes:
        return status_packet(about, author, code, at, "Kiểm thử trạng thái văn bản")

    def hostile(author: Organization, raw: bytes, **extra: Any) -> Callable[[], dict[str, Any]]:
        return lambda: inject(session, "status", author.organ_id, sender, raw, system, **extra)

    def genuine(by: AxisSession, author: Organization, code: str) -> Callable[[], dict[str, Any]]:
        return lambda: by.send(packet(pkg, author, code), author.organ_id, messagetype="status")

    # The genuine packets: the same code from both recipients, in both orders (03: the second recipient first;
    # 06: the first one first), so that a status is never taken for another recipient's already recorded.
    return [
        StatusVariant("genuine_second_recipient", f"the genuine status 03 from {second.organ_id}, the document's "
                      "second recipient", genuine(second_axis, second, "03"), expected={doc_id: [(second.organ_id, "03")]}),
        StatusVariant("genuine", f"the genuine status 03 from {ministry.organ_id}, after {second.organ_id}'s",
                      genuine(axis, ministry, "03"), expected={doc_id: [(ministry.organ_id, "03")]}),
        StatusVariant("genuine_done", f"the genuine status 06 from {ministry.organ_id}, after its 03",
                      genuine(axis, ministry, "06"), expected={doc_id: [(ministry.organ_id, "06")]}),
        StatusVariant("genuine_second_done", f"the genuine status 06 from {second.organ_id}, after "
                      f"{ministry.organ_id}'s", genuine(second_axis, second, "06"),
                      expected={doc_id: [(second.organ_id, "06")]}),
        StatusVariant("repeated", f"the genuine status 03 from {ministry.organ_id} delivered again by the axis "
                      "(at-least-once delivery: it is recorded once)",
                      hostile(ministry, packet(pkg, ministry, "03"), document=doc_id, StatusCode="03"), ack=False),
        StatusVariant("never_sent", f"a status 06 from {ministry.organ_id} about DocumentId {never.document_id}, "
                      f"which the system never sent (same number/notation {pkg.code} and date as one it did)",
                      hostile(ministry, packet(never, ministry, "06"))),
        StatusVariant("other_agency_document", f"a status 06 from {ministry.organ_id} about DocumentId "
                      f"{theirs.document_id}, a document {foreign.agency_code} (an agency of province "
                      f"{foreign.province_code}) sent, delivered to {sender}",
                      hostile(ministry, packet(theirs, ministry, "06"))),
        *[StatusVariant(f"sender_mismatch_{i + 1}", f"a status 06 from {ministry.organ_id} whose ResponseFor names "
                        f"{code}, another agency of the province, as the sender of DocumentId {pkg.document_id}, "
                        f"which {sender} sent", hostile(ministry, packet(replace(pkg, sender=Organization(code, code)),
                                                                         ministry, "06"), document=doc_id))
          for i, code in enumerate(claimed)],
        StatusVariant("not_a_recipient", f"a status 06 from {outsider.organ_id}, which was not a recipient of the "
                      "document", hostile(outsider, packet(pkg, outsider, "06"), document=doc_id)),
        StatusVariant("after_final", f"a status 15 (revocation accepted) from {ministry.organ_id}, after its final "
                      f"06, about a document the system never revoked",
                      hostile(ministry, packet(pkg, ministry, "15"), document=doc_id, StatusCode="15")),
        StatusVariant("after_final_processing", f"a status 05 (processing) from {ministry.organ_id} after its final "
                      "06", hostile(ministry, packet(pkg, ministry, "05"), document=doc_id, StatusCode="05")),
        StatusVariant("never_revoked", f"a status 16 (revocation refused) from {second.organ_id} about a document "
                      f"the system never revoked", hostile(second, packet(pkg, second, "16"), document=doc_id,
                                                             StatusCode="16")),
        StatusVariant("unknown_code", f"a status packet from {ministry.organ_id} with the unknown StatusCode 99",
                      hostile(ministry, packet(pkg, ministry, "06").replace(b">06<", b">99<"), document=doc_id,
                              StatusCode="99")),
    ]


def _sent_document(session: CertSession, v: Verdicts, sender: str,
                   recipients: list[Organization]) -> tuple[str, dict[str, list[tuple[str, str]]]] | None:
    """The system sends a document to the recipients; its DocID and the system's view of what it sent
    (whose filters, by sending agency and by document, must hold)."""
    try:
        answer = session.sut.send_document({"from": sender, "to": [r.organ_id for r in recipients], "number": "5",
                                            "subject": "Báo cáo tình hình tiếp nhận văn bản"})
        session.settle()
        doc_id = str(answer["DocID"])
        listed = session.sut.sent_documents()
        problems = (filter_problems("sent", session.sut.sent_documents, listed, agency=sender)
                    + filter_problems("sent", session.sut.sent_documents, listed, doc_id=doc_id)
                    + [p for never in NEVER_ISSUED
                       for p in filter_problems("sent", session.sut.sent_documents, listed, doc_id=never)])
        if problems:
            v.judge(False, "; ".join(problems), variant="setup")
            return None
        return doc_id, sent_view(session)
    except DriverError as err:
        v.judge(False, f"the driver could not send a document or list the sent ones ({err}); the status packets "
                "the system receives cannot be judged without GET /cert/v1/documents/sent", variant="setup")
    except Exception as err:  # noqa: BLE001 - the system failing to send is the finding
        v.judge(False, f"the system could not send a document on the axis: {err}", variant="setup")
    return None


def message_ack(session: CertSession, knob_id: Any) -> str | None:
    """How the receiving system acknowledged one message the axis delivered (pending, done, fail)."""
    if not knob_id:
        return None
    state: dict[str, Any] = session.admins["docaxis"].get(f"/docaxis/messages/{knob_id}")
    return str(state.get("ack"))


@requirement("DOCAXIS-5", scope="province",
             title="status packets about a document the system never sent or another agency's, from a "
                   "non-recipient or with an unknown code change nothing")
def status_packets_refused(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "DOCAXIS-5", province)
    recipients = [ministry_session(session, 0), ministry_session(session, 1)]
    axis = recipients[0][0]
    units = session.units_of(province)  # a commune's committee sends (DOCAXIS-3 sends as the province's)
    sender = units[0].agency_code if units else registry().province(province).agency_code
    sent = _sent_document(session, v, sender, [org for _, org in recipients])
    if sent is None:
        return v.failures
    doc_id, before = sent
    pkg = parse_edoc(axis.fetch(doc_id))
    watch = Watch(session, province)
    received = received_view(session)
    for variant in status_variants(session, axis, pkg, doc_id, recipients, axis_system(axis, province), province):
        try:
            answer = variant.send()
            session.settle()
        except DriverError as err:  # the system failing on a packet is the finding, not a crash of the check
            v.judge(False, f"{variant.what}: the system failed while taking it in: {err}", variant=variant.name)
            continue
        after = sent_view(session)
        added, other = sent_added(before, after)
        before = after
        ack = message_ack(session, answer.get("docId")) if variant.ack else None
        evidence: dict[str, Any] = {"variant": variant.name, "knobstick": answer.get("docId"), "document": doc_id,
                                    "recorded": {d: [list(x) for x in items] for d, items in added.items()},
                                    "other": other, "ack": ack}
        if variant.expected is not None:
            problems = [] if added == variant.expected and not other else [
                f"it was not recorded as the only change (recorded: {'; '.join(_words(added)) or 'nothing'}"
                f"{'; ' + '; '.join(other) if other else ''})"]
            if variant.ack and ack != "done":
                problems.append(f"the system acknowledged it {ack}, not done")
            v.judge(not problems, f"{variant.what}: {'; '.join(problems)}; until it is taken, the refusals of this "
                    "matrix prove nothing", **evidence)
        else:
            problems = _words(added) + other
            if ack == "done":
                problems.append("it acknowledged the packet as taken (done)")
            v.judge(not problems, f"{variant.what}: {'; '.join(problems)}", **evidence)
    stray = sorted(received_view(session) - received)
    problems = [f"the system recorded {doc} as received by {to} (status {st})" for doc, to, st in stray]
    v.findings(watch.changes() + problems, variant="nothing else changed")
    return v.failures


# --- DOCAXIS-6: every request of the system the axis refused is a finding --------------------------

def axis_words(message: str) -> str:
    """The axis's own words from its envelope (`ErrorCode`, `ErrorDesc`, `field`), else the message."""
    try:
        body = json.loads(message)
    except ValueError:
        return message
    if not isinstance(body, dict) or "ErrorDesc" not in body:
        return message
    field = f" (field {body['field']})" if body.get("field") else ""
    return f"{body.get('ErrorCode')}: {body['ErrorDesc']}{field}"


@requirement("DOCAXIS-6", scope="province", final=True,
             title="the axis refused none of the system's requests during the run")
def axis_refusals(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "DOCAXIS-6", province)
    found = refusals(session, province, "docaxis", paths=("/api/",))
    for r in found:
        v.judge(False, f"the axis refused {r.method} {r.path} (HTTP {r.status}): {axis_words(r.message)}",
                method=r.method, path=r.path, status=r.status, ward=r.commune, docId=r.ma_ho_so, at=r.at)
    if not found:
        v.judge(True, "")
    return v.failures

"""The province's document-axis client: publishes its agency codes, takes in documents addressed
to any of its agencies (acknowledging them and answering with status packets 03 then 06),
and sends documents on behalf of any of its agencies.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from cutover.flows.docaxis import AxisCallFailed, AxisSession, document, status_packet
from cutover.units import registry
from mocks.core.clock import iso
from mocks.core.errors import BadRequest, ServiceError
from protocols.edxml import Organization, build_edoc, parse_edoc
from protocols.errors import ProtocolError

from . import tables as t


class AxisClient:
    def __init__(self, system: Any) -> None:
        self.system = system
        cfg = system.ctx.config
        self.base_url = cfg["DOCAXIS_URL"]
        self.sessions = {p: AxisSession(self.base_url, s.axis_system, s.axis_secret, system.ctx.http)
                         for p, s in system.settings.items()}

    @property
    def defects(self) -> frozenset[str]:
        defects: frozenset[str] = self.system.defects
        return defects

    def organizations(self, province: str) -> dict[str, Organization]:
        p = registry().province(province)
        orgs = {p.agency_code: Organization(p.agency_code, f"UBND {p.full_name}")}
        orgs.update({d.code: Organization(d.code, d.name) for d in p.departments})
        orgs.update({u.agency_code: Organization(u.agency_code, u.committee_name) for u in registry().units(province)})
        return orgs

    def publish(self, province: str) -> None:
        orgs = list(self.organizations(province).values())
        if "axis_codes_unpublished" in self.defects:
            p = registry().province(province)
            orgs = [o for o in orgs if o.organ_id == p.agency_code or o.organ_id in {d.code for d in p.departments}]
        self.sessions[province].publish([{"OrganId": o.organ_id, "OrganName": o.organ_name} for o in orgs])

    def poll(self, province: str) -> dict[str, int]:
        """Take in what arrived: acknowledge, record, answer 03 then 06; accept revocations (15)."""
        if not self.system.bootstrap_state().get(province, {}).get("axis_publish", {}).get("done_at"):
            return {"skipped": 1}
        session = self.sessions[province]
        orgs = self.organizations(province)
        counts = {"documents": 0, "statuses": 0}
        for item in session.received("edoc"):
            raw = session.fetch(item["id"])
            try:
                pkg = parse_edoc(raw)
            except ProtocolError:
                session.ack(item["id"], "fail")
                continue
            recipient = item["to"]
            with self.system.ctx.store.begin() as conn:
                exists = conn.execute(sa.select(t.axis_received.c.id).where(
                    t.axis_received.c.doc_id == item["document"], t.axis_received.c.recipient == recipient)).first()
                if exists is None:
                    conn.execute(t.axis_received.insert().values(
                        doc_id=item["document"], recipient=recipient, sender=item["from"], subject=pkg.subject,
                        status="01", received_at=iso(self.system.ctx.clock.now())))
            counts["documents"] += 1
            if "no_axis_ack" in self.defects:
                continue
            session.ack(item["id"], "done")
            author = orgs.get(recipient, Organization(recipient, recipient))
            for code, text in (("03", "Đã tiếp nhận văn bản"), ("06", "Đã hoàn thành xử lý văn bản")):
                session.send(status_packet(pkg, author, code, self.system.ctx.clock.now(), text), recipient,
                             messagetype="status")
                with self.system.ctx.store.begin() as conn:
                    conn.execute(t.axis_received.update().where(
                        t.axis_received.c.doc_id == item["document"], t.axis_received.c.recipient == recipient)
                        .values(status=code))
        for item in session.received("status"):
            counts["statuses"] += 1
            if item.get("StatusCode") == "13" and "no_axis_ack" not in self.defects:
                try:
                    original = parse_edoc(session.fetch(item["document"]))
                    author = orgs.get(item["to"], Organization(item["to"], item["to"]))
                    session.send(status_packet(original, author, "15", self.system.ctx.clock.now(),
                                               "Đồng ý thu hồi văn bản"), item["to"], messagetype="status")
                except (AxisCallFailed, ProtocolError):
                    pass
            session.ack(item["id"], "done")
        return counts

    def send(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send a document from one of our agencies (the certification driver's `POST /documents`)."""
        sender = body.get("from")
        recipients = body.get("to")
        if not isinstance(sender, str):
            raise BadRequest("expected the sending agency's code", field="from")
        if not isinstance(recipients, list) or not recipients or not all(isinstance(r, str) for r in recipients):
            raise BadRequest("expected a list of recipient agency codes", field="to")
        province = next((p for p in self.sessions if sender.endswith(f"H{p}")), None)
        if province is None or sender not in self.organizations(province):
            raise BadRequest(f"{sender} is not an agency of a province this system hosts", field="from")
        sender_org = self.organizations(province)[sender]
        names: dict[str, str] = {a.code: a.name or a.code for a in registry().all_agencies()}
        pkg = document(sender_org, [Organization(r, names.get(r) or r) for r in recipients],
                       subject=str(body.get("subject") or "Văn bản thử nghiệm liên thông"),
                       number=str(body.get("number") or "1"), notation=str(body.get("notation") or "UBND-VP"),
                       when=date.today())
        raw = build_edoc(pkg)
        if "invalid_edxml" in self.defects:
            raw = raw.replace(sender.encode(), sender.replace(".", "-").encode(), 1)  # a malformed OrganId
        try:
            answer = self.sessions[province].send(raw, sender)
        except AxisCallFailed as err:
            raise ServiceError(f"the axis refused the document: {err.body}", field="docaxis", status=502,
                               detail={"axis": err.body}) from None
        with self.system.ctx.store.begin() as conn:
            conn.execute(t.axis_sent.insert().values(doc_id=answer["DocID"], sender=sender, recipients=recipients,
                                                     subject=pkg.subject, answer=answer,
                                                     sent_at=iso(self.system.ctx.clock.now())))
        return answer

    def received(self, agency: str | None, doc_id: str | None) -> list[dict[str, Any]]:
        stmt = sa.select(t.axis_received).order_by(t.axis_received.c.id)
        if agency:
            stmt = stmt.where(t.axis_received.c.recipient == agency)
        if doc_id:
            stmt = stmt.where(t.axis_received.c.doc_id == doc_id)
        with self.system.ctx.store.read() as conn:
            return [{"doc_id": r.doc_id, "recipient": r.recipient, "sender": r.sender, "subject": r.subject,
                     "status": r.status, "received_at": r.received_at} for r in conn.execute(stmt)]

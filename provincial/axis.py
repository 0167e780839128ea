"""The province's document-axis client: publishes its agency codes, takes in documents addressed
to any of its agencies (acknowledging them and answering with status packets 03 then 06),
sends documents on behalf of any of its agencies and records the status packets their recipients
answer.

What it takes in it checks itself, whatever the axis lists: a package must be valid edXML, be
delivered to one of the province's agencies and name that agency in its To list; a status packet
must be valid, be about a document we sent (its ResponseFor's sender and DocumentId) and come from
one of that document's recipients. Anything else is acknowledged `fail` and changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from clients.axis import AxisCallFailed, AxisSession, document, status_packet
from mocks.core.clock import iso
from mocks.core.errors import BadRequest, ServiceError
from protocols.edxml import (
    EdocPackage,
    Organization,
    StatusCode,
    StatusPacket,
    build_edoc,
    check_transition,
    parse_edoc,
    parse_status,
)
from protocols.errors import ProtocolError
from refdata.units import registry

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
        """Take in what arrived: documents (acknowledge, record, answer 03 then 06) and status packets
        (record them on the document we sent; accept revocations with 15). Anything invalid or not
        addressed to us is acknowledged `fail` and left alone (and skipped on later polls)."""
        if not self.system.bootstrap_state().get(province, {}).get("axis_publish", {}).get("done_at"):
            return {"skipped": 1}
        session = self.sessions[province]
        orgs = self.organizations(province)
        counts = {"documents": 0, "statuses": 0, "refused": 0}
        taken_in: list[tuple[dict[str, Any], EdocPackage]] = []
        for item in session.received("edoc"):  # recorded and acknowledged first, answered last
            if item.get("ack") != "fail":
                pkg = self._take_document(session, orgs, item)
                counts["documents" if pkg is not None else "refused"] += 1
                if pkg is not None and "answered_before_revocations" in self.defects:
                    self._answer(session, orgs, item, pkg)  # answered at once: a 13 already waiting comes after
                elif pkg is not None:
                    taken_in.append((item, pkg))
        for item in session.received("status"):  # a revocation sent before we polled moves the record to 15
            if item.get("ack") != "fail":
                taken = self._take_status(session, orgs, item)
                counts["statuses" if taken else "refused"] += 1
        for item, pkg in taken_in:
            self._answer(session, orgs, item, pkg)
        return counts

    def _record(self, item: dict[str, Any], subject: str | None) -> None:
        """Record a document delivered to one of our agencies, once (the axis delivers it again when our
        acknowledgement was lost)."""
        with self.system.ctx.store.begin() as conn:
            exists = conn.execute(sa.select(t.axis_received.c.status).where(
                t.axis_received.c.doc_id == item["document"], t.axis_received.c.recipient == item["to"])).first()
            if "axis_received_once_per_document" in self.defects:  # de-duplicated by document alone
                exists = exists or conn.execute(sa.select(t.axis_received.c.status).where(
                    t.axis_received.c.doc_id == item["document"])).first()
            if exists is not None and "axis_redelivery_taken_as_new" in self.defects:  # its record starts over
                conn.execute(t.axis_received.update().where(
                    t.axis_received.c.doc_id == item["document"], t.axis_received.c.recipient == item["to"])
                    .values(subject=subject, status="01", received_at=iso(self.system.ctx.clock.now())))
            elif exists is None:
                conn.execute(t.axis_received.insert().values(
                    doc_id=item["document"], recipient=item["to"], sender=item["from"], subject=subject,
                    status="01", received_at=iso(self.system.ctx.clock.now())))

    def _misaddressed(self, pkg: EdocPackage, recipient: str, orgs: dict[str, Organization]) -> str | None:
        """Why a document delivered to `recipient` is not ours to take, or None."""
        if recipient not in orgs and "axis_recipient_unchecked" not in self.defects:
            return f"{recipient} is not one of the province's agencies"
        if recipient not in {r.organ_id for r in pkg.recipients} and "axis_to_list_unchecked" not in self.defects:
            return f"the package's To list does not name {recipient}"
        return None

    def _take_document(self, session: AxisSession, orgs: dict[str, Organization],
                       item: dict[str, Any]) -> EdocPackage | None:
        """Record and acknowledge a delivered package; the package when taken (answered later), else None."""
        if "axis_records_invalid_packages" in self.defects:
            self._record(item, item.get("Subject"))  # recorded on arrival, before the package is checked
        try:
            pkg = parse_edoc(session.fetch(item["id"]))
        except ProtocolError:
            session.ack(item["id"], "fail")
            return None
        recipient = item["to"]
        if self._misaddressed(pkg, recipient, orgs) is not None:
            session.ack(item["id"], "fail")
            return None
        self._record(item, pkg.subject)
        if "no_axis_ack" not in self.defects:
            session.ack(item["id"], "done")
        return pkg

    def _answer(self, session: AxisSession, orgs: dict[str, Organization], item: dict[str, Any],
                pkg: EdocPackage) -> None:
        """Answer 03 then 06 on a document taken in, from the status its record holds: nothing for one
        answered on an earlier delivery (a redelivery) or revoked meanwhile (15)."""
        if "no_axis_ack" in self.defects:
            return
        recipient = item["to"]
        with self.system.ctx.store.read() as conn:
            answered = conn.execute(sa.select(t.axis_received.c.status).where(
                t.axis_received.c.doc_id == item["document"], t.axis_received.c.recipient == recipient)).scalar()
        if answered not in ("01", "03"):
            return
        author = orgs.get(recipient, Organization(recipient, recipient))
        for code, text in (("03", "Đã tiếp nhận văn bản"), ("06", "Đã hoàn thành xử lý văn bản")):
            if code <= answered:
                continue  # answered on an earlier delivery of the same document
            try:
                session.send(status_packet(pkg, author, code, self.system.ctx.clock.now(), text), recipient,
                             messagetype="status")
            except AxisCallFailed:
                break  # the axis's refusal is in its journal; the document stays at the last status answered
            with self.system.ctx.store.begin() as conn:
                conn.execute(t.axis_received.update().where(
                    t.axis_received.c.doc_id == item["document"], t.axis_received.c.recipient == recipient)
                    .values(status=code))

    def _take_status(self, session: AxisSession, orgs: dict[str, Organization], item: dict[str, Any]) -> bool:
        if "axis_status_from_listing" in self.defects:  # the axis's listing believed; the packet never read
            taken = self._apply_listed(item)
            session.ack(item["id"], "done" if taken else "fail")
            return taken
        try:
            st = parse_status(session.fetch(item["id"]))
        except (ProtocolError, AxisCallFailed):
            session.ack(item["id"], "fail")
            return False
        if st.status_code is StatusCode.REVOKED:
            self._accept_revocation(session, orgs, item)
            taken = True
        else:
            taken = self._apply_status(st, orgs)
        session.ack(item["id"], "done" if taken else "fail")
        return taken

    def _accept_revocation(self, session: AxisSession, orgs: dict[str, Organization], item: dict[str, Any]) -> None:
        if "no_axis_ack" in self.defects:
            return
        try:
            original = parse_edoc(session.fetch(item["document"]))
            author = orgs.get(item["to"], Organization(item["to"], item["to"]))
            session.send(status_packet(original, author, "15", self.system.ctx.clock.now(),
                                       "Đồng ý thu hồi văn bản"), item["to"], messagetype="status")
        except (AxisCallFailed, ProtocolError):
            return
        with self.system.ctx.store.begin() as conn:  # revoked: nothing more is answered on it
            conn.execute(t.axis_received.update().where(
                t.axis_received.c.doc_id == item["document"], t.axis_received.c.recipient == item["to"])
                .values(status="15"))

    def _apply_status(self, st: StatusPacket, orgs: dict[str, Organization]) -> bool:
        """Record a recipient's status on the document we sent that its ResponseFor names; False when
        the packet is about no document of ours, or comes from an agency that was not a recipient."""
        rf = st.response_for
        if rf.organ_id not in orgs:
            if "axis_foreign_status_acknowledged" in self.defects:  # noqa: SIM103 - a switch's branch, kept apart
                return True  # acknowledged as taken, though nothing is recorded
            return False
        with self.system.ctx.store.read() as conn:
            ours = list(conn.execute(sa.select(t.axis_sent).where(t.axis_sent.c.sender == rf.organ_id)))
        if "axis_status_matched_by_code" in self.defects:  # số/ký hiệu and date: they repeat across documents
            targets = [r for r in ours if r.code == rf.code
                       and r.promulgation_date == rf.promulgation_date.isoformat()]
        else:
            targets = [r for r in ours if (r.answer or {}).get("DocumentId") == rf.document_id]
        author = st.sender.organ_id
        if "axis_status_sender_unchecked" not in self.defects:
            targets = [r for r in targets if author in (r.recipients or [])]
        if "axis_status_order_unchecked" not in self.defects:
            targets = [r for r in targets if self._follows(r.doc_id, author, st.status_code)]
        for row in targets:
            self._store_status(row.doc_id, author, st.status_code.value, st.timestamp.isoformat())
        return bool(targets)

    def _follows(self, doc_id: str, recipient: str, code: StatusCode) -> bool:
        """Whether `code` may follow what `recipient` said of the document so far (edXML transitions): nothing
        after a final status (02, 06, 15), and a 15 or 16 only answers a revocation (13), which this system
        never sends. The same code again is a redelivery: taken, recorded once."""
        with self.system.ctx.store.read() as conn:
            codes = [c for (c,) in conn.execute(sa.select(t.axis_sent_status.c.code).where(
                t.axis_sent_status.c.doc_id == doc_id, t.axis_sent_status.c.recipient == recipient)
                .order_by(t.axis_sent_status.c.id))]
        if code.value in codes:
            return True
        if not codes or codes[-1] == StatusCode.ARRIVED.value:
            return code not in (StatusCode.REVOKE_ACCEPTED, StatusCode.REVOKE_REFUSED)
        try:
            check_transition(codes[-1], code)
        except ProtocolError:
            return False
        return True

    def _apply_listed(self, item: dict[str, Any]) -> bool:
        """`axis_status_from_listing`: the status as the axis's listing shows it, on the document it names."""
        with self.system.ctx.store.read() as conn:
            row = conn.execute(sa.select(t.axis_sent).where(t.axis_sent.c.doc_id == item["document"])).first()
        if row is None or item["from"] not in (row.recipients or []):
            return False
        self._store_status(row.doc_id, item["from"], str(item["StatusCode"]), item.get("Timestamp"))
        return True

    def _store_status(self, doc_id: str, recipient: str, code: str, event_at: str | None) -> None:
        with self.system.ctx.store.begin() as conn:
            seen = conn.execute(sa.select(t.axis_sent_status.c.id).where(
                t.axis_sent_status.c.doc_id == doc_id, t.axis_sent_status.c.recipient == recipient,
                t.axis_sent_status.c.code == code)).first()
            if seen is None:
                conn.execute(t.axis_sent_status.insert().values(
                    doc_id=doc_id, recipient=recipient, code=code, event_at=event_at,
                    received_at=iso(self.system.ctx.clock.now())))

    def send(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send a document from one of our agencies (the certification driver's `POST /documents`)."""
        sender = body.get("from")
        recipients = body.get("to")
        if not isinstance(sender, str):
            raise BadRequest("expected the sending agency's code", field="from")
        if "axis_send_recipients_unchecked" in self.defects and recipients:
            recipients = list(recipients)  # taken as given: a string is taken as a list of its characters
        elif not isinstance(recipients, list) or not recipients or not all(isinstance(r, str) for r in recipients):
            raise BadRequest("expected a list of recipient agency codes", field="to")
        province = next((p for p in self.sessions if sender.endswith(f"H{p}")), None)
        if province is None or sender not in self.organizations(province):
            raise BadRequest(f"{sender} is not an agency of a province this system hosts", field="from")
        sender_org = self.organizations(province)[sender]
        names: dict[str, str] = {a.code: a.name or a.code for a in registry().all_agencies()}
        if "axis_recipients_named_by_code" in self.defects:
            names = {}  # each recipient named by its code
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
            if "axis_refusal_crashes" in self.defects:
                raise  # unhandled: the driver answers 500, the axis's answer lost
            raise ServiceError(f"the axis refused the document: {err.body}", field="docaxis", status=502,
                               detail={"axis": err.body}) from None
        with self.system.ctx.store.begin() as conn:
            conn.execute(t.axis_sent.insert().values(doc_id=answer["DocID"], sender=sender, recipients=recipients,
                                                     subject=pkg.subject, answer=answer,
                                                     sent_at=iso(self.system.ctx.clock.now()), code=str(pkg.code),
                                                     promulgation_date=pkg.promulgation.promulgation_date.isoformat()))
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

    def sent(self, agency: str | None, doc_id: str | None) -> list[dict[str, Any]]:
        """The documents we sent, each with the status packets its recipients answered (in order)."""
        stmt = sa.select(t.axis_sent).order_by(t.axis_sent.c.sent_at, t.axis_sent.c.doc_id)
        if agency:
            stmt = stmt.where(t.axis_sent.c.sender == agency)
        if doc_id:
            stmt = stmt.where(t.axis_sent.c.doc_id == doc_id)
        if "axis_sent_filters_ignored" in self.defects:
            stmt = sa.select(t.axis_sent).order_by(t.axis_sent.c.sent_at, t.axis_sent.c.doc_id)  # every document
        with self.system.ctx.store.read() as conn:
            docs = list(conn.execute(stmt))
            statuses = list(conn.execute(sa.select(t.axis_sent_status).where(
                t.axis_sent_status.c.doc_id.in_([d.doc_id for d in docs])).order_by(t.axis_sent_status.c.id)))
        return [{"doc_id": d.doc_id, "document_id": (d.answer or {}).get("DocumentId"), "sender": d.sender,
                 "recipients": d.recipients, "subject": d.subject, "sent_at": d.sent_at,
                 "statuses": [{"from": s.recipient, "code": s.code, "timestamp": s.event_at,
                               "received_at": s.received_at} for s in statuses if s.doc_id == d.doc_id]}
                for d in docs]

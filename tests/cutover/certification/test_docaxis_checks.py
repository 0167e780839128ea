"""The DOCAXIS hostile matrices judged variant by variant, beyond what the meta-test shows (it only
says which check family fails): each new defect switch fails exactly the variants it should, the
genuine controls make a system that ignores everything fail, anything else that changes is caught,
and DOCAXIS-6 quotes the axis's refusals of the system, never the harness's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from clients.driver import DriverError
from cutover.certification.checks.docaxis import (
    axis_refusals,
    documents_acknowledged,
    ministry_session,
    outgoing_edxml_valid,
    received_packages_refused,
    status_packets_refused,
)
from cutover.certification.results import FAILED, PASSED
from cutover.certification.selection import resolve
from cutover.certification.session import CertSession, SessionOptions, open_session
from protocols.edxml import Organization
from provincial import axis as provincial_axis
from provincial import tables
from provincial.axis import AxisClient

PROVINCE = "12"
PACKAGES = {"genuine", "malformed_xml", "schema_invalid", "wrong_namespace", "foreign_agency", "unknown_agency",
            "not_in_to_list", "nothing else changed", "revoked_before_taken"}
OUT_OF_ORDER = {"after_final", "after_final_processing", "never_revoked"}
GENUINE_STATUSES = {"genuine", "genuine_second_recipient", "genuine_done", "genuine_second_done"}
STATUSES = GENUINE_STATUSES | {"repeated", "never_sent", "other_agency_document", "sender_mismatch_1",
                               "sender_mismatch_2", "not_a_recipient", "unknown_code", *OUT_OF_ORDER,
                               "nothing else changed"}


def open_reference(tmp_path: Path, defects: str = "") -> CertSession:
    selection = resolve(province=PROVINCE, communes="sample:2", seed=1)
    session = open_session(SessionOptions(selection=selection, out=str(tmp_path), defects=defects))
    session.settle()  # started: its codes published
    return session


@pytest.fixture
def clean(tmp_path: Path) -> Iterator[CertSession]:
    session = open_reference(tmp_path)
    yield session
    session.close()


def verdicts(session: CertSession, rid: str) -> dict[str, tuple[str, str]]:
    """Each variant's outcome of requirement `rid`: (status, message)."""
    return {o.evidence["variant"]: (o.status, o.message) for o in session.results.all() if o.scenario == rid}


def failed(session: CertSession, rid: str) -> set[str]:
    return {name for name, (status, _) in verdicts(session, rid).items() if status == FAILED}


def test_the_reference_passes_every_variant(clean: CertSession) -> None:
    assert received_packages_refused(clean, PROVINCE) == []
    assert status_packets_refused(clean, PROVINCE) == []
    assert axis_refusals(clean, PROVINCE) == []
    assert set(verdicts(clean, "DOCAXIS-4")) == PACKAGES
    assert set(verdicts(clean, "DOCAXIS-5")) == STATUSES
    assert {s for s, _ in verdicts(clean, "DOCAXIS-4").values()} == {PASSED}


@pytest.mark.slow
@pytest.mark.parametrize("defect, rid, variants", [
    ("axis_records_invalid_packages", "DOCAXIS-4", PACKAGES - {"genuine", "nothing else changed",
                                                               "revoked_before_taken"}),
    ("axis_recipient_unchecked", "DOCAXIS-4", {"foreign_agency", "unknown_agency"}),
    ("axis_to_list_unchecked", "DOCAXIS-4", {"not_in_to_list"}),
    ("no_axis_ack", "DOCAXIS-4", {"genuine", "revoked_before_taken"}),
    ("axis_status_order_unchecked", "DOCAXIS-5", OUT_OF_ORDER),
    ("axis_status_matched_by_code", "DOCAXIS-5", {"never_sent"}),
    ("axis_status_sender_unchecked", "DOCAXIS-5", {"not_a_recipient"}),
    # the listing believed: neither the packet's sender nor what the recipient said before is read
    ("axis_status_from_listing", "DOCAXIS-5", {"unknown_code", "sender_mismatch_1", "sender_mismatch_2", *OUT_OF_ORDER}),
])
def test_each_switch_fails_exactly_its_variants(tmp_path: Path, defect: str, rid: str, variants: set[str]) -> None:
    session = open_reference(tmp_path, defect)
    try:
        check = received_packages_refused if rid == "DOCAXIS-4" else status_packets_refused
        assert check(session, PROVINCE)
        assert failed(session, rid) == variants, verdicts(session, rid)
    finally:
        session.close()


def test_a_system_that_records_no_status_fails_the_genuine_control(clean: CertSession,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AxisClient, "_apply_status", lambda self, st, orgs: False)
    assert status_packets_refused(clean, PROVINCE)
    assert failed(clean, "DOCAXIS-5") == GENUINE_STATUSES
    assert "prove nothing" in verdicts(clean, "DOCAXIS-5")["genuine"][1]


def test_a_status_delivered_again_and_recorded_again_is_caught(clean: CertSession,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def record_without_looking(self: AxisClient, doc_id: str, recipient: str, code: str, event_at: str | None) -> None:
        with self.system.ctx.store.begin() as conn:  # no look-up of what is recorded: the repeat is inserted again
            conn.execute(tables.axis_sent_status.insert().values(doc_id=doc_id, recipient=recipient, code=code,
                                                                 event_at=event_at, received_at="2025-07-01"))

    monkeypatch.setattr(AxisClient, "_store_status", record_without_looking)
    assert status_packets_refused(clean, PROVINCE)
    assert "genuine" not in failed(clean, "DOCAXIS-5") and "repeated" in failed(clean, "DOCAXIS-5")
    assert "delivered again" in verdicts(clean, "DOCAXIS-5")["repeated"][1]


def test_a_change_beside_the_variants_is_caught(clean: CertSession, monkeypatch: pytest.MonkeyPatch) -> None:
    poll = AxisClient.poll

    def poll_and_stray(self: AxisClient, province: str) -> dict[str, int]:
        counts = poll(self, province)
        with self.system.ctx.store.begin() as conn:
            if conn.execute(sa.select(tables.axis_received.c.id).where(
                    tables.axis_received.c.doc_id == "stray")).first() is None:
                conn.execute(tables.axis_received.insert().values(
                    doc_id="stray", recipient="000.00.00.H12", sender="000.00.00.G01", status="01",
                    received_at="2025-07-01T00:00:00+07:00"))
        return counts

    monkeypatch.setattr(AxisClient, "poll", poll_and_stray)
    assert received_packages_refused(clean, PROVINCE)
    assert failed(clean, "DOCAXIS-4") == {"nothing else changed"}
    assert "stray as received by 000.00.00.H12" in verdicts(clean, "DOCAXIS-4")["nothing else changed"][1]


def test_a_system_without_the_sent_documents_endpoint_is_not_judged_a_pass(clean: CertSession,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*_: Any, **__: Any) -> Any:
        raise DriverError("GET", "/cert/v1/documents/sent", 404, "not found")

    monkeypatch.setattr(clean.sut, "sent_documents", missing)
    assert status_packets_refused(clean, PROVINCE)
    [(status, message)] = verdicts(clean, "DOCAXIS-5").values()
    assert status == FAILED and "GET /cert/v1/documents/sent" in message


def test_refusals_of_the_system_are_quoted_and_the_harness_own_are_not(clean: CertSession) -> None:
    axis, _ = ministry_session(clean)
    assert axis.http.post(f"{axis.base_url}/api/edocs", headers=axis.headers, data=b"x").status_code == 400
    assert axis_refusals(clean, PROVINCE) == []  # the harness's own refused request is not the system's
    with pytest.raises(DriverError):
        clean.sut.send_document({"from": "000.00.00.H12", "to": ["000.00.00.G99"]})
    [failure] = axis_refusals(clean, PROVINCE)
    assert "the axis refused POST /api/edocs (HTTP 400): unknown_recipient: no recipient of this package" in failure
    assert "(field MessageHeader/To/OrganId)" in failure


def test_communes_answering_on_the_axis_must_hold_what_they_answered(clean: CertSession,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert documents_acknowledged(clean, PROVINCE) == []
    listed = clean.sut.received_documents

    def stale(**filters: Any) -> list[dict[str, Any]]:  # a system that answered 06 but never updated its own record
        return [{**d, "status": "01"} for d in listed(**filters)]

    monkeypatch.setattr(clean.sut, "received_documents", stale)
    failures = documents_acknowledged(clean, PROVINCE)
    pair = [f for f in failures if "a document to two of the province's agencies" in f]  # the province's own probe
    communes = [f for f in failures if f not in pair]
    assert len(communes) == 2 and all("says status 01, but it answered 06 on the axis" in f for f in communes), failures
    assert len(pair) == 1 and "the system's records of it say ['01']" in pair[0], failures


def test_a_driver_that_ignores_its_filters_is_caught(clean: CertSession, monkeypatch: pytest.MonkeyPatch) -> None:
    received, sent = clean.sut.received_documents, clean.sut.sent_documents
    monkeypatch.setattr(clean.sut, "received_documents", lambda **_: received())
    failures = documents_acknowledged(clean, PROVINCE)
    assert len(failures) == 2 and all("GET /cert/v1/documents/received?agency=" in f for f in failures), failures
    clean.sut.send_document({"from": "000.00.00.H12", "to": ["000.00.00.G01"]})  # a document of another agency
    clean.settle()
    monkeypatch.setattr(clean.sut, "sent_documents", lambda **_: sent())
    [failure] = status_packets_refused(clean, PROVINCE)
    assert "GET /cert/v1/documents/sent?agency=" in failure and "does not apply its filters" in failure, failure


def test_a_driver_whose_document_filter_is_a_range_is_caught(clean: CertSession,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # `doc_id <= x` lists the document asked for and every one sorting before it: the genuine id may happen to
    # sort first (no extra document), so ids never issued, one sorting before and one after all, are asked too
    sent = clean.sut.sent_documents

    def at_most(agency: str | None = None, doc_id: str | None = None) -> list[dict[str, Any]]:
        return [d for d in sent(agency=agency) if doc_id is None or d["doc_id"] <= doc_id]

    monkeypatch.setattr(clean.sut, "sent_documents", at_most)
    [failure] = status_packets_refused(clean, PROVINCE)
    assert "GET /cert/v1/documents/sent?doc_id=~never-issued answered" in failure, failure


def test_recipients_named_by_their_codes_fail_docaxis_3(clean: CertSession, monkeypatch: pytest.MonkeyPatch) -> None:
    assert outgoing_edxml_valid(clean, PROVINCE) == []
    build = provincial_axis.document

    def codes_only(sender: Organization, recipients: Any, **kw: Any) -> Any:
        return build(sender, [Organization(r.organ_id, r.organ_id) for r in recipients], **kw)

    monkeypatch.setattr(provincial_axis, "document", codes_only)
    [failure] = outgoing_edxml_valid(clean, PROVINCE)
    assert "the To list is [('000.00.00.G01', '000.00.00.G01')], expected [('000.00.00.G01', 'Văn phòng Chính " \
           "phủ')]" in failure, failure


def test_a_status_about_another_agencys_document_acknowledged_done_is_caught(
        clean: CertSession, monkeypatch: pytest.MonkeyPatch) -> None:
    apply = AxisClient._apply_status

    def taken_when_foreign(self: AxisClient, st: Any, orgs: Any) -> bool:  # "taken", though nothing is recorded
        return True if st.response_for.organ_id not in orgs else apply(self, st, orgs)

    monkeypatch.setattr(AxisClient, "_apply_status", taken_when_foreign)
    assert status_packets_refused(clean, PROVINCE)
    assert failed(clean, "DOCAXIS-5") == {"other_agency_document"}
    assert "acknowledged the packet as taken (done)" in verdicts(clean, "DOCAXIS-5")["other_agency_document"][1]


@pytest.mark.parametrize("ignored, variants", [
    # each recipient's 01 (the axis's arrival) hides its 03, and its 03 its 06; stuck at 01, it takes a 05 for in order
    ("code", GENUINE_STATUSES | {"after_final_processing"}),
    ("recipient", {"genuine", "genuine_second_done"}),  # the second recipient's 03 hides the first's, and the
    # first's 06 the second's
    ("recipient>=", {"genuine"}),  # an ordered comparison of recipients: the 03 of a higher code hides a lower's
    ("recipient<=", {"genuine_second_done"}),  # ... the 06 of a lower code hides a higher's
])
def test_a_status_taken_for_one_already_recorded_is_caught(clean: CertSession, monkeypatch: pytest.MonkeyPatch,
                                                           ignored: str, variants: set[str]) -> None:
    def store(self: AxisClient, doc_id: str, recipient: str, code: str, event_at: str | None) -> None:
        c = tables.axis_sent_status.c
        same = {"doc_id": doc_id, "recipient": recipient, "code": code}
        where = [c[k] == v for k, v in same.items() if k != ignored.rstrip("<>=")]
        if ignored.endswith("="):
            where.append(c.recipient >= recipient if ignored.endswith(">=") else c.recipient <= recipient)
        with self.system.ctx.store.begin() as conn:  # the look-up compares one column wrongly: another is "seen"
            if conn.execute(sa.select(c.id).where(*where)).first():
                return
            conn.execute(tables.axis_sent_status.insert().values(**same, event_at=event_at, received_at="2025-07-01"))

    monkeypatch.setattr(AxisClient, "_store_status", store)
    assert status_packets_refused(clean, PROVINCE)
    assert failed(clean, "DOCAXIS-5") == variants, verdicts(clean, "DOCAXIS-5")


def test_the_genuine_package_must_be_recorded_as_it_came(clean: CertSession, monkeypatch: pytest.MonkeyPatch) -> None:
    listed = clean.sut.received_documents
    monkeypatch.setattr(clean.sut, "received_documents",
                        lambda **f: [{**d, "subject": None} for d in listed(**f)])  # a record without its subject
    assert received_packages_refused(clean, PROVINCE)
    assert failed(clean, "DOCAXIS-4") == {"genuine"}
    assert "the system's record of it is" in verdicts(clean, "DOCAXIS-4")["genuine"][1]


@pytest.mark.parametrize("compare, variant", [
    ("any", {"sender_mismatch_1", "sender_mismatch_2"}),  # the sender never compared
    ("at_least", {"sender_mismatch_1"}),  # an ordered comparison lets a lower code pass for the sender
    ("at_most", {"sender_mismatch_2"}),  # ... or a higher one
])  # (each of these stand-ins records whatever the recipient said before: the out-of-order variants fail too)
def test_a_status_whose_response_for_names_another_sender_is_caught(clean: CertSession, monkeypatch: pytest.MonkeyPatch,
                                                                    compare: str, variant: set[str]) -> None:
    def apply(self: AxisClient, st: Any, orgs: Any) -> bool:
        rf, c = st.response_for, tables.axis_sent.c
        if rf.organ_id not in orgs:
            return False
        where = {"any": sa.true(), "at_least": c.sender >= rf.organ_id, "at_most": c.sender <= rf.organ_id}[compare]
        with self.system.ctx.store.read() as conn:
            rows = [r for r in conn.execute(sa.select(tables.axis_sent).where(where))
                    if (r.answer or {}).get("DocumentId") == rf.document_id and st.sender.organ_id in r.recipients]
        for row in rows:
            self._store_status(row.doc_id, st.sender.organ_id, st.status_code.value, st.timestamp.isoformat())
        return bool(rows)

    monkeypatch.setattr(AxisClient, "_apply_status", apply)
    variant = variant | OUT_OF_ORDER
    assert status_packets_refused(clean, PROVINCE)
    assert failed(clean, "DOCAXIS-5") == variant, verdicts(clean, "DOCAXIS-5")


def test_a_document_sent_under_another_number_or_notation_fails_docaxis_3(clean: CertSession,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    build = provincial_axis.document
    monkeypatch.setattr(provincial_axis, "document", lambda *a, **kw: build(*a, **{**kw, "notation": "UBND-VP"}))
    [failure] = outgoing_edxml_valid(clean, PROVINCE)
    assert "the number/notation (CodeNumber/CodeNotation) is '27/UBND-VP', expected '27/BC-UBND'" in failure, failure

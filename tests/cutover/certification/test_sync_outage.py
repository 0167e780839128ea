"""SYNC-2, the long portal outage: its length is configurable, and a pass that could not restart the
system (no optional POST /cert/v1/restart) says so beside the verdict instead of overstating."""

from __future__ import annotations

import pytest

from cutover.certification.checks.records import sync_call
from cutover.certification.checks.sync import (
    NO_RESTART,
    OUTAGE_ATTEMPTS_VARIABLE,
    outage_attempts,
    outage_loses_nothing,
)
from cutover.certification.report import build_readiness, render_html
from cutover.certification.results import PASSED
from cutover.certification.selection import Selection
from cutover.certification.session import SessionOptions, open_session
from refdata.units import registry

PROVINCE = "12"


@pytest.fixture
def session(tmp_path):
    units = tuple(u.code for u in registry().select_units(PROVINCE, communes="sample:1", seed=1))
    s = open_session(SessionOptions(Selection(units), out=str(tmp_path)))
    yield s
    s.close()


def test_outage_length_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(OUTAGE_ATTEMPTS_VARIABLE, raising=False)
    assert outage_attempts() == 10
    monkeypatch.setenv(OUTAGE_ATTEMPTS_VARIABLE, "25")
    assert outage_attempts() == 25
    for bad in ("ten", "0"):
        monkeypatch.setenv(OUTAGE_ATTEMPTS_VARIABLE, bad)
        with pytest.raises(ValueError, match=OUTAGE_ATTEMPTS_VARIABLE):
            outage_attempts()


def test_the_outage_spans_the_attempts_asked_for_and_restarts_the_system(session, monkeypatch):
    monkeypatch.setenv(OUTAGE_ATTEMPTS_VARIABLE, "14")
    assert outage_loses_nothing(session, PROVINCE) == []
    [outcome] = [o for o in session.results.all() if o.scenario == "SYNC-2"]
    assert outcome.status == PASSED and outcome.message == ""
    assert min(outcome.evidence["refused_attempts"].values()) >= 14 and len(outcome.evidence["codes"]) == 3
    assert outcome.evidence["restart"] == "after tick 7"
    [late] = outcome.evidence["forwarded_during_outage"]
    assert outcome.evidence["refused_attempts"][late] >= 14, "its creation was refused and retried like the rest"
    # The creation whose answer was lost: stored once, then its retries told "already exists", first in a batch
    # with the new dossier (refused whole, so each went alone: -3 for it, created for the new one).
    [lost] = outcome.evidence["answer_lost"]
    calls = [(sync_call(e), e) for e in session.journal("portal", direction="in", path="/api/integration")]
    creates = [(c, (e.get("keys") or {}).get("fault")) for c, e in calls
               if c is not None and c.creating and lost in c.codes and (not (e.get("keys") or {}).get("fault")
                                                                        or e["keys"]["fault"] == "lose_answer")]
    assert [(c.codes, c.accepted, fault) for c, fault in creates] == [
        ((lost,), True, "lose_answer"), ((lost, late), False, None), ((lost,), False, None)]
    assert [str(c.error_code) for c, _ in creates[1:]] == ["-3", "-3"]
    assert any(c.codes == (late,) and c.accepted for c, _ in calls if c is not None and c.creating)
    # The 401 round ended the sessions: the system logged in again after it.
    auths = session.journal("portal", direction="in", path="/api/auth")
    expired_at = max(e["id"] for e in session.journal("portal", direction="in", path="/api/integration")
                     if (e.get("keys") or {}).get("fault") == "error" and e["status"] == 401)
    assert any(a["id"] > expired_at and a["status"] == 200 for a in auths)


@pytest.mark.parametrize("defect, finding", [
    ("create_refusal_taken_as_delivered", "the portal has no such dossier"),
    ("expired_session_is_final", "after the portal recovered"),
])
def test_a_sync_dropped_after_a_refusal_is_lost(tmp_path, monkeypatch, defect, finding):
    monkeypatch.setenv(OUTAGE_ATTEMPTS_VARIABLE, "3")
    units = tuple(u.code for u in registry().select_units(PROVINCE, communes="sample:1", seed=1))
    s = open_session(SessionOptions(Selection(units), out=str(tmp_path), defects=defect))
    try:
        failures = outage_loses_nothing(s, PROVINCE)
    finally:
        s.close()
    assert any(finding in f for f in failures), failures


def test_without_the_optional_restart_a_pass_says_what_it_did_not_cover(session, monkeypatch):
    monkeypatch.setattr(session.sut, "restart", lambda: None)  # as HttpSUT answers for a 404
    assert outage_loses_nothing(session, PROVINCE) == []
    [outcome] = [o for o in session.results.all() if o.scenario == "SYNC-2"]
    assert outcome.status == PASSED and outcome.message == NO_RESTART
    data = build_readiness(session.results.all(), sut="reference", selection={})
    assert data["provinces"][PROVINCE]["checks"]["SYNC"]["notes"] == [f"[SYNC-2] {NO_RESTART}"]
    assert "no POST /cert/v1/restart" in render_html(data)

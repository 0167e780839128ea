"""Live waiting is by quiescence: `CertSession.settle` polls the mocks and the system until nothing is
attempted, due or in flight anywhere, twice in a row, and fails loudly at its deadline. A round that
attempted nothing while a background dispatcher holds a message mid-delivery is not quiet."""

from __future__ import annotations

from typing import Any

import pytest

from clients.driver import DriverContractError
from cutover.certification import session as session_module
from cutover.certification.results import Results
from cutover.certification.selection import Selection
from cutover.certification.session import CertSession, SessionOptions, SettleTimeout

QUIET = {"attempted": 0, "delivered": 0, "failed": 0, "dead": 0, "pending": 0, "due": 0, "in_flight": 0}


class ScriptedAdmin:
    """A mock's admin API whose `/outbox/run` answers follow a script (then stay on the last answer)."""

    def __init__(self, *answers: dict[str, int]) -> None:
        self.answers = list(answers) or [QUIET]
        self.calls = 0

    def journal_mark(self) -> int:
        return 0

    def run_outbox(self) -> dict[str, int]:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return {**QUIET, **answer}


class ScriptedSUT:
    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = list(answers) or [{}]
        self.calls = 0

    def tick(self, retry_now: bool = False) -> dict[str, Any]:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return answer


def live_session(admins: dict[str, ScriptedAdmin], sut: ScriptedSUT) -> CertSession:
    return CertSession(SessionOptions(Selection(())), [], [], None, sut, admins, {}, Results(), stack=None)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(session_module, "SETTLE_POLL_SECONDS", 0.0)


def test_a_message_in_flight_keeps_settle_waiting():
    # the portal's dispatcher thread holds a forward mid-delivery for three rounds: nothing attempted, not quiet
    portal = ScriptedAdmin({"in_flight": 1, "pending": 1}, {"in_flight": 1, "pending": 1}, {"in_flight": 1, "pending": 1},
                           QUIET)
    sut = ScriptedSUT({"outbox": {"attempted": 0}, "pending": 0, "due": 0, "in_flight": 0})
    live_session({"portal": portal, "payment": ScriptedAdmin()}, sut).settle()
    assert portal.calls == 3 + session_module.QUIET_ROUNDS  # three busy rounds, then the quiet ones in a row


def test_work_the_system_reports_due_or_in_flight_keeps_settle_waiting():
    sut = ScriptedSUT({"outbox": {"attempted": 2}, "due": 0}, {"outbox": {"attempted": 0}, "in_flight": 1},
                      {"outbox": {"attempted": 0}, "due": 1}, {"outbox": {"attempted": 0}})
    live_session({"portal": ScriptedAdmin()}, sut).settle()
    assert sut.calls == 3 + session_module.QUIET_ROUNDS


def test_one_quiet_round_between_busy_ones_is_not_enough():
    portal = ScriptedAdmin({"attempted": 1}, QUIET, {"due": 1}, QUIET)
    live_session({"portal": portal}, ScriptedSUT()).settle()
    assert portal.calls == 3 + session_module.QUIET_ROUNDS


def test_settle_fails_loudly_at_its_deadline_naming_what_is_busy():
    stuck = ScriptedAdmin({"in_flight": 1, "pending": 1})
    with pytest.raises(SettleTimeout, match="the portal mock 1 in flight"):
        live_session({"portal": stuck}, ScriptedSUT()).settle(deadline_seconds=0.05)


def test_a_tick_answer_without_counts_counts_as_quiet():
    """A vendor's tick may answer `{}` (it does its work continuously): only the mocks are then watched."""
    sut = ScriptedSUT({})
    live_session({"portal": ScriptedAdmin()}, sut).settle()
    assert sut.calls == session_module.QUIET_ROUNDS


def test_the_deadline_counts_from_the_last_delivery_attempt(monkeypatch):
    """A long settle that keeps delivering is progress, not a hang: only time without any attempt counts."""
    clock = iter(range(0, 10_000, 10))  # every reading of the clock is 10 s later
    monkeypatch.setattr(session_module.time, "monotonic", lambda: float(next(clock)))
    busy = ScriptedAdmin(*([{"attempted": 1}] * 20), QUIET)  # 200 s of deliveries, each round within 10 s
    live_session({"portal": busy}, ScriptedSUT()).settle(deadline_seconds=30)
    assert busy.calls == 20 + session_module.QUIET_ROUNDS


def test_settle_waits_between_rounds_only_for_work_of_another_thread(monkeypatch):
    """A round that attempted something is followed at once (the work moves with the rounds), and so is a
    quiet round (the next one only confirms it); only a round that finds something due or in flight and
    attempted nothing waits, for the thread that holds it. (The waits between quiet rounds were a fifth of
    a small live certification.)"""
    slept: list[float] = []
    monkeypatch.setattr(session_module, "SETTLE_POLL_SECONDS", 0.02)
    monkeypatch.setattr(session_module.time, "sleep", slept.append)
    portal = ScriptedAdmin({"attempted": 2}, {"in_flight": 1, "pending": 1}, {"due": 1}, {"attempted": 1}, QUIET)
    live_session({"portal": portal}, ScriptedSUT()).settle()
    assert portal.calls == 4 + session_module.QUIET_ROUNDS
    assert slept == [0.02, 0.02]  # after the in-flight round and the due round, nowhere else


class ScriptedStack:
    """An in-process stack: a mock (`portal`) and the system (`provincial`); each `tick` answers the next
    count of the script and records which outboxes it was asked to deliver."""

    mocks = ("portal",)
    sut_token = "driver"

    def __init__(self, *delivered: int) -> None:
        self.delivered = list(delivered) or [0]
        self.asked: list[tuple[str, ...] | None] = []

    def tick(self, rounds: int = 20, only: tuple[str, ...] | None = None) -> int:
        self.asked.append(only)
        return self.delivered.pop(0) if self.delivered else 0

    def session(self) -> Any:
        return None


def test_in_process_settle_never_delivers_the_systems_outbox_for_it():
    """In process, only the mocks' outboxes are delivered by the harness: the system's is reached only
    through its own tick (so a tick that skips its outbox, or delivers nothing, is judged as it is)."""
    stack, sut = ScriptedStack(), ScriptedSUT({"outbox": {"attempted": 3}})
    session = CertSession(SessionOptions(Selection(())), [], [], None, sut, {}, {}, Results(), stack=stack)  # type: ignore[arg-type]
    session.settle()
    assert stack.asked == [("portal",)]
    assert sut.calls == 1


def test_in_process_tick_ticks_again_only_while_the_mocks_deliver(monkeypatch):
    """`InProcessSUT.tick`: the system's tick, then the mocks' outboxes, again while they delivered
    something (it may give the system work); `retry_now` only on the first tick; nothing extra when quiet."""
    from clients.driver import HttpSUT
    from cutover.sut import InProcessSUT

    calls: list[bool] = []
    monkeypatch.setattr(HttpSUT, "tick", lambda self, retry_now=False: calls.append(retry_now) or dict(QUIET))
    busy = InProcessSUT(ScriptedStack(2, 1, 0), "http://provincial.test")
    report = busy.tick(retry_now=True)
    assert calls == [True, False, False]
    assert busy.stack.asked == [("portal",)] * 3
    assert (report["stack_delivered"], report["ticks"]) == (3, 3)
    calls.clear()
    quiet = InProcessSUT(ScriptedStack(0), "http://provincial.test")
    assert quiet.tick()["ticks"] == 1
    assert calls == [False]


@pytest.mark.parametrize("report", [{"pending": -1, "due": 0, "in_flight": 0}, {"due": "0"}, {"in_flight": True},
                                    {"due": 1.5}, ["not", "an", "object"]])
def test_a_tick_report_whose_counts_break_the_contract_stops_the_wait_loudly(report):
    # A count below 0 (or not an integer) would end the wait for quiescence early, or never: the harness
    # would judge on a system still busy. It says which count and what the contract allows.
    session = live_session({"portal": ScriptedAdmin()}, ScriptedSUT(report))
    with pytest.raises(DriverContractError, match=r"cert-driver\.openapi\.yaml"):
        session.settle()


def test_a_tick_report_without_the_counts_is_within_the_contract():
    assert live_session({}, ScriptedSUT({"outbox": {"attempted": 0}})).tick_system() == {"outbox": {"attempted": 0}}

"""The citizen's journey, for every selected commune of a province, done in phases.

Log in (citizen and officer) at the system under test through national SSO; submit online on
the portal; the officers receive, process and request the fee; the citizen pays on the hosted
page; the officers finish with a signed result and return it. Each phase runs for all communes
before the next, with one settling of background work in between, so a province of 168
communes costs three settlings, not five hundred. What happened to each commune is kept for the
checks to judge; the journey itself judges nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from cutover.flows.pay import pay
from cutover.flows.sso import login_at_relying_party, portal_citizen_login
from cutover.flows.submit import submit_dossier
from refdata.units import Unit

from .session import CertSession

JOURNEY_PROCEDURE = "2.000815"  # chứng thực bản sao từ bản chính: a commune procedure with a national fee
PAY_BANK = "VCB"
STEP_STATUS = {"forwarded": 1, "receive": 2, "process": 4, "request_fee": 6, "paid": 4, "finish": 9, "return": 10}
"""The status (TrangThaiHoSo) each step of the journey moves the dossier to (the driver contract's workflow)."""


@dataclass(frozen=True)
class Acted:
    """A step of the journey and when the harness did it, on the clock the system runs on (epoch
    seconds): the progress entry the step causes must carry a time within a tolerance of it."""

    step: str
    status: int
    start: float
    end: float


def clock_offset(session: CertSession) -> float:
    """Seconds to add to this machine's time to read the clock the system under test runs on.

    In-process that is the reference system's own test clock (tests may freeze or shift it); live,
    the mocks' clock, which runs on real time unless a test shifted it, as the vendor's should.
    """
    admin = session.stack.admin("provincial") if session.in_process else session.admins["portal"]
    before = time.time()
    now = datetime.fromisoformat(admin.clock()["now"]).timestamp()
    return now - (before + time.time()) / 2


class Stopwatch:
    """Times the journey's steps in one phase: this machine's time around each step, turned into
    the system's clock with the offsets read at the phase's start and end (a clock shifted in
    between widens the window rather than failing a correct system)."""

    def __init__(self, session: CertSession) -> None:
        self.session = session
        self.first = clock_offset(session)
        self.started: dict[tuple[str, str], float] = {}
        self.done: list[tuple[Journey, str, float, float | None]] = []

    def start(self, j: Journey, step: str) -> None:
        self.started[(j.unit.code, step)] = time.time()

    def stop(self, j: Journey, step: str, *, at_phase_end: bool = False) -> None:
        """The step is done now, or (a forward, a payment callback) once the phase's settling is over."""
        begun = self.started.pop((j.unit.code, step))
        self.done.append((j, step, begun, None if at_phase_end else time.time()))

    def close(self) -> None:
        end = time.time()
        last = clock_offset(self.session)
        low, high = min(self.first, last), max(self.first, last)
        for j, step, begun, ended in self.done:
            j.acted.append(Acted(step, STEP_STATUS[step], begun + low, (ended or end) + high))


@dataclass
class Journey:
    unit: Unit
    citizen_login: dict[str, Any] | None = None
    officer_login: dict[str, Any] | None = None
    portal_code: str | None = None
    sut_code: str | None = None
    payment: dict[str, Any] | None = None
    issued: dict[str, Any] | None = None
    """The result the system stated when the officer finished the dossier (`result` of the action's answer)."""
    steps: list[str] = field(default_factory=list)
    acted: list[Acted] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def fail(self, stage: str, err: Exception | str) -> None:
        self.errors[stage] = str(err)[:500]

    def ok(self, stage: str) -> bool:
        return stage not in self.errors


def _login(session: CertSession, login_url: str, hint: str) -> dict[str, Any]:
    resp = login_at_relying_party(session.http(), login_url, hint)
    if resp.status_code != 200:
        raise RuntimeError(f"login at the system under test ended with HTTP {resp.status_code}: {resp.text[:200]}")
    try:
        body: dict[str, Any] = resp.json()
    except ValueError:
        raise RuntimeError("the system under test's login did not answer JSON after the callback") from None
    sid = body.get("session")
    seen = session.sut.session(sid) if sid else None
    if not seen:
        raise RuntimeError("the system under test does not confirm the session it created")
    return {"session": sid, "role": seen.get("role"), "user": seen.get("user", {})}


def _each(session: CertSession, journeys: list[Journey], step: Callable[[Journey, requests.Session], None]) -> None:
    """`step` for every journey (`CertSession.each`: live, a few at once), with an HTTP client of its
    thread (its own cookie jar, reused from one commune to the next as one client was before)."""
    local = threading.local()

    def run(j: Journey) -> None:
        if not hasattr(local, "http"):
            local.http = session.http()
        step(j, local.http)

    session.each(run, journeys)


def run_province_journeys(session: CertSession, province: str) -> dict[str, Journey]:
    key = f"journeys:{province}"
    if key in session.cache:
        journeys: dict[str, Journey] = session.cache[key]
        return journeys
    info = session.describe_province(province)
    journeys = {u.code: Journey(u) for u in session.units_of(province)}
    portal_client = session.admins["portal"].get("/portal/client")
    watch = Stopwatch(session)

    def log_in_and_submit(j: Journey, http: requests.Session) -> None:
        ward = j.unit.code
        try:
            j.citizen_login = _login(session, info["login_url"], f"citizen:{ward}:0")
        except Exception as err:  # noqa: BLE001 - every failure is evidence for the checks
            j.fail("citizen_login", err)
        try:
            j.officer_login = _login(session, info["login_url"], f"officer:{ward}:0")
        except Exception as err:  # noqa: BLE001
            j.fail("officer_login", err)
        try:
            tokens = portal_citizen_login(http, session.urls["portal"], portal_client, f"citizen:{ward}:0")
            watch.start(j, "forwarded")
            j.portal_code = submit_dossier(http, session.urls["portal"], tokens.access_token,
                                           procedure=JOURNEY_PROCEDURE, ward=ward,
                                           summary=f"Chứng thực bản sao - {j.unit.name}",
                                           form={"SoBanSao": 1, "GhiChu": "cutover certification"})
            watch.stop(j, "forwarded", at_phase_end=True)
        except Exception as err:  # noqa: BLE001
            j.fail("submit", err)

    _each(session, list(journeys.values()), log_in_and_submit)
    session.settle()
    watch.close()
    watch = Stopwatch(session)

    def process_and_pay(j: Journey, http: requests.Session) -> None:
        try:
            found = session.sut.dossiers(portal_code=j.portal_code)
            if not found:
                raise RuntimeError(f"the system under test has no dossier for portal code {j.portal_code}")
            j.sut_code = found[0]["code"]
            for action in ("receive", "process"):
                _act(session, watch, j, action)
        except Exception as err:  # noqa: BLE001
            j.fail("process", err)
            return
        try:  # a payment that fails is PAY's to judge; the dossier still goes on to its result
            fee = _act(session, watch, j, "request_fee")
            j.payment = dict(fee.get("payment") or {})
            watch.start(j, "paid")
            pay(http, j.payment["pay_url"], bank=PAY_BANK)
            watch.stop(j, "paid", at_phase_end=True)
            j.steps.append("paid")
        except Exception as err:  # noqa: BLE001
            j.fail("payment", err)

    _each(session, [j for j in journeys.values() if j.portal_code], process_and_pay)
    session.settle()
    watch.close()
    watch = Stopwatch(session)

    def finish(j: Journey, http: requests.Session) -> None:
        try:
            for action in ("finish", "return"):
                answer = _act(session, watch, j, action)
                if action == "finish":
                    j.issued = answer.get("result") if isinstance(answer.get("result"), dict) else None
        except Exception as err:  # noqa: BLE001
            j.fail("finish", err)

    _each(session, [j for j in journeys.values() if j.sut_code and j.ok("process")], finish)
    session.settle()
    watch.close()
    session.cache[key] = journeys
    return journeys


def _act(session: CertSession, watch: Stopwatch, j: Journey, action: str) -> dict[str, Any]:
    """One officer action through the driver, timed."""
    watch.start(j, action)
    answer: dict[str, Any] = session.sut.act(j.sut_code or "", action)
    watch.stop(j, action)
    j.steps.append(action)
    return answer

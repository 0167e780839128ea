"""Live, communes' journeys go a few at once (the system and the mocks work while the harness waits),
each step with an HTTP client no other running step holds; in process, one after another."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from cutover.certification.journey import Journey, _each
from cutover.certification.session import LIVE_AT_ONCE, CertSession
from refdata.units import registry


def _journeys(n: int) -> list[Journey]:
    return [Journey(u) for u in registry().units("31")[:n]]


@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "live"])
def test_journeys_go_at_once_live_each_with_a_client_of_its_own(in_process: bool) -> None:
    session = SimpleNamespace(in_process=in_process, http=lambda: object())
    session.each = lambda work, items: CertSession.each(session, work, items)  # type: ignore[arg-type]
    lock = threading.Lock()
    running: dict[int, Any] = {}
    most = 0
    clashes: list[str] = []
    done: list[str] = []

    def step(j: Journey, http: Any) -> None:
        nonlocal most
        with lock:
            if any(held is http for held in running.values()):
                clashes.append(j.unit.code)
            running[id(j)] = http
            most = max(most, len(running))
        time.sleep(0.02)
        with lock:
            del running[id(j)]
            done.append(j.unit.code)

    journeys = _journeys(12)
    _each(session, journeys, step)  # type: ignore[arg-type]
    assert sorted(done) == sorted(j.unit.code for j in journeys)
    assert clashes == []
    assert most == (1 if in_process else LIVE_AT_ONCE)

"""A portal outage loses nothing: dossiers advanced while the adapter API fails all reach the
portal afterwards, each history complete, in order, without duplicates (SYNC)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from clients.driver import HttpSUT
from cutover.flows.sso import portal_citizen_login
from cutover.flows.submit import submit_dossier
from cutover.reference import PROVINCIAL_URL, reference_stack
from provincial.dossiers import RECORD_CHANGES
from refdata.units import registry

PROVINCE = "31"
UNITS = registry().units(PROVINCE)
PATHS = [  # the officer actions each dossier goes through during the outage
    ("receive", "process", "finish", "return"),
    ("receive", "process", "request_supplement", "process", "finish"),
    ("receive", "stop"),
    ("refuse",),
    ("receive", "process", "finish", "return"),
]


@pytest.fixture
def stack(database_url, tmp_path):
    s = reference_stack([PROVINCE], database_url=database_url, workdir=str(tmp_path))
    yield s
    s.close()


def _accepted_calls(entries: list[dict[str, Any]], code: str) -> list[tuple[str, int]]:
    """(service, status) of every adapter call about `code` the portal accepted, in arrival order."""
    out = []
    for e in entries:
        if e["status"] != 200:
            continue
        body = json.loads(e["request_body"])
        for item in body["data"]:  # the province batches dossiers that wait at the same time
            if item.get("MaHoSo") == code:
                out.append((body["service"], item.get("TrangThaiHoSo", item.get("TrangThai"))))
    return out


def test_portal_outage_loses_nothing(stack):
    http = stack.session()
    sut = HttpSUT(PROVINCIAL_URL, stack.sut_token, http)
    portal = stack.admin("portal")
    provincial = stack.admin("provincial")
    portal_client = portal.get("/portal/client")

    # the adapter API is down from here on
    portal.add_fault(action="error", path="/api/integration", status=503)
    outage_start = portal.journal_all()[-1]["id"]

    codes: list[str] = []
    for i in range(10):
        unit = UNITS[10 + i]
        tokens = portal_citizen_login(http, stack.urls["portal"], portal_client, f"citizen:{unit.code}:{i}")
        portal_code = submit_dossier(http, stack.urls["portal"], tokens.access_token, procedure="2.000815",
                                     ward=unit.code)
        stack.tick()  # the portal forwards (its own outbound call works); the province's sync fails
        [dossier] = sut.dossiers(portal_code=portal_code)
        codes.append(dossier["code"])
        for action in PATHS[i % len(PATHS)]:
            sut.act(dossier["code"], action)
        provincial.advance(20)  # time passes on the province's clock: retries come due, and fail
        stack.tick()

    # nothing reached the portal: every adapter call was refused, and the portal knows no dossier
    during = [e for e in portal.journal_all(direction="in", path="/api/integration") if e["id"] > outage_start]
    assert len(during) >= 20 and {e["status"] for e in during} == {503}
    assert stack.backend("portal").dossiers(tenant=PROVINCE) == []
    waiting = provincial.outbox(status="pending", kind="portal_sync")
    assert {m["group_key"] for m in waiting} == set(codes)
    assert provincial.outbox(status="dead") == []

    # the portal comes back; past the longest backoff every retry is due
    portal.clear_faults()
    provincial.advance(700)
    stack.tick()
    assert provincial.outbox(status="pending", kind="portal_sync") == []
    assert provincial.outbox(status="dead") == []

    after = [e for e in portal.journal_all(direction="in", path="/api/integration") if e["id"] > outage_start]
    by_code = {d["MaHoSo"]: d for d in stack.backend("portal").dossiers(tenant=PROVINCE)}
    assert set(by_code) == set(codes)
    for code in codes:
        mine = sut.dossier(code)
        statuses = [h["status"] for h in mine["history"]]
        theirs = by_code[code]
        assert theirs["TrangThaiHoSo"] == mine["status"]
        # the progress history on the portal is the province's, entry for entry: none lost, none twice
        progress = [(h["TrangThai"], h["ThoiDiem"]) for h in theirs["LichSu"] if h["DichVu"] == "CapNhatTienDoHoSoMC"]
        assert progress == [(h["status"], h["at"]) for h in mine["history"]]
        # and every sync call was accepted exactly once, in the order the province made them
        expected: list[tuple[str, int]] = []
        for i, status in enumerate(statuses):
            if i == 0 or status in RECORD_CHANGES:  # the whole record goes when it is created or changes
                expected.append(("DongBoHoSoMC", status))
            expected.append(("CapNhatTienDoHoSoMC", status))
        assert _accepted_calls(after, code) == expected


def _outage_dossier(stack, sut: HttpSUT) -> str:
    """A dossier received (status 2) while the adapter API is down: its syncs wait in the system."""
    http = stack.session()
    portal = stack.admin("portal")
    portal.add_fault(action="error", path="/api/integration", status=503)
    tokens = portal_citizen_login(http, stack.urls["portal"], portal.get("/portal/client"), f"citizen:{UNITS[0].code}:0")
    portal_code = submit_dossier(http, stack.urls["portal"], tokens.access_token, procedure="2.000815",
                                 ward=UNITS[0].code)
    stack.tick()
    [dossier] = sut.dossiers(portal_code=portal_code)
    sut.act(dossier["code"], "receive")
    return str(dossier["code"])


def _refused_with(portal, code: str) -> int:
    return sum(f'"{code}"' in (e["request_body"] or "") for e in portal.journal_all(path="/api/integration")
               if (e.get("keys") or {}).get("fault"))


def test_each_tick_with_retry_now_is_one_more_attempt_and_a_durable_queue_survives_a_restart(stack):
    """The driver contract (docs/cert-driver.openapi.yaml): tick runs what is due before answering; with
    retry_now, what waits out a backoff too; the answer says what is left. The outbox never gives up
    within an outage of many attempts, and a restart of the background work loses nothing."""
    sut = HttpSUT(PROVINCIAL_URL, stack.sut_token, stack.session())
    portal = stack.admin("portal")
    code = _outage_dossier(stack, sut)
    answers = [sut.tick(retry_now=True) for _ in range(15)]
    assert _refused_with(portal, code) >= 15  # the first attempt at receipt, then one per tick
    assert all(a["pending"] >= 1 and a["due"] == 0 and a["in_flight"] == 0 for a in answers)
    assert sut.tick()["outbox"]["attempted"] == 0  # without retry_now, nothing is due yet (backing off)
    assert sut.restart() == {"restarted": True, "workers": 0}
    assert sut.tick(retry_now=True)["pending"] >= 1
    portal.clear_faults()
    after = sut.tick(retry_now=True)
    assert (after["pending"], after["due"], after["in_flight"]) == (0, 0, 0)
    record = stack.backend("portal").dossiers(tenant=PROVINCE)
    assert [d["TrangThaiHoSo"] for d in record if d["MaHoSo"] == code] == [2]


def _ticks_until_nothing_is_left(sut: HttpSUT, limit: int = 20) -> int:
    for n in range(1, limit + 1):
        if sut.tick(retry_now=True)["pending"] == 0:
            return n
    raise AssertionError(f"still pending after {limit} ticks")


@pytest.mark.parametrize("defect", ["sync_queue_in_memory", "sync_gives_up_after_3_attempts"])
def test_a_queue_in_memory_or_one_that_gives_up_loses_the_syncs(database_url, tmp_path, defect):
    s = reference_stack([PROVINCE], database_url=database_url, workdir=str(tmp_path), defects=defect)
    try:
        sut = HttpSUT(PROVINCIAL_URL, s.sut_token, s.session())
        portal = s.admin("portal")
        code = _outage_dossier(s, sut)
        for _ in range(2):
            assert sut.tick(retry_now=True)["pending"] >= 1
        if defect == "sync_queue_in_memory":
            sut.restart()
            assert sut.tick(retry_now=True)["pending"] == 0  # the restart dropped the queue
        else:  # each sync is given up after its third attempt, one after another
            _ticks_until_nothing_is_left(sut)
            dead = s.admin("provincial").outbox(status="dead", kind="portal_sync")
            assert dead and {m["attempts"] for m in dead} == {3}
        refused = _refused_with(portal, code)
        for _ in range(5):
            sut.tick(retry_now=True)
        assert _refused_with(portal, code) == refused  # no attempt follows
        portal.clear_faults()
        sut.tick(retry_now=True)
        assert [d for d in s.backend("portal").dossiers(tenant=PROVINCE) if d["MaHoSo"] == code] == []
    finally:
        s.close()

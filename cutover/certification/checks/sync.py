"""SYNC: every dossier's history reaches the portal with legal transitions; an outage loses
nothing; the records reconcile field by field, carry what they must, are sent exactly once, and
the portal refused nothing (features/sync.feature; the comparisons are in `records`)."""

from __future__ import annotations

import json
from typing import Any

from ..journey import run_province_journeys
from ..registry import requirement
from ..session import HARNESS_HEADER, CertSession
from .base import Verdicts, collapse, forget_portal_dossiers, fresh_dossier, portal_dossier
from .probes import Refusal, refusals
from .records import (
    SyncCall,
    duplicate_problems,
    record_differences,
    required_problems,
    sync_call,
    time_problems,
)


def compare_histories(portal: dict[str, Any] | None, mine: dict[str, Any]) -> str | None:
    """None when the portal holds the dossier's whole history exactly as the province does."""
    if portal is None:
        return "the portal has no such dossier"
    ours = [h["status"] for h in mine["history"]]
    theirs = collapse([h["TrangThai"] for h in portal["LichSu"]])
    if portal["TrangThaiHoSo"] != mine["status"]:
        return f"status on the portal {portal['TrangThaiHoSo']}, in the province {mine['status']}"
    if theirs != ours:
        return f"transitions on the portal {theirs}, in the province {ours}"
    progress = [(h["TrangThai"], h["ThoiDiem"]) for h in portal["LichSu"] if h["DichVu"] == "CapNhatTienDoHoSoMC"]
    expected = [(h["status"], h["at"]) for h in mine["history"]]
    if progress != expected:
        return f"progress entries on the portal {progress} differ from the province's {expected}"
    return None


def stated_record(session: CertSession, code: str) -> tuple[dict[str, Any] | None, str | None]:
    """The record the system states it holds, in the portal's names (driver: `GET /cert/v1/dossiers/{code}/record`),
    or why there is none to compare."""
    try:
        stated = session.sut.record(code)
    except Exception as err:  # noqa: BLE001 - a driver without the operation is the finding
        return None, (f"the system does not state its record of {code} in the portal's names "
                      f"(GET /cert/v1/dossiers/{{code}}/record): {type(err).__name__}: {str(err)[:200]}")
    if not isinstance(stated, dict) or not isinstance(stated.get("hoso"), dict) or \
            not isinstance(stated.get("tien_do"), list):
        return None, f"the driver's record of {code} is not {{\"hoso\": {{...}}, \"tien_do\": [...]}}"
    return stated, None


@requirement("SYNC-1", scope="commune",
             title="the portal holds each dossier's record, field by field, and its whole history as the system does")
def histories_reconcile(session: CertSession, province: str) -> list[str]:
    """Statuses and transitions as the driver shows them, then every HoSo field and progress entry."""
    v = Verdicts(session, "SYNC-1", province)
    forget_portal_dossiers(session, province)
    for j in run_province_journeys(session, province).values():
        if not j.sut_code:
            v.judge(False, "no dossier reached the system under test to reconcile", commune=j.unit.code)
            continue
        portal = portal_dossier(session, province, j.sut_code)
        problem = compare_histories(portal, session.sut.dossier(j.sut_code))
        problems = [problem] if problem else []
        if portal is not None:
            stated, missing = stated_record(session, j.sut_code)
            problems += record_differences(stated, portal) if stated is not None else [str(missing)]
        v.findings([f"dossier {j.sut_code}: {p}" for p in problems], commune=j.unit.code, code=j.sut_code)
    return v.failures


@requirement("SYNC-2", scope="province", title="a portal outage while a dossier is processed loses nothing")
def outage_loses_nothing(session: CertSession, province: str) -> list[str]:
    """Advance one dossier while the portal's adapter API is down; after it recovers, nothing is missing."""
    v = Verdicts(session, "SYNC-2", province)
    unit = session.units_of(province)[0]
    code = fresh_dossier(session, province, unit.code, actions=("receive",))
    if code is None:
        v.judge(False, "could not get a dossier to the system under test for the outage test")
        return v.failures
    portal = session.admins["portal"]
    fault = portal.add_fault(action="error", path="/api/integration", status=503, message="portal maintenance")
    try:
        session.sut.act(code, "process")
        session.sut.act(code, "request_supplement")
        session.settle(rounds=3)
    finally:
        portal._call("DELETE", f"/faults/{fault}")
    session.sut.tick(retry_now=True)
    session.settle()
    forget_portal_dossiers(session, province)
    problem = compare_histories(portal_dossier(session, province, code), session.sut.dossier(code))
    v.judge(problem is None, f"after a portal outage, dossier {code}: {problem}", code=code)
    return v.failures


@requirement("SYNC-3", scope="commune",
             title="each dossier's record on the portal names its commune, carries what its status requires, "
                   "and dates each step when it happened")
def records_carry_what_they_must(session: CertSession, province: str) -> list[str]:
    """Whatever the system claims: the handling commune's agency code (from the unit registry), the
    fields the status requires, and dates within a tolerance of when the harness acted."""
    v = Verdicts(session, "SYNC-3", province)
    forget_portal_dossiers(session, province)
    for j in run_province_journeys(session, province).values():
        record = portal_dossier(session, province, j.sut_code) if j.sut_code else None
        if record is None:
            which = j.sut_code or "none reached the system under test"
            v.judge(False, f"the portal holds no record of the commune's dossier ({which})", commune=j.unit.code)
            continue
        problems = required_problems(record, j.unit.agency_code) + time_problems(record, j.acted)
        v.findings([f"dossier {j.sut_code}: {p}" for p in problems], commune=j.unit.code, code=j.sut_code)
    return v.failures


def _system_entries(session: CertSession, province: str) -> list[dict[str, Any]]:
    """The portal's journal of the adapter API for the province: the system's requests only (not the
    harness's, not a fault the harness injected), oldest first."""
    seen: dict[int, dict[str, Any]] = {}
    for path in ("/api/integration", "/api/share"):
        for e in session.admins["portal"].journal_all(direction="in", tenant=province, path=path):
            headers = {k.lower() for k in (e.get("request_headers") or {})}
            if HARNESS_HEADER.lower() not in headers and not (e.get("keys") or {}).get("fault"):
                seen[e["id"]] = e
    return [seen[i] for i in sorted(seen)]


def _sync_calls(session: CertSession, province: str) -> list[SyncCall]:
    return [c for c in (sync_call(e) for e in _system_entries(session, province)) if c is not None]


@requirement("SYNC-4", scope="commune",
             title="each dossier was created once on the portal and each progress entry sent once")
def synced_exactly_once(session: CertSession, province: str) -> list[str]:
    """From the portal's journal (creates, entries it answered it already held) and history."""
    v = Verdicts(session, "SYNC-4", province)
    forget_portal_dossiers(session, province)
    journeys = run_province_journeys(session, province)
    calls = _sync_calls(session, province)
    for j in journeys.values():
        if not j.sut_code:
            v.judge(False, "no dossier reached the system under test", commune=j.unit.code)
            continue
        stated, _ = stated_record(session, j.sut_code)
        problems = duplicate_problems(j.sut_code, calls, portal_dossier(session, province, j.sut_code), stated)
        v.findings([f"dossier {j.sut_code}: {p}" for p in problems], commune=j.unit.code, code=j.sut_code)
    return v.failures


SYNC_CHANNEL = ("/api/auth", "/api/integration", "/api/share")
CATALOGUE_SERVICES = frozenset({"KhaiBaoCoQuan"})
"""Declaring agencies is UNITS' channel: its refusals are UNITS' findings."""


@requirement("SYNC-5", scope="commune", final=True,
             title="the portal refused none of the system's requests during the run")
def nothing_refused(session: CertSession, province: str) -> list[str]:
    """Every refusal of the adapter API counts, even one a later attempt made good; each goes to the
    commune of its dossier, and one no dossier explains (a login, a batch) to every selected commune."""
    v = Verdicts(session, "SYNC-5", province)
    concerns: dict[tuple[str, str, str], tuple[str | None, str | None, str]] = {}

    def keep(entry: dict[str, Any]) -> bool:
        answer = str(entry.get("response_body") or "")
        if "session has expired" in answer:
            return False  # the protocol's own limit: logging in again is the right answer to it
        call = sync_call(entry)
        service = call.service if call else (entry.get("keys") or {}).get("service")
        if service in CATALOGUE_SERVICES:
            return False
        field = _error_field(entry)
        concerns[(entry.get("at", ""), entry["method"], entry["url"].split("?", 1)[0])] = (
            _dossier_of(field, call), service, field)
        return True

    ward_of = {d["code"]: d.get("ward") for d in session.sut.dossiers(province=province)}
    selected = [u.code for u in session.units_of(province)]
    per_commune: dict[str, list[str]] = {c: [] for c in selected}
    everyone: list[str] = []
    for r in refusals(session, province, "portal", paths=SYNC_CHANNEL, keep=keep):
        named, service, field = concerns.get((r.at, r.method, r.path), (None, None, ""))
        code = r.ma_ho_so or named or next((c for c in ward_of if c in r.message), None)
        commune = r.commune or ward_of.get(code or "")
        text = _quoted(r, service, code, field)
        if commune in per_commune:
            per_commune[commune].append(text)
        else:
            everyone.append(text + (f" (commune {commune}, not in this selection)" if commune else ""))
    for commune in selected:
        v.findings(per_commune[commune] + everyone, commune=commune, refusals=len(per_commune[commune] + everyone))
    return v.failures


def _error_field(entry: dict[str, Any]) -> str:
    """The field the portal's error envelope names (`data[2].NgayTra`), if any."""
    try:
        answer = json.loads(entry.get("response_body") or "{}")
    except ValueError:
        return ""
    return str(answer.get("field") or "") if isinstance(answer, dict) else ""


def _dossier_of(field: str, call: SyncCall | None) -> str | None:
    """The dossier a refused request concerns: the one it carried, or the one the error's field names."""
    if call is None or not call.codes:
        return None
    if len(set(call.codes)) == 1:
        return call.codes[0]
    index = field[5:field.index("]")] if field.startswith("data[") and "]" in field else ""
    return call.codes[int(index)] if index.isdigit() and int(index) < len(call.codes) else None


def _quoted(r: Refusal, service: str | None, code: str | None, field: str) -> str:
    """The refusal in the portal's own words, with what it concerned."""
    about = "".join(f", {k} {v}" for k, v in (("dossier", code), ("field", field)) if v)
    return f'the portal refused {service or r.path} ({r.method} {r.path}, HTTP {r.status}{about}): "{r.message}"'

"""SYNC: every dossier's history reaches the portal with legal transitions; an outage loses
nothing; the records reconcile field by field, carry what they must, are sent exactly once, and
the portal refused nothing (features/sync.feature; the comparisons are in `records`)."""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from clients.driver import DriverError
from cutover.flows.sso import portal_citizen_login
from cutover.flows.submit import submit_dossier
from protocols.envelope import already_exists
from refdata.units import registry

from ..journey import JOURNEY_PROCEDURE, Journey, run_province_journeys
from ..registry import requirement
from ..results import PASSED, Outcome
from ..session import HARNESS_HEADER, CertSession
from .base import Verdicts, collapse, forget_portal_dossiers, portal_dossier
from .probes import NEVER_ISSUED, Refusal, refusals
from .records import (
    SyncCall,
    duplicate_problems,
    early_return_dates,
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


Listings = dict[str, "list[dict[str, Any]] | str"]
"""The driver's province-wide listings a check has read, by query (a list, or why it failed)."""


def listing_problems(session: CertSession, province: str, commune: str, code: str,
                     listings: Listings | None = None) -> list[str]:
    """The driver's listing (`GET /cert/v1/dossiers`) honours its filters, as the checks that read it rely
    on: the province's listing and the commune's hold dossier `code`, and nothing of another province or
    commune; another province's listing holds nothing of this one.

    `listings` keeps the two province-wide listings for the next commune of the same check (nothing
    changes while it reads): each commune's own listing is read every time, the province's once, not
    once per commune (a province of a hundred communes read its whole listing two hundred times)."""
    other = next(p.code for p in registry().provinces() if p.code != province)
    out: list[str] = []
    for query in ({"province": province}, {"province": province, "ward": commune}, {"province": other}):
        asked = ", ".join(f"{k}={v}" for k, v in query.items())
        kept = listings if listings is not None and "ward" not in query else {}
        if asked not in kept:
            try:
                kept[asked] = session.sut.dossiers(**query)
            except Exception as err:  # noqa: BLE001 - a driver that cannot filter is the finding
                kept[asked] = f"{type(err).__name__}: {str(err)[:200]}"
        listed = kept[asked]
        if isinstance(listed, str):
            out.append(f"the driver's listing ({asked}) failed: {listed}")
            continue
        foreign = sorted(f"{d.get('code')} (province {d.get('province')}, ward {d.get('ward')})" for d in listed
                         if any(d.get(k) != v for k, v in query.items()))
        if foreign:
            out.append(f"the driver's listing ({asked}) holds dossiers it was asked to leave out: {', '.join(foreign)}")
        if query["province"] == province and code not in {d.get("code") for d in listed}:
            out.append(f"the driver's listing ({asked}) does not hold the dossier {code}; it holds "
                       f"{len(listed)} other(s)")
    return out


def unknown_dossier_problems(session: CertSession) -> list[str]:
    """The driver finds a dossier by its exact code: a code never issued is 404 (the contract), never the
    dossier a look-up at or after it happens to find, which the checks would then judge in its place."""
    out = []
    for code in NEVER_ISSUED:
        try:
            found = session.sut.dossier(code)
        except DriverError as err:
            if err.status != 404:
                out.append(f"the driver answered GET /cert/v1/dossiers/{code} (a code never issued) with HTTP "
                           f"{err.status}, not 404")
            continue
        except Exception:  # noqa: BLE001, S112 - an adapter class's own "not found"
            continue
        out.append(f"the driver answered GET /cert/v1/dossiers/{code}, a code never issued, with the dossier "
                   f"{(found or {}).get('code')!r}: a look-up that is not by the exact code (the contract says 404)")
    return out


@requirement("SYNC-1", scope="commune",
             title="the portal holds each dossier's record, field by field, and its whole history as the system does")
def histories_reconcile(session: CertSession, province: str) -> list[str]:
    """Statuses and transitions as the driver shows them, then every HoSo field and progress entry."""
    v = Verdicts(session, "SYNC-1", province)
    forget_portal_dossiers(session, province)
    listings: Listings = {}

    def problems_of(j: Journey) -> list[str]:
        code = j.sut_code or ""
        portal = portal_dossier(session, province, code)
        problem = compare_histories(portal, session.sut.dossier(code))
        problems = ([problem] if problem else []) + listing_problems(session, province, j.unit.code, code, listings)
        if portal is not None:
            stated, missing = stated_record(session, code)
            problems += record_differences(stated, portal) if stated is not None else [str(missing)]
        return problems

    journeys = list(run_province_journeys(session, province).values())
    reached = [j for j in journeys if j.sut_code]
    # The first commune reads what the others share (the portal's records, the province-wide listings);
    # the others only read, a few at once live.
    found = dict(zip((j.unit.code for j in reached),
                     [problems_of(j) for j in reached[:1]] + session.each(problems_of, reached[1:]), strict=True))
    for j in journeys:
        if not j.sut_code:
            v.judge(False, "no dossier reached the system under test to reconcile", commune=j.unit.code)
            continue
        v.findings([f"dossier {j.sut_code}: {p}" for p in found[j.unit.code]], commune=j.unit.code, code=j.sut_code)
    unit = session.units_of(province)[0]
    paths = workflow_paths(session, province, unit.code)
    v.findings(paths["problems"] + unknown_dossier_problems(session), commune=unit.code,
               workflow_paths=paths["evidence"])
    return v.failures


WORKFLOW_PATHS = (
    ("refuse",),
    ("receive", "request_fee", "stop"),
    ("receive", "finish"),
    ("withdraw",),
    ("receive", "withdraw"),
    ("receive", "stop"),
    ("receive", "process", "stop"),
    ("receive", "process", "withdraw"),
    ("receive", "request_supplement", "stop"),
    ("receive", "request_supplement", "withdraw"),
)
"""Legal moves of the one-stop office the journey does not make (docs/cert-driver.openapi.yaml, actions;
the portal's LEGAL_TRANSITIONS): a refusal at receipt (3), fees or the result straight after receipt, a stop (8) and a citizen's
withdrawal (7) from every status that allows them (withdrawal from fees requested is PAY-2's)."""


def workflow_paths(session: CertSession, province: str, ward: str) -> dict[str, Any]:
    """A dossier of `ward` driven along each of `WORKFLOW_PATHS`: every legal action is accepted, lands
    on its documented status, and the portal then holds the ended dossier's status, whole history and
    record as the system does."""
    http = session.http()
    tokens = portal_citizen_login(http, session.urls["portal"], session.admins["portal"].get("/portal/client"),
                                  f"citizen:{ward}:5")
    portal_codes = [submit_dossier(http, session.urls["portal"], tokens.access_token, procedure=JOURNEY_PROCEDURE,
                                   ward=ward) for _ in WORKFLOW_PATHS]
    session.settle()
    problems: list[str] = []
    evidence: list[dict[str, Any]] = []
    driven: list[str] = []
    for path, portal_code in zip(WORKFLOW_PATHS, portal_codes, strict=True):
        found = session.sut.dossiers(portal_code=portal_code)
        if not found:
            problems.append(f"the dossier {portal_code} submitted for the path {' > '.join(path)} never reached "
                            "the system")
            continue
        code = str(found[0]["code"])
        statuses = [int(found[0]["status"])]
        for action in path:
            try:
                statuses.append(int(session.sut.act(code, action)["status"]))
            except Exception as err:  # noqa: BLE001 - refusing a legal move is the finding
                problems.append(f"dossier {code}: the system refused {action} in status {statuses[-1]}, a legal "
                                f"move (path {' > '.join(path)}): {str(err)[:300]}")
                break
            if statuses[-1] != ACTION_STATUS[action]:
                problems.append(f"dossier {code}: {action} moved it to status {statuses[-1]}, not "
                                f"{ACTION_STATUS[action]}")
                break
        evidence.append({"code": code, "path": list(path), "statuses": statuses})
        driven.append(code)
    session.settle()
    forget_portal_dossiers(session, province)
    for code in driven:
        portal = portal_dossier(session, province, code)
        found_problems = [p for p in [compare_histories(portal, session.sut.dossier(code))] if p]
        if portal is not None:
            stated, missing = stated_record(session, code)
            found_problems += record_differences(stated, portal) if stated is not None else [str(missing)]
        problems += [f"dossier {code} (driven {' > '.join(next(e['path'] for e in evidence if e['code'] == code))})"
                     f": {p}" for p in found_problems]
    return {"problems": problems, "evidence": evidence}


ACTION_STATUS = {"receive": 2, "refuse": 3, "process": 4, "request_supplement": 5, "request_fee": 6, "finish": 9,
                 "return": 10, "stop": 8, "withdraw": 7}
"""The status each driver action leads to (docs/cert-driver.openapi.yaml, the action table)."""


OUTAGE_ATTEMPTS_VARIABLE = "CUTOVER_OUTAGE_ATTEMPTS"
DEFAULT_OUTAGE_ATTEMPTS = 10
OUTAGE_PATHS = (  # what the officers do to each outage dossier while the portal is down (one step per tick)
    ("process", "request_supplement", "process"),
    ("process", "finish", "return"),
    ("request_supplement", "process", "finish"),
)
RECOVERY_ROUNDS = 10
TRANSIENT_STATUSES = (408, 429, 401)
"""Refusals that say "try again" (a timeout, too many requests, the session expired): after the outage the
portal answers one whole round of attempts with each, so a refused batch's one-by-one retries meet it
too, and a system that takes one for final loses the sync. The 401 round comes last and the province's
sessions really end with it: the next attempt must log in again, not retry with the dead session."""
NO_RESTART = ("the outage ran without a restart: the system offers no POST /cert/v1/restart, so a sync queue "
              "kept only in memory could not be told from a durable one")


def outage_attempts() -> int:
    """How many refused delivery attempts the outage spans (`CUTOVER_OUTAGE_ATTEMPTS`, 10 by default)."""
    raw = os.environ.get(OUTAGE_ATTEMPTS_VARIABLE, "")
    try:
        value = int(raw) if raw.strip() else DEFAULT_OUTAGE_ATTEMPTS
    except ValueError:
        raise ValueError(f"{OUTAGE_ATTEMPTS_VARIABLE} must be a whole number of attempts, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{OUTAGE_ATTEMPTS_VARIABLE} must be at least 1, got {value}")
    return value


@dataclass
class AdapterLog:
    """The portal's journal of adapter calls (`/api/integration`) from now on, read as it grows, as far as
    it concerns `codes`: the system's attempts the harness's fault refused, and the progress entries
    the portal accepted."""

    session: CertSession
    codes: list[str]
    after: int = 0
    entries: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.after = self.session.admins["portal"].journal_mark()

    def read(self) -> None:
        admin = self.session.admins["portal"]
        while True:
            page = admin.journal(direction="in", path="/api/integration", after_id=self.after, limit=5000)
            self.entries += [e for e in page if not _from_harness(e)]
            if page:
                self.after = page[-1]["id"]
            if len(page) < 5000:
                return

    def refused(self) -> dict[str, int]:
        """Per dossier, the attempts to sync it that the injected outage refused."""
        faulted = [e.get("request_body") or "" for e in self.entries if (e.get("keys") or {}).get("fault")]
        return {code: sum(f'"{code}"' in body for body in faulted) for code in self.codes}

    def progress_accepted(self) -> Counter[tuple[str, Any, Any]]:
        """(dossier, status, time) of every progress entry the portal accepted, counted."""
        found: Counter[tuple[str, Any, Any]] = Counter()
        for e in self.entries:
            body = _json(e.get("request_body"))
            if (e.get("keys") or {}).get("fault") or e.get("status") != 200 or not answer_ok_body(e) \
                    or body.get("service") != "CapNhatTienDoHoSoMC":
                continue
            for item in body.get("data") or []:
                if isinstance(item, dict) and item.get("MaHoSo") in self.codes:
                    found[(item["MaHoSo"], item.get("TrangThai"), item.get("ThoiDiemXuLy"))] += 1
        return found


def _from_harness(entry: dict[str, Any]) -> bool:
    return HARNESS_HEADER.lower() in {k.lower() for k in (entry.get("request_headers") or {})}


def _json(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def answer_ok_body(entry: dict[str, Any]) -> bool:
    return _json(entry.get("response_body")).get("error_code") in (0, "0", "00")


@dataclass
class Outage:
    """The portal's adapter API down while officers advance `codes`, driven by the driver's tick."""

    session: CertSession
    codes: list[str]
    wanted: int
    log: AdapterLog
    ticks: int = 0
    restart: str = ""
    trace: list[int] = field(default_factory=list)
    """The outage's length in attempts after each tick."""

    def run(self) -> None:
        """Tick with retry_now (each tick is one more attempt of every waiting sync) until the outage has
        refused `wanted` attempts of some dossier, applying one officer action per dossier per tick and
        restarting the system half-way when it offers it; bounded, for a system that stops retrying."""
        steps = max(len(p) for p in OUTAGE_PATHS)
        restart_tick = max(1, (self.wanted + 1) // 2)
        while self.ticks < 2 * self.wanted + steps:
            for i, code in enumerate(self.codes):
                path = OUTAGE_PATHS[i % len(OUTAGE_PATHS)]
                if self.ticks < len(path):
                    self.session.sut.act(code, path[self.ticks])
            self.session.tick_system(retry_now=True)
            self.ticks += 1
            self.log.read()
            self.trace.append(self.attempts())
            if self.ticks == restart_tick:
                self._restart()
            if self.ticks >= max(steps, restart_tick) and self.attempts() >= self.wanted:
                return

    def _restart(self) -> None:
        restart = getattr(self.session.sut, "restart", None)
        answer = restart() if restart is not None else None
        self.restart = f"after tick {self.ticks}" if answer is not None else "not offered"

    def attempts(self) -> int:
        """The outage's length in attempts: the most refused attempts of any one of the dossiers processed
        during it (the one forwarded during it was refused from its arrival, once more)."""
        refused = self.log.refused()
        return max((refused.get(code, 0) for code in self.codes), default=0)

    def problems(self) -> list[str]:
        got = self.attempts()
        if got >= self.wanted:
            return []
        last = next((i + 1 for i in range(len(self.trace) - 1, -1, -1)
                     if self.trace[i] > (self.trace[i - 1] if i else 0)), 0)
        restart = f", the system restarted {self.restart}" if self.restart.startswith("after") else ""
        return [f"during the outage the portal refused at most {got} attempt(s) to sync any one dossier "
                f"({self.wanted} wanted) over {self.ticks} tick(s) with retry_now, none after tick {last}{restart}: "
                f"the system stopped retrying"]


@requirement("SYNC-2", scope="province", title="a portal outage while dossiers are processed loses nothing")
def outage_loses_nothing(session: CertSession, province: str) -> list[str]:
    """Keep the portal's adapter API down for many delivery attempts (`CUTOVER_OUTAGE_ATTEMPTS`, 10 by
    default) while several dossiers go through several transitions, restart the system in the middle
    when it offers it; after the portal recovers, every transition is on the portal once, in order."""
    v = Verdicts(session, "SYNC-2", province)
    wanted = outage_attempts()
    units = session.units_of(province)
    codes = received_dossiers(session, [units[i % len(units)].code for i in range(len(OUTAGE_PATHS))])
    if codes is None:
        v.judge(False, "could not get the dossiers of the outage test to the system under test")
        return v.failures
    portal = session.admins["portal"]
    # Just before the outage the portal stores a new dossier but its answer is lost (the connection drops):
    # the retries of that creation meet "already exists" (-3), alone or in a batch with the dossier that
    # arrives during the outage, which is new. The first is the dossier delivered; the second must still land.
    lost = lost_answer_dossier(session, units[0].code, first_citizen=3 + len(codes))
    log = AdapterLog(session, codes)
    fault = portal.add_fault(action="error", path="/api/integration", status=503, message="portal maintenance")
    try:
        # One more dossier arrives during the outage: its creation (DongBoHoSoMC, isUpdating False) is a
        # call of its own, of one dossier, refused like the rest; it too must be retried until it lands.
        late = forwarded_dossiers(session, [units[-1].code], first_citizen=4 + len(codes))
        log.codes = codes + (late or []) + (lost or [])
        outage = Outage(session, codes, wanted, log)
        outage.run()
    finally:
        portal._call("DELETE", f"/faults/{fault}")
    if late is None or lost is None:
        v.judge(False, "a dossier forwarded just before or while the portal's adapter API was down did not reach "
                       "the system")
        return v.failures
    transient_rounds(session, province)
    everything = codes + late + lost
    problems = outage.problems() + recover(session, province, everything)
    if not problems:
        problems = idle_expiry(session, province, codes[0], everything)
    outage.log.read()
    problems += sent_twice(outage.log.progress_accepted(), {code: session.sut.dossier(code) for code in everything})
    evidence: dict[str, Any] = {"codes": codes, "forwarded_during_outage": late, "answer_lost": lost,
                                "ticks": outage.ticks,
                                "refused_attempts": outage.log.refused(), "restart": outage.restart}
    if problems or outage.restart.startswith("after"):
        v.findings(problems, **evidence)
    else:  # a pass, but one that could not tell a queue kept in memory from a durable one: say so
        session.results.record(Outcome("SYNC", "SYNC-2", province, None, PASSED, NO_RESTART, evidence))
    return v.failures


def forwarded_dossiers(session: CertSession, wards: list[str], first_citizen: int = 3) -> list[str] | None:
    """A dossier submitted on the portal for each of `wards` and forwarded to the system: the system's
    codes, or None when one did not reach the system."""
    http = session.http()
    client = session.admins["portal"].get("/portal/client")
    portal_codes = []
    for n, ward in enumerate(wards):
        tokens = portal_citizen_login(http, session.urls["portal"], client, f"citizen:{ward}:{first_citizen + n}")
        portal_codes.append(submit_dossier(http, session.urls["portal"], tokens.access_token,
                                           procedure=JOURNEY_PROCEDURE, ward=ward))
    session.settle()
    codes = []
    for portal_code in portal_codes:
        found = session.sut.dossiers(portal_code=portal_code)
        if not found:
            return None
        codes.append(str(found[0]["code"]))
    return codes


def lost_answer_dossier(session: CertSession, ward: str, first_citizen: int) -> list[str] | None:
    """A dossier forwarded to the system whose first creation on the portal is stored but answered into a
    dropped connection (the portal's `lose_answer` fault, once): the system's code, waiting to be retried."""
    portal = session.admins["portal"]
    rule = portal.add_fault(action="lose_answer", path="/api/integration", count=1)
    try:
        return forwarded_dossiers(session, [ward], first_citizen=first_citizen)
    finally:
        with contextlib.suppress(Exception):  # spent by then, unless the system never sent the creation
            portal._call("DELETE", f"/faults/{rule}")


def transient_rounds(session: CertSession, province: str) -> None:
    """After the outage, one round of attempts (a tick with retry_now) refused with each of
    `TRANSIENT_STATUSES`; with the 401 round the province's adapter sessions really end (the portal's
    `sessions/expire`), those issued during the round included."""
    portal = session.admins["portal"]
    for status in TRANSIENT_STATUSES:
        rule = portal.add_fault(action="error", path="/api/integration", status=status,
                                message=f"transient refusal {status}")
        try:
            session.tick_system(retry_now=True)
        finally:
            portal._call("DELETE", f"/faults/{rule}")
        if status == 401:
            portal.post("/portal/sessions/expire", {"tenant": province})


def idle_expiry(session: CertSession, province: str, code: str, codes: list[str]) -> list[str]:
    """The province's adapter sessions end while nothing waits (its 30 minutes ran out between two syncs);
    then the officer finishes dossier `code` (processing, after its outage path): its sync must log in again
    and land, as `recover` judges."""
    session.admins["portal"].post("/portal/sessions/expire", {"tenant": province})
    try:
        session.sut.act(code, "finish")
    except Exception as err:  # noqa: BLE001 - the driver's refusal is the finding
        return [f"after the outage, finishing dossier {code} failed: {type(err).__name__}: {str(err)[:200]}"]
    return [f"after the adapter sessions expired between two syncs, {p.removeprefix('after the portal recovered, ')}"
            for p in recover(session, province, codes)]


def received_dossiers(session: CertSession, wards: list[str]) -> list[str] | None:
    """A dossier submitted on the portal for each of `wards`, forwarded and received (status 2 synced):
    the system's codes, or None when one did not reach the system."""
    codes = forwarded_dossiers(session, wards)
    if codes is None:
        return None
    for code in codes:
        session.sut.act(code, "receive")
    session.settle()
    return codes


def sent_twice(accepted: Counter[tuple[str, Any, Any]], mine: dict[str, dict[str, Any]]) -> list[str]:
    """Progress entries the portal accepted more often than the system made them (two transitions to
    the same status within one second are two entries)."""
    made = Counter((code, h["status"], h["at"]) for code, d in mine.items() for h in d["history"])
    return [f"dossier {code}: the portal accepted the progress entry of status {status} at {at} {n} times, "
            f"the system made it {made[(code, status, at)]} time(s)"
            for (code, status, at), n in sorted(accepted.items(), key=str) if n > made[(code, status, at)]]


def recover(session: CertSession, province: str, codes: list[str]) -> list[str]:
    """Let the system catch up (ticks with retry_now, then settle) until the portal holds every dossier's
    history as the system does and its tick reports nothing `pending`; what still differs, or is still
    waiting, after `RECOVERY_ROUNDS` is lost (nothing left to deliver is what the harness waits on)."""
    problems: dict[str, str | None] = {}
    left = 0
    for _ in range(RECOVERY_ROUNDS):
        session.tick_system(retry_now=True)
        session.settle()
        forget_portal_dossiers(session, province)
        problems = {code: compare_histories(portal_dossier(session, province, code), session.sut.dossier(code))
                    for code in codes}
        if not any(problems.values()):
            left = int(session.tick_system().get("pending", 0))
            if not left:
                return []
    if not any(problems.values()):
        return [f"after the portal recovered every dossier's history reached it, yet after {RECOVERY_ROUNDS} rounds of "
                f"ticks with retry_now the system's tick still reports {left} message(s) pending: a message it never "
                "delivers, or a backlog it miscounts (the count a live harness waits on)"]
    return [f"after the portal recovered, dossier {code}: {problem}" for code, problem in problems.items() if problem]
@requirement("SYNC-3", scope="commune",
             title="each dossier's record on the portal names its commune, carries what its status requires, "
                   "and dates each step when it happened")
def records_carry_what_they_must(session: CertSession, province: str) -> list[str]:
    """Whatever the system claims: the handling commune's agency code (from the unit registry), the
    channel (online) and online payment the harness used, the fields the status requires, no return
    date in a record sent before the return, and dates within a tolerance of when the harness acted."""
    v = Verdicts(session, "SYNC-3", province)
    forget_portal_dossiers(session, province)
    journeys = run_province_journeys(session, province)
    accepted = [body for e in _system_entries(session, province)
                if (call := sync_call(e)) is not None and call.accepted and (body := _json(e.get("request_body")))]
    for j in journeys.values():
        record = portal_dossier(session, province, j.sut_code) if j.sut_code else None
        if record is None:
            which = j.sut_code or "none reached the system under test"
            v.judge(False, f"the portal holds no record of the commune's dossier ({which})", commune=j.unit.code)
            continue
        fee = (j.payment or {}).get("amount")
        problems = (required_problems(record, j.unit.agency_code, paid_online="paid" in j.steps,
                                      fee=fee if isinstance(fee, int) else None)
                    + time_problems(record, j.acted) + early_return_dates(str(j.sut_code), accepted))
        v.findings([f"dossier {j.sut_code}: {p}" for p in problems], commune=j.unit.code, code=j.sut_code)
    return v.failures


def _system_entries(session: CertSession, province: str) -> list[dict[str, Any]]:
    """The portal's journal of the adapter API for the province: the system's requests only (not the
    harness's, not a fault the harness injected), oldest first."""
    seen: dict[int, dict[str, Any]] = {}
    for path in ("/api/integration", "/api/share"):
        for e in session.journal("portal", direction="in", tenant=province, path=path):
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
    lost = lost_answers(session, province)

    def keep(entry: dict[str, Any]) -> bool:
        answer = str(entry.get("response_body") or "")
        if "session has expired" in answer:
            return False  # the protocol's own limit: logging in again is the right answer to it
        call = sync_call(entry)
        service = call.service if call else (entry.get("keys") or {}).get("service")
        if service in CATALOGUE_SERVICES:
            return False
        field = _error_field(entry)
        if call is not None and call.creating and _dossier_of(field, call) in lost and \
                already_exists(_json(entry.get("response_body"))):
            return False  # the retry of a creation whose answer the harness lost: "already exists" is its answer
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


def lost_answers(session: CertSession, province: str) -> set[str]:
    """The dossiers whose creation the portal stored while the harness lost its answer (a `lose_answer`
    fault, SYNC-2): a retry of that creation is rightly told the dossier already exists."""
    out: set[str] = set()
    for entry in session.journal("portal", direction="in", tenant=province, path="/api/integration"):
        call = sync_call(entry) if (entry.get("keys") or {}).get("fault") == "lose_answer" else None
        if call is not None and call.creating and call.accepted:
            out.update(call.codes)
    return out


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

"""What every check shares: recording outcomes (`Verdicts`), running a requirement so that a crash
becomes an `error` outcome for everything it should have judged, and small helpers over the
session (a fresh dossier, the portal's copy of a dossier, the run's clock).
"""

from __future__ import annotations

import traceback
from datetime import datetime
from typing import Any

from protocols.dates import VN_TZ
from protocols.envelope import error_code_is_zero

from ..registry import get
from ..results import ERROR, FAILED, PASSED, Outcome
from ..session import CertSession


class Verdicts:
    """Collects one requirement's outcomes for one province and records them in the run."""

    def __init__(self, session: CertSession, scenario: str, province: str) -> None:
        self.session, self.scenario, self.province = session, scenario, province
        self.check = scenario.split("-", 1)[0]
        self.failures: list[str] = []

    def judge(self, ok: bool, message: str, commune: str | None = None, **evidence: Any) -> bool:
        self.session.results.record(Outcome(self.check, self.scenario, self.province, commune,
                                            PASSED if ok else FAILED, message if not ok else "", evidence))
        if not ok:
            self.failures.append(f"{commune or self.province}: {message}")
        return ok

    def findings(self, problems: list[str], commune: str | None = None, **evidence: Any) -> bool:
        """One outcome from a list of problems: passed when there are none."""
        return self.judge(not problems, "; ".join(problems), commune, **evidence)


class CheckCrashed(AssertionError):
    """A check raised instead of judging: every cell it should have judged is an error."""


def run_requirement(session: CertSession, rid: str, province: str) -> list[str]:
    """Judge requirement `rid` for `province` once per run (both languages share the result).

    An exception inside the check is recorded as an `error` outcome, with its message, for every
    commune (or the province) the requirement should have judged, then raised as `CheckCrashed`:
    an error is never a pass, and never silence.
    """
    key = f"requirement:{rid}:{province}"
    if key not in session.cache:
        req = get(rid)
        try:
            session.cache[key] = req.fn(session, province)
        except Exception as exc:  # noqa: BLE001 - every crash becomes evidence, then fails the scenario
            message = f"the check crashed: {type(exc).__name__}: {exc}"
            where = traceback.extract_tb(exc.__traceback__)[-1:]
            origin = f"{where[0].filename}:{where[0].lineno}" if where else ""
            cells = ([u.code for u in session.units_of(province)] if req.scope == "commune" else [None])
            for commune in cells:
                session.results.record(Outcome(req.check, rid, province, commune, ERROR, message,
                                               {"exception": type(exc).__name__, "at": origin}))
            session.cache[key] = CheckCrashed(f"{rid} for province {province}: {message}")
    found = session.cache[key]
    if isinstance(found, CheckCrashed):
        raise found
    failures: list[str] = found
    return failures


def collapse(statuses: list[int]) -> list[int]:
    """Statuses with consecutive repeats folded (a record and its progress entry carry the same one)."""
    out: list[int] = []
    for s in statuses:
        if not out or out[-1] != s:
            out.append(s)
    return out


def session_now(session: CertSession) -> datetime:
    """The harness's own time in Asia/Ho_Chi_Minh (what "consistent with real time" is measured by)."""
    return datetime.now(VN_TZ)


def answer_ok(resp: Any) -> bool:
    """An HTTP answer with a 2xx status whose `error_code` means success."""
    try:
        return bool(resp.status_code < 300 and error_code_is_zero(resp.json().get("error_code")))
    except (ValueError, AttributeError):
        return False


def portal_dossier(session: CertSession, province: str, code: str) -> dict[str, Any] | None:
    """The portal's stored record of a province's dossier (cached until `forget_portal_dossiers`)."""
    key = f"portal_dossiers:{province}"
    if key not in session.cache:
        found = session.admins["portal"].get("/portal/dossiers", tenant=province)["dossiers"]
        session.cache[key] = {d["MaHoSo"]: d for d in found}
    cached: dict[str, Any] | None = session.cache[key].get(code)
    return cached


def forget_portal_dossiers(session: CertSession, province: str) -> None:
    session.cache.pop(f"portal_dossiers:{province}", None)

"""A commune's journey as one causal chain across the services, built from the journals.

Every exchange a mock (and, in process, the reference system) journaled for the commune, or for
one of its dossiers (the portal's code, the province's code, the payment reference), becomes one
event: when, which service, which step of the journey, the HTTP status, and where the evidence is
(`evidence/journal-<service>.jsonl.gz`, entry id). Events are ordered by time, then by journal id,
and grouped into the journey's phases, so a vendor sees where a commune broke.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

PHASES = ("login", "submission", "processing", "payment", "result", "axis", "other")
"""The journey's phases, in order; each check's failures are shown beside its phase."""

PHASE_OF_CHECK = {"SSO": "login", "SUBMIT": "submission", "PROMO": "submission", "SYNC": "processing",
                  "PAY": "payment", "SIGNED": "result", "DOCAXIS": "axis", "UNITS": "other", "IFACE": "other"}


@dataclass(frozen=True)
class Event:
    at: str
    service: str
    phase: str
    step: str
    status: int | None
    ok: bool
    ref: str
    detail: str = ""

    def as_row(self) -> list[Any]:
        return [self.at, self.service, self.phase, self.step, self.status, self.ok, self.ref, self.detail]


def _body(entry: dict[str, Any]) -> Any:
    raw = entry.get("request_body")
    if isinstance(raw, str) and raw[:1] in "{[":
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return None


def _answer_error(entry: dict[str, Any]) -> str:
    """The answer's own words when it refused (a 4xx/5xx, or an error envelope in a 2xx), else ""."""
    raw = entry.get("response_body")
    status = entry.get("status") or 0
    body: Any = None
    if isinstance(raw, str) and raw[:1] == "{":
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
    if isinstance(body, dict):
        code = body.get("error_code")
        nested: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
        words = body.get("message") or body.get("error_description") or nested.get("message") or body.get("error")
        if status >= 400 or code not in (None, 0, "0", "00"):
            return (f"error_code {code}: " if code is not None else "") + str(words or raw)[:300]
        return ""
    if status >= 400 or entry.get("error"):
        return str(entry.get("error") or raw or f"HTTP {status}")[:300]
    return ""


def describe(entry: dict[str, Any]) -> tuple[str, str]:
    """(phase, step) of a journal entry, in the words of the journey."""
    service, path = entry.get("service", ""), entry.get("url", "").split("?", 1)[0]
    direction, keys = entry.get("direction"), entry.get("keys") or {}
    body = _body(entry)
    data = body if isinstance(body, dict) else {}
    if service == "portal":
        if path.startswith("/oauth2/authorize"):
            return "login", f"SSO authorize ({keys.get('client_id', '')})"
        if path.startswith("/oauth2/token"):
            return "login", f"SSO code exchange ({keys.get('client_id', '')})"
        if path.startswith("/oauth2/userinfo"):
            return "login", "SSO userinfo"
        if path.startswith("/dvc/api/v1/submissions"):
            return "submission", "citizen submits on the national portal"
        if direction == "out":
            kind = keys.get("kind", "")
            return "submission", f"portal forwards the {'promotion' if kind == 'promotion' else 'dossier'} " \
                                 f"to the province (attempt {keys.get('attempt', 1)})"
        if path.startswith(("/api/integration", "/api/share", "/api/auth")):
            name = keys.get("service") or data.get("service") or path.rsplit("/", 1)[-1]
            states = sorted({str(d.get("TrangThai") or d.get("TrangThaiHoSo")) for d in data.get("data") or []
                             if isinstance(d, dict) and (d.get("TrangThai") or d.get("TrangThaiHoSo"))})
            return "processing", f"sync {name}" + (f" (status {', '.join(states)})" if states else "")
    if service == "payment":
        if "/confirm" in path:
            return "payment", "payer confirms on the hosted pay page"
        if direction == "out":
            return "payment", f"platform calls back (MaLoi {keys.get('MaLoi', '?')})"
        kind = data.get("LoaiBanTin")
        return "payment", f"payment {kind or 'request'}"
    if service == "ca":
        return "result", "officer certificate from the CA"
    if service == "docaxis":
        return "axis", f"axis {entry.get('method', '')} {path}"
    if service == "provincial":
        if "/actions" in path:
            return "processing", f"officer action {data.get('action', '')}".strip()
        if path.endswith(".pdf"):
            return "result", "signed result fetched"
        if "/sso/" in path:
            return "login", f"province SSO {path.rsplit('/', 1)[-1]}"
        if path.endswith("/api/receive"):
            return "submission", "province receives the forward"
        if path.endswith("/payment/callback"):
            return "payment", "province receives the callback"
    return "other", f"{entry.get('method', '')} {path}"


def event_of(entry: dict[str, Any]) -> Event:
    phase, step = describe(entry)
    status = entry.get("status")
    problem = _answer_error(entry)
    return Event(at=str(entry.get("at", "")), service=str(entry.get("service", "")), phase=phase, step=step,
                 status=status, ok=not problem, ref=f"journal-{entry.get('service')}#{entry.get('id')}",
                 detail=problem)


class TimelineBuilder:
    """Per commune, its events (as compact rows) from journal entries of any services, fed one at a
    time: a sweep's journals do not fit in memory, each entry's event (a short row) does.

    `codes_of` maps a commune to what identifies its journey: its dossier codes, its payment
    references and the login hints the harness used for it. An entry belongs to a commune when it
    names one of them (as `ma_ho_so`, `ma_ho_so_qg`, `MaThamChieu` or `login_hint`), or carries the subject (`sub`)
    of one of its logins, whichever service's journal comes first. What the system sent out is the
    same exchange as what a mock took in, so only the receiving side's entry is kept.
    """

    def __init__(self, codes_of: dict[str, set[str]]) -> None:
        self._owner = {code: name for name, codes in codes_of.items() for code in codes}
        self._subjects: dict[str, str] = {}
        self._found: dict[str, list[tuple[str, int, int, Event]]] = defaultdict(list)
        self._by_subject: dict[str, list[tuple[str, int, int, Event]]] = defaultdict(list)
        """Events that name no commune but carry a subject: placed once every login is known."""
        self._seen = 0

    def add(self, entry: dict[str, Any]) -> None:
        if entry.get("service") == "provincial" and entry.get("direction") == "out":
            return
        owner = self._owner
        keys = entry.get("keys") or {}
        logged_in = owner.get(str(keys.get("login_hint")))
        if logged_in and keys.get("sub"):
            self._subjects[str(keys["sub"])] = logged_in
        names = [entry.get("ma_ho_so"), entry.get("ma_ho_so_qg"), keys.get("MaThamChieu"), keys.get("login_hint")]
        body = _body(entry)
        if isinstance(body, dict) and isinstance(body.get("data"), list):  # a batch names its dossiers inside
            names += [d.get("MaHoSo") for d in body["data"] if isinstance(d, dict)]
        communes = {owner[str(n)] for n in names if n is not None and str(n) in owner}
        if not communes and not keys.get("sub"):
            return
        self._seen += 1  # ties of time and id keep the order the entries came in
        item = (str(entry.get("at", "")), int(entry.get("id") or 0), self._seen, event_of(entry))
        for commune in communes:
            self._found[commune].append(item)
        if not communes:
            self._by_subject[str(keys.get("sub"))].append(item)

    def rows(self) -> dict[str, list[list[Any]]]:
        found = defaultdict(list, {c: list(items) for c, items in self._found.items()})
        for sub, items in self._by_subject.items():
            if sub in self._subjects:
                found[self._subjects[sub]] += items
        return {c: [e.as_row() for *_, e in sorted(items, key=lambda t: t[:3])] for c, items in found.items()}


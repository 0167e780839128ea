"""What the hostile matrices share: watching that a refused message changed nothing (on the
system, through the driver, and on the portal, through its admin API), telling a refusal from an
acceptance, and reading the mocks' journals for the requests of the system that a mock refused.

DESIGN §5.1: a check passes only if the system refuses every wrong message and nothing changes,
on its side or on the portal's; and every request of the system that a mock refused during the
run is a finding of the check of that channel, with the mock's message quoted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mocks.core.journal import NO_TENANT

from ..session import HARNESS_HEADER, CertSession
from .base import answer_ok

NEVER_ISSUED = ("!never-issued", "~never-issued")
"""Identifiers no system or platform issues, one sorting before and one after every real one (printable
ASCII): a look-up or filter that is not an exact match (a seek, a range, a prefix) finds something for them."""


def refused(resp: Any) -> bool:
    """The system said no: a non-2xx status, or a 2xx whose `error_code` is not success."""
    return not answer_ok(resp) if resp.status_code < 300 else True


def describe_answer(resp: Any) -> str:
    return f"HTTP {resp.status_code} {resp.text[:160]!r}"


def _portal_state(session: CertSession, province: str) -> dict[str, tuple[int, int, int]]:
    """Each portal dossier of the province: (status, version, history length); the version grows with
    every change the portal accepts, so an update that keeps the status shows too."""
    dossiers = session.admins["portal"].get("/portal/dossiers", tenant=province, view="summary")["dossiers"]
    return {d["MaHoSo"]: (d["TrangThaiHoSo"], d["version"], d["history"]) for d in dossiers}


def _system_codes(session: CertSession, province: str) -> list[str]:
    return sorted(d["code"] for d in session.sut.dossiers(province=province))


@dataclass
class Watch:
    """A snapshot of what hostile messages may not change: the listed dossiers as the system shows
    them, every dossier code the system holds for the province, and the portal's copy of the
    province's dossiers (status and history length). Take it, send, settle, then `changes()`."""

    session: CertSession
    province: str
    codes: tuple[str, ...] = ()
    whole_province: bool = True
    before: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.before = self._take()

    def _take(self) -> dict[str, Any]:
        snap: dict[str, Any] = {"dossiers": {c: self.session.sut.dossier(c) for c in self.codes}}
        if self.whole_province:
            snap["codes"] = _system_codes(self.session, self.province)
            snap["portal"] = _portal_state(self.session, self.province)
        return snap

    def changes(self) -> list[str]:
        """What differs now from the snapshot, in words (empty: nothing changed)."""
        after = self._take()
        out: list[str] = []
        for code, was in self.before["dossiers"].items():
            now = after["dossiers"][code]
            for key in sorted(set(was) | set(now)):
                if was.get(key) != now.get(key):
                    out.append(f"the system's dossier {code} changed its {key}: {_short(was.get(key))} -> "
                               f"{_short(now.get(key))}")
        if self.whole_province:
            new = sorted(set(after["codes"]) - set(self.before["codes"]))
            if new:
                out.append(f"the system created dossier(s) {new}")
            gone = sorted(set(self.before["codes"]) - set(after["codes"]))
            if gone:
                out.append(f"the system no longer lists dossier(s) {gone}")
            for code, state in after["portal"].items():
                was_portal = self.before["portal"].get(code)
                if was_portal != state:
                    out.append(f"the portal's copy of {code} changed: status/version/history {was_portal} -> {state}")
        return out


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


@dataclass(frozen=True)
class Refusal:
    service: str
    method: str
    path: str
    status: int | None
    message: str
    commune: str | None
    ma_ho_so: str | None
    at: str

    def __str__(self) -> str:
        return f"the {self.service} refused {self.method} {self.path} (HTTP {self.status}): {self.message}"


def _error_of(entry: dict[str, Any]) -> str | None:
    """The mock's own words when it refused: a 4xx/5xx, or an error envelope in a 2xx."""
    body = entry.get("response_body")
    parsed: Any = None
    if isinstance(body, str) and body[:1] in "{[":
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
    status = entry.get("status") or 0
    if isinstance(parsed, dict):
        code = parsed.get("error_code", parsed.get("ErrorCode"))
        # The axis's envelope (ErrorCode, ErrorDesc, field) is kept whole: docaxis.axis_words reads it.
        message = parsed.get("message") or parsed.get("error_description") or parsed.get("error") or ""
        if status >= 400:
            return str(message or body)[:400]
        if code not in (None, 0, "0", "00"):
            return f"error_code {code}: {message}"[:400]
        return None
    return str(body or "")[:400] if status >= 400 else None


def refusals(session: CertSession, province: str, service: str, *,
             paths: Iterable[str] = ("",), keep: Callable[[dict[str, Any]], bool] | None = None) -> list[Refusal]:
    """Requests of the system under test (not the harness's, not a fault the harness injected) that
    the `service` mock refused during this run, for `province`, on paths containing one of `paths`."""
    admin = session.admins.get(service)
    if admin is None:
        return []
    found: list[Refusal] = []
    seen: set[int] = set()
    # A call that named no province (no session, no agency) is the system's too: every province of the
    # run counts it, since none can be told apart (the harness marks its own calls).
    for part, tenant in ((p, t) for p in paths for t in (province, NO_TENANT)):
        query = {"direction": "in", "tenant": tenant, **({"path": part} if part else {})}
        for entry in session.journal(service, **query):
            if entry["id"] in seen:
                continue
            seen.add(entry["id"])
            headers = {k.lower(): v for k, v in (entry.get("request_headers") or {}).items()}
            if HARNESS_HEADER.lower() in headers or (entry.get("keys") or {}).get("fault"):
                continue
            if keep is not None and not keep(entry):
                continue
            message = _error_of(entry)
            if message is None:
                continue
            path = entry["url"].split("?", 1)[0]
            found.append(Refusal(service, entry["method"], path, entry.get("status"), message,
                                 entry.get("commune"), entry.get("ma_ho_so"), entry.get("at", "")))
    return found

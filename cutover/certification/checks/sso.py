"""SSO: citizens and officers log in through national SSO; as a relying party the system refuses
every broken ID token, userinfo for another subject, and every forged, replayed or foreign
authorization response, a state or a session of another province among them; the portal refused
none of its requests (features/sso.feature).

A hostile probe is refused when the system answers it with a 4xx (or a redirect, to its error
page) and opens no session: neither the `session` of a JSON answer nor any cookie it set is a
session the driver knows. A 5xx is a crash, not a refusal; a 2xx is not a refusal either. Around
each batch of probes a `Watch` proves that nothing else changed. The portal's journal position
before and after each probe is kept in the run, so that SSO-4 counts every request of the system
to the portal's SSO endpoints that the portal refused, except those a probe provoked (a foreign
code is refused at the token endpoint *because* of the probe; the portal's journal names the client
a refused code was issued to, so an earlier run's foreign-code probe against the same long-lived
mocks is recognised too).

The probes that mix two provinces (a state issued by another province's login, a session opened at
another province shown at this one's `me_url`) need a second province hosted by the same system;
with one they are listed as not applicable in the evidence (a selection of two provinces runs them).
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from cutover.flows.sso import (
    AuthorizationResponse,
    LoginFailed,
    authorization_response,
    authorize_code,
    deliver,
    discover,
    login_at_relying_party,
    start_login,
)
from mocks.core.journal import FLUSH_SECONDS
from refdata.units import registry

from ..journey import run_province_journeys
from ..registry import requirement
from ..session import CertSession
from .base import Verdicts
from .probes import Watch, refusals

TOKEN_PROBES = {
    "bad_signature": "an ID token signed with another key",
    "alg_none": "an unsigned ID token (alg none)",
    "alg_confusion": "an ID token MACed with HS256 and the portal's public key (algorithm confusion)",
    "wrong_iss": "an ID token from another issuer",
    "wrong_aud": "an ID token for another client (aud)",
    "expired": "an expired ID token",
    "issued_in_future": "an ID token issued in the future",
    "wrong_nonce": "an ID token with a wrong nonce",
    "missing_nonce": "an ID token without a nonce",
    "one_part": "an ID token of one part (its JOSE header alone: no payload, no signature)",
    "two_parts": "an ID token of two parts (header and claims, no signature)",
    "header_not_json": "an ID token whose header part is not JSON (claims and signature as genuine)",
    "payload_not_object": "an ID token signed by the portal whose payload is a JSON array, not an object",
    "userinfo_other_subject": "a genuine ID token with an access token whose userinfo is another person's (sub differs)",
}
"""The portal's hostile modes the system must refuse (one ID token broken in exactly one way each, or no
well-formed JWT at all: refused, not a crash, RFC 7519 7.2; or userinfo answering for another subject than the ID token's: OpenID Connect Core 5.3.2)."""
OFFICER_PROBES = {
    "userinfo_other_officer": ("userinfo_other_subject", "an officer's genuine ID token with an access token whose "
                               "userinfo is another officer's (another VaiTro, MaDonVi)"),
}
"""Token probes sent for an officer: a session for the wrong officer carries another's roles."""
SSO_PATHS = ("/oauth2/",)
SESSION_ID = re.compile(r"[A-Za-z0-9._~-]{8,200}")
JOURNAL_CURSOR = "sso:journal-cursor"


def _portal_journal_durable(session: CertSession) -> bool:
    """Asked once per run (the portal's journal mode does not change while it runs)."""
    key = "sso:portal-journal-durable"
    if key not in session.cache:
        session.cache[key] = session.admins["portal"].journal_durable()
    return bool(session.cache[key])


def _windows(session: CertSession, province: str) -> list[tuple[int, int]]:
    """The portal journal ids (after, up to) each hostile probe of the province spanned."""
    found: list[tuple[int, int]] = session.cache.setdefault(f"sso:probe-windows:{province}", [])
    return found


def journal_mark(session: CertSession) -> int:
    """The id of the portal's newest journal entry on an SSO path (a cursor kept in the run, so each
    mark reads only what is new). A portal that stores each answered request's entry before the answer
    leaves (its `/journal/mark` says `durable`, the default of `cutover serve`) has every entry of an
    answered probe already; one that journals in batches, several workers each flushing within
    FLUSH_SECONDS, is waited for first, so an entry is never marked late. (That wait, twice per probe,
    was most of a live run's SSO checks: 16 of 31 s of a small live certification.)"""
    if not session.in_process and not _portal_journal_durable(session):
        time.sleep(3 * FLUSH_SECONDS)
    admin = session.admins["portal"]
    after: int = session.cache.get(JOURNAL_CURSOR, 0)
    for path in SSO_PATHS:
        while True:
            page = admin.journal(path=path, after_id=after, limit=5000)
            if page:
                after = max(after, int(page[-1]["id"]))
            if len(page) < 5000:
                break
    session.cache[JOURNAL_CURSOR] = after
    return after


def opened_session(session: CertSession, http: requests.Session, resp: requests.Response) -> str | None:
    """The session the system's answer opened, if the driver knows it: its JSON `session`, or a cookie."""
    candidates: list[str] = []
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("session"), str):
        candidates.append(body["session"])
    candidates += [c.value for c in http.cookies if c.value]
    for sid in dict.fromkeys(candidates):
        if SESSION_ID.fullmatch(sid) and session.sut.session(sid) is not None:
            return sid
    return None


class NotApplicable(Exception):
    """A probe that cannot be built for this system as selected (e.g. it needs a second hosted province)."""


def other_hosted_province(session: CertSession, province: str) -> str | None:
    """Another province the system under test hosts (the first by code), or None when it hosts one."""
    key = "sso:hosted"
    if key not in session.cache:
        session.cache[key] = sorted(p["code"] for p in session.sut.describe()["provinces"])
    others = [p for p in session.cache[key] if p != province]
    return others[0] if others else None


@dataclass
class Probe:
    """One hostile message and what the system did with it."""

    name: str
    message: str
    status: int | None = None
    outcome: str = "not sent"
    detail: str = ""

    def judge(self, session: CertSession, http: requests.Session, resp: requests.Response) -> None:
        self.status = resp.status_code
        sid = opened_session(session, http, resp)
        if sid is not None:
            self.outcome, self.detail = "accepted", f"the system opened session {sid}"
        elif resp.status_code >= 500:
            self.outcome = "crashed"
        elif resp.status_code < 300:
            self.outcome, self.detail = "not refused", "a 2xx answer is not a refusal"
        else:
            self.outcome = "refused"

    def problem(self) -> str | None:
        if self.outcome in ("refused", "passed"):
            return None
        if self.outcome == "not sent":
            return f"{self.message} could not be sent, so its refusal is not proven: {self.detail}"
        if self.outcome == "failed":
            return f"{self.message}: {self.detail}"
        if self.outcome == "crashed":
            return f"{self.message} crashed the system (HTTP {self.status}) instead of being refused"
        return f"{self.message} was {self.outcome} (HTTP {self.status}): {self.detail}"

    def evidence(self) -> dict[str, Any]:
        return {"probe": self.name, "status": self.status, "outcome": self.outcome}


class ProbeRun:
    """Hostile logins at one province's system: its login URL, the portal's endpoints, a person."""

    def __init__(self, session: CertSession, province: str) -> None:
        self.session, self.province = session, province
        self.info: dict[str, Any] = session.describe_province(province)
        self.login_url: str = self.info["login_url"]
        meta = discover(session.http(), session.urls["portal"])
        self.authorize_url: str = meta["authorization_endpoint"]
        self.issuer: str = meta["issuer"]
        unit = (session.units_of(province) or registry().units(province))[0]  # hosted, maybe not selected
        self.hint = f"citizen:{unit.code}:1"
        self.officer_hint = f"officer:{unit.code}:0"
        self.probes: list[Probe] = []
        self.not_applicable: dict[str, str] = {}
        self.accepted_means = ""
        """What an acceptance of the probe being sent means, beyond the session it opened."""

    def other(self) -> ProbeRun:
        """The same probes at another province the system hosts (NotApplicable when it hosts one)."""
        other = other_hosted_province(self.session, self.province)
        if other is None:
            raise NotApplicable(f"the system hosts only province {self.province}: select a second province "
                                "to send this probe")
        return ProbeRun(self.session, other)

    def run(self, name: str, message: str, send: Callable[[ProbeRun], tuple[requests.Session, requests.Response]]
            ) -> Probe:
        """Send one probe between two journal marks (SSO-4 leaves out what falls between them)."""
        probe = Probe(name, message)
        before = journal_mark(self.session)
        self.accepted_means = ""
        try:
            http, resp = send(self)
            probe.judge(self.session, http, resp)
            if probe.outcome == "accepted" and self.accepted_means:
                probe.detail = f"{probe.detail}: {self.accepted_means}"
        except LoginFailed as exc:
            probe.detail = str(exc)
        except NotApplicable as why:
            self.not_applicable[name] = str(why)
            return probe
        finally:
            _windows(self.session, self.province).append((before, journal_mark(self.session)))
        self.probes.append(probe)
        return probe

    def login_request(self, http: requests.Session, hint: str | None = None) -> tuple[str, dict[str, str]]:
        """Start a login at the system (as `hint`, the citizen by default): its authorization request to
        the portal, and its parameters."""
        url = start_login(http, self.login_url, hint or self.hint, self.authorize_url)
        return url, dict(parse_qsl(urlsplit(url).query))

    def portal_answer(self, http: requests.Session, hint: str | None = None) -> tuple[str, AuthorizationResponse]:
        """A login started at the system and answered by the portal (a genuine code), not delivered."""
        url, _ = self.login_request(http, hint)
        return url, authorization_response(http, url, hint or self.hint)

    def problems(self) -> list[str]:
        return [p for p in (probe.problem() for probe in self.probes) if p]

    def evidence(self) -> list[dict[str, Any]]:
        return [p.evidence() for p in self.probes]

    def genuine_session(self) -> tuple[str, list[str]]:
        """A genuine login at this province: the session it opened, and the names of the cookies that
        carry it (kept by the browser, or set by the system's last answer)."""
        http = self.session.http()
        resp = login_at_relying_party(http, self.login_url, self.hint)
        sid = opened_session(self.session, http, resp)
        if sid is None:
            raise LoginFailed(f"a genuine login at province {self.province} opened no session: HTTP "
                              f"{resp.status_code} {resp.text[:160]!r}")
        names = [c.name for c in http.cookies if c.value == sid]
        answered: SimpleCookie = SimpleCookie()
        with contextlib.suppress(CookieError):
            answered.load(resp.headers.get("Set-Cookie", ""))
        names += [m.key for m in answered.values() if m.value == sid]
        return sid, list(dict.fromkeys(names))


def _watched(session: CertSession, province: str, probes: Callable[[ProbeRun], None]) -> tuple[ProbeRun, list[str]]:
    """Run `probes`, then say what changed on the system or the portal meanwhile (nothing may)."""
    session.settle()
    watch = Watch(session, province)
    run = ProbeRun(session, province)
    probes(run)
    session.settle()
    return run, watch.changes()


# --- SSO-1 ---------------------------------------------------------------------------------------

@requirement("SSO-1", scope="commune", title="a citizen and an officer of each commune log in through national SSO, "
             "also both at once")
def sso_logins(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SSO-1", province)
    journeys = list(run_province_journeys(session, province).values())
    at_once: list[list[str]] = []
    if journeys:
        run = ProbeRun(session, province)
        at_once = session.each(lambda j: concurrent_login_problems(run, j.unit.code), journeys)
    for j, concurrent in zip(journeys, at_once, strict=True):
        c, o = j.citizen_login, j.officer_login
        ok = (c is not None and o is not None and c.get("role") == "citizen" and o.get("role") == "officer"
              and bool(c.get("user", {}).get("SoDinhDanh")))
        problems = [] if ok else [f"citizen login: {j.errors.get('citizen_login') or (c and c.get('role'))}; "
                                  f"officer login: {j.errors.get('officer_login') or (o and o.get('role'))}"]
        v.findings(problems + concurrent, commune=j.unit.code)
    return v.failures


CONCURRENT_LOGINS = (("citizen", "citizen:{}:1"), ("officer", "officer:{}:0"), ("citizen", "citizen:{}:2"))
"""Who logs in at once in SSO-1: two citizens and an officer of the commune."""


def concurrent_login_problems(run: ProbeRun, commune: str) -> list[str]:
    """Two citizens and an officer of `commune` all start a login before any finishes; the one whose state
    sorts in the middle finishes first, then the highest, then the lowest: each must open a session of its
    own role (finishing one login consumes its own state only, not a login in progress before or after it)."""
    pending = []
    try:
        for role, hint in CONCURRENT_LOGINS:
            http = run.session.http()
            url, params = run.login_request(http, hint.format(commune))
            pending.append((params.get("state", ""), role, http, authorization_response(http, url, hint.format(commune))))
    except LoginFailed as exc:
        return [f"{len(CONCURRENT_LOGINS)} logins at once could not be started: {exc}"]
    low, mid, high = sorted(pending, key=lambda p: p[0])
    problems = []
    for rank, (state, role, http, answer) in enumerate((mid, high, low)):
        resp = deliver(http, answer)
        sid = opened_session(run.session, http, resp)
        opened = run.session.sut.session(sid) if sid else None
        if opened is None or opened.get("role") != role:
            what = (f"opened a session of role {opened.get('role')!r}" if opened is not None else
                    f"opened no session: HTTP {resp.status_code} {resp.text[:160]!r}")
            problems.append(f"{len(CONCURRENT_LOGINS)} logins in progress at once (two citizens' and an officer's), "
                            f"finished in the order middle, highest, lowest state: the {role}'s, finished "
                            f"{('first', 'second', 'third')[rank]} with state {state!r}, {what}; a {role} session "
                            "was expected")
    return problems


# --- SSO-2: the ID token ---------------------------------------------------------------------------

def _token_probe(mode: str, officer: bool = False) -> Callable[[ProbeRun], tuple[requests.Session, requests.Response]]:
    def send(run: ProbeRun) -> tuple[requests.Session, requests.Response]:
        portal = run.session.admins["portal"]
        portal.post("/sso/hostile", {"tenant": run.province, "mode": mode, "count": 1})
        try:
            http = run.session.http()
            _, answer = run.portal_answer(http, run.officer_hint if officer else None)
            resp = deliver(http, answer)
            left = [r for r in portal.get("/sso/hostile")["queued"] if r["tenant"] == run.province]
        finally:
            portal._call("DELETE", "/sso/hostile", params={"tenant": run.province})
        if left:
            raise LoginFailed(f"the system never exchanged the code (HTTP {resp.status_code} "
                              f"{resp.text[:160]!r}), so the portal never issued the broken token")
        return http, resp
    return send


@requirement("SSO-2", scope="province",
             title="ID tokens broken in each known way, and userinfo for another subject, are refused")
def hostile_tokens_refused(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SSO-2", province)

    def probes(run: ProbeRun) -> None:
        for mode, message in TOKEN_PROBES.items():
            run.run(mode, message, _token_probe(mode))
        for name, (mode, message) in OFFICER_PROBES.items():
            run.run(name, message, _token_probe(mode, officer=True))

    run, changed = _watched(session, province, probes)
    v.findings(run.problems() + changed, probes=run.evidence())
    return v.failures


# --- SSO-3: the authorization response -------------------------------------------------------------

def _unknown_state(run: ProbeRun) -> tuple[requests.Session, requests.Response]:
    http = run.session.http()
    _, answer = run.portal_answer(http)
    return http, deliver(http, replace(answer, params={**answer.params, "state": secrets.token_urlsafe(16)}))


def _missing_state(run: ProbeRun) -> tuple[requests.Session, requests.Response]:
    http = run.session.http()
    _, answer = run.portal_answer(http)
    return http, deliver(http, replace(answer, params={k: v for k, v in answer.params.items() if k != "state"}))


def _reused_state(run: ProbeRun) -> tuple[requests.Session, requests.Response]:
    """A genuine login, then a second code for the same authorization request (same state) brought
    from another browser: the state was used up by the first."""
    http = run.session.http()
    url, first = run.portal_answer(http)
    genuine = deliver(http, first)
    if opened_session(run.session, http, genuine) is None:
        raise LoginFailed(f"the genuine login it replays was not opened: HTTP {genuine.status_code} "
                          f"{genuine.text[:160]!r}")
    other = run.session.http()
    return other, deliver(other, authorization_response(other, url, run.hint))


def _foreign_code(run: ProbeRun) -> tuple[requests.Session, requests.Response]:
    """A genuine code of the portal's own client, with the state and nonce the system issued."""
    http = run.session.http()
    _, request = run.login_request(http)
    client = run.session.admins["portal"].get("/portal/client")
    code = authorize_code(http, run.authorize_url, client_id=client["client_id"],
                          redirect_uri=client["redirect_uris"][0], login_hint=run.hint, state=request.get("state", ""),
                          nonce=request.get("nonce") or secrets.token_urlsafe(16))
    return http, deliver(http, AuthorizationResponse(request.get("redirect_uri", ""), {
        "code": code, "state": request.get("state", ""), "iss": run.issuer}))


def _no_code(run: ProbeRun) -> tuple[requests.Session, requests.Response]:
    """The portal's answer with the genuine state and iss but neither a code nor an error."""
    http = run.session.http()
    _, answer = run.portal_answer(http)
    return http, deliver(http, replace(answer, params={k: v for k, v in answer.params.items() if k != "code"}))


def _other_province_state(run: ProbeRun) -> tuple[requests.Session, requests.Response]:
    """A genuine code of this province's client, asked for with the state and nonce that a login started
    at another province of the same system was given: the state is one the system issued, but not
    for this province, so only a state bound to its province refuses it."""
    other = run.other()
    http = run.session.http()
    _, own = run.login_request(http)
    _, foreign = other.login_request(http)
    if not foreign.get("state"):
        raise LoginFailed(f"the login at province {other.province} sent no state to the portal: {foreign}")
    run.accepted_means = (f"the state was issued by a login at province {other.province}, and the session is "
                          f"one of province {run.province}")
    code = authorize_code(http, run.authorize_url, client_id=own.get("client_id", ""),
                          redirect_uri=own.get("redirect_uri", ""), login_hint=run.hint, state=foreign["state"],
                          nonce=foreign.get("nonce") or secrets.token_urlsafe(16))
    return http, deliver(http, AuthorizationResponse(own.get("redirect_uri", ""), {
        "code": code, "state": foreign["state"], "iss": run.issuer}))


def _other_province_session(run: ProbeRun) -> tuple[requests.Session, requests.Response]:
    """A session opened by a genuine login at another province, presented at this province's `me_url`
    under the cookie that carries this province's own sessions; its own session is shown there first."""
    other = run.other()
    me_url = str(run.info.get("me_url") or "")
    if not me_url:
        raise NotApplicable(f"the system lists no me_url for province {run.province} (describe)")
    own_sid, carriers = run.genuine_session()
    if not carriers:
        raise NotApplicable(f"the login at province {run.province} set no cookie carrying its session")

    def show(sid: str) -> requests.Response:
        """`me_url` asked with `sid` in every cookie that carries this province's sessions (and no other)."""
        return run.session.http().get(me_url, allow_redirects=False, timeout=30, headers={
            "Accept": "application/json", "Cookie": "; ".join(f"{name}={sid}" for name in carriers)})

    shown = show(own_sid)
    if shown.status_code != 200:
        raise LoginFailed(f"{me_url} answered HTTP {shown.status_code} to the province's own session, so a "
                          f"refusal of another's proves nothing: {shown.text[:160]!r}")
    foreign_sid, _ = other.genuine_session()
    run.accepted_means = (f"{me_url} showed it as a session of province {run.province}, but a login at province "
                          f"{other.province} opened it")
    return run.session.http(), show(foreign_sid)  # judged by the answer alone (a fresh, empty cookie jar)


def _error_response(run: ProbeRun) -> tuple[requests.Session, requests.Response]:
    http = run.session.http()
    _, request = run.login_request(http)
    return http, deliver(http, AuthorizationResponse(request.get("redirect_uri", ""), {
        "error": "access_denied", "error_description": "the citizen cancelled the login",
        "state": request.get("state", ""), "iss": run.issuer}))


AUTHORIZATION_PROBES: tuple[tuple[str, str, Callable[[ProbeRun], tuple[requests.Session, requests.Response]]], ...] = (
    ("unknown_state", "a code with a state the system never issued", _unknown_state),
    ("reused_state", "a second code with a state already used", _reused_state),
    ("missing_state", "a code without state", _missing_state),
    ("foreign_code", "a code issued to another client (the portal's own)", _foreign_code),
    ("error_response", "an error response (access_denied)", _error_response),
    ("no_code", "an authorization response with the state but neither a code nor an error", _no_code),
    ("other_province_state", "a code for this province's client with the state another province's login was "
     "given", _other_province_state),
    ("other_province_session", "a session opened at another province, presented at this province's me_url",
     _other_province_session),
)


@requirement("SSO-3", scope="province",
             title="authorization responses with a state never issued, a reused or missing state, a code of "
                   "another client, an error, no code, or a state of another province, and a session of "
                   "another province, are refused")
def hostile_authorization_responses_refused(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SSO-3", province)

    def probes(run: ProbeRun) -> None:
        for name, message, send in AUTHORIZATION_PROBES:
            run.run(name, message, send)
        discovery_outage(run)
        keys_reused(run)
        key_rotation(run)

    run, changed = _watched(session, province, probes)
    v.findings(run.problems() + changed, probes=run.evidence(), not_applicable=run.not_applicable)
    return v.failures


DISCOVERY_PATH = "/.well-known/openid-configuration"
UPSTREAM_FAILED = (502, 503, 504)
"""What a system may answer a login it cannot start because the portal failed (its gateway failed)."""


def discovery_outage(run: ProbeRun) -> None:
    """The system restarted (the driver's optional `restart`: it must read the portal's discovery
    document again), the portal's discovery answers 503 once: a login then fails loudly (a 4xx, a
    redirect to an error page, or 502/503/504, not a crash and not a session), and the next login,
    the portal recovered, opens a session. Not applicable when the system offers no restart, or read
    no discovery document after it (nothing then shows whether it would)."""
    probe = Probe("discovery_outage", "a login while the portal's discovery document answers 503, and the next")
    restart = getattr(run.session.sut, "restart", None)
    if restart is None or restart() is None:
        run.not_applicable[probe.name] = ("the system offers no restart (POST /cert/v1/restart), so it keeps the "
                                          "discovery document it read and never meets the portal's outage")
        return
    portal = run.session.admins["portal"]
    before, since = journal_mark(run.session), portal.journal_mark()
    fault = portal.add_fault(action="error", method="GET", path=DISCOVERY_PATH, status=503, count=1,
                             message="discovery unavailable (cutover certification probe)")
    http = run.session.http()
    sep = "&" if "?" in run.login_url else "?"
    try:  # the login's first answer, not followed: a redirect (to the portal, or to an error page) is no crash
        resp: requests.Response | None = http.get(f"{run.login_url}{sep}{urlencode({'login_hint': run.hint})}",
                                                  allow_redirects=False, timeout=30,
                                                  headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        resp, probe.detail = None, f"the login could not be asked: {exc}"
    finally:
        portal._call("DELETE", f"/faults/{fault}")
        _windows(run.session, run.province).append((before, journal_mark(run.session)))
    fired = [e for e in portal.journal(path=DISCOVERY_PATH, after_id=since, limit=100)
             if (e.get("keys") or {}).get("fault")]
    if not fired:
        run.not_applicable[probe.name] = ("after its restart the system did not read the portal's discovery "
                                          f"document for a login (no request to {DISCOVERY_PATH} met the outage)")
        return
    if resp is not None:
        probe.judge(run.session, http, resp)
        if probe.outcome == "crashed" and resp.status_code in UPSTREAM_FAILED:
            probe.outcome = "refused"
    try:
        run.genuine_session()
    except LoginFailed as exc:
        broken = f"the portal's discovery answered again, yet the next login failed: {exc}"
        if probe.outcome == "refused":
            probe.outcome, probe.detail = "not recovered", broken
        else:
            probe.detail = f"{probe.detail}; {broken}".lstrip("; ")
        restart()  # what was judged stays judged; the rest of the run meets a system that read it again
    run.probes.append(probe)


JWKS_PATH = "/oauth2/jwks"
KEYS_LOGINS = 6
"""Genuine logins in a row in the `keys_reused` probe."""


def keys_reused(run: ProbeRun) -> None:
    """KEYS_LOGINS genuine logins in a row, the portal's journal marked before and after: the system must not
    have fetched the portal's JWKS for every one of them. Its keys change rarely (a relying party fetches them
    again for a kid it does not know): fetching them at each login makes every login depend on one more call
    to the portal and multiplies its load on the cutover morning. Fair to a system of several worker
    processes, each with its own cache: it fails only if every login met a cache not yet filled."""
    probe = Probe("keys_reused", f"{KEYS_LOGINS} genuine logins in a row")
    portal = run.session.admins["portal"]
    before = journal_mark(run.session)
    try:
        for _ in range(KEYS_LOGINS):
            run.genuine_session()
    except LoginFailed as exc:
        probe.detail = str(exc)
        run.probes.append(probe)
        return
    after = journal_mark(run.session)
    fetched = [e for e in portal.journal(path=JWKS_PATH, after_id=before, limit=5000)
               if int(e["id"]) <= after and e.get("method", "GET") == "GET"]
    if len(fetched) >= KEYS_LOGINS:
        probe.outcome, probe.detail = "failed", (
            f"the system fetched the portal's JWKS ({JWKS_PATH}) {len(fetched)} times, at every login: its keys "
            "must be kept (fetched again only for a kid it does not know), not fetched for each login")
    else:
        probe.outcome, probe.detail = "passed", f"{len(fetched)} JWKS fetch(es)"
    run.probes.append(probe)


KEY_ROTATION_LOGINS = 3
"""Genuine logins after the portal rotated its signing key, in the `key_rotation` probe: each must open a
session (a system of several worker processes must read the JWKS again in each one the new kid reaches)."""


def key_rotation(run: ProbeRun) -> None:
    """The portal rotates its ID token signing key, as real portals do (the previous key stays published in
    its JWKS, retired): the next genuine logins' ID tokens name a kid the system has never seen, so it must
    read the portal's JWKS again (OpenID Connect Core 10.1.1) and log in; a system that keeps the key set it
    read first refuses every citizen from the moment of the rotation. Run after `keys_reused`, whose logins
    filled the system's cache with the old set. The key found is made current again afterwards, whatever
    happened, so nothing after the probe meets the rotated key (a system that kept the old set logs in with
    it again). A correct system sends the portal nothing it could refuse here, so the probe marks no window
    SSO-4 would leave out."""
    probe = Probe("key_rotation", f"{KEY_ROTATION_LOGINS} genuine logins after the portal rotated its ID token "
                                  "signing key")
    portal = run.session.admins["portal"]
    found = str(portal.get("/sso/keys")["current"])
    try:
        rotated = str(portal.post("/sso/keys/rotate", {})["current"])
        for n in range(1, KEY_ROTATION_LOGINS + 1):
            try:
                run.genuine_session()
            except LoginFailed as exc:
                probe.outcome, probe.detail = "failed", (
                    f"the portal rotated its signing key (ID tokens signed with kid {rotated}; the old kid {found} "
                    f"still published in its JWKS), then login {n} of {KEY_ROTATION_LOGINS} failed: {exc}; a "
                    "relying party must read the portal's JWKS again when an ID token names a kid it does not "
                    "hold (OpenID Connect Core 10.1.1), not keep the key set it read first")
                break
        else:
            probe.outcome, probe.detail = "passed", (f"{KEY_ROTATION_LOGINS} logins opened sessions with ID tokens "
                                                     f"signed by the rotated key {rotated}")
    finally:
        portal.post("/sso/keys/rotate", {"kid": found})
    run.probes.append(probe)


# --- SSO-4: every refusal counts -------------------------------------------------------------------

@requirement("SSO-4", scope="province", final=True,
             title="the portal refused none of the system's requests to its SSO endpoints")
def sso_requests_accepted(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "SSO-4", province)
    windows = list(_windows(session, province))
    own = {c["client_id"] for c in session.admins["portal"].tenant(province).get("oidc_clients") or ()}

    def not_provoked(entry: dict[str, Any]) -> bool:
        """Outside every probe of this run, and not the exchange of a code of a client outside the
        province (only a probe hands the system one: this excludes earlier runs' probes too)."""
        code_client = (entry.get("keys") or {}).get("code_client_id")
        return (not any(lo < int(entry["id"]) <= hi for lo, hi in windows)
                and (code_client is None or code_client in own))

    found = Counter(str(r) for r in refusals(session, province, "portal", paths=SSO_PATHS, keep=not_provoked))
    v.findings([f"{text} ({n} times)" if n > 1 else text for text, n in found.items()],
               refused=sum(found.values()), probe_windows=len(windows))
    return v.failures

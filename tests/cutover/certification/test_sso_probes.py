"""The SSO check's hostile probes against the reference relying party: without defects every probe
is refused and no session opens; with each SSO defect switch exactly the probes made for it are
accepted (or crash the system), and the evidence names them. SSO-4 counts the system's refused
requests to the portal's SSO endpoints, but not the refusals a probe provoked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cutover.certification.checks.probes import refusals
from cutover.certification.checks.sso import (
    AUTHORIZATION_PROBES,
    OFFICER_PROBES,
    TOKEN_PROBES,
    hostile_authorization_responses_refused,
    hostile_tokens_refused,
    sso_requests_accepted,
)
from cutover.certification.selection import Selection, resolve
from cutover.certification.session import CertSession, SessionOptions, open_session
from cutover.flows.sso import login_at_relying_party
from refdata.units import registry

PROVINCE = "12"
NOT_REFUSED: dict[str, dict[str, str]] = {
    "": {},
    # no signature read, so none needed: a token of two parts (header and claims) passes too
    "skip_signature_check": {"bad_signature": "accepted", "alg_none": "accepted", "alg_confusion": "accepted",
                             "two_parts": "accepted"},
    "alg_none_accepted": {"alg_none": "accepted"},
    "hs256_allowed": {"alg_confusion": "accepted"},
    "id_token_parts_unchecked": {"one_part": "crashed", "header_not_json": "crashed"},
    "ignore_iss": {"wrong_iss": "accepted"},
    "ignore_aud": {"wrong_aud": "accepted"},
    "ignore_exp": {"expired": "accepted"},
    "ignore_iat": {"issued_in_future": "accepted"},
    "ignore_nonce": {"wrong_nonce": "accepted", "missing_nonce": "accepted"},
    "nonce_optional": {"missing_nonce": "accepted"},
    "ignore_state": {"unknown_state": "accepted", "missing_state": "accepted"},
    "state_reusable": {"reused_state": "accepted"},
    "state_optional": {"missing_state": "accepted"},
    "token_error_crashes": {"foreign_code": "crashed"},
    "error_response_crashes": {"error_response": "crashed", "no_code": "crashed"},
    "userinfo_subject_unchecked": {"userinfo_other_subject": "accepted", "userinfo_other_officer": "accepted"},
    "discovery_status_unchecked": {"discovery_outage": "crashed"},
    "jwks_not_refetched_for_unknown_kid": {"key_rotation": "failed"},
}
TWO_PROVINCE_PROBES = {"other_province_state", "other_province_session"}
"""Sent only when the system hosts a second province (see test_the_probes_that_mix_two_provinces)."""
REFUSED_STATUS = {"no_code": 400, "discovery_outage": 502}
"""The reference answers "missing code" 400, a login it cannot start for the portal's outage 502, every
other refusal 401."""
SYSTEM_PROBES = {"discovery_outage", "keys_reused", "key_rotation"}
"""SSO-3's probes of the system's use of the portal: its discovery failing (sent after a restart, which the
reference offers), genuine logins in a row that must not each fetch the JWKS, and genuine logins after the
portal rotated its signing key (the last two judged `passed` or `failed`, with no status of their own)."""


def open_cert(tmp_path: Path, defects: str = "") -> CertSession:
    selection = resolve(PROVINCE, communes="sample:1", seed=1)
    return open_session(SessionOptions(selection=selection, defects=defects, out=str(tmp_path)))


@pytest.fixture
def cert(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CertSession]:
    session = open_cert(tmp_path, getattr(request, "param", ""))
    yield session
    session.close()


def probe_outcomes(session: CertSession, rid: str, province: str = PROVINCE) -> dict[str, Any]:
    [outcome] = [o for o in session.results.all() if o.scenario == rid and o.province == province]
    return {p["probe"]: (p["outcome"], p["status"]) for p in outcome.evidence["probes"]}


def not_applicable(session: CertSession, rid: str, province: str = PROVINCE) -> set[str]:
    [outcome] = [o for o in session.results.all() if o.scenario == rid and o.province == province]
    return set(outcome.evidence.get("not_applicable") or {})


def test_the_check_sends_every_hostile_token_mode_the_portal_has() -> None:
    from mocks.national_portal.sso.hostile import HOSTILE_MODES
    assert set(TOKEN_PROBES) == set(HOSTILE_MODES)


@pytest.mark.slow
@pytest.mark.parametrize("cert", sorted(NOT_REFUSED), indirect=True, ids=lambda d: d or "no-defect")
def test_each_probe_fails_only_on_its_defect(cert: CertSession) -> None:
    failed = {rid for rid, check in (("SSO-2", hostile_tokens_refused),
                                     ("SSO-3", hostile_authorization_responses_refused)) if check(cert, PROVINCE)}
    seen = {**probe_outcomes(cert, "SSO-2"), **probe_outcomes(cert, "SSO-3")}
    every = set(TOKEN_PROBES) | set(OFFICER_PROBES) | {name for name, _, _ in AUTHORIZATION_PROBES} | SYSTEM_PROBES
    assert set(seen) == every - TWO_PROVINCE_PROBES  # one province hosted: those are not applicable
    assert not_applicable(cert, "SSO-3") == TWO_PROVINCE_PROBES
    not_refused = {name: outcome for name, (outcome, _) in seen.items() if outcome not in ("refused", "passed")}
    assert not_refused == NOT_REFUSED[cert.options.defects], seen
    assert failed == {"SSO-2" if name in TOKEN_PROBES or name in OFFICER_PROBES else "SSO-3" for name in not_refused}
    for name, (outcome, status) in seen.items():
        if outcome in ("passed", "failed"):
            continue
        expected = {"refused": REFUSED_STATUS.get(name, 401), "accepted": 200, "crashed": 500}[outcome]
        assert status == expected, (name, outcome, status)


@pytest.mark.slow
@pytest.mark.parametrize("defects", ["", "state_any_province", "session_any_province"])
def test_the_probes_that_mix_two_provinces(tmp_path: Path, defects: str) -> None:
    """A system hosting two provinces: a state or a session of one is refused at the other, each way;
    with the switch that unbinds them, exactly that probe is accepted, at both provinces."""
    units = [*registry().select_units(PROVINCE, communes="sample:1", seed=1),
             *registry().select_units("11", communes="sample:1", seed=1)]
    selection = Selection(tuple(u.code for u in units), {"province": f"{PROVINCE},11", "communes": "sample:1"})
    cert = open_session(SessionOptions(selection=selection, defects=defects, out=str(tmp_path)))
    try:
        expected = {"state_any_province": {"other_province_state": "accepted"},
                    "session_any_province": {"other_province_session": "accepted"}}.get(defects, {})
        for province in (PROVINCE, "11"):
            failures = hostile_authorization_responses_refused(cert, province)
            seen = probe_outcomes(cert, "SSO-3", province)
            assert set(seen) >= TWO_PROVINCE_PROBES and not not_applicable(cert, "SSO-3", province)
            assert {n: o for n, (o, _) in seen.items() if o not in ("refused", "passed")} == expected, (province, seen)
            assert bool(failures) == bool(expected), failures
            if expected:
                other = "11" if province == PROVINCE else PROVINCE
                assert any(f"province {other}" in f for f in failures), failures
    finally:
        cert.close()


@pytest.mark.slow
def test_a_refusal_a_probe_provoked_does_not_count_but_the_portal_holds_it(cert: CertSession) -> None:
    assert hostile_authorization_responses_refused(cert, PROVINCE) == []
    provoked = refusals(cert, PROVINCE, "portal", paths=("/oauth2/",))
    assert [(r.path, r.status) for r in provoked] == [("/oauth2/token", 400)]
    assert "issued to another client" in provoked[0].message
    assert sso_requests_accepted(cert, PROVINCE) == []
    # a later run against the same mocks has no windows for it: the code's client still tells
    cert.cache.clear()
    assert sso_requests_accepted(cert, PROVINCE) == []


@pytest.mark.slow
@pytest.mark.parametrize("cert", ["wrong_token_auth_method"], indirect=True)
def test_every_refused_sso_request_of_the_system_is_a_finding(cert: CertSession) -> None:
    info = cert.describe_province(PROVINCE)
    resp = login_at_relying_party(cert.http(), info["login_url"], f"citizen:{cert.units[0].code}:0")
    assert resp.status_code == 200 and cert.sut.session(resp.json()["session"]) is not None
    [failure] = sso_requests_accepted(cert, PROVINCE)
    assert "refused POST /oauth2/token (HTTP 401)" in failure
    assert "registered for client_secret_post, but authenticated with client_secret_basic" in failure


@pytest.mark.slow
@pytest.mark.parametrize("cert", ["", "jwks_not_refetched_for_unknown_kid"], indirect=True,
                         ids=lambda d: d or "no-defect")
def test_the_key_rotation_probe_restores_the_key_it_found(cert: CertSession) -> None:
    """SSO-3 rotates the portal's signing key and makes the key it found current again, whatever the system
    did: a system that kept the old key set fails SSO-3 only, and logs in again afterwards (SSO-4 has
    nothing against it)."""
    portal = cert.admins["portal"]
    found = portal.get("/sso/keys")["current"]
    failures = hostile_authorization_responses_refused(cert, PROVINCE)
    keys = portal.get("/sso/keys")
    assert keys["current"] == found and len(keys["published"]) == 2, keys
    if cert.options.defects:
        [failure] = failures
        assert "rotated its signing key" in failure and f"old kid {found}" in failure, failure
        assert "login 1 of 3 failed" in failure and "OpenID Connect Core 10.1.1" in failure, failure
    else:
        assert failures == []
    info = cert.describe_province(PROVINCE)
    resp = login_at_relying_party(cert.http(), info["login_url"], f"citizen:{cert.units[0].code}:0")
    assert resp.status_code == 200 and cert.sut.session(resp.json()["session"]) is not None
    assert sso_requests_accepted(cert, PROVINCE) == []


class _Portal:
    def __init__(self, durable: bool | None) -> None:
        self.durable = durable

    def journal_durable(self) -> bool:
        return self.durable is True

    def journal(self, **query: Any) -> list[dict[str, Any]]:
        return [{"id": 7}]


class _LiveRun:
    in_process = False

    def __init__(self, durable: bool | None) -> None:
        self.admins = {"portal": _Portal(durable)}
        self.cache: dict[str, Any] = {}


@pytest.mark.parametrize("durable, waits", [(True, 0), (False, 2), (None, 2)])
def test_a_live_mark_waits_for_batched_journals_only(monkeypatch: pytest.MonkeyPatch, durable: bool | None,
                                                     waits: int) -> None:
    """A live portal that journals each answer before it leaves is marked at once; one that journals in
    batches (or does not say) is waited for, so no probe's entry falls outside its window."""
    from cutover.certification.checks import sso

    slept: list[float] = []
    monkeypatch.setattr(sso.time, "sleep", slept.append)
    run = _LiveRun(durable)
    assert [sso.journal_mark(run), sso.journal_mark(run)] == [7, 7]  # type: ignore[arg-type]
    assert len(slept) == waits and all(s >= sso.FLUSH_SECONDS for s in slept)

"""Hostile mode: each broken ID token is broken in exactly the stated way and in no other.

For every token the relying party's checks are run one by one (signature against the JWKS,
header alg, iss, aud, exp, iat, nbf, nonce, sub, auth_time, acr); the set of failing checks
must be exactly the mode's defect, so a province that refuses it refuses it for that reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from mocks.core.app import build_app
from mocks.core.transport import InProcessTransport
from mocks.national_portal.sso import init_sso
from mocks.national_portal.sso.hostile import HOSTILE_MODES, MALFORMED_MODES
from refdata import testdata

ISSUER = "http://portal.test"
COMMUNE = "10510"
ADMIN = {"X-Admin-Token": "t0ken"}
C31: dict[str, Any] = {"client_id": "province-31", "client_secret": "s31", "redirect_uris": ["http://rp31.test/cb"],
       "token_endpoint_auth_method": "client_secret_post"}
C31B: dict[str, Any] = {"client_id": "province-31-b", "client_secret": "s31b", "redirect_uris": ["http://rp31.test/cb2"],
        "token_endpoint_auth_method": "client_secret_post"}
C01: dict[str, Any] = {"client_id": "province-01", "client_secret": "s01", "redirect_uris": ["http://rp01.test/cb"],
       "token_endpoint_auth_method": "client_secret_post"}
PORTAL: dict[str, Any] = {"client_id": "portal-web", "client_secret": "sp", "redirect_uris": [f"{ISSUER}/dvc/cb"],
          "token_endpoint_auth_method": "client_secret_post"}
EXPECTED_FAILURES = {
    None: set(),
    "bad_signature": {"signature"},
    "alg_none": {"signature", "alg"},
    "alg_confusion": {"signature", "alg"},
    "wrong_aud": {"aud"},
    "wrong_nonce": {"nonce"},
    "missing_nonce": {"nonce"},
    "expired": {"exp"},
    "issued_in_future": {"iat", "nbf"},
    "wrong_iss": {"iss"},
    **{mode: {"jwt"} for mode in MALFORMED_MODES},  # no well-formed JWT: no check can even read it
    "userinfo_other_subject": set(),  # the ID token is genuine; userinfo answers for another subject
}


@pytest.fixture
def portal(tmp_path: Any) -> Any:
    transport = InProcessTransport()
    app = build_app("portal", config={"DATABASE_URL": f"sqlite:///{tmp_path}/sso.db", "ADMIN_TOKEN": "t0ken",
                                      "TRANSPORT": transport, "SSO_PORTAL_CLIENT": PORTAL})
    init_sso(app)
    ctx = app.extensions["cutover"]
    ctx.tenants.put("31", {"province": "31", "oidc_clients": [C31, C31B], "hostile": None})
    ctx.tenants.put("01", {"province": "01", "oidc_clients": [C01], "hostile": None})
    ctx.clock.freeze()
    transport.mount_app(ISSUER, app)
    app.http = transport.session()  # type: ignore[attr-defined]
    return app


def tokens(portal: Any, client: dict[str, Any], nonce: str = "nonce-42") -> dict[str, Any]:
    query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": client["redirect_uris"][0],
             "scope": "openid", "state": "s", "nonce": nonce, "acr_values": "LoA2",
             "login_hint": f"citizen:{COMMUNE}:0"}
    r = portal.http.get(f"{ISSUER}/oauth2/authorize?{urlencode(query)}", allow_redirects=False)
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    r = portal.http.post(f"{ISSUER}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": client["redirect_uris"][0],
        "client_id": client["client_id"], "client_secret": client["client_secret"]})
    assert r.status_code == 200, r.text
    return dict(r.json())


def failing_checks(portal: Any, id_token: str, client_id: str, nonce: str = "nonce-42") -> set[str]:
    """Run each relying-party check on its own; return the names of those that fail."""
    jwks = KeySet.import_key_set(portal.http.get(f"{ISSUER}/oauth2/jwks").json())
    now = int(portal.extensions["cutover"].clock.timestamp())
    try:
        unverified = jws.extract_compact(id_token.encode())  # header and payload, no signature check
        header = unverified.protected
        claims = json.loads(unverified.payload)
    except (JoseError, ValueError):
        return {"jwt"}
    if not isinstance(claims, dict):
        return {"jwt"}
    sub = testdata.claims(testdata.citizen_for(COMMUNE, 0))["sub"]

    def signature() -> None:
        jwt.decode(id_token, jwks, algorithms=["RS256"])

    def claim(name: str, **option: Any) -> Callable[[], None]:
        def check() -> None:
            options: dict[str, Any] = {name: {"essential": True, **option}}
            jwt.JWTClaimsRegistry(now=now, **options).validate({name: claims.get(name)})
        return check

    def alg() -> None:
        assert header.get("alg") == "RS256" and header.get("kid") == jwks.keys[0].kid

    def auth_time() -> None:
        assert isinstance(claims.get("auth_time"), int) and claims["auth_time"] <= now
        assert claims["auth_time"] <= claims["iat"]

    checks: dict[str, Callable[[], None]] = {
        "signature": signature, "alg": alg, "auth_time": auth_time,
        "iss": claim("iss", value=ISSUER), "aud": claim("aud", value=client_id), "exp": claim("exp"),
        "iat": claim("iat"), "nbf": claim("nbf"), "nonce": claim("nonce", value=nonce), "sub": claim("sub", value=sub),
        "acr": claim("acr", value="LoA2"),
    }
    failed = set()
    for name, check in checks.items():
        try:
            check()
        except (JoseError, AssertionError, ValueError):
            failed.add(name)
    return failed


def queue(portal: Any, **body: Any) -> Any:
    return portal.http.post(f"{ISSUER}/_admin/sso/hostile", json=body, headers=ADMIN)


def test_a_normal_token_passes_every_check(portal: Any) -> None:
    assert failing_checks(portal, tokens(portal, C31)["id_token"], C31["client_id"]) == set()


def test_every_mode_is_covered() -> None:
    assert set(HOSTILE_MODES) == set(EXPECTED_FAILURES) - {None}


@pytest.mark.parametrize("mode", HOSTILE_MODES)
def test_each_mode_breaks_exactly_one_property(portal: Any, mode: str) -> None:
    assert queue(portal, tenant="31", mode=mode, count=1).status_code == 201
    body = tokens(portal, C31)
    assert failing_checks(portal, body["id_token"], C31["client_id"]) == EXPECTED_FAILURES[mode]
    # only the ID token is broken: the access token is good
    assert portal.http.get(f"{ISSUER}/oauth2/userinfo",
                           headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200
    entries = portal.http.get(f"{ISSUER}/_admin/journal?tenant=31&path=/oauth2/token", headers=ADMIN).json()
    assert entries["entries"][-1]["keys"]["hostile"] == mode


def test_bad_signature_keeps_the_real_kid_and_alg(portal: Any) -> None:
    queue(portal, tenant="31", mode="bad_signature")
    token = tokens(portal, C31)["id_token"]
    header = jws.extract_compact(token.encode()).protected
    jwks = portal.http.get(f"{ISSUER}/oauth2/jwks").json()
    assert header == {"typ": "JWT", "alg": "RS256", "kid": jwks["keys"][0]["kid"]}
    with pytest.raises(JoseError):
        jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])


def test_alg_none_has_no_signature(portal: Any) -> None:
    queue(portal, tenant="31", mode="alg_none")
    token = tokens(portal, C31)["id_token"]
    assert token.endswith(".") and token.count(".") == 2
    assert jws.extract_compact(token.encode()).protected["alg"] == "none"


def test_alg_confusion_is_hs256_keyed_with_the_public_pem_of_the_jwks_key(portal: Any) -> None:
    queue(portal, tenant="31", mode="alg_confusion")
    token = tokens(portal, C31)["id_token"]
    jwks = KeySet.import_key_set(portal.http.get(f"{ISSUER}/oauth2/jwks").json())
    header_b64, payload_b64, mac_b64 = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
    assert header == {"typ": "JWT", "alg": "HS256", "kid": jwks.keys[0].kid}
    # computed here with the standard library: what a relying party confused into HMAC would check
    secret = jwks.keys[0].as_pem(private=False)
    expected = hmac.new(secret, f"{header_b64}.{payload_b64}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(mac_b64 + "=" * (-len(mac_b64) % 4)) == expected
    assert secret.startswith(b"-----BEGIN PUBLIC KEY-----")
    with pytest.raises(JoseError):
        jwt.decode(token, jwks, algorithms=["RS256"])


def test_expired_and_future_tokens_are_well_outside_any_leeway(portal: Any) -> None:
    now = int(portal.extensions["cutover"].clock.timestamp())
    queue(portal, tenant="31", mode="expired")
    expired = json.loads(jws.extract_compact(tokens(portal, C31)["id_token"].encode()).payload)
    assert expired["iat"] < expired["exp"] <= now - 600
    queue(portal, tenant="31", mode="issued_in_future")
    future = json.loads(jws.extract_compact(tokens(portal, C31)["id_token"].encode()).payload)
    assert future["iat"] == future["nbf"] >= now + 600 and future["exp"] > future["iat"]


def test_missing_nonce_omits_the_claim(portal: Any) -> None:
    queue(portal, tenant="31", mode="missing_nonce")
    claims = json.loads(jws.extract_compact(tokens(portal, C31)["id_token"].encode()).payload)
    assert "nonce" not in claims and claims["aud"] == C31["client_id"]


def test_userinfo_other_subject_keeps_the_id_token_and_answers_for_the_next_test_person(portal: Any) -> None:
    queue(portal, tenant="31", mode="userinfo_other_subject")
    body = tokens(portal, C31)
    claims = json.loads(jws.extract_compact(body["id_token"].encode()).payload)
    info = portal.http.get(f"{ISSUER}/oauth2/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200, info.text
    own, other = (testdata.claims(testdata.citizen_for(COMMUNE, i)) for i in (0, 1))
    assert claims["sub"] == own["sub"] != other["sub"]
    assert info.json() == other
    # the next response is genuine again: userinfo and the ID token name the same subject
    again = tokens(portal, C31)
    info = portal.http.get(f"{ISSUER}/oauth2/userinfo", headers={"Authorization": f"Bearer {again['access_token']}"})
    assert info.json()["sub"] == json.loads(jws.extract_compact(again["id_token"].encode()).payload)["sub"]


def test_queued_switch_affects_exactly_n_responses_of_that_tenant(portal: Any) -> None:
    assert queue(portal, tenant="31", mode="wrong_aud", count=2).status_code == 201
    seen = []
    for client in (C31, C01, C31B, C01, C31, C31):
        seen.append((client["client_id"], failing_checks(portal, tokens(portal, client)["id_token"], client["client_id"])))
    assert seen == [("province-31", {"aud"}), ("province-01", set()), ("province-31-b", {"aud"}),
                    ("province-01", set()), ("province-31", set()), ("province-31", set())]
    assert portal.http.get(f"{ISSUER}/_admin/sso/hostile", headers=ADMIN).json()["queued"] == []


def test_queued_switch_for_one_client_and_for_all(portal: Any) -> None:
    queue(portal, tenant="31", client_id="province-31-b", mode="expired", count=1)
    assert failing_checks(portal, tokens(portal, C31)["id_token"], C31["client_id"]) == set()
    assert failing_checks(portal, tokens(portal, C31B)["id_token"], C31B["client_id"]) == {"exp"}
    queue(portal, tenant=None, mode="wrong_iss", count=3)
    for client in (C01, PORTAL, C31):
        assert failing_checks(portal, tokens(portal, client)["id_token"], client["client_id"]) == {"iss"}
    assert failing_checks(portal, tokens(portal, C31)["id_token"], C31["client_id"]) == set()


def test_per_tenant_switch_affects_only_that_tenant(portal: Any) -> None:
    ctx = portal.extensions["cutover"]
    ctx.tenants.put("31", {**ctx.tenants.get("31"), "hostile": "wrong_nonce"})
    for _ in range(2):
        assert failing_checks(portal, tokens(portal, C31)["id_token"], C31["client_id"]) == {"nonce"}
        assert failing_checks(portal, tokens(portal, C31B)["id_token"], C31B["client_id"]) == {"nonce"}
        assert failing_checks(portal, tokens(portal, C01)["id_token"], C01["client_id"]) == set()
    listed = portal.http.get(f"{ISSUER}/_admin/sso/hostile", headers=ADMIN).json()
    assert listed["tenants"] == {"31": "wrong_nonce"}
    # a queued switch takes precedence for its N responses, then the tenant's mode resumes
    queue(portal, tenant="31", mode="bad_signature", count=1)
    assert failing_checks(portal, tokens(portal, C31)["id_token"], C31["client_id"]) == {"signature"}
    assert failing_checks(portal, tokens(portal, C31)["id_token"], C31["client_id"]) == {"nonce"}
    ctx.tenants.put("31", {**ctx.tenants.get("31"), "hostile": None})
    assert failing_checks(portal, tokens(portal, C31)["id_token"], C31["client_id"]) == set()


def test_admin_api_lists_clears_and_validates(portal: Any) -> None:
    assert portal.http.get(f"{ISSUER}/_admin/sso/hostile").status_code == 401
    queue(portal, tenant="31", mode="expired", count=5)
    queue(portal, tenant="01", mode="alg_none", count=1)
    listed = portal.http.get(f"{ISSUER}/_admin/sso/hostile", headers=ADMIN).json()
    assert [(r["tenant"], r["mode"], r["remaining"]) for r in listed["queued"]] == [("31", "expired", 5),
                                                                                   ("01", "alg_none", 1)]
    assert portal.http.delete(f"{ISSUER}/_admin/sso/hostile?tenant=01", headers=ADMIN).json() == {"deleted": 1}
    assert portal.http.delete(f"{ISSUER}/_admin/sso/hostile", headers=ADMIN).json() == {"deleted": 1}
    assert failing_checks(portal, tokens(portal, C31)["id_token"], C31["client_id"]) == set()
    for body, field in (({"mode": "explode"}, "mode"), ({"mode": "expired", "tenant": "99"}, "tenant"),
                        ({"mode": "expired", "count": 0}, "count"), ({"mode": "expired", "count": True}, "count"),
                        ({"mode": "expired", "tenant": "01", "client_id": "province-31"}, "client_id")):
        r = queue(portal, **body)
        assert r.status_code == 400 and r.json()["error"]["field"] == field, (body, r.text)


def test_reset_clears_queued_switches(portal: Any) -> None:
    queue(portal, tenant="31", mode="expired", count=5)
    portal.http.post(f"{ISSUER}/_admin/reset", headers=ADMIN)
    assert portal.http.get(f"{ISSUER}/_admin/sso/hostile", headers=ADMIN).json()["queued"] == []


def journaled(portal: Any, path: str) -> dict[str, Any]:
    entries = portal.http.get(f"{ISSUER}/_admin/journal?path={path}", headers=ADMIN).json()["entries"]
    return dict(entries[-1])


def test_a_refused_token_request_is_journaled_for_the_tenant_of_the_client_it_claims(portal: Any) -> None:
    """So that the certification counts it against that province (every refusal counts)."""
    query = {"response_type": "code", "client_id": C31["client_id"], "redirect_uri": C31["redirect_uris"][0],
             "scope": "openid", "state": "s", "nonce": "n", "login_hint": f"citizen:{COMMUNE}:0"}
    r = portal.http.get(f"{ISSUER}/oauth2/authorize?{urlencode(query)}", allow_redirects=False)
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    basic = base64.b64encode(f"{C31['client_id']}:{C31['client_secret']}".encode()).decode()
    for headers, data, status in (
            ({"Authorization": f"Basic {basic}"}, {}, 401),  # registered for client_secret_post
            ({}, {"client_id": C31["client_id"], "client_secret": "wrong"}, 401),
            ({"Authorization": "Basic %%%"}, {}, 401),
            ({}, {"client_id": "nobody", "client_secret": "x"}, 401)):
        r = portal.http.post(f"{ISSUER}/oauth2/token", headers=headers, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": C31["redirect_uris"][0], **data})
        assert r.status_code == status and r.json()["error"] == "invalid_client", r.text
        entry = journaled(portal, "/oauth2/token")
        assert entry["status"] == status
        known = "%" not in headers.get("Authorization", "") and data.get("client_id") != "nobody"
        assert entry["tenant"] == ("31" if known else None), (headers, data, entry["tenant"])


def test_a_refused_userinfo_request_is_journaled_for_the_tenant_whose_token_it_was(portal: Any) -> None:
    access = tokens(portal, C31)["access_token"]
    portal.extensions["cutover"].clock.advance(86400)
    r = portal.http.get(f"{ISSUER}/oauth2/userinfo", headers={"Authorization": f"Bearer {access}"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    assert journaled(portal, "/oauth2/userinfo")["tenant"] == "31"
    r = portal.http.get(f"{ISSUER}/oauth2/userinfo", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401 and journaled(portal, "/oauth2/userinfo")["tenant"] is None


def test_a_code_of_another_client_is_refused_and_journaled_with_the_client_it_was_issued_to(portal: Any) -> None:
    query = {"response_type": "code", "client_id": PORTAL["client_id"], "redirect_uri": PORTAL["redirect_uris"][0],
             "scope": "openid", "state": "s", "nonce": "n", "login_hint": f"citizen:{COMMUNE}:0"}
    r = portal.http.get(f"{ISSUER}/oauth2/authorize?{urlencode(query)}", allow_redirects=False)
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    r = portal.http.post(f"{ISSUER}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": C31["redirect_uris"][0],
        "client_id": C31["client_id"], "client_secret": C31["client_secret"]})
    assert r.status_code == 400 and r.json() == {"error": "invalid_grant",
                                                 "error_description": "code: the code was issued to another client"}
    entry = journaled(portal, "/oauth2/token")
    assert entry["tenant"] == "31" and entry["keys"]["code_client_id"] == PORTAL["client_id"]


def test_the_portal_document_lists_every_mode() -> None:
    from pathlib import Path

    import yaml
    doc = yaml.safe_load((Path(__file__).resolve().parents[3] / "mocks/national_portal/openapi.yaml").read_text())
    body = doc["paths"]["/_admin/sso/hostile"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["mode"]["enum"] == list(HOSTILE_MODES)

"""The portal as an OpenID Connect provider, driven by a standard client library (authlib).

The relying party here is authlib's `OAuth2Session` over the in-process transport, so what
passes here is what a vendor's off-the-shelf OIDC client sees; the negative tests prove the
provider enforces what a real one would (exact redirect_uri, client auth, single-use codes).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from mocks.core.app import build_app
from mocks.core.transport import InProcessTransport
from mocks.national_portal.sso import init_sso
from mocks.national_portal.sso.views import sso_provider
from refdata import testdata

ISSUER = "http://portal.test"
RP = "http://rp31.test/callback"
LOGOUT_RP = "http://rp31.test/logged-out"
COMMUNE = "10510"  # Phường Thành Đông, Hải Phòng (31)
ADMIN = {"X-Admin-Token": "t0ken"}
POST_CLIENT: dict[str, Any] = {"client_id": "province-31", "client_secret": "s3cret-post", "redirect_uris": [RP],
               "post_logout_redirect_uris": [LOGOUT_RP], "token_endpoint_auth_method": "client_secret_post"}
BASIC_CLIENT: dict[str, Any] = {"client_id": "province-31-basic", "client_secret": "s3cret:basic/+", "redirect_uris": [RP],
                "post_logout_redirect_uris": [], "token_endpoint_auth_method": "client_secret_basic"}
OTHER_CLIENT: dict[str, Any] = {"client_id": "province-01", "client_secret": "s3cret-01", "redirect_uris": ["http://rp01.test/cb"],
                "post_logout_redirect_uris": [], "token_endpoint_auth_method": "client_secret_post"}
PORTAL_CLIENT: dict[str, Any] = {"client_id": "portal-web", "client_secret": "portal-s3cret", "redirect_uris": [f"{ISSUER}/dvc/cb"],
                 "post_logout_redirect_uris": [], "token_endpoint_auth_method": "client_secret_basic"}


class Portal:
    def __init__(self, app: Any, transport: InProcessTransport) -> None:
        self.app = app
        self.transport = transport
        self.ctx = app.extensions["cutover"]
        self.http = transport.session()

    def authorize(self, client: dict[str, Any] = POST_CLIENT, **params: str) -> requests.Response:
        query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": client["redirect_uris"][0],
                 "scope": "openid profile", "state": "st-1", "nonce": "n-1", **params}
        return self.http.get(f"{ISSUER}/oauth2/authorize?{urlencode(query)}", allow_redirects=False)

    def code(self, client: dict[str, Any] = POST_CLIENT, **params: str) -> str:
        params.setdefault("login_hint", f"citizen:{COMMUNE}:0")
        r = self.authorize(client, **params)
        assert r.status_code == 302, r.text
        return parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]

    def token(self, code: str, client: dict[str, Any] = POST_CLIENT, **extra: str) -> requests.Response:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": client["redirect_uris"][0],
                "client_id": client["client_id"], "client_secret": client["client_secret"], **extra}
        return self.http.post(f"{ISSUER}/oauth2/token", data=form)

    def userinfo(self, access_token: str) -> requests.Response:
        return self.http.get(f"{ISSUER}/oauth2/userinfo", headers={"Authorization": f"Bearer {access_token}"})


@pytest.fixture
def portal(tmp_path: Any) -> Portal:
    transport = InProcessTransport()
    app = build_app("portal", config={"DATABASE_URL": f"sqlite:///{tmp_path}/sso.db", "ADMIN_TOKEN": "t0ken",
                                      "TRANSPORT": transport, "SSO_PORTAL_CLIENT": PORTAL_CLIENT})
    init_sso(app)
    ctx = app.extensions["cutover"]
    ctx.tenants.put("31", {"province": "31", "oidc_clients": [POST_CLIENT, BASIC_CLIENT], "hostile": None})
    ctx.tenants.put("01", {"province": "01", "oidc_clients": [OTHER_CLIENT], "hostile": None})
    ctx.clock.freeze()
    transport.mount_app(ISSUER, app)
    return Portal(app, transport)


def assert_oauth_error(r: requests.Response, status: int, error: str, parameter: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error, body
    assert body["error_description"].startswith(f"{parameter}:"), body
    assert "Location" not in r.headers


def redirect_error(r: requests.Response) -> dict[str, str]:
    assert r.status_code == 302, r.text
    assert r.headers["Location"].startswith(RP + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}


def verify_id_token(portal: Portal, id_token: str, client_id: str, nonce: str) -> dict[str, Any]:
    """What a careful relying party does: signature against the JWKS, then iss/aud/exp/nonce."""
    meta = portal.http.get(f"{ISSUER}/.well-known/openid-configuration").json()
    keys = KeySet.import_key_set(portal.http.get(meta["jwks_uri"]).json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    assert token.header["alg"] == "RS256" and token.header["kid"] == keys.keys[0].kid
    jwt.JWTClaimsRegistry(
        now=int(portal.ctx.clock.timestamp()), iss={"essential": True, "value": meta["issuer"]},
        aud={"essential": True, "value": client_id}, exp={"essential": True}, iat={"essential": True},
        sub={"essential": True}, nonce={"essential": True, "value": nonce}, auth_time={"essential": True},
    ).validate(token.claims)
    return dict(token.claims)


def rp_session(portal: Portal, client: dict[str, Any]) -> OAuth2Session:
    sess = OAuth2Session(client["client_id"], client["client_secret"], scope="openid profile",
                         redirect_uri=client["redirect_uris"][0],
                         token_endpoint_auth_method=client["token_endpoint_auth_method"])
    portal.transport.mount_on(sess)
    return sess


# --- the happy path, as a standard client sees it -------------------------------------------


def test_discovery_document(portal: Portal) -> None:
    meta = portal.http.get(f"{ISSUER}/.well-known/openid-configuration").json()
    assert meta["issuer"] == ISSUER
    for key, path in (("authorization_endpoint", "authorize"), ("token_endpoint", "token"),
                      ("userinfo_endpoint", "userinfo"), ("jwks_uri", "jwks"), ("revocation_endpoint", "revoke"),
                      ("end_session_endpoint", "logout")):
        assert meta[key] == f"{ISSUER}/oauth2/{path}"
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {"client_secret_post", "client_secret_basic"}
    assert meta["code_challenge_methods_supported"] == ["S256"]
    jwks = portal.http.get(meta["jwks_uri"]).json()
    assert [k["kty"] for k in jwks["keys"]] == ["RSA"] and "d" not in jwks["keys"][0]


def test_public_url_is_the_issuer(portal: Portal) -> None:
    portal.ctx.config["PUBLIC_URL"] = "https://sso.dichvucong.test/"
    meta = portal.http.get(f"{ISSUER}/.well-known/openid-configuration").json()
    assert meta["issuer"] == "https://sso.dichvucong.test"
    assert meta["token_endpoint"] == "https://sso.dichvucong.test/oauth2/token"


def test_authlib_relying_party_post_auth_with_pkce(portal: Portal) -> None:
    sess = rp_session(portal, POST_CLIENT)
    meta = sess.get(f"{ISSUER}/.well-known/openid-configuration", withhold_token=True).json()
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    sess.code_challenge_method = "S256"
    uri, state = sess.create_authorization_url(meta["authorization_endpoint"], nonce=nonce, acr_values="LoA3",
                                               login_hint=f"citizen:{COMMUNE}:0", code_verifier=verifier)
    r = sess.get(uri, allow_redirects=False, withhold_token=True)
    assert r.status_code == 302 and r.headers["Location"].startswith(RP + "?")
    callback = parse_qs(urlsplit(r.headers["Location"]).query)
    assert callback["state"] == [state] and callback["iss"] == [ISSUER]
    token = sess.fetch_token(meta["token_endpoint"], authorization_response=r.headers["Location"], state=state,
                             code_verifier=verifier)
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0
    claims = verify_id_token(portal, token["id_token"], POST_CLIENT["client_id"], nonce)
    expected = testdata.claims(testdata.citizen_for(COMMUNE, 0))
    assert claims["sub"] == expected["sub"] and claims["acr"] == "LoA3"
    assert claims["exp"] > claims["iat"] >= claims["auth_time"]
    assert claims["name"] == expected["HoVaTen"]  # so the token's length varies from person to person

    by_get = sess.get(meta["userinfo_endpoint"])
    by_post = sess.post(meta["userinfo_endpoint"])
    assert by_get.status_code == 200 and by_post.status_code == 200
    assert by_get.json() == by_post.json() == expected
    assert by_get.json()["LoaiTaiKhoan"] == 1 and re.fullmatch(r"\d{8}", by_get.json()["NgayThangNamSinh"])


def test_authlib_relying_party_basic_auth_officer(portal: Portal) -> None:
    sess = rp_session(portal, BASIC_CLIENT)
    uri, state = sess.create_authorization_url(f"{ISSUER}/oauth2/authorize", nonce="n-basic",
                                               login_hint=f"officer:{COMMUNE}:1")
    r = sess.get(uri, allow_redirects=False, withhold_token=True)
    token = sess.fetch_token(f"{ISSUER}/oauth2/token", authorization_response=r.headers["Location"], state=state)
    claims = verify_id_token(portal, token["id_token"], BASIC_CLIENT["client_id"], "n-basic")
    assert claims["acr"] == "LoA2"  # the default level
    info = sess.get(f"{ISSUER}/oauth2/userinfo").json()
    officer = testdata.officer_for(COMMUNE, 1)
    assert info["LoaiTaiKhoan"] == 1 and info["SoDinhDanh"] == officer.so_dinh_danh
    assert info["MaDonVi"] == officer.agency_code and info["ChucDanh"] == officer.chuc_danh
    assert info["VaiTro"] == "lanh_dao" and info["MaDonViHanhChinh"] == COMMUNE


def test_business_login_and_known_user_hints(portal: Portal) -> None:
    r = portal.token(portal.code(login_hint=f"business:{COMMUNE}:0"))
    info = portal.userinfo(r.json()["access_token"]).json()
    business = testdata.business_for(COMMUNE, 0)
    assert info["LoaiTaiKhoan"] == 2 and info["MaSoThue"] == business.ma_so_thue
    # once known, a user can be named by MaSoThue, SoDinhDanh or sub
    again = portal.token(portal.code(login_hint=business.ma_so_thue))
    assert portal.userinfo(again.json()["access_token"]).json()["sub"] == info["sub"]
    citizen = testdata.citizen_for(COMMUNE, 2)
    portal.code(login_hint=f"citizen:{COMMUNE}:2")
    by_number = portal.token(portal.code(login_hint=citizen.so_dinh_danh))
    assert portal.userinfo(by_number.json()["access_token"]).json()["HoVaTen"] == citizen.ho_va_ten


def test_unknown_login_hint_goes_back_to_the_client_naming_it(portal: Portal) -> None:
    for hint in ("citizen:99999:0", "nobody-we-know", "031099000000"):
        err = redirect_error(portal.authorize(login_hint=hint))
        assert err["error"] == "invalid_request" and err["error_description"].startswith("login_hint:")
        assert err["state"] == "st-1"


def test_login_page_lists_people_of_the_province_and_logs_in(portal: Portal) -> None:
    r = portal.authorize()
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    page = r.text
    hints = re.findall(r'name="login_hint" value="([^"]+)"', page)
    assert f"citizen:{COMMUNE}:0" in hints and f"officer:{COMMUNE}:1" in hints
    assert all(h.split(":")[1] in {u.code for u in testdata.registry().units("31")} for h in hints)
    assert testdata.citizen_for(COMMUNE, 0).ho_va_ten in page
    other = testdata.registry().units("31")[-1].code
    assert f"citizen:{other}:0" in portal.authorize(commune=other).text
    # the page's form posts the original parameters back with the chosen person
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.split('id="login"')[1]))
    posted = portal.http.post(f"{ISSUER}/oauth2/authorize", data={**hidden, "login_hint": f"officer:{COMMUNE}:0"},
                              allow_redirects=False)
    assert posted.status_code == 302
    callback = parse_qs(urlsplit(posted.headers["Location"]).query)
    assert callback["state"] == ["st-1"]
    token = portal.token(callback["code"][0]).json()
    assert portal.userinfo(token["access_token"]).json()["VaiTro"] == "tiep_nhan"


def test_portal_own_client_has_no_tenant(portal: Portal) -> None:
    code = portal.code(PORTAL_CLIENT)
    basic = base64.b64encode(f"{PORTAL_CLIENT['client_id']}:{PORTAL_CLIENT['client_secret']}".encode()).decode()
    r = portal.http.post(f"{ISSUER}/oauth2/token", headers={"Authorization": f"Basic {basic}"},
                         data={"grant_type": "authorization_code", "code": code,
                               "redirect_uri": PORTAL_CLIENT["redirect_uris"][0]})
    assert r.status_code == 200
    user = sso_provider(portal.app).user_for_token(r.json()["access_token"])
    assert user is not None and user["sub"] == testdata.claims(testdata.citizen_for(COMMUNE, 0))["sub"]
    assert portal.app.extensions["portal.userinfo"]("no-such-token") is None


# --- what must be refused ----------------------------------------------------------------------


@pytest.mark.parametrize("uri", [
    "http://rp31.test/call",  # a prefix
    "http://rp31.test/callback/extra",  # the registered one as a prefix
    "http://rp31.test:8080/callback",  # another port
    "http://rp31.test/callback/",  # a trailing slash
    "http://rp31.test/callback?x=1",  # an added query
    "https://rp31.test/callback",  # another scheme
])
def test_redirect_uri_must_match_exactly_and_is_never_redirected_to(portal: Portal, uri: str) -> None:
    r = portal.authorize(redirect_uri=uri, login_hint=f"citizen:{COMMUNE}:0")
    assert_oauth_error(r, 400, "invalid_request", "redirect_uri")


def test_missing_redirect_uri_and_unknown_client_are_not_redirected(portal: Portal) -> None:
    assert_oauth_error(portal.authorize(redirect_uri=""), 400, "invalid_request", "redirect_uri")
    assert_oauth_error(portal.authorize(client_id="nobody"), 400, "invalid_client", "client_id")
    assert_oauth_error(portal.authorize(client_id=""), 400, "invalid_request", "client_id")


def test_unknown_client_at_token_endpoint(portal: Portal) -> None:
    code = portal.code()
    r = portal.token(code, client_id="nobody")
    assert_oauth_error(r, 401, "invalid_client", "client_id")


def test_wrong_client_secret_post_and_basic(portal: Portal) -> None:
    assert_oauth_error(portal.token(portal.code(), client_secret="guess"), 401, "invalid_client", "client_secret")
    code = portal.code(BASIC_CLIENT)
    bad = base64.b64encode(f"{BASIC_CLIENT['client_id']}:guess".encode()).decode()
    r = portal.http.post(f"{ISSUER}/oauth2/token", headers={"Authorization": f"Basic {bad}"},
                         data={"grant_type": "authorization_code", "code": code, "redirect_uri": RP})
    assert_oauth_error(r, 401, "invalid_client", "Authorization")
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    r = portal.http.post(f"{ISSUER}/oauth2/token", data={"grant_type": "authorization_code", "code": code,
                                                         "redirect_uri": RP, "client_id": BASIC_CLIENT["client_id"]})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_registered_auth_method_is_enforced(portal: Portal) -> None:
    code = portal.code()
    creds = base64.b64encode(f"{POST_CLIENT['client_id']}:{POST_CLIENT['client_secret']}".encode()).decode()
    r = portal.http.post(f"{ISSUER}/oauth2/token", headers={"Authorization": f"Basic {creds}"},
                         data={"grant_type": "authorization_code", "code": code, "redirect_uri": RP})
    assert_oauth_error(r, 401, "invalid_client", "Authorization")
    assert "client_secret_post" in r.json()["error_description"]
    assert portal.token(code).status_code == 200  # the refused attempt did not burn the code


def test_code_replay_is_refused_and_revokes_its_tokens(portal: Portal) -> None:
    code = portal.code()
    first = portal.token(code)
    assert first.status_code == 200
    access = first.json()["access_token"]
    assert portal.userinfo(access).status_code == 200
    assert_oauth_error(portal.token(code), 400, "invalid_grant", "code")
    r = portal.userinfo(access)
    assert_oauth_error(r, 401, "invalid_token", "access_token")
    assert "revoked" in r.json()["error_description"]


def test_code_expires_on_the_test_clock(portal: Portal) -> None:
    code = portal.code()
    portal.ctx.clock.advance(61)
    r = portal.token(code)
    assert_oauth_error(r, 400, "invalid_grant", "code")
    assert "expired" in r.json()["error_description"]


def test_code_is_bound_to_its_client_and_redirect_uri(portal: Portal) -> None:
    code = portal.code()
    assert_oauth_error(portal.token(code, BASIC_CLIENT | {"token_endpoint_auth_method": "client_secret_post"}),
                       401, "invalid_client", "client_secret")  # basic-only client may not post
    other = portal.token(code, OTHER_CLIENT)
    assert_oauth_error(other, 400, "invalid_grant", "code")
    assert_oauth_error(portal.token(code, redirect_uri=RP + "/"), 400, "invalid_grant", "redirect_uri")
    assert_oauth_error(portal.token(code, redirect_uri=""), 400, "invalid_request", "redirect_uri")
    assert portal.token(code).status_code == 200


def test_pkce_mismatch_and_missing_verifier(portal: Portal) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    code = portal.code(code_challenge=challenge, code_challenge_method="S256")
    assert_oauth_error(portal.token(code, code_verifier=secrets.token_urlsafe(48)), 400, "invalid_grant",
                       "code_verifier")
    assert_oauth_error(portal.token(code), 400, "invalid_grant", "code_verifier")
    assert portal.token(code, code_verifier=verifier).status_code == 200
    plain = redirect_error(portal.authorize(code_challenge=challenge, code_challenge_method="plain",
                                            login_hint=f"citizen:{COMMUNE}:0"))
    assert plain["error"] == "invalid_request" and plain["error_description"].startswith("code_challenge_method:")
    unasked = portal.code()
    assert_oauth_error(portal.token(unasked, code_verifier=verifier), 400, "invalid_grant", "code_verifier")


@pytest.mark.parametrize("scope", ["profile", "", "openidx profile"])
def test_scope_without_openid_goes_back_as_invalid_scope(portal: Portal, scope: str) -> None:
    err = redirect_error(portal.authorize(scope=scope, login_hint=f"citizen:{COMMUNE}:0"))
    assert err["error"] == "invalid_scope" and err["error_description"].startswith("scope:")
    assert err["state"] == "st-1" and err["iss"] == ISSUER
    assert "code" not in err


@pytest.mark.parametrize(("params", "error", "parameter"), [
    ({"response_type": "token"}, "unsupported_response_type", "response_type"),
    ({"response_type": ""}, "invalid_request", "response_type"),
    ({"acr_values": "LoA9"}, "invalid_request", "acr_values"),
    ({"response_mode": "fragment"}, "invalid_request", "response_mode"),
    ({"request": "eyJ..."}, "request_not_supported", "request"),
    ({"prompt": "none", "login_hint": ""}, "login_required", "prompt"),
])
def test_other_authorization_errors_go_back_naming_the_parameter(portal: Portal, params: dict[str, str], error: str,
                                                                  parameter: str) -> None:
    err = redirect_error(portal.authorize(POST_CLIENT, **{"login_hint": f"citizen:{COMMUNE}:0", **params}))
    assert err["error"] == error and err["error_description"].startswith(f"{parameter}:"), err


def test_repeated_parameter_is_refused(portal: Portal) -> None:
    url = (f"{ISSUER}/oauth2/authorize?response_type=code&client_id=province-31&redirect_uri={RP}"
           f"&scope=openid&scope=openid")
    assert_oauth_error(portal.http.get(url, allow_redirects=False), 400, "invalid_request", "scope")


def test_token_endpoint_grant_type_and_body_checks(portal: Portal) -> None:
    code = portal.code()
    assert_oauth_error(portal.token(code, grant_type="password"), 400, "unsupported_grant_type", "grant_type")
    assert_oauth_error(portal.token(code, grant_type=""), 400, "invalid_request", "grant_type")
    assert_oauth_error(portal.token("", ), 400, "invalid_request", "code")
    assert_oauth_error(portal.token("made-up"), 400, "invalid_grant", "code")
    r = portal.http.post(f"{ISSUER}/oauth2/token", json={"grant_type": "authorization_code", "code": code})
    assert_oauth_error(r, 400, "invalid_request", "Content-Type")


def test_revoked_access_token_is_refused_at_userinfo(portal: Portal) -> None:
    access = portal.token(portal.code()).json()["access_token"]
    assert portal.userinfo(access).status_code == 200
    # another client may not revoke it; an unknown token is not an error (RFC 7009)
    r = portal.http.post(f"{ISSUER}/oauth2/revoke", data={"token": access, **{
        "client_id": OTHER_CLIENT["client_id"], "client_secret": OTHER_CLIENT["client_secret"]}})
    assert_oauth_error(r, 400, "unauthorized_client", "token")
    ok = {"client_id": POST_CLIENT["client_id"], "client_secret": POST_CLIENT["client_secret"]}
    assert portal.http.post(f"{ISSUER}/oauth2/revoke", data={"token": "unknown", **ok}).status_code == 200
    assert portal.userinfo(access).status_code == 200
    r = portal.http.post(f"{ISSUER}/oauth2/revoke", data={"token": access, "token_type_hint": "access_token", **ok})
    assert r.status_code == 200
    r = portal.userinfo(access)
    assert_oauth_error(r, 401, "invalid_token", "access_token")
    assert r.headers["WWW-Authenticate"].startswith("Bearer") and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    r = portal.http.post(f"{ISSUER}/oauth2/userinfo", data={"access_token": access})
    assert_oauth_error(r, 401, "invalid_token", "access_token")


def test_access_token_expires_on_the_test_clock(portal: Portal) -> None:
    body = portal.token(portal.code()).json()
    portal.ctx.clock.advance(body["expires_in"] - 1)
    assert portal.userinfo(body["access_token"]).status_code == 200
    portal.ctx.clock.advance(1)
    r = portal.userinfo(body["access_token"])
    assert_oauth_error(r, 401, "invalid_token", "access_token")
    assert "expired" in r.json()["error_description"]


def test_userinfo_needs_a_bearer_token(portal: Portal) -> None:
    assert_oauth_error(portal.http.get(f"{ISSUER}/oauth2/userinfo"), 401, "invalid_token", "access_token")
    r = portal.http.get(f"{ISSUER}/oauth2/userinfo", headers={"Authorization": "Basic abc"})
    assert_oauth_error(r, 400, "invalid_request", "Authorization")


def test_logout_checks_post_logout_redirect_uri(portal: Portal) -> None:
    id_token = portal.token(portal.code()).json()["id_token"]
    ok = portal.http.get(f"{ISSUER}/oauth2/logout?" + urlencode({
        "id_token_hint": id_token, "post_logout_redirect_uri": LOGOUT_RP, "state": "bye"}), allow_redirects=False)
    assert ok.status_code == 302 and ok.headers["Location"] == f"{LOGOUT_RP}?state=bye"
    for uri in ("http://evil.test/", LOGOUT_RP + "/", RP):
        r = portal.http.get(f"{ISSUER}/oauth2/logout?" + urlencode({
            "id_token_hint": id_token, "post_logout_redirect_uri": uri}), allow_redirects=False)
        assert_oauth_error(r, 400, "invalid_request", "post_logout_redirect_uri")
    r = portal.http.get(f"{ISSUER}/oauth2/logout?" + urlencode({"post_logout_redirect_uri": LOGOUT_RP}),
                        allow_redirects=False)
    assert_oauth_error(r, 400, "invalid_request", "id_token_hint")
    forged = id_token[:-4] + ("AAAA" if not id_token.endswith("AAAA") else "BBBB")
    r = portal.http.get(f"{ISSUER}/oauth2/logout?" + urlencode({"id_token_hint": forged}), allow_redirects=False)
    assert_oauth_error(r, 400, "invalid_request", "id_token_hint")
    page = portal.http.get(f"{ISSUER}/oauth2/logout?" + urlencode({"client_id": POST_CLIENT["client_id"]}))
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]


# --- state shared by workers; the journal ------------------------------------------------------


def test_signing_key_is_shared_by_workers_and_survives_reset(portal: Portal, tmp_path: Any) -> None:
    kid = portal.http.get(f"{ISSUER}/oauth2/jwks").json()["keys"][0]["kid"]
    second = build_app("portal", config={"DATABASE_URL": f"sqlite:///{tmp_path}/sso.db", "ADMIN_TOKEN": "t0ken"})
    init_sso(second)
    assert (second.test_client().get("/oauth2/jwks").json or {})["keys"][0]["kid"] == kid
    access = portal.token(portal.code()).json()["access_token"]
    # the second worker serves userinfo for a token the first one issued
    assert second.test_client().get("/oauth2/userinfo", headers={"Authorization": f"Bearer {access}"}).status_code == 200
    assert portal.http.post(f"{ISSUER}/_admin/reset", headers=ADMIN).status_code == 200
    assert portal.http.get(f"{ISSUER}/oauth2/jwks").json()["keys"][0]["kid"] == kid
    assert portal.userinfo(access).status_code == 401


# --- signing key rotation ---------------------------------------------------------------------------


def keys(portal: Portal) -> dict[str, Any]:
    r = portal.http.get(f"{ISSUER}/_admin/sso/keys", headers=ADMIN)
    assert r.status_code == 200, r.text
    return dict(r.json())


def rotate(portal: Portal, **body: Any) -> requests.Response:
    return portal.http.post(f"{ISSUER}/_admin/sso/keys/rotate", json=body or None, headers=ADMIN)


def jwks_kids(portal: Portal) -> list[str]:
    return [k["kid"] for k in portal.http.get(f"{ISSUER}/oauth2/jwks").json()["keys"]]


def signed_kid(portal: Portal, base: str = ISSUER) -> str:
    """The kid in the header of an ID token issued now (through the worker at `base`)."""
    query = {"response_type": "code", "client_id": POST_CLIENT["client_id"], "redirect_uri": RP, "scope": "openid",
             "state": "s", "nonce": "n-1", "login_hint": f"citizen:{COMMUNE}:0"}
    r = portal.http.get(f"{base}/oauth2/authorize?{urlencode(query)}", allow_redirects=False)
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    r = portal.http.post(f"{base}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": RP,
        "client_id": POST_CLIENT["client_id"], "client_secret": POST_CLIENT["client_secret"]})
    assert r.status_code == 200, r.text
    header = jwt.decode(r.json()["id_token"], KeySet.import_key_set(portal.http.get(f"{ISSUER}/oauth2/jwks").json()),
                        algorithms=["RS256"]).header
    return str(header["kid"])


def test_rotation_publishes_both_kids_and_signs_with_the_new_one(portal: Portal) -> None:
    old = keys(portal)["current"]
    assert keys(portal) == {"current": old, "published": [old]} and jwks_kids(portal) == [old]
    before = portal.token(portal.code()).json()["id_token"]
    r = rotate(portal)
    assert r.status_code == 200, r.text
    new = r.json()["current"]
    assert new != old and r.json() == {"current": new, "published": [new, old]} == keys(portal)
    assert jwks_kids(portal) == [new, old]
    assert signed_kid(portal) == new
    id_token = portal.token(portal.code()).json()["id_token"]
    assert verify_id_token(portal, id_token, POST_CLIENT["client_id"], "n-1")["aud"] == POST_CLIENT["client_id"]
    # a token the retired key signed still verifies against the JWKS, and still names a client at logout
    jwks = KeySet.import_key_set(portal.http.get(f"{ISSUER}/oauth2/jwks").json())
    assert jwt.decode(before, jwks, algorithms=["RS256"]).header["kid"] == old
    assert portal.http.get(f"{ISSUER}/oauth2/logout?" + urlencode({
        "id_token_hint": before, "post_logout_redirect_uri": LOGOUT_RP}), allow_redirects=False).status_code == 302


def test_a_key_this_worker_made_is_never_imported_back(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing a private RSA key validates it (tens of ms, a sixth of a small certification's SSO
    cost): the keys a worker generates (the first signing key, each rotation's) are kept as generated;
    only a key another worker made is imported, once."""
    from mocks.national_portal.sso import models

    imported: list[str] = []
    real = models.RSAKey.import_key
    def spy(value: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, dict) and "d" in value:  # a private key (the test's own JWKS reads are public)
            imported.append(str(value.get("kid")))
        return real(value, *args, **kwargs)

    monkeypatch.setattr(models.RSAKey, "import_key", spy)
    first = signed_kid(portal)
    second = rotate(portal).json()["current"]
    assert signed_kid(portal) == second and keys(portal)["published"] == [second, first]
    assert imported == [], f"{len(imported)} import(s) of keys this worker generated"


def test_keys_made_ahead_are_used_in_order_then_new_ones(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork server makes a run's keys ahead (`cutover.certification.warm`); the provider takes them in
    order (first signing key, then a rotation's) and generates once they are gone."""
    from mocks.national_portal.sso import models

    ahead = [models.new_key(), models.new_key()]
    monkeypatch.setattr(models, "SPARE_KEYS", list(ahead))
    transport = InProcessTransport()
    app = build_app("portal", config={"DATABASE_URL": f"sqlite:///{tmp_path}/ahead.db", "ADMIN_TOKEN": "t0ken",
                                      "TRANSPORT": transport, "SSO_PORTAL_CLIENT": PORTAL_CLIENT})
    init_sso(app)
    transport.mount_app(ISSUER, app)
    http = transport.session()
    rotate_url, state_url = f"{ISSUER}/_admin/sso/keys/rotate", f"{ISSUER}/_admin/sso/keys"
    assert http.get(state_url, headers=ADMIN).json()["current"] == ahead[0].kid
    assert http.post(rotate_url, headers=ADMIN).json()["current"] == ahead[1].kid
    third = http.post(rotate_url, headers=ADMIN).json()["current"]
    assert third not in (ahead[0].kid, ahead[1].kid) and models.SPARE_KEYS == []


def test_a_retired_key_can_be_made_current_again(portal: Portal) -> None:
    old = keys(portal)["current"]
    new = rotate(portal).json()["current"]
    r = rotate(portal, kid=old)
    assert r.status_code == 200 and r.json() == {"current": old, "published": [old, new]}, r.text
    assert jwks_kids(portal) == [old, new] and signed_kid(portal) == old
    assert rotate(portal, kid=old).json() == {"current": old, "published": [old, new]}  # already current: as it was


def test_the_jwks_stays_bounded_and_keys_survive_a_reset(portal: Portal) -> None:
    first = keys(portal)["current"]
    kids = [first] + [rotate(portal).json()["current"] for _ in range(3)]
    assert keys(portal)["published"] == kids[:0:-1] == jwks_kids(portal)  # the first key is dropped
    r = rotate(portal, kid=first)
    assert r.status_code == 400 and r.json()["error"]["field"] == "kid", r.text
    assert portal.http.post(f"{ISSUER}/_admin/reset", headers=ADMIN).status_code == 200
    assert keys(portal)["published"] == kids[:0:-1] == jwks_kids(portal)  # (the reset forgot the tenants)
    assert sso_provider(portal.app).key().kid == kids[-1]


@pytest.mark.parametrize(("body", "field"), [
    ({"kid": "no-such-kid"}, "kid"), ({"kid": 7}, "kid"), ({"kid": ""}, "kid"), ([1], "body"), ("not json", "body")])
def test_bad_rotation_requests_name_the_field_and_change_nothing(portal: Portal, body: Any, field: str) -> None:
    state = keys(portal)
    data = body if isinstance(body, str) else None
    r = portal.http.post(f"{ISSUER}/_admin/sso/keys/rotate", headers={**ADMIN, "Content-Type": "application/json"},
                         data=data, json=None if data else body)
    assert r.status_code == 400 and r.json()["error"]["field"] == field, r.text
    assert keys(portal) == state
    assert portal.http.post(f"{ISSUER}/_admin/sso/keys/rotate").status_code == 401
    assert portal.http.get(f"{ISSUER}/_admin/sso/keys").status_code == 401
    assert keys(portal) == state


def test_another_worker_signs_with_the_rotated_key(portal: Portal, tmp_path: Any) -> None:
    """Two provider instances on one store, as two gunicorn workers: the second has signed (and cached its
    key) before the first rotates; it then signs with the new key, and can restore the old one."""
    second = build_app("portal", config={"DATABASE_URL": f"sqlite:///{tmp_path}/sso.db", "ADMIN_TOKEN": "t0ken"})
    init_sso(second)
    worker2 = "http://worker2.test"
    portal.transport.mount_app(worker2, second)
    old = keys(portal)["current"]
    assert signed_kid(portal, worker2) == old
    new = rotate(portal).json()["current"]
    assert signed_kid(portal, worker2) == new
    assert [k["kid"] for k in portal.http.get(f"{worker2}/oauth2/jwks").json()["keys"]] == [new, old]
    r = portal.http.post(f"{worker2}/_admin/sso/keys/rotate", json={"kid": old}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["current"] == old, r.text
    assert signed_kid(portal) == old == signed_kid(portal, worker2)


def test_journal_carries_tenant_and_no_secrets(portal: Portal) -> None:
    code = portal.code()
    body = portal.token(code).json()
    entries = portal.http.get(f"{ISSUER}/_admin/journal?tenant=31", headers=ADMIN).json()["entries"]
    paths = [e["url"].split("?")[0] for e in entries]
    assert "/oauth2/authorize" in paths and "/oauth2/token" in paths
    text = str(entries)
    for secret in (code, body["access_token"], body["id_token"], POST_CLIENT["client_secret"]):
        assert secret not in text
    login = next(e for e in entries if e["url"].startswith("/oauth2/authorize"))
    assert login["keys"]["login_hint"] == f"citizen:{COMMUNE}:0" and login["commune"] == COMMUNE


def test_fault_and_bad_input_use_the_oauth_envelope(portal: Portal) -> None:
    portal.http.post(f"{ISSUER}/_admin/faults", json={"action": "error", "path": "/oauth2/token", "status": 503,
                                                      "count": 1}, headers=ADMIN)
    r = portal.token(portal.code())
    assert r.status_code == 503 and r.json()["error"] == "temporarily_unavailable"
    r = portal.http.delete(f"{ISSUER}/oauth2/token")
    assert r.status_code == 405 and "Traceback" not in r.text


def test_basic_credentials_form_encoded_per_rfc_6749(portal: Portal) -> None:
    from urllib.parse import quote_plus
    code = portal.code(BASIC_CLIENT)
    creds = f"{quote_plus(BASIC_CLIENT['client_id'])}:{quote_plus(BASIC_CLIENT['client_secret'])}"
    r = portal.http.post(f"{ISSUER}/oauth2/token", headers={"Authorization": "Basic " + base64.b64encode(
        creds.encode()).decode()}, data={"grant_type": "authorization_code", "code": code, "redirect_uri": RP})
    assert r.status_code == 200, r.text

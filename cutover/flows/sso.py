"""Single sign-on flows: a person logs in through the national portal's OpenID provider.

`login_with_hint` walks the authorization-code flow the way a browser would, except that the
test login page is skipped with `login_hint` (what the portal's SSO accepts for automation).
It serves two callers: the harness logging a citizen into the portal itself, and the harness
logging a citizen or officer into the system under test (the province is then the relying
party and does the code exchange). For the hostile probes a login at a relying party also comes
in steps: `start_login` (the relying party's authorization request), `authorization_response`
(the portal's answer, not delivered) and `deliver` (to the `redirect_uri`, possibly tampered).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests


class LoginFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class PortalTokens:
    access_token: str
    id_token: str
    claims: dict[str, Any]


def discover(http: requests.Session | Any, portal_url: str) -> dict[str, Any]:
    resp = http.get(f"{portal_url.rstrip('/')}/.well-known/openid-configuration", timeout=30)
    if resp.status_code != 200:
        raise LoginFailed(f"discovery at {portal_url} answered {resp.status_code}: {resp.text[:200]}")
    doc: dict[str, Any] = resp.json()
    return doc


@dataclass(frozen=True)
class AuthorizationResponse:
    """What the portal redirects the browser back to a relying party with (not yet delivered)."""
    redirect_uri: str
    params: dict[str, str]
    """`code`, `state` and `iss`; or `error`, `error_description`, `state` and `iss`."""


def authorization_response(http: requests.Session | Any, authorization_url: str,
                           login_hint: str | None = None) -> AuthorizationResponse:
    """Let the portal answer an authorization request as a browser would, logging in as `login_hint`
    (added when the request lacks one, as a person choosing it on the test login page would);
    return the redirect to the request's `redirect_uri` without following it."""
    parts = urlsplit(authorization_url)
    request = dict(parse_qsl(parts.query))
    redirect_uri = request.get("redirect_uri", "")
    if login_hint and "login_hint" not in request:
        authorization_url = urlunsplit(parts._replace(query=urlencode({**request, "login_hint": login_hint})))
    resp = http.get(authorization_url, allow_redirects=False, timeout=30)
    location = resp.headers.get("Location", "")
    if resp.status_code not in (302, 303) or not redirect_uri or not location.startswith(redirect_uri):
        raise LoginFailed(f"authorize did not redirect to {redirect_uri or 'a redirect_uri'}: HTTP "
                          f"{resp.status_code} {location or resp.text[:300]}")
    return AuthorizationResponse(redirect_uri, dict(parse_qsl(urlsplit(location).query)))


def authorize_code(http: requests.Session | Any, authorize_url: str, *, client_id: str, redirect_uri: str,
                   login_hint: str, state: str, nonce: str, acr: str = "LoA2") -> str:
    """Ask for a code with `login_hint`; return it from the redirect to `redirect_uri` (not followed)."""
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                       "scope": "openid", "state": state, "nonce": nonce, "acr_values": acr,
                       "login_hint": login_hint})
    params = authorization_response(http, f"{authorize_url}?{query}").params
    if params.get("state") != state:
        raise LoginFailed(f"authorize answered state {params.get('state')!r}, expected {state!r}")
    if "code" not in params:
        raise LoginFailed(f"authorize answered an error: {params}")
    return params["code"]


def start_login(http: requests.Session | Any, login_url: str, login_hint: str, authorize_url: str,
                max_hops: int = 10) -> str:
    """Start a login at a relying party and return the authorization request it sends the browser
    to (the URL on the portal's `authorize_url`, with the relying party's own state and nonce)."""
    sep = "&" if "?" in login_url else "?"
    url = f"{login_url}{sep}{urlencode({'login_hint': login_hint})}"
    for _ in range(max_hops):
        resp = http.get(url, allow_redirects=False, timeout=30, headers={"Accept": "application/json"})
        location = resp.headers.get("Location")
        if resp.status_code not in (301, 302, 303, 307, 308) or not location:
            raise LoginFailed(f"the login at {login_url} answered HTTP {resp.status_code} instead of sending the "
                              f"browser to the portal: {resp.text[:200]}")
        url = urljoin(url, location)
        if url.startswith(authorize_url):
            return url
    raise LoginFailed(f"more than {max_hops} redirects starting at {login_url}")


def deliver(http: requests.Session | Any, response: AuthorizationResponse) -> requests.Response:
    """Bring an authorization response to the relying party's `redirect_uri` as the browser would;
    its answer is returned, not followed (a session, a refusal, or a redirect)."""
    sep = "&" if "?" in response.redirect_uri else "?"
    url = f"{response.redirect_uri}{sep}{urlencode(response.params)}" if response.params else response.redirect_uri
    resp: requests.Response = http.get(url, allow_redirects=False, timeout=30, headers={"Accept": "application/json"})
    return resp


def portal_citizen_login(http: requests.Session | Any, portal_url: str, client: dict[str, Any],
                         login_hint: str) -> PortalTokens:
    """Log a person into the national portal's own pages; returns tokens and userinfo claims."""
    meta = discover(http, portal_url)
    redirect_uri = client["redirect_uris"][0]
    code = authorize_code(http, meta["authorization_endpoint"], client_id=client["client_id"],
                          redirect_uri=redirect_uri, login_hint=login_hint, state=secrets.token_urlsafe(12),
                          nonce=secrets.token_urlsafe(12))
    resp = http.post(meta["token_endpoint"], data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "client_id": client["client_id"], "client_secret": client["client_secret"]}, timeout=30)
    if resp.status_code != 200:
        raise LoginFailed(f"token endpoint answered {resp.status_code}: {resp.text[:300]}")
    tokens = resp.json()
    info = http.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens['access_token']}"},
                    timeout=30)
    if info.status_code != 200:
        raise LoginFailed(f"userinfo answered {info.status_code}: {info.text[:300]}")
    return PortalTokens(tokens["access_token"], tokens.get("id_token", ""), info.json())


def login_at_relying_party(http: requests.Session | Any, login_url: str, login_hint: str,
                           max_hops: int = 10) -> requests.Response:
    """Start at a relying party's login URL and follow every redirect through the portal and back.

    The relying party keeps its session in `http`'s cookie jar; the last response is returned
    (the relying party's own answer after its callback: a page, JSON, or an error).
    """
    sep = "&" if "?" in login_url else "?"
    url = f"{login_url}{sep}{urlencode({'login_hint': login_hint})}"
    for _ in range(max_hops):
        resp = http.get(url, allow_redirects=False, timeout=30, headers={"Accept": "application/json"})
        if resp.status_code in (301, 302, 303, 307, 308) and resp.headers.get("Location"):
            url = urljoin(url, resp.headers["Location"])
            continue
        return resp
    raise LoginFailed(f"more than {max_hops} redirects starting at {login_url}")

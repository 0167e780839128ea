"""Single sign-on as a relying party of the national portal (citizens and officers).

authlib's OAuth2Session builds the authorization request and exchanges the code; joserfc
verifies the ID token against the portal's JWKS. Time checks (exp, iat) use this system's
clock, which the harness may have set; every check that a defect switch can turn off is
named after it, so the certification suite can prove each one matters. The state of an
authorization response must be one this system issued and has not used; the nonce of the ID
token must be the one sent with that state.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from typing import Any

import requests
import sqlalchemy as sa
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from mocks.core.clock import Clock, iso, parse_iso
from mocks.core.errors import BadRequest, ServiceError, Unauthorized
from mocks.core.store import Store
from mocks.core.transport import route_like
from protocols.json_text import loads

from . import tables as t
from .settings import ProvinceSettings

LEEWAY_SECONDS = 60
STATE_TTL_SECONDS = 600


# Statements of every login, built once (building costs SQLAlchemy more than running).
_ADD_STATE = t.sso_states.insert()
_STATE = sa.select(t.sso_states).where(t.sso_states.c.state == sa.bindparam("state"))
_STATE_BY_NONCE = sa.select(t.sso_states).where(t.sso_states.c.nonce == sa.bindparam("nonce"),
                                                t.sso_states.c.province == sa.bindparam("province"))
_DELETE_STATE = t.sso_states.delete().where(t.sso_states.c.state == sa.bindparam("state"))
_DELETE_STALE_STATES = t.sso_states.delete().where(t.sso_states.c.created_at < sa.bindparam("before"))
_ADD_SESSION = t.sessions.insert()
_SESSION = sa.select(t.sessions).where(t.sessions.c.sid == sa.bindparam("sid"))


class LoginRefused(Unauthorized):
    code = "login_refused"


class RelyingParty:
    def __init__(self, store: Store, clock: Clock, http: requests.Session, portal_url: str,
                 settings: dict[str, ProvinceSettings], defects: frozenset[str]) -> None:
        self.store = store
        self.clock = clock
        self.http = http
        self.portal_url = portal_url.rstrip("/")
        self.settings = settings
        self.defects = defects
        self._meta: dict[str, Any] | None = None
        self._jwks: KeySet | None = None

    def forget(self) -> None:
        """Drop the cached discovery document and keys (read again on next use)."""
        self._meta, self._jwks = None, None

    def metadata(self) -> dict[str, Any]:
        if self._meta is None:
            resp = self.http.get(f"{self.portal_url}/.well-known/openid-configuration", timeout=30)
            if resp.status_code != 200 and "discovery_status_unchecked" not in self.defects:
                raise ServiceError(f"the portal's discovery answered {resp.status_code}", field="sso", status=502)
            self._meta = _json_answer(resp, "sso")
        return self._meta

    def keys(self, refresh: bool = False) -> KeySet:
        """The portal's JWKS, kept; read again when `refresh` is asked (an ID token named a kid not held:
        the portal rotated its signing key, OpenID Connect Core 10.1.1)."""
        refresh = refresh and "jwks_not_refetched_for_unknown_kid" not in self.defects
        if self._jwks is None or refresh or "jwks_fetched_every_login" in self.defects:
            resp = self.http.get(self.metadata()["jwks_uri"], timeout=30)
            self._jwks = KeySet.import_key_set(_json_answer(resp, "jwks_uri"))  # type: ignore[arg-type]
        return self._jwks

    def _session(self, province: str, redirect_uri: str, method: str = "client_secret_post") -> OAuth2Session:
        s = self.settings[province]
        sess = OAuth2Session(s.oidc_client_id, s.oidc_client_secret, scope="openid", redirect_uri=redirect_uri,
                             token_endpoint_auth_method=method)
        return route_like(sess, self.http)  # reached, and proxied, as every other call of the system

    def authorization_url(self, province: str, redirect_uri: str, login_hint: str | None) -> str:
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        with self.store.begin() as conn:
            # Logins abandoned before their callback would pile up: each new one clears the stale.
            conn.execute(_DELETE_STALE_STATES,
                         {"before": iso(self.clock.now() - timedelta(seconds=STATE_TTL_SECONDS))})
            conn.execute(_ADD_STATE, {"state": state, "province": province, "nonce": nonce,
                                      "created_at": iso(self.clock.now())})
        extra = {"login_hint": login_hint} if login_hint else {}
        url, _ = self._session(province, redirect_uri).create_authorization_url(
            self.metadata()["authorization_endpoint"], state=state, nonce=nonce, acr_values="LoA2", **extra)
        return str(url)

    def callback(self, province: str, redirect_uri: str, args: dict[str, str]) -> dict[str, Any]:
        """Exchange the code, verify the ID token, fetch userinfo; returns the new session."""
        if "error" in args and "error_response_crashes" not in self.defects:
            raise LoginRefused(f"the portal answered {args['error']}: {args.get('error_description', '')}",
                               field="error")
        pending = self._take_state(province, args.get("state", ""))
        code = args["code"] if "error_response_crashes" in self.defects else args.get("code")
        if not code:
            raise BadRequest("missing code", field="code")
        token = self._exchange(province, redirect_uri, code)
        id_token = str(token.get("id_token", ""))
        nonce = pending.nonce if pending is not None else self._take_state_by_nonce(province, id_token)
        claims = self.verify_id_token(province, id_token, nonce)
        info = self.http.get(self.metadata()["userinfo_endpoint"],
                             headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=30)
        if info.status_code != 200:
            raise LoginRefused(f"userinfo answered {info.status_code}", field="access_token")
        user = _json_answer(info, "userinfo")
        if "userinfo_subject_unchecked" not in self.defects and user.get("sub") != claims.get("sub"):
            raise LoginRefused("userinfo is for another subject than the ID token", field="sub")
        role = "officer" if user.get("VaiTro") or user.get("MaDonVi") else "citizen"
        sid = secrets.token_urlsafe(24)
        with self.store.begin() as conn:
            conn.execute(_ADD_SESSION, {"sid": sid, "province": province, "sub": str(user["sub"]), "role": role,
                                        "claims": user, "created_at": iso(self.clock.now())})
        return {"session": sid, "role": role, "user": user}

    def _take_state(self, province: str, state: str) -> Any:
        """The pending login `state` names, consumed: a state this system issued, good for one callback.

        None when a defect leaves the state unchecked (the pending login is then found by the ID
        token's nonce, as a system that keeps only nonces does).
        """
        if "ignore_state" in self.defects or (not state and "state_optional" in self.defects):
            return None
        with self.store.begin() as conn:
            row = conn.execute(_STATE, {"state": state}).first()
            if "state_reusable" not in self.defects:
                conn.execute(t.sso_states.delete().where(t.sso_states.c.state <= state) if "consumed_state_clears_earlier" in self.defects else _DELETE_STATE, {"state": state})
        if row is None or ("state_any_province" not in self.defects and row.province != province):
            raise LoginRefused("unknown or reused state" if state else "missing state", field="state")
        if (self.clock.now() - parse_iso(row.created_at)).total_seconds() > STATE_TTL_SECONDS:
            raise LoginRefused(f"state expired: the login began more than {STATE_TTL_SECONDS} s ago",
                               field="state")
        return row

    def _take_state_by_nonce(self, province: str, id_token: str) -> str:
        """Defects only: the pending login whose nonce the ID token claims (consumed); its nonce or ''."""
        claimed = _unverified_claims(id_token).get("nonce")
        with self.store.begin() as conn:
            row = conn.execute(_STATE_BY_NONCE, {"nonce": str(claimed), "province": province}).first()
            if row is not None:
                conn.execute(_DELETE_STATE, {"state": row.state})
        return str(row.nonce) if row is not None else ""

    def _exchange(self, province: str, redirect_uri: str, code: str) -> dict[str, Any]:
        """The code exchange at the portal's token endpoint, authenticated as the client is registered."""
        if "wrong_token_auth_method" in self.defects:
            with contextlib.suppress(Exception):  # the library's default first; the portal refuses it
                return self._fetch_token(province, redirect_uri, code, "client_secret_basic")
        try:
            return self._fetch_token(province, redirect_uri, code, "client_secret_post")
        except Exception as exc:  # noqa: BLE001 - authlib raises several types; the login fails either way
            if "token_error_crashes" in self.defects:
                raise
            raise LoginRefused(f"code exchange failed: {exc}", field="code") from None

    def _fetch_token(self, province: str, redirect_uri: str, code: str, method: str) -> dict[str, Any]:
        sess = self._session(province, redirect_uri, method)
        return dict(sess.fetch_token(self.metadata()["token_endpoint"], code=code, grant_type="authorization_code"))

    def verify_id_token(self, province: str, id_token: str, nonce: str) -> dict[str, Any]:
        s = self.settings[province]
        claims = self._verified_claims(id_token)
        now = self.clock.timestamp()
        if "ignore_iss" not in self.defects and claims.get("iss") != self.metadata()["issuer"]:
            raise LoginRefused(f"ID token issuer {claims.get('iss')!r} is not the portal", field="iss")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if "ignore_aud" not in self.defects and s.oidc_client_id not in audiences:
            raise LoginRefused(f"ID token is for {aud!r}, not this client", field="aud")
        if "ignore_exp" not in self.defects and (
                not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < now - LEEWAY_SECONDS):
            raise LoginRefused("ID token expired", field="exp")
        if "ignore_iat" not in self.defects and (
                not isinstance(claims.get("iat"), (int, float)) or claims["iat"] > now + LEEWAY_SECONDS):
            raise LoginRefused("ID token issued in the future", field="iat")
        unchecked = "ignore_nonce" in self.defects or ("nonce_optional" in self.defects and "nonce" not in claims)
        if not unchecked and claims.get("nonce") != nonce:
            raise LoginRefused("ID token nonce does not match the one sent", field="nonce")
        return claims

    def _verified_claims(self, id_token: str) -> dict[str, Any]:
        """The claims of an ID token whose RS256 signature verifies against the portal's JWKS."""
        if "id_token_parts_unchecked" in self.defects:  # the payload read as the second part, unchecked
            _second_part(id_token)
            json.loads(_b64decode(id_token.split(".")[0]))  # the header too: a header not JSON escapes (500)
        _header(id_token), _unverified_claims(id_token)  # JSON within limits before any library parses it
        if "skip_signature_check" in self.defects:
            return _unverified_claims(id_token)
        if self.defects & {"alg_none_accepted", "hs256_allowed"}:
            alg = _header(id_token).get("alg")
            if alg == "none" and "alg_none_accepted" in self.defects:
                return _unverified_claims(id_token)
            if alg == "HS256" and "hs256_allowed" in self.defects:
                return self._hs256_claims(id_token)
        try:
            decoded = jwt.decode(id_token, self.keys(), algorithms=["RS256"])
        except JoseError:
            try:
                decoded = jwt.decode(id_token, self.keys(refresh=True), algorithms=["RS256"])
            except (JoseError, ValueError) as exc:
                raise LoginRefused(f"ID token signature not valid: {exc}", field="id_token") from None
        except ValueError as exc:
            raise LoginRefused(f"ID token not valid: {exc}", field="id_token") from None
        return dict(decoded.claims)

    def _hs256_claims(self, id_token: str) -> dict[str, Any]:
        """Defect `hs256_allowed`: HS256 "verified" with the key the JWKS names, as PEM (the confusion)."""
        kid = _header(id_token).get("kid")
        key = next((k for k in self.keys().keys if k.kid == kid), None)
        signing_input, _, signature = id_token.rpartition(".")
        if not isinstance(key, RSAKey):
            raise LoginRefused("ID token key not found", field="id_token")
        mac = hmac.new(key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(_b64decode(signature), mac):
            raise LoginRefused("ID token signature not valid", field="id_token")
        return _unverified_claims(id_token)

    def session(self, sid: str | None) -> dict[str, Any] | None:
        if not sid:
            return None
        with self.store.read() as conn:
            row = conn.execute(_SESSION, {"sid": sid}).first()
        if row is None:
            return None
        return {"session": row.sid, "province": row.province, "role": row.role, "sub": row.sub, "user": row.claims,
                "created_at": row.created_at}


def _json_answer(resp: requests.Response, field: str) -> dict[str, Any]:
    """A JSON object the portal answered, read within the shared limits (a hostile or broken portal
    answering a thousand levels deep, or not JSON, refuses the login instead of crashing it)."""
    try:
        value = loads(resp.content, field)
    except ValueError as err:
        raise LoginRefused(f"the portal's {field} answer is not usable JSON: {err}", field=field) from None
    if not isinstance(value, dict):
        raise LoginRefused(f"the portal's {field} answer is not a JSON object", field=field)
    return value


def _b64decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except ValueError:
        raise LoginRefused("ID token is not a JWT", field="id_token") from None


def _header(token: str) -> dict[str, Any]:
    """The JOSE header, unverified (to see which algorithm the token claims)."""
    try:
        header = loads(_b64decode(token.split(".")[0]), "id_token")
    except ValueError:
        raise LoginRefused("ID token is not a JWT", field="id_token") from None
    return header if isinstance(header, dict) else {}


def _unverified_claims(token: str) -> dict[str, Any]:
    """What a system that skips the signature check reads: the payload, trusted as is."""
    try:
        payload = token.split(".")[1]
        claims = loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)), "id_token")
    except (IndexError, ValueError):
        raise LoginRefused("ID token is not a JWT", field="id_token") from None
    if not isinstance(claims, dict):
        raise LoginRefused("ID token payload is not an object", field="id_token")
    return claims


def _second_part(token: str) -> Any:
    """Defect `id_token_parts_unchecked`: the payload taken as `split(".")[1]` with only a ValueError
    caught; a token of one part raises IndexError, which nothing catches (HTTP 500)."""
    try:
        return loads(_b64decode(token.split(".")[1]), "id_token")
    except ValueError:
        raise LoginRefused("ID token is not a JWT", field="id_token") from None

"""The OpenID Connect provider's state and rules (no Flask): clients, codes, tokens, users, keys.

Endpoint logic is written out here rather than delegated to authlib's AuthorizationServer:
authlib's OpenID grants stamp ``iat``/``exp`` from the wall clock (``time.time()``), while this
mock must live on the shared test clock, break ID tokens on purpose (hostile mode) and keep all
state in SQLAlchemy Core tables shared by worker processes. The JOSE work (keys, JWKS, signing,
verifying) is joserfc's.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy.exc import IntegrityError

from mocks.core.clock import Clock
from mocks.core.prune import PruneSchedule
from mocks.core.store import Store
from mocks.core.tenants import Tenants
from refdata import testdata

from . import people
from .errors import (
    AuthorizeRedirect,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    InvalidToken,
    LoginRequired,
    OAuthError,
    RequestNotSupported,
    RequestUriNotSupported,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
)
from .hostile import HOSTILE_MODES, OTHER_SUBJECT, HostileQueue, break_claims, encode_id_token
from .tables import (
    ADD_CODE,
    ADD_TOKEN,
    ADD_USER,
    CODE,
    CURRENT_KID,
    DELETE_USER,
    SIGNING_KEY,
    STATE_TABLES,
    TOKEN,
    USE_CODE,
    USER_CLAIMS,
    codes_table,
    keys_table,
    metadata,
    signing_keys_table,
    tokens_table,
    users_table,
)

EXPIRED_TOKENS_KEPT_SECONDS = 3600.0
AUTH_METHODS = ("client_secret_post", "client_secret_basic")
ACR_VALUES = ("LoA1", "LoA2", "LoA3")
SCOPES = ("openid", "profile", "email", "phone", "address")
CLAIMS = ("sub", "LoaiTaiKhoan", "SoDinhDanh", "HoVaTen", "NgayThangNamSinh", "GioiTinh", "ThuDienTu",
          "SoDienThoai", "DiaChi", "ThuongTru", "TechID", "MaSoThue", "MaDonVi", "TenDonVi",
          "MaDonViHanhChinh", "ChucDanh", "PhongBan", "VaiTro")
PKCE_CHALLENGE = re.compile(r"[A-Za-z0-9._~-]{43,128}")
KEYS_PUBLISHED = 3
"""Signing keys in the JWKS: the current one and the two made current before it (retired keys still verify
the tokens they signed; a rotation past that drops the key current longest ago)."""
PUBLISHED_KEYS = (sa.select(signing_keys_table.c.kid, signing_keys_table.c.jwk)
                  .order_by(signing_keys_table.c.generation.desc()).limit(KEYS_PUBLISHED))

SSO_DEFAULTS: dict[str, Any] = {
    "SSO_CODE_TTL_SECONDS": 60,
    "SSO_ACCESS_TOKEN_TTL_SECONDS": 3600,
    "SSO_ID_TOKEN_TTL_SECONDS": 3600,
    "SSO_DEFAULT_ACR": "LoA2",
    "SSO_TESTDATA_SEED": testdata.DEFAULT_SEED,
}


class UnknownKey(LookupError):
    """A kid that names no published signing key."""


@dataclass(frozen=True)
class Client:
    """A relying party: a province's system (tenant = province code) or the portal itself (None)."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    auth_method: str | None  # None = either method
    tenant: str | None

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], tenant: str | None) -> Client:
        return cls(client_id=str(entry["client_id"]), client_secret=str(entry.get("client_secret") or ""),
                   redirect_uris=tuple(entry.get("redirect_uris") or ()),
                   post_logout_redirect_uris=tuple(entry.get("post_logout_redirect_uris") or ()),
                   auth_method=entry.get("token_endpoint_auth_method") or None, tenant=tenant)


@dataclass(frozen=True)
class AuthorizeRequest:
    """A checked authorization request; anything wrong past the redirect_uri goes back to the client."""

    client: Client
    redirect_uri: str
    state: str | None
    nonce: str | None
    scope: tuple[str, ...]
    acr: str
    code_challenge: str | None
    login_hint: str | None


def digest(value: str) -> str:
    """How codes and tokens are stored: never the credential itself."""
    return hashlib.sha256(value.encode()).hexdigest()


def add_query(uri: str, params: Mapping[str, str | None]) -> str:
    """`uri` with `params` appended to its query, keeping what the registered URI already has."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


SPARE_KEYS: list[RSAKey] = []
"""Keys made ahead by a process that forks certification shards (`cutover.certification.warm`): a shard
takes them, in order, instead of spending ~70 ms of CPU on each of the four keys a run makes (the first
signing key, the foreign key of bad signatures, two rotations). Each forked shard holds its own copy of
the list, so shards of one fork server start from the same keys, each in a database of its own."""


def new_key() -> RSAKey:
    """A fresh RS256 signing key, its kid the RFC 7638 thumbprint (a spare one when there is one)."""
    if SPARE_KEYS:
        return SPARE_KEYS.pop(0)
    return RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True, auto_kid=True)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


class SsoProvider:
    """One OpenID provider over a store. Which signing key is current lives in the store (an admin may
    rotate it, through any worker); the keys themselves, once parsed, are kept per instance by kid."""

    def __init__(self, store: Store, clock: Clock, tenants: Tenants, config: dict[str, Any]) -> None:
        self.store = store
        self.clock = clock
        self.tenants = tenants
        self.config = config
        self.hostile = HostileQueue(store)
        self._keys: dict[str, RSAKey] = {}  # signing keys by kid
        self._slots: dict[str, RSAKey] = {}  # keys_table's keys by slot
        self._prune = PruneSchedule(clock)
        store.create_all(metadata)

    def setting(self, key: str) -> Any:
        value = self.config.get(key)
        return SSO_DEFAULTS[key] if value is None else value

    def reset(self) -> None:
        """Forget users, codes, tokens and hostile switches; keep the keys (RPs cache the JWKS)."""
        with self.store.begin() as conn:
            for table in STATE_TABLES:
                conn.execute(table.delete())

    # --- keys ---------------------------------------------------------------------------

    def key(self) -> RSAKey:
        """The current signing key. Which key is current is read from the store at each call (another
        worker may have rotated it since: a cheap look-up, once per login); keys are parsed once per kid."""
        for _ in range(3):  # a concurrent rotation may drop the kid just read: read again
            kid = self._current_kid()
            found = self._signing_key(kid)
            if found is not None:
                return found
        raise RuntimeError("the current signing key vanished three times while being read")

    def published_keys(self) -> list[RSAKey]:
        """The signing keys the JWKS publishes: the current one first, then the retired ones, the
        latest first (at most KEYS_PUBLISHED in all). Every one of them verifies the tokens it signed."""
        self._current_kid()  # the first key exists before anything is published
        with self.store.read() as conn:
            rows = conn.execute(PUBLISHED_KEYS).all()
        return [self._parse(row.kid, row.jwk) for row in rows]

    def key_state(self) -> dict[str, Any]:
        """What the admin API answers: the current kid and every published kid (the current one first)."""
        kids = [k.kid for k in self.published_keys()]
        return {"current": kids[0], "published": kids}

    def rotate_key(self, kid: str | None = None) -> dict[str, Any]:
        """Make a signing key current: a new RSA key (`kid` None), or the published key `kid` again (a
        probe restores the key it found). The key that was current stays published, retired; past
        KEYS_PUBLISHED keys the one current longest ago is dropped. UnknownKey when `kid` names no
        published key."""
        self._current_kid()
        fresh = None if kid is not None else new_key()
        table = signing_keys_table
        for attempt in range(3):
            try:
                with self.store.begin() as conn:
                    top = int(conn.execute(sa.select(sa.func.max(table.c.generation))).scalar() or 0)
                    if fresh is not None:
                        conn.execute(table.insert().values(kid=fresh.kid, jwk=fresh.as_dict(private=True),
                                                           created_at=self.clock.timestamp(), generation=top + 1))
                    elif not conn.execute(table.update().where(table.c.kid == kid)
                                          .values(generation=top + 1)).rowcount:
                        raise UnknownKey(kid)
                    kept = conn.execute(sa.select(table.c.generation).order_by(table.c.generation.desc())
                                        .limit(KEYS_PUBLISHED)).scalars().all()
                    conn.execute(table.delete().where(table.c.generation < kept[-1]))
                if fresh is not None:
                    self._remember(fresh)  # the key object itself: importing it back costs a validation
                break
            except IntegrityError:  # another worker took the same generation first (PostgreSQL): again
                if attempt == 2:
                    raise
        return self.key_state()

    def _current_kid(self) -> str:
        """The kid of the current signing key; on a store's first use, the first key becomes current."""
        with self.store.read() as conn:
            kid = conn.execute(CURRENT_KID).scalar()
        if kid is not None:
            return str(kid)
        first = self._remember(self._slot_key("signing"))
        with contextlib.suppress(IntegrityError), self.store.begin() as conn:  # or another worker did
            conn.execute(signing_keys_table.insert().values(kid=first.kid, jwk=first.as_dict(private=True),
                                                            created_at=self.clock.timestamp(), generation=1))
        with self.store.read() as conn:
            return str(conn.execute(CURRENT_KID).scalar_one())

    def _signing_key(self, kid: str) -> RSAKey | None:
        cached = self._keys.get(kid)
        if cached is not None:
            return cached
        with self.store.read() as conn:
            row = conn.execute(SIGNING_KEY, {"kid": kid}).first()
        return None if row is None else self._parse(kid, row.jwk)

    def _parse(self, kid: str, jwk: Any) -> RSAKey:
        found = self._keys.get(kid)
        return found if found is not None else self._remember(RSAKey.import_key(dict(jwk)))

    def _remember(self, key: RSAKey) -> RSAKey:
        """Keep a parsed key by kid: importing a private RSA key validates it (tens of ms), so each key
        this instance generated or read is imported at most once."""
        if key.kid not in self._keys and len(self._keys) >= 4 * KEYS_PUBLISHED:  # forget those long dropped
            self._keys.clear()
        return self._keys.setdefault(str(key.kid), key)

    def _slot_key(self, slot: str) -> RSAKey:
        """The RSA key in `slot` of keys_table ("signing": the first signing key; "foreign": the key of
        hostile bad signatures), generated once by whichever worker gets there first."""
        cached = self._slots.get(slot)
        if cached is not None:
            return cached
        row = self._slot_row(slot)
        fresh = None
        if row is None:
            fresh = new_key()
            try:
                with self.store.begin() as conn:
                    conn.execute(keys_table.insert().values(slot=slot, kid=fresh.kid, jwk=fresh.as_dict(private=True),
                                                            created_at=self.clock.timestamp()))
            except IntegrityError:
                pass  # another worker stored its key first: use that one
            row = self._slot_row(slot)
        assert row is not None
        key = fresh if fresh is not None and fresh.kid == row.kid else RSAKey.import_key(dict(row.jwk))
        self._slots[slot] = key
        return key

    def _slot_row(self, slot: str) -> Any:
        with self.store.read() as conn:
            return conn.execute(sa.select(keys_table).where(keys_table.c.slot == slot)).first()

    def jwks(self) -> dict[str, Any]:
        return dict(KeySet(list(self.published_keys())).as_dict(private=False))

    # --- clients ------------------------------------------------------------------------

    def clients(self) -> dict[str, Client]:
        """Every registered client: the tenants' ``oidc_clients`` and the portal's own."""
        found: dict[str, Client] = {}
        portal = self.config.get("SSO_PORTAL_CLIENT")
        if isinstance(portal, Mapping) and portal.get("client_id"):
            found[str(portal["client_id"])] = Client.from_entry(portal, None)
        for tenant, data in self.tenants.all().items():
            for entry in data.get("oidc_clients") or ():
                if isinstance(entry, Mapping) and entry.get("client_id"):
                    found[str(entry["client_id"])] = Client.from_entry(entry, tenant)
        return found

    def client(self, client_id: str) -> Client | None:
        return self.clients().get(client_id)

    def authenticate_client(self, authorization: str | None, form: Mapping[str, str]) -> Client:
        """Client authentication at the token and revocation endpoints (basic or post, not both)."""
        basic = None
        if authorization and authorization[:6].lower() == "basic ":
            try:
                raw = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
                user, _, password = raw.partition(":")
                basic = (user, password)
            except (ValueError, UnicodeDecodeError):
                raise InvalidClient("the Basic credentials are not base64 of client_id:client_secret",
                                    field="Authorization") from None
        posted_secret = form.get("client_secret")
        if basic and posted_secret is not None:
            raise InvalidRequest("use one client authentication method, not both Basic and client_secret",
                                 field="client_secret")
        if basic:
            method, client_id, secret, fld = "client_secret_basic", basic[0], basic[1], "Authorization"
            if form.get("client_id") not in (None, client_id):
                raise InvalidRequest("client_id differs from the one in the Basic credentials", field="client_id")
        elif posted_secret is not None:
            method, client_id, secret, fld = "client_secret_post", form.get("client_id", ""), posted_secret, \
                "client_secret"
            if not client_id:
                raise InvalidClient("client_id is required with client_secret_post", field="client_id")
        else:
            raise InvalidClient("client authentication required (client_secret_basic or client_secret_post)",
                                field="client_secret" if form.get("client_id") else "Authorization")
        # RFC 6749 §2.3.1 form-encodes Basic credentials; many clients (authlib among them) do not
        tried = [(client_id, secret)]
        if method == "client_secret_basic":
            tried.append((unquote_plus(client_id), unquote_plus(secret)))
        client = self.client(client_id) or self.client(tried[-1][0])
        if client is None:
            raise InvalidClient(f"no client {client_id!r} is registered", field="client_id")
        expected = client.client_secret.encode()
        if not expected or not any(hmac.compare_digest(s.encode(), expected) for _, s in tried):
            raise InvalidClient(f"wrong client secret for {client.client_id!r}", field=fld)
        if client.auth_method and client.auth_method != method:
            raise InvalidClient(f"client {client_id!r} is registered for {client.auth_method}, "
                                f"but authenticated with {method}", field=fld)
        return client

    def tenant_hostile_mode(self, tenant: str | None) -> str | None:
        data = self.tenants.get(tenant) if tenant is not None else None
        mode = (data or {}).get("hostile")
        return mode if mode in HOSTILE_MODES else None

    # --- authorization ------------------------------------------------------------------

    def check_authorize(self, params: Mapping[str, str], issuer: str) -> AuthorizeRequest:
        """Validate an authorization request; raise OAuthError (shown, never redirected) for a bad
        client or redirect_uri, AuthorizeRedirect for anything after that."""
        client_id = params.get("client_id")
        if not client_id:
            raise InvalidRequest("client_id is required", field="client_id")
        client = self.client(client_id)
        if client is None:
            raise InvalidClient(f"no client {client_id!r} is registered", field="client_id", status=400)
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            raise InvalidRequest("redirect_uri is required", field="redirect_uri")
        if redirect_uri not in client.redirect_uris:
            raise InvalidRequest(f"{redirect_uri!r} is not registered for client {client_id!r} (exact match "
                                 f"required; registered: {', '.join(client.redirect_uris) or 'none'})",
                                 field="redirect_uri")
        state = params.get("state")

        def back(err: OAuthError) -> AuthorizeRedirect:
            return AuthorizeRedirect(err, redirect_uri=redirect_uri, state=state, issuer=issuer)

        if "request" in params:
            raise back(RequestNotSupported("request objects are not supported", field="request"))
        if "request_uri" in params:
            raise back(RequestUriNotSupported("request_uri is not supported", field="request_uri"))
        response_type = params.get("response_type")
        if not response_type:
            raise back(InvalidRequest("response_type is required", field="response_type"))
        if response_type != "code":
            raise back(UnsupportedResponseType(f"only 'code' is supported, got {response_type!r}",
                                               field="response_type"))
        if params.get("response_mode", "query") != "query":
            raise back(InvalidRequest("only response_mode=query is supported", field="response_mode"))
        requested = (params.get("scope") or "").split()
        if "openid" not in requested:
            raise back(InvalidScope("scope must include openid", field="scope"))
        scope = tuple(dict.fromkeys(s for s in requested if s in SCOPES))
        acr_values = (params.get("acr_values") or "").split()
        for value in acr_values:
            if value not in ACR_VALUES:
                raise back(InvalidRequest(f"unknown level {value!r}; expected {'|'.join(ACR_VALUES)}",
                                          field="acr_values"))
        acr = acr_values[0] if acr_values else str(self.setting("SSO_DEFAULT_ACR"))
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method")
        if method is not None and challenge is None:
            raise back(InvalidRequest("code_challenge_method without code_challenge", field="code_challenge"))
        if challenge is not None:
            if method != "S256":
                raise back(InvalidRequest(f"only S256 is supported, got {method!r}", field="code_challenge_method"))
            if not PKCE_CHALLENGE.fullmatch(challenge):
                raise back(InvalidRequest("expected 43-128 base64url characters", field="code_challenge"))
        hint = params.get("login_hint") or None
        if params.get("prompt") == "none" and hint is None:
            raise back(LoginRequired("prompt=none, but nobody is logged in and no login_hint was given",
                                     field="prompt"))
        return AuthorizeRequest(client=client, redirect_uri=redirect_uri, state=state, nonce=params.get("nonce"),
                                scope=scope, acr=acr, code_challenge=challenge, login_hint=hint)

    def resolve_person(self, hint_text: str) -> people.Person:
        """The person a login_hint names: a generated test person or a user seen before."""
        hint = people.parse_hint(hint_text)
        if hint is not None:
            return people.person_for(hint, self.setting("SSO_TESTDATA_SEED"))
        text = hint_text.strip()
        u = users_table
        if text.isdigit() and len(text) == 12:
            cond = sa.and_(u.c.so_dinh_danh == text, u.c.kind != "business")
        elif text.isdigit() and len(text) == 10:
            cond = u.c.ma_so_thue == text
        else:
            cond = u.c.sub == text
        with self.store.read() as conn:
            row = conn.execute(sa.select(u).where(cond).order_by(u.c.last_login.desc())).first()
        if row is None:
            raise InvalidRequest(f"{text!r} names nobody; {people.HINT_HELP}", field="login_hint")
        return people.Person(row.kind, row.login_hint, dict(row.claims))

    def login(self, areq: AuthorizeRequest, hint_text: str, issuer: str) -> tuple[str, people.Person]:
        """Log the person in and return the redirect to the client carrying a fresh code."""
        try:
            person = self.resolve_person(hint_text)
        except OAuthError as err:
            raise AuthorizeRedirect(err, redirect_uri=areq.redirect_uri, state=areq.state, issuer=issuer) from None
        now = self.clock.timestamp()
        code = secrets.token_urlsafe(32)
        with self.store.begin() as conn:
            _store_person(conn, person, now)
            conn.execute(ADD_CODE, dict(
                code_hash=digest(code), client_id=areq.client.client_id, tenant=areq.client.tenant,
                redirect_uri=areq.redirect_uri, scope=" ".join(areq.scope), nonce=areq.nonce, acr=areq.acr,
                sub=person.sub, auth_time=now, code_challenge=areq.code_challenge,
                expires_at=now + float(self.setting("SSO_CODE_TTL_SECONDS")), used_at=None))
            if self._prune.due():
                self._prune_expired(conn, now)
        return add_query(areq.redirect_uri, {"code": code, "state": areq.state, "iss": issuer}), person

    def _prune_expired(self, conn: sa.Connection, now: float) -> None:
        """Delete what can no longer be used: codes never redeemed and past their lifetime, used codes once
        every token issued from them has expired (until then a replayed code must still be recognised, to
        revoke those tokens), and access tokens an hour after they expired (until then one presented is
        answered "expired" rather than "unknown")."""
        token_ttl = float(self.setting("SSO_ACCESS_TOKEN_TTL_SECONDS"))
        conn.execute(codes_table.delete().where(sa.or_(
            sa.and_(codes_table.c.used_at.is_(None), codes_table.c.expires_at < now),
            codes_table.c.expires_at + token_ttl < now)))
        conn.execute(tokens_table.delete().where(tokens_table.c.expires_at < now - EXPIRED_TOKENS_KEPT_SECONDS))

    # --- tokens -------------------------------------------------------------------------

    def exchange(self, client: Client, form: Mapping[str, str], issuer: str) -> tuple[dict[str, Any], str | None]:
        """The authorization_code grant; returns the token response and the hostile mode applied."""
        grant_type = form.get("grant_type")
        if not grant_type:
            raise InvalidRequest("grant_type is required", field="grant_type")
        if grant_type != "authorization_code":
            raise UnsupportedGrantType(f"only authorization_code is supported, got {grant_type!r}",
                                       field="grant_type")
        code = form.get("code")
        if not code:
            raise InvalidRequest("code is required", field="code")
        code_hash = digest(code)
        with self.store.read() as conn:
            row = conn.execute(CODE, {"code_hash": code_hash}).first()
        now = self.clock.timestamp()
        if row is None:
            raise InvalidGrant("unknown authorization code", field="code")
        if row.client_id != client.client_id:
            raise InvalidGrant("the code was issued to another client", field="code",
                               detail={"code_client_id": row.client_id})
        if row.used_at is not None:
            revoked = self._revoke_code_tokens(code_hash, now)
            raise InvalidGrant(f"the code was already used; {revoked} token(s) issued from it are revoked",
                               field="code")
        if now >= row.expires_at:
            raise InvalidGrant("the code has expired", field="code")
        redirect_uri = form.get("redirect_uri")
        if not redirect_uri:
            raise InvalidRequest("redirect_uri is required (the authorization request carried one)",
                                 field="redirect_uri")
        if redirect_uri != row.redirect_uri:
            raise InvalidGrant("redirect_uri differs from the one in the authorization request",
                               field="redirect_uri")
        verifier = form.get("code_verifier")
        if row.code_challenge is not None:
            if not verifier:
                raise InvalidGrant("code_verifier is required (the authorization request had a code_challenge)",
                                   field="code_verifier")
            if not hmac.compare_digest(s256(verifier), row.code_challenge):
                raise InvalidGrant("code_verifier does not match the code_challenge (S256)", field="code_verifier")
        elif verifier is not None:
            raise InvalidGrant("code_verifier sent, but the authorization request had no code_challenge",
                               field="code_verifier")
        access_token = secrets.token_urlsafe(32)
        ttl = int(self.setting("SSO_ACCESS_TOKEN_TTL_SECONDS"))
        with self.store.begin() as conn:
            won = conn.execute(USE_CODE, {"_code_hash": code_hash, "used_at": now})
            if won.rowcount:
                conn.execute(ADD_TOKEN, dict(
                    token_hash=digest(access_token), client_id=client.client_id, tenant=client.tenant,
                    sub=row.sub, scope=row.scope, code_hash=code_hash, issued_at=now, expires_at=now + ttl))
        if not won.rowcount:  # a concurrent exchange of the same code got there first
            revoked = self._revoke_code_tokens(code_hash, now)
            raise InvalidGrant(f"the code was already used; {revoked} token(s) issued from it are revoked",
                               field="code")
        mode = self.hostile.take(client.tenant, client.client_id) or self.tenant_hostile_mode(client.tenant)
        if mode == OTHER_SUBJECT:
            self._hand_token_to_another(access_token, row.sub, now)
        id_token = self.id_token(issuer, client.client_id, row, int(now), mode)
        return {"access_token": access_token, "token_type": "Bearer", "expires_in": ttl, "scope": row.scope,
                "id_token": id_token}, mode

    def _hand_token_to_another(self, access_token: str, sub: str, now: float) -> None:
        """Hostile mode `userinfo_other_subject`: the access token just issued for `sub` becomes another
        test person's (the same kind, of the same unit, the next index), who becomes a known user; the
        ID token stays `sub`'s, so userinfo answers for a subject other than the ID token's."""
        with self.store.read() as conn:
            user = conn.execute(sa.select(users_table.c.login_hint).where(users_table.c.sub == sub)).first()
        hint = people.parse_hint(str(user.login_hint)) if user is not None else None
        if hint is None:  # every user logs in as a generated test person, whose hint parses
            raise RuntimeError(f"hostile mode {OTHER_SUBJECT}: no test person behind subject {sub!r}")
        other = people.person_for(people.Hint(hint.kind, hint.unit, (hint.index + 1) % 10_000),
                                  self.setting("SSO_TESTDATA_SEED"))
        with self.store.begin() as conn:
            _store_person(conn, other, now)
            conn.execute(tokens_table.update().where(tokens_table.c.token_hash == digest(access_token))
                         .values(sub=other.sub))

    def id_token(self, issuer: str, client_id: str, code_row: Any, now: int, mode: str | None) -> str:
        ttl = int(self.setting("SSO_ID_TOKEN_TTL_SECONDS"))
        claims: dict[str, Any] = {"iss": issuer, "sub": code_row.sub, "aud": client_id, "exp": now + ttl,
                                  "iat": now, "nbf": now, "auth_time": int(code_row.auth_time),
                                  "acr": code_row.acr}
        if code_row.nonce is not None:
            claims["nonce"] = code_row.nonce
        with self.store.read() as conn:
            user = conn.execute(USER_CLAIMS, {"sub": code_row.sub}).first()
        name = (user.claims or {}).get("HoVaTen") if user is not None else None
        if name:  # OpenID Connect's `name`: the ID token's length varies with it, as a real portal's does
            claims["name"] = name
        claims = break_claims(mode, claims, ttl)
        key = self.key()
        foreign = self._slot_key("foreign") if mode == "bad_signature" else key
        return encode_id_token(mode, claims, key, foreign)

    def _revoke_code_tokens(self, code_hash: str, now: float) -> int:
        with self.store.begin() as conn:
            result = conn.execute(tokens_table.update().where(tokens_table.c.code_hash == code_hash,
                                                              tokens_table.c.revoked_at.is_(None))
                                  .values(revoked_at=now))
            return result.rowcount or 0

    def token_row(self, access_token: str) -> Any:
        with self.store.read() as conn:
            return conn.execute(TOKEN, {"token_hash": digest(access_token)}).first()

    def userinfo(self, access_token: str | None) -> tuple[dict[str, Any], Any]:
        """The claims of the token's user; the token must be live on the test clock and not revoked."""
        if not access_token:
            raise InvalidToken("a Bearer access token is required", field="access_token")
        row = self.token_row(access_token)
        if row is None:
            raise InvalidToken("unknown access token", field="access_token")
        if row.revoked_at is not None:
            raise InvalidToken("the access token has been revoked", field="access_token")
        if self.clock.timestamp() >= row.expires_at:
            raise InvalidToken("the access token has expired", field="access_token")
        with self.store.read() as conn:
            user = conn.execute(USER_CLAIMS, {"sub": row.sub}).first()
        if user is None:
            raise InvalidToken("the user of this token is no longer known (the mock was reset)",
                               field="access_token")
        return dict(user.claims), row

    def user_for_token(self, access_token: str) -> dict[str, Any] | None:
        """The claims behind a live access token, or None: for the portal's own Bearer-protected pages."""
        try:
            return self.userinfo(access_token)[0]
        except InvalidToken:
            return None

    def revoke(self, client: Client, token: str | None) -> bool:
        """RFC 7009: revoke a token issued to `client`; an unknown token is not an error."""
        if not token:
            raise InvalidRequest("token is required", field="token")
        row = self.token_row(token)
        if row is None:
            return False
        if row.client_id != client.client_id:
            raise UnauthorizedClient("the token was issued to another client", field="token")
        with self.store.begin() as conn:
            conn.execute(tokens_table.update().where(tokens_table.c.token_hash == row.token_hash,
                                                     tokens_table.c.revoked_at.is_(None))
                         .values(revoked_at=self.clock.timestamp()))
        return True

    # --- logout -------------------------------------------------------------------------

    def end_session(self, params: Mapping[str, str], issuer: str) -> tuple[str | None, Client | None, str | None]:
        """RP-initiated logout: the redirect (if any), the client and the subject named by the hint."""
        client: Client | None = None
        sub: str | None = None
        hint = params.get("id_token_hint")
        if hint:
            try:
                token = jwt.decode(hint, KeySet(list(self.published_keys())), algorithms=["RS256"])
            except (JoseError, ValueError):
                raise InvalidRequest("not an ID token signed by this provider", field="id_token_hint") from None
            if token.claims.get("iss") != issuer:
                raise InvalidRequest("the ID token was issued by another issuer", field="id_token_hint")
            aud = token.claims.get("aud")
            aud = aud[0] if isinstance(aud, list) and aud else aud
            client = self.client(str(aud))
            if client is None:
                raise InvalidRequest(f"the ID token's audience {aud!r} is no registered client", field="id_token_hint")
            sub = token.claims.get("sub")
        client_id = params.get("client_id")
        if client_id:
            named = self.client(client_id)
            if named is None:
                raise InvalidRequest(f"no client {client_id!r} is registered", field="client_id")
            if client is not None and named.client_id != client.client_id:
                raise InvalidRequest("client_id differs from the id_token_hint's audience", field="client_id")
            client = named
        target = params.get("post_logout_redirect_uri")
        if not target:
            return None, client, sub
        if client is None:
            raise InvalidRequest("id_token_hint or client_id is needed to check post_logout_redirect_uri",
                                 field="id_token_hint")
        if target not in client.post_logout_redirect_uris:
            raise InvalidRequest(f"{target!r} is not registered for client {client.client_id!r} (exact match "
                                 "required)", field="post_logout_redirect_uri")
        return add_query(target, {"state": params.get("state")}), client, sub

    # --- discovery ----------------------------------------------------------------------

    def discovery(self, issuer: str) -> dict[str, Any]:
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/oauth2/authorize",
            "token_endpoint": f"{issuer}/oauth2/token",
            "userinfo_endpoint": f"{issuer}/oauth2/userinfo",
            "jwks_uri": f"{issuer}/oauth2/jwks",
            "revocation_endpoint": f"{issuer}/oauth2/revoke",
            "end_session_endpoint": f"{issuer}/oauth2/logout",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": list(SCOPES),
            "acr_values_supported": list(ACR_VALUES),
            "claims_supported": ["iss", "aud", "exp", "iat", "nbf", "auth_time", "nonce", "acr", *CLAIMS],
            "authorization_response_iss_parameter_supported": True,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "claims_parameter_supported": False,
        }


def _store_person(conn: Any, person: Any, now: Any) -> None:
    """The test person a login (or a hostile mode) speaks for, stored afresh under its subject."""
    conn.execute(DELETE_USER, {"sub": person.sub})
    conn.execute(ADD_USER, dict(
        sub=person.sub, kind=person.kind, so_dinh_danh=person.claims.get("SoDinhDanh"),
        ma_so_thue=person.claims.get("MaSoThue"), login_hint=person.hint, claims=person.claims,
        last_login=now))

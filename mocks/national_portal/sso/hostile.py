"""Hostile mode: ID tokens broken on purpose, each in exactly one way.

A relying party proves it validates ID tokens only by refusing bad ones, so the portal can
issue, per tenant or for the next N token responses, a token with one defect and every other
property intact (signature, iss, aud, exp/iat/nbf, nonce). Only the ID token is broken: the
access token stays good, as an attacker who forged an ID token would still hold a real one.
One mode breaks the token response the other way round: a genuine ID token with another
person's access token, so userinfo answers for another subject (OpenID Connect Core 5.3.2: the
relying party must compare userinfo's `sub` with the ID token's and refuse a mismatch).

Modes:
  bad_signature     header (alg RS256, real kid) and claims right; signed by another RSA key
  alg_none          header alg "none" (kid kept), empty signature; claims right
  alg_confusion     header alg "HS256" (kid kept), MACed with the portal's public signing key as the
                    HMAC secret (its PEM, SubjectPublicKeyInfo, as `RSAKey.as_pem()` writes it):
                    what a relying party that lets the token's header choose the algorithm verifies
  wrong_aud         aud is another client's id
  wrong_nonce       nonce differs from the one the client sent
  missing_nonce     no nonce claim (only a defect when the client sent a nonce)
  expired           iat two lifetimes ago, exp one lifetime ago (auth_time <= iat)
  issued_in_future  iat and nbf one hour ahead, exp a lifetime after that
  wrong_iss         iss is another issuer
  one_part          the ID token is its JOSE header alone (base64url, no dot): no payload, no signature
  two_parts         the header and the claims (each right), no signature part (one dot)
  header_not_json   three parts, claims and signature as genuine, but the header part decodes to text that
                    is not JSON (a Python-style dict)
  payload_not_object
                    signed RS256 by the portal's key, header right, but the payload is a JSON array
                    holding the claims, not a JSON object (RFC 7519 7.2: the claims set must be one)
  userinfo_other_subject
                    the ID token is genuine; the access token is another person's (the same kind of
                    test person, of the same unit, the next index), so userinfo's sub differs from
                    the ID token's
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import warnings
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from joserfc import jws, jwt
from joserfc.jwk import RSAKey

from mocks.core.store import Store

from .tables import hostile_table

HOSTILE_MODES = ("bad_signature", "alg_none", "alg_confusion", "wrong_aud", "wrong_nonce", "missing_nonce",
                 "expired", "issued_in_future", "wrong_iss", "one_part", "two_parts", "header_not_json", "payload_not_object",
                 "userinfo_other_subject")
MALFORMED_MODES = ("one_part", "two_parts", "header_not_json", "payload_not_object")
"""The modes whose ID token is no well-formed JWT (RFC 7519 7.2): a relying party refuses it, not crash."""
OTHER_SUBJECT = "userinfo_other_subject"
"""The mode that leaves the ID token intact and issues the access token for another subject."""
FUTURE_SECONDS = 3600
WRONG_ISSUER = "https://sso.impostor.invalid"


def check_mode(mode: object) -> str:
    """The mode, or ValueError naming the allowed ones (the lead's tenant validator uses it too)."""
    if mode not in HOSTILE_MODES:
        raise ValueError(f"unknown hostile mode {mode!r}; expected one of {', '.join(HOSTILE_MODES)}")
    return str(mode)


def break_claims(mode: str | None, claims: dict[str, Any], ttl: int) -> dict[str, Any]:
    """A copy of the ID token claims with the one defect `mode` names (signature modes: unchanged)."""
    out = dict(claims)
    if mode == "wrong_aud":
        out["aud"] = f"{claims['aud']}.other-client"
    elif mode == "wrong_nonce":
        out["nonce"] = f"not-{claims.get('nonce') or ''}{secrets.token_urlsafe(8)}"
    elif mode == "missing_nonce":
        out.pop("nonce", None)
    elif mode == "expired":
        out["iat"] = out["nbf"] = claims["iat"] - 2 * ttl
        out["exp"] = claims["iat"] - ttl
        out["auth_time"] = min(claims["auth_time"], out["iat"])
    elif mode == "issued_in_future":
        out["iat"] = out["nbf"] = claims["iat"] + FUTURE_SECONDS
        out["exp"] = out["iat"] + ttl
    elif mode == "wrong_iss":
        out["iss"] = WRONG_ISSUER
    return out


def encode_id_token(mode: str | None, claims: dict[str, Any], key: RSAKey, foreign: RSAKey) -> str:
    """Sign the claims RS256 with `key` (header kid = key's kid), or break the signature per mode."""
    header = {"typ": "JWT", "alg": "RS256", "kid": key.kid}
    if mode == "bad_signature":
        return jwt.encode(header, claims, foreign)  # same kid, wrong key
    if mode == "alg_none":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return jws.serialize_compact({**header, "alg": "none"}, json.dumps(claims, separators=(",", ":")),
                                         None, algorithms=["none"])
    if mode == "alg_confusion":
        return hs256_with_public_key({**header, "alg": "HS256"}, claims, key)
    if mode in ("one_part", "two_parts"):
        parts = [_b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)]
        return (parts[0] if mode == "one_part" else b".".join(parts)).decode()
    if mode == "header_not_json":
        _, payload, signature = jwt.encode(header, claims, key).split(".")
        return ".".join([_b64(repr(header).encode()).decode(), payload, signature])
    if mode == "payload_not_object":
        return jws.serialize_compact(header, json.dumps([claims], separators=(",", ":")), key, algorithms=["RS256"])
    return jwt.encode(header, claims, key)


def hs256_with_public_key(header: dict[str, Any], claims: dict[str, Any], key: RSAKey) -> str:
    """An HS256 JWS whose HMAC secret is `key`'s public PEM (joserfc rightly refuses to build one)."""
    signing_input = b".".join(_b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
    mac = hmac.new(key.as_pem(private=False), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + _b64(mac)).decode()


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


@dataclass(frozen=True)
class HostileRule:
    id: int
    tenant: str | None
    client_id: str | None
    mode: str
    remaining: int

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "tenant": self.tenant, "client_id": self.client_id, "mode": self.mode,
                "remaining": self.remaining}


class HostileQueue:
    """The admin-queued switches: the next N token responses for a tenant/client are broken."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, tenant: str | None, client_id: str | None, mode: str, count: int, now: float) -> int:
        with self.store.begin() as conn:
            result = conn.execute(hostile_table.insert().values(
                tenant=tenant, client_id=client_id, mode=check_mode(mode), remaining=count, created_at=now))
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def list(self) -> list[HostileRule]:
        with self.store.read() as conn:
            rows = conn.execute(sa.select(hostile_table).order_by(hostile_table.c.id)).all()
        return [HostileRule(r.id, r.tenant, r.client_id, r.mode, r.remaining) for r in rows]

    def clear(self, tenant: str | None = None) -> int:
        stmt = hostile_table.delete()
        if tenant is not None:
            stmt = stmt.where(hostile_table.c.tenant == tenant)
        with self.store.begin() as conn:
            return conn.execute(stmt).rowcount or 0

    def take(self, tenant: str | None, client_id: str) -> str | None:
        """Consume one response from the most specific matching rule (client, then tenant, then all).

        The decrement is a conditional UPDATE, so concurrent workers never break more than N.
        """
        t = hostile_table
        match_tenant = t.c.tenant.is_(None) if tenant is None else sa.or_(t.c.tenant == tenant, t.c.tenant.is_(None))
        stmt = (sa.select(t.c.id, t.c.mode).where(
            match_tenant, sa.or_(t.c.client_id == client_id, t.c.client_id.is_(None)), t.c.remaining > 0)
            .order_by(t.c.client_id.is_(None), t.c.tenant.is_(None), t.c.id))
        with self.store.read() as conn:  # nearly always none: no write transaction for nothing
            if conn.execute(stmt).first() is None:
                return None
        with self.store.begin() as conn:
            for row in conn.execute(stmt).all():
                hit = conn.execute(t.update().where(t.c.id == row.id, t.c.remaining > 0)
                                   .values(remaining=t.c.remaining - 1))
                if hit.rowcount:
                    conn.execute(t.delete().where(t.c.id == row.id, t.c.remaining <= 0))
                    return str(row.mode)
        return None

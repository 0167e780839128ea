"""Portal tenants: one per province, with adapter credentials, OIDC clients and endpoints.

The portal's own citizen pages are one more OIDC client (`portal_client`), outside any tenant.

By default (`PORTAL_AUTO_TENANTS`) every province is provisioned at start with deterministic
test credentials derived from `PORTAL_SECRET_SEED`, like a card network's test mode: a vendor
can start at once and read its credentials from `cutover serve` or the admin API. Redirect
URIs and receiving endpoints are the vendor's to register (tenants file or admin API), and so
is `dialect`: which real client the province runs (`protocols.dialects`; default `compatible`).
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from protocols.dialects import DEFAULT_DIALECT, validate_dialect
from protocols.errors import ProtocolError
from refdata.units import registry

from .sso.hostile import HOSTILE_MODES

AUTH_METHODS = ("client_secret_post", "client_secret_basic")
PORTAL_CLIENT_ID = "dvcqg-portal"


def derive_secret(seed: str, *parts: str) -> str:
    return hashlib.sha256("|".join((seed, *parts)).encode()).hexdigest()[:32]


def portal_client(cfg: dict[str, Any]) -> dict[str, Any]:
    """The portal's own citizen pages are an OIDC client of its SSO too (test-mode credentials)."""
    base = (cfg.get("PUBLIC_URL") or "http://portal.test").rstrip("/")
    return {"client_id": PORTAL_CLIENT_ID,
            "client_secret": derive_secret(cfg["PORTAL_SECRET_SEED"], "portal-client"),
            "redirect_uris": [f"{base}/dvc/callback"], "post_logout_redirect_uris": [f"{base}/"],
            "token_endpoint_auth_method": "client_secret_post"}


def default_tenant(province: str, seed: str) -> dict[str, Any]:
    return {
        "province": province,
        "adapter": {"username": f"tinh{province}", "password": derive_secret(seed, "adapter", province)},
        "oidc_clients": [{
            "client_id": f"province-{province}", "client_secret": derive_secret(seed, "oidc", province),
            "redirect_uris": [], "post_logout_redirect_uris": [],
            "token_endpoint_auth_method": "client_secret_post"}],
        "receive_url": "",
        "promo_receive_url": "",
        "forward_secret": derive_secret(seed, "forward", province),
        "hostile": None,
        "dialect": DEFAULT_DIALECT,
    }


def _url(value: Any, field: str, *, allow_empty: bool = True) -> str:
    if value in (None, "") and allow_empty:
        return ""
    if not isinstance(value, str):
        raise ProtocolError(field, f"expected a URL string, got {value!r}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProtocolError(field, f"expected an absolute http(s) URL, got {value!r}")
    if parts.fragment:
        raise ProtocolError(field, "a registered URL may not carry a fragment")
    return value


def _str(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError(field, f"expected a non-empty string, got {value!r}")
    return value


def validate_portal_tenant(tenant: str, data: dict[str, Any]) -> dict[str, Any]:
    """Check a tenant document field by field; the error names the first bad field."""

    if not isinstance(data, dict):
        raise ProtocolError("", "a tenant is a JSON object")
    try:
        registry().province(tenant)
    except (KeyError, ValueError):
        raise ProtocolError("tenant", f"unknown province code {tenant!r}") from None
    province = data.get("province", tenant)
    if province != tenant:
        raise ProtocolError("province", f"expected {tenant!r} (the tenant id), got {province!r}")
    adapter = data.get("adapter")
    if not isinstance(adapter, dict):
        raise ProtocolError("adapter", "expected an object with username and password")
    clean_adapter = {"username": _str(adapter.get("username"), "adapter.username"),
                     "password": _str(adapter.get("password"), "adapter.password")}
    clients = data.get("oidc_clients", [])
    if not isinstance(clients, list):
        raise ProtocolError("oidc_clients", "expected a list")
    clean_clients = []
    for i, client in enumerate(clients):
        f = f"oidc_clients[{i}]"
        if not isinstance(client, dict):
            raise ProtocolError(f, "expected an object")
        method = client.get("token_endpoint_auth_method", "client_secret_post")
        if method not in AUTH_METHODS:
            raise ProtocolError(f"{f}.token_endpoint_auth_method", f"expected one of {list(AUTH_METHODS)}, got {method!r}")
        for key in ("redirect_uris", "post_logout_redirect_uris"):
            if not isinstance(client.get(key, []), list):
                raise ProtocolError(f"{f}.{key}", "expected a list of URLs")
        clean_clients.append({
            "client_id": _str(client.get("client_id"), f"{f}.client_id"),
            "client_secret": _str(client.get("client_secret"), f"{f}.client_secret"),
            "redirect_uris": [_url(u, f"{f}.redirect_uris[{j}]", allow_empty=False)
                              for j, u in enumerate(client.get("redirect_uris", []))],
            "post_logout_redirect_uris": [_url(u, f"{f}.post_logout_redirect_uris[{j}]", allow_empty=False)
                                          for j, u in enumerate(client.get("post_logout_redirect_uris", []))],
            "token_endpoint_auth_method": method})
    hostile = data.get("hostile")
    if hostile is not None and hostile not in HOSTILE_MODES:
        raise ProtocolError("hostile", f"expected null or one of {list(HOSTILE_MODES)}, got {hostile!r}")
    return {
        "province": tenant, "adapter": clean_adapter, "oidc_clients": clean_clients,
        "receive_url": _url(data.get("receive_url"), "receive_url"),
        "promo_receive_url": _url(data.get("promo_receive_url"), "promo_receive_url"),
        "forward_secret": _str(data.get("forward_secret") or derive_secret("unset", tenant), "forward_secret"),
        "hostile": hostile,
        "dialect": validate_dialect(data.get("dialect")),
    }

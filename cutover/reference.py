"""The reference system under test, provisioned against the mocks the way a vendor would be.

`provision()` reads each province's test-mode credentials from the mocks' admin APIs and
registers the system's URLs with them (redirect URI, receiving endpoint, payment callback,
axis webhook): what a vendor does once by hand, or with a tenants file, before certifying.
`reference_config()` turns that into the live reference system's configuration.
"""

from __future__ import annotations

import secrets
from typing import Any

from clients.admin import AdminClient
from cutover.services import SERVICES
from cutover.stack import Stack
from refdata.units import registry

PROVINCIAL_URL = "http://provincial.test"
NON_STRICT_DIALECTS = {"11": "compatible"}
"""Provinces the reference registers in another dialect than `strict`: a correct system works in whichever
dialect the platforms speak (Điện Biên answers refusals with HTTP 200, so certification sees the reference
read `error_code`, not the status)."""


def province_urls(base_url: str, province: str) -> dict[str, str]:
    base = f"{base_url.rstrip('/')}/p/{province}"
    return {"redirect_uri": f"{base}/sso/callback", "receive_url": f"{base}/api/receive",
            "payment_callback_url": f"{base}/api/payment/callback", "axis_webhook_url": f"{base}/api/axis/webhook"}


def provision(admins: dict[str, AdminClient], provinces: list[str], system_url: str) -> dict[str, dict[str, Any]]:
    """Register `system_url`'s endpoints with the mocks; return the system's per-province settings."""
    settings: dict[str, dict[str, Any]] = {}
    for province in provinces:
        urls = province_urls(system_url, province)
        portal = admins["portal"].tenant(province)
        client = portal["oidc_clients"][0]
        client["redirect_uris"] = sorted({*client["redirect_uris"], urls["redirect_uri"]})
        # The reference sends only the contract's canonical forms: `strict` proves no leniency is needed;
        # one province in `compatible` proves it reads the answers of a lenient dialect too.
        dialect = NON_STRICT_DIALECTS.get(province, "strict")
        portal.update(receive_url=urls["receive_url"], promo_receive_url=urls["receive_url"], dialect=dialect)
        admins["portal"].put_tenant(province, portal)
        entry: dict[str, Any] = {
            "adapter_username": portal["adapter"]["username"], "adapter_password": portal["adapter"]["password"],
            "oidc_client_id": client["client_id"], "oidc_client_secret": client["client_secret"],
            "forward_secret": portal["forward_secret"],
        }
        if "payment" in admins:
            partner = admins["payment"]._call("PUT", f"/payment/partners/{province}",
                                              json={"callback_url": urls["payment_callback_url"], "dialect": dialect})
            accounts = admins["payment"].get("/payment/accounts", province=province)["accounts"]
            entry.update(payment_partner=partner["MaDoiTac"], payment_secret=partner["secret"], accounts={
                ("province" if a["kind"] == "province" else a["owner"]):
                    [a["TKThuHuong"], a["MaNHThuHuong"], a["TenTKThuHuong"]] for a in accounts})
        else:
            entry.update(payment_partner=f"P{province}", payment_secret="unset")
        if "docaxis" in admins:
            system = admins["docaxis"].tenant(province)
            system["webhook_url"] = system.get("webhook_url") or ""
            entry.update(axis_system=province, axis_secret=system["secret"])
        else:
            entry.update(axis_system=province, axis_secret="unset")
        settings[province] = entry
    return settings


def parse_provinces(value: str) -> list[str]:
    """`31,1` -> ["31", "01"]; `all` -> every province; an unknown code is a ValueError naming it."""
    known = [p.code for p in registry().provinces()]
    if value.strip().lower() == "all":
        return known
    chosen = [v.strip().zfill(2) for v in value.split(",") if v.strip()]
    unknown = [c for c in chosen if c not in known]
    if unknown or not chosen:
        raise ValueError(f"unknown province code(s) {unknown or value!r}; known: {', '.join(known)}")
    return chosen


def reference_config(urls: dict[str, str], admin_token: str, provinces: list[str], system_url: str, *,
                     database_url: str, defects: str = "", portal_public_url: str = "",
                     sut_token: str = "") -> dict[str, Any]:
    """Register a reference system at `system_url` with the live mocks at `urls` (what a vendor does
    once) and return its `create_app` configuration."""
    admins = {name: AdminClient(url, admin_token) for name, url in urls.items() if name in SERVICES}
    settings = provision(admins, provinces, system_url)
    return {"DATABASE_URL": database_url, "ADMIN_TOKEN": admin_token, "PUBLIC_URL": system_url,
            "OUTBOX_DISPATCH": "thread", "PORTAL_URL": urls["portal"], "PAYMENT_URL": urls.get("payment", ""),
            "DOCAXIS_URL": urls.get("docaxis", ""), "CA_URL": urls.get("ca", ""), "CA_TOKEN": admin_token,
            "PORTAL_PUBLIC_URL": portal_public_url or urls["portal"], "PROVINCES": settings, "DEFECTS": defects,
            **({"CERT_TOKEN": sut_token} if sut_token else {})}


def reference_stack(provinces: list[str], *, defects: str | list[str] = "", database_url: str | None = None,
                    workdir: str | None = None, services: tuple[str, ...] = ("portal", "payment", "docaxis", "ca"),
                    config: dict[str, dict[str, Any]] | None = None) -> Stack:
    """Every mock plus the reference system for `provinces`, in one process, provisioned and bootstrapped."""
    from provincial import create_app

    names = list(services)
    stack = Stack(names, database_url=database_url, workdir=workdir, config=config)
    stack.sut_token = secrets.token_urlsafe(18)  # the driver's own token: the admin token never goes to a SUT
    admins = {name: stack.admin(name) for name in names}
    settings = provision(admins, provinces, PROVINCIAL_URL)
    own_admin_token = secrets.token_urlsafe(18)  # the system's own admin API: the mocks' token never goes to it
    cfg = {**stack.app_config(PROVINCIAL_URL, own_admin_token),
           "PORTAL_URL": stack.urls["portal"], "PAYMENT_URL": stack.urls.get("payment", ""),
           "DOCAXIS_URL": stack.urls.get("docaxis", ""), "CA_URL": stack.urls.get("ca", ""),
           "CA_TOKEN": stack.admin_token, "PROVINCES": settings, "CERT_TOKEN": stack.sut_token,
           "DEFECTS": ",".join(defects) if isinstance(defects, list) else defects,
           **(config or {}).get("provincial", {})}
    stack.mount("provincial", PROVINCIAL_URL, create_app(cfg), admin_token=own_admin_token)
    return stack

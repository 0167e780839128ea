"""Systems connected to the axis (the service's tenants) and what each one owns.

A *system* is one document-management installation that talks to the axis: one per province
(id = the 2-digit province code, ``31``) and one per ministry or central body (id = its unit
code, ``G03``). Each has a secret and owns the agency codes under one or more level-1 parts
(``owns: ["H31"]``): it may publish those codes, send from them and act for them. An optional
``webhook_url`` receives push notifications.

By default (`AXIS_AUTO_SYSTEMS`) every province and every ministry of the registry is
provisioned at start with a secret derived from `AXIS_SECRET_SEED`, so a vendor can start at once
(`GET /_admin/docaxis/systems` lists them); a tenants file or the admin API can add others.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from protocols.agency_code import parse_agency_code
from protocols.errors import ProtocolError
from refdata.units import registry

SYSTEM_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
LEVEL1 = re.compile(r"[A-Z][0-9]{2}")


def derive_secret(seed: str, system: str) -> str:
    """Deterministic test-mode secret, so a restarted mock keeps its credentials."""
    return hashlib.sha256(f"{seed}|axis|{system}".encode()).hexdigest()[:32]


def default_systems(seed: str) -> dict[str, dict[str, Any]]:
    """One system per province and per ministry of the unit registry."""

    reg = registry()
    systems: dict[str, dict[str, Any]] = {}
    for province in reg.provinces():
        level1 = parse_agency_code(province.agency_code).level1
        systems[province.code] = {"name": province.people_committee.name, "kind": "province",
                                  "owns": [level1], "secret": derive_secret(seed, province.code),
                                  "webhook_url": ""}
    for ministry in reg.ministries():
        level1 = parse_agency_code(ministry.code).level1
        systems[ministry.unit_code] = {"name": ministry.name, "kind": "ministry", "owns": [level1],
                                       "secret": derive_secret(seed, ministry.unit_code), "webhook_url": ""}
    return systems


def validate_url(value: Any, field: str) -> str:
    """An absolute http(s) URL, or "" for none."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise ProtocolError(field, f"expected a URL string or null, got {value!r}")
    if "\x00" in value or len(value) > 2000:
        raise ProtocolError(field, "expected a URL of at most 2000 characters without NUL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProtocolError(field, f"expected an absolute http(s) URL, got {value!r}")
    return value


def validate_system(tenant: str, data: dict[str, Any]) -> dict[str, Any]:
    """Check a system document field by field (tenants file, admin API, webhook updates)."""
    if not SYSTEM_ID.fullmatch(tenant):
        raise ProtocolError("tenant", f"expected a system id of 1-16 letters, digits, _ or -, got {tenant!r}")
    if not isinstance(data, dict):
        raise ProtocolError("", "a system is a JSON object")
    secret = data.get("secret")
    if not isinstance(secret, str) or len(secret) < 8 or "\x00" in secret:
        raise ProtocolError("secret", "expected a secret of at least 8 characters")
    owns = data.get("owns")
    if not isinstance(owns, list) or not owns:
        raise ProtocolError("owns", "expected a non-empty list of level-1 code parts such as [\"H31\"]")
    for i, part in enumerate(owns):
        if not isinstance(part, str) or not LEVEL1.fullmatch(part):
            raise ProtocolError(f"owns[{i}]", f"expected one uppercase letter and two digits (H31, G03), got {part!r}")
    kind = data.get("kind", "other")
    if kind not in ("province", "ministry", "other"):
        raise ProtocolError("kind", f"expected province, ministry or other, got {kind!r}")
    name = data.get("name", tenant)
    if not isinstance(name, str) or "\x00" in name:
        raise ProtocolError("name", "expected a string without NUL characters")
    return {"name": name, "kind": kind, "owns": list(owns), "secret": secret,
            "webhook_url": validate_url(data.get("webhook_url"), "webhook_url")}

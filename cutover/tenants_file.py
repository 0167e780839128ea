"""A vendor's tenants file: what its provincial system registers with the national platforms.

The mocks start in test mode with credentials for every province (derived from seeds, like a
card network's sandbox). A vendor then registers its own system's side — OIDC client and
redirect URIs, adapter credentials if it wants its own, the receiving endpoint for forwarded
dossiers, the payment partner's secret and callback URL, the axis webhook — in one YAML file:

```yaml
provinces:
  "31":                       # province code (Hai Phong)
    portal:                   # a partial portal tenant: only what you give is changed
      adapter: {username: tinh31, password: "s3cret-adapter"}
      oidc_clients:           # merged by client_id; a new client_id adds a client
        - client_id: province-31
          redirect_uris: [https://dvc.example.vn/sso/callback]
      receive_url: https://dvc.example.vn/api/receive
      promo_receive_url: https://dvc.example.vn/api/receive
      dialect: compatible     # which real client you run: compatible (default), opencps, dotnet, strict
    payment:                  # the province's payment partner
      callback_url: https://dvc.example.vn/api/payment/callback
      dialect: compatible
    docaxis:                  # the province's axis system
      webhook_url: https://dvc.example.vn/api/axis/webhook
```

`check_file()` validates the file offline (shape, province codes, URLs, and each service's own
tenant rules against the test-mode defaults); `apply_file()` merges it into the running mocks
through their admin APIs — every merged document is validated before the first one is written —
and returns, per province, the settings the vendor's system must be configured with.

Command line (for mocks started by compose or on another host):

    python -m cutover.tenants_file check vendor-tenants.yaml
    python -m cutover.tenants_file apply vendor-tenants.yaml --portal http://h:8400 \\
        --payment http://h:8401 --docaxis http://h:8402 --admin-token TOKEN
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from clients.admin import AdminClient, AdminError
from protocols.dialects import DEFAULT_DIALECT
from protocols.errors import ProtocolError
from refdata.units import registry

SECTIONS = ("portal", "payment", "docaxis")
PORTAL_KEYS = frozenset({"adapter", "oidc_clients", "receive_url", "promo_receive_url", "forward_secret", "hostile",
                         "dialect"})
CLIENT_KEYS = frozenset({"client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris",
                         "token_endpoint_auth_method"})
PAYMENT_KEYS = frozenset({"MaDoiTac", "secret", "callback_url", "enabled", "dialect"})
DOCAXIS_KEYS = frozenset({"secret", "webhook_url", "name"})


class TenantsFileError(ValueError):
    """A tenants file is refused; `field` is the dotted path of the first bad entry."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def load(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read and shape-check a tenants file; returns {province: {section: partial document}}."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise TenantsFileError("", f"{path} is not valid YAML: {err}") from None
    return parse(doc)


def parse(doc: Any) -> dict[str, dict[str, Any]]:

    if not isinstance(doc, dict) or not isinstance(doc.get("provinces"), dict) or not doc["provinces"]:
        raise TenantsFileError("provinces", "expected a mapping `provinces:` of province code -> settings")
    unknown_top = sorted(set(doc) - {"provinces"})
    if unknown_top:
        raise TenantsFileError(unknown_top[0], "unknown top-level key; the file has one key, `provinces`")
    known = {p.code for p in registry().provinces()}
    out: dict[str, dict[str, Any]] = {}
    for raw_code, entry in doc["provinces"].items():
        code = f"{raw_code:02d}" if isinstance(raw_code, int) else str(raw_code)
        where = f"provinces.{code}"
        if code not in known:
            raise TenantsFileError(where, f"unknown province code {raw_code!r}; quote it (\"01\") and use one "
                                          f"of the 34: {', '.join(sorted(known))}")
        if not isinstance(entry, dict) or not entry:
            raise TenantsFileError(where, f"expected a mapping with any of {list(SECTIONS)}")
        extra = sorted(set(entry) - set(SECTIONS))
        if extra:
            raise TenantsFileError(f"{where}.{extra[0]}", f"unknown section; expected any of {list(SECTIONS)}")
        for section, allowed in (("portal", PORTAL_KEYS), ("payment", PAYMENT_KEYS), ("docaxis", DOCAXIS_KEYS)):
            if section not in entry:
                continue
            part = entry[section]
            if not isinstance(part, dict):
                raise TenantsFileError(f"{where}.{section}", "expected a mapping")
            bad = sorted(set(part) - allowed)
            if bad:
                raise TenantsFileError(f"{where}.{section}.{bad[0]}", f"unknown field; expected any of {sorted(allowed)}")
        clients = entry.get("portal", {}).get("oidc_clients", [])
        if not isinstance(clients, list):
            raise TenantsFileError(f"{where}.portal.oidc_clients", "expected a list of clients")
        for i, client in enumerate(clients):
            f = f"{where}.portal.oidc_clients[{i}]"
            if not isinstance(client, dict) or not isinstance(client.get("client_id"), str):
                raise TenantsFileError(f, "expected a mapping with at least client_id")
            bad = sorted(set(client) - CLIENT_KEYS)
            if bad:
                raise TenantsFileError(f"{f}.{bad[0]}", f"unknown field; expected any of {sorted(CLIENT_KEYS)}")
        out[code] = copy.deepcopy(entry)
    return out


# -- merging a partial entry into a current document ----------------------------------------

def merge_portal(current: dict[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(current)
    for key, value in change.items():
        if key == "adapter" and isinstance(value, dict):
            merged["adapter"] = {**merged.get("adapter", {}), **value}
        elif key == "oidc_clients":
            clients = [dict(c) for c in merged.get("oidc_clients", [])]
            for wanted in value:
                same = next((c for c in clients if c.get("client_id") == wanted["client_id"]), None)
                if same is None:
                    clients.append({"redirect_uris": [], "post_logout_redirect_uris": [],
                                    "token_endpoint_auth_method": "client_secret_post", **wanted})
                else:
                    same.update(wanted)
            merged["oidc_clients"] = clients
        else:
            merged[key] = value
    return merged


def merge_flat(current: dict[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    return {**copy.deepcopy(current), **change}


def _validated(validator: Callable[[str, dict[str, Any]], dict[str, Any]], tenant: str, doc: dict[str, Any],
               where: str) -> dict[str, Any]:
    try:
        return validator(tenant, doc)
    except ProtocolError as err:
        raise TenantsFileError(f"{where}.{err.field}".rstrip("."), err.message) from None


def _validators() -> dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]]:
    from mocks.docaxis.systems import validate_system
    from mocks.national_portal.tenants import validate_portal_tenant
    from mocks.payment_gw.accounts import validate_partner
    return {"portal": validate_portal_tenant, "payment": validate_partner, "docaxis": validate_system}


def _defaults(section: str, province: str) -> dict[str, Any]:
    """The test-mode document of a province, as a mock started with default seeds holds it."""
    if section == "portal":
        from mocks.national_portal.models import DEFAULTS as PORTAL
        from mocks.national_portal.tenants import default_tenant
        return default_tenant(province, PORTAL["PORTAL_SECRET_SEED"])
    if section == "payment":
        from mocks.payment_gw.accounts import partner_code, partner_secret
        from mocks.payment_gw.models import DEFAULTS as PAY
        return {"MaDoiTac": partner_code(province), "secret": partner_secret(PAY["PAYMENT_SECRET_SEED"], province),
                "callback_url": "", "enabled": True, "dialect": DEFAULT_DIALECT}
    from mocks.docaxis.models import DEFAULTS as AXIS
    from mocks.docaxis.systems import default_systems
    return dict(default_systems(AXIS["AXIS_SECRET_SEED"])[province])


def check(entries: dict[str, dict[str, Any]]) -> None:
    """Validate every entry against the test-mode defaults with each service's own rules."""
    validators = _validators()
    for province, entry in entries.items():
        for section in SECTIONS:
            if section in entry:
                merge = merge_portal if section == "portal" else merge_flat
                _validated(validators[section], province, merge(_defaults(section, province), entry[section]),
                           f"provinces.{province}.{section}")


def check_file(path: str | Path) -> dict[str, dict[str, Any]]:
    entries = load(path)
    check(entries)
    return entries


# -- applying to running mocks ----------------------------------------------------------------

def _current(admins: Mapping[str, AdminClient], section: str, province: str) -> dict[str, Any]:
    if section == "payment":
        partner: dict[str, Any] = admins["payment"].get(f"/payment/partners/{province}")
        return {k: partner[k] for k in PAYMENT_KEYS if k in partner}
    return admins[section].tenant(province)


def apply(entries: dict[str, dict[str, Any]], admins: Mapping[str, AdminClient]) -> dict[str, dict[str, Any]]:
    """Merge `entries` into the mocks behind `admins`; returns each province's resulting settings.

    Every merged document is validated before anything is written, so a bad file changes
    nothing. A section whose service is not in `admins` is an error (the file asked for it).
    """
    validators = _validators()
    planned: list[tuple[str, str, dict[str, Any]]] = []
    for province, entry in entries.items():
        for section in SECTIONS:
            if section not in entry:
                continue
            if section not in admins:
                raise TenantsFileError(f"provinces.{province}.{section}",
                                       f"the file configures {section} but no {section} mock was given")
            merge = merge_portal if section == "portal" else merge_flat
            doc = merge(_current(admins, section, province), entry[section])
            planned.append((province, section, _validated(validators[section], province, doc,
                                                           f"provinces.{province}.{section}")))
    for province, section, doc in planned:
        try:
            if section == "payment":
                admins["payment"]._call("PUT", f"/payment/partners/{province}", json=doc)
            else:
                admins[section].put_tenant(province, doc)
        except AdminError as err:
            raise TenantsFileError(f"provinces.{province}.{section}", str(err)) from None
    return {province: settings_for(admins, province) for province in entries}


def settings_for(admins: Mapping[str, AdminClient], province: str) -> dict[str, Any]:
    """What a provincial system must be configured with for `province`, read back from the mocks."""
    out: dict[str, Any] = {}
    if "portal" in admins:
        t = admins["portal"].tenant(province)
        out["portal"] = {"adapter": t["adapter"], "oidc_clients": t["oidc_clients"], "receive_url": t["receive_url"],
                         "promo_receive_url": t["promo_receive_url"], "forward_secret": t["forward_secret"],
                         "dialect": t.get("dialect")}
    if "payment" in admins:
        p = admins["payment"].get(f"/payment/partners/{province}")
        out["payment"] = {k: p[k] for k in PAYMENT_KEYS if k in p}
    if "docaxis" in admins:
        s = admins["docaxis"].tenant(province)
        out["docaxis"] = {"system": province, "secret": s["secret"], "webhook_url": s.get("webhook_url", "")}
    return out


def apply_file(path: str | Path, urls: Mapping[str, str], admin_token: str) -> dict[str, dict[str, Any]]:
    """Load, check and apply `path` to the mocks at `urls` (service name -> base URL)."""
    entries = check_file(path)
    admins = {name: AdminClient(url, admin_token) for name, url in urls.items() if name in SECTIONS}
    return apply(entries, admins)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cutover.tenants_file", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("check", "apply"))
    parser.add_argument("file")
    for name in SECTIONS:
        parser.add_argument(f"--{name}", default="", help=f"base URL of the {name} mock (apply)")
    parser.add_argument("--admin-token", default="", help="the mocks' admin token (apply)")
    args = parser.parse_args(argv)
    try:
        if args.action == "check":
            entries = check_file(args.file)
            print(f"{args.file}: OK, {len(entries)} province(s): {', '.join(sorted(entries))}")
            return 0
        urls = {name: getattr(args, name) for name in SECTIONS if getattr(args, name)}
        if not urls or not args.admin_token:
            parser.error("apply needs --admin-token and at least one of --portal, --payment, --docaxis")
        result = apply_file(args.file, urls, args.admin_token)
    except TenantsFileError as err:
        print(f"tenants file refused: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

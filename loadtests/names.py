"""The names Locust's statistics show: the flows, and each request named by its route.

Locust makes one statistics row per request name. A URL carrying a token (the pay page's
`/api/pay/<token>/confirm`, a dossier code, a document id) must therefore be named, not
passed as is, or every token becomes its own row. Guessing which path segments are tokens
(a regular expression) misses some: a `token_urlsafe` with fewer than two digits looks like a
word about one time in ten. So requests are named here explicitly, by the route they call, from
the platforms' published paths and the certification driver's (`docs/cert-driver.openapi.yaml`),
the way a locustfile passes `name=` to its client. A path outside these routes is named after
its site and counted as unlisted (one row per site, never one per token), and logged once so
that it can be added.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

log = logging.getLogger("cutover.load")

# The flows the load users report (request type FLOW): what a threshold's scope may name.
FLOWS = (
    "citizen.sso_login", "citizen.portal_login", "citizen.submit", "citizen.pay",
    "officer.find", "officer.receive", "officer.process", "officer.request_fee", "officer.check_paid",
    "officer.finish", "officer.return", "officer.stuck",
    "agency.send", "agency.check_ack",
    "sync.login", "sync.batch", "sync.lookup",
)

# Every route the load users call, in werkzeug's syntax; the name shows `{x}` for `<x>`.
ROUTES = (
    # the national portal: OpenID provider, citizen API, adapter API
    "/.well-known/openid-configuration", "/oauth2/authorize", "/oauth2/token", "/oauth2/userinfo",
    "/oauth2/jwks", "/dvc/api/v1/submissions", "/dvc/api/v1/submissions/<code>", "/dvc/callback",
    "/api/auth", "/api/integration", "/api/share",
    # the payment platform: merchant API and the hosted pay page
    "/api/payment", "/pay/<token>", "/api/pay/<token>/confirm",
    # the document axis
    "/api/edocs", "/api/edocs/received", "/api/edocs/sent", "/api/edocs/status", "/api/edocs/<doc_id>",
    "/api/edocs/<doc_id>/status", "/api/agencies",
    # the system under test: the certification driver, and the reference system's login pages
    "/cert/v1/system", "/cert/v1/dossiers", "/cert/v1/dossiers/<code>", "/cert/v1/dossiers/<code>/record",
    "/cert/v1/dossiers/<code>/actions", "/cert/v1/sessions/<sid>", "/cert/v1/payments/<reference>",
    "/cert/v1/documents", "/cert/v1/documents/received", "/cert/v1/documents/sent", "/cert/v1/tick",
    "/cert/v1/restart",
    "/p/<province>/sso/login", "/p/<province>/sso/callback", "/p/<province>/me",
)

_MAP = Map([Rule(r, endpoint=r.replace("<", "{").replace(">", "}"), strict_slashes=False) for r in ROUTES])
_ADAPTER = _MAP.bind("load.invalid")


class RequestNames:
    """Names requests `<flow> <METHOD> <route>`; `bases` are the target's base URLs (their path
    prefix, if any, is not part of the route: a vendor may serve /cert/v1 under /one-stop)."""

    def __init__(self, bases: dict[str, str] | None = None) -> None:
        self.bases: list[tuple[str, str, str]] = []
        for site, url in (bases or {}).items():
            if url:
                parts = urlsplit(url)
                self.bases.append((parts.netloc, parts.path.rstrip("/"), site))
        self.unlisted: set[str] = set()

    def route(self, url: str) -> str:
        parts = urlsplit(url)
        path, site = parts.path or "/", parts.netloc or "?"
        for netloc, prefix, name in self.bases:
            if netloc == parts.netloc and (not prefix or path == prefix or path.startswith(prefix + "/")):
                path, site = path[len(prefix):] or "/", name
                break
        try:
            endpoint, _ = _ADAPTER.match(path)
        except HTTPException:
            if path not in self.unlisted and len(self.unlisted) < 100:
                self.unlisted.add(path)
                log.warning("request to an unlisted path %s on %s: named '%s (unlisted)'; add its route to "
                            "loadtests/names.py ROUTES", path, site, site)
            return f"{site} (unlisted)"
        return str(endpoint)

    def name(self, flow: str, method: str, url: str) -> str:
        return f"{flow} {method.upper()} {self.route(url)}"

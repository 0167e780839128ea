"""The one WSGI entry of every app for a production server, configured by `CUTOVER_*` variables.

    gunicorn -c python:cutover.gunicorn_conf 'cutover.wsgi:wsgi_app("portal")'
    CUTOVER_APP=portal granian --interface wsgi --factory cutover.wsgi:from_environment

The live supervisor (`cutover.supervisor`), the container image (`deploy/entrypoint.sh`) and the
compose file all start an app this way: `portal`, `payment`, `docaxis`, `ca`, or `provincial`
(the reference system). Each app reads its variables through its own config loader
(`mocks.core.config.load_config`: `CUTOVER_<KEY>`, `CUTOVER_<SERVICE>_<KEY>`, and the YAML file
named by `CUTOVER_<SERVICE>_CONFIG`, which is how the supervisor hands the reference system its
province secrets). Two things happen here and nowhere else:

- the app is built under a start-up lock on its database: gunicorn's workers start at once and
  would otherwise race to provision the same default rows (tenants, payment accounts);
- the reference system, given `CUTOVER_REFERENCE_PROVINCES` and no `PROVINCES`, registers itself
  with the mocks named by `CUTOVER_PROVINCIAL_{PORTAL,PAYMENT,DOCAXIS,CA}_URL` (what the compose
  file does, where no harness provisions it).
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from cutover.reference import parse_provinces, reference_config
from cutover.services import SERVICES
from mocks.core.config import file_variable, load_config, load_config_file
from mocks.core.store import startup_lock

REFERENCE = "provincial"
APP_VARIABLE = "CUTOVER_APP"
CORE_KEYS = ("DATABASE_URL", "PUBLIC_URL", "ADMIN_TOKEN")
"""The keys every app has, read under the name the app is served as (`CUTOVER_PAYMENT_PUBLIC_URL`
for `wsgi_app("payment")`) and handed to its factory, so the lock and the app use one database."""


def wsgi_app(name: str) -> Flask:
    """gunicorn's entry point: app `name` (a mock service, or `provincial`) built from `CUTOVER_*` variables."""
    if name != REFERENCE and name not in SERVICES:
        raise ValueError(f"no app named {name!r}; known: {', '.join([*SERVICES, REFERENCE])}")
    if not _admin_token_given(name):
        raise RuntimeError(f"refusing to serve {name} without an admin token: set CUTOVER_ADMIN_TOKEN (there is no "
                           "default; each server worker would otherwise invent its own and the admin API would be "
                           "unusable)")
    core = load_config({}, service=name)
    config: dict[str, Any] = {key: core[key] for key in CORE_KEYS}
    with startup_lock(str(config["DATABASE_URL"]), name):
        if name == REFERENCE:
            from provincial import create_app

            return create_app({**config, **_self_provisioned()})
        return SERVICES[name].load_factory()(config)


def from_environment() -> Flask:
    """The entry point for a server that cannot pass an argument (granian's `--factory`): the app
    named by `CUTOVER_APP`."""
    name = os.environ.get(APP_VARIABLE, "")
    if not name:
        raise ValueError(f"{APP_VARIABLE} must name the app to serve: one of {', '.join([*SERVICES, REFERENCE])}")
    return wsgi_app(name)


def _admin_token_given(name: str) -> bool:
    """Whether the environment or the app's configuration file names its admin token."""
    if os.environ.get("CUTOVER_ADMIN_TOKEN") or os.environ.get(f"CUTOVER_{name.upper()}_ADMIN_TOKEN"):
        return True
    path = os.environ.get(file_variable(name))
    return bool(path and load_config_file(path).get("ADMIN_TOKEN"))


def _self_provisioned() -> dict[str, Any]:
    """The reference system's configuration when it registers itself with the mocks (the container
    image): with `CUTOVER_REFERENCE_PROVINCES` set and no `PROVINCES`, through their admin APIs."""
    from provincial.settings import DEFAULTS

    cfg = load_config(DEFAULTS, service=REFERENCE)
    wanted = os.environ.get("CUTOVER_REFERENCE_PROVINCES", "")
    if cfg.get("PROVINCES") or not wanted:
        return {}
    if not cfg.get("PUBLIC_URL"):
        raise RuntimeError("CUTOVER_PROVINCIAL_PUBLIC_URL must say how the mocks reach the reference system")
    urls = {name: cfg[f"{name.upper()}_URL"] for name in SERVICES if cfg.get(f"{name.upper()}_URL")}
    return reference_config(urls, str(cfg["ADMIN_TOKEN"]), parse_provinces(wanted), str(cfg["PUBLIC_URL"]),
                            database_url=str(cfg["DATABASE_URL"]), defects=str(cfg.get("DEFECTS") or ""),
                            portal_public_url=os.environ.get("CUTOVER_PROVINCIAL_PORTAL_PUBLIC_URL", ""),
                            sut_token=str(cfg.get("CERT_TOKEN") or ""))

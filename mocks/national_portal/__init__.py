"""Mock of the National Public Service Portal: SSO, adapter API, catalogue, submission + forwarding.

`create_app(config)` is the only entry point; `openapi.yaml` is the contract's template (published,
with the protocol's schemas put in, at `/docs`, `/openapi.json` and `/openapi.yaml`).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from mocks.core.app import build_app

from .admin import admin
from .errors import adapter_envelope
from .models import DEFAULTS, FORWARD, FORWARD_ACK, PortalBackend, forward_acknowledged
from .sso import init_sso
from .tenants import portal_client, validate_portal_tenant
from .views import adapter, citizen, docs


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The portal as a Flask app; `config` overrides `CUTOVER_*` variables and DEFAULTS."""
    app = build_app("portal", config=config, defaults=DEFAULTS, blueprints=[adapter, citizen, admin, docs],
                    envelope=adapter_envelope, tenant_validator=validate_portal_tenant)
    ctx = app.extensions["cutover"]
    ctx.config["SSO_PORTAL_CLIENT"] = ctx.config.get("SSO_PORTAL_CLIENT") or portal_client(ctx.config)
    portal = PortalBackend(ctx.store, ctx.clock, ctx.tenants, ctx.outbox, ctx.config)
    app.extensions["portal"] = portal
    ctx.reset_hooks.append(portal.reset)
    portal.provision()
    ctx.after_reset_hooks.append(portal.provision)
    ctx.outbox.ack_rule(FORWARD_ACK, forward_acknowledged)
    ctx.outbox.on_delivered(FORWARD, portal.record_forward_ack)
    init_sso(app)
    return app


__all__ = ["create_app"]

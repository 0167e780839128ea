"""The national online payment platform (mock): INIT, hosted pay page, callbacks, QUERY,
GET_BILL and reconciliation files, on the shared core (store, clock, journal, faults, outbox).

`create_app(config)` is the only entry point; `openapi.yaml` is the contract's template (published,
with the protocol's message schemas put in, at `/docs`, `/openapi.json` and `/openapi.yaml`); see
docs/payment-test-banks.md for the test banks.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from mocks.core.app import build_app

from .accounts import validate_partner
from .admin import admin
from .errors import payment_envelope
from .models import DEFAULTS, PaymentPlatform
from .views import api, docs, page, partner_of_request


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The payment platform as a Flask app; `config` overrides `CUTOVER_PAYMENT_*` variables and DEFAULTS."""
    app = build_app("payment", config=config, defaults=DEFAULTS, blueprints=[api, page, admin, docs],
                    envelope=payment_envelope, tenant_validator=validate_partner, tenant_resolver=partner_of_request)
    ctx = app.extensions["cutover"]
    platform = PaymentPlatform(service=ctx.name, store=ctx.store, clock=ctx.clock, outbox=ctx.outbox,
                               tenants=ctx.tenants, config=ctx.config)
    app.extensions["payment"] = platform
    ctx.reset_hooks.append(platform.reset)
    if ctx.config["PAYMENT_PROVISION"]:
        platform.provision()
    return app


__all__ = ["create_app"]

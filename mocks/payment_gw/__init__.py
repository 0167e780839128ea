"""The national online payment platform (mock): INIT, hosted pay page, callbacks, QUERY,
GET_BILL and reconciliation files, on the shared core (store, clock, journal, faults, outbox).

`create_app(config)` is the only entry point; see docs/payment-test-banks.md for the protocol
summary and the test banks.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, request

from mocks.core.app import build_app, default_tenant

from .accounts import validate_partner
from .errors import payment_envelope
from .models import DEFAULTS, PaymentPlatform
from .views import admin, api, page

SERVICE = "payment_gw"


def _tenant() -> str | None:
    """The province of a request: the generic headers, else `MaDoiTac` ("P31" -> "31") in a JSON body."""
    named = default_tenant()
    if named or request.method != "POST" or (request.content_length or 0) > 65536:
        return named
    try:
        body = json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, RecursionError):  # not JSON, or nested too deep: the view's reader says which
        return None
    code = body.get("MaDoiTac") if isinstance(body, dict) else None
    if isinstance(code, str) and len(code) == 3 and code[0] == "P" and code[1:].isdigit():
        return code[1:]
    return None


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The payment platform as a Flask app; `config` overrides `CUTOVER_*` variables and DEFAULTS."""
    app = build_app(SERVICE, config=config, defaults=DEFAULTS, blueprints=[api, page, admin],
                    envelope=payment_envelope, tenant_validator=validate_partner, tenant_resolver=_tenant)
    ctx = app.extensions["cutover"]
    backend = PaymentPlatform(service=SERVICE, store=ctx.store, clock=ctx.clock, outbox=ctx.outbox,
                              tenants=ctx.tenants, config=ctx.config)
    ctx.backend = backend
    ctx.reset_hooks.append(backend.reset)
    if ctx.config["PAYMENT_PROVISION"]:
        backend.provision()
    return app


__all__ = ["create_app", "SERVICE"]
